package expr

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"slices"
	"sync"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// AggKind names an aggregate function.
type AggKind uint8

// The aggregate functions.
const (
	CountStar AggKind = iota + 1 // count(*)
	Count                        // count(x): non-NULL values
	Sum
	Avg
	Min
	Max
)

// String returns the function's SQL name.
func (k AggKind) String() string {
	switch k {
	case CountStar, Count:
		return "count"
	case Sum:
		return "sum"
	case Avg:
		return "avg"
	case Min:
		return "min"
	case Max:
		return "max"
	}
	return fmt.Sprintf("AggKind(%d)", uint8(k))
}

// AggSpec describes one aggregate of a query: the function, the input
// column that holds its (already computed) argument, and the text and
// position that errors name.
type AggSpec struct {
	Kind     AggKind
	Arg      int        // input column; ignored by count(*)
	ArgType  types.Type // its type; ignored by count(*)
	Distinct bool       // over distinct values (count, sum, avg; no-op for min, max)
	Text     string     // e.g. "sum(l_quantity)", for errors
	At       Pos
}

// Aggregate is a compiled aggregate function. Its states are fixed-size
// byte strings that the caller stores wherever it likes (the hash
// aggregate keeps one row of states per group); the Aggregate updates,
// combines and finalizes them. It holds no per-thread scratch, so one
// Aggregate is shared by all workers of a query and its methods may run
// concurrently on different states.
//
// State layouts (little-endian; "set" is a flag byte, 1 once a value was
// seen; "side" indexes the Aggregate's side table, 0 = none):
//
//	count(*), count(x)         [0:8) count
//	sum of INTEGER/BIGINT/     [0:8) low, [8:16) high word of a 128-bit
//	  DECIMAL                  two's-complement sum, [16] set
//	sum of DOUBLE              [0:8) float64 sum, [8] set
//	avg of INTEGER/BIGINT/     [0:16) 128-bit sum, [16:24) count
//	  DECIMAL
//	avg of DOUBLE              [0:8) float64 sum, [8:16) count
//	min, max of fixed types    [0:8) value (int64, float64 bits, 0/1), [8] set
//	min, max of VARCHAR        [0:4) side: the current string
//	count, sum, avg(DISTINCT)  [0:4) side: the set of values seen; sum and
//	                           avg fold it into the plain layout at the end
//
// Variable-size parts (strings, distinct sets) live in the side table,
// guarded by a mutex taken once per Update/Combine/Finalize call; its
// memory is not accounted to the buffer manager.
type Aggregate struct {
	spec  AggSpec
	out   types.Type
	size  int
	phys  types.Physical // of the argument
	scale int            // of a DECIMAL argument
	side  *sideTable
	plain *Aggregate // sum/avg(DISTINCT): the plain aggregate finalizing the set
}

type sideTable struct {
	mu   sync.Mutex
	strs []string
	sets []map[string]struct{}
}

// NewAggregate checks the argument type and returns the Aggregate, whose
// result type is:
//
//	count             BIGINT
//	sum               BIGINT for integers, DECIMAL(38,s) for DECIMAL(p,s),
//	                  DOUBLE for DOUBLE; exact, overflow an error
//	avg               DOUBLE, as DuckDB computes it: the exact sum divided
//	                  by count×10^s, correctly rounded
//	min, max          the argument's type
//
// DISTINCT applies to count, sum and avg (a set of the values per group in
// the side table); min and max ignore it; count(*) refuses it.
func NewAggregate(spec AggSpec) (*Aggregate, error) {
	a := &Aggregate{spec: spec, phys: spec.ArgType.Physical(), scale: spec.ArgType.Scale()}
	fail := func(format string, args ...any) (*Aggregate, error) {
		return nil, typeErr(spec.At, spec.Text, format, args...)
	}
	switch {
	case spec.Distinct && spec.Kind == CountStar:
		return fail("count(*) has no DISTINCT")
	case spec.Distinct && (spec.Kind == Min || spec.Kind == Max):
		a.spec.Distinct = false // the same result
	}
	t := spec.ArgType
	switch spec.Kind {
	case CountStar:
		a.out, a.size, a.phys = types.BigIntType, 8, types.PhysInvalid
	case Count:
		a.out, a.size = types.BigIntType, 8
		if spec.Distinct {
			a.size, a.side = 4, &sideTable{}
		}
	case Sum, Avg:
		if !t.IsNumeric() {
			return fail("%v of %v", spec.Kind, t)
		}
		switch {
		case spec.Kind == Avg:
			a.out, a.size = types.DoubleType, 24
		case t.ID() == types.Double:
			a.out, a.size = types.DoubleType, 9
		case t.ID() == types.Decimal:
			a.out, a.size = types.MustDecimal(types.MaxDecimalWidth, t.Scale()), 17
		default:
			a.out, a.size = types.BigIntType, 17
		}
		if spec.Distinct {
			plain := *a
			plain.spec.Distinct = false
			a.plain, a.size, a.side = &plain, 4, &sideTable{}
		}
	case Min, Max:
		if !t.IsValid() {
			return fail("%v of %v", spec.Kind, t)
		}
		a.out, a.size = t, 9
		if a.phys == types.PhysString {
			a.size, a.side = 4, &sideTable{}
		}
	default:
		return fail("unknown aggregate %v", spec.Kind)
	}
	return a, nil
}

// Type returns the result type.
func (a *Aggregate) Type() types.Type { return a.out }

// String returns the aggregate's text.
func (a *Aggregate) String() string { return a.spec.Text }

// StateSize is the number of bytes of one state.
func (a *Aggregate) StateSize() int { return a.size }

// Init makes state (StateSize bytes) the state of an empty group.
func (a *Aggregate) Init(state []byte) { clear(state[:a.size]) }

var le = binary.LittleEndian

// add128 adds x to the 128-bit two's-complement number in s[0:16).
func add128(s []byte, x int64) {
	lo, c := bits.Add64(le.Uint64(s[0:8]), uint64(x), 0)
	le.PutUint64(s[0:8], lo)
	le.PutUint64(s[8:16], le.Uint64(s[8:16])+uint64(x>>63)+c)
}

// Update adds the logical rows of in to their groups' states: row r's
// state is states[r][off : off+StateSize()].
func (a *Aggregate) Update(in *vector.Chunk, states [][]byte, off int) error {
	a.update(in, rowStates{all: states, off: off})
	return nil
}

// rowStates says where each row's state is: all[r][off:], or one for
// every row.
type rowStates struct {
	all [][]byte
	off int
	one []byte
}

func (s rowStates) at(r int) []byte {
	if s.one != nil {
		return s.one
	}
	return s.all[r][s.off:]
}

func (a *Aggregate) update(in *vector.Chunk, st rowStates) {
	b := batchOf(in)
	if a.spec.Kind == CountStar {
		if st.one != nil {
			le.PutUint64(st.one, le.Uint64(st.one)+uint64(b.n))
			return
		}
		for _, s := range st.all[:b.n] {
			s = s[st.off : st.off+8]
			le.PutUint64(s, le.Uint64(s)+1)
		}
		return
	}
	v := in.Col(a.spec.Arg)
	w := v.Validity().Words()
	if a.side != nil {
		a.side.mu.Lock()
		defer a.side.mu.Unlock()
		var key []byte
		for r, i := range b.sel {
			if isValid(w, int(i)) {
				key = a.key(key[:0], v, int(i))
				a.updateSide(st.at(r), key)
			}
		}
		return
	}
	if a.spec.Kind == Count {
		for r, i := range b.sel {
			if isValid(w, int(i)) {
				s := st.at(r)
				le.PutUint64(s, le.Uint64(s)+1)
			}
		}
		return
	}
	sum := a.spec.Kind == Sum || a.spec.Kind == Avg
	switch {
	case a.phys == types.PhysInt64 && sum:
		sumInt(a, b.sel, w, v.Int64s(), st)
	case a.phys == types.PhysInt32 && sum:
		sumInt(a, b.sel, w, v.Int32s(), st)
	case a.phys == types.PhysFloat64 && sum:
		xs := v.Float64s()
		for r, i := range b.sel {
			if isValid(w, int(i)) {
				s := st.at(r)
				le.PutUint64(s[0:8], math.Float64bits(math.Float64frombits(le.Uint64(s[0:8]))+xs[i]))
				if a.spec.Kind == Avg {
					le.PutUint64(s[8:16], le.Uint64(s[8:16])+1)
				} else {
					s[8] = 1
				}
			}
		}
	case a.phys == types.PhysInt64:
		minMaxInt(a, b.sel, w, v.Int64s(), st)
	case a.phys == types.PhysInt32:
		minMaxInt(a, b.sel, w, v.Int32s(), st)
	case a.phys == types.PhysFloat64:
		xs := v.Float64s()
		for r, i := range b.sel {
			if isValid(w, int(i)) {
				a.minMax(st.at(r), math.Float64bits(xs[i]))
			}
		}
	case a.phys == types.PhysBool:
		xs := v.Bools()
		for r, i := range b.sel {
			if isValid(w, int(i)) {
				a.minMax(st.at(r), uint64(b2i(xs[i])))
			}
		}
	}
}

// sumInt adds integer or DECIMAL values into 128-bit sum states. The
// loops are specialized by function (sum or avg) and by NULLs so that
// each row does one slice of its state and a handful of loads and stores.
func sumInt[T int32 | int64](a *Aggregate, sel vector.Selection, w []uint64, xs []T, st rowStates) {
	if st.one != nil {
		var lo, hi, c uint64
		n := 0
		for _, i := range sel {
			if isValid(w, int(i)) {
				x := int64(xs[i])
				lo, c = bits.Add64(lo, uint64(x), 0)
				hi += uint64(x>>63) + c
				n++
			}
		}
		if n > 0 {
			s := st.one
			l, c := bits.Add64(le.Uint64(s[0:8]), lo, 0)
			le.PutUint64(s[0:8], l)
			le.PutUint64(s[8:16], le.Uint64(s[8:16])+hi+c)
			if a.spec.Kind == Avg {
				le.PutUint64(s[16:24], le.Uint64(s[16:24])+uint64(n))
			} else {
				s[16] = 1
			}
		}
		return
	}
	off := st.off
	switch {
	case a.spec.Kind == Avg && w == nil:
		for r, i := range sel {
			s := st.all[r][off : off+24]
			x := int64(xs[i])
			lo, c := bits.Add64(le.Uint64(s[0:8]), uint64(x), 0)
			le.PutUint64(s[0:8], lo)
			le.PutUint64(s[8:16], le.Uint64(s[8:16])+uint64(x>>63)+c)
			le.PutUint64(s[16:24], le.Uint64(s[16:24])+1)
		}
	case w == nil:
		for r, i := range sel {
			s := st.all[r][off : off+17]
			x := int64(xs[i])
			lo, c := bits.Add64(le.Uint64(s[0:8]), uint64(x), 0)
			le.PutUint64(s[0:8], lo)
			le.PutUint64(s[8:16], le.Uint64(s[8:16])+uint64(x>>63)+c)
			s[16] = 1
		}
	default:
		avg := a.spec.Kind == Avg
		for r, i := range sel {
			if !isValid(w, int(i)) {
				continue
			}
			s := st.all[r][off:]
			add128(s, int64(xs[i]))
			if avg {
				le.PutUint64(s[16:24], le.Uint64(s[16:24])+1)
			} else {
				s[16] = 1
			}
		}
	}
}

// minMaxInt folds integer, DATE or DECIMAL values into min/max states.
func minMaxInt[T int32 | int64](a *Aggregate, sel vector.Selection, w []uint64, xs []T, st rowStates) {
	for r, i := range sel {
		if isValid(w, int(i)) {
			a.minMax(st.at(r), uint64(int64(xs[i])))
		}
	}
}

// minMax folds one value (8 bytes: int64, float64 bits, 0/1) into a
// min/max state.
func (a *Aggregate) minMax(s []byte, x uint64) {
	if s[8] == 0 || a.better(x, le.Uint64(s)) {
		le.PutUint64(s, x)
		s[8] = 1
	}
}

// better reports whether x should replace the current min/max cur.
func (a *Aggregate) better(x, cur uint64) bool {
	var c int
	switch a.phys {
	case types.PhysFloat64:
		c = cmpFloat(math.Float64frombits(x), math.Float64frombits(cur))
	default: // integers, DECIMAL, DATE and bool 0/1 as int64
		switch xi, ci := int64(x), int64(cur); {
		case xi < ci:
			c = -1
		case xi > ci:
			c = 1
		}
	}
	if a.spec.Kind == Min {
		return c < 0
	}
	return c > 0
}

// key appends the distinct-set key of slot i: the bytes of a string, the
// 8 bytes of a number (with one NaN and −0 as +0).
func (a *Aggregate) key(dst []byte, v *vector.Vector, i int) []byte {
	switch a.phys {
	case types.PhysString:
		return append(dst, v.Bytes(i)...)
	case types.PhysFloat64:
		f := v.Float64s()[i]
		if f != f {
			f = math.NaN()
		}
		if f == 0 {
			f = 0
		}
		return le.AppendUint64(dst, math.Float64bits(f))
	case types.PhysInt32:
		return le.AppendUint64(dst, uint64(v.Int32s()[i]))
	case types.PhysBool:
		return le.AppendUint64(dst, uint64(b2i(v.Bools()[i])))
	}
	return le.AppendUint64(dst, uint64(v.Int64s()[i]))
}

// updateSide folds a key into a side-table state (count distinct or a
// VARCHAR min/max). The caller holds the lock.
func (a *Aggregate) updateSide(s []byte, key []byte) {
	t := a.side
	idx := le.Uint32(s)
	if a.spec.Distinct {
		if idx == 0 {
			t.sets = append(t.sets, map[string]struct{}{})
			idx = uint32(len(t.sets))
			le.PutUint32(s, idx)
		}
		set := t.sets[idx-1]
		if _, ok := set[string(key)]; !ok {
			set[string(key)] = struct{}{}
		}
		return
	}
	if idx == 0 {
		t.strs = append(t.strs, string(key))
		le.PutUint32(s, uint32(len(t.strs)))
		return
	}
	c := bytes.Compare(key, []byte(t.strs[idx-1]))
	if (a.spec.Kind == Min && c < 0) || (a.spec.Kind == Max && c > 0) {
		t.strs[idx-1] = string(key)
	}
}

// UpdateState adds all logical rows of in to one state (an aggregate
// without GROUP BY): the loop keeps the running value in registers.
func (a *Aggregate) UpdateState(in *vector.Chunk, state []byte) error {
	b := batchOf(in)
	switch {
	case a.spec.Kind == CountStar:
		le.PutUint64(state, le.Uint64(state)+uint64(b.n))
		return nil
	case a.spec.Kind == Count && a.side == nil:
		v := in.Col(a.spec.Arg)
		cnt := b.n
		if w := v.Validity().Words(); w != nil {
			cnt = 0
			for _, i := range b.sel {
				cnt += b2i(isValid(w, int(i)))
			}
		}
		le.PutUint64(state, le.Uint64(state)+uint64(cnt))
		return nil
	case (a.spec.Kind == Sum || a.spec.Kind == Avg) && a.phys == types.PhysInt64 && a.side == nil:
		v := in.Col(a.spec.Arg)
		lo, hi, cnt := sumInts(b.sel, v.Int64s(), v.Validity().Words())
		if cnt == 0 {
			return nil
		}
		l, c := bits.Add64(le.Uint64(state[0:8]), lo, 0)
		le.PutUint64(state[0:8], l)
		le.PutUint64(state[8:16], le.Uint64(state[8:16])+hi+c)
		if a.spec.Kind == Avg {
			le.PutUint64(state[16:24], le.Uint64(state[16:24])+uint64(cnt))
		} else {
			state[16] = 1
		}
		return nil
	}
	a.update(in, rowStates{one: state[:a.size]})
	return nil
}

// sumInts sums the valid int64 values of the selected slots into a
// 128-bit total (low, high words) and counts them.
func sumInts(sel vector.Selection, xs []int64, w []uint64) (lo, hi uint64, n int) {
	var c uint64
	if w == nil {
		for _, i := range sel {
			x := xs[i]
			lo, c = bits.Add64(lo, uint64(x), 0)
			hi += uint64(x>>63) + c
		}
		return lo, hi, len(sel)
	}
	for _, i := range sel {
		if isValid(w, int(i)) {
			x := xs[i]
			lo, c = bits.Add64(lo, uint64(x), 0)
			hi += uint64(x>>63) + c
			n++
		}
	}
	return lo, hi, n
}

// Combine merges state src into dst (partial aggregates of one group from
// two workers). src is left unchanged.
func (a *Aggregate) Combine(dst, src []byte) error {
	switch {
	case a.spec.Kind == CountStar || a.spec.Kind == Count && a.side == nil:
		le.PutUint64(dst, le.Uint64(dst)+le.Uint64(src))
	case a.side != nil:
		t := a.side
		t.mu.Lock()
		defer t.mu.Unlock()
		si := le.Uint32(src)
		if si == 0 {
			return nil
		}
		if a.spec.Distinct {
			for k := range t.sets[si-1] {
				a.updateSide(dst, []byte(k))
			}
		} else {
			a.updateSide(dst, []byte(t.strs[si-1]))
		}
	case a.spec.Kind == Min || a.spec.Kind == Max:
		if src[8] != 0 {
			a.minMax(dst, le.Uint64(src))
		}
	case a.phys == types.PhysFloat64:
		le.PutUint64(dst[0:8], math.Float64bits(math.Float64frombits(le.Uint64(dst[0:8]))+math.Float64frombits(le.Uint64(src[0:8]))))
		if a.spec.Kind == Avg {
			le.PutUint64(dst[8:16], le.Uint64(dst[8:16])+le.Uint64(src[8:16]))
		} else {
			dst[8] |= src[8]
		}
	default:
		lo, c := bits.Add64(le.Uint64(dst[0:8]), le.Uint64(src[0:8]), 0)
		le.PutUint64(dst[0:8], lo)
		le.PutUint64(dst[8:16], le.Uint64(dst[8:16])+le.Uint64(src[8:16])+c)
		if a.spec.Kind == Avg {
			le.PutUint64(dst[16:24], le.Uint64(dst[16:24])+le.Uint64(src[16:24]))
		} else {
			dst[16] |= src[16]
		}
	}
	return nil
}

// Finalize writes the result of state into slot i of out (of the result
// type). sum and avg of no rows, and min and max of no rows, are NULL;
// counts are 0.
func (a *Aggregate) Finalize(state []byte, out *vector.Vector, i int) error {
	fail := func(err error) error { return &Error{Pos: a.spec.At, Expr: a.spec.Text, Err: err} }
	switch {
	case a.spec.Kind == CountStar || a.spec.Kind == Count && a.side == nil:
		out.Int64s()[i] = int64(le.Uint64(state))
	case a.spec.Distinct && a.spec.Kind != Count:
		return a.finalizeDistinct(state, out, i)
	case a.spec.Distinct:
		a.side.mu.Lock()
		n := 0
		if si := le.Uint32(state); si != 0 {
			n = len(a.side.sets[si-1])
		}
		a.side.mu.Unlock()
		out.Int64s()[i] = int64(n)
	case a.side != nil:
		a.side.mu.Lock()
		si := le.Uint32(state)
		if si == 0 {
			out.SetNull(i)
		} else {
			out.SetString(i, a.side.strs[si-1])
		}
		a.side.mu.Unlock()
	case a.spec.Kind == Min || a.spec.Kind == Max:
		if state[8] == 0 {
			out.SetNull(i)
			return nil
		}
		x := le.Uint64(state)
		switch a.phys {
		case types.PhysInt64:
			out.Int64s()[i] = int64(x)
		case types.PhysInt32:
			out.Int32s()[i] = int32(int64(x))
		case types.PhysFloat64:
			out.Float64s()[i] = math.Float64frombits(x)
		case types.PhysBool:
			out.Bools()[i] = x != 0
		}
	case a.spec.Kind == Sum && a.phys == types.PhysFloat64:
		if state[8] == 0 {
			out.SetNull(i)
			return nil
		}
		out.Float64s()[i] = math.Float64frombits(le.Uint64(state))
	case a.spec.Kind == Sum:
		if state[16] == 0 {
			out.SetNull(i)
			return nil
		}
		v, ok := fit128(le.Uint64(state[0:8]), le.Uint64(state[8:16]))
		if !ok || (a.out.ID() == types.Decimal && (v >= types.DecimalBound(a.out) || v <= -types.DecimalBound(a.out))) {
			return fail(types.ErrOverflow)
		}
		out.Int64s()[i] = v
	case a.phys == types.PhysFloat64: // avg of DOUBLE
		n := le.Uint64(state[8:16])
		if n == 0 {
			out.SetNull(i)
			return nil
		}
		out.Float64s()[i] = math.Float64frombits(le.Uint64(state)) / float64(n)
	default: // avg of integers and DECIMAL
		n := le.Uint64(state[16:24])
		if n == 0 {
			out.SetNull(i)
			return nil
		}
		out.Float64s()[i] = avg128(le.Uint64(state[0:8]), le.Uint64(state[8:16]), n, a.scale)
	}
	return nil
}

// fit128 returns the 128-bit two's-complement (lo, hi) as an int64 if it
// fits.
func fit128(lo, hi uint64) (int64, bool) {
	v := int64(lo)
	return v, hi == uint64(v>>63)
}

// avg128 returns sum / (n × 10^scale) for a 128-bit sum, correctly
// rounded to a float64: one float division when both operands are exact
// doubles (|values| ≤ 2^53), else exact rational arithmetic.
func avg128(lo, hi uint64, n uint64, scale int) float64 {
	if v, ok := fit128(lo, hi); ok && v > -1<<53 && v < 1<<53 {
		d, dhi := bits.Mul64(n, uint64(types.Pow10(scale)))
		if d == 0 && dhi == 0 {
			panic("BUG: avg of zero rows")
		}
		if d <= 1<<53 && dhi == 0 {
			return float64(v) / float64(d)
		}
	}
	num := new(big.Int).SetUint64(hi)
	num.Lsh(num, 64).Or(num, new(big.Int).SetUint64(lo))
	if hi>>63 != 0 {
		num.Sub(num, new(big.Int).Lsh(big.NewInt(1), 128))
	}
	den := new(big.Int).Mul(new(big.Int).SetUint64(n), big.NewInt(types.Pow10(scale)))
	f, _ := new(big.Rat).SetFrac(num, den).Float64()
	return f
}

// finalizeDistinct folds the distinct values of a sum or avg into a
// plain state, in ascending order (so that DOUBLE sums do not depend on
// the set's iteration order), and finalizes that.
func (a *Aggregate) finalizeDistinct(state []byte, out *vector.Vector, i int) error {
	var keys []uint64
	a.side.mu.Lock()
	if si := le.Uint32(state); si != 0 {
		for k := range a.side.sets[si-1] {
			keys = append(keys, le.Uint64([]byte(k)))
		}
	}
	a.side.mu.Unlock()
	p := a.plain
	if p.phys == types.PhysFloat64 {
		slices.SortFunc(keys, func(x, y uint64) int { return cmpFloat(math.Float64frombits(x), math.Float64frombits(y)) })
	} else {
		slices.SortFunc(keys, func(x, y uint64) int { return cmp.Compare(int64(x), int64(y)) })
	}
	tmp := make([]byte, p.size)
	p.Init(tmp)
	for _, x := range keys {
		if p.phys == types.PhysFloat64 {
			le.PutUint64(tmp[0:8], math.Float64bits(math.Float64frombits(le.Uint64(tmp[0:8]))+math.Float64frombits(x)))
			if p.spec.Kind == Avg {
				le.PutUint64(tmp[8:16], le.Uint64(tmp[8:16])+1)
			} else {
				tmp[8] = 1
			}
			continue
		}
		add128(tmp, int64(x))
		if p.spec.Kind == Avg {
			le.PutUint64(tmp[16:24], le.Uint64(tmp[16:24])+1)
		} else {
			tmp[16] = 1
		}
	}
	return p.Finalize(tmp, out, i)
}
