package parser

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/bpfdb/bpfdb/internal/sql/ast"
)

// maxDepth bounds the nesting of expressions and queries, so that hostile
// input such as a million "(" fails with an error instead of exhausting the
// stack.
const maxDepth = 500

// Parse parses a script of statements separated by semicolons. Empty
// statements (";;") are skipped. The first error stops parsing; it is an
// [*Error].
func Parse(sql string) ([]ast.Statement, error) {
	p := newParser(sql)
	var stmts []ast.Statement
	err := p.run(func() {
		for {
			for p.acceptOp(";") {
			}
			if p.peek().Kind == EOF {
				return
			}
			stmts = append(stmts, p.statement())
			if p.peek().Kind != EOF && !p.isOp(p.peek(), ";") {
				p.expected(`";" or end of input`)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return stmts, nil
}

// ParseOne parses exactly one statement, optionally followed by a
// semicolon.
func ParseOne(sql string) (ast.Statement, error) {
	p := newParser(sql)
	var stmt ast.Statement
	err := p.run(func() {
		stmt = p.statement()
		p.acceptOp(";")
		if p.peek().Kind != EOF {
			p.expected("end of input after the statement")
		}
	})
	if err != nil {
		return nil, err
	}
	return stmt, nil
}

// ParseExpr parses one scalar expression.
func ParseExpr(sql string) (ast.Expr, error) {
	p := newParser(sql)
	var e ast.Expr
	err := p.run(func() {
		e = p.expr(ast.PrecLowest)
		if p.peek().Kind != EOF {
			p.expected("end of input after the expression")
		}
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// parser is a recursive-descent parser over the whole token list.
//
// A syntax error unwinds the parse with a panic carrying a *syntaxFailure,
// recovered in exactly one place (run), which turns it back into the
// returned error; any other panic is a bug and propagates.
type parser struct {
	src   string
	toks  []Token
	i     int
	depth int
	// questions counts the ? parameters of the current statement.
	questions int
	// alias is the last implicit alias read (SELECT a b, FROM t x), kept
	// to explain a misspelled keyword taken for an alias.
	alias Token
}

type syntaxFailure struct{ err *Error }

func newParser(src string) *parser {
	return &parser{src: src, toks: Lex(src)}
}

func (p *parser) run(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			sf, ok := r.(*syntaxFailure)
			if !ok {
				panic(r)
			}
			err = sf.err
		}
	}()
	f()
	return nil
}

// ---- token helpers ----

func (p *parser) peek() Token { return p.toks[p.i] }

// peekAt returns the token k places ahead (EOF or Invalid past the end).
func (p *parser) peekAt(k int) Token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() Token {
	t := p.toks[p.i]
	if t.Kind != EOF && t.Kind != Invalid {
		p.i++
	}
	return t
}

func (p *parser) isKw(t Token, w string) bool  { return t.Kind == Ident && t.Value == w }
func (p *parser) isOp(t Token, op string) bool { return t.Kind == Op && t.Value == op }
func (p *parser) peekKw(w string) bool         { return p.isKw(p.peek(), w) }
func (p *parser) peekOp(op string) bool        { return p.isOp(p.peek(), op) }
func (p *parser) isQueryStart(t Token) bool {
	return p.isKw(t, "select") || p.isKw(t, "with") || p.isKw(t, "values")
}
func (p *parser) failf(t Token, f string, a ...any) { p.fail(t, fmt.Sprintf(f, a...)) }

func (p *parser) acceptKw(w string) bool {
	if p.peekKw(w) {
		p.next()
		return true
	}
	return false
}

func (p *parser) acceptOp(op string) bool {
	if p.peekOp(op) {
		p.next()
		return true
	}
	return false
}

func (p *parser) expectKw(w string) Token {
	if !p.peekKw(w) {
		p.expected(strings.ToUpper(w))
	}
	return p.next()
}

func (p *parser) expectOp(op string) Token {
	if !p.peekOp(op) {
		p.expected(fmt.Sprintf("%q", op))
	}
	return p.next()
}

// fail stops the parse with an error at token t. A lexical error token
// reports its own message.
func (p *parser) fail(t Token, msg string) {
	pos := t.Pos
	switch {
	case t.Kind == Invalid:
		msg = t.Value
	case t.Kind == EOF && p.i > 0:
		// Point just after the last token rather than at trailing space
		// or on an empty last line.
		last := p.toks[p.i-1]
		pos = posAt(p.src, last.Pos.Offset+len(last.Text))
	}
	panic(&syntaxFailure{newError(p.src, pos, msg)})
}

// posAt computes the position of byte offset off in src.
func posAt(src string, off int) ast.Pos {
	before := src[:off]
	lineStart := strings.LastIndexByte(before, '\n') + 1
	return ast.Pos{
		Offset: off,
		Line:   strings.Count(before, "\n") + 1,
		Col:    utf8.RuneCountInString(before[lineStart:]) + 1,
	}
}

// expected fails at the next token with "expected what, found ...". When
// that token directly follows an implicit alias that looks like a
// misspelled keyword, the error points at the alias instead:
// `SELECT a FORM t` gives `expected FROM, found "FORM"`.
func (p *parser) expected(what string) {
	t := p.peek()
	if t.Kind != Invalid && p.i > 0 && p.toks[p.i-1] == p.alias {
		if kw := nearKeyword(p.alias.Value); kw != "" {
			p.failf(p.alias, "expected %s, found %q", strings.ToUpper(kw), p.alias.Text)
		}
	}
	hint := ""
	if t.Kind == Ident && !ast.IsReserved(t.Value) {
		if kw := nearKeyword(t.Value); kw != "" {
			hint = fmt.Sprintf(" (did you mean %s?)", strings.ToUpper(kw))
		}
	}
	p.failf(t, "expected %s, found %s%s", what, describe(t), hint)
}

// describe names a token in an error message.
func describe(t Token) string {
	switch t.Kind {
	case EOF:
		return "end of input"
	case Ident:
		if ast.IsReserved(t.Value) {
			return fmt.Sprintf("keyword %s", strings.ToUpper(t.Value))
		}
	case QuotedIdent, String:
		// Already quoted; shorten long literals.
		if r := []rune(t.Text); len(r) > 40 {
			return string(r[:37]) + "..."
		}
		return t.Text
	}
	return fmt.Sprintf("%q", t.Text)
}

// enter counts one level of nesting; leave undoes it.
func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		p.failf(p.peek(), "statement nested more than %d levels deep", maxDepth)
	}
}

func (p *parser) leave() { p.depth-- }

// ident reads an identifier: an unquoted non-reserved word or a quoted
// name. what says what the identifier names, for the error.
func (p *parser) ident(what string) string {
	t := p.peek()
	switch {
	case t.Kind == QuotedIdent:
	case t.Kind == Ident && !ast.IsReserved(t.Value):
	case t.Kind == Ident:
		p.failf(t, "expected %s, found keyword %s (quote it to use it as a name)", what, strings.ToUpper(t.Value))
	default:
		p.expected(what)
	}
	return p.next().Value
}

// label reads a name after AS or in an option: any word, reserved or not,
// or a quoted name.
func (p *parser) label(what string) string {
	t := p.peek()
	if t.Kind != Ident && t.Kind != QuotedIdent {
		p.expected(what)
	}
	return p.next().Value
}

// identList reads "(a, b, c)".
func (p *parser) identList(what string) []string {
	p.expectOp("(")
	var names []string
	for {
		names = append(names, p.ident(what))
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectOp(")")
	return names
}

// isNameStart reports whether t can begin an identifier.
func isNameStart(t Token) bool {
	return t.Kind == QuotedIdent || t.Kind == Ident && !ast.IsReserved(t.Value)
}

// clauseKeywords are the words nearKeyword suggests.
var clauseKeywords = []string{
	"select", "from", "where", "group", "having", "order", "limit", "offset",
	"union", "except", "intersect", "join", "inner", "left", "right", "outer", "cross", "on",
	"using", "and", "between", "like", "distinct", "values",
}

// nearKeyword returns the clause keyword that w is one edit (insertion,
// deletion, substitution or transposition) away from, or "".
func nearKeyword(w string) string {
	if len(w) < 3 {
		return ""
	}
	for _, kw := range clauseKeywords {
		if w != kw && editDistance(w, kw) == 1 {
			return kw
		}
	}
	return ""
}

// editDistance is the optimal-string-alignment distance between a and b.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// ---- statements ----

func (p *parser) statement() ast.Statement {
	p.enter() // EXPLAIN EXPLAIN ... nests
	defer p.leave()
	if p.depth == 1 {
		p.questions = 0
	}
	t := p.peek()
	if p.isOp(t, "(") || p.isQueryStart(t) {
		return &ast.SelectStmt{Query: p.query()}
	}
	if t.Kind == Ident {
		switch t.Value {
		case "create":
			return p.create()
		case "alter":
			if p.isKw(p.peekAt(1), "user") {
				return p.alterUser()
			}
		case "drop":
			if p.isKw(p.peekAt(1), "user") {
				return p.dropUser()
			}
			return p.drop()
		case "insert":
			return p.insert()
		case "copy":
			return p.copyStmt()
		case "explain":
			p.next()
			s := &ast.ExplainStmt{At: t.Pos}
			s.Analyze = p.acceptKw("analyze")
			s.Stmt = p.statement()
			return s
		case "set":
			return p.set()
		case "show":
			p.next()
			return &ast.ShowStmt{At: t.Pos, Name: p.label("setting name")}
		case "begin", "start", "commit", "end", "rollback", "abort":
			return p.transaction()
		case "attach":
			p.next()
			p.expectKw("program")
			file := p.stringLit("program file name")
			var section string
			if p.acceptKw("section") {
				section = p.stringLit("program section name")
			}
			p.expectKw("to")
			p.expectKw("hook")
			return &ast.AttachProgramStmt{At: t.Pos, File: file, Section: section, Hook: p.ident("hook name")}
		case "detach":
			p.next()
			p.expectKw("program")
			p.expectKw("from")
			p.expectKw("hook")
			return &ast.DetachProgramStmt{At: t.Pos, Hook: p.ident("hook name")}
		}
	}
	p.expected("a statement")
	return nil
}

func (p *parser) stringLit(what string) string {
	if p.peek().Kind != String {
		p.expected(what + " (a string)")
	}
	return p.next().Value
}

func (p *parser) tableName() *ast.TableName {
	at := p.peek().Pos
	name := p.ident("table name")
	if p.acceptOp(".") {
		return &ast.TableName{At: at, Schema: name, Name: p.ident("table name")}
	}
	return &ast.TableName{At: at, Name: name}
}

func (p *parser) create() ast.Statement {
	at := p.next().Pos
	orReplace := false
	if p.acceptKw("or") {
		p.expectKw("replace")
		orReplace = true
	}
	switch t := p.peek(); {
	case p.isKw(t, "view"):
		p.next()
		s := &ast.CreateViewStmt{At: at, OrReplace: orReplace, Name: p.tableName()}
		if p.peekOp("(") {
			s.Columns = p.identList("column name")
		}
		p.expectKw("as")
		s.Query = p.query()
		return s
	case p.isKw(t, "table") && !orReplace:
		p.next()
		return p.createTable(at)
	case p.isKw(t, "user") && !orReplace:
		p.next()
		return p.createUser(at)
	case p.isKw(t, "temp") || p.isKw(t, "temporary"):
		p.failf(t, "temporary tables are not supported")
	}
	if orReplace {
		p.expected("VIEW")
	}
	p.expected("TABLE, VIEW or USER")
	return nil
}

// createUser parses the rest of CREATE USER name [WITH] options, the
// options being PASSWORD 'password' (required) and SUPERUSER or
// NOSUPERUSER, each at most once.
func (p *parser) createUser(at ast.Pos) *ast.CreateUserStmt {
	s := &ast.CreateUserStmt{At: at, Name: p.ident("user name")}
	password, super := p.userOptions()
	if password == nil {
		p.expected("PASSWORD")
	}
	s.Password = *password
	s.Superuser = super != nil && *super
	return s
}

// alterUser parses ALTER USER name [WITH] options, at least one.
func (p *parser) alterUser() *ast.AlterUserStmt {
	s := &ast.AlterUserStmt{At: p.next().Pos}
	p.expectKw("user")
	s.Name = p.ident("user name")
	s.Password, s.Superuser = p.userOptions()
	if s.Password == nil && s.Superuser == nil {
		p.expected("PASSWORD, SUPERUSER or NOSUPERUSER")
	}
	return s
}

// userOptions parses [WITH] followed by PASSWORD 'password', SUPERUSER
// and NOSUPERUSER, each at most once; nil for the options not given.
func (p *parser) userOptions() (password *string, superuser *bool) {
	p.acceptKw("with")
	seen := map[string]bool{}
	for {
		t := p.peek()
		var opt string
		switch {
		case p.isKw(t, "password"):
			opt = "password"
		case p.isKw(t, "superuser"), p.isKw(t, "nosuperuser"):
			opt = "superuser"
		}
		if opt == "" {
			break
		}
		if seen[opt] {
			p.failf(t, "%s given twice", strings.ToUpper(t.Value))
		}
		seen[opt] = true
		p.next()
		switch t.Value {
		case "password":
			pw := p.stringLit("password")
			password = &pw
		default:
			su := t.Value == "superuser"
			superuser = &su
		}
	}
	return password, superuser
}

// dropUser parses DROP USER [IF EXISTS] name.
func (p *parser) dropUser() *ast.DropUserStmt {
	s := &ast.DropUserStmt{At: p.next().Pos}
	p.expectKw("user")
	if p.acceptKw("if") {
		p.expectKw("exists")
		s.IfExists = true
	}
	s.Name = p.ident("user name")
	return s
}

func (p *parser) createTable(at ast.Pos) *ast.CreateTableStmt {
	s := &ast.CreateTableStmt{At: at}
	if p.acceptKw("if") {
		p.expectKw("not")
		p.expectKw("exists")
		s.IfNotExists = true
	}
	s.Name = p.tableName()
	if p.acceptKw("as") {
		s.As = p.query()
		return s
	}
	p.expectOp("(")
	hasPK := false
	for {
		t := p.peek()
		if p.isKw(t, "primary") {
			p.next()
			p.expectKw("key")
			if hasPK {
				p.failf(t, "table %s has more than one primary key", s.Name.Name)
			}
			hasPK = true
			s.PrimaryKey = p.identList("column name")
		} else if p.isKw(t, "unique") || p.isKw(t, "check") || p.isKw(t, "foreign") || p.isKw(t, "constraint") {
			p.failf(t, "table constraint %s is not supported", strings.ToUpper(t.Value))
		} else {
			c := p.columnDef()
			if c.PrimaryKey {
				if hasPK {
					p.failf(t, "table %s has more than one primary key", s.Name.Name)
				}
				hasPK = true
			}
			s.Columns = append(s.Columns, c)
		}
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectOp(")")
	if len(s.Columns) == 0 {
		p.failf(p.toks[p.i-1], "table %s has no columns", s.Name.Name)
	}
	return s
}

func (p *parser) columnDef() *ast.ColumnDef {
	c := &ast.ColumnDef{At: p.peek().Pos, Name: p.ident("column name")}
	c.Type = p.typeName()
	for {
		t := p.peek()
		switch {
		case p.isKw(t, "not"):
			p.next()
			p.expectKw("null")
			c.NotNull = true
		case p.isKw(t, "null"):
			p.next()
			if c.NotNull {
				p.failf(t, "column %s is both NULL and NOT NULL", c.Name)
			}
		case p.isKw(t, "primary"):
			p.next()
			p.expectKw("key")
			c.PrimaryKey, c.NotNull = true, true
		case p.isKw(t, "unique") || p.isKw(t, "default") || p.isKw(t, "check") ||
			p.isKw(t, "references") || p.isKw(t, "collate") || p.isKw(t, "constraint"):
			p.failf(t, "column constraint %s is not supported", strings.ToUpper(t.Value))
		default:
			return c
		}
	}
}

// typeName reads a data type: a name (two words for DOUBLE PRECISION and
// CHARACTER VARYING) and optional integer parameters.
func (p *parser) typeName() *ast.TypeName {
	t := p.peek()
	tn := &ast.TypeName{At: t.Pos}
	switch t.Kind {
	case QuotedIdent:
		tn.Name = t.Value
	case Ident:
		if ast.IsReserved(t.Value) {
			p.expected("type name")
		}
		tn.Name = t.Value
		if c, ok := ast.CanonicalType(t.Value); ok {
			tn.Name = c
		}
		switch {
		case t.Value == "double" && p.isKw(p.peekAt(1), "precision"),
			t.Value == "character" && p.isKw(p.peekAt(1), "varying"):
			p.next()
			if t.Value == "character" {
				tn.Name = "varchar"
			}
		}
	default:
		p.expected("type name")
	}
	p.next()
	if p.acceptOp("(") {
		for {
			n := p.peek()
			if n.Kind != Number || strings.ContainsAny(n.Text, ".eE") {
				p.expected("integer type parameter")
			}
			var v int
			if _, err := fmt.Sscan(n.Text, &v); err != nil || v > 1<<31-1 {
				p.failf(n, "type parameter %s out of range", n.Text)
			}
			p.next()
			tn.Params = append(tn.Params, v)
			if !p.acceptOp(",") {
				break
			}
		}
		p.expectOp(")")
	}
	maxParams := -1
	switch tn.Name {
	case "varchar", "char":
		maxParams = 1
	case "decimal":
		maxParams = 2
	case "boolean", "integer", "bigint", "smallint", "double", "real", "date":
		maxParams = 0
	}
	switch {
	case maxParams == 0 && len(tn.Params) > 0:
		p.failf(t, "type %s takes no parameters", strings.ToUpper(tn.Name))
	case maxParams > 0 && len(tn.Params) > maxParams:
		p.failf(t, "type %s takes at most %d parameters, found %d", strings.ToUpper(tn.Name), maxParams, len(tn.Params))
	}
	return tn
}

func (p *parser) drop() *ast.DropStmt {
	s := &ast.DropStmt{At: p.next().Pos}
	switch {
	case p.acceptKw("table"):
		s.Kind = ast.ObjTable
	case p.acceptKw("view"):
		s.Kind = ast.ObjView
	default:
		p.expected("TABLE or VIEW")
	}
	if p.acceptKw("if") {
		p.expectKw("exists")
		s.IfExists = true
	}
	for {
		s.Names = append(s.Names, p.tableName())
		if !p.acceptOp(",") {
			break
		}
	}
	if t := p.peek(); p.isKw(t, "cascade") || p.isKw(t, "restrict") {
		p.failf(t, "DROP ... %s is not supported", strings.ToUpper(t.Value))
	}
	return s
}

func (p *parser) insert() *ast.InsertStmt {
	s := &ast.InsertStmt{At: p.next().Pos}
	p.expectKw("into")
	s.Table = p.tableName()
	if p.peekOp("(") && !p.isQueryStart(p.peekAt(1)) && !p.isOp(p.peekAt(1), "(") {
		s.Columns = p.identList("column name")
	}
	if t := p.peek(); !p.isQueryStart(t) && !p.isOp(t, "(") {
		p.expected("VALUES or a query")
	}
	s.Source = p.query()
	return s
}

func (p *parser) copyStmt() *ast.CopyStmt {
	s := &ast.CopyStmt{At: p.next().Pos}
	s.Table = p.tableName()
	if p.peekOp("(") {
		s.Columns = p.identList("column name")
	}
	if t := p.peek(); p.isKw(t, "to") {
		p.failf(t, "COPY ... TO is not supported")
	}
	p.expectKw("from")
	if t := p.peek(); p.isKw(t, "stdin") {
		p.failf(t, "COPY FROM STDIN is not supported")
	}
	s.File = p.stringLit("file name")
	p.acceptKw("with")
	if p.acceptOp("(") {
		for {
			o := &ast.CopyOption{At: p.peek().Pos, Name: p.label("COPY option")}
			switch v := p.peek(); {
			case v.Kind == String:
				o.Kind, o.Value = ast.OptString, v.Value
			case v.Kind == Number:
				o.Kind, o.Value = ast.OptNumber, v.Text
			case v.Kind == Ident || v.Kind == QuotedIdent:
				o.Kind, o.Value = ast.OptWord, v.Value
			case p.isOp(v, ",") || p.isOp(v, ")"):
			default:
				p.expected("option value")
			}
			if o.Kind != ast.OptNone {
				p.next()
			}
			s.Options = append(s.Options, o)
			if !p.acceptOp(",") {
				break
			}
		}
		p.expectOp(")")
		return s
	}
	// PostgreSQL's older option syntax: DELIMITER 'x' CSV HEADER ...
	for {
		t := p.peek()
		o := &ast.CopyOption{At: t.Pos}
		switch {
		case p.isKw(t, "delimiter") || p.isKw(t, "null") || p.isKw(t, "quote") || p.isKw(t, "escape"):
			p.next()
			p.acceptKw("as")
			o.Name, o.Kind, o.Value = t.Value, ast.OptString, p.stringLit(strings.ToUpper(t.Value)+" value")
		case p.isKw(t, "csv"):
			p.next()
			o.Name, o.Kind, o.Value = "format", ast.OptWord, "csv"
		case p.isKw(t, "header"):
			p.next()
			o.Name = "header"
		default:
			return s
		}
		s.Options = append(s.Options, o)
	}
}

func (p *parser) set() *ast.SetStmt {
	s := &ast.SetStmt{At: p.next().Pos}
	if t := p.peek(); p.isKw(t, "local") {
		p.failf(t, "SET LOCAL is not supported")
	}
	p.acceptKw("session")
	s.Name = p.ident("setting name")
	if !p.acceptOp("=") && !p.acceptKw("to") {
		p.expected(`"=" or TO`)
	}
	s.Value = p.expr(ast.PrecLowest)
	return s
}

func (p *parser) transaction() *ast.TransactionStmt {
	t := p.next()
	s := &ast.TransactionStmt{At: t.Pos}
	switch t.Value {
	case "begin":
		s.Kind = ast.TxnBegin
	case "start":
		p.expectKw("transaction")
		s.Kind = ast.TxnBegin
		return s
	case "commit", "end":
		s.Kind = ast.TxnCommit
	case "rollback", "abort":
		s.Kind = ast.TxnRollback
	}
	if !p.acceptKw("transaction") {
		p.acceptKw("work")
	}
	return s
}
