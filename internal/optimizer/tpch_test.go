package optimizer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/load"
	"github.com/bpfdb/bpfdb/internal/planner"
	"github.com/bpfdb/bpfdb/internal/sql/ast"
	"github.com/bpfdb/bpfdb/internal/sql/parser"
	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/testutil/datadriven"
)

// tpchQueries holds the 22 TPC-H queries, as DuckDB ships them, and
// tpchData the tables at scale factor 0.01 as dbgen writes them.
const (
	tpchQueries = "../../../shared/tpch/queries"
	tpchData    = "../../../shared/tpch/sf0.01"
)

// realTPCH returns a database of the TPC-H tables at SF 0.01 loaded from
// tpchData (the statistics the optimizer sees for real queries), or skips
// the test if the data is absent.
func realTPCH(t *testing.T) *table.DB {
	t.Helper()
	if _, err := os.Stat(filepath.Join(tpchData, "lineitem.tbl")); err != nil {
		t.Skipf("TPC-H data not available (%v); it lives in ../shared/tpch/sf0.01 of the repository's parent", err)
	}
	db := newDB(t)
	for _, ts := range tpchSchema {
		tbl := createTable(t, db, ts.name, ts.cols, 0, nil)
		if _, err := load.File(tbl, filepath.Join(tpchData, ts.name+".tbl"), load.Options{Format: load.TBL, Threads: 1}); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// tpchCatalog is a planner.Catalog of the tables of a DB and no views.
type tpchCatalog struct{ db *table.DB }

func (c tpchCatalog) Table(name string) *table.Table { return c.db.Table(name) }

func (c tpchCatalog) View(string) (string, []string, bool) { return "", nil, false }

// bindQuery parses and binds TPC-H query q ("03").
func bindQuery(t *testing.T, db *table.DB, q string) *planner.Plan {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(tpchQueries, "q"+q+".sql"))
	if err != nil {
		t.Skipf("TPC-H queries not available (%v); they live in ../shared/tpch/queries of the repository's parent", err)
	}
	st, err := parser.ParseOne(string(data))
	if err != nil {
		t.Fatalf("parse q%s: %v", q, err)
	}
	sel, ok := st.(*ast.SelectStmt)
	if !ok {
		t.Fatalf("q%s is a %T, not a query", q, st)
	}
	p, err := planner.Bind(tpchCatalog{db}, sel.Query)
	if err != nil {
		t.Fatalf("bind q%s: %v", q, err)
	}
	return p
}

// oneRow reports whether n produces at most one row: an aggregate without
// groups, under filters and projections.
func oneRow(n planner.Node) bool {
	switch n := n.(type) {
	case *planner.Aggregate:
		return len(n.Groups) == 0
	case *planner.Project:
		return oneRow(n.Input)
	case *planner.Filter:
		return oneRow(n.Input)
	case *planner.Limit:
		return n.Count == 1 || oneRow(n.Input)
	}
	return false
}

// joinProblems lists the joins of n that would not run as hash joins:
// cross joins, except with a side of at most one row (an uncorrelated
// scalar subquery), and joins without conditions.
func joinProblems(n planner.Node) []string {
	var out []string
	if j, ok := n.(*planner.Join); ok {
		switch {
		case j.Kind == planner.Cross && !oneRow(j.Left) && !oneRow(j.Right):
			out = append(out, "cross join of two many-row inputs: "+planner.Describe(j))
		case j.Kind != planner.Cross && len(j.Conds) == 0:
			out = append(out, "join without a hash condition: "+planner.Describe(j))
		}
	}
	for _, in := range n.Inputs() {
		out = append(out, joinProblems(in)...)
	}
	return out
}

// TestTPCH binds the 22 TPC-H queries over the SF 0.01 tables, optimizes
// them (validating after every pass) and prints the optimized plans
// (testdata/tpch). Every join
// must become a hash join with conditions: no cross joins remain except
// with uncorrelated scalar subqueries.
func TestTPCH(t *testing.T) {
	db := realTPCH(t)
	datadriven.Run(t, "testdata/tpch", *rewrite, func(t *testing.T, c *datadriven.Case) string {
		if c.Cmd != "tpch" {
			t.Fatalf("line %d: unknown command %s", c.Line, c.Cmd)
		}
		q := c.Arg(t, "q")
		p := bindQuery(t, db, q)
		if _, err := Optimize(p, Options{Validate: true}); err != nil {
			t.Fatalf("q%s: %v", q, err)
		}
		for _, problem := range joinProblems(p.Root) {
			t.Errorf("q%s: %s", q, problem)
		}
		return format(p)
	})
}

// TestTPCHCoverage checks that testdata/tpch has all 22 queries.
func TestTPCHCoverage(t *testing.T) {
	data, err := os.ReadFile("testdata/tpch")
	if err != nil {
		t.Fatal(err)
	}
	for q := 1; q <= 22; q++ {
		if !strings.Contains(string(data), fmt.Sprintf("tpch q=%02d\n", q)) {
			t.Errorf("testdata/tpch has no case for q%02d", q)
		}
	}
}

// TestTPCHEveryPassCombination optimizes each bound TPC-H query under all
// 32 combinations of disabled passes: the plan must be valid after every
// pass that runs.
func TestTPCHEveryPassCombination(t *testing.T) {
	db := tpchTables(t)
	names := passNames()
	for q := 1; q <= 22; q++ {
		for mask := range 1 << len(names) {
			disabled := map[string]bool{}
			for i, n := range names {
				disabled[n] = mask&(1<<i) != 0
			}
			p := bindQuery(t, db, fmt.Sprintf("%02d", q))
			if _, err := Optimize(p, Options{Disabled: disabled, Validate: true}); err != nil {
				t.Errorf("q%02d disabled %v: %v", q, disabled, err)
			}
		}
	}
}

// TestOptimizeConcurrently optimizes the TPC-H queries from several
// goroutines at once, as concurrent statements do (run with -race: the
// passes share no state).
func TestOptimizeConcurrently(t *testing.T) {
	db := tpchTables(t)
	plans := make([]*planner.Plan, 0, 44)
	for range 2 {
		for q := 1; q <= 22; q++ {
			plans = append(plans, bindQuery(t, db, fmt.Sprintf("%02d", q)))
		}
	}
	errs := make(chan error, len(plans))
	for _, p := range plans {
		go func() {
			_, err := Optimize(p, Options{Validate: true})
			errs <- err
		}()
	}
	for range plans {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
