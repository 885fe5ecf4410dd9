package amd64

import "fmt"

// Validation helpers. Each returns nil or an error wrapping ErrOperand.

func checkRegs(regs ...Reg) error {
	for _, r := range regs {
		if !r.valid() {
			return fmt.Errorf("%w: register %v", ErrOperand, r)
		}
	}
	return nil
}

func checkSize(s Size, allowed ...Size) error {
	for _, t := range allowed {
		if s == t {
			return nil
		}
	}
	return fmt.Errorf("%w: %d-bit operand size", ErrOperand, s.Bits())
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

var allSizes = []Size{S8, S16, S32, S64}

// ok checks err before an instruction is emitted: it returns false, after
// recording err, if err is non-nil or an earlier error was recorded.
func (a *Assembler) ok(mn string, err error) bool {
	if a.err != nil {
		return false
	}
	if err != nil {
		a.fail(mn, err)
		return false
	}
	return true
}

// ---- Moves ----

// MovRR emits MOV dst, src (88/89 /r) of size s. A 32-bit move clears the
// upper half of dst.
func (a *Assembler) MovRR(s Size, dst, src Reg) {
	if !a.ok("mov", firstErr(checkRegs(dst, src), checkSize(s, allSizes...))) {
		return
	}
	start := len(a.buf)
	a.encode(sizePfx(s)|byteRex(s, dst, src), false, 0x88|b2i(s != S8), byte(src), rmR(dst))
	a.record(start, "mov", opR(s, dst), opR(s, src))
}

// MovRI emits MOV dst, imm of size s: B0+r ib, 66 B8+r iw, B8+r id (which
// zero-extends into the upper half) or, for S64, REX.W C7 /0 id (which
// sign-extends imm). imm must fit in s bits, signed or unsigned.
func (a *Assembler) MovRI(s Size, dst Reg, imm int32) {
	if !a.ok("mov", firstErr(checkRegs(dst), checkSize(s, allSizes...), checkImm(s, int64(imm)))) {
		return
	}
	start := len(a.buf)
	switch s {
	case S8:
		a.opReg(byteRex(s, dst), false, 0xb0, dst)
	case S64:
		a.encode(pW, false, 0xc7, 0, rmR(dst))
	default:
		a.opReg(sizePfx(s), false, 0xb8, dst)
	}
	a.emitImm(s, int64(imm))
	a.record(start, "mov", opR(s, dst), opI(int64(imm)))
}

func checkImm(s Size, v int64) error {
	if !fitsSize(s, v) {
		return fmt.Errorf("%w: immediate %d does not fit in %d bits", ErrOperand, v, s.Bits())
	}
	return nil
}

// MovAbs emits MOVABS dst, imm (REX.W B8+r io), a 10-byte load of a full
// 64-bit constant.
func (a *Assembler) MovAbs(dst Reg, imm int64) {
	if !a.ok("movabs", checkRegs(dst)) {
		return
	}
	start := len(a.buf)
	a.opReg(pW, false, 0xb8, dst)
	a.emit64(uint64(imm))
	a.record(start, "movabs", opR(S64, dst), opI(imm))
}

// MovImm64 loads the 64-bit constant v into dst with the shortest of
// MOV r32, imm32 (v < 2^32), MOV r64, simm32 (v a sign-extended 32-bit
// value) and MOVABS. It leaves the flags alone, unlike XOR.
func (a *Assembler) MovImm64(dst Reg, v uint64) {
	switch {
	case v <= 0xffffffff:
		a.MovRI(S32, dst, int32(uint32(v)))
	case int64(int32(int64(v))) == int64(v):
		a.MovRI(S64, dst, int32(int64(v)))
	default:
		a.MovAbs(dst, int64(v))
	}
}

// MovRM emits the load MOV dst, [m] (8A/8B /r) of size s. 8- and 16-bit
// loads leave the rest of dst unchanged; use MovzxRM to clear it.
func (a *Assembler) MovRM(s Size, dst Reg, m Mem) {
	if !a.ok("mov", firstErr(checkRegs(dst), m.check(), checkSize(s, allSizes...))) {
		return
	}
	start := len(a.buf)
	a.encode(sizePfx(s)|byteRex(s, dst), false, 0x8a|b2i(s != S8), byte(dst), rmM(m))
	a.record(start, "mov", opR(s, dst), opM(s, m))
}

// MovMR emits the store MOV [m], src (88/89 /r) of size s.
func (a *Assembler) MovMR(s Size, m Mem, src Reg) {
	if !a.ok("mov", firstErr(checkRegs(src), m.check(), checkSize(s, allSizes...))) {
		return
	}
	start := len(a.buf)
	a.encode(sizePfx(s)|byteRex(s, src), false, 0x88|b2i(s != S8), byte(src), rmM(m))
	a.record(start, "mov", opM(s, m), opR(s, src))
}

// MovMI emits the store MOV [m], imm (C6 /0 ib, C7 /0 iw/id) of size s. A
// 64-bit store writes imm sign-extended.
func (a *Assembler) MovMI(s Size, m Mem, imm int32) {
	if !a.ok("mov", firstErr(m.check(), checkSize(s, allSizes...), checkImm(s, int64(imm)))) {
		return
	}
	start := len(a.buf)
	a.encode(sizePfx(s), false, 0xc6|b2i(s != S8), 0, rmM(m))
	a.emitImm(s, int64(imm))
	a.record(start, "mov", opM(s, m), opI(int64(imm)))
}

// Lea emits LEA dst, m (8D /r) of size S32 or S64.
func (a *Assembler) Lea(s Size, dst Reg, m Mem) {
	if !a.ok("lea", firstErr(checkRegs(dst), m.check(), checkSize(s, S32, S64))) {
		return
	}
	start := len(a.buf)
	a.encode(sizePfx(s), false, 0x8d, byte(dst), rmM(m))
	a.record(start, "lea", opR(s, dst), opBare(m))
}

// ---- Extensions and byte swaps ----

// Movzx emits MOVZX dst, src (0F B6/B7 /r): zero-extends the low ss bits of
// src (S8 or S16) to ds bits (S32 or S64). To clear the upper bits of a
// register in place, use Movzx(S32, r, S16, r), or MovRR(S32, r, r).
func (a *Assembler) Movzx(ds Size, dst Reg, ss Size, src Reg) {
	a.movx("movzx", 0xb6, ds, dst, ss, rmR(src))
}

// MovzxRM emits the zero-extending load MOVZX dst, [m] of an ss-bit value.
func (a *Assembler) MovzxRM(ds Size, dst Reg, ss Size, m Mem) {
	a.movx("movzx", 0xb6, ds, dst, ss, rmM(m))
}

// Movsx emits MOVSX dst, src (0F BE/BF /r): sign-extends the low ss bits of
// src (S8 or S16) to ds bits (S32 or S64). For 32 to 64 bits use Movsxd.
func (a *Assembler) Movsx(ds Size, dst Reg, ss Size, src Reg) {
	a.movx("movsx", 0xbe, ds, dst, ss, rmR(src))
}

// MovsxRM emits the sign-extending load MOVSX dst, [m] of an ss-bit value.
func (a *Assembler) MovsxRM(ds Size, dst Reg, ss Size, m Mem) {
	a.movx("movsx", 0xbe, ds, dst, ss, rmM(m))
}

func (a *Assembler) movx(mn string, op byte, ds Size, dst Reg, ss Size, src rmOp) {
	err := firstErr(checkRegs(dst), checkSize(ds, S32, S64), checkSize(ss, S8, S16))
	if src.isMem {
		err = firstErr(err, src.mem.check())
	} else {
		err = firstErr(err, checkRegs(src.reg))
	}
	if !a.ok(mn, err) {
		return
	}
	start := len(a.buf)
	p := sizePfx(ds)
	if !src.isMem {
		p |= byteRex(ss, src.reg)
	}
	a.encode(p, true, op|b2i(ss == S16), byte(dst), src)
	if src.isMem {
		a.record(start, mn, opR(ds, dst), opM(ss, src.mem))
	} else {
		a.record(start, mn, opR(ds, dst), opR(ss, src.reg))
	}
}

// Movsxd emits MOVSXD dst, src (REX.W 63 /r): sign-extends the 32-bit src
// to 64 bits.
func (a *Assembler) Movsxd(dst, src Reg) {
	if !a.ok("movsxd", checkRegs(dst, src)) {
		return
	}
	start := len(a.buf)
	a.encode(pW, false, 0x63, byte(dst), rmR(src))
	a.record(start, "movsxd", opR(S64, dst), opR(S32, src))
}

// MovsxdRM emits MOVSXD dst, dword ptr [m], a sign-extending 32-bit load.
func (a *Assembler) MovsxdRM(dst Reg, m Mem) {
	if !a.ok("movsxd", firstErr(checkRegs(dst), m.check())) {
		return
	}
	start := len(a.buf)
	a.encode(pW, false, 0x63, byte(dst), rmM(m))
	a.record(start, "movsxd", opR(S64, dst), opM(S32, m))
}

// Bswap emits BSWAP r (0F C8+r) of size S32 or S64. For a 16-bit swap use
// ShiftRI(ROL, S16, r, 8) followed by Movzx(S32, r, S16, r).
func (a *Assembler) Bswap(s Size, r Reg) {
	if !a.ok("bswap", firstErr(checkRegs(r), checkSize(s, S32, S64))) {
		return
	}
	start := len(a.buf)
	a.opReg(sizePfx(s), true, 0xc8, r)
	a.record(start, "bswap", opR(s, r))
}

// ---- Arithmetic ----

// ALURR emits op dst, src (op*8 + 00/01 /r) of size s.
func (a *Assembler) ALURR(op ALUOp, s Size, dst, src Reg) {
	if !a.ok(op.String(), firstErr(checkALU(op), checkRegs(dst, src), checkSize(s, allSizes...))) {
		return
	}
	start := len(a.buf)
	a.encode(sizePfx(s)|byteRex(s, dst, src), false, byte(op)<<3|b2i(s != S8), byte(src), rmR(dst))
	a.record(start, op.String(), opR(s, dst), opR(s, src))
}

func checkALU(op ALUOp) error {
	if op > CMP {
		return fmt.Errorf("%w: %v", ErrOperand, op)
	}
	return nil
}

// ALURI emits op dst, imm of size s, choosing the shortest encoding: 83 /op
// ib when imm fits in a signed byte, the accumulator form (op*8 + 04/05)
// when dst is RAX, 80/81 /op otherwise. A 64-bit operation sign-extends
// imm.
func (a *Assembler) ALURI(op ALUOp, s Size, dst Reg, imm int32) {
	if !a.ok(op.String(), firstErr(checkALU(op), checkRegs(dst), checkSize(s, allSizes...), checkImm(s, int64(imm)))) {
		return
	}
	start := len(a.buf)
	a.aluImm(op, s, 0, rmR(dst), int64(imm))
	a.record(start, op.String(), opR(s, dst), opI(int64(imm)))
}

func (a *Assembler) aluImm(op ALUOp, s Size, p pfx, rm rmOp, imm int64) {
	p |= sizePfx(s)
	switch {
	case s == S8 && !rm.isMem && rm.reg == RAX:
		a.emit(byte(op)<<3 | 4)
	case s == S8:
		if !rm.isMem {
			p |= byteRex(s, rm.reg)
		}
		a.encode(p, false, 0x80, byte(op), rm)
	case fitsInt8(imm):
		a.encode(p, false, 0x83, byte(op), rm)
		a.emit(byte(imm))
		return
	case !rm.isMem && rm.reg == RAX:
		a.prefixes(p, 0, rm)
		a.emit(byte(op)<<3 | 5)
	default:
		a.encode(p, false, 0x81, byte(op), rm)
	}
	a.emitImm(s, imm)
}

// ALURM emits op dst, [m] (op*8 + 02/03 /r) of size s.
func (a *Assembler) ALURM(op ALUOp, s Size, dst Reg, m Mem) {
	if !a.ok(op.String(), firstErr(checkALU(op), checkRegs(dst), m.check(), checkSize(s, allSizes...))) {
		return
	}
	start := len(a.buf)
	a.encode(sizePfx(s)|byteRex(s, dst), false, byte(op)<<3|2|b2i(s != S8), byte(dst), rmM(m))
	a.record(start, op.String(), opR(s, dst), opM(s, m))
}

// ALUMR emits op [m], src (op*8 + 00/01 /r) of size s.
func (a *Assembler) ALUMR(op ALUOp, s Size, m Mem, src Reg) {
	a.aluMR(0, op.String(), op, s, m, src)
}

// LockALUMR emits LOCK op [m], src, an atomic read-modify-write. op must be
// ADD, OR, ADC, SBB, AND, SUB or XOR; LOCK CMP does not exist.
func (a *Assembler) LockALUMR(op ALUOp, s Size, m Mem, src Reg) {
	if op == CMP {
		a.ok("lock cmp", fmt.Errorf("%w: cmp cannot be locked", ErrOperand))
		return
	}
	a.aluMR(pLock, "lock "+op.String(), op, s, m, src)
}

func (a *Assembler) aluMR(p pfx, mn string, op ALUOp, s Size, m Mem, src Reg) {
	if !a.ok(mn, firstErr(checkALU(op), checkRegs(src), m.check(), checkSize(s, allSizes...))) {
		return
	}
	start := len(a.buf)
	a.encode(p|sizePfx(s)|byteRex(s, src), false, byte(op)<<3|b2i(s != S8), byte(src), rmM(m))
	a.record(start, mn, opM(s, m), opR(s, src))
}

// ALUMI emits op [m], imm of size s (80/81/83 /op).
func (a *Assembler) ALUMI(op ALUOp, s Size, m Mem, imm int32) {
	if !a.ok(op.String(), firstErr(checkALU(op), m.check(), checkSize(s, allSizes...), checkImm(s, int64(imm)))) {
		return
	}
	start := len(a.buf)
	a.aluImm(op, s, 0, rmM(m), int64(imm))
	a.record(start, op.String(), opM(s, m), opI(int64(imm)))
}

// TestRR emits TEST r1, r2 (84/85 /r) of size s.
func (a *Assembler) TestRR(s Size, r1, r2 Reg) {
	if !a.ok("test", firstErr(checkRegs(r1, r2), checkSize(s, allSizes...))) {
		return
	}
	start := len(a.buf)
	a.encode(sizePfx(s)|byteRex(s, r1, r2), false, 0x84|b2i(s != S8), byte(r2), rmR(r1))
	a.record(start, "test", opR(s, r1), opR(s, r2))
}

// TestRI emits TEST r, imm of size s (A8/A9 for RAX, F6/F7 /0 otherwise;
// TEST has no sign-extended imm8 form).
func (a *Assembler) TestRI(s Size, r Reg, imm int32) {
	if !a.ok("test", firstErr(checkRegs(r), checkSize(s, allSizes...), checkImm(s, int64(imm)))) {
		return
	}
	start := len(a.buf)
	p := sizePfx(s) | byteRex(s, r)
	if r == RAX {
		a.prefixes(p, 0, rmR(r))
		a.emit(0xa8 | b2i(s != S8))
	} else {
		a.encode(p, false, 0xf6|b2i(s != S8), 0, rmR(r))
	}
	a.emitImm(s, int64(imm))
	a.record(start, "test", opR(s, r), opI(int64(imm)))
}

// IMulRR emits IMUL dst, src (0F AF /r) of size S16, S32 or S64.
func (a *Assembler) IMulRR(s Size, dst, src Reg) {
	if !a.ok("imul", firstErr(checkRegs(dst, src), checkSize(s, S16, S32, S64))) {
		return
	}
	start := len(a.buf)
	a.encode(sizePfx(s), true, 0xaf, byte(dst), rmR(src))
	a.record(start, "imul", opR(s, dst), opR(s, src))
}

// IMulRRI emits IMUL dst, src, imm (6B /r ib or 69 /r iw/id) of size S16,
// S32 or S64. For dst *= imm pass dst as src.
func (a *Assembler) IMulRRI(s Size, dst, src Reg, imm int32) {
	if !a.ok("imul", firstErr(checkRegs(dst, src), checkSize(s, S16, S32, S64), checkImm(s, int64(imm)))) {
		return
	}
	start := len(a.buf)
	if fitsInt8(int64(imm)) {
		a.encode(sizePfx(s), false, 0x6b, byte(dst), rmR(src))
		a.emit(byte(imm))
	} else {
		a.encode(sizePfx(s), false, 0x69, byte(dst), rmR(src))
		a.emitImm(s, int64(imm))
	}
	a.record(start, "imul", opR(s, dst), opR(s, src), opI(int64(imm)))
}

// Unary emits op r (F6/F7 /op) of size s: NOT, NEG, or a multiply or divide
// of RDX:RAX (or AX for S8) by r.
func (a *Assembler) Unary(op UnaryOp, s Size, r Reg) {
	err := firstErr(checkRegs(r), checkSize(s, allSizes...))
	if op < NOT || op > IDIV {
		err = fmt.Errorf("%w: %v", ErrOperand, op)
	}
	if !a.ok(op.String(), err) {
		return
	}
	start := len(a.buf)
	a.encode(sizePfx(s)|byteRex(s, r), false, 0xf6|b2i(s != S8), byte(op), rmR(r))
	a.record(start, op.String(), opR(s, r))
}

// Cqo emits CQO (REX.W 99): sign-extends RAX into RDX:RAX before a 64-bit
// IDIV.
func (a *Assembler) Cqo() {
	if !a.ok("cqo", nil) {
		return
	}
	start := len(a.buf)
	a.emit(0x48, 0x99)
	a.record(start, "cqo")
}

// Cdq emits CDQ (99): sign-extends EAX into EDX:EAX before a 32-bit IDIV.
func (a *Assembler) Cdq() {
	if !a.ok("cdq", nil) {
		return
	}
	start := len(a.buf)
	a.emit(0x99)
	a.record(start, "cdq")
}

// ShiftCL emits op r, cl (D2/D3 /op) of size s. The count is masked to 5
// bits (6 for S64) by the processor.
func (a *Assembler) ShiftCL(op ShiftOp, s Size, r Reg) {
	if !a.ok(op.String(), firstErr(checkShift(op), checkRegs(r), checkSize(s, allSizes...))) {
		return
	}
	start := len(a.buf)
	a.encode(sizePfx(s)|byteRex(s, r), false, 0xd2|b2i(s != S8), byte(op), rmR(r))
	a.record(start, op.String(), opR(s, r), opR(S8, RCX))
}

// ShiftRI emits op r, n (D0/D1 /op for n = 1, C0/C1 /op ib otherwise) of
// size s. n must be less than the operand's width.
func (a *Assembler) ShiftRI(op ShiftOp, s Size, r Reg, n uint8) {
	err := firstErr(checkShift(op), checkRegs(r), checkSize(s, allSizes...))
	if err == nil && int(n) >= s.Bits() {
		err = fmt.Errorf("%w: shift count %d for a %d-bit operand", ErrOperand, n, s.Bits())
	}
	if !a.ok(op.String(), err) {
		return
	}
	start := len(a.buf)
	p := sizePfx(s) | byteRex(s, r)
	if n == 1 {
		a.encode(p, false, 0xd0|b2i(s != S8), byte(op), rmR(r))
	} else {
		a.encode(p, false, 0xc0|b2i(s != S8), byte(op), rmR(r))
		a.emit(n)
	}
	a.record(start, op.String(), opR(s, r), opI(int64(n)))
}

func checkShift(op ShiftOp) error {
	switch op {
	case ROL, ROR, SHL, SHR, SAR:
		return nil
	}
	return fmt.Errorf("%w: %v", ErrOperand, op)
}

// Setcc emits SETcc r8 (0F 90+c /0): the low byte of r becomes 1 if c holds,
// else 0.
func (a *Assembler) Setcc(c Cond, r Reg) {
	mn := condMnemonic(setNames, "set", c)
	if !a.ok(mn, firstErr(checkCond(c), checkRegs(r))) {
		return
	}
	start := len(a.buf)
	a.encode(byteRex(S8, r), true, 0x90|byte(c), 0, rmR(r))
	a.record(start, mn, opR(S8, r))
}

// Cmov emits CMOVcc dst, src (0F 40+c /r) of size S16, S32 or S64. A 32-bit
// CMOV clears the upper half of dst even when c does not hold.
func (a *Assembler) Cmov(c Cond, s Size, dst, src Reg) {
	mn := condMnemonic(cmovNames, "cmov", c)
	if !a.ok(mn, firstErr(checkCond(c), checkRegs(dst, src), checkSize(s, S16, S32, S64))) {
		return
	}
	start := len(a.buf)
	a.encode(sizePfx(s), true, 0x40|byte(c), byte(dst), rmR(src))
	a.record(start, mn, opR(s, dst), opR(s, src))
}

func checkCond(c Cond) error {
	if c > CondG {
		return fmt.Errorf("%w: %v", ErrOperand, c)
	}
	return nil
}

// ---- Atomics ----

// LockXadd emits LOCK XADD [m], src (F0 0F C0/C1 /r): atomically adds src
// to [m] and puts the old value of [m] in src.
func (a *Assembler) LockXadd(s Size, m Mem, src Reg) {
	a.lockRM("lock xadd", pLock, 0xc0, s, m, src)
}

// LockCmpxchg emits LOCK CMPXCHG [m], src (F0 0F B0/B1 /r): if [m] equals
// RAX (of size s), src is stored to [m]; otherwise [m] is loaded into RAX.
func (a *Assembler) LockCmpxchg(s Size, m Mem, src Reg) {
	a.lockRM("lock cmpxchg", pLock, 0xb0, s, m, src)
}

func (a *Assembler) lockRM(mn string, p pfx, op byte, s Size, m Mem, src Reg) {
	if !a.ok(mn, firstErr(checkRegs(src), m.check(), checkSize(s, allSizes...))) {
		return
	}
	start := len(a.buf)
	a.encode(p|sizePfx(s)|byteRex(s, src), true, op|b2i(s != S8), byte(src), rmM(m))
	a.record(start, mn, opM(s, m), opR(s, src))
}

// Xchg emits XCHG [m], r (86/87 /r), which is atomic without a LOCK
// prefix: r gets the old value of [m].
func (a *Assembler) Xchg(s Size, m Mem, r Reg) {
	if !a.ok("xchg", firstErr(checkRegs(r), m.check(), checkSize(s, allSizes...))) {
		return
	}
	start := len(a.buf)
	a.encode(sizePfx(s)|byteRex(s, r), false, 0x86|b2i(s != S8), byte(r), rmM(m))
	a.record(start, "xchg", opM(s, m), opR(s, r))
}

// ---- Control flow ----

// Jmp emits JMP l: EB rel8 if l is bound and near enough, E9 rel32
// otherwise.
func (a *Assembler) Jmp(l Label) { a.jump("jmp", l, 0xeb, 0, 0xe9) }

// Jcc emits Jc l (jump if c holds): 70+c rel8 if l is bound and near
// enough, 0F 80+c rel32 otherwise.
func (a *Assembler) Jcc(c Cond, l Label) {
	if !a.ok(condMnemonic(jccNames, "j", c), checkCond(c)) {
		return
	}
	a.jump(jccNames[c], l, 0x70|byte(c), 0x0f, 0x80|byte(c))
}

// Mnemonics of the condition-code families, precomputed so that emitting
// them does not allocate.
var jccNames, setNames, cmovNames = condNamesWith("j"), condNamesWith("set"), condNamesWith("cmov")

func condNamesWith(prefix string) (names [16]string) {
	for c := range names {
		names[c] = prefix + Cond(c).String()
	}
	return names
}

func condMnemonic(names [16]string, prefix string, c Cond) string {
	if c > CondG {
		return prefix + c.String()
	}
	return names[c]
}

// Call emits CALL l (E8 rel32).
func (a *Assembler) Call(l Label) { a.jump("call", l, 0, 0, 0xe8) }

// jump emits a jump or call to l: the rel8 form short (0 if none) when it
// fits, else the rel32 form [esc] long.
func (a *Assembler) jump(mn string, l Label, short, esc, long byte) {
	if !a.ok(mn, a.checkLabel(l)) {
		return
	}
	start := len(a.buf)
	target := a.labels[l.id-1]
	if target >= 0 && short != 0 {
		if rel := int64(target) - int64(start+2); fitsInt8(rel) {
			a.emit(short, byte(rel))
			a.record(start, mn, opL(l))
			return
		}
	}
	if esc != 0 {
		a.emit(esc)
	}
	a.emit(long)
	a.rel32(l)
	a.record(start, mn, opL(l))
}

// rel32 appends a rel32 field that ends the instruction and holds the
// distance to l, now if l is bound, else when Finish patches it.
func (a *Assembler) rel32(l Label) {
	at := len(a.buf)
	a.emit32(0)
	if target := a.labels[l.id-1]; target >= 0 {
		putRel32(a.buf[at:], target-int32(at+4))
	} else {
		a.fixups = append(a.fixups, fixup{at: int32(at), end: int32(at + 4), label: l.id, inst: int32(a.n)})
	}
}

// LeaLabel emits LEA dst, [rip + l] (REX.W 8D /r with ModRM mod 00, rm 101
// and a disp32 relative to the next instruction): the address of label l,
// for return addresses and jump tables.
func (a *Assembler) LeaLabel(dst Reg, l Label) {
	if !a.ok("lea", firstErr(checkRegs(dst), a.checkLabel(l))) {
		return
	}
	start := len(a.buf)
	a.prefixes(pW, byte(dst)>>3, rmR(RAX))
	a.emit(0x8d, dst.low()<<3|5)
	a.rel32(l)
	a.record(start, "lea", opR(S64, dst), operand{kind: kRIPLabel, imm: int64(l.id)})
}

func putRel32(b []byte, v int32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

// JmpR emits JMP r (FF /4), an indirect jump.
func (a *Assembler) JmpR(r Reg) { a.indirect("jmp", 4, r) }

// CallR emits CALL r (FF /2), an indirect call.
func (a *Assembler) CallR(r Reg) { a.indirect("call", 2, r) }

func (a *Assembler) indirect(mn string, digit byte, r Reg) {
	if !a.ok(mn, checkRegs(r)) {
		return
	}
	start := len(a.buf)
	a.encode(0, false, 0xff, digit, rmR(r))
	a.record(start, mn, opR(S64, r))
}

// Ret emits RET (C3).
func (a *Assembler) Ret() { a.simple("ret", 0xc3) }

// Int3 emits INT3 (CC), a breakpoint trap.
func (a *Assembler) Int3() { a.simple("int3", 0xcc) }

func (a *Assembler) simple(mn string, op byte) {
	if !a.ok(mn, nil) {
		return
	}
	start := len(a.buf)
	a.emit(op)
	a.record(start, mn)
}

// Push emits PUSH r (50+r).
func (a *Assembler) Push(r Reg) { a.stack("push", 0x50, r) }

// Pop emits POP r (58+r).
func (a *Assembler) Pop(r Reg) { a.stack("pop", 0x58, r) }

func (a *Assembler) stack(mn string, op byte, r Reg) {
	if !a.ok(mn, checkRegs(r)) {
		return
	}
	start := len(a.buf)
	a.opReg(0, false, op, r)
	a.record(start, mn, opR(S64, r))
}

// nops are the recommended multi-byte NOPs (Intel SDM vol. 2B, NOP), by
// length.
var nops = [10][]byte{
	1: {0x90},
	2: {0x66, 0x90},
	3: {0x0f, 0x1f, 0x00},
	4: {0x0f, 0x1f, 0x40, 0x00},
	5: {0x0f, 0x1f, 0x44, 0x00, 0x00},
	6: {0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00},
	7: {0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00},
	8: {0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
	9: {0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
}

// MaxNop is the longest single NOP instruction Nop emits.
const MaxNop = 9

// Nop emits n bytes of padding as the fewest NOP instructions (each at most
// MaxNop bytes). Its text is ".nops n" per instruction, the llvm-mc
// directive that emits the same bytes.
func (a *Assembler) Nop(n int) {
	if !a.ok("nop", nil) {
		return
	}
	if n < 0 {
		a.fail("nop", fmt.Errorf("%w: negative padding %d", ErrOperand, n))
		return
	}
	for n > 0 {
		k := min(n, MaxNop)
		start := len(a.buf)
		a.emit(nops[k]...)
		a.record(start, ".nops", opRaw(int64(k)))
		n -= k
	}
}

// Align pads with NOPs to the next multiple of align bytes (a power of two),
// for example before a loop head.
func (a *Assembler) Align(align int) {
	if align <= 0 || align&(align-1) != 0 {
		a.ok("align", fmt.Errorf("%w: alignment %d is not a power of two", ErrOperand, align))
		return
	}
	a.Nop(-len(a.buf) & (align - 1))
}

func b2i(b bool) byte {
	if b {
		return 1
	}
	return 0
}
