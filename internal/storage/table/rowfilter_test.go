package table

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

// testSeed returns the seed of a randomized test: $BPFDB_SEED if set, else
// a fresh one. It logs the seed so that a failure can be replayed.
func testSeed(t *testing.T) uint64 {
	t.Helper()
	seed := rand.Uint64()
	if s := os.Getenv("BPFDB_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("BPFDB_SEED=%q: %v", s, err)
		}
	}
	t.Logf("seed %d (replay with BPFDB_SEED=%d)", seed, seed)
	return seed
}

// TestFilterRows compares scans with FilterRows against plain scans whose
// rows are filtered afterwards by types.Compare, on random tables of every
// type with NULLs, in every segment format (row groups of a few vectors
// whose columns change kind between and within row groups), with random
// filters: constants taken from the data (so that = finds rows), NULL
// constants, and exact-number constants of other scales than the column's.
func TestFilterRows(t *testing.T) {
	seed := testSeed(t)
	r := rand.New(rand.NewPCG(seed, 99))
	ts := []types.Type{
		types.BooleanType, types.IntegerType, types.DateType, types.BigIntType,
		types.MustDecimal(15, 2), types.MustDecimal(4, 1), types.DoubleType, types.VarcharType,
	}
	e := newEnv(t, 0, 0)
	tbl, err := e.db.CreateTable("t", columnsOf(ts))
	if err != nil {
		t.Fatal(err)
	}
	a, err := tbl.NewAppender()
	if err != nil {
		t.Fatal(err)
	}
	var all [][]types.Value
	for range 8 {
		n := 1 + r.IntN(3*2048+500)
		span := n
		if r.IntN(2) == 0 {
			span = 1 + r.IntN(2500) // kinds change inside the row group
		}
		rows := genRows(r, ts, n, span, []float64{0, 0.1, 0.6}[r.IntN(3)])
		for _, c := range vectortest.Chunks(r, ts, rows, vectortest.Config{BatchSize: 1 + r.IntN(2048), Selection: r.IntN(2) == 0}) {
			if err := a.Append(c); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.Flush(); err != nil {
			t.Fatal(err)
		}
		all = append(all, rows...)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	formats := map[Format]int{}
	for _, g := range tbl.groups {
		for _, s := range g.segs {
			formats[s.format]++
		}
	}
	t.Logf("%d rows in %d row groups; segments by format %v", len(all), tbl.RowGroups(), formats)

	var nonEmpty, partial, emptyVectors, setRows int
	for q := range 120 {
		var filters []Filter
		var sets []SetFilter
		for len(filters)+len(sets) == 0 {
			for range r.IntN(4) {
				filters = append(filters, randomFilter(r, ts, all))
			}
			for range r.IntN(3) {
				sets = append(sets, randomSet(r, []int{1, 2, 3}[r.IntN(3)], all))
			}
		}
		cols := r.Perm(len(ts))[:1+r.IntN(len(ts))]
		want := filterRef(setRef(all, sets), filters, cols)
		got, st := scanAll(t, tbl, ScanOptions{Columns: cols, Filters: filters, FilterRows: true, Sets: sets})
		sameRows(t, fmt.Sprintf("query %d: columns %v filters %v sets %v", q, cols, filters, sets), got, want)
		if st.Rows != int64(len(want)) {
			t.Fatalf("query %d: stats %+v, want %d rows", q, st, len(want))
		}
		if len(want) > 0 {
			nonEmpty++
			if slices.ContainsFunc(sets, func(f SetFilter) bool { return f.Bits != nil }) {
				setRows++
			}
		}
		if st.Dropped > 0 && st.Rows > 0 {
			partial++
		}
		emptyVectors += st.Empty
	}
	t.Logf("queries with rows %d (with a set %d), with rows and dropped rows %d; vectors skipped %d", nonEmpty, setRows, partial, emptyVectors)
	if nonEmpty == 0 || partial == 0 || setRows == 0 {
		t.Fatalf("the random filters did not exercise row filtering")
	}
}

// randomSet returns a set filter on integer column j: a few of its values
// in rows (or many, or none), as a bitmap, or the range they span.
func randomSet(r *rand.Rand, j int, rows [][]types.Value) SetFilter {
	var vals []int64
	for range []int{0, 1, 5, 300}[r.IntN(4)] {
		if v := rows[r.IntN(len(rows))][j]; !v.IsNull() {
			vals = append(vals, v.Int64())
		}
	}
	if len(vals) == 0 {
		vals = append(vals, int64(r.IntN(100)))
	}
	f := SetFilter{Column: j, Min: slices.Min(vals), Max: slices.Max(vals)}
	if r.IntN(4) == 0 || uint64(f.Max-f.Min) > 1<<20 {
		return f // the range only
	}
	f.Bits = make([]uint64, (f.Max-f.Min)/64+1+int64(r.IntN(2)))
	for _, x := range vals {
		d := x - f.Min
		f.Bits[d>>6] |= 1 << (d & 63)
	}
	return f
}

// setRef keeps the rows whose values are in every set (the rows are
// copied only when they pass: the result aliases rows).
func setRef(rows [][]types.Value, sets []SetFilter) [][]types.Value {
	var out [][]types.Value
	for _, row := range rows {
		ok := true
		for _, f := range sets {
			v := row[f.Column]
			if v.IsNull() || v.Int64() < f.Min || v.Int64() > f.Max {
				ok = false
				break
			}
			if d := v.Int64() - f.Min; f.Bits != nil && f.Bits[d>>6]>>(d&63)&1 == 0 {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, row)
		}
	}
	return out
}

// filterRef keeps the rows that satisfy every filter by types.Compare and
// returns their columns cols.
func filterRef(rows [][]types.Value, filters []Filter, cols []int) [][]types.Value {
	var out [][]types.Value
	for _, row := range rows {
		if !slices.ContainsFunc(filters, func(f Filter) bool { return !f.matches(row[f.Column]) }) {
			var o []types.Value
			for _, j := range cols {
				o = append(o, row[j])
			}
			out = append(out, o)
		}
	}
	return out
}

// matches evaluates the filter on one value the slow way.
func (f Filter) matches(v types.Value) bool {
	if v.IsNull() || f.Value.IsNull() {
		return false
	}
	return f.Op.holds(types.Compare(v, f.Value))
}

// randomFilter returns a filter on a random column of ts with a constant
// near the data of rows.
func randomFilter(r *rand.Rand, ts []types.Type, rows [][]types.Value) Filter {
	j := r.IntN(len(ts))
	t := ts[j]
	op := Op(r.IntN(int(numOps)))
	v := rows[r.IntN(len(rows))][j]
	switch {
	case r.IntN(40) == 0:
		v = types.Null(t)
	case v.IsNull():
		v = genValue(r, t, kindCluster, 0, 0)
	}
	if !v.IsNull() && r.IntN(3) == 0 {
		// Another exact type or scale, around the value.
		switch t.ID() {
		case types.Integer, types.BigInt, types.Decimal:
			s := r.IntN(6)
			x := v.Int64()
			sc := t.Scale()
			switch {
			case s >= sc:
				if y, ok := mulPow10(x, s-sc); ok {
					x = y + int64(r.IntN(3)-1)*int64(r.IntN(2))
				}
			default:
				x /= types.Pow10(sc - s)
			}
			switch {
			case s == 0 && r.IntN(2) == 0:
				v = types.BigIntValue(x)
			case s == 0 && x == int64(int32(x)):
				v = types.IntegerValue(int32(x))
			default:
				v = types.DecimalValue(x, types.MustDecimal(18, s))
			}
		}
	}
	return Filter{Column: j, Op: op, Value: v}
}

// TestVectorRange: FirstVector and EndVector read part of one row group,
// and bad ranges are refused with an error naming them.
func TestVectorRange(t *testing.T) {
	e := newEnv(t, 0, 0)
	tbl, err := e.db.CreateTable("t", columnsOf([]types.Type{types.BigIntType}))
	if err != nil {
		t.Fatal(err)
	}
	a, err := tbl.NewAppender()
	if err != nil {
		t.Fatal(err)
	}
	const rows = 5*2048 + 100 // six vectors
	if err := a.Append(int64Chunk(2048, func(i int) int64 { return int64(i) })); err != nil {
		t.Fatal(err)
	}
	for k := 1; k < 6; k++ {
		n := min(2048, rows-k*2048)
		if err := a.Append(int64Chunk(n, func(i int) int64 { return int64(k*2048 + i) })); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		first, end  int
		from, to    int64 // rows read
		errContains string
	}{
		{0, 0, 0, rows, ""},
		{0, 2, 0, 2 * 2048, ""},
		{2, 0, 2 * 2048, rows, ""},
		{5, 6, 5 * 2048, rows, ""},
		{3, 3, 0, 0, "vectors [3, 3)"},
		{-1, 2, 0, 0, "vectors [-1, 2)"},
		{6, 0, 0, 0, "vectors [6, 0)"},
	} {
		got, _, err := scanRange(tbl, ScanOptions{Start: 0, End: 1, FirstVector: tt.first, EndVector: tt.end})
		if tt.errContains != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errContains) {
				t.Errorf("vectors [%d, %d): error %v, want one naming %q", tt.first, tt.end, err, tt.errContains)
			}
			continue
		}
		if err != nil {
			t.Fatalf("vectors [%d, %d): %v", tt.first, tt.end, err)
		}
		if len(got) != int(tt.to-tt.from) || len(got) > 0 && (got[0] != tt.from || got[len(got)-1] != tt.to-1) {
			t.Errorf("vectors [%d, %d): %d rows, want rows %d to %d", tt.first, tt.end, len(got), tt.from, tt.to-1)
		}
	}
}

// scanRange returns the BIGINT column 0 of a scan.
func scanRange(tbl *Table, opts ScanOptions) ([]int64, ScanStats, error) {
	s, err := tbl.Scan(opts)
	if err != nil {
		return nil, ScanStats{}, err
	}
	c := s.NewChunk()
	var out []int64
	for {
		ok, err := s.Next(c)
		if err != nil || !ok {
			return out, s.Stats(), err
		}
		for r := range c.Len() {
			out = append(out, c.Col(0).Int64s()[c.Index(r)])
		}
	}
}

// TestSetFilterErrors: a set on a column that is not an integer, an
// inverted range or too few words of bits are refused, naming the filter.
func TestSetFilterErrors(t *testing.T) {
	e := newEnv(t, 0, 0)
	tbl, err := e.db.CreateTable("t", columnsOf([]types.Type{types.IntegerType, types.VarcharType, types.DoubleType}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		f    SetFilter
		want string
	}{
		{SetFilter{Column: 1, Min: 0, Max: 3}, `filter #1 in [0, 3]: a set of values on column "varchar1" of type VARCHAR`},
		{SetFilter{Column: 2, Min: 0, Max: 3}, `of type DOUBLE (INTEGER, BIGINT or DATE only)`},
		{SetFilter{Column: 3, Min: 0, Max: 3}, `no column 3`},
		{SetFilter{Column: 0, Min: 4, Max: 3}, `0 words of bits for the range`},
		{SetFilter{Column: 0, Min: 0, Max: 64, Bits: []uint64{1}}, `filter #0 in [0, 64] (1 values): 1 words of bits`},
		{SetFilter{Column: 0, Min: 0, Max: 64, Bits: []uint64{1, 4}}, `filter #0 in [0, 64] (2 values): bits set past the range`},
		{SetFilter{Column: 0, Min: 0, Max: 3, Bits: []uint64{1, 1}}, `filter #0 in [0, 3] (2 values): bits set past the range`},
	} {
		_, err := tbl.Scan(ScanOptions{Sets: []SetFilter{tc.f}, FilterRows: true})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.f, err, tc.want)
		}
	}
}

// TestIntRange: the range of an integer column over the zone maps of every
// row group, ignoring NULLs; none for other types or a table without values.
func TestIntRange(t *testing.T) {
	e := newEnv(t, 0, 0)
	tbl, err := e.db.CreateTable("t", columnsOf([]types.Type{types.IntegerType, types.VarcharType, types.DateType}))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := tbl.IntRange(0); ok {
		t.Fatal("a range of an empty table")
	}
	a, err := tbl.NewAppender()
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]types.Value
	for i := range 5000 {
		x := types.IntegerValue(int32(i%700 - 300))
		if i%11 == 0 {
			x = types.Null(types.IntegerType)
		}
		rows = append(rows, []types.Value{x, types.VarcharValue("v"), types.Null(types.DateType)})
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range vectortest.Chunks(r, []types.Type{types.IntegerType, types.VarcharType, types.DateType}, rows, vectortest.Config{BatchSize: 2048}) {
		if err := a.Append(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if lo, hi, ok := tbl.IntRange(0); !ok || lo != -300 || hi != 399 {
		t.Fatalf("range [%d, %d] %v, want [-300, 399]", lo, hi, ok)
	}
	for _, col := range []int{1, 2, 3} {
		if lo, hi, ok := tbl.IntRange(col); ok {
			t.Fatalf("column %d: range [%d, %d]", col, lo, hi)
		}
	}
}
