package table

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/storage/file"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

// env is an open database: file, buffer manager and tables.
type env struct {
	path string
	f    *file.File
	m    *buffer.Manager
	db   *DB
}

// newEnv creates a database file of blockSize blocks (0: the default) with a
// buffer manager limited to limit bytes (0: 256 MiB).
func newEnv(t testing.TB, blockSize int, limit int64) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	f, err := file.Create(path, file.CreateOptions{BlockSize: blockSize})
	if err != nil {
		t.Fatal(err)
	}
	return openEnvFile(t, path, f, limit)
}

// reopen closes e and opens its file again with a manager limited to limit.
func (e *env) reopen(t testing.TB, limit int64) *env {
	t.Helper()
	e.close(t)
	f, err := file.Open(e.path, file.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return openEnvFile(t, e.path, f, limit)
}

func openEnvFile(t testing.TB, path string, f *file.File, limit int64) *env {
	t.Helper()
	if limit == 0 {
		limit = 256 << 20
	}
	m, err := buffer.New(buffer.Options{File: f, Limit: limit, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(f, m)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{path: path, f: f, m: m, db: db}
	t.Cleanup(func() { e.close(t) })
	return e
}

func (e *env) close(t testing.TB) {
	if e.db == nil {
		return
	}
	if err := e.db.Close(); err != nil {
		t.Error(err)
	}
	if err := e.m.Close(); err != nil {
		t.Error(err)
	}
	if err := e.f.Close(); err != nil {
		t.Error(err)
	}
	e.db = nil
}

// allTypes is one column of every type.
var allTypes = []types.Type{
	types.BooleanType, types.IntegerType, types.BigIntType, types.DoubleType,
	types.MustDecimal(15, 2), types.VarcharType, types.DateType,
}

func columnsOf(ts []types.Type) []Column {
	cols := make([]Column, len(ts))
	for i, t := range ts {
		cols[i] = Column{Name: strings.ToLower(t.ID().String()) + string(rune('0'+i%10)), Type: t}
	}
	return cols
}

// kinds of generated data, each favouring a different format.
const (
	kindCluster = iota // vectortest.Value: small ranges, few strings
	kindWide           // full-range values, long distinct strings
	kindConst          // one value
	kindAllNull        // every row NULL
	kindSeq            // increasing
	numKinds
)

// genValue returns row i's value of type t for a column of the given kind.
func genValue(r *rand.Rand, t types.Type, kind, i int, nullRate float64) types.Value {
	switch kind {
	case kindAllNull:
		return types.Null(t)
	case kindCluster:
		return vectortest.Value(r, t, nullRate)
	}
	if r.Float64() < nullRate {
		return types.Null(t)
	}
	var x int64
	switch kind {
	case kindConst:
		x = 7
	case kindSeq:
		x = int64(i)
	default:
		x = int64(r.Uint64())
	}
	switch t.ID() {
	case types.Boolean:
		return types.BoolValue(x&1 == 1)
	case types.Integer:
		return types.IntegerValue(int32(x))
	case types.Date:
		return types.DateValue(int32(x % 3000000))
	case types.BigInt:
		return types.BigIntValue(x)
	case types.Decimal:
		return types.DecimalValue(x%types.Pow10(t.Precision()), t)
	case types.Double:
		if kind == kindWide {
			specials := []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0}
			if r.IntN(50) == 0 {
				return types.DoubleValue(specials[r.IntN(len(specials))])
			}
			return types.DoubleValue(r.NormFloat64() * 1e6)
		}
		return types.DoubleValue(float64(x) / 4)
	case types.Varchar:
		if kind == kindWide {
			b := make([]byte, r.IntN(90))
			for k := range b {
				b[k] = byte(' ' + r.IntN(95))
			}
			return types.VarcharValue(string(b))
		}
		return types.VarcharValue(strings.Repeat("k", int(x%5)) + "value")
	}
	panic("BUG: genValue of " + t.String())
}

// genRows returns n rows of types ts; the kind of each column changes every
// span rows, chosen by r.
func genRows(r *rand.Rand, ts []types.Type, n, span int, nullRate float64) [][]types.Value {
	rows := make([][]types.Value, n)
	kinds := make([]int, len(ts))
	for i := range rows {
		if i%span == 0 {
			for j := range kinds {
				kinds[j] = r.IntN(numKinds)
			}
		}
		row := make([]types.Value, len(ts))
		for j, t := range ts {
			row[j] = genValue(r, t, kinds[j], i, nullRate)
		}
		rows[i] = row
	}
	return rows
}

// appendRows appends rows to tbl through an appender, cut into chunks as cfg
// says.
func appendRows(t testing.TB, r *rand.Rand, tbl *Table, rows [][]types.Value, cfg vectortest.Config) {
	t.Helper()
	a, err := tbl.NewAppender()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range vectortest.Chunks(r, tbl.Types(), rows, cfg) {
		if err := a.Append(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
}

// scanAll returns every row of the scan as boxed values.
func scanAll(t testing.TB, tbl *Table, opts ScanOptions) ([][]types.Value, ScanStats) {
	t.Helper()
	s, err := tbl.Scan(opts)
	if err != nil {
		t.Fatal(err)
	}
	c := s.NewChunk()
	var out [][]types.Value
	for {
		ok, err := s.Next(c)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out, s.Stats()
		}
		out = append(out, vectortest.Collect(c)...)
	}
}

// sameRows fails unless got and want print the same, naming the first
// differing row.
func sameRows(t testing.TB, what string, got, want [][]types.Value) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := vectortest.Format(got[i:i+1]), vectortest.Format(want[i:i+1])
		if g != w {
			t.Fatalf("%s: row %d:\n got %s\nwant %s", what, i, g, w)
		}
	}
}

// fillChunk makes a dense chunk of n int64 values from gen.
func int64Chunk(n int, gen func(i int) int64) *vector.Chunk {
	c := vector.NewChunk([]types.Type{types.BigIntType})
	d := c.Col(0).Int64s()
	for i := range n {
		d[i] = gen(i)
	}
	c.SetLen(n)
	return c
}
