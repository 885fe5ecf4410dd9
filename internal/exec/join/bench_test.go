package join_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/join"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// countSink counts rows.
type countSink struct{ n int64 }

func (s *countSink) Init(*parallel.Producer) (parallel.SinkState, error) {
	s.n = 0
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
	atomic.AddInt64(&l.s.n, l.n)
	return nil
}

// keyChunks returns chunks of rows (key, payload): keys from key(i), the
// payload i, as BIGINT or INTEGER columns.
func keyChunks(n int, t types.Type, key func(i int) int64) []*vector.Chunk {
	var out []*vector.Chunk
	ts := []types.Type{t, t}
	for i := 0; i < n; {
		c := vector.NewChunk(ts)
		m := min(vector.Size, n-i)
		for r := range m {
			if t == types.BigIntType {
				c.Col(0).Int64s()[r] = key(i + r)
				c.Col(1).Int64s()[r] = int64(i + r)
			} else {
				c.Col(0).Int32s()[r] = int32(key(i + r))
				c.Col(1).Int32s()[r] = int32(i + r)
			}
		}
		c.SetLen(m)
		out = append(out, c)
		i += m
	}
	return out
}

// BenchmarkJoin measures a foreign-key join at TPC-H SF1's sizes: 6M probe
// rows (lineitem) whose keys each match one of 1.5M build rows (orders),
// and the same with a selective probe (1 in 8 probe keys present), with
// morsels of 60 chunks. It
// reports ns per probe row for the whole query (build, insert, probe) and
// the build and probe pipelines' wall times per row.
func BenchmarkJoin(b *testing.B) {
	const buildRows, probeRows = 1_500_000, 6_000_000
	for _, t := range []types.Type{types.IntegerType, types.BigIntType} {
		for _, sel := range []int{1, 8} {
			rng := rand.New(rand.NewPCG(1, 2))
			// Build keys are multiples of 8 and probe keys spread over the
			// same range (a min/max filter on the probe side would prune
			// nothing): all match, or 1 in 8.
			build := keyChunks(buildRows, t, func(i int) int64 { return int64(i) * 8 })
			probe := keyChunks(probeRows, t, func(int) int64 { return int64(rng.IntN(buildRows*sel)) * int64(8/sel) })
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("%v/hit=1of%d/threads=%d", t, sel, threads), func(b *testing.B) {
					benchJoin(b, t, threads, build, probe)
				})
			}
		}
	}
}

func benchJoin(b *testing.B, t types.Type, threads int, build, probe []*vector.Chunk) {
	spec := join.Spec{
		Kind: join.Inner, Probe: []types.Type{t, t}, Build: []types.Type{t, t},
		ProbeKeys: []int{0}, BuildKeys: []int{0}, BuildOutput: []int{1},
	}
	j, err := join.New(spec)
	if err != nil {
		b.Fatal(err)
	}
	s := parallel.New(parallel.Options{Threads: threads})
	defer s.Close()
	sink := &countSink{}
	// Morsels of 60 chunks, as a table scan's row groups.
	bp := parallel.NewPipeline("build", &chunkSource{ts: spec.Build, chunks: build, per: 60}, nil, j.Build())
	pp := parallel.NewPipeline("probe", &chunkSource{ts: spec.Probe, chunks: probe, per: 60}, []parallel.Operator{j.Probe()}, sink)
	pp.DependsOn(bp)
	var buildWall, probeWall float64
	var nb, np int64
	cpu0 := cpuTime()
	for b.Loop() {
		st, err := parallel.Run(context.Background(), s, []*parallel.Pipeline{pp, bp})
		if err != nil {
			b.Fatal(err)
		}
		buildWall += float64(st.Pipelines[1].Wall)
		probeWall += float64(st.Pipelines[0].Wall)
		nb, np = st.Pipelines[1].Rows[0], st.Pipelines[0].Rows[0]
	}
	// The machine may be shared: CPU time is steadier than wall time.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/float64(np), "cpu-ns/probe-row")
	b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(np), "ns/probe-row")
	b.ReportMetric(buildWall/float64(b.N)/float64(nb), "build-ns/row")
	b.ReportMetric(probeWall/float64(b.N)/float64(np), "probe-ns/row")
	b.ReportMetric(float64(sink.n), "matches")
}

// cpuTime returns the process's user and system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkProbe measures the probe alone, one task calling Execute on
// chunks of 2048 rows: 1.5M build rows (BIGINT keys i*8, one BIGINT
// output), probe keys over the same range that all match or of which 1 in
// 8 match. The build (and the insert into the buckets) is not timed.
func BenchmarkProbe(b *testing.B) {
	const buildRows, probeRows = 1_500_000, 1 << 20
	t := types.BigIntType
	spec := join.Spec{
		Kind: join.Inner, Probe: []types.Type{t, t}, Build: []types.Type{t, t},
		ProbeKeys: []int{0}, BuildKeys: []int{0}, BuildOutput: []int{1},
	}
	build := keyChunks(buildRows, t, func(i int) int64 { return int64(i) * 8 })
	for _, sel := range []int{1, 8} {
		rng := rand.New(rand.NewPCG(1, 2))
		probe := keyChunks(probeRows, t, func(int) int64 { return int64(rng.IntN(buildRows*sel)) * int64(8/sel) })
		for _, kind := range []join.Kind{join.Inner, join.Semi} {
			b.Run(fmt.Sprintf("%v/hit=1of%d", kind, sel), func(b *testing.B) {
				spec.Kind = kind
				spec.BuildOutput = nil
				if kind == join.Inner {
					spec.BuildOutput = []int{1}
				}
				j, err := join.New(spec)
				if err != nil {
					b.Fatal(err)
				}
				s := parallel.New(parallel.Options{Threads: 2})
				defer s.Close()
				bp := parallel.NewPipeline("build", &chunkSource{ts: spec.Build, chunks: build}, nil, j.Build())
				if _, err := parallel.Run(context.Background(), s, []*parallel.Pipeline{bp}); err != nil {
					b.Fatal(err)
				}
				st, err := j.Probe().Init(nil)
				if err != nil {
					b.Fatal(err)
				}
				l, err := st.NewLocal()
				if err != nil {
					b.Fatal(err)
				}
				out := vector.NewChunk(j.Types())
				b.ResetTimer()
				cpu0 := cpuTime()
				n := 0
				for b.Loop() {
					for _, c := range probe {
						for {
							out.Reset()
							res, err := l.Execute(c, out)
							if err != nil {
								b.Fatal(err)
							}
							n += out.Len()
							if res != parallel.HaveMoreOutput {
								break
							}
						}
					}
				}
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/probeRows, "cpu-ns/probe-row")
				b.ReportMetric(float64(b.Elapsed())/float64(b.N)/probeRows, "ns/probe-row")
				b.ReportMetric(float64(n)/float64(b.N), "out-rows")
			})
		}
	}
}

// BenchmarkSemiSides measures a semi and an anti join of TPC-H Q4's shape
// at SF1 both ways: 57,000 preserved rows (a quarter's orders, distinct
// keys spread over 1.5M) against 3.8M rows (lineitem) whose keys each
// match one of 1.5M, so 1 in 26 matches. Semi and Anti build the 3.8M
// rows and probe with the 57,000; RightSemi and RightAnti build the
// 57,000 and probe with the 3.8M. It reports CPU and wall time per query.
func BenchmarkSemiSides(b *testing.B) {
	const preservedRows, otherRows, keys = 57_000, 3_800_000, 1_500_000
	t := types.BigIntType
	rng := rand.New(rand.NewPCG(3, 4))
	preserved := keyChunks(preservedRows, t, func(i int) int64 { return int64(i) * (keys / preservedRows) })
	other := keyChunks(otherRows, t, func(int) int64 { return int64(rng.IntN(keys)) })
	for _, kind := range []join.Kind{join.Semi, join.RightSemi, join.Anti, join.RightAnti} {
		b.Run(kind.String(), func(b *testing.B) {
			spec := join.Spec{Kind: kind, Probe: []types.Type{t, t}, Build: []types.Type{t, t}, ProbeKeys: []int{0}, BuildKeys: []int{0}}
			build, probe := other, preserved
			if kind == join.RightSemi || kind == join.RightAnti {
				build, probe = preserved, other
				spec.BuildOutput = []int{0, 1}
			}
			j, err := join.New(spec)
			if err != nil {
				b.Fatal(err)
			}
			s := parallel.New(parallel.Options{Threads: 2})
			defer s.Close()
			sink := &countSink{}
			bp := parallel.NewPipeline("build", &chunkSource{ts: spec.Build, chunks: build, per: 60}, nil, j.Build())
			var pls []*parallel.Pipeline
			if kind == join.RightSemi || kind == join.RightAnti {
				pp := parallel.NewPipeline("probe", &chunkSource{ts: spec.Probe, chunks: probe, per: 60}, nil, j.ProbeSink())
				op := parallel.NewPipeline("output", j.Source(), nil, sink)
				pp.DependsOn(bp)
				op.DependsOn(pp)
				pls = []*parallel.Pipeline{op, pp, bp}
			} else {
				pp := parallel.NewPipeline("probe", &chunkSource{ts: spec.Probe, chunks: probe, per: 60}, []parallel.Operator{j.Probe()}, sink)
				pp.DependsOn(bp)
				pls = []*parallel.Pipeline{pp, bp}
			}
			cpu0 := cpuTime()
			for b.Loop() {
				if _, err := parallel.Run(context.Background(), s, pls); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
			b.ReportMetric(float64(sink.n), "rows")
			if err := j.Close(); err != nil {
				b.Fatal(err)
			}
		})
	}
}
