package jit_test

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/internal/jit"
)

// interesting are operands that hit the edges of arithmetic: zero, one,
// minus one, the extremes of 32 and 64 bits, powers of two and their
// neighbours (the multiply lowering's cases).
var interesting = []int64{
	0, 1, -1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 256,
	0x7fff, -0x8000, 0xffff, 0x7fffffff, -0x80000000, 0x40000000, 0x3fffffff,
	-2, -3, -31, -32, -33, 1000000,
}

var interesting64 = []int64{
	0, 1, -1, 0x7fffffffffffffff, -0x8000000000000000, 0xffffffff, 0x100000000,
	0x80000000, -0x80000000, 0x123456789abcdef0, -0x123456789abcdef,
}

// genProgram turns data into a valid program of ALU operations, jumps,
// stack stores and loads, helper calls and local calls, that starts by
// loading values into r0-r9 and ends with exit. Jumps go anywhere inside
// the body, so loops happen and the budget ends them.
func genProgram(data []byte) asm.Instructions {
	var insns asm.Instructions
	for r := asm.R0; r <= asm.R9; r++ {
		v := interesting64[int(r)%len(interesting64)]
		if len(data) > int(r) {
			v = interesting64[int(data[r])%len(interesting64)] ^ int64(data[r])<<8
		}
		insns = append(insns, asm.Instruction{OpCode: asm.OpLdImm64, Dst: r, Constant: v})
	}
	if len(data) > 10 {
		data = data[10:]
	} else {
		data = nil
	}
	n := len(data) / 4
	for i := range n {
		b := data[4*i : 4*i+4]
		insns = append(insns, genInstruction(b, i, n))
	}
	insns = append(insns, asm.Instruction{OpCode: asm.OpExit})
	return insns
}

var aluOps = []asm.ALUOp{asm.Add, asm.Sub, asm.Mul, asm.Div, asm.Or, asm.And, asm.LSh, asm.RSh, asm.Neg, asm.Mod, asm.Xor, asm.Mov, asm.ArSh, asm.End}
var jumpOps = []asm.JumpOp{asm.Ja, asm.JEq, asm.JGT, asm.JGE, asm.JSet, asm.JNE, asm.JSGT, asm.JSGE, asm.JLT, asm.JLE, asm.JSLT, asm.JSLE}

// genInstruction makes instruction i of n from four bytes. Every result
// passes Validate; jump targets stay inside the body (or on the final
// exit).
func genInstruction(b []byte, i, n int) asm.Instruction {
	dst := asm.Register(b[1] % 10)
	src := asm.Register(b[1] >> 4 % 10)
	imm := interesting[int(b[2])%len(interesting)]
	kind := b[0] % 16
	switch {
	case kind < 10: // ALU
		class := asm.ClassALU64
		if b[0]&0x10 != 0 {
			class = asm.ClassALU
		}
		op := aluOps[(int(b[0]>>5)+int(b[3]&1)*8)%len(aluOps)]
		source := asm.SourceImm
		if b[3]&2 != 0 && op != asm.Neg {
			source = asm.SourceReg
		}
		ins := asm.Instruction{OpCode: asm.ALUOpCode(class, op, source), Dst: dst, Constant: imm}
		if source == asm.SourceReg {
			ins.Src = src
			ins.Constant = 0
		}
		switch op {
		case asm.End:
			ins.OpCode = asm.ALUOpCode(class, asm.End, asm.Source(b[3]&2)<<2)
			if class == asm.ClassALU64 {
				ins.OpCode = asm.ALUOpCode(class, asm.End, asm.SourceImm)
			}
			ins.Src = 0
			ins.Constant = []int64{16, 32, 64}[int(b[2])%3]
		case asm.Div, asm.Mod:
			ins.Offset = int16(b[3] >> 2 & 1) // signed forms
		case asm.Mov:
			if source == asm.SourceReg && b[3]&4 != 0 {
				sx := []int16{8, 16, 32}
				if class == asm.ClassALU {
					sx = sx[:2]
				}
				ins.Offset = sx[int(b[2])%len(sx)]
			}
		case asm.Neg:
			ins.Constant = 0
		}
		return ins
	case kind < 12: // conditional or unconditional jump
		op := jumpOps[int(b[0]>>4)%len(jumpOps)]
		class := asm.ClassJMP
		if b[3]&1 != 0 && op != asm.Ja {
			class = asm.ClassJMP32
		}
		source := asm.SourceImm
		if b[3]&2 != 0 && op != asm.Ja {
			source = asm.SourceReg
		}
		// A target in [-i, n-i]: any body instruction or the exit.
		off := int(b[2])%(n+1) - i - 1
		ins := asm.Instruction{OpCode: asm.JumpOpCode(class, op, source), Dst: dst, Offset: int16(off), Constant: imm}
		if source == asm.SourceReg {
			ins.Src, ins.Constant = src, 0
		}
		if op == asm.Ja {
			ins.Dst, ins.Constant = 0, 0
		}
		return ins
	case kind < 14: // store to and load from the stack
		size := []asm.Size{asm.SizeB, asm.SizeH, asm.SizeW, asm.SizeDW}[b[3]%4]
		off := -8 * int16(1+b[2]%8)
		if b[0]&0x10 != 0 {
			return asm.Instruction{OpCode: asm.MemOpCode(asm.ClassSTX, asm.ModeMEM, size), Dst: asm.R10, Src: src, Offset: off}
		}
		mode := asm.ModeMEM
		if b[3]&4 != 0 && size != asm.SizeDW {
			mode = asm.ModeMEMSX
		}
		return asm.Instruction{OpCode: asm.MemOpCode(asm.ClassLDX, mode, size), Dst: dst, Src: asm.R10, Offset: off}
	default: // helper call (1: r1 + 1, 5: r1)
		id := int64(1)
		if b[2]&1 != 0 {
			id = 5
		}
		return asm.Instruction{OpCode: asm.OpCall, Src: asm.PseudoCallHelper, Constant: id}
	}
}

// FuzzDifferential runs generated programs in the interpreter and under
// the JIT and requires the same r0, error and memory. The programs are not
// verified: every stack access goes through the JIT's checked path, while
// all arithmetic, jumps and helper calls run natively.
func FuzzDifferential(f *testing.F) {
	if !jit.Supported() {
		f.Skip("native code is not supported on this platform")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 64 {
		b := make([]byte, 10+4*(1+r.IntN(40)))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		insns := genProgram(data)
		for i, ins := range insns {
			if err := ins.Validate(); err != nil {
				t.Fatalf("generator made an invalid instruction %d (%v): %v", i, ins, err)
			}
		}
		want := runInterp(t, insns, nil, 10_000)
		got := runJIT(t, insns, nil, nil, 10_000)
		if got.String() != want.String() {
			t.Fatalf("jit:\n got  %v\n want %v\n%s", got, want, asm.Disassemble(insns))
		}
	})
}

// TestDifferentialRandom runs a few thousand generated programs on every
// test run (FuzzDifferential explores further). Set JIT_SEED to replay.
func TestDifferentialRandom(t *testing.T) {
	if !jit.Supported() {
		t.Skip("native code is not supported on this platform")
	}
	seed := uint64(rand.Uint32())
	if s := os.Getenv("JIT_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (JIT_SEED=%d replays)", seed, seed)
	r := rand.New(rand.NewPCG(seed, 0))
	n := 3000
	if testing.Short() {
		n = 300
	}
	for range n {
		b := make([]byte, 10+4*(1+r.IntN(60)))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		insns := genProgram(b)
		want := runInterp(t, insns, nil, 10_000)
		got := runJIT(t, insns, nil, nil, 10_000)
		if got.String() != want.String() {
			t.Fatalf("jit:\n got  %v\n want %v\n%s", got, want, asm.Disassemble(insns))
		}
	}
}
