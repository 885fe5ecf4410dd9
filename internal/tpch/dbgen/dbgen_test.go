package dbgen

import (
	"bufio"
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// refDir holds DuckDB's export of dbgen's SF 0.01 tables.
const refDir = "../../../../shared/tpch/sf0.01"

// compareLines reports the first line where got and want differ.
func compareLines(t *testing.T, name string, got, want []byte) {
	t.Helper()
	g := bufio.NewScanner(bytes.NewReader(got))
	w := bufio.NewScanner(bytes.NewReader(want))
	g.Buffer(nil, 1<<20)
	w.Buffer(nil, 1<<20)
	for line := 1; ; line++ {
		gok, wok := g.Scan(), w.Scan()
		switch {
		case !gok && !wok:
			return
		case !gok:
			t.Fatalf("%s: generated output ends at line %d; reference continues with\n%s", name, line, w.Text())
		case !wok:
			t.Fatalf("%s: reference ends at line %d; generated output continues with\n%s", name, line, g.Text())
		case g.Text() != w.Text():
			t.Fatalf("%s: first difference at line %d\n got: %s\nwant: %s", name, line, g.Text(), w.Text())
		}
	}
}

// TestReferenceSF001 generates every table at SF 0.01 and compares it row
// for row with the reference files.
func TestReferenceSF001(t *testing.T) {
	if _, err := os.Stat(refDir); err != nil {
		t.Skipf("reference data %s not present (%v); it is the shared TPC-H SF 0.01 export", refDir, err)
	}
	g, err := New(0.01, FormatDuckDB)
	if err != nil {
		t.Fatal(err)
	}
	wantRows := map[Table]int{Region: 5, Nation: 25, Supplier: 100, Customer: 1500, Part: 2000,
		PartSupp: 8000, Orders: 15000, Lineitem: 60175}
	dir := t.TempDir()
	done := map[Table]int64{}
	progress := func(t Table, n, total int64) { done[t] = n }
	if err := g.WriteDir(dir, 2, progress); err != nil {
		t.Fatal(err)
	}
	for _, tb := range Tables() {
		t.Run(tb.String(), func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join(refDir, tb.String()+".tbl"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(dir, tb.String()+".tbl"))
			if err != nil {
				t.Fatal(err)
			}
			if n := bytes.Count(got, []byte{'\n'}); n != wantRows[tb] {
				t.Errorf("%s: %d rows, want %d", tb, n, wantRows[tb])
			}
			if done[tb] != g.DrivingRows(tb) {
				t.Errorf("%s: progress reported %d driving rows done, want %d", tb, done[tb], g.DrivingRows(tb))
			}
			compareLines(t, tb.String(), got, want)
		})
	}
}

// TestSeek checks that generating a table in two pieces, the second started
// from its own row without generating the first, gives the same bytes as
// generating it in one go.
func TestSeek(t *testing.T) {
	g, err := New(0.01, FormatDbgen)
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range Tables() {
		n := min(g.DrivingRows(tb), 600)
		whole := g.AppendRows(nil, tb, 1, n)
		for _, cut := range []int64{1, 2, n / 3, n - 1} {
			if cut < 1 || cut >= n {
				continue
			}
			parts := g.AppendRows(nil, tb, 1, cut)
			parts = g.AppendRows(parts, tb, cut+1, n-cut)
			if !bytes.Equal(whole, parts) {
				compareLines(t, tb.String(), parts, whole)
				t.Fatalf("%s cut at %d: pieces differ from whole", tb, cut)
			}
		}
	}
}

// TestWriteTableMatchesAppendRows checks the parallel writer (several chunks,
// two workers) and the joint orders/lineitem generation against plain
// single-call generation.
func TestWriteTableMatchesAppendRows(t *testing.T) {
	g, err := New(0.05, FormatDbgen)
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range []Table{Customer, Orders, Lineitem} {
		var w bytes.Buffer
		if err := g.WriteTable(&w, tb, 2, nil); err != nil {
			t.Fatal(err)
		}
		compareLines(t, tb.String(), w.Bytes(), g.AppendRows(nil, tb, 1, g.DrivingRows(tb)))
	}
	o, l := g.AppendOrdersLineitems(nil, nil, 100, 5000)
	compareLines(t, "orders (joint)", o, g.AppendRows(nil, Orders, 100, 5000))
	compareLines(t, "lineitem (joint)", l, g.AppendRows(nil, Lineitem, 100, 5000))
}

// failWriter fails every write.
type failWriter struct{}

var errDiskFull = errors.New("disk full")

func (failWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func TestWriteTableError(t *testing.T) {
	g, err := New(0.1, FormatDuckDB)
	if err != nil {
		t.Fatal(err)
	}
	err = g.WriteTable(failWriter{}, Customer, 2, nil)
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("err = %v, want disk full", err)
	}
	t.Log(err)
}

func TestNewErrors(t *testing.T) {
	for _, sf := range []float64{0, -1, math.NaN(), math.Inf(1), 1.5, 30000} {
		if _, err := New(sf, FormatDuckDB); !errors.Is(err, ErrScaleFactor) {
			t.Errorf("New(%v): err = %v, want ErrScaleFactor", sf, err)
		}
	}
	if _, err := New(1, Format(7)); err == nil {
		t.Errorf("New with format 7: no error")
	}
	if _, err := ParseTable("lineitems"); !errors.Is(err, ErrUnknownTable) {
		t.Errorf("ParseTable(lineitems): err = %v", err)
	}
	if _, err := ParseFormat("csv"); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("ParseFormat(csv): err = %v", err)
	}
	for _, tb := range Tables() {
		if got, err := ParseTable(tb.String()); got != tb || err != nil {
			t.Errorf("ParseTable(%q) = %v, %v", tb, got, err)
		}
	}
	for _, f := range []Format{FormatDuckDB, FormatDbgen} {
		if got, err := ParseFormat(f.String()); got != f || err != nil {
			t.Errorf("ParseFormat(%q) = %v, %v", f, got, err)
		}
	}
}

// TestRows checks exact row counts, lineitem's drawn without generating
// rows: the well-known counts of dbgen's tables.
func TestRows(t *testing.T) {
	for _, c := range []struct {
		sf                     float64
		lineitem, partsupp, or int64
	}{
		{0.01, 60175, 8000, 15000},
		{0.1, 600572, 80000, 150000},
		{1, 6001215, 800000, 1500000},
	} {
		g, err := New(c.sf, FormatDuckDB)
		if err != nil {
			t.Fatal(err)
		}
		if got := [3]int64{g.Rows(Lineitem), g.Rows(PartSupp), g.Rows(Orders)}; got != [3]int64{c.lineitem, c.partsupp, c.or} {
			t.Errorf("SF %v: lineitem, partsupp, orders rows = %v, want %v", c.sf, got, [3]int64{c.lineitem, c.partsupp, c.or})
		}
	}
}

func TestRowCounts(t *testing.T) {
	for _, c := range []struct {
		sf                   float64
		supp, cust, part, or int64
	}{
		{0.01, 100, 1500, 2000, 15000},
		{0.1, 1000, 15000, 20000, 150000},
		{1, 10000, 150000, 200000, 1500000},
		{10, 100000, 1500000, 2000000, 15000000},
		{0.0001, 1, 1, 1, 1},
	} {
		g, err := New(c.sf, FormatDuckDB)
		if err != nil {
			t.Fatal(err)
		}
		got := [4]int64{g.DrivingRows(Supplier), g.DrivingRows(Customer), g.DrivingRows(PartSupp), g.DrivingRows(Lineitem)}
		if want := [4]int64{c.supp, c.cust, c.part, c.or}; got != want {
			t.Errorf("SF %v: driving rows %v, want %v", c.sf, got, want)
		}
	}
}
