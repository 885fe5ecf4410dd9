package expr

import (
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

type isNullKernel struct {
	arg     operand
	negated bool
}

func (k *isNullKernel) eval(b *batch, out *vector.Vector) error {
	x, err := k.arg.get(b)
	if err != nil {
		return err
	}
	w := x.Validity().Words()
	os := out.Bools()
	for _, i := range b.sel {
		os[i] = isValid(w, int(i)) == k.negated
	}
	return nil
}

// inSet is the constant list of an IN: a linear scan up to inLinearMax
// items, a hash set above.
type inSet[T comparable] struct {
	list []T
	set  map[T]struct{}
}

const inLinearMax = 8

func newInSet[T comparable](list []T) *inSet[T] {
	s := &inSet[T]{list: list}
	if len(list) > inLinearMax {
		s.set = make(map[T]struct{}, len(list))
		for _, x := range list {
			s.set[x] = struct{}{}
		}
	}
	return s
}

func (s *inSet[T]) has(x T) bool {
	if s.set != nil {
		_, ok := s.set[x]
		return ok
	}
	for _, y := range s.list {
		if x == y {
			return true
		}
	}
	return false
}

// inKernel evaluates IN: true if the value is in the list; else NULL if
// the list holds a NULL, else false (NOT IN negates true and false).
type inKernel struct {
	arg      operand
	negated  bool
	listNull bool
	has      func(x *vector.Vector, i int) bool
}

func compileIn(e *InList) (kernel, error) {
	arg, err := compile(e.Arg)
	if err != nil {
		return nil, err
	}
	k := &inKernel{arg: arg, negated: e.Negated}
	var i32 []int32
	var i64 []int64
	var f64 []float64
	var bs []bool
	strs := map[string]struct{}{}
	for _, v := range e.List {
		if v.IsNull() {
			k.listNull = true
			continue
		}
		switch e.Arg.Type().Physical() {
		case types.PhysInt32:
			i32 = append(i32, int32(v.Int64()))
		case types.PhysInt64:
			i64 = append(i64, v.Int64())
		case types.PhysFloat64:
			f64 = append(f64, v.Float64())
		case types.PhysBool:
			bs = append(bs, v.Bool())
		case types.PhysString:
			strs[v.Str()] = struct{}{}
		}
	}
	switch e.Arg.Type().Physical() {
	case types.PhysInt32:
		s := newInSet(i32)
		k.has = func(x *vector.Vector, i int) bool { return s.has(x.Int32s()[i]) }
	case types.PhysInt64:
		s := newInSet(i64)
		k.has = func(x *vector.Vector, i int) bool { return s.has(x.Int64s()[i]) }
	case types.PhysFloat64:
		k.has = func(x *vector.Vector, i int) bool {
			for _, f := range f64 {
				if cmpFloat(x.Float64s()[i], f) == 0 {
					return true
				}
			}
			return false
		}
	case types.PhysBool:
		s := newInSet(bs)
		k.has = func(x *vector.Vector, i int) bool { return s.has(x.Bools()[i]) }
	default:
		k.has = func(x *vector.Vector, i int) bool {
			_, ok := strs[string(x.Bytes(i))]
			return ok
		}
	}
	return k, nil
}

func (k *inKernel) eval(b *batch, out *vector.Vector) error {
	x, err := k.arg.get(b)
	if err != nil {
		return err
	}
	nullsOf(out, x)
	w := x.Validity().Words()
	os := out.Bools()
	for _, i := range b.sel {
		if !isValid(w, int(i)) {
			continue
		}
		found := k.has(x, int(i))
		if !found && k.listNull {
			out.SetNull(int(i))
			continue
		}
		os[i] = found != k.negated
	}
	return nil
}

// caseKernel evaluates each WHEN on the rows no earlier WHEN took, and
// each THEN only on the rows its WHEN chose.
type caseKernel struct {
	conds, thens []operand
	els          operand
	rem, match   vector.Selection
	sub          batch // the rows a branch runs on (a field: &sub does not allocate)
}

func compileCase(e *Case) (kernel, error) {
	k := &caseKernel{rem: make(vector.Selection, vector.Size), match: make(vector.Selection, vector.Size)}
	for _, w := range e.Whens {
		ops, err := compileAll(w.Cond, w.Then)
		if err != nil {
			return nil, err
		}
		k.conds = append(k.conds, ops[0])
		k.thens = append(k.thens, ops[1])
	}
	var err error
	k.els, err = compile(e.Else)
	return k, err
}

func (k *caseKernel) eval(b *batch, out *vector.Vector) error {
	n := copy(k.rem, b.sel)
	for w := range k.conds {
		if n == 0 {
			return nil
		}
		k.sub = batch{in: b.in, sel: k.rem[:n], n: n}
		c, err := k.conds[w].get(&k.sub)
		if err != nil {
			return err
		}
		cw, cs := c.Validity().Words(), c.Bools()
		m, rest := 0, 0
		for _, i := range k.rem[:n] {
			if cs[i] && isValid(cw, int(i)) {
				k.match[m] = i
				m++
			} else {
				k.rem[rest] = i
				rest++
			}
		}
		n = rest
		if m > 0 {
			k.sub = batch{in: b.in, sel: k.match[:m], n: m}
			v, err := k.thens[w].get(&k.sub)
			if err != nil {
				return err
			}
			copyRows(out, v, &k.sub)
		}
	}
	if n > 0 {
		k.sub = batch{in: b.in, sel: k.rem[:n], n: n}
		v, err := k.els.get(&k.sub)
		if err != nil {
			return err
		}
		copyRows(out, v, &k.sub)
	}
	return nil
}

// coalesceKernel evaluates each argument on the rows still NULL.
type coalesceKernel struct {
	args []operand
	rem  vector.Selection
	sub  batch
}

func compileCoalesce(e *Coalesce) (kernel, error) {
	args, err := compileAll(e.Args...)
	return &coalesceKernel{args: args, rem: make(vector.Selection, vector.Size)}, err
}

func (k *coalesceKernel) eval(b *batch, out *vector.Vector) error {
	n := copy(k.rem, b.sel)
	for _, a := range k.args {
		if n == 0 {
			return nil
		}
		k.sub = batch{in: b.in, sel: k.rem[:n], n: n}
		v, err := a.get(&k.sub)
		if err != nil {
			return err
		}
		copyRows(out, v, &k.sub) // NULL rows are copied as NULL and retried
		vw := v.Validity().Words()
		rest := 0
		for _, i := range k.rem[:n] {
			if !isValid(vw, int(i)) {
				k.rem[rest] = i
				rest++
			}
		}
		n = rest
	}
	return nil
}

type extractKernel struct {
	arg  operand
	part DatePart
}

func (k *extractKernel) eval(b *batch, out *vector.Vector) error {
	x, err := k.arg.get(b)
	if err != nil {
		return err
	}
	nullsOf(out, x)
	xs, os := x.Int32s(), out.Int64s()
	for _, i := range b.sel {
		y, m, d := types.DateCivil(xs[i])
		switch k.part {
		case Year:
			os[i] = int64(y)
		case Month:
			os[i] = int64(m)
		default:
			os[i] = int64(d)
		}
	}
	return nil
}

type substringKernel struct {
	e                  *Substring
	arg, start, length operand
	hasLength          bool
}

func compileSubstring(e *Substring) (kernel, error) {
	k := &substringKernel{e: e, hasLength: e.Length != nil}
	var err error
	if k.arg, err = compile(e.Arg); err != nil {
		return nil, err
	}
	if k.start, err = compile(e.Start); err != nil {
		return nil, err
	}
	if k.hasLength {
		k.length, err = compile(e.Length)
	}
	return k, err
}

// eval takes characters start … start+length−1 (from 1; positions before
// 1 count but yield nothing), as PostgreSQL does.
func (k *substringKernel) eval(b *batch, out *vector.Vector) error {
	x, err := k.arg.get(b)
	if err != nil {
		return err
	}
	st, err := k.start.get(b)
	if err != nil {
		return err
	}
	ln := st
	if k.hasLength {
		if ln, err = k.length.get(b); err != nil {
			return err
		}
	}
	nullsOf(out, x, st, ln)
	w := out.Validity().Words()
	starts, lens := st.Int64s(), ln.Int64s()
	for _, i := range b.sel {
		if !isValid(w, int(i)) {
			continue
		}
		from, to := starts[i], int64(math.MaxInt64)
		if k.hasLength {
			if lens[i] < 0 {
				return errAt(k.e, fmt.Errorf("negative substring length %d: %w", lens[i], types.ErrSyntax))
			}
			if from <= math.MaxInt64-lens[i] {
				to = from + lens[i]
			}
		}
		out.SetBytes(int(i), runeSlice(x.Bytes(int(i)), max(from, 1), to))
	}
	return nil
}

// runeSlice returns the code points from..to−1 (1-based) of s.
func runeSlice(s []byte, from, to int64) []byte {
	if to <= from {
		return nil
	}
	lo, hi := len(s), len(s)
	pos := int64(1)
	for i := 0; i < len(s); pos++ {
		if pos == from {
			lo = i
		}
		if pos == to {
			hi = i
			break
		}
		if s[i] < utf8.RuneSelf {
			i++
		} else {
			_, n := utf8.DecodeRune(s[i:])
			i += n
		}
	}
	if lo > hi {
		return nil
	}
	return s[lo:hi]
}

type dateIntervalKernel struct {
	e   *DateInterval
	arg operand
}

func (k *dateIntervalKernel) eval(b *batch, out *vector.Vector) error {
	x, err := k.arg.get(b)
	if err != nil {
		return err
	}
	nullsOf(out, x)
	w := x.Validity().Words()
	xs, os := x.Int32s(), out.Int32s()
	for _, i := range b.sel {
		if !isValid(w, int(i)) {
			continue
		}
		d := xs[i]
		if k.e.Months != 0 {
			if d, err = types.AddMonths(d, k.e.Months); err != nil {
				return errAt(k.e, err)
			}
		}
		if d, err = types.AddDays(d, k.e.Days); err != nil {
			return errAt(k.e, err)
		}
		os[i] = d
	}
	return nil
}
