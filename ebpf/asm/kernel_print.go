package asm

import (
	"fmt"
	"strings"
)

// KernelString returns the instruction in the kernel syntax that
// AssembleKernel reads: `r1 += 5`, `w0 = w1`, `r1 = *(u32 *)(r2 + 4)`,
// `if r1 s< -1 goto +3`, `r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)`.
// Jumps and local calls show their relative offset (+3, pc-2), so the text
// of a whole program re-assembles to the same instructions. Numbers print as
// in String: decimal when small, otherwise as a hex bit pattern. Where the
// syntax has two spellings, it prints llvm-objdump's: `(s8)` casts,
// `bswap16`, `&` for jset, the atomic_fetch_* and [cmp]xchg forms, and ` ll`
// after a 64-bit constant. An instruction that fails Validate prints as in
// String, in a form AssembleKernel rejects.
func (ins Instruction) KernelString() string {
	if err := ins.Validate(); err != nil {
		return ins.String()
	}
	op := ins.OpCode
	switch op.Class() {
	case ClassALU, ClassALU64:
		return ins.kernelALU()
	case ClassJMP, ClassJMP32:
		return ins.kernelJump()
	case ClassLD:
		return ins.kernelLD()
	case ClassLDX:
		t := "u"
		if op.Mode() == ModeMEMSX {
			t = "s"
		}
		return fmt.Sprintf("r%d = *(%s%d *)%s", ins.Dst, t, op.Size().Bytes()*8, kernelAddr(ins.Src, ins.Offset))
	case ClassST:
		return fmt.Sprintf("%s = %s", kernelMem(op.Size(), ins.Dst, ins.Offset), formatImm(ins.Imm()))
	}
	// ClassSTX.
	mem := kernelMem(op.Size(), ins.Dst, ins.Offset)
	if op.Mode() == ModeMEM {
		return fmt.Sprintf("%s = r%d", mem, ins.Src)
	}
	src := kernelReg(ins.Src, op.Size() == SizeDW)
	a := AtomicOp(ins.Constant)
	suffix := "_64"
	if op.Size() == SizeW {
		suffix = "32_32"
	}
	addr := strings.Trim(kernelAddr(ins.Dst, ins.Offset), "()")
	switch a {
	case AtomicXchg:
		return fmt.Sprintf("%s = xchg%s(%s, %s)", src, suffix, addr, src)
	case AtomicCmpXchg:
		return fmt.Sprintf("%s = cmpxchg%s(%s, %s, %s)", kernelReg(R0, op.Size() == SizeDW), suffix, addr, kernelReg(R0, op.Size() == SizeDW), src)
	}
	if a&AtomicFetch != 0 {
		return fmt.Sprintf("%s = atomic_fetch_%s((u%d *)%s, %s)", src, a&^AtomicFetch, op.Size().Bytes()*8, kernelAddr(ins.Dst, ins.Offset), src)
	}
	return fmt.Sprintf("lock %s %s= %s", mem, kernelAtomicOps[a], src)
}

// kernelAtomicOps are the operator characters of the non-fetching atomics.
var kernelAtomicOps = map[AtomicOp]string{AtomicAdd: "+", AtomicOr: "|", AtomicAnd: "&", AtomicXor: "^"}

// kernelALUOps are the compound assignment operators of the ALU operations
// (signed division and modulo add an s).
var kernelALUOps = map[ALUOp]string{
	Add: "+=", Sub: "-=", Mul: "*=", Div: "/=", Or: "|=", And: "&=", LSh: "<<=",
	RSh: ">>=", Mod: "%=", Xor: "^=", Mov: "=", ArSh: "s>>=",
}

func (ins Instruction) kernelALU() string {
	op := ins.OpCode
	wide := op.Class() == ClassALU64
	dst := kernelReg(ins.Dst, wide)
	a := op.ALUOp()
	switch a {
	case End:
		name := "bswap"
		if op.Class() == ClassALU {
			name = "le"
			if op.Source() == SourceReg {
				name = "be"
			}
		}
		return fmt.Sprintf("r%d = %s%d r%d", ins.Dst, name, ins.Constant, ins.Dst)
	case Neg:
		return fmt.Sprintf("%s = -%s", dst, dst)
	case Mov:
		if ins.Offset != 0 {
			return fmt.Sprintf("%s = (s%d)%s", dst, ins.Offset, kernelReg(ins.Src, wide))
		}
	}
	name := kernelALUOps[a]
	if (a == Div || a == Mod) && ins.Offset == 1 {
		name = "s" + name
	}
	return fmt.Sprintf("%s %s %s", dst, name, ins.kernelSource(wide))
}

// kernelSource formats the second operand of an ALU or jump instruction.
func (ins Instruction) kernelSource(wide bool) string {
	if ins.OpCode.Source() == SourceReg {
		return kernelReg(ins.Src, wide)
	}
	if ins.isBitwise() {
		return "0x" + fmt.Sprintf("%x", uint32(ins.Imm()))
	}
	return formatImm(ins.Imm())
}

// kernelJumpOps are the comparison operators of the conditional jumps.
var kernelJumpOps = map[JumpOp]string{
	JEq: "==", JNE: "!=", JGT: ">", JGE: ">=", JLT: "<", JLE: "<=",
	JSGT: "s>", JSGE: "s>=", JSLT: "s<", JSLE: "s<=", JSet: "&",
}

func (ins Instruction) kernelJump() string {
	op := ins.OpCode
	switch op.JumpOp() {
	case Exit:
		return "exit"
	case Call:
		switch {
		case op.Source() == SourceReg:
			return fmt.Sprintf("callx r%d", ins.Dst)
		case ins.Src == PseudoCallLocal:
			return "call pc" + formatOffset(int64(ins.Imm()))
		case ins.Src == PseudoKfuncCall:
			return "call kfunc " + formatImm(ins.Imm())
		}
		return "call " + formatImm(ins.Imm())
	case Ja:
		if op.Class() == ClassJMP32 {
			return "gotol " + formatOffset(int64(ins.Imm()))
		}
		return "goto " + formatOffset(int64(ins.Offset))
	}
	wide := op.Class() == ClassJMP
	return fmt.Sprintf("if %s %s %s goto %s", kernelReg(ins.Dst, wide), kernelJumpOps[op.JumpOp()],
		ins.kernelSource(wide), formatOffset(int64(ins.Offset)))
}

func (ins Instruction) kernelLD() string {
	op := ins.OpCode
	bits := op.Size().Bytes() * 8
	switch op.Mode() {
	case ModeABS:
		return fmt.Sprintf("r0 = *(u%d *)skb[%s]", bits, formatImm(ins.Imm()))
	case ModeIND:
		if ins.Constant == 0 {
			return fmt.Sprintf("r0 = *(u%d *)skb[r%d]", bits, ins.Src)
		}
		v := int64(ins.Imm())
		sign := "+"
		if v < 0 {
			sign, v = "-", -v
		}
		return fmt.Sprintf("r0 = *(u%d *)skb[r%d %s %s]", bits, ins.Src, sign, formatImm64(v))
	}
	lo, hi := uint32(ins.Constant), uint32(uint64(ins.Constant)>>32)
	var s string
	switch ins.Src {
	case PseudoNone:
		return fmt.Sprintf("r%d = %s ll", ins.Dst, formatImm64(ins.Constant))
	case PseudoMapFD:
		s = fmt.Sprintf("r%d = map_fd %d", ins.Dst, lo)
	case PseudoMapValue:
		return fmt.Sprintf("r%d = map_val(%d) + %d", ins.Dst, lo, hi)
	case PseudoBTFID:
		s = fmt.Sprintf("r%d = btf_id(%d)", ins.Dst, lo)
	case PseudoFunc:
		s = fmt.Sprintf("r%d = func(%d)", ins.Dst, lo)
	case PseudoMapIdx:
		s = fmt.Sprintf("r%d = map_by_idx(%d)", ins.Dst, lo)
	case PseudoMapIdxValue:
		return fmt.Sprintf("r%d = mva(map_by_idx(%d)) + %d", ins.Dst, lo, hi)
	}
	if hi != 0 {
		s += fmt.Sprintf(" + %d", hi)
	}
	return s
}

// kernelReg formats a register as rN or wN.
func kernelReg(r Register, wide bool) string {
	if wide {
		return fmt.Sprintf("r%d", r)
	}
	return fmt.Sprintf("w%d", r)
}

// kernelAddr formats "(rN + off)" or "(rN - off)".
func kernelAddr(r Register, off int16) string {
	if off < 0 {
		return fmt.Sprintf("(r%d - %d)", r, -int(off))
	}
	return fmt.Sprintf("(r%d + %d)", r, off)
}

// kernelMem formats a memory operand "*(u32 *)(rN + off)".
func kernelMem(s Size, r Register, off int16) string {
	return fmt.Sprintf("*(u%d *)%s", s.Bytes()*8, kernelAddr(r, off))
}

// DisassembleKernel returns the program in the kernel syntax, one
// instruction per line and nothing else. For every program whose
// instructions pass Validate and whose jumps land inside it,
// AssembleKernel(DisassembleKernel(insns)) returns insns.
func DisassembleKernel(insns Instructions) string {
	var b strings.Builder
	for _, ins := range insns {
		b.WriteString(ins.KernelString())
		b.WriteByte('\n')
	}
	return b.String()
}
