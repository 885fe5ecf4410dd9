package scan_test

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/exec/filter"
	"github.com/bpfdb/bpfdb/internal/exec/project"
	"github.com/bpfdb/bpfdb/internal/exec/scan"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/tpch/dbgen"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

const (
	lineitemPath = "../../../../shared/tpch/sf0.01/lineitem.tbl"
	q6AnswerPath = "../../../../shared/tpch/answers/sf0.01/q06.csv"
)

// sumSink sums column 0 of its input with expr's aggregate state: a
// stand-in for the hash aggregate without GROUP BY.
type sumSink struct {
	agg    *expr.Aggregate
	mu     sync.Mutex
	state  []byte
	result types.Value
}

func (s *sumSink) Init(*parallel.Producer) (parallel.SinkState, error) {
	s.state = make([]byte, s.agg.StateSize())
	s.agg.Init(s.state)
	return s, nil
}

func (s *sumSink) NewLocal() (parallel.SinkLocal, error) {
	l := &sumLocal{s: s, state: make([]byte, s.agg.StateSize())}
	s.agg.Init(l.state)
	return l, nil
}

func (s *sumSink) Finalize() error {
	v := vector.New(s.agg.Type())
	if err := s.agg.Finalize(s.state, v, 0); err != nil {
		return err
	}
	s.result = v.Value(0)
	return nil
}

type sumLocal struct {
	s     *sumSink
	state []byte
}

func (l *sumLocal) Sink(in *vector.Chunk) error { return l.s.agg.UpdateState(in, l.state) }

func (l *sumLocal) Combine() error {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	return l.s.agg.Combine(l.s.state, l.state)
}

// q6 is TPC-H Q6 as the physical planner will build it:
//
//	scan lineitem [l_quantity l_extendedprice l_discount l_shipdate]
//	     zone filters: shipdate in [1994-01-01, 1995-01-01), discount in
//	     [0.05, 0.07], quantity < 24
//	→ filter (the same predicate, on the rows)
//	→ project l_extendedprice * l_discount
//	→ sum
type q6 struct {
	pipeline *parallel.Pipeline
	scan     *scan.Source
	sum      *sumSink
}

func newQ6(t testing.TB, tbl *table.Table) *q6 {
	t.Helper()
	fail := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	date := func(s string) types.Value {
		d, err := types.ParseDate(s)
		fail(err)
		return types.DateValue(d)
	}
	dec := func(s string) types.Value {
		x, err := types.ParseDecimal(s, 3, 2)
		fail(err)
		return types.DecimalValue(x, types.MustDecimal(3, 2))
	}
	tcol := func(name string) int { return tbl.ColumnIndex(name) }
	lo, hi := date("1994-01-01"), date("1995-01-01")
	src, err := scan.New(tbl, scan.Options{
		Columns: []int{tcol("l_quantity"), tcol("l_extendedprice"), tcol("l_discount"), tcol("l_shipdate")},
		Filters: []table.Filter{
			{Column: tcol("l_shipdate"), Op: table.OpGe, Value: lo},
			{Column: tcol("l_shipdate"), Op: table.OpLt, Value: hi},
			{Column: tcol("l_discount"), Op: table.OpGe, Value: dec("0.05")},
			{Column: tcol("l_discount"), Op: table.OpLe, Value: dec("0.07")},
			{Column: tcol("l_quantity"), Op: table.OpLt, Value: types.DecimalValue(2400, types.MustDecimal(15, 2))},
		},
	})
	fail(err)
	ts := src.Types()
	col := func(j int, name string) expr.Expr { return expr.NewColumn(j, name, ts[j], expr.Pos{}) }
	quantity, price, discount, shipdate := col(0, "l_quantity"), col(1, "l_extendedprice"), col(2, "l_discount"), col(3, "l_shipdate")
	k := func(v types.Value) expr.Expr { return expr.NewConst(v, expr.Pos{}) }
	and := func(es ...expr.Expr) expr.Expr {
		e := es[0]
		for _, x := range es[1:] {
			var err error
			e, err = expr.NewBinary(expr.OpAnd, e, x, expr.Pos{})
			fail(err)
		}
		return e
	}
	bin := func(op expr.Op, l, r expr.Expr) expr.Expr {
		e, err := expr.NewBinary(op, l, r, expr.Pos{})
		fail(err)
		return e
	}
	between, err := expr.NewBetween(discount, k(dec("0.05")), k(dec("0.07")), false, expr.Pos{})
	fail(err)
	pred := and(bin(expr.OpGe, shipdate, k(lo)), bin(expr.OpLt, shipdate, k(hi)), between, bin(expr.OpLt, quantity, k(types.IntegerValue(24))))
	f, err := filter.New(ts, pred)
	fail(err)
	revenue := bin(expr.OpMul, price, discount)
	p, err := project.New(f.Types(), []expr.Expr{revenue})
	fail(err)
	agg, err := expr.NewAggregate(expr.AggSpec{Kind: expr.Sum, Arg: 0, ArgType: revenue.Type(), Text: "sum(l_extendedprice * l_discount)"})
	fail(err)
	sum := &sumSink{agg: agg}
	return &q6{pipeline: parallel.NewPipeline("q6", src, []parallel.Operator{f, p}, sum), scan: src, sum: sum}
}

// readLineitem reads ../shared's lineitem at SF 0.01, or skips the test.
func readLineitem(t testing.TB) [][]byte {
	t.Helper()
	f, err := os.Open(lineitemPath)
	if os.IsNotExist(err) {
		t.Skipf("TPC-H data not found at %s (see ../shared/tpch/README.md)", lineitemPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines, err := readLines(f)
	if err != nil {
		t.Fatalf("read %s: %v", lineitemPath, err)
	}
	return lines
}

// q6Answer returns the revenue of ../shared's Q6 answer.
func q6Answer(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(q6AnswerPath)
	if err != nil {
		t.Skipf("Q6 answer not found at %s: %v", q6AnswerPath, err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || strings.TrimSpace(lines[0]) != "revenue" {
		t.Fatalf("%s: want a header and one row, got %q", q6AnswerPath, b)
	}
	return strings.TrimSpace(lines[1])
}

// TestQ6 runs TPC-H Q6 at SF 0.01 with 1 and 2 threads, on lineitem as
// dbgen orders it (one row group: the zone maps cannot skip) and sorted by
// l_shipdate in row groups of 4096 rows (the zone maps skip every row group
// outside 1994), and compares with DuckDB's answer.
func TestQ6(t *testing.T) {
	want := q6Answer(t)
	lines := readLineitem(t)
	for _, sorted := range []bool{false, true} {
		groupRows := 0
		if sorted {
			groupRows = 4096
		}
		tbl := loadLineitem(t, newDB(t), lines, groupRows, sorted)
		if tbl.Rows() != int64(len(lines)) {
			t.Fatalf("loaded %d rows of %d", tbl.Rows(), len(lines))
		}
		q := newQ6(t, tbl)
		for _, threads := range []int{1, 2} {
			st := runPipeline(t, threads, q.pipeline)
			if got := q.sum.result.String(); got != want {
				t.Errorf("sorted %v, %d threads: revenue %s, want %s", sorted, threads, got, want)
			}
			ss := q.scan.Stats()
			t.Logf("sorted %v, %d threads: %v, scan %v", sorted, threads, q.sum.result, ss)
			if ss.RowGroups+ss.Skipped != tbl.RowGroups() || ss.Rows != st.Pipelines[0].Rows[0] {
				t.Fatalf("scan stats %v do not add up:\n%v", ss, st)
			}
			if !sorted {
				continue
			}
			// Row groups of the sorted table that hold a 1994 shipdate.
			lo, hi := []byte("1994-01-01"), []byte("1995-01-01")
			sortedLines := sortByShipdate(lines)
			read := 0
			for g := 0; g*groupRows < len(sortedLines); g++ {
				first := bytes.Split(sortedLines[g*groupRows], []byte("|"))[10]
				last := bytes.Split(sortedLines[min(len(sortedLines), (g+1)*groupRows)-1], []byte("|"))[10]
				if bytes.Compare(last, lo) >= 0 && bytes.Compare(first, hi) < 0 {
					read++
				}
			}
			if ss.RowGroups != read || ss.Skipped != tbl.RowGroups()-read || ss.Skipped == 0 {
				t.Fatalf("sorted: scan %v, want %d row groups read and %d skipped", ss, read, tbl.RowGroups()-read)
			}
		}
	}
}

func sortByShipdate(lines [][]byte) [][]byte {
	out := make([][]byte, len(lines))
	copy(out, lines)
	key := func(l []byte) []byte { return bytes.Split(l, []byte("|"))[10] }
	slices.SortStableFunc(out, func(a, b []byte) int { return bytes.Compare(key(a), key(b)) })
	return out
}

// benchQ6 measures Q6's pipeline on lines, in rows of lineitem per second
// (rows skipped by the zone maps count: they are rows of the query's input).
// sorted loads lineitem in l_shipdate order, in full row groups.
func benchQ6(b *testing.B, lines [][]byte, threads int, sorted bool) {
	tbl := loadLineitem(b, newDB(b), lines, 0, sorted)
	q := newQ6(b, tbl)
	s := parallel.New(parallel.Options{Threads: threads})
	defer s.Close()
	b.ResetTimer()
	for b.Loop() {
		if _, err := parallel.Run(b.Context(), s, []*parallel.Pipeline{q.pipeline}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(tbl.Rows())*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(q.scan.Stats().Skipped), "skipped-rowgroups")
}

func BenchmarkQ6(b *testing.B) {
	b.Run("sf=0.01", func(b *testing.B) {
		lines := readLineitem(b)
		for _, threads := range []int{1, 2} {
			b.Run("threads="+string(rune('0'+threads)), func(b *testing.B) { benchQ6(b, lines, threads, false) })
		}
	})
	b.Run("sf=0.1", func(b *testing.B) {
		g, err := dbgen.New(0.1, dbgen.FormatDuckDB)
		if err != nil {
			b.Fatal(err)
		}
		lines, err := readLines(bytes.NewReader(g.AppendRows(nil, dbgen.Lineitem, 1, g.DrivingRows(dbgen.Lineitem))))
		if err != nil {
			b.Fatal(err)
		}
		for _, threads := range []int{1, 2} {
			b.Run("threads="+string(rune('0'+threads)), func(b *testing.B) { benchQ6(b, lines, threads, false) })
		}
		b.Run("sorted/threads=2", func(b *testing.B) { benchQ6(b, lines, 2, true) })
	})
}
