package hooks

import (
	"fmt"
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

// object reads a test program's object; tests that attach one are skipped
// in a nohooks build.
func object(t testing.TB, name string) []byte {
	t.Helper()
	if !enabled {
		t.Skip("hooks are compiled out (-tags nohooks)")
	}
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
		if r.IntN(vector.Size) == 0 { // a few vectors of a test have one
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

// keyChunk returns a chunk of n rows: a BIGINT and a VARCHAR key column
// with NULLs.
func keyChunk(n int) *vector.Chunk {
	c := vector.NewChunk([]types.Type{types.BigIntType, types.VarcharType})
	for i := range n {
		k, s := types.BigIntValue(int64(i*7)), types.VarcharValue(fmt.Sprint("key", i%13))
		if i%5 == 0 {
			k = types.Null(types.BigIntType)
		}
		c.AppendRow(k, s)
	}
	return c
}

// TestHashHostile checks that a Hash program that fails or scribbles on
// the hashes before declining never changes a result: each vector is
// hashed by the built-in function, failures are counted, and the program
// is detached after MaxErrors.
func TestHashHostile(t *testing.T) {
	c := keyChunk(min(1000, vector.Size))
	want := make([]uint64, c.Len())
	hash.Hasher{}.Chunk(c, []int{0, 1}, want)
	for _, tc := range []struct {
		program string
		errors  bool
	}{{"hash_scribble", false}, {"hash_error", true}, {"hash_bad_rows", false}} {
		t.Run(tc.program, func(t *testing.T) {
			reg := quiet(t, Options{MaxErrors: 3})
			a, err := reg.Attach(ext.Hash, object(t, "hash_hostile.o"), tc.program)
			if err != nil {
				t.Fatal(err)
			}
			h := reg.HashSlot().Capture()
			for range 2 {
				got := make([]uint64, c.Len())
				h.Chunk(c, []int{0, 1}, got)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatal("hashes differ from the built-in function's")
				}
			}
			st := a.Stats()
			wantErrors := uint64(0)
			if tc.errors {
				wantErrors = 4
			}
			if st.Calls != 4 || st.Errors != wantErrors || st.Handled != 0 {
				t.Errorf("stats %s, want 4 calls, %d errors", st, wantErrors)
			}
			if detached := reg.Attached(ext.Hash) == nil; detached != tc.errors {
				t.Errorf("detached: %v, want %v", detached, tc.errors)
			}
			if tc.errors && !reg.HashSlot().Capture().Builtin() {
				t.Error("the hash slot still has the detached program")
			}
		})
	}
}

// TestHashCapturedAcrossSwap checks that an operator keeps the program it
// captured when another replaces it or it is detached: both sides of a
// join hash alike.
func TestHashCapturedAcrossSwap(t *testing.T) {
	reg := quiet(t, Options{})
	obj := object(t, "hash_default.o")
	a1, err := reg.Attach(ext.Hash, obj, "")
	if err != nil {
		t.Fatal(err)
	}
	h1 := reg.HashSlot().Capture()
	a2, err := reg.Attach(ext.Hash, obj, "hash_default")
	if err != nil {
		t.Fatal(err)
	}
	c := keyChunk(min(100, vector.Size))
	out := make([]uint64, c.Len())
	h1.Chunk(c, []int{0}, out)
	if a1.Stats().Calls != 1 || a2.Stats().Calls != 0 {
		t.Errorf("after the swap the captured hasher ran a1 %d times, a2 %d times; want 1, 0", a1.Stats().Calls, a2.Stats().Calls)
	}
	h2 := reg.HashSlot().Capture()
	if err := reg.Detach(ext.Hash); err != nil {
		t.Fatal(err)
	}
	h2.Chunk(c, []int{0}, out)
	if a2.Stats().Calls != 1 {
		t.Errorf("after detach the hasher captured before ran a2 %d times, want 1", a2.Stats().Calls)
	}
	if !reg.HashSlot().Capture().Builtin() {
		t.Error("capture after detach is not the built-in function")
	}
}

// TestFillKeysPrefixes checks the prefixes region of VARCHAR keys of
// every length around the prefix size, read a word at a time from the
// arena or, near its end, byte by byte: each slot holds the key's first
// bytes and zeros after them, and keys holds the lengths.
func TestFillKeysPrefixes(t *testing.T) {
	v := vector.New(types.VarcharType)
	var want []string
	// Short keys last: their slots reach past the arena's end.
	var lengths []int
	for n := range ext.HashPrefix + 9 {
		lengths = append(lengths, n)
	}
	lengths = append(lengths, 5, 0, 17, 3)
	for r, n := range lengths {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(0x80 + n + i) // no zero bytes: a missed mask shows
		}
		v.Set(r, types.VarcharValue(string(b)))
		want = append(want, string(b))
	}
	st := newHashState(&runner{ctx: aligned(ext.SpecOf(ext.Hash).Size())})
	fillKeys(st, v, nil, len(want))
	for r, w := range want {
		slot := st.prefixes[r*ext.HashPrefix : (r+1)*ext.HashPrefix]
		exp := make([]byte, ext.HashPrefix)
		copy(exp, w)
		if string(slot) != string(exp) || st.keys[r] != uint64(len(w)) {
			t.Errorf("row %d: key %d, slot %x; want %d, %x", r, st.keys[r], slot, len(w), exp)
		}
	}
}
