package planner

import (
	"strings"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/sql/ast"
)

// resultName is the name a client sees for a select item without an
// alias, as DuckDB names it: the column's name for a column reference,
// else the expression's text (duckText).
func resultName(e ast.Expr) string {
	if c, ok := e.(*ast.ColumnRef); ok {
		return c.Parts[len(c.Parts)-1]
	}
	return duckText(e)
}

// duckText renders an expression the way DuckDB names an unaliased
// result column: function calls as name(args), count(*) as count_star(),
// binary operators in parentheses, column references as written, other
// forms in their canonical SQL text.
func duckText(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.ColumnRef:
		return strings.Join(e.Parts, ".")
	case *ast.NumberLit:
		return e.Text
	case *ast.FuncCall:
		if e.Star {
			return "count_star()"
		}
		args := make([]string, len(e.Args))
		for i, a := range e.Args {
			args[i] = duckText(a)
		}
		s := e.Name + "("
		if e.Distinct {
			s += "DISTINCT "
		}
		return s + strings.Join(args, ", ") + ")"
	case *ast.BinaryExpr:
		return "(" + duckText(e.L) + " " + e.Op.String() + " " + duckText(e.R) + ")"
	case *ast.UnaryExpr:
		if e.Op == ast.OpNot {
			return "(NOT " + duckText(e.X) + ")"
		}
		if n, ok := e.X.(*ast.NumberLit); ok && e.Op == ast.OpNeg {
			return "-" + n.Text // a negative literal
		}
		return "(" + e.Op.String() + duckText(e.X) + ")"
	case *ast.CastExpr:
		return "CAST(" + duckText(e.X) + " AS " + strings.ToUpper(ast.Format(e.Type)) + ")"
	}
	return ast.Format(e)
}

// exprKey identifies a bound expression: two expressions with the same
// key compute the same value (same operators over the same column IDs).
func exprKey(e expr.Expr) string { return ExprString(e) }
