package hooks

import (
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ext"
	"github.com/bpfdb/bpfdb/internal/exec/hash"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

// engines are the backends tests run programs on.
func engines(t *testing.T) []ebpf.Engine {
	if ebpf.JITSupported() {
		return []ebpf.Engine{ebpf.EngineInterpreter, ebpf.EngineJIT}
	}
	t.Log("no JIT on this platform: interpreter only")
	return []ebpf.Engine{ebpf.EngineInterpreter}
}

func object(t testing.TB, name string) []byte {
	t.Helper()
	obj, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

// quiet is a registry whose events go to the test log.
func quiet(t testing.TB, opts Options) *Registry {
	opts.Logf = t.Logf
	return New(opts)
}

var allTypes = []types.Type{
	types.BooleanType, types.IntegerType, types.BigIntType, types.DoubleType,
	types.MustDecimal(15, 2), types.VarcharType, types.DateType,
}

// randomValue is vectortest.Value with more extreme values: any int64,
// special doubles, and strings of any bytes, now and then longer than the
// 32 bytes the default program hashes itself (it leaves those vectors to
// the built-in).
func randomValue(r *rand.Rand, t types.Type) types.Value {
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
		if r.IntN(2000) == 0 {
			n = 33 + r.IntN(40)
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return types.VarcharValue(string(b))
	}
	return vectortest.Value(r, t, 0)
}

// TestHashDefaultMatchesBuiltin attaches testdata/hash_default.o and
// compares its hashes with the built-in function's on random vectors of
// every type, with NULLs, selections and multi-column keys, under the
// interpreter and the JIT.
func TestHashDefaultMatchesBuiltin(t *testing.T) {
	obj := object(t, "hash_default.o")
	for _, eng := range engines(t) {
		t.Run(eng.String(), func(t *testing.T) {
			reg := quiet(t, Options{Engine: eng})
			a, err := reg.Attach(ext.Hash, obj, "")
			if err != nil {
				t.Fatal(err)
			}
			h := reg.HashSlot().Capture()
			if h.Builtin() {
				t.Fatal("captured the built-in function with a program attached")
			}
			r := vectortest.Rand(t)
			for iter := range 150 {
				ts := make([]types.Type, 1+r.IntN(3))
				for j := range ts {
					ts[j] = allTypes[r.IntN(len(allTypes))]
				}
				c := vector.NewChunk(ts)
				n := r.IntN(vector.Size + 1)
				if iter%10 == 0 {
					n = vector.Size
				}
				for range n {
					row := make([]types.Value, len(ts))
					for j, typ := range ts {
						row[j] = randomValue(r, typ)
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
				cols := make([]int, len(ts))
				for j := range cols {
					cols[j] = j
				}
				got := make([]uint64, c.Len())
				want := make([]uint64, c.Len())
				h.Chunk(c, cols, got)
				hash.Hasher{}.Chunk(c, cols, want)
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("iter %d (%v) row %d: program %016x, built-in %016x", iter, ts, i, got[i], want[i])
					}
				}
			}
			st := a.Stats()
			t.Logf("%s; %d vectors left to the built-in (a string past 32 bytes)", st, st.Calls-st.Handled)
			if st.Errors != 0 || st.Handled == 0 || st.Handled == st.Calls {
				t.Errorf("stats %s: want no errors, handled calls and some left to the built-in", st)
			}
			if c := reg.HashSlot().Counters(); c.Calls != st.Calls || c.Handled != st.Handled {
				t.Errorf("hash slot counters %+v disagree with the attachment's %s", c, st)
			}
		})
	}
}
