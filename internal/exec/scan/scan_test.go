package scan_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/scan"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

var randTypes = []types.Type{
	types.BigIntType, types.VarcharType, types.IntegerType, types.DoubleType,
	types.MustDecimal(15, 2), types.DateType, types.BooleanType,
}

func randColumns() []table.Column {
	cols := make([]table.Column, len(randTypes))
	for j, ty := range randTypes {
		cols[j] = table.Column{Name: "c" + string(rune('0'+j)), Type: ty}
	}
	return cols
}

func randTable(t *testing.T, rows [][]types.Value, groupRows int) *table.Table {
	t.Helper()
	tbl, err := newDB(t).CreateTable("r", randColumns())
	if err != nil {
		t.Fatal(err)
	}
	appendRows(t, tbl, rows, groupRows)
	return tbl
}

// morsels is how many morsels a row group of n rows makes: its vectors
// in runs of at most scan.MorselVectors.
func morsels(n int) int {
	vectors := (n + vector.Size - 1) / vector.Size
	return (vectors + scan.MorselVectors - 1) / scan.MorselVectors
}

// pick returns the given columns of rows.
func pick(rows [][]types.Value, cols []int) [][]types.Value {
	out := make([][]types.Value, len(rows))
	for i, row := range rows {
		for _, j := range cols {
			out[i] = append(out[i], row[j])
		}
	}
	return out
}

// TestScan reads column subsets of a table of several row groups through
// parallel.Run with 1 and 2 threads: every row comes out once, in row-group
// order (the sink orders by morsel), with the columns asked for.
func TestScan(t *testing.T) {
	r := vectortest.Rand(t)
	rows := vectortest.Rows(r, randTypes, 5*4096+777, 0.1)
	tbl := randTable(t, rows, 4096)
	if tbl.RowGroups() != 6 {
		t.Fatalf("%d row groups, want 6", tbl.RowGroups())
	}
	for _, cols := range [][]int{nil, {1}, {5, 0, 3}, {6, 6}} {
		src, err := scan.New(tbl, scan.Options{Columns: cols})
		if err != nil {
			t.Fatal(err)
		}
		want := rows
		if cols != nil {
			want = pick(rows, cols)
		}
		for _, threads := range []int{1, 2} {
			sink := &collectSink{}
			st := runPipeline(t, threads, parallel.NewPipeline("scan", src, nil, sink))
			if g, w := vectortest.Format(sink.rows), vectortest.Format(want); g != w {
				t.Fatalf("%v, %d threads: rows differ (%d, want %d)", src, threads, len(sink.rows), len(want))
			}
			got := src.Stats()
			if exp := (scan.Stats{Morsels: 5*morsels(4096) + morsels(777), RowGroups: 6, Rows: int64(len(rows))}); got != exp {
				t.Fatalf("%v: stats %+v, want %+v", src, got, exp)
			}
			if st.Pipelines[0].Morsels != int64(5*morsels(4096)+morsels(777)) || st.Pipelines[0].Rows[0] != int64(len(rows)) {
				t.Fatalf("run stats:\n%v", st)
			}
		}
	}
}

// TestZoneMaps: filters on a sorted column skip the row groups outside the
// range, and of the row groups read only the rows that satisfy the filters
// come out.
func TestZoneMaps(t *testing.T) {
	const groups, per = 8, 2048
	rows := make([][]types.Value, groups*per)
	for i := range rows {
		rows[i] = []types.Value{
			types.BigIntValue(int64(i)), types.VarcharValue("x"), types.IntegerValue(int32(i % 7)),
			types.DoubleValue(0), types.DecimalValue(int64(i), types.MustDecimal(15, 2)),
			types.DateValue(int32(9000 + i/100)), types.BoolValue(i%2 == 0),
		}
	}
	tbl := randTable(t, rows, per)
	date := func(d int) types.Value { return types.DateValue(int32(d)) }
	tests := []struct {
		name    string
		filters []table.Filter
		first   int // first row group read
		read    int // row groups read
	}{
		{"none", nil, 0, 8},
		{"date >= (group 3's first)", []table.Filter{{Column: 5, Op: table.OpGe, Value: date(9000 + 3*per/100 + 1)}}, 3, 5},
		{"date range", []table.Filter{
			{Column: 5, Op: table.OpGe, Value: date(9000 + 2*per/100 + 1)},
			{Column: 5, Op: table.OpLt, Value: date(9000 + 4*per/100)},
		}, 2, 2},
		{"bigint = one row", []table.Filter{{Column: 0, Op: table.OpEq, Value: types.BigIntValue(5 * per)}}, 5, 1},
		{"nothing", []table.Filter{{Column: 0, Op: table.OpLt, Value: types.BigIntValue(-1)}}, 0, 0},
		{"NULL constant", []table.Filter{{Column: 0, Op: table.OpEq, Value: types.Null(types.BigIntType)}}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := scan.New(tbl, scan.Options{Columns: []int{0, 5}, Filters: tt.filters})
			if err != nil {
				t.Fatal(err)
			}
			for _, threads := range []int{1, 2} {
				sink := &collectSink{}
				runPipeline(t, threads, parallel.NewPipeline("scan", src, nil, sink))
				var match [][]types.Value
				for _, row := range rows[tt.first*per : (tt.first+tt.read)*per] {
					if !slices.ContainsFunc(tt.filters, func(f table.Filter) bool {
						return f.Value.IsNull() || !holds(f.Op, types.Compare(row[f.Column], f.Value))
					}) {
						match = append(match, row)
					}
				}
				want := pick(match, []int{0, 5})
				if g, w := vectortest.Format(sink.rows), vectortest.Format(want); g != w {
					t.Fatalf("%d threads: %d rows, want %d", threads, len(sink.rows), len(want))
				}
				exp := scan.Stats{Morsels: groups * morsels(per), RowGroups: tt.read, Skipped: groups - tt.read, Rows: int64(len(match)), Dropped: int64(tt.read*per - len(match))}
				if got := src.Stats(); got != exp {
					t.Fatalf("%d threads: stats %+v, want %+v", threads, got, exp)
				}
			}
		})
	}
}

// holds reports whether a comparison result c satisfies op.
func holds(op table.Op, c int) bool {
	switch op {
	case table.OpEq:
		return c == 0
	case table.OpNe:
		return c != 0
	case table.OpLt:
		return c < 0
	case table.OpLe:
		return c <= 0
	case table.OpGt:
		return c > 0
	}
	return c >= 0
}

// TestEmpty: a table without row groups has no morsels; the sink is still
// finalized.
func TestEmpty(t *testing.T) {
	tbl := randTable(t, nil, 0)
	src, err := scan.New(tbl, scan.Options{Columns: []int{2}})
	if err != nil {
		t.Fatal(err)
	}
	sink := &collectSink{}
	st := runPipeline(t, 2, parallel.NewPipeline("scan", src, nil, sink))
	if len(sink.rows) != 0 || !st.Pipelines[0].Finalized || src.Stats() != (scan.Stats{}) {
		t.Fatalf("empty scan: %d rows, stats %+v\n%v", len(sink.rows), src.Stats(), st)
	}
}

func TestNewErrors(t *testing.T) {
	tbl := randTable(t, nil, 0)
	tests := []struct {
		name string
		opts scan.Options
		want string
	}{
		{"column", scan.Options{Columns: []int{0, 7}}, "no column 7"},
		{"filter column", scan.Options{Filters: []table.Filter{{Column: -1, Op: table.OpEq, Value: types.BigIntValue(1)}}}, "no column -1"},
		{"filter type", scan.Options{Filters: []table.Filter{{Column: 1, Op: table.OpEq, Value: types.BigIntValue(1)}}}, "cannot compare"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := scan.New(tbl, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `"r"`) {
				t.Fatalf("New: %v, want an error naming table r and containing %q", err, tt.want)
			}
		})
	}
}

// TestMatrix appends the same random rows to a table cut into chunks as
// every vectortest configuration says (selections with junk rows
// included), flushing a row group whenever 3,000 rows or more are buffered,
// and scans three columns back with 2 threads: the scan must return the
// logical rows, in order, whatever the chunking and row groups.
func TestMatrix(t *testing.T) {
	r := vectortest.Rand(t)
	rows := vectortest.Rows(r, randTypes, 9000, 0.1)
	cols := []int{5, 0, 1}
	got := vectortest.Matrix(t, randTypes, rows, true, func(in []*vector.Chunk) [][]types.Value {
		tbl, err := newDB(t).CreateTable("m", randColumns())
		if err != nil {
			t.Fatal(err)
		}
		a, err := tbl.NewAppender()
		if err != nil {
			t.Fatal(err)
		}
		buffered := 0
		for _, c := range in {
			if err := a.Append(c); err != nil {
				t.Fatal(err)
			}
			if buffered += c.Len(); buffered >= 3000 {
				if err := a.Flush(); err != nil {
					t.Fatal(err)
				}
				buffered = 0
			}
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		src, err := scan.New(tbl, scan.Options{Columns: cols})
		if err != nil {
			t.Fatal(err)
		}
		sink := &collectSink{}
		runPipeline(t, 2, parallel.NewPipeline("scan", src, nil, sink))
		if st := src.Stats(); st.Rows != int64(len(rows)) || st.RowGroups != tbl.RowGroups() || tbl.RowGroups() < 3 {
			t.Fatalf("stats %v of a table of %d row groups", st, tbl.RowGroups())
		}
		return sink.rows
	})
	if g, w := vectortest.Format(got), vectortest.Format(pick(rows, cols)); g != w {
		t.Fatalf("scan: %d rows, want %d", len(got), len(rows))
	}
}

// stopAfter is an operator that passes its first chunk on and then
// reports Finished, as a satisfied LIMIT does.
type stopAfter struct{ ts []types.Type }

func (o stopAfter) Types() []types.Type                                     { return o.ts }
func (o stopAfter) Init(*parallel.Producer) (parallel.OperatorState, error) { return o, nil }
func (o stopAfter) NewLocal() (parallel.OperatorLocal, error)               { return o, nil }
func (o stopAfter) Execute(in, out *vector.Chunk) (parallel.OperatorResult, error) {
	out.ReferenceChunk(in)
	return parallel.Finished, nil
}

// TestFinishedEarly: when an operator above stops the pipeline, the scan's
// stats count the rows it produced of the morsel left unfinished.
func TestFinishedEarly(t *testing.T) {
	r := vectortest.Rand(t)
	rows := vectortest.Rows(r, randTypes, 3*4096, 0)
	tbl := randTable(t, rows, 4096)
	src, err := scan.New(tbl, scan.Options{Columns: []int{2}})
	if err != nil {
		t.Fatal(err)
	}
	sink := &collectSink{}
	st := runPipeline(t, 1, parallel.NewPipeline("limit", src, []parallel.Operator{stopAfter{src.Types()}}, sink))
	if len(sink.rows) != vector.Size {
		t.Fatalf("%d rows reached the sink, want one chunk of %d", len(sink.rows), vector.Size)
	}
	if got, want := src.Stats(), (scan.Stats{Morsels: 3 * morsels(4096), RowGroups: 1, Rows: vector.Size}); got != want {
		t.Fatalf("stats %+v, want %+v\n%v", got, want, st)
	}
}

// TestString: the descriptions EXPLAIN will print.
func TestString(t *testing.T) {
	tbl := randTable(t, nil, 0)
	src, err := scan.New(tbl, scan.Options{Columns: []int{5, 0}, Filters: []table.Filter{{Column: 5, Op: table.OpGe, Value: types.DateValue(8766)}}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := src.String(), "scan r [5 0] filters [#5 >= 1994-01-01]"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	all, err := scan.New(tbl, scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := all.String(), "scan r [0 1 2 3 4 5 6]"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := (scan.Stats{RowGroups: 2, Skipped: 3, Rows: 100}).String(), "rows=100 rowgroups=2 skipped=3"; got != want {
		t.Errorf("Stats.String() = %q, want %q", got, want)
	}
}

// TestMorsels: full row groups are cut into morsels of at most
// scan.MorselVectors vectors, which come out in row order with 1 and 2
// threads, with and without filters; each row group counts once in the
// stats.
func TestMorsels(t *testing.T) {
	tbl, err := newDB(t).CreateTable("seq", []table.Column{{Name: "x", Type: types.BigIntType}})
	if err != nil {
		t.Fatal(err)
	}
	total := 2*table.RowGroupSize + 5000
	a, err := tbl.NewAppender()
	if err != nil {
		t.Fatal(err)
	}
	c := vector.NewChunk(tbl.Types())
	for row := 0; row < total; row += c.Len() {
		c.Reset()
		n := min(vector.Size, total-row)
		for i := range n {
			c.Col(0).Int64s()[i] = int64(row + i)
		}
		c.SetLen(n)
		if err := a.Append(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	lo, hi := int64(table.RowGroupSize/2-10), int64(table.RowGroupSize+777)
	for _, filtered := range []bool{false, true} {
		var filters []table.Filter
		first, last := int64(0), int64(total)
		if filtered {
			filters = []table.Filter{
				{Column: 0, Op: table.OpGe, Value: types.BigIntValue(lo)},
				{Column: 0, Op: table.OpLt, Value: types.BigIntValue(hi)},
			}
			first, last = lo, hi
		}
		src, err := scan.New(tbl, scan.Options{Filters: filters})
		if err != nil {
			t.Fatal(err)
		}
		for _, threads := range []int{1, 2} {
			sink := &collectSink{}
			runPipeline(t, threads, parallel.NewPipeline("scan", src, nil, sink))
			if int64(len(sink.rows)) != last-first {
				t.Fatalf("filtered %v, %d threads: %d rows, want %d", filtered, threads, len(sink.rows), last-first)
			}
			for i, row := range sink.rows {
				if got := row[0].Int64(); got != first+int64(i) {
					t.Fatalf("filtered %v, %d threads: row %d is %d, want %d", filtered, threads, i, got, first+int64(i))
				}
			}
			// 60, 60 and 3 vectors: 2 + 2 + 1 morsels. The filters skip
			// the last row group by its zone map.
			want := scan.Stats{Morsels: 2*morsels(table.RowGroupSize) + morsels(5000), RowGroups: 3, Rows: last - first}
			if filtered {
				want.RowGroups, want.Skipped, want.Dropped = 2, 1, 2*int64(table.RowGroupSize)-(last-first)
			}
			if got := src.Stats(); got != want {
				t.Fatalf("filtered %v, %d threads: stats %+v, want %+v", filtered, threads, got, want)
			}
		}
	}
}

// TestSetFilter: a set registered with AddSetFilter is asked for at each
// run's start and keeps exactly the rows whose value is in it (NULLs never),
// on the scan's output column it names; a run without a set reads all
// rows; a column that is not an integer is refused.
func TestSetFilter(t *testing.T) {
	r := vectortest.Rand(t)
	rows := vectortest.Rows(r, randTypes, 3*4096+100, 0.1)
	tbl := randTable(t, rows, 4096)
	src, err := scan.New(tbl, scan.Options{Columns: []int{4, 2, 0}})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.AddSetFilter(0, nil); err == nil || !strings.Contains(err.Error(), "set filter on column 0 of type DECIMAL(15,2)") {
		t.Fatalf("set on a DECIMAL column: %v", err)
	}
	if err := src.AddSetFilter(3, nil); err == nil || !strings.Contains(err.Error(), "set filter on column 3 of 3") {
		t.Fatalf("set on a column past the scan's: %v", err)
	}
	// The INTEGER column's values of a few rows.
	set := map[int64]bool{}
	lo, hi := int64(1<<40), int64(-1<<40)
	for range 50 {
		if v := rows[r.IntN(len(rows))][2]; !v.IsNull() {
			set[v.Int64()] = true
			lo, hi = min(lo, v.Int64()), max(hi, v.Int64())
		}
	}
	bits := make([]uint64, (hi-lo)/64+1)
	for x := range set {
		bits[(x-lo)>>6] |= 1 << ((x - lo) & 63)
	}
	have := true
	if err := src.AddSetFilter(1, func() (int64, int64, []uint64, bool) { return lo, hi, bits, have }); err != nil {
		t.Fatal(err)
	}
	var want [][]types.Value
	for _, row := range rows {
		if v := row[2]; !v.IsNull() && set[v.Int64()] {
			want = append(want, row)
		}
	}
	for _, threads := range []int{1, 2} {
		sink := &collectSink{}
		runPipeline(t, threads, parallel.NewPipeline("scan", src, nil, sink))
		if g, w := vectortest.Format(sink.rows), vectortest.Format(pick(want, []int{4, 2, 0})); g != w {
			t.Fatalf("%d threads: %d rows, want %d", threads, len(sink.rows), len(want))
		}
		if st := src.Stats(); st.Rows != int64(len(want)) || !strings.Contains(st.String(), fmt.Sprintf(" sets=[#2 in [%d, %d] (%d values)]", lo, hi, len(set))) {
			t.Fatalf("%d threads: stats %v, want %d rows and the set", threads, st, len(want))
		}
	}
	have = false
	sink := &collectSink{}
	runPipeline(t, 2, parallel.NewPipeline("scan", src, nil, sink))
	if len(sink.rows) != len(rows) || src.Stats().Sets != "" {
		t.Fatalf("without a set: %d rows of %d, stats %v", len(sink.rows), len(rows), src.Stats())
	}
}

// TestCompactsThinChunks: when the filters leave few rows of each vector,
// a chunk takes in the survivors of the morsel's following vectors, so
// that a selective scan sends on a few full chunks instead of one thin
// chunk per vector read; the rows (strings included) come out complete
// and in order.
func TestCompactsThinChunks(t *testing.T) {
	tbl, err := newDB(t).CreateTable("thin", []table.Column{
		{Name: "x", Type: types.BigIntType}, {Name: "k", Type: types.IntegerType}, {Name: "s", Type: types.VarcharType},
	})
	if err != nil {
		t.Fatal(err)
	}
	total := 2*table.RowGroupSize + 5000
	var rows, want [][]types.Value
	for i := range total {
		k := int32(0)
		if i%97 == 0 || i/vector.Size == 7 { // a vector that keeps every row, among thin ones
			k = 1
		}
		row := []types.Value{types.BigIntValue(int64(i)), types.IntegerValue(k), types.VarcharValue(fmt.Sprintf("row %d", i))}
		rows = append(rows, row)
		if k == 1 {
			want = append(want, row)
		}
	}
	appendRows(t, tbl, rows, table.RowGroupSize)
	src, err := scan.New(tbl, scan.Options{Filters: []table.Filter{{Column: 1, Op: table.OpEq, Value: types.IntegerValue(1)}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, threads := range []int{1, 2} {
		sink := &collectSink{}
		st := runPipeline(t, threads, parallel.NewPipeline("scan", src, nil, sink))
		if g, w := vectortest.Format(sink.rows), vectortest.Format(want); g != w {
			t.Fatalf("%d threads: rows differ (%d, want %d)", threads, len(sink.rows), len(want))
		}
		// 123 vectors read in 5 morsels; the survivors fill chunks of at
		// least vector.Size/8 rows, but for each morsel's last.
		morsels := st.Pipelines[0].Morsels
		if limit := int64(len(want))/(vector.Size/8) + morsels; st.Pipelines[0].Chunks > limit {
			t.Errorf("%d threads: %d chunks for %d rows in %d morsels, want at most %d", threads, st.Pipelines[0].Chunks, len(want), morsels, limit)
		}
	}
}
