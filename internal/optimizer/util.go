package optimizer

import (
	"fmt"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/planner"
	"github.com/bpfdb/bpfdb/internal/types"
)

// colSet is a set of column IDs.
type colSet map[planner.ColumnID]bool

// outputSet returns the IDs of n's output columns.
func outputSet(n planner.Node) colSet {
	s := colSet{}
	for _, c := range n.Output() {
		s[c.ID] = true
	}
	return s
}

// refs returns the IDs of the columns e reads, each once.
func refs(e expr.Expr) []planner.ColumnID {
	cols := expr.Columns(e)
	out := make([]planner.ColumnID, len(cols))
	for i, c := range cols {
		out[i] = planner.ColumnID(c)
	}
	return out
}

// within reports whether every column e reads is in s (true for an e that
// reads none).
func within(e expr.Expr, s colSet) bool {
	for _, id := range refs(e) {
		if !s[id] {
			return false
		}
	}
	return true
}

// conjuncts splits e into the operands of its top-level ANDs.
func conjuncts(e expr.Expr) []expr.Expr {
	if b, ok := e.(*expr.Binary); ok && b.Op == expr.OpAnd {
		return append(conjuncts(b.Left), conjuncts(b.Right)...)
	}
	return []expr.Expr{e}
}

// and joins predicates with AND, left-deep; nil for none.
func and(es []expr.Expr) expr.Expr {
	var out expr.Expr
	for _, e := range es {
		if out == nil {
			out = e
			continue
		}
		x, err := expr.NewBinary(expr.OpAnd, out, e, expr.Pos{})
		if err != nil {
			panic(fmt.Sprintf("BUG: AND of predicates %v and %v: %v", out, e, err))
		}
		out = x
	}
	return out
}

// substitute replaces every column of e that m maps by m's expression,
// which must have the column's type.
func substitute(e expr.Expr, m map[planner.ColumnID]expr.Expr) expr.Expr {
	out, _ := expr.Rewrite(e, func(x expr.Expr) (expr.Expr, error) {
		if c, ok := x.(*expr.Column); ok {
			if r, ok := m[planner.ColumnID(c.Index)]; ok {
				return r, nil
			}
		}
		return x, nil
	})
	return out
}

// constBool returns the value of a BOOLEAN constant: ok is false if e is
// not a constant; null is true for NULL.
func constBool(e expr.Expr) (val, null, ok bool) {
	c, isConst := e.(*expr.Const)
	if !isConst || c.Val.Type().ID() != types.Boolean {
		return false, false, false
	}
	if c.Val.IsNull() {
		return false, true, true
	}
	return c.Val.Bool(), false, true
}

// empty returns a node with cols as its output and no rows.
func empty(cols []planner.Column) *planner.Values {
	return &planner.Values{Columns: append([]planner.Column(nil), cols...)}
}

// isEmpty reports whether n is a Values without rows.
func isEmpty(n planner.Node) bool {
	v, ok := n.(*planner.Values)
	return ok && len(v.Rows) == 0
}

// setInputs replaces n's inputs (as Inputs lists them) by in.
func setInputs(n planner.Node, in []planner.Node) {
	switch n := n.(type) {
	case *planner.Filter:
		n.Input = in[0]
	case *planner.Project:
		n.Input = in[0]
	case *planner.Aggregate:
		n.Input = in[0]
	case *planner.Join:
		n.Left, n.Right = in[0], in[1]
	case *planner.Order:
		n.Input = in[0]
	case *planner.Limit:
		n.Input = in[0]
	case *planner.TopN:
		n.Input = in[0]
	case *planner.Union:
		n.Branches = in
	case *planner.Get, *planner.Values:
	default:
		panic(fmt.Sprintf("BUG: setInputs of unknown node %T", n))
	}
}

// exprsOf calls f with a pointer to every expression held by n itself
// (not its inputs), so that f may replace it.
func exprsOf(n planner.Node, f func(*expr.Expr)) {
	switch n := n.(type) {
	case *planner.Get:
		for i := range n.Filters {
			f(&n.Filters[i])
		}
	case *planner.Filter:
		f(&n.Cond)
	case *planner.Project:
		for i := range n.Exprs {
			f(&n.Exprs[i])
		}
	case *planner.Aggregate:
		for i := range n.Groups {
			f(&n.Groups[i])
		}
		for i := range n.Aggs {
			if n.Aggs[i].Arg != nil {
				f(&n.Aggs[i].Arg)
			}
		}
	case *planner.Join:
		for i := range n.Conds {
			f(&n.Conds[i].Left)
			f(&n.Conds[i].Right)
		}
		if n.Residual != nil {
			f(&n.Residual)
		}
	case *planner.Order:
		for i := range n.Keys {
			f(&n.Keys[i].Expr)
		}
	case *planner.TopN:
		for i := range n.Keys {
			f(&n.Keys[i].Expr)
		}
	case *planner.Values:
		for _, row := range n.Rows {
			for j := range row {
				f(&row[j])
			}
		}
	}
}
