package aggregate_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/aggregate"
	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/exec/filter"
	"github.com/bpfdb/bpfdb/internal/exec/project"
	"github.com/bpfdb/bpfdb/internal/exec/scan"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/storage/file"
	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

const (
	lineitemPath = "../../../../shared/tpch/sf0.01/lineitem.tbl"
	q1AnswerPath = "../../../../shared/tpch/answers/sf0.01/q01.csv"
)

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

// loadLineitem reads ../shared's lineitem at SF 0.01 into a new table
// (buffer manager of 256 MiB), or skips the test.
func loadLineitem(t testing.TB) (*table.Table, *buffer.Manager) {
	t.Helper()
	data, err := os.ReadFile(lineitemPath)
	if os.IsNotExist(err) {
		t.Skipf("TPC-H data not found at %s (see ../shared/tpch/README.md)", lineitemPath)
	}
	if err != nil {
		t.Fatal(err)
	}
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
	tbl, err := db.CreateTable("lineitem", lineitemColumns)
	if err != nil {
		t.Fatal(err)
	}
	app, err := tbl.NewAppender()
	if err != nil {
		t.Fatal(err)
	}
	c := vector.NewChunk(tbl.Types())
	n, line := 0, 0
	flush := func() {
		c.SetLen(n)
		if err := app.Append(c); err != nil {
			t.Fatal(err)
		}
		c.Reset()
		n = 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		fields := strings.Split(strings.TrimSuffix(sc.Text(), "|"), "|")
		if len(fields) != len(lineitemColumns) {
			t.Fatalf("%s:%d: %d fields, want %d", lineitemPath, line, len(fields), len(lineitemColumns))
		}
		for j, col := range lineitemColumns {
			v, err := types.ParseValue(col.Type, fields[j])
			if err != nil {
				t.Fatalf("%s:%d: %s: %v", lineitemPath, line, col.Name, err)
			}
			c.Col(j).Set(n, v)
		}
		if n++; n == vector.Size {
			flush()
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n > 0 {
		flush()
	}
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}
	return tbl, m
}

// q1 is TPC-H Q1 as the physical planner will build it:
//
//	scan lineitem [returnflag linestatus quantity extendedprice discount tax shipdate]
//	→ filter l_shipdate <= 1998-09-02
//	→ project returnflag, linestatus, quantity, extendedprice, discount,
//	          extendedprice*(1-discount), extendedprice*(1-discount)*(1+tax)
//	→ hash aggregate by (returnflag, linestatus): sum(quantity),
//	  sum(extendedprice), sum(disc_price), sum(charge), avg(quantity),
//	  avg(extendedprice), avg(discount), count(*)
type q1 struct {
	pipelines []*parallel.Pipeline
	agg       *aggregate.Aggregate
	out       *collectSink
}

func newQ1(t testing.TB, tbl *table.Table, opts aggregate.Options) *q1 {
	t.Helper()
	fail := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var cols []int
	for _, name := range []string{"l_returnflag", "l_linestatus", "l_quantity", "l_extendedprice", "l_discount", "l_tax", "l_shipdate"} {
		cols = append(cols, tbl.ColumnIndex(name))
	}
	src, err := scan.New(tbl, scan.Options{Columns: cols})
	fail(err)
	ts := src.Types()
	col := func(j int) expr.Expr { return expr.NewColumn(j, lineitemColumns[cols[j]].Name, ts[j], expr.Pos{}) }
	bin := func(op expr.Op, l, r expr.Expr) expr.Expr {
		e, err := expr.NewBinary(op, l, r, expr.Pos{})
		fail(err)
		return e
	}
	one := expr.NewConst(types.IntegerValue(1), expr.Pos{})
	cutoff, err := types.ParseDate("1998-09-02")
	fail(err)
	f, err := filter.New(ts, bin(expr.OpLe, col(6), expr.NewConst(types.DateValue(cutoff), expr.Pos{})))
	fail(err)
	discPrice := bin(expr.OpMul, col(3), bin(expr.OpSub, one, col(4)))
	charge := bin(expr.OpMul, discPrice, bin(expr.OpAdd, one, col(5)))
	p, err := project.New(f.Types(), []expr.Expr{col(0), col(1), col(2), col(3), col(4), discPrice, charge})
	fail(err)
	pts := p.Types()
	specs := []expr.AggSpec{
		spec(expr.Sum, pts, 2, false), spec(expr.Sum, pts, 3, false), spec(expr.Sum, pts, 5, false), spec(expr.Sum, pts, 6, false),
		spec(expr.Avg, pts, 2, false), spec(expr.Avg, pts, 3, false), spec(expr.Avg, pts, 4, false), spec(expr.CountStar, pts, 0, false),
	}
	agg, err := aggregate.New(pts, []int{0, 1}, specs, opts)
	fail(err)
	out := &collectSink{}
	build := parallel.NewPipeline("q1", src, []parallel.Operator{f, p}, agg)
	read := parallel.NewPipeline("q1 groups", agg.Source(), nil, out)
	read.DependsOn(build)
	return &q1{pipelines: []*parallel.Pipeline{read, build}, agg: agg, out: out}
}

func (q *q1) run(ctx context.Context, s *parallel.Scheduler) error {
	_, err := parallel.Run(ctx, s, q.pipelines)
	return err
}

// TestQ1 runs TPC-H Q1 at SF 0.01 (scan → filter → project → hash
// aggregate) with 1 and 2 threads, with and without the buffer manager,
// and compares with DuckDB's answer: decimals exactly, averages to 1e-12.
func TestQ1(t *testing.T) {
	answer, err := os.ReadFile(q1AnswerPath)
	if err != nil {
		t.Skipf("Q1 answer not found at %s: %v", q1AnswerPath, err)
	}
	want := strings.Split(strings.TrimSpace(string(answer)), "\n")[1:]
	tbl, m := loadLineitem(t)
	for _, withBuffers := range []bool{false, true} {
		opts := aggregate.Options{}
		if withBuffers {
			opts.Buffers = m
		}
		q := newQ1(t, tbl, opts)
		for _, threads := range []int{1, 2} {
			s := parallel.New(parallel.Options{Threads: threads})
			err := q.run(context.Background(), s)
			s.Close()
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Split(strings.TrimSpace(strings.ReplaceAll(vectortest.Sorted(q.out.rows), " | ", ",")), "\n")
			if err := compareCSV(got, want); err != nil {
				t.Fatalf("buffers %v, %d threads: %v\ngot:\n%s", withBuffers, threads, err, strings.Join(got, "\n"))
			}
			t.Logf("buffers %v, %d threads: %v", withBuffers, threads, q.agg.Stats())
		}
	}
}

// compareCSV compares result lines field by field: floating-point fields
// (those with more than 6 decimals in the answer) to a relative 1e-12,
// the others as text.
func compareCSV(got, want []string) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d rows, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := strings.Split(got[i], ","), strings.Split(want[i], ",")
		if len(g) != len(w) {
			return fmt.Errorf("row %d: %d fields, want %d", i+1, len(g), len(w))
		}
		for j := range w {
			if g[j] == w[j] {
				continue
			}
			gf, err1 := strconv.ParseFloat(g[j], 64)
			wf, err2 := strconv.ParseFloat(w[j], 64)
			_, frac, _ := strings.Cut(w[j], ".")
			if err1 != nil || err2 != nil || len(frac) <= 6 || math.Abs(gf-wf) > 1e-12*math.Abs(wf) {
				return fmt.Errorf("row %d field %d: %s, want %s", i+1, j+1, g[j], w[j])
			}
		}
	}
	return nil
}

// BenchmarkQ1 runs TPC-H Q1 at SF 0.01 (scan → filter → project → hash
// aggregate), in ns per lineitem row.
func BenchmarkQ1(b *testing.B) {
	tbl, _ := loadLineitem(b)
	q := newQ1(b, tbl, aggregate.Options{})
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("sf=0.01/threads=%d", threads), func(b *testing.B) {
			s := parallel.New(parallel.Options{Threads: threads})
			defer s.Close()
			c0 := cpuTime(b)
			for b.Loop() {
				if err := q.run(context.Background(), s); err != nil {
					b.Fatal(err)
				}
			}
			rows := float64(b.N) * float64(tbl.Rows())
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/rows, "ns/row")
			b.ReportMetric(float64((cpuTime(b)-c0).Nanoseconds())/rows, "cpu-ns/row")
			b.ReportMetric(0, "ns/op")
		})
	}
}
