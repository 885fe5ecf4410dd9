package optimizer

import (
	"slices"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/planner"
)

// impliedByEqualities returns the predicates that equalities between
// columns imply for other columns: from a = b and a < 5 follows b < 5,
// which filter pushdown can then move to b's side of a join (and into its
// zone-map filters). Only equalities of two bare columns of one type
// count (a row passes a = b only with both equal and not NULL), and only
// predicates of one column against constants (comparisons, IN, LIKE) are
// copied. Predicates already present are not repeated.
func impliedByEqualities(preds []expr.Expr) []expr.Expr {
	parent := map[planner.ColumnID]planner.ColumnID{}
	var find func(planner.ColumnID) planner.ColumnID
	find = func(x planner.ColumnID) planner.ColumnID {
		p, ok := parent[x]
		if !ok || p == x {
			return x
		}
		r := find(p)
		parent[x] = r
		return r
	}
	cols := map[planner.ColumnID]*expr.Column{}
	for _, p := range preds {
		b, ok := p.(*expr.Binary)
		if !ok || b.Op != expr.OpEq {
			continue
		}
		l, lok := b.Left.(*expr.Column)
		r, rok := b.Right.(*expr.Column)
		if !lok || !rok || l.T != r.T || l.Index == r.Index {
			continue
		}
		li, ri := planner.ColumnID(l.Index), planner.ColumnID(r.Index)
		cols[li], cols[ri] = l, r
		parent[find(li)] = find(ri)
	}
	if len(cols) == 0 {
		return nil
	}
	members := map[planner.ColumnID][]planner.ColumnID{}
	for id := range cols {
		root := find(id)
		members[root] = append(members[root], id)
	}
	seen := map[string]bool{}
	for _, p := range preds {
		seen[exprKey(p)] = true
	}
	var out []expr.Expr
	for _, p := range preds {
		id, ok := constantPredicateColumn(p)
		if !ok || cols[id] == nil {
			continue
		}
		for _, other := range sortedIDs(members[find(id)]) {
			if other == id {
				continue
			}
			q := substitute(p, map[planner.ColumnID]expr.Expr{id: cols[other]})
			if k := exprKey(q); !seen[k] {
				seen[k] = true
				out = append(out, q)
			}
		}
	}
	return out
}

// constantPredicateColumn returns the one column p compares with
// constants: `column op constant` either way round, `column [NOT] IN
// (…)`, `column [NOT] LIKE '…'`.
func constantPredicateColumn(p expr.Expr) (planner.ColumnID, bool) {
	switch p := p.(type) {
	case *expr.Binary:
		if _, ok := zoneOps[p.Op]; !ok {
			return 0, false
		}
		c, cok := p.Left.(*expr.Column)
		_, kok := p.Right.(*expr.Const)
		if !cok || !kok {
			c, cok = p.Right.(*expr.Column)
			_, kok = p.Left.(*expr.Const)
		}
		if cok && kok {
			return planner.ColumnID(c.Index), true
		}
	case *expr.InList:
		if c, ok := p.Arg.(*expr.Column); ok {
			return planner.ColumnID(c.Index), true
		}
	case *expr.Like:
		if c, ok := p.Arg.(*expr.Column); ok {
			return planner.ColumnID(c.Index), true
		}
	}
	return 0, false
}

// sortedIDs returns ids in increasing order (for reproducible plans).
func sortedIDs(ids []planner.ColumnID) []planner.ColumnID {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}
