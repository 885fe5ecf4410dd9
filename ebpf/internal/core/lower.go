package core

import (
	"errors"
	"fmt"
	"sort"
	"sync/atomic"
	"unsafe"

	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/maps"
)

// This file holds the parts of lowering a program that every backend does
// the same way, so that the interpreter and the JIT cannot disagree on them.

// ErrUnsupported is wrapped by load errors for instructions the runtime
// deliberately does not implement (legacy packet access, kfuncs, BTF id and
// function-address loads).
var ErrUnsupported = errors.New("unsupported instruction")

// ErrFramePointer is the cause of a load error for an instruction that
// writes r10, which is read-only: every run's stack frames hang off it.
var ErrFramePointer = errors.New("r10 is the read-only frame pointer")

// WritesFramePointer reports whether ins writes r10: as the destination of
// arithmetic, a load or lddw, or as the source register an atomic fetch
// writes the old value into.
func WritesFramePointer(ins asm.Instruction) bool {
	switch c := ins.OpCode.Class(); {
	case c.IsALU(), c == asm.ClassLDX, c == asm.ClassLD && ins.OpCode.Mode() == asm.ModeIMM:
		return ins.Dst == asm.R10
	case c == asm.ClassSTX && ins.OpCode.Mode() == asm.ModeATOMIC:
		return asm.AtomicOp(ins.Constant)&asm.AtomicFetch != 0 && ins.Src == asm.R10
	}
	return false
}

// FunctionLengths returns, for each function entry slot (0 and every local
// call target), the number of slots up to the next entry: what a local call
// to that entry charges the instruction budget. slotOf is
// insns.SlotIndex().
func FunctionLengths(insns asm.Instructions, slotOf []int, nslots int) map[int]int {
	entries := map[int]bool{0: true}
	for i, ins := range insns {
		if ins.IsLocalCall() {
			entries[slotOf[i]+1+int(ins.JumpOffset())] = true
		}
	}
	sorted := make([]int, 0, len(entries))
	for e := range entries {
		sorted = append(sorted, e)
	}
	sort.Ints(sorted)
	lens := make(map[int]int, len(sorted))
	for i, e := range sorted {
		end := nslots
		if i+1 < len(sorted) {
			end = sorted[i+1]
		}
		lens[e] = end - e
	}
	return lens
}

// ResolveLddw returns the value a lddw puts into its register: its
// constant, a map handle (MapHandleBase plus the map's index in ms) or the
// address of a map value (array maps only: their values never move).
func ResolveLddw(ins asm.Instruction, ms []maps.Map) (uint64, error) {
	switch ins.Src {
	case asm.PseudoNone:
		return uint64(ins.Constant), nil
	case asm.PseudoMapFD, asm.PseudoMapIdx:
		idx := uint64(ins.Constant)
		if idx >= uint64(len(ms)) {
			return 0, fmt.Errorf("map index %d is outside the program's map table (%d maps)", idx, len(ms))
		}
		return MapHandleBase + idx, nil
	case asm.PseudoMapValue, asm.PseudoMapIdxValue:
		idx := uint64(uint32(ins.Constant))
		off := uint64(ins.Constant) >> 32
		if idx >= uint64(len(ms)) {
			return 0, fmt.Errorf("map index %d is outside the program's map table (%d maps)", idx, len(ms))
		}
		m := ms[idx]
		spec := m.Spec()
		if spec.Type != maps.Array {
			return 0, fmt.Errorf("map value address of %s map %q: only array maps have directly addressable values", spec.Type, spec.Name)
		}
		if off >= uint64(spec.ValueSize) {
			return 0, fmt.Errorf("offset %d is outside the %d-byte value of map %q", off, spec.ValueSize, spec.Name)
		}
		var key [4]byte
		v := m.LookupRef(0, key[:])
		if v == nil {
			return 0, fmt.Errorf("map %q has no value 0", spec.Name)
		}
		return uint64(NewRegion(v, false, RegionMap).Start) + off, nil
	default:
		return 0, fmt.Errorf("%w: lddw pseudo source %d (BTF ids and function addresses) is not available", ErrUnsupported, ins.Src)
	}
}

// ErrFellOff is the cause of a run that executes past the last instruction
// or into the second slot of a lddw (impossible for a verified program).
var ErrFellOff = errors.New("execution left the program's instructions")

// Atomic performs the atomic read-modify-write aop of size bytes (4 or 8)
// at p, which must be naturally aligned, with operand src, and returns the
// old value. The caller stores it where the instruction says: cmpxchg
// (which compares with r0 and stores src if equal) loads it into r0, the
// other fetch forms into the source register, and the plain forms nowhere.
func Atomic(p unsafe.Pointer, size uint64, aop asm.AtomicOp, src, r0 uint64) (old uint64) {
	if size == 8 {
		return rmw((*atomic.Uint64)(p), aop, src, r0)
	}
	return uint64(rmw((*atomic.Uint32)(p), aop, uint32(src), uint32(r0)))
}

// word is what rmw needs of atomic.Uint32 and atomic.Uint64.
type word[T uint32 | uint64] interface {
	Add(T) T
	Or(T) T
	And(T) T
	Swap(T) T
	CompareAndSwap(old, new T) bool
	Load() T
}

// rmw performs aop on m and returns the old value (see Atomic).
func rmw[T uint32 | uint64, W word[T]](m W, aop asm.AtomicOp, src, r0 T) T {
	switch aop &^ asm.AtomicFetch {
	case asm.AtomicAdd:
		return m.Add(src) - src
	case asm.AtomicOr:
		return m.Or(src)
	case asm.AtomicAnd:
		return m.And(src)
	case asm.AtomicXor:
		for {
			old := m.Load()
			if m.CompareAndSwap(old, old^src) {
				return old
			}
		}
	case asm.AtomicXchg &^ asm.AtomicFetch:
		return m.Swap(src)
	case asm.AtomicCmpXchg &^ asm.AtomicFetch:
		for {
			old := m.Load()
			if old != r0 || m.CompareAndSwap(old, src) {
				return old
			}
		}
	}
	panic(fmt.Sprintf("BUG: atomic operation %v passed validation but has no semantics", aop))
}
