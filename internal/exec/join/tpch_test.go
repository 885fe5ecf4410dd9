package join_test

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/exec/filter"
	"github.com/bpfdb/bpfdb/internal/exec/join"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

const (
	tpchDir    = "../../../../shared/tpch/sf0.01/"
	answersDir = "../../../../shared/tpch/answers/sf0.01/"
)

// tbl is the columns of a TPC-H table that a test reads.
type tbl struct {
	ts     []types.Type
	rows   [][]types.Value
	chunks []*vector.Chunk
}

// readTbl reads the columns cols (with types ts) of ../shared's table
// name at SF 0.01, or skips the test.
func readTbl(t *testing.T, name string, cols []int, ts []types.Type) *tbl {
	t.Helper()
	path := tpchDir + name + ".tbl"
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		t.Skipf("TPC-H data not found at %s (see ../shared/tpch/README.md)", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := &tbl{ts: ts}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for line := 1; sc.Scan(); line++ {
		fields := strings.Split(sc.Text(), "|")
		row := make([]types.Value, len(cols))
		for i, c := range cols {
			if c >= len(fields) {
				t.Fatalf("%s:%d: %d fields, want column %d", path, line, len(fields), c)
			}
			if row[i], err = types.ParseValue(ts[i], fields[c]); err != nil {
				t.Fatalf("%s:%d: column %d: %v", path, line, c, err)
			}
		}
		out.rows = append(out.rows, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(out.rows); i += vector.Size {
		c := vector.NewChunk(ts)
		for _, row := range out.rows[i:min(i+vector.Size, len(out.rows))] {
			c.AppendRow(row...)
		}
		out.chunks = append(out.chunks, c)
	}
	return out
}

// readAnswer returns the rows of a TPC-H answer (without its header), or
// skips the test.
func readAnswer(t *testing.T, q string) []string {
	t.Helper()
	b, err := os.ReadFile(answersDir + q + ".csv")
	if err != nil {
		t.Skipf("TPC-H answer not found: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[1:]
}

// groupCount counts its input rows by the text of the given columns.
type groupCount struct {
	cols   []int
	mu     sync.Mutex
	counts map[string]int
}

func (g *groupCount) Init(*parallel.Producer) (parallel.SinkState, error) {
	g.counts = map[string]int{}
	return g, nil
}

func (g *groupCount) NewLocal() (parallel.SinkLocal, error) {
	return &groupLocal{g: g, counts: map[string]int{}}, nil
}

func (g *groupCount) Finalize() error { return nil }

type groupLocal struct {
	g      *groupCount
	counts map[string]int
}

func (l *groupLocal) Sink(in *vector.Chunk) error {
	for r := range in.Len() {
		parts := make([]string, len(l.g.cols))
		for i, c := range l.g.cols {
			parts[i] = in.Value(c, r).String()
		}
		l.counts[strings.Join(parts, ",")]++
	}
	return nil
}

func (l *groupLocal) Combine() error {
	l.g.mu.Lock()
	defer l.g.mu.Unlock()
	for k, n := range l.counts {
		l.g.counts[k] += n
	}
	return nil
}

func dateConst(t *testing.T, s string) expr.Expr {
	d, err := types.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return expr.NewConst(types.DateValue(d), expr.Pos{})
}

func binary(op expr.Op, l, r expr.Expr) expr.Expr { return must(expr.NewBinary(op, l, r, expr.Pos{})) }

func newFilter(t *testing.T, ts []types.Type, pred expr.Expr) *filter.Filter {
	f, err := filter.New(ts, pred)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// runPlan runs build then probe pipelines: source → filter → join build,
// source → filter → join probe → sink.
func runPlan(t *testing.T, threads int, j *join.Join, build, probe *tbl, buildFilter, probeFilter *filter.Filter, sink parallel.Sink) {
	t.Helper()
	var bops, pops []parallel.Operator
	if buildFilter != nil {
		bops = append(bops, buildFilter)
	}
	if probeFilter != nil {
		pops = append(pops, probeFilter)
	}
	bp := parallel.NewPipeline("build", &chunkSource{ts: build.ts, chunks: build.chunks}, bops, j.Build())
	pp := parallel.NewPipeline("probe", &chunkSource{ts: probe.ts, chunks: probe.chunks}, append(pops, j.Probe()), sink)
	pp.DependsOn(bp)
	if _, err := parallel.Run(t.Context(), scheduler(t, threads), []*parallel.Pipeline{pp, bp}); err != nil {
		t.Fatal(err)
	}
}

// TestQ4 is TPC-H Q4 as a semi join: orders of 1993Q3 that have a line
// received after its commit date, counted by priority, against DuckDB's
// answer.
func TestQ4(t *testing.T) {
	want := readAnswer(t, "q04")
	orders := readTbl(t, "orders", []int{0, 4, 5}, []types.Type{types.IntegerType, types.DateType, types.VarcharType})
	lineitem := readTbl(t, "lineitem", []int{0, 11, 12}, []types.Type{types.IntegerType, types.DateType, types.DateType})
	lcol := func(j int) expr.Expr { return col(j, lineitem.ts[j]) }
	ocol := func(j int) expr.Expr { return col(j, orders.ts[j]) }
	late := binary(expr.OpLt, lcol(1), lcol(2))
	quarter := binary(expr.OpAnd, binary(expr.OpGe, ocol(1), dateConst(t, "1993-07-01")), binary(expr.OpLt, ocol(1), dateConst(t, "1993-10-01")))
	j, err := join.New(join.Spec{Kind: join.Semi, Probe: orders.ts, Build: lineitem.ts, ProbeKeys: []int{0}, BuildKeys: []int{0}})
	if err != nil {
		t.Fatal(err)
	}
	for _, threads := range []int{1, 2} {
		g := &groupCount{cols: []int{2}}
		runPlan(t, threads, j, lineitem, orders, newFilter(t, lineitem.ts, late), newFilter(t, orders.ts, quarter), g)
		var got []string
		for k, n := range g.counts {
			got = append(got, fmt.Sprintf("%s,%d", k, n))
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%d threads: Q4 %v, want %v", threads, got, want)
		}
	}
}

// TestQ12 is TPC-H Q12 as an inner join of lineitem (probe) with orders
// (build): late MAIL and SHIP lines of 1994 by ship mode and order
// priority class, against DuckDB's answer and a count computed with a map.
func TestQ12(t *testing.T) {
	want := readAnswer(t, "q12")
	orders := readTbl(t, "orders", []int{0, 5}, []types.Type{types.IntegerType, types.VarcharType})
	lineitem := readTbl(t, "lineitem", []int{0, 10, 11, 12, 14}, []types.Type{types.IntegerType, types.DateType, types.DateType, types.DateType, types.VarcharType})
	l := func(j int) expr.Expr { return col(j, lineitem.ts[j]) }
	mode := must(expr.NewInList(l(4), []expr.Expr{expr.NewConst(types.VarcharValue("MAIL"), expr.Pos{}), expr.NewConst(types.VarcharValue("SHIP"), expr.Pos{})}, false, expr.Pos{}))
	pred := binary(expr.OpAnd, mode, binary(expr.OpAnd, binary(expr.OpLt, l(2), l(3)), binary(expr.OpAnd, binary(expr.OpLt, l(1), l(2)),
		binary(expr.OpAnd, binary(expr.OpGe, l(3), dateConst(t, "1994-01-01")), binary(expr.OpLt, l(3), dateConst(t, "1995-01-01"))))))
	j, err := join.New(join.Spec{Kind: join.Inner, Probe: lineitem.ts, Build: orders.ts, ProbeKeys: []int{0}, BuildKeys: []int{0}, BuildOutput: []int{1}})
	if err != nil {
		t.Fatal(err)
	}
	// The count computed independently, with a map of orders.
	priority := map[int64]string{}
	for _, o := range orders.rows {
		priority[o[0].Int64()] = o[1].Str()
	}
	mapCounts := map[string]int{}
	for _, li := range lineitem.rows {
		m := li[4].Str()
		if (m == "MAIL" || m == "SHIP") && li[2].Int64() < li[3].Int64() && li[1].Int64() < li[2].Int64() &&
			li[3].String() >= "1994-01-01" && li[3].String() < "1995-01-01" {
			mapCounts[m+","+priority[li[0].Int64()]]++
		}
	}
	for _, threads := range []int{1, 2} {
		g := &groupCount{cols: []int{4, 5}}
		runPlan(t, threads, j, orders, lineitem, nil, newFilter(t, lineitem.ts, pred), g)
		if fmt.Sprint(g.counts) != fmt.Sprint(mapCounts) {
			t.Errorf("%d threads: counts %v, a map join counts %v", threads, g.counts, mapCounts)
		}
		high, low := map[string]int{}, map[string]int{}
		for k, n := range g.counts {
			m, p, _ := strings.Cut(k, ",")
			if p == "1-URGENT" || p == "2-HIGH" {
				high[m] += n
			} else {
				low[m] += n
			}
		}
		got := []string{fmt.Sprintf("MAIL,%d,%d", high["MAIL"], low["MAIL"]), fmt.Sprintf("SHIP,%d,%d", high["SHIP"], low["SHIP"])}
		if !slices.Equal(got, want) {
			t.Errorf("%d threads: Q12 %v, want %v", threads, got, want)
		}
	}
}

// TestQ13 is TPC-H Q13's left join: customers with the number of their
// orders whose comment is not like '%special%requests%' (the ON clause's
// condition filters the build side), as a distribution of counts, against
// DuckDB's answer.
func TestQ13(t *testing.T) {
	want := readAnswer(t, "q13")
	customer := readTbl(t, "customer", []int{0}, []types.Type{types.IntegerType})
	orders := readTbl(t, "orders", []int{0, 1, 8}, []types.Type{types.IntegerType, types.IntegerType, types.VarcharType})
	notLike := must(expr.NewLike(col(2, types.VarcharType), "%special%requests%", false, true, expr.Pos{}))
	j, err := join.New(join.Spec{Kind: join.Left, Probe: customer.ts, Build: orders.ts, ProbeKeys: []int{0}, BuildKeys: []int{1}, BuildOutput: []int{0}})
	if err != nil {
		t.Fatal(err)
	}
	for _, threads := range []int{1, 2} {
		g := &groupCount{cols: []int{0, 1}}
		runPlan(t, threads, j, orders, customer, newFilter(t, orders.ts, notLike), nil, g)
		perCustomer := map[string]int{}
		for k := range g.counts {
			c, o, _ := strings.Cut(k, ",")
			if _, ok := perCustomer[c]; !ok {
				perCustomer[c] = 0
			}
			if o != "NULL" {
				perCustomer[c]++ // order keys are unique: one group per order
			}
		}
		dist := map[int]int{}
		for _, n := range perCustomer {
			dist[n]++
		}
		var got []string
		for n, c := range dist {
			got = append(got, fmt.Sprintf("%d,%d", n, c))
		}
		sortQ13(got)
		if !slices.Equal(got, want) {
			t.Errorf("%d threads: Q13 %v, want %v", threads, got, want)
		}
	}
}

// sortQ13 orders "c_count,custdist" rows as Q13 does: custdist desc,
// c_count desc.
func sortQ13(rows []string) {
	slices.SortFunc(rows, func(a, b string) int {
		var ac, ad, bc, bd int
		fmt.Sscanf(a, "%d,%d", &ac, &ad)
		fmt.Sscanf(b, "%d,%d", &bc, &bd)
		if ad != bd {
			return bd - ad
		}
		return bc - ac
	})
}
