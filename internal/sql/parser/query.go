package parser

import (
	"strings"

	"github.com/bpfdb/bpfdb/internal/sql/ast"
)

// query reads [WITH ...] body [ORDER BY ...] [LIMIT ...] [OFFSET ...].
func (p *parser) query() *ast.Query {
	p.enter()
	defer p.leave()
	q := &ast.Query{At: p.peek().Pos}
	if p.acceptKw("with") {
		if t := p.peek(); p.isKw(t, "recursive") {
			p.failf(t, "WITH RECURSIVE is not supported")
		}
		for {
			q.With = append(q.With, p.cte())
			if !p.acceptOp(",") {
				break
			}
		}
	}
	q.Body = p.setExpr(1)
	if p.acceptKw("order") {
		p.expectKw("by")
		for {
			q.OrderBy = append(q.OrderBy, p.orderItem())
			if !p.acceptOp(",") {
				break
			}
		}
	}
	for {
		t := p.peek()
		switch {
		case p.isKw(t, "limit"):
			if q.Limit != nil {
				p.failf(t, "more than one LIMIT")
			}
			p.next()
			if p.acceptKw("all") {
				continue
			}
			q.Limit = p.expr(ast.PrecLowest)
		case p.isKw(t, "offset"):
			if q.Offset != nil {
				p.failf(t, "more than one OFFSET")
			}
			p.next()
			q.Offset = p.expr(ast.PrecLowest)
			if !p.acceptKw("rows") {
				p.acceptKw("row")
			}
		default:
			return q
		}
	}
}

func (p *parser) cte() *ast.CTE {
	c := &ast.CTE{At: p.peek().Pos, Name: p.ident("common table expression name")}
	if p.peekOp("(") {
		c.Columns = p.identList("column name")
	}
	p.expectKw("as")
	if !p.acceptKw("materialized") && p.acceptKw("not") {
		p.expectKw("materialized")
	}
	p.expectOp("(")
	c.Query = p.query()
	p.expectOp(")")
	return c
}

func (p *parser) orderItem() *ast.OrderItem {
	o := &ast.OrderItem{Expr: p.expr(ast.PrecLowest)}
	switch {
	case p.acceptKw("asc"):
		o.Dir = ast.Asc
	case p.acceptKw("desc"):
		o.Dir = ast.Desc
	}
	if p.acceptKw("nulls") {
		switch {
		case p.acceptKw("first"):
			o.Nulls = ast.NullsFirst
		case p.acceptKw("last"):
			o.Nulls = ast.NullsLast
		default:
			p.expected("FIRST or LAST")
		}
	}
	return o
}

// setExpr reads query bodies joined by set operations of precedence at
// least min: UNION and EXCEPT are 1, INTERSECT 2.
func (p *parser) setExpr(min int) ast.QueryBody {
	left := p.setPrimary()
	for {
		t := p.peek()
		var op ast.SetOpKind
		prec := 1
		switch {
		case p.isKw(t, "union"):
			op = ast.Union
		case p.isKw(t, "except"):
			op = ast.Except
		case p.isKw(t, "intersect"):
			op, prec = ast.Intersect, 2
		default:
			return left
		}
		if prec < min {
			return left
		}
		p.next()
		all := p.acceptKw("all")
		if !all {
			p.acceptKw("distinct")
		}
		right := p.setExpr(prec + 1)
		left = &ast.SetOp{At: t.Pos, Op: op, All: all, Left: left, Right: right}
	}
}

// setPrimary reads SELECT ..., VALUES ..., or a parenthesized query. A
// parenthesized query without clauses of its own is just its body.
func (p *parser) setPrimary() ast.QueryBody {
	t := p.peek()
	switch {
	case p.isKw(t, "select"):
		return p.selectCore()
	case p.isKw(t, "values"):
		return p.values()
	case p.isOp(t, "("):
		p.next()
		q := p.query()
		p.expectOp(")")
		if q.With == nil && q.OrderBy == nil && q.Limit == nil && q.Offset == nil {
			return q.Body
		}
		return q
	}
	p.expected("SELECT, VALUES or (")
	return nil
}

func (p *parser) values() *ast.Values {
	v := &ast.Values{At: p.next().Pos}
	for {
		p.expectOp("(")
		v.Rows = append(v.Rows, p.exprList())
		p.expectOp(")")
		if !p.acceptOp(",") {
			return v
		}
	}
}

func (p *parser) exprList() []ast.Expr {
	var list []ast.Expr
	for {
		list = append(list, p.expr(ast.PrecLowest))
		if !p.acceptOp(",") {
			return list
		}
	}
}

func (p *parser) selectCore() *ast.Select {
	s := &ast.Select{At: p.next().Pos}
	if p.acceptKw("distinct") {
		if t := p.peek(); p.isKw(t, "on") {
			p.failf(t, "DISTINCT ON is not supported")
		}
		s.Distinct = true
	} else {
		p.acceptKw("all")
	}
	for {
		s.Columns = append(s.Columns, p.selectItem())
		if !p.acceptOp(",") {
			break
		}
	}
	if p.acceptKw("from") {
		for {
			s.From = append(s.From, p.tableExpr())
			if !p.acceptOp(",") {
				break
			}
		}
	}
	if p.acceptKw("where") {
		s.Where = p.expr(ast.PrecLowest)
	}
	if p.acceptKw("group") {
		p.expectKw("by")
		s.GroupBy = p.exprList()
	}
	if p.acceptKw("having") {
		s.Having = p.expr(ast.PrecLowest)
	}
	if t := p.peek(); p.isKw(t, "window") || p.isKw(t, "qualify") {
		p.failf(t, "%s is not supported", strings.ToUpper(t.Value))
	}
	return s
}

func (p *parser) selectItem() *ast.SelectItem {
	t := p.peek()
	if p.isOp(t, "*") {
		p.next()
		return &ast.SelectItem{Expr: &ast.Star{At: t.Pos}}
	}
	if isNameStart(t) && p.isOp(p.peekAt(1), ".") && p.isOp(p.peekAt(2), "*") {
		p.i += 3
		return &ast.SelectItem{Expr: &ast.Star{At: t.Pos, Table: t.Value}}
	}
	item := &ast.SelectItem{Expr: p.expr(ast.PrecLowest)}
	if p.acceptKw("as") {
		item.Alias = p.label("column alias")
	} else if isNameStart(p.peek()) {
		p.alias = p.next()
		item.Alias = p.alias.Value
	}
	return item
}

var outerJoins = map[string]ast.JoinKind{"left": ast.JoinLeft, "right": ast.JoinRight, "full": ast.JoinFull}

// tableExpr reads one item of a FROM list with its joins.
func (p *parser) tableExpr() ast.TableExpr {
	left := p.tablePrimary()
	for {
		t := p.peek()
		var kind ast.JoinKind
		switch {
		case p.isKw(t, "join"):
			kind = ast.JoinInner
		case p.isKw(t, "inner"):
			p.next()
			kind = ast.JoinInner
		case p.isKw(t, "cross"):
			p.next()
			kind = ast.JoinCross
		case p.isKw(t, "left"), p.isKw(t, "right"), p.isKw(t, "full"):
			p.next()
			kind = outerJoins[t.Value]
			p.acceptKw("outer")
		case p.isKw(t, "natural"):
			p.failf(t, "NATURAL JOIN is not supported")
		default:
			return left
		}
		p.expectKw("join")
		j := &ast.Join{At: t.Pos, Kind: kind, Left: left, Right: p.tablePrimary()}
		if kind != ast.JoinCross {
			switch {
			case p.acceptKw("on"):
				j.On = p.expr(ast.PrecLowest)
			case p.peekKw("using"):
				p.next()
				j.Using = p.identList("column name")
			default:
				p.expected("ON or USING")
			}
		}
		left = j
	}
}

// tablePrimary reads a table name, a parenthesized query or a
// parenthesized join, with an optional alias.
func (p *parser) tablePrimary() ast.TableExpr {
	t := p.peek()
	if p.isOp(t, "(") {
		// A query may start with any number of "(": look past them (no
		// further than the nesting bound, which keeps this linear).
		k := 1
		for k <= maxDepth && p.isOp(p.peekAt(k), "(") {
			k++
		}
		if p.isQueryStart(p.peekAt(k)) {
			p.next()
			sq := &ast.SubqueryRef{At: t.Pos, Query: p.query()}
			p.expectOp(")")
			sq.Alias = p.optAlias()
			return sq
		}
		p.enter()
		defer p.leave()
		p.next()
		inner := p.tableExpr()
		p.expectOp(")")
		return inner
	}
	if p.isKw(t, "lateral") {
		p.failf(t, "LATERAL is not supported")
	}
	name := p.tableName()
	if p.acceptOp("(") {
		if name.Schema != "" {
			p.failf(t, "qualified function names (%s.%s) are not supported", name.Schema, name.Name)
		}
		f := &ast.TableFuncRef{At: t.Pos, Name: name.Name}
		if !p.acceptOp(")") {
			f.Args = p.exprList()
			p.expectOp(")")
		}
		f.Alias = p.optAlias()
		return f
	}
	return &ast.TableRef{Name: name, Alias: p.optAlias()}
}

// optAlias reads an optional [AS] name [(columns)].
func (p *parser) optAlias() *ast.Alias {
	var a *ast.Alias
	switch {
	case p.acceptKw("as"):
		a = &ast.Alias{Name: p.ident("alias")}
	case isNameStart(p.peek()):
		p.alias = p.next()
		a = &ast.Alias{Name: p.alias.Value}
	default:
		return nil
	}
	if p.peekOp("(") {
		a.Columns = p.identList("column alias")
	}
	return a
}
