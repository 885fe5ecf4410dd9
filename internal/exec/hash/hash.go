package hash

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// NullHash is the hash of a NULL key column.
const NullHash uint64 = 0x5be2_a8f1_c0d3_9e47

const (
	prime1 = 0x9e37_79b9_7f4a_7c15 // 2^64 / golden ratio
	prime2 = 0xc2b2_ae3d_27d4_eb4f
)

// mix is the splitmix64 finalizer: every input bit affects every output
// bit.
func mix(x uint64) uint64 {
	x = (x ^ x>>30) * 0xbf58_476d_1ce4_e5b9
	x = (x ^ x>>27) * 0x94d0_49bb_1331_11eb
	return x ^ x>>31
}

// key hashes a fixed-width key's 64 bits. The xor keeps 0 (and false) from
// hashing to 0, which hash tables may use as "empty".
func key(x uint64) uint64 { return mix(x ^ prime2) }

// Int64 returns the built-in hash of an integer key (BOOLEAN as 0/1,
// INTEGER and DATE sign-extended, BIGINT, DECIMAL's scaled integer).
func Int64(x int64) uint64 { return key(uint64(x)) }

// Float64 returns the built-in hash of a DOUBLE key; -0 hashes as +0 and
// every NaN alike, as SQL compares them equal.
func Float64(f float64) uint64 {
	switch {
	case f == 0:
		f = 0
	case f != f:
		f = math.NaN()
	}
	return key(math.Float64bits(f))
}

// Bytes returns the built-in hash of a VARCHAR key.
//
//	round(h, w) = rotl64(h ^ (w × prime2), 31) × prime1
//	h = prime1 ^ len
//	if len ≥ 32:                                  two lanes
//	    g = prime2 ^ len
//	    while ≥ 16 bytes remain: h = round(h, next word); g = round(g, next word)
//	    h = round(h, g)
//	for each remaining 8-byte little-endian word w (the last one zero-padded):
//	    h = round(h, w)
//	return mix(h)
func Bytes(b []byte) uint64 {
	le := binary.LittleEndian
	h := prime1 ^ uint64(len(b))
	if len(b) >= 32 {
		// Two independent lanes halve the chain of dependent multiplies on
		// long strings; the second lane then folds in like one more word.
		g := prime2 ^ uint64(len(b))
		for len(b) >= 16 {
			h = round(h, le.Uint64(b))
			g = round(g, le.Uint64(b[8:]))
			b = b[16:]
		}
		h = round(h, g)
	}
	for len(b) >= 8 {
		h = round(h, le.Uint64(b))
		b = b[8:]
	}
	if n := len(b); n > 0 {
		// The zero-padded little-endian word of the last 1..7 bytes, read
		// with at most two loads.
		var w uint64
		switch {
		case n >= 4:
			w = uint64(le.Uint32(b)) | uint64(le.Uint32(b[n-4:])>>(8*(8-n)))<<32
		case n == 3:
			w = uint64(le.Uint16(b)) | uint64(b[2])<<16
		case n == 2:
			w = uint64(le.Uint16(b))
		default:
			w = uint64(b[0])
		}
		h = round(h, w)
	}
	return mix(h)
}

// round folds one 8-byte word into a string hash.
func round(h, w uint64) uint64 { return bits.RotateLeft64(h^w*prime2, 31) * prime1 }

// Combine folds the hash of the next key column into the hash so far.
// It is not symmetric: (a, b) and (b, a) hash differently.
func Combine(h, next uint64) uint64 { return bits.RotateLeft64(h, 21)*prime1 ^ next }

// Verdict is a policy's answer for one call (a hook's return code).
type Verdict uint8

const (
	// UseBuiltin: the host computes the hashes with the built-in function.
	UseBuiltin Verdict = iota
	// Handled: the policy wrote every hash; the host uses them.
	Handled
)

// String returns "builtin" or "handled".
func (v Verdict) String() string {
	switch v {
	case UseBuiltin:
		return "builtin"
	case Handled:
		return "handled"
	}
	return fmt.Sprintf("Verdict(%d)", uint8(v))
}

// Request is one vector of keys to hash, passed to a Policy.
type Request struct {
	// Vec is the key column (read-only).
	Vec *vector.Vector
	// Sel maps logical rows to slots of Vec (nil: row r is slot r).
	Sel vector.Selection
	// N is the number of rows.
	N int
	// Combine is false for a key's first column: Out[r] = hash(row r);
	// true for later ones: Out[r] = combine(Out[r], hash(row r)), where
	// Out holds the previous columns' hash.
	Combine bool
	// Out receives one hash per logical row (len N). Its slots past N,
	// up to its capacity, are scratch a policy may overwrite: callers
	// hash into vector-sized buffers, which a policy may then use whole.
	Out []uint64
}

// Policy is the Hash seam: the hash function of join, aggregate and
// partition keys, called once per key column per vector.
//
// When: by the operator that captured the Hasher (on the worker running
// its task), for each key column of each chunk it hashes, possibly
// concurrently from many workers. No lock is held.
//
// What it may decide: every Out[r], for any type, including NULLs (the
// built-in hashes a NULL as NullHash). It must write all N entries and
// must be a pure function of the rows' values (and of Out[r] when
// Combine): equal keys must hash equally for the whole life of the
// operator, or joins miss matches. It must not modify Vec.
//
// Returning UseBuiltin, returning an error or panicking makes the host
// compute this vector with the built-in function (errors and panics are
// counted); what the policy wrote to Out is overwritten. After Handled,
// the host uses Out as it is. Any hash values are safe: operators compare
// keys after matching hashes, so a bad policy costs speed, never results
// (as long as it is a function).
//
// The request comes by value, so that a call allocates nothing.
type Policy interface {
	HashVector(req Request) (Verdict, error)
}

// Counters count what a slot's policies did.
type Counters struct {
	// Calls counts vectors offered to an attached policy.
	Calls uint64
	// Handled counts calls whose hashes came from the policy.
	Handled uint64
	// Errors counts calls that returned an error or panicked (the
	// built-in computed those vectors).
	Errors uint64
}

// counters are a Slot's counters, striped: every worker hashing adds to
// them, and one shared cache line written by all of them cost more than a
// short vector's hashing. A call adds to the stripe of its output buffer
// (each task hashes into a buffer of its own), so workers seldom share one.
type counters [8]counterStripe

// counterStripe is one stripe of counters, on a cache line of its own.
type counterStripe struct {
	calls, handled, errors atomic.Uint64
	_                      [64 - 24]byte
}

// stripe returns the counters of the call hashing into out.
func (c *counters) stripe(out []uint64) *counterStripe {
	a := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(out))))
	return &c[(a>>6)*0x9e3779b97f4a7c15>>61]
}

// Slot is where a hash policy is attached (one per database). The zero
// Slot has no policy: everything hashes with the built-in function.
type Slot struct {
	p atomic.Pointer[policyBox]
	c counters
}

type policyBox struct{ p Policy }

// Set attaches p; nil detaches. Hashers captured before keep the policy
// they captured.
func (s *Slot) Set(p Policy) {
	if p == nil {
		s.p.Store(nil)
		return
	}
	s.p.Store(&policyBox{p})
}

// Capture returns the hash function to use from now on for one operator.
func (s *Slot) Capture() Hasher {
	box := s.p.Load()
	if box == nil {
		return Hasher{}
	}
	return Hasher{p: box.p, c: &s.c}
}

// Counters returns the slot's counters.
func (s *Slot) Counters() Counters {
	var c Counters
	for i := range s.c {
		x := &s.c[i]
		c.Calls += x.calls.Load()
		c.Handled += x.handled.Load()
		c.Errors += x.errors.Load()
	}
	return c
}

// Hasher is a captured hash function: the built-in one (the zero Hasher)
// or a policy with the built-in as fallback. It is a small value, safe for
// concurrent use.
type Hasher struct {
	p Policy
	c *counters
}

// Builtin reports whether h is the built-in function.
func (h Hasher) Builtin() bool { return h.p == nil }

// Chunk hashes the key columns cols of chunk c (with its selection) into
// out[0:c.Len()].
func (h Hasher) Chunk(c *vector.Chunk, cols []int, out []uint64) {
	for k, j := range cols {
		h.Column(c.Col(j), c.Sel(), c.Len(), out, k > 0)
	}
}

// Vectors hashes the key columns keys, n logical rows mapped through sel,
// into out[0:n].
func (h Hasher) Vectors(keys []*vector.Vector, sel vector.Selection, n int, out []uint64) {
	for k, v := range keys {
		h.Column(v, sel, n, out, k > 0)
	}
}

// Column hashes one key column (combining into out if combine).
func (h Hasher) Column(v *vector.Vector, sel vector.Selection, n int, out []uint64, combine bool) {
	out = out[:n]
	if h.p == nil {
		column(v, sel, n, out, combine)
		return
	}
	c := h.c.stripe(out)
	c.calls.Add(1)
	var saved *[vector.Size]uint64
	if combine {
		// A failing policy may have scribbled on out; the fallback needs
		// the previous columns' hashes.
		saved = scratch.Get().(*[vector.Size]uint64)
		defer scratch.Put(saved)
		copy(saved[:], out)
	}
	verdict, err := callPolicy(h.p, Request{Vec: v, Sel: sel, N: n, Combine: combine, Out: out})
	switch {
	case err != nil:
		c.errors.Add(1)
	case verdict == Handled:
		c.handled.Add(1)
		return
	}
	if combine {
		copy(out, saved[:n])
	}
	column(v, sel, n, out, combine)
}

// scratch holds copies of combined hashes while a policy runs.
var scratch = sync.Pool{New: func() any { return new([vector.Size]uint64) }}

func callPolicy(p Policy, req Request) (v Verdict, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("hash policy panicked: %v", r)
		}
	}()
	return p.HashVector(req)
}

// column is the built-in function over one vector.
func column(v *vector.Vector, sel vector.Selection, n int, out []uint64, combine bool) {
	words := v.Validity().Words()
	switch v.Type().Physical() {
	case types.PhysInt64:
		ints(v.Int64s(), words, sel, n, out, combine)
	case types.PhysInt32:
		ints(v.Int32s(), words, sel, n, out, combine)
	case types.PhysBool:
		d := v.Bools()
		for r := range n {
			i := index(sel, r)
			h := NullHash
			if valid(words, i) {
				var x uint64
				if d[i] {
					x = 1
				}
				h = key(x)
			}
			put(out, r, h, combine)
		}
	case types.PhysFloat64:
		d := v.Float64s()
		for r := range n {
			i := index(sel, r)
			h := NullHash
			if valid(words, i) {
				h = Float64(d[i])
			}
			put(out, r, h, combine)
		}
	case types.PhysString:
		strs, arena := v.Strs(), v.Arena()
		for r := range n {
			i := index(sel, r)
			h := NullHash
			if valid(words, i) {
				s := strs[i]
				h = Bytes(arena[s.Off : s.Off+s.Len])
			}
			put(out, r, h, combine)
		}
	default:
		panic(fmt.Sprintf("BUG: hash of a %v vector", v.Type()))
	}
}

// ints hashes integer columns: a tight loop over the rows (dense or
// through the selection), with NULL rows fixed up around it.
func ints[T int32 | int64](d []T, words []uint64, sel vector.Selection, n int, out []uint64, combine bool) {
	out = out[:n]
	var final *[vector.Size]uint64
	if words != nil {
		// The NULL rows' final hashes, taken before the loop overwrites
		// the previous columns' hash they combine with.
		final = scratch.Get().(*[vector.Size]uint64)
		defer scratch.Put(final)
		eachNull(words, sel, n, func(r int) {
			final[r] = NullHash
			if combine {
				final[r] = Combine(out[r], NullHash)
			}
		})
	}
	switch {
	case sel == nil && combine:
		d = d[:n]
		for i, x := range d {
			out[i] = Combine(out[i], key(uint64(x)))
		}
	case sel == nil:
		d = d[:n]
		for i, x := range d {
			out[i] = key(uint64(x))
		}
	case combine:
		for r, i := range sel[:n] {
			out[r] = Combine(out[r], key(uint64(d[i])))
		}
	default:
		for r, i := range sel[:n] {
			out[r] = key(uint64(d[i]))
		}
	}
	if words != nil {
		eachNull(words, sel, n, func(r int) { out[r] = final[r] })
	}
}

// eachNull calls f with every NULL row among the first n: a word at a time
// when dense, row by row through a selection.
func eachNull(words []uint64, sel vector.Selection, n int, f func(r int)) {
	if sel != nil {
		for r, i := range sel[:n] {
			if !valid(words, int(i)) {
				f(r)
			}
		}
		return
	}
	for k := 0; k*64 < n; k++ {
		nulls := ^words[k]
		if rest := n - k*64; rest < 64 {
			nulls &= 1<<uint(rest) - 1
		}
		for nulls != 0 {
			f(k*64 + bits.TrailingZeros64(nulls))
			nulls &= nulls - 1
		}
	}
}

func index(sel vector.Selection, r int) int {
	if sel != nil {
		return int(sel[r])
	}
	return r
}

func valid(words []uint64, i int) bool {
	return words == nil || words[i>>6]&(1<<(uint(i)&63)) != 0
}

func put(out []uint64, r int, h uint64, combine bool) {
	if combine {
		out[r] = Combine(out[r], h)
	} else {
		out[r] = h
	}
}
