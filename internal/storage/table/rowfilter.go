package table

import (
	"bytes"
	"math"
	"math/bits"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// A colPred is the conjunction of a scan's filters on one column, compiled
// for evaluating rows: fixed-width values as a range of order-preserving
// uint64 keys minus a list of excluded keys, VARCHAR as a list of
// comparisons. A NULL row never passes.
type colPred struct {
	reader int  // index of the column's reader in Scanner.readers
	none   bool // no value passes (a NULL constant, an empty range)
	// output: the scan returns the column, so a vector of it that is
	// decoded to be tested need not be decoded again. most: most rows
	// passed in the last vector tested, so decoding the vector first
	// (which the output needs anyway) is cheaper than testing packed
	// values and decoding the survivors after.
	output, most bool
	// Fixed-width columns: key(x) in [lo, hi] and not in ne.
	lo, hi uint64
	ne     []uint64
	// VARCHAR columns: every comparison holds.
	strs []strCmp
	// Integer columns: the value is in every set.
	sets []keySet
}

// keySet is a SetFilter's bitmap: x is in it when bit x−min is set (so
// also only when min ≤ x ≤ max).
type keySet struct {
	min, max int64
	bits     []uint64 // no bit past max is set (Scan checks)
}

func (s *keySet) has(x int64) bool {
	d := uint64(x - s.min)
	return d>>6 < uint64(len(s.bits)) && s.bits[d>>6]>>(d&63)&1 != 0
}

// onlySet returns p's set if p is exactly one set: no other range than
// the set's, no excluded values; else nil.
func (p *colPred) onlySet() *keySet {
	if len(p.sets) != 1 || len(p.ne) > 0 {
		return nil
	}
	s := &p.sets[0]
	if p.lo != intKey(s.min) || p.hi != intKey(s.max) {
		return nil
	}
	return s
}

// inSets reports whether x is in every set.
func (p *colPred) inSets(x int64) bool {
	for i := range p.sets {
		if !p.sets[i].has(x) {
			return false
		}
	}
	return true
}

// strCmp is `value op val` for VARCHAR.
type strCmp struct {
	op  Op
	val []byte
}

// holds reports whether c compared with the constant satisfies op.
func (op Op) holds(c int) bool {
	switch op {
	case OpEq:
		return c == 0
	case OpNe:
		return c != 0
	case OpLt:
		return c < 0
	case OpLe:
		return c <= 0
	case OpGt:
		return c > 0
	case OpGe:
		return c >= 0
	}
	return false
}

// Keys map fixed-width values to uint64 so that unsigned order and equality
// are types.Compare's: integers with the sign bit flipped; doubles with
// -0 as +0, every NaN as the greatest key, and the bits of negative numbers
// inverted.
func intKey(x int64) uint64 { return uint64(x) ^ 1<<63 }

func floatKey(f float64) uint64 {
	if f != f {
		return math.MaxUint64
	}
	if f == 0 {
		f = 0 // -0 compares equal to +0
	}
	b := math.Float64bits(f)
	if b>>63 != 0 {
		return ^b
	}
	return b | 1<<63
}

// compilePreds compiles filters and sets (already checked by Scan, whose
// filters include the sets' ranges) on the table's columns cols; readerOf
// maps a table column to its reader.
func compilePreds(cols []Column, filters []Filter, sets []SetFilter, readerOf func(col int) int) []*colPred {
	var preds []*colPred
	byCol := map[int]*colPred{}
	for _, f := range filters {
		p := byCol[f.Column]
		if p == nil {
			p = &colPred{reader: readerOf(f.Column), lo: 0, hi: math.MaxUint64}
			byCol[f.Column] = p
			preds = append(preds, p)
		}
		if f.Value.IsNull() {
			p.none = true
			continue
		}
		t := cols[f.Column].Type
		if t.Physical() == types.PhysString {
			p.strs = append(p.strs, strCmp{op: f.Op, val: []byte(f.Value.Str())})
			continue
		}
		op, k, always, ok := fixedConstant(t, f)
		switch {
		case !ok:
			if !always {
				p.none = true
			}
			continue
		}
		switch op {
		case OpEq:
			p.lo, p.hi = max(p.lo, k), min(p.hi, k)
		case OpNe:
			p.ne = append(p.ne, k)
		case OpLt:
			if k == 0 {
				p.none = true
			} else {
				p.hi = min(p.hi, k-1)
			}
		case OpLe:
			p.hi = min(p.hi, k)
		case OpGt:
			if k == math.MaxUint64 {
				p.none = true
			} else {
				p.lo = max(p.lo, k+1)
			}
		case OpGe:
			p.lo = max(p.lo, k)
		}
	}
	for _, f := range sets {
		if f.Bits != nil {
			p := byCol[f.Column] // made by the range's filters
			p.sets = append(p.sets, keySet{min: f.Min, max: f.Max, bits: f.Bits})
		}
	}
	for _, p := range preds {
		if p.lo > p.hi {
			p.none = true
		}
	}
	return preds
}

// fixedConstant turns a filter on a fixed-width column of type t into a
// comparison of the value's key with key k. ok is false when the outcome is
// the same for every non-NULL value: always says whether it holds. An
// exact-number constant of another scale than the column's is converted to
// the column's scale, exactly: 0.055 against a DECIMAL(15,2) column makes
// `x < 0.055` into `x <= 0.05`.
func fixedConstant(t types.Type, f Filter) (op Op, k uint64, always, ok bool) {
	v := f.Value
	switch t.ID() {
	case types.Boolean:
		if v.Bool() {
			return f.Op, 1, false, true
		}
		return f.Op, 0, false, true
	case types.Double:
		return f.Op, floatKey(v.Float64()), false, true
	case types.Date:
		return f.Op, intKey(v.Int64()), false, true
	}
	// Exact numbers, perhaps of different scales.
	x, s, sc := v.Int64(), v.Type().Scale(), t.Scale()
	switch {
	case s == sc:
		return f.Op, intKey(x), false, true
	case s < sc:
		d := sc - s
		if y, exact := mulPow10(x, d); exact {
			return f.Op, intKey(y), false, true
		}
		// The constant is beyond every value of the column.
		above := x > 0
		switch f.Op {
		case OpEq:
			return 0, 0, false, false
		case OpNe:
			return 0, 0, true, false
		case OpLt, OpLe:
			return 0, 0, above, false
		}
		return 0, 0, !above, false
	}
	// The constant has more decimals: x = q·10^d + r with 0 ≤ r < 10^d.
	d := s - sc
	var q int64
	var frac bool
	if d > 18 {
		// |x| < 10^19 ≤ 10^d.
		switch {
		case x > 0:
			q, frac = 0, true
		case x < 0:
			q, frac = -1, true
		}
	} else {
		p := types.Pow10(d)
		q = x / p
		r := x - q*p
		if r < 0 {
			q--
			r += p
		}
		frac = r != 0
	}
	if !frac {
		return f.Op, intKey(q), false, true
	}
	// q < constant < q+1 in the column's scale.
	switch f.Op {
	case OpEq:
		return 0, 0, false, false
	case OpNe:
		return 0, 0, true, false
	case OpLt, OpLe:
		return OpLe, intKey(q), false, true
	}
	return OpGt, intKey(q), false, true
}

// mulPow10 returns x·10^d and whether it fits an int64.
func mulPow10(x int64, d int) (int64, bool) {
	for range d {
		hi, lo := bits.Mul64(uint64(max(x, -x)), 10)
		if hi != 0 || lo > math.MaxInt64 {
			return 0, false
		}
		if x < 0 {
			x = -int64(lo)
		} else {
			x = int64(lo)
		}
	}
	return x, true
}

// passKey reports whether a non-NULL value with key k passes p.
func (p *colPred) passKey(k uint64) bool {
	if k-p.lo > p.hi-p.lo {
		return false
	}
	for _, n := range p.ne {
		if k == n {
			return false
		}
	}
	return len(p.sets) == 0 || p.inSets(int64(k^1<<63))
}

// passStr reports whether a non-NULL string passes p.
func (p *colPred) passStr(b []byte) bool {
	for _, c := range p.strs {
		if !c.op.holds(bytes.Compare(b, c.val)) {
			return false
		}
	}
	return true
}

// eval writes to out the slots among sel (nil: 0..n-1) whose values in v
// pass p, in order, and returns how many. out may be sel itself.
func (p *colPred) eval(v *vector.Vector, sel []uint16, n int, out []uint16) int {
	if p.none {
		return 0
	}
	words := v.Validity().Words()
	simple := len(p.ne) == 0 && words == nil // the common case: a tight loop
	if simple && len(p.sets) == 1 {
		switch v.Type().Physical() {
		case types.PhysInt32:
			return setInts(v.Int32s(), p.lo, p.hi, &p.sets[0], sel, n, out)
		case types.PhysInt64:
			return setInts(v.Int64s(), p.lo, p.hi, &p.sets[0], sel, n, out)
		}
	}
	simple = simple && len(p.sets) == 0
	switch v.Type().Physical() {
	case types.PhysInt32:
		if simple {
			return rangeInts(v.Int32s(), p.lo, p.hi, sel, n, out)
		}
		d := v.Int32s()
		return evalSlots(words, sel, n, out, func(i int) bool { return p.passKey(intKey(int64(d[i]))) })
	case types.PhysInt64:
		if simple {
			return rangeInts(v.Int64s(), p.lo, p.hi, sel, n, out)
		}
		d := v.Int64s()
		return evalSlots(words, sel, n, out, func(i int) bool { return p.passKey(intKey(d[i])) })
	case types.PhysBool:
		d := v.Bools()
		return evalSlots(words, sel, n, out, func(i int) bool { return p.passKey(uint64(b2i(d[i]))) })
	case types.PhysFloat64:
		d := v.Float64s()
		return evalSlots(words, sel, n, out, func(i int) bool { return p.passKey(floatKey(d[i])) })
	}
	strs, arena := v.Strs(), v.Arena()
	return evalSlots(words, sel, n, out, func(i int) bool {
		s := strs[i]
		return p.passStr(arena[s.Off : s.Off+s.Len])
	})
}

// rangeInts keeps the slots among sel (nil: 0..n-1) of data whose keys lie
// in [lo, hi], branch-free: intKey(x)-lo is uint64(x)-uint64(int64 of lo),
// so the test needs no key at all.
func rangeInts[T int32 | int64](data []T, lo, hi uint64, sel []uint16, n int, out []uint16) int {
	base, width := lo^1<<63, hi-lo
	k := 0
	if sel == nil {
		for i, x := range data[:n] {
			out[k] = uint16(i)
			k += b2i(uint64(int64(x))-base <= width)
		}
		return k
	}
	for _, i := range sel {
		out[k] = i
		k += b2i(uint64(int64(data[i]))-base <= width)
	}
	return k
}

// setInts keeps the slots among sel (nil: 0..n-1) of data whose keys lie
// in [lo, hi] and whose values are in s.
func setInts[T int32 | int64](data []T, lo, hi uint64, s *keySet, sel []uint16, n int, out []uint16) int {
	base, width := lo^1<<63, hi-lo
	k := 0
	if sel == nil {
		for i, x := range data[:n] {
			if uint64(int64(x))-base <= width && s.has(int64(x)) {
				out[k] = uint16(i)
				k++
			}
		}
		return k
	}
	for _, i := range sel {
		x := int64(data[i])
		if uint64(x)-base <= width && s.has(x) {
			out[k] = i
			k++
		}
	}
	return k
}

// evalSlots keeps the valid slots among sel (nil: 0..n-1) that pass.
func evalSlots(words []uint64, sel []uint16, n int, out []uint16, pass func(int) bool) int {
	valid := func(i int) bool { return words == nil || words[i>>6]>>(i&63)&1 != 0 }
	k := 0
	if sel == nil {
		for i := range n {
			if valid(i) && pass(i) {
				out[k] = uint16(i)
				k++
			}
		}
		return k
	}
	for _, i := range sel {
		if valid(int(i)) && pass(int(i)) {
			out[k] = i
			k++
		}
	}
	return k
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
