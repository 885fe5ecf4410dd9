package parser

import (
	"errors"
	"fmt"
	"strings"

	"github.com/bpfdb/bpfdb/internal/sql/ast"
)

// ErrSyntax is the sentinel under every [*Error]: errors.Is(err, ErrSyntax)
// tells a syntax error from other failures.
var ErrSyntax = errors.New("syntax error")

// Error is a syntax error (lexical or grammatical) at a position of the
// source text.
type Error struct {
	// Pos is where the offending token starts.
	Pos ast.Pos
	// Msg says what was wrong, without the position:
	// `expected FROM, found "FORM"`.
	Msg string
	// Line is the source line holding Pos, without its newline.
	Line string
}

// Error renders the message with its position, then the source line and a
// caret under the offending token:
//
//	syntax error at line 3, column 12: expected FROM, found "FORM"
//	SELECT a   FORM t
//	           ^
func (e *Error) Error() string {
	return fmt.Sprintf("syntax error at line %d, column %d: %s\n%s", e.Pos.Line, e.Pos.Col, e.Msg, e.Caret())
}

// Caret renders the source line and, under it, a caret at the error's
// column ([ast.CaretLine]).
func (e *Error) Caret() string { return ast.CaretLine(e.Line, e.Pos.Col) }

// Unwrap returns ErrSyntax.
func (e *Error) Unwrap() error { return ErrSyntax }

// newError builds an Error at pos of src.
func newError(src string, pos ast.Pos, msg string) *Error {
	start := strings.LastIndexByte(src[:pos.Offset], '\n') + 1
	end := strings.IndexByte(src[pos.Offset:], '\n')
	if end < 0 {
		end = len(src)
	} else {
		end += pos.Offset
	}
	line := strings.TrimSuffix(src[start:end], "\r")
	return &Error{Pos: pos, Msg: msg, Line: line}
}
