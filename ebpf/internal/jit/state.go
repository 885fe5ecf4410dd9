package jit

import (
	"unsafe"

	"github.com/bpfdb/bpfdb/ebpf/internal/core"
)

// state is what the native code reads and writes besides eBPF memory; r12
// points to it for the whole run. Layout (byte offsets):
//
//	  0  regs[0..10]  r0-r10, saved at every exit, loaded at every resume
//	 88  slice        budget units left in the slice (r9 while running)
//	 96  resume       native address the resume entry jumps to
//	104  exit         exit code (low byte) | argument << 8
//	108  (pad)
//	112  pc           slot of the instruction that exited
//	120  depth        number of saved local-call frames
//	128  budget       the budget (≥ 0) of a new run (r1 and r2 come in
//	                  registers, see Program.Enter)
//	136  frames[7]    r6, r7, r8, r9, r10, native return address, 2 unused
//
// The native code stores only integers here, never Go pointers, as the
// trampoline's contract requires (no write barrier runs).
type state struct {
	regs   [11]uint64
	slice  int64
	resume uintptr
	exit   uint32
	_      uint32
	pc     int64
	depth  int64
	budget uint64 // of a new run, ≥ 0
	frames [core.MaxFrames - 1][frameWords]uint64
}

// frameWords is the size of one saved frame in words: a power of two, so
// the code finds frame i with a shift.
const frameWords = 8

// Offsets into state used as displacements by the generated code.
const (
	offRegs   = int32(unsafe.Offsetof(state{}.regs))
	offSlice  = int32(unsafe.Offsetof(state{}.slice))
	offResume = int32(unsafe.Offsetof(state{}.resume))
	offExit   = int32(unsafe.Offsetof(state{}.exit))
	offPC     = int32(unsafe.Offsetof(state{}.pc))
	offDepth  = int32(unsafe.Offsetof(state{}.depth))
	offBudget = int32(unsafe.Offsetof(state{}.budget))
	offFrames = int32(unsafe.Offsetof(state{}.frames))
)

// Exit codes, in the low byte of state.exit.
const (
	exitDone     = iota // the entry function exited: r0 is the result
	exitHelper          // call the helper of call site exit>>8 (Program.sites), then resume at the call entry
	exitCallX           // call the helper whose id is in the instruction's dst register, then resume
	exitAccess          // perform the load, store or atomic at pc in Go, then resume
	exitBudget          // the budget slice ran out at pc; resume if the run's budget allows
	exitOverflow        // a local call at pc exceeded the frame limit
	exitFellOff         // execution reached slot pc, which holds no instruction
)

// SliceUnits is the largest budget slice: the most budget units the native
// code runs before it returns to Go (see the package doc). At roughly one
// unit per instruction, a slice takes well under a millisecond.
const SliceUnits = 1 << 18

// Machine is the state of one run: the environment helpers see, the stack
// and the native code's state. A machine serves one run at a time; reusing
// it for the next run of any program avoids allocation.
//
// Env.Regions[0] must be the machine's stack (see NewMachine).
type Machine struct {
	// st and stack come first and in this order: the native code finds
	// the top of the stack (r10 at entry) at a constant offset from the
	// state (offStackTop).
	st    state
	stack [core.MaxFrames * core.StackSize]byte
	Env   core.Env
	// rest is the run's budget beyond the current slice, once the run has
	// exited to Go (exits sets it).
	rest int64
}

// The state is the machine's first field, so a *Machine is also the
// state's address (Enter passes it as is); a nonzero offset would make
// this constant negative, which does not compile.
const _ = -unsafe.Offsetof(Machine{}.st)

// offStackTop is the address just past the machine's stack relative to its
// state: r10 at entry is r12 + offStackTop.
const offStackTop = int32(unsafe.Offsetof(Machine{}.stack)-unsafe.Offsetof(Machine{}.st)) + core.MaxFrames*core.StackSize

// NewMachine returns a machine whose Env.Regions holds the stack. Machines
// are heap-allocated: the native code addresses the state and the stack by
// their host addresses, which must not move during a run (a goroutine
// stack may).
func NewMachine() *Machine {
	m := &Machine{}
	m.Env.Regions = []core.Region{core.NewRegion(m.stack[:], true, core.RegionStack)}
	return m
}
