package collect_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/bpfdb/bpfdb/internal/exec/collect"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// BenchmarkCollect fills a collection with 1M rows (BIGINT, DECIMAL,
// VARCHAR) from a parallel source and scans it back through its Source, in
// Go memory and as buffer pages; ns/row covers both pipelines.
func BenchmarkCollect(b *testing.B) {
	const n = 1 << 20
	dec := types.MustDecimal(15, 2)
	ts := []types.Type{types.BigIntType, dec, types.VarcharType}
	src := &chunkSource{ts: ts, bounds: []int{0}}
	for i := 0; i < n; i += vector.Size {
		c := vector.NewChunk(ts)
		for s := range vector.Size {
			c.Col(0).Int64s()[s] = int64(i + s)
			c.Col(1).Int64s()[s] = int64(s * 7)
			c.Col(2).SetString(s, "Customer#000012345")
		}
		c.SetLen(vector.Size)
		src.chunks = append(src.chunks, c)
		if len(src.chunks)%60 == 0 {
			src.bounds = append(src.bounds, len(src.chunks))
		}
	}
	if src.bounds[len(src.bounds)-1] != len(src.chunks) {
		src.bounds = append(src.bounds, len(src.chunks))
	}
	for _, buffered := range []bool{false, true} {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("buffers=%v/threads=%d", buffered, threads), func(b *testing.B) {
				opts := collect.Options{Limit: -1}
				if buffered {
					opts.Buffers = newManager(b, 1<<30)
				}
				sch := parallel.New(parallel.Options{Threads: threads})
				defer sch.Close()
				cpu0 := cpuTime()
				for b.Loop() {
					c := collect.New(ts, opts)
					out := collect.New(ts, collect.Options{Limit: 0})
					for _, p := range []*parallel.Pipeline{parallel.NewPipeline("fill", src, nil, c), parallel.NewPipeline("scan", c.Source(), nil, out)} {
						if _, err := parallel.Run(context.Background(), sch, []*parallel.Pipeline{p}); err != nil {
							b.Fatal(err)
						}
					}
					if c.Rows() != n {
						b.Fatalf("%d rows, want %d", c.Rows(), n)
					}
					c.Close()
				}
				// CPU time too: on a shared machine the wall time says little.
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/row")
				b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N)/n, "cpu-ns/row")
			})
		}
	}
}

// cpuTime returns the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
