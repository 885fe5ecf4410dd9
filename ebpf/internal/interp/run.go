package interp

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"sync/atomic"
	"unsafe"

	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/internal/core"
)

// frame is the caller state saved by a local call.
type frame struct {
	ret            int
	r6, r7, r8, r9 uint64
	fp             uint64
}

// ErrFellOff is the cause of a run that executes past the last instruction
// or into the second slot of a lddw (impossible for a verified program).
var ErrFellOff = errors.New("execution left the program's instructions")

// Machine is the state of one run: the environment helpers see, the stack
// and the saved frames of local calls. A machine serves one run at a time;
// reusing it for the next run of any program avoids allocation.
//
// Env.Regions[0] must be the machine's stack (see Reset).
type Machine struct {
	Env    core.Env
	hot    core.Region // the region of the last load (at least hotMin long)
	hotW   core.Region // the region of the last store (likewise, writable)
	frames [core.MaxFrames - 1]frame
	stack  [core.MaxFrames * core.StackSize]byte
}

// NewMachine returns a machine whose Env.Regions holds the stack.
func NewMachine() *Machine {
	m := &Machine{}
	m.Env.Regions = []core.Region{core.NewRegion(m.stack[:], true, core.RegionStack)}
	m.Forget()
	return m
}

// Forget drops the machine's references to memory of the last run's caller,
// so that a pooled machine does not keep it alive.
func (m *Machine) Forget() {
	// The stack is the neutral hot region: it always exists, and an empty
	// region would not work with load's single comparison.
	m.hot = m.Env.Regions[0]
	m.hotW = m.Env.Regions[0]
}

// Run executes the program on m with r1 and r2 as its first two arguments
// and the given instruction budget (see the op table), and returns r0. Run
// is safe for concurrent use with distinct machines.
func (p *Program) Run(m *Machine, r1, r2 uint64, budget int64) (uint64, error) {
	var regs [11]uint64
	depth := 0
	stack := &m.Env.Regions[0]
	regs[1] = r1
	regs[2] = r2
	regs[10] = stack.Start + stack.Len
	insns := p.insns
	pc := 0
	env := &m.Env
	for {
		in := &insns[pc]
		pc++
		switch in.op {
		// ALU64, immediate.
		case opAdd64K:
			regs[in.dst] += uint64(in.imm)
		case opSub64K:
			regs[in.dst] -= uint64(in.imm)
		case opMul64K:
			regs[in.dst] *= uint64(in.imm)
		case opDiv64K:
			regs[in.dst] = div64(regs[in.dst], uint64(in.imm))
		case opSDiv64K:
			regs[in.dst] = sdiv64(regs[in.dst], uint64(in.imm))
		case opOr64K:
			regs[in.dst] |= uint64(in.imm)
		case opAnd64K:
			regs[in.dst] &= uint64(in.imm)
		case opLsh64K:
			regs[in.dst] <<= uint64(in.imm) & 63
		case opRsh64K:
			regs[in.dst] >>= uint64(in.imm) & 63
		case opNeg64:
			regs[in.dst] = -regs[in.dst]
		case opMod64K:
			regs[in.dst] = mod64(regs[in.dst], uint64(in.imm))
		case opSMod64K:
			regs[in.dst] = smod64(regs[in.dst], uint64(in.imm))
		case opXor64K:
			regs[in.dst] ^= uint64(in.imm)
		case opMov64K:
			regs[in.dst] = uint64(in.imm)
		case opArsh64K:
			regs[in.dst] = uint64(int64(regs[in.dst]) >> (uint64(in.imm) & 63))

		// ALU64, register.
		case opAdd64X:
			regs[in.dst] += regs[in.src]
		case opSub64X:
			regs[in.dst] -= regs[in.src]
		case opMul64X:
			regs[in.dst] *= regs[in.src]
		case opDiv64X:
			regs[in.dst] = div64(regs[in.dst], regs[in.src])
		case opSDiv64X:
			regs[in.dst] = sdiv64(regs[in.dst], regs[in.src])
		case opOr64X:
			regs[in.dst] |= regs[in.src]
		case opAnd64X:
			regs[in.dst] &= regs[in.src]
		case opLsh64X:
			regs[in.dst] <<= regs[in.src] & 63
		case opRsh64X:
			regs[in.dst] >>= regs[in.src] & 63
		case opMod64X:
			regs[in.dst] = mod64(regs[in.dst], regs[in.src])
		case opSMod64X:
			regs[in.dst] = smod64(regs[in.dst], regs[in.src])
		case opXor64X:
			regs[in.dst] ^= regs[in.src]
		case opMov64X:
			regs[in.dst] = regs[in.src]
		case opMovSX8To64:
			regs[in.dst] = uint64(int64(int8(regs[in.src])))
		case opMovSX16To64:
			regs[in.dst] = uint64(int64(int16(regs[in.src])))
		case opMovSX32To64:
			regs[in.dst] = uint64(int64(int32(regs[in.src])))
		case opArsh64X:
			regs[in.dst] = uint64(int64(regs[in.dst]) >> (regs[in.src] & 63))

		// ALU32, immediate (imm already holds the unsigned 32-bit value).
		case opAdd32K:
			regs[in.dst] = uint64(uint32(regs[in.dst]) + uint32(in.imm))
		case opSub32K:
			regs[in.dst] = uint64(uint32(regs[in.dst]) - uint32(in.imm))
		case opMul32K:
			regs[in.dst] = uint64(uint32(regs[in.dst]) * uint32(in.imm))
		case opDiv32K:
			regs[in.dst] = uint64(div32(uint32(regs[in.dst]), uint32(in.imm)))
		case opSDiv32K:
			regs[in.dst] = uint64(sdiv32(uint32(regs[in.dst]), uint32(in.imm)))
		case opOr32K:
			regs[in.dst] = uint64(uint32(regs[in.dst]) | uint32(in.imm))
		case opAnd32K:
			regs[in.dst] = uint64(uint32(regs[in.dst]) & uint32(in.imm))
		case opLsh32K:
			regs[in.dst] = uint64(uint32(regs[in.dst]) << (uint32(in.imm) & 31))
		case opRsh32K:
			regs[in.dst] = uint64(uint32(regs[in.dst]) >> (uint32(in.imm) & 31))
		case opNeg32:
			regs[in.dst] = uint64(-uint32(regs[in.dst]))
		case opMod32K:
			regs[in.dst] = uint64(mod32(uint32(regs[in.dst]), uint32(in.imm)))
		case opSMod32K:
			regs[in.dst] = uint64(smod32(uint32(regs[in.dst]), uint32(in.imm)))
		case opXor32K:
			regs[in.dst] = uint64(uint32(regs[in.dst]) ^ uint32(in.imm))
		case opMov32K:
			regs[in.dst] = uint64(uint32(in.imm))
		case opArsh32K:
			regs[in.dst] = uint64(uint32(int32(regs[in.dst]) >> (uint32(in.imm) & 31)))

		// ALU32, register.
		case opAdd32X:
			regs[in.dst] = uint64(uint32(regs[in.dst]) + uint32(regs[in.src]))
		case opSub32X:
			regs[in.dst] = uint64(uint32(regs[in.dst]) - uint32(regs[in.src]))
		case opMul32X:
			regs[in.dst] = uint64(uint32(regs[in.dst]) * uint32(regs[in.src]))
		case opDiv32X:
			regs[in.dst] = uint64(div32(uint32(regs[in.dst]), uint32(regs[in.src])))
		case opSDiv32X:
			regs[in.dst] = uint64(sdiv32(uint32(regs[in.dst]), uint32(regs[in.src])))
		case opOr32X:
			regs[in.dst] = uint64(uint32(regs[in.dst]) | uint32(regs[in.src]))
		case opAnd32X:
			regs[in.dst] = uint64(uint32(regs[in.dst]) & uint32(regs[in.src]))
		case opLsh32X:
			regs[in.dst] = uint64(uint32(regs[in.dst]) << (uint32(regs[in.src]) & 31))
		case opRsh32X:
			regs[in.dst] = uint64(uint32(regs[in.dst]) >> (uint32(regs[in.src]) & 31))
		case opMod32X:
			regs[in.dst] = uint64(mod32(uint32(regs[in.dst]), uint32(regs[in.src])))
		case opSMod32X:
			regs[in.dst] = uint64(smod32(uint32(regs[in.dst]), uint32(regs[in.src])))
		case opXor32X:
			regs[in.dst] = uint64(uint32(regs[in.dst]) ^ uint32(regs[in.src]))
		case opMov32X:
			regs[in.dst] = uint64(uint32(regs[in.src]))
		case opMovSX8To32:
			regs[in.dst] = uint64(uint32(int32(int8(regs[in.src]))))
		case opMovSX16To32:
			regs[in.dst] = uint64(uint32(int32(int16(regs[in.src]))))
		case opArsh32X:
			regs[in.dst] = uint64(uint32(int32(regs[in.dst]) >> (uint32(regs[in.src]) & 31)))

		// Byte order.
		case opLE16:
			regs[in.dst] = uint64(uint16(regs[in.dst]))
		case opLE32:
			regs[in.dst] = uint64(uint32(regs[in.dst]))
		case opLE64:
		case opBE16:
			regs[in.dst] = uint64(bits.ReverseBytes16(uint16(regs[in.dst])))
		case opBE32:
			regs[in.dst] = uint64(bits.ReverseBytes32(uint32(regs[in.dst])))
		case opBE64:
			regs[in.dst] = bits.ReverseBytes64(regs[in.dst])

		// Loads.
		case opLdxB:
			addr := regs[in.src] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hot.Start; off <= m.hot.Len-1 {
				a = unsafe.Add(m.hot.Ptr, off)
			} else if a = m.find(addr, 1, false); a == nil {
				return 0, p.memErr(m, pc-1, addr, 1, false)
			}
			regs[in.dst] = uint64(*(*uint8)(a))
		case opLdxH:
			addr := regs[in.src] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hot.Start; off <= m.hot.Len-2 {
				a = unsafe.Add(m.hot.Ptr, off)
			} else if a = m.find(addr, 2, false); a == nil {
				return 0, p.memErr(m, pc-1, addr, 2, false)
			}
			regs[in.dst] = uint64(*(*uint16)(a))
		case opLdxW:
			addr := regs[in.src] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hot.Start; off <= m.hot.Len-4 {
				a = unsafe.Add(m.hot.Ptr, off)
			} else if a = m.find(addr, 4, false); a == nil {
				return 0, p.memErr(m, pc-1, addr, 4, false)
			}
			regs[in.dst] = uint64(*(*uint32)(a))
		case opLdxDW:
			addr := regs[in.src] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hot.Start; off <= m.hot.Len-8 {
				a = unsafe.Add(m.hot.Ptr, off)
			} else if a = m.find(addr, 8, false); a == nil {
				return 0, p.memErr(m, pc-1, addr, 8, false)
			}
			regs[in.dst] = *(*uint64)(a)
		case opLdxSB:
			addr := regs[in.src] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hot.Start; off <= m.hot.Len-1 {
				a = unsafe.Add(m.hot.Ptr, off)
			} else if a = m.find(addr, 1, false); a == nil {
				return 0, p.memErr(m, pc-1, addr, 1, false)
			}
			regs[in.dst] = uint64(int64(*(*int8)(a)))
		case opLdxSH:
			addr := regs[in.src] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hot.Start; off <= m.hot.Len-2 {
				a = unsafe.Add(m.hot.Ptr, off)
			} else if a = m.find(addr, 2, false); a == nil {
				return 0, p.memErr(m, pc-1, addr, 2, false)
			}
			regs[in.dst] = uint64(int64(*(*int16)(a)))
		case opLdxSW:
			addr := regs[in.src] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hot.Start; off <= m.hot.Len-4 {
				a = unsafe.Add(m.hot.Ptr, off)
			} else if a = m.find(addr, 4, false); a == nil {
				return 0, p.memErr(m, pc-1, addr, 4, false)
			}
			regs[in.dst] = uint64(int64(*(*int32)(a)))

		// Stores.
		case opStB:
			addr := regs[in.dst] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hotW.Start; off <= m.hotW.Len-1 {
				a = unsafe.Add(m.hotW.Ptr, off)
			} else if a = m.find(addr, 1, true); a == nil {
				return 0, p.memErr(m, pc-1, addr, 1, true)
			}
			*(*uint8)(a) = uint8(in.imm)
		case opStH:
			addr := regs[in.dst] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hotW.Start; off <= m.hotW.Len-2 {
				a = unsafe.Add(m.hotW.Ptr, off)
			} else if a = m.find(addr, 2, true); a == nil {
				return 0, p.memErr(m, pc-1, addr, 2, true)
			}
			*(*uint16)(a) = uint16(in.imm)
		case opStW:
			addr := regs[in.dst] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hotW.Start; off <= m.hotW.Len-4 {
				a = unsafe.Add(m.hotW.Ptr, off)
			} else if a = m.find(addr, 4, true); a == nil {
				return 0, p.memErr(m, pc-1, addr, 4, true)
			}
			*(*uint32)(a) = uint32(in.imm)
		case opStDW:
			addr := regs[in.dst] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hotW.Start; off <= m.hotW.Len-8 {
				a = unsafe.Add(m.hotW.Ptr, off)
			} else if a = m.find(addr, 8, true); a == nil {
				return 0, p.memErr(m, pc-1, addr, 8, true)
			}
			*(*uint64)(a) = uint64(in.imm)
		case opStxB:
			addr := regs[in.dst] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hotW.Start; off <= m.hotW.Len-1 {
				a = unsafe.Add(m.hotW.Ptr, off)
			} else if a = m.find(addr, 1, true); a == nil {
				return 0, p.memErr(m, pc-1, addr, 1, true)
			}
			*(*uint8)(a) = uint8(regs[in.src])
		case opStxH:
			addr := regs[in.dst] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hotW.Start; off <= m.hotW.Len-2 {
				a = unsafe.Add(m.hotW.Ptr, off)
			} else if a = m.find(addr, 2, true); a == nil {
				return 0, p.memErr(m, pc-1, addr, 2, true)
			}
			*(*uint16)(a) = uint16(regs[in.src])
		case opStxW:
			addr := regs[in.dst] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hotW.Start; off <= m.hotW.Len-4 {
				a = unsafe.Add(m.hotW.Ptr, off)
			} else if a = m.find(addr, 4, true); a == nil {
				return 0, p.memErr(m, pc-1, addr, 4, true)
			}
			*(*uint32)(a) = uint32(regs[in.src])
		case opStxDW:
			addr := regs[in.dst] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hotW.Start; off <= m.hotW.Len-8 {
				a = unsafe.Add(m.hotW.Ptr, off)
			} else if a = m.find(addr, 8, true); a == nil {
				return 0, p.memErr(m, pc-1, addr, 8, true)
			}
			*(*uint64)(a) = regs[in.src]
		case opAtomic32, opAtomic64:
			if err := p.atomic(m, in, &regs, pc-1); err != nil {
				return 0, err
			}
		case opLddw:
			regs[in.dst] = uint64(in.imm)
			pc++

		// Jumps.
		case opJa:
			goto jump
		case opJEq64K:
			if regs[in.dst] == uint64(in.imm) {
				goto jump
			}
		case opJGT64K:
			if regs[in.dst] > uint64(in.imm) {
				goto jump
			}
		case opJGE64K:
			if regs[in.dst] >= uint64(in.imm) {
				goto jump
			}
		case opJSet64K:
			if regs[in.dst]&uint64(in.imm) != 0 {
				goto jump
			}
		case opJNE64K:
			if regs[in.dst] != uint64(in.imm) {
				goto jump
			}
		case opJSGT64K:
			if int64(regs[in.dst]) > in.imm {
				goto jump
			}
		case opJSGE64K:
			if int64(regs[in.dst]) >= in.imm {
				goto jump
			}
		case opJLT64K:
			if regs[in.dst] < uint64(in.imm) {
				goto jump
			}
		case opJLE64K:
			if regs[in.dst] <= uint64(in.imm) {
				goto jump
			}
		case opJSLT64K:
			if int64(regs[in.dst]) < in.imm {
				goto jump
			}
		case opJSLE64K:
			if int64(regs[in.dst]) <= in.imm {
				goto jump
			}
		case opJEq64X:
			if regs[in.dst] == regs[in.src] {
				goto jump
			}
		case opJGT64X:
			if regs[in.dst] > regs[in.src] {
				goto jump
			}
		case opJGE64X:
			if regs[in.dst] >= regs[in.src] {
				goto jump
			}
		case opJSet64X:
			if regs[in.dst]&regs[in.src] != 0 {
				goto jump
			}
		case opJNE64X:
			if regs[in.dst] != regs[in.src] {
				goto jump
			}
		case opJSGT64X:
			if int64(regs[in.dst]) > int64(regs[in.src]) {
				goto jump
			}
		case opJSGE64X:
			if int64(regs[in.dst]) >= int64(regs[in.src]) {
				goto jump
			}
		case opJLT64X:
			if regs[in.dst] < regs[in.src] {
				goto jump
			}
		case opJLE64X:
			if regs[in.dst] <= regs[in.src] {
				goto jump
			}
		case opJSLT64X:
			if int64(regs[in.dst]) < int64(regs[in.src]) {
				goto jump
			}
		case opJSLE64X:
			if int64(regs[in.dst]) <= int64(regs[in.src]) {
				goto jump
			}
		case opJEq32K:
			if uint32(regs[in.dst]) == uint32(in.imm) {
				goto jump
			}
		case opJGT32K:
			if uint32(regs[in.dst]) > uint32(in.imm) {
				goto jump
			}
		case opJGE32K:
			if uint32(regs[in.dst]) >= uint32(in.imm) {
				goto jump
			}
		case opJSet32K:
			if uint32(regs[in.dst])&uint32(in.imm) != 0 {
				goto jump
			}
		case opJNE32K:
			if uint32(regs[in.dst]) != uint32(in.imm) {
				goto jump
			}
		case opJSGT32K:
			if int32(regs[in.dst]) > int32(in.imm) {
				goto jump
			}
		case opJSGE32K:
			if int32(regs[in.dst]) >= int32(in.imm) {
				goto jump
			}
		case opJLT32K:
			if uint32(regs[in.dst]) < uint32(in.imm) {
				goto jump
			}
		case opJLE32K:
			if uint32(regs[in.dst]) <= uint32(in.imm) {
				goto jump
			}
		case opJSLT32K:
			if int32(regs[in.dst]) < int32(in.imm) {
				goto jump
			}
		case opJSLE32K:
			if int32(regs[in.dst]) <= int32(in.imm) {
				goto jump
			}
		case opJEq32X:
			if uint32(regs[in.dst]) == uint32(regs[in.src]) {
				goto jump
			}
		case opJGT32X:
			if uint32(regs[in.dst]) > uint32(regs[in.src]) {
				goto jump
			}
		case opJGE32X:
			if uint32(regs[in.dst]) >= uint32(regs[in.src]) {
				goto jump
			}
		case opJSet32X:
			if uint32(regs[in.dst])&uint32(regs[in.src]) != 0 {
				goto jump
			}
		case opJNE32X:
			if uint32(regs[in.dst]) != uint32(regs[in.src]) {
				goto jump
			}
		case opJSGT32X:
			if int32(regs[in.dst]) > int32(regs[in.src]) {
				goto jump
			}
		case opJSGE32X:
			if int32(regs[in.dst]) >= int32(regs[in.src]) {
				goto jump
			}
		case opJLT32X:
			if uint32(regs[in.dst]) < uint32(regs[in.src]) {
				goto jump
			}
		case opJLE32X:
			if uint32(regs[in.dst]) <= uint32(regs[in.src]) {
				goto jump
			}
		case opJSLT32X:
			if int32(regs[in.dst]) < int32(regs[in.src]) {
				goto jump
			}
		case opJSLE32X:
			if int32(regs[in.dst]) <= int32(regs[in.src]) {
				goto jump
			}

		// Calls.
		case opCall:
			r0, err := p.helpers[in.off](env, regs[1], regs[2], regs[3], regs[4], regs[5])
			if err != nil {
				return 0, p.runErr(pc-1, err)
			}
			regs[0] = r0
		case opCallX:
			fn := p.byID[int32(regs[in.dst])]
			if fn == nil || regs[in.dst] > math.MaxInt32 {
				return 0, p.runErr(pc-1, fmt.Errorf("%w %d (callx)", core.ErrUnknownHelper, regs[in.dst]))
			}
			r0, err := fn(env, regs[1], regs[2], regs[3], regs[4], regs[5])
			if err != nil {
				return 0, p.runErr(pc-1, err)
			}
			regs[0] = r0
		case opCallLocal:
			if depth == len(m.frames) {
				return 0, p.runErr(pc-1, core.ErrStackOverflow)
			}
			budget -= in.imm
			if budget < 0 {
				return 0, p.runErr(pc-1, core.ErrBudget)
			}
			m.frames[depth] = frame{ret: pc, r6: regs[6], r7: regs[7], r8: regs[8], r9: regs[9], fp: regs[10]}
			depth++
			regs[10] -= core.StackSize
			pc = int(in.off)
		case opExit:
			if depth == 0 {
				return regs[0], nil
			}
			depth--
			f := &m.frames[depth]
			pc = f.ret
			regs[6], regs[7], regs[8], regs[9], regs[10] = f.r6, f.r7, f.r8, f.r9, f.fp

		default:
			return 0, p.runErr(pc-1, ErrFellOff)
		}
		continue

	jump:
		if t := int(in.off); t < pc {
			budget -= int64(pc - t)
			if budget < 0 {
				return 0, p.runErr(pc-1, core.ErrBudget)
			}
			pc = t
		} else {
			pc = t
		}
	}
}

// load returns a pointer to the size bytes at addr if they lie inside one
// region the program may access, or nil. The region of the last load is
// checked first, with a single comparison: hot regions are at least 8 bytes
// long, so hot.Len-size cannot wrap for the access sizes 1 to 8.
func (m *Machine) load(addr, size uint64) unsafe.Pointer {
	off := addr - m.hot.Start
	if off > m.hot.Len-size {
		return m.find(addr, size, false)
	}
	return unsafe.Add(m.hot.Ptr, off)
}

// store is load for a store: the region must be writable.
func (m *Machine) store(addr, size uint64) unsafe.Pointer {
	off := addr - m.hotW.Start
	if off > m.hotW.Len-size {
		return m.find(addr, size, true)
	}
	return unsafe.Add(m.hotW.Ptr, off)
}

// hotMin is the shortest region load and store cache (see load).
const hotMin = 8

//go:noinline
func (m *Machine) find(addr, size uint64, write bool) unsafe.Pointer {
	for i := range m.Env.Regions {
		r := &m.Env.Regions[i]
		if off := addr - r.Start; off < r.Len && size <= r.Len-off {
			if write && !r.Writable {
				return nil
			}
			if r.Len >= hotMin {
				if write {
					m.hotW = *r
				} else {
					m.hot = *r
				}
			}
			return unsafe.Add(r.Ptr, off)
		}
	}
	return nil
}

func (p *Program) memErr(m *Machine, pc int, addr, size uint64, write bool) error {
	r := m.Env.Find(addr, size)
	return p.runErr(pc, &core.MemoryError{PC: pc, Addr: addr, Size: size, Write: write, ReadOnly: r != nil})
}

func (p *Program) runErr(pc int, err error) error {
	if pc >= len(p.source) {
		return &core.RunError{PC: pc, Ins: "past the end", Err: err}
	}
	return &core.RunError{PC: pc, Ins: fmt.Sprint(p.source[pc]), Err: err}
}

// atomic performs an atomic read-modify-write. The access must be naturally
// aligned, as on every architecture that has atomics.
func (p *Program) atomic(m *Machine, in *inst, regs *[11]uint64, pc int) error {
	size := uint64(4)
	if in.op == opAtomic64 {
		size = 8
	}
	addr := regs[in.dst] + uint64(in.off)
	a := m.store(addr, size)
	if a == nil {
		return p.memErr(m, pc, addr, size, true)
	}
	if addr&(size-1) != 0 {
		return p.runErr(pc, fmt.Errorf("%w: %d-byte access at %#x", core.ErrAlignment, size, addr))
	}
	aop := asm.AtomicOp(in.aop)
	fetch := aop&asm.AtomicFetch != 0
	src := regs[in.src]
	var old uint64
	if size == 8 {
		m := (*uint64)(a)
		switch aop &^ asm.AtomicFetch {
		case asm.AtomicAdd:
			old = atomic.AddUint64(m, src) - src
		case asm.AtomicOr:
			old = atomic.OrUint64(m, src)
		case asm.AtomicAnd:
			old = atomic.AndUint64(m, src)
		case asm.AtomicXor:
			for {
				old = atomic.LoadUint64(m)
				if atomic.CompareAndSwapUint64(m, old, old^src) {
					break
				}
			}
		case asm.AtomicXchg &^ asm.AtomicFetch:
			old = atomic.SwapUint64(m, src)
		case asm.AtomicCmpXchg &^ asm.AtomicFetch:
			for {
				old = atomic.LoadUint64(m)
				if old != regs[0] || atomic.CompareAndSwapUint64(m, old, src) {
					break
				}
			}
			regs[0] = old
			return nil
		}
	} else {
		m := (*uint32)(a)
		s := uint32(src)
		var o uint32
		switch aop &^ asm.AtomicFetch {
		case asm.AtomicAdd:
			o = atomic.AddUint32(m, s) - s
		case asm.AtomicOr:
			o = atomic.OrUint32(m, s)
		case asm.AtomicAnd:
			o = atomic.AndUint32(m, s)
		case asm.AtomicXor:
			for {
				o = atomic.LoadUint32(m)
				if atomic.CompareAndSwapUint32(m, o, o^s) {
					break
				}
			}
		case asm.AtomicXchg &^ asm.AtomicFetch:
			o = atomic.SwapUint32(m, s)
		case asm.AtomicCmpXchg &^ asm.AtomicFetch:
			for {
				o = atomic.LoadUint32(m)
				if o != uint32(regs[0]) || atomic.CompareAndSwapUint32(m, o, s) {
					break
				}
			}
			regs[0] = uint64(o)
			return nil
		}
		old = uint64(o)
	}
	if fetch {
		regs[in.src] = old
	}
	return nil
}

func div64(a, b uint64) uint64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func mod64(a, b uint64) uint64 {
	if b == 0 {
		return a
	}
	return a % b
}

func sdiv64(a, b uint64) uint64 {
	if b == 0 {
		return 0
	}
	return uint64(int64(a) / int64(b)) // Go defines MinInt64 / -1 = MinInt64
}

func smod64(a, b uint64) uint64 {
	if b == 0 {
		return a
	}
	return uint64(int64(a) % int64(b)) // Go defines MinInt64 % -1 = 0
}

func div32(a, b uint32) uint32 {
	if b == 0 {
		return 0
	}
	return a / b
}

func mod32(a, b uint32) uint32 {
	if b == 0 {
		return a
	}
	return a % b
}

func sdiv32(a, b uint32) uint32 {
	if b == 0 {
		return 0
	}
	return uint32(int32(a) / int32(b))
}

func smod32(a, b uint32) uint32 {
	if b == 0 {
		return a
	}
	return uint32(int32(a) % int32(b))
}
