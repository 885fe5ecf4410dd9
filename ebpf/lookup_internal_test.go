package ebpf

import (
	"testing"

	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/maps"
)

// TestArrayLookups checks which map_lookup_elem calls the JIT is given to
// run inline: a call on an array with the key on the stack, and no other.
func TestArrayLookups(t *testing.T) {
	insns, err := asm.Assemble(`
	stw [%r10-4], 1
	lddw %r1, map 0
	mov %r2, %r10
	add %r2, -4
	call 1
	mov %r0, 0
	exit`)
	if err != nil {
		t.Fatal(err)
	}
	custom := NewHelpers()
	if err := custom.Register(Helper{ID: HelperMapLookup, Name: "my_lookup", Fn: mapLookup,
		Proto: Prototype{Args: [5]ArgKind{ArgConstMap, ArgMapKey}, Ret: RetMapValueOrNull}}); err != nil {
		t.Fatal(err)
	}
	other := NewHelpers()
	if err := other.Register(Helper{ID: HelperMapLookup, Name: "other_lookup", Proto: Prototype{Args: [5]ArgKind{ArgConstMap, ArgMapKey}, Ret: RetMapValueOrNull},
		Fn: func(*Env, uint64, uint64, uint64, uint64, uint64) (uint64, error) { return 0, nil }}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		typ     maps.Type
		helpers *Helpers
		want    int
	}{
		{"array", maps.Array, DefaultHelpers(), 1},
		{"array, the same function registered elsewhere", maps.Array, custom, 1},
		{"array, another lookup function", maps.Array, other, 0},
		{"per-worker array", maps.PerCPUArray, DefaultHelpers(), 0},
		{"hash", maps.Hash, DefaultHelpers(), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := maps.New(&maps.Spec{Name: "m", Type: tc.typ, KeySize: 4, ValueSize: 8, MaxEntries: 4}, maps.Options{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := Verify(&ProgramSpec{Name: "p", Instructions: insns, MapNames: []string{"m"}},
				&VerifyOptions{Helpers: tc.helpers, Maps: map[string]*maps.Spec{"m": m.Spec()}})
			if err != nil {
				t.Fatal(err)
			}
			got := arrayLookups(insns, res, tc.helpers, []maps.Map{m})
			if len(got) != tc.want {
				t.Fatalf("%d inline lookups, want %d: %v", len(got), tc.want, got)
			}
			if tc.want == 1 {
				l, ok := got[5] // the call's slot (after the two-slot lddw)
				base, stride, n, _ := maps.ArrayLayout(m)
				if !ok || l.Base != uint64(base) || l.Stride != stride || l.Entries != n {
					t.Errorf("lookups %v, want slot 5: base %#x stride %d entries %d", got, base, stride, n)
				}
			}
		})
	}
}
