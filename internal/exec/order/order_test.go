package order_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/order"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

// sortTypes: c0 BIGINT, c1 INTEGER, c2 DOUBLE, c3 VARCHAR, c4 DECIMAL(15,2),
// c5 DATE, c6 BOOLEAN, c7 a BIGINT that is always 7 (every row ties).
var sortTypes = []types.Type{
	types.BigIntType, types.IntegerType, types.DoubleType, types.VarcharType,
	types.MustDecimal(15, 2), types.DateType, types.BooleanType, types.BigIntType,
}

var keySets = [][]order.Key{
	{{Column: 0}},
	{{Column: 0, Desc: true}},
	{{Column: 3}},
	{{Column: 3, Desc: true, NullsFirst: true}, {Column: 4}},
	{{Column: 2}},
	{{Column: 2, Desc: true, NullsFirst: true}},
	{{Column: 5}, {Column: 1, Desc: true}},
	{{Column: 6}, {Column: 2, Desc: true, NullsFirst: true}, {Column: 3}},
	{{Column: 7}},
	{{Column: 4, NullsFirst: true}, {Column: 7, Desc: true}, {Column: 3, Desc: true}},
}

var windows = []struct{ limit, offset int64 }{{-1, 0}, {-1, 17}, {0, 0}, {0, 3}, {1, 0}, {10, 0}, {10, 5}, {3000, 100}, {100000, 0}}

func testRows(t *testing.T, n int) [][]types.Value {
	r := vectortest.Rand(t)
	rows := vectortest.Rows(r, sortTypes, n, 0.1)
	spice(r, rows)
	for _, row := range rows {
		row[7] = types.BigIntValue(7)
	}
	return rows
}

// TestDifferential sorts random rows (every type, NULLs, NaN, ±0, strings
// with equal 8-byte prefixes) by many key sets, as full sorts and top-Ns
// with offsets, cut into chunks by every vectortest configuration, at 1
// and 2 threads, and compares with sort.SliceStable over the input order
// and types.Compare: the whole rows must match, so ties must keep the
// input order.
func TestDifferential(t *testing.T) {
	rows := testRows(t, 5000)
	r := vectortest.Rand(t)
	wants := make([]map[int]string, len(keySets)) // by key set, then window
	for i, keys := range keySets {
		sorted := slices.Clone(rows)
		slices.SortStableFunc(sorted, func(a, b []types.Value) int { return compareRows(keys, a, b) })
		wants[i] = map[int]string{}
		for wi, w := range windows {
			wants[i][wi] = vectortest.Format(window(sorted, w.limit, w.offset))
		}
	}
	for ci, cfg := range vectortest.Configs {
		src := newChunkSource(r, sortTypes, rows, cfg)
		for ki, keys := range keySets {
			for wi, w := range windows {
				// Small batches cost a lot of chunks: they run a
				// sample of the key sets and windows.
				if cfg.BatchSize < 100 && (ki+wi+ci)%5 != 0 {
					continue
				}
				for _, threads := range []int{1, 2} {
					s, err := order.New(sortTypes, keys, order.Options{Limit: w.limit, Offset: w.offset})
					if err != nil {
						t.Fatal(err)
					}
					got := vectortest.Format(sortRows(t, threads, src, s))
					if want := wants[ki][wi]; got != want {
						t.Fatalf("%v, keys %v, %v, %d threads:\n%s", cfg, keys, s, threads, firstDiff(got, want))
					}
					if st := s.Stats(); st.Rows != int64(len(rows)) || st.Output != int64(strings.Count(wants[ki][wi], "\n")) {
						t.Fatalf("%v: stats %v, want %d rows in", s, st, len(rows))
					}
				}
			}
		}
	}
}

func window(rows [][]types.Value, limit, offset int64) [][]types.Value {
	lo := min(int64(len(rows)), offset)
	hi := int64(len(rows))
	if limit >= 0 {
		hi = min(hi, lo+limit)
	}
	return rows[lo:hi]
}

// firstDiff shows the first differing line of two texts.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n got: %q\nwant: %q", i+1, a, b)
		}
	}
	return "no difference"
}

// TestSingleRowRuns: tasks that buffered one row each make runs of one
// entry, which are never sorted; the merge must still see their key
// prefixes. Three morsels of one row, two threads, many times.
func TestSingleRowRuns(t *testing.T) {
	ts := []types.Type{types.VarcharType, types.BigIntType}
	rows := [][]types.Value{
		{types.VarcharValue("b"), types.BigIntValue(1)},
		{types.VarcharValue("a"), types.BigIntValue(2)},
		{types.VarcharValue("c"), types.BigIntValue(3)},
	}
	src := &chunkSource{ts: ts, bounds: []int{0, 1, 2, 3}}
	for _, row := range rows {
		src.chunks = append(src.chunks, vectortest.Chunks(nil, ts, [][]types.Value{row}, vectortest.Config{BatchSize: 1})...)
	}
	for _, keys := range [][]order.Key{{{Column: 0}}, {{Column: 1, Desc: true}}} {
		want := slices.Clone(rows)
		slices.SortStableFunc(want, func(a, b []types.Value) int { return compareRows(keys, a, b) })
		for range 30 {
			s, err := order.New(ts, keys, order.Options{Limit: -1})
			if err != nil {
				t.Fatal(err)
			}
			if got, w := vectortest.Format(sortRows(t, 2, src, s)), vectortest.Format(want); got != w {
				t.Fatalf("keys %v, runs %d: got\n%swant\n%s", keys, s.Stats().Runs, got, w)
			}
		}
	}
}
