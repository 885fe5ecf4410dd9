package optimizer

import (
	"slices"
	"strings"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/planner"
	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
)

// zoneFilters derives the zone-map filters of a Get from its Filters: every
// conjunct of the form `column op constant` (either way round) gives one,
// with the column's table index. A column under a widening cast between
// exact numbers (INTEGER to BIGINT or DECIMAL, a DECIMAL to a larger
// scale) counts as the column itself, since such a cast changes no value
// and zone maps compare exact numbers across scales. `column LIKE
// 'prefix…'` gives column >= prefix and, when the prefix can be
// incremented, column < the next string; `column IN (list)` gives
// column >= the list's least and <= its greatest. Zone-map filters only skip row
// groups; the Filters stay and decide every row.
func zoneFilters(g *planner.Get) []table.Filter {
	pos := map[planner.ColumnID]int{}
	for i, c := range g.Columns {
		pos[c.ID] = g.TableColumns[i]
	}
	tcols := g.Table.Columns()
	var out []table.Filter
	add := func(f table.Filter) {
		if !zoneComparable(tcols[f.Column].Type, f.Value.Type()) {
			return
		}
		if !slices.ContainsFunc(out, func(o table.Filter) bool {
			return o.Column == f.Column && o.Op == f.Op && types.Compare(o.Value, f.Value) == 0 && o.Value.Type() == f.Value.Type()
		}) {
			out = append(out, f)
		}
	}
	for _, f := range g.Filters {
		for _, c := range conjuncts(f) {
			switch c := c.(type) {
			case *expr.Binary:
				op, ok := zoneOps[c.Op]
				if !ok {
					continue
				}
				col, okc := zoneColumn(c.Left)
				k, okk := c.Right.(*expr.Const)
				if !okc || !okk {
					col, okc = zoneColumn(c.Right)
					k, okk = c.Left.(*expr.Const)
					op = flip(op)
				}
				if okc && okk {
					if j, ok := pos[col]; ok {
						add(table.Filter{Column: j, Op: op, Value: k.Val})
					}
				}
			case *expr.InList:
				// x IN (a, b, c) implies min <= x <= max.
				col, ok := zoneColumn(c.Arg)
				j, read := pos[col]
				if !ok || !read || c.Negated {
					continue
				}
				var lo, hi types.Value
				for i, v := range c.List {
					if v.IsNull() {
						continue
					}
					if i == 0 || lo.IsNull() || types.Compare(v, lo) < 0 {
						lo = v
					}
					if i == 0 || hi.IsNull() || types.Compare(v, hi) > 0 {
						hi = v
					}
				}
				if lo.Type().IsValid() && !lo.IsNull() {
					add(table.Filter{Column: j, Op: table.OpGe, Value: lo})
					add(table.Filter{Column: j, Op: table.OpLe, Value: hi})
				}
			case *expr.Like:
				col, ok := zoneColumn(c.Arg)
				j, read := pos[col]
				if !ok || !read || c.Negated || c.CaseInsensitive {
					continue
				}
				prefix, exact := likePrefix(c.Pattern)
				switch {
				case exact:
					add(table.Filter{Column: j, Op: table.OpEq, Value: types.VarcharValue(prefix)})
				case prefix != "":
					add(table.Filter{Column: j, Op: table.OpGe, Value: types.VarcharValue(prefix)})
					if next, ok := nextString(prefix); ok {
						add(table.Filter{Column: j, Op: table.OpLt, Value: types.VarcharValue(next)})
					}
				}
			}
		}
	}
	return out
}

var zoneOps = map[expr.Op]table.Op{
	expr.OpEq: table.OpEq, expr.OpNe: table.OpNe,
	expr.OpLt: table.OpLt, expr.OpLe: table.OpLe,
	expr.OpGt: table.OpGt, expr.OpGe: table.OpGe,
}

// flip returns the comparison with its operands swapped (a < b is b > a).
func flip(op table.Op) table.Op {
	switch op {
	case table.OpLt:
		return table.OpGt
	case table.OpLe:
		return table.OpGe
	case table.OpGt:
		return table.OpLt
	case table.OpGe:
		return table.OpLe
	}
	return op
}

// zoneColumn returns the column e reads if e is the column itself or a
// cast of it that preserves every value and never fails.
func zoneColumn(e expr.Expr) (planner.ColumnID, bool) {
	switch e := e.(type) {
	case *expr.Column:
		return planner.ColumnID(e.Index), true
	case *expr.Cast:
		from, to := e.Arg.Type(), e.T
		if exactNum(from) && exactNum(to) && to.Scale() >= from.Scale() && intDigits(to) >= intDigits(from) {
			return zoneColumn(e.Arg)
		}
	}
	return 0, false
}

// intDigits is the number of digits before the point that every value of
// an exact numeric type fits in.
func intDigits(t types.Type) int {
	switch t.ID() {
	case types.Integer:
		return 10
	case types.BigInt:
		return 19
	}
	return t.Precision() - t.Scale()
}

// likePrefix returns the literal text a LIKE pattern starts with, up to
// its first wildcard or escape, and whether the pattern is that text alone.
func likePrefix(pattern string) (prefix string, exact bool) {
	i := strings.IndexAny(pattern, `%_\`)
	if i < 0 {
		return pattern, true
	}
	return pattern[:i], false
}

// nextString returns the smallest string above every string that starts
// with s (bytewise), if there is one: s with its last byte below 0xff
// incremented and the rest dropped.
func nextString(s string) (string, bool) {
	b := []byte(s)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}
