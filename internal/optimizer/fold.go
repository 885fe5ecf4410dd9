package optimizer

import (
	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/planner"
	"github.com/bpfdb/bpfdb/internal/types"
)

// foldConstants is the constant_folding pass; it counts the expressions
// it changed and the nodes it dropped or emptied.
func foldConstants(p *planner.Plan, changes *int) error {
	f := &folder{}
	p.Root = f.node(p.Root)
	*changes = f.changes
	return nil
}

type folder struct{ changes int }

// foldExpr folds e's constant subtrees and simplifies AND and OR with a
// constant operand: x AND true is x, x AND false is false, x OR true is
// true, x OR false is x (all exact in three-valued logic).
func foldExpr(e expr.Expr) expr.Expr {
	e = expr.Fold(e)
	out, _ := expr.Rewrite(e, func(x expr.Expr) (expr.Expr, error) {
		b, ok := x.(*expr.Binary)
		if !ok || (b.Op != expr.OpAnd && b.Op != expr.OpOr) {
			return x, nil
		}
		absorb := b.Op == expr.OpOr // the value that decides the result
		for i, side := range []expr.Expr{b.Left, b.Right} {
			other := b.Right
			if i == 1 {
				other = b.Left
			}
			v, null, isConst := constBool(side)
			switch {
			case !isConst || null:
			case v == absorb:
				return expr.NewConst(types.BoolValue(absorb), b.At), nil
			default:
				return other, nil
			}
		}
		return x, nil
	})
	return out
}

// never reports whether a predicate is a constant false or NULL.
func never(e expr.Expr) bool {
	v, null, ok := constBool(e)
	return ok && (null || !v)
}

// always reports whether a predicate is the constant true.
func always(e expr.Expr) bool {
	v, null, ok := constBool(e)
	return ok && !null && v
}

// node folds n's expressions after its inputs', and replaces nodes
// that can produce no row by an empty Values with their columns.
func (f *folder) node(n planner.Node) planner.Node {
	out := f.fold(n)
	if out != n {
		f.changes++
	}
	return out
}

func (f *folder) fold(n planner.Node) planner.Node {
	ins := n.Inputs()
	if len(ins) > 0 {
		out := make([]planner.Node, len(ins))
		for i, in := range ins {
			out[i] = f.node(in)
		}
		setInputs(n, out)
	}
	exprsOf(n, func(e *expr.Expr) {
		if x := foldExpr(*e); x != *e {
			*e, f.changes = x, f.changes+1
		}
	})
	switch n := n.(type) {
	case *planner.Get:
		var keep []expr.Expr
		dropped := false
		for _, x := range n.Filters {
			for _, c := range conjuncts(x) {
				switch {
				case never(c):
					return empty(n.Columns)
				case always(c):
					dropped = true
				default:
					keep = append(keep, c)
				}
			}
		}
		if dropped {
			n.Filters = keep
			n.ZoneFilters = zoneFilters(n)
		}
	case *planner.Filter:
		switch {
		case never(n.Cond), isEmpty(n.Input):
			return empty(n.Output())
		case always(n.Cond):
			return n.Input
		}
	case *planner.Project:
		if isEmpty(n.Input) {
			return empty(n.Columns)
		}
	case *planner.Aggregate:
		// Without groups an aggregate makes one row even of no input.
		if len(n.Groups) > 0 && isEmpty(n.Input) {
			return empty(n.Output())
		}
	case *planner.Join:
		if n.Residual != nil && always(n.Residual) {
			n.Residual = nil
		}
		switch n.Kind {
		case planner.Inner, planner.Cross, planner.Semi:
			if isEmpty(n.Left) || isEmpty(n.Right) || n.Residual != nil && never(n.Residual) {
				return empty(n.Output())
			}
		default:
			// The other kinds keep every left row (or drop them for
			// a match): only an empty left empties them.
			if isEmpty(n.Left) {
				return empty(n.Output())
			}
		}
	case *planner.Order:
		if isEmpty(n.Input) {
			return empty(n.Output())
		}
	case *planner.TopN:
		if isEmpty(n.Input) || n.Count == 0 {
			return empty(n.Output())
		}
	case *planner.Limit:
		if isEmpty(n.Input) || n.Count == 0 {
			return empty(n.Output())
		}
	case *planner.Union:
		var keep []planner.Node
		for _, b := range n.Branches {
			if !isEmpty(b) {
				keep = append(keep, b)
			}
		}
		if len(keep) == 0 {
			return empty(n.Columns)
		}
		n.Branches = keep
	}
	return n
}
