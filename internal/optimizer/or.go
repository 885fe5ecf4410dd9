package optimizer

import (
	"fmt"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
)

// exprKey returns a text that is equal for two expressions exactly when
// they compute the same thing: the SQL text with columns as #id.
func exprKey(e expr.Expr) string {
	out, _ := expr.Rewrite(e, func(x expr.Expr) (expr.Expr, error) {
		if c, ok := x.(*expr.Column); ok {
			return expr.NewColumn(c.Index, fmt.Sprintf("#%d", c.Index), c.T, c.At), nil
		}
		return x, nil
	})
	return out.String()
}

// disjuncts splits e into the operands of its top-level ORs.
func disjuncts(e expr.Expr) []expr.Expr {
	if b, ok := e.(*expr.Binary); ok && b.Op == expr.OpOr {
		return append(disjuncts(b.Left), disjuncts(b.Right)...)
	}
	return []expr.Expr{e}
}

// or joins predicates with OR, left-deep.
func or(es []expr.Expr) expr.Expr {
	out := es[0]
	for _, e := range es[1:] {
		x, err := expr.NewBinary(expr.OpOr, out, e, expr.Pos{})
		if err != nil {
			panic(fmt.Sprintf("BUG: OR of predicates %v and %v: %v", out, e, err))
		}
		out = x
	}
	return out
}

// factorOr pulls the conjuncts every branch of an OR shares out of it:
// (a AND b) OR (a AND c) is a AND (b OR c), and (a) OR (a AND b) is a.
// TPC-H Q19 repeats its join condition in each branch this way. The result
// is a list of conjuncts.
func factorOr(p expr.Expr) []expr.Expr {
	ds := disjuncts(p)
	if len(ds) < 2 {
		return []expr.Expr{p}
	}
	branches := make([][]expr.Expr, len(ds))
	counts := map[string]int{}
	for i, d := range ds {
		branches[i] = conjuncts(d)
		seen := map[string]bool{}
		for _, c := range branches[i] {
			k := exprKey(c)
			if !seen[k] {
				seen[k] = true
				counts[k]++
			}
		}
	}
	var common []expr.Expr
	isCommon := map[string]bool{}
	for _, c := range branches[0] {
		if k := exprKey(c); counts[k] == len(ds) && !isCommon[k] {
			isCommon[k] = true
			common = append(common, c)
		}
	}
	if len(common) == 0 {
		return []expr.Expr{p}
	}
	rest := make([]expr.Expr, 0, len(ds))
	for _, b := range branches {
		var keep []expr.Expr
		for _, c := range b {
			if !isCommon[exprKey(c)] {
				keep = append(keep, c)
			}
		}
		if len(keep) == 0 {
			return common // one branch is just the common part: the OR adds nothing
		}
		rest = append(rest, and(keep))
	}
	return append(common, or(rest))
}

// impliedOn returns, for an OR whose every branch has conjuncts over the
// columns of side alone, the OR of those conjuncts: a weaker predicate the
// OR implies, which can filter that side early (the OR itself stays).
func impliedOn(p expr.Expr, side colSet) (expr.Expr, bool) {
	ds := disjuncts(p)
	if len(ds) < 2 {
		return nil, false
	}
	parts := make([]expr.Expr, len(ds))
	for i, d := range ds {
		var own []expr.Expr
		for _, c := range conjuncts(d) {
			if len(refs(c)) > 0 && within(c, side) {
				own = append(own, c)
			}
		}
		if len(own) == 0 {
			return nil, false
		}
		parts[i] = and(own)
	}
	return or(parts), true
}

// splitPreds splits predicates into conjuncts, factoring ORs.
func splitPreds(es []expr.Expr) []expr.Expr {
	var out []expr.Expr
	for _, e := range es {
		for _, c := range conjuncts(e) {
			out = append(out, factorOr(c)...)
		}
	}
	return out
}
