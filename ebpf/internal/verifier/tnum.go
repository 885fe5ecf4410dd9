package verifier

import (
	"fmt"
	"math/bits"
)

// tnum is a tristate number: the bits set in m are unknown, the others are
// those of v. A tnum stands for every 64-bit value x with x &^ m == v.
// Invariant: v & m == 0.
type tnum struct{ v, m uint64 }

var tnumUnknown = tnum{0, ^uint64(0)}

func tconst(v uint64) tnum { return tnum{v, 0} }

// trange is the smallest tnum containing every value of [lo, hi]: the bits
// above the highest bit in which lo and hi differ are known.
func trange(lo, hi uint64) tnum {
	d := lo ^ hi
	if d == 0 {
		return tconst(lo)
	}
	n := bits.Len64(d)
	if n == 64 {
		return tnumUnknown
	}
	mask := uint64(1)<<n - 1
	return tnum{lo &^ mask, mask}
}

func (a tnum) isConst() bool { return a.m == 0 }

// contains reports whether x is one of a's values.
func (a tnum) contains(x uint64) bool { return x&^a.m == a.v }

// subsetOf reports whether every value of a is a value of b.
func (a tnum) subsetOf(b tnum) bool {
	return a.m&^b.m == 0 && a.v&^b.m == b.v
}

func (a tnum) add(b tnum) tnum {
	sm := a.m + b.m
	sv := a.v + b.v
	carries := (sv + sm) ^ sv
	mu := carries | a.m | b.m
	return tnum{sv &^ mu, mu}
}

func (a tnum) sub(b tnum) tnum {
	dv := a.v - b.v
	borrows := (dv + a.m) ^ (dv - b.m)
	mu := borrows | a.m | b.m
	return tnum{dv &^ mu, mu}
}

func (a tnum) and(b tnum) tnum {
	v := a.v & b.v
	return tnum{v, (a.v | a.m) & (b.v | b.m) &^ v}
}

func (a tnum) or(b tnum) tnum {
	v := a.v | b.v
	return tnum{v, (a.m | b.m) &^ v}
}

func (a tnum) xor(b tnum) tnum {
	mu := a.m | b.m
	return tnum{(a.v ^ b.v) &^ mu, mu}
}

// mul keeps only what is certain without a carry analysis: the product of
// two constants, and the known-zero low bits (their counts add up).
func (a tnum) mul(b tnum) tnum {
	if a.isConst() && b.isConst() {
		return tconst(a.v * b.v)
	}
	tz := bits.TrailingZeros64(a.v|a.m) + bits.TrailingZeros64(b.v|b.m)
	if tz >= 64 {
		return tconst(0)
	}
	return tnum{0, ^uint64(0) << tz}
}

func (a tnum) lsh(k uint) tnum  { return tnum{a.v << k, a.m << k} }
func (a tnum) rsh(k uint) tnum  { return tnum{a.v >> k, a.m >> k} }
func (a tnum) arsh(k uint) tnum { return tnum{uint64(int64(a.v) >> k), uint64(int64(a.m) >> k)} }

// intersect returns the values in both a and b; ok is false when no value
// is (a known bit differs).
func (a tnum) intersect(b tnum) (tnum, bool) {
	if (a.v^b.v)&^a.m&^b.m != 0 {
		return tnum{}, false
	}
	v := a.v | b.v
	mu := a.m & b.m
	return tnum{v &^ mu, mu}, true
}

// low32 keeps the low 32 bits; the upper ones become known zeros.
func (a tnum) low32() tnum { return tnum{uint64(uint32(a.v)), uint64(uint32(a.m))} }

// sext32 sign-extends the low 32 bits.
func (a tnum) sext32() tnum {
	return tnum{uint64(int64(int32(uint32(a.v)))), uint64(int64(int32(uint32(a.m))))}
}

// swap reverses the byte order of the low n bits (16, 32 or 64); the upper
// bits become known zeros.
func (a tnum) swap(n int) tnum {
	switch n {
	case 16:
		return tnum{uint64(bits.ReverseBytes16(uint16(a.v))), uint64(bits.ReverseBytes16(uint16(a.m)))}
	case 32:
		return tnum{uint64(bits.ReverseBytes32(uint32(a.v))), uint64(bits.ReverseBytes32(uint32(a.m)))}
	}
	return tnum{bits.ReverseBytes64(a.v), bits.ReverseBytes64(a.m)}
}

// trunc keeps the low n bits (n < 64).
func (a tnum) trunc(n int) tnum {
	k := uint64(1)<<n - 1
	return tnum{a.v & k, a.m & k}
}

func (a tnum) String() string { return fmt.Sprintf("(%#x; %#x)", a.v, a.m) }
