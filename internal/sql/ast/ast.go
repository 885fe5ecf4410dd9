package ast

import "fmt"

// Pos is a position in SQL source text. Line and Col count from 1; Col
// counts characters (runes), Offset counts bytes from the start of the text.
// The zero Pos means "no position".
type Pos struct {
	Offset int
	Line   int
	Col    int
}

// String renders the position as "line:col".
func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// IsValid reports whether p is a real position (not the zero Pos).
func (p Pos) IsValid() bool { return p.Line > 0 }

// A Node is any node of the tree.
type Node interface {
	// Pos is where the node starts in the source (for operators, where the
	// operator is).
	Pos() Pos
	// String is the canonical SQL text of the node ([Format]).
	String() string
	format(p *printer)
}

// A Statement is one SQL statement.
type Statement interface {
	Node
	stmtNode()
}

// An Expr is a scalar expression.
type Expr interface {
	Node
	exprNode()
}

// A TableExpr is an item of a FROM clause: a table, a subquery or a join.
type TableExpr interface {
	Node
	tableNode()
}

// A QueryBody is what a query computes before its ORDER BY and LIMIT: a
// SELECT block, a VALUES list, a set operation, or a parenthesized [Query]
// that has its own WITH, ORDER BY or LIMIT.
type QueryBody interface {
	Node
	bodyNode()
}

// ---- names and types ----

// TableName names a table or view, optionally qualified by a schema.
type TableName struct {
	At     Pos
	Schema string // "" when unqualified
	Name   string
}

// TypeName is a data type as written, with its synonyms resolved to one
// spelling: Name is "boolean", "integer", "bigint", "smallint", "double",
// "real", "decimal", "varchar", "char" or "date" for the types of the
// dialect (INT, INT4, INT8, FLOAT8, DOUBLE PRECISION, NUMERIC, TEXT,
// CHARACTER VARYING ... become these), and any other name as written in
// lower case, which the binder rejects with the type's position.
type TypeName struct {
	At   Pos
	Name string
	// Params are the parenthesized parameters: (n) of VARCHAR and CHAR,
	// (p) or (p,s) of DECIMAL.
	Params []int
}

// ---- statements ----

// SelectStmt is a query used as a statement.
type SelectStmt struct {
	Query *Query
}

// Query is a complete query: WITH, a body, ORDER BY, LIMIT and OFFSET.
type Query struct {
	At      Pos
	With    []*CTE
	Body    QueryBody
	OrderBy []*OrderItem
	Limit   Expr // nil when absent
	Offset  Expr // nil when absent
}

// CTE is one common table expression of a WITH clause.
type CTE struct {
	At      Pos
	Name    string
	Columns []string // optional column aliases
	Query   *Query
}

// Select is one SELECT block.
type Select struct {
	At       Pos
	Distinct bool
	Columns  []*SelectItem
	From     []TableExpr // comma-separated items; empty when there is no FROM
	Where    Expr        // nil when absent
	GroupBy  []Expr
	Having   Expr // nil when absent
}

// SelectItem is one output column of a SELECT: an expression with an
// optional alias, or a [Star].
type SelectItem struct {
	Expr  Expr
	Alias string // "" when there is none
}

// Star is * or table.* in a select list, or the * of count(*).
type Star struct {
	At    Pos
	Table string // "" for a bare *
}

// Values is a VALUES list: rows of expressions.
type Values struct {
	At   Pos
	Rows [][]Expr
}

// SetOpKind is UNION, EXCEPT or INTERSECT.
type SetOpKind uint8

// The set operations.
const (
	Union SetOpKind = iota + 1
	Except
	Intersect
)

func (k SetOpKind) String() string {
	switch k {
	case Union:
		return "UNION"
	case Except:
		return "EXCEPT"
	case Intersect:
		return "INTERSECT"
	}
	return fmt.Sprintf("SetOpKind(%d)", uint8(k))
}

// SetOp combines two query bodies. INTERSECT binds tighter than UNION and
// EXCEPT; all three are left-associative.
type SetOp struct {
	At    Pos // the operator
	Op    SetOpKind
	All   bool
	Left  QueryBody
	Right QueryBody
}

// Direction is the sort direction of an ORDER BY item.
type Direction uint8

// The sort directions. DirDefault (none written) sorts ascending.
const (
	DirDefault Direction = iota
	Asc
	Desc
)

func (d Direction) String() string {
	switch d {
	case DirDefault:
		return "default"
	case Asc:
		return "ASC"
	case Desc:
		return "DESC"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

// NullsOrder says where NULLs sort in an ORDER BY item.
type NullsOrder uint8

// The NULL placements. NullsDefault (none written) follows the dialect's
// default: PostgreSQL puts NULLs last when ascending and first when
// descending.
const (
	NullsDefault NullsOrder = iota
	NullsFirst
	NullsLast
)

func (n NullsOrder) String() string {
	switch n {
	case NullsDefault:
		return "default"
	case NullsFirst:
		return "NULLS FIRST"
	case NullsLast:
		return "NULLS LAST"
	}
	return fmt.Sprintf("NullsOrder(%d)", uint8(n))
}

// OrderItem is one ORDER BY key.
type OrderItem struct {
	Expr  Expr
	Dir   Direction
	Nulls NullsOrder
}

// CreateTableStmt is CREATE TABLE, either with column definitions or AS a
// query.
type CreateTableStmt struct {
	At          Pos
	IfNotExists bool
	Name        *TableName
	Columns     []*ColumnDef
	// PrimaryKey lists the columns of a table-level PRIMARY KEY (...).
	PrimaryKey []string
	// As is the query of CREATE TABLE ... AS query; Columns is then empty.
	As *Query
}

// ColumnDef is one column of CREATE TABLE.
type ColumnDef struct {
	At         Pos
	Name       string
	Type       *TypeName
	NotNull    bool // NOT NULL (or PRIMARY KEY, which implies it) was written
	PrimaryKey bool
}

// CreateViewStmt is CREATE [OR REPLACE] VIEW.
type CreateViewStmt struct {
	At        Pos
	OrReplace bool
	Name      *TableName
	Columns   []string
	Query     *Query
}

// ObjectKind is the kind of object DROP removes.
type ObjectKind uint8

// The object kinds.
const (
	ObjTable ObjectKind = iota + 1
	ObjView
)

func (k ObjectKind) String() string {
	switch k {
	case ObjTable:
		return "TABLE"
	case ObjView:
		return "VIEW"
	}
	return fmt.Sprintf("ObjectKind(%d)", uint8(k))
}

// DropStmt is DROP TABLE or DROP VIEW.
type DropStmt struct {
	At       Pos
	Kind     ObjectKind
	IfExists bool
	Names    []*TableName
}

// InsertStmt is INSERT INTO table [(columns)] followed by a query (VALUES
// or SELECT).
type InsertStmt struct {
	At      Pos
	Table   *TableName
	Columns []string
	Source  *Query
}

// CopyStmt is COPY table [(columns)] FROM 'file' [options].
type CopyStmt struct {
	At      Pos
	Table   *TableName
	Columns []string
	File    string
	Options []*CopyOption
}

// OptionValueKind says how a COPY option's value was written.
type OptionValueKind uint8

// The kinds of option values.
const (
	OptNone   OptionValueKind = iota // no value: HEADER
	OptString                        // a string literal: DELIMITER '|'
	OptNumber                        // a number: SAMPLE_SIZE 10
	OptWord                          // a bare word, lower-cased: FORMAT csv, HEADER true
)

func (k OptionValueKind) String() string {
	switch k {
	case OptNone:
		return "none"
	case OptString:
		return "string"
	case OptNumber:
		return "number"
	case OptWord:
		return "word"
	}
	return fmt.Sprintf("OptionValueKind(%d)", uint8(k))
}

// CopyOption is one option of COPY, name lower-cased. The legacy
// PostgreSQL spellings are normalized: CSV becomes format csv, DELIMITER
// [AS] 'x' becomes delimiter 'x', NULL [AS] 'x' becomes null 'x'.
type CopyOption struct {
	At    Pos
	Name  string
	Kind  OptionValueKind
	Value string // "" when Kind is OptNone
}

// ExplainStmt is EXPLAIN [ANALYZE] statement.
type ExplainStmt struct {
	At      Pos
	Analyze bool
	Stmt    Statement
}

// SetStmt is SET name = value (or SET name TO value).
type SetStmt struct {
	At    Pos
	Name  string
	Value Expr
}

// ShowStmt is SHOW name.
type ShowStmt struct {
	At   Pos
	Name string
}

// TxnKind is the kind of a transaction statement.
type TxnKind uint8

// The transaction statements.
const (
	TxnBegin    TxnKind = iota + 1 // BEGIN, START TRANSACTION
	TxnCommit                      // COMMIT, END
	TxnRollback                    // ROLLBACK, ABORT
)

func (k TxnKind) String() string {
	switch k {
	case TxnBegin:
		return "BEGIN"
	case TxnCommit:
		return "COMMIT"
	case TxnRollback:
		return "ROLLBACK"
	}
	return fmt.Sprintf("TxnKind(%d)", uint8(k))
}

// TransactionStmt is BEGIN, COMMIT or ROLLBACK.
type TransactionStmt struct {
	At   Pos
	Kind TxnKind
}

// AttachProgramStmt is bpfdb's ATTACH PROGRAM 'file' [SECTION 'name'] TO
// HOOK hook: load, verify and attach an eBPF policy program (DESIGN.md §3).
type AttachProgramStmt struct {
	At      Pos
	File    string
	Section string // "" when not given
	Hook    string // lower-cased hook name, unresolved
}

// DetachProgramStmt is DETACH PROGRAM FROM HOOK hook: the hook goes back to
// its built-in behaviour.
type DetachProgramStmt struct {
	At   Pos
	Hook string
}

// CreateUserStmt is CREATE USER name [WITH] PASSWORD 'password'
// [SUPERUSER | NOSUPERUSER]: a role that may log in to the wire server.
// Its text holds the password: do not log it.
type CreateUserStmt struct {
	At        Pos
	Name      string
	Password  string
	Superuser bool
}

// AlterUserStmt is ALTER USER name [WITH] options: PASSWORD 'password',
// SUPERUSER or NOSUPERUSER, each at most once, at least one. Its text may
// hold a password: do not log it.
type AlterUserStmt struct {
	At        Pos
	Name      string
	Password  *string // nil: unchanged
	Superuser *bool   // nil: unchanged
}

// DropUserStmt is DROP USER [IF EXISTS] name.
type DropUserStmt struct {
	At       Pos
	IfExists bool
	Name     string
}

// ---- table expressions ----

// Alias is the alias of a FROM item: AS name [(columns)].
type Alias struct {
	Name    string
	Columns []string
}

// TableRef is a named table or view in FROM.
type TableRef struct {
	Name  *TableName
	Alias *Alias // nil when none
}

// TableFuncRef is a call of a table function in FROM: bpfdb's listings of
// hooks, programs and maps, or readers such as read_csv('file').
type TableFuncRef struct {
	At    Pos
	Name  string // lower-cased
	Args  []Expr
	Alias *Alias // nil when none
}

// SubqueryRef is a parenthesized query in FROM.
type SubqueryRef struct {
	At    Pos
	Query *Query
	Alias *Alias // nil when none
}

// JoinKind is the kind of a join.
type JoinKind uint8

// The join kinds.
const (
	JoinInner JoinKind = iota + 1
	JoinLeft
	JoinRight
	JoinFull
	JoinCross
)

func (k JoinKind) String() string {
	switch k {
	case JoinInner:
		return "JOIN"
	case JoinLeft:
		return "LEFT JOIN"
	case JoinRight:
		return "RIGHT JOIN"
	case JoinFull:
		return "FULL JOIN"
	case JoinCross:
		return "CROSS JOIN"
	}
	return fmt.Sprintf("JoinKind(%d)", uint8(k))
}

// Join is an explicit join of two FROM items. Exactly one of On and Using
// is set, except for CROSS JOIN, which has neither.
type Join struct {
	At    Pos // the join keyword
	Kind  JoinKind
	Left  TableExpr
	Right TableExpr
	On    Expr
	Using []string
}

// ---- expressions ----

// ColumnRef is a possibly qualified column name: Parts is [column],
// [table, column] or [schema, table, column].
type ColumnRef struct {
	At    Pos
	Parts []string
}

// NumberKind classifies a numeric literal by how it is written.
type NumberKind uint8

// The kinds of numbers.
const (
	NumInteger NumberKind = iota + 1 // digits only: 42
	NumDecimal                       // with a point, no exponent: 0.05, 1., .5
	NumFloat                         // with an exponent: 1e6, 2.5E-3
)

func (k NumberKind) String() string {
	switch k {
	case NumInteger:
		return "integer"
	case NumDecimal:
		return "decimal"
	case NumFloat:
		return "float"
	}
	return fmt.Sprintf("NumberKind(%d)", uint8(k))
}

// NumberLit is a numeric literal; Text is exactly as written (never signed:
// -1 is a unary minus applied to 1).
type NumberLit struct {
	At   Pos
	Kind NumberKind
	Text string
}

// StringLit is a string literal; Value is the unescaped text.
type StringLit struct {
	At    Pos
	Value string
}

// BoolLit is TRUE or FALSE.
type BoolLit struct {
	At    Pos
	Value bool
}

// NullLit is NULL.
type NullLit struct {
	At Pos
}

// TypedLit is a literal of a named type: DATE '1998-12-01'. Value is the
// unescaped string.
type TypedLit struct {
	At    Pos
	Type  *TypeName
	Value string
}

// IntervalUnit is the unit qualifier of an interval literal.
type IntervalUnit uint8

// The interval units. UnitNone means the string carries its own units
// (INTERVAL '3 months').
const (
	UnitNone IntervalUnit = iota
	UnitYear
	UnitMonth
	UnitDay
	UnitHour
	UnitMinute
	UnitSecond
	UnitWeek
)

var unitNames = [...]string{
	UnitNone:   "",
	UnitYear:   "YEAR",
	UnitMonth:  "MONTH",
	UnitDay:    "DAY",
	UnitHour:   "HOUR",
	UnitMinute: "MINUTE",
	UnitSecond: "SECOND",
	UnitWeek:   "WEEK",
}

func (u IntervalUnit) String() string {
	if int(u) < len(unitNames) {
		if u == UnitNone {
			return "none"
		}
		return unitNames[u]
	}
	return fmt.Sprintf("IntervalUnit(%d)", uint8(u))
}

// IntervalLit is INTERVAL 'value' [unit]: INTERVAL '90' DAY,
// INTERVAL '3 months', INTERVAL '1' YEAR. DuckDB's unquoted form
// INTERVAL 90 DAY gives the same node. Value is the string as written;
// the binder interprets it.
type IntervalLit struct {
	At    Pos
	Value string
	Unit  IntervalUnit
}

// Param is a positional parameter: $n, or the n-th ? of a statement
// (which prints as $n).
type Param struct {
	At    Pos
	Index int
}

// UnaryOp is a prefix operator.
type UnaryOp uint8

// The prefix operators.
const (
	OpNeg  UnaryOp = iota + 1 // -x
	OpPlus                    // +x
	OpNot                     // NOT x
)

func (o UnaryOp) String() string {
	switch o {
	case OpNeg:
		return "-"
	case OpPlus:
		return "+"
	case OpNot:
		return "NOT"
	}
	return fmt.Sprintf("UnaryOp(%d)", uint8(o))
}

// UnaryExpr is a prefix operator applied to an operand.
type UnaryExpr struct {
	At Pos
	Op UnaryOp
	X  Expr
}

// BinaryOp is an infix operator.
type BinaryOp uint8

// The infix operators.
const (
	OpOr BinaryOp = iota + 1
	OpAnd
	OpEq
	OpNe // <> and != both
	OpLt
	OpLe
	OpGt
	OpGe
	OpConcat // ||
	OpAdd
	OpSub
	OpMul
	OpDiv
	OpMod
	OpIntDiv // //, DuckDB's integer division
)

var binaryNames = [...]string{
	OpOr: "OR", OpAnd: "AND", OpEq: "=", OpNe: "<>", OpLt: "<", OpLe: "<=", OpGt: ">", OpGe: ">=",
	OpConcat: "||", OpAdd: "+", OpSub: "-", OpMul: "*", OpDiv: "/", OpMod: "%",
	OpIntDiv: "//",
}

func (o BinaryOp) String() string {
	if o > 0 && int(o) < len(binaryNames) {
		return binaryNames[o]
	}
	return fmt.Sprintf("BinaryOp(%d)", uint8(o))
}

// BinaryExpr is an infix operation. At is the operator's position.
type BinaryExpr struct {
	At Pos
	Op BinaryOp
	L  Expr
	R  Expr
}

// IsNullExpr is x IS [NOT] NULL.
type IsNullExpr struct {
	At  Pos // the IS keyword
	X   Expr
	Not bool
}

// IsBoolExpr is x IS [NOT] TRUE or x IS [NOT] FALSE.
type IsBoolExpr struct {
	At    Pos
	X     Expr
	Not   bool
	Value bool
}

// IsDistinctExpr is l IS [NOT] DISTINCT FROM r.
type IsDistinctExpr struct {
	At  Pos
	L   Expr
	R   Expr
	Not bool
}

// BetweenExpr is x [NOT] BETWEEN [SYMMETRIC] lo AND hi.
type BetweenExpr struct {
	At        Pos // the BETWEEN keyword (or NOT before it)
	X         Expr
	Lo        Expr
	Hi        Expr
	Not       bool
	Symmetric bool
}

// InListExpr is x [NOT] IN (list).
type InListExpr struct {
	At   Pos
	X    Expr
	List []Expr
	Not  bool
}

// InSubqueryExpr is x [NOT] IN (query).
type InSubqueryExpr struct {
	At    Pos
	X     Expr
	Query *Query
	Not   bool
}

// LikeExpr is x [NOT] LIKE|ILIKE pattern [ESCAPE escape].
type LikeExpr struct {
	At              Pos
	X               Expr
	Pattern         Expr
	Escape          Expr // nil when absent
	Not             bool
	CaseInsensitive bool // ILIKE
}

// ExistsExpr is EXISTS (query). NOT EXISTS is a [UnaryExpr] NOT around it.
type ExistsExpr struct {
	At    Pos
	Query *Query
}

// SubqueryExpr is a scalar subquery: (query) used as a value.
type SubqueryExpr struct {
	At    Pos
	Query *Query
}

// When is one WHEN ... THEN ... arm of a CASE.
type When struct {
	Cond   Expr
	Result Expr
}

// CaseExpr is CASE [operand] WHEN ... THEN ... [ELSE ...] END. With an
// Operand it is the simple form (Cond values are compared to Operand),
// without one the searched form (Cond values are booleans).
type CaseExpr struct {
	At      Pos
	Operand Expr // nil for the searched form
	Whens   []*When
	Else    Expr // nil when absent
}

// CastExpr is CAST(x AS type); x::type gives the same node.
type CastExpr struct {
	At   Pos
	X    Expr
	Type *TypeName
}

// ExtractExpr is EXTRACT(field FROM x); Field is lower-cased ("year").
type ExtractExpr struct {
	At    Pos
	Field string
	X     Expr
}

// FuncCall is a function or aggregate call: name(args), name(DISTINCT
// args), count(*). SUBSTRING(x FROM a FOR b) is the call substring(x, a, b).
type FuncCall struct {
	At       Pos
	Name     string // lower-cased
	Args     []Expr
	Distinct bool
	Star     bool // count(*): Args is empty
}

// ---- interface implementations ----

func (*SelectStmt) stmtNode()        {}
func (*CreateTableStmt) stmtNode()   {}
func (*CreateViewStmt) stmtNode()    {}
func (*DropStmt) stmtNode()          {}
func (*InsertStmt) stmtNode()        {}
func (*CopyStmt) stmtNode()          {}
func (*ExplainStmt) stmtNode()       {}
func (*SetStmt) stmtNode()           {}
func (*ShowStmt) stmtNode()          {}
func (*TransactionStmt) stmtNode()   {}
func (*AttachProgramStmt) stmtNode() {}
func (*DetachProgramStmt) stmtNode() {}
func (*CreateUserStmt) stmtNode()    {}
func (*DropUserStmt) stmtNode()      {}
func (*AlterUserStmt) stmtNode()     {}

func (*Select) bodyNode() {}
func (*Values) bodyNode() {}
func (*SetOp) bodyNode()  {}
func (*Query) bodyNode()  {}

func (*TableRef) tableNode()     {}
func (*SubqueryRef) tableNode()  {}
func (*TableFuncRef) tableNode() {}
func (*Join) tableNode()         {}

func (*ColumnRef) exprNode()      {}
func (*Star) exprNode()           {}
func (*NumberLit) exprNode()      {}
func (*StringLit) exprNode()      {}
func (*BoolLit) exprNode()        {}
func (*NullLit) exprNode()        {}
func (*TypedLit) exprNode()       {}
func (*IntervalLit) exprNode()    {}
func (*Param) exprNode()          {}
func (*UnaryExpr) exprNode()      {}
func (*BinaryExpr) exprNode()     {}
func (*IsNullExpr) exprNode()     {}
func (*IsBoolExpr) exprNode()     {}
func (*IsDistinctExpr) exprNode() {}
func (*BetweenExpr) exprNode()    {}
func (*InListExpr) exprNode()     {}
func (*InSubqueryExpr) exprNode() {}
func (*LikeExpr) exprNode()       {}
func (*ExistsExpr) exprNode()     {}
func (*SubqueryExpr) exprNode()   {}
func (*CaseExpr) exprNode()       {}
func (*CastExpr) exprNode()       {}
func (*ExtractExpr) exprNode()    {}
func (*FuncCall) exprNode()       {}

// Pos implementations: where each node starts.

func (n *SelectStmt) Pos() Pos        { return n.Query.At }
func (n *Query) Pos() Pos             { return n.At }
func (n *CTE) Pos() Pos               { return n.At }
func (n *Select) Pos() Pos            { return n.At }
func (n *Values) Pos() Pos            { return n.At }
func (n *SetOp) Pos() Pos             { return n.At }
func (n *CreateTableStmt) Pos() Pos   { return n.At }
func (n *ColumnDef) Pos() Pos         { return n.At }
func (n *CreateViewStmt) Pos() Pos    { return n.At }
func (n *DropStmt) Pos() Pos          { return n.At }
func (n *InsertStmt) Pos() Pos        { return n.At }
func (n *CopyStmt) Pos() Pos          { return n.At }
func (n *CopyOption) Pos() Pos        { return n.At }
func (n *ExplainStmt) Pos() Pos       { return n.At }
func (n *SetStmt) Pos() Pos           { return n.At }
func (n *ShowStmt) Pos() Pos          { return n.At }
func (n *TransactionStmt) Pos() Pos   { return n.At }
func (n *AttachProgramStmt) Pos() Pos { return n.At }
func (n *DetachProgramStmt) Pos() Pos { return n.At }
func (n *CreateUserStmt) Pos() Pos    { return n.At }
func (n *DropUserStmt) Pos() Pos      { return n.At }
func (n *AlterUserStmt) Pos() Pos     { return n.At }
func (n *TableName) Pos() Pos         { return n.At }
func (n *TypeName) Pos() Pos          { return n.At }
func (n *TableRef) Pos() Pos          { return n.Name.At }
func (n *SubqueryRef) Pos() Pos       { return n.At }
func (n *TableFuncRef) Pos() Pos      { return n.At }
func (n *Join) Pos() Pos              { return n.At }
func (n *ColumnRef) Pos() Pos         { return n.At }
func (n *Star) Pos() Pos              { return n.At }
func (n *NumberLit) Pos() Pos         { return n.At }
func (n *StringLit) Pos() Pos         { return n.At }
func (n *BoolLit) Pos() Pos           { return n.At }
func (n *NullLit) Pos() Pos           { return n.At }
func (n *TypedLit) Pos() Pos          { return n.At }
func (n *IntervalLit) Pos() Pos       { return n.At }
func (n *Param) Pos() Pos             { return n.At }
func (n *UnaryExpr) Pos() Pos         { return n.At }
func (n *BinaryExpr) Pos() Pos        { return n.At }
func (n *IsNullExpr) Pos() Pos        { return n.At }
func (n *IsBoolExpr) Pos() Pos        { return n.At }
func (n *IsDistinctExpr) Pos() Pos    { return n.At }
func (n *BetweenExpr) Pos() Pos       { return n.At }
func (n *InListExpr) Pos() Pos        { return n.At }
func (n *InSubqueryExpr) Pos() Pos    { return n.At }
func (n *LikeExpr) Pos() Pos          { return n.At }
func (n *ExistsExpr) Pos() Pos        { return n.At }
func (n *SubqueryExpr) Pos() Pos      { return n.At }
func (n *CaseExpr) Pos() Pos          { return n.At }
func (n *CastExpr) Pos() Pos          { return n.At }
func (n *ExtractExpr) Pos() Pos       { return n.At }
func (n *FuncCall) Pos() Pos          { return n.At }

// String implementations: the canonical text of each node.

func (n *SelectStmt) String() string        { return Format(n) }
func (n *Query) String() string             { return Format(n) }
func (n *CTE) String() string               { return Format(n) }
func (n *Select) String() string            { return Format(n) }
func (n *Values) String() string            { return Format(n) }
func (n *SetOp) String() string             { return Format(n) }
func (n *CreateTableStmt) String() string   { return Format(n) }
func (n *ColumnDef) String() string         { return Format(n) }
func (n *CreateViewStmt) String() string    { return Format(n) }
func (n *DropStmt) String() string          { return Format(n) }
func (n *InsertStmt) String() string        { return Format(n) }
func (n *CopyStmt) String() string          { return Format(n) }
func (n *CopyOption) String() string        { return Format(n) }
func (n *ExplainStmt) String() string       { return Format(n) }
func (n *SetStmt) String() string           { return Format(n) }
func (n *ShowStmt) String() string          { return Format(n) }
func (n *TransactionStmt) String() string   { return Format(n) }
func (n *AttachProgramStmt) String() string { return Format(n) }
func (n *DetachProgramStmt) String() string { return Format(n) }
func (n *CreateUserStmt) String() string    { return Format(n) }
func (n *DropUserStmt) String() string      { return Format(n) }
func (n *AlterUserStmt) String() string     { return Format(n) }
func (n *TableName) String() string         { return Format(n) }
func (n *TypeName) String() string          { return Format(n) }
func (n *TableRef) String() string          { return Format(n) }
func (n *SubqueryRef) String() string       { return Format(n) }
func (n *TableFuncRef) String() string      { return Format(n) }
func (n *Join) String() string              { return Format(n) }
func (n *ColumnRef) String() string         { return Format(n) }
func (n *Star) String() string              { return Format(n) }
func (n *NumberLit) String() string         { return Format(n) }
func (n *StringLit) String() string         { return Format(n) }
func (n *BoolLit) String() string           { return Format(n) }
func (n *NullLit) String() string           { return Format(n) }
func (n *TypedLit) String() string          { return Format(n) }
func (n *IntervalLit) String() string       { return Format(n) }
func (n *Param) String() string             { return Format(n) }
func (n *UnaryExpr) String() string         { return Format(n) }
func (n *BinaryExpr) String() string        { return Format(n) }
func (n *IsNullExpr) String() string        { return Format(n) }
func (n *IsBoolExpr) String() string        { return Format(n) }
func (n *IsDistinctExpr) String() string    { return Format(n) }
func (n *BetweenExpr) String() string       { return Format(n) }
func (n *InListExpr) String() string        { return Format(n) }
func (n *InSubqueryExpr) String() string    { return Format(n) }
func (n *LikeExpr) String() string          { return Format(n) }
func (n *ExistsExpr) String() string        { return Format(n) }
func (n *SubqueryExpr) String() string      { return Format(n) }
func (n *CaseExpr) String() string          { return Format(n) }
func (n *CastExpr) String() string          { return Format(n) }
func (n *ExtractExpr) String() string       { return Format(n) }
func (n *FuncCall) String() string          { return Format(n) }
