package planner

import (
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
)

// TestScanExact: a filter needs no operator above the scan only when every
// conjunct is `column op constant` that ZoneFilters holds as it is.
func TestScanExact(t *testing.T) {
	date, dbl := types.DateType, types.DoubleType
	g := &Get{
		Columns:      []Column{{ID: 7, Type: date}, {ID: 9, Type: types.IntegerType}, {ID: 11, Type: dbl}},
		TableColumns: []int{10, 3, 5},
		ZoneFilters: []table.Filter{
			{Column: 10, Op: table.OpLe, Value: types.DateValue(10471)},
			{Column: 3, Op: table.OpGt, Value: types.IntegerValue(5)},
			{Column: 3, Op: table.OpEq, Value: types.Null(types.IntegerType)},
			{Column: 5, Op: table.OpLt, Value: types.DoubleValue(1)},
		},
	}
	c := func(id int, ty types.Type) expr.Expr { return expr.NewColumn(id, "", ty, expr.Pos{}) }
	k := func(v types.Value) expr.Expr { return expr.NewConst(v, expr.Pos{}) }
	bin := func(op expr.Op, l, r expr.Expr) expr.Expr {
		e, err := expr.NewBinary(op, l, r, expr.Pos{})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	shipdate := bin(expr.OpLe, c(7, date), k(types.DateValue(10471)))
	for _, tc := range []struct {
		name string
		f    expr.Expr
		want bool
	}{
		{"column op constant", shipdate, true},
		{"constant op column", bin(expr.OpLt, k(types.IntegerValue(5)), c(9, types.IntegerType)), true},
		{"both conjuncts", bin(expr.OpAnd, shipdate, bin(expr.OpGt, c(9, types.IntegerType), k(types.IntegerValue(5)))), true},
		{"NULL constant", bin(expr.OpEq, c(9, types.IntegerType), k(types.Null(types.IntegerType))), true},
		{"other constant", bin(expr.OpLe, c(7, date), k(types.DateValue(10470))), false},
		{"other operator", bin(expr.OpLt, c(7, date), k(types.DateValue(10471))), false},
		{"one conjunct not", bin(expr.OpAnd, shipdate, bin(expr.OpGt, c(9, types.IntegerType), k(types.IntegerValue(6)))), false},
		{"OR", bin(expr.OpOr, shipdate, shipdate), false},
		{"DOUBLE", bin(expr.OpLt, c(11, dbl), k(types.DoubleValue(1))), false},
		{"column not read", bin(expr.OpLe, c(8, date), k(types.DateValue(10471))), false},
	} {
		if got := g.ScanExact(tc.f); got != tc.want {
			t.Errorf("%s: ScanExact(%s) = %v, want %v", tc.name, tc.f, got, tc.want)
		}
	}
}
