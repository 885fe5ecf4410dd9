package ast

import (
	"strconv"
	"strings"
)

// Precedence levels of expressions, loosest first. The parser parses with
// these levels and the printer parenthesizes with them.
const (
	PrecLowest  = iota
	PrecOr      // OR
	PrecAnd     // AND
	PrecNot     // NOT (prefix)
	PrecIs      // IS NULL, IS DISTINCT FROM, IS TRUE
	PrecCompare // = <> < <= > >=
	PrecLike    // BETWEEN, IN, LIKE, ILIKE
	PrecConcat  // ||
	PrecAdd     // + -
	PrecMul     // * / %
	PrecUnary   // unary - +
	PrecCast    // ::
	PrecAtom    // literals, names, calls, parenthesized forms
)

// BinaryPrec returns the precedence of an infix operator.
func BinaryPrec(op BinaryOp) int {
	switch op {
	case OpOr:
		return PrecOr
	case OpAnd:
		return PrecAnd
	case OpEq, OpNe, OpLt, OpLe, OpGt, OpGe:
		return PrecCompare
	case OpConcat:
		return PrecConcat
	case OpAdd, OpSub:
		return PrecAdd
	case OpMul, OpDiv, OpMod, OpIntDiv:
		return PrecMul
	}
	panic("BUG: ast: precedence of unknown operator " + op.String())
}

// Precedence returns the precedence of the operator at the root of e, or
// PrecAtom for expressions that print self-delimited.
func Precedence(e Expr) int {
	switch e := e.(type) {
	case *BinaryExpr:
		return BinaryPrec(e.Op)
	case *UnaryExpr:
		if e.Op == OpNot {
			return PrecNot
		}
		return PrecUnary
	case *IsNullExpr, *IsBoolExpr, *IsDistinctExpr:
		return PrecIs
	case *BetweenExpr, *InListExpr, *InSubqueryExpr, *LikeExpr:
		return PrecLike
	}
	return PrecAtom
}

// reserved are the words that cannot be used as unquoted identifiers: names
// of columns, tables and aliases. They are PostgreSQL's reserved keywords
// plus the words that begin or continue clauses in this dialect.
var reserved = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`
		all and any array as asc asymmetric between both case cast check collate column
		constraint create cross current_date default desc distinct do else end except
		exists false fetch for foreign from full grant group having ilike in initially inner
		intersect into is isnull join lateral leading left like limit natural not notnull
		null offset on only or order outer placing primary references returning right
		select similar some symmetric table then to trailing true union unique user using
		values variadic when where window with`) {
		reserved[w] = true
	}
}

// IsReserved reports whether the lower-case word w is a reserved keyword,
// which an identifier must quote.
func IsReserved(w string) bool { return reserved[w] }

// typeSynonyms maps every accepted spelling of a dialect type (one word,
// lower case) to its canonical [TypeName] name.
var typeSynonyms = map[string]string{
	"boolean": "boolean", "bool": "boolean",
	"integer": "integer", "int": "integer", "int4": "integer", "signed": "integer",
	"bigint": "bigint", "int8": "bigint", "long": "bigint",
	"smallint": "smallint", "int2": "smallint", "short": "smallint",
	"double": "double", "float8": "double", "float": "double",
	"real": "real", "float4": "real",
	"decimal": "decimal", "numeric": "decimal",
	"varchar": "varchar", "text": "varchar", "string": "varchar",
	"char": "char", "character": "char", "bpchar": "char",
	"date": "date",
}

// CanonicalType returns the canonical name of a one-word type spelling
// (lower case), and false when the word is not a type of the dialect.
// DOUBLE PRECISION and CHARACTER VARYING are two-word spellings the parser
// resolves itself.
func CanonicalType(word string) (string, bool) {
	c, ok := typeSynonyms[word]
	return c, ok
}

// Format returns the canonical SQL text of a node (see the package doc).
func Format(n Node) string {
	var p printer
	n.format(&p)
	return p.b.String()
}

// FormatStatements renders statements separated by ";\n", the canonical
// text of a script.
func FormatStatements(stmts []Statement) string {
	var p printer
	for i, s := range stmts {
		if i > 0 {
			p.b.WriteString(";\n")
		}
		s.format(&p)
	}
	return p.b.String()
}

// QuoteIdent returns name as an identifier token: unchanged when it reads
// back as itself unquoted, else in double quotes with quotes doubled.
func QuoteIdent(name string) string {
	if identIsPlain(name) {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

func identIsPlain(name string) bool {
	if name == "" || reserved[name] {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c == '_', c >= 0x80:
		case i > 0 && (c >= '0' && c <= '9' || c == '$'):
		default:
			return false
		}
	}
	return true
}

// QuoteString returns s as a standard SQL string literal.
func QuoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// printer accumulates canonical text.
type printer struct {
	b strings.Builder
}

func (p *printer) str(s string)   { p.b.WriteString(s) }
func (p *printer) ident(s string) { p.b.WriteString(QuoteIdent(s)) }

// word prints a name in a position where the parser accepts any word,
// reserved or not (COPY options, SHOW): quoted only when not a plain word.
func (p *printer) word(s string) {
	if reserved[s] {
		p.str(s)
		return
	}
	p.ident(s)
}

func (p *printer) idents(names []string) {
	p.str("(")
	for i, n := range names {
		if i > 0 {
			p.str(", ")
		}
		p.ident(n)
	}
	p.str(")")
}

// expr prints e, in parentheses when its precedence is below min.
func (p *printer) expr(e Expr, min int) {
	if Precedence(e) < min {
		p.str("(")
		e.format(p)
		p.str(")")
		return
	}
	e.format(p)
}

func (p *printer) exprs(list []Expr) {
	for i, e := range list {
		if i > 0 {
			p.str(", ")
		}
		p.expr(e, PrecLowest)
	}
}

// body prints a query body operand of a set operation at precedence min
// (UNION/EXCEPT 1, INTERSECT 2): set operations below min and queries with
// their own clauses are parenthesized.
func (p *printer) body(b QueryBody, min int) {
	paren := false
	switch b := b.(type) {
	case *SetOp:
		paren = setPrec(b.Op) < min
	case *Query:
		paren = true
	}
	if paren {
		p.str("(")
		b.format(p)
		p.str(")")
		return
	}
	b.format(p)
}

func setPrec(k SetOpKind) int {
	if k == Intersect {
		return 2
	}
	return 1
}

func (n *SelectStmt) format(p *printer) { n.Query.format(p) }

func (n *Query) format(p *printer) {
	if len(n.With) > 0 {
		p.str("WITH ")
		for i, c := range n.With {
			if i > 0 {
				p.str(", ")
			}
			c.format(p)
		}
		p.str(" ")
	}
	if q, ok := n.Body.(*Query); ok {
		p.str("(")
		q.format(p)
		p.str(")")
	} else {
		n.Body.format(p)
	}
	if len(n.OrderBy) > 0 {
		p.str(" ORDER BY ")
		for i, o := range n.OrderBy {
			if i > 0 {
				p.str(", ")
			}
			p.expr(o.Expr, PrecLowest)
			if o.Dir != DirDefault {
				p.str(" " + o.Dir.String())
			}
			if o.Nulls != NullsDefault {
				p.str(" " + o.Nulls.String())
			}
		}
	}
	if n.Limit != nil {
		p.str(" LIMIT ")
		p.expr(n.Limit, PrecLowest)
	}
	if n.Offset != nil {
		p.str(" OFFSET ")
		p.expr(n.Offset, PrecLowest)
	}
}

func (n *CTE) format(p *printer) {
	p.ident(n.Name)
	if len(n.Columns) > 0 {
		p.str(" ")
		p.idents(n.Columns)
	}
	p.str(" AS (")
	n.Query.format(p)
	p.str(")")
}

func (n *Select) format(p *printer) {
	p.str("SELECT ")
	if n.Distinct {
		p.str("DISTINCT ")
	}
	for i, c := range n.Columns {
		if i > 0 {
			p.str(", ")
		}
		p.expr(c.Expr, PrecLowest)
		if c.Alias != "" {
			p.str(" AS ")
			p.ident(c.Alias)
		}
	}
	if len(n.From) > 0 {
		p.str(" FROM ")
		for i, t := range n.From {
			if i > 0 {
				p.str(", ")
			}
			t.format(p)
		}
	}
	if n.Where != nil {
		p.str(" WHERE ")
		p.expr(n.Where, PrecLowest)
	}
	if len(n.GroupBy) > 0 {
		p.str(" GROUP BY ")
		p.exprs(n.GroupBy)
	}
	if n.Having != nil {
		p.str(" HAVING ")
		p.expr(n.Having, PrecLowest)
	}
}

func (n *Values) format(p *printer) {
	p.str("VALUES ")
	for i, row := range n.Rows {
		if i > 0 {
			p.str(", ")
		}
		p.str("(")
		p.exprs(row)
		p.str(")")
	}
}

func (n *SetOp) format(p *printer) {
	prec := setPrec(n.Op)
	p.body(n.Left, prec)
	p.str(" " + n.Op.String() + " ")
	if n.All {
		p.str("ALL ")
	}
	p.body(n.Right, prec+1)
}

func (n *CreateTableStmt) format(p *printer) {
	p.str("CREATE TABLE ")
	if n.IfNotExists {
		p.str("IF NOT EXISTS ")
	}
	n.Name.format(p)
	if n.As != nil {
		p.str(" AS ")
		n.As.format(p)
		return
	}
	p.str(" (")
	for i, c := range n.Columns {
		if i > 0 {
			p.str(", ")
		}
		c.format(p)
	}
	if len(n.PrimaryKey) > 0 {
		p.str(", PRIMARY KEY ")
		p.idents(n.PrimaryKey)
	}
	p.str(")")
}

func (n *ColumnDef) format(p *printer) {
	p.ident(n.Name)
	p.str(" ")
	n.Type.format(p)
	if n.NotNull && !n.PrimaryKey {
		p.str(" NOT NULL")
	}
	if n.PrimaryKey {
		p.str(" PRIMARY KEY")
	}
}

func (n *CreateViewStmt) format(p *printer) {
	p.str("CREATE ")
	if n.OrReplace {
		p.str("OR REPLACE ")
	}
	p.str("VIEW ")
	n.Name.format(p)
	if len(n.Columns) > 0 {
		p.str(" ")
		p.idents(n.Columns)
	}
	p.str(" AS ")
	n.Query.format(p)
}

func (n *DropStmt) format(p *printer) {
	p.str("DROP " + n.Kind.String() + " ")
	if n.IfExists {
		p.str("IF EXISTS ")
	}
	for i, t := range n.Names {
		if i > 0 {
			p.str(", ")
		}
		t.format(p)
	}
}

func (n *InsertStmt) format(p *printer) {
	p.str("INSERT INTO ")
	n.Table.format(p)
	if len(n.Columns) > 0 {
		p.str(" ")
		p.idents(n.Columns)
	}
	p.str(" ")
	n.Source.format(p)
}

func (n *CopyStmt) format(p *printer) {
	p.str("COPY ")
	n.Table.format(p)
	if len(n.Columns) > 0 {
		p.str(" ")
		p.idents(n.Columns)
	}
	p.str(" FROM " + QuoteString(n.File))
	if len(n.Options) > 0 {
		p.str(" (")
		for i, o := range n.Options {
			if i > 0 {
				p.str(", ")
			}
			o.format(p)
		}
		p.str(")")
	}
}

func (n *CopyOption) format(p *printer) {
	p.word(n.Name)
	switch n.Kind {
	case OptString:
		p.str(" " + QuoteString(n.Value))
	case OptNumber:
		p.str(" " + n.Value)
	case OptWord:
		p.str(" ")
		p.word(n.Value)
	}
}

func (n *ExplainStmt) format(p *printer) {
	p.str("EXPLAIN ")
	if n.Analyze {
		p.str("ANALYZE ")
	}
	n.Stmt.format(p)
}

func (n *SetStmt) format(p *printer) {
	p.str("SET ")
	p.ident(n.Name)
	p.str(" = ")
	p.expr(n.Value, PrecLowest)
}

func (n *ShowStmt) format(p *printer) {
	p.str("SHOW ")
	p.word(n.Name)
}

func (n *TransactionStmt) format(p *printer) { p.str(n.Kind.String()) }

func (n *AttachProgramStmt) format(p *printer) {
	p.str("ATTACH PROGRAM " + QuoteString(n.File))
	if n.Section != "" {
		p.str(" SECTION " + QuoteString(n.Section))
	}
	p.str(" TO HOOK ")
	p.ident(n.Hook)
}

func (n *DetachProgramStmt) format(p *printer) {
	p.str("DETACH PROGRAM FROM HOOK ")
	p.ident(n.Hook)
}

func (n *CreateUserStmt) format(p *printer) {
	p.str("CREATE USER ")
	p.ident(n.Name)
	p.str(" PASSWORD " + QuoteString(n.Password))
	if n.Superuser {
		p.str(" SUPERUSER")
	}
}

func (n *AlterUserStmt) format(p *printer) {
	p.str("ALTER USER ")
	p.ident(n.Name)
	if n.Password != nil {
		p.str(" PASSWORD " + QuoteString(*n.Password))
	}
	if n.Superuser != nil {
		if *n.Superuser {
			p.str(" SUPERUSER")
		} else {
			p.str(" NOSUPERUSER")
		}
	}
}

func (n *DropUserStmt) format(p *printer) {
	p.str("DROP USER ")
	if n.IfExists {
		p.str("IF EXISTS ")
	}
	p.ident(n.Name)
}

func (n *TableName) format(p *printer) {
	if n.Schema != "" {
		p.ident(n.Schema)
		p.str(".")
	}
	p.ident(n.Name)
}

func (n *TypeName) format(p *printer) {
	switch n.Name {
	case "boolean", "integer", "bigint", "smallint", "double", "real", "decimal", "varchar", "char", "date":
		p.str(strings.ToUpper(n.Name))
	default:
		if _, synonym := typeSynonyms[n.Name]; synonym {
			// A quoted spelling that would read back as a synonym.
			p.str(`"` + n.Name + `"`)
		} else {
			p.ident(n.Name)
		}
	}
	if len(n.Params) > 0 {
		p.str("(")
		for i, v := range n.Params {
			if i > 0 {
				p.str(",")
			}
			p.str(strconv.Itoa(v))
		}
		p.str(")")
	}
}

func (a *Alias) format(p *printer) {
	p.str(" AS ")
	p.ident(a.Name)
	if len(a.Columns) > 0 {
		p.str(" ")
		p.idents(a.Columns)
	}
}

func (n *TableRef) format(p *printer) {
	n.Name.format(p)
	if n.Alias != nil {
		n.Alias.format(p)
	}
}

func (n *TableFuncRef) format(p *printer) {
	p.ident(n.Name)
	p.str("(")
	p.exprs(n.Args)
	p.str(")")
	if n.Alias != nil {
		n.Alias.format(p)
	}
}

func (n *SubqueryRef) format(p *printer) {
	p.str("(")
	n.Query.format(p)
	p.str(")")
	if n.Alias != nil {
		n.Alias.format(p)
	}
}

func (n *Join) format(p *printer) {
	n.Left.format(p)
	p.str(" " + n.Kind.String() + " ")
	if _, ok := n.Right.(*Join); ok {
		p.str("(")
		n.Right.format(p)
		p.str(")")
	} else {
		n.Right.format(p)
	}
	switch {
	case n.On != nil:
		p.str(" ON ")
		p.expr(n.On, PrecLowest)
	case len(n.Using) > 0:
		p.str(" USING ")
		p.idents(n.Using)
	}
}

func (n *ColumnRef) format(p *printer) {
	for i, part := range n.Parts {
		if i > 0 {
			p.str(".")
		}
		p.ident(part)
	}
}

func (n *Star) format(p *printer) {
	if n.Table != "" {
		p.ident(n.Table)
		p.str(".")
	}
	p.str("*")
}

func (n *NumberLit) format(p *printer) { p.str(n.Text) }
func (n *StringLit) format(p *printer) { p.str(QuoteString(n.Value)) }
func (n *NullLit) format(p *printer)   { p.str("NULL") }
func (n *Param) format(p *printer)     { p.str("$" + strconv.Itoa(n.Index)) }

func (n *BoolLit) format(p *printer) {
	if n.Value {
		p.str("TRUE")
	} else {
		p.str("FALSE")
	}
}

func (n *TypedLit) format(p *printer) {
	n.Type.format(p)
	p.str(" " + QuoteString(n.Value))
}

func (n *IntervalLit) format(p *printer) {
	p.str("INTERVAL " + QuoteString(n.Value))
	if n.Unit != UnitNone {
		p.str(" " + n.Unit.String())
	}
}

func (n *UnaryExpr) format(p *printer) {
	if n.Op == OpNot {
		p.str("NOT ")
		p.expr(n.X, PrecNot)
		return
	}
	p.str(n.Op.String())
	if _, nested := n.X.(*UnaryExpr); nested {
		// "- -x" must not print as the comment "--x".
		p.str("(")
		n.X.format(p)
		p.str(")")
		return
	}
	p.expr(n.X, PrecUnary)
}

func (n *BinaryExpr) format(p *printer) {
	prec := BinaryPrec(n.Op)
	p.expr(n.L, prec)
	p.str(" " + n.Op.String() + " ")
	p.expr(n.R, prec+1)
}

func not(b bool) string {
	if b {
		return "NOT "
	}
	return ""
}

func (n *IsNullExpr) format(p *printer) {
	p.expr(n.X, PrecIs)
	p.str(" IS " + not(n.Not) + "NULL")
}

func (n *IsBoolExpr) format(p *printer) {
	p.expr(n.X, PrecIs)
	p.str(" IS " + not(n.Not))
	if n.Value {
		p.str("TRUE")
	} else {
		p.str("FALSE")
	}
}

func (n *IsDistinctExpr) format(p *printer) {
	p.expr(n.L, PrecIs)
	p.str(" IS " + not(n.Not) + "DISTINCT FROM ")
	p.expr(n.R, PrecIs+1)
}

func (n *BetweenExpr) format(p *printer) {
	p.expr(n.X, PrecLike)
	p.str(" " + not(n.Not) + "BETWEEN ")
	if n.Symmetric {
		p.str("SYMMETRIC ")
	}
	p.expr(n.Lo, PrecLike+1)
	p.str(" AND ")
	p.expr(n.Hi, PrecLike+1)
}

func (n *InListExpr) format(p *printer) {
	p.expr(n.X, PrecLike)
	p.str(" " + not(n.Not) + "IN (")
	p.exprs(n.List)
	p.str(")")
}

func (n *InSubqueryExpr) format(p *printer) {
	p.expr(n.X, PrecLike)
	p.str(" " + not(n.Not) + "IN (")
	n.Query.format(p)
	p.str(")")
}

func (n *LikeExpr) format(p *printer) {
	p.expr(n.X, PrecLike)
	p.str(" " + not(n.Not))
	if n.CaseInsensitive {
		p.str("ILIKE ")
	} else {
		p.str("LIKE ")
	}
	p.expr(n.Pattern, PrecLike+1)
	if n.Escape != nil {
		p.str(" ESCAPE ")
		p.expr(n.Escape, PrecLike+1)
	}
}

func (n *ExistsExpr) format(p *printer) {
	p.str("EXISTS (")
	n.Query.format(p)
	p.str(")")
}

func (n *SubqueryExpr) format(p *printer) {
	p.str("(")
	n.Query.format(p)
	p.str(")")
}

func (n *CaseExpr) format(p *printer) {
	p.str("CASE")
	if n.Operand != nil {
		p.str(" ")
		p.expr(n.Operand, PrecLowest)
	}
	for _, w := range n.Whens {
		p.str(" WHEN ")
		p.expr(w.Cond, PrecLowest)
		p.str(" THEN ")
		p.expr(w.Result, PrecLowest)
	}
	if n.Else != nil {
		p.str(" ELSE ")
		p.expr(n.Else, PrecLowest)
	}
	p.str(" END")
}

func (n *CastExpr) format(p *printer) {
	p.str("CAST(")
	p.expr(n.X, PrecLowest)
	p.str(" AS ")
	n.Type.format(p)
	p.str(")")
}

func (n *ExtractExpr) format(p *printer) {
	p.str("EXTRACT(")
	p.ident(n.Field)
	p.str(" FROM ")
	p.expr(n.X, PrecLowest)
	p.str(")")
}

// specialCalls are function names that the parser reads as a special form
// when unquoted and followed by "(", so a plain call by that name quotes it.
var specialCalls = map[string]bool{"extract": true}

func (n *FuncCall) format(p *printer) {
	if specialCalls[n.Name] {
		p.str(`"` + n.Name + `"`)
	} else {
		p.ident(n.Name)
	}
	p.str("(")
	switch {
	case n.Star:
		p.str("*")
	case n.Distinct:
		p.str("DISTINCT ")
		p.exprs(n.Args)
	default:
		p.exprs(n.Args)
	}
	p.str(")")
}
