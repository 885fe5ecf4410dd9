package planner

import (
	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
)

// exactOps maps the comparisons a scan applies exactly to its operator.
var exactOps = map[expr.Op]table.Op{
	expr.OpEq: table.OpEq, expr.OpNe: table.OpNe,
	expr.OpLt: table.OpLt, expr.OpLe: table.OpLe,
	expr.OpGt: table.OpGt, expr.OpGe: table.OpGe,
}

// swapped is op with its operands swapped (c < x is x > c).
var swapped = map[table.Op]table.Op{
	table.OpEq: table.OpEq, table.OpNe: table.OpNe,
	table.OpLt: table.OpGt, table.OpLe: table.OpGe,
	table.OpGt: table.OpLt, table.OpGe: table.OpLe,
}

// ScanExact reports whether the scan of g decides f (one of g.Filters)
// exactly by itself: the scan applies its ZoneFilters to every row
// (table.ScanOptions.FilterRows), so a filter whose conjuncts are all
// `column op constant` (either way round) on a column g reads, each
// present in ZoneFilters as it is, needs no filter operator above the
// scan. A NULL fails both. DOUBLE columns are left to the filter operator.
func (g *Get) ScanExact(f expr.Expr) bool {
	b, ok := f.(*expr.Binary)
	if !ok {
		return false
	}
	if b.Op == expr.OpAnd {
		return g.ScanExact(b.Left) && g.ScanExact(b.Right)
	}
	op, ok := exactOps[b.Op]
	if !ok {
		return false
	}
	col, okc := b.Left.(*expr.Column)
	k, okk := b.Right.(*expr.Const)
	if !okc || !okk {
		col, okc = b.Right.(*expr.Column)
		k, okk = b.Left.(*expr.Const)
		op = swapped[op]
	}
	if !okc || !okk || col.T.ID() == types.Double {
		return false
	}
	tc := -1
	for i, c := range g.Columns {
		if c.ID == ColumnID(col.Index) {
			tc = g.TableColumns[i]
		}
	}
	for _, z := range g.ZoneFilters {
		if z.Column != tc || z.Op != op || z.Value.Type() != k.Val.Type() || z.Value.IsNull() != k.Val.IsNull() {
			continue
		}
		if k.Val.IsNull() || types.Compare(z.Value, k.Val) == 0 {
			return true
		}
	}
	return false
}
