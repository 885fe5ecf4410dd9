package bpfdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/bpfdb/bpfdb/internal/sql/parser"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// The driver's part of the database/sql contract, checked by the compiler.
var (
	_ driver.Driver                         = Driver{}
	_ driver.DriverContext                  = Driver{}
	_ driver.Connector                      = (*connector)(nil)
	_ io.Closer                             = (*connector)(nil)
	_ driver.Conn                           = (*conn)(nil)
	_ driver.ConnPrepareContext             = (*conn)(nil)
	_ driver.ConnBeginTx                    = (*conn)(nil)
	_ driver.ExecerContext                  = (*conn)(nil)
	_ driver.QueryerContext                 = (*conn)(nil)
	_ driver.Pinger                         = (*conn)(nil)
	_ driver.StmtExecContext                = (*stmt)(nil)
	_ driver.StmtQueryContext               = (*stmt)(nil)
	_ driver.RowsColumnTypeDatabaseTypeName = (*rows)(nil)
	_ driver.RowsColumnTypeScanType         = (*rows)(nil)
	_ driver.RowsColumnTypePrecisionScale   = (*rows)(nil)
)

func init() {
	sql.Register("bpfdb", Driver{})
}

// Driver is bpfdb's database/sql driver, registered as "bpfdb":
//
//	db, err := sql.Open("bpfdb", "tpch.db?threads=2&memory_limit=1GB")
//	rows, err := db.QueryContext(ctx, "SELECT n_name FROM nation WHERE n_regionkey = $1", 2)
//
// The data source name is a database path with options ([ParseDSN]).
// sql.Open opens the database once; the pool's connections share it, and
// closing the sql.DB closes it. To use a [DB] that is already open, pass
// [NewConnector] to sql.OpenDB.
//
// Each statement runs in a transaction of its own (as with [DB.Exec]), so
// Begin is refused with [ErrNotSupported]. A query's context cancels it.
//
// Parameters are written $n (the n-th argument) or ? (the n-th ? of a
// statement is its $n). The driver binds them by replacing each parameter
// token with the argument as a SQL literal before the statement is
// parsed; the literal is built from the value, never from the text around
// it, so an argument cannot change the statement's syntax:
//
//	nil          NULL
//	int64        an integer literal (-5 as (-5))
//	float64      a DOUBLE literal with an exponent (1.5e+00); NaN and
//	             ±Inf as CAST('NaN' AS DOUBLE)
//	bool         TRUE or FALSE
//	string       a string literal, quotes doubled
//	time.Time    DATE 'YYYY-MM-DD' (its date in its own location; a
//	             time of day other than midnight is refused: bpfdb has
//	             no TIMESTAMP)
//	[]byte       refused: bpfdb has no BLOB type
//
// Named arguments (sql.Named) are refused. Rows hold these Go values:
//
//	BOOLEAN       bool
//	INTEGER       int64 (scans into int32 and smaller without loss)
//	BIGINT        int64
//	DOUBLE        float64
//	DECIMAL(p,s)  string with exactly s decimals ("12.50"): exact, as
//	              lib/pq and the MySQL driver return NUMERIC; it scans
//	              into *float64 or *string
//	VARCHAR       string
//	DATE          time.Time at midnight UTC
//	NULL          nil
//
// ColumnTypeDatabaseTypeName reports the SQL type name without
// parameters ("DECIMAL"); ColumnTypePrecisionScale reports a DECIMAL's.
type Driver struct{}

// Open opens the database that dsn names and returns a connection that
// closes it when it closes. sql.Open does not call it (it uses
// OpenConnector, whose connections share one database); it is there for
// callers that use the driver directly.
func (d Driver) Open(dsn string) (driver.Conn, error) {
	c, err := d.OpenConnector(dsn)
	if err != nil {
		return nil, err
	}
	cn := &conn{db: c.(*connector).db, closeDB: true}
	return cn, nil
}

// OpenConnector parses dsn and opens its database; the connector's
// connections share it and Close closes it.
func (Driver) OpenConnector(dsn string) (driver.Connector, error) {
	path, opts, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	db, err := Open(path, opts)
	if err != nil {
		return nil, err
	}
	return &connector{db: db, owned: true}, nil
}

// NewConnector returns a database/sql connector whose connections use db:
//
//	sqldb := sql.OpenDB(bpfdb.NewConnector(db))
//
// Closing the sql.DB does not close db; its owner does.
func NewConnector(db *DB) driver.Connector {
	return &connector{db: db}
}

// connector hands out connections to one database.
type connector struct {
	db    *DB
	owned bool // Close closes db
}

func (c *connector) Connect(context.Context) (driver.Conn, error) {
	return &conn{db: c.db}, nil
}

func (c *connector) Driver() driver.Driver { return Driver{} }

// Close closes the database if the connector opened it; sql.DB.Close
// calls it.
func (c *connector) Close() error {
	if c.owned {
		return c.db.Close()
	}
	return nil
}

// ParseDSN splits a data source name into a database path and options:
//
//	path[?name=value&...]
//
// The path is taken as written up to the first '?' (so a path that holds a
// '?' cannot be named); "" and ":memory:" name a new in-memory database.
// The values are URL query values (percent-escapes are decoded):
//
//	threads=N           worker threads (Options.Threads; 0: GOMAXPROCS)
//	memory_limit=SIZE   the buffer manager's limit: bytes, or a number with
//	                    a unit: KB MB GB TB (powers of 1000) or KiB MiB GiB
//	                    TiB (powers of 1024), case-insensitive: 1GB, 512MiB
//	read_only=BOOL      open a file database read-only (true/false, 1/0)
//	no_programs=BOOL    open without attaching the eBPF programs the
//	                    database records (Options.NoPrograms)
//	hook_max_errors=N   failed calls after which a hook's program is
//	                    detached (Options.HookMaxErrors; negative: never)
//
// An unknown or repeated option is an error.
func ParseDSN(dsn string) (path string, opts Options, err error) {
	path, query, hasQuery := strings.Cut(dsn, "?")
	if !hasQuery {
		return path, opts, nil
	}
	vals, err := url.ParseQuery(query)
	if err != nil {
		return "", Options{}, fmt.Errorf("data source %q: options: %w", dsn, err)
	}
	for name, vs := range vals {
		if len(vs) != 1 {
			return "", Options{}, fmt.Errorf("data source %q: option %s given %d times", dsn, name, len(vs))
		}
		v := vs[0]
		switch name {
		case "threads":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return "", Options{}, fmt.Errorf("data source %q: threads=%q is not a number of threads", dsn, v)
			}
			opts.Threads = n
		case "memory_limit":
			n, err := parseSize(v)
			if err != nil {
				return "", Options{}, fmt.Errorf("data source %q: memory_limit: %w", dsn, err)
			}
			opts.MemoryLimit = n
		case "read_only":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return "", Options{}, fmt.Errorf("data source %q: read_only=%q is not true or false", dsn, v)
			}
			opts.ReadOnly = b
		case "no_programs":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return "", Options{}, fmt.Errorf("data source %q: no_programs=%q is not true or false", dsn, v)
			}
			opts.NoPrograms = b
		case "hook_max_errors":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return "", Options{}, fmt.Errorf("data source %q: hook_max_errors=%q is not a number (of failed calls; negative: never detach)", dsn, v)
			}
			opts.HookMaxErrors = n
		default:
			return "", Options{}, fmt.Errorf("data source %q: unknown option %q (threads, memory_limit, read_only, no_programs or hook_max_errors)", dsn, name)
		}
	}
	return path, opts, nil
}

// sizeUnits are the units parseSize knows, lower-cased.
var sizeUnits = map[string]float64{
	"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// parseSize parses a size in bytes: a number, optionally with a fraction,
// and a unit (B, KB, MB, GB, TB in powers of 1000; KiB, MiB, GiB, TiB in
// powers of 1024; case-insensitive, space allowed between): "1GB",
// "1.5 GiB", "4096".
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	mul, ok := sizeUnits[unit]
	if num == "" || !ok {
		return 0, fmt.Errorf("size %q: want a number of bytes, or a number and a unit (KB, MB, GB, TB, KiB, MiB, GiB, TiB)", s)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w", s, err)
	}
	b := math.Round(f * mul)
	if b >= math.MaxInt64 {
		return 0, fmt.Errorf("size %q: too large", s)
	}
	return int64(b), nil
}

// conn is one database/sql connection. It holds no state of its own: the
// database's settings are shared, and every statement commits by itself.
type conn struct {
	db      *DB
	closeDB bool // Driver.Open's connections own their database
	closed  bool
}

func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

// PrepareContext parses query (to report syntax errors and count its
// parameters); the statement is parsed again with its arguments bound
// each time it runs.
func (c *conn) PrepareContext(_ context.Context, query string) (driver.Stmt, error) {
	if _, err := parser.Parse(query); err != nil {
		return nil, err
	}
	n, err := countParams(query)
	if err != nil {
		return nil, err
	}
	return &stmt{conn: c, query: query, params: n}, nil
}

func (c *conn) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	if c.closeDB {
		return c.db.Close()
	}
	return nil
}

// Begin is refused: see BeginTx.
func (c *conn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx is refused with ErrNotSupported: every statement runs in a
// transaction of its own and commits when it ends, so a transaction that
// spans statements could not be rolled back.
func (c *conn) BeginTx(context.Context, driver.TxOptions) (driver.Tx, error) {
	return nil, fmt.Errorf("bpfdb: a transaction over several statements: %w (every statement commits by itself)", ErrNotSupported)
}

func (c *conn) Ping(context.Context) error {
	c.db.mu.Lock()
	defer c.db.mu.Unlock()
	if c.db.closed {
		return driver.ErrBadConn
	}
	return nil
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	bound, err := bind(query, args)
	if err != nil {
		return nil, err
	}
	var last *Result
	err = c.db.QueryEach(ctx, bound, func(r *Result) error { last = r; return nil })
	if err != nil {
		return nil, err
	}
	if last == nil {
		return nil, fmt.Errorf("bpfdb: exec: no statement in %q", query)
	}
	return execResult{rows: last.RowsAffected}, nil
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	bound, err := bind(query, args)
	if err != nil {
		return nil, err
	}
	res, err := c.db.Query(ctx, bound)
	if err != nil {
		return nil, err
	}
	return newRows(res), nil
}

// stmt is a prepared statement: its text and its number of parameters.
type stmt struct {
	conn   *conn
	query  string
	params int
}

func (s *stmt) Close() error  { return nil }
func (s *stmt) NumInput() int { return s.params }

func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), named(args))
}

func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), named(args))
}

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.conn.ExecContext(ctx, s.query, args)
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.conn.QueryContext(ctx, s.query, args)
}

func named(args []driver.Value) []driver.NamedValue {
	nv := make([]driver.NamedValue, len(args))
	for i, a := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return nv
}

// execResult is what Exec returns: the rows the last statement changed.
type execResult struct{ rows int64 }

// LastInsertId is refused: bpfdb tables have no row ids.
func (execResult) LastInsertId() (int64, error) {
	return 0, fmt.Errorf("bpfdb: LastInsertId: %w (tables have no row ids)", ErrNotSupported)
}

func (r execResult) RowsAffected() (int64, error) { return r.rows, nil }

// ErrParams is under the errors of statements whose arguments do not
// match their parameters.
var ErrParams = errors.New("parameters and arguments do not match")

// paramTokens returns the parameter tokens of query ($n and ?) with the
// argument index each one takes (from 0), and whether lexing reached the
// end without an error.
func paramTokens(query string) (toks []parser.Token, index []int, ok bool) {
	question := 0
	for _, t := range parser.Lex(query) {
		switch {
		case t.Kind == parser.Invalid:
			return toks, index, false
		case t.Kind == parser.Param:
			n, err := strconv.Atoi(t.Value)
			if err != nil || n < 1 {
				return toks, index, false
			}
			toks, index = append(toks, t), append(index, n-1)
		case t.Kind == parser.Op && t.Value == "?":
			toks, index = append(toks, t), append(index, question)
			question++
		case t.Kind == parser.Op && t.Value == ";":
			question = 0 // the parser numbers ? per statement
		}
	}
	return toks, index, true
}

// countParams returns the number of arguments query takes: the highest
// parameter number.
func countParams(query string) (int, error) {
	_, index, ok := paramTokens(query)
	if !ok {
		_, err := parser.Parse(query)
		return 0, err
	}
	n := 0
	for _, i := range index {
		n = max(n, i+1)
	}
	return n, nil
}

// bind replaces the parameters of query by args as SQL literals. Without
// args, query is returned as it is (and a parameter in it is the binder's
// error).
func bind(query string, args []driver.NamedValue) (string, error) {
	if len(args) == 0 {
		return query, nil
	}
	for _, a := range args {
		if a.Name != "" {
			return "", fmt.Errorf("bpfdb: named argument %s: %w (use $n or ?)", a.Name, ErrNotSupported)
		}
	}
	toks, index, ok := paramTokens(query)
	if !ok {
		if _, err := parser.Parse(query); err != nil {
			return "", err
		}
		return "", fmt.Errorf("bpfdb: bind %q: the statement does not lex", query)
	}
	want := 0
	for _, i := range index {
		want = max(want, i+1)
	}
	if want != len(args) {
		return "", fmt.Errorf("bpfdb: the statement has %d parameters, got %d arguments: %w", want, len(args), ErrParams)
	}
	var b strings.Builder
	last := 0
	for k, t := range toks {
		lit, err := literal(args[index[k]].Value)
		if err != nil {
			return "", fmt.Errorf("bpfdb: argument %d: %w", index[k]+1, err)
		}
		b.WriteString(query[last:t.Pos.Offset])
		// Spaces keep the literal a token of its own: after an
		// identifier e, a string would otherwise start an E'...' escape
		// string, and a string right before another would merge with it.
		b.WriteString(" " + lit + " ")
		last = t.Pos.Offset + len(t.Text)
	}
	b.WriteString(query[last:])
	return b.String(), nil
}

// literal renders an argument (a driver.Value after database/sql's
// conversion) as a SQL literal.
func literal(v driver.Value) (string, error) {
	switch v := v.(type) {
	case nil:
		return "NULL", nil
	case int64:
		if v == math.MinInt64 {
			// Its magnitude is no BIGINT.
			return "(-9223372036854775807-1)", nil
		}
		if v < 0 {
			// In parentheses: after a minus sign, -5 would start a
			// comment (x--5).
			return "(" + strconv.FormatInt(v, 10) + ")", nil
		}
		return strconv.FormatInt(v, 10), nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "CAST('" + types.FormatDouble(v) + "' AS DOUBLE)", nil
		}
		// With an exponent the literal is a DOUBLE, not a DECIMAL.
		t := strconv.FormatFloat(v, 'e', -1, 64)
		if math.Signbit(v) {
			return "(" + t + ")", nil
		}
		return t, nil
	case bool:
		if v {
			return "TRUE", nil
		}
		return "FALSE", nil
	case string:
		return "'" + strings.ReplaceAll(v, "'", "''") + "'", nil
	case time.Time:
		y, m, d := v.Date()
		if h, mi, s := v.Clock(); h != 0 || mi != 0 || s != 0 || v.Nanosecond() != 0 {
			return "", fmt.Errorf("time %s has a time of day: %w (bpfdb has DATE, no TIMESTAMP)", v.Format(time.RFC3339Nano), ErrNotSupported)
		}
		days, err := types.DateFromCivil(y, int(m), d)
		if err != nil {
			return "", fmt.Errorf("time %s: %w", v.Format(time.RFC3339Nano), err)
		}
		return "DATE '" + types.FormatDate(days) + "'", nil
	case []byte:
		return "", fmt.Errorf("a []byte: %w (bpfdb has no BLOB type; pass a string)", ErrNotSupported)
	}
	return "", fmt.Errorf("a %T: %w", v, ErrNotSupported)
}

// rows reads a materialized Result.
type rows struct {
	res    *Result
	chunks []*vector.Chunk
	chunk  int // index into chunks
	row    int // next row of chunks[chunk]
}

func newRows(res *Result) *rows {
	r := &rows{res: res}
	_ = res.Chunks(func(c *vector.Chunk) error {
		r.chunks = append(r.chunks, c)
		return nil
	})
	return r
}

func (r *rows) Columns() []string { return r.res.Columns }

func (r *rows) Close() error {
	r.chunks = nil
	return nil
}

func (r *rows) Next(dest []driver.Value) error {
	for r.chunk < len(r.chunks) && r.row >= r.chunks[r.chunk].Len() {
		r.chunk, r.row = r.chunk+1, 0
	}
	if r.chunk >= len(r.chunks) {
		return io.EOF
	}
	c := r.chunks[r.chunk]
	for j := range dest {
		dest[j] = goValue(c.Value(j, r.row))
	}
	r.row++
	return nil
}

// goValue converts a value to the Go value database/sql hands out (see
// Driver).
func goValue(v types.Value) driver.Value {
	if v.IsNull() {
		return nil
	}
	switch v.Type().ID() {
	case types.Boolean:
		return v.Bool()
	case types.Integer, types.BigInt:
		return v.Int64()
	case types.Double:
		return v.Float64()
	case types.Decimal:
		return types.FormatDecimal(v.Int64(), v.Type().Scale())
	case types.Varchar:
		return v.Str()
	case types.Date:
		y, m, d := types.DateCivil(int32(v.Int64()))
		return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	}
	panic(fmt.Sprintf("BUG: bpfdb driver: no Go value for type %s", v.Type()))
}

// ColumnTypeDatabaseTypeName returns the SQL name of column i's type,
// without parameters: "INTEGER", "DECIMAL", "VARCHAR".
func (r *rows) ColumnTypeDatabaseTypeName(i int) string {
	return r.res.Types[i].ID().String()
}

var scanTypes = map[types.ID]reflect.Type{
	types.Boolean: reflect.TypeFor[bool](),
	types.Integer: reflect.TypeFor[int32](),
	types.BigInt:  reflect.TypeFor[int64](),
	types.Double:  reflect.TypeFor[float64](),
	types.Decimal: reflect.TypeFor[string](),
	types.Varchar: reflect.TypeFor[string](),
	types.Date:    reflect.TypeFor[time.Time](),
}

// ColumnTypeScanType returns the Go type that holds column i's values.
func (r *rows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := scanTypes[r.res.Types[i].ID()]; ok {
		return t
	}
	return reflect.TypeFor[any]()
}

// ColumnTypePrecisionScale returns a DECIMAL column's precision and scale.
func (r *rows) ColumnTypePrecisionScale(i int) (precision, scale int64, ok bool) {
	t := r.res.Types[i]
	if t.ID() != types.Decimal {
		return 0, 0, false
	}
	return int64(t.Precision()), int64(t.Scale()), true
}
