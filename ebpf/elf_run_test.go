package ebpf_test

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ebpf/maps"
)

// End to end: objects compiled by clang, loaded by the ELF loader and run by
// the interpreter, with results computed from the C sources by hand.

// elfTypes are the program types of the test objects' programs: each
// context is the struct its C source reads through ctx (u64 x; u64 x, y;
// u32 id), with r1 pointing to it.
var elfTypes = map[string]*ebpf.ProgramType{
	"prog_chain": elfCtxType("u64", 8),
	"prog_leaf":  elfCtxType("u64", 8),
	"prog_mixed": elfCtxType("u64x2", 8, 8),
	"globals":    elfCtxType("u32", 4),
	"count":      elfCtxType("u32", 4),
	"use_legacy": elfCtxType("u32", 4),
}

// elfCtxType is a type whose context is read-only fields of the given
// sizes, laid out one after the other; any return value is accepted.
func elfCtxType(name string, sizes ...int) *ebpf.ProgramType {
	typ := &ebpf.ProgramType{Name: name, Return: ebpf.Return{Any: true}}
	for i, size := range sizes {
		typ.Context.Fields = append(typ.Context.Fields, ebpf.Field{Name: fmt.Sprintf("f%d", i), Offset: typ.Context.Size, Size: size})
		typ.Context.Size += size
	}
	return typ
}

// newELFCollection loads an object's programs verified against their
// elfTypes, with two workers for the per-worker maps.
func newELFCollection(t *testing.T, obj string) *ebpf.Collection {
	t.Helper()
	c, err := ebpf.NewCollection(loadTestObject(t, obj), &ebpf.CollectionOptions{Types: elfTypes, Workers: 2})
	if err != nil {
		t.Fatalf("%s: %v", obj, err)
	}
	return c
}

func runELFProg(t *testing.T, c *ebpf.Collection, prog string, ctx []byte) uint64 {
	t.Helper()
	p := c.Programs[prog]
	if p == nil {
		t.Fatalf("no program %q", prog)
	}
	r0, err := p.Run(ctx)
	if err != nil {
		t.Fatalf("run %s: %v", prog, err)
	}
	return r0
}

func elfU64s(vs ...uint64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b
}

func elfU32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

func elfLookup(t *testing.T, m maps.Map, key []byte) []byte {
	t.Helper()
	v, err := m.Lookup(key)
	if err != nil {
		t.Fatalf("lookup %x in %s: %v", key, m.Spec().Name, err)
	}
	return v
}

func TestELFRunCalls(t *testing.T) {
	c := newELFCollection(t, "calls.o")
	addOne := func(x uint64) uint64 { return x + 1 }
	for _, x := range []uint64{0, 1, 41, 1 << 63, ^uint64(0)} {
		if got, want := runELFProg(t, c, "prog_chain", elfU64s(x)), addOne(addOne(x)^0x55)+3; got != want {
			t.Errorf("prog_chain(%d) = %d, want %d", x, got, want)
		}
		if got, want := runELFProg(t, c, "prog_mixed", elfU64s(x, 5)), addOne(x)*7+5; got != want {
			t.Errorf("prog_mixed(%d, 5) = %d, want %d", x, got, want)
		}
		if got, want := runELFProg(t, c, "prog_leaf", elfU64s(x)), x*2+1; got != want {
			t.Errorf("prog_leaf(%d) = %d, want %d", x, got, want)
		}
	}
}

func TestELFRunGlobals(t *testing.T) {
	c := newELFCollection(t, "globals.o")
	const seed, scale, table2 = 0x1122334455667788, 3, 7
	limits := []uint64{10, 20, 30, 40}
	total := uint64(42) // private_total
	for n, i := range []uint32{1, 3, 6} {
		total += limits[i&3]
		want := uint64(seed) + scale*table2 + limits[2] + total
		if got := runELFProg(t, c, "globals", elfU32(i)); got != want {
			t.Errorf("run %d: globals(%d) = %#x, want %#x", n, i, got, want)
		}
	}
	// .bss: hits at 0 and pad_bss[2] at 8+16 both hold the run count;
	// .data: private_total at 24.
	bss := elfLookup(t, c.Maps[".bss"], elfU32(0))
	if hits, pad := binary.LittleEndian.Uint64(bss[0:]), binary.LittleEndian.Uint64(bss[24:]); hits != 3 || pad != 3 {
		t.Errorf(".bss hits = %d, pad_bss[2] = %d, want 3 and 3", hits, pad)
	}
	data := elfLookup(t, c.Maps[".data"], elfU32(0))
	if got := binary.LittleEndian.Uint64(data[24:]); got != total {
		t.Errorf(".data private_total = %d, want %d", got, total)
	}
	if !c.Maps[".rodata"].Spec().ReadOnlyProg {
		t.Error(".rodata is not read-only to programs")
	}
}

func TestELFRunMaps(t *testing.T) {
	c := newELFCollection(t, "maps.o")
	const id = 21
	// First call: by_id misses and is initialised to {1, 0}.
	if got := runELFProg(t, c, "count", elfU32(id)); got != 0 {
		t.Errorf("first count = %d, want 0", got)
	}
	// Second call: packets goes to 2, slots[id&15] to 1, recent[id] = 1.
	if got := runELFProg(t, c, "count", elfU32(id)); got != 1 {
		t.Errorf("second count = %d, want 1", got)
	}
	if got := elfLookup(t, c.Maps["by_id"], elfU32(id)); binary.LittleEndian.Uint64(got) != 2 {
		t.Errorf("by_id[%d].packets = %d, want 2", id, binary.LittleEndian.Uint64(got))
	}
	if got := elfLookup(t, c.Maps["slots"], elfU32(id&15)); binary.LittleEndian.Uint64(got) != 1 {
		t.Errorf("slots[%d] = %d, want 1", id&15, binary.LittleEndian.Uint64(got))
	}
	if got := elfLookup(t, c.Maps["recent"], elfU64s(id)); binary.LittleEndian.Uint32(got) != 1 {
		t.Errorf("recent[%d] = %d, want 1", id, binary.LittleEndian.Uint32(got))
	}

	// The legacy map: absent key → 0; present → its value, and the
	// per-CPU scratch array gets byte 3 of worker 0's slot set to 7.
	if got := runELFProg(t, c, "use_legacy", elfU32(9)); got != 0 {
		t.Errorf("use_legacy(9) on an empty map = %d, want 0", got)
	}
	if err := c.Maps["legacy"].Update(elfU32(9), elfU64s(99), maps.UpdateAny); err != nil {
		t.Fatal(err)
	}
	if got := runELFProg(t, c, "use_legacy", elfU32(9)); got != 99 {
		t.Errorf("use_legacy(9) = %d, want 99", got)
	}
	scratch := elfLookup(t, c.Maps["scratch"], elfU32(0))
	if len(scratch) != 2*24 || scratch[3] != 7 || scratch[24+3] != 0 {
		t.Errorf("scratch[0] = % x, want worker 0's byte 3 = 7 and worker 1's untouched", scratch)
	}
}

// TestReloadKeepsMaps: a second collection loaded from the same object with
// the first one's maps sees and extends their state, as a policy reload does.
func TestReloadKeepsMaps(t *testing.T) {
	first := newELFCollection(t, "maps.o")
	const id = 5
	runELFProg(t, first, "count", elfU32(id)) // creates by_id[5] = {1, 0}
	second, err := ebpf.NewCollection(loadTestObject(t, "maps.o"), &ebpf.CollectionOptions{Types: elfTypes, Workers: 2, Maps: first.Maps})
	if err != nil {
		t.Fatal(err)
	}
	if got := runELFProg(t, second, "count", elfU32(id)); got != 1 {
		t.Errorf("count after reload = %d, want 1 (state of the first load)", got)
	}
	if second.Maps["by_id"] != first.Maps["by_id"] {
		t.Error("the reloaded collection created a new by_id map")
	}
	// An incompatible map is refused rather than reused.
	bad, err := maps.New(&maps.Spec{Name: "by_id", Type: maps.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 128}, maps.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ebpf.NewCollection(loadTestObject(t, "maps.o"), &ebpf.CollectionOptions{Types: elfTypes, Maps: map[string]maps.Map{"by_id": bad}})
	if err == nil || !strings.Contains(err.Error(), `reuse map "by_id"`) {
		t.Fatalf("incompatible map: err = %v", err)
	}
}
