package project_test

import (
	"fmt"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/exec/project"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// BenchmarkExecute measures one Execute call (a pass-through column and
// price * discount on DECIMAL(15,2), as Q6 computes) on chunks of 1 and 2048
// rows: at 1 row the time is the per-chunk overhead.
func BenchmarkExecute(b *testing.B) {
	dec := types.MustDecimal(15, 2)
	ts := []types.Type{dec, dec}
	price, discount := expr.NewColumn(0, "price", dec, expr.Pos{}), expr.NewColumn(1, "discount", dec, expr.Pos{})
	p, err := project.New(ts, []expr.Expr{price, bin(expr.OpMul, price, discount)})
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, vector.Size} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			in := vector.NewChunk(ts)
			for i := range n {
				in.Col(0).Int64s()[i] = int64(100000 + i)
				in.Col(1).Int64s()[i] = int64(i % 11)
			}
			in.SetLen(n)
			st, _ := p.Init(nil)
			l, _ := st.NewLocal()
			out := vector.NewChunk(p.Types())
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
