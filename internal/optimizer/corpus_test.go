package optimizer

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/planner"
	"github.com/bpfdb/bpfdb/internal/sql/ast"
	"github.com/bpfdb/bpfdb/internal/sql/parser"
	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
)

// binderCorpus holds the binder's golden files, whose "plan" cases are
// queries over the tables t, u, w and TPC-H's.
const binderCorpus = "../planner/testdata"

// corpusQueries returns the SQL of every "plan" case of the binder's
// golden files.
func corpusQueries(t *testing.T) []string {
	files, err := filepath.Glob(filepath.Join(binderCorpus, "*"))
	if err != nil {
		t.Fatal(err)
	}
	var qs []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		for i := 0; i < len(lines); i++ {
			if strings.TrimSpace(lines[i]) != "plan" {
				continue
			}
			var sql []string
			for i++; i < len(lines) && lines[i] != "----"; i++ {
				sql = append(sql, lines[i])
			}
			qs = append(qs, strings.Join(sql, "\n"))
		}
	}
	if len(qs) == 0 {
		t.Skipf("no binder golden files in %s", binderCorpus)
	}
	return qs
}

// corpusDB creates the binder tests' tables t, u and w with a few random
// rows (NULLs included, small row groups) and the TPC-H tables empty.
func corpusDB(t *testing.T, r *rand.Rand) *table.DB {
	db := newDB(t)
	null := func(v types.Value) types.Value {
		if r.IntN(6) == 0 {
			return types.Null(v.Type())
		}
		return v
	}
	createTable(t, db, "t", "a:INTEGER b:BIGINT c:VARCHAR d:DATE e:DECIMAL(15,2) f:DOUBLE g:BOOLEAN", 10, func(int) []types.Value {
		return []types.Value{
			null(types.IntegerValue(int32(r.IntN(15)))), null(types.BigIntValue(int64(r.IntN(5)))),
			null(types.VarcharValue([]string{"x", "xy", "b", "name"}[r.IntN(4)])), null(types.DateValue(int32(10590 + r.IntN(30)))),
			null(types.DecimalValue(int64(r.IntN(9)-2)*125, types.MustDecimal(15, 2))), null(types.DoubleValue(float64(r.IntN(7)) / 2)),
			null(types.BoolValue(r.IntN(2) == 0)),
		}
	})
	createTable(t, db, "u", "a:INTEGER x:VARCHAR y:DECIMAL(4,1)", 8, func(int) []types.Value {
		return []types.Value{null(types.IntegerValue(int32(r.IntN(15)))), null(types.VarcharValue([]string{"x", "b", "q"}[r.IntN(3)])),
			null(types.DecimalValue(int64(r.IntN(50)), types.MustDecimal(4, 1)))}
	})
	createTable(t, db, "w", "a:INTEGER z:DATE", 6, func(int) []types.Value {
		return []types.Value{null(types.IntegerValue(int32(r.IntN(15)))), null(types.DateValue(int32(10590 + r.IntN(30))))}
	})
	for _, ts := range tpchSchema {
		createTable(t, db, ts.name, ts.cols, 0, nil)
	}
	return db
}

// TestBinderCorpus binds every query of the binder's golden files over
// small random tables and checks, with the reference interpreter, that the
// plan optimized with every pass, and with each pass disabled, computes
// the rows the bound plan computes.
func TestBinderCorpus(t *testing.T) {
	seed := testSeed(t)
	db := corpusDB(t, rand.New(rand.NewPCG(seed, 3)))
	cat := tpchCatalog{db}
	bind := func(sql string) (*planner.Plan, bool) {
		st, err := parser.ParseOne(sql)
		if err != nil {
			return nil, false
		}
		sel, ok := st.(*ast.SelectStmt)
		if !ok {
			return nil, false
		}
		p, err := planner.Bind(cat, sel.Query)
		return p, err == nil
	}
	configs := []map[string]bool{{}}
	for _, n := range passNames() {
		configs = append(configs, map[string]bool{n: true})
	}
	checked := 0
	for _, sql := range corpusQueries(t) {
		p0, ok := bind(sql)
		if !ok {
			continue // views and such of the binder's own catalog
		}
		if err := Validate(p0); err != nil {
			// The binder's to fix; the optimizer refuses such plans.
			t.Logf("%s\nbound plan invalid: %v", sql, err)
			continue
		}
		want, wantErr := result(p0)
		for _, disabled := range configs {
			p, _ := bind(sql)
			if _, err := Optimize(p, Options{Disabled: disabled, Validate: true}); err != nil {
				t.Errorf("%s\ndisabled %v: %v", sql, disabled, err)
				continue
			}
			got, gotErr := result(p)
			switch {
			case wantErr != nil || gotErr != nil:
				if (wantErr == nil) != (gotErr == nil) {
					t.Errorf("%s\ndisabled %v: error before %v, after %v\nbefore:\n%s\nafter:\n%s", sql, disabled, wantErr, gotErr, planner.Format(p0.Root), planner.Format(p.Root))
				}
			case !slices.Equal(want, got):
				t.Errorf("%s\ndisabled %v: results differ\nbefore:\n%s\nafter:\n%s\nplan before:\n%s\nplan after:\n%s", sql, disabled,
					strings.Join(want, "\n"), strings.Join(got, "\n"), planner.Format(p0.Root), planner.Format(p.Root))
			}
		}
		checked++
	}
	t.Logf("%d queries checked", checked)
	if checked < 50 {
		t.Errorf("only %d of the binder's queries bound over this catalog", checked)
	}
}
