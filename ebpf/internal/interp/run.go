package interp

import (
	"fmt"
	"math"
	"math/bits"
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
var ErrFellOff = core.ErrFellOff

// Machine is the state of one run: the environment helpers see, the stack
// and the saved frames of local calls. A machine serves one run at a time;
// reusing it for the next run of any program avoids allocation.
//
// Env.Regions[0] must be the machine's stack (see Reset).
type Machine struct {
	Env  core.Env
	hot  core.Region // the region of the last load (at least hotMin long)
	hotW core.Region // the region of the last store (likewise, writable)
	// Where hot and hotW were found in Env.Regions, to tell at the start
	// of the next run whether they are still regions of that run.
	hotIdx, hotWIdx int
	regs            [256]uint64 // indexed by uint8 register numbers: no bounds checks
	budget          int64
	depth           int // number of saved frames
	// helperErr carries a helper's error from the fast loop to Run.
	helperErr error
	frames    [core.MaxFrames - 1]frame
	stack     [core.MaxFrames * core.StackSize]byte
}

// NewMachine returns a machine whose Env.Regions holds the stack.
func NewMachine() *Machine {
	m := &Machine{}
	m.Env.Regions = []core.Region{core.NewRegion(m.stack[:], true, core.RegionStack)}
	m.hot, m.hotW = m.Env.Regions[0], m.Env.Regions[0]
	return m
}

// exitReason says why the fast loop returned to Run.
type exitReason uint8

const (
	exitSlow   exitReason = iota // the instruction at pc needs the slow path
	exitBudget                   // the jump at pc exhausted the budget
	exitHelper                   // the helper called at pc failed with m.helperErr
	exitDone                     // the entry function exited: r0 is the result
)

// Run executes the program on m with r1 and r2 as its first two arguments
// and the given instruction budget (see the op table), and returns r0. Run
// is safe for concurrent use with distinct machines.
//
// Execution alternates between two loops: fast runs arithmetic, jumps,
// helper calls, loads and stores that hit the cached region and those
// compiled without a check (see Program.Unchecked), and calls
// no other function, so the compiler keeps its state in registers;
// everything else (local calls, exit, atomics, region misses, faults)
// returns to the slow loop here, which executes that one instruction and
// re-enters fast.
func (p *Program) Run(m *Machine, r1, r2 uint64, budget int64) (uint64, error) {
	r := &m.regs
	*(*[11]uint64)(r[:11]) = [11]uint64{}
	stack := &m.Env.Regions[0]
	// The regions may have changed since the last run: the hot regions
	// stay only if the region table still holds them (same memory, same
	// permission), which keeps a program's usual context hot across runs.
	// Otherwise the stack is the neutral hot region: it always exists, and
	// an empty region would not work with the single comparison of the
	// fast path. (Index 0, the stack, never changes.)
	if m.hotIdx != 0 && !m.holds(m.hotIdx, &m.hot) {
		m.hot, m.hotIdx = *stack, 0
	}
	if m.hotWIdx != 0 && !m.holds(m.hotWIdx, &m.hotW) {
		m.hotW, m.hotWIdx = *stack, 0
	}
	r[1] = r1
	r[2] = r2
	r[10] = stack.Start + stack.Len
	m.budget = budget
	m.depth = 0
	pc := 0
	for {
		var why exitReason
		pc, why = p.fast(m, pc)
		if why == exitDone {
			return r[0], nil
		}
		in := &p.insns[pc]
		switch why {
		case exitBudget:
			return 0, p.runErr(pc, core.ErrBudget)
		case exitHelper:
			err := m.helperErr
			m.helperErr = nil
			return 0, p.runErr(pc, err)
		}
		pc++
		switch in.op {
		case opLdxB, opLdxH, opLdxW, opLdxDW, opLdxSB, opLdxSH, opLdxSW:
			size := loadSize[in.op-opLdxB]
			addr := r[in.src] + uint64(in.off)
			a := m.find(addr, size, false)
			if a == nil {
				return 0, p.memErr(m, pc-1, addr, size, false)
			}
			r[in.dst] = loadFrom(in.op, a)
		case opStB, opStH, opStW, opStDW, opStxB, opStxH, opStxW, opStxDW:
			size := storeSize[in.op-opStB]
			addr := r[in.dst] + uint64(in.off)
			a := m.find(addr, size, true)
			if a == nil {
				return 0, p.memErr(m, pc-1, addr, size, true)
			}
			v := uint64(in.imm)
			if in.op >= opStxB {
				v = r[in.src]
			}
			storeTo(size, a, v)
		case opAtomic32, opAtomic64, opAtomic32U, opAtomic64U:
			if err := p.atomic(m, in, r, pc-1); err != nil {
				return 0, err
			}
		case opCallX:
			fn := p.byID[int32(r[in.dst])]
			if fn == nil || r[in.dst] > math.MaxInt32 {
				return 0, p.runErr(pc-1, fmt.Errorf("%w %d (callx)", core.ErrUnknownHelper, r[in.dst]))
			}
			r0, err := fn(&m.Env, r[1], r[2], r[3], r[4], r[5])
			if err != nil {
				return 0, p.runErr(pc-1, err)
			}
			r[0] = r0
		case opCallLocal:
			if m.depth == len(m.frames) {
				return 0, p.runErr(pc-1, core.ErrStackOverflow)
			}
			m.budget -= in.imm
			if m.budget < 0 {
				return 0, p.runErr(pc-1, core.ErrBudget)
			}
			m.frames[m.depth] = frame{ret: pc, r6: r[6], r7: r[7], r8: r[8], r9: r[9], fp: r[10]}
			m.depth++
			r[10] -= core.StackSize
			pc = int(in.off)
		case opExit:
			m.depth--
			f := &m.frames[m.depth]
			pc = f.ret
			r[6], r[7], r[8], r[9], r[10] = f.r6, f.r7, f.r8, f.r9, f.fp
		default:
			return 0, p.runErr(pc-1, ErrFellOff)
		}
	}
}

var loadSize = [...]uint64{1, 2, 4, 8, 1, 2, 4}     // opLdxB..opLdxSW
var storeSize = [...]uint64{1, 2, 4, 8, 1, 2, 4, 8} // opStB..opStxDW

func loadFrom(o op, a unsafe.Pointer) uint64 {
	switch o {
	case opLdxB:
		return uint64(*(*uint8)(a))
	case opLdxH:
		return uint64(*(*uint16)(a))
	case opLdxW:
		return uint64(*(*uint32)(a))
	case opLdxDW:
		return *(*uint64)(a)
	case opLdxSB:
		return uint64(int64(*(*int8)(a)))
	case opLdxSH:
		return uint64(int64(*(*int16)(a)))
	default:
		return uint64(int64(*(*int32)(a)))
	}
}

func storeTo(size uint64, a unsafe.Pointer, v uint64) {
	switch size {
	case 1:
		*(*uint8)(a) = uint8(v)
	case 2:
		*(*uint16)(a) = uint16(v)
	case 4:
		*(*uint32)(a) = uint32(v)
	default:
		*(*uint64)(a) = v
	}
}

// fast executes instructions from pc until one needs the slow path, a
// backward jump exhausts the budget or a helper fails, and returns that
// instruction's slot. It calls nothing but helpers, so its state stays in
// registers.
func (p *Program) fast(m *Machine, pc int) (int, exitReason) {
	r := &m.regs
	// Instructions are fetched without a bounds check: the fetched slot is
	// always in [0, len(insns)-2]. Compile checks every jump and call
	// target, a lddw's second slot and the slot after the last instruction
	// hold opInvalid, which returns to the slow loop, and a local call
	// returns to the slot after the call. So ip, one past the fetched slot,
	// never leaves the allocation, as the garbage collector requires.
	base := unsafe.Pointer(unsafe.SliceData(p.insns))
	budget := m.budget
	// ip points at the next instruction; the loop keeps no slot index.
	ip := unsafe.Add(base, uintptr(pc)*instSize)
	for {
		in := (*inst)(ip)
		ip = unsafe.Add(ip, instSize)
		switch in.op {
		// ALU64, immediate.
		case opAdd64K:
			r[in.dst] += uint64(in.imm)
		case opSub64K:
			r[in.dst] -= uint64(in.imm)
		case opMul64K:
			r[in.dst] *= uint64(in.imm)
		case opDiv64K:
			r[in.dst] = div64(r[in.dst], uint64(in.imm))
		case opSDiv64K:
			r[in.dst] = sdiv64(r[in.dst], uint64(in.imm))
		case opOr64K:
			r[in.dst] |= uint64(in.imm)
		case opAnd64K:
			r[in.dst] &= uint64(in.imm)
		case opLsh64K:
			r[in.dst] <<= uint64(in.imm) & 63
		case opRsh64K:
			r[in.dst] >>= uint64(in.imm) & 63
		case opNeg64:
			r[in.dst] = -r[in.dst]
		case opMod64K:
			r[in.dst] = mod64(r[in.dst], uint64(in.imm))
		case opSMod64K:
			r[in.dst] = smod64(r[in.dst], uint64(in.imm))
		case opXor64K:
			r[in.dst] ^= uint64(in.imm)
		case opMov64K:
			r[in.dst] = uint64(in.imm)
		case opArsh64K:
			r[in.dst] = uint64(int64(r[in.dst]) >> (uint64(in.imm) & 63))

		// ALU64, register.
		case opAdd64X:
			r[in.dst] += r[in.src]
		case opSub64X:
			r[in.dst] -= r[in.src]
		case opMul64X:
			r[in.dst] *= r[in.src]
		case opDiv64X:
			r[in.dst] = div64(r[in.dst], r[in.src])
		case opSDiv64X:
			r[in.dst] = sdiv64(r[in.dst], r[in.src])
		case opOr64X:
			r[in.dst] |= r[in.src]
		case opAnd64X:
			r[in.dst] &= r[in.src]
		case opLsh64X:
			r[in.dst] <<= r[in.src] & 63
		case opRsh64X:
			r[in.dst] >>= r[in.src] & 63
		case opMod64X:
			r[in.dst] = mod64(r[in.dst], r[in.src])
		case opSMod64X:
			r[in.dst] = smod64(r[in.dst], r[in.src])
		case opXor64X:
			r[in.dst] ^= r[in.src]
		case opMov64X:
			r[in.dst] = r[in.src]
		case opMovSX8To64:
			r[in.dst] = uint64(int64(int8(r[in.src])))
		case opMovSX16To64:
			r[in.dst] = uint64(int64(int16(r[in.src])))
		case opMovSX32To64:
			r[in.dst] = uint64(int64(int32(r[in.src])))
		case opArsh64X:
			r[in.dst] = uint64(int64(r[in.dst]) >> (r[in.src] & 63))

		// ALU32, immediate (imm already holds the unsigned 32-bit value).
		case opAdd32K:
			r[in.dst] = uint64(uint32(r[in.dst]) + uint32(in.imm))
		case opSub32K:
			r[in.dst] = uint64(uint32(r[in.dst]) - uint32(in.imm))
		case opMul32K:
			r[in.dst] = uint64(uint32(r[in.dst]) * uint32(in.imm))
		case opDiv32K:
			r[in.dst] = uint64(div32(uint32(r[in.dst]), uint32(in.imm)))
		case opSDiv32K:
			r[in.dst] = uint64(sdiv32(uint32(r[in.dst]), uint32(in.imm)))
		case opOr32K:
			r[in.dst] = uint64(uint32(r[in.dst]) | uint32(in.imm))
		case opAnd32K:
			r[in.dst] = uint64(uint32(r[in.dst]) & uint32(in.imm))
		case opLsh32K:
			r[in.dst] = uint64(uint32(r[in.dst]) << (uint32(in.imm) & 31))
		case opRsh32K:
			r[in.dst] = uint64(uint32(r[in.dst]) >> (uint32(in.imm) & 31))
		case opNeg32:
			r[in.dst] = uint64(-uint32(r[in.dst]))
		case opMod32K:
			r[in.dst] = uint64(mod32(uint32(r[in.dst]), uint32(in.imm)))
		case opSMod32K:
			r[in.dst] = uint64(smod32(uint32(r[in.dst]), uint32(in.imm)))
		case opXor32K:
			r[in.dst] = uint64(uint32(r[in.dst]) ^ uint32(in.imm))
		case opMov32K:
			r[in.dst] = uint64(uint32(in.imm))
		case opArsh32K:
			r[in.dst] = uint64(uint32(int32(r[in.dst]) >> (uint32(in.imm) & 31)))

		// ALU32, register.
		case opAdd32X:
			r[in.dst] = uint64(uint32(r[in.dst]) + uint32(r[in.src]))
		case opSub32X:
			r[in.dst] = uint64(uint32(r[in.dst]) - uint32(r[in.src]))
		case opMul32X:
			r[in.dst] = uint64(uint32(r[in.dst]) * uint32(r[in.src]))
		case opDiv32X:
			r[in.dst] = uint64(div32(uint32(r[in.dst]), uint32(r[in.src])))
		case opSDiv32X:
			r[in.dst] = uint64(sdiv32(uint32(r[in.dst]), uint32(r[in.src])))
		case opOr32X:
			r[in.dst] = uint64(uint32(r[in.dst]) | uint32(r[in.src]))
		case opAnd32X:
			r[in.dst] = uint64(uint32(r[in.dst]) & uint32(r[in.src]))
		case opLsh32X:
			r[in.dst] = uint64(uint32(r[in.dst]) << (uint32(r[in.src]) & 31))
		case opRsh32X:
			r[in.dst] = uint64(uint32(r[in.dst]) >> (uint32(r[in.src]) & 31))
		case opMod32X:
			r[in.dst] = uint64(mod32(uint32(r[in.dst]), uint32(r[in.src])))
		case opSMod32X:
			r[in.dst] = uint64(smod32(uint32(r[in.dst]), uint32(r[in.src])))
		case opXor32X:
			r[in.dst] = uint64(uint32(r[in.dst]) ^ uint32(r[in.src]))
		case opMov32X:
			r[in.dst] = uint64(uint32(r[in.src]))
		case opMovSX8To32:
			r[in.dst] = uint64(uint32(int32(int8(r[in.src]))))
		case opMovSX16To32:
			r[in.dst] = uint64(uint32(int32(int16(r[in.src]))))
		case opArsh32X:
			r[in.dst] = uint64(uint32(int32(r[in.dst]) >> (uint32(r[in.src]) & 31)))

		// Byte order.
		case opLE16:
			r[in.dst] = uint64(uint16(r[in.dst]))
		case opLE32:
			r[in.dst] = uint64(uint32(r[in.dst]))
		case opLE64:
		case opBE16:
			r[in.dst] = uint64(bits.ReverseBytes16(uint16(r[in.dst])))
		case opBE32:
			r[in.dst] = uint64(bits.ReverseBytes32(uint32(r[in.dst])))
		case opBE64:
			r[in.dst] = bits.ReverseBytes64(r[in.dst])

		// Loads.
		case opLdxB:
			addr := r[in.src] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hot.Start; off <= m.hot.Len-1 {
				a = unsafe.Add(m.hot.Ptr, off)
			} else {
				m.budget = budget
				return slotOf(base, ip) - 1, exitSlow
			}
			r[in.dst] = uint64(*(*uint8)(a))
		case opLdxH:
			addr := r[in.src] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hot.Start; off <= m.hot.Len-2 {
				a = unsafe.Add(m.hot.Ptr, off)
			} else {
				m.budget = budget
				return slotOf(base, ip) - 1, exitSlow
			}
			r[in.dst] = uint64(*(*uint16)(a))
		case opLdxW:
			addr := r[in.src] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hot.Start; off <= m.hot.Len-4 {
				a = unsafe.Add(m.hot.Ptr, off)
			} else {
				m.budget = budget
				return slotOf(base, ip) - 1, exitSlow
			}
			r[in.dst] = uint64(*(*uint32)(a))
		case opLdxDW:
			addr := r[in.src] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hot.Start; off <= m.hot.Len-8 {
				a = unsafe.Add(m.hot.Ptr, off)
			} else {
				m.budget = budget
				return slotOf(base, ip) - 1, exitSlow
			}
			r[in.dst] = *(*uint64)(a)
		case opLdxSB:
			addr := r[in.src] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hot.Start; off <= m.hot.Len-1 {
				a = unsafe.Add(m.hot.Ptr, off)
			} else {
				m.budget = budget
				return slotOf(base, ip) - 1, exitSlow
			}
			r[in.dst] = uint64(int64(*(*int8)(a)))
		case opLdxSH:
			addr := r[in.src] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hot.Start; off <= m.hot.Len-2 {
				a = unsafe.Add(m.hot.Ptr, off)
			} else {
				m.budget = budget
				return slotOf(base, ip) - 1, exitSlow
			}
			r[in.dst] = uint64(int64(*(*int16)(a)))
		case opLdxSW:
			addr := r[in.src] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hot.Start; off <= m.hot.Len-4 {
				a = unsafe.Add(m.hot.Ptr, off)
			} else {
				m.budget = budget
				return slotOf(base, ip) - 1, exitSlow
			}
			r[in.dst] = uint64(int64(*(*int32)(a)))

		// Stores.
		case opStB:
			addr := r[in.dst] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hotW.Start; off <= m.hotW.Len-1 {
				a = unsafe.Add(m.hotW.Ptr, off)
			} else {
				m.budget = budget
				return slotOf(base, ip) - 1, exitSlow
			}
			*(*uint8)(a) = uint8(in.imm)
		case opStH:
			addr := r[in.dst] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hotW.Start; off <= m.hotW.Len-2 {
				a = unsafe.Add(m.hotW.Ptr, off)
			} else {
				m.budget = budget
				return slotOf(base, ip) - 1, exitSlow
			}
			*(*uint16)(a) = uint16(in.imm)
		case opStW:
			addr := r[in.dst] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hotW.Start; off <= m.hotW.Len-4 {
				a = unsafe.Add(m.hotW.Ptr, off)
			} else {
				m.budget = budget
				return slotOf(base, ip) - 1, exitSlow
			}
			*(*uint32)(a) = uint32(in.imm)
		case opStDW:
			addr := r[in.dst] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hotW.Start; off <= m.hotW.Len-8 {
				a = unsafe.Add(m.hotW.Ptr, off)
			} else {
				m.budget = budget
				return slotOf(base, ip) - 1, exitSlow
			}
			*(*uint64)(a) = uint64(in.imm)
		case opStxB:
			addr := r[in.dst] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hotW.Start; off <= m.hotW.Len-1 {
				a = unsafe.Add(m.hotW.Ptr, off)
			} else {
				m.budget = budget
				return slotOf(base, ip) - 1, exitSlow
			}
			*(*uint8)(a) = uint8(r[in.src])
		case opStxH:
			addr := r[in.dst] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hotW.Start; off <= m.hotW.Len-2 {
				a = unsafe.Add(m.hotW.Ptr, off)
			} else {
				m.budget = budget
				return slotOf(base, ip) - 1, exitSlow
			}
			*(*uint16)(a) = uint16(r[in.src])
		case opStxW:
			addr := r[in.dst] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hotW.Start; off <= m.hotW.Len-4 {
				a = unsafe.Add(m.hotW.Ptr, off)
			} else {
				m.budget = budget
				return slotOf(base, ip) - 1, exitSlow
			}
			*(*uint32)(a) = uint32(r[in.src])
		case opStxDW:
			addr := r[in.dst] + uint64(in.off)
			var a unsafe.Pointer
			if off := addr - m.hotW.Start; off <= m.hotW.Len-8 {
				a = unsafe.Add(m.hotW.Ptr, off)
			} else {
				m.budget = budget
				return slotOf(base, ip) - 1, exitSlow
			}
			*(*uint64)(a) = r[in.src]
		// Loads and stores proven in bounds (see Program.Unchecked).
		case opLdxBU:
			r[in.dst] = uint64(*(*uint8)(hostPtr(r[in.src] + uint64(in.off))))
		case opLdxHU:
			r[in.dst] = uint64(*(*uint16)(hostPtr(r[in.src] + uint64(in.off))))
		case opLdxWU:
			r[in.dst] = uint64(*(*uint32)(hostPtr(r[in.src] + uint64(in.off))))
		case opLdxDWU:
			r[in.dst] = *(*uint64)(hostPtr(r[in.src] + uint64(in.off)))
		case opLdxSBU:
			r[in.dst] = uint64(int64(*(*int8)(hostPtr(r[in.src] + uint64(in.off)))))
		case opLdxSHU:
			r[in.dst] = uint64(int64(*(*int16)(hostPtr(r[in.src] + uint64(in.off)))))
		case opLdxSWU:
			r[in.dst] = uint64(int64(*(*int32)(hostPtr(r[in.src] + uint64(in.off)))))
		case opStBU:
			*(*uint8)(hostPtr(r[in.dst] + uint64(in.off))) = uint8(in.imm)
		case opStHU:
			*(*uint16)(hostPtr(r[in.dst] + uint64(in.off))) = uint16(in.imm)
		case opStWU:
			*(*uint32)(hostPtr(r[in.dst] + uint64(in.off))) = uint32(in.imm)
		case opStDWU:
			*(*uint64)(hostPtr(r[in.dst] + uint64(in.off))) = uint64(in.imm)
		case opStxBU:
			*(*uint8)(hostPtr(r[in.dst] + uint64(in.off))) = uint8(r[in.src])
		case opStxHU:
			*(*uint16)(hostPtr(r[in.dst] + uint64(in.off))) = uint16(r[in.src])
		case opStxWU:
			*(*uint32)(hostPtr(r[in.dst] + uint64(in.off))) = uint32(r[in.src])
		case opStxDWU:
			*(*uint64)(hostPtr(r[in.dst] + uint64(in.off))) = r[in.src]

		case opLddw:
			r[in.dst] = uint64(in.imm)
			ip = unsafe.Add(ip, instSize)

		case opExit:
			if m.depth != 0 {
				m.budget = budget
				return slotOf(base, ip) - 1, exitSlow
			}
			return slotOf(base, ip) - 1, exitDone

		// Helper calls stay in the fast loop: leaving it per call costs more
		// than the spills the call causes (measured on helper_call).
		case opCall:
			r0, err := p.helpers[in.off](&m.Env, r[1], r[2], r[3], r[4], r[5])
			if err != nil {
				m.budget = budget
				m.helperErr = err
				return slotOf(base, ip) - 1, exitHelper
			}
			r[0] = r0

		// Jumps.
		case opJa:
			goto jump
		case opJEq64K:
			if r[in.dst] == uint64(in.imm) {
				goto jump
			}
		case opJGT64K:
			if r[in.dst] > uint64(in.imm) {
				goto jump
			}
		case opJGE64K:
			if r[in.dst] >= uint64(in.imm) {
				goto jump
			}
		case opJSet64K:
			if r[in.dst]&uint64(in.imm) != 0 {
				goto jump
			}
		case opJNE64K:
			if r[in.dst] != uint64(in.imm) {
				goto jump
			}
		case opJSGT64K:
			if int64(r[in.dst]) > in.imm {
				goto jump
			}
		case opJSGE64K:
			if int64(r[in.dst]) >= in.imm {
				goto jump
			}
		case opJLT64K:
			if r[in.dst] < uint64(in.imm) {
				goto jump
			}
		case opJLE64K:
			if r[in.dst] <= uint64(in.imm) {
				goto jump
			}
		case opJSLT64K:
			if int64(r[in.dst]) < in.imm {
				goto jump
			}
		case opJSLE64K:
			if int64(r[in.dst]) <= in.imm {
				goto jump
			}
		case opJEq64X:
			if r[in.dst] == r[in.src] {
				goto jump
			}
		case opJGT64X:
			if r[in.dst] > r[in.src] {
				goto jump
			}
		case opJGE64X:
			if r[in.dst] >= r[in.src] {
				goto jump
			}
		case opJSet64X:
			if r[in.dst]&r[in.src] != 0 {
				goto jump
			}
		case opJNE64X:
			if r[in.dst] != r[in.src] {
				goto jump
			}
		case opJSGT64X:
			if int64(r[in.dst]) > int64(r[in.src]) {
				goto jump
			}
		case opJSGE64X:
			if int64(r[in.dst]) >= int64(r[in.src]) {
				goto jump
			}
		case opJLT64X:
			if r[in.dst] < r[in.src] {
				goto jump
			}
		case opJLE64X:
			if r[in.dst] <= r[in.src] {
				goto jump
			}
		case opJSLT64X:
			if int64(r[in.dst]) < int64(r[in.src]) {
				goto jump
			}
		case opJSLE64X:
			if int64(r[in.dst]) <= int64(r[in.src]) {
				goto jump
			}
		case opJEq32K:
			if uint32(r[in.dst]) == uint32(in.imm) {
				goto jump
			}
		case opJGT32K:
			if uint32(r[in.dst]) > uint32(in.imm) {
				goto jump
			}
		case opJGE32K:
			if uint32(r[in.dst]) >= uint32(in.imm) {
				goto jump
			}
		case opJSet32K:
			if uint32(r[in.dst])&uint32(in.imm) != 0 {
				goto jump
			}
		case opJNE32K:
			if uint32(r[in.dst]) != uint32(in.imm) {
				goto jump
			}
		case opJSGT32K:
			if int32(r[in.dst]) > int32(in.imm) {
				goto jump
			}
		case opJSGE32K:
			if int32(r[in.dst]) >= int32(in.imm) {
				goto jump
			}
		case opJLT32K:
			if uint32(r[in.dst]) < uint32(in.imm) {
				goto jump
			}
		case opJLE32K:
			if uint32(r[in.dst]) <= uint32(in.imm) {
				goto jump
			}
		case opJSLT32K:
			if int32(r[in.dst]) < int32(in.imm) {
				goto jump
			}
		case opJSLE32K:
			if int32(r[in.dst]) <= int32(in.imm) {
				goto jump
			}
		case opJEq32X:
			if uint32(r[in.dst]) == uint32(r[in.src]) {
				goto jump
			}
		case opJGT32X:
			if uint32(r[in.dst]) > uint32(r[in.src]) {
				goto jump
			}
		case opJGE32X:
			if uint32(r[in.dst]) >= uint32(r[in.src]) {
				goto jump
			}
		case opJSet32X:
			if uint32(r[in.dst])&uint32(r[in.src]) != 0 {
				goto jump
			}
		case opJNE32X:
			if uint32(r[in.dst]) != uint32(r[in.src]) {
				goto jump
			}
		case opJSGT32X:
			if int32(r[in.dst]) > int32(r[in.src]) {
				goto jump
			}
		case opJSGE32X:
			if int32(r[in.dst]) >= int32(r[in.src]) {
				goto jump
			}
		case opJLT32X:
			if uint32(r[in.dst]) < uint32(r[in.src]) {
				goto jump
			}
		case opJLE32X:
			if uint32(r[in.dst]) <= uint32(r[in.src]) {
				goto jump
			}
		case opJSLT32X:
			if int32(r[in.dst]) < int32(r[in.src]) {
				goto jump
			}
		case opJSLE32X:
			if int32(r[in.dst]) <= int32(r[in.src]) {
				goto jump
			}

		default:
			m.budget = budget
			return slotOf(base, ip) - 1, exitSlow
		}
		continue

	jump:
		t := unsafe.Add(base, uintptr(in.off)*instSize)
		if uintptr(t) < uintptr(ip) {
			budget -= int64((uintptr(ip) - uintptr(t)) / instSize)
			if budget < 0 {
				m.budget = budget
				return slotOf(base, ip) - 1, exitBudget
			}
		}
		ip = t
	}
}

// instSize is the size of one pre-decoded instruction.
const instSize = unsafe.Sizeof(inst{})

// slotOf returns the slot index of the instruction ip points at.
func slotOf(base, ip unsafe.Pointer) int {
	return int((uintptr(ip) - uintptr(base)) / instSize)
}

// store returns a pointer to the size bytes at addr if they lie inside one
// writable region, or nil. The region of the last store is checked first,
// with a single comparison, as the fast loop does for every load and store:
// hot regions are at least hotMin bytes long, so hot.Len-size cannot wrap
// for the access sizes 1 to 8.
func (m *Machine) store(addr, size uint64) unsafe.Pointer {
	off := addr - m.hotW.Start
	if off > m.hotW.Len-size {
		return m.find(addr, size, true)
	}
	return unsafe.Add(m.hotW.Ptr, off)
}

// hotMin is the shortest region that loads and stores cache (see store).
const hotMin = 8

// holds reports whether Env.Regions[i] is h.
func (m *Machine) holds(i int, h *core.Region) bool {
	if i >= len(m.Env.Regions) {
		return false
	}
	r := &m.Env.Regions[i]
	return r.Start == h.Start && r.Len == h.Len && r.Writable == h.Writable
}

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
					m.hotW, m.hotWIdx = *r, i
				} else {
					m.hot, m.hotIdx = *r, i
				}
			}
			return unsafe.Add(r.Ptr, off)
		}
	}
	return nil
}

func (p *Program) memErr(m *Machine, pc int, addr, size uint64, write bool) error {
	return p.runErr(pc, m.Env.MemoryError(pc, addr, size, write))
}

func (p *Program) runErr(pc int, err error) error {
	if pc >= len(p.source) {
		return &core.RunError{PC: pc, Ins: "past the end", Err: err}
	}
	return &core.RunError{PC: pc, Ins: fmt.Sprint(p.source[pc]), Err: err}
}

// hostPtr returns addr, a host address held in a program register, as a
// pointer. Only accesses proven in bounds use it (the ...U operations): the
// address then lies inside the stack, the context or map memory of the
// run, all kept alive by the machine and the program. It reinterprets the
// bits instead of converting a uintptr, which the race detector's pointer
// checks would reject for an address that did not come from a pointer.
func hostPtr(addr uint64) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&addr))
}

// atomic performs an atomic read-modify-write. The access must be naturally
// aligned, as on every architecture that has atomics; the unchecked forms
// check that too, since the verifier proves alignment only relative to the
// start of the memory, which the host may not have aligned.
func (p *Program) atomic(m *Machine, in *inst, regs *[256]uint64, pc int) error {
	size := uint64(4)
	if in.op == opAtomic64 || in.op == opAtomic64U {
		size = 8
	}
	addr := regs[in.dst] + uint64(in.off)
	var a unsafe.Pointer
	if in.op >= opAtomic32U {
		a = hostPtr(addr)
	} else if a = m.store(addr, size); a == nil {
		return p.memErr(m, pc, addr, size, true)
	}
	if addr&(size-1) != 0 {
		return p.runErr(pc, fmt.Errorf("%w: %d-byte access at %#x", core.ErrAlignment, size, addr))
	}
	aop := asm.AtomicOp(in.aop)
	old := core.Atomic(a, size, aop, regs[in.src], regs[0])
	switch {
	case aop == asm.AtomicCmpXchg:
		regs[0] = old
	case aop&asm.AtomicFetch != 0:
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
