package load

import (
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/storage/file"
	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata golden files with the actual output")

// newDB creates a database in a temporary directory; it is closed when the
// test ends.
func newDB(t testing.TB) *table.DB {
	t.Helper()
	dir := t.TempDir()
	f, err := file.Create(filepath.Join(dir, "test.db"), file.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := buffer.New(buffer.Options{File: f, Limit: 1 << 30, TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	db, err := table.Open(f, m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
		if err := m.Close(); err != nil {
			t.Error(err)
		}
		if err := f.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

// formatValue prints row r of column j of c as the text it was loaded from:
// decimals with their scale, dates as YYYY-MM-DD, strings raw, NULL as null.
func formatValue(c *vector.Chunk, j, r int, null string) string {
	v := c.Col(j)
	if v.IsNull(r) {
		return null
	}
	switch t := v.Type(); t.ID() {
	case types.Varchar:
		return v.StringAt(r)
	case types.Decimal:
		return types.FormatDecimal(v.Int64s()[r], t.Scale())
	case types.Date:
		return types.FormatDate(v.Int32s()[r])
	}
	return c.Value(j, r).String()
}

// scanText returns every row of tbl as its fields joined by '|', NULL
// printed as null.
func scanText(t testing.TB, tbl *table.Table, null string) []string {
	t.Helper()
	s, err := tbl.Scan(table.ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := s.NewChunk()
	var out []string
	fields := make([]string, c.Width())
	for {
		ok, err := s.Next(c)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out
		}
		for r := range c.Len() {
			for j := range fields {
				fields[j] = formatValue(c, j, r, null)
			}
			out = append(out, strings.Join(fields, "|"))
		}
	}
}
