package planner

import (
	"fmt"
	"sort"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/sql/ast"
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
//     aggregate is computed once per correlation value. An aggregate
//     without GROUP BY is grouped that way only under a scalar subquery,
//     whose projection is then computed above the join, where a missing
//     group is a row of NULLs: count and count(*) become COALESCE(c, 0)
//     there (the COUNT bug), the other aggregates are NULL over no rows
//     anyway;
//   - through inner and cross joins, from either side.
//
// What this cannot unnest is refused with ErrNotSupported: correlation
// under LIMIT, UNION, the inner side of an outer/semi/anti/mark/single
// join, a non-equality correlated predicate under an aggregate, and
// subqueries correlated with a block more than one level out.

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
	return c.decorrelateScalar(root, val, corr, e.At)
}

// decorrelateScalar joins the correlated scalar subquery root (result
// column val) onto the block's plan and returns its value.
func (c *exprCtx) decorrelateScalar(root Node, val Column, corr *corrSet, at ast.Pos) (expr.Expr, error) {
	d := newDecorrelator(c.b, corr, at)
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

// planExists plans [NOT] EXISTS: as a semi or anti join if top (a WHERE
// conjunct; it returns nil), else as a mark join whose mark it returns.
// EXISTS of a correlated aggregate without GROUP BY is the constant it
// always is.
func (c *exprCtx) planExists(e *ast.ExistsExpr, negated, top bool) (expr.Expr, error) {
	bq, corr, err := c.subquery(e.Query)
	if err != nil {
		return nil, err
	}
	root := c.b.resultNode(bq)
	pos := exprPos(e.At)
	if len(corr.ids) > 0 && scalarChainAgg(root) {
		// An aggregate without GROUP BY returns one row, whatever the
		// correlated values.
		return boolConst(!negated, pos), nil
	}
	var conds []JoinCond
	var residual expr.Expr
	if len(corr.ids) > 0 {
		d := newDecorrelator(c.b, corr, e.At)
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
		d := newDecorrelator(c.b, corr, e.At)
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
	eq := cmp.(*expr.Binary)
	left, right := outputSet(*c.input), outputSet(root)
	clean := subset(eq.Left, left) && subset(eq.Right, right)
	if top && !e.Not {
		if clean {
			conds = append([]JoinCond{{Left: eq.Left, Right: eq.Right}}, conds...)
		} else {
			residual = and(append([]expr.Expr{cmp}, conjunctsOf(residual)...))
		}
		*c.input = &Join{Kind: Semi, Left: *c.input, Right: root, Conds: conds, Residual: residual}
		return nil, nil
	}
	if !clean {
		return nil, errorf(e.At, ErrNotSupported, "IN comparing with a subquery column that reads the outer query is only supported as a WHERE conjunct")
	}
	conds = append([]JoinCond{{Left: eq.Left, Right: eq.Right}}, conds...)
	mark := c.b.newColumn("in", types.BooleanType)
	*c.input = &Join{Kind: Mark, Left: *c.input, Right: root, Conds: conds, Residual: residual, Mark: mark}
	v := expr.Expr(mark.Ref())
	if e.Not {
		if v, err = expr.NewUnary(expr.OpNot, v, pos); err != nil {
			return nil, exprErr(e.At, err)
		}
	}
	return v, nil
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
}

func newDecorrelator(b *binder, corr *corrSet, at ast.Pos) *decorrelator {
	return &decorrelator{b: b, outer: idSet(corr.ids), at: at, deferred: map[ColumnID]expr.Expr{}, counts: idSet{}}
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
	return p, preds, nil
}

func (d *decorrelator) pullAggregate(x *Aggregate, scalarAgg bool) (Node, []expr.Expr, error) {
	in, preds, err := d.pull(x.Input, false)
	if err != nil {
		return nil, nil, err
	}
	a := &Aggregate{Input: in, GroupColumns: append([]Column(nil), x.GroupColumns...)}
	keys := map[string]int{}
	for i, g := range x.Groups {
		g = d.subst(g)
		if d.refsOuter(g) {
			return nil, nil, d.unsupported("GROUP BY %s reads the outer query", ExprString(g))
		}
		a.Groups = append(a.Groups, g)
		keys[exprKey(g)] = i
	}
	for _, f := range x.Aggs {
		if f.Arg != nil {
			f.Arg = d.subst(f.Arg)
			if d.refsOuter(f.Arg) {
				return nil, nil, d.unsupported("aggregate %s reads the outer query", f.Text)
			}
		}
		a.Aggs = append(a.Aggs, f)
	}
	if len(preds) == 0 {
		return a, nil, nil
	}
	if len(x.Groups) == 0 && !scalarAgg {
		return nil, nil, d.unsupported("an aggregate without GROUP BY over correlated rows is only supported in a scalar subquery")
	}
	var out []expr.Expr
	for _, p := range preds {
		eq, ok := p.(*expr.Binary)
		if !ok || eq.Op != expr.OpEq {
			return nil, nil, d.unsupported("predicate %s under an aggregate: only equalities with the outer query can be unnested there", ExprString(p))
		}
		inner, outer := eq.Left, eq.Right
		if d.refsOuter(inner) {
			inner, outer = outer, inner
		}
		if d.refsOuter(inner) || !d.allOuter(outer) {
			return nil, nil, d.unsupported("predicate %s under an aggregate mixes outer and inner columns on one side", ExprString(p))
		}
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
		g, err := expr.NewBinary(expr.OpEq, outer, a.GroupColumns[i].Ref(), eq.At)
		if err != nil {
			return nil, nil, exprErr(d.at, err)
		}
		out = append(out, g)
	}
	if len(x.Groups) == 0 {
		for _, f := range a.Aggs {
			if f.Kind == expr.Count || f.Kind == expr.CountStar {
				d.counts[f.Column.ID] = true
			}
		}
	}
	return a, out, nil
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
