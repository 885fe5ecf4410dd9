package project

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// Project is a parallel.Operator computing one output column per
// expression.
type Project struct {
	exprs []expr.Expr
	types []types.Type
	pass  []int // per output: the input column it references, or -1
	// run holds the expressions the tasks compile: exprs, except that a
	// subexpression equal to an earlier computed output reads that
	// output instead, as column width+k of an extended input (the input's
	// columns, then the outputs). ext says whether any does.
	run   []expr.Expr
	input []types.Type
	ext   bool
	// locals holds the task states (*local) that tasks gave back, with
	// their compiled expressions, for the next tasks of this and later
	// runs: compiling materializes constants into whole vectors, which
	// costs more than projecting a small table.
	locals sync.Pool
}

var _ parallel.Operator = (*Project)(nil)

// New returns a projection of chunks of types input to exprs, which must
// read only columns of input with their types. Each expression is compiled
// once here so that errors show before the query runs.
func New(input []types.Type, exprs []expr.Expr) (*Project, error) {
	if len(exprs) == 0 {
		return nil, fmt.Errorf("projection of no expressions: %w", expr.ErrType)
	}
	p := &Project{exprs: exprs, types: make([]types.Type, len(exprs)), pass: make([]int, len(exprs))}
	for j, e := range exprs {
		if err := checkColumns(input, e); err != nil {
			return nil, fmt.Errorf("projection %s: %w", e, err)
		}
		p.types[j] = e.Type()
		p.pass[j] = -1
		if c, ok := e.(*expr.Column); ok {
			p.pass[j] = c.Index
			continue
		}
		if _, err := expr.Compile(e); err != nil {
			return nil, fmt.Errorf("projection %s: %w", e, err)
		}
	}
	p.input = slices.Clone(input)
	p.run = reuseOutputs(input, exprs, p.pass)
	for j, e := range p.run {
		p.ext = p.ext || e != exprs[j]
	}
	return p, nil
}

// reuseOutputs returns exprs with every subexpression that is equal to an
// earlier computed output k replaced by a column reference to k (index
// len(input)+k): TPC-H Q1 computes l_extendedprice * (1 - l_discount) as
// an output and again inside the next one. Outputs are computed in order,
// so an expression only reads outputs before it; the replaced
// subexpression was evaluated for every row there, so its errors do not
// change. Expressions are equal when their text, with every column named
// by its index, and their types are.
func reuseOutputs(input []types.Type, exprs []expr.Expr, pass []int) []expr.Expr {
	run := slices.Clone(exprs)
	seen := map[string]int{}
	for j, e := range exprs {
		if pass[j] >= 0 {
			continue
		}
		if _, ok := e.(*expr.Const); ok {
			continue
		}
		if len(seen) > 0 {
			run[j] = replaceSeen(e, seen, len(input))
		}
		if _, ok := seen[keyOf(e)]; !ok {
			seen[keyOf(e)] = j
		}
	}
	return run
}

// replaceSeen replaces the largest subexpressions of e found in seen (key
// → output) by references to those outputs.
func replaceSeen(e expr.Expr, seen map[string]int, width int) expr.Expr {
	switch e.(type) {
	case *expr.Column, *expr.Const:
		return e
	}
	if k, ok := seen[keyOf(e)]; ok {
		return &expr.Column{Index: width + k, Name: e.String(), T: e.Type(), At: e.Pos()}
	}
	kids := expr.Children(e)
	changed := false
	nk := make([]expr.Expr, len(kids))
	for i, c := range kids {
		nk[i] = replaceSeen(c, seen, width)
		changed = changed || nk[i] != c
	}
	if !changed {
		return e
	}
	return expr.WithChildren(e, nk)
}

// keyOf returns e's text with every column named by its index, and its
// type.
func keyOf(e expr.Expr) string {
	named, err := expr.Rewrite(e, func(n expr.Expr) (expr.Expr, error) {
		if c, ok := n.(*expr.Column); ok {
			return &expr.Column{Index: c.Index, T: c.T, At: c.At}, nil
		}
		return n, nil
	})
	if err != nil {
		panic("BUG: a rewrite that returns no error failed: " + err.Error())
	}
	return named.String() + " :: " + e.Type().String()
}

// checkColumns verifies that every column e reads exists in input with the
// type e expects.
func checkColumns(input []types.Type, e expr.Expr) error {
	_, err := expr.Rewrite(e, func(n expr.Expr) (expr.Expr, error) {
		c, ok := n.(*expr.Column)
		if !ok {
			return n, nil
		}
		if c.Index < 0 || c.Index >= len(input) {
			return nil, fmt.Errorf("column %s is #%d of an input of %d columns: %w", c, c.Index, len(input), expr.ErrType)
		}
		if input[c.Index] != c.T {
			return nil, fmt.Errorf("column %s is %v, the input's #%d is %v: %w", c, c.T, c.Index, input[c.Index], expr.ErrType)
		}
		return n, nil
	})
	return err
}

// Exprs returns the output expressions.
func (p *Project) Exprs() []expr.Expr { return p.exprs }

// String describes the projection as EXPLAIN prints it:
// "project l_extendedprice, (l_extendedprice * l_discount)".
func (p *Project) String() string {
	parts := make([]string, len(p.exprs))
	for j, e := range p.exprs {
		parts[j] = e.String()
	}
	return "project " + strings.Join(parts, ", ")
}

// Types returns the output types, one per expression.
func (p *Project) Types() []types.Type { return append([]types.Type(nil), p.types...) }

// Init returns the run's state; a projection shares nothing but its
// expressions.
func (p *Project) Init(*parallel.Producer) (parallel.OperatorState, error) { return state{p}, nil }

type state struct{ p *Project }

// NewLocal gives one task compiled expressions of its own (an Evaluator
// owns scratch vectors): a set a finished task gave back, or new ones.
func (st state) NewLocal() (parallel.OperatorLocal, error) {
	if l, ok := st.p.locals.Get().(*local); ok {
		return l, nil
	}
	l := &local{p: st.p, evs: make([]*expr.Evaluator, len(st.p.exprs))}
	if st.p.ext {
		l.ext = vector.NewChunk(append(slices.Clone(st.p.input), st.p.types...))
	}
	for j, e := range st.p.run {
		if st.p.pass[j] >= 0 {
			continue
		}
		ev, err := expr.Compile(e)
		if err != nil {
			return nil, fmt.Errorf("projection %s: %w", e, err)
		}
		l.evs[j] = ev
	}
	return l, nil
}

type local struct {
	p   *Project
	evs []*expr.Evaluator // nil for pass-through columns
	ext *vector.Chunk     // Project.ext: the input's columns, then out's
}

// Close gives the task's state back for later tasks; the pipeline does
// not use it after Close.
func (l *local) Close() error {
	l.p.locals.Put(l)
	return nil
}

// Execute fills out: pass-through columns reference in's vectors, computed
// ones are evaluated into out's own vectors at in's slots, and out takes
// in's selection (which in keeps unchanged while out is in use).
func (l *local) Execute(in, out *vector.Chunk) (parallel.OperatorResult, error) {
	src := in
	if l.ext != nil {
		w := len(l.p.input)
		for c := range w {
			l.ext.Reference(c, in.Col(c))
		}
		for j := range l.p.pass {
			l.ext.Reference(w+j, out.Col(j))
		}
		l.ext.SetSel(in.Sel(), in.Len())
		src = l.ext
	}
	for j, col := range l.p.pass {
		if col >= 0 {
			out.Reference(j, in.Col(col))
			continue
		}
		if err := l.evs[j].Eval(src, out.Col(j)); err != nil {
			return parallel.NeedMoreInput, fmt.Errorf("projection: %w", err)
		}
	}
	out.SetSel(in.Sel(), in.Len())
	return parallel.NeedMoreInput, nil
}
