package load

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
)

// tpchDir holds the TPC-H tables at scale factor 0.01, as dbgen writes them.
const tpchDir = "../../../../shared/tpch/sf0.01"

// tpchSchema is the TPC-H schema with DuckDB's types: keys INTEGER or
// BIGINT, money and quantities DECIMAL(15,2), dates DATE, the rest VARCHAR,
// every column NOT NULL.
var tpchSchema = []struct {
	name string
	cols string // name:type, space-separated
	rows int64
}{
	{"region", "r_regionkey:INTEGER r_name:VARCHAR r_comment:VARCHAR", 5},
	{"nation", "n_nationkey:INTEGER n_name:VARCHAR n_regionkey:INTEGER n_comment:VARCHAR", 25},
	{"supplier", "s_suppkey:BIGINT s_name:VARCHAR s_address:VARCHAR s_nationkey:INTEGER s_phone:VARCHAR s_acctbal:DECIMAL(15,2) s_comment:VARCHAR", 100},
	{"customer", "c_custkey:BIGINT c_name:VARCHAR c_address:VARCHAR c_nationkey:INTEGER c_phone:VARCHAR c_acctbal:DECIMAL(15,2) c_mktsegment:VARCHAR c_comment:VARCHAR", 1500},
	{"part", "p_partkey:BIGINT p_name:VARCHAR p_mfgr:VARCHAR p_brand:VARCHAR p_type:VARCHAR p_size:INTEGER p_container:VARCHAR p_retailprice:DECIMAL(15,2) p_comment:VARCHAR", 2000},
	{"partsupp", "ps_partkey:BIGINT ps_suppkey:BIGINT ps_availqty:INTEGER ps_supplycost:DECIMAL(15,2) ps_comment:VARCHAR", 8000},
	{"orders", "o_orderkey:BIGINT o_custkey:BIGINT o_orderstatus:VARCHAR o_totalprice:DECIMAL(15,2) o_orderdate:DATE o_orderpriority:VARCHAR o_clerk:VARCHAR o_shippriority:INTEGER o_comment:VARCHAR", 15000},
	{"lineitem", "l_orderkey:BIGINT l_partkey:BIGINT l_suppkey:BIGINT l_linenumber:INTEGER l_quantity:DECIMAL(15,2) l_extendedprice:DECIMAL(15,2) l_discount:DECIMAL(15,2) l_tax:DECIMAL(15,2) l_returnflag:VARCHAR l_linestatus:VARCHAR l_shipdate:DATE l_commitdate:DATE l_receiptdate:DATE l_shipinstruct:VARCHAR l_shipmode:VARCHAR l_comment:VARCHAR", 60175},
}

// createTPCH creates the TPC-H table called name in db, under the name as,
// and returns it with its NOT NULL flags.
func createTPCH(t testing.TB, db *table.DB, name, as string) (*table.Table, []bool) {
	t.Helper()
	for _, s := range tpchSchema {
		if s.name != name {
			continue
		}
		var cols []table.Column
		for _, c := range strings.Fields(s.cols) {
			n, ty, _ := strings.Cut(c, ":")
			typ, err := types.ParseType(ty)
			if err != nil {
				t.Fatal(err)
			}
			cols = append(cols, table.Column{Name: n, Type: typ})
		}
		tbl, err := db.CreateTable(as, cols)
		if err != nil {
			t.Fatal(err)
		}
		nn := make([]bool, len(cols))
		for i := range nn {
			nn[i] = true
		}
		return tbl, nn
	}
	t.Fatalf("no TPC-H table %s", name)
	return nil, nil
}

func skipWithoutTPCH(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(tpchDir, "lineitem.tbl")); err != nil {
		t.Skipf("TPC-H data not available (%v); it lives in ../shared/tpch/sf0.01 of the repository's parent", err)
	}
}

// readLines returns the lines of a .tbl file without dbgen's trailing '|'.
func readLines(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, strings.TrimSuffix(sc.Text(), "|"))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTPCH loads the eight TPC-H tables at SF 0.01, checks the row counts
// and that every 97th row (and the last) scans back to its line of the file;
// lineitem also loads with one thread and tiny blocks, to the same rows.
func TestTPCH(t *testing.T) {
	skipWithoutTPCH(t)
	db := newDB(t)
	for _, s := range tpchSchema {
		t.Run(s.name, func(t *testing.T) {
			path := filepath.Join(tpchDir, s.name+".tbl")
			tbl, nn := createTPCH(t, db, s.name, s.name)
			st, err := File(tbl, path, Options{Format: TBL, NotNull: nn})
			if err != nil {
				t.Fatal(err)
			}
			if st.Rows != s.rows || tbl.Rows() != s.rows {
				t.Fatalf("loaded %d rows, table has %d; want %d", st.Rows, tbl.Rows(), s.rows)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Bytes != fi.Size() {
				t.Errorf("read %d bytes, the file has %d", st.Bytes, fi.Size())
			}
			lines := readLines(t, path)
			got := scanText(t, tbl, "")
			if len(got) != len(lines) {
				t.Fatalf("scan returns %d rows, the file has %d lines", len(got), len(lines))
			}
			for i := 0; i < len(lines); i += 97 {
				if got[i] != lines[i] {
					t.Fatalf("row %d scans as\n%s\nthe file has\n%s", i, got[i], lines[i])
				}
			}
			if last := len(lines) - 1; got[last] != lines[last] {
				t.Fatalf("last row scans as\n%s\nthe file has\n%s", got[last], lines[last])
			}
			if s.name != "lineitem" {
				return
			}
			// Other thread counts and block sizes give the same rows in the
			// same order.
			for _, o := range []Options{{Threads: 1}, {Threads: 3, BlockSize: 4096}} {
				tbl2, _ := createTPCH(t, newDB(t), s.name, s.name)
				o.Format, o.NotNull = TBL, nn
				if _, err := File(tbl2, path, o); err != nil {
					t.Fatal(err)
				}
				got2 := scanText(t, tbl2, "")
				for i := range got {
					if got2[i] != got[i] {
						t.Fatalf("threads=%d block=%d: row %d is\n%s\nwant\n%s", o.Threads, o.BlockSize, i, got2[i], got[i])
					}
				}
			}
		})
	}
}

// BenchmarkLoadLineitem loads lineitem at SF 0.01 into a new table per
// iteration and reports rows/s and MB/s.
func BenchmarkLoadLineitem(b *testing.B) {
	skipWithoutTPCH(b)
	path := filepath.Join(tpchDir, "lineitem.tbl")
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			db := newDB(b)
			b.SetBytes(fi.Size())
			var rows int64
			for i := 0; b.Loop(); i++ {
				tbl, nn := createTPCH(b, db, "lineitem", fmt.Sprint("lineitem", i))
				st, err := File(tbl, path, Options{Format: TBL, NotNull: nn, Threads: threads})
				if err != nil {
					b.Fatal(err)
				}
				rows += st.Rows
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkParseLineitem parses lineitem at SF 0.01 into chunks on one
// goroutine, without appending them: the workers' share of a load.
func BenchmarkParseLineitem(b *testing.B) {
	skipWithoutTPCH(b)
	data, err := os.ReadFile(filepath.Join(tpchDir, "lineitem.tbl"))
	if err != nil {
		b.Fatal(err)
	}
	db := newDB(b)
	tbl, nn := createTPCH(b, db, "lineitem", "lineitem")
	l, err := newLoader(tbl, "lineitem.tbl", Options{Format: TBL, NotNull: nn})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	var rows int64
	for b.Loop() {
		p := l.parseBlock(block{data: data})
		if p.err != nil {
			b.Fatal(p.err)
		}
		for _, c := range p.chunks {
			rows += int64(c.Len())
			l.chunks.Put(c)
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
