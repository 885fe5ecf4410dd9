package amd64

// prefix flags for encode.
type pfx uint8

const (
	pLock pfx = 1 << iota // F0
	p16                   // 66, 16-bit operand size
	pW                    // REX.W, 64-bit operand size
	pRex                  // a REX byte even if all its bits are zero (SPL..DIL)
)

// sizePfx returns the prefix flags selecting operand size s.
func sizePfx(s Size) pfx {
	switch s {
	case S16:
		return p16
	case S64:
		return pW
	}
	return 0
}

// byteRex returns pRex if s is S8 and one of the registers would otherwise
// mean AH..BH.
func byteRex(s Size, regs ...Reg) pfx {
	if s != S8 {
		return 0
	}
	for _, r := range regs {
		if r.needsRex8() {
			return pRex
		}
	}
	return 0
}

// rmOp is the r/m operand of a ModRM instruction: a register or memory.
type rmOp struct {
	isMem bool
	reg   Reg
	mem   Mem
}

func rmR(r Reg) rmOp { return rmOp{reg: r} }
func rmM(m Mem) rmOp { return rmOp{isMem: true, mem: m} }

// encode appends prefixes, REX, the opcode (0F-escaped if esc) and the
// ModRM, SIB and displacement bytes. reg is the ModRM.reg field: a register
// number or an opcode extension digit.
func (a *Assembler) encode(p pfx, esc bool, op byte, reg byte, rm rmOp) {
	a.prefixes(p, reg>>3, rm)
	if esc {
		a.emit(0x0f)
	}
	a.emit(op)
	if !rm.isMem {
		a.emit(0xc0 | (reg&7)<<3 | rm.reg.low())
		return
	}
	a.modrmMem(reg, rm.mem)
}

// prefixes appends the operand-size, lock and REX prefixes, in that order
// (the order llvm-mc uses; the processor accepts either of the first two).
func (a *Assembler) prefixes(p pfx, regHigh byte, rm rmOp) {
	if p&p16 != 0 {
		a.emit(0x66)
	}
	if p&pLock != 0 {
		a.emit(0xf0)
	}
	rex := regHigh << 2
	if p&pW != 0 {
		rex |= 8
	}
	if rm.isMem {
		if rm.mem.Index != NoReg {
			rex |= rm.mem.Index.high() << 1
		}
		rex |= rm.mem.Base.high()
	} else {
		rex |= rm.reg.high()
	}
	if rex != 0 || p&pRex != 0 {
		a.emit(0x40 | rex)
	}
}

// modrmMem appends ModRM, SIB and displacement for memory operand m.
func (a *Assembler) modrmMem(reg byte, m Mem) {
	base := m.Base.low()
	var mod byte
	switch {
	case m.Disp == 0 && base != 5: // rbp/r13 need an explicit displacement
		mod = 0
	case int32(int8(m.Disp)) == m.Disp:
		mod = 1
	default:
		mod = 2
	}
	if m.Index == NoReg && base != 4 {
		a.emit(mod<<6 | (reg&7)<<3 | base)
	} else {
		idx := byte(4) // no index
		if m.Index != NoReg {
			idx = m.Index.low()
		}
		a.emit(mod<<6|(reg&7)<<3|4, scaleBits(m.Scale)<<6|idx<<3|base)
	}
	switch mod {
	case 1:
		a.emit(byte(m.Disp))
	case 2:
		a.emit32(uint32(m.Disp))
	}
}

func scaleBits(s uint8) byte {
	switch s {
	case 2:
		return 1
	case 4:
		return 2
	case 8:
		return 3
	}
	return 0
}

// opReg appends prefixes and an opcode with the register in its low three
// bits (PUSH, POP, BSWAP, MOV r, imm).
func (a *Assembler) opReg(p pfx, esc bool, op byte, r Reg) {
	a.prefixes(p, 0, rmR(r))
	if esc {
		a.emit(0x0f)
	}
	a.emit(op | r.low())
}

func fitsInt8(v int64) bool { return int64(int8(v)) == v }

// fitsSize reports whether v is representable in s bits, as a signed or an
// unsigned number (so that both -1 and 0xff are valid byte immediates).
func fitsSize(s Size, v int64) bool {
	switch s {
	case S8:
		return v >= -1<<7 && v < 1<<8
	case S16:
		return v >= -1<<15 && v < 1<<16
	case S32:
		return v >= -1<<31 && v < 1<<32
	}
	return true
}
