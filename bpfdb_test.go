package bpfdb_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/bpfdb/bpfdb"
)

func open(t *testing.T, path string) *bpfdb.DB {
	t.Helper()
	db, err := bpfdb.Open(path, bpfdb.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// rows returns a result as "a|b" lines.
func rows(t *testing.T, db *bpfdb.DB, sql string) string {
	t.Helper()
	r, err := db.Query(context.Background(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	var lines []string
	for i := range r.Rows() {
		var cells []string
		for _, v := range r.Row(i) {
			cells = append(cells, v.String())
		}
		lines = append(lines, strings.Join(cells, "|"))
	}
	return strings.Join(lines, "\n")
}

func TestQueryAndTags(t *testing.T) {
	db := open(t, "")
	ctx := context.Background()
	var tags []string
	err := db.QueryEach(ctx, `
		CREATE TABLE t (a INTEGER NOT NULL, b VARCHAR);
		INSERT INTO t VALUES (1, 'x'), (2, NULL), (3, 'x');
		SELECT b, count(*) AS n FROM t GROUP BY b ORDER BY b NULLS FIRST;
		SET threads = 1;
		SHOW threads`, func(r *bpfdb.Result) error {
		tags = append(tags, fmt.Sprintf("%s %d %v", r.Tag, r.RowsAffected, r.Columns))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"CREATE TABLE 0 []", "INSERT 3 []", "SELECT 2 [b n]", "SET 0 []", "SHOW 1 [threads]"}
	if fmt.Sprint(tags) != fmt.Sprint(want) {
		t.Errorf("tags %q, want %q", tags, want)
	}
	if got := rows(t, db, "SELECT b, count(*) FROM t GROUP BY b ORDER BY b NULLS FIRST"); got != "NULL|1\nx|2" {
		t.Errorf("group by after SET threads = 1: %q", got)
	}
}

// TestFailedStatementChangesNothing checks statement atomicity: an INSERT
// whose last row breaks NOT NULL adds no row, a query error leaves the
// data, and the statements before a failing one stay done.
func TestFailedStatementChangesNothing(t *testing.T) {
	db := open(t, "")
	ctx := context.Background()
	if err := db.Exec(ctx, "CREATE TABLE t (a INTEGER NOT NULL); INSERT INTO t VALUES (1), (2)"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		"INSERT INTO t VALUES (3), (NULL)",
		"INSERT INTO t SELECT a / 0 FROM t",
		"INSERT INTO t SELECT 1 // 0",
		"CREATE TABLE t (b INTEGER)",
		"SELECT nope FROM t",
		"SELEC 1",
	} {
		if err := db.Exec(ctx, bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
		if got := rows(t, db, "SELECT a FROM t ORDER BY a"); got != "1\n2" {
			t.Errorf("after %s: rows %q, want 1, 2", bad, got)
		}
	}
	err := db.Exec(ctx, "INSERT INTO t VALUES (3); INSERT INTO t VALUES (NULL); INSERT INTO t VALUES (4)")
	if err == nil {
		t.Fatal("a NULL into a NOT NULL column: no error")
	}
	if got := rows(t, db, "SELECT a FROM t ORDER BY a"); got != "1\n2\n3" {
		t.Errorf("the statement before the failing one: rows %q, want 1, 2, 3", got)
	}
}

func TestPersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	ctx := context.Background()
	db, err := bpfdb.Open(path, bpfdb.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(ctx, `CREATE TABLE t (a INTEGER, d DECIMAL(15,2));
		INSERT INTO t VALUES (1, 1.25), (2, NULL);
		CREATE VIEW v AS SELECT sum(d) AS s FROM t`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(ctx, "SELECT 1"); !errors.Is(err, bpfdb.ErrClosed) {
		t.Errorf("Exec on a closed DB: %v, want ErrClosed", err)
	}
	db = open(t, path)
	if got := rows(t, db, "SELECT * FROM t ORDER BY a"); got != "1|1.25\n2|NULL" {
		t.Errorf("reopened table: %q", got)
	}
	if got := rows(t, db, "SELECT s FROM v"); got != "1.25" {
		t.Errorf("reopened view: %q", got)
	}
}

// TestConcurrentQueries runs queries from many goroutines while another
// changes the thread count (which replaces the scheduler): every query
// answers right (go test -race checks the sharing).
func TestConcurrentQueries(t *testing.T) {
	db := open(t, "")
	ctx := context.Background()
	if err := db.Exec(ctx, "CREATE TABLE t AS SELECT 1 AS a UNION ALL SELECT 2 UNION ALL SELECT 3"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				if g == 0 && i%5 == 0 {
					if err := db.Exec(ctx, fmt.Sprintf("SET threads = %d", 1+i%3)); err != nil {
						t.Error(err)
					}
				}
				r, err := db.Query(ctx, "SELECT sum(a) FROM t")
				if err != nil {
					t.Error(err)
					return
				}
				if got := r.Value(0, 0).String(); got != "6" {
					t.Errorf("sum = %s, want 6", got)
				}
			}
		}()
	}
	wg.Wait()
}

func TestCancel(t *testing.T) {
	db := open(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := db.Query(ctx, "SELECT 1"); !errors.Is(err, context.Canceled) {
		t.Errorf("query under a cancelled context: %v, want context.Canceled", err)
	}
}

// TestMixedTypeJoinKeys: IN and EXISTS between BIGINT and DECIMAL columns
// become hash joins on keys of one type (both DECIMAL), with exact results.
func TestMixedTypeJoinKeys(t *testing.T) {
	db := open(t, "")
	if err := db.Exec(context.Background(), `CREATE TABLE t (b BIGINT); CREATE TABLE u (y DECIMAL(4,1));
		INSERT INTO t VALUES (1), (2), (3), (NULL); INSERT INTO u VALUES (1.0), (2.5), (3.0)`); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ sql, want string }{
		{"SELECT b FROM t WHERE b IN (SELECT y FROM u) ORDER BY b", "1\n3"},
		{"SELECT b, b IN (SELECT y FROM u), b NOT IN (SELECT y FROM u) FROM t ORDER BY b", "1|true|false\n2|false|true\n3|true|false\nNULL|NULL|NULL"},
		{"SELECT b FROM t WHERE EXISTS (SELECT 1 FROM u WHERE y = b) ORDER BY b", "1\n3"},
		{"SELECT b FROM t WHERE NOT EXISTS (SELECT 1 FROM u WHERE y = b) ORDER BY b", "2\nNULL"},
		{"SELECT count(*) FROM t JOIN u ON b = y", "2"},
	} {
		if got := rows(t, db, tc.sql); got != tc.want {
			t.Errorf("%s:\n%s\nwant:\n%s", tc.sql, got, tc.want)
		}
	}
}

// TestCorrelatedLimit: LIMIT inside EXISTS drops out, and a correlated
// "greatest/least value" subquery (ORDER BY x LIMIT 1) becomes max/min.
func TestCorrelatedLimit(t *testing.T) {
	db := open(t, "")
	if err := db.Exec(context.Background(), `CREATE TABLE t1 (k INTEGER, a INTEGER); CREATE TABLE t2 (k INTEGER, b INTEGER);
		INSERT INTO t1 VALUES (1, 10), (2, 20), (3, 30), (NULL, 40);
		INSERT INTO t2 VALUES (1, 5), (1, 6), (2, 7), (2, NULL), (3, NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ sql, want string }{
		{"SELECT count(*) FROM t1 WHERE EXISTS (SELECT * FROM t2 WHERE t2.k = t1.k LIMIT 1)", "3"},
		{"SELECT count(*) FROM t1 WHERE NOT EXISTS (SELECT * FROM t2 WHERE t2.k = t1.k ORDER BY b LIMIT 2)", "1"},
		{"SELECT a, (SELECT b FROM t2 WHERE t2.k = t1.k ORDER BY b DESC NULLS LAST LIMIT 1), (SELECT b FROM t2 WHERE t2.k = t1.k ORDER BY b LIMIT 1) FROM t1 ORDER BY a",
			"10|6|5\n20|7|7\n30|NULL|NULL\n40|NULL|NULL"},
	} {
		if got := rows(t, db, tc.sql); got != tc.want {
			t.Errorf("%s:\n%s\nwant:\n%s", tc.sql, got, tc.want)
		}
	}
	// Other shapes under LIMIT stay refused, never planned wrongly.
	if err := db.Exec(context.Background(), "SELECT a, (SELECT k FROM t2 WHERE t2.k = t1.k ORDER BY b LIMIT 1) FROM t1"); err == nil {
		t.Error("top-1 of another column than the order key: no error")
	}
}
