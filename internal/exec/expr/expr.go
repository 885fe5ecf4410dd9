package expr

import (
	"errors"
	"fmt"
	"strings"

	"github.com/bpfdb/bpfdb/internal/types"
)

// Pos is a position in the SQL text: line and column from 1. The zero Pos
// means "no position" (an expression the planner made up).
type Pos struct {
	Line, Col int
}

// String renders the position as "line:col".
func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Error is a failure of an expression, at bind time (a type error) or at
// run time (division by zero, overflow, a bad cast). It names the
// expression and where it is in the SQL text; Err is the cause, usually a
// sentinel of package types (errors.Is(err, types.ErrOverflow)).
type Error struct {
	Pos  Pos    // where the failing expression is
	Expr string // its canonical text
	Err  error  // the cause
}

// ErrType is the cause of type errors found while building a tree:
// operands a function or operator does not accept.
var ErrType = errors.New("type mismatch")

// Error returns "at line:col: expression: cause".
func (e *Error) Error() string {
	if e.Pos.Line > 0 {
		return fmt.Sprintf("at %v: %s: %v", e.Pos, e.Expr, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Expr, e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func errAt(e Expr, err error) error { return &Error{Pos: e.Pos(), Expr: e.String(), Err: err} }

func typeErr(pos Pos, text string, format string, args ...any) error {
	return &Error{Pos: pos, Expr: text, Err: fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrType)}
}

// Expr is a bound expression: a node that knows its result type and its
// position in the SQL text. Build trees with the constructors of this
// package (they check and convert types); treat nodes as immutable once
// built. String is the canonical text, in SQL syntax.
type Expr interface {
	Type() types.Type
	Pos() Pos
	String() string
	isExpr()
}

// Column is a reference to column Index of the input chunk.
type Column struct {
	Index int        // the chunk column
	Name  string     // for printing only
	T     types.Type // the column's type
	At    Pos
}

// Const is a constant (a NULL of some type included).
type Const struct {
	Val types.Value
	At  Pos
}

// Unary is a prefix operator: − or NOT.
type Unary struct {
	Op  Op
	Arg Expr
	At  Pos
}

// Binary is an infix operator whose operands have been converted to the
// types the operator works on (see the package doc).
type Binary struct {
	Op          Op
	Left, Right Expr
	T           types.Type
	At          Pos
}

// Cast converts Arg to T, as CAST(Arg AS T).
type Cast struct {
	Arg Expr
	T   types.Type
	At  Pos
}

// IsNull is Arg IS NULL, or IS NOT NULL if Negated.
type IsNull struct {
	Arg     Expr
	Negated bool
	At      Pos
}

// Like is Arg [NOT] LIKE|ILIKE Pattern, with % and _ wildcards and \ as
// the escape character. The pattern is a constant, compiled once.
type Like struct {
	Arg             Expr
	Pattern         string
	CaseInsensitive bool
	Negated         bool
	At              Pos
}

// InList is Arg [NOT] IN (constants). The constants have Arg's type.
type InList struct {
	Arg     Expr
	List    []types.Value
	Negated bool
	At      Pos
}

// When is one WHEN Cond THEN Then branch of a CASE.
type When struct {
	Cond, Then Expr
}

// Case is CASE WHEN … THEN … [ELSE …] END; a missing ELSE is NULL. The
// THEN and ELSE results have type T.
type Case struct {
	Whens []When
	Else  Expr
	T     types.Type
	At    Pos
}

// Coalesce is COALESCE(args…): the first non-NULL argument.
type Coalesce struct {
	Args []Expr
	T    types.Type
	At   Pos
}

// DatePart names a field of EXTRACT.
type DatePart uint8

// The fields EXTRACT knows.
const (
	Year DatePart = iota + 1
	Month
	Day
)

// String returns the SQL keyword.
func (d DatePart) String() string {
	switch d {
	case Year:
		return "year"
	case Month:
		return "month"
	case Day:
		return "day"
	}
	return fmt.Sprintf("DatePart(%d)", uint8(d))
}

// Extract is EXTRACT(Part FROM Arg) of a DATE, a BIGINT.
type Extract struct {
	Part DatePart
	Arg  Expr
	At   Pos
}

// Substring is SUBSTRING(Arg FROM Start [FOR Length]); Length is nil for
// "to the end". Positions count characters (UTF-8 code points) from 1.
type Substring struct {
	Arg, Start, Length Expr
	At                 Pos
}

// DateInterval is Arg + INTERVAL (Months months, Days days): months are
// added first (clamping the day to the month's end), then days. A
// subtraction is built with negated counts.
type DateInterval struct {
	Arg          Expr
	Months, Days int64
	At           Pos
}

func (*Column) isExpr()       {}
func (*Const) isExpr()        {}
func (*Unary) isExpr()        {}
func (*Binary) isExpr()       {}
func (*Cast) isExpr()         {}
func (*IsNull) isExpr()       {}
func (*Like) isExpr()         {}
func (*InList) isExpr()       {}
func (*Case) isExpr()         {}
func (*Coalesce) isExpr()     {}
func (*Extract) isExpr()      {}
func (*Substring) isExpr()    {}
func (*DateInterval) isExpr() {}

// Type returns the column's type.
func (e *Column) Type() types.Type { return e.T }

// Type returns the constant's type.
func (e *Const) Type() types.Type { return e.Val.Type() }

// Type returns the operand's type (− keeps it, NOT is BOOLEAN).
func (e *Unary) Type() types.Type { return e.Arg.Type() }

// Type returns the result type.
func (e *Binary) Type() types.Type { return e.T }

// Type returns the target type.
func (e *Cast) Type() types.Type { return e.T }

// Type is BOOLEAN.
func (e *IsNull) Type() types.Type { return types.BooleanType }

// Type is BOOLEAN.
func (e *Like) Type() types.Type { return types.BooleanType }

// Type is BOOLEAN.
func (e *InList) Type() types.Type { return types.BooleanType }

// Type returns the result type.
func (e *Case) Type() types.Type { return e.T }

// Type returns the result type.
func (e *Coalesce) Type() types.Type { return e.T }

// Type is BIGINT.
func (e *Extract) Type() types.Type { return types.BigIntType }

// Type is VARCHAR.
func (e *Substring) Type() types.Type { return types.VarcharType }

// Type is DATE.
func (e *DateInterval) Type() types.Type { return types.DateType }

// Pos returns the position.
func (e *Column) Pos() Pos { return e.At }

// Pos returns the position.
func (e *Const) Pos() Pos { return e.At }

// Pos returns the position.
func (e *Unary) Pos() Pos { return e.At }

// Pos returns the position.
func (e *Binary) Pos() Pos { return e.At }

// Pos returns the position.
func (e *Cast) Pos() Pos { return e.At }

// Pos returns the position.
func (e *IsNull) Pos() Pos { return e.At }

// Pos returns the position.
func (e *Like) Pos() Pos { return e.At }

// Pos returns the position.
func (e *InList) Pos() Pos { return e.At }

// Pos returns the position.
func (e *Case) Pos() Pos { return e.At }

// Pos returns the position.
func (e *Coalesce) Pos() Pos { return e.At }

// Pos returns the position.
func (e *Extract) Pos() Pos { return e.At }

// Pos returns the position.
func (e *Substring) Pos() Pos { return e.At }

// Pos returns the position.
func (e *DateInterval) Pos() Pos { return e.At }

// String returns the column's name, or #index if it has none.
func (e *Column) String() string {
	if e.Name != "" {
		return e.Name
	}
	return fmt.Sprintf("#%d", e.Index)
}

// String returns the literal in SQL syntax.
func (e *Const) String() string { return literal(e.Val) }

func literal(v types.Value) string {
	if v.IsNull() {
		return "NULL"
	}
	switch v.Type().ID() {
	case types.Varchar:
		return "'" + strings.ReplaceAll(v.Str(), "'", "''") + "'"
	case types.Date:
		return "DATE '" + v.String() + "'"
	case types.Decimal:
		return v.String() + "::" + v.Type().String()
	case types.Double:
		return v.String() + "::DOUBLE"
	case types.BigInt:
		return v.String() + "::BIGINT"
	}
	return v.String()
}

// String returns the canonical SQL text.
func (e *Unary) String() string {
	if e.Op == OpNot {
		return "(NOT " + e.Arg.String() + ")"
	}
	return "(-" + e.Arg.String() + ")"
}

// String returns the canonical SQL text.
func (e *Binary) String() string {
	return "(" + e.Left.String() + " " + e.Op.String() + " " + e.Right.String() + ")"
}

// String returns the canonical SQL text.
func (e *Cast) String() string { return "CAST(" + e.Arg.String() + " AS " + e.T.String() + ")" }

// String returns the canonical SQL text.
func (e *IsNull) String() string {
	if e.Negated {
		return "(" + e.Arg.String() + " IS NOT NULL)"
	}
	return "(" + e.Arg.String() + " IS NULL)"
}

// String returns the canonical SQL text.
func (e *Like) String() string {
	op := " LIKE "
	if e.CaseInsensitive {
		op = " ILIKE "
	}
	if e.Negated {
		op = " NOT" + op
	}
	return "(" + e.Arg.String() + op + literal(types.VarcharValue(e.Pattern)) + ")"
}

// String returns the canonical SQL text.
func (e *InList) String() string {
	var b strings.Builder
	b.WriteString("(" + e.Arg.String())
	if e.Negated {
		b.WriteString(" NOT")
	}
	b.WriteString(" IN (")
	for i, v := range e.List {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(literal(v))
	}
	b.WriteString("))")
	return b.String()
}

// String returns the canonical SQL text.
func (e *Case) String() string {
	var b strings.Builder
	b.WriteString("CASE")
	for _, w := range e.Whens {
		b.WriteString(" WHEN " + w.Cond.String() + " THEN " + w.Then.String())
	}
	if e.Else != nil {
		b.WriteString(" ELSE " + e.Else.String())
	}
	b.WriteString(" END")
	return b.String()
}

// String returns the canonical SQL text.
func (e *Coalesce) String() string {
	parts := make([]string, len(e.Args))
	for i, a := range e.Args {
		parts[i] = a.String()
	}
	return "COALESCE(" + strings.Join(parts, ", ") + ")"
}

// String returns the canonical SQL text.
func (e *Extract) String() string {
	return "EXTRACT(" + e.Part.String() + " FROM " + e.Arg.String() + ")"
}

// String returns the canonical SQL text.
func (e *Substring) String() string {
	s := "SUBSTRING(" + e.Arg.String() + " FROM " + e.Start.String()
	if e.Length != nil {
		s += " FOR " + e.Length.String()
	}
	return s + ")"
}

// String returns the canonical SQL text.
func (e *DateInterval) String() string {
	return fmt.Sprintf("(%s + INTERVAL '%d months %d days')", e.Arg.String(), e.Months, e.Days)
}
