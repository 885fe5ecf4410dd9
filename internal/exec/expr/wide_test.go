package expr_test

import (
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/types"
)

// TestWideDecimals pins the types around DECIMALs wider than 18 digits:
// a sum of DECIMAL(15,2) is DECIMAL(38,2) as in DuckDB, adding to it stays
// exact, multiplying it keeps a DECIMAL(38,s) up to scale 6 and becomes a
// DOUBLE beyond (DuckDB uses 128-bit integers there).
func TestWideDecimals(t *testing.T) {
	money := types.MustDecimal(15, 2)
	agg, err := expr.NewAggregate(expr.AggSpec{Kind: expr.Sum, Arg: 0, ArgType: money, Text: "sum(x)"})
	if err != nil {
		t.Fatal(err)
	}
	wide := types.MustDecimal(38, 2)
	if got := agg.Type(); got != wide {
		t.Fatalf("sum(DECIMAL(15,2)) is %v, want %v", got, wide)
	}
	col := expr.NewColumn(0, "s", wide, expr.Pos{})
	for _, tc := range []struct {
		op    expr.Op
		other types.Type
		want  types.Type
	}{
		{expr.OpMul, types.MustDecimal(10, 10), types.DoubleType},
		{expr.OpMul, types.IntegerType, types.MustDecimal(38, 2)},
		{expr.OpMul, types.MustDecimal(15, 4), types.MustDecimal(38, 6)},
		{expr.OpMul, types.MustDecimal(15, 5), types.DoubleType},
		{expr.OpAdd, money, types.MustDecimal(38, 2)},
		{expr.OpSub, types.MustDecimal(4, 4), types.MustDecimal(38, 4)},
	} {
		other := expr.NewColumn(1, "o", tc.other, expr.Pos{})
		e, err := expr.NewBinary(tc.op, col, other, expr.Pos{})
		if err != nil {
			t.Errorf("%v %v %v: %v", wide, tc.op, tc.other, err)
			continue
		}
		if e.Type() != tc.want {
			t.Errorf("%v %v %v is %v, want %v", wide, tc.op, tc.other, e.Type(), tc.want)
		}
	}
	// Narrow products keep DuckDB's 18-digit cap with an overflow check.
	narrow := expr.NewColumn(0, "p", money, expr.Pos{})
	e, err := expr.NewBinary(expr.OpMul, narrow, expr.NewColumn(1, "q", types.MustDecimal(16, 2), expr.Pos{}), expr.Pos{})
	if err != nil {
		t.Fatal(err)
	}
	if want := types.MustDecimal(18, 4); e.Type() != want {
		t.Errorf("DECIMAL(15,2) * DECIMAL(16,2) is %v, want %v", e.Type(), want)
	}
}
