package optimizer

import (
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/planner"
)

// dpLimit is the most relations a join tree may have for the exact
// dynamic program over subsets (3^n splits); larger trees are joined
// greedily. maxRelations is the most that are reordered at all (a set of
// relations is a 64-bit mask).
const (
	dpLimit      = 10
	maxRelations = 64
)

// orderJoins is the join_order pass; it counts the trees of joins whose
// order or sides it changed.
func orderJoins(p *planner.Plan, changes *int) error {
	o := &orderer{p: p, es: newEstimator()}
	p.Root = o.reorder(p.Root, false)
	*changes = o.trees + buildSides(p.Root, newEstimator())
	return nil
}

// buildLeftRatio is how many times fewer rows the left (preserved) side of
// a semi or anti join must be estimated to have than the right for the
// join to build the left: probing the big side costs about a lookup per
// row either way, but building it costs a stored row each, and a table
// that falls out of the caches (DuckDB flips at any smaller side; the
// margin keeps estimation noise from flipping joins of similar sides).
const buildLeftRatio = 4

// buildSides sets BuildLeft on every semi or anti join with conditions
// whose left side is estimated buildLeftRatio times smaller than its right
// (TPC-H Q4's orders EXISTS lineitem), and clears it on the others; it
// returns how many joins it changed. es must not have estimated nodes
// that reordering changed since.
func buildSides(n planner.Node, es *estimator) int {
	changed := 0
	for _, in := range n.Inputs() {
		changed += buildSides(in, es)
	}
	j, ok := n.(*planner.Join)
	if !ok || !isSemi(j) {
		return changed
	}
	left := len(j.Conds) > 0 && buildLeftRatio*es.estimate(j.Left).rows < es.estimate(j.Right).rows
	if left != j.BuildLeft {
		j.BuildLeft = left
		changed++
	}
	return changed
}

type orderer struct {
	p     *planner.Plan
	es    *estimator
	trees int
}

// isInner reports whether n is a join that reordering may take apart.
func isInner(n planner.Node) bool {
	j, ok := n.(*planner.Join)
	return ok && (j.Kind == planner.Inner || j.Kind == planner.Cross)
}

// isSemi reports whether n is a semi or anti join: a filter of its left
// rows that reordering may move to any set of relations its condition's
// left side reads.
func isSemi(n planner.Node) bool {
	j, ok := n.(*planner.Join)
	return ok && (j.Kind == planner.Semi || j.Kind == planner.Anti)
}

// joinTree reports whether n is the top of a tree of inner joins: such a
// join, a Filter over a tree, or a semi or anti join whose left is one.
func joinTree(n planner.Node) bool {
	switch {
	case isInner(n):
		return true
	case isSemi(n):
		return joinTree(n.(*planner.Join).Left)
	}
	f, ok := n.(*planner.Filter)
	return ok && joinTree(f.Input)
}

// relation is a leaf of a join tree: a subtree joined as a whole, or the
// right side of a semi or anti join (semi), which filters the relations
// its condition reads and adds no columns.
type relation struct {
	node planner.Node
	semi *planner.Join
}

// collect takes apart a tree of inner joins (with the filters, semi and
// anti joins between them) into its relations and its predicates.
func collect(n planner.Node, rels *[]relation, preds *[]expr.Expr) {
	switch {
	case isInner(n):
		j := n.(*planner.Join)
		collect(j.Left, rels, preds)
		collect(j.Right, rels, preds)
		for _, c := range j.Conds {
			*preds = append(*preds, equality(c.Left, c.Right))
		}
		if j.Residual != nil {
			*preds = append(*preds, conjuncts(j.Residual)...)
		}
	case isSemi(n):
		j := n.(*planner.Join)
		collect(j.Left, rels, preds)
		*rels = append(*rels, relation{node: j.Right, semi: j})
	case joinTree(n):
		f := n.(*planner.Filter)
		*preds = append(*preds, conjuncts(f.Cond)...)
		collect(f.Input, rels, preds)
	default:
		*rels = append(*rels, relation{node: n})
	}
}

// equality returns l = r for two expressions of the same type.
func equality(l, r expr.Expr) expr.Expr {
	e, err := expr.NewBinary(expr.OpEq, l, r, expr.Pos{})
	if err != nil {
		panic(fmt.Sprintf("BUG: join condition %v = %v: %v", l, r, err))
	}
	return e
}

// countRelations counts the relations collect would find.
func countRelations(n planner.Node) int {
	switch {
	case isInner(n):
		j := n.(*planner.Join)
		return countRelations(j.Left) + countRelations(j.Right)
	case isSemi(n):
		return countRelations(n.(*planner.Join).Left) + 1
	case joinTree(n):
		return countRelations(n.(*planner.Filter).Input)
	}
	return 1
}

// reorder reorders every tree of inner joins in n. positional says that
// n's parent reads its columns by position (a Union), so a reordered tree
// must keep its output order.
func (o *orderer) reorder(n planner.Node, positional bool) planner.Node {
	if !joinTree(n) || countRelations(n) > maxRelations {
		ins := n.Inputs()
		if len(ins) > 0 {
			_, union := n.(*planner.Union)
			out := make([]planner.Node, len(ins))
			for i, in := range ins {
				out[i] = o.reorder(in, union)
			}
			setInputs(n, out)
		}
		return n
	}
	text := planner.Format(n)
	var rels []relation
	var preds []expr.Expr
	collect(n, &rels, &preds)
	for i := range rels {
		rels[i].node = o.reorder(rels[i].node, false)
	}
	before := n.Output()
	out := o.solve(rels, preds)
	if planner.Format(out) != text {
		o.trees++
	}
	if positional && !sameColumns(before, out.Output()) {
		// Restore the order under new IDs: the parent reads positions.
		pr := &planner.Project{Input: out}
		for _, c := range before {
			pr.Exprs = append(pr.Exprs, c.Ref())
			pr.Columns = append(pr.Columns, planner.Column{ID: o.p.NextID, Name: c.Name, Type: c.Type})
			o.p.NextID++
		}
		return pr
	}
	return out
}

func sameColumns(a, b []planner.Column) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID {
			return false
		}
	}
	return true
}

// joinPred is a predicate of a join tree with the relations it reads.
type joinPred struct {
	e    expr.Expr
	rels uint64
	// For an equality between two disjoint sets of relations: its sides
	// and their relations (a hash-join condition where they split).
	l, r         expr.Expr
	lrels, rrels uint64
	eq           bool
	sel          float64
}

// plan is the best way found to join a set of relations.
type plan struct {
	card   float64
	cross  int     // cross products in it (fewer is always better)
	cost   float64 // sum of the estimated rows of its joins (C_out)
	left   uint64  // the subset joined with the rest; 0 for a relation
	exists bool
}

func (a plan) better(b plan) bool {
	if !b.exists {
		return true
	}
	if a.cross != b.cross {
		return a.cross < b.cross
	}
	return a.cost < b.cost
}

// graph is what the join enumerators know of a join tree: n relations,
// the cardinality of every set of them, which sets an equality joins, and
// which relations are semi or anti joins with the relations they need.
type graph struct {
	n        int
	card     func(uint64) float64
	joinable func(a, b uint64) bool
	semis    uint64   // the relations that are semi or anti joins
	needs    []uint64 // for a semi relation, the relations its condition reads
}

// semiOf returns the index of the semi relation s is, or -1 if s is not a
// single semi relation.
func (g *graph) semiOf(s uint64) int {
	if bits.OnesCount64(s) == 1 && s&g.semis != 0 {
		return bits.TrailingZeros64(s)
	}
	return -1
}

// split returns the plan that joins l and r (whose best plans are pl and
// pr) into s, with the side a semi relation filters as left, or false if
// they cannot be joined: a semi relation joins only a set that holds every
// relation it reads, and nothing else joins a lone semi relation.
func (g *graph) split(s, l, r uint64, pl, pr plan, c float64) (plan, bool) {
	// A semi join costs the rows it probes as well as those it keeps:
	// otherwise, since it only ever shrinks its input, it would always
	// look best at the bottom, even under a join that would have left it
	// far fewer rows to probe (TPC-H Q21's lineitem before the supplier
	// nation filter).
	if i := g.semiOf(r); i >= 0 {
		if g.needs[i]&^l != 0 || !pl.exists {
			return plan{}, false
		}
		return plan{card: c, cross: pl.cross, cost: pl.cost + pl.card + c, left: l, exists: true}, true
	}
	if i := g.semiOf(l); i >= 0 {
		if g.needs[i]&^r != 0 || !pr.exists {
			return plan{}, false
		}
		return plan{card: c, cross: pr.cross, cost: pr.cost + pr.card + c, left: r, exists: true}, true
	}
	if !pl.exists || !pr.exists {
		return plan{}, false
	}
	p := plan{card: c, cross: pl.cross + pr.cross, cost: pl.cost + pr.cost + c, left: l, exists: true}
	if !g.joinable(l, r) {
		p.cross++
	}
	return p, true
}

// semiSelectivity is the fraction of rows a semi or anti join is assumed to
// keep, as DuckDB assumes: join ordering then places one early when that
// shrinks the joins above it.
const semiSelectivity = defaultSelectivity

// solve joins rels under preds in the cheapest order found.
func (o *orderer) solve(rels []relation, preds []expr.Expr) planner.Node {
	n := len(rels)
	relOf := map[planner.ColumnID]int{}
	for i, r := range rels {
		for _, c := range r.node.Output() {
			relOf[c.ID] = i
		}
	}
	mask := func(e expr.Expr) uint64 {
		var m uint64
		for _, id := range refs(e) {
			if i, ok := relOf[id]; ok {
				m |= 1 << i
			}
		}
		return m
	}
	g := &graph{n: n, needs: make([]uint64, n)}
	for i, r := range rels {
		if r.semi == nil {
			continue
		}
		g.semis |= 1 << i
		var m uint64
		for _, c := range r.semi.Conds {
			m |= mask(c.Left)
		}
		if r.semi.Residual != nil {
			m |= mask(r.semi.Residual) &^ (1 << i)
		}
		if m == 0 {
			// A condition on the right alone (or none): keep it above
			// everything its left side had.
			for _, c := range r.semi.Left.Output() {
				m |= 1 << relOf[c.ID]
			}
		}
		g.needs[i] = m
	}
	// Predicates on one relation filter it; on none, the result.
	single := make([][]expr.Expr, n)
	var top []expr.Expr
	var multi []*joinPred
	for _, p := range preds {
		m := mask(p)
		switch bits.OnesCount64(m) {
		case 0:
			top = append(top, p)
		case 1:
			i := bits.TrailingZeros64(m)
			single[i] = append(single[i], p)
		default:
			jp := &joinPred{e: p, rels: m}
			if b, ok := p.(*expr.Binary); ok && b.Op == expr.OpEq {
				l, r, same := planner.JoinKeys(b.Left, b.Right)
				if !same {
					multi = append(multi, jp)
					continue
				}
				jp.l, jp.r = l, r
				jp.lrels, jp.rrels = mask(b.Left), mask(b.Right)
				jp.eq = jp.lrels != 0 && jp.rrels != 0 && jp.lrels&jp.rrels == 0
			}
			multi = append(multi, jp)
		}
	}
	ests := make([]estimate, n)
	all := estimate{cols: map[planner.ColumnID]colStats{}}
	for i := range rels {
		if rels[i].semi != nil {
			continue
		}
		rels[i].node = filterAbove(rels[i].node, single[i])
		ests[i] = o.es.estimate(rels[i].node)
		for id, s := range ests[i].cols {
			s.distinct = math.Min(s.distinct, ests[i].rows)
			all.cols[id] = s
		}
	}
	distinct := func(x expr.Expr, rels uint64) float64 {
		if c, ok := x.(*expr.Column); ok {
			if s, ok := all.cols[planner.ColumnID(c.Index)]; ok {
				return math.Max(1, s.distinct)
			}
		}
		if bits.OnesCount64(rels) == 1 {
			return ests[bits.TrailingZeros64(rels)].rows
		}
		return math.Inf(1)
	}
	base := func(x expr.Expr) float64 {
		if c, ok := x.(*expr.Column); ok {
			return all.cols[planner.ColumnID(c.Index)].base
		}
		return 0
	}
	for _, p := range multi {
		p.sel = defaultSelectivity
		if p.eq {
			// As joinSelectivity: each side's distinct values capped by
			// the other key's base count.
			dl, dr := distinct(p.l, p.lrels), distinct(p.r, p.rrels)
			if b := base(p.r); b > 0 {
				dl = math.Min(dl, b)
			}
			if b := base(p.l); b > 0 {
				dr = math.Min(dr, b)
			}
			p.sel = 1 / math.Max(1, math.Max(dl, dr))
		}
	}
	// Equalities between the same relations (l_partkey = ps_partkey AND
	// l_suppkey = ps_suppkey) are usually one composite key, not
	// independent filters: only the most selective of them counts.
	type keySel struct {
		rels uint64
		sel  float64
	}
	var pairSel []keySel // in the order first met, for reproducible sums
	var others []*joinPred
	for _, p := range multi {
		if !p.eq {
			others = append(others, p)
			continue
		}
		i := slices.IndexFunc(pairSel, func(k keySel) bool { return k.rels == p.rels })
		switch {
		case i < 0:
			pairSel = append(pairSel, keySel{p.rels, p.sel})
		case p.sel < pairSel[i].sel:
			pairSel[i].sel = p.sel
		}
	}
	g.card = func(s uint64) float64 {
		c := 1.0
		for i := range n {
			switch {
			case s&(1<<i) == 0:
			case g.semis&(1<<i) != 0:
				c *= semiSelectivity
			default:
				c *= ests[i].rows
			}
		}
		for _, k := range pairSel {
			if k.rels&^s == 0 {
				c *= k.sel
			}
		}
		for _, p := range others {
			if p.rels&^s == 0 {
				c *= p.sel
			}
		}
		return math.Max(1, c)
	}
	// joinable reports whether an equality condition links a and b.
	g.joinable = func(a, b uint64) bool {
		for _, p := range multi {
			if p.eq && (p.lrels&^a == 0 && p.rrels&^b == 0 || p.lrels&^b == 0 && p.rrels&^a == 0) {
				return true
			}
		}
		return false
	}
	var best func(s uint64) plan
	if n <= dpLimit {
		plans := dp(g)
		best = func(s uint64) plan { return plans[s] }
	} else {
		plans := greedy(g)
		best = func(s uint64) plan { return plans[s] }
	}
	var build func(s uint64) planner.Node
	build = func(s uint64) planner.Node {
		b := best(s)
		if b.left == 0 {
			return rels[bits.TrailingZeros64(s)].node
		}
		ls, rs := b.left, s&^b.left
		if i := g.semiOf(rs); i >= 0 {
			j := rels[i].semi
			j.Left, j.Right = build(ls), rels[i].node
			return j
		}
		if best(ls).card < best(rs).card {
			ls, rs = rs, ls // the smaller input is built (right)
		}
		return joinSets(build(ls), ls, build(rs), rs, multi)
	}
	full := uint64(1)<<n - 1
	if n == 64 {
		full = math.MaxUint64
	}
	return filterAbove(build(full), top)
}

// joinSets joins left (relations ls) and right (rs) under the predicates
// that first become applicable: equalities split between the sides become
// join conditions, the rest a residual (or, with no condition, a filter
// above a cross join).
func joinSets(left planner.Node, ls uint64, right planner.Node, rs uint64, preds []*joinPred) planner.Node {
	j := &planner.Join{Kind: planner.Inner, Left: left, Right: right}
	var rest []expr.Expr
	s := ls | rs
	for _, p := range preds {
		if p.rels&^s != 0 || p.rels&^ls == 0 || p.rels&^rs == 0 {
			continue
		}
		switch {
		case p.eq && p.lrels&^ls == 0 && p.rrels&^rs == 0:
			j.Conds = append(j.Conds, planner.JoinCond{Left: p.l, Right: p.r})
		case p.eq && p.lrels&^rs == 0 && p.rrels&^ls == 0:
			j.Conds = append(j.Conds, planner.JoinCond{Left: p.r, Right: p.l})
		default:
			rest = append(rest, p.e)
		}
	}
	if len(j.Conds) == 0 {
		j.Kind = planner.Cross
		return filterAbove(j, rest)
	}
	j.Residual = and(rest)
	return j
}

// dp finds the best plan for every subset of the relations by trying
// every split of it into two (DPsub), preferring plans with fewer cross
// products, then smaller sums of intermediate results.
func dp(g *graph) []plan {
	best := make([]plan, 1<<g.n)
	for i := range g.n {
		s := uint64(1) << i
		best[s] = plan{card: g.card(s), exists: g.semis&s == 0}
	}
	full := uint64(1)<<g.n - 1
	for s := uint64(1); s <= full; s++ {
		if bits.OnesCount64(s) < 2 {
			continue
		}
		c := g.card(s)
		low := s & -s
		var b plan
		for l := (s - 1) & s; l > 0; l = (l - 1) & s {
			if l&low == 0 {
				continue // each split once: the left holds the lowest relation
			}
			r := s &^ l
			if cand, ok := g.split(s, l, r, best[l], best[r], c); ok && cand.better(b) {
				b = cand
			}
		}
		best[s] = b
	}
	return best
}

// greedy builds a plan for the relations by repeatedly joining the two
// current sets whose join is smallest, joinable pairs first.
func greedy(g *graph) map[uint64]plan {
	best := map[uint64]plan{}
	var sets []uint64
	for i := range g.n {
		s := uint64(1) << i
		best[s] = plan{card: g.card(s), exists: g.semis&s == 0}
		sets = append(sets, s)
	}
	for len(sets) > 1 {
		bi, bj := -1, -1
		var b plan
		for i := range sets {
			for j := i + 1; j < len(sets); j++ {
				l, r := sets[i], sets[j]
				cand, ok := g.split(l|r, l, r, best[l], best[r], g.card(l|r))
				if !ok {
					continue
				}
				if bi < 0 || cand.cross < b.cross || cand.cross == b.cross && cand.card < b.card {
					bi, bj, b = i, j, cand
				}
			}
		}
		if bi < 0 {
			panic("BUG: no two sets of a join tree can be joined")
		}
		l, r := sets[bi], sets[bj]
		best[l|r] = b
		sets[bi] = l | r
		sets = append(sets[:bj], sets[bj+1:]...)
	}
	return best
}
