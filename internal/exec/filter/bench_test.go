package filter_test

import (
	"fmt"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/exec/filter"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// BenchmarkExecute measures one Execute call on chunks of 1 and 2048 rows:
// at 1 row the time is the operator's per-chunk overhead (the view, the
// evaluator's dispatch, the selection), at 2048 it is dominated by the
// kernel.
func BenchmarkExecute(b *testing.B) {
	ts := []types.Type{types.BigIntType}
	pred := bin(expr.OpLt, expr.NewColumn(0, "x", types.BigIntType, expr.Pos{}), konst(types.BigIntValue(500)))
	f, err := filter.New(ts, pred)
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, vector.Size} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			in := vector.NewChunk(ts)
			for i := range n {
				in.Col(0).Int64s()[i] = int64(i % 1000)
			}
			in.SetLen(n)
			st, _ := f.Init(nil)
			l, _ := st.NewLocal()
			out := vector.NewChunk(ts)
			for b.Loop() {
				out.Reset()
				if _, err := l.Execute(in, out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
