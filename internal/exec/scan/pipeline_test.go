package scan_test

import (
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/exec/filter"
	"github.com/bpfdb/bpfdb/internal/exec/project"
	"github.com/bpfdb/bpfdb/internal/exec/scan"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

// TestPipeline runs scan → filter → project over a random table of several
// row groups with 1 and 2 threads and compares with the same query computed
// row by row in Go:
//
//	SELECT c1 || '!', c0 + 1, c5 FROM r
//	WHERE c0 < 500 AND c2 IS NOT NULL   -- c0 < 500 also pushed to the zone maps
func TestPipeline(t *testing.T) {
	r := vectortest.Rand(t)
	rows := vectortest.Rows(r, randTypes, 4*4096+100, 0.1)
	tbl := randTable(t, rows, 4096)

	var want [][]types.Value
	for _, row := range rows {
		c0, c1, c2 := row[0], row[1], row[2]
		if c0.IsNull() || c0.Int64() >= 500 || c2.IsNull() {
			continue
		}
		s := types.Null(types.VarcharType)
		if !c1.IsNull() {
			s = types.VarcharValue(c1.Str() + "!")
		}
		want = append(want, []types.Value{s, types.BigIntValue(c0.Int64() + 1), row[5]})
	}

	src, err := scan.New(tbl, scan.Options{
		Columns: []int{0, 1, 2, 5},
		Filters: []table.Filter{{Column: 0, Op: table.OpLt, Value: types.BigIntValue(500)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := src.Types()
	col := func(j int) expr.Expr { return expr.NewColumn(j, "", ts[j], expr.Pos{}) }
	k := func(v types.Value) expr.Expr { return expr.NewConst(v, expr.Pos{}) }
	lt, _ := expr.NewBinary(expr.OpLt, col(0), k(types.BigIntValue(500)), expr.Pos{})
	pred, _ := expr.NewBinary(expr.OpAnd, lt, expr.NewIsNull(col(2), true, expr.Pos{}), expr.Pos{})
	f, err := filter.New(ts, pred)
	if err != nil {
		t.Fatal(err)
	}
	concat, _ := expr.NewBinary(expr.OpConcat, col(1), k(types.VarcharValue("!")), expr.Pos{})
	plus, _ := expr.NewBinary(expr.OpAdd, col(0), k(types.BigIntValue(1)), expr.Pos{})
	p, err := project.New(f.Types(), []expr.Expr{concat, plus, col(3)})
	if err != nil {
		t.Fatal(err)
	}
	for _, threads := range []int{1, 2} {
		sink := &collectSink{}
		st := runPipeline(t, threads, parallel.NewPipeline("select", src, []parallel.Operator{f, p}, sink))
		if g, w := vectortest.Format(sink.rows), vectortest.Format(want); g != w {
			t.Fatalf("%d threads: %d rows, want %d\n%v", threads, len(sink.rows), len(want), st)
		}
		if rs := st.Pipelines[0].Rows; rs[1] != int64(len(want)) || rs[2] != int64(len(want)) || rs[0] != src.Stats().Rows {
			t.Fatalf("%d threads: stage rows %v, want %d out of the filter and the projection", threads, rs, len(want))
		}
	}
}
