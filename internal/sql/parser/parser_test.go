package parser

import (
	"errors"
	"fmt"
	"reflect"
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
	if !sameTree(reflect.ValueOf(stmts), reflect.ValueOf(again)) {
		return "", nil, fmt.Errorf("tree changed by formatting and parsing again\ncanonical: %s\nfirst:\n%s\nagain:\n%s", canon, dumpAll(stmts), dumpAll(again))
	}
	if c2 := ast.FormatStatements(again); c2 != canon {
		return "", nil, fmt.Errorf("canonical text is not a fixed point:\n%s\n%s", canon, c2)
	}
	return canon, stmts, nil
}

var posType = reflect.TypeFor[ast.Pos]()

// sameTree reports whether two trees are equal apart from positions. It
// takes time linear in the size of the trees (ast.Dump indents, so it is
// quadratic in their depth: too slow for the fuzzer's long operator
// chains).
func sameTree(a, b reflect.Value) bool {
	if a.Kind() != b.Kind() {
		return false
	}
	switch a.Kind() {
	case reflect.Interface, reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		if a.Kind() == reflect.Interface && a.Elem().Type() != b.Elem().Type() {
			return false
		}
		return sameTree(a.Elem(), b.Elem())
	case reflect.Struct:
		if a.Type() == posType {
			return true
		}
		for i := 0; i < a.NumField(); i++ {
			if !sameTree(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		for i := 0; i < a.Len(); i++ {
			if !sameTree(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.String:
		return a.String() == b.String()
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int:
		return a.Int() == b.Int()
	case reflect.Uint8:
		return a.Uint() == b.Uint()
	}
	panic("BUG: sameTree: unhandled kind " + a.Kind().String())
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
					canon, stmts, err := roundTrip(c.input)
					if err != nil {
						return "error: " + err.Error()
					}
					for _, s := range stmts {
						checkPositions(t, c.input, s)
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

// TestSameTree checks the tree comparison the round-trip tests rely on: it
// ignores positions and sees every other difference.
func TestSameTree(t *testing.T) {
	parse := func(s string) reflect.Value {
		stmts, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return reflect.ValueOf(stmts)
	}
	base := "SELECT a + 1 FROM t WHERE b"
	if !sameTree(parse(base), parse("select  a+1\nfrom t where b")) {
		t.Error("trees differing only in positions compare unequal")
	}
	for _, other := range []string{
		"SELECT a - 1 FROM t WHERE b", "SELECT a + 2 FROM t WHERE b", "SELECT a + 1 FROM u WHERE b",
		"SELECT a + 1 FROM t", "SELECT a + 1.0 FROM t WHERE b", "SELECT DISTINCT a + 1 FROM t WHERE b",
		"SELECT a + 1 FROM t WHERE b; SELECT 1", "SELECT a + 1 AS x FROM t WHERE b",
	} {
		if sameTree(parse(base), parse(other)) {
			t.Errorf("%q and %q compare equal", base, other)
		}
	}
}

func TestEntryPoints(t *testing.T) {
	if stmts, err := Parse(" ;; -- nothing\n"); err != nil || len(stmts) != 0 {
		t.Errorf("Parse of an empty script = %v, %v; want no statements", stmts, err)
	}
	if s, err := ParseOne("SELECT 1;"); err != nil || s.String() != "SELECT 1" {
		t.Errorf("ParseOne = %v, %v", s, err)
	}
	if _, err := ParseOne("SELECT 1; SELECT 2"); err == nil || !strings.Contains(err.Error(), "column 11: expected end of input after the statement") {
		t.Errorf("ParseOne of two statements: %v", err)
	}
	if _, err := ParseOne(""); err == nil {
		t.Error("ParseOne of nothing succeeded")
	}
	if e, err := ParseExpr("a+1"); err != nil || e.String() != "a + 1" {
		t.Errorf("ParseExpr = %v, %v", e, err)
	}
	if _, err := ParseExpr("a b"); err == nil || !errors.Is(err, ErrSyntax) {
		t.Errorf("ParseExpr of two names: %v", err)
	}
}

// TestNestingBound checks that absurd nesting fails cleanly.
func TestNestingBound(t *testing.T) {
	for _, src := range []string{
		"SELECT " + strings.Repeat("(", 100000) + "1" + strings.Repeat(")", 100000),
		strings.Repeat("EXPLAIN ", 100000) + "SELECT 1",
		"SELECT " + strings.Repeat("NOT ", 100000) + "TRUE",
		"SELECT * FROM " + strings.Repeat("(", 100000) + "t",
	} {
		_, err := Parse(src)
		if err == nil || !strings.Contains(err.Error(), "nested more than") {
			t.Errorf("%.20s...: got %v, want a nesting error", src, err)
		}
	}
	// Long flat chains are fine: they nest in the tree, not in the parser.
	src := "SELECT 1" + strings.Repeat(" + 1", 20000)
	if _, _, err := roundTrip(src); err != nil {
		t.Error(err)
	}
}
