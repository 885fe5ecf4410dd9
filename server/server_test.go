package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/bpfdb/bpfdb"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const (
	adminUser     = "admin"
	adminPassword = "s3cret"
)

// testServer is a server of a database on 127.0.0.1, port chosen by the
// system, with the superuser admin.
type testServer struct {
	*Server
	db   *bpfdb.DB
	addr string
	done chan error // Serve's result
}

func startServer(t testing.TB, db *bpfdb.DB, opts Options) *testServer {
	t.Helper()
	if db == nil {
		var err error
		db, err = bpfdb.Open("", bpfdb.Options{Threads: 2, Logf: func(string, ...any) {}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	s := New(db, opts)
	if err := s.Bootstrap(adminUser, adminPassword); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: s, db: db, addr: l.Addr().String(), done: make(chan error, 1)}
	go func() { ts.done <- s.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil && !errors.Is(err, ErrServerClosed) {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-ts.done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return ts
}

// url is the connection URL for user and password.
func (ts *testServer) url(user, password string) string {
	return fmt.Sprintf("postgres://%s:%s@%s/bpfdb?sslmode=prefer", user, password, ts.addr)
}

func (ts *testServer) connect(t testing.TB, user, password string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), ts.url(user, password))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// pgCode returns the SQLSTATE of a PostgreSQL error, "" for other errors.
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// TestQueries: typed values in both protocols and both formats, command
// tags, parameters, and errors with their SQLSTATE.
func TestQueries(t *testing.T) {
	ts := startServer(t, nil, Options{})
	ctx := context.Background()
	c := ts.connect(t, adminUser, adminPassword)
	tag, err := c.Exec(ctx, `CREATE TABLE t (b BOOLEAN, i INTEGER, l BIGINT, d DOUBLE, n DECIMAL(12,2), s VARCHAR, day DATE)`)
	if err != nil || tag.String() != "CREATE TABLE" {
		t.Fatalf("create: %q %v", tag, err)
	}
	tag, err = c.Exec(ctx, `INSERT INTO t VALUES (true, 1, 10000000000, 1.5, 12.34, 'x''y', DATE '1998-12-01'),
		(false, -2, -3, -0.25, -0.05, '', DATE '1970-01-01'), (NULL, NULL, NULL, NULL, NULL, NULL, NULL)`)
	if err != nil || tag.String() != "INSERT 0 3" {
		t.Fatalf("insert: %q %v", tag, err)
	}
	const q = `SELECT b, i, l, d, n, s, day FROM t ORDER BY i NULLS LAST` // '' comes first: an empty value is not NULL
	want := "[false -2 -3 -0.25 -0.05  1970-01-01] [true 1 10000000000 1.5 12.34 x'y 1998-12-01] [<nil> <nil> <nil> <nil> <nil> <nil> <nil>]"
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeDescribeExec, pgx.QueryExecModeExec, pgx.QueryExecModeSimpleProtocol} {
		rows, err := c.Query(ctx, q, mode)
		if err != nil {
			t.Fatalf("%v: %v", mode, err)
		}
		var got []string
		for rows.Next() {
			var b *bool
			var i *int32
			var l *int64
			var d *float64
			var n *string
			var s *string
			var day *time.Time
			if err := rows.Scan(&b, &i, &l, &d, &n, &s, &day); err != nil {
				t.Fatalf("%v: scan: %v", mode, err)
			}
			got = append(got, fmt.Sprint(show(b), " ", show(i), " ", show(l), " ", show(d), " ", show(n), " ", show(s), " ", showDate(day)))
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%v: %v", mode, err)
		}
		if s := fmt.Sprint(bracket(got)); s != want {
			t.Errorf("%v:\n got %s\nwant %s", mode, s, want)
		}
		if rows.CommandTag().String() != "SELECT 3" {
			t.Errorf("%v: tag %q", mode, rows.CommandTag())
		}
	}

	// Parameters, in every mode: typed from the client's Go values.
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeExec, pgx.QueryExecModeSimpleProtocol} {
		var n int64
		err := c.QueryRow(ctx, `SELECT count(*) FROM t WHERE i > $1 AND s <> $2 AND day >= $3`, mode, int32(-5), "zz", "1960-01-01").Scan(&n)
		if err != nil || n != 2 {
			t.Errorf("%v: params: %d %v", mode, n, err)
		}
		var s string
		if err := c.QueryRow(ctx, `SELECT s FROM t WHERE s = $1`, mode, "x'y").Scan(&s); err != nil || s != "x'y" {
			t.Errorf("%v: a quote in a parameter: %q %v", mode, s, err)
		}
	}

	// Parameters typed by the query: a date, a LIMIT, a factor.
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeExec} {
		var n int64
		day := time.Date(1998, 12, 1, 0, 0, 0, 0, time.UTC)
		if err := c.QueryRow(ctx, `SELECT count(*) FROM t WHERE day = $1 OR day BETWEEN $2 AND $2`, mode, day, time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)).Scan(&n); err != nil || n != 2 {
			t.Errorf("%v: date parameters: %d %v", mode, n, err)
		}
		var ss []string
		rows, err := c.Query(ctx, `SELECT s FROM t WHERE i IN ($1, $2) ORDER BY i LIMIT $3`, mode, 1, -2, 1)
		if err == nil {
			ss, err = pgx.CollectRows(rows, pgx.RowTo[string])
		}
		if err != nil || len(ss) != 1 || ss[0] != "" {
			t.Errorf("%v: IN and LIMIT parameters: %q %v", mode, ss, err)
		}
		var d float64
		if err := c.QueryRow(ctx, `SELECT d * $1 FROM t WHERE i = 1`, mode, 4).Scan(&d); err != nil || d != 6 {
			t.Errorf("%v: a factor: %v %v", mode, d, err)
		}
	}

	for _, tc := range []struct{ sql, code string }{
		{"SELEC 1", "42601"},
		{"SELECT * FROM nope", "42P01"},
		{"SELECT nope FROM t", "42703"},
		{"SELECT 1/0", "22012"},
		{"CREATE TABLE t (a INTEGER)", "42P07"},
		{"SELECT nosuch(1)", "42883"},
	} {
		_, err := c.Exec(ctx, tc.sql)
		if got := pgCode(err); got != tc.code {
			t.Errorf("%s: %v (code %q), want %s", tc.sql, err, got, tc.code)
		}
	}
	// After errors the session still works.
	var one int32
	if err := c.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("after errors: %d %v", one, err)
	}
}

func show[T any](p *T) string {
	if p == nil {
		return "<nil>"
	}
	return fmt.Sprint(*p)
}

func showDate(p *time.Time) string {
	if p == nil {
		return "<nil>"
	}
	return p.Format(time.DateOnly)
}

func bracket(rows []string) string {
	s := ""
	for i, r := range rows {
		if i > 0 {
			s += " "
		}
		s += "[" + r + "]"
	}
	return s
}

// TestAuthentication: a wrong password and an unknown user are refused
// alike with 28P01; the right one logs in.
func TestAuthentication(t *testing.T) {
	ts := startServer(t, nil, Options{})
	ctx := context.Background()
	for _, tc := range []struct{ user, password string }{{adminUser, "wrong"}, {"nobody", adminPassword}, {adminUser, ""}} {
		c, err := pgx.Connect(ctx, ts.url(tc.user, tc.password))
		if err == nil {
			c.Close(ctx)
			t.Errorf("%s/%s: logged in", tc.user, tc.password)
			continue
		}
		if code := pgCode(err); code != "28P01" {
			t.Errorf("%s/%s: %v (code %q), want 28P01", tc.user, tc.password, err, code)
		}
	}
	ts.connect(t, adminUser, adminPassword)
}

// TestTransactionBlocks: pgx's Begin, Commit and Rollback work for blocks
// of reads; a Rollback after writes fails with 0A000 and the rows stay.
func TestTransactionBlocks(t *testing.T) {
	ts := startServer(t, nil, Options{})
	ctx := context.Background()
	c := ts.connect(t, adminUser, adminPassword)
	if _, err := c.Exec(ctx, "CREATE TABLE w (a INTEGER)"); err != nil {
		t.Fatal(err)
	}
	for _, end := range []string{"commit", "rollback"} {
		tx, err := c.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM w").Scan(&n); err != nil || n != 0 {
			t.Fatalf("%s: %d %v", end, n, err)
		}
		if end == "commit" {
			err = tx.Commit(ctx)
		} else {
			err = tx.Rollback(ctx)
		}
		if err != nil {
			t.Fatalf("%s of a block of reads: %v", end, err)
		}
	}
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO w VALUES ($1)", 5); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); pgCode(err) != "0A000" {
		t.Fatalf("rollback after a write: %v, want 0A000", err)
	}
	// pgx closes a connection whose rollback failed: ask on another.
	var n int64
	if err := ts.connect(t, adminUser, adminPassword).QueryRow(ctx, "SELECT count(*) FROM w").Scan(&n); err != nil || n != 1 {
		t.Fatalf("after the failed rollback: %d rows, %v", n, err)
	}
}
