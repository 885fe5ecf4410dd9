package aggregate_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bpfdb/bpfdb/internal/exec/aggregate"
	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// cycleSource produces morsels chunks, morsel m referencing
// chunks[m % len(chunks)]: big inputs without their memory.
type cycleSource struct {
	ts      []types.Type
	chunks  []*vector.Chunk
	morsels int
}

func (s *cycleSource) Types() []types.Type                                   { return s.ts }
func (s *cycleSource) Init(*parallel.Producer) (parallel.SourceState, error) { return s, nil }
func (s *cycleSource) Morsels() int                                          { return s.morsels }
func (s *cycleSource) NewLocal() (parallel.SourceLocal, error)               { return s, nil }
func (s *cycleSource) Scan(m int, out *vector.Chunk) (bool, error) {
	out.ReferenceChunk(s.chunks[m%len(s.chunks)])
	return false, nil
}

// countSink counts the rows it gets.
type countSink struct{ rows atomic.Int64 }

func (s *countSink) Init(*parallel.Producer) (parallel.SinkState, error) {
	s.rows.Store(0)
	return s, nil
}
func (s *countSink) NewLocal() (parallel.SinkLocal, error) { return &countLocal{s: s}, nil }
func (s *countSink) Finalize() error                       { return nil }

type countLocal struct {
	s *countSink
	n int64
}

func (l *countLocal) Sink(in *vector.Chunk) error { l.n += int64(in.Len()); return nil }
func (l *countLocal) Combine() error {
	l.s.rows.Add(l.n) // combines may run concurrently
	return nil
}

// benchAgg measures an aggregate over rows rows of src (its chunks
// cycled), reporting ns per input row.
func benchAgg(b *testing.B, ts []types.Type, chunks []*vector.Chunk, rows int, groups []int, specs []expr.AggSpec, wantGroups int64, threads int, opts aggregate.Options) {
	a, err := aggregate.New(ts, groups, specs, opts)
	if err != nil {
		b.Fatal(err)
	}
	s := parallel.New(parallel.Options{Threads: threads})
	defer s.Close()
	src := &cycleSource{ts: ts, chunks: chunks, morsels: rows / vector.Size}
	out := &countSink{}
	build := parallel.NewPipeline("aggregate", src, nil, a)
	read := parallel.NewPipeline("groups", a.Source(), nil, out)
	read.DependsOn(build)
	cpu0 := cpuTime(b)
	for b.Loop() {
		if _, err := parallel.Run(context.Background(), s, []*parallel.Pipeline{read, build}); err != nil {
			b.Fatal(err)
		}
	}
	cpu := cpuTime(b) - cpu0
	if out.rows.Load() != wantGroups {
		b.Fatalf("%d groups, want %d", out.rows.Load(), wantGroups)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(src.morsels*vector.Size), "ns/row")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(src.morsels*vector.Size), "cpu-ns/row")
	b.ReportMetric(0, "ns/op")
	b.Logf("%v", a.Stats())
}

// cpuTime returns the CPU time the process has used (user and system): on
// a shared machine wall time per row says little, CPU time per row more.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkQ1Like is TPC-H Q1's aggregate at SF 1: 6M rows of 4 groups
// (two one-letter VARCHAR keys), four sums and three averages of
// DECIMALs and a count.
func BenchmarkQ1Like(b *testing.B) {
	dec := types.MustDecimal(15, 2)
	ts := []types.Type{types.VarcharType, types.VarcharType, dec, dec, dec, types.MustDecimal(18, 4), types.MustDecimal(18, 6)}
	r := rand.New(rand.NewPCG(1, 2))
	flags := [][2]string{{"A", "F"}, {"N", "F"}, {"N", "O"}, {"R", "F"}}
	var chunks []*vector.Chunk
	for range 64 {
		c := vector.NewChunk(ts)
		for i := range vector.Size {
			f := flags[r.IntN(len(flags))]
			c.Col(0).SetString(i, f[0])
			c.Col(1).SetString(i, f[1])
			for j := 2; j < len(ts); j++ {
				c.Col(j).Int64s()[i] = r.Int64N(10_000_000)
			}
		}
		c.SetLen(vector.Size)
		chunks = append(chunks, c)
	}
	specs := []expr.AggSpec{
		spec(expr.Sum, ts, 2, false), spec(expr.Sum, ts, 3, false), spec(expr.Sum, ts, 5, false), spec(expr.Sum, ts, 6, false),
		spec(expr.Avg, ts, 2, false), spec(expr.Avg, ts, 3, false), spec(expr.Avg, ts, 4, false), spec(expr.CountStar, ts, 0, false),
	}
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			benchAgg(b, ts, chunks, 6_000_000, []int{0, 1}, specs, 4, threads, aggregate.Options{})
		})
	}
}

// BenchmarkManyGroups groups 6M rows by a BIGINT key with 1.5M distinct
// values (about TPC-H Q18's GROUP BY l_orderkey at SF 1), summing a DECIMAL
// and counting; in Go memory and in buffer-managed memory (no limit
// reached).
func BenchmarkManyGroups(b *testing.B) {
	const distinct = 732 * vector.Size // 1,499,136
	ts := []types.Type{types.BigIntType, types.MustDecimal(15, 2)}
	r := rand.New(rand.NewPCG(3, 4))
	perm := r.Perm(distinct)
	var chunks []*vector.Chunk
	for start := 0; start < distinct; start += vector.Size {
		c := vector.NewChunk(ts)
		n := min(vector.Size, distinct-start)
		for i := range n {
			c.Col(0).Int64s()[i] = int64(perm[start+i])
			c.Col(1).Int64s()[i] = r.Int64N(5000)
		}
		c.SetLen(n)
		chunks = append(chunks, c)
	}
	specs := []expr.AggSpec{spec(expr.Sum, ts, 1, false), spec(expr.CountStar, ts, 0, false)}
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			benchAgg(b, ts, chunks, 4*distinct, []int{0}, specs, distinct, threads, aggregate.Options{})
		})
	}
	b.Run("buffers/threads=2", func(b *testing.B) {
		m, err := buffer.New(buffer.Options{Limit: 4 << 30, TempDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		defer m.Close()
		benchAgg(b, ts, chunks, 4*distinct, []int{0}, specs, distinct, 2, aggregate.Options{Buffers: m})
	})
}
