package optimizer

import (
	"maps"
	"slices"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/planner"
	"github.com/bpfdb/bpfdb/internal/types"
)

// pruneColumns is the projection_pushdown pass: every node keeps only the
// columns some node above it (or the plan's Result) reads, and
// projections left doing nothing (passing their input's columns on
// unchanged) disappear.
//
// It counts the columns it dropped and the projections it removed.
func pruneColumns(p *planner.Plan, changes *int) error {
	need := colSet{}
	for _, c := range p.Result {
		need[c.ID] = true
	}
	pr := &pruner{p: p}
	p.Root = pr.prune(p.Root, need)
	*changes = pr.changes
	return nil
}

type pruner struct {
	p       *planner.Plan
	changes int
}

// with returns a copy of need plus the columns es read.
func with(need colSet, es ...expr.Expr) colSet {
	out := maps.Clone(need)
	for _, e := range es {
		if e != nil {
			for _, id := range refs(e) {
				out[id] = true
			}
		}
	}
	return out
}

// prune drops the columns of n (and below) that need does not name and
// n does not read itself.
func (pr *pruner) prune(n planner.Node, need colSet) planner.Node {
	switch n := n.(type) {
	case *planner.Get:
		used := with(colSet{}, n.Filters...)
		var cols []planner.Column
		var tcols []int
		for i, c := range n.Columns {
			if need[c.ID] || used[c.ID] {
				cols = append(cols, c)
				tcols = append(tcols, n.TableColumns[i])
			}
		}
		if len(cols) == 0 && len(n.Columns) > 0 {
			// Keep the narrowest column: the scan counts rows by it.
			k := 0
			for i, c := range n.Columns {
				if width(c.Type) < width(n.Columns[k].Type) {
					k = i
				}
			}
			cols, tcols = []planner.Column{n.Columns[k]}, []int{n.TableColumns[k]}
		}
		pr.changes += len(n.Columns) - len(cols)
		n.Columns, n.TableColumns = cols, tcols
		// Columns the scan reads only for its own filters go no further:
		// a join would otherwise store and copy them (TPC-H Q13 carried
		// o_comment through its join).
		var out []planner.Column
		for _, c := range cols {
			if need[c.ID] {
				out = append(out, c)
			}
		}
		if len(out) > 0 && len(out) < len(cols) {
			proj := &planner.Project{Input: n, Columns: out}
			for _, c := range out {
				proj.Exprs = append(proj.Exprs, c.Ref())
			}
			pr.changes++
			return proj
		}
	case *planner.Filter:
		n.Input = pr.prune(n.Input, with(need, n.Cond))
	case *planner.Project:
		var es []expr.Expr
		var cols []planner.Column
		for i, c := range n.Columns {
			if need[c.ID] {
				es = append(es, n.Exprs[i])
				cols = append(cols, c)
			}
		}
		if len(cols) == 0 && len(n.Columns) > 0 {
			// Keep one column (a bare reference if there is one) so that
			// the rows still flow as chunks of some width.
			k := slices.IndexFunc(n.Exprs, func(e expr.Expr) bool { _, ok := e.(*expr.Column); return ok })
			k = max(k, 0)
			es, cols = []expr.Expr{n.Exprs[k]}, []planner.Column{n.Columns[k]}
		}
		pr.changes += len(n.Columns) - len(cols)
		n.Exprs, n.Columns = es, cols
		n.Input = pr.prune(n.Input, with(colSet{}, es...))
		if passThrough(n) {
			pr.changes++
			return n.Input
		}
	case *planner.Aggregate:
		var aggs []planner.AggFunc
		for _, a := range n.Aggs {
			if need[a.Column.ID] {
				aggs = append(aggs, a)
			}
		}
		if len(n.Groups) == 0 && len(aggs) == 0 && len(n.Aggs) > 0 {
			// Without groups or aggregates the node would read as a
			// DISTINCT of nothing; keep one aggregate for its one row.
			aggs = n.Aggs[:1]
		}
		pr.changes += len(n.Aggs) - len(aggs)
		n.Aggs = aggs
		in := with(colSet{}, n.Groups...)
		for _, a := range aggs {
			in = with(in, a.Arg)
		}
		n.Input = pr.prune(n.Input, in)
	case *planner.Join:
		cond := []expr.Expr{n.Residual}
		for _, c := range n.Conds {
			cond = append(cond, c.Left, c.Right)
		}
		all := with(need, cond...)
		l, r := colSet{}, colSet{}
		lset, rset := outputSet(n.Left), outputSet(n.Right)
		for id := range all {
			if lset[id] {
				l[id] = true
			}
			if rset[id] {
				r[id] = true
			}
		}
		n.Left, n.Right = pr.prune(n.Left, l), pr.prune(n.Right, r)
	case *planner.Order:
		var ks []expr.Expr
		for _, k := range n.Keys {
			ks = append(ks, k.Expr)
		}
		n.Input = pr.prune(n.Input, with(need, ks...))
	case *planner.TopN:
		var ks []expr.Expr
		for _, k := range n.Keys {
			ks = append(ks, k.Expr)
		}
		n.Input = pr.prune(n.Input, with(need, ks...))
	case *planner.Limit:
		n.Input = pr.prune(n.Input, need)
	case *planner.Union:
		// Branches are read by position: each drops the positions the
		// union drops, by a projection of its own.
		keep := keepPositions(n.Columns, need)
		if len(keep) < len(n.Columns) {
			cols := make([]planner.Column, len(keep))
			for i, j := range keep {
				cols[i] = n.Columns[j]
			}
			pr.changes += len(n.Columns) - len(cols)
			n.Columns = cols
			for i, b := range n.Branches {
				n.Branches[i] = pr.pick(b, keep)
			}
		}
		for i, b := range n.Branches {
			n.Branches[i] = pr.prune(b, outputSet(b))
		}
	case *planner.Values:
		keep := keepPositions(n.Columns, need)
		if len(keep) < len(n.Columns) {
			cols := make([]planner.Column, len(keep))
			for i, j := range keep {
				cols[i] = n.Columns[j]
			}
			for r, row := range n.Rows {
				nr := make([]expr.Expr, len(keep))
				for i, j := range keep {
					nr[i] = row[j]
				}
				n.Rows[r] = nr
			}
			pr.changes += len(n.Columns) - len(cols)
			n.Columns = cols
		}
	}
	return n
}

// keepPositions returns the positions of the columns need names, or the
// first position if it names none (rows keep flowing as chunks of one
// column).
func keepPositions(cols []planner.Column, need colSet) []int {
	var keep []int
	for j, c := range cols {
		if need[c.ID] {
			keep = append(keep, j)
		}
	}
	if len(keep) == 0 && len(cols) > 0 {
		keep = []int{0}
	}
	return keep
}

// passThrough reports whether p outputs exactly its input's columns, in
// order, each a bare reference under its own ID: a projection that does
// nothing.
func passThrough(p *planner.Project) bool {
	in := p.Input.Output()
	if len(in) != len(p.Columns) {
		return false
	}
	for i, c := range p.Columns {
		col, ok := p.Exprs[i].(*expr.Column)
		if !ok || planner.ColumnID(col.Index) != c.ID || in[i].ID != c.ID {
			return false
		}
	}
	return true
}

// pick returns a node whose output is the columns of n at positions keep:
// n's own projection narrowed, or a new one.
func (pr *pruner) pick(n planner.Node, keep []int) planner.Node {
	if p, ok := n.(*planner.Project); ok {
		var es []expr.Expr
		var cols []planner.Column
		for _, j := range keep {
			es = append(es, p.Exprs[j])
			cols = append(cols, p.Columns[j])
		}
		p.Exprs, p.Columns = es, cols
		return p
	}
	out := n.Output()
	p := &planner.Project{Input: n}
	for _, j := range keep {
		c := out[j]
		p.Exprs = append(p.Exprs, c.Ref())
		p.Columns = append(p.Columns, planner.Column{ID: pr.p.NextID, Name: c.Name, Type: c.Type})
		pr.p.NextID++
	}
	return p
}

// width is the bytes a value of t takes in a vector (VARCHAR counted as
// the largest, since its bytes live elsewhere).
func width(t types.Type) int {
	if t.Physical() == types.PhysString {
		return 1 << 10
	}
	return t.Physical().Width()
}
