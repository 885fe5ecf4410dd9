package collect_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/collect"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

// allTypes has a column of every type.
var allTypes = []types.Type{
	types.BigIntType, types.IntegerType, types.DoubleType, types.VarcharType,
	types.MustDecimal(15, 2), types.DateType, types.BooleanType,
}

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
		// 0..3 steps of at least 300 rows: empty morsels too.
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

func run(t testing.TB, threads int, p ...*parallel.Pipeline) {
	t.Helper()
	s := parallel.New(parallel.Options{Threads: threads})
	defer s.Close()
	if st, err := parallel.Run(context.Background(), s, p); err != nil {
		t.Fatalf("run: %v\n%v", err, st)
	}
}

func collectRows(t testing.TB, c *collect.Collection) [][]types.Value {
	t.Helper()
	var rows [][]types.Value
	it := c.Iterator()
	for it.Next() {
		rows = append(rows, append([]types.Value(nil), it.Row()...))
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if int64(len(rows)) != c.Rows() {
		t.Fatalf("iterator gave %d rows, Rows() says %d", len(rows), c.Rows())
	}
	return rows
}

func window(rows [][]types.Value, limit, offset int64) [][]types.Value {
	lo := min(int64(len(rows)), offset)
	hi := int64(len(rows))
	if limit >= 0 {
		hi = min(hi, lo+limit)
	}
	return rows[lo:hi]
}

func newManager(t testing.TB, limit int64) *buffer.Manager {
	t.Helper()
	m, err := buffer.New(buffer.Options{Limit: limit, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// TestOrder fills collections from a source of uneven morsels (some
// empty), cut into chunks of every vectortest configuration, at 1 and 2
// threads, with and without buffers, with several limits and offsets: the
// rows must be the source's, in order, windowed.
func TestOrder(t *testing.T) {
	r := vectortest.Rand(t)
	rows := vectortest.Rows(r, allTypes, 3*vector.Size+77, 0.15)
	windows := []struct{ limit, offset int64 }{{-1, 0}, {0, 0}, {0, 7}, {10, 0}, {5, 3}, {-1, 2100}, {3000, 2047}, {1, int64(len(rows)) - 1}, {10, int64(len(rows)) + 5}}
	for _, cfg := range vectortest.Configs {
		src := newChunkSource(r, allTypes, rows, cfg)
		for _, threads := range []int{1, 2} {
			for _, buffered := range []bool{false, true} {
				for _, w := range windows {
					name := fmt.Sprintf("%v/threads=%d/buffers=%v/limit=%d/offset=%d", cfg, threads, buffered, w.limit, w.offset)
					opts := collect.Options{Limit: w.limit, Offset: w.offset}
					if buffered {
						opts.Buffers = newManager(t, 1<<30)
					}
					c := collect.New(allTypes, opts)
					run(t, threads, parallel.NewPipeline("collect", src, nil, c))
					got, want := vectortest.Format(collectRows(t, c)), vectortest.Format(window(rows, w.limit, w.offset))
					if got != want {
						t.Fatalf("%s: rows differ\n got: %.300s\nwant: %.300s", name, got, want)
					}
					if err := c.Close(); err != nil {
						t.Fatal(err)
					}
					if buffered && opts.Buffers.Used() != 0 {
						t.Fatalf("%s: %d bytes still accounted after Close", name, opts.Buffers.Used())
					}
				}
			}
		}
	}
}

// TestSourceAndConcat copies a collection through its own Source into
// another collection at 2 threads (the order must survive), and
// concatenates three collections (one empty) as UNION ALL does.
func TestSourceAndConcat(t *testing.T) {
	r := vectortest.Rand(t)
	for _, buffered := range []bool{false, true} {
		var opts collect.Options
		opts.Limit = -1
		if buffered {
			opts.Buffers = newManager(t, 1<<30)
		}
		var parts [3][][]types.Value
		var cs []*collect.Collection
		for i, n := range []int{5*vector.Size + 3, 0, 1000} {
			parts[i] = vectortest.Rows(r, allTypes, n, 0.1)
			c := collect.New(allTypes, opts)
			run(t, 2, parallel.NewPipeline("fill", newChunkSource(r, allTypes, parts[i], vectortest.Config{BatchSize: 100, Selection: true}), nil, c))
			cs = append(cs, c)
		}
		copied := collect.New(allTypes, collect.Options{Limit: -1})
		run(t, 2, parallel.NewPipeline("copy", cs[0].Source(), nil, copied))
		if g, w := vectortest.Format(collectRows(t, copied)), vectortest.Format(parts[0]); g != w {
			t.Fatalf("buffers=%v: copy through Source changed the rows", buffered)
		}
		union := collect.New(allTypes, collect.Options{Limit: -1})
		run(t, 2, parallel.NewPipeline("union", collect.Concat(cs...), nil, union))
		want := append(append(append([][]types.Value(nil), parts[0]...), parts[1]...), parts[2]...)
		if g, w := vectortest.Format(collectRows(t, union)), vectortest.Format(want); g != w {
			t.Fatalf("buffers=%v: concat: %d rows, want %d", buffered, union.Rows(), len(want))
		}
		chunks, err := union.Chunks()
		if err != nil {
			t.Fatal(err)
		}
		for i, ch := range chunks {
			if ch.Sel() != nil {
				t.Fatalf("chunk %d has a selection", i)
			}
		}
		if g, w := vectortest.Format(vectortest.Collect(chunks...)), vectortest.Format(want); g != w {
			t.Fatalf("buffers=%v: Chunks differ from the rows", buffered)
		}
		for _, c := range cs {
			c.Close()
		}
	}
}

// TestSpill fills a collection with pages under a memory limit far below
// its size: the manager spills pages to its temporary file, and reading
// them back gives the rows.
func TestSpill(t *testing.T) {
	r := vectortest.Rand(t)
	ts := []types.Type{types.BigIntType, types.VarcharType}
	rows := vectortest.Rows(r, ts, 40*vector.Size, 0.05)
	m := newManager(t, 256<<10)
	c := collect.New(ts, collect.Options{Limit: -1, Buffers: m})
	run(t, 2, parallel.NewPipeline("fill", newChunkSource(r, ts, rows, vectortest.Config{BatchSize: vector.Size}), nil, c))
	if got := m.Metrics().Spills; got == 0 {
		t.Fatalf("no page was spilled under a 256 KiB limit: %v", m.Metrics())
	}
	if g, w := vectortest.Format(collectRows(t, c)), vectortest.Format(rows); g != w {
		t.Fatal("rows read back from spilled pages differ")
	}
	if got := m.Metrics().Tags[buffer.TagColumnData]; got <= 0 {
		t.Fatalf("column data accounts %d bytes while pages are resident", got)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if m.Used() != 0 {
		t.Fatalf("%d bytes accounted after Close", m.Used())
	}
}

// TestOutOfMemory: a page larger than the memory limit fails the pipeline
// with an error that wraps buffer.ErrOutOfMemory.
func TestOutOfMemory(t *testing.T) {
	ts := []types.Type{types.BigIntType}
	rows := vectortest.Rows(rand.New(rand.NewPCG(1, 2)), ts, vector.Size, 0)
	m := newManager(t, 1024)
	c := collect.New(ts, collect.Options{Limit: -1, Buffers: m})
	s := parallel.New(parallel.Options{Threads: 1})
	defer s.Close()
	_, err := parallel.Run(context.Background(), s, []*parallel.Pipeline{parallel.NewPipeline("fill", newChunkSource(rand.New(rand.NewPCG(1, 2)), ts, rows, vectortest.Config{BatchSize: vector.Size}), nil, c)})
	if !errors.Is(err, buffer.ErrOutOfMemory) {
		t.Fatalf("err = %v, want ErrOutOfMemory", err)
	}
}

// TestAppend: Append stores chunks after the rows there are, ignoring
// the window; String describes the options.
func TestAppend(t *testing.T) {
	r := vectortest.Rand(t)
	rows := vectortest.Rows(r, allTypes, 300, 0.2)
	c := collect.New(allTypes, collect.Options{Limit: 1, Offset: 1})
	for _, ch := range vectortest.Chunks(r, allTypes, rows, vectortest.Config{BatchSize: 7, Selection: true}) {
		if err := c.Append(ch); err != nil {
			t.Fatal(err)
		}
	}
	if g, w := vectortest.Format(collectRows(t, c)), vectortest.Format(rows); g != w {
		t.Fatal("appended rows differ")
	}
	for _, tt := range []struct {
		opts collect.Options
		want string
	}{
		{collect.Options{Limit: -1}, "collect"},
		{collect.Options{Limit: -1, Offset: 3}, "collect offset 3"},
		{collect.Options{Limit: 10, Offset: 3}, "collect limit 10 offset 3"},
	} {
		if got := collect.New(nil, tt.opts).String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}
