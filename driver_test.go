package bpfdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bpfdb/bpfdb/internal/planner"
	"github.com/bpfdb/bpfdb/internal/sql/ast"
	"github.com/bpfdb/bpfdb/internal/sql/parser"
)

func TestParseDSN(t *testing.T) {
	for _, tc := range []struct {
		dsn  string
		path string
		opts Options
		err  string // a substring of the error; "" for none
	}{
		{dsn: "", path: ""},
		{dsn: ":memory:", path: ":memory:"},
		{dsn: "data/tpch.db", path: "data/tpch.db"},
		{dsn: "x.db?threads=2&memory_limit=1GB", path: "x.db", opts: Options{Threads: 2, MemoryLimit: 1e9}},
		{dsn: ":memory:?memory_limit=512MiB&read_only=true", path: ":memory:", opts: Options{MemoryLimit: 512 << 20, ReadOnly: true}},
		{dsn: "?threads=1", path: "", opts: Options{Threads: 1}},
		{dsn: "x.db?no_programs=1", path: "x.db", opts: Options{NoPrograms: true}},
		{dsn: "x.db?memory_limit=1%20GiB", path: "x.db", opts: Options{MemoryLimit: 1 << 30}},
		{dsn: "x.db?threads=two", err: `threads="two" is not a number of threads`},
		{dsn: "x.db?threads=-1", err: `threads="-1"`},
		{dsn: "x.db?threads=1&threads=2", err: "option threads given 2 times"},
		{dsn: "x.db?memory_limit=lots", err: `size "lots"`},
		{dsn: "x.db?read_only=maybe", err: `read_only="maybe" is not true or false`},
		{dsn: "x.db?hook_max_errors=-1", path: "x.db", opts: Options{HookMaxErrors: -1}},
		{dsn: "x.db?hook_max_errors=many", err: `hook_max_errors="many" is not a number`},
		{dsn: "x.db?cache=shared", err: `unknown option "cache" (threads, memory_limit, read_only, no_programs or hook_max_errors)`},
		{dsn: "x.db?threads=%zz", err: "invalid URL escape"},
	} {
		path, opts, err := ParseDSN(tc.dsn)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseDSN(%q) error = %v, want one containing %q", tc.dsn, err, tc.err)
			}
		case err != nil:
			t.Errorf("ParseDSN(%q): %v", tc.dsn, err)
		case path != tc.path || !reflect.DeepEqual(opts, tc.opts):
			t.Errorf("ParseDSN(%q) = %q, %+v; want %q, %+v", tc.dsn, path, opts, tc.path, tc.opts)
		}
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"0", 0}, {"4096", 4096}, {"10B", 10}, {"1KB", 1000}, {"1kb", 1000}, {"2 MB", 2e6},
		{"1.5GB", 1.5e9}, {"1TB", 1e12}, {"1KiB", 1024}, {"3MiB", 3 << 20}, {"0.5GiB", 1 << 29}, {"1TiB", 1 << 40},
	} {
		got, err := parseSize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "GB", "1XB", "1.2.3GB", "-1GB", "1e3", "99999999999TiB"} {
		if got, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", bad, got)
		}
	}
}

func args(vs ...any) []driver.NamedValue {
	out := make([]driver.NamedValue, len(vs))
	for i, v := range vs {
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return out
}

// TestBind pins the text bind makes: each parameter token replaced by its
// argument's literal, spaced off, everything else (comments, strings that
// look like parameters) left alone.
func TestBind(t *testing.T) {
	day := time.Date(1998, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		query string
		args  []driver.NamedValue
		want  string
	}{
		{"SELECT 1", nil, "SELECT 1"},
		{"SELECT $1", nil, "SELECT $1"}, // without arguments the text is unchanged
		{"SELECT $1, $2", args(int64(7), "x"), "SELECT  7 ,  'x' "},
		{"SELECT $2, $1, $2", args(int64(1), int64(2)), "SELECT  2 ,  1 ,  2 "},
		{"SELECT ?, ?", args(true, false), "SELECT  TRUE ,  FALSE "},
		{"SELECT ?; SELECT ?", args(nil), "SELECT  NULL ; SELECT  NULL "},
		{"SELECT x-$1", args(int64(-5)), "SELECT x- (-5) "},
		{"SELECT $1", args(-2.5), "SELECT  (-2.5e+00) "},
		{"SELECT $1", args(0.1), "SELECT  1e-01 "},
		{"SELECT $1", args(math.Copysign(0, -1)), "SELECT  (-0e+00) "},
		{"SELECT $1", args(int64(math.MinInt64)), "SELECT  (-9223372036854775807-1) "},
		{"SELECT $1", args(math.Inf(1)), "SELECT  CAST('Infinity' AS DOUBLE) "},
		{"SELECT $1", args(math.NaN()), "SELECT  CAST('NaN' AS DOUBLE) "},
		{"SELECT $1::DATE", args(day), "SELECT  DATE '1998-12-01' ::DATE"},
		{"SELECT '$1', \"?\", $1 -- $1 ?\n", args("it's"), "SELECT '$1', \"?\",  'it''s'  -- $1 ?\n"},
		{"SELECT e?", args(`\'`), `SELECT e '\''' `},
	} {
		got, err := bind(tc.query, tc.args)
		if err != nil || got != tc.want {
			t.Errorf("bind(%q, %v) = %q, %v; want %q", tc.query, tc.args, got, err, tc.want)
		}
	}
}

func TestBindErrors(t *testing.T) {
	noon := time.Date(1998, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		query string
		args  []driver.NamedValue
		err   string
		is    error
	}{
		{"SELECT $1, $2", args(int64(1)), "the statement has 2 parameters, got 1 arguments", ErrParams},
		{"SELECT 1", args(int64(1)), "the statement has 0 parameters, got 1 arguments", ErrParams},
		{"SELECT $1", []driver.NamedValue{{Name: "x", Ordinal: 1, Value: int64(1)}}, "named argument x", ErrNotSupported},
		{"SELECT $1", args([]byte("ab")), "argument 1: a []byte", ErrNotSupported},
		{"SELECT $1", args(noon), "argument 1: time 1998-12-01T12:00:00Z has a time of day", ErrNotSupported},
		{"SELECT $1", args(time.Date(-3, 1, 1, 0, 0, 0, 0, time.UTC)), "argument 1: time", nil},
		{"SELECT $1, 'unterminated", args(int64(1)), "unterminated string", parser.ErrSyntax},
	} {
		_, err := bind(tc.query, tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.err) || tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("bind(%q, %v) error = %v; want one containing %q (and is %v)", tc.query, tc.args, err, tc.err, tc.is)
		}
	}
}

// boundValue binds one argument into "SELECT $1" and returns the literal
// expression the parser reads back.
func boundValue(t testing.TB, v driver.Value) ast.Expr {
	t.Helper()
	q, err := bind("SELECT $1", args(v))
	if err != nil {
		t.Fatalf("bind %#v: %v", v, err)
	}
	stmts, err := parser.Parse(q)
	if err != nil {
		t.Fatalf("bound %#v as %q, which does not parse: %v", v, q, err)
	}
	if len(stmts) != 1 {
		t.Fatalf("bound %#v as %q: %d statements", v, q, len(stmts))
	}
	sel := stmts[0].(*ast.SelectStmt).Query.Body.(*ast.Select)
	if len(sel.Columns) != 1 {
		t.Fatalf("bound %#v as %q: %d columns", v, q, len(sel.Columns))
	}
	return sel.Columns[0].Expr
}

// FuzzBindString checks that a string argument, whatever its bytes,
// parses back as one string literal with the same value: an argument
// cannot change a statement's syntax.
func FuzzBindString(f *testing.F) {
	for _, s := range []string{"", "x", "it's", `\'`, "'); DROP TABLE t; --", "$1", "?", "a\nb", "\x00", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := boundValue(t, s)
		lit, ok := e.(*ast.StringLit)
		if !ok || lit.Value != s {
			t.Fatalf("bound %q parses back as %s", s, ast.Format(e))
		}
	})
}

// TestBindNumbers checks that numeric arguments parse back as literals of
// the same value and kind (an exponent makes a DOUBLE); a negative one is
// the negation of its magnitude.
func TestBindNumbers(t *testing.T) {
	for _, v := range []driver.Value{int64(0), int64(-1), int64(math.MaxInt64), int64(math.MinInt64 + 1), 0.1, -1e300, 5e-324, math.MaxFloat64, math.Copysign(0, -1)} {
		e := boundValue(t, v)
		neg := false
		if u, ok := e.(*ast.UnaryExpr); ok && u.Op == ast.OpNeg {
			neg, e = true, u.X
		}
		n, ok := e.(*ast.NumberLit)
		if !ok {
			t.Errorf("%v bound as %s", v, ast.Format(e))
			continue
		}
		switch v := v.(type) {
		case int64:
			got, err := strconv.ParseInt(n.Text, 10, 64)
			if neg {
				got = -got
			}
			if n.Kind != ast.NumInteger || err != nil || got != v {
				t.Errorf("%d bound as %v %s (negated: %v)", v, n.Kind, n.Text, neg)
			}
		case float64:
			got, err := strconv.ParseFloat(n.Text, 64)
			if neg {
				got = -got
			}
			if n.Kind != ast.NumFloat || err != nil || math.Float64bits(got) != math.Float64bits(v) {
				t.Errorf("%v bound as %v %s (negated: %v)", v, n.Kind, n.Text, neg)
			}
		}
	}
}

func TestCountParams(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"SELECT 1", 0},
		{"SELECT $3", 3},
		{"SELECT ?, ?, ?", 3},
		{"SELECT ?; SELECT ?, ?", 2},
		{"SELECT '?', $2 -- $9", 2},
	} {
		got, err := countParams(tc.query)
		if err != nil || got != tc.want {
			t.Errorf("countParams(%q) = %d, %v; want %d", tc.query, got, err, tc.want)
		}
	}
}

// TestDriverContract checks the parts of the driver that database/sql
// reaches without running a statement: registration, DSN errors at
// sql.Open's first use, and the refused transactions.
func TestDriverContract(t *testing.T) {
	if !slices.Contains(sql.Drivers(), "bpfdb") {
		t.Fatalf("sql.Drivers() = %v, no bpfdb", sql.Drivers())
	}
	if _, err := sql.Open("bpfdb", "x.db?frob=1"); err == nil || !strings.Contains(err.Error(), `unknown option "frob"`) {
		t.Errorf("sql.Open with an unknown option: %v", err)
	}
	db, err := sql.Open("bpfdb", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if _, err := db.Begin(); !errors.Is(err, ErrNotSupported) {
		t.Errorf("Begin: %v, want ErrNotSupported", err)
	}
	if _, err := db.Prepare("SELECT FROM WHERE"); !errors.Is(err, parser.ErrSyntax) {
		t.Errorf("Prepare of bad SQL: %v, want a syntax error", err)
	}
	st, err := db.Prepare("SELECT $2, ?")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Query(1); err == nil || !strings.Contains(err.Error(), "expected 2 arguments, got 1") {
		t.Errorf("Query with too few arguments: %v", err)
	}
	if reflect.TypeOf(db.Driver()) != reflect.TypeOf(Driver{}) {
		t.Errorf("Driver() = %T", db.Driver())
	}
}

// openSQL opens an in-memory database through database/sql.
func openSQL(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("bpfdb", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestDatabaseSQL runs statements through database/sql: DDL, inserts with
// arguments of every kind, and a query whose values are scanned into Go
// types and read back as the driver's values with their column types.
func TestDatabaseSQL(t *testing.T) {
	db := openSQL(t, ":memory:?threads=2&memory_limit=256MiB")
	ctx := context.Background()
	res, err := db.ExecContext(ctx, `CREATE TABLE t (
		i INTEGER, b BIGINT, f DOUBLE, d DECIMAL(10,2), s VARCHAR, dt DATE, ok BOOLEAN)`)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := res.RowsAffected(); n != 0 || err != nil {
		t.Errorf("CREATE TABLE affected %d rows, %v", n, err)
	}
	if _, err := res.LastInsertId(); !errors.Is(err, ErrNotSupported) {
		t.Errorf("LastInsertId: %v", err)
	}
	ins, err := db.PrepareContext(ctx, "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?)")
	if err != nil {
		t.Fatal(err)
	}
	defer ins.Close()
	day := time.Date(1998, 12, 1, 0, 0, 0, 0, time.UTC)
	nasty := "'); DROP TABLE t; -- \\ it's"
	for _, row := range [][]any{
		{1, int64(9000000000), 0.25, "1.50", "one", day, true},
		{int32(-2), -1, -1e300, -3.25, nasty, day.AddDate(0, 0, 1), false},
		{3, nil, nil, nil, nil, nil, nil},
	} {
		res, err := ins.ExecContext(ctx, row...)
		if err != nil {
			t.Fatalf("insert %v: %v", row, err)
		}
		if n, err := res.RowsAffected(); n != 1 || err != nil {
			t.Errorf("insert %v affected %d rows, %v", row, n, err)
		}
	}

	// Scanned into Go types: INTEGER into int32, DECIMAL into a string
	// (exact) and a float64, DATE into time.Time, NULLs into Null types.
	rows, err := db.QueryContext(ctx, "SELECT i, b, f, d, d, s, dt, ok FROM t WHERE i < $1 ORDER BY i", 10)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		i  int32
		b  sql.NullInt64
		f  sql.NullFloat64
		d  sql.NullString
		df sql.NullFloat64
		s  sql.NullString
		dt sql.NullTime
		ok sql.NullBool
	}
	var got []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.i, &r.b, &r.f, &r.d, &r.df, &r.s, &r.dt, &r.ok); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	want := []row{
		{-2, sql.NullInt64{Int64: -1, Valid: true}, sql.NullFloat64{Float64: -1e300, Valid: true},
			sql.NullString{String: "-3.25", Valid: true}, sql.NullFloat64{Float64: -3.25, Valid: true},
			sql.NullString{String: nasty, Valid: true}, sql.NullTime{Time: day.AddDate(0, 0, 1), Valid: true}, sql.NullBool{Bool: false, Valid: true}},
		{1, sql.NullInt64{Int64: 9000000000, Valid: true}, sql.NullFloat64{Float64: 0.25, Valid: true},
			sql.NullString{String: "1.50", Valid: true}, sql.NullFloat64{Float64: 1.5, Valid: true},
			sql.NullString{String: "one", Valid: true}, sql.NullTime{Time: day, Valid: true}, sql.NullBool{Bool: true, Valid: true}},
		{i: 3},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows:\n%+v\nwant:\n%+v", got, want)
	}

	// The driver's own values and column types.
	rows, err = db.QueryContext(ctx, "SELECT i, b, f, d, s, dt, ok FROM t WHERE i = 1")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	var desc []string
	for _, ct := range cts {
		s := ct.Name() + " " + ct.DatabaseTypeName() + " " + ct.ScanType().String()
		if p, sc, ok := ct.DecimalSize(); ok {
			s += fmt.Sprintf(" (%d,%d)", p, sc)
		}
		desc = append(desc, s)
	}
	wantDesc := []string{"i INTEGER int32", "b BIGINT int64", "f DOUBLE float64", "d DECIMAL string (10,2)",
		"s VARCHAR string", "dt DATE time.Time", "ok BOOLEAN bool"}
	if !slices.Equal(desc, wantDesc) {
		t.Errorf("column types:\n%q\nwant:\n%q", desc, wantDesc)
	}
	vals := make([]any, len(cts))
	ptrs := make([]any, len(cts))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if !rows.Next() {
		t.Fatalf("no row: %v", rows.Err())
	}
	if err := rows.Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	wantVals := []any{int64(1), int64(9000000000), 0.25, "1.50", "one", day, true}
	if !reflect.DeepEqual(vals, wantVals) {
		t.Errorf("values %#v, want %#v", vals, wantVals)
	}
	if rows.Next() {
		t.Error("a second row")
	}
}

// TestDatabaseSQLErrors: errors keep their type through database/sql (a
// binder error has its position), a cancelled context stops a statement,
// and several statements in one Exec run in order.
func TestDatabaseSQLErrors(t *testing.T) {
	db := openSQL(t, "")
	ctx := context.Background()
	res, err := db.ExecContext(ctx, "CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1), (2); INSERT INTO t VALUES (3)")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Errorf("the last INSERT affected %d rows, want 1", n)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 3 {
		t.Errorf("count = %d, %v; want 3", n, err)
	}

	_, err = db.QueryContext(ctx, "SELECT nope FROM t")
	var be *planner.Error
	if !errors.As(err, &be) || be.Pos.Col != 8 || !errors.Is(err, planner.ErrNotFound) {
		t.Errorf("unknown column: %v, want a *planner.Error at column 8", err)
	}

	// database/sql checks a context before it reaches the driver, so the
	// driver's connection is called directly: the engine sees the
	// cancelled context.
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	err = c.Raw(func(dc any) error {
		_, err := dc.(driver.QueryerContext).QueryContext(cancelled, "SELECT count(*) FROM t", nil)
		return err
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("query with a cancelled context: %v", err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO t VALUES ($1)", "x"); err == nil {
		t.Error("inserting 'x' into an INTEGER column worked")
	}
}

// TestNewConnector: a sql.DB over a DB its caller opened leaves it open
// when it closes; Driver.Open's connection closes its own database.
func TestNewConnector(t *testing.T) {
	db, err := Open("", Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Exec(context.Background(), "CREATE TABLE t (a INTEGER)"); err != nil {
		t.Fatal(err)
	}
	sqldb := sql.OpenDB(NewConnector(db))
	if _, err := sqldb.Exec("INSERT INTO t VALUES (7)"); err != nil {
		t.Fatal(err)
	}
	if err := sqldb.Close(); err != nil {
		t.Fatal(err)
	}
	res, err := db.Query(context.Background(), "SELECT a FROM t")
	if err != nil || res.Rows() != 1 || res.Value(0, 0).Int64() != 7 {
		t.Fatalf("after the sql.DB closed: %v, %v", res, err)
	}

	c, err := Driver{}.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	own := c.(*conn).db
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := own.Exec(context.Background(), "SELECT 1"); !errors.Is(err, ErrClosed) {
		t.Errorf("Driver.Open's database after its connection closed: %v", err)
	}
}

// TestDatabaseSQLConcurrent runs queries on several pooled connections at
// once (run with -race).
func TestDatabaseSQLConcurrent(t *testing.T) {
	db := openSQL(t, ":memory:?threads=2")
	if _, err := db.Exec("CREATE TABLE t (a BIGINT); INSERT INTO t VALUES (1), (2), (3)"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 10 {
				var sum int64
				if err := db.QueryRow("SELECT sum(a) + $1 FROM t", g*100+i).Scan(&sum); err != nil {
					errs <- err
					return
				}
				if want := int64(6 + g*100 + i); sum != want {
					errs <- fmt.Errorf("goroutine %d: sum %d, want %d", g, sum, want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// benchTable fills table t of db with 2^17 rows of INTEGER, DECIMAL,
// VARCHAR and DATE values.
func benchTable(b *testing.B, exec func(string) error) int {
	setup := "CREATE TABLE t (i INTEGER, d DECIMAL(12,2), s VARCHAR, dt DATE); " +
		"INSERT INTO t VALUES (1, 1.25, 'one', DATE '1998-12-01'), (2, -7.5, 'two', DATE '1970-01-01')"
	for range 16 {
		setup += "; INSERT INTO t SELECT i + 2, d * 2, s, dt FROM t"
	}
	if err := exec(setup); err != nil {
		b.Fatal(err)
	}
	return 1 << 17
}

// BenchmarkDriverScan reads every row of a 2^17-row table through
// database/sql into Go values: the driver's conversion cost per row.
func BenchmarkDriverScan(b *testing.B) {
	db, err := sql.Open("bpfdb", ":memory:?threads=2")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	n := benchTable(b, func(s string) error { _, err := db.Exec(s); return err })
	b.ResetTimer()
	for b.Loop() {
		rows, err := db.Query("SELECT i, d, s, dt FROM t")
		if err != nil {
			b.Fatal(err)
		}
		var (
			i  int32
			d  string
			s  string
			dt time.Time
		)
		got := 0
		for rows.Next() {
			if err := rows.Scan(&i, &d, &s, &dt); err != nil {
				b.Fatal(err)
			}
			got++
		}
		if err := rows.Close(); err != nil || got != n {
			b.Fatalf("%d rows, %v", got, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
}
