package planner

import (
	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/sql/ast"
)

// aggState is the aggregation of one SELECT block while its SELECT list,
// HAVING and ORDER BY are bound: expressions equal to a GROUP BY
// expression become references to the group column, aggregate calls
// become references to their result column, and any other reference to a
// column of the block is an error.
type aggState struct {
	node    *Aggregate
	keys    []string       // exprKey of each group expression
	aggKeys map[string]int // exprKey-like key of each aggregate -> index in node.Aggs
	// active is true while post-aggregation expressions are bound, false
	// while aggregate arguments and GROUP BY expressions are.
	active bool
}

// groupOf returns the group column whose expression is exactly column id.
func (a *aggState) groupOf(id ColumnID) (Column, bool) {
	for i, g := range a.node.Groups {
		if c, ok := g.(*expr.Column); ok && ColumnID(c.Index) == id {
			return a.node.GroupColumns[i], true
		}
	}
	return Column{}, false
}

// aggKinds maps the aggregate function names to their kinds.
var aggKinds = map[string]expr.AggKind{
	"count": expr.Count,
	"sum":   expr.Sum,
	"avg":   expr.Avg,
	"min":   expr.Min,
	"max":   expr.Max,
}

// isAggCall reports whether e is a call of an aggregate function.
func isAggCall(e ast.Expr) bool {
	f, ok := e.(*ast.FuncCall)
	if !ok {
		return false
	}
	_, ok = aggKinds[f.Name]
	return ok
}

// findAgg returns the first aggregate call in e outside subqueries, or nil.
func findAgg(e ast.Node) *ast.FuncCall {
	var found *ast.FuncCall
	ast.Inspect(e, func(n ast.Node) bool {
		if found != nil {
			return false
		}
		switch n := n.(type) {
		case *ast.SubqueryExpr, *ast.ExistsExpr, *ast.Query:
			return false
		case *ast.InSubqueryExpr:
			if findAgg(n.X) != nil {
				found = findAgg(n.X)
			}
			return false
		case *ast.FuncCall:
			if isAggCall(n) {
				found = n
				return false
			}
		}
		return true
	})
	return found
}

// hasSubquery reports whether e contains a subquery.
func hasSubquery(e ast.Node) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		switch n.(type) {
		case *ast.SubqueryExpr, *ast.ExistsExpr, *ast.InSubqueryExpr, *ast.Query:
			found = true
		}
		return !found
	})
	return found
}

// replace is the hook of post-aggregation binding: it returns the
// expression that stands for e after the aggregation and true, or false
// when e is to be bound by its parts.
func (a *aggState) replace(c *exprCtx, e ast.Expr) (expr.Expr, bool, error) {
	if f, ok := e.(*ast.FuncCall); ok && isAggCall(f) {
		col, err := a.bindAgg(c, f)
		return col, err == nil, err
	}
	switch e.(type) {
	case *ast.NumberLit, *ast.StringLit, *ast.BoolLit, *ast.NullLit, *ast.TypedLit, *ast.IntervalLit, *ast.Param, *ast.Star:
		return nil, false, nil
	}
	if findAgg(e) != nil || hasSubquery(e) {
		return nil, false, nil
	}
	// Bind e as if before the aggregation and compare it with the
	// groups.
	a.active = false
	pre := *c
	pre.input = nil
	x, err := pre.bind(e)
	a.active = true
	if err != nil {
		return nil, false, err
	}
	k := exprKey(x)
	for i, gk := range a.keys {
		if gk == k {
			return a.node.GroupColumns[i].Ref(), true, nil
		}
	}
	if ref, ok := e.(*ast.ColumnRef); ok {
		r, err := c.scope.lookupNoAgg(ref)
		if err != nil {
			return nil, false, err
		}
		if r.local {
			return nil, false, errorf(ref.At, ErrGrouping, "column %q must appear in the GROUP BY clause or be used in an aggregate function", ast.Format(ref))
		}
	}
	return nil, false, nil
}

// lookupNoAgg resolves a reference without recording it as correlated
// (the caller only wants to know where it is).
func (s *scope) lookupNoAgg(ref *ast.ColumnRef) (resolved, error) {
	corr := s.corr
	s.corr = nil
	defer func() { s.corr = corr }()
	return s.lookup(ref)
}

// bindAgg binds an aggregate call: its argument over the block's input,
// once per distinct call, and returns a reference to its result column.
func (a *aggState) bindAgg(c *exprCtx, f *ast.FuncCall) (expr.Expr, error) {
	if !a.active {
		return nil, errorf(f.At, ErrGrouping, "aggregate function calls cannot be nested")
	}
	kind := aggKinds[f.Name]
	var arg expr.Expr
	switch {
	case f.Star:
		if kind != expr.Count {
			return nil, errorf(f.At, ErrInvalid, "%s(*) is not a function; only count(*) is", f.Name)
		}
		kind = expr.CountStar
	case len(f.Args) != 1:
		return nil, errorf(f.At, ErrInvalid, "%s takes one argument, not %d", f.Name, len(f.Args))
	default:
		if _, ok := f.Args[0].(*ast.Star); ok {
			return nil, errorf(f.Args[0].Pos(), ErrInvalid, "* is only an argument of count")
		}
		a.active = false
		pre := *c
		pre.input = &a.node.Input
		x, err := pre.bind(f.Args[0])
		a.active = true
		if err != nil {
			return nil, err
		}
		arg = x
	}
	key := kind.String()
	if kind == expr.CountStar {
		key = "count_star"
	}
	if f.Distinct {
		key += " DISTINCT"
	}
	if arg != nil {
		key += " " + exprKey(arg)
	}
	if i, ok := a.aggKeys[key]; ok {
		return a.node.Aggs[i].Column.Ref(), nil
	}
	text := duckText(f)
	spec := expr.AggSpec{Kind: kind, Distinct: f.Distinct, Text: text, At: exprPos(f.At)}
	if arg != nil {
		spec.ArgType = arg.Type()
	}
	compiled, err := expr.NewAggregate(spec)
	if err != nil {
		return nil, exprErr(f.At, err)
	}
	col := c.b.newColumn(text, compiled.Type())
	a.aggKeys[key] = len(a.node.Aggs)
	a.node.Aggs = append(a.node.Aggs, AggFunc{Kind: kind, Arg: arg, Distinct: f.Distinct && kind != expr.Min && kind != expr.Max, Text: text, At: spec.At, Column: col})
	return col.Ref(), nil
}
