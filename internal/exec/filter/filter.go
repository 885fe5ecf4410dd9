package filter

import (
	"fmt"
	"slices"
	"sync"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// Filter is a parallel.Operator that keeps the rows for which a predicate
// is true. Its output has the input's types.
type Filter struct {
	types []types.Type
	pred  expr.Expr
	// locals holds the task states (*local) that tasks gave back, with
	// their compiled predicates, for the next tasks of this and later runs:
	// compiling materializes constants into whole vectors, which costs more
	// than filtering a small table.
	locals sync.Pool
}

var _ parallel.Operator = (*Filter)(nil)

// New returns a filter of chunks of types input by pred, which must be
// BOOLEAN and read only columns of input with their types. It compiles pred
// once to report errors here rather than in every task.
func New(input []types.Type, pred expr.Expr) (*Filter, error) {
	if pred.Type().ID() != types.Boolean {
		return nil, fmt.Errorf("filter %s: predicate is %v, not BOOLEAN: %w", pred, pred.Type(), expr.ErrType)
	}
	if err := checkColumns(input, pred); err != nil {
		return nil, fmt.Errorf("filter %s: %w", pred, err)
	}
	if _, err := expr.Compile(pred); err != nil {
		return nil, fmt.Errorf("filter %s: %w", pred, err)
	}
	return &Filter{types: slices.Clone(input), pred: pred}, nil
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

// Predicate returns the filter's predicate.
func (f *Filter) Predicate() expr.Expr { return f.pred }

// String describes the filter as EXPLAIN prints it: "filter (a > 5)".
func (f *Filter) String() string { return "filter " + f.pred.String() }

// Types returns the output types, which are the input's.
func (f *Filter) Types() []types.Type { return slices.Clone(f.types) }

// Init returns the run's state; a filter has no shared state beyond its
// predicate.
func (f *Filter) Init(*parallel.Producer) (parallel.OperatorState, error) { return state{f}, nil }

type state struct{ f *Filter }

// NewLocal gives one task a compiled predicate of its own (an Evaluator
// owns scratch vectors): one a finished task gave back, or a new one.
func (st state) NewLocal() (parallel.OperatorLocal, error) {
	if l, ok := st.f.locals.Get().(*local); ok {
		return l, nil
	}
	ev, err := expr.Compile(st.f.pred)
	if err != nil {
		return nil, fmt.Errorf("filter %s: %w", st.f.pred, err)
	}
	return &local{f: st.f, ev: ev}, nil
}

type local struct {
	f  *Filter
	ev *expr.Evaluator
}

// Close gives the task's state back for later tasks; the pipeline does
// not use it after Close.
func (l *local) Close() error {
	l.f.locals.Put(l)
	return nil
}

// Execute makes out a view of in and narrows out's selection to the rows
// where the predicate is true. in is only read: the new selection is
// written into out's own selection buffer.
func (l *local) Execute(in, out *vector.Chunk) (parallel.OperatorResult, error) {
	out.ReferenceChunk(in)
	sel, err := l.ev.EvalFilter(out)
	if err != nil {
		return parallel.NeedMoreInput, fmt.Errorf("filter: %w", err)
	}
	if len(sel) == in.Len() {
		// Every row passed: keep the input's selection (none, if the input
		// is dense), so that the operators above stay on dense fast paths.
		out.SetSel(in.Sel(), in.Len())
		return parallel.NeedMoreInput, nil
	}
	out.SetSel(sel, len(sel))
	return parallel.NeedMoreInput, nil
}
