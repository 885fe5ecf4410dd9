package load

import (
	"flag"
	"os"
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

// A ddCase is one case of a data-driven test file: a command line, input
// lines, "----", and the expected output up to the next blank line.
type ddCase struct {
	line  int
	cmd   string
	args  []string
	input []string
	want  string
}

// runDataDriven runs every case of the golden file path through run and
// compares the output, or rewrites the file with -rewrite.
func runDataDriven(t *testing.T, path string, run func(t *testing.T, c *ddCase) string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	var out strings.Builder
	for i := 0; i < len(lines); {
		l := lines[i]
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			out.WriteString(l)
			if i < len(lines)-1 {
				out.WriteByte('\n')
			}
			i++
			continue
		}
		f := strings.Fields(l)
		c := &ddCase{line: i + 1, cmd: f[0], args: f[1:]}
		out.WriteString(l + "\n")
		i++
		for ; i < len(lines) && lines[i] != "----"; i++ {
			c.input = append(c.input, lines[i])
			out.WriteString(lines[i] + "\n")
		}
		if i == len(lines) {
			t.Fatalf("%s:%d: %s has no ---- line", path, c.line, c.cmd)
		}
		i++
		var want []string
		for ; i < len(lines) && lines[i] != ""; i++ {
			want = append(want, lines[i])
		}
		c.want = strings.Join(want, "\n")
		got := strings.TrimRight(run(t, c), "\n")
		out.WriteString("----\n" + got + "\n")
		if !*rewrite && got != c.want {
			t.Errorf("%s:%d: %s %s:\ngot:\n%s\nwant:\n%s", path, c.line, c.cmd, strings.Join(c.args, " "), got, c.want)
		}
	}
	if *rewrite {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
