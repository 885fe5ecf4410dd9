package amd64

import (
	"fmt"
	"strconv"
	"strings"
)

// Reg is a general-purpose register. Its value is the 4-bit register number
// of the encoding: the low three bits go into ModRM, SIB or the opcode, the
// high bit into REX.
type Reg uint8

// The sixteen general-purpose registers.
const (
	RAX Reg = iota
	RCX
	RDX
	RBX
	RSP
	RBP
	RSI
	RDI
	R8
	R9
	R10
	R11
	R12
	R13
	R14
	R15
)

// NoReg marks an absent index register in a Mem.
const NoReg Reg = 0xff

var regNames = [4][16]string{
	{"al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil", "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"},
	{"ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"},
	{"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"},
	{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"},
}

// String returns the 64-bit name of r ("rax", "r8").
func (r Reg) String() string { return r.Name(S64) }

// Name returns the name of r accessed with size s ("sil", "r8d", "ax").
func (r Reg) Name(s Size) string {
	if r == NoReg {
		return "noreg"
	}
	if r > R15 || s > S64 {
		return fmt.Sprintf("Reg(%d)", uint8(r))
	}
	return regNames[s][r]
}

func (r Reg) valid() bool { return r <= R15 }
func (r Reg) low() byte   { return byte(r) & 7 }
func (r Reg) high() byte  { return byte(r) >> 3 }

// needsRex8 reports whether an 8-bit access to r needs a REX prefix to mean
// SPL, BPL, SIL or DIL rather than AH, CH, DH or BH.
func (r Reg) needsRex8() bool { return r >= RSP && r <= RDI }

// Size is an operand size.
type Size uint8

// Operand sizes.
const (
	S8 Size = iota
	S16
	S32
	S64
)

// Bits returns the width of s in bits.
func (s Size) Bits() int { return 8 << s }

// String returns the Intel memory-operand keyword of s ("byte", "qword").
func (s Size) String() string {
	switch s {
	case S8:
		return "byte"
	case S16:
		return "word"
	case S32:
		return "dword"
	case S64:
		return "qword"
	}
	return "Size(" + strconv.Itoa(int(s)) + ")"
}

// Cond is an x86 condition code, the low four bits of Jcc, SETcc and CMOVcc.
type Cond uint8

// The sixteen condition codes. Unsigned comparisons use B/AE/BE/A, signed
// ones L/GE/LE/G.
const (
	CondO  Cond = iota // overflow
	CondNO             // no overflow
	CondB              // below (unsigned <), carry
	CondAE             // above or equal (unsigned >=), no carry
	CondE              // equal, zero
	CondNE             // not equal, not zero
	CondBE             // below or equal (unsigned <=)
	CondA              // above (unsigned >)
	CondS              // sign
	CondNS             // no sign
	CondP              // parity even
	CondNP             // parity odd
	CondL              // less (signed <)
	CondGE             // greater or equal (signed >=)
	CondLE             // less or equal (signed <=)
	CondG              // greater (signed >)
)

var condNames = [16]string{"o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"}

// String returns the suffix of c as in "jne" ("ne").
func (c Cond) String() string {
	if c > CondG {
		return "Cond(" + strconv.Itoa(int(c)) + ")"
	}
	return condNames[c]
}

// Invert returns the condition that holds exactly when c does not.
func (c Cond) Invert() Cond { return c ^ 1 }

// ALUOp is a two-operand integer operation of x86's first opcode group. Its
// value is the /digit of the 80/81/83 immediate forms; the register forms
// are opcode value*8 + 0..3.
type ALUOp uint8

// The ALU operations. CMP sets flags like SUB without writing its result.
const (
	ADD ALUOp = 0
	OR  ALUOp = 1
	ADC ALUOp = 2
	SBB ALUOp = 3
	AND ALUOp = 4
	SUB ALUOp = 5
	XOR ALUOp = 6
	CMP ALUOp = 7
)

var aluNames = [8]string{"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"}

// String returns the mnemonic of op.
func (op ALUOp) String() string {
	if op > CMP {
		return "ALUOp(" + strconv.Itoa(int(op)) + ")"
	}
	return aluNames[op]
}

// UnaryOp is a one-operand operation of the F6/F7 opcode group. Its value is
// the /digit. MUL, IMUL1, DIV and IDIV use RDX:RAX implicitly; setting up
// RDX (CQO, CDQ or XOR EDX, EDX) is the caller's job.
type UnaryOp uint8

// The unary operations.
const (
	NOT   UnaryOp = 2
	NEG   UnaryOp = 3
	MUL   UnaryOp = 4
	IMUL1 UnaryOp = 5 // one-operand signed multiply, RDX:RAX = RAX * r
	DIV   UnaryOp = 6
	IDIV  UnaryOp = 7
)

// String returns the mnemonic of op.
func (op UnaryOp) String() string {
	switch op {
	case NOT:
		return "not"
	case NEG:
		return "neg"
	case MUL:
		return "mul"
	case IMUL1:
		return "imul"
	case DIV:
		return "div"
	case IDIV:
		return "idiv"
	}
	return "UnaryOp(" + strconv.Itoa(int(op)) + ")"
}

// ShiftOp is a shift or rotate of the C0/C1/D0-D3 group. Its value is the
// /digit.
type ShiftOp uint8

// The shifts and rotates.
const (
	ROL ShiftOp = 0
	ROR ShiftOp = 1
	SHL ShiftOp = 4
	SHR ShiftOp = 5
	SAR ShiftOp = 7
)

// String returns the mnemonic of op.
func (op ShiftOp) String() string {
	switch op {
	case ROL:
		return "rol"
	case ROR:
		return "ror"
	case SHL:
		return "shl"
	case SHR:
		return "shr"
	case SAR:
		return "sar"
	}
	return "ShiftOp(" + strconv.Itoa(int(op)) + ")"
}

// Mem is a memory operand [Base + Index*Scale + Disp]. Build it with M or
// MI. Every memory operand has a base register; Index is NoReg when absent.
type Mem struct {
	Base  Reg
	Index Reg
	Scale uint8 // 1, 2, 4 or 8; ignored without an index
	Disp  int32
}

// M returns the operand [base + disp].
func M(base Reg, disp int32) Mem { return Mem{Base: base, Index: NoReg, Scale: 1, Disp: disp} }

// MI returns the operand [base + index*scale + disp].
func MI(base, index Reg, scale uint8, disp int32) Mem {
	return Mem{Base: base, Index: index, Scale: scale, Disp: disp}
}

// String returns m in Intel syntax without a size keyword:
// "[rbx + rcx*4 + 16]".
func (m Mem) String() string {
	var b strings.Builder
	m.write(&b)
	return b.String()
}

func (m Mem) write(b *strings.Builder) {
	b.WriteByte('[')
	b.WriteString(m.Base.String())
	if m.Index != NoReg {
		b.WriteString(" + ")
		b.WriteString(m.Index.String())
		b.WriteByte('*')
		b.WriteString(strconv.Itoa(int(m.Scale)))
	}
	if m.Disp > 0 {
		b.WriteString(" + ")
		b.WriteString(strconv.FormatInt(int64(m.Disp), 10))
	} else if m.Disp < 0 {
		b.WriteString(" - ")
		b.WriteString(strconv.FormatInt(-int64(m.Disp), 10))
	}
	b.WriteByte(']')
}

func (m Mem) check() error {
	if !m.Base.valid() {
		return fmt.Errorf("%w: base register %v", ErrOperand, m.Base)
	}
	if m.Index == NoReg {
		return nil
	}
	if !m.Index.valid() {
		return fmt.Errorf("%w: index register %v", ErrOperand, m.Index)
	}
	if m.Index == RSP {
		return fmt.Errorf("%w: rsp cannot be an index register", ErrOperand)
	}
	switch m.Scale {
	case 1, 2, 4, 8:
		return nil
	}
	return fmt.Errorf("%w: scale %d (want 1, 2, 4 or 8)", ErrOperand, m.Scale)
}
