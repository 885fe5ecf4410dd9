package scan_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/storage/file"
	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

// newDB creates a database file with a buffer manager of 256 MiB and
// returns its (empty) table catalog, closed when the test ends.
func newDB(t testing.TB) *table.DB {
	t.Helper()
	f, err := file.Create(filepath.Join(t.TempDir(), "test.db"), file.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := buffer.New(buffer.Options{File: f, Limit: 256 << 20, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	db, err := table.Open(f, m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, err := range []error{db.Close(), m.Close(), f.Close()} {
			if err != nil {
				t.Error(err)
			}
		}
	})
	return db
}

// appendRows appends rows to tbl as chunks of up to vector.Size rows,
// flushing a row group after every groupRows rows (a multiple of
// vector.Size; 0: full row groups only).
func appendRows(t testing.TB, tbl *table.Table, rows [][]types.Value, groupRows int) {
	t.Helper()
	a, err := tbl.NewAppender()
	if err != nil {
		t.Fatal(err)
	}
	c := vector.NewChunk(tbl.Types())
	for i, row := range rows {
		c.AppendRow(row...)
		last := i == len(rows)-1
		if c.Len() == vector.Size || last || groupRows > 0 && (i+1)%groupRows == 0 {
			if err := a.Append(c); err != nil {
				t.Fatal(err)
			}
			c.Reset()
			if groupRows > 0 && (i+1)%groupRows == 0 {
				if err := a.Flush(); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
}

// collectSink keeps the rows it is given by morsel, so that Rows returns
// them in the source's order whatever the task interleaving.
type collectSink struct {
	mu       sync.Mutex
	byMorsel map[int][][]types.Value
	rows     [][]types.Value
}

func (s *collectSink) Init(*parallel.Producer) (parallel.SinkState, error) {
	s.byMorsel, s.rows = map[int][][]types.Value{}, nil
	return s, nil
}

func (s *collectSink) NewLocal() (parallel.SinkLocal, error) {
	return &collectLocal{s: s, byMorsel: map[int][][]types.Value{}}, nil
}

func (s *collectSink) Finalize() error {
	ms := make([]int, 0, len(s.byMorsel))
	for m := range s.byMorsel {
		ms = append(ms, m)
	}
	slices.Sort(ms)
	for _, m := range ms {
		s.rows = append(s.rows, s.byMorsel[m]...)
	}
	return nil
}

type collectLocal struct {
	s        *collectSink
	morsel   int
	byMorsel map[int][][]types.Value
}

func (l *collectLocal) BeginMorsel(m int) { l.morsel = m }

func (l *collectLocal) Sink(in *vector.Chunk) error {
	l.byMorsel[l.morsel] = append(l.byMorsel[l.morsel], vectortest.Collect(in)...)
	return nil
}

func (l *collectLocal) Combine() error {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	for m, rows := range l.byMorsel {
		l.s.byMorsel[m] = append(l.s.byMorsel[m], rows...)
	}
	return nil
}

// runPipeline runs p on a scheduler of the given threads.
func runPipeline(t testing.TB, threads int, p *parallel.Pipeline) parallel.RunStats {
	t.Helper()
	s := parallel.New(parallel.Options{Threads: threads})
	defer s.Close()
	st, err := parallel.Run(context.Background(), s, []*parallel.Pipeline{p})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// lineitemColumns is lineitem as DuckDB's TPC-H schema declares it.
var lineitemColumns = []table.Column{
	{Name: "l_orderkey", Type: types.IntegerType},
	{Name: "l_partkey", Type: types.IntegerType},
	{Name: "l_suppkey", Type: types.IntegerType},
	{Name: "l_linenumber", Type: types.IntegerType},
	{Name: "l_quantity", Type: types.MustDecimal(15, 2)},
	{Name: "l_extendedprice", Type: types.MustDecimal(15, 2)},
	{Name: "l_discount", Type: types.MustDecimal(15, 2)},
	{Name: "l_tax", Type: types.MustDecimal(15, 2)},
	{Name: "l_returnflag", Type: types.VarcharType},
	{Name: "l_linestatus", Type: types.VarcharType},
	{Name: "l_shipdate", Type: types.DateType},
	{Name: "l_commitdate", Type: types.DateType},
	{Name: "l_receiptdate", Type: types.DateType},
	{Name: "l_shipinstruct", Type: types.VarcharType},
	{Name: "l_shipmode", Type: types.VarcharType},
	{Name: "l_comment", Type: types.VarcharType},
}

// readLines returns the lines of a .tbl file (without line breaks).
func readLines(r io.Reader) ([][]byte, error) {
	var lines [][]byte
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		if len(sc.Bytes()) > 0 {
			lines = append(lines, bytes.Clone(sc.Bytes()))
		}
	}
	return lines, sc.Err()
}

// loadLineitem creates table lineitem from |-separated lines (the format of
// ../shared/tpch: no trailing '|'), flushing a row group every groupRows
// rows (0: full row groups). If sorted, the rows are loaded in l_shipdate
// order, so that the zone maps of l_shipdate are narrow.
func loadLineitem(t testing.TB, db *table.DB, lines [][]byte, groupRows int, sorted bool) *table.Table {
	t.Helper()
	tbl, err := db.CreateTable("lineitem", lineitemColumns)
	if err != nil {
		t.Fatal(err)
	}
	fields := make([][][]byte, len(lines))
	for i, l := range lines {
		fields[i] = bytes.Split(l, []byte("|"))
		if len(fields[i]) != len(lineitemColumns) {
			t.Fatalf("lineitem line %d: %d fields, want %d", i+1, len(fields[i]), len(lineitemColumns))
		}
	}
	if sorted {
		slices.SortStableFunc(fields, func(a, b [][]byte) int { return bytes.Compare(a[10], b[10]) })
	}
	a, err := tbl.NewAppender()
	if err != nil {
		t.Fatal(err)
	}
	c := vector.NewChunk(tbl.Types())
	n := 0
	for i, f := range fields {
		if err := setRow(c, n, f); err != nil {
			t.Fatalf("lineitem row %d: %v", i+1, err)
		}
		n++
		if n == vector.Size || i == len(fields)-1 || groupRows > 0 && (i+1)%groupRows == 0 {
			c.SetLen(n)
			if err := a.Append(c); err != nil {
				t.Fatal(err)
			}
			c.Reset()
			n = 0
			if groupRows > 0 && (i+1)%groupRows == 0 {
				if err := a.Flush(); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	return tbl
}

// setRow parses the fields of one line into slot i of c's vectors.
func setRow(c *vector.Chunk, i int, fields [][]byte) error {
	for j, col := range lineitemColumns {
		s := string(fields[j])
		v := c.Col(j)
		switch col.Type.ID() {
		case types.Integer:
			x, err := strconv.ParseInt(s, 10, 32)
			if err != nil {
				return fmt.Errorf("%s: %w", col.Name, err)
			}
			v.Int32s()[i] = int32(x)
		case types.Decimal:
			x, err := types.ParseDecimal(s, col.Type.Precision(), col.Type.Scale())
			if err != nil {
				return fmt.Errorf("%s: %w", col.Name, err)
			}
			v.Int64s()[i] = x
		case types.Date:
			d, err := types.ParseDate(s)
			if err != nil {
				return fmt.Errorf("%s: %w", col.Name, err)
			}
			v.Int32s()[i] = d
		case types.Varchar:
			v.SetString(i, s)
		default:
			return fmt.Errorf("BUG: lineitem column %s of type %v", col.Name, col.Type)
		}
	}
	return nil
}
