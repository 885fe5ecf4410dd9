package optimizer

import (
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/types"
)

// TestImpliedByEqualities checks which predicates equalities carry to
// other columns, and which they must not.
func TestImpliedByEqualities(t *testing.T) {
	col := func(id int, name string, t types.Type) expr.Expr { return expr.NewColumn(id, name, t, expr.Pos{}) }
	a, b, c := col(1, "a", types.BigIntType), col(2, "b", types.BigIntType), col(3, "c", types.BigIntType)
	i := col(4, "i", types.IntegerType)
	s1, s2 := col(5, "s1", types.VarcharType), col(6, "s2", types.VarcharType)
	k := func(x int64) expr.Expr { return expr.NewConst(types.BigIntValue(x), expr.Pos{}) }
	must := func(e expr.Expr, err error) expr.Expr {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	bin := func(op expr.Op, l, r expr.Expr) expr.Expr { return must(expr.NewBinary(op, l, r, expr.Pos{})) }
	for _, tc := range []struct {
		name  string
		preds []expr.Expr
		want  string
	}{
		{"equality carries a range", []expr.Expr{bin(expr.OpEq, a, b), bin(expr.OpLt, a, k(5))}, "(b < 5::BIGINT)"},
		{"constant on the left", []expr.Expr{bin(expr.OpEq, a, b), bin(expr.OpGe, k(5), b)}, "(5::BIGINT >= a)"},
		{"a chain of equalities", []expr.Expr{bin(expr.OpEq, a, b), bin(expr.OpEq, c, b), must(expr.NewInList(a, []expr.Expr{k(1), k(2)}, false, expr.Pos{}))},
			"(b IN (1::BIGINT, 2::BIGINT)); (c IN (1::BIGINT, 2::BIGINT))"},
		{"LIKE", []expr.Expr{bin(expr.OpEq, s1, s2), must(expr.NewLike(s2, "a%", false, true, expr.Pos{}))}, "(s1 NOT LIKE 'a%')"},
		{"already there", []expr.Expr{bin(expr.OpEq, a, b), bin(expr.OpLt, a, k(5)), bin(expr.OpLt, b, k(5))}, ""},
		{"not an equality", []expr.Expr{bin(expr.OpLe, a, b), bin(expr.OpLt, a, k(5))}, ""},
		{"an equality under OR", []expr.Expr{bin(expr.OpOr, bin(expr.OpEq, a, b), bin(expr.OpEq, a, c)), bin(expr.OpLt, a, k(5))}, ""},
		{"columns of two types", []expr.Expr{bin(expr.OpEq, a, i), bin(expr.OpLt, a, k(5))}, ""},
		{"IS NULL is not carried", []expr.Expr{bin(expr.OpEq, a, b), expr.NewIsNull(a, false, expr.Pos{})}, ""},
		{"two columns are not a constant", []expr.Expr{bin(expr.OpEq, a, b), bin(expr.OpLt, a, c)}, ""},
	} {
		var got []string
		for _, p := range impliedByEqualities(tc.preds) {
			got = append(got, p.String())
		}
		if g := strings.Join(got, "; "); g != tc.want {
			t.Errorf("%s: implied %q, want %q", tc.name, g, tc.want)
		}
	}
}
