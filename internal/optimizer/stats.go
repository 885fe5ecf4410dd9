package optimizer

import (
	"math"
	"math/bits"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/planner"
	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
)

// The guesses where statistics say nothing. They follow DuckDB's spirit:
// an unknown filter keeps a fifth of the rows.
const (
	defaultSelectivity = 0.2  // a predicate nothing is known about
	likeSelectivity    = 0.1  // LIKE (NOT LIKE keeps the rest)
	nullSelectivity    = 0.05 // IS NULL
	rangeSelectivity   = 1.0 / 3
	groupShrink        = 0.5 // GROUP BY on expressions of unknown distinct count
)

// colStats is what the zone maps of a table column say.
type colStats struct {
	lo, hi   float64 // smallest and largest value, as numbers (dates as days)
	hasRange bool    // lo and hi are known
	distinct float64 // estimated distinct values
	// base is the distinct values of the table column before any filter
	// (0 if the column is computed): a join key's values are assumed
	// to be among the other key's base values (keys reference keys).
	base float64
}

// estimate is the estimated output of a node: its rows and, per column,
// distinct values and (for table columns) the zone-map range.
type estimate struct {
	rows float64
	cols map[planner.ColumnID]colStats
}

// estimator estimates cardinalities, caching each table column's stats
// and each node's estimate (so a node must not change once estimated).
type estimator struct {
	tables map[*table.Table][]colStats
	memo   map[planner.Node]estimate
}

func newEstimator() *estimator {
	return &estimator{tables: map[*table.Table][]colStats{}, memo: map[planner.Node]estimate{}}
}

// Estimates returns the estimated output rows of every node of the tree
// rooted at root, as join ordering estimates them (for EXPLAIN).
func Estimates(root planner.Node) map[planner.Node]float64 {
	es := newEstimator()
	out := map[planner.Node]float64{}
	var walk func(n planner.Node)
	walk = func(n planner.Node) {
		for _, in := range n.Inputs() {
			walk(in)
		}
		out[n] = es.estimate(n).rows
	}
	walk(root)
	return out
}

// numeric returns v as a float64 for range arithmetic: integers, DECIMALs
// (by value), DOUBLEs and dates (days); false for other types and NULL.
func numeric(v types.Value) (float64, bool) {
	if v.IsNull() {
		return 0, false
	}
	switch v.Type().ID() {
	case types.Integer, types.BigInt, types.Date:
		return float64(v.Int64()), true
	case types.Decimal:
		return float64(v.Int64()) / math.Pow10(v.Type().Scale()), true
	case types.Double:
		f := v.Float64()
		return f, !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}

// tableStats returns the stats of t's columns, from its zone maps: the
// range [min, max] over all row groups; distinct values of integers, dates
// and DECIMALs at most the number of representable values in the range,
// booleans 2, DOUBLEs all distinct, and for VARCHAR what the segment
// formats say: all distinct if a segment is uncompressed (the storage
// gives up a dictionary when most strings differ), the size of the largest
// dictionary (dictionarySize), the constants if every segment is one.
func (es *estimator) tableStats(t *table.Table) []colStats {
	if st, ok := es.tables[t]; ok {
		return st
	}
	cols := t.Columns()
	rows := math.Max(1, float64(t.Rows()))
	st := make([]colStats, len(cols))
	for j := range st {
		st[j].lo, st[j].hi = math.Inf(1), math.Inf(-1)
	}
	known := make([]bool, len(cols))
	for j := range known {
		known[j] = true
	}
	col := map[string]int{}
	for j, c := range cols {
		col[c.Name] = j
	}
	// What the formats of VARCHAR segments say about distinct values: a
	// constant segment has one, an uncompressed one got no dictionary
	// because its strings were mostly distinct.
	constants := make([]map[string]bool, len(cols))
	plain := make([]bool, len(cols))
	dictionary := make([]float64, len(cols)) // most strings in one segment's dictionary
	for _, s := range t.Segments() {
		j := col[s.Column]
		switch s.Format {
		case table.FormatConstant:
			if constants[j] == nil {
				constants[j] = map[string]bool{}
			}
			constants[j][s.Min.String()] = true
		case table.FormatUncompressed:
			plain[j] = true
		case table.FormatDictionary:
			dictionary[j] = math.Max(dictionary[j], dictionarySize(s))
		}
		lo, okLo := numeric(s.Min)
		hi, okHi := numeric(s.Max)
		if !okLo || !okHi {
			if s.Nulls < s.Rows {
				known[j] = false
			}
			continue
		}
		st[j].lo, st[j].hi = math.Min(st[j].lo, lo), math.Max(st[j].hi, hi)
	}
	for j, c := range cols {
		st[j].hasRange = known[j] && st[j].lo <= st[j].hi
		switch c.Type.ID() {
		case types.Boolean:
			st[j].distinct = 2
		case types.Integer, types.BigInt, types.Date, types.Decimal:
			st[j].distinct = rows
			if st[j].hasRange {
				span := (st[j].hi-st[j].lo)*math.Pow10(c.Type.Scale()) + 1
				st[j].distinct = math.Min(rows, span)
			}
		case types.Double:
			st[j].distinct = rows
		default:
			switch {
			case plain[j]:
				st[j].distinct = rows
			case dictionary[j] > 0:
				st[j].distinct = math.Max(dictionary[j], float64(len(constants[j])))
			case constants[j] != nil:
				st[j].distinct = float64(len(constants[j]))
			default:
				st[j].distinct = math.Sqrt(rows)
			}
		}
		st[j].distinct = math.Max(1, st[j].distinct)
		st[j].base = st[j].distinct
	}
	es.tables[t] = st
	return st
}

// dictionarySize estimates how many strings the dictionary of a
// dictionary-format VARCHAR segment holds from the segment's size, by the
// layout package table documents: a 32-byte header, the validity bitmap
// if some rows are NULL, (n+1) 4-byte offsets, the n strings, then a code
// of bitWidth(n-1) bits per row and 8 bytes of padding. The strings are
// taken to be as long as the average of the zone map's minimum and
// maximum; the size grows with n, so the largest n whose layout fits the
// segment is the estimate (exact for TPC-H's flags and segments).
func dictionarySize(s table.SegmentInfo) float64 {
	body := s.Bytes - 32
	if s.Nulls > 0 && s.Nulls < s.Rows {
		body -= 8 * ((s.Rows + 63) / 64)
	}
	avg := 16.0
	if !s.Min.IsNull() && !s.Max.IsNull() {
		avg = float64(len(s.Min.Str())+len(s.Max.Str())) / 2
	}
	size := func(n int) float64 {
		w := bits.Len64(uint64(n - 1))
		return float64(4*(n+1)) + float64(n)*avg + float64((s.Rows*w+7)/8+8)
	}
	lo, hi := 2, 1<<16 // a dictionary of one string is a constant segment
	if size(lo) > float64(body) {
		return float64(lo)
	}
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if size(mid) <= float64(body) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return float64(lo)
}

// distinct returns the estimated distinct values of e in a node's output e
// reads (the column's estimate for a column, else the row count).
func (e estimate) distinct(x expr.Expr) float64 {
	if c, ok := x.(*expr.Column); ok {
		if s, ok := e.cols[planner.ColumnID(c.Index)]; ok {
			return math.Max(1, math.Min(s.distinct, e.rows))
		}
	}
	return math.Max(1, e.rows)
}

// scaled returns e with rows set to rows and every distinct count capped
// by it.
func (e estimate) scaled(rows float64) estimate {
	rows = math.Max(1, rows)
	out := estimate{rows: rows, cols: make(map[planner.ColumnID]colStats, len(e.cols))}
	for id, s := range e.cols {
		s.distinct = math.Min(s.distinct, rows)
		out.cols[id] = s
	}
	return out
}

// estimate returns the estimated output of n.
func (es *estimator) estimate(n planner.Node) estimate {
	if e, ok := es.memo[n]; ok {
		return e
	}
	e := es.compute(n)
	es.memo[n] = e
	return e
}

func (es *estimator) compute(n planner.Node) estimate {
	switch n := n.(type) {
	case *planner.Get:
		st := es.tableStats(n.Table)
		e := estimate{rows: math.Max(1, float64(n.Table.Rows())), cols: map[planner.ColumnID]colStats{}}
		for i, c := range n.Columns {
			e.cols[c.ID] = st[n.TableColumns[i]]
		}
		var preds []expr.Expr
		for _, f := range n.Filters {
			preds = append(preds, conjuncts(f)...)
		}
		return e.scaled(e.rows * selectivity(e, preds))
	case *planner.Filter:
		in := es.estimate(n.Input)
		return in.scaled(in.rows * selectivity(in, conjuncts(n.Cond)))
	case *planner.Project:
		in := es.estimate(n.Input)
		out := estimate{rows: in.rows, cols: map[planner.ColumnID]colStats{}}
		for i, c := range n.Columns {
			if col, ok := n.Exprs[i].(*expr.Column); ok {
				if s, ok := in.cols[planner.ColumnID(col.Index)]; ok {
					out.cols[c.ID] = s
					continue
				}
			}
			out.cols[c.ID] = colStats{distinct: in.rows}
		}
		return out
	case *planner.Aggregate:
		in := es.estimate(n.Input)
		rows := 1.0
		if len(n.Groups) > 0 {
			groups := 1.0
			for _, g := range n.Groups {
				if _, ok := g.(*expr.Column); ok {
					groups *= in.distinct(g)
				} else {
					groups *= in.rows * groupShrink
				}
			}
			rows = math.Min(in.rows, groups)
		}
		out := estimate{rows: math.Max(1, rows), cols: map[planner.ColumnID]colStats{}}
		for i, c := range n.GroupColumns {
			out.cols[c.ID] = colStats{distinct: math.Min(rows, in.distinct(n.Groups[i]))}
		}
		for _, a := range n.Aggs {
			out.cols[a.Column.ID] = colStats{distinct: rows}
		}
		return out
	case *planner.Join:
		return es.join(n)
	case *planner.Order:
		return es.estimate(n.Input)
	case *planner.Limit:
		in := es.estimate(n.Input)
		if n.Count >= 0 {
			return in.scaled(math.Min(in.rows, float64(n.Count)))
		}
		return in
	case *planner.TopN:
		in := es.estimate(n.Input)
		return in.scaled(math.Min(in.rows, float64(n.Count)))
	case *planner.Union:
		out := estimate{cols: map[planner.ColumnID]colStats{}}
		for _, b := range n.Branches {
			out.rows += es.estimate(b).rows
		}
		for _, c := range n.Columns {
			out.cols[c.ID] = colStats{distinct: out.rows}
		}
		return out
	case *planner.Values:
		out := estimate{rows: float64(len(n.Rows)), cols: map[planner.ColumnID]colStats{}}
		for _, c := range n.Columns {
			out.cols[c.ID] = colStats{distinct: out.rows}
		}
		return out
	}
	return estimate{rows: 1000, cols: map[planner.ColumnID]colStats{}}
}

// join estimates a join of any kind.
func (es *estimator) join(n *planner.Join) estimate {
	l, r := es.estimate(n.Left), es.estimate(n.Right)
	both := estimate{rows: l.rows * r.rows, cols: map[planner.ColumnID]colStats{}}
	for id, s := range l.cols {
		both.cols[id] = s
	}
	for id, s := range r.cols {
		both.cols[id] = s
	}
	// Several conditions usually form one composite key: the most
	// selective one counts (see solve).
	sel := 1.0
	for _, c := range n.Conds {
		sel = math.Min(sel, joinSelectivity(l, c.Left, r, c.Right))
	}
	if n.Residual != nil {
		sel *= selectivity(both, conjuncts(n.Residual))
	}
	inner := both.scaled(l.rows * r.rows * sel)
	// The fraction of left rows with a match: the share of the left's
	// key values the right has, by the first condition.
	matched := 1.0
	if len(n.Conds) > 0 {
		matched = math.Min(1, r.distinct(n.Conds[0].Right)/l.distinct(n.Conds[0].Left))
	}
	switch n.Kind {
	case planner.Inner, planner.Cross:
		return inner
	case planner.LeftOuter:
		return inner.scaled(math.Max(inner.rows, l.rows))
	case planner.Semi:
		return l.scaled(l.rows * matched)
	case planner.Anti:
		return l.scaled(l.rows * math.Max(1-matched, defaultSelectivity))
	case planner.Mark:
		out := l
		out.cols = map[planner.ColumnID]colStats{}
		for id, s := range l.cols {
			out.cols[id] = s
		}
		out.cols[n.Mark.ID] = colStats{distinct: 3}
		return out
	}
	// Single: one row per left row, with the right's columns.
	return both.scaled(l.rows)
}

// selectivity estimates the fraction of e's rows that all of preds keep.
// Range conditions on one column combine into one interval, so that a
// BETWEEN counts once, not as two independent halves.
func selectivity(e estimate, preds []expr.Expr) float64 {
	type bounds struct{ lo, hi float64 }
	ranges := map[planner.ColumnID]*bounds{}
	var order []planner.ColumnID
	sel := 1.0
	for _, p := range preds {
		if id, lo, hi, ok := rangeOf(e, p); ok {
			b := ranges[id]
			if b == nil {
				s := e.cols[id]
				b = &bounds{s.lo, s.hi}
				ranges[id] = b
				order = append(order, id)
			}
			b.lo, b.hi = math.Max(b.lo, lo), math.Min(b.hi, hi)
			continue
		}
		sel *= predSelectivity(e, p)
	}
	for _, id := range order {
		s, b := e.cols[id], ranges[id]
		width := s.hi - s.lo
		frac := 1.0
		if width > 0 {
			frac = (b.hi - b.lo) / width
		}
		if b.hi < b.lo {
			frac = 0
		}
		sel *= math.Max(frac, 1/math.Max(1, s.distinct))
	}
	return math.Max(sel, 1/math.Max(1, e.rows))
}

// rangeOf recognizes `column op constant` (<, <=, >, >=, either way round)
// on a column with a known range, and returns the interval it keeps.
func rangeOf(e estimate, p expr.Expr) (planner.ColumnID, float64, float64, bool) {
	b, ok := p.(*expr.Binary)
	if !ok || b.Op < expr.OpLt || b.Op > expr.OpGe {
		return 0, 0, 0, false
	}
	id, okc := zoneColumn(b.Left)
	k, okk := b.Right.(*expr.Const)
	op := b.Op
	if !okc || !okk {
		id, okc = zoneColumn(b.Right)
		k, okk = b.Left.(*expr.Const)
		op = map[expr.Op]expr.Op{expr.OpLt: expr.OpGt, expr.OpLe: expr.OpGe, expr.OpGt: expr.OpLt, expr.OpGe: expr.OpLe}[op]
	}
	if !okc || !okk {
		return 0, 0, 0, false
	}
	s, known := e.cols[id]
	v, isNum := numeric(k.Val)
	if !known || !s.hasRange || !isNum {
		return 0, 0, 0, false
	}
	if op == expr.OpLt || op == expr.OpLe {
		return id, math.Inf(-1), v, true
	}
	return id, v, math.Inf(1), true
}

// predSelectivity estimates one predicate.
func predSelectivity(e estimate, p expr.Expr) float64 {
	switch p := p.(type) {
	case *expr.Binary:
		switch p.Op {
		case expr.OpAnd:
			return selectivity(e, conjuncts(p))
		case expr.OpOr:
			a, b := predSelectivity(e, p.Left), predSelectivity(e, p.Right)
			return a + b - a*b
		case expr.OpEq:
			return equalSelectivity(e, p.Left, p.Right)
		case expr.OpNe:
			return 1 - equalSelectivity(e, p.Left, p.Right)
		case expr.OpLt, expr.OpLe, expr.OpGt, expr.OpGe:
			if _, _, _, ok := rangeOf(e, p); ok {
				return selectivity(e, []expr.Expr{p})
			}
			return rangeSelectivity
		}
	case *expr.Unary:
		if p.Op == expr.OpNot {
			return 1 - predSelectivity(e, p.Arg)
		}
	case *expr.InList:
		s := math.Min(1, float64(len(p.List))/e.distinct(p.Arg))
		if p.Negated {
			return 1 - s
		}
		return s
	case *expr.Like:
		if p.Negated {
			return 1 - likeSelectivity
		}
		return likeSelectivity
	case *expr.IsNull:
		if p.Negated {
			return 1 - nullSelectivity
		}
		return nullSelectivity
	case *expr.Const:
		if always(p) {
			return 1
		}
		return 0
	}
	return defaultSelectivity
}

// joinSelectivity estimates the fraction of pairs of rows of l and r for
// which x (over l) equals y (over r): 1/max(distinct), each side's distinct
// count capped by the other column's base count. The cap is the
// containment assumption: a foreign key's values are among the key's, so
// l_orderkey, whose zone map spans 60,000 values at SF 0.01, holds no more
// distinct values than the 15,000 order keys it references.
func joinSelectivity(l estimate, x expr.Expr, r estimate, y expr.Expr) float64 {
	dx, dy := l.distinct(x), r.distinct(y)
	if b := r.base(y); b > 0 {
		dx = math.Min(dx, b)
	}
	if b := l.base(x); b > 0 {
		dy = math.Min(dy, b)
	}
	return 1 / math.Max(1, math.Max(dx, dy))
}

// base returns the base distinct count of x if it is a table column.
func (e estimate) base(x expr.Expr) float64 {
	if c, ok := x.(*expr.Column); ok {
		return e.cols[planner.ColumnID(c.Index)].base
	}
	return 0
}

// equalSelectivity estimates l = r: one over the distinct values of the
// side that is not a constant, or of the side with more of them.
func equalSelectivity(e estimate, l, r expr.Expr) float64 {
	_, lc := l.(*expr.Const)
	_, rc := r.(*expr.Const)
	switch {
	case lc && rc:
		return 1
	case rc:
		return outside(e, l, r.(*expr.Const)) / e.distinct(l)
	case lc:
		return outside(e, r, l.(*expr.Const)) / e.distinct(r)
	}
	return 1 / math.Max(e.distinct(l), e.distinct(r))
}

// outside returns 0 if the zone maps say column x never holds k (k lies
// outside its [min, max]), else 1.
func outside(e estimate, x expr.Expr, k *expr.Const) float64 {
	id, ok := zoneColumn(x)
	if !ok {
		return 1
	}
	s, known := e.cols[id]
	v, isNum := numeric(k.Val)
	if known && s.hasRange && isNum && (v < s.lo || v > s.hi) {
		return 0
	}
	return 1
}
