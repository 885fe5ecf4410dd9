package order_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/collect"
	"github.com/bpfdb/bpfdb/internal/exec/order"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

// chunkSource is a parallel.Source over prepared chunks, morsel m being
// the chunks [bounds[m], bounds[m+1]): uneven morsels, some empty.
type chunkSource struct {
	ts     []types.Type
	chunks []*vector.Chunk
	bounds []int
}

func newChunkSource(r *rand.Rand, ts []types.Type, rows [][]types.Value, cfg vectortest.Config) *chunkSource {
	s := &chunkSource{ts: ts, chunks: vectortest.Chunks(r, ts, rows, cfg), bounds: []int{0}}
	for last := 0; last < len(s.chunks); {
		last = min(len(s.chunks), last+r.IntN(4)*max(1, 300/cfg.BatchSize))
		s.bounds = append(s.bounds, last)
	}
	return s
}

func (s *chunkSource) Types() []types.Type                                   { return s.ts }
func (s *chunkSource) Init(*parallel.Producer) (parallel.SourceState, error) { return s, nil }
func (s *chunkSource) Morsels() int                                          { return len(s.bounds) - 1 }
func (s *chunkSource) NewLocal() (parallel.SourceLocal, error)               { return &chunkScan{s: s, m: -1}, nil }

type chunkScan struct {
	s    *chunkSource
	m, i int
}

func (l *chunkScan) Scan(m int, out *vector.Chunk) (bool, error) {
	if m != l.m {
		l.m, l.i = m, l.s.bounds[m]
	}
	if l.i == l.s.bounds[m+1] {
		l.m = -1
		return false, nil
	}
	out.ReferenceChunk(l.s.chunks[l.i])
	l.i++
	return l.i < l.s.bounds[m+1], nil
}

// sortRows runs src → sort, then sort's source → collection, and returns
// the collected rows.
func sortRows(t testing.TB, threads int, src parallel.Source, s *order.Sort) [][]types.Value {
	t.Helper()
	c := collect.New(s.Types(), collect.Options{Limit: -1})
	sch := parallel.New(parallel.Options{Threads: threads})
	defer sch.Close()
	// Two Runs rather than one with a dependency: parallel.Run starts a
	// dependent pipeline twice when its dependency finalizes before Run's
	// start loop reaches it (reported; not this package's to fix).
	for _, p := range []*parallel.Pipeline{parallel.NewPipeline("sort", src, nil, s), parallel.NewPipeline("out", s.Source(), nil, c)} {
		if st, err := parallel.Run(context.Background(), sch, []*parallel.Pipeline{p}); err != nil {
			t.Fatalf("run %s: %v\n%v", p.Name(), err, st)
		}
	}
	var rows [][]types.Value
	it := c.Iterator()
	for it.Next() {
		rows = append(rows, append([]types.Value(nil), it.Row()...))
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// compareRows is the reference order: types.Compare per key, reversed for
// DESC, NULLs placed by NullsFirst.
func compareRows(keys []order.Key, a, b []types.Value) int {
	for _, k := range keys {
		x, y := a[k.Column], b[k.Column]
		var c int
		switch {
		case x.IsNull() && y.IsNull():
			c = 0
		case x.IsNull() || y.IsNull():
			c = 1
			if y.IsNull() {
				c = -1
			}
			if k.NullsFirst {
				c = -c
			}
		default:
			c = types.Compare(x, y)
			if k.Desc {
				c = -c
			}
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// spice replaces some values by the edge cases of their types: NaN, ±0
// and ±Infinity for DOUBLE, negative DECIMALs and BIGINT extremes, strings
// that share their first 8 bytes or differ only by a trailing NUL.
func spice(r *rand.Rand, rows [][]types.Value) {
	strs := []string{"abcdefgh", "abcdefgh\x00", "abcdefghi", "abcdefg", "abcdefgh\xff", "", "\x00", "\xff\xff\xff\xff\xff\xff\xff\xff\xff"}
	for _, row := range rows {
		for j, v := range row {
			if v.IsNull() || r.IntN(3) != 0 {
				continue
			}
			switch t := v.Type(); t.ID() {
			case types.Double:
				row[j] = types.DoubleValue([]float64{math.NaN(), math.Copysign(0, -1), 0, math.Inf(1), math.Inf(-1), -1e300, 5e-324}[r.IntN(7)])
			case types.Decimal:
				row[j] = types.DecimalValue(-v.Int64(), t)
			case types.BigInt:
				row[j] = types.BigIntValue([]int64{math.MinInt64, math.MaxInt64, -1, 0}[r.IntN(4)])
			case types.Integer:
				row[j] = types.IntegerValue([]int32{math.MinInt32, math.MaxInt32, -1}[r.IntN(3)])
			case types.Varchar:
				row[j] = types.VarcharValue(strs[r.IntN(len(strs))])
			}
		}
	}
}
