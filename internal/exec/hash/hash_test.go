package hash

import (
	"errors"
	"fmt"
	"github.com/bpfdb/bpfdb/internal/testutil/datadriven"
	"math"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

// TestGolden pins the built-in function (testdata/hashes): the stock eBPF
// default program must produce these exact values.
//
//	hash [cols=i,j,…]     input: a table (vector.ParseTable); prints each
//	                      row's hash of the given key columns (default all)
func TestGolden(t *testing.T) {
	datadriven.Run(t, "testdata/hashes", *rewrite, func(t *testing.T, c *datadriven.Case) string {
		ch, err := vector.ParseTable(strings.Join(c.Input, "\n"))
		if err != nil {
			t.Fatal(err)
		}
		var cols []int
		for _, a := range c.Args {
			if v, ok := strings.CutPrefix(a, "cols="); ok {
				for _, f := range strings.Split(v, ",") {
					j, _ := strconv.Atoi(f)
					cols = append(cols, j)
				}
			}
		}
		if cols == nil {
			for j := range ch.Width() {
				cols = append(cols, j)
			}
		}
		out := make([]uint64, ch.Len())
		Hasher{}.Chunk(ch, cols, out)
		var b strings.Builder
		for r, h := range out {
			fmt.Fprintf(&b, "%016x", h)
			for _, j := range cols {
				fmt.Fprintf(&b, " %v", ch.Value(j, r))
			}
			b.WriteByte('\n')
		}
		return b.String()
	})
}

// rowHash is the reference: the built-in function row by row, straight
// from the per-value functions.
func rowHash(vals []types.Value) uint64 {
	var h uint64
	for k, v := range vals {
		var x uint64
		switch {
		case v.IsNull():
			x = NullHash
		case v.Type().ID() == types.Double:
			x = Float64(v.Float64())
		case v.Type().ID() == types.Varchar:
			x = Bytes([]byte(v.Str()))
		default:
			x = Int64(v.Int64())
		}
		if k == 0 {
			h = x
		} else {
			h = Combine(h, x)
		}
	}
	return h
}

var allTypes = []types.Type{
	types.BooleanType, types.IntegerType, types.BigIntType, types.DoubleType,
	types.MustDecimal(15, 2), types.VarcharType, types.DateType,
}

func randValue(r *rand.Rand, t types.Type) types.Value {
	if r.IntN(8) == 0 {
		return types.Null(t)
	}
	switch t.ID() {
	case types.Boolean:
		return types.BoolValue(r.IntN(2) == 0)
	case types.Integer:
		return types.IntegerValue(int32(r.IntN(20) - 10))
	case types.BigInt:
		return types.BigIntValue(int64(r.Uint64()))
	case types.Double:
		return types.DoubleValue([]float64{0, math.Copysign(0, -1), math.NaN(), 1.5, r.NormFloat64()}[r.IntN(5)])
	case types.Decimal:
		return types.DecimalValue(r.Int64N(1e15), t)
	case types.Date:
		return types.DateValue(int32(r.IntN(20000)))
	}
	b := make([]byte, r.IntN(40))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return types.VarcharValue(string(b))
}

// TestVectorMatchesRows hashes random chunks with NULLs and random
// selections and compares with the row-by-row reference.
func TestVectorMatchesRows(t *testing.T) {
	r := vectortest.Rand(t)
	for iter := range 200 {
		ts := make([]types.Type, 1+r.IntN(4))
		for j := range ts {
			ts[j] = allTypes[r.IntN(len(allTypes))]
		}
		c := vector.NewChunk(ts)
		n := r.IntN(vector.Size + 1)
		rows := make([][]types.Value, n)
		for i := range rows {
			rows[i] = make([]types.Value, len(ts))
			for j, typ := range ts {
				rows[i][j] = randValue(r, typ)
			}
			c.AppendRow(rows[i]...)
		}
		want := rows
		if r.IntN(2) == 0 && n > 0 {
			sel := make(vector.Selection, r.IntN(n+1))
			want = make([][]types.Value, len(sel))
			for i := range sel {
				sel[i] = uint16(r.IntN(n))
				want[i] = rows[sel[i]]
			}
			c.SetSel(sel, len(sel))
		}
		cols := make([]int, len(ts))
		for j := range cols {
			cols[j] = j
		}
		out := make([]uint64, c.Len())
		Hasher{}.Chunk(c, cols, out)
		for i, row := range want {
			if w := rowHash(row); out[i] != w {
				t.Fatalf("iter %d row %d %v: hash %016x, want %016x", iter, i, row, out[i], w)
			}
		}
	}
}

// TestEqualKeysHashAlike checks the equalities SQL needs: -0 = +0, NaN
// = NaN, and integers of different widths with the same value.
func TestEqualKeysHashAlike(t *testing.T) {
	if Float64(0) != Float64(math.Copysign(0, -1)) {
		t.Error("-0 and +0 hash differently")
	}
	if Float64(math.NaN()) != Float64(math.Float64frombits(0x7ff8_0000_0000_0001)) {
		t.Error("NaNs hash differently")
	}
	ints := vector.NewChunk([]types.Type{types.IntegerType, types.BigIntType, types.DateType})
	for _, x := range []int32{0, 1, -1, math.MinInt32, math.MaxInt32} {
		ints.AppendRow(types.IntegerValue(x), types.BigIntValue(int64(x)), types.DateValue(x))
	}
	var a, b, d [5]uint64
	Hasher{}.Chunk(ints, []int{0}, a[:])
	Hasher{}.Chunk(ints, []int{1}, b[:])
	Hasher{}.Chunk(ints, []int{2}, d[:])
	if a != b || a != d {
		t.Errorf("INTEGER %x, BIGINT %x, DATE %x differ", a, b, d)
	}
}

// TestDistribution checks that low bits (what a hash table uses for its
// buckets) spread evenly for sequential integers and short similar
// strings, and that (a, b) and (b, a) differ.
func TestDistribution(t *testing.T) {
	const n, buckets = 1 << 16, 1 << 8
	check := func(name string, h func(i int) uint64) {
		var count [buckets]int
		seen := make(map[uint64]bool, n)
		for i := range n {
			x := h(i)
			count[x%buckets]++
			seen[x] = true
		}
		if len(seen) != n {
			t.Errorf("%s: %d collisions among %d keys", name, n-len(seen), n)
		}
		// Chi-square with 255 degrees of freedom: mean 255, sd ~22.6; 400
		// is more than six standard deviations out.
		exp := float64(n) / buckets
		chi := 0.0
		for _, c := range count {
			chi += (float64(c) - exp) * (float64(c) - exp) / exp
		}
		if chi > 400 {
			t.Errorf("%s: chi-square %.0f over %d buckets", name, chi, buckets)
		}
	}
	check("sequential BIGINT", func(i int) uint64 { return Int64(int64(i)) })
	check("multiples of 1024", func(i int) uint64 { return Int64(int64(i) << 10) })
	check("short strings", func(i int) uint64 { return Bytes(fmt.Appendf(nil, "Customer#%09d", i)) })
	check("pairs", func(i int) uint64 { return Combine(Int64(int64(i%256)), Int64(int64(i/256))) })
	if Combine(Int64(1), Int64(2)) == Combine(Int64(2), Int64(1)) {
		t.Error("Combine is symmetric")
	}
	// Every tail length and every byte position matters.
	base := []byte("abcdefghijklmnopqrstuvwxyz")
	seen := map[uint64]string{}
	for l := 0; l <= len(base); l++ {
		for p := 0; p < l; p++ {
			b := append([]byte(nil), base[:l]...)
			b[p] ^= 1
			for _, s := range [][]byte{base[:l], b} {
				h := Bytes(s)
				if prev, ok := seen[h]; ok && prev != string(s) {
					t.Fatalf("%q and %q collide", prev, s)
				}
				seen[h] = string(s)
			}
		}
	}
	// One flipped input bit flips about half the output bits.
	total := 0
	for i := range 64 {
		total += bits.OnesCount64(Int64(12345) ^ Int64(12345^1<<i))
	}
	if avg := float64(total) / 64; avg < 28 || avg > 36 {
		t.Errorf("avalanche: a flipped bit flips %.1f output bits on average, want ~32", avg)
	}
}

// Policies for the seam tests.
type constPolicy struct{}

func (constPolicy) HashVector(req Request) (Verdict, error) {
	for i := range req.Out {
		req.Out[i] = 7
	}
	return Handled, nil
}

type scribbleThenFail struct{ panic bool }

func (p scribbleThenFail) HashVector(req Request) (Verdict, error) {
	for i := range req.Out {
		req.Out[i] = 0xdead
	}
	if p.panic {
		panic("policy bug")
	}
	return Handled, errors.New("cannot")
}

type declines struct{}

func (declines) HashVector(Request) (Verdict, error) { return UseBuiltin, nil }

// TestPolicySeam checks the host's side of the Hash contract: handled
// hashes are used, errors, panics and UseBuiltin fall back to the built-in
// (also for combined columns the policy scribbled on), and a captured
// Hasher keeps its policy when the slot changes.
func TestPolicySeam(t *testing.T) {
	c, err := vector.ParseTable("BIGINT | VARCHAR\n1 | a\n2 | NULL\nNULL | c")
	if err != nil {
		t.Fatal(err)
	}
	want := make([]uint64, 3)
	Hasher{}.Chunk(c, []int{0, 1}, want)

	var slot Slot
	if !slot.Capture().Builtin() {
		t.Fatal("empty slot captures a policy")
	}
	slot.Set(constPolicy{})
	constH := slot.Capture()
	for _, tc := range []struct {
		p    Policy
		want []uint64
	}{
		{constPolicy{}, []uint64{7, 7, 7}},
		{scribbleThenFail{}, want},
		{scribbleThenFail{panic: true}, want},
		{declines{}, want},
	} {
		slot.Set(tc.p)
		got := make([]uint64, 3)
		slot.Capture().Chunk(c, []int{0, 1}, got)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%T: hashes %x, want %x", tc.p, got, tc.want)
		}
	}
	if got := slot.Counters(); got != (Counters{Calls: 8, Handled: 2, Errors: 4}) {
		t.Errorf("counters %+v", got)
	}
	slot.Set(nil)
	got := make([]uint64, 3)
	constH.Chunk(c, []int{0}, got)
	if fmt.Sprint(got) != "[7 7 7]" {
		t.Errorf("captured Hasher lost its policy when the slot changed: %x", got)
	}
	if !slot.Capture().Builtin() {
		t.Error("detached slot still captures a policy")
	}
	if UseBuiltin.String() != "builtin" || Handled.String() != "handled" || Verdict(5).String() != "Verdict(5)" {
		t.Error("Verdict names")
	}
}

func benchVector(b *testing.B, c *vector.Chunk, cols []int) {
	out := make([]uint64, vector.Size)
	h := Hasher{}
	for b.Loop() {
		h.Chunk(c, cols, out)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*c.Len()), "ns/key")
}

// BenchmarkHash reports the built-in function's cost per key over full
// vectors of 2048 keys.
func BenchmarkHash(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	ints := vector.NewChunk([]types.Type{types.BigIntType, types.BigIntType})
	for i := range vector.Size {
		ints.AppendRow(types.BigIntValue(int64(r.Uint64())), types.BigIntValue(int64(i)))
	}
	b.Run("bigint", func(b *testing.B) { benchVector(b, ints, []int{0}) })
	b.Run("bigint-2cols", func(b *testing.B) { benchVector(b, ints, []int{0, 1}) })
	b.Run("bigint-policy-declines", func(b *testing.B) {
		// The seam's cost with a policy attached that always declines.
		var slot Slot
		slot.Set(declines{})
		h := slot.Capture()
		out := make([]uint64, vector.Size)
		for b.Loop() {
			h.Chunk(ints, []int{0}, out)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*vector.Size), "ns/key")
	})
	sel := make(vector.Selection, 0, vector.Size)
	for i := 0; i < vector.Size; i += 2 {
		sel = append(sel, uint16(i))
	}
	half := firstColumn(ints)
	half.SetSel(sel, len(sel))
	b.Run("bigint-sel", func(b *testing.B) { benchVector(b, half, []int{0}) })
	nulls := firstColumn(ints)
	for i := 0; i < vector.Size; i += 10 {
		nulls.Col(0).SetNull(i)
	}
	b.Run("bigint-nulls", func(b *testing.B) { benchVector(b, nulls, []int{0}) })
	for _, l := range []int{8, 25, 100} {
		strs := vector.NewChunk([]types.Type{types.VarcharType})
		for range vector.Size {
			s := make([]byte, l/2+r.IntN(l))
			for i := range s {
				s[i] = byte('a' + r.IntN(26))
			}
			strs.AppendRow(types.VarcharValue(string(s)))
		}
		b.Run(fmt.Sprintf("varchar-avg%d", l), func(b *testing.B) { benchVector(b, strs, []int{0}) })
	}
}

// firstColumn returns a dense copy of column 0 of c.
func firstColumn(c *vector.Chunk) *vector.Chunk {
	out := vector.NewChunk([]types.Type{c.Col(0).Type()})
	vector.Copy(out.Col(0), 0, c.Col(0), c.Sel(), c.Len())
	out.SetLen(c.Len())
	return out
}
