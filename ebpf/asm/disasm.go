package asm

import (
	"fmt"
	"strconv"
	"strings"
)

// smallImm is the largest magnitude an immediate may have to print in
// decimal (see the package doc).
const smallImm = 4096

// ldPseudoNames are the lddw operand kinds for the pseudo sources 1-6.
var ldPseudoNames = [...]string{
	PseudoMapFD:       "map",
	PseudoMapValue:    "mapvalue",
	PseudoBTFID:       "btf",
	PseudoFunc:        "func",
	PseudoMapIdx:      "mapidx",
	PseudoMapIdxValue: "mapidxvalue",
}

// String returns the instruction in assembler syntax. Jumps show their
// relative offset (+3, -2), so the text of a whole program re-assembles to
// the same instructions. An instruction that fails Validate prints its raw
// fields and the reason, in a form Assemble rejects.
func (ins Instruction) String() string {
	if err := ins.Validate(); err != nil {
		return fmt.Sprintf("invalid op=0x%02x dst=%d src=%d off=%d imm=%#x (%v)",
			uint8(ins.OpCode), uint8(ins.Dst), uint8(ins.Src), ins.Offset, ins.Constant, err)
	}
	switch c := ins.OpCode.Class(); c {
	case ClassALU, ClassALU64:
		return ins.aluString()
	case ClassJMP, ClassJMP32:
		return ins.jumpString()
	case ClassLD:
		return ins.ldString()
	case ClassLDX:
		name := "ldx"
		if ins.OpCode.Mode() == ModeMEMSX {
			name = "ldxs"
		}
		return fmt.Sprintf("%s%s %s, %s", name, sizeSuffix(ins.OpCode.Size()), ins.Dst, memOperand(ins.Src, ins.Offset))
	case ClassST:
		return fmt.Sprintf("st%s %s, %s", sizeSuffix(ins.OpCode.Size()), memOperand(ins.Dst, ins.Offset), formatImm(ins.Imm()))
	default: // ClassSTX
		mem := memOperand(ins.Dst, ins.Offset)
		if ins.OpCode.Mode() == ModeMEM {
			return fmt.Sprintf("stx%s %s, %s", sizeSuffix(ins.OpCode.Size()), mem, ins.Src)
		}
		suffix := ""
		if ins.OpCode.Size() == SizeW {
			suffix = "32"
		}
		return fmt.Sprintf("lock %s%s %s, %s", AtomicOp(ins.Constant), suffix, mem, ins.Src)
	}
}

func (ins Instruction) aluString() string {
	op := ins.OpCode
	suffix := ""
	if op.Class() == ClassALU {
		suffix = "32"
	}
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
		return fmt.Sprintf("%s%d %s", name, ins.Constant, ins.Dst)
	case Neg:
		return fmt.Sprintf("neg%s %s", suffix, ins.Dst)
	case Mov:
		if ins.Offset != 0 {
			// movsx names the source width, then the destination width.
			width := "64"
			if op.Class() == ClassALU {
				width = "32"
			}
			return fmt.Sprintf("movsx%d%s %s, %s", ins.Offset, width, ins.Dst, ins.Src)
		}
	}
	name := a.String()
	if (a == Div || a == Mod) && ins.Offset == 1 {
		name = "s" + name
	}
	return fmt.Sprintf("%s%s %s, %s", name, suffix, ins.Dst, ins.sourceOperand())
}

func (ins Instruction) jumpString() string {
	op := ins.OpCode
	j := op.JumpOp()
	switch j {
	case Exit:
		return "exit"
	case Call:
		switch {
		case op.Source() == SourceReg:
			return "call " + ins.Dst.String()
		case ins.Src == PseudoCallLocal:
			return "call local " + formatOffset(int64(ins.Imm()))
		case ins.Src == PseudoKfuncCall:
			return "call runtime " + formatImm(ins.Imm())
		}
		return "call " + formatImm(ins.Imm())
	case Ja:
		if op.Class() == ClassJMP32 {
			return "ja32 " + formatOffset(int64(ins.Imm()))
		}
		return "ja " + formatOffset(int64(ins.Offset))
	}
	suffix := ""
	if op.Class() == ClassJMP32 {
		suffix = "32"
	}
	return fmt.Sprintf("%s%s %s, %s, %s", j, suffix, ins.Dst, ins.sourceOperand(), formatOffset(int64(ins.Offset)))
}

func (ins Instruction) ldString() string {
	op := ins.OpCode
	switch op.Mode() {
	case ModeABS:
		return fmt.Sprintf("ldabs%s %s", sizeSuffix(op.Size()), formatImm(ins.Imm()))
	case ModeIND:
		return fmt.Sprintf("ldind%s %s, %s", sizeSuffix(op.Size()), ins.Src, formatImm(ins.Imm()))
	}
	if ins.Src == PseudoNone {
		return fmt.Sprintf("lddw %s, %s", ins.Dst, formatImm64(ins.Constant))
	}
	lo, hi := uint32(ins.Constant), uint32(uint64(ins.Constant)>>32)
	s := fmt.Sprintf("lddw %s, %s %d", ins.Dst, ldPseudoNames[ins.Src], lo)
	if hi != 0 || ins.Src == PseudoMapValue || ins.Src == PseudoMapIdxValue {
		s += fmt.Sprintf("+%d", hi)
	}
	return s
}

// sourceOperand formats the second operand of an arithmetic or conditional
// jump instruction: the source register or the immediate.
func (ins Instruction) sourceOperand() string {
	if ins.OpCode.Source() == SourceReg {
		return ins.Src.String()
	}
	if ins.isBitwise() {
		return "0x" + strconv.FormatUint(uint64(uint32(ins.Imm())), 16)
	}
	return formatImm(ins.Imm())
}

// isBitwise reports whether the immediate is a bit mask (and, or, xor,
// jset), which reads best in hex.
func (ins Instruction) isBitwise() bool {
	if ins.OpCode.Class().IsALU() {
		switch ins.OpCode.ALUOp() {
		case And, Or, Xor:
			return true
		}
		return false
	}
	return ins.OpCode.JumpOp() == JSet
}

// sizeSuffix is the mnemonic suffix of an access width.
func sizeSuffix(s Size) string {
	switch s {
	case SizeB:
		return "b"
	case SizeH:
		return "h"
	case SizeW:
		return "w"
	default:
		return "dw"
	}
}

// memOperand formats a memory operand: [%r1+8], [%r10-8].
func memOperand(r Register, off int16) string {
	return "[" + r.String() + formatOffset(int64(off)) + "]"
}

// formatOffset formats a signed offset with an explicit sign.
func formatOffset(v int64) string {
	if v >= 0 {
		return "+" + strconv.FormatInt(v, 10)
	}
	return strconv.FormatInt(v, 10)
}

// formatImm formats a 32-bit immediate: decimal when small, otherwise its
// 32-bit pattern in hex.
func formatImm(v int32) string {
	if v >= -smallImm && v <= smallImm {
		return strconv.FormatInt(int64(v), 10)
	}
	return "0x" + strconv.FormatUint(uint64(uint32(v)), 16)
}

// formatImm64 formats a lddw constant: decimal when small, otherwise its
// 64-bit pattern in hex.
func formatImm64(v int64) string {
	if v >= -smallImm && v <= smallImm {
		return strconv.FormatInt(v, 10)
	}
	return "0x" + strconv.FormatUint(uint64(v), 16)
}

// String returns the program with one instruction per line, each prefixed
// by the slot it starts at, right-aligned in four columns ("%4d: %s"):
// "   0: lddw %r0, 0x1122334455667788", then "   2: exit".
//
// Use Disassemble for text that Assemble accepts.
func (insns Instructions) String() string {
	var b strings.Builder
	slot := 0
	for _, ins := range insns {
		fmt.Fprintf(&b, "%4d: %s\n", slot, ins)
		slot += ins.Slots()
	}
	return b.String()
}

// Disassemble returns the program as assembler source, one instruction per
// line and nothing else. For every program whose instructions pass Validate
// and whose jumps land inside it, Assemble(Disassemble(insns)) returns
// insns.
func Disassemble(insns Instructions) string {
	var b strings.Builder
	for _, ins := range insns {
		b.WriteString(ins.String())
		b.WriteByte('\n')
	}
	return b.String()
}
