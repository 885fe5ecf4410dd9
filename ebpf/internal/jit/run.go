package jit

import (
	"fmt"
	"math"
	"runtime"
	"unsafe"

	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/internal/core"
	"github.com/bpfdb/bpfdb/ebpf/internal/platform"
)

// Run executes the program on m with r1 and r2 as its first two arguments
// and the given instruction budget, and returns r0: the interpreter's
// contract (ebpf/internal/interp), with identical results and errors. Run
// is safe for concurrent use with distinct machines.
//
// The native code returns to Go at every exit (see the package doc), which
// Finish serves; each re-entry through platform.Call is a preemption point,
// and so is Run's own prologue for the first entry (platform.Enter).
func (p *Program) Run(m *Machine, r1, r2 uint64, budget int64) (uint64, error) {
	if p.Enter(m, r1, r2, budget) {
		// The code must stay mapped until here: p's cleanup unmaps it.
		runtime.KeepAlive(p)
		return m.st.regs[0], nil
	}
	return p.Finish(m)
}

// Enter starts a run as Run does and reports whether it ended without
// exiting to Go, with its result in m.R0(); otherwise Finish completes it.
// It is Run split in two so that a caller on a hot path can inline the
// first half (r1 and r2 travel as platform.Enter's arguments, into
// registers; the entry sets r10, the slice, the other registers and the
// call depth itself: a run's cost here is one store and the call). The
// caller keeps p reachable until the run is over (runtime.KeepAlive), and
// its prologue is the stack check and the preemption point of the entry
// (platform.Enter has none): it must not be marked //go:nosplit.
func (p *Program) Enter(m *Machine, r1, r2 uint64, budget int64) bool {
	m.st.budget = uint64(budget)
	platform.Enter(p.start, unsafe.Pointer(m), r1, r2) // &m.st: the state is m's first field

	return m.st.exit == exitDone
}

// R0 is the result of the run that Enter reported done.
func (m *Machine) R0() uint64 { return m.st.regs[0] }

// Finish serves the exits of a run that Enter started and that did not end
// there, until it ends, and returns its result.
func (p *Program) Finish(m *Machine) (uint64, error) {
	st := &m.st
	budget := int64(st.budget)
	m.rest = budget - min(budget, SliceUnits)
	for {
		// Helper calls are the common exit: handled here, without a call.
		e := st.exit
		if e&0xff == exitHelper {
			r := &st.regs
			s := &p.sites[e>>8]
			r0, err := s.fn(&m.Env, r[1], r[2], r[3], r[4], r[5])
			if err != nil {
				return 0, p.runErr(s.pc, err)
			}
			r[0] = r0
			platform.Call(p.resumeCall, unsafe.Pointer(st))
			continue
		}
		if e == exitDone {
			break
		}
		if err := p.handle(m); err != nil {
			runtime.KeepAlive(p)
			return 0, err
		}
		platform.Call(p.resume, unsafe.Pointer(st))
	}
	runtime.KeepAlive(p)
	return st.regs[0], nil
}

// handle does the work of an exit that is not the end of the run, and
// returns the run's error if it ends the run.
func (p *Program) handle(m *Machine) error {
	st := &m.st
	r := &st.regs
	pc := int(st.pc)
	switch st.exit & 0xff {
	case exitCallX:
		id := r[p.source[pc].Dst]
		fn := p.byID[int32(id)]
		if fn == nil || id > math.MaxInt32 {
			return p.runErr(pc, fmt.Errorf("%w %d (callx)", core.ErrUnknownHelper, id))
		}
		r0, err := fn(&m.Env, r[1], r[2], r[3], r[4], r[5])
		if err != nil {
			return p.runErr(pc, err)
		}
		r[0] = r0
	case exitAccess:
		return p.access(m, pc)
	case exitBudget:
		// The slice is overdrawn (negative) by the charge that ended it;
		// the run's budget is what remains beyond it plus that.
		total := m.rest + st.slice
		if total < 0 {
			return p.runErr(pc, core.ErrBudget)
		}
		slice := min(total, SliceUnits)
		st.slice, m.rest = slice, total-slice
	case exitOverflow:
		return p.runErr(pc, core.ErrStackOverflow)
	case exitFellOff:
		return p.runErr(pc, core.ErrFellOff)
	default:
		return p.runErr(pc, fmt.Errorf("BUG: native code exited with unknown code %#x", st.exit))
	}
	return nil
}

func (p *Program) runErr(pc int, err error) error {
	if pc >= len(p.source) {
		return &core.RunError{PC: pc, Ins: "past the end", Err: err}
	}
	return &core.RunError{PC: pc, Ins: fmt.Sprint(p.source[pc]), Err: err}
}

// access performs the load, store or atomic at pc, which the verifier did
// not prove safe, after checking it against the run's regions.
func (p *Program) access(m *Machine, pc int) error {
	ins := p.source[pc]
	r := &m.st.regs
	opc := ins.OpCode
	size := uint64(opc.Size().Bytes())
	base := ins.Dst
	if opc.Class() == asm.ClassLDX {
		base = ins.Src
	}
	addr := r[base] + uint64(int64(ins.Offset))
	write := opc.Class() != asm.ClassLDX
	reg := m.Env.Find(addr, size)
	if reg == nil || (write && !reg.Writable) {
		return p.runErr(pc, m.Env.MemoryError(pc, addr, size, write))
	}
	ptr := unsafe.Add(reg.Ptr, addr-reg.Start)
	switch {
	case opc.Class() == asm.ClassLDX:
		r[ins.Dst] = load(ptr, size, opc.Mode() == asm.ModeMEMSX)
	case opc.Mode() == asm.ModeATOMIC:
		if addr&(size-1) != 0 {
			return p.runErr(pc, fmt.Errorf("%w: %d-byte access at %#x", core.ErrAlignment, size, addr))
		}
		aop := asm.AtomicOp(ins.Constant)
		old := core.Atomic(ptr, size, aop, r[ins.Src], r[0])
		switch {
		case aop == asm.AtomicCmpXchg:
			r[0] = old
		case aop&asm.AtomicFetch != 0:
			r[ins.Src] = old
		}
	case opc.Class() == asm.ClassST:
		store(ptr, size, uint64(ins.Constant))
	default:
		store(ptr, size, r[ins.Src])
	}
	return nil
}

func load(p unsafe.Pointer, size uint64, signed bool) uint64 {
	switch {
	case size == 1 && signed:
		return uint64(int64(*(*int8)(p)))
	case size == 1:
		return uint64(*(*uint8)(p))
	case size == 2 && signed:
		return uint64(int64(*(*int16)(p)))
	case size == 2:
		return uint64(*(*uint16)(p))
	case size == 4 && signed:
		return uint64(int64(*(*int32)(p)))
	case size == 4:
		return uint64(*(*uint32)(p))
	}
	return *(*uint64)(p)
}

func store(p unsafe.Pointer, size, v uint64) {
	switch size {
	case 1:
		*(*uint8)(p) = uint8(v)
	case 2:
		*(*uint16)(p) = uint16(v)
	case 4:
		*(*uint32)(p) = uint32(v)
	default:
		*(*uint64)(p) = v
	}
}
