package expr

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// benchChunk returns a full chunk of random columns: BIGINT, DECIMAL(15,2)
// ×2, VARCHAR (TPC-H comment-like words), DATE.
func benchChunk(nullEvery int) *vector.Chunk {
	ts := []types.Type{types.BigIntType, types.MustDecimal(15, 2), types.MustDecimal(15, 2), types.VarcharType, types.DateType}
	c := vector.NewChunk(ts)
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"furiously", "regular", "deposits", "sleep", "carefully", "final", "packages", "express", "ideas", "blithely"}
	for range vector.Size {
		s := ""
		for k := range 5 {
			if k > 0 {
				s += " "
			}
			s += words[r.IntN(len(words))]
		}
		c.AppendRow(types.BigIntValue(r.Int64N(1<<40)), types.DecimalValue(r.Int64N(10_000_000), ts[1]),
			types.DecimalValue(r.Int64N(11), ts[2]), types.VarcharValue(s), types.DateValue(int32(8000+r.IntN(2500))))
	}
	if nullEvery > 0 {
		for i := 0; i < vector.Size; i += nullEvery {
			for j := range ts {
				c.Col(j).SetNull(i)
			}
		}
	}
	return c
}

func benchEval(b *testing.B, e Expr, in *vector.Chunk) {
	ev, err := Compile(e)
	if err != nil {
		b.Fatal(err)
	}
	out := vector.New(e.Type())
	b.ResetTimer()
	for b.Loop() {
		if err := ev.Eval(in, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*in.Len()), "ns/row")
}

func benchCols() (big, price, disc, comment, date Expr) {
	return NewColumn(0, "b", types.BigIntType, Pos{}), NewColumn(1, "price", types.MustDecimal(15, 2), Pos{}),
		NewColumn(2, "disc", types.MustDecimal(15, 2), Pos{}), NewColumn(3, "comment", types.VarcharType, Pos{}),
		NewColumn(4, "date", types.DateType, Pos{})
}

func BenchmarkBigIntAdd(b *testing.B) {
	big, _, _, _, _ := benchCols()
	e, _ := NewBinary(OpAdd, big, big, Pos{})
	for _, nulls := range []int{0, 7} {
		b.Run(fmt.Sprintf("nullEvery=%d", nulls), func(b *testing.B) { benchEval(b, e, benchChunk(nulls)) })
	}
}

func BenchmarkDecimalMul(b *testing.B) {
	_, price, disc, _, _ := benchCols()
	e, _ := NewBinary(OpMul, price, disc, Pos{})
	b.Run("price*disc", func(b *testing.B) { benchEval(b, e, benchChunk(0)) })
	one := NewConst(types.DecimalValue(100, types.MustDecimal(15, 2)), Pos{})
	rest, _ := NewBinary(OpSub, one, disc, Pos{})
	q1, _ := NewBinary(OpMul, price, rest, Pos{})
	b.Run("price*(1-disc)", func(b *testing.B) { benchEval(b, q1, benchChunk(0)) })
}

func benchFilter(b *testing.B, e Expr, in *vector.Chunk) {
	ev, err := Compile(e)
	if err != nil {
		b.Fatal(err)
	}
	kept := 0
	b.ResetTimer()
	for b.Loop() {
		sel, err := ev.EvalFilter(in)
		if err != nil {
			b.Fatal(err)
		}
		kept = len(sel)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*in.Len()), "ns/row")
	b.ReportMetric(float64(kept)/float64(in.Len()), "selectivity")
}

func BenchmarkCompareFilter(b *testing.B) {
	_, _, disc, _, date := benchCols()
	lit, _ := types.ParseValue(types.DateType, "1994-01-01")
	e, _ := NewBinary(OpLt, date, NewConst(lit, Pos{}), Pos{})
	b.Run("date<const", func(b *testing.B) { benchFilter(b, e, benchChunk(0)) })
	// TPC-H Q6's predicate shape.
	lo, _ := NewBinary(OpGe, date, NewConst(lit, Pos{}), Pos{})
	hiv, _ := types.ParseValue(types.DateType, "1995-01-01")
	hi, _ := NewBinary(OpLt, date, NewConst(hiv, Pos{}), Pos{})
	betw, _ := NewBetween(disc, NewConst(types.DecimalValue(5, types.MustDecimal(15, 2)), Pos{}), NewConst(types.DecimalValue(7, types.MustDecimal(15, 2)), Pos{}), false, Pos{})
	a1, _ := NewBinary(OpAnd, lo, hi, Pos{})
	q6, _ := NewBinary(OpAnd, a1, betw, Pos{})
	b.Run("q6", func(b *testing.B) { benchFilter(b, q6, benchChunk(0)) })
}

func BenchmarkLike(b *testing.B) {
	_, _, _, comment, _ := benchCols()
	for _, p := range []string{"%sleep%", "final%", "%special%requests%", "%sl_ep%"} {
		e, _ := NewLike(comment, p, false, false, Pos{})
		b.Run(p, func(b *testing.B) { benchFilter(b, e, benchChunk(0)) })
	}
}

func BenchmarkSum(b *testing.B) {
	in := benchChunk(0)
	a, err := NewAggregate(AggSpec{Kind: Sum, Arg: 1, ArgType: types.MustDecimal(15, 2), Text: "sum(price)"})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("ungrouped", func(b *testing.B) {
		st := make([]byte, a.StateSize())
		a.Init(st)
		for b.Loop() {
			if err := a.UpdateState(in, st); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*in.Len()), "ns/row")
	})
	b.Run("groups=4", func(b *testing.B) {
		// Q1-like: few groups, one state row per group.
		rows := make([][]byte, 4)
		for g := range rows {
			rows[g] = make([]byte, a.StateSize())
			a.Init(rows[g])
		}
		perRow := make([][]byte, in.Len())
		for r := range perRow {
			perRow[r] = rows[r%4]
		}
		for b.Loop() {
			if err := a.Update(in, perRow, 0); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*in.Len()), "ns/row")
	})
}

// BenchmarkQ1Aggregates updates Q1's eight aggregates (sums of DECIMAL at
// three scales, three avgs, count(*)) into four groups, as the hash
// aggregate would after finding each row's group; ns/row covers all eight.
func BenchmarkQ1Aggregates(b *testing.B) {
	in := benchChunk(0)
	var aggs []*Aggregate
	for _, s := range []AggSpec{{Kind: Sum, Arg: 1}, {Kind: Sum, Arg: 1}, {Kind: Sum, Arg: 2}, {Kind: Sum, Arg: 2},
		{Kind: Avg, Arg: 1}, {Kind: Avg, Arg: 1}, {Kind: Avg, Arg: 2}, {Kind: CountStar}} {
		s.ArgType = in.Types()[s.Arg]
		a, err := NewAggregate(s)
		if err != nil {
			b.Fatal(err)
		}
		aggs = append(aggs, a)
	}
	offs, width := make([]int, len(aggs)), 0
	for k, a := range aggs {
		offs[k] = width
		width += a.StateSize()
	}
	rows := make([][]byte, 4)
	for g := range rows {
		rows[g] = make([]byte, width)
		for k, a := range aggs {
			a.Init(rows[g][offs[k]:])
		}
	}
	perRow := make([][]byte, in.Len())
	for r := range perRow {
		perRow[r] = rows[(r*7)%4]
	}
	for b.Loop() {
		for k, a := range aggs {
			if err := a.Update(in, perRow, offs[k]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*in.Len()), "ns/row")
}

// TestEvalDoesNotAllocate pins that evaluating a compiled tree allocates
// nothing per chunk once its scratch vectors have grown: every kernel
// case, as an expression and (BOOLEAN ones) as a filter.
func TestEvalDoesNotAllocate(t *testing.T) {
	n := min(100, vector.Size)
	rows := make([][]types.Value, 0, n)
	r := rand.New(rand.NewPCG(3, 4))
	for range n {
		row := make([]types.Value, len(schema))
		for j, typ := range schema {
			// No NULLs and no zeros: no case fails, every kernel runs.
			v, err := types.Cast(types.IntegerValue(int32(r.IntN(50)+1)), typ)
			if err != nil {
				v, _ = types.Cast(types.VarcharValue("1995-03-0"+fmt.Sprint(r.IntN(9)+1)), typ)
			}
			row[j] = v
		}
		rows = append(rows, row)
	}
	in := vector.NewChunk(schema)
	for _, row := range rows {
		in.AppendRow(row...)
	}
	for _, e := range kernelCases(t) {
		ev, err := Compile(e)
		if err != nil {
			t.Fatal(err)
		}
		out := vector.New(e.Type())
		if err := ev.Eval(in, out); err != nil {
			continue // a case that fails on this data (casts of text)
		}
		if n := testing.AllocsPerRun(5, func() { _ = ev.Eval(in, out) }); n != 0 {
			t.Errorf("%v: %v allocations per Eval", e, n)
		}
		if e.Type().ID() == types.Boolean {
			if n := testing.AllocsPerRun(5, func() { _, _ = ev.EvalFilter(in) }); n != 0 {
				t.Errorf("%v: %v allocations per EvalFilter", e, n)
			}
		}
	}
}
