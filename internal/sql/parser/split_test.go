package parser

import (
	"slices"
	"testing"
)

func TestSplit(t *testing.T) {
	for _, c := range []struct {
		src   string
		stmts []string
		rest  string
	}{
		{"", nil, ""},
		{"SELECT 1", nil, "SELECT 1"},
		{"SELECT 1;", []string{"SELECT 1"}, ""},
		{"SELECT 1; SELECT 2;\n", []string{"SELECT 1", " SELECT 2"}, ""},
		{"SELECT ';'; SELECT \";\" FROM t", []string{"SELECT ';'"}, ` SELECT ";" FROM t`},
		{"SELECT 1 -- ; not here\n; ;; -- only a comment\n", []string{"SELECT 1 -- ; not here\n"}, ""},
		{"SELECT 1 /* ; */;", []string{"SELECT 1 /* ; */"}, ""},
		{"SELECT 1; SELECT 'unterminated;", []string{"SELECT 1"}, " SELECT 'unterminated;"},
		{"SELECT 1; /* open comment;", []string{"SELECT 1"}, " /* open comment;"},
		{"SELECT 1;\n  \n", []string{"SELECT 1"}, ""},
	} {
		stmts, rest := Split(c.src)
		if !slices.Equal(stmts, c.stmts) || rest != c.rest {
			t.Errorf("Split(%q) = %q, %q; want %q, %q", c.src, stmts, rest, c.stmts, c.rest)
		}
	}
}
