package project

import (
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/types"
)

// TestReuseOutputs pins which subexpressions read an earlier output: the
// largest equal one, only of computed outputs before it, never a column
// of the same name but another index.
func TestReuseOutputs(t *testing.T) {
	in := []types.Type{types.DoubleType, types.DoubleType, types.VarcharType}
	c := func(i int, name string) expr.Expr { return expr.NewColumn(i, name, in[i], expr.Pos{}) }
	k := func(f float64) expr.Expr { return expr.NewConst(types.DoubleValue(f), expr.Pos{}) }
	bin := func(op expr.Op, l, r expr.Expr) expr.Expr {
		e, err := expr.NewBinary(op, l, r, expr.Pos{})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	disc := bin(expr.OpMul, c(0, "price"), bin(expr.OpSub, k(1), c(1, "disc")))
	tests := []struct {
		name  string
		exprs []expr.Expr
		want  []string // run's expressions, columns by index
	}{
		{"q1", []expr.Expr{c(0, "price"), disc, bin(expr.OpMul, disc, bin(expr.OpAdd, k(1), c(1, "disc")))},
			[]string{"#0", "(#0 * (1::DOUBLE - #1))", "(#4 * (1::DOUBLE + #1))"}},
		{"later output not read", []expr.Expr{bin(expr.OpMul, disc, k(2)), disc},
			[]string{"((#0 * (1::DOUBLE - #1)) * 2::DOUBLE)", "(#0 * (1::DOUBLE - #1))"}},
		{"same name, other column", []expr.Expr{bin(expr.OpAdd, c(0, "x"), k(1)), bin(expr.OpAdd, c(1, "x"), k(1))},
			[]string{"(#0 + 1::DOUBLE)", "(#1 + 1::DOUBLE)"}},
		{"equal outputs", []expr.Expr{disc, disc},
			[]string{"(#0 * (1::DOUBLE - #1))", "#3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(in, tc.exprs)
			if err != nil {
				t.Fatal(err)
			}
			for j, e := range p.run {
				if got := keyText(e); got != tc.want[j] {
					t.Errorf("output %d: %s, want %s", j, got, tc.want[j])
				}
			}
		})
	}
}

// keyText prints e with columns by index.
func keyText(e expr.Expr) string {
	named, _ := expr.Rewrite(e, func(n expr.Expr) (expr.Expr, error) {
		if c, ok := n.(*expr.Column); ok {
			return &expr.Column{Index: c.Index, T: c.T}, nil
		}
		return n, nil
	})
	return named.String()
}
