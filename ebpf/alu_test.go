package ebpf_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/conformance"
	"github.com/bpfdb/bpfdb/ebpf/maps"
)

// This file is the differential oracle of the interpreter: a reference
// model of the arithmetic and jump instructions, written from RFC 9669 §4
// (and the edge cases of the conformance README §4) without looking at
// ebpf/internal/interp, and tests that run random and exhaustive edge-value
// programs through both and compare. Division goes through math/big, so the
// model shares no machine-arithmetic shortcut with the code under test.
//
// Randomized tests log their seed; BPFDB_SEED=<n> replays one.

// refMachine is the reference model: the register file of one run.
type refMachine struct {
	r [11]uint64
}

// errRefUnsupported is returned by refMachine.run for instructions the
// model does not cover (memory, calls).
var errRefUnsupported = errors.New("reference model: unsupported instruction")

// run executes a program of lddw (constants only), ALU, ALU64, JMP and
// JMP32 instructions from slot 0 and returns r0 at exit.
func (m *refMachine) run(insns asm.Instructions) (uint64, error) {
	index := make(map[int]int, len(insns)) // slot -> instruction
	for i, s := range insns.SlotIndex() {
		index[s] = i
	}
	pc := 0
	for steps := 0; steps < 1_000_000; steps++ {
		i, ok := index[pc]
		if !ok {
			return 0, fmt.Errorf("reference model: no instruction at slot %d", pc)
		}
		ins := insns[i]
		next := pc + ins.Slots()
		op := ins.OpCode
		switch c := op.Class(); {
		case op == asm.OpLdImm64 && ins.Src == asm.PseudoNone:
			m.r[ins.Dst] = uint64(ins.Constant)
		case c.IsALU():
			m.r[ins.Dst] = refALU(ins, m.r[ins.Dst], m.operand(ins))
		case op == asm.OpExit:
			return m.r[0], nil
		case c.IsJump() && op.JumpOp() == asm.Ja:
			next = pc + 1 + int(ins.JumpOffset())
		case c.IsJump() && op.JumpOp() != asm.Call:
			if refCond(ins, m.r[ins.Dst], m.operand(ins)) {
				next = pc + 1 + int(ins.Offset)
			}
		default:
			return 0, fmt.Errorf("%w: %v", errRefUnsupported, ins)
		}
		pc = next
	}
	return 0, errors.New("reference model: step limit reached")
}

// operand returns the second operand of an ALU or jump instruction: the
// source register, or the immediate sign-extended to 64 bits (RFC 9669
// §4.1, §4.3; 32-bit instructions then use its low 32 bits).
func (m *refMachine) operand(ins asm.Instruction) uint64 {
	if ins.OpCode.Source() == asm.SourceReg {
		return m.r[ins.Src]
	}
	return uint64(int64(ins.Imm()))
}

// sext sign-extends the low n bits of v.
func sext(v uint64, n uint) int64 { return int64(v<<(64-n)) >> (64 - n) }

// lowBits returns the low n bits of v (n <= 64).
func lowBits(v uint64, n uint) uint64 {
	if n == 64 {
		return v
	}
	return v & (1<<n - 1)
}

// refSwap reverses the order of the low n bytes of v; the rest is zero.
func refSwap(v uint64, n int) uint64 {
	var out uint64
	for i := 0; i < n; i++ {
		b := (v >> (8 * i)) & 0xff
		out |= b << (8 * (n - 1 - i))
	}
	return out
}

// refALU returns the new value of the destination register.
func refALU(ins asm.Instruction, dst, src uint64) uint64 {
	op := ins.OpCode
	if op.ALUOp() == asm.End {
		// RFC 9669 §4.2: the width is the immediate; le on a little-endian
		// host only truncates, be and the ALU64 bswap always swap. The
		// result is zero-extended from the width.
		n := uint(ins.Constant)
		if op.Class() == asm.ClassALU && op.Source() == asm.SourceImm {
			return lowBits(dst, n)
		}
		return refSwap(dst, int(n/8))
	}
	width := uint(64)
	if op.Class() == asm.ClassALU {
		// 32-bit: operands are the low halves, the result is zero-extended.
		width = 32
		dst, src = lowBits(dst, 32), lowBits(src, 32)
	}
	shift := src & uint64(width-1)
	signed := ins.Offset == 1
	var res uint64
	switch op.ALUOp() {
	case asm.Add:
		res = dst + src
	case asm.Sub:
		res = dst - src
	case asm.Mul:
		res = dst * src
	case asm.Div, asm.Mod:
		res = refDivMod(op.ALUOp() == asm.Div, signed, dst, src, width)
	case asm.Or:
		res = dst | src
	case asm.And:
		res = dst & src
	case asm.Xor:
		res = dst ^ src
	case asm.LSh:
		res = dst << shift
	case asm.RSh:
		res = dst >> shift
	case asm.ArSh:
		res = uint64(sext(dst, width) >> shift)
	case asm.Neg:
		res = -dst
	case asm.Mov:
		if ins.Offset == 0 {
			res = src
		} else {
			res = uint64(sext(src, uint(ins.Offset)))
		}
	default:
		panic(fmt.Sprintf("BUG: reference model has no ALU op %v", op.ALUOp()))
	}
	return lowBits(res, width)
}

// refDivMod is div or mod (unsigned, or signed with truncation toward
// zero) on width-bit operands, with the RFC's rules for a zero divisor:
// the quotient is 0 and the remainder is the dividend. The overflowing
// INT_MIN / -1 wraps to INT_MIN.
func refDivMod(div, signed bool, dst, src uint64, width uint) uint64 {
	if lowBits(src, width) == 0 {
		if div {
			return 0
		}
		return dst
	}
	var a, b big.Int
	if signed {
		a.SetInt64(sext(dst, width))
		b.SetInt64(sext(src, width))
	} else {
		a.SetUint64(dst)
		b.SetUint64(src)
	}
	var r big.Int
	if div {
		r.Quo(&a, &b) // truncated
	} else {
		r.Rem(&a, &b) // sign of the dividend
	}
	// Two's complement wrap: big.Int.And treats negatives as infinite
	// two's complement.
	mask := new(big.Int).SetUint64(math.MaxUint64)
	return lowBits(r.And(&r, mask).Uint64(), width)
}

// refCond reports whether a conditional jump is taken (RFC 9669 §4.3).
func refCond(ins asm.Instruction, dst, src uint64) bool {
	width := uint(64)
	if ins.OpCode.Class() == asm.ClassJMP32 {
		width = 32
	}
	a, b := lowBits(dst, width), lowBits(src, width)
	sa, sb := sext(a, width), sext(b, width)
	switch ins.OpCode.JumpOp() {
	case asm.JEq:
		return a == b
	case asm.JNE:
		return a != b
	case asm.JGT:
		return a > b
	case asm.JGE:
		return a >= b
	case asm.JLT:
		return a < b
	case asm.JLE:
		return a <= b
	case asm.JSet:
		return a&b != 0
	case asm.JSGT:
		return sa > sb
	case asm.JSGE:
		return sa >= sb
	case asm.JSLT:
		return sa < sb
	case asm.JSLE:
		return sa <= sb
	}
	panic(fmt.Sprintf("BUG: reference model has no jump op %v", ins.OpCode.JumpOp()))
}

// TestReferenceModel checks the oracle itself: against values worked out
// by hand, and against the expected results of every conformance program
// it can run (those without memory access and calls).
func TestReferenceModel(t *testing.T) {
	alu := func(c asm.Class, op asm.ALUOp, src asm.Source, off int16, imm int64) asm.Instruction {
		ins := asm.Instruction{OpCode: asm.ALUOpCode(c, op, src), Dst: asm.R1, Offset: off, Constant: imm}
		if src == asm.SourceReg && op != asm.End {
			ins.Src = asm.R2
		}
		return ins
	}
	const minInt64 = 1 << 63
	tests := []struct {
		name          string
		ins           asm.Instruction
		dst, src, out uint64
	}{
		{"sdiv64 INT_MIN/-1", alu(asm.ClassALU64, asm.Div, asm.SourceReg, 1, 0), minInt64, math.MaxUint64, minInt64},
		{"smod64 INT_MIN%-1", alu(asm.ClassALU64, asm.Mod, asm.SourceReg, 1, 0), minInt64, math.MaxUint64, 0},
		{"sdiv32 INT_MIN/-1", alu(asm.ClassALU, asm.Div, asm.SourceReg, 1, 0), 0xffff_ffff_8000_0000, 0xffff_ffff, 0x8000_0000},
		{"smod64 -7%2", alu(asm.ClassALU64, asm.Mod, asm.SourceReg, 1, 0), uint64(math.MaxUint64 - 6), 2, math.MaxUint64},
		{"smod32 7%-2", alu(asm.ClassALU, asm.Mod, asm.SourceReg, 1, 0), 7, 0xffff_fffe, 1},
		{"div64 by 0", alu(asm.ClassALU64, asm.Div, asm.SourceReg, 0, 0), 5, 0, 0},
		{"mod64 by 0 keeps dst", alu(asm.ClassALU64, asm.Mod, asm.SourceReg, 0, 0), 0x1_0000_0005, 0, 0x1_0000_0005},
		{"mod32 by 0 zero-extends dst", alu(asm.ClassALU, asm.Mod, asm.SourceReg, 0, 0), 0x1_0000_0005, 0x1_0000_0000, 5},
		{"smod32 by 0 zero-extends dst", alu(asm.ClassALU, asm.Mod, asm.SourceImm, 1, 0), 0xffff_ffff_ffff_fff0, 0, 0xffff_fff0},
		{"div64 imm -1 is 2^64-1", alu(asm.ClassALU64, asm.Div, asm.SourceImm, 0, -1), math.MaxUint64, 0, 1},
		{"div32 imm -1 is 2^32-1", alu(asm.ClassALU, asm.Div, asm.SourceImm, 0, -1), 0xffff_ffff, 0, 1},
		{"lsh64 by 65 is by 1", alu(asm.ClassALU64, asm.LSh, asm.SourceImm, 0, 65), 3, 0, 6},
		{"lsh32 by 33 is by 1", alu(asm.ClassALU, asm.LSh, asm.SourceImm, 0, 33), 0x8000_0001, 0, 2},
		{"arsh32", alu(asm.ClassALU, asm.ArSh, asm.SourceImm, 0, 4), 0x8000_0000, 0, 0xf800_0000},
		{"arsh64 by -1 is by 63", alu(asm.ClassALU64, asm.ArSh, asm.SourceImm, 0, -1), minInt64, 0, math.MaxUint64},
		{"neg32", alu(asm.ClassALU, asm.Neg, asm.SourceImm, 0, 0), 1, 0, 0xffff_ffff},
		{"mov32 imm -1", alu(asm.ClassALU, asm.Mov, asm.SourceImm, 0, -1), 7, 0, 0xffff_ffff},
		{"mov64 imm -1", alu(asm.ClassALU64, asm.Mov, asm.SourceImm, 0, -1), 7, 0, math.MaxUint64},
		{"movsx832", alu(asm.ClassALU, asm.Mov, asm.SourceReg, 8, 0), 0, 0x180, 0xffff_ff80},
		{"movsx3264", alu(asm.ClassALU64, asm.Mov, asm.SourceReg, 32, 0), 0, 0x1_8000_0000, 0xffff_ffff_8000_0000},
		{"be16", alu(asm.ClassALU, asm.End, asm.SourceReg, 0, 16), 0x1122_3344_5566_7788, 0, 0x8877},
		{"le32", alu(asm.ClassALU, asm.End, asm.SourceImm, 0, 32), 0x1122_3344_5566_7788, 0, 0x5566_7788},
		{"le64", alu(asm.ClassALU, asm.End, asm.SourceImm, 0, 64), 0x1122_3344_5566_7788, 0, 0x1122_3344_5566_7788},
		{"bswap64", alu(asm.ClassALU64, asm.End, asm.SourceImm, 0, 64), 0x1122_3344_5566_7788, 0, 0x8877_6655_4433_2211},
	}
	for _, tt := range tests {
		if err := tt.ins.Validate(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var m refMachine
		m.r[1], m.r[2] = tt.dst, tt.src
		if got := refALU(tt.ins, tt.dst, m.operand(tt.ins)); got != tt.out {
			t.Errorf("%s: %#x, want %#x", tt.name, got, tt.out)
		}
	}

	files, _ := filepath.Glob(filepath.Join(conformanceDir, "*.data"))
	ran := 0
	for _, file := range files {
		ct, err := conformance.ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var m refMachine
		m.r[2] = uint64(len(ct.Mem)) // the environment's r2 (r1 is an address)
		r0, err := m.run(ct.Program)
		if errors.Is(err, errRefUnsupported) {
			continue
		}
		ran++
		if err != nil || r0 != ct.Result {
			t.Errorf("%s: model gives %#x, %v; want %#x", ct.Name, r0, err, ct.Result)
		}
	}
	if len(files) > 0 && ran < 150 {
		t.Errorf("the model ran only %d conformance programs", ran)
	}
	t.Logf("the model agrees with %d conformance programs", ran)
}

// testRand returns a generator seeded from BPFDB_SEED or the clock, and
// logs the seed.
func testRand(t *testing.T) *rand.Rand {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("BPFDB_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 0, 64)
		if err != nil {
			t.Fatalf("BPFDB_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (replay with BPFDB_SEED=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// Edge values: the immediates and register contents where arithmetic
// rules change (zero, signs, 32-bit boundaries, shift widths).
var (
	edgeImms = []int32{0, 1, -1, 2, -2, 7, 8, 15, 16, 31, 32, 33, 63, 64, 65, 127, 128, 255, 256,
		0x7fff, -0x8000, 0xffff, 0x10000, math.MaxInt32, math.MinInt32, math.MinInt32 + 1}
	edgeValues = []uint64{0, 1, 2, 3, 7, 0x80, 0xff, 0x8000, 0xffff, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff,
		0x1_0000_0000, 0x1_0000_0001, 0x7fff_ffff_ffff_ffff, 0x8000_0000_0000_0000, 0xffff_ffff_8000_0000,
		0xffff_ffff_7fff_ffff, math.MaxUint64, math.MaxUint64 - 1, 0x1122_3344_5566_7788, 0x8877_6655_4433_2211}
)

func randImm(rng *rand.Rand) int32 {
	switch rng.IntN(3) {
	case 0:
		return int32(rng.Uint32())
	case 1:
		return int32(rng.IntN(130)) - 65
	}
	return edgeImms[rng.IntN(len(edgeImms))]
}

func randValue(rng *rand.Rand) uint64 {
	switch rng.IntN(4) {
	case 0:
		return rng.Uint64()
	case 1:
		return uint64(int64(rng.IntN(130)) - 65)
	case 2:
		return uint64(int64(randImm(rng))) // a sign-extended immediate
	}
	return edgeValues[rng.IntN(len(edgeValues))]
}

// aluForm is one arithmetic instruction shape: class, operation, operand
// source and offset (sdiv, smod, movsx), or the width of a byte-order
// instruction.
type aluForm struct {
	class asm.Class
	op    asm.ALUOp
	src   asm.Source
	off   int16
	width int64 // End only
}

func (f aluForm) String() string {
	return asm.Instruction{OpCode: asm.ALUOpCode(f.class, f.op, f.src), Offset: f.off, Constant: f.width}.String()
}

// aluForms lists every arithmetic instruction RFC 9669 defines.
var aluForms = func() []aluForm {
	var forms []aluForm
	for _, c := range []asm.Class{asm.ClassALU64, asm.ClassALU} {
		for _, src := range []asm.Source{asm.SourceImm, asm.SourceReg} {
			for _, op := range []asm.ALUOp{asm.Add, asm.Sub, asm.Mul, asm.Div, asm.Or, asm.And, asm.LSh, asm.RSh, asm.Mod, asm.Xor, asm.Mov, asm.ArSh} {
				forms = append(forms, aluForm{class: c, op: op, src: src})
			}
			forms = append(forms, aluForm{class: c, op: asm.Div, src: src, off: 1}, aluForm{class: c, op: asm.Mod, src: src, off: 1})
		}
		forms = append(forms, aluForm{class: c, op: asm.Neg}, aluForm{class: c, op: asm.Mov, src: asm.SourceReg, off: 8},
			aluForm{class: c, op: asm.Mov, src: asm.SourceReg, off: 16})
		for _, w := range []int64{16, 32, 64} {
			if c == asm.ClassALU {
				forms = append(forms, aluForm{class: c, op: asm.End, src: asm.SourceImm, width: w}, aluForm{class: c, op: asm.End, src: asm.SourceReg, width: w})
			} else {
				forms = append(forms, aluForm{class: c, op: asm.End, src: asm.SourceImm, width: w})
			}
		}
	}
	return append(forms, aluForm{class: asm.ClassALU64, op: asm.Mov, src: asm.SourceReg, off: 32})
}()

// instruction builds the form with the given registers and immediate.
func (f aluForm) instruction(dst, src asm.Register, imm int32) asm.Instruction {
	ins := asm.Instruction{OpCode: asm.ALUOpCode(f.class, f.op, f.src), Dst: dst, Offset: f.off}
	switch {
	case f.op == asm.End:
		ins.Constant = f.width
	case f.op == asm.Neg:
	case f.src == asm.SourceReg:
		ins.Src = src
	default:
		ins.Constant = int64(imm)
	}
	return ins
}

func lddw(dst asm.Register, v uint64) asm.Instruction {
	return asm.Instruction{OpCode: asm.OpLdImm64, Dst: dst, Constant: int64(v)}
}

func movReg(dst, src asm.Register) asm.Instruction {
	return asm.Instruction{OpCode: asm.ALUOpCode(asm.ClassALU64, asm.Mov, asm.SourceReg), Dst: dst, Src: src}
}

func xorReg(dst, src asm.Register) asm.Instruction {
	return asm.Instruction{OpCode: asm.ALUOpCode(asm.ClassALU64, asm.Xor, asm.SourceReg), Dst: dst, Src: src}
}

func stxdw(dst asm.Register, off int16, src asm.Register) asm.Instruction {
	return asm.Instruction{OpCode: asm.MemOpCode(asm.ClassSTX, asm.ModeMEM, asm.SizeDW), Dst: dst, Src: src, Offset: off}
}

var exitIns = asm.Instruction{OpCode: asm.OpExit}

// loadInsns loads a program built in a test, with no helpers.
func loadInsns(t testing.TB, insns asm.Instructions) *ebpf.Program {
	t.Helper()
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "generated", Instructions: insns}, &ebpf.ProgramOptions{
		// Unverified: the ALU edge cases are run on an arbitrary ctx; what
		// is pinned is the interpreter's arithmetic.
		Unverified: true, Helpers: ebpf.NewHelpers()})
	if err != nil {
		t.Fatalf("load:\n%s\n%v", insns, err)
	}
	return p
}

// TestALUEdges runs every arithmetic form on every pair of edge values
// (register or immediate operand) and compares each result with the model.
// One program per form and operand computes the results for all edge
// destination values and stores them into the context.
func TestALUEdges(t *testing.T) {
	n := len(edgeValues)
	ctx := make([]byte, 8*n)
	checked := 0
	for _, f := range aluForms {
		operands := edgeValues
		if f.src == asm.SourceImm {
			operands = operands[:0:0]
			for _, imm := range edgeImms {
				operands = append(operands, uint64(int64(imm)))
			}
		}
		if f.op == asm.Neg || f.op == asm.End {
			operands = operands[:1]
		}
		for _, s := range operands {
			// r9 = ctx; r2 = s; for each edge d: r1 = d; r1 op= r2|imm; ctx[i] = r1.
			insns := asm.Instructions{movReg(asm.R9, asm.R1), lddw(asm.R2, s)}
			for i, d := range edgeValues {
				insns = append(insns, lddw(asm.R1, d), f.instruction(asm.R1, asm.R2, int32(s)), stxdw(asm.R9, int16(8*i), asm.R1))
			}
			insns = append(insns, movReg(asm.R0, asm.R2), exitIns)
			p := loadInsns(t, insns)
			clear(ctx)
			r0, err := p.Run(ctx)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if f.src == asm.SourceReg && r0 != s {
				t.Errorf("%s: source register changed from %#x to %#x", f, s, r0)
			}
			for i, d := range edgeValues {
				ins := f.instruction(asm.R1, asm.R2, int32(s))
				var m refMachine
				m.r[2] = s
				want := refALU(ins, d, m.operand(ins))
				if got := binary.LittleEndian.Uint64(ctx[8*i:]); got != want {
					t.Errorf("%s with dst %#x, src %#x: got %#x, want %#x", ins, d, s, got, want)
				}
				checked++
			}
		}
	}
	t.Logf("%d forms, %d results checked", len(aluForms), checked)
}

// randALU returns a random arithmetic instruction over r0-r9.
func randALU(rng *rand.Rand) asm.Instruction {
	f := aluForms[rng.IntN(len(aluForms))]
	return f.instruction(asm.Register(rng.IntN(10)), asm.Register(rng.IntN(10)), randImm(rng))
}

// TestALUDifferential runs thousands of random straight-line programs (r0-r9
// set by lddw, then random arithmetic, then r0 = the xor of r0-r9) in the
// interpreter and in the model.
func TestALUDifferential(t *testing.T) {
	rng := testRand(t)
	programs := 10000
	if testing.Short() {
		programs = 1000
	}
	for n := 0; n < programs; n++ {
		var insns asm.Instructions
		for r := asm.R0; r <= asm.R9; r++ {
			insns = append(insns, lddw(r, randValue(rng)))
		}
		body := 1 + rng.IntN(40)
		for i := 0; i < body; i++ {
			insns = append(insns, randALU(rng))
		}
		for r := asm.R1; r <= asm.R9; r++ {
			insns = append(insns, xorReg(asm.R0, r))
		}
		insns = append(insns, exitIns)
		got, err := loadInsns(t, insns).Run(nil)
		if err != nil {
			t.Fatalf("program %d: %v\n%s", n, err, insns)
		}
		var m refMachine
		want, err := m.run(insns)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("program %d: r0 = %#x, model says %#x\n%s\n%s", n, got, want, insns, firstDivergence(t, insns[:10+body]))
		}
	}
}

// firstDivergence finds the first instruction of a straight-line program
// after which a register differs between the interpreter and the model, by
// running each prefix once per register.
func firstDivergence(t *testing.T, prog asm.Instructions) string {
	for k := 1; k <= len(prog); k++ {
		for r := asm.R0; r <= asm.R9; r++ {
			insns := append(slices.Clone(prog[:k]), movReg(asm.R0, r), exitIns)
			got, err := loadInsns(t, insns).Run(nil)
			var m refMachine
			want, _ := m.run(insns)
			if err != nil || got != want {
				var before refMachine
				_, _ = before.run(append(slices.Clone(prog[:k-1]), exitIns))
				return fmt.Sprintf("first divergence: instruction %d (%s) with registers %#x: %s = %#x, model says %#x (%v)",
					k-1, prog[k-1], before.r[:10], r, got, want, err)
			}
		}
	}
	return "no divergence found in any prefix"
}

// jumpForm is one conditional jump shape.
type jumpForm struct {
	class asm.Class
	op    asm.JumpOp
	src   asm.Source
}

var jumpForms = func() []jumpForm {
	var forms []jumpForm
	for _, c := range []asm.Class{asm.ClassJMP, asm.ClassJMP32} {
		for _, op := range []asm.JumpOp{asm.JEq, asm.JGT, asm.JGE, asm.JSet, asm.JNE, asm.JSGT, asm.JSGE, asm.JLT, asm.JLE, asm.JSLT, asm.JSLE} {
			for _, src := range []asm.Source{asm.SourceImm, asm.SourceReg} {
				forms = append(forms, jumpForm{c, op, src})
			}
		}
	}
	return forms
}()

// relatedValues returns nine register values derived from one, so that
// comparisons often meet equality, off-by-one and same-low-half cases.
func relatedValues(rng *rand.Rand) [9]uint64 {
	a := randValue(rng)
	derive := []func() uint64{
		func() uint64 { return a },
		func() uint64 { return a + 1 },
		func() uint64 { return a - 1 },
		func() uint64 { return ^a },
		func() uint64 { return -a },
		func() uint64 { return a ^ 0xffff_ffff_0000_0000 },       // same low half
		func() uint64 { return a & 0xffff_ffff },                 // zero-extended low half
		func() uint64 { return uint64(int64(int32(uint32(a)))) }, // sign-extended low half
		func() uint64 { return a ^ 1<<31 },
		func() uint64 { return randValue(rng) },
	}
	var v [9]uint64
	for i := range v {
		v[i] = derive[rng.IntN(len(derive))]()
	}
	return v
}

// TestJumpDifferential checks every conditional jump (JMP and JMP32, K and
// X) on random related operands: each program sets r1-r9, then performs 30
// comparisons, comparison i setting bit i of r0 when its jump is taken.
func TestJumpDifferential(t *testing.T) {
	rng := testRand(t)
	programs := 3000
	if testing.Short() {
		programs = 200
	}
	const perProgram = 30
	counts := map[jumpForm][2]int{} // not taken, taken
	for n := 0; n < programs; n++ {
		vals := relatedValues(rng)
		insns := asm.Instructions{lddw(asm.R0, 0)}
		for i, v := range vals {
			insns = append(insns, lddw(asm.Register(i+1), v))
		}
		var forms [perProgram]jumpForm
		for i := range perProgram {
			f := jumpForms[rng.IntN(len(jumpForms))]
			forms[i] = f
			ins := asm.Instruction{OpCode: asm.JumpOpCode(f.class, f.op, f.src), Dst: asm.Register(1 + rng.IntN(9)), Offset: 1}
			if f.src == asm.SourceReg {
				ins.Src = asm.Register(1 + rng.IntN(9))
			} else if rng.IntN(2) == 0 {
				ins.Constant = int64(int32(uint32(vals[rng.IntN(9)]))) // the low half of a register
			} else {
				ins.Constant = int64(randImm(rng))
			}
			insns = append(insns,
				ins, // taken: go to the or
				asm.Instruction{OpCode: asm.OpJa, Offset: 1}, // not taken: skip it
				asm.Instruction{OpCode: asm.ALUOpCode(asm.ClassALU64, asm.Or, asm.SourceImm), Dst: asm.R0, Constant: 1 << i})
		}
		insns = append(insns, exitIns)
		got, err := loadInsns(t, insns).Run(nil)
		if err != nil {
			t.Fatalf("program %d: %v\n%s", n, err, insns)
		}
		var m refMachine
		want, err := m.run(insns)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			for i := range perProgram {
				if bit := uint64(1) << i; got&bit != want&bit {
					ins := insns[10+3*i]
					t.Errorf("program %d: %s with %s = %#x, operand %#x: taken = %v, model says %v",
						n, ins, ins.Dst, vals[ins.Dst-1], m.operand(ins), got&bit != 0, want&bit != 0)
				}
			}
			t.FailNow()
		}
		for i, f := range forms {
			c := counts[f]
			c[want>>i&1]++
			counts[f] = c
		}
	}
	// Every form must have been seen both taken and not taken, or the
	// value generator is too weak to test it.
	for _, f := range jumpForms {
		if c := counts[f]; !testing.Short() && (c[0] == 0 || c[1] == 0) {
			t.Errorf("%v: %d not taken, %d taken: want both", f, c[0], c[1])
		}
	}
}

// atomicCase is one atomic read-modify-write with the expected outcome: the
// 8-byte word at the address after the instruction, the source register
// and r0. A 32-bit operation works on the low half of the word (off 0) or
// its high half (off 4).
type atomicCase struct {
	name    string
	op      asm.AtomicOp
	size    asm.Size
	off     int16
	mem     uint64 // the 8-byte word before
	src, r0 uint64
	wantMem uint64
	wantSrc uint64
	wantR0  uint64
}

const r0Init = 0x5a5a_5a5a_5a5a_5a5a

// instruction returns the case's atomic instruction on [%r8+off] with
// source %r2.
func (c atomicCase) instruction() asm.Instruction {
	return asm.Instruction{OpCode: asm.MemOpCode(asm.ClassSTX, asm.ModeATOMIC, c.size), Dst: asm.R8, Src: asm.R2, Offset: c.off, Constant: int64(c.op)}
}

var atomicCases = []atomicCase{
	// 64-bit, without fetch: the source register and r0 are unchanged.
	{"add", asm.AtomicAdd, asm.SizeDW, 0, 0x0000_0001_ffff_ffff, 1, r0Init, 0x0000_0002_0000_0000, 1, r0Init},
	{"add wraps", asm.AtomicAdd, asm.SizeDW, 0, math.MaxUint64, 2, r0Init, 1, 2, r0Init},
	{"or", asm.AtomicOr, asm.SizeDW, 0, 0xf0f0_0000_0000_00f0, 0x0f00_0000_0000_000f, r0Init, 0xfff0_0000_0000_00ff, 0x0f00_0000_0000_000f, r0Init},
	{"and", asm.AtomicAnd, asm.SizeDW, 0, 0xff00_ff00_ff00_ff01, 0x0ff0_0ff0_0ff0_0ff0, r0Init, 0x0f00_0f00_0f00_0f00, 0x0ff0_0ff0_0ff0_0ff0, r0Init},
	{"xor", asm.AtomicXor, asm.SizeDW, 0, 0xaaaa_aaaa_aaaa_aaaa, 0xffff_0000_ffff_0000, r0Init, 0x5555_aaaa_5555_aaaa, 0xffff_0000_ffff_0000, r0Init},
	// 64-bit fetch forms: the source register receives the old value.
	{"fetch add", asm.AtomicAdd | asm.AtomicFetch, asm.SizeDW, 0, 0x0000_0001_ffff_ffff, 1, r0Init, 0x0000_0002_0000_0000, 0x0000_0001_ffff_ffff, r0Init},
	{"fetch or", asm.AtomicOr | asm.AtomicFetch, asm.SizeDW, 0, 0xf0f0_0000_0000_00f0, 0x0f00_0000_0000_000f, r0Init, 0xfff0_0000_0000_00ff, 0xf0f0_0000_0000_00f0, r0Init},
	{"fetch and", asm.AtomicAnd | asm.AtomicFetch, asm.SizeDW, 0, 0xff00_ff00_ff00_ff01, 0x0ff0_0ff0_0ff0_0ff0, r0Init, 0x0f00_0f00_0f00_0f00, 0xff00_ff00_ff00_ff01, r0Init},
	{"fetch xor", asm.AtomicXor | asm.AtomicFetch, asm.SizeDW, 0, 0xaaaa_aaaa_aaaa_aaaa, 0xffff_0000_ffff_0000, r0Init, 0x5555_aaaa_5555_aaaa, 0xaaaa_aaaa_aaaa_aaaa, r0Init},
	{"xchg", asm.AtomicXchg, asm.SizeDW, 0, 0x1111_2222_3333_4444, 0x5555_6666_7777_8888, r0Init, 0x5555_6666_7777_8888, 0x1111_2222_3333_4444, r0Init},
	// cmpxchg compares with r0 and always loads the old value into r0.
	{"cmpxchg equal", asm.AtomicCmpXchg, asm.SizeDW, 0, 0x1_0000_0005, 9, 0x1_0000_0005, 9, 9, 0x1_0000_0005},
	{"cmpxchg differ", asm.AtomicCmpXchg, asm.SizeDW, 0, 0x1_0000_0005, 9, 0x2_0000_0005, 0x1_0000_0005, 9, 0x1_0000_0005},

	// 32-bit on the low half: the high half of the word is untouched, the
	// operand is the low half of the source register, a fetched value is
	// zero-extended.
	{"add32", asm.AtomicAdd, asm.SizeW, 0, 0xaaaa_aaaa_ffff_ffff, 0x1234_5678_0000_0002, r0Init, 0xaaaa_aaaa_0000_0001, 0x1234_5678_0000_0002, r0Init},
	{"or32", asm.AtomicOr, asm.SizeW, 0, 0xaaaa_aaaa_0000_f000, 0xffff_ffff_0000_000f, r0Init, 0xaaaa_aaaa_0000_f00f, 0xffff_ffff_0000_000f, r0Init},
	{"and32", asm.AtomicAnd, asm.SizeW, 0, 0xaaaa_aaaa_ff00_ff01, 0x0000_0000_0ff0_0ff0, r0Init, 0xaaaa_aaaa_0f00_0f00, 0x0ff0_0ff0, r0Init},
	{"xor32", asm.AtomicXor, asm.SizeW, 0, 0xaaaa_aaaa_aaaa_aaaa, 0xffff_ffff_ffff_0000, r0Init, 0xaaaa_aaaa_5555_aaaa, 0xffff_ffff_ffff_0000, r0Init},
	{"fetch add32", asm.AtomicAdd | asm.AtomicFetch, asm.SizeW, 0, 0xaaaa_aaaa_ffff_ffff, 0x1234_5678_0000_0002, r0Init, 0xaaaa_aaaa_0000_0001, 0xffff_ffff, r0Init},
	{"fetch or32", asm.AtomicOr | asm.AtomicFetch, asm.SizeW, 0, 0xaaaa_aaaa_8000_f000, 0xffff_ffff_0000_000f, r0Init, 0xaaaa_aaaa_8000_f00f, 0x8000_f000, r0Init},
	{"fetch and32", asm.AtomicAnd | asm.AtomicFetch, asm.SizeW, 0, 0xaaaa_aaaa_ff00_ff01, 0xffff_ffff_0ff0_0ff0, r0Init, 0xaaaa_aaaa_0f00_0f00, 0xff00_ff01, r0Init},
	{"fetch xor32", asm.AtomicXor | asm.AtomicFetch, asm.SizeW, 0, 0xaaaa_aaaa_aaaa_aaaa, 0xffff_ffff_ffff_0000, r0Init, 0xaaaa_aaaa_5555_aaaa, 0xaaaa_aaaa, r0Init},
	{"xchg32", asm.AtomicXchg, asm.SizeW, 0, 0xaaaa_aaaa_8765_4321, 0xffff_ffff_1234_5678, r0Init, 0xaaaa_aaaa_1234_5678, 0x8765_4321, r0Init},
	// cmpxchg32 compares the low half of r0 only.
	{"cmpxchg32 equal", asm.AtomicCmpXchg, asm.SizeW, 0, 0xaaaa_aaaa_8000_0005, 0x1111_1111_0000_0009, 0xffff_ffff_8000_0005, 0xaaaa_aaaa_0000_0009, 0x1111_1111_0000_0009, 0x8000_0005},
	{"cmpxchg32 differ", asm.AtomicCmpXchg, asm.SizeW, 0, 0xaaaa_aaaa_8000_0005, 0x1111_1111_0000_0009, 0x8000_0006, 0xaaaa_aaaa_8000_0005, 0x1111_1111_0000_0009, 0x8000_0005},

	// 32-bit on the high half (4-byte aligned, not 8).
	{"add32 high", asm.AtomicAdd, asm.SizeW, 4, 0xffff_ffff_aaaa_aaaa, 1, r0Init, 0x0000_0000_aaaa_aaaa, 1, r0Init},
	{"fetch xor32 high", asm.AtomicXor | asm.AtomicFetch, asm.SizeW, 4, 0x8000_0001_aaaa_aaaa, 0xffff_ffff_0000_0003, r0Init, 0x8000_0002_aaaa_aaaa, 0x8000_0001, r0Init},
	{"xchg32 high", asm.AtomicXchg, asm.SizeW, 4, 0x8765_4321_aaaa_aaaa, 0x1234_5678, r0Init, 0x1234_5678_aaaa_aaaa, 0x8765_4321, r0Init},
	{"cmpxchg32 high", asm.AtomicCmpXchg, asm.SizeW, 4, 0x8765_4321_aaaa_aaaa, 7, 0x8765_4321, 0x0000_0007_aaaa_aaaa, 7, 0x8765_4321},
}

// atomicProgram returns a program that points r8 at the 8-byte word under
// test (setup), writes the case's initial word there, performs the atomic
// operation and stores the word, the source register and r0 into the
// 24-byte context.
func atomicProgram(t *testing.T, setup string, c atomicCase) asm.Instructions {
	ins := c.instruction()
	src := fmt.Sprintf(`
mov %%r9, %%r1
%s
lddw %%r3, %#x
stxdw [%%r8+0], %%r3
lddw %%r2, %#x
lddw %%r0, %#x
%s
ldxdw %%r3, [%%r8+0]
stxdw [%%r9+0], %%r3
stxdw [%%r9+8], %%r2
stxdw [%%r9+16], %%r0
exit
fail:
mov %%r0, -1
exit`, setup, c.mem, c.src, c.r0, ins)
	return mustAssemble(t, src)
}

// TestAtomics runs every atomic operation in both widths on the stack, on
// an array map value (reached by a map value pseudo-load) and on a hash map
// value (reached through the lookup helper), and checks memory, the source
// register and r0 against values written out by hand. For map values the
// result is also read back through the map.
func TestAtomics(t *testing.T) {
	key0 := []byte{0, 0, 0, 0}
	places := []struct {
		name  string
		setup string
		word  func(array, hash maps.Map) []byte // the word as the map sees it
	}{
		{"stack", "mov %r8, %r10\nadd %r8, -16", nil},
		{"array value", "lddw %r8, mapvalue 0+8", func(a, _ maps.Map) []byte {
			v, _ := a.Lookup(key0)
			return v[8:16]
		}},
		{"hash value", `stw [%r10-4], 7
lddw %r1, map 1
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, fail
mov %r8, %r0`, func(_, h maps.Map) []byte {
			v, _ := h.Lookup([]byte{7, 0, 0, 0})
			return v
		}},
	}
	for _, pl := range places {
		for _, c := range atomicCases {
			t.Run(pl.name+"/"+c.name, func(t *testing.T) {
				array := newMap(t, &maps.Spec{Name: "array", Type: maps.Array, KeySize: 4, ValueSize: 16, MaxEntries: 1})
				hash := newMap(t, &maps.Spec{Name: "hash", Type: maps.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 2,
					Contents: []maps.Entry{{Key: []byte{7, 0, 0, 0}, Value: make([]byte, 8)}}})
				insns := atomicProgram(t, pl.setup, c)
				p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "atomic", Instructions: insns, MapNames: []string{"array", "hash"}},
					&ebpf.ProgramOptions{
						// Unverified: the atomics tests pin the interpreter's run-time
						// semantics and faults (read-only, alignment) on their own.
						Unverified: true, Maps: map[string]maps.Map{"array": array, "hash": hash}})
				if err != nil {
					t.Fatal(err)
				}
				ctx := make([]byte, 24)
				if _, err := p.Run(ctx); err != nil {
					t.Fatalf("%v\n%s", err, insns)
				}
				mem, src, r0 := binary.LittleEndian.Uint64(ctx), binary.LittleEndian.Uint64(ctx[8:]), binary.LittleEndian.Uint64(ctx[16:])
				if mem != c.wantMem || src != c.wantSrc || r0 != c.wantR0 {
					t.Errorf("memory %#x, source %#x, r0 %#x; want %#x, %#x, %#x", mem, src, r0, c.wantMem, c.wantSrc, c.wantR0)
				}
				if pl.word != nil {
					if w := pl.word(array, hash); binary.LittleEndian.Uint64(w) != c.wantMem {
						t.Errorf("the map holds %x, want %#x", w, c.wantMem)
					}
				}
			})
		}
	}
}

// refAtomic is the reference model of an atomic operation (RFC 9669 §5.3)
// on the 8-byte word mem, 32-bit operations acting on the half at byte
// off: it returns the new word, source register and r0.
func refAtomic(op asm.AtomicOp, size asm.Size, off int16, mem, src, r0 uint64) (uint64, uint64, uint64) {
	width, shift := uint(64), uint(0)
	if size == asm.SizeW {
		width, shift = 32, uint(8*off)
	}
	old := lowBits(mem>>shift, width)
	s := lowBits(src, width)
	var res uint64
	switch op &^ asm.AtomicFetch {
	case asm.AtomicAdd:
		res = old + s
	case asm.AtomicOr:
		res = old | s
	case asm.AtomicAnd:
		res = old & s
	case asm.AtomicXor:
		res = old ^ s
	case asm.AtomicXchg &^ asm.AtomicFetch:
		res = s
	case asm.AtomicCmpXchg &^ asm.AtomicFetch:
		res = old
		if old == lowBits(r0, width) {
			res = s
		}
	}
	keep := ^(lowBits(math.MaxUint64, width) << shift)
	mem = mem&keep | lowBits(res, width)<<shift
	switch {
	case op == asm.AtomicCmpXchg:
		r0 = old
	case op&asm.AtomicFetch != 0:
		src = old
	}
	return mem, src, r0
}

// TestAtomicsDifferential runs every atomic operation, in both widths and
// on both halves of a word for 32 bits, on random related values on the
// stack, and compares with refAtomic.
func TestAtomicsDifferential(t *testing.T) {
	rng := testRand(t)
	ops := []asm.AtomicOp{asm.AtomicAdd, asm.AtomicOr, asm.AtomicAnd, asm.AtomicXor, asm.AtomicXchg, asm.AtomicCmpXchg}
	for _, op := range ops[:4] {
		ops = append(ops, op|asm.AtomicFetch)
	}
	n := 0
	for _, op := range ops {
		for _, loc := range []struct {
			size asm.Size
			off  int16
		}{{asm.SizeDW, 0}, {asm.SizeW, 0}, {asm.SizeW, 4}} {
			for range 40 {
				c := atomicCase{op: op, size: loc.size, off: loc.off, mem: randValue(rng), src: randValue(rng), r0: randValue(rng)}
				switch rng.IntN(3) {
				case 0:
					c.r0 = c.mem // cmpxchg succeeds
				case 1:
					c.r0 = c.mem>>32 | c.mem<<32 // succeeds on the high half
				}
				c.wantMem, c.wantSrc, c.wantR0 = refAtomic(c.op, c.size, c.off, c.mem, c.src, c.r0)
				insns := atomicProgram(t, "mov %r8, %r10\nadd %r8, -8", c)
				ctx := make([]byte, 24)
				if _, err := loadInsns(t, insns).Run(ctx); err != nil {
					t.Fatalf("%v\n%s", err, insns)
				}
				mem, src, r0 := binary.LittleEndian.Uint64(ctx), binary.LittleEndian.Uint64(ctx[8:]), binary.LittleEndian.Uint64(ctx[16:])
				if mem != c.wantMem || src != c.wantSrc || r0 != c.wantR0 {
					t.Fatalf("%s on word %#x, source %#x, r0 %#x: got word %#x, source %#x, r0 %#x; model says %#x, %#x, %#x",
						c.instruction(), c.mem, c.src, c.r0, mem, src, r0, c.wantMem, c.wantSrc, c.wantR0)
				}
				n++
			}
		}
	}
	t.Logf("%d operations checked", n)
}

// TestAtomicFaults: atomics are bounds-checked like stores, refuse
// read-only memory and need natural alignment.
func TestAtomicFaults(t *testing.T) {
	ro := newMap(t, &maps.Spec{Name: "ro", Type: maps.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1, ReadOnlyProg: true})
	tests := []struct {
		name string
		src  string
		want error
	}{
		{"dw past the stack top", "mov %r1, 1\nlock add [%r10-4], %r1\nexit", ebpf.ErrMemory},
		{"w past the stack top", "mov %r1, 1\nlock fetch add32 [%r10+0], %r1\nexit", ebpf.ErrMemory},
		{"below the stack", "mov %r1, 1\nlock xchg [%r10-4104], %r1\nexit", ebpf.ErrMemory},
		{"read-only map value", "lddw %r2, mapvalue 0+0\nmov %r1, 1\nlock add [%r2+0], %r1\nexit", ebpf.ErrMemory},
		{"read-only cmpxchg", "lddw %r2, mapvalue 0+0\nmov %r0, 1\nlock cmpxchg32 [%r2+0], %r1\nexit", ebpf.ErrMemory},
		{"dw on 4-byte alignment", "mov %r1, 1\nlock add [%r10-12], %r1\nexit", ebpf.ErrAlignment},
		{"w on 2-byte alignment", "mov %r1, 1\nlock cmpxchg32 [%r10-6], %r1\nexit", ebpf.ErrAlignment},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			insns := mustAssemble(t, tt.src)
			p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "atomic", Instructions: insns, MapNames: []string{"ro"}},
				&ebpf.ProgramOptions{
					// Unverified: the atomics tests pin the interpreter's run-time
					// semantics and faults (read-only, alignment) on their own.
					Unverified: true, Maps: map[string]maps.Map{"ro": ro}})
			if err != nil {
				t.Fatal(err)
			}
			pc := insns.Slots() - 2
			_, err = p.Run(nil)
			var re *ebpf.RunError
			if !errors.Is(err, tt.want) || !errors.As(err, &re) || re.PC != pc {
				t.Fatalf("err = %v, want %v at instruction %d", err, tt.want, pc)
			}
			var me *ebpf.MemoryError
			if errors.As(err, &me) && (me.PC != pc || !me.Write) {
				t.Errorf("memory error %+v: want a write at instruction %d", me, pc)
			}
		})
	}
	if v, _ := ro.Lookup([]byte{0, 0, 0, 0}); binary.LittleEndian.Uint64(v) != 0 {
		t.Errorf("read-only value changed to %x", v)
	}
}

// TestAtomicsConcurrent: fetch-add hands out every old value exactly once,
// and a cmpxchg retry loop (which reads the word only through cmpxchg)
// loses no increment, with runs on many goroutines at once.
func TestAtomicsConcurrent(t *testing.T) {
	const goroutines, runs = 8, 300
	tests := []struct {
		name, src string
		size      asm.Size
	}{
		{"fetch add", "mov %r0, 1\nlock fetch add [%r8+0], %r0\nexit", asm.SizeDW},
		{"fetch add32", "mov %r0, 1\nlock fetch add32 [%r8+0], %r0\nexit", asm.SizeW},
		{"cmpxchg loop", `mov %r6, 0
retry:
mov %r0, %r6
mov %r1, %r6
add %r1, 1
lock cmpxchg [%r8+0], %r1
jeq %r0, %r6, done
mov %r6, %r0
ja retry
done:
exit`, asm.SizeDW},
		{"cmpxchg32 loop", `mov %r6, 0
retry:
mov %r0, %r6
mov %r1, %r6
add %r1, 1
lock cmpxchg32 [%r8+0], %r1
jeq %r0, %r6, done
mov %r6, %r0
ja retry
done:
exit`, asm.SizeW},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			array := newMap(t, &maps.Spec{Name: "array", Type: maps.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1})
			insns := mustAssemble(t, "lddw %r8, mapvalue 0+0\n"+tt.src)
			p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "atomic", Instructions: insns, MapNames: []string{"array"}},
				&ebpf.ProgramOptions{
					// Unverified: the atomics tests pin the interpreter's run-time
					// semantics and faults (read-only, alignment) on their own.
					Unverified: true, Maps: map[string]maps.Map{"array": array}, Budget: -1})
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			seen := map[uint64]bool{}
			var wg sync.WaitGroup
			for range goroutines {
				wg.Go(func() {
					r := p.NewRunner()
					for range runs {
						old, err := r.Run(nil)
						if err != nil {
							t.Error(err)
							return
						}
						mu.Lock()
						if seen[old] {
							t.Errorf("old value %d handed out twice", old)
						}
						seen[old] = true
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			v, _ := array.Lookup([]byte{0, 0, 0, 0})
			if got := binary.LittleEndian.Uint64(v); got != goroutines*runs || len(seen) != goroutines*runs {
				t.Fatalf("counter = %d with %d distinct old values; want %d", got, len(seen), goroutines*runs)
			}
		})
	}
}

// TestALUFormsComplete pins the list the tests draw from: every arithmetic
// form RFC 9669 defines, each valid.
func TestALUFormsComplete(t *testing.T) {
	var names []string
	for _, f := range aluForms {
		ins := f.instruction(asm.R1, asm.R2, 1)
		if err := ins.Validate(); err != nil {
			t.Errorf("%v: %v", f, err)
		}
		names = append(names, strings.Fields(ins.String())[0])
	}
	slices.Sort(names)
	names = slices.Compact(names)
	// 2 classes x (13 ops + sdiv + smod + 2 movsx) + movsx3264 + le/be x 3 + bswap x 3.
	if len(aluForms) != 2*(12*2+2*2+1+2)+1+6+3 || len(names) != 2*(13+2+2)+1+6+3 {
		t.Errorf("%d forms, %d mnemonics: %v", len(aluForms), len(names), names)
	}
}
