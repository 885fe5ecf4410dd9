package verifier

import "math/bits"

// i128 is a signed 128-bit integer, wide enough for base + stride*k with a
// 64-bit base, a 32-bit stride and an iteration count k < 2^64: the linear
// relations of induction variables are computed with it exactly, then
// checked to fit the 64-bit views.
type i128 struct {
	hi int64
	lo uint64
}

func i128s(x int64) i128  { return i128{x >> 63, uint64(x)} }
func i128u(x uint64) i128 { return i128{0, x} }

func (a i128) add(b i128) i128 {
	lo, c := bits.Add64(a.lo, b.lo, 0)
	return i128{a.hi + b.hi + int64(c), lo}
}

func (a i128) neg() i128 {
	lo, b := bits.Sub64(0, a.lo, 0)
	return i128{-a.hi - int64(b), lo}
}

func (a i128) sub(b i128) i128 { return a.add(b.neg()) }

func (a i128) less(b i128) bool { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo) }

// int64 returns a if it fits in an int64.
func (a i128) int64() (int64, bool) { return int64(a.lo), a.hi == int64(a.lo)>>63 }

// uint64 returns a if it fits in a uint64.
func (a i128) uint64() (uint64, bool) { return a.lo, a.hi == 0 }

// mulK returns s*k.
func mulK(s int64, k uint64) i128 {
	m := uint64(s)
	if s < 0 {
		m = -m
	}
	hi, lo := bits.Mul64(m, k)
	r := i128{int64(hi), lo} // hi < 2^63: m <= 2^63 and k < 2^64
	if s < 0 {
		r = r.neg()
	}
	return r
}

// divFloor returns floor(n/d) for d > 0 and 0 <= n < 2^127, saturated:
// ok is false when the quotient is 2^64 or more.
func divFloor(n i128, d uint64) (uint64, bool) {
	if uint64(n.hi) >= d {
		return 0, false
	}
	q, _ := bits.Div64(uint64(n.hi), n.lo, d)
	return q, true
}

// divCeil returns ceil(n/d) like divFloor.
func divCeil(n i128, d uint64) (uint64, bool) {
	if uint64(n.hi) >= d {
		return 0, false
	}
	q, r := bits.Div64(uint64(n.hi), n.lo, d)
	if r != 0 {
		if q == ^uint64(0) {
			return 0, false
		}
		q++
	}
	return q, true
}
