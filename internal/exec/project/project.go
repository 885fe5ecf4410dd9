package project

import (
	"fmt"
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
	return p, nil
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
	for j, e := range st.p.exprs {
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
	for j, src := range l.p.pass {
		if src >= 0 {
			out.Reference(j, in.Col(src))
			continue
		}
		if err := l.evs[j].Eval(in, out.Col(j)); err != nil {
			return parallel.NeedMoreInput, fmt.Errorf("projection: %w", err)
		}
	}
	out.SetSel(in.Sel(), in.Len())
	return parallel.NeedMoreInput, nil
}
