package planner

import (
	"errors"
	"fmt"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/sql/ast"
)

// The sentinels under binding errors, for errors.Is. Type errors wrap
// expr.ErrType instead (through the *expr.Error that found them).
var (
	// ErrNotFound: a table, view, column, function or type that does not
	// exist.
	ErrNotFound = errors.New("not found")
	// ErrAmbiguous: a column name that more than one FROM item provides, or
	// a table name given twice in one FROM clause.
	ErrAmbiguous = errors.New("ambiguous name")
	// ErrGrouping: an aggregate where none may be (WHERE, GROUP BY, inside
	// another aggregate), or a column that is neither grouped nor
	// aggregated.
	ErrGrouping = errors.New("grouping error")
	// ErrNotSupported: SQL the binder understands but bpfdb cannot run
	// (FULL JOIN, INTERSECT, some correlated subqueries).
	ErrNotSupported = errors.New("not supported")
	// ErrInvalid: any other query that has no meaning: a subquery with two
	// columns used as a value, a LIMIT that is not a constant, an INSERT
	// with too many values.
	ErrInvalid = errors.New("invalid query")
)

// Error is a binding error: it names what was wrong and where the
// offending token is in the SQL text, so that a client holding the text
// can point at it ([Error.Caret]).
type Error struct {
	// Pos is where the offending token starts.
	Pos ast.Pos
	// Msg says what was wrong, without the position:
	// `column "l_quantiti" does not exist`.
	Msg string
	// Err is the cause: one of the sentinels of this package, or an
	// *expr.Error for type errors.
	Err error
}

// Error returns "at line:col: message".
func (e *Error) Error() string {
	if e.Pos.IsValid() {
		return fmt.Sprintf("at %v: %s", e.Pos, e.Msg)
	}
	return e.Msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Caret renders the line of src (the SQL text that was bound) holding the
// error's position, with a caret under the offending token.
func (e *Error) Caret(src string) string { return ast.Caret(src, e.Pos) }

// errorf returns an *Error at pos wrapping the sentinel cause.
func errorf(pos ast.Pos, cause error, format string, args ...any) error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...), Err: cause}
}

// exprErr turns an error of an expr constructor into an *Error at pos (the
// ast node the binder was building); other errors pass unchanged.
func exprErr(pos ast.Pos, err error) error {
	if err == nil {
		return nil
	}
	var be *Error
	if errors.As(err, &be) {
		return err
	}
	var ee *expr.Error
	if errors.As(err, &ee) {
		return &Error{Pos: pos, Msg: ee.Expr + ": " + ee.Err.Error(), Err: err}
	}
	return &Error{Pos: pos, Msg: err.Error(), Err: err}
}

// exprPos converts a source position to the position expressions carry.
func exprPos(p ast.Pos) expr.Pos { return expr.Pos{Line: p.Line, Col: p.Col} }
