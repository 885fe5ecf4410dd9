package expr

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

// aggSpecs returns every aggregate the argument types accept, over the
// schema's columns.
func aggSpecs(t testing.TB) []*Aggregate {
	var aggs []*Aggregate
	add := func(kind AggKind, col int, distinct bool) {
		spec := AggSpec{Kind: kind, Arg: col, ArgType: schema[col], Distinct: distinct}
		spec.Text = fmt.Sprintf("%v(%s)", kind, colNames[col])
		if distinct {
			spec.Text = fmt.Sprintf("%v(DISTINCT %s)", kind, colNames[col])
		}
		a, err := NewAggregate(spec)
		if err != nil {
			t.Fatal(err)
		}
		aggs = append(aggs, a)
	}
	add(CountStar, 0, false)
	for col, typ := range schema {
		add(Count, col, false)
		add(Count, col, true)
		add(Min, col, false)
		add(Max, col, false)
		if typ.IsNumeric() {
			add(Sum, col, false)
			add(Avg, col, false)
			add(Sum, col, true)
			add(Avg, col, true)
		}
		if col%3 == 0 {
			add(Max, col, true)
		}
	}
	return aggs
}

// refAgg computes an aggregate over boxed values (the group's non-NULL
// and NULL arguments), the simple way.
func refAgg(a *Aggregate, vals []types.Value) string {
	if a.spec.Kind == CountStar {
		return fmt.Sprint(len(vals))
	}
	var nn []types.Value
	for _, v := range vals {
		if !v.IsNull() {
			nn = append(nn, v)
		}
	}
	if a.spec.Distinct {
		var seen []types.Value
	next:
		for _, v := range nn {
			for _, s := range seen {
				if types.Compare(v, s) == 0 {
					continue next
				}
			}
			seen = append(seen, v)
		}
		nn = seen
	}
	switch a.spec.Kind {
	case Count:
		return fmt.Sprint(len(nn))
	case Min, Max:
		if len(nn) == 0 {
			return "NULL"
		}
		best := nn[0]
		for _, v := range nn[1:] {
			if c := types.Compare(v, best); (a.spec.Kind == Min && c < 0) || (a.spec.Kind == Max && c > 0) {
				best = v
			}
		}
		return best.String()
	}
	if len(nn) == 0 {
		return "NULL"
	}
	if a.spec.ArgType.ID() == types.Double {
		sum := 0.0
		for _, v := range nn {
			sum += v.Float64()
		}
		if a.spec.Kind == Avg {
			sum /= float64(len(nn))
		}
		return types.DoubleValue(sum).String()
	}
	sum := new(big.Int)
	for _, v := range nn {
		sum.Add(sum, big.NewInt(v.Int64()))
	}
	scale := a.spec.ArgType.Scale()
	if a.spec.Kind == Avg {
		den := new(big.Int).Mul(big.NewInt(int64(len(nn))), big.NewInt(types.Pow10(scale)))
		f, _ := new(big.Rat).SetFrac(sum, den).Float64()
		return types.DoubleValue(f).String()
	}
	if !sum.IsInt64() || a.out.ID() == types.Decimal && new(big.Int).Abs(sum).Cmp(big.NewInt(types.Pow10(18))) >= 0 {
		return "ERROR"
	}
	if a.out.ID() == types.Decimal {
		return types.DecimalValue(sum.Int64(), a.out).String()
	}
	return fmt.Sprint(sum.Int64())
}

// TestAggregatesMatchReference runs every aggregate grouped by s2 under the
// vectortest matrix, with all the group's states in one byte row (so that
// offsets matter), half of the chunks into a second set of states that is
// then combined, and checks each group's result against refAgg.
func TestAggregatesMatchReference(t *testing.T) {
	aggs := aggSpecs(t)
	r := vectortest.Rand(t)
	rows := vectortest.Rows(r, schema, 700, 0.2)
	const key = 9
	offs := make([]int, len(aggs))
	width := 0
	for k, a := range aggs {
		offs[k] = width
		width += a.StateSize()
	}
	op := func(in []*vector.Chunk) [][]types.Value {
		groups := map[string]int{}
		var keys []types.Value
		var sets [2][][]byte // two workers' states per group
		rowStates := make([][]byte, vector.Size)
		for ci, c := range in {
			w := ci % 2
			for row := range c.Len() {
				kv := c.Value(key, row)
				g, ok := groups[kv.String()]
				if !ok {
					g = len(keys)
					groups[kv.String()] = g
					keys = append(keys, kv)
					for s := range sets {
						st := make([]byte, width)
						for k, a := range aggs {
							a.Init(st[offs[k]:])
						}
						sets[s] = append(sets[s], st)
					}
				}
				rowStates[row] = sets[w][g]
			}
			for k, a := range aggs {
				if err := a.Update(c, rowStates[:c.Len()], offs[k]); err != nil {
					t.Fatal(err)
				}
			}
		}
		var out [][]types.Value
		for g, kv := range keys {
			row := []types.Value{kv}
			for k, a := range aggs {
				st := sets[0][g][offs[k] : offs[k]+a.StateSize()]
				if err := a.Combine(st, sets[1][g][offs[k]:offs[k]+a.StateSize()]); err != nil {
					t.Fatal(err)
				}
				res := vector.New(a.Type())
				if err := a.Finalize(st, res, 3); err != nil {
					if !errors.Is(err, types.ErrOverflow) {
						t.Fatalf("%v: %v", a, err)
					}
					row = append(row, types.VarcharValue("ERROR"))
					continue
				}
				row = append(row, res.Value(3))
			}
			out = append(out, row)
		}
		return out
	}
	got := vectortest.Matrix(t, schema, rows, false, op)
	// The reference, per group.
	byKey := map[string][]int{}
	for i, row := range rows {
		byKey[row[key].String()] = append(byKey[row[key].String()], i)
	}
	if len(got) != len(byKey) {
		t.Fatalf("%d groups, want %d", len(got), len(byKey))
	}
	for _, row := range got {
		idx := byKey[row[0].String()]
		for k, a := range aggs {
			vals := make([]types.Value, len(idx))
			for j, i := range idx {
				vals[j] = rows[i][a.spec.Arg]
			}
			if want := refAgg(a, vals); row[k+1].String() != want {
				t.Errorf("group %v: %v = %v, want %v", row[0], a, row[k+1], want)
			}
		}
	}
}

// TestAggregateUngrouped checks UpdateState (one state for all rows)
// against the reference over all rows, under the matrix.
func TestAggregateUngrouped(t *testing.T) {
	aggs := aggSpecs(t)
	rows := vectortest.Rows(vectortest.Rand(t), schema, 500, 0.3)
	for i := range rows { // keep BIGINT sums in range here
		if v := rows[i][1]; !v.IsNull() {
			rows[i][1] = types.BigIntValue(v.Int64() % 1_000_000)
		}
	}
	got := vectortest.Matrix(t, schema, rows, true, func(in []*vector.Chunk) [][]types.Value {
		var out []types.Value
		for _, a := range aggs {
			st := make([]byte, a.StateSize())
			a.Init(st)
			for _, c := range in {
				if err := a.UpdateState(c, st); err != nil {
					t.Fatal(err)
				}
			}
			res := vector.New(a.Type())
			if err := a.Finalize(st, res, 0); err != nil {
				t.Fatalf("%v: %v", a, err)
			}
			out = append(out, res.Value(0))
		}
		return [][]types.Value{out}
	})
	for k, a := range aggs {
		vals := make([]types.Value, len(rows))
		for i := range rows {
			vals[i] = rows[i][a.spec.Arg]
		}
		if want := refAgg(a, vals); got[0][k].String() != want {
			t.Errorf("%v = %v, want %v", a, got[0][k], want)
		}
	}
}

// TestAggregateEdges pins results that random data rarely reaches: sums
// past 2^63 that come back into range, DECIMAL sums beyond 18 digits, avg
// of huge sums, empty groups.
func TestAggregateEdges(t *testing.T) {
	dec := types.MustDecimal(18, 2)
	cases := []struct {
		kind AggKind
		typ  types.Type
		vals []types.Value
		want string
	}{
		{Sum, types.BigIntType, []types.Value{types.BigIntValue(math.MaxInt64), types.BigIntValue(10), types.BigIntValue(-20)}, "9223372036854775797"},
		{Sum, types.BigIntType, []types.Value{types.BigIntValue(math.MaxInt64), types.BigIntValue(1)}, "at 1:8: sum(x): numeric overflow"},
		{Sum, types.BigIntType, []types.Value{types.BigIntValue(math.MinInt64), types.BigIntValue(-1)}, "at 1:8: sum(x): numeric overflow"},
		{Sum, dec, []types.Value{types.DecimalValue(999999999999999999, dec), types.DecimalValue(1, dec)}, "at 1:8: sum(x): numeric overflow"},
		{Sum, dec, []types.Value{types.DecimalValue(999999999999999999, dec), types.DecimalValue(-1, dec)}, "9999999999999999.98"},
		{Avg, dec, []types.Value{types.DecimalValue(999999999999999999, dec), types.DecimalValue(999999999999999999, dec), types.DecimalValue(1, dec)}, "6.666666666666667e+15"},
		{Avg, types.IntegerType, []types.Value{types.IntegerValue(1), types.IntegerValue(2)}, "1.5"},
		{Avg, types.IntegerType, []types.Value{types.Null(types.IntegerType)}, "NULL"},
		{Sum, types.DoubleType, nil, "NULL"},
		{Count, types.DoubleType, nil, "0"},
		{Min, types.VarcharType, nil, "NULL"},
		{Max, types.DoubleType, []types.Value{types.DoubleValue(1), types.DoubleValue(math.NaN()), types.DoubleValue(2)}, "NaN"},
		{Min, types.DoubleType, []types.Value{types.DoubleValue(1), types.DoubleValue(math.NaN()), types.DoubleValue(-2)}, "-2"},
		{Max, types.BooleanType, []types.Value{types.BoolValue(false), types.BoolValue(true)}, "true"},
		{Min, types.VarcharType, []types.Value{types.VarcharValue("b"), types.VarcharValue("ab"), types.VarcharValue("b")}, "ab"},
	}
	for _, tc := range cases {
		a, err := NewAggregate(AggSpec{Kind: tc.kind, ArgType: tc.typ, Text: tc.kind.String() + "(x)", At: Pos{Line: 1, Col: 8}})
		if err != nil {
			t.Fatal(err)
		}
		c := vector.NewChunk([]types.Type{tc.typ})
		for _, v := range tc.vals {
			c.AppendRow(v)
		}
		st := make([]byte, a.StateSize())
		a.Init(st)
		if err := a.UpdateState(c, st); err != nil {
			t.Fatal(err)
		}
		out := vector.New(a.Type())
		got := ""
		if err := a.Finalize(st, out, 0); err != nil {
			got = err.Error()
		} else {
			got = out.Value(0).String()
		}
		if got != tc.want {
			t.Errorf("%v over %v: got %s, want %s", a, tc.vals, got, tc.want)
		}
	}
	// Refused combinations.
	for _, spec := range []AggSpec{
		{Kind: Sum, ArgType: types.VarcharType, Text: "sum(s)"},
		{Kind: Avg, ArgType: types.DateType, Text: "avg(d)"},
		{Kind: CountStar, Distinct: true, Text: "count(DISTINCT *)"},
	} {
		if _, err := NewAggregate(spec); !errors.Is(err, ErrType) || !strings.Contains(err.Error(), spec.Text) {
			t.Errorf("%s: got %v, want a type error naming it", spec.Text, err)
		}
	}
}

// TestAggregateConcurrent updates, combines and finalizes states of one
// shared Aggregate from several goroutines (run with -race): the side
// table of VARCHAR min/max and count(DISTINCT) is shared.
func TestAggregateConcurrent(t *testing.T) {
	rows := vectortest.Rows(vectortest.Rand(t), schema, 300, 0.1)
	chunks := vectortest.Chunks(vectortest.Rand(t), schema, rows, vectortest.Config{BatchSize: 7})
	var aggs []*Aggregate
	for _, spec := range []AggSpec{{Kind: Min, Arg: 5, ArgType: types.VarcharType, Text: "min(s)"},
		{Kind: Count, Arg: 5, ArgType: types.VarcharType, Distinct: true, Text: "count(DISTINCT s)"},
		{Kind: Sum, Arg: 3, ArgType: schema[3], Text: "sum(p)"}} {
		a, err := NewAggregate(spec)
		if err != nil {
			t.Fatal(err)
		}
		aggs = append(aggs, a)
	}
	const workers = 4
	for _, a := range aggs {
		states := make([][]byte, workers)
		done := make(chan error, workers)
		for w := range workers {
			states[w] = make([]byte, a.StateSize())
			a.Init(states[w])
			go func() {
				for ci := w; ci < len(chunks); ci += workers {
					if err := a.UpdateState(chunks[ci], states[w]); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
		}
		for range workers {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		for w := 1; w < workers; w++ {
			if err := a.Combine(states[0], states[w]); err != nil {
				t.Fatal(err)
			}
		}
		out := vector.New(a.Type())
		if err := a.Finalize(states[0], out, 0); err != nil {
			t.Fatal(err)
		}
		vals := make([]types.Value, len(rows))
		for i := range rows {
			vals[i] = rows[i][a.spec.Arg]
		}
		if got, want := out.Value(0).String(), refAgg(a, vals); got != want {
			t.Errorf("%v = %s, want %s", a, got, want)
		}
	}
}
