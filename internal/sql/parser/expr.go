package parser

import (
	"strconv"
	"strings"

	"github.com/bpfdb/bpfdb/internal/sql/ast"
)

// expr reads an expression whose operators all bind at least as tightly as
// min (a level of ast.Precedence), by precedence climbing: a prefix
// operator or a primary, then infix and postfix operators while they bind
// tightly enough. Left-associative operators read their right operand one
// level tighter.
func (p *parser) expr(min int) ast.Expr {
	p.enter()
	defer p.leave()
	var x ast.Expr
	t := p.peek()
	switch {
	case p.isKw(t, "not"):
		p.next()
		x = &ast.UnaryExpr{At: t.Pos, Op: ast.OpNot, X: p.expr(ast.PrecNot)}
	case p.isOp(t, "-"), p.isOp(t, "+"):
		p.next()
		op := ast.OpNeg
		if t.Value == "+" {
			op = ast.OpPlus
		}
		x = &ast.UnaryExpr{At: t.Pos, Op: op, X: p.expr(ast.PrecUnary)}
	default:
		x = p.primary()
	}
	for {
		t := p.peek()
		if op, ok := p.binaryOp(t); ok {
			prec := ast.BinaryPrec(op)
			if prec < min {
				return x
			}
			p.next()
			x = &ast.BinaryExpr{At: t.Pos, Op: op, L: x, R: p.expr(prec + 1)}
			continue
		}
		switch {
		case p.isOp(t, "::"):
			p.next()
			x = &ast.CastExpr{At: t.Pos, X: x, Type: p.typeName()}
		case p.isKw(t, "is"):
			if ast.PrecIs < min {
				return x
			}
			x = p.isExpr(x)
		case p.isKw(t, "in"), p.isKw(t, "like"), p.isKw(t, "ilike"), p.isKw(t, "between"),
			p.isKw(t, "not") && p.isPredicate(p.peekAt(1)):
			if ast.PrecLike < min {
				return x
			}
			x = p.predicate(x)
		case p.isKw(t, "similar"):
			p.failf(t, "SIMILAR TO is not supported")
		default:
			return x
		}
	}
}

func (p *parser) isPredicate(t Token) bool {
	return p.isKw(t, "in") || p.isKw(t, "like") || p.isKw(t, "ilike") || p.isKw(t, "between")
}

var binaryOps = map[string]ast.BinaryOp{
	"=": ast.OpEq, "<>": ast.OpNe, "!=": ast.OpNe, "<": ast.OpLt, "<=": ast.OpLe, ">": ast.OpGt, ">=": ast.OpGe,
	"||": ast.OpConcat, "+": ast.OpAdd, "-": ast.OpSub, "*": ast.OpMul, "/": ast.OpDiv, "%": ast.OpMod, "//": ast.OpIntDiv,
}

func (p *parser) binaryOp(t Token) (ast.BinaryOp, bool) {
	switch {
	case t.Kind == Op:
		op, ok := binaryOps[t.Value]
		return op, ok
	case p.isKw(t, "and"):
		return ast.OpAnd, true
	case p.isKw(t, "or"):
		return ast.OpOr, true
	}
	return 0, false
}

// isExpr reads the rest of x IS [NOT] NULL | TRUE | FALSE | DISTINCT FROM y.
func (p *parser) isExpr(x ast.Expr) ast.Expr {
	at := p.next().Pos
	not := p.acceptKw("not")
	switch t := p.peek(); {
	case p.isKw(t, "null"):
		p.next()
		return &ast.IsNullExpr{At: at, X: x, Not: not}
	case p.isKw(t, "true"), p.isKw(t, "false"):
		p.next()
		return &ast.IsBoolExpr{At: at, X: x, Not: not, Value: t.Value == "true"}
	case p.isKw(t, "distinct"):
		p.next()
		p.expectKw("from")
		return &ast.IsDistinctExpr{At: at, L: x, R: p.expr(ast.PrecIs + 1), Not: not}
	}
	p.expected("NULL, TRUE, FALSE or DISTINCT FROM after IS")
	return nil
}

// predicate reads the rest of x [NOT] IN | LIKE | ILIKE | BETWEEN ...
// Operands bind tighter than the predicate itself.
func (p *parser) predicate(x ast.Expr) ast.Expr {
	at := p.peek().Pos
	not := p.acceptKw("not")
	t := p.next()
	switch t.Value {
	case "in":
		p.expectOp("(")
		if p.isQueryStart(p.peek()) {
			q := p.query()
			p.expectOp(")")
			return &ast.InSubqueryExpr{At: at, X: x, Query: q, Not: not}
		}
		list := p.exprList()
		p.expectOp(")")
		return &ast.InListExpr{At: at, X: x, List: list, Not: not}
	case "like", "ilike":
		e := &ast.LikeExpr{At: at, X: x, Not: not, CaseInsensitive: t.Value == "ilike"}
		e.Pattern = p.expr(ast.PrecLike + 1)
		if p.acceptKw("escape") {
			e.Escape = p.expr(ast.PrecLike + 1)
		}
		return e
	default: // between
		e := &ast.BetweenExpr{At: at, X: x, Not: not}
		if p.acceptKw("symmetric") {
			e.Symmetric = true
		} else {
			p.acceptKw("asymmetric")
		}
		e.Lo = p.expr(ast.PrecLike + 1)
		p.expectKw("and")
		e.Hi = p.expr(ast.PrecLike + 1)
		return e
	}
}

// intervalUnits maps the unit words of interval literals to units.
var intervalUnits = map[string]ast.IntervalUnit{
	"year": ast.UnitYear, "years": ast.UnitYear,
	"month": ast.UnitMonth, "months": ast.UnitMonth,
	"day": ast.UnitDay, "days": ast.UnitDay,
	"hour": ast.UnitHour, "hours": ast.UnitHour,
	"minute": ast.UnitMinute, "minutes": ast.UnitMinute,
	"second": ast.UnitSecond, "seconds": ast.UnitSecond,
	"week": ast.UnitWeek, "weeks": ast.UnitWeek,
}

// primary reads an operand: a literal, a name, a call, a special form
// (CASE, CAST, EXTRACT, SUBSTRING, EXISTS, INTERVAL, typed literals) or a
// parenthesized expression or subquery.
func (p *parser) primary() ast.Expr {
	t := p.peek()
	switch t.Kind {
	case Number:
		p.next()
		kind := ast.NumInteger
		switch {
		case strings.ContainsAny(t.Text, "eE"):
			kind = ast.NumFloat
		case strings.Contains(t.Text, "."):
			kind = ast.NumDecimal
		}
		return &ast.NumberLit{At: t.Pos, Kind: kind, Text: t.Text}
	case String:
		p.next()
		return &ast.StringLit{At: t.Pos, Value: t.Value}
	case Param:
		p.next()
		n, _ := strconv.Atoi(t.Value) // range-checked by the lexer
		return &ast.Param{At: t.Pos, Index: n}
	case QuotedIdent:
		return p.nameExpr()
	case Op:
		if t.Value == "?" {
			p.next()
			p.questions++
			return &ast.Param{At: t.Pos, Index: p.questions}
		}
		if t.Value == "(" {
			p.next()
			if p.isQueryStart(p.peek()) {
				q := p.query()
				p.expectOp(")")
				return &ast.SubqueryExpr{At: t.Pos, Query: q}
			}
			e := p.expr(ast.PrecLowest)
			if p.peekOp(",") {
				p.failf(p.peek(), "row values (a, b, ...) are not supported")
			}
			p.expectOp(")")
			return e
		}
	case Ident:
		next := p.peekAt(1)
		switch t.Value {
		case "null":
			p.next()
			return &ast.NullLit{At: t.Pos}
		case "true", "false":
			p.next()
			return &ast.BoolLit{At: t.Pos, Value: t.Value == "true"}
		case "case":
			return p.caseExpr()
		case "cast":
			p.next()
			p.expectOp("(")
			x := p.expr(ast.PrecLowest)
			p.expectKw("as")
			e := &ast.CastExpr{At: t.Pos, X: x, Type: p.typeName()}
			p.expectOp(")")
			return e
		case "exists":
			p.next()
			p.expectOp("(")
			e := &ast.ExistsExpr{At: t.Pos, Query: p.query()}
			p.expectOp(")")
			return e
		case "extract":
			if p.isOp(next, "(") {
				return p.extract()
			}
		case "substring":
			if p.isOp(next, "(") {
				return p.substring()
			}
		case "interval":
			if next.Kind == String || next.Kind == Number {
				return p.interval()
			}
		}
		if ast.IsReserved(t.Value) {
			p.expected("an expression")
		}
		if next.Kind == String {
			// A typed literal: DATE '1998-12-01'.
			p.next()
			name := t.Value
			if c, ok := ast.CanonicalType(name); ok {
				name = c
			}
			p.next()
			return &ast.TypedLit{At: t.Pos, Type: &ast.TypeName{At: t.Pos, Name: name}, Value: next.Value}
		}
		return p.nameExpr()
	}
	p.expected("an expression")
	return nil
}

// nameExpr reads a column reference a, t.a, s.t.a, or a function call.
func (p *parser) nameExpr() ast.Expr {
	t := p.next()
	parts := []string{t.Value}
	for p.peekOp(".") {
		dot := p.next()
		n := p.peek()
		if p.isOp(n, "*") {
			p.failf(n, "%s.* is allowed only in a select list", strings.Join(parts, "."))
		}
		if n.Kind != Ident && n.Kind != QuotedIdent {
			p.failf(n, "expected a name after %q, found %s", dot.Text, describe(n))
		}
		parts = append(parts, p.next().Value)
	}
	if !p.peekOp("(") {
		if len(parts) > 3 {
			p.failf(t, "column name %s has more than three parts", strings.Join(parts, "."))
		}
		return &ast.ColumnRef{At: t.Pos, Parts: parts}
	}
	if len(parts) > 1 {
		p.failf(t, "qualified function names (%s) are not supported", strings.Join(parts, "."))
	}
	p.next()
	f := &ast.FuncCall{At: t.Pos, Name: parts[0]}
	switch {
	case p.peekOp("*"):
		p.next()
		f.Star = true
	case p.peekOp(")"):
	default:
		if p.acceptKw("distinct") {
			f.Distinct = true
		} else {
			p.acceptKw("all")
		}
		f.Args = p.exprList()
		if n := p.peek(); p.isKw(n, "order") {
			p.failf(n, "ORDER BY inside an aggregate is not supported")
		}
	}
	p.expectOp(")")
	if n := p.peek(); p.isKw(n, "over") || p.isKw(n, "filter") || p.isKw(n, "within") {
		p.failf(n, "%s after a function call is not supported", strings.ToUpper(n.Value))
	}
	return f
}

func (p *parser) caseExpr() *ast.CaseExpr {
	c := &ast.CaseExpr{At: p.next().Pos}
	if !p.peekKw("when") {
		c.Operand = p.expr(ast.PrecLowest)
	}
	for p.acceptKw("when") {
		w := &ast.When{Cond: p.expr(ast.PrecLowest)}
		p.expectKw("then")
		w.Result = p.expr(ast.PrecLowest)
		c.Whens = append(c.Whens, w)
	}
	if len(c.Whens) == 0 {
		p.expected("WHEN")
	}
	if p.acceptKw("else") {
		c.Else = p.expr(ast.PrecLowest)
	}
	p.expectKw("end")
	return c
}

// extract reads EXTRACT(field FROM x); the field is a word or a string.
func (p *parser) extract() *ast.ExtractExpr {
	e := &ast.ExtractExpr{At: p.next().Pos}
	p.expectOp("(")
	f := p.peek()
	switch f.Kind {
	case Ident, QuotedIdent:
		e.Field = f.Value
	case String:
		e.Field = strings.ToLower(f.Value)
	default:
		p.expected("a date part (YEAR, MONTH, DAY ...)")
	}
	if e.Field == "" {
		p.failf(f, "expected a date part (YEAR, MONTH, DAY ...), found ''")
	}
	p.next()
	p.expectKw("from")
	e.X = p.expr(ast.PrecLowest)
	p.expectOp(")")
	return e
}

// substring reads SUBSTRING(x FROM a [FOR b]), SUBSTRING(x FOR b) or
// substring(x, a [, b]) as the call substring(x, a [, b]).
func (p *parser) substring() ast.Expr {
	t := p.next()
	f := &ast.FuncCall{At: t.Pos, Name: "substring"}
	p.expectOp("(")
	x := p.expr(ast.PrecLowest)
	switch {
	case p.acceptKw("from"):
		f.Args = []ast.Expr{x, p.expr(ast.PrecLowest)}
		if p.acceptKw("for") {
			f.Args = append(f.Args, p.expr(ast.PrecLowest))
		}
	case p.peekKw("for"):
		one := &ast.NumberLit{At: p.next().Pos, Kind: ast.NumInteger, Text: "1"}
		f.Args = []ast.Expr{x, one, p.expr(ast.PrecLowest)}
	case p.acceptOp(","):
		f.Args = append([]ast.Expr{x}, p.exprList()...)
	default:
		f.Args = []ast.Expr{x}
	}
	p.expectOp(")")
	return f
}

// interval reads INTERVAL 'text' [unit [(precision)]] or INTERVAL number
// unit. The SQL standard's leading field precision (INTERVAL '90' DAY (3),
// as the TPC-H specification writes Q1) is read and ignored: it bounds the
// digits of the text, which the binder checks anyway.
func (p *parser) interval() *ast.IntervalLit {
	at := p.next().Pos
	v := p.next()
	e := &ast.IntervalLit{At: at, Value: v.Value}
	if v.Kind == Number {
		e.Value = v.Text
	}
	if u := p.peek(); u.Kind == Ident {
		if unit, ok := intervalUnits[u.Value]; ok {
			p.next()
			e.Unit = unit
			if p.peekOp("(") && p.peekAt(1).Kind == Number && p.isOp(p.peekAt(2), ")") {
				p.next()
				p.next()
				p.next()
			}
		}
	}
	if v.Kind == Number && e.Unit == ast.UnitNone {
		p.expected("an interval unit (YEAR, MONTH, DAY, HOUR, MINUTE, SECOND)")
	}
	return e
}
