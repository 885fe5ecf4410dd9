package asm_test

import (
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf/asm"
)

// FuzzDecode feeds Decode random bytes. It must never panic, and whatever
// it accepts must encode back to the same bytes (decoding is strict, so no
// two byte strings decode to the same program) and survive a trip through
// the disassembler and the assembler.
func FuzzDecode(f *testing.F) {
	for _, e := range encodings {
		b, err := hex.DecodeString(strings.Join(strings.Fields(e.hex), ""))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		insns, err := asm.Decode(b)
		if err != nil {
			return
		}
		if got := insns.Encode(); string(got) != string(b) {
			t.Fatalf("Encode(Decode(%x)) = %x", b, got)
		}
		text := asm.Disassemble(insns)
		again, err := asm.Assemble(text)
		if err != nil {
			t.Fatalf("Assemble(Disassemble(Decode(%x))): %v\n%s", b, err, text)
		}
		if !slices.Equal(again, insns) {
			t.Fatalf("round trip changed the program:\n%s\n%s", insns, again)
		}
	})
}

// FuzzAssemble feeds Assemble random text. It must never panic, and a
// program it accepts must disassemble to text that assembles to the same
// program.
func FuzzAssemble(f *testing.F) {
	for _, e := range encodings {
		f.Add(e.text)
	}
	f.Add("L1:\njeq %r1, 0x1, L1 # loop\nlddw %r0, map 3+4\nja exit\nexit\n")
	f.Add("lock fetch xchg32 [%r10-0x8], %r1\ncall local f\nexit\nf:\nexit")
	f.Fuzz(func(t *testing.T, src string) {
		insns, err := asm.Assemble(src)
		if err != nil {
			return
		}
		text := asm.Disassemble(insns)
		again, err := asm.Assemble(text)
		if err != nil {
			t.Fatalf("Assemble(Disassemble(Assemble(%q))): %v\n%s", src, err, text)
		}
		if !slices.Equal(again, insns) {
			t.Fatalf("round trip changed the program:\n%s\n%s", insns, again)
		}
	})
}
