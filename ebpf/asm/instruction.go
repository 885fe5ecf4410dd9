package asm

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Register is one of the eleven eBPF registers, or a pseudo-source value in
// the src field of lddw and call.
type Register uint8

// The registers. R0 holds return values, R1-R5 arguments, R6-R9 are
// callee-saved and R10 is the read-only frame pointer.
const (
	R0 Register = iota
	R1
	R2
	R3
	R4
	R5
	R6
	R7
	R8
	R9
	R10
	RFP = R10
)

func (r Register) String() string { return fmt.Sprintf("%%r%d", uint8(r)) }

// SlotSize is the size of one instruction slot in bytes.
const SlotSize = 8

// Instruction is one decoded eBPF instruction. A wide instruction (lddw)
// occupies two slots and holds its whole 64-bit immediate in Constant; every
// other instruction occupies one slot and Constant is the sign-extended
// 32-bit immediate.
//
// The encoding of one slot, little-endian (RFC 9669 §3):
//
//	 0       7 8    11 12   15 16            31 32                           63
//	+---------+-------+-------+----------------+-------------------------------+
//	| opcode  |  dst  |  src  |  offset (s16)  |        immediate (s32)        |
//	+---------+-------+-------+----------------+-------------------------------+
//
// lddw adds a second slot whose opcode, registers and offset are zero and
// whose immediate holds the upper 32 bits of the constant.
type Instruction struct {
	OpCode   OpCode
	Dst      Register
	Src      Register
	Offset   int16
	Constant int64
}

// IsWide reports whether the instruction occupies two slots (lddw).
func (ins Instruction) IsWide() bool { return ins.OpCode == OpLdImm64 }

// Slots returns the number of slots the instruction occupies.
func (ins Instruction) Slots() int {
	if ins.IsWide() {
		return 2
	}
	return 1
}

// Imm returns the 32-bit immediate field (the low half of a wide constant).
func (ins Instruction) Imm() int32 { return int32(ins.Constant) }

// IsExit reports whether the instruction is exit.
func (ins Instruction) IsExit() bool { return ins.OpCode == OpExit }

// IsHelperCall reports whether the instruction calls a helper by its
// immediate id.
func (ins Instruction) IsHelperCall() bool {
	return ins.OpCode == OpCall && ins.Src == PseudoCallHelper
}

// IsLocalCall reports whether the instruction is a bpf-to-bpf call.
func (ins Instruction) IsLocalCall() bool {
	return ins.OpCode == OpCall && ins.Src == PseudoCallLocal
}

// IsBranch reports whether the instruction may transfer control to another
// slot than the next one within the same function: ja, gotol and the
// conditional jumps (not calls or exit).
func (ins Instruction) IsBranch() bool {
	c := ins.OpCode.Class()
	if !c.IsJump() {
		return false
	}
	op := ins.OpCode.JumpOp()
	return op != Call && op != Exit
}

// JumpOffset returns the branch displacement in slots from the next slot:
// the immediate for gotol, the offset otherwise. Only meaningful when
// IsBranch or IsLocalCall holds.
func (ins Instruction) JumpOffset() int64 {
	if ins.OpCode == OpJa32 || ins.IsLocalCall() {
		return int64(ins.Imm())
	}
	return int64(ins.Offset)
}

// Encode appends the instruction's slot(s) to b in little-endian order.
func (ins Instruction) Encode(b []byte) []byte {
	var slot [SlotSize]byte
	slot[0] = byte(ins.OpCode)
	slot[1] = byte(ins.Dst&0x0f) | byte(ins.Src&0x0f)<<4
	binary.LittleEndian.PutUint16(slot[2:], uint16(ins.Offset))
	binary.LittleEndian.PutUint32(slot[4:], uint32(ins.Constant))
	b = append(b, slot[:]...)
	if ins.IsWide() {
		var hi [SlotSize]byte
		binary.LittleEndian.PutUint32(hi[4:], uint32(uint64(ins.Constant)>>32))
		b = append(b, hi[:]...)
	}
	return b
}

// Instructions is a program: a sequence of instructions. Its slot positions
// (what jump offsets count) differ from slice indices after every lddw.
type Instructions []Instruction

// Encode returns the raw bytecode.
func (insns Instructions) Encode() []byte {
	b := make([]byte, 0, len(insns)*SlotSize)
	for _, ins := range insns {
		b = ins.Encode(b)
	}
	return b
}

// Slots returns the number of slots the program occupies.
func (insns Instructions) Slots() int {
	n := 0
	for _, ins := range insns {
		n += ins.Slots()
	}
	return n
}

// SlotIndex returns, for each instruction, the slot at which it starts.
func (insns Instructions) SlotIndex() []int {
	idx := make([]int, len(insns))
	n := 0
	for i, ins := range insns {
		idx[i] = n
		n += ins.Slots()
	}
	return idx
}

// ErrDecode is the sentinel wrapped by every decoding error.
var ErrDecode = errors.New("invalid bytecode")

// DecodeError says which slot of raw bytecode is malformed and why.
type DecodeError struct {
	Slot   int    // slot index, counting 8-byte slots from 0
	OpCode OpCode // the opcode at that slot
	Reason string
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("slot %d (opcode %#02x): %s", e.Slot, uint8(e.OpCode), e.Reason)
}

// Unwrap makes every DecodeError match ErrDecode.
func (e *DecodeError) Unwrap() error { return ErrDecode }

// Decode strictly decodes raw little-endian bytecode. It rejects a length
// that is not a multiple of 8, unknown opcodes, reserved fields that are not
// zero, out-of-range registers, a truncated lddw and jumps whose target is
// outside the program or inside a lddw. The error is a *DecodeError naming
// the slot.
func Decode(b []byte) (Instructions, error) {
	if len(b)%SlotSize != 0 {
		return nil, &DecodeError{Slot: len(b) / SlotSize, Reason: fmt.Sprintf("bytecode length %d is not a multiple of %d", len(b), SlotSize)}
	}
	n := len(b) / SlotSize
	insns := make(Instructions, 0, n)
	wideSecond := make(map[int]bool)
	for s := 0; s < n; s++ {
		slot := b[s*SlotSize : (s+1)*SlotSize]
		ins := Instruction{
			OpCode:   OpCode(slot[0]),
			Dst:      Register(slot[1] & 0x0f),
			Src:      Register(slot[1] >> 4),
			Offset:   int16(binary.LittleEndian.Uint16(slot[2:])),
			Constant: int64(int32(binary.LittleEndian.Uint32(slot[4:]))),
		}
		if ins.IsWide() {
			if s+1 >= n {
				return nil, &DecodeError{Slot: s, OpCode: ins.OpCode, Reason: "lddw is truncated: its second slot is missing"}
			}
			hi := b[(s+1)*SlotSize : (s+2)*SlotSize]
			if hi[0] != 0 || hi[1] != 0 || hi[2] != 0 || hi[3] != 0 {
				return nil, &DecodeError{Slot: s + 1, OpCode: OpCode(hi[0]), Reason: "second slot of lddw must have zero opcode, registers and offset"}
			}
			ins.Constant = int64(uint64(uint32(ins.Constant)) | uint64(binary.LittleEndian.Uint32(hi[4:]))<<32)
			wideSecond[s+1] = true
		}
		if err := ins.Validate(); err != nil {
			return nil, &DecodeError{Slot: s, OpCode: ins.OpCode, Reason: err.Error()}
		}
		insns = append(insns, ins)
		s += ins.Slots() - 1
	}
	// Branch targets must land on the start of an instruction.
	slot := 0
	for _, ins := range insns {
		if ins.IsBranch() || ins.IsLocalCall() {
			t := int64(slot) + 1 + ins.JumpOffset()
			if t < 0 || t >= int64(n) {
				return nil, &DecodeError{Slot: slot, OpCode: ins.OpCode, Reason: fmt.Sprintf("jump target %d is outside the program (0..%d)", t, n-1)}
			}
			if wideSecond[int(t)] {
				return nil, &DecodeError{Slot: slot, OpCode: ins.OpCode, Reason: fmt.Sprintf("jump target %d is the second slot of a lddw", t)}
			}
		}
		slot += ins.Slots()
	}
	return insns, nil
}

// Validate checks that the instruction is one RFC 9669 defines, with every
// reserved field zero and, unless it is wide, a Constant that fits in the
// 32-bit immediate. It does not check jump targets, which depend on the
// surrounding program.
func (ins Instruction) Validate() error {
	op := ins.OpCode
	if ins.Dst > R10 {
		return fmt.Errorf("invalid destination register r%d", ins.Dst)
	}
	if !ins.IsWide() && ins.Constant != int64(ins.Imm()) {
		// Encode would silently keep only the low 32 bits.
		return fmt.Errorf("immediate %#x does not fit in 32 bits", ins.Constant)
	}
	c := op.Class()
	switch {
	case c.IsALU():
		return ins.validateALU()
	case c.IsJump():
		return ins.validateJump()
	}
	// Loads and stores.
	if ins.Src > R10 && c != ClassLD {
		return fmt.Errorf("invalid source register r%d", ins.Src)
	}
	switch c {
	case ClassLD:
		switch op.Mode() {
		case ModeIMM:
			if op.Size() != SizeDW {
				return errors.New("unknown opcode")
			}
			if ins.Src > PseudoMapIdxValue {
				return fmt.Errorf("lddw has unknown pseudo source %d", ins.Src)
			}
			if ins.Offset != 0 {
				return errors.New("lddw offset must be zero")
			}
			return nil
		case ModeABS, ModeIND:
			if op.Size() == SizeDW {
				return errors.New("unknown opcode")
			}
			if op.Mode() == ModeABS && ins.Src != 0 {
				return errors.New("legacy packet load: source register must be zero")
			}
			if ins.Src > R10 {
				return fmt.Errorf("invalid source register r%d", ins.Src)
			}
			if ins.Dst != 0 || ins.Offset != 0 {
				return errors.New("legacy packet load: destination register and offset must be zero")
			}
			return nil
		}
		return errors.New("unknown opcode")
	case ClassLDX:
		switch op.Mode() {
		case ModeMEM:
		case ModeMEMSX:
			if op.Size() == SizeDW {
				return errors.New("unknown opcode: there is no sign-extending 64-bit load")
			}
		default:
			return errors.New("unknown opcode")
		}
		if ins.Constant != 0 {
			return errors.New("load immediate must be zero")
		}
		return nil
	case ClassST:
		if op.Mode() != ModeMEM {
			return errors.New("unknown opcode")
		}
		if ins.Src != 0 {
			return errors.New("store-immediate source register must be zero")
		}
		return nil
	default: // ClassSTX
		switch op.Mode() {
		case ModeMEM:
			if ins.Constant != 0 {
				return errors.New("store immediate must be zero")
			}
			return nil
		case ModeATOMIC:
			if op.Size() != SizeW && op.Size() != SizeDW {
				return errors.New("atomic operations exist only for 32 and 64 bits")
			}
			if !AtomicOp(ins.Constant).Valid() {
				return fmt.Errorf("unknown atomic operation %#x", ins.Constant)
			}
			return nil
		}
		return errors.New("unknown opcode")
	}
}

func (ins Instruction) validateALU() error {
	op := ins.OpCode
	if ins.Src > R10 {
		return fmt.Errorf("invalid source register r%d", ins.Src)
	}
	a := op.ALUOp()
	if a > End {
		return errors.New("unknown opcode")
	}
	if a == End {
		if op.Class() == ClassALU64 && op.Source() != SourceImm {
			return errors.New("unknown opcode")
		}
		switch ins.Constant {
		case 16, 32, 64:
		default:
			return fmt.Errorf("byte swap width must be 16, 32 or 64, not %d", ins.Constant)
		}
		if ins.Src != 0 || ins.Offset != 0 {
			return errors.New("byte swap source register and offset must be zero")
		}
		return nil
	}
	if a == Neg {
		if op.Source() != SourceImm || ins.Src != 0 || ins.Constant != 0 || ins.Offset != 0 {
			return errors.New("neg takes no source operand: source, immediate and offset must be zero")
		}
		return nil
	}
	switch a {
	case Div, Mod:
		if ins.Offset != 0 && ins.Offset != 1 {
			return fmt.Errorf("%s offset must be 0 (unsigned) or 1 (signed), not %d", a, ins.Offset)
		}
	case Mov:
		switch ins.Offset {
		case 0, 8, 16:
		case 32:
			if op.Class() != ClassALU64 {
				return errors.New("movsx32 exists only in ALU64")
			}
		default:
			return fmt.Errorf("mov offset must be 0, 8, 16 or 32, not %d", ins.Offset)
		}
		if ins.Offset != 0 && op.Source() != SourceReg {
			return errors.New("sign-extending mov takes a register source")
		}
	default:
		if ins.Offset != 0 {
			return errors.New("offset must be zero")
		}
	}
	if op.Source() == SourceReg {
		if ins.Constant != 0 {
			return errors.New("immediate must be zero when the source is a register")
		}
	} else if ins.Src != 0 {
		return errors.New("source register must be zero when the source is the immediate")
	}
	return nil
}

func (ins Instruction) validateJump() error {
	op := ins.OpCode
	j := op.JumpOp()
	if j > JSLE {
		return errors.New("unknown opcode")
	}
	if op.Class() == ClassJMP32 && (j == Call || j == Exit) {
		return errors.New("unknown opcode")
	}
	switch j {
	case Ja:
		if op.Source() != SourceImm || ins.Src != 0 || ins.Dst != 0 {
			return errors.New("ja registers must be zero")
		}
		if op.Class() == ClassJMP && ins.Constant != 0 {
			return errors.New("ja immediate must be zero")
		}
		if op.Class() == ClassJMP32 && ins.Offset != 0 {
			return errors.New("gotol offset must be zero: its target is the immediate")
		}
		return nil
	case Call:
		if ins.Offset != 0 {
			return errors.New("call offset must be zero")
		}
		if op.Source() == SourceReg {
			// callx: the helper id is in the destination register.
			if ins.Src != 0 || ins.Constant != 0 {
				return errors.New("callx source register and immediate must be zero")
			}
			return nil
		}
		if ins.Dst != 0 {
			return errors.New("call destination register must be zero")
		}
		if ins.Src > PseudoKfuncCall {
			return fmt.Errorf("call has unknown pseudo source %d", ins.Src)
		}
		return nil
	case Exit:
		if op.Source() != SourceImm || ins.Src != 0 || ins.Dst != 0 || ins.Offset != 0 || ins.Constant != 0 {
			return errors.New("exit fields must be zero")
		}
		return nil
	}
	if ins.Src > R10 {
		return fmt.Errorf("invalid source register r%d", ins.Src)
	}
	if op.Source() == SourceReg {
		if ins.Constant != 0 {
			return errors.New("immediate must be zero when the source is a register")
		}
	} else if ins.Src != 0 {
		return errors.New("source register must be zero when the source is the immediate")
	}
	return nil
}
