package dbgen

import (
	"bytes"
	"io"
	"runtime"
	"testing"
)

// countingWriter counts the lines written through it.
type countingWriter struct{ lines int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.lines += int64(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}

// BenchmarkWriteTable generates each table at SF 0.1 with all cores and
// reports rows per second. The text pool is built before timing starts.
//
//	go test -run - -bench WriteTable -benchtime 3x ./internal/tpch/dbgen
func BenchmarkWriteTable(b *testing.B) {
	g, err := New(0.1, FormatDuckDB)
	if err != nil {
		b.Fatal(err)
	}
	textPool()
	for _, t := range Tables() {
		b.Run(t.String(), func(b *testing.B) {
			var rows int64
			for b.Loop() {
				var w countingWriter
				if err := g.WriteTable(&w, t, 0, nil); err != nil {
					b.Fatal(err)
				}
				rows += w.lines
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkAppendRowsOneCore is the single-goroutine rate of lineitem and
// orders generation at SF 1, 8192 orders per call.
func BenchmarkAppendRowsOneCore(b *testing.B) {
	g, err := New(1, FormatDuckDB)
	if err != nil {
		b.Fatal(err)
	}
	textPool()
	for _, t := range []Table{Orders, Lineitem} {
		b.Run(t.String(), func(b *testing.B) {
			var buf []byte
			var rows int64
			first := int64(1)
			for b.Loop() {
				buf = g.AppendRows(buf[:0], t, first, chunkRows)
				rows += int64(bytes.Count(buf, []byte{'\n'}))
				first = (first+chunkRows)%(g.DrivingRows(t)-chunkRows) + 1
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkTextPool measures building the 300 MiB text pool, sequentially
// and from the checkpoints on all cores.
func BenchmarkTextPool(b *testing.B) {
	b.Run("sequential", func(b *testing.B) {
		for b.Loop() {
			p := buildTextPool(textPoolSize, dPrepositions)
			if len(p) != textPoolSize {
				b.Fatal(len(p))
			}
			freePool(p)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		for b.Loop() {
			p := buildTextPoolParallel(runtime.GOMAXPROCS(0))
			if len(p) != textPoolSize {
				b.Fatal(len(p))
			}
			freePool(p)
		}
	})
}

var _ io.Writer = (*countingWriter)(nil)

// BenchmarkWriteDirSF1 writes all eight SF 1 tables (about 1 GB) to a
// temporary directory, text pool included (built once per process).
//
//	go test -run - -bench WriteDirSF1 -benchtime 1x ./internal/tpch/dbgen
func BenchmarkWriteDirSF1(b *testing.B) {
	g, err := New(1, FormatDuckDB)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := g.WriteDir(b.TempDir(), 0, nil); err != nil {
			b.Fatal(err)
		}
	}
}
