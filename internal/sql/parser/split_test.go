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

// FuzzSplit checks Split's contract on any text: every statement it
// returns is one complete statement on its own, and the rest holds no
// complete statement.
//
//	go test ./internal/sql/parser -run '^$' -fuzz FuzzSplit -fuzztime 1m
func FuzzSplit(f *testing.F) {
	for _, s := range []string{"SELECT 1; SELECT ';' -- ;\n;", "/* ; */ x; 'a;b", `"q;" ; E'\';' ;`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		stmts, rest := Split(src)
		for _, s := range stmts {
			again, r := Split(s + ";")
			if len(again) != 1 || again[0] != s || r != "" {
				t.Fatalf("Split(%q): statement %q splits again into %q, %q", src, s, again, r)
			}
		}
		if again, r := Split(rest); len(again) != 0 || r != rest {
			t.Fatalf("Split(%q): rest %q splits again into %q, %q", src, rest, again, r)
		}
	})
}
