package optimizer

import (
	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/planner"
)

// reduceFactor is how much smaller than an aggregate's input the key
// source must be estimated for the semi-join reduction to pay: the copy
// of the source runs once more.
const reduceFactor = 4

// reduceJoins is the semijoin_reduction pass. A join whose right side is
// an aggregate grouped by its join keys only ever uses the groups whose
// keys the left side has (the shape a correlated subquery with an
// aggregate unnests into: TPC-H Q2, Q17, Q20). When the left side is much
// smaller than the aggregate's input, the pass filters that input first
// with a semi join against the left side's key values, so the aggregate
// groups only the rows that can matter:
//
//	Join single [p = g]                    Join single [p = g]
//	  L (small, has p)                       L
//	  Aggregate groups [x] AS [g]     ⇒      Aggregate groups [x] AS [g]
//	    big input                              Join semi [x = p']
//	                                             big input
//	                                             Project [p AS p'] (copy of part of L)
//
// The key values come from a copy of the smallest subtree of L that
// produces them (descending through joins and filters, each of which only
// removes key values, so the copy's values are a superset: the reduction
// is only a filter and never changes a result). Inner, single, left outer
// and semi joins qualify; mark and anti joins do not (a mark's NULL answer
// depends on every build row).
func reduceJoins(p *planner.Plan, changes *int) error {
	r := &reducer{p: p, es: newEstimator()}
	r.walk(p.Root)
	*changes += r.changes
	return nil
}

type reducer struct {
	p       *planner.Plan
	es      *estimator
	changes int
}

func (r *reducer) walk(n planner.Node) {
	for _, in := range n.Inputs() {
		r.walk(in)
	}
	j, ok := n.(*planner.Join)
	if !ok || len(j.Conds) == 0 {
		return
	}
	switch j.Kind {
	case planner.Inner, planner.Single, planner.LeftOuter, planner.Semi:
	default:
		return
	}
	agg, groupOf := aggregateBelow(j.Right)
	if agg == nil || len(agg.Groups) == 0 {
		return
	}
	// The conditions whose right side is a group column: (group index,
	// left key expression).
	var groups []int
	var keys []expr.Expr
	for _, c := range j.Conds {
		col, ok := c.Right.(*expr.Column)
		if !ok {
			continue
		}
		k, ok := groupOf[planner.ColumnID(col.Index)]
		if !ok || agg.Groups[k].Type() != c.Left.Type() {
			continue
		}
		groups, keys = append(groups, k), append(keys, c.Left)
	}
	if len(keys) == 0 {
		return
	}
	need := colSet{}
	for _, k := range keys {
		for _, id := range refs(k) {
			need[id] = true
		}
	}
	src := r.smallestSource(j.Left, need)
	if src == nil || r.es.estimate(src).rows*reduceFactor > r.es.estimate(agg.Input).rows {
		return
	}
	cp := &copier{p: r.p, ids: map[planner.ColumnID]planner.ColumnID{}}
	copied := cp.node(src)
	if copied == nil {
		return
	}
	proj := &planner.Project{Input: copied}
	semi := &planner.Join{Kind: planner.Semi, Left: agg.Input, Right: proj}
	for i, k := range keys {
		col := planner.Column{ID: r.p.NextID, Name: "key", Type: k.Type()}
		r.p.NextID++
		proj.Exprs = append(proj.Exprs, cp.expr(k))
		proj.Columns = append(proj.Columns, col)
		semi.Conds = append(semi.Conds, planner.JoinCond{Left: agg.Groups[groups[i]], Right: col.Ref()})
	}
	agg.Input = semi
	r.changes++
}

// aggregateBelow returns the aggregate under n (through projections that
// pass its group columns on) and, for each column ID that names one of its
// groups at n, the group's index.
func aggregateBelow(n planner.Node) (*planner.Aggregate, map[planner.ColumnID]int) {
	switch n := n.(type) {
	case *planner.Aggregate:
		m := map[planner.ColumnID]int{}
		for i, c := range n.GroupColumns {
			m[c.ID] = i
		}
		return n, m
	case *planner.Project:
		agg, m := aggregateBelow(n.Input)
		if agg == nil {
			return nil, nil
		}
		out := map[planner.ColumnID]int{}
		for i, e := range n.Exprs {
			if c, ok := e.(*expr.Column); ok {
				if k, ok := m[planner.ColumnID(c.Index)]; ok {
					out[n.Columns[i].ID] = k
				}
			}
		}
		return agg, out
	}
	return nil, nil
}

// smallestSource returns the node of the smallest estimated output, among
// n and the subtrees below it that still produce every column of need,
// descending through joins (into the side that has them all) and filters.
func (r *reducer) smallestSource(n planner.Node, need colSet) planner.Node {
	var best planner.Node
	bestRows := 0.0
	for n != nil && has(outputSet(n), need) {
		if rows := r.es.estimate(n).rows; best == nil || rows <= bestRows { // ties: the deeper, simpler copy
			best, bestRows = n, rows
		}
		switch x := n.(type) {
		case *planner.Join:
			// Into the side that has every key column (the loop's test
			// stops if neither has).
			n = x.Left
			if !has(outputSet(x.Left), need) {
				n = x.Right
			}
		case *planner.Filter:
			n = x.Input
		default:
			n = nil
		}
	}
	return best
}

func has(s, need colSet) bool {
	for id := range need {
		if !s[id] {
			return false
		}
	}
	return true
}

// copier copies a subtree with fresh column IDs (every column is defined
// once in a plan).
type copier struct {
	p   *planner.Plan
	ids map[planner.ColumnID]planner.ColumnID
}

func (c *copier) col(old planner.Column) planner.Column {
	id := c.p.NextID
	c.p.NextID++
	c.ids[old.ID] = id
	return planner.Column{ID: id, Name: old.Name, Type: old.Type}
}

func (c *copier) cols(old []planner.Column) []planner.Column {
	out := make([]planner.Column, len(old))
	for i, o := range old {
		out[i] = c.col(o)
	}
	return out
}

// expr rewrites e's column references to the copies' IDs.
func (c *copier) expr(e expr.Expr) expr.Expr {
	out, _ := expr.Rewrite(e, func(e expr.Expr) (expr.Expr, error) {
		if col, ok := e.(*expr.Column); ok {
			if id, ok := c.ids[planner.ColumnID(col.Index)]; ok {
				return expr.NewColumn(int(id), col.Name, col.T, col.At), nil
			}
		}
		return e, nil
	})
	return out
}

func (c *copier) exprs(es []expr.Expr) []expr.Expr {
	out := make([]expr.Expr, len(es))
	for i, e := range es {
		out[i] = c.expr(e)
	}
	return out
}

// node copies n, or returns nil for a node kind it does not copy.
func (c *copier) node(n planner.Node) planner.Node {
	switch n := n.(type) {
	case *planner.Get:
		g := &planner.Get{Table: n.Table, Alias: n.Alias, TableColumns: append([]int(nil), n.TableColumns...)}
		g.Columns = c.cols(n.Columns)
		g.Filters = c.exprs(n.Filters)
		g.ZoneFilters = append(g.ZoneFilters, n.ZoneFilters...)
		return g
	case *planner.Filter:
		in := c.node(n.Input)
		if in == nil {
			return nil
		}
		return &planner.Filter{Input: in, Cond: c.expr(n.Cond)}
	case *planner.Project:
		in := c.node(n.Input)
		if in == nil {
			return nil
		}
		exprs := c.exprs(n.Exprs)
		return &planner.Project{Input: in, Exprs: exprs, Columns: c.cols(n.Columns)}
	case *planner.Join:
		l, r := c.node(n.Left), c.node(n.Right)
		if l == nil || r == nil {
			return nil
		}
		j := &planner.Join{Kind: n.Kind, Left: l, Right: r}
		for _, cd := range n.Conds {
			j.Conds = append(j.Conds, planner.JoinCond{Left: c.expr(cd.Left), Right: c.expr(cd.Right)})
		}
		if n.Residual != nil {
			j.Residual = c.expr(n.Residual)
		}
		if n.Kind == planner.Mark {
			j.Mark = c.col(n.Mark)
		}
		return j
	case *planner.Aggregate:
		in := c.node(n.Input)
		if in == nil {
			return nil
		}
		a := &planner.Aggregate{Input: in, Groups: c.exprs(n.Groups)}
		for _, f := range n.Aggs {
			g := f
			if f.Arg != nil {
				g.Arg = c.expr(f.Arg)
			}
			a.Aggs = append(a.Aggs, g)
		}
		a.GroupColumns = c.cols(n.GroupColumns)
		for i := range a.Aggs {
			a.Aggs[i].Column = c.col(n.Aggs[i].Column)
		}
		return a
	}
	return nil
}
