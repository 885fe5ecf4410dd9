package planner_test

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/planner"
	"github.com/bpfdb/bpfdb/internal/sql/ast"
	"github.com/bpfdb/bpfdb/internal/sql/parser"
	"github.com/bpfdb/bpfdb/internal/testutil/datadriven"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files with the current output")

// tpchQueries holds the 22 TPC-H queries, as DuckDB ships them.
const tpchQueries = "../../../shared/tpch/queries"

// bindSQL parses one statement and binds it: a query with Bind, an INSERT
// with BindInsert.
func bindSQL(cat planner.Catalog, src string) (*planner.Plan, error) {
	st, err := parser.ParseOne(src)
	if err != nil {
		return nil, err
	}
	switch st := st.(type) {
	case *ast.SelectStmt:
		return planner.Bind(cat, st.Query)
	case *ast.InsertStmt:
		return planner.BindInsert(cat, st)
	}
	return nil, fmt.Errorf("not a query or INSERT: %s", src)
}

// TestBind runs the golden files of testdata/: "plan" binds the SQL and
// prints the plan (the plan must be valid), "error" binds it and prints
// the error with a caret under its position (it must fail with a
// positioned *planner.Error).
func TestBind(t *testing.T) {
	cat := newCatalog(t)
	files, err := filepath.Glob("testdata/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			datadriven.Run(t, path, *rewrite, func(t *testing.T, c *datadriven.Case) string {
				src := strings.Join(c.Input, "\n")
				if c.Cmd == "tpch" {
					data, err := os.ReadFile(filepath.Join(tpchQueries, "q"+c.Arg(t, "q")+".sql"))
					if err != nil {
						t.Skipf("TPC-H queries not available (%v); they live in ../shared/tpch/queries of the repository's parent", err)
					}
					src = string(data)
				}
				var bcat planner.Catalog = cat
				if len(c.Args) > 0 && c.Cmd != "tpch" {
					sc := settingsCatalog{testCatalog: cat, settings: map[string]string{"default_order": "asc", "default_null_order": "nulls_last"}}
					for _, a := range c.Args {
						k, v, _ := strings.Cut(a, "=")
						sc.settings[k] = v
					}
					bcat = sc
				}
				p, err := bindSQL(bcat, src)
				switch c.Cmd {
				case "plan", "tpch":
					if err != nil {
						return "error: " + err.Error()
					}
					if verr := validate(p); verr != nil {
						t.Errorf("line %d: invalid plan: %v\n%s", c.Line, verr, planner.Format(p.Root))
					}
					return formatPlan(p)
				case "error":
					if err == nil {
						return "no error:\n" + formatPlan(p)
					}
					var be *planner.Error
					if !errors.As(err, &be) {
						t.Errorf("line %d: %v is not a *planner.Error", c.Line, err)
						return err.Error()
					}
					if !be.Pos.IsValid() || be.Pos.Offset > len(src) {
						t.Errorf("line %d: error position %+v out of range", c.Line, be.Pos)
					}
					return err.Error() + "\n" + be.Caret(src) + "\n" + sentinel(err)
				}
				t.Fatalf("line %d: unknown command %s", c.Line, c.Cmd)
				return ""
			})
		})
	}
}

// settingsCatalog is the test catalog with session settings.
type settingsCatalog struct {
	testCatalog
	settings map[string]string
}

func (c settingsCatalog) Setting(name string) (string, error) {
	v, ok := c.settings[name]
	if !ok {
		return "", fmt.Errorf("no setting %s", name)
	}
	return v, nil
}

// sentinel names the sentinel an error wraps.
func sentinel(err error) string {
	for _, s := range []struct {
		name string
		err  error
	}{
		{"ErrNotFound", planner.ErrNotFound},
		{"ErrAmbiguous", planner.ErrAmbiguous},
		{"ErrGrouping", planner.ErrGrouping},
		{"ErrNotSupported", planner.ErrNotSupported},
		{"ErrInvalid", planner.ErrInvalid},
	} {
		if errors.Is(err, s.err) {
			return s.name
		}
	}
	var be *planner.Error
	if errors.As(err, &be) && be.Err != nil {
		return fmt.Sprintf("%T", be.Err)
	}
	return "no sentinel"
}

// TestTPCHResultNames checks that the result columns of every TPC-H query
// have the names of the reference answers' header rows.
func TestTPCHResultNames(t *testing.T) {
	cat := newCatalog(t)
	for q := 1; q <= 22; q++ {
		data, err := os.ReadFile(fmt.Sprintf("%s/q%02d.sql", tpchQueries, q))
		if err != nil {
			t.Skipf("TPC-H queries not available: %v", err)
		}
		ans, err := os.ReadFile(fmt.Sprintf("../../../shared/tpch/answers/sf0.01/q%02d.csv", q))
		if err != nil {
			t.Skipf("TPC-H answers not available: %v", err)
		}
		header, _, _ := strings.Cut(string(ans), "\n")
		p, err := bindSQL(cat, string(data))
		if err != nil {
			t.Errorf("q%02d: %v", q, err)
			continue
		}
		var names []string
		for _, c := range p.Result {
			names = append(names, c.Name)
		}
		if got := strings.Join(names, ","); got != strings.TrimSpace(header) {
			t.Errorf("q%02d: result columns %s, want %s", q, got, header)
		}
	}
}

// BenchmarkBindTPCH binds the 22 TPC-H queries (parsed once) per
// iteration.
//
//	go test ./internal/planner -run '^$' -bench BindTPCH -benchmem
func BenchmarkBindTPCH(b *testing.B) {
	cat := newCatalog(b)
	var qs []*ast.Query
	for q := 1; q <= 22; q++ {
		data, err := os.ReadFile(fmt.Sprintf("%s/q%02d.sql", tpchQueries, q))
		if err != nil {
			b.Skipf("TPC-H queries not available: %v", err)
		}
		st, err := parser.ParseOne(string(data))
		if err != nil {
			b.Fatal(err)
		}
		qs = append(qs, st.(*ast.SelectStmt).Query)
	}
	b.ResetTimer()
	for range b.N {
		for _, q := range qs {
			if _, err := planner.Bind(cat, q); err != nil {
				b.Fatal(err)
			}
		}
	}
}
