package planner

import (
	"fmt"
	"sort"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/sql/ast"
	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
)

// Subqueries are planned as joins onto the plan of the block that holds
// them (*exprCtx.input), as DuckDB plans them:
//
//	scalar (uncorrelated)      Single join, no conditions (Cross if the
//	                           subquery is one row by construction)
//	EXISTS, IN (a top-level    Semi join; NOT EXISTS: Anti join
//	  WHERE conjunct)
//	EXISTS, IN elsewhere,      Mark join: the mark column stands for the
//	  NOT IN                   subquery (COALESCE(mark, false) for EXISTS)
//
// A correlated subquery reads columns of the block around it. It is
// unnested (after Neumann and Kemper, "Unnesting Arbitrary Queries") by
// pulling the predicates that read outer columns up out of the subquery's
// plan until they sit in the join, where they become join conditions
// (outer = inner equalities) or the join's residual (anything else):
//
//   - through a Filter: the correlated conjuncts leave it;
//   - through a Project: the columns they read are passed through, and
//     projected expressions that read outer columns are computed above
//     the join instead (deferred);
//   - through an Aggregate: an equality inner = outer turns the inner side
//     into one more group key and the predicate into group = outer, so the
//     aggregate is computed once per correlation value. Any other
//     correlated predicate (or an outer column in a group key or an
//     aggregate's argument) takes DuckDB's general route instead: the
//     distinct values of the correlated columns, from a copy of the outer
//     plan (bpfdb has no shared "delim" scan, so that part of the outer
//     plan runs twice), are joined into the aggregate's input by the
//     predicates and become its group keys; the aggregate joins back on
//     outer IS NOT DISTINCT FROM group. An aggregate without GROUP BY is
//     grouped either way only under a scalar subquery, whose projection
//     is then computed above the join, where a missing group is a row of
//     NULLs: count and count(*) become COALESCE(c, 0) there (the COUNT
//     bug), the other aggregates are NULL over no rows anyway;
//   - through inner and cross joins, from either side.
//
// What this cannot unnest is refused with ErrNotSupported: correlation
// under LIMIT, UNION, the inner side of an outer/semi/anti/mark/single
// join, under an aggregate without GROUP BY that is not the scalar
// subquery's result, and subqueries correlated with a block more than one
// level out.

// subquery binds q as a subquery of the block c is binding and returns it
// with the outer columns it reads.
func (c *exprCtx) subquery(q *ast.Query) (boundQuery, *corrSet, error) {
	if c.input == nil {
		return boundQuery{}, nil, errorf(q.At, ErrNotSupported, "subqueries are not supported in %s", c.clause)
	}
	corr := newCorrSet()
	bq, err := c.b.bindQuery(q, c.scope, corr)
	return bq, corr, err
}

// planScalar plans a scalar subquery and returns the expression that
// stands for its value.
func (c *exprCtx) planScalar(e *ast.SubqueryExpr) (expr.Expr, error) {
	bq, corr, err := c.subquery(e.Query)
	if err != nil {
		return nil, err
	}
	if len(bq.result) != 1 {
		return nil, errorf(e.At, ErrInvalid, "subquery must return only one column, not %d", len(bq.result))
	}
	root := c.b.resultNode(bq)
	val := bq.result[0]
	if len(corr.ids) == 0 {
		kind := Single
		if oneRow(root) {
			kind = Cross
		}
		*c.input = &Join{Kind: kind, Left: *c.input, Right: root}
		return val.Ref(), nil
	}
	if agg, v := topOne(c.b, root, val); agg != nil {
		root, val = agg, v
	}
	return c.decorrelateScalar(root, val, corr, e.At)
}

// topOne rewrites a correlated scalar subquery that picks the greatest or
// least value of its own column, SELECT x ... ORDER BY x [DESC] [NULLS
// LAST] LIMIT 1, into max(x) or min(x): the same value (NULLs sort last
// and aggregates skip them, and no rows or only NULLs give NULL both
// ways), and an aggregate without groups unnests through its correlation
// like any other. It returns nil for every other shape.
func topOne(b *binder, root Node, val Column) (Node, Column) {
	lim, ok := root.(*Limit)
	if !ok || lim.Count != 1 || lim.Offset != 0 {
		return nil, Column{}
	}
	ord, ok := lim.Input.(*Order)
	if !ok || len(ord.Keys) != 1 || ord.Keys[0].NullsFirst {
		return nil, Column{}
	}
	key, ok := ord.Keys[0].Expr.(*expr.Column)
	if !ok || ColumnID(key.Index) != val.ID {
		return nil, Column{}
	}
	kind, name := expr.Min, "min"
	if ord.Keys[0].Desc {
		kind, name = expr.Max, "max"
	}
	out := b.newColumn(name+"("+val.Name+")", val.Type)
	agg := &Aggregate{Input: ord.Input, Aggs: []AggFunc{{Kind: kind, Arg: val.Ref(), Text: out.Name, Column: out}}}
	return agg, out
}

// decorrelateScalar joins the correlated scalar subquery root (result
// column val) onto the block's plan and returns its value.
func (c *exprCtx) decorrelateScalar(root Node, val Column, corr *corrSet, at ast.Pos) (expr.Expr, error) {
	d := newDecorrelator(c.b, corr, at, *c.input)
	root, preds, err := d.pull(root, scalarChainAgg(root))
	if err != nil {
		return nil, err
	}
	conds, residual, err := d.join(root, preds)
	if err != nil {
		return nil, err
	}
	*c.input = &Join{Kind: Single, Left: *c.input, Right: root, Conds: conds, Residual: residual}
	return d.value(val), nil
}

// existence drops what cannot change whether a subquery has rows: ORDER BY,
// and LIMIT n (n ≥ 1) without OFFSET, under its projections. EXISTS
// (SELECT ... WHERE t2.k = t1.k LIMIT 1) is EXISTS without the limit,
// which then unnests like any correlated EXISTS.
func existence(n Node) Node {
	switch x := n.(type) {
	case *Project:
		if in := existence(x.Input); in != x.Input {
			return &Project{Input: in, Exprs: x.Exprs, Columns: x.Columns}
		}
	case *Order:
		return existence(x.Input)
	case *Limit:
		if x.Count != 0 && x.Offset == 0 {
			return existence(x.Input)
		}
	case *TopN:
		if x.Count != 0 && x.Offset == 0 {
			return existence(x.Input)
		}
	}
	return n
}

// planExists plans [NOT] EXISTS: as a semi or anti join if top (a WHERE
// conjunct; it returns nil), else as a mark join whose mark it returns.
// EXISTS of a correlated aggregate without GROUP BY is the constant it
// always is.
func (c *exprCtx) planExists(e *ast.ExistsExpr, negated, top bool) (expr.Expr, error) {
	bq, corr, err := c.subquery(e.Query)
	if err != nil {
		return nil, err
	}
	root := existence(c.b.resultNode(bq))
	pos := exprPos(e.At)
	if len(corr.ids) > 0 && scalarChainAgg(root) {
		// An aggregate without GROUP BY returns one row, whatever the
		// correlated values.
		return boolConst(!negated, pos), nil
	}
	var conds []JoinCond
	var residual expr.Expr
	if len(corr.ids) > 0 {
		d := newDecorrelator(c.b, corr, e.At, *c.input)
		var preds []expr.Expr
		if root, preds, err = d.pull(root, false); err != nil {
			return nil, err
		}
		if conds, residual, err = d.join(root, preds); err != nil {
			return nil, err
		}
	}
	if top {
		kind := Semi
		if negated {
			kind = Anti
		}
		*c.input = &Join{Kind: kind, Left: *c.input, Right: root, Conds: conds, Residual: residual}
		return nil, nil
	}
	mark := c.b.newColumn("exists", types.BooleanType)
	*c.input = &Join{Kind: Mark, Left: *c.input, Right: root, Conds: conds, Residual: residual, Mark: mark}
	// A mark is NULL when a condition met a NULL; EXISTS is never NULL.
	v, err := expr.NewCoalesce([]expr.Expr{mark.Ref(), boolConst(false, pos)}, pos)
	if err == nil && negated {
		v, err = expr.NewUnary(expr.OpNot, v, pos)
	}
	return v, exprErr(e.At, err)
}

// planIn plans x [NOT] IN (subquery): as a semi join if top (a WHERE
// conjunct without NOT; it returns nil), else as a mark join whose mark
// (or NOT mark) it returns. A correlated aggregate without GROUP BY is one
// row per outer row: x IN (it) is planned as x = (it). The mark join's first condition is the IN
// comparison; further conditions and the residual are correlation
// predicates that restrict which subquery rows a row is compared with.
func (c *exprCtx) planIn(e *ast.InSubqueryExpr, top bool) (expr.Expr, error) {
	x, err := c.bind(e.X)
	if err != nil {
		return nil, err
	}
	bq, corr, err := c.subquery(e.Query)
	if err != nil {
		return nil, err
	}
	if len(bq.result) != 1 {
		return nil, errorf(e.At, ErrInvalid, "subquery has %d columns; IN needs one", len(bq.result))
	}
	root := c.b.resultNode(bq)
	if len(corr.ids) > 0 && scalarChainAgg(root) {
		// One row per outer row: x IN (v) is x = v.
		v, err := c.decorrelateScalar(root, bq.result[0], corr, e.At)
		if err != nil {
			return nil, err
		}
		op := expr.OpEq
		if e.Not {
			op = expr.OpNe
		}
		r, err := expr.NewBinary(op, x, v, exprPos(e.At))
		return r, exprErr(e.At, err)
	}
	var y expr.Expr = bq.result[0].Ref()
	var conds []JoinCond
	var residual expr.Expr
	if len(corr.ids) > 0 {
		d := newDecorrelator(c.b, corr, e.At, *c.input)
		var preds []expr.Expr
		if root, preds, err = d.pull(root, false); err != nil {
			return nil, err
		}
		if conds, residual, err = d.join(root, preds); err != nil {
			return nil, err
		}
		y = d.value(bq.result[0])
	}
	pos := exprPos(e.At)
	cmp, err := expr.NewBinary(expr.OpEq, x, y, pos)
	if err != nil {
		return nil, exprErr(e.At, err)
	}
	left, right := outputSet(*c.input), outputSet(root)
	eq, clean := cmp.(*expr.Binary)
	clean = clean && subset(eq.Left, left) && subset(eq.Right, right)
	var keyL, keyR expr.Expr
	if clean {
		keyL, keyR, clean = JoinKeys(eq.Left, eq.Right)
	}
	if top && !e.Not {
		if clean {
			conds = append([]JoinCond{{Left: keyL, Right: keyR}}, conds...)
		} else {
			residual = and(append([]expr.Expr{cmp}, conjunctsOf(residual)...))
		}
		*c.input = &Join{Kind: Semi, Left: *c.input, Right: root, Conds: conds, Residual: residual}
		return nil, nil
	}
	if !clean {
		return nil, errorf(e.At, ErrNotSupported, "IN comparing with a subquery column that reads the outer query is only supported as a WHERE conjunct")
	}
	conds = append([]JoinCond{{Left: keyL, Right: keyR}}, conds...)
	mark := c.b.newColumn("in", types.BooleanType)
	before := *c.input
	*c.input = &Join{Kind: Mark, Left: *c.input, Right: root, Conds: conds, Residual: residual, Mark: mark}
	v := expr.Expr(mark.Ref())
	if len(corr.ids) > 0 {
		if v, err = c.correlatedIn(e, eq.Left, mark, before); err != nil {
			return nil, err
		}
	}
	if e.Not {
		if v, err = expr.NewUnary(expr.OpNot, v, pos); err != nil {
			return nil, exprErr(e.At, err)
		}
	}
	return v, nil
}

// correlatedIn returns the value of x IN (a correlated subquery) given
// the mark of a mark join on x = y and the correlation predicates. The
// mark alone is not the answer: a mark join makes its mark NULL when any
// key is NULL or the build side has any NULL key, while IN looks only at
// the rows the correlation selects (a NULL correlation key selects none:
// false). So the mark says only whether a match was found, and the rows
// the correlation selects are counted by the subquery bound once more, as
// count(*) and count(y) grouped by the correlation:
//
//	CASE WHEN COALESCE(mark, false) THEN true
//	     WHEN n = 0 THEN false                 -- no rows: false, even for x NULL
//	     WHEN x IS NULL OR n > n_y THEN NULL   -- unknown: x or some y is NULL
//	     ELSE false END
func (c *exprCtx) correlatedIn(e *ast.InSubqueryExpr, x expr.Expr, mark Column, before Node) (expr.Expr, error) {
	pos := exprPos(e.At)
	bq, corr, err := c.subquery(e.Query)
	if err != nil {
		return nil, err
	}
	root := c.b.resultNode(bq)
	y := bq.result[0]
	n := c.b.newColumn("count_star()", types.BigIntType)
	ny := c.b.newColumn("count("+y.Name+")", types.BigIntType)
	agg := &Aggregate{Input: root, Aggs: []AggFunc{
		{Kind: expr.CountStar, Text: n.Name, At: pos, Column: n},
		{Kind: expr.Count, Arg: y.Ref(), Text: ny.Name, At: pos, Column: ny},
	}}
	d := newDecorrelator(c.b, corr, e.At, before)
	counted, preds, err := d.pull(agg, true)
	if err != nil {
		return nil, err
	}
	conds, residual, err := d.join(counted, preds)
	if err != nil {
		return nil, err
	}
	*c.input = &Join{Kind: Single, Left: *c.input, Right: counted, Conds: conds, Residual: residual}
	nv, nyv := d.value(n), d.value(ny)
	zero := expr.NewConst(types.BigIntValue(0), pos)
	found, err := expr.NewCoalesce([]expr.Expr{mark.Ref(), boolConst(false, pos)}, pos)
	if err != nil {
		return nil, exprErr(e.At, err)
	}
	none, err := expr.NewBinary(expr.OpEq, nv, zero, pos)
	if err != nil {
		return nil, exprErr(e.At, err)
	}
	someNull, err := expr.NewBinary(expr.OpGt, nv, nyv, pos)
	if err != nil {
		return nil, exprErr(e.At, err)
	}
	unknown, err := expr.NewBinary(expr.OpOr, expr.NewIsNull(x, false, pos), someNull, pos)
	if err != nil {
		return nil, exprErr(e.At, err)
	}
	r, err := expr.NewCase([]expr.When{
		{Cond: found, Then: boolConst(true, pos)},
		{Cond: none, Then: boolConst(false, pos)},
		{Cond: unknown, Then: expr.NewConst(types.Null(types.BooleanType), pos)},
	}, boolConst(false, pos), pos)
	return r, exprErr(e.At, err)
}

func conjunctsOf(e expr.Expr) []expr.Expr {
	if e == nil {
		return nil
	}
	return conjuncts(e)
}

// subset reports whether e reads only columns of s (maybe none).
func subset(e expr.Expr, s idSet) bool {
	for _, c := range expr.Columns(e) {
		if !s[ColumnID(c)] {
			return false
		}
	}
	return true
}

// oneRow reports whether n produces exactly one row by construction: an
// aggregate without groups, under projections.
func oneRow(n Node) bool {
	for {
		switch x := n.(type) {
		case *Project:
			n = x.Input
		case *Aggregate:
			return len(x.Groups) == 0
		case *Values:
			return len(x.Rows) == 1
		default:
			return false
		}
	}
}

// scalarChainAgg reports whether n is projections over an aggregate
// without groups: the plan of a scalar aggregate subquery.
func scalarChainAgg(n Node) bool {
	for {
		switch x := n.(type) {
		case *Project:
			n = x.Input
		case *Aggregate:
			return len(x.Groups) == 0
		default:
			return false
		}
	}
}

// decorrelator unnests one correlated subquery.
type decorrelator struct {
	b     *binder
	outer idSet
	at    ast.Pos // the subquery, for errors
	// deferred are projected columns computed above the join instead,
	// by their expressions.
	deferred map[ColumnID]expr.Expr
	// counts are the count results of aggregates that were grouped by
	// the correlation: NULL above the join means 0.
	counts idSet
	// outerPlan is the plan the subquery is joined onto; delim, the
	// distinct correlated values of a copy of it (made when needed) and
	// the column of delim that stands for each outer column.
	outerPlan Node
	delim     *Aggregate
	delimCols map[ColumnID]Column
}

func newDecorrelator(b *binder, corr *corrSet, at ast.Pos, outerPlan Node) *decorrelator {
	return &decorrelator{b: b, outer: idSet(corr.ids), at: at, outerPlan: outerPlan, deferred: map[ColumnID]expr.Expr{}, counts: idSet{}}
}

func (d *decorrelator) unsupported(format string, args ...any) error {
	return errorf(d.at, ErrNotSupported, "correlated subquery: %s", fmt.Sprintf(format, args...))
}

// refsOuter reports whether e reads an outer column.
func (d *decorrelator) refsOuter(e expr.Expr) bool {
	for _, c := range expr.Columns(e) {
		if d.outer[ColumnID(c)] {
			return true
		}
	}
	return false
}

// nodeRefsOuter reports whether an expression of n or its inputs reads an
// outer column.
func (d *decorrelator) nodeRefsOuter(n Node) bool {
	for _, e := range nodeExprs(n) {
		if d.refsOuter(e) {
			return true
		}
	}
	for _, in := range n.Inputs() {
		if d.nodeRefsOuter(in) {
			return true
		}
	}
	return false
}

// nodeExprs lists the expressions of one node.
func nodeExprs(n Node) []expr.Expr {
	switch n := n.(type) {
	case *Get:
		return n.Filters
	case *Filter:
		return []expr.Expr{n.Cond}
	case *Project:
		return n.Exprs
	case *Aggregate:
		out := append([]expr.Expr(nil), n.Groups...)
		for _, a := range n.Aggs {
			if a.Arg != nil {
				out = append(out, a.Arg)
			}
		}
		return out
	case *Join:
		var out []expr.Expr
		for _, c := range n.Conds {
			out = append(out, c.Left, c.Right)
		}
		if n.Residual != nil {
			out = append(out, n.Residual)
		}
		return out
	case *Order:
		return sortExprs(n.Keys)
	case *TopN:
		return sortExprs(n.Keys)
	case *Values:
		var out []expr.Expr
		for _, r := range n.Rows {
			out = append(out, r...)
		}
		return out
	}
	return nil
}

func sortExprs(ks []SortKey) []expr.Expr {
	out := make([]expr.Expr, len(ks))
	for i, k := range ks {
		out[i] = k.Expr
	}
	return out
}

// subst replaces references to deferred columns by their expressions.
func (d *decorrelator) subst(e expr.Expr) expr.Expr {
	if len(d.deferred) == 0 {
		return e
	}
	out, _ := expr.Rewrite(e, func(x expr.Expr) (expr.Expr, error) {
		if c, ok := x.(*expr.Column); ok {
			if r, ok := d.deferred[ColumnID(c.Index)]; ok {
				return r, nil
			}
		}
		return x, nil
	})
	return out
}

// value is the expression for subquery result column c above the join.
func (d *decorrelator) value(c Column) expr.Expr {
	v := d.subst(c.Ref())
	if len(d.counts) == 0 {
		return v
	}
	out, _ := expr.Rewrite(v, func(x expr.Expr) (expr.Expr, error) {
		if col, ok := x.(*expr.Column); ok && d.counts[ColumnID(col.Index)] {
			zero := expr.NewConst(types.BigIntValue(0), expr.Pos{})
			return expr.NewCoalesce([]expr.Expr{col, zero}, expr.Pos{})
		}
		return x, nil
	})
	return out
}

// join splits the pulled predicates into the join's conditions and
// residual, after checking that nothing correlated is left in root.
func (d *decorrelator) join(root Node, preds []expr.Expr) ([]JoinCond, expr.Expr, error) {
	if d.nodeRefsOuter(root) {
		return nil, nil, d.unsupported("outer columns are read where they cannot be pulled out")
	}
	conds, residual := splitConds(preds, d.outer, outputSet(root))
	return conds, residual, nil
}

// pull returns n without the predicates that read outer columns, and
// those predicates, for the join above. scalarAgg is set on the
// projections over an aggregate without groups of a scalar subquery: they
// are all deferred, so that the aggregate may be grouped.
func (d *decorrelator) pull(n Node, scalarAgg bool) (Node, []expr.Expr, error) {
	if !d.nodeRefsOuter(n) {
		return n, nil, nil
	}
	switch x := n.(type) {
	case *Filter:
		in, preds, err := d.pull(x.Input, false)
		if err != nil {
			return nil, nil, err
		}
		var keep []expr.Expr
		for _, p := range conjuncts(d.subst(x.Cond)) {
			if d.refsOuter(p) {
				preds = append(preds, p)
			} else {
				keep = append(keep, p)
			}
		}
		if len(keep) == 0 {
			return in, preds, nil
		}
		return &Filter{Input: in, Cond: and(keep)}, preds, nil
	case *Project:
		return d.pullProject(x, scalarAgg)
	case *Aggregate:
		return d.pullAggregate(x, scalarAgg)
	case *Join:
		return d.pullJoin(x)
	case *Order:
		in, preds, err := d.pull(x.Input, false)
		if err != nil {
			return nil, nil, err
		}
		keys := make([]SortKey, len(x.Keys))
		for i, k := range x.Keys {
			k.Expr = d.subst(k.Expr)
			if d.refsOuter(k.Expr) {
				return nil, nil, d.unsupported("ORDER BY %s reads the outer query", ExprString(k.Expr))
			}
			keys[i] = k
		}
		return &Order{Input: in, Keys: keys}, preds, nil
	case *Limit, *TopN:
		return nil, nil, d.unsupported("correlation under LIMIT")
	case *Union:
		return nil, nil, d.unsupported("correlation under UNION")
	case *Values:
		return nil, nil, d.unsupported("VALUES reading the outer query")
	}
	return nil, nil, d.unsupported("correlation under %s", Describe(n))
}

func (d *decorrelator) pullProject(x *Project, scalarAgg bool) (Node, []expr.Expr, error) {
	in, preds, err := d.pull(x.Input, scalarAgg)
	if err != nil {
		return nil, nil, err
	}
	p := &Project{Input: in}
	kept := idSet{}
	var needed []expr.Expr
	for i, e := range x.Exprs {
		e = d.subst(e)
		col := x.Columns[i]
		if scalarAgg || d.refsOuter(e) {
			if c, ok := e.(*expr.Column); !ok || ColumnID(c.Index) != col.ID {
				d.deferred[col.ID] = e
			}
			needed = append(needed, e)
			continue
		}
		p.Exprs = append(p.Exprs, e)
		p.Columns = append(p.Columns, col)
		kept[col.ID] = true
	}
	// Pass through what the pulled predicates and the deferred
	// expressions read.
	avail := map[ColumnID]Column{}
	for _, c := range in.Output() {
		avail[c.ID] = c
	}
	var ids []ColumnID
	for _, e := range append(needed, preds...) {
		for _, c := range expr.Columns(e) {
			id := ColumnID(c)
			if d.outer[id] || kept[id] {
				continue
			}
			kept[id] = true
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		c, ok := avail[id]
		if !ok {
			return nil, nil, d.unsupported("column #%d is not available above %s", id, Describe(in))
		}
		p.Exprs = append(p.Exprs, c.Ref())
		p.Columns = append(p.Columns, c)
	}
	if len(p.Columns) == 0 {
		// Everything is computed above the join: the input's rows are
		// all that matter.
		return in, preds, nil
	}
	return p, preds, nil
}

func (d *decorrelator) pullAggregate(x *Aggregate, scalarAgg bool) (Node, []expr.Expr, error) {
	in, preds, err := d.pull(x.Input, false)
	if err != nil {
		return nil, nil, err
	}
	a := &Aggregate{Input: in, GroupColumns: append([]Column(nil), x.GroupColumns...)}
	keys := map[string]int{}
	// A correlated predicate other than inner = outer, or an outer
	// column in a group or an aggregate's argument, needs the outer
	// values under the aggregate (the delim path).
	delim := false
	for i, g := range x.Groups {
		g = d.subst(g)
		delim = delim || d.refsOuter(g)
		a.Groups = append(a.Groups, g)
		keys[exprKey(g)] = i
	}
	for _, f := range x.Aggs {
		if f.Arg != nil {
			f.Arg = d.subst(f.Arg)
			delim = delim || d.refsOuter(f.Arg)
		}
		a.Aggs = append(a.Aggs, f)
	}
	for _, p := range preds {
		_, _, ok := d.innerOuterEq(p)
		delim = delim || !ok
	}
	if len(preds) == 0 && !delim {
		return a, nil, nil
	}
	if len(x.Groups) == 0 && !scalarAgg {
		return nil, nil, d.unsupported("an aggregate without GROUP BY over correlated rows is only supported in a scalar subquery")
	}
	if len(x.Groups) == 0 {
		for _, f := range a.Aggs {
			if f.Kind == expr.Count || f.Kind == expr.CountStar {
				d.counts[f.Column.ID] = true
			}
		}
	}
	if delim {
		out, err := d.delimAggregate(a, preds)
		return a, out, err
	}
	var out []expr.Expr
	for _, p := range preds {
		inner, outer, _ := d.innerOuterEq(p)
		k := exprKey(inner)
		i, ok := keys[k]
		if !ok {
			name := k
			if c, ok := inner.(*expr.Column); ok {
				name = c.Name
			}
			i = len(a.Groups)
			keys[k] = i
			a.Groups = append(a.Groups, inner)
			a.GroupColumns = append(a.GroupColumns, d.b.newColumn(name, inner.Type()))
		}
		g, err := expr.NewBinary(expr.OpEq, outer, a.GroupColumns[i].Ref(), expr.Pos{})
		if err != nil {
			return nil, nil, exprErr(d.at, err)
		}
		out = append(out, g)
	}
	return a, out, nil
}

// innerOuterEq splits p = (inner = outer), an equality between an
// expression of inner columns only and one of outer columns only.
func (d *decorrelator) innerOuterEq(p expr.Expr) (inner, outer expr.Expr, ok bool) {
	eq, ok := p.(*expr.Binary)
	if !ok || eq.Op != expr.OpEq {
		return nil, nil, false
	}
	inner, outer = eq.Left, eq.Right
	if d.refsOuter(inner) {
		inner, outer = outer, inner
	}
	if d.refsOuter(inner) || !d.allOuter(outer) {
		return nil, nil, false
	}
	return inner, outer, true
}

// delimAggregate makes aggregate a (its groups and arguments may read
// outer columns, preds are the correlated predicates pulled out of its
// input) compute once per distinct outer value, as DuckDB's unnesting
// does with a duplicate-eliminated join: the distinct values of the
// correlated columns, taken from a copy of the outer plan (delim), are
// joined into the aggregate's input by the predicates, with outer
// columns read from delim instead, and become group keys. It returns the
// predicates that join the aggregate back to the outer plan: outer
// column IS NOT DISTINCT FROM its group, as two equalities (NULL flags,
// and values with NULL replaced) so that the join can hash them.
func (d *decorrelator) delimAggregate(a *Aggregate, preds []expr.Expr) ([]expr.Expr, error) {
	dl, cols, err := d.delimNode()
	if err != nil {
		return nil, err
	}
	toDelim := func(e expr.Expr) expr.Expr {
		out, _ := expr.Rewrite(e, func(x expr.Expr) (expr.Expr, error) {
			if c, ok := x.(*expr.Column); ok {
				if dc, ok := cols[ColumnID(c.Index)]; ok {
					return dc.Ref(), nil
				}
			}
			return x, nil
		})
		return out
	}
	for i, g := range a.Groups {
		a.Groups[i] = toDelim(g)
	}
	for i, f := range a.Aggs {
		if f.Arg != nil {
			a.Aggs[i].Arg = toDelim(f.Arg)
		}
	}
	var conds []expr.Expr
	for _, p := range preds {
		conds = append(conds, toDelim(p))
	}
	j := &Join{Kind: Inner, Left: a.Input, Right: dl}
	j.Conds, j.Residual = splitConds(conds, outputSet(a.Input), outputSet(dl))
	if len(j.Conds) == 0 && j.Residual == nil {
		j.Kind = Cross
	}
	a.Input = j
	var out []expr.Expr
	for _, id := range sortedIDs(d.outer) {
		dc := cols[id]
		g := d.b.newColumn(dc.Name, dc.Type)
		a.Groups = append(a.Groups, dc.Ref())
		a.GroupColumns = append(a.GroupColumns, g)
		outer := expr.NewColumn(int(id), dc.Name, dc.Type, expr.Pos{})
		eqs, err := notDistinct(outer, g.Ref())
		if err != nil {
			return nil, exprErr(d.at, err)
		}
		out = append(out, eqs...)
	}
	return out, nil
}

// delimNode returns the distinct correlated values of a copy of the outer
// plan, and the column that holds each outer column's values.
func (d *decorrelator) delimNode() (*Aggregate, map[ColumnID]Column, error) {
	if d.delim != nil {
		return d.delim, d.delimCols, nil
	}
	cp, m := d.b.copyPlan(d.outerPlan)
	agg := &Aggregate{Input: cp}
	cols := map[ColumnID]Column{}
	for _, id := range sortedIDs(d.outer) {
		c, ok := m[id]
		if !ok {
			return nil, nil, d.unsupported("outer column #%d is not an output of the outer plan", id)
		}
		g := d.b.newColumn(c.Name, c.Type)
		agg.Groups = append(agg.Groups, c.Ref())
		agg.GroupColumns = append(agg.GroupColumns, g)
		cols[id] = g
	}
	d.delim, d.delimCols = agg, cols
	return agg, cols, nil
}

func sortedIDs(s idSet) []ColumnID {
	ids := make([]ColumnID, 0, len(s))
	for id := range s {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// notDistinct returns a IS NOT DISTINCT FROM b as two equalities that are
// never NULL: (a IS NULL) = (b IS NULL) and COALESCE(a, z) = COALESCE(b,
// z), z a constant of their type.
func notDistinct(a, b expr.Expr) ([]expr.Expr, error) {
	flags, err := expr.NewBinary(expr.OpEq, expr.NewIsNull(a, false, expr.Pos{}), expr.NewIsNull(b, false, expr.Pos{}), expr.Pos{})
	if err != nil {
		return nil, err
	}
	z := expr.NewConst(zeroValue(a.Type()), expr.Pos{})
	ca, err := expr.NewCoalesce([]expr.Expr{a, z}, expr.Pos{})
	if err != nil {
		return nil, err
	}
	cb, err := expr.NewCoalesce([]expr.Expr{b, z}, expr.Pos{})
	if err != nil {
		return nil, err
	}
	vals, err := expr.NewBinary(expr.OpEq, ca, cb, expr.Pos{})
	if err != nil {
		return nil, err
	}
	return []expr.Expr{flags, vals}, nil
}

// zeroValue is a non-NULL value of type t.
func zeroValue(t types.Type) types.Value {
	switch t.ID() {
	case types.Boolean:
		return types.BoolValue(false)
	case types.Integer:
		return types.IntegerValue(0)
	case types.BigInt:
		return types.BigIntValue(0)
	case types.Double:
		return types.DoubleValue(0)
	case types.Decimal:
		return types.DecimalValue(0, t)
	case types.Date:
		return types.DateValue(0)
	}
	return types.VarcharValue("")
}

// copyPlan returns a copy of n in which every column has a fresh ID, and
// the copy's column for each of n's IDs.
func (b *binder) copyPlan(n Node) (Node, map[ColumnID]Column) {
	m := map[ColumnID]Column{}
	fresh := func(c Column) Column {
		nc := b.newColumn(c.Name, c.Type)
		m[c.ID] = nc
		return nc
	}
	remap := func(e expr.Expr) expr.Expr {
		if e == nil {
			return nil
		}
		out, _ := expr.Rewrite(e, func(x expr.Expr) (expr.Expr, error) {
			if c, ok := x.(*expr.Column); ok {
				if nc, ok := m[ColumnID(c.Index)]; ok {
					return expr.NewColumn(int(nc.ID), c.Name, c.T, c.At), nil
				}
			}
			return x, nil
		})
		return out
	}
	remapKeys := func(ks []SortKey) []SortKey {
		out := make([]SortKey, len(ks))
		for i, k := range ks {
			k.Expr = remap(k.Expr)
			out[i] = k
		}
		return out
	}
	var cp func(n Node) Node
	cp = func(n Node) Node {
		switch x := n.(type) {
		case *Get:
			g := *x
			g.Columns = nil
			for _, c := range x.Columns {
				g.Columns = append(g.Columns, fresh(c))
			}
			g.TableColumns = append([]int(nil), x.TableColumns...)
			g.Filters = nil
			for _, f := range x.Filters {
				g.Filters = append(g.Filters, remap(f))
			}
			g.ZoneFilters = append([]table.Filter(nil), x.ZoneFilters...)
			return &g
		case *Filter:
			in := cp(x.Input)
			return &Filter{Input: in, Cond: remap(x.Cond)}
		case *Project:
			p := &Project{Input: cp(x.Input)}
			for i, e := range x.Exprs {
				col := x.Columns[i]
				p.Exprs = append(p.Exprs, remap(e))
				if c, ok := e.(*expr.Column); ok && ColumnID(c.Index) == col.ID {
					p.Columns = append(p.Columns, Column{ID: m[col.ID].ID, Name: col.Name, Type: col.Type})
					continue
				}
				p.Columns = append(p.Columns, fresh(col))
			}
			return p
		case *Aggregate:
			a := &Aggregate{Input: cp(x.Input)}
			for i, g := range x.Groups {
				a.Groups = append(a.Groups, remap(g))
				a.GroupColumns = append(a.GroupColumns, fresh(x.GroupColumns[i]))
			}
			for _, f := range x.Aggs {
				f.Arg = remap(f.Arg)
				f.Column = fresh(f.Column)
				a.Aggs = append(a.Aggs, f)
			}
			return a
		case *Join:
			j := &Join{Kind: x.Kind, Left: cp(x.Left), Right: cp(x.Right), Residual: remap(x.Residual)}
			for _, c := range x.Conds {
				j.Conds = append(j.Conds, JoinCond{Left: remap(c.Left), Right: remap(c.Right)})
			}
			if x.Kind == Mark {
				j.Mark = fresh(x.Mark)
			}
			return j
		case *Order:
			in := cp(x.Input)
			return &Order{Input: in, Keys: remapKeys(x.Keys)}
		case *Limit:
			return &Limit{Input: cp(x.Input), Count: x.Count, Offset: x.Offset}
		case *TopN:
			in := cp(x.Input)
			return &TopN{Input: in, Keys: remapKeys(x.Keys), Count: x.Count, Offset: x.Offset}
		case *Union:
			u := &Union{}
			for _, br := range x.Branches {
				u.Branches = append(u.Branches, cp(br))
			}
			for _, c := range x.Columns {
				u.Columns = append(u.Columns, fresh(c))
			}
			return u
		case *Values:
			v := &Values{}
			for _, row := range x.Rows {
				var r []expr.Expr
				for _, e := range row {
					r = append(r, remap(e))
				}
				v.Rows = append(v.Rows, r)
			}
			for _, c := range x.Columns {
				v.Columns = append(v.Columns, fresh(c))
			}
			return v
		}
		panic(fmt.Sprintf("BUG: copyPlan: unknown node %T", n))
	}
	return cp(n), m
}

// allOuter reports whether e reads outer columns only (at least one).
func (d *decorrelator) allOuter(e expr.Expr) bool {
	cols := expr.Columns(e)
	for _, c := range cols {
		if !d.outer[ColumnID(c)] {
			return false
		}
	}
	return len(cols) > 0
}

func (d *decorrelator) pullJoin(x *Join) (Node, []expr.Expr, error) {
	switch x.Kind {
	case Inner, Cross:
		l, lp, err := d.pull(x.Left, false)
		if err != nil {
			return nil, nil, err
		}
		r, rp, err := d.pull(x.Right, false)
		if err != nil {
			return nil, nil, err
		}
		preds := append(lp, rp...)
		j := &Join{Kind: x.Kind, Left: l, Right: r}
		for _, c := range x.Conds {
			c.Left, c.Right = d.subst(c.Left), d.subst(c.Right)
			if d.refsOuter(c.Left) || d.refsOuter(c.Right) {
				eq, err := expr.NewBinary(expr.OpEq, c.Left, c.Right, expr.Pos{})
				if err != nil {
					return nil, nil, exprErr(d.at, err)
				}
				preds = append(preds, eq)
				continue
			}
			j.Conds = append(j.Conds, c)
		}
		var keep []expr.Expr
		for _, p := range conjunctsOf(x.Residual) {
			p = d.subst(p)
			if d.refsOuter(p) {
				preds = append(preds, p)
			} else {
				keep = append(keep, p)
			}
		}
		j.Residual = and(keep)
		if j.Kind == Inner && len(j.Conds) == 0 && j.Residual == nil {
			j.Kind = Cross
		}
		return j, preds, nil
	}
	if d.nodeRefsOuter(x.Right) {
		return nil, nil, d.unsupported("correlation inside the right side of a %v join", x.Kind)
	}
	l, preds, err := d.pull(x.Left, false)
	if err != nil {
		return nil, nil, err
	}
	j := *x
	j.Left = l
	j.Conds = make([]JoinCond, len(x.Conds))
	for i, c := range x.Conds {
		j.Conds[i] = JoinCond{Left: d.subst(c.Left), Right: d.subst(c.Right)}
		if d.refsOuter(j.Conds[i].Left) {
			return nil, nil, d.unsupported("a %v join condition reads the outer query", x.Kind)
		}
	}
	if x.Residual != nil {
		j.Residual = d.subst(x.Residual)
		if d.refsOuter(j.Residual) {
			return nil, nil, d.unsupported("a %v join condition reads the outer query", x.Kind)
		}
	}
	return &j, preds, nil
}
