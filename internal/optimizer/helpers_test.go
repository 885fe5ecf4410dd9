package optimizer

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/planner"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/storage/file"
	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// newDB returns an empty table.DB in a temporary file.
func newDB(t testing.TB) *table.DB {
	t.Helper()
	dir := t.TempDir()
	f, err := file.Create(filepath.Join(dir, "test.db"), file.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := buffer.New(buffer.Options{File: f, Limit: 256 << 20, TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	db, err := table.Open(f, m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		m.Close()
		f.Close()
	})
	return db
}

// createTable creates a table from "name:TYPE ..." and appends rows, made
// by row(i) for i in [0, n).
func createTable(t testing.TB, db *table.DB, name, schema string, n int, row func(i int) []types.Value) *table.Table {
	t.Helper()
	var cols []table.Column
	var ts []types.Type
	for _, c := range strings.Fields(schema) {
		cn, ty, _ := strings.Cut(c, ":")
		typ, err := types.ParseType(ty)
		if err != nil {
			t.Fatal(err)
		}
		cols = append(cols, table.Column{Name: cn, Type: typ})
		ts = append(ts, typ)
	}
	tbl, err := db.CreateTable(name, cols)
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		return tbl
	}
	a, err := tbl.NewAppender()
	if err != nil {
		t.Fatal(err)
	}
	c := vector.NewChunk(ts)
	for i := range n {
		c.AppendRow(row(i)...)
		if c.Len() == vector.Size {
			if err := a.Append(c); err != nil {
				t.Fatal(err)
			}
			c.Reset()
		}
	}
	if c.Len() > 0 {
		if err := a.Append(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	return tbl
}

// tpchSchema is TPC-H's schema with DuckDB's types.
var tpchSchema = []struct{ name, cols string }{
	{"region", "r_regionkey:INTEGER r_name:VARCHAR r_comment:VARCHAR"},
	{"nation", "n_nationkey:INTEGER n_name:VARCHAR n_regionkey:INTEGER n_comment:VARCHAR"},
	{"supplier", "s_suppkey:BIGINT s_name:VARCHAR s_address:VARCHAR s_nationkey:INTEGER s_phone:VARCHAR s_acctbal:DECIMAL(15,2) s_comment:VARCHAR"},
	{"customer", "c_custkey:BIGINT c_name:VARCHAR c_address:VARCHAR c_nationkey:INTEGER c_phone:VARCHAR c_acctbal:DECIMAL(15,2) c_mktsegment:VARCHAR c_comment:VARCHAR"},
	{"part", "p_partkey:BIGINT p_name:VARCHAR p_mfgr:VARCHAR p_brand:VARCHAR p_type:VARCHAR p_size:INTEGER p_container:VARCHAR p_retailprice:DECIMAL(15,2) p_comment:VARCHAR"},
	{"partsupp", "ps_partkey:BIGINT ps_suppkey:BIGINT ps_availqty:INTEGER ps_supplycost:DECIMAL(15,2) ps_comment:VARCHAR"},
	{"orders", "o_orderkey:BIGINT o_custkey:BIGINT o_orderstatus:VARCHAR o_totalprice:DECIMAL(15,2) o_orderdate:DATE o_orderpriority:VARCHAR o_clerk:VARCHAR o_shippriority:INTEGER o_comment:VARCHAR"},
	{"lineitem", "l_orderkey:BIGINT l_partkey:BIGINT l_suppkey:BIGINT l_linenumber:INTEGER l_quantity:DECIMAL(15,2) l_extendedprice:DECIMAL(15,2) l_discount:DECIMAL(15,2) l_tax:DECIMAL(15,2) l_returnflag:VARCHAR l_linestatus:VARCHAR l_shipdate:DATE l_commitdate:DATE l_receiptdate:DATE l_shipinstruct:VARCHAR l_shipmode:VARCHAR l_comment:VARCHAR"},
}

// tpchRows are the row counts of scale factor 0.01.
var tpchRows = map[string]int{
	"region": 5, "nation": 25, "supplier": 100, "customer": 1500,
	"part": 2000, "partsupp": 8000, "orders": 15000, "lineitem": 60000,
}

var (
	tpchOnce sync.Once
	tpchDB   *table.DB
)

// tpchTables returns a database of the TPC-H tables at the row counts of
// SF 0.01 whose key, date and number columns have dbgen's ranges (so that
// zone maps and row counts, the optimizer's statistics, look like TPC-H);
// text columns are filler. Built once per test binary.
func tpchTables(t testing.TB) *table.DB {
	tpchOnce.Do(func() {
		// A database that outlives the test that built it: its files are
		// in testDir, which TestMain removes.
		tpchDB = newDB(&keepTB{TB: t})
		r := rand.New(rand.NewPCG(1, 2))
		d := func(days int) types.Value { return types.DateValue(int32(8035 + days)) } // from 1992-01-01
		dec := func(x int64) types.Value { return types.DecimalValue(x, types.MustDecimal(15, 2)) }
		s := types.VarcharValue
		for _, ts := range tpchSchema {
			n := tpchRows[ts.name]
			var row func(i int) []types.Value
			switch ts.name {
			case "region":
				row = func(i int) []types.Value {
					return []types.Value{types.IntegerValue(int32(i)), s([]string{"AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"}[i]), s("c")}
				}
			case "nation":
				row = func(i int) []types.Value {
					return []types.Value{types.IntegerValue(int32(i)), s(fmt.Sprint("NATION", i)), types.IntegerValue(int32(i % 5)), s("c")}
				}
			case "supplier":
				row = func(i int) []types.Value {
					return []types.Value{types.BigIntValue(int64(i + 1)), s("n"), s("a"), types.IntegerValue(int32(r.IntN(25))), s("p"), dec(r.Int64N(1100000) - 99999), s("c")}
				}
			case "customer":
				row = func(i int) []types.Value {
					return []types.Value{types.BigIntValue(int64(i + 1)), s("n"), s("a"), types.IntegerValue(int32(r.IntN(25))), s("p"), dec(r.Int64N(1100000) - 99999), s([]string{"AUTOMOBILE", "BUILDING", "FURNITURE", "HOUSEHOLD", "MACHINERY"}[r.IntN(5)]), s("c")}
				}
			case "part":
				row = func(i int) []types.Value {
					return []types.Value{types.BigIntValue(int64(i + 1)), s("n"), s("m"), s(fmt.Sprint("Brand#", 1+r.IntN(5), 1+r.IntN(5))), s("t"), types.IntegerValue(int32(1 + r.IntN(50))), s("SM BOX"), dec(90000 + r.Int64N(110000)), s("c")}
				}
			case "partsupp":
				row = func(i int) []types.Value {
					return []types.Value{types.BigIntValue(int64(i/4 + 1)), types.BigIntValue(int64((i/4+i%4*25)%100 + 1)), types.IntegerValue(int32(1 + r.IntN(9999))), dec(100 + r.Int64N(99900)), s("c")}
				}
			case "orders":
				row = func(i int) []types.Value {
					key := int64(i/8*32 + i%8 + 1)
					return []types.Value{types.BigIntValue(key), types.BigIntValue(int64(1 + r.IntN(1500))), s("O"), dec(r.Int64N(50000000)), d(r.IntN(2406)), s("1-URGENT"), s("Clerk"), types.IntegerValue(0), s("c")}
				}
			case "lineitem":
				row = func(i int) []types.Value {
					o := i / 4
					key := int64(o/8*32 + o%8 + 1)
					ship := r.IntN(2526)
					return []types.Value{types.BigIntValue(key), types.BigIntValue(int64(1 + r.IntN(2000))), types.BigIntValue(int64(1 + r.IntN(100))), types.IntegerValue(int32(i%4 + 1)),
						dec(100 * int64(1+r.IntN(50))), dec(r.Int64N(10000000)), dec(int64(r.IntN(11))), dec(int64(r.IntN(9))), s("N"), s("O"),
						d(ship), d(ship + r.IntN(60)), d(ship + r.IntN(30)), s("NONE"), s("MAIL"), s("c")}
				}
			}
			createTable(&keepTB{TB: t}, tpchDB, ts.name, ts.cols, n, row)
		}
	})
	if tpchDB == nil {
		t.Fatal("TPC-H tables were not built")
	}
	return tpchDB
}

// keepTB is a testing.TB whose Cleanup and TempDir outlive the test, for
// the database shared by all tests of the binary.
type keepTB struct{ testing.TB }

func (k *keepTB) Cleanup(func()) {}

func (k *keepTB) TempDir() string {
	dir, err := osMkdirTemp()
	if err != nil {
		k.Fatal(err)
	}
	return dir
}

// builder builds plans by hand: Gets that number their columns, and
// expressions over columns by name.
type builder struct {
	t    testing.TB
	db   *table.DB
	next planner.ColumnID
	cols map[string]planner.Column // by name and by alias.name
}

func newBuilder(t testing.TB, db *table.DB) *builder {
	return &builder{t: t, db: db, cols: map[string]planner.Column{}}
}

// column defines a new column.
func (b *builder) column(name string, t types.Type) planner.Column {
	c := planner.Column{ID: b.next, Name: name, Type: t}
	b.next++
	b.cols[name] = c
	return c
}

// get reads every column of a table as alias (the table's name if "").
func (b *builder) get(name, alias string) *planner.Get {
	tbl := b.db.Table(name)
	if tbl == nil {
		b.t.Fatalf("no table %s", name)
	}
	if alias == "" {
		alias = name
	}
	g := &planner.Get{Table: tbl, Alias: alias}
	for j, tc := range tbl.Columns() {
		c := b.column(tc.Name, tc.Type)
		b.cols[alias+"."+tc.Name] = c
		g.Columns = append(g.Columns, c)
		g.TableColumns = append(g.TableColumns, j)
	}
	return g
}

// c returns a reference to the column called name.
func (b *builder) c(name string) expr.Expr {
	c, ok := b.cols[name]
	if !ok {
		b.t.Fatalf("no column %s", name)
	}
	return c.Ref()
}

func (b *builder) must(e expr.Expr, err error) expr.Expr {
	b.t.Helper()
	if err != nil {
		b.t.Fatal(err)
	}
	return e
}

func (b *builder) bin(op expr.Op, l, r expr.Expr) expr.Expr {
	return b.must(expr.NewBinary(op, l, r, expr.Pos{}))
}

func (b *builder) eq(l, r expr.Expr) expr.Expr { return b.bin(expr.OpEq, l, r) }

func (b *builder) and(es ...expr.Expr) expr.Expr { return and(es) }

func (b *builder) or(es ...expr.Expr) expr.Expr { return or(es) }

func (b *builder) between(x, lo, hi expr.Expr) expr.Expr {
	return b.must(expr.NewBetween(x, lo, hi, false, expr.Pos{}))
}

func (b *builder) like(x expr.Expr, pattern string, negated bool) expr.Expr {
	return b.must(expr.NewLike(x, pattern, false, negated, expr.Pos{}))
}

func (b *builder) in(x expr.Expr, items ...expr.Expr) expr.Expr {
	return b.must(expr.NewInList(x, items, false, expr.Pos{}))
}

func (b *builder) date(s string) expr.Expr {
	d, err := types.ParseDate(s)
	if err != nil {
		b.t.Fatal(err)
	}
	return expr.NewConst(types.DateValue(d), expr.Pos{})
}

func (b *builder) str(s string) expr.Expr { return expr.NewConst(types.VarcharValue(s), expr.Pos{}) }

func (b *builder) int(x int64) expr.Expr {
	return expr.NewConst(types.IntegerValue(int32(x)), expr.Pos{})
}

func (b *builder) dec(s string) expr.Expr {
	_, frac, _ := strings.Cut(s, ".")
	t := types.MustDecimal(15, len(frac))
	v, err := types.ParseValue(t, s)
	if err != nil {
		b.t.Fatal(err)
	}
	return expr.NewConst(v, expr.Pos{})
}

// cross joins inputs left-deep with cross joins, as the binder does for
// FROM a, b, c.
func cross(ins ...planner.Node) planner.Node {
	n := ins[0]
	for _, in := range ins[1:] {
		n = &planner.Join{Kind: planner.Cross, Left: n, Right: in}
	}
	return n
}

// project computes exprs into new columns named names.
func (b *builder) project(in planner.Node, names []string, es ...expr.Expr) *planner.Project {
	p := &planner.Project{Input: in, Exprs: es}
	for i, e := range es {
		p.Columns = append(p.Columns, b.column(names[i], e.Type()))
	}
	return p
}

// agg is one aggregate for aggregate: kind, argument (nil for count(*)),
// result name.
type agg struct {
	kind expr.AggKind
	arg  expr.Expr
	name string
}

// aggregate groups in by groups (named groupNames) and computes aggs.
func (b *builder) aggregate(in planner.Node, groups []expr.Expr, groupNames []string, aggs ...agg) *planner.Aggregate {
	a := &planner.Aggregate{Input: in, Groups: groups}
	for i, g := range groups {
		a.GroupColumns = append(a.GroupColumns, b.column(groupNames[i], g.Type()))
	}
	for _, x := range aggs {
		spec := expr.AggSpec{Kind: x.kind}
		if x.arg != nil {
			spec.ArgType = x.arg.Type()
		}
		k, err := expr.NewAggregate(spec)
		if err != nil {
			b.t.Fatal(err)
		}
		t := k.Type()
		text := x.kind.String() + "(*)"
		if x.arg != nil {
			text = x.kind.String() + "(" + x.arg.String() + ")"
		}
		a.Aggs = append(a.Aggs, planner.AggFunc{Kind: x.kind, Arg: x.arg, Text: text, Column: b.column(x.name, t)})
	}
	return a
}

// plan finishes a plan whose result is the named columns.
func (b *builder) plan(root planner.Node, result ...string) *planner.Plan {
	p := &planner.Plan{Root: root, NextID: b.next}
	for _, r := range result {
		c, ok := b.cols[r]
		if !ok {
			b.t.Fatalf("no column %s", r)
		}
		p.Result = append(p.Result, c)
	}
	return p
}

// testDir holds the files of databases shared by the tests of the binary;
// TestMain removes it.
var testDir string

func osMkdirTemp() (string, error) { return os.MkdirTemp(testDir, "db-") }

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "optimizer-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
