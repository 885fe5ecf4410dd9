package ebpf_test

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ebpf/maps"
)

// inlineLookupSrc looks up keys 0..5 of a 4-entry array (two misses), sums
// the first word of each value found, writes the key into it, and returns
// the sum plus 1000 per miss.
const inlineLookupSrc = `
	mov %r6, 0
	mov %r7, 0
loop:
	stxw [%r10-4], %r7
	lddw %r1, map 0
	mov %r2, %r10
	add %r2, -4
	call 1
	jeq %r0, 0, miss
	ldxdw %r3, [%r0+0]
	add %r6, %r3
	stxdw [%r0+0], %r7
	ja next
miss:
	add %r6, 1000
next:
	add %r7, 1
	jlt %r7, 6, loop
	mov %r0, %r6
	exit`

// TestInlineArrayLookup runs map_lookup_elem of array maps, which the JIT
// emits inline, on every engine, for value sizes whose stride is a power of
// two and not: r0 and the map contents must be the same everywhere.
func TestInlineArrayLookup(t *testing.T) {
	for _, valueSize := range []uint32{8, 20, 64} {
		var want string
		for _, e := range engines() {
			array := newMap(t, &maps.Spec{Name: "array", Type: maps.Array, KeySize: 4, ValueSize: valueSize, MaxEntries: 4})
			for i := range uint32(4) {
				v := make([]byte, valueSize)
				binary.LittleEndian.PutUint64(v, uint64(100*(i+1)))
				if err := array.Update(binary.LittleEndian.AppendUint32(nil, i), v, maps.UpdateAny); err != nil {
					t.Fatal(err)
				}
			}
			p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "lookup", Instructions: mustAssemble(t, inlineLookupSrc), MapNames: []string{"array"}},
				&ebpf.ProgramOptions{Maps: map[string]maps.Map{"array": array}, Engine: e})
			if err != nil {
				t.Fatal(err)
			}
			r0, err := p.Run(nil)
			got := fmt.Sprintf("r0 = %d, err = %v, map:", r0, err)
			for k, v := range array.All() {
				got += fmt.Sprintf(" %x=%x", k, v)
			}
			if r0 != 100+200+300+400+2000 {
				t.Errorf("value size %d, %v: r0 = %d, want %d", valueSize, e, r0, 100+200+300+400+2000)
			}
			if want == "" {
				want = got
			} else if got != want {
				t.Errorf("value size %d: %v gives\n%s\nthe interpreter\n%s", valueSize, e, got, want)
			}
		}
	}
}
