package join_test

import (
	"math/bits"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/join"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// TestKeySet checks the key set a build computes (Spec.KeySet) against the
// build keys: the range always, a bitmap exactly of the keys when they
// are sparse in it, none when they fill it or it is too wide; NULL keys
// are not in it (RightAnti stores them); serial and parallel inserts.
func TestKeySet(t *testing.T) {
	type tc struct {
		name string
		kind join.Kind
		typ  types.Type
		keys []int64 // -1: NULL
		bits bool    // a bitmap is expected
	}
	sparse := []int64{5, 70, 70, 1000, -1, 64}
	many := make([]int64, 70000) // parallel insert: more than 2^16 rows
	for i := range many {
		many[i] = int64(i) * 3
	}
	dense := make([]int64, 5000)
	for i := range dense {
		dense[i] = int64(i) + 100
	}
	for _, c := range []tc{
		{"inner int sparse", join.Inner, types.IntegerType, sparse, true},
		{"semi bigint sparse", join.Semi, types.BigIntType, sparse, true},
		{"right anti with NULL", join.RightAnti, types.IntegerType, sparse, true},
		{"right semi date", join.RightSemi, types.DateType, sparse, true},
		{"many", join.Inner, types.BigIntType, many, true},
		{"dense", join.Inner, types.IntegerType, dense, false},
		{"wide", join.Inner, types.BigIntType, []int64{-1 << 40, 1 << 40}, false},
		{"only NULL", join.Inner, types.IntegerType, []int64{-1}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			spec := join.Spec{Kind: c.kind, Probe: []types.Type{c.typ}, Build: []types.Type{c.typ}, ProbeKeys: []int{0}, BuildKeys: []int{0}, KeySet: true}
			if c.kind == join.RightSemi || c.kind == join.RightAnti {
				spec.BuildOutput = []int{0}
			}
			m, err := buffer.New(buffer.Options{Limit: 1 << 30, TempDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			spec.Buffers = m
			j, err := join.New(spec)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, _, ok := j.KeySet(); ok {
				t.Fatal("a key set before any build")
			}
			var build []*vector.Chunk
			want := map[int64]bool{}
			for i := 0; i < len(c.keys); i += vector.Size {
				ch := vector.NewChunk(spec.Build)
				part := c.keys[i:min(i+vector.Size, len(c.keys))]
				for r, k := range part {
					switch {
					case k == -1:
						ch.Col(0).SetNull(r)
					case c.typ.Physical() == types.PhysInt32:
						ch.Col(0).Int32s()[r] = int32(k)
					default:
						ch.Col(0).Int64s()[r] = k
					}
					if k != -1 {
						want[k] = true
					}
				}
				ch.SetLen(len(part))
				build = append(build, ch)
			}
			run := runJoin
			if c.kind == join.RightSemi || c.kind == join.RightAnti {
				run = runRight
			}
			if _, _, err := run(t, scheduler(t, 2), j, spec, build, nil); err != nil {
				t.Fatal(err)
			}
			lo, hi, set, ok := j.KeySet()
			if len(want) == 0 {
				if ok {
					t.Fatalf("a key set [%d, %d] of no keys", lo, hi)
				}
				return
			}
			if !ok {
				t.Fatal("no key set")
			}
			wlo, whi := int64(1<<62), int64(-1<<62)
			for k := range want {
				wlo, whi = min(wlo, k), max(whi, k)
			}
			if lo != wlo || hi != whi {
				t.Fatalf("range [%d, %d], want [%d, %d]", lo, hi, wlo, whi)
			}
			if (set != nil) != c.bits {
				t.Fatalf("bitmap %v, want one: %v", set != nil, c.bits)
			}
			if set == nil {
				return
			}
			n := 0
			for _, w := range set {
				n += bits.OnesCount64(w)
			}
			if n != len(want) {
				t.Fatalf("%d bits set, want %d", n, len(want))
			}
			for k := range want {
				if d := uint64(k - lo); set[d>>6]>>(d&63)&1 == 0 {
					t.Fatalf("key %d not in the set", k)
				}
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			if used := m.Metrics().Tags[buffer.TagHashTable]; used != 0 {
				t.Fatalf("%d bytes of hash table after Close", used)
			}
		})
	}
}
