package asm

import "fmt"

// OpCode is the 8-bit operation code of an instruction. Its layout depends on
// the class in the low three bits (RFC 9669 §3):
//
//	arithmetic and jumps:          loads and stores:
//	 7      4   3   2    0          7    5  4  3   2    0
//	+--------+-----+------+        +------+----+------+
//	|  code  | src |class |        | mode |size|class |
//	+--------+-----+------+        +------+----+------+
//
// For ALU, ALU64, JMP and JMP32, src selects the second operand: 0 for the
// 32-bit immediate, 1 for the source register.
type OpCode uint8

// Class is the instruction class: the low three bits of an opcode.
type Class uint8

// The eight instruction classes.
const (
	ClassLD    Class = 0x00 // non-standard loads (lddw, legacy packet access)
	ClassLDX   Class = 0x01 // load into register
	ClassST    Class = 0x02 // store immediate
	ClassSTX   Class = 0x03 // store register (and atomics)
	ClassALU   Class = 0x04 // 32-bit arithmetic
	ClassJMP   Class = 0x05 // 64-bit jumps, calls, exit
	ClassJMP32 Class = 0x06 // 32-bit jumps
	ClassALU64 Class = 0x07 // 64-bit arithmetic
)

var classNames = [8]string{"LD", "LDX", "ST", "STX", "ALU", "JMP", "JMP32", "ALU64"}

func (c Class) String() string { return classNames[c&7] }

// IsALU reports whether c is ALU or ALU64.
func (c Class) IsALU() bool { return c == ClassALU || c == ClassALU64 }

// IsJump reports whether c is JMP or JMP32.
func (c Class) IsJump() bool { return c == ClassJMP || c == ClassJMP32 }

// IsLoadStore reports whether c is one of LD, LDX, ST and STX.
func (c Class) IsLoadStore() bool { return c <= ClassSTX }

// Source is bit 3 of an arithmetic or jump opcode: which operand is the
// second one.
type Source uint8

// The two operand sources.
const (
	SourceImm Source = 0x00 // K: the 32-bit immediate
	SourceReg Source = 0x08 // X: the source register
)

func (s Source) String() string {
	if s == SourceReg {
		return "X"
	}
	return "K"
}

// ALUOp is the operation of an ALU or ALU64 instruction: bits 4-7.
type ALUOp uint8

// Arithmetic operations. Div and Mod become signed (sdiv, smod) with offset 1;
// Mov becomes a sign-extending move (movsx) with offset 8, 16 or 32; End is a
// byte-order conversion whose width is the immediate.
const (
	Add  ALUOp = 0x00
	Sub  ALUOp = 0x10
	Mul  ALUOp = 0x20
	Div  ALUOp = 0x30
	Or   ALUOp = 0x40
	And  ALUOp = 0x50
	LSh  ALUOp = 0x60
	RSh  ALUOp = 0x70
	Neg  ALUOp = 0x80
	Mod  ALUOp = 0x90
	Xor  ALUOp = 0xa0
	Mov  ALUOp = 0xb0
	ArSh ALUOp = 0xc0
	End  ALUOp = 0xd0
)

var aluNames = map[ALUOp]string{
	Add: "add", Sub: "sub", Mul: "mul", Div: "div", Or: "or", And: "and",
	LSh: "lsh", RSh: "rsh", Neg: "neg", Mod: "mod", Xor: "xor", Mov: "mov",
	ArSh: "arsh", End: "end",
}

func (op ALUOp) String() string {
	if s, ok := aluNames[op]; ok {
		return s
	}
	return fmt.Sprintf("ALUOp(%#x)", uint8(op))
}

// JumpOp is the operation of a JMP or JMP32 instruction: bits 4-7.
type JumpOp uint8

// Jump operations. Call and Exit exist only in the JMP class. Ja in the
// JMP32 class is gotol: its target is in the 32-bit immediate.
const (
	Ja   JumpOp = 0x00
	JEq  JumpOp = 0x10
	JGT  JumpOp = 0x20
	JGE  JumpOp = 0x30
	JSet JumpOp = 0x40
	JNE  JumpOp = 0x50
	JSGT JumpOp = 0x60
	JSGE JumpOp = 0x70
	Call JumpOp = 0x80
	Exit JumpOp = 0x90
	JLT  JumpOp = 0xa0
	JLE  JumpOp = 0xb0
	JSLT JumpOp = 0xc0
	JSLE JumpOp = 0xd0
)

var jumpNames = map[JumpOp]string{
	Ja: "ja", JEq: "jeq", JGT: "jgt", JGE: "jge", JSet: "jset", JNE: "jne",
	JSGT: "jsgt", JSGE: "jsge", Call: "call", Exit: "exit", JLT: "jlt",
	JLE: "jle", JSLT: "jslt", JSLE: "jsle",
}

func (op JumpOp) String() string {
	if s, ok := jumpNames[op]; ok {
		return s
	}
	return fmt.Sprintf("JumpOp(%#x)", uint8(op))
}

// Mode is the addressing mode of a load or store: bits 5-7.
type Mode uint8

// Addressing modes. ABS and IND are the legacy packet loads; MEMSX is the
// sign-extending load; ATOMIC is an atomic read-modify-write whose operation
// is in the immediate.
const (
	ModeIMM    Mode = 0x00
	ModeABS    Mode = 0x20
	ModeIND    Mode = 0x40
	ModeMEM    Mode = 0x60
	ModeMEMSX  Mode = 0x80
	ModeATOMIC Mode = 0xc0
)

var modeNames = map[Mode]string{
	ModeIMM: "IMM", ModeABS: "ABS", ModeIND: "IND", ModeMEM: "MEM",
	ModeMEMSX: "MEMSX", ModeATOMIC: "ATOMIC",
}

func (m Mode) String() string {
	if s, ok := modeNames[m]; ok {
		return s
	}
	return fmt.Sprintf("Mode(%#x)", uint8(m))
}

// Size is the access width of a load or store: bits 3-4.
type Size uint8

// Access widths.
const (
	SizeW  Size = 0x00 // 4 bytes
	SizeH  Size = 0x08 // 2 bytes
	SizeB  Size = 0x10 // 1 byte
	SizeDW Size = 0x18 // 8 bytes
)

// Bytes returns the access width in bytes.
func (s Size) Bytes() int {
	switch s {
	case SizeW:
		return 4
	case SizeH:
		return 2
	case SizeB:
		return 1
	default:
		return 8
	}
}

func (s Size) String() string {
	switch s {
	case SizeW:
		return "W"
	case SizeH:
		return "H"
	case SizeB:
		return "B"
	default:
		return "DW"
	}
}

// AtomicOp is the immediate of an atomic instruction: an ALU operation, or
// Xchg/CmpXchg, optionally with the Fetch bit.
type AtomicOp int32

// Atomic operations. Fetch may be or-ed into AtomicAdd, AtomicOr, AtomicAnd
// and AtomicXor; Xchg and CmpXchg always fetch.
const (
	AtomicAdd     AtomicOp = 0x00
	AtomicOr      AtomicOp = 0x40
	AtomicAnd     AtomicOp = 0x50
	AtomicXor     AtomicOp = 0xa0
	AtomicFetch   AtomicOp = 0x01
	AtomicXchg    AtomicOp = 0xe0 | AtomicFetch
	AtomicCmpXchg AtomicOp = 0xf0 | AtomicFetch
)

// Valid reports whether op is one of the atomic operations RFC 9669 defines.
func (op AtomicOp) Valid() bool {
	switch op {
	case AtomicAdd, AtomicOr, AtomicAnd, AtomicXor,
		AtomicAdd | AtomicFetch, AtomicOr | AtomicFetch, AtomicAnd | AtomicFetch, AtomicXor | AtomicFetch,
		AtomicXchg, AtomicCmpXchg:
		return true
	}
	return false
}

func (op AtomicOp) String() string {
	var s string
	switch op &^ AtomicFetch {
	case AtomicAdd:
		s = "add"
	case AtomicOr:
		s = "or"
	case AtomicAnd:
		s = "and"
	case AtomicXor:
		s = "xor"
	case AtomicXchg &^ AtomicFetch:
		return "xchg"
	case AtomicCmpXchg &^ AtomicFetch:
		return "cmpxchg"
	default:
		return fmt.Sprintf("AtomicOp(%#x)", int32(op))
	}
	if op&AtomicFetch != 0 {
		return "fetch " + s
	}
	return s
}

// Pseudo source values of a lddw instruction (its src field), telling the
// loader what the 64-bit immediate means.
const (
	PseudoNone        Register = 0 // the immediate itself
	PseudoMapFD       Register = 1 // a map: imm = index into the program's map table
	PseudoMapValue    Register = 2 // address in a map's value: imm = map index, next imm = offset
	PseudoBTFID       Register = 3 // a kernel BTF object (unsupported)
	PseudoFunc        Register = 4 // the address of a bpf-to-bpf function (unsupported)
	PseudoMapIdx      Register = 5 // like PseudoMapFD
	PseudoMapIdxValue Register = 6 // like PseudoMapValue
)

// Pseudo source values of a call instruction (its src field).
const (
	PseudoCallHelper Register = 0 // imm = helper id
	PseudoCallLocal  Register = 1 // imm = slot offset of the callee from the next slot
	PseudoKfuncCall  Register = 2 // imm = kernel function BTF id (unsupported)
)

// Class returns the instruction class.
func (op OpCode) Class() Class { return Class(op & 0x07) }

// Source returns the operand source of an arithmetic or jump opcode.
func (op OpCode) Source() Source { return Source(op & 0x08) }

// ALUOp returns the operation of an ALU or ALU64 opcode.
func (op OpCode) ALUOp() ALUOp { return ALUOp(op & 0xf0) }

// JumpOp returns the operation of a JMP or JMP32 opcode.
func (op OpCode) JumpOp() JumpOp { return JumpOp(op & 0xf0) }

// Mode returns the addressing mode of a load or store opcode.
func (op OpCode) Mode() Mode { return Mode(op & 0xe0) }

// Size returns the access width of a load or store opcode.
func (op OpCode) Size() Size { return Size(op & 0x18) }

// ALUOpCode builds an arithmetic opcode.
func ALUOpCode(c Class, op ALUOp, s Source) OpCode { return OpCode(uint8(c) | uint8(op) | uint8(s)) }

// JumpOpCode builds a jump opcode.
func JumpOpCode(c Class, op JumpOp, s Source) OpCode { return OpCode(uint8(c) | uint8(op) | uint8(s)) }

// MemOpCode builds a load or store opcode.
func MemOpCode(c Class, m Mode, s Size) OpCode { return OpCode(uint8(c) | uint8(m) | uint8(s)) }

// Frequently used opcodes.
const (
	OpLdImm64   OpCode = OpCode(ClassLD) | OpCode(ModeIMM) | OpCode(SizeDW)     // 0x18 lddw
	OpExit      OpCode = OpCode(ClassJMP) | OpCode(Exit)                        // 0x95 exit
	OpCall      OpCode = OpCode(ClassJMP) | OpCode(Call)                        // 0x85 call
	OpCallX     OpCode = OpCode(ClassJMP) | OpCode(Call) | OpCode(SourceReg)    // 0x8d callx
	OpJa        OpCode = OpCode(ClassJMP) | OpCode(Ja)                          // 0x05 ja
	OpJa32      OpCode = OpCode(ClassJMP32) | OpCode(Ja)                        // 0x06 gotol
	OpBswap     OpCode = OpCode(ClassALU64) | OpCode(End)                       // 0xd7 bswap
	OpToLE      OpCode = OpCode(ClassALU) | OpCode(End)                         // 0xd4 le
	OpToBE      OpCode = OpCode(ClassALU) | OpCode(End) | OpCode(SourceReg)     // 0xdc be
	opAtomicW   OpCode = OpCode(ClassSTX) | OpCode(ModeATOMIC) | OpCode(SizeW)  // 0xc3
	opAtomicDW  OpCode = OpCode(ClassSTX) | OpCode(ModeATOMIC) | OpCode(SizeDW) // 0xdb
	opMovALU64X OpCode = OpCode(ClassALU64) | OpCode(Mov) | OpCode(SourceReg)   // 0xbf
)

func (op OpCode) String() string {
	c := op.Class()
	switch {
	case c.IsALU():
		return fmt.Sprintf("%s|%s|%s", c, op.ALUOp(), op.Source())
	case c.IsJump():
		return fmt.Sprintf("%s|%s|%s", c, op.JumpOp(), op.Source())
	default:
		return fmt.Sprintf("%s|%s|%s", c, op.Mode(), op.Size())
	}
}
