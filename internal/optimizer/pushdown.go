package optimizer

import (
	"slices"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/planner"
)

// pushFilters is the filter_pushdown pass; it counts the predicates it
// moved into scans and the joins whose kind it changed (cross or left to
// inner, mark to semi).
func pushFilters(p *planner.Plan, changes *int) error {
	pu := &pusher{uses: countUses(p)}
	p.Root = pu.push(p.Root, nil)
	*changes = pu.changes
	return nil
}

// pusher is the state of one filter_pushdown pass.
type pusher struct {
	// uses counts how many expressions of the plan (and its Result) read
	// each column: a mark join whose mark only one filter reads can
	// become a semi join.
	uses    map[planner.ColumnID]int
	changes int
}

func countUses(p *planner.Plan) map[planner.ColumnID]int {
	n := map[planner.ColumnID]int{}
	for _, c := range p.Result {
		n[c.ID]++
	}
	var count func(expr.Expr)
	count = func(e expr.Expr) {
		if c, ok := e.(*expr.Column); ok {
			n[planner.ColumnID(c.Index)]++ // every occurrence, not once per expression
		}
		for _, k := range expr.Children(e) {
			count(k)
		}
	}
	var walk func(planner.Node)
	walk = func(node planner.Node) {
		exprsOf(node, func(e *expr.Expr) { count(*e) })
		for _, in := range node.Inputs() {
			walk(in)
		}
	}
	walk(p.Root)
	return n
}

// marksTrue reports whether p is true exactly where the mark column is:
// the column itself or COALESCE(mark, false).
func marksTrue(p expr.Expr, mark planner.ColumnID) bool {
	if c, ok := p.(*expr.Coalesce); ok && len(c.Args) == 2 {
		if v, null, isConst := constBool(c.Args[1]); isConst && !null && !v {
			p = c.Args[0]
		}
	}
	c, ok := p.(*expr.Column)
	return ok && planner.ColumnID(c.Index) == mark
}

// filterAbove returns n under a Filter of preds (n itself for none).
func filterAbove(n planner.Node, preds []expr.Expr) planner.Node {
	if len(preds) == 0 {
		return n
	}
	return &planner.Filter{Input: n, Cond: and(preds)}
}

// push returns n with the predicates preds (over n's output) applied, each
// as far down as the columns it reads and the semantics of the nodes it
// crosses allow; the rest stay in a Filter above.
func (pu *pusher) push(n planner.Node, preds []expr.Expr) planner.Node {
	switch n := n.(type) {
	case *planner.Filter:
		return pu.push(n.Input, append(preds, splitPreds([]expr.Expr{n.Cond})...))
	case *planner.Project:
		m := make(map[planner.ColumnID]expr.Expr, len(n.Columns))
		for i, c := range n.Columns {
			m[c.ID] = n.Exprs[i]
		}
		var below, above []expr.Expr
		for _, p := range preds {
			if len(refs(p)) == 0 {
				above = append(above, p)
			} else {
				below = append(below, substitute(p, m))
			}
		}
		n.Input = pu.push(n.Input, below)
		return filterAbove(n, above)
	case *planner.Aggregate:
		// Only predicates over group columns filter whole groups; with no
		// groups the aggregate makes its one row whatever the input.
		m := make(map[planner.ColumnID]expr.Expr, len(n.Groups))
		groups := colSet{}
		for i, c := range n.GroupColumns {
			m[c.ID] = n.Groups[i]
			groups[c.ID] = true
		}
		var below, above []expr.Expr
		for _, p := range preds {
			if len(n.Groups) > 0 && len(refs(p)) > 0 && within(p, groups) {
				below = append(below, substitute(p, m))
			} else {
				above = append(above, p)
			}
		}
		n.Input = pu.push(n.Input, below)
		return filterAbove(n, above)
	case *planner.Join:
		return pu.pushJoin(n, preds)
	case *planner.Order:
		n.Input = pu.push(n.Input, preds)
		return n
	case *planner.Limit:
		n.Input = pu.push(n.Input, nil)
		return filterAbove(n, preds)
	case *planner.TopN:
		n.Input = pu.push(n.Input, nil)
		return filterAbove(n, preds)
	case *planner.Union:
		var above []expr.Expr
		var below []expr.Expr
		for _, p := range preds {
			if len(refs(p)) == 0 {
				above = append(above, p)
			} else {
				below = append(below, p)
			}
		}
		for i, b := range n.Branches {
			m := map[planner.ColumnID]expr.Expr{}
			for j, c := range b.Output() {
				m[n.Columns[j].ID] = c.Ref()
			}
			var bp []expr.Expr
			for _, p := range below {
				bp = append(bp, substitute(p, m))
			}
			n.Branches[i] = pu.push(b, bp)
		}
		return filterAbove(n, above)
	case *planner.Get:
		var above []expr.Expr
		added := false
		for _, p := range preds {
			if len(refs(p)) == 0 {
				above = append(above, p)
				continue
			}
			n.Filters = append(n.Filters, p)
			added = true
			pu.changes++
		}
		if added {
			n.ZoneFilters = zoneFilters(n)
		}
		return filterAbove(n, above)
	}
	// Values, and any node a later version adds: keep the filters above
	// and push nothing into its inputs (whose semantics are unknown here).
	return filterAbove(n, preds)
}

// equiSides returns the sides of an equality p between an expression over
// left's columns only and one over right's only, oriented left then right.
// The sides get one type (a hash join hashes both alike): a BIGINT
// compared with a DECIMAL(15,2) joins on both cast to DECIMAL(38,2)
// (planner.JoinKeys); types without a common key type stay a residual.
func equiSides(p expr.Expr, left, right colSet) (l, r expr.Expr, ok bool) {
	b, isBin := p.(*expr.Binary)
	if !isBin || b.Op != expr.OpEq || len(refs(b.Left)) == 0 || len(refs(b.Right)) == 0 {
		return nil, nil, false
	}
	switch {
	case within(b.Left, left) && within(b.Right, right):
		return planner.JoinKeys(b.Left, b.Right)
	case within(b.Left, right) && within(b.Right, left):
		return planner.JoinKeys(b.Right, b.Left)
	}
	return nil, nil, false
}

// pushJoin pushes preds (over the join's output) and the join's own
// condition into its sides as each kind allows.
func (pu *pusher) pushJoin(n *planner.Join, preds []expr.Expr) planner.Node {
	lset, rset := outputSet(n.Left), outputSet(n.Right)
	var lp, rp, above []expr.Expr
	side := func(p expr.Expr) (onLeft, onRight bool) {
		if len(refs(p)) == 0 {
			return false, false
		}
		return within(p, lset), within(p, rset)
	}
	switch n.Kind {
	case planner.Inner, planner.Cross:
		// A filter above an inner join and the join's residual are the
		// same thing: pool them and redistribute.
		pool := preds
		if n.Residual != nil {
			pool = append(pool, splitPreds([]expr.Expr{n.Residual})...)
			n.Residual = nil
		}
		for _, c := range n.Conds {
			pool = append(pool, equality(c.Left, c.Right))
		}
		n.Conds = nil
		pool = append(pool, impliedByEqualities(pool)...)
		var across []expr.Expr
		for _, p := range pool {
			onL, onR := side(p)
			switch {
			case len(refs(p)) == 0:
				above = append(above, p)
			case onL:
				lp = append(lp, p)
			case onR:
				rp = append(rp, p)
			default:
				if l, r, ok := equiSides(p, lset, rset); ok {
					n.Conds = append(n.Conds, planner.JoinCond{Left: l, Right: r})
					continue
				}
				across = append(across, p)
				// An OR across the sides may still imply a filter on
				// each side (Q19's three brands and quantity ranges).
				if x, ok := impliedOn(p, lset); ok {
					lp = append(lp, x)
				}
				if x, ok := impliedOn(p, rset); ok {
					rp = append(rp, x)
				}
			}
		}
		if len(n.Conds) > 0 {
			if n.Kind == planner.Cross {
				pu.changes++
			}
			n.Kind = planner.Inner
			n.Residual = and(across)
		} else {
			// No equality: a cross product, filtered after.
			n.Kind = planner.Cross
			above = append(above, across...)
		}
	case planner.LeftOuter:
		// A filter that no NULL-extended row passes turns the join into
		// an inner one; then everything may move.
		for _, p := range preds {
			if rejectsNulls(p, rset) {
				n.Kind = planner.Inner
				pu.changes++
				return pu.pushJoin(n, preds)
			}
		}
		splitCondition(n, lset, rset, &lp, &rp, false)
		for _, p := range preds {
			if onL, _ := side(p); onL {
				lp = append(lp, p)
			} else {
				above = append(above, p)
			}
		}
	case planner.Mark:
		// A filter that keeps the rows whose mark is true, when nothing
		// else reads the mark, makes it a semi join (which join ordering
		// may then move).
		for i, p := range preds {
			if marksTrue(p, n.Mark.ID) && pu.uses[n.Mark.ID] == 1 {
				n.Kind, n.Mark = planner.Semi, planner.Column{}
				pu.changes++
				return pu.pushJoin(n, append(slices.Clone(preds[:i]), preds[i+1:]...))
			}
		}
		fallthrough
	case planner.Semi, planner.Anti, planner.Single:
		// Filters above read the left's columns (all these kinds output)
		// or the right's/mark (Single, Mark): only the former move.
		if n.Kind != planner.Mark {
			// For a semi join a condition on the left alone filters
			// left rows; for anti and single joins it decides a
			// match, which rows without one survive.
			splitCondition(n, lset, rset, &lp, &rp, n.Kind == planner.Semi)
		}
		for _, p := range preds {
			if onL, _ := side(p); onL {
				lp = append(lp, p)
			} else {
				above = append(above, p)
			}
		}
	default:
		// A kind this pass does not know: nothing moves.
		above = preds
	}
	n.Left = pu.push(n.Left, lp)
	n.Right = pu.push(n.Right, rp)
	return filterAbove(n, above)
}

// splitCondition takes apart the residual of a join whose condition
// decides which rows match (not inner): conjuncts over the right side alone
// go to rp (a right row failing them matches nothing), equalities across
// the sides become join conditions (a NULL matches nothing either way),
// those over the left alone go to lp if leftToo, and the rest stay in the
// residual.
func splitCondition(n *planner.Join, lset, rset colSet, lp, rp *[]expr.Expr, leftToo bool) {
	if n.Residual == nil {
		return
	}
	var keep []expr.Expr
	for _, p := range conjuncts(n.Residual) {
		nr := len(refs(p))
		switch {
		case nr > 0 && within(p, rset):
			*rp = append(*rp, p)
		case nr > 0 && leftToo && within(p, lset):
			*lp = append(*lp, p)
		default:
			if l, r, ok := equiSides(p, lset, rset); ok {
				n.Conds = append(n.Conds, planner.JoinCond{Left: l, Right: r})
			} else {
				keep = append(keep, p)
			}
		}
	}
	n.Residual = and(keep)
}

// rejectsNulls reports whether predicate p is never true when every column
// of cols is NULL (so a filter p drops every NULL-extended row of an outer
// join whose inner side produces cols).
func rejectsNulls(p expr.Expr, cols colSet) bool {
	switch e := p.(type) {
	case *expr.Binary:
		switch e.Op {
		case expr.OpAnd:
			return rejectsNulls(e.Left, cols) || rejectsNulls(e.Right, cols)
		case expr.OpOr:
			return rejectsNulls(e.Left, cols) && rejectsNulls(e.Right, cols)
		}
	case *expr.Unary:
		if e.Op == expr.OpNot {
			if n, ok := e.Arg.(*expr.IsNull); ok && !n.Negated {
				return nullIfNull(n.Arg, cols) // NOT (x IS NULL)
			}
			return nullIfNull(e.Arg, cols)
		}
	case *expr.IsNull:
		// x IS NOT NULL is false where x is NULL.
		return e.Negated && nullIfNull(e.Arg, cols)
	}
	return nullIfNull(p, cols)
}

// nullIfNull reports whether e is NULL whenever every column of cols is:
// the column itself, or an operator that is NULL when an operand is (all
// but IS NULL, CASE, COALESCE, and AND/OR unless both operands are).
func nullIfNull(e expr.Expr, cols colSet) bool {
	switch e := e.(type) {
	case *expr.Column:
		return cols[planner.ColumnID(e.Index)]
	case *expr.Binary:
		if e.Op == expr.OpAnd || e.Op == expr.OpOr {
			return nullIfNull(e.Left, cols) && nullIfNull(e.Right, cols)
		}
		return nullIfNull(e.Left, cols) || nullIfNull(e.Right, cols)
	case *expr.Unary, *expr.Cast, *expr.Like, *expr.InList, *expr.Extract, *expr.DateInterval, *expr.Substring:
		for _, k := range expr.Children(e) {
			if nullIfNull(k, cols) {
				return true
			}
		}
	}
	return false
}
