package order_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bpfdb/bpfdb/internal/exec/order"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// benchRows is the size of the benchmarks' input: lineitem at SF 1.
const benchRows = 6_000_000

// benchSource returns a source of n rows in morsels of 60 chunks (a row
// group), column j filled by fill[j](i, vector, slot).
func benchSource(ts []types.Type, n int, fill func(i int, c *vector.Chunk, slot int)) *chunkSource {
	s := &chunkSource{ts: ts, bounds: []int{0}}
	for i := 0; i < n; {
		c := vector.NewChunk(ts)
		k := min(vector.Size, n-i)
		for slot := range k {
			fill(i+slot, c, slot)
		}
		c.SetLen(k)
		s.chunks = append(s.chunks, c)
		i += k
	}
	for last := 0; last < len(s.chunks); {
		last = min(len(s.chunks), last+60)
		s.bounds = append(s.bounds, last)
	}
	return s
}

// countSink counts rows; it keeps nothing.
type countSink struct{ rows atomic.Int64 }

func (s *countSink) Init(*parallel.Producer) (parallel.SinkState, error) { return s, nil }
func (s *countSink) NewLocal() (parallel.SinkLocal, error)               { return &countLocal{s: s}, nil }
func (s *countSink) Finalize() error                                     { return nil }

type countLocal struct {
	s *countSink
	n int64
}

func (l *countLocal) Sink(in *vector.Chunk) error { l.n += int64(in.Len()); return nil }
func (l *countLocal) Combine() error              { l.s.rows.Add(l.n); return nil }

// benchSort sorts src by keys (and reads the sorted rows back out) b.N
// times at each thread count and reports ns per input row.
func benchSort(b *testing.B, src *chunkSource, keys []order.Key, opts order.Options, wantOut int64) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			sch := parallel.New(parallel.Options{Threads: threads})
			defer sch.Close()
			cpu0 := cpuTime()
			for b.Loop() {
				s, err := order.New(src.ts, keys, opts)
				if err != nil {
					b.Fatal(err)
				}
				out := &countSink{}
				for _, p := range []*parallel.Pipeline{parallel.NewPipeline("sort", src, nil, s), parallel.NewPipeline("out", s.Source(), nil, out)} {
					if _, err := parallel.Run(context.Background(), sch, []*parallel.Pipeline{p}); err != nil {
						b.Fatal(err)
					}
				}
				if out.rows.Load() != wantOut {
					b.Fatalf("%d rows out, want %d", out.rows.Load(), wantOut)
				}
			}
			// CPU time (user + system, all threads, GC included) as well as
			// wall time: on a shared machine the wall time says little.
			cpu := cpuTime() - cpu0
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(benchRows), "ns/row")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(benchRows), "cpu-ns/row")
		})
	}
}

// BenchmarkSortBigInt: ORDER BY one BIGINT of 6M random values.
func BenchmarkSortBigInt(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	src := benchSource([]types.Type{types.BigIntType}, benchRows, func(i int, c *vector.Chunk, s int) {
		c.Col(0).Int64s()[s] = int64(r.Uint64())
	})
	benchSort(b, src, []order.Key{{Column: 0}}, order.Options{Limit: -1}, benchRows)
}

// BenchmarkSortVarcharDecimal: ORDER BY a VARCHAR, then a DECIMAL(15,2),
// over 6M rows, with TPC-H-like strings: l_shipmode (7 values, prefixes
// differ) and c_name ("Customer#000012345": every 8-byte prefix equal).
func BenchmarkSortVarcharDecimal(b *testing.B) {
	dec := types.MustDecimal(15, 2)
	modes := []string{"AIR", "FOB", "MAIL", "RAIL", "REG AIR", "SHIP", "TRUCK"}
	for _, strs := range []string{"shipmode", "customer"} {
		b.Run(strs, func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			src := benchSource([]types.Type{types.VarcharType, dec}, benchRows, func(i int, c *vector.Chunk, s int) {
				if strs == "shipmode" {
					c.Col(0).SetString(s, modes[r.IntN(len(modes))])
				} else {
					c.Col(0).SetString(s, fmt.Sprintf("Customer#%09d", r.IntN(150000)))
				}
				c.Col(1).Int64s()[s] = 90000 + r.Int64N(10_000_000)
			})
			benchSort(b, src, []order.Key{{Column: 0}, {Column: 1}}, order.Options{Limit: -1}, benchRows)
		})
	}
}

// BenchmarkTopN: ORDER BY a DECIMAL DESC LIMIT 10 over 6M rows.
func BenchmarkTopN(b *testing.B) {
	dec := types.MustDecimal(15, 2)
	r := rand.New(rand.NewPCG(1, 2))
	src := benchSource([]types.Type{dec, types.BigIntType}, benchRows, func(i int, c *vector.Chunk, s int) {
		c.Col(0).Int64s()[s] = r.Int64N(100_000_000)
		c.Col(1).Int64s()[s] = int64(i)
	})
	benchSort(b, src, []order.Key{{Column: 0, Desc: true}}, order.Options{Limit: 10}, 10)
}

// cpuTime returns the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
