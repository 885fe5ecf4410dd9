package interp

import (
	"errors"
	"testing"
	"unsafe"

	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/internal/core"
)

// TestUncheckedOps: every checked load, store and atomic has an unchecked
// form at the same distance, which Unchecked relies on.
func TestUncheckedOps(t *testing.T) {
	if opAtomic64U-opLdxBU != opAtomic64-opLdxB {
		t.Fatalf("unchecked ops %d..%d do not mirror checked ops %d..%d", opLdxBU, opAtomic64U, opLdxB, opAtomic64)
	}
	for o := opLdxB; o <= opAtomic64; o++ {
		if o == opLddw {
			t.Fatalf("lddw sits among the memory ops")
		}
	}
}

// TestUnchecked runs a program that loads, stores and atomically adds
// through r1, which points at memory outside every region of the machine:
// checked, the first access faults; compiled unchecked for those slots,
// the accesses reach the memory. (Only a verified program may be compiled
// so; this test plays the loader.)
func TestUnchecked(t *testing.T) {
	insns, err := asm.Assemble(`
		ldxdw %r0, [%r1+8]
		stw [%r1+0], 7
		mov %r3, 5
		lock add [%r1+0], %r3
		ldxw %r2, [%r1+0]
		add %r0, %r2
		exit`)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(insns, Config{})
	if err != nil {
		t.Fatal(err)
	}
	// On the heap: a goroutine stack may move while the program runs.
	mem := heapWords(2)
	mem[1] = 100
	addr := uint64(uintptr(unsafe.Pointer(&mem[0])))

	var me *core.MemoryError
	if _, err := p.Run(NewMachine(), addr, 16, 1000); !errors.As(err, &me) || me.PC != 0 {
		t.Fatalf("checked run: err = %v, want a memory error at instruction 0", err)
	}
	skip := []bool{0: true, 1: true, 3: true, 4: true}
	u := p.Unchecked(skip)
	if p.insns[0].op != opLdxDW {
		t.Fatal("Unchecked modified the original program")
	}
	r0, err := u.Run(NewMachine(), addr, 16, 1000)
	if err != nil || r0 != 112 || mem[0] != 12 {
		t.Fatalf("unchecked run: r0 = %d, err = %v, mem[0] = %d; want 112, nil, 12", r0, err, mem[0])
	}
	// Only the chosen slots lose their check: here the store stays checked.
	skip[1] = false
	if _, err := p.Unchecked(skip).Run(NewMachine(), addr, 16, 1000); !errors.As(err, &me) || me.PC != 1 {
		t.Fatalf("partly unchecked run: err = %v, want a memory error at instruction 1", err)
	}

	// An unchecked atomic still refuses a misaligned address (in bounds
	// here: bytes 4..11 of the words).
	insns, err = asm.Assemble("mov %r3, 1\nlock add [%r1+0], %r3\nexit")
	if err != nil {
		t.Fatal(err)
	}
	if p, err = Compile(insns, Config{}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Unchecked([]bool{1: true}).Run(NewMachine(), addr+4, 0, 1000); !errors.Is(err, core.ErrAlignment) {
		t.Fatalf("misaligned unchecked atomic: err = %v, want ErrAlignment", err)
	}
}

var heapSink []uint64

// heapWords returns n words the compiler must place on the heap.
func heapWords(n int) []uint64 {
	heapSink = make([]uint64, n)
	return heapSink
}
