package planner_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/planner"
	"github.com/bpfdb/bpfdb/internal/sql/ast"
	"github.com/bpfdb/bpfdb/internal/sql/parser"
)

// FuzzBind feeds every statement the parser accepts to the binder against
// the test catalog: binding must never panic, every failure must be a
// *planner.Error with a position inside the text, and every plan must be
// valid (validate). The corpus starts from the golden files' inputs and
// the TPC-H queries.
//
//	go test ./internal/planner -run '^$' -fuzz FuzzBind -fuzztime 2m
func FuzzBind(f *testing.F) {
	files, err := filepath.Glob("testdata/*")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, in := range goldenInputs(string(data)) {
			f.Add(in)
		}
	}
	for q := 1; q <= 22; q++ {
		if b, err := os.ReadFile(fmt.Sprintf("%s/q%02d.sql", tpchQueries, q)); err == nil {
			f.Add(string(b))
		}
	}
	cat := newCatalog(f)
	f.Fuzz(func(t *testing.T, src string) {
		stmts, err := parser.Parse(src)
		if err != nil {
			return
		}
		for _, st := range stmts {
			var p *planner.Plan
			var err error
			switch st := st.(type) {
			case *ast.SelectStmt:
				p, err = planner.Bind(cat, st.Query)
			case *ast.InsertStmt:
				p, err = planner.BindInsert(cat, st)
			case *ast.ExplainStmt:
				if sel, ok := st.Stmt.(*ast.SelectStmt); ok {
					p, err = planner.Bind(cat, sel.Query)
				} else {
					continue
				}
			default:
				continue
			}
			if err != nil {
				var be *planner.Error
				if !errors.As(err, &be) {
					t.Fatalf("input %q: %v is not a *planner.Error", src, err)
				}
				if !be.Pos.IsValid() || be.Pos.Offset > len(src) {
					t.Fatalf("input %q: error %v has position %+v outside the text", src, err, be.Pos)
				}
				_ = be.Caret(src)
				continue
			}
			if err := validate(p); err != nil {
				t.Fatalf("input %q: invalid plan: %v\n%s", src, err, planner.Format(p.Root))
			}
		}
	})
}

// goldenInputs returns the inputs of the cases of a golden file.
func goldenInputs(data string) []string {
	var out []string
	lines := strings.Split(data, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		var in []string
		for i++; i < len(lines) && lines[i] != "----"; i++ {
			in = append(in, lines[i])
		}
		if len(in) > 0 {
			out = append(out, strings.Join(in, "\n"))
		}
		for i < len(lines) && lines[i] != "" {
			i++
		}
	}
	return out
}
