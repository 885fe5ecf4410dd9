package ebpf_test

import (
	"encoding/binary"
	"math/bits"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ebpf/asm"
)

// rotHelper is a pure helper with an inline body that branches: r0 = r1
// rotated left by r2&63 if r2 is below 64, else r1 ^ r2 (in 32 bits when
// r3 is odd).
func rotHelper(_ *ebpf.Env, r1, r2, r3, _, _ uint64) (uint64, error) {
	var r0 uint64
	if r2 < 64 {
		r0 = bits.RotateLeft64(r1, int(r2&63))
	} else {
		r0 = r1 ^ r2
	}
	if r3&1 != 0 {
		r0 = uint64(uint32(r0))
	}
	return r0, nil
}

const rotBody = `
	jge %r2, 64, big
	mov %r0, %r1
	lsh %r0, %r2
	mov %r4, 64
	sub %r4, %r2
	rsh %r1, %r4
	jeq %r2, 0, odd
	or %r0, %r1
	ja odd
big:
	mov %r0, %r1
	xor %r0, %r2
odd:
	jset %r3, 1, narrow
	ja end
narrow:
	mov32 %r0, %r0
end:
	lddw %r5, 0x1234567890
	mov %r5, 0`

// TestInlineHelper runs a program that calls a pure helper with an inline
// body on random arguments: the JIT runs the body, the interpreter calls
// the function, and both must agree with the function computed in Go.
func TestInlineHelper(t *testing.T) {
	h := ebpf.NewHelpers()
	if err := h.Register(ebpf.Helper{ID: 1, Name: "rot", Fn: rotHelper,
		Proto: ebpf.Prototype{Args: [5]ebpf.ArgKind{ebpf.ArgScalar, ebpf.ArgScalar, ebpf.ArgScalar}}}); err != nil {
		t.Fatal(err)
	}
	body, err := asm.Assemble(rotBody)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.SetInline(1, body); err != nil {
		t.Fatal(err)
	}
	// r6 keeps a value across the call: the body must not touch it.
	prog, err := asm.Assemble(`
	ldxdw %r6, [%r1+0]
	ldxdw %r2, [%r1+8]
	ldxdw %r3, [%r1+16]
	mov %r1, %r6
	call 1
	xor %r0, %r6
	xor %r0, %r6
	exit`)
	if err != nil {
		t.Fatal(err)
	}
	r := testRand(t)
	for _, e := range engines() {
		p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "inline", Instructions: prog},
			&ebpf.ProgramOptions{Helpers: h, Type: ebpf.TestProgramType(24), Engine: e})
		if err != nil {
			t.Fatal(err)
		}
		ctx := make([]byte, 24)
		for i := range 2000 {
			a, b, c := r.Uint64(), r.Uint64N(80), r.Uint64()
			if i%7 == 0 {
				b = r.Uint64()
			}
			binary.LittleEndian.PutUint64(ctx, a)
			binary.LittleEndian.PutUint64(ctx[8:], b)
			binary.LittleEndian.PutUint64(ctx[16:], c)
			got, err := p.Run(ctx)
			want, _ := rotHelper(nil, a, b, c, 0, 0)
			if err != nil || got != want {
				t.Fatalf("%v: rot(%#x, %d, %d) = %#x, %v; want %#x", e, a, b, c, got, err, want)
			}
		}
	}
}

// TestSetInlineRejects: bodies that could touch memory, call, exit, loop,
// write the callee-saved registers or jump outside themselves are refused.
func TestSetInlineRejects(t *testing.T) {
	h := ebpf.NewHelpers()
	if err := h.Register(ebpf.Helper{ID: 1, Name: "f", Fn: rotHelper}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ body, want string }{
		{"", "empty body"},
		{"ldxdw %r0, [%r1+0]", "no memory access"},
		{"stxdw [%r10-8], %r1", "only r0-r5"},
		{"mov %r6, 1", "only r0-r5"},
		{"mov %r0, %r7", "only r0-r5"},
		{"call 1", "no exit or call"},
		{"exit", "no exit or call"},
		{"mov %r0, 0\njeq %r0, 0, -2", "jumps must go forward"},
		{"lddw %r0, map 0", "64-bit constant loads"},
	} {
		var body asm.Instructions
		if c.body != "" {
			var err error
			if body, err = asm.Assemble(c.body); err != nil {
				t.Fatalf("%q: %v", c.body, err)
			}
		}
		err := h.SetInline(1, body)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one containing %q", c.body, err, c.want)
		}
	}
	past, err := asm.Assemble("ja +0\nmov %r0, 1")
	if err != nil {
		t.Fatal(err)
	}
	past[0].Offset = 2 // past the end of the body
	if err := h.SetInline(1, past); err == nil || !strings.Contains(err.Error(), "jumps must go forward") {
		t.Errorf("a jump past the end: %v", err)
	}
	wide, err := asm.Assemble("ja +0\nlddw %r0, 1")
	if err != nil {
		t.Fatal(err)
	}
	wide[0].Offset = 1 // into the second slot of the lddw
	if err := h.SetInline(1, wide); err == nil || !strings.Contains(err.Error(), "jumps must go forward") {
		t.Errorf("a jump into a lddw: %v", err)
	}
	mov, err := asm.Assemble("mov %r0, %r1")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.SetInline(2, mov); err == nil || !strings.Contains(err.Error(), "no such helper") {
		t.Errorf("unknown helper: %v", err)
	}
}
