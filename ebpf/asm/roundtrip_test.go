package asm_test

import (
	"flag"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/conformance"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files in testdata/")

// conformanceDir is the bpf_conformance suite, outside this repository.
const conformanceDir = "../../../shared/conformance/bpf_conformance"

// roundTrip checks that insns disassembles to text that assembles back to
// the same instructions and bytes.
func roundTrip(t *testing.T, insns asm.Instructions) {
	t.Helper()
	text := asm.Disassemble(insns)
	again, err := asm.Assemble(text)
	if err != nil {
		t.Fatalf("Assemble(Disassemble(insns)): %v\n%s", err, text)
	}
	if !slices.Equal(again, insns) {
		t.Fatalf("round trip changed the program:\nbefore\n%safter\n%s", insns, again)
	}
	if string(again.Encode()) != string(insns.Encode()) {
		t.Fatalf("round trip changed the bytecode")
	}
}

// TestConformanceRoundTrip assembles every program of the conformance
// suite, disassembles it and assembles it again.
func TestConformanceRoundTrip(t *testing.T) {
	if _, err := os.Stat(conformanceDir); err != nil {
		t.Skipf("conformance suite not found at %s (it lives in ../shared, outside the repository): %v", conformanceDir, err)
	}
	tests, err := conformance.Glob(conformanceDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(tests) != 313 {
		t.Errorf("found %d conformance tests, want 313", len(tests))
	}
	for _, ct := range tests {
		t.Run(ct.Name, func(t *testing.T) {
			roundTrip(t, ct.Program)
			// The program also decodes from its own bytecode.
			decoded, err := asm.Decode(ct.Program.Encode())
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !slices.Equal(decoded, ct.Program) {
				t.Fatalf("Decode(Encode()) changed the program")
			}
			if ct.Raw != nil {
				// -- raw replaced -- asm; the two must agree.
				fromAsm, err := asm.Assemble(ct.Asm)
				if err != nil {
					t.Fatalf("Assemble(-- asm): %v", err)
				}
				if !slices.Equal(fromAsm, ct.Program) {
					t.Errorf("-- asm and -- raw differ:\n%s\n%s", fromAsm, ct.Program)
				}
			}
		})
	}
}

// grid builds instructions from every opcode byte and a spread of field
// values, and returns those that pass Validate, in a fixed order: for each
// opcode the first valid one is its most readable form.
func grid() []asm.Instruction {
	dsts := []asm.Register{asm.R1, asm.R10, asm.R0}
	srcs := []asm.Register{asm.R2, asm.R0, asm.R1, asm.R3, asm.R4, asm.R5, asm.R6, asm.R10}
	offs := []int16{0, 8, 16, 32, 1, -8, 100}
	imms := []int64{5, 0, 1, 16, 32, 64, -1, -100, 4097, math.MaxInt32, math.MinInt32,
		0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1}
	wides := []int64{0x1122334455667788, 0, -1, 4097, math.MinInt64}
	pseudoWides := []int64{3 | 16<<32, 3, 0xffffffff, -1}
	var out []asm.Instruction
	for op := 0; op < 256; op++ {
		for _, dst := range dsts {
			for _, src := range srcs {
				consts := imms
				switch {
				case asm.OpCode(op) != asm.OpLdImm64:
				case src == asm.PseudoNone:
					consts = wides
				default:
					consts = pseudoWides
				}
				for _, off := range offs {
					for _, c := range consts {
						ins := asm.Instruction{OpCode: asm.OpCode(op), Dst: dst, Src: src, Offset: off, Constant: c}
						if ins.Validate() == nil {
							out = append(out, ins)
						}
					}
				}
			}
		}
	}
	return out
}

// TestGridRoundTrip round-trips every instruction of the grid: the
// non-jumps as one program, the jumps (offsets up to 100 slots) inside
// padding that gives every target a landing slot.
func TestGridRoundTrip(t *testing.T) {
	var straight, jumps asm.Instructions
	pad := make(asm.Instructions, 100)
	for i := range pad {
		pad[i] = asm.Instruction{OpCode: 0xb7} // mov %r0, 0
	}
	jumps = append(jumps, pad...)
	for _, ins := range grid() {
		switch {
		case !ins.IsBranch() && !ins.IsLocalCall():
			straight = append(straight, ins)
		case ins.JumpOffset() >= -100 && ins.JumpOffset() <= 100:
			jumps = append(jumps, ins)
		}
	}
	jumps = append(jumps, pad...)
	jumps = append(jumps, asm.Instruction{OpCode: asm.OpExit})
	t.Logf("%d straight-line instructions, %d jumps", len(straight), len(jumps)-201)
	for _, p := range []asm.Instructions{straight, jumps} {
		if _, err := asm.Decode(p.Encode()); err != nil {
			t.Fatalf("generated program does not decode: %v", err)
		}
		roundTrip(t, p)
	}
}

// formKey tells instruction forms apart: the opcode and whichever field
// changes the mnemonic (signed div/mod, movsx width, byte-order width,
// atomic operation, lddw and call pseudo source).
func formKey(ins asm.Instruction) string {
	op := ins.OpCode
	key := fmt.Sprintf("%02x", uint8(op))
	switch {
	case op == asm.OpLdImm64, op == asm.OpCall:
		key += fmt.Sprintf(" src=%d", ins.Src)
	case op.Class().IsALU() && (op.ALUOp() == asm.Div || op.ALUOp() == asm.Mod || op.ALUOp() == asm.Mov):
		key += fmt.Sprintf(" off=%d", ins.Offset)
	case op.Class().IsALU() && op.ALUOp() == asm.End,
		op.Class() == asm.ClassSTX && op.Mode() == asm.ModeATOMIC:
		key += fmt.Sprintf(" imm=%02x", ins.Constant)
	}
	return key
}

// TestOpcodeTable pins one example of every valid instruction form, text
// and bytes, in testdata/opcodes.golden. Run with -rewrite to update it.
func TestOpcodeTable(t *testing.T) {
	var b strings.Builder
	b.WriteString("# One example of every valid instruction form: its encoding, then its text.\n")
	b.WriteString("# Generated by TestOpcodeTable; rewrite with go test ./ebpf/asm -run TestOpcodeTable -rewrite.\n")
	forms := make(map[string]asm.Instruction)
	opcodes := make(map[asm.OpCode]bool)
	for _, ins := range grid() {
		if _, seen := forms[formKey(ins)]; !seen {
			forms[formKey(ins)] = ins
		}
		opcodes[ins.OpCode] = true
	}
	keys := slices.Sorted(maps.Keys(forms))
	for _, key := range keys {
		ins := forms[key]
		fmt.Fprintf(&b, "%-48s %s\n", fmt.Sprintf("% x", ins.Encode(nil)), ins)
	}
	fmt.Fprintf(&b, "# %d forms, %d opcodes\n", len(forms), len(opcodes))
	const golden = "testdata/opcodes.golden"
	if *rewrite {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("opcode table differs from %s (run with -rewrite to update):\n%s", golden, b.String())
	}
}
