package tpch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb"
)

// The reference data and answers of ../shared/tpch.
const (
	sharedData    = "../../../shared/tpch/sf0.01"
	sharedAnswers = "../../../shared/tpch/answers/sf0.01"
)

// The matrix's small memory limits. An in-memory database cannot evict its
// tables (SF 0.01 holds about 16 MiB of them), so its limit leaves about
// 8 MiB for the joins, aggregates and sorts; a database file's tables are
// evicted and read back, so its limit is half the size of the data, and
// scans reload blocks while joins and aggregates hold theirs.
const (
	tinyMemory     = 24 << 20
	tinyFileMemory = 8 << 20
)

// A cell is one configuration the queries run under.
type cell struct {
	threads int
	memory  int64            // 0: the default
	file    bool             // a database file in a temporary directory, not in memory
	engine  bpfdb.HookEngine // runs the hooks' programs
}

func (c cell) String() string {
	m := "default"
	if c.memory > 0 {
		m = fmt.Sprintf("%dMB", c.memory>>20)
	}
	s := fmt.Sprintf("threads=%d,mem=%s", c.threads, m)
	if c.file {
		s += ",file"
	}
	return s
}

// matrix is every configuration: results must be the same in each.
var matrix = []cell{
	{threads: 1}, {threads: 2},
	{threads: 1, memory: tinyMemory}, {threads: 2, memory: tinyMemory},
	{threads: 1, memory: tinyFileMemory, file: true}, {threads: 2, memory: tinyFileMemory, file: true},
}

// sf001Rows are the row counts of the tables at SF 0.01.
var sf001Rows = map[string]int64{
	"region": 5, "nation": 25, "supplier": 100, "customer": 1500,
	"part": 2000, "partsupp": 8000, "orders": 15000, "lineitem": 60175,
}

// TestTPCH loads SF 0.01 into a database in every cell of the matrix and
// checks every query (ours in both forms, and DuckDB's text of it) against
// the reference answers.
func TestTPCH(t *testing.T) {
	if _, err := os.Stat(filepath.Join(sharedData, "lineitem.tbl")); err != nil {
		t.Skipf("TPC-H SF 0.01 data not found at %s: it is part of ../shared", sharedData)
	}
	if _, err := os.Stat(filepath.Join(sharedAnswers, "q01.csv")); err != nil {
		t.Skipf("TPC-H SF 0.01 answers not found at %s: they are part of ../shared", sharedAnswers)
	}
	type namedQuery struct {
		name string
		q    Query
	}
	var queries []namedQuery
	for _, q := range All() {
		queries = append(queries, namedQuery{q.Name(), q})
	}
	if _, err := os.Stat(sharedQueries); err == nil {
		for n := 1; n <= 22; n++ {
			text, err := os.ReadFile(filepath.Join(sharedQueries, fmt.Sprintf("q%02d.sql", n)))
			if err != nil {
				t.Fatal(err)
			}
			q, err := FromText(n, string(text))
			if err != nil {
				t.Fatal(err)
			}
			queries = append(queries, namedQuery{q.Name() + "-duckdb", q})
		}
	} else {
		t.Logf("DuckDB's query texts not found at %s: running ours only", sharedQueries)
	}
	answers := map[int]*Answer{}
	for n := 1; n <= 22; n++ {
		a, err := ReadCSV(filepath.Join(sharedAnswers, fmt.Sprintf("q%02d.csv", n)))
		if err != nil {
			t.Fatal(err)
		}
		answers[n] = a
	}
	ctx := context.Background()
	for _, c := range matrix {
		t.Run(c.String(), func(t *testing.T) {
			db := openLoaded(t, c)
			defer db.Close()
			for _, nq := range queries {
				q := nq.q
				t.Run(nq.name, func(t *testing.T) {
					res, _, err := Run(ctx, db, q)
					if err != nil {
						t.Fatal(err)
					}
					if err := q.Check(answers[q.N], FromResult(res)); err != nil {
						t.Fatal(err)
					}
				})
			}
		})
	}
}

// openLoaded opens the database of cell c with SF 0.01 loaded. A file
// database is loaded, closed and opened again under the cell's limit, so
// that its tables are on disk and can be evicted, as after bpfdb tpch load.
func openLoaded(t *testing.T, c cell) *bpfdb.DB {
	t.Helper()
	ctx := context.Background()
	path := ""
	opts := bpfdb.Options{Threads: c.threads, MemoryLimit: c.memory, HookEngine: c.engine, Logf: func(string, ...any) {}}
	if c.file {
		path = filepath.Join(t.TempDir(), "tpch.db")
		opts.MemoryLimit = 0
	}
	db, err := bpfdb.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(ctx, db, sharedData, nil)
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	for _, l := range loaded {
		if l.Rows != sf001Rows[l.Table] {
			t.Errorf("loaded %d rows into %s, want %d", l.Rows, l.Table, sf001Rows[l.Table])
		}
	}
	if !c.file {
		return db
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	opts.MemoryLimit = c.memory
	db, err = bpfdb.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestRepeatedRunsReleaseMemory runs the queries with joins of each kind
// 30 times in a row under the in-memory small limit: what a query takes
// from the buffer manager must be back when it ends, or the runs after it
// find less and less memory.
func TestRepeatedRunsReleaseMemory(t *testing.T) {
	if _, err := os.Stat(filepath.Join(sharedData, "lineitem.tbl")); err != nil {
		t.Skipf("TPC-H SF 0.01 data not found at %s: it is part of ../shared", sharedData)
	}
	db := openLoaded(t, cell{threads: 2, memory: tinyMemory})
	defer db.Close()
	ctx := context.Background()
	// Q3 inner joins, Q4 a semi join, Q13 a left join, Q16 an anti join
	// (NOT IN), Q22 a single join and an anti join.
	for _, n := range []int{3, 4, 13, 16, 22} {
		q, err := Get(n, Dates)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 30 {
			if _, _, err := Run(ctx, db, q); err != nil {
				t.Errorf("run %d of %d: %v", i+1, 30, err)
				break
			}
		}
	}
}

// TestExplain runs EXPLAIN and EXPLAIN ANALYZE on every query: both must
// describe pipelines, and ANALYZE must report the query's result rows.
func TestExplain(t *testing.T) {
	if _, err := os.Stat(filepath.Join(sharedData, "lineitem.tbl")); err != nil {
		t.Skipf("TPC-H SF 0.01 data not found at %s: it is part of ../shared", sharedData)
	}
	db := openLoaded(t, cell{threads: 2})
	defer db.Close()
	ctx := context.Background()
	for n := 1; n <= 22; n++ {
		q, _ := Get(n, Dates)
		t.Run(q.Name(), func(t *testing.T) {
			plain, _, err := Run(ctx, db, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, prefix := range []string{"EXPLAIN ", "EXPLAIN ANALYZE "} {
				res, err := db.Query(ctx, prefix+q.SQL)
				if err != nil {
					t.Fatalf("%s: %v", prefix, err)
				}
				var text strings.Builder
				for i := range res.Rows() {
					text.WriteString(res.Value(i, 0).Str() + "\n")
				}
				if !strings.Contains(text.String(), "pipeline") {
					t.Errorf("%sprints no pipeline:\n%s", prefix, text.String())
				}
				if want := fmt.Sprintf("%d result rows", plain.Rows()); prefix == "EXPLAIN ANALYZE " && !strings.Contains(text.String(), want) {
					t.Errorf("EXPLAIN ANALYZE does not say %q:\n%s", want, text.String())
				}
			}
		})
	}
}
