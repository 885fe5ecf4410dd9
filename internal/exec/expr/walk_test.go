package expr

import (
	"slices"
	"testing"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

// TestRewriteRemapsColumns moves every kernel case's columns one to the
// right (as a planner does after pruning or reordering inputs) and checks
// that the rewritten tree computes the same values on the widened input.
func TestRewriteRemapsColumns(t *testing.T) {
	wide := append([]types.Type{types.VarcharType}, schema...)
	rows := vectortest.Rows(vectortest.Rand(t), schema, 50, 0.2)
	in := vector.NewChunk(schema)
	win := vector.NewChunk(wide)
	for _, row := range rows {
		in.AppendRow(row...)
		win.AppendRow(append([]types.Value{types.VarcharValue("pad")}, row...)...)
	}
	for _, e := range kernelCases(t) {
		if same := WithChildren(e, Children(e)); same.String() != e.String() || same.Type() != e.Type() {
			t.Fatalf("WithChildren(Children) of %v is %v", e, same)
		}
		moved, err := Rewrite(e, func(x Expr) (Expr, error) {
			if c, ok := x.(*Column); ok {
				return NewColumn(c.Index+1, c.Name, c.T, c.At), nil
			}
			return x, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		cols := Columns(e)
		for i := range cols {
			cols[i]++
		}
		if got := Columns(moved); !slices.Equal(got, cols) {
			t.Fatalf("%v: columns %v, want %v", e, got, cols)
		}
		a, b := vector.New(e.Type()), vector.New(e.Type())
		ev1, _ := Compile(e)
		ev2, _ := Compile(moved)
		err1, err2 := ev1.Eval(in, a), ev2.Eval(win, b)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("%v: errors %v and %v", e, err1, err2)
		}
		for r := range in.Len() {
			if err1 == nil && a.Value(r).String() != b.Value(r).String() {
				t.Fatalf("%v row %d: %v, moved %v", e, r, a.Value(r), b.Value(r))
			}
		}
	}
}

func TestFold(t *testing.T) {
	b := tb{t}
	zero := NewConst(types.IntegerValue(0), Pos{})
	div := b.bin(OpIntDiv, b.int(1), zero)
	cases := []struct {
		e    Expr
		want string
	}{
		{b.bin(OpAdd, b.int(1), b.bin(OpMul, b.int(2), b.int(3))), "7"},
		{b.bin(OpAdd, b.col("i"), b.bin(OpMul, b.int(2), b.int(3))), "(i + 6)"},
		{b.ok(NewDateInterval(b.str("1998-12-01"), 0, -90, Pos{})), "DATE '1998-09-02'"},
		{b.bin(OpLe, b.col("dt"), b.ok(NewDateInterval(b.str("1998-12-01"), 0, -90, Pos{}))), "(dt <= DATE '1998-09-02')"},
		{div, "(1 // 0)"}, // kept: fails only if evaluated
		{b.ok(NewCase([]When{{Cond: b.bin(OpEq, b.int(1), b.int(2)), Then: div}}, b.int(5), Pos{})), "5"},
		{b.like(b.str("PROMO BRUSHED"), "PROMO%", false, false), "true"},
		{b.cast(b.lit(types.MustDecimal(15, 2), "0.06"), types.DoubleType), "0.06::DOUBLE"},
	}
	for _, tc := range cases {
		if got := Fold(tc.e).String(); got != tc.want {
			t.Errorf("Fold(%v) = %s, want %s", tc.e, got, tc.want)
		}
	}
}
