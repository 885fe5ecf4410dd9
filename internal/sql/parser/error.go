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
// column. Tabs before the column are kept so the caret lines up in a
// terminal; a line longer than 120 characters is cut to a window around
// the column, marked with "...".
func (e *Error) Caret() string {
	line := []rune(e.Line)
	col := e.Pos.Col - 1
	if col > len(line) {
		col = len(line)
	}
	prefix := ""
	const window = 120
	if len(line) > window {
		from := max(0, col-window/2)
		to := min(len(line), from+window)
		if from > 0 {
			prefix = "..."
		}
		suffix := ""
		if to < len(line) {
			suffix = "..."
		}
		line, col = line[from:to], col-from
		line = append([]rune(prefix), append(line, []rune(suffix)...)...)
		col += len([]rune(prefix))
	}
	var pad strings.Builder
	for _, r := range line[:col] {
		if r == '\t' {
			pad.WriteRune('\t')
		} else {
			pad.WriteByte(' ')
		}
	}
	return string(line) + "\n" + pad.String() + "^"
}

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
