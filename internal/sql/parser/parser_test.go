package parser

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/sql/ast"
)

// roundTrip parses src, formats the statements, parses the canonical text
// again and checks that both trees are the same (Dump ignores positions)
// and that the canonical text is a fixed point. It returns the canonical
// text and the statements, or the first error.
func roundTrip(src string) (string, []ast.Statement, error) {
	stmts, err := Parse(src)
	if err != nil {
		return "", nil, err
	}
	canon := ast.FormatStatements(stmts)
	again, err := Parse(canon)
	if err != nil {
		return "", nil, fmt.Errorf("canonical text does not parse: %w\ncanonical: %s", err, canon)
	}
	if d1, d2 := dumpAll(stmts), dumpAll(again); d1 != d2 {
		return "", nil, fmt.Errorf("tree changed by formatting and parsing again\ncanonical: %s\nfirst:\n%s\nagain:\n%s", canon, d1, d2)
	}
	if c2 := ast.FormatStatements(again); c2 != canon {
		return "", nil, fmt.Errorf("canonical text is not a fixed point:\n%s\n%s", canon, c2)
	}
	return canon, stmts, nil
}

func dumpAll(stmts []ast.Statement) string {
	var b strings.Builder
	for _, s := range stmts {
		b.WriteString(ast.Dump(s) + "\n")
	}
	return b.String()
}

// TestGolden runs testdata/parse: "parse" prints the canonical text of
// each statement (after checking the round trip), "ast" the tree, "expr"
// the canonical text and tree of an expression, "lex" the tokens.
func TestGolden(t *testing.T) {
	for _, file := range []string{"testdata/parse", "testdata/ast", "testdata/lex"} {
		t.Run(file, func(t *testing.T) {
			runDataDriven(t, file, func(t *testing.T, c *ddCase) string {
				switch c.cmd {
				case "parse":
					canon, _, err := roundTrip(c.input)
					if err != nil {
						return "error: " + err.Error()
					}
					return canon
				case "ast":
					_, stmts, err := roundTrip(c.input)
					if err != nil {
						return "error: " + err.Error()
					}
					return dumpAll(stmts)
				case "expr":
					e, err := ParseExpr(c.input)
					if err != nil {
						return "error: " + err.Error()
					}
					canon := ast.Format(e)
					again, err := ParseExpr(canon)
					if err != nil {
						return "reparse error: " + err.Error()
					}
					if ast.Dump(again) != ast.Dump(e) {
						return "round trip changed the tree: " + canon
					}
					return canon + "\n" + ast.Dump(e)
				case "lex":
					var b strings.Builder
					for _, tok := range Lex(c.input) {
						b.WriteString(tok.String() + "\n")
					}
					return b.String()
				}
				t.Fatalf("%d: unknown command %q", c.line, c.cmd)
				return ""
			})
		})
	}
}

// TestErrors runs testdata/errors: each input must fail with a syntax
// error; the output is the full message with its caret.
func TestErrors(t *testing.T) {
	runDataDriven(t, "testdata/errors", func(t *testing.T, c *ddCase) string {
		_, err := Parse(c.input)
		if err == nil {
			t.Errorf("%d: %q parsed without error", c.line, c.input)
			return "no error"
		}
		var se *Error
		if !errors.As(err, &se) || !errors.Is(err, ErrSyntax) {
			t.Errorf("%d: error %v is not a *parser.Error wrapping ErrSyntax", c.line, err)
		}
		// The position must agree with the offset into the input.
		if se.Pos.Offset > len(c.input) || strings.Count(c.input[:se.Pos.Offset], "\n")+1 != se.Pos.Line {
			t.Errorf("%d: position %+v does not match the input", c.line, se.Pos)
		}
		return err.Error()
	})
}
