package bpfdb_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/bpfdb/bpfdb"
)

// TestDescribe: Describe gives the columns a statement returns without
// running it, the same as running it gives.
func TestDescribe(t *testing.T) {
	db := openWith(t, "", bpfdb.Options{})
	ctx := context.Background()
	exec(t, db, `CREATE TABLE t (a INTEGER, b DECIMAL(12,2), c VARCHAR, d DATE)`)
	for _, tc := range []struct{ sql, want string }{
		{"SELECT a, sum(b) AS s, c || 'x', d + 1 FROM t GROUP BY a, c, d", "[a s (c || 'x') (d + 1)] [INTEGER DECIMAL(38,2) VARCHAR DATE]"},
		{"SELECT count(*) FROM t WHERE a > CAST(NULL AS INTEGER)", "[count_star()] [BIGINT]"},
		{"EXPLAIN SELECT 1", "[explain] [VARCHAR]"},
		{"EXPLAIN ANALYZE SELECT 1", "[explain analyze] [VARCHAR]"},
		{"SHOW threads", "[threads] [VARCHAR]"},
		{"INSERT INTO t VALUES (1, 2, 'x', DATE '2000-01-01')", "[] []"},
	} {
		names, ts, err := db.Describe(ctx, tc.sql)
		if err != nil {
			t.Errorf("%s: %v", tc.sql, err)
			continue
		}
		if got := fmt.Sprint(names, " ", ts); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.sql, got, tc.want)
		}
		if tc.sql[0] != 'S' || tc.sql[1] != 'E' {
			continue
		}
		res, err := db.Query(ctx, tc.sql)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(res.Columns, " ", res.Types); got != tc.want {
			t.Errorf("%s ran as %s, described as %s", tc.sql, got, tc.want)
		}
	}
	if n, err := db.Query(ctx, "SELECT count(*) FROM t"); err != nil || n.Value(0, 0).Int64() != 0 {
		t.Fatalf("Describe ran the INSERT: %v %v", n, err)
	}
	for _, sql := range []string{"SELECT nope FROM t", "SELECT 1; SELECT 2", "SELEC 1"} {
		if _, _, err := db.Describe(ctx, sql); err == nil {
			t.Errorf("%s: described", sql)
		}
	}
	bob := bpfdb.WithSession(ctx, bpfdb.Session{User: "bob"})
	if _, _, err := db.Describe(bob, "SELECT * FROM bpfdb_map('unpin', 'x')"); !errors.Is(err, bpfdb.ErrPermission) {
		t.Errorf("bob described bpfdb_map: %v", err)
	}
}
