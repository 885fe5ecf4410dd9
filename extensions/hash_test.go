package extensions_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/ext"
	"github.com/bpfdb/bpfdb/internal/exec/aggregate"
	"github.com/bpfdb/bpfdb/internal/exec/collect"
	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/exec/hash"
	"github.com/bpfdb/bpfdb/internal/exec/values"
	"github.com/bpfdb/bpfdb/internal/hooks"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

var keyTypes = []types.Type{
	types.BooleanType, types.IntegerType, types.BigIntType, types.DoubleType,
	types.MustDecimal(15, 2), types.VarcharType, types.DateType,
}

// randomKey returns a random key of type t: NULL now and then, any
// int64, special doubles, strings of any bytes, some past the 32 bytes
// the default program hashes itself.
func randomKey(r *rand.Rand, t types.Type) types.Value {
	if r.IntN(8) == 0 {
		return types.Null(t)
	}
	switch t.ID() {
	case types.BigInt:
		return types.BigIntValue(int64(r.Uint64()))
	case types.Integer:
		return types.IntegerValue(int32(r.Uint32()))
	case types.Double:
		specials := []float64{0, math.Copysign(0, -1), math.NaN(), math.Float64frombits(0xfff0_0000_0000_0042), math.Inf(1), math.Inf(-1), 1.5}
		if r.IntN(3) == 0 {
			return types.DoubleValue(specials[r.IntN(len(specials))])
		}
		return types.DoubleValue(math.Float64frombits(r.Uint64()))
	case types.Varchar:
		n := r.IntN(33)
		if r.IntN(500) == 0 {
			n = 33 + r.IntN(60)
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return types.VarcharValue(string(b))
	}
	return vectortest.Value(r, t, 0)
}

// randomChunk returns a chunk of 1-3 random key columns, with a random
// selection half the time.
func randomChunk(r *rand.Rand, iter int) *vector.Chunk {
	ts := make([]types.Type, 1+r.IntN(3))
	for j := range ts {
		ts[j] = keyTypes[r.IntN(len(keyTypes))]
	}
	c := vector.NewChunk(ts)
	n := r.IntN(vector.Size + 1)
	if iter%10 == 0 {
		n = vector.Size
	}
	for range n {
		row := make([]types.Value, len(ts))
		for j, typ := range ts {
			row[j] = randomKey(r, typ)
		}
		c.AppendRow(row...)
	}
	if r.IntN(2) == 0 && n > 0 {
		sel := make(vector.Selection, r.IntN(n+1))
		for i := range sel {
			sel[i] = uint16(r.IntN(n))
		}
		c.SetSel(sel, len(sel))
	}
	return c
}

// TestHashDefault: hash/default gives the built-in hash bit for bit, on
// random vectors of every key type (NULLs, selections, combined columns).
func TestHashDefault(t *testing.T) {
	for _, eng := range engines(t) {
		t.Run(eng.String(), func(t *testing.T) {
			reg := registry(t, eng)
			a := attach(t, reg, ext.Hash, "default")
			h := reg.HashSlot().Capture()
			r := vectortest.Rand(t)
			for iter := range 120 {
				c := randomChunk(r, iter)
				cols := make([]int, c.Width())
				for j := range cols {
					cols[j] = j
				}
				got, want := make([]uint64, c.Len()), make([]uint64, c.Len())
				h.Chunk(c, cols, got)
				hash.Hasher{}.Chunk(c, cols, want)
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("iter %d row %d: program %016x, built-in %016x", iter, i, got[i], want[i])
					}
				}
			}
			st := a.Stats()
			t.Logf("%s", st)
			if st.Errors != 0 || st.Handled == 0 || st.Violations != 0 {
				t.Errorf("stats %s: want handled calls and no errors", st)
			}
		})
	}
}

// groupBy runs SELECT k1, k2, count(*), sum(v) GROUP BY k1, k2 over rows
// with the hash aggregate on 2 threads, capturing its hash function from
// slot, and returns the groups as sorted text.
func groupBy(t *testing.T, slot *hash.Slot, ts []types.Type, rows [][]types.Value) string {
	t.Helper()
	src, err := values.New(ts, rows)
	if err != nil {
		t.Fatal(err)
	}
	aggs := []expr.AggSpec{
		{Kind: expr.CountStar, Text: "count(*)"},
		{Kind: expr.Sum, Arg: 2, ArgType: ts[2], Text: "sum(#2)"},
	}
	agg, err := aggregate.New(ts, []int{0, 1}, aggs, aggregate.Options{Hash: slot})
	if err != nil {
		t.Fatal(err)
	}
	out := collect.New(agg.Types(), collect.Options{Limit: -1})
	s := parallel.New(parallel.Options{Threads: 2})
	defer s.Close()
	group := parallel.NewPipeline("group", src, nil, agg)
	result := parallel.NewPipeline("result", agg.Source(), nil, out)
	result.DependsOn(group)
	_, err = parallel.Run(context.Background(), s, []*parallel.Pipeline{group, result})
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := out.Chunks()
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, c := range chunks {
		sel := c.Sel()
		for r := range c.Len() {
			i := r
			if sel != nil {
				i = int(sel[r])
			}
			var vals []string
			for j := range c.Width() {
				vals = append(vals, c.Col(j).Value(i).String())
			}
			lines = append(lines, strings.Join(vals, "|"))
		}
	}
	slices.Sort(lines)
	return fmt.Sprintf("%d groups\n%s", len(lines), strings.Join(lines, "\n"))
}

// TestHashMultiply: with hash/multiply attached, a hash aggregate over
// BIGINT and VARCHAR keys (NULLs, long strings that share a prefix) and
// over DOUBLE keys (-0 and +0, NaNs) finds the same groups as with the
// built-in hash, on both engines.
func TestHashMultiply(t *testing.T) {
	r := vectortest.Rand(t)
	long := strings.Repeat("a shared prefix longer than 32 bytes ", 2)
	var intRows, dblRows [][]types.Value
	for range 6000 {
		k := types.BigIntValue(int64(r.IntN(300)))
		if r.IntN(20) == 0 {
			k = types.Null(types.BigIntType)
		}
		s := types.VarcharValue(fmt.Sprint("k", r.IntN(7)))
		if r.IntN(4) == 0 {
			s = types.VarcharValue(long + fmt.Sprint(r.IntN(5)))
		}
		intRows = append(intRows, []types.Value{k, s, types.BigIntValue(int64(r.IntN(1000)))})
		d := []float64{0, math.Copysign(0, -1), math.NaN(), 1.5, -2.25}[r.IntN(5)]
		dblRows = append(dblRows, []types.Value{types.DoubleValue(d), types.IntegerValue(int32(r.IntN(3))), types.BigIntValue(1)})
	}
	intTypes := []types.Type{types.BigIntType, types.VarcharType, types.BigIntType}
	dblTypes := []types.Type{types.DoubleType, types.IntegerType, types.BigIntType}
	wantInt := groupBy(t, &hash.Slot{}, intTypes, intRows)
	wantDbl := groupBy(t, &hash.Slot{}, dblTypes, dblRows)
	if !strings.HasPrefix(wantDbl, "12 groups") {
		t.Fatalf("built-in: DOUBLE keys in %s, want 4 values (0 = -0, NaN, 1.5, -2.25) x 3", wantDbl)
	}
	for _, eng := range engines(t) {
		t.Run(eng.String(), func(t *testing.T) {
			reg := registry(t, eng)
			a := attach(t, reg, ext.Hash, "multiply")
			if got := groupBy(t, reg.HashSlot(), intTypes, intRows); got != wantInt {
				t.Errorf("BIGINT, VARCHAR keys: got\n%s\nwant\n%s", got, wantInt)
			}
			if got := groupBy(t, reg.HashSlot(), dblTypes, dblRows); got != wantDbl {
				t.Errorf("DOUBLE keys: got\n%s\nwant\n%s", got, wantDbl)
			}
			if st := a.Stats(); st.Handled == 0 || st.Handled != st.Calls || st.Errors != 0 {
				t.Errorf("stats %s: want every call handled", st)
			}
		})
	}
}

// BenchmarkHash hashes vectors of 2048 BIGINT keys and of 2048 short
// VARCHAR keys with the built-in function and through the Hash hook with
// hash/default and hash/multiply attached (JIT where supported).
func BenchmarkHash(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	ints := vector.NewChunk([]types.Type{types.BigIntType})
	strs := vector.NewChunk([]types.Type{types.VarcharType})
	for i := range vector.Size {
		ints.AppendRow(types.BigIntValue(int64(r.Uint64())))
		strs.AppendRow(types.VarcharValue(fmt.Sprint("customer#", i*7919)))
	}
	out := make([]uint64, vector.Size)
	for _, c := range []struct {
		name string
		c    *vector.Chunk
	}{{"bigint", ints}, {"varchar", strs}} {
		for _, policy := range []string{"builtin", "default", "multiply"} {
			b.Run(c.name+"/"+policy, func(b *testing.B) {
				reg := hooks.New(hooks.Options{Logf: func(string, ...any) {}})
				if policy != "builtin" {
					attach(b, reg, ext.Hash, policy)
				}
				h := reg.HashSlot().Capture()
				b.SetBytes(vector.Size * 8)
				for b.Loop() {
					h.Chunk(c.c, []int{0}, out)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*vector.Size), "ns/key")
			})
		}
	}
}
