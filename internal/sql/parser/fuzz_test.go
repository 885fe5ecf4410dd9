package parser

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// FuzzParse checks that no input makes the parser panic, that every
// failure is a positioned *Error, and that every success round-trips:
// the canonical text parses to the same tree and is a fixed point. The
// corpus starts from the golden inputs and the TPC-H queries.
//
//	go test ./internal/sql/parser -run '^$' -fuzz FuzzParse -fuzztime 2m
func FuzzParse(f *testing.F) {
	for _, file := range []string{"testdata/parse", "testdata/ast", "testdata/errors"} {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, c := range goldenInputs(string(data)) {
			f.Add(c)
		}
	}
	for n := 1; n <= 22; n++ {
		if b, err := os.ReadFile(fmt.Sprintf("%s/q%02d.sql", tpchDir, n)); err == nil {
			f.Add(string(b))
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		_, _, err := roundTrip(src)
		if err == nil {
			return
		}
		var se *Error
		if !errors.As(err, &se) {
			t.Fatalf("input %q: %v", src, err)
		}
		if _, perr := Parse(src); perr == nil {
			// Parse succeeded, so the round trip itself failed.
			t.Fatalf("input %q: %v", src, err)
		}
		if se.Pos.Offset > len(src) || se.Pos.Line < 1 || se.Pos.Col < 1 {
			t.Fatalf("input %q: error position %+v out of range", src, se.Pos)
		}
		_ = se.Error()
	})
}

// goldenInputs returns the inputs of the cases of a data-driven file.
func goldenInputs(data string) []string {
	var out []string
	lines := strings.Split(data, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if l == "" || strings.HasPrefix(l, "#") || l == "----" {
			continue
		}
		switch l {
		case "parse", "ast", "expr", "error":
			var in []string
			for i++; i < len(lines) && lines[i] != "----"; i++ {
				in = append(in, lines[i])
			}
			out = append(out, strings.Join(in, "\n"))
			for i < len(lines) && lines[i] != "" {
				i++
			}
		}
	}
	return out
}
