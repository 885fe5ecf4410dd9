package tpch

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/sql/ast"
	"github.com/bpfdb/bpfdb/internal/sql/parser"
)

// sharedQueries holds the queries as DuckDB ships them (../shared/tpch).
const sharedQueries = "../../../shared/tpch/queries"

// checkShape parses q and checks that its SQL is one query whose ORDER BY
// and LIMIT are what q says they are.
func checkShape(t *testing.T, q Query) {
	t.Helper()
	for _, s := range []string{q.Setup, q.Teardown} {
		if s == "" {
			continue
		}
		if _, err := parser.Parse(s); err != nil {
			t.Errorf("%s: setup or teardown: %v", q.Name(), err)
		}
	}
	st, err := parser.ParseOne(q.SQL)
	if err != nil {
		t.Fatalf("%s: %v", q.Name(), err)
	}
	sel, ok := st.(*ast.SelectStmt)
	if !ok {
		t.Fatalf("%s: %T, want a SELECT", q.Name(), st)
	}
	var keys []string
	for _, o := range sel.Query.OrderBy {
		keys = append(keys, ast.Format(o.Expr))
	}
	if strings.Join(keys, ",") != strings.Join(q.OrderBy, ",") {
		t.Errorf("%s: ORDER BY %v, but OrderBy says %v", q.Name(), keys, q.OrderBy)
	}
	limit := 0
	if sel.Query.Limit != nil {
		n, ok := sel.Query.Limit.(*ast.NumberLit)
		if !ok {
			t.Fatalf("%s: LIMIT %s is not a number", q.Name(), ast.Format(sel.Query.Limit))
		}
		limit, _ = strconv.Atoi(n.Text)
	}
	if limit != q.Limit {
		t.Errorf("%s: LIMIT %d, but Limit says %d", q.Name(), limit, q.Limit)
	}
}

func TestQueriesParse(t *testing.T) {
	all := All()
	if len(all) != 22+9 {
		t.Fatalf("All returned %d queries, want 31", len(all))
	}
	seen := map[string]bool{}
	for _, q := range all {
		if seen[q.Name()] {
			t.Errorf("two queries named %s", q.Name())
		}
		seen[q.Name()] = true
		checkShape(t, q)
		if q.Form == Interval && !strings.Contains(strings.ToUpper(q.SQL+q.Setup), "INTERVAL") {
			t.Errorf("%s has no INTERVAL", q.Name())
		}
		if q.Form == Dates && strings.Contains(strings.ToUpper(q.SQL), "INTERVAL") {
			t.Errorf("%s writes an INTERVAL", q.Name())
		}
	}
	q15, _ := Get(15, Interval)
	if !strings.HasPrefix(q15.Setup, "CREATE VIEW revenue0") || q15.Teardown != "DROP VIEW revenue0;" {
		t.Errorf("q15-interval: setup %q, teardown %q", q15.Setup, q15.Teardown)
	}
}

// TestSharedQueriesHaveTheSameShape checks the ORDER BY and LIMIT of
// DuckDB's text of each query against ours.
func TestSharedQueriesHaveTheSameShape(t *testing.T) {
	if _, err := os.Stat(sharedQueries); err != nil {
		t.Skipf("DuckDB's TPC-H queries not found at %s: they are part of ../shared", sharedQueries)
	}
	for n := 1; n <= 22; n++ {
		text, err := os.ReadFile(filepath.Join(sharedQueries, fmt.Sprintf("q%02d.sql", n)))
		if err != nil {
			t.Fatal(err)
		}
		q, err := FromText(n, string(text))
		if err != nil {
			t.Fatal(err)
		}
		checkShape(t, q)
	}
}

func TestGetErrors(t *testing.T) {
	for _, tt := range []struct {
		n    int
		f    Form
		want string
	}{
		{0, Dates, "there are 22 queries"},
		{23, Dates, "there are 22 queries"},
		{2, Interval, "no interval arithmetic"},
		{1, Form(9), "unknown form"},
	} {
		if _, err := Get(tt.n, tt.f); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Get(%d, %v) = %v, want an error with %q", tt.n, tt.f, err, tt.want)
		}
	}
}

func TestFromTextSections(t *testing.T) {
	q, err := FromText(3, "-- a comment\n-- setup\nCREATE VIEW v AS SELECT 1;\n-- query\nSELECT * FROM v;\n-- teardown\nDROP VIEW v;\n")
	if err != nil {
		t.Fatal(err)
	}
	if q.Setup != "CREATE VIEW v AS SELECT 1;" || q.SQL != "SELECT * FROM v;" || q.Teardown != "DROP VIEW v;" {
		t.Fatalf("sections: %+v", q)
	}
	if _, err := FromText(3, "-- setup\nSELECT 1;\n"); err == nil {
		t.Error("sections without a query section: no error")
	}
	if _, err := FromText(3, "-- query\nSELECT 1;\n-- query\nSELECT 2;\n"); err == nil {
		t.Error("two query sections: no error")
	}
}

func TestSchema(t *testing.T) {
	if len(Tables) != 8 {
		t.Fatalf("%d tables", len(Tables))
	}
	st, err := parser.Parse(Schema())
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 8 {
		t.Fatalf("Schema() has %d statements, want 8", len(st))
	}
	const want = "CREATE TABLE region (\n    r_regionkey INTEGER NOT NULL,\n    r_name VARCHAR NOT NULL,\n    r_comment VARCHAR NOT NULL\n)"
	if got := Tables[0].CreateSQL(); got != want {
		t.Errorf("region:\n%s\nwant:\n%s", got, want)
	}
}
