package table

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bpfdb/bpfdb/internal/storage/file"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

// TestRoundTrip appends random rows of every type with NULLs (each column
// switching between data that favours each format), scans them back, then
// checkpoints, reopens and scans again: same rows, NULLs included.
func TestRoundTrip(t *testing.T) {
	r := vectortest.Rand(t)
	for _, tc := range []struct {
		name      string
		blockSize int
		rows      int
		span      int
		cfg       vectortest.Config
	}{
		{"empty", 0, 0, 1, vectortest.Configs[0]},
		{"one", 0, 1, 1, vectortest.Configs[0]},
		{"vector+1", file.MinBlockSize, vector.Size + 1, 700, vectortest.Configs[1]},
		{"small-blocks", file.MinBlockSize, 3*vector.Size + 17, 1500, vectortest.Configs[2]},
		{"rowgroup+", 0, RowGroupSize + 2*vector.Size + 5, 30000, vectortest.Configs[1]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.blockSize, 0)
			tbl, err := e.db.CreateTable("t", columnsOf(allTypes))
			if err != nil {
				t.Fatal(err)
			}
			rows := genRows(r, allTypes, tc.rows, tc.span, 0.2)
			appendRows(t, r, tbl, rows, tc.cfg)
			got, st := scanAll(t, tbl, ScanOptions{})
			sameRows(t, "before checkpoint", got, rows)
			if st.Rows != int64(tc.rows) || tbl.Rows() != int64(tc.rows) {
				t.Fatalf("stats %+v, table rows %d, want %d", st, tbl.Rows(), tc.rows)
			}
			if err := e.db.Checkpoint(); err != nil {
				t.Fatal(err)
			}
			e = e.reopen(t, 0)
			tbl = e.db.Table("t")
			if tbl == nil {
				t.Fatal("table t is gone after reopen")
			}
			got, _ = scanAll(t, tbl, ScanOptions{})
			sameRows(t, "after reopen", got, rows)
			// A column subset in another order.
			sub, _ := scanAll(t, tbl, ScanOptions{Columns: []int{5, 0}})
			for i := range sub {
				want := []types.Value{rows[i][5], rows[i][0]}
				sameRows(t, "columns 5,0", sub[i:i+1], [][]types.Value{want})
			}
		})
	}
}

// TestFormatsRoundTrip checks that each format really was used by the round
// trip data, by appending one row group per (type, kind) and reading the
// segment list.
func TestFormatsRoundTrip(t *testing.T) {
	r := vectortest.Rand(t)
	e := newEnv(t, file.MinBlockSize, 0)
	used := map[Format]bool{}
	for ti, typ := range allTypes {
		tbl, err := e.db.CreateTable(fmt.Sprintf("t%d", ti), []Column{{"c", typ}})
		if err != nil {
			t.Fatal(err)
		}
		var all [][]types.Value
		for kind := range numKinds {
			rows := genRows(r, []types.Type{typ}, 3000, 3000, 0.1)
			for i := range rows {
				rows[i][0] = genValue(r, typ, kind, i, 0.1)
			}
			appendRows(t, r, tbl, rows, vectortest.Configs[0])
			all = append(all, rows...)
		}
		got, _ := scanAll(t, tbl, ScanOptions{})
		sameRows(t, typ.String(), got, all)
		for _, s := range tbl.Segments() {
			used[s.Format] = true
		}
	}
	for f := FormatUncompressed; f < numFormats; f++ {
		if !used[f] {
			t.Errorf("format %v never chosen", f)
		}
	}
}

// TestReopenAppend appends after a reopen: new row groups follow the old ones
// and a second checkpoint keeps both.
func TestReopenAppend(t *testing.T) {
	r := vectortest.Rand(t)
	e := newEnv(t, file.MinBlockSize, 0)
	ts := []types.Type{types.BigIntType, types.VarcharType}
	tbl, err := e.db.CreateTable("t", columnsOf(ts))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.CreateTable("t", columnsOf(ts)); !errors.Is(err, ErrExists) {
		t.Fatalf("second create: %v, want ErrExists", err)
	}
	first := genRows(r, ts, 5000, 1000, 0.1)
	appendRows(t, r, tbl, first, vectortest.Configs[0])
	if err := e.db.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	// Rows appended but not checkpointed are lost on close.
	appendRows(t, r, tbl, first[:10], vectortest.Configs[0])
	e = e.reopen(t, 0)
	tbl = e.db.Table("t")
	second := genRows(r, ts, 3000, 1000, 0.1)
	appendRows(t, r, tbl, second, vectortest.Configs[0])
	if err := e.db.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	e = e.reopen(t, 0)
	got, _ := scanAll(t, e.db.Table("t"), ScanOptions{})
	sameRows(t, "after two checkpoints", got, append(first, second...))
}

// TestTinyMemoryLimit scans a table under a memory limit of a few blocks:
// blocks are evicted and read again, and the rows are right.
func TestTinyMemoryLimit(t *testing.T) {
	r := vectortest.Rand(t)
	e := newEnv(t, file.MinBlockSize, 0)
	ts := []types.Type{types.BigIntType, types.DoubleType, types.VarcharType}
	tbl, err := e.db.CreateTable("t", columnsOf(ts))
	if err != nil {
		t.Fatal(err)
	}
	rows := genRows(r, ts, 20000, 4000, 0.1)
	appendRows(t, r, tbl, rows, vectortest.Configs[0])
	if err := e.db.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	blocks := e.f.Info().UsedBlocks
	e = e.reopen(t, 6*file.MinBlockSize)
	for pass := range 2 {
		got, _ := scanAll(t, e.db.Table("t"), ScanOptions{})
		sameRows(t, fmt.Sprintf("pass %d", pass), got, rows)
	}
	m := e.m.Metrics()
	t.Logf("%d blocks in use; loads %d, evictions %d", blocks, m.Loads, m.Evictions)
	if m.Evictions == 0 || m.Loads < int64(blocks) {
		t.Fatalf("loads %d, evictions %d: the scan did not evict and reload (%d blocks)", m.Loads, m.Evictions, blocks)
	}
	if m.Used > m.Limit {
		t.Fatalf("used %d above the limit %d", m.Used, m.Limit)
	}
}

// TestConcurrentScans runs scans of morsels in parallel with an appender
// and checkpoints (run with -race), with room for everything and under a
// memory limit of 16 small blocks (scans evict each other's blocks).
func TestConcurrentScans(t *testing.T) {
	t.Run("roomy", func(t *testing.T) { testConcurrentScans(t, newEnv(t, 0, 0)) })
	t.Run("tiny", func(t *testing.T) { testConcurrentScans(t, newEnv(t, file.MinBlockSize, 16*file.MinBlockSize)) })
}

func testConcurrentScans(t *testing.T, e *env) {
	r := vectortest.Rand(t)
	ts := []types.Type{types.BigIntType, types.VarcharType}
	tbl, err := e.db.CreateTable("t", columnsOf(ts))
	if err != nil {
		t.Fatal(err)
	}
	const groups = 3
	var rows [][]types.Value
	a, err := tbl.NewAppender()
	if err != nil {
		t.Fatal(err)
	}
	for i := range groups * RowGroupSize {
		rows = append(rows, []types.Value{types.BigIntValue(int64(i)), types.VarcharValue(fmt.Sprint(i % 13))})
	}
	chunks := vectortest.Chunks(r, ts, rows, vectortest.Configs[0])
	half := len(chunks) / 2
	for _, c := range chunks[:half] {
		if err := a.Append(c); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	var appending atomic.Bool
	appending.Store(true)
	errs := make(chan error, 16)
	wg.Add(1)
	go func() { // the appender goes on meanwhile
		defer wg.Done()
		defer appending.Store(false)
		for i, c := range chunks[half:] {
			if err := a.Append(c); err != nil {
				errs <- err
				return
			}
			if i%40 == 0 { // checkpoints seal the block scans may be reading
				if err := a.Flush(); err != nil {
					errs <- err
					return
				}
				if err := e.db.Checkpoint(); err != nil {
					errs <- err
					return
				}
			}
		}
		errs <- a.Close()
	}()
	// Scanners run until the appender is done: whole-table scans check that
	// row i holds i; morsel scans check that a row group's values are
	// consecutive.
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for pass := 0; appending.Load() || pass < 2; pass++ {
				n := tbl.RowGroups()
				opts := ScanOptions{Start: 0, End: n}
				if (pass+w)%2 == 1 && n > 0 {
					g := (pass * 7) % n
					opts = ScanOptions{Start: g, End: g + 1}
				}
				if n == 0 {
					continue
				}
				s, err := tbl.Scan(opts)
				if err != nil {
					errs <- err
					return
				}
				c := s.NewChunk()
				row := int64(-1)
				for {
					ok, err := s.Next(c)
					if err != nil {
						errs <- err
						return
					}
					if !ok {
						break
					}
					col := vector.ColOf[int64](c, 0)
					for i := range c.Len() {
						x, _ := col.Get(i)
						if row < 0 && opts.Start > 0 {
							row = x // a morsel starts anywhere
						} else if row < 0 {
							row = 0
						}
						if x != row {
							errs <- fmt.Errorf("scan %+v: row %d holds %d", opts, row, x)
							return
						}
						row++
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, _ := scanAll(t, tbl, ScanOptions{})
	sameRows(t, "after concurrent appends", got, rows)
	m := e.m.Metrics()
	t.Logf("loads %d, evictions %d", m.Loads, m.Evictions)
}

// TestZoneMapSkipping counts the row groups a filter skips.
func TestZoneMapSkipping(t *testing.T) {
	e := newEnv(t, 0, 0)
	ts := []types.Type{types.BigIntType, types.VarcharType, types.DoubleType}
	tbl, err := e.db.CreateTable("t", columnsOf(ts))
	if err != nil {
		t.Fatal(err)
	}
	// 4 row groups: column 0 holds the row number; column 1 is "g<k>" in row
	// group k, NULL in row group 3; column 2 is NULL except for 1.5 in row
	// group 1.
	const groups = 4
	a, err := tbl.NewAppender()
	if err != nil {
		t.Fatal(err)
	}
	c := vector.NewChunk(ts)
	for i := 0; i < groups*RowGroupSize; {
		c.Reset()
		n := min(vector.Size, groups*RowGroupSize-i)
		for k := range n {
			g := (i + k) / RowGroupSize
			c.Col(0).Int64s()[k] = int64(i + k)
			if g == 3 {
				c.Col(1).SetNull(k)
			} else {
				c.Col(1).SetString(k, fmt.Sprintf("g%d", g))
			}
			if g == 1 {
				c.Col(2).Float64s()[k] = 1.5
			} else {
				c.Col(2).SetNull(k)
			}
		}
		c.SetLen(n)
		if err := a.Append(c); err != nil {
			t.Fatal(err)
		}
		i += n
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	const rg = RowGroupSize
	for _, tc := range []struct {
		filters []Filter
		read    int
	}{
		{nil, 4},
		{[]Filter{{0, OpLt, types.BigIntValue(rg)}}, 1},
		{[]Filter{{0, OpLe, types.BigIntValue(rg)}}, 2},
		{[]Filter{{0, OpGe, types.BigIntValue(3 * rg)}}, 1},
		{[]Filter{{0, OpGt, types.BigIntValue(3*rg - 1)}}, 1},
		{[]Filter{{0, OpEq, types.BigIntValue(2*rg + 5)}}, 1},
		{[]Filter{{0, OpEq, types.IntegerValue(-1)}}, 0},
		{[]Filter{{0, OpEq, types.DecimalValue(12345, types.MustDecimal(10, 2))}}, 1},
		{[]Filter{{0, OpNe, types.BigIntValue(5)}}, 4},
		{[]Filter{{0, OpLt, types.Null(types.BigIntType)}}, 0},
		{[]Filter{{1, OpEq, types.VarcharValue("g1")}}, 1},
		{[]Filter{{1, OpNe, types.VarcharValue("g1")}}, 2},
		{[]Filter{{1, OpGe, types.VarcharValue("g")}}, 3},
		{[]Filter{{2, OpEq, types.DoubleValue(1.5)}}, 1},
		{[]Filter{{2, OpNe, types.DoubleValue(1.5)}}, 0},
		{[]Filter{{0, OpGe, types.BigIntValue(rg)}, {1, OpLe, types.VarcharValue("g1")}}, 1},
	} {
		first, st := countRows(t, tbl, ScanOptions{Columns: []int{0}, Filters: tc.filters})
		if st.RowGroups != tc.read || st.Skipped != groups-tc.read || st.Rows != int64(tc.read*rg) {
			t.Errorf("filters %v: read %d, skipped %d row groups, %d rows; want %d read", tc.filters, st.RowGroups, st.Skipped, st.Rows, tc.read)
		}
		if tc.read == 1 && first%rg != 0 {
			t.Errorf("filters %v: first row %d does not start a row group", tc.filters, first)
		}
	}
	// No columns: the rows are counted all the same (COUNT(*)).
	if _, st := scanAll(t, tbl, ScanOptions{Columns: []int{}, Filters: []Filter{{0, OpLt, types.BigIntValue(rg)}}}); st.Rows != rg {
		t.Errorf("scan without columns: %+v, want %d rows", st, rg)
	}
	// Morsels: each row group alone.
	for g := range groups {
		first, st := countRows(t, tbl, ScanOptions{Columns: []int{0}, Start: g, End: g + 1})
		if st.RowGroups != 1 || st.Rows != rg || first != int64(g*rg) {
			t.Errorf("morsel %d: %+v, first row %d", g, st, first)
		}
	}
	for _, bad := range []ScanOptions{
		{Columns: []int{3}},
		{Start: 3, End: 5},
		{Start: -1},
		{Filters: []Filter{{1, OpEq, types.DateValue(3)}}},
		{Filters: []Filter{{9, OpEq, types.BigIntValue(3)}}},
	} {
		if _, err := tbl.Scan(bad); err == nil {
			t.Errorf("scan %+v: no error", bad)
		}
	}
}

// countRows scans a BIGINT first column without boxing and returns its
// first value and the stats.
func countRows(t *testing.T, tbl *Table, opts ScanOptions) (int64, ScanStats) {
	t.Helper()
	s, err := tbl.Scan(opts)
	if err != nil {
		t.Fatal(err)
	}
	c := s.NewChunk()
	first := int64(-1)
	for {
		ok, err := s.Next(c)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return first, s.Stats()
		}
		if first < 0 {
			first = c.Col(0).Int64s()[0]
		}
	}
}

// TestAppenderMisuse: one appender at a time, wrong chunk types, use after
// Close.
func TestAppenderMisuse(t *testing.T) {
	e := newEnv(t, 0, 0)
	tbl, err := e.db.CreateTable("t", []Column{{"a", types.BigIntType}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := tbl.NewAppender()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tbl.NewAppender(); !errors.Is(err, ErrBusy) {
		t.Fatalf("second appender: %v, want ErrBusy", err)
	}
	if err := a.Append(vector.NewChunk([]types.Type{types.IntegerType})); err == nil {
		t.Fatal("append of an INTEGER chunk to a BIGINT table: no error")
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Append(int64Chunk(1, func(int) int64 { return 1 })); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v, want ErrClosed", err)
	}
	for _, cols := range [][]Column{nil, {{"", types.BigIntType}}, {{"a", types.BigIntType}, {"a", types.DateType}}, {{"a", types.Type{}}}} {
		if _, err := e.db.CreateTable("u", cols); err == nil {
			t.Errorf("create table with columns %v: no error", cols)
		}
	}
}

// TestSkipInexactZone checks the filter logic against a VARCHAR zone map
// whose minimum was cut to a prefix and whose maximum was dropped.
func TestSkipInexactZone(t *testing.T) {
	long := strings.Repeat("m", maxZoneString+10)
	e := encodeValues(types.VarcharType, []types.Value{types.VarcharValue(long), types.VarcharValue(long + "z")})
	if e.zone.exact || e.zone.hasMax || e.zone.min.Str() != long[:maxZoneString] {
		t.Fatalf("zone %+v: want an inexact prefix minimum and no maximum", e.zone)
	}
	g := &rowGroup{rows: 2, segs: []*segment{{zone: e.zone}}}
	for _, tc := range []struct {
		op   Op
		c    string
		skip bool
	}{
		{OpLt, long[:maxZoneString], true}, // every value ≥ the prefix
		{OpLe, long[:maxZoneString], false},
		{OpEq, long, false},
		{OpEq, "a", true},
		{OpNe, long, false},
		{OpGt, "zzz", false}, // no maximum: cannot skip
		{OpGe, long + "zz", false},
	} {
		s := &Scanner{filters: []Filter{{0, tc.op, types.VarcharValue(tc.c)}}}
		if got := s.skip(g); got != tc.skip {
			t.Errorf("%v %.10q…: skip %v, want %v", tc.op, tc.c, got, tc.skip)
		}
	}
}

// TestScanHoldsBlocks checks how a scan pins the blocks it reads: the
// vectors of a segment that lie in one block cost one pin (the block stays
// pinned between them), and a scan holds nothing once Next has reported
// the end, or once it is closed early.
func TestScanHoldsBlocks(t *testing.T) {
	e := newEnv(t, 0, 0)
	ts := []types.Type{types.BigIntType, types.BigIntType}
	tbl, err := e.db.CreateTable("t", columnsOf(ts))
	if err != nil {
		t.Fatal(err)
	}
	const vectors = 20
	rows := make([][]types.Value, vectors*vector.Size)
	for i := range rows {
		rows[i] = []types.Value{types.BigIntValue(int64(i)), types.BigIntValue(int64(i % 1000))}
	}
	appendRows(t, vectortest.Rand(t), tbl, rows, vectortest.Configs[0])
	if err := e.db.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	e = e.reopen(t, 0)
	tbl = e.db.Table("t")
	pins := func() int64 { m := e.m.Metrics(); return m.Hits + m.Misses }
	pinned := func() int {
		n := 0
		for _, blk := range e.db.w.blocks {
			n += blk.b.Info().Readers
		}
		return n
	}

	before := pins()
	got, _ := scanAll(t, tbl, ScanOptions{})
	sameRows(t, "scan", got, rows)
	// Each column's segment lies in one or two blocks of the default size.
	if n := pins() - before; n > 2*int64(len(ts)) {
		t.Errorf("a scan of %d vectors of %d columns pinned blocks %d times, want at most %d", vectors, len(ts), n, 2*len(ts))
	}
	if n := pinned(); n != 0 {
		t.Errorf("%d pins left after a scan read to the end", n)
	}

	s, err := tbl.Scan(ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Next(s.NewChunk()); !ok || err != nil {
		t.Fatalf("Next = %v, %v", ok, err)
	}
	if n := pinned(); n != len(ts) {
		t.Errorf("%d pins held by a scan between vectors, want one per column (%d)", n, len(ts))
	}
	s.Close()
	s.Close()
	if n := pinned(); n != 0 {
		t.Errorf("%d pins left after Close", n)
	}
	if ok, err := s.Next(s.NewChunk()); ok || err != nil {
		t.Errorf("Next after Close = %v, %v; want the end", ok, err)
	}
}
