package expr

import (
	"fmt"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// batch is the set of rows a kernel evaluates: the input chunk's columns
// under a selection that may be narrower than the chunk's (CASE evaluates
// each branch only on the rows it chooses, so that THEN a / b does not
// divide rows the WHEN excluded).
type batch struct {
	in  *vector.Chunk
	sel vector.Selection // row r is slot sel[r]; never nil (identity when dense)
	n   int
}

// identity is the selection of a dense chunk: kernels always loop over
// a selection, trading a load per row for half the loops.
var identity = func() vector.Selection {
	s := make(vector.Selection, vector.Size)
	for i := range s {
		s[i] = uint16(i)
	}
	return s
}()

func batchOf(in *vector.Chunk) batch {
	sel := in.Sel()
	if sel == nil {
		sel = identity
	}
	return batch{in: in, sel: sel[:in.Len()], n: in.Len()}
}

// kernel computes one node for the rows of a batch into out, at the rows'
// slots. out has been Reset (every slot valid, no string bytes).
type kernel interface {
	eval(b *batch, out *vector.Vector) error
}

// operand is a compiled child: an input column read in place, a constant
// materialized once into all Size slots, or a kernel with a scratch vector.
type operand struct {
	col int            // ≥ 0: input column
	vec *vector.Vector // the constant or the scratch vector
	k   kernel         // nil for columns and constants
	t   types.Type
}

func (o *operand) get(b *batch) (*vector.Vector, error) {
	if o.col >= 0 {
		return b.in.Col(o.col), nil
	}
	if o.k == nil {
		return o.vec, nil
	}
	o.vec.Reset()
	return o.vec, o.k.eval(b, o.vec)
}

// Evaluator is a compiled expression. It owns scratch vectors, so it is
// used by one goroutine at a time; compile one per worker.
type Evaluator struct {
	e    Expr
	root operand
	b    batch
	tmp  *vector.Vector // BOOLEAN result of a filter
	conj []conjunct     // a filter's AND operands, narrowed one after another
}

// conjunct is one AND operand of a filter: a selector, or an operand whose
// BOOLEAN result is compacted.
type conjunct struct {
	sel selector
	op  operand
}

// Compile turns a bound expression into an Evaluator, choosing a typed
// kernel for every node once.
func Compile(e Expr) (*Evaluator, error) {
	root, err := compile(e)
	if err != nil {
		return nil, err
	}
	ev := &Evaluator{e: e, root: root}
	if e.Type().ID() == types.Boolean {
		ev.tmp = vector.New(types.BooleanType)
		for _, c := range conjuncts(e, nil) {
			s, err := compileSelector(c)
			if err != nil {
				return nil, err
			}
			var op operand
			if s == nil {
				if op, err = compile(c); err != nil {
					return nil, err
				}
			}
			ev.conj = append(ev.conj, conjunct{sel: s, op: op})
		}
	}
	return ev, nil
}

// conjuncts appends the operands of a tree of ANDs.
func conjuncts(e Expr, dst []Expr) []Expr {
	if b, ok := e.(*Binary); ok && b.Op == OpAnd {
		return conjuncts(b.Right, conjuncts(b.Left, dst))
	}
	return append(dst, e)
}

// Type returns the result type.
func (ev *Evaluator) Type() types.Type { return ev.e.Type() }

// String returns the expression's text.
func (ev *Evaluator) String() string { return ev.e.String() }

// Eval computes the expression for every logical row r of in, writing
// slot in.Index(r) of out (which must have the expression's type and must
// not be one of in's vectors). Out is Reset first.
func (ev *Evaluator) Eval(in *vector.Chunk, out *vector.Vector) error {
	if out.Type() != ev.e.Type() {
		panic(fmt.Sprintf("BUG: evaluate %v of type %v into a %v vector", ev.e, ev.e.Type(), out.Type()))
	}
	ev.b = batchOf(in)
	out.Reset()
	if ev.root.k != nil {
		return ev.root.k.eval(&ev.b, out)
	}
	src, _ := ev.root.get(&ev.b)
	copyRows(out, src, &ev.b)
	return nil
}

// EvalFilter evaluates a BOOLEAN expression and returns the slots of the
// rows where it is true (NULL counts as false), in order, for
// in.SetSel(sel, len(sel)). The slice is in.SelBuffer().
//
// A conjunction a AND b AND … is evaluated one operand at a time, each on
// the rows the previous ones kept, as a chain of filters would: cheaper
// when the first operands are selective, and an operand never fails on a
// row an earlier one rejected.
func (ev *Evaluator) EvalFilter(in *vector.Chunk) (vector.Selection, error) {
	if ev.tmp == nil {
		panic(fmt.Sprintf("BUG: filter on %v of type %v", ev.e, ev.e.Type()))
	}
	ev.b = batchOf(in) // a field, so that passing &ev.b does not allocate
	b := &ev.b
	out := in.SelBuffer()
	for _, c := range ev.conj {
		var n int
		if c.sel != nil {
			var err error
			if n, err = c.sel.selectRows(b, out); err != nil {
				return nil, err
			}
		} else {
			v, err := c.op.get(b)
			if err != nil {
				return nil, err
			}
			n = compact(out, b.sel, v)
		}
		b.sel, b.n = out[:n], n
		if n == 0 {
			break
		}
	}
	return b.sel, nil
}

// compact writes the slots of sel where BOOLEAN v is true and valid to
// out, in order, and returns how many. out may be sel itself.
func compact(out, sel vector.Selection, v *vector.Vector) int {
	vals := v.Bools()
	words := v.Validity().Words()
	k := 0
	if words == nil {
		for _, i := range sel {
			out[k] = i
			k += b2i(vals[i])
		}
		return k
	}
	for _, i := range sel {
		out[k] = i
		k += b2i(vals[i] && words[i>>6]&(1<<(uint(i)&63)) != 0)
	}
	return k
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func compile(e Expr) (operand, error) {
	switch e := e.(type) {
	case *Column:
		return operand{col: e.Index, t: e.T}, nil
	case *Const:
		return operand{col: -1, vec: constVector(e.Val), t: e.Val.Type()}, nil
	}
	k, err := compileKernel(e)
	if err != nil {
		return operand{}, err
	}
	return operand{col: -1, vec: vector.New(e.Type()), k: k, t: e.Type()}, nil
}

func compileAll(es ...Expr) ([]operand, error) {
	ops := make([]operand, len(es))
	for i, e := range es {
		var err error
		if ops[i], err = compile(e); err != nil {
			return nil, err
		}
	}
	return ops, nil
}

func compileKernel(e Expr) (kernel, error) {
	switch e := e.(type) {
	case *Unary:
		return compileUnary(e)
	case *Binary:
		return compileBinary(e)
	case *Cast:
		return compileCast(e)
	case *IsNull:
		arg, err := compile(e.Arg)
		return &isNullKernel{arg: arg, negated: e.Negated}, err
	case *Like:
		return compileLike(e)
	case *InList:
		return compileIn(e)
	case *Case:
		return compileCase(e)
	case *Coalesce:
		return compileCoalesce(e)
	case *Extract:
		arg, err := compile(e.Arg)
		return &extractKernel{arg: arg, part: e.Part}, err
	case *Substring:
		return compileSubstring(e)
	case *DateInterval:
		arg, err := compile(e.Arg)
		return &dateIntervalKernel{e: e, arg: arg}, err
	}
	return nil, fmt.Errorf("compile %v: unknown node %T: %w", e, e, ErrType)
}

// constVector returns a vector with v in every slot.
func constVector(v types.Value) *vector.Vector {
	out := vector.New(v.Type())
	if v.IsNull() {
		w := out.Validity().Writable()
		for i := range w {
			w[i] = 0
		}
		return out
	}
	if v.Type().Physical() == types.PhysString {
		out.SetString(0, v.Str())
		s := out.Strs()
		for i := range s {
			s[i] = s[0]
		}
		return out
	}
	for i := range vector.Size {
		out.Set(i, v)
	}
	return out
}

// nullsOf ANDs the validity of the sources into out's (a result is NULL
// where any source is NULL), a word at a time.
func nullsOf(out *vector.Vector, srcs ...*vector.Vector) {
	var w []uint64
	for _, s := range srcs {
		sw := s.Validity().Words()
		if sw == nil {
			continue
		}
		if w == nil {
			w = out.Validity().Writable()
			copy(w, sw)
			continue
		}
		for k := range w {
			w[k] &= sw[k]
		}
	}
}

// isValid reports whether slot i of words (nil: all valid) is valid.
func isValid(words []uint64, i int) bool {
	return words == nil || words[i>>6]&(1<<(uint(i)&63)) != 0
}

// copyRows copies the batch's rows of src into the same slots of out,
// values and NULLs (a slot NULL in out and valid in src becomes valid).
func copyRows(out, src *vector.Vector, b *batch) {
	sw := src.Validity().Words()
	switch src.Type().Physical() {
	case types.PhysBool:
		gatherSame(out.Bools(), src.Bools(), b)
	case types.PhysInt32:
		gatherSame(out.Int32s(), src.Int32s(), b)
	case types.PhysInt64:
		gatherSame(out.Int64s(), src.Int64s(), b)
	case types.PhysFloat64:
		gatherSame(out.Float64s(), src.Float64s(), b)
	case types.PhysString:
		strs, arena := src.Strs(), src.Arena()
		for _, i := range b.sel {
			if isValid(sw, int(i)) {
				h := strs[i]
				out.SetBytes(int(i), arena[h.Off:h.Off+h.Len])
			}
		}
	}
	if ov := out.Validity(); sw != nil || !ov.AllValid() {
		for _, i := range b.sel {
			ov.Set(int(i), isValid(sw, int(i)))
		}
	}
}

func gatherSame[T vector.Fixed](dst, src []T, b *batch) {
	for _, i := range b.sel {
		dst[i] = src[i]
	}
}
