package table

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// TestParallelCompression appends several full row groups through staged
// and plain appenders, which compress row groups on goroutines while the
// next ones are buffered, and checks that the row groups are written and
// published in order: the scan returns every row in append order, each row
// group holds the rows appended for it, and a plain appender publishes a
// full row group before Append returns.
func TestParallelCompression(t *testing.T) {
	seed := testSeed(t)
	for _, staged := range []bool{true, false} {
		t.Run(fmt.Sprintf("staged=%v", staged), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 7))
			e := newEnv(t, 0, 0)
			ts := []types.Type{types.BigIntType, types.VarcharType, types.DoubleType}
			tbl, err := e.db.CreateTable("t", columnsOf(ts))
			if err != nil {
				t.Fatal(err)
			}
			newApp := tbl.NewAppender
			if staged {
				newApp = tbl.NewStagedAppender
			}
			a, err := newApp()
			if err != nil {
				t.Fatal(err)
			}
			const groups = 4
			total := groups*RowGroupSize + 1 + r.IntN(RowGroupSize)
			c := vector.NewChunk(ts)
			for row := 0; row < total; {
				n := min(total-row, 1+r.IntN(vector.Size))
				c.Reset()
				for i := range n {
					x := int64(row + i)
					c.Col(0).Int64s()[i] = x
					c.Col(1).SetString(i, fmt.Sprintf("row %d", x))
					c.Col(2).Float64s()[i] = float64(x) / 3
					if x%11 == 0 {
						c.Col(2).SetNull(i) // validity bitmaps too
					}
				}
				c.SetLen(n)
				if err := a.Append(c); err != nil {
					t.Fatal(err)
				}
				row += n
				if want := row / RowGroupSize; !staged && tbl.RowGroups() != want {
					t.Fatalf("after %d rows: %d row groups published, want %d", row, tbl.RowGroups(), want)
				}
			}
			if staged && tbl.RowGroups() != 0 {
				t.Fatalf("staged: %d row groups published before Commit", tbl.RowGroups())
			}
			if err := a.Commit(); err != nil {
				t.Fatal(err)
			}
			if tbl.RowGroups() != groups+1 || tbl.Rows() != int64(total) {
				t.Fatalf("%d row groups of %d rows, want %d of %d", tbl.RowGroups(), tbl.Rows(), groups+1, total)
			}
			for g := range groups + 1 {
				s, err := tbl.Scan(ScanOptions{Start: g, End: g + 1})
				if err != nil {
					t.Fatal(err)
				}
				out := s.NewChunk()
				next := int64(g * RowGroupSize)
				for {
					ok, err := s.Next(out)
					if err != nil {
						t.Fatal(err)
					}
					if !ok {
						break
					}
					for i := range out.Len() {
						x := out.Col(0).Int64s()[i]
						str := out.Col(1).StringAt(i)
						if x != next || str != fmt.Sprintf("row %d", next) || out.Col(2).IsNull(i) != (x%11 == 0) ||
							x%11 != 0 && out.Col(2).Float64s()[i] != float64(x)/3 {
							t.Fatalf("row group %d: row %d is (%d, %q), want %d", g, next, x, str, next)
						}
						next++
					}
				}
				if want := min(int64((g+1)*RowGroupSize), int64(total)); next != want {
					t.Fatalf("row group %d ends at row %d, want %d", g, next, want)
				}
			}
		})
	}
}
