package server

import (
	"context"
	"strings"

	"github.com/bpfdb/bpfdb/internal/sql/ast"
	"github.com/bpfdb/bpfdb/internal/sql/parser"
)

// inferParams gives the parameters of a query the client did not type
// (oidUnknown) the type the query shows them, as PostgreSQL infers them,
// so that drivers encode arguments as that type:
//
//	LIMIT $1, OFFSET $1                       bigint
//	col = $1 (<>, <, <=, >, >=), $1 = col      the type of the other side
//	col BETWEEN $1 AND $2, col IN ($1, $2)    the type of col
//	num + $1 (-, *, /, %), for a numeric num  the type of num
//
// The other side's type comes from describing SELECT other FROM (the FROM
// clause of the SELECT the comparison is in); when that fails (it names
// an outer query's column, say) the parameter stays untyped and binds as
// a string literal, which comparisons convert.
func (c *conn) inferParams(ctx context.Context, s *statement) {
	if !strings.Contains(s.sql, "$") || !contains(s.params, oidUnknown) {
		return
	}
	stmts, err := parser.Parse(s.sql)
	if err != nil || len(stmts) != 1 {
		return
	}
	infer := func(p ast.Expr, other ast.Expr, from []ast.TableExpr, arithmetic bool) {
		param, ok := p.(*ast.Param)
		if !ok || param.Index < 1 || param.Index > len(s.params) || s.params[param.Index-1] != oidUnknown || hasParam(other) {
			return
		}
		sql := "SELECT " + ast.Format(other)
		if len(from) > 0 {
			parts := make([]string, len(from))
			for i, f := range from {
				if hasParam(f) {
					return
				}
				parts[i] = ast.Format(f)
			}
			sql += " FROM " + strings.Join(parts, ", ")
		}
		_, ts, err := c.srv.db.Describe(ctx, sql)
		if err != nil || len(ts) != 1 {
			return
		}
		oid := typeOf(ts[0]).oid
		if arithmetic && oid != oidInt4 && oid != oidInt8 && oid != oidFloat8 && oid != oidNumeric {
			return
		}
		s.params[param.Index-1] = oid
	}
	ast.Inspect(stmts[0], func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Query:
			for _, e := range []ast.Expr{n.Limit, n.Offset} {
				if p, ok := e.(*ast.Param); ok && p.Index >= 1 && p.Index <= len(s.params) && s.params[p.Index-1] == oidUnknown {
					s.params[p.Index-1] = oidInt8
				}
			}
		case *ast.Select:
			var parts []ast.Expr
			for _, col := range n.Columns {
				parts = append(parts, col.Expr)
			}
			parts = append(parts, n.Where, n.Having)
			parts = append(parts, n.GroupBy...)
			for _, part := range parts {
				if part == nil {
					continue
				}
				ast.Inspect(part, func(m ast.Node) bool {
					switch m := m.(type) {
					case *ast.Query:
						return false // its own SELECTs come in turn
					case *ast.BinaryExpr:
						switch m.Op {
						case ast.OpEq, ast.OpNe, ast.OpLt, ast.OpLe, ast.OpGt, ast.OpGe:
							infer(m.L, m.R, n.From, false)
							infer(m.R, m.L, n.From, false)
						case ast.OpAdd, ast.OpSub, ast.OpMul, ast.OpDiv, ast.OpMod:
							infer(m.L, m.R, n.From, true)
							infer(m.R, m.L, n.From, true)
						}
					case *ast.BetweenExpr:
						infer(m.Lo, m.X, n.From, false)
						infer(m.Hi, m.X, n.From, false)
					case *ast.InListExpr:
						for _, e := range m.List {
							infer(e, m.X, n.From, false)
						}
					}
					return true
				})
			}
		}
		return true
	})
}

func contains(oids []uint32, oid uint32) bool {
	for _, o := range oids {
		if o == oid {
			return true
		}
	}
	return false
}

// hasParam reports whether n holds a parameter.
func hasParam(n ast.Node) bool {
	found := false
	ast.Inspect(n, func(m ast.Node) bool {
		if _, ok := m.(*ast.Param); ok {
			found = true
		}
		return !found
	})
	return found
}
