package parser

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/bpfdb/bpfdb/internal/sql/ast"
)

// testSeed returns the seed for a randomized test: BPFDB_SEED if set, else
// a fresh one. It logs the seed so that a failure can be replayed.
func testSeed(t *testing.T) uint64 {
	seed := rand.Uint64()
	if s := os.Getenv("BPFDB_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("BPFDB_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (replay with BPFDB_SEED=%d)", seed, seed)
	return seed
}

// exprGen builds random expression trees of the shapes the parser
// produces, to check that the printer parenthesizes exactly as the parser
// groups: format, parse back, compare.
type exprGen struct{ r *rand.Rand }

func (g exprGen) leaf() ast.Expr {
	switch g.r.IntN(8) {
	case 0:
		return &ast.NumberLit{Kind: ast.NumInteger, Text: strconv.Itoa(g.r.IntN(100))}
	case 1:
		return &ast.NumberLit{Kind: ast.NumDecimal, Text: "0.05"}
	case 2:
		return &ast.StringLit{Value: []string{"", "x", "it's", "--", "/*"}[g.r.IntN(5)]}
	case 3:
		return &ast.BoolLit{Value: g.r.IntN(2) == 0}
	case 4:
		return &ast.NullLit{}
	case 5:
		return &ast.Param{Index: 1 + g.r.IntN(3)}
	case 6:
		return &ast.IntervalLit{Value: "90", Unit: ast.UnitDay}
	}
	return &ast.ColumnRef{Parts: [][]string{{"a"}, {"t", "b"}, {"Quoted Name"}, {"select"}, {"date"}}[g.r.IntN(5)]}
}

func (g exprGen) expr(depth int) ast.Expr {
	if depth == 0 || g.r.IntN(5) == 0 {
		return g.leaf()
	}
	d := depth - 1
	switch g.r.IntN(16) {
	case 0, 1, 2, 3:
		return &ast.BinaryExpr{Op: ast.BinaryOp(1 + g.r.IntN(int(ast.OpIntDiv))), L: g.expr(d), R: g.expr(d)}
	case 4:
		return &ast.UnaryExpr{Op: ast.UnaryOp(1 + g.r.IntN(3)), X: g.expr(d)}
	case 5:
		return &ast.IsNullExpr{X: g.expr(d), Not: g.r.IntN(2) == 0}
	case 6:
		return &ast.IsDistinctExpr{L: g.expr(d), R: g.expr(d), Not: g.r.IntN(2) == 0}
	case 7:
		return &ast.BetweenExpr{X: g.expr(d), Lo: g.expr(d), Hi: g.expr(d), Not: g.r.IntN(2) == 0, Symmetric: g.r.IntN(3) == 0}
	case 8:
		return &ast.InListExpr{X: g.expr(d), List: []ast.Expr{g.expr(d), g.expr(d)}, Not: g.r.IntN(2) == 0}
	case 9:
		l := &ast.LikeExpr{X: g.expr(d), Pattern: g.expr(d), Not: g.r.IntN(2) == 0, CaseInsensitive: g.r.IntN(2) == 0}
		if g.r.IntN(2) == 0 {
			l.Escape = g.expr(d)
		}
		return l
	case 10:
		c := &ast.CaseExpr{Whens: []*ast.When{{Cond: g.expr(d), Result: g.expr(d)}}}
		if g.r.IntN(2) == 0 {
			c.Operand = g.expr(d)
		}
		if g.r.IntN(2) == 0 {
			c.Else = g.expr(d)
		}
		return c
	case 11:
		return &ast.CastExpr{X: g.expr(d), Type: &ast.TypeName{Name: "decimal", Params: []int{15, 2}}}
	case 12:
		return &ast.FuncCall{Name: "f", Args: []ast.Expr{g.expr(d), g.expr(d)}, Distinct: g.r.IntN(3) == 0}
	case 13:
		return &ast.ExtractExpr{Field: "year", X: g.expr(d)}
	case 14:
		return &ast.IsBoolExpr{X: g.expr(d), Not: g.r.IntN(2) == 0, Value: g.r.IntN(2) == 0}
	}
	q := &ast.Query{Body: &ast.Select{Columns: []*ast.SelectItem{{Expr: g.expr(d)}}}}
	if g.r.IntN(2) == 0 {
		return &ast.ExistsExpr{Query: q}
	}
	return &ast.SubqueryExpr{Query: q}
}

// TestRandomExpressions formats random trees and parses them back.
func TestRandomExpressions(t *testing.T) {
	g := exprGen{rand.New(rand.NewPCG(testSeed(t), 0))}
	for range 5000 {
		e := g.expr(5)
		text := ast.Format(e)
		back, err := ParseExpr(text)
		if err != nil {
			t.Fatalf("canonical text does not parse: %v\ntext: %s\ntree:\n%s", err, text, ast.Dump(e))
		}
		if got, want := ast.Dump(back), ast.Dump(e); got != want {
			t.Fatalf("text %s parses to a different tree\nwant:\n%s\ngot:\n%s", text, want, got)
		}
	}
}
