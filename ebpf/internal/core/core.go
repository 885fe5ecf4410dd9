// Package core holds what every execution backend of the runtime shares: the
// per-run environment (memory regions, map table, worker), helper functions
// and their prototypes, and the typed run-time errors. The public ebpf
// package re-exports the parts users see.
//
// It imports nothing from the engine.
package core

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/bpfdb/bpfdb/ebpf/maps"
)

// StackSize is the size of one stack frame in bytes.
const StackSize = 512

// MaxFrames is the deepest bpf-to-bpf call chain, counting the entry frame.
const MaxFrames = 8

// MapHandleBase is the value a map pseudo-load (lddw with src 1 or 5) puts
// into a register, plus the map's index in the program's map table. It is
// not an address: no region contains it, so a program cannot dereference it,
// and helpers translate it back with Env.Map.
const MapHandleBase uint64 = 0xb9f0_0000_0000_0000

// Region is a span of host memory a program may access. Regions never
// overlap. Start is the address of Ptr, cached for the bounds checks.
type Region struct {
	Ptr      unsafe.Pointer // base of the memory; keeps it alive
	Start    uint64         // uint64(uintptr(Ptr))
	Len      uint64
	Writable bool
	Kind     RegionKind
}

// RegionKind says what a region is, for error messages.
type RegionKind uint8

// Region kinds.
const (
	RegionStack RegionKind = iota
	RegionContext
	RegionMap
	RegionHost
)

func (k RegionKind) String() string {
	switch k {
	case RegionStack:
		return "stack"
	case RegionContext:
		return "context"
	case RegionMap:
		return "map value"
	}
	return "host memory"
}

// NewRegion describes b as a region. An empty b gives an empty region that
// contains no address.
func NewRegion(b []byte, writable bool, kind RegionKind) Region {
	if len(b) == 0 {
		return Region{Kind: kind}
	}
	p := unsafe.Pointer(unsafe.SliceData(b))
	return Region{Ptr: p, Start: uint64(uintptr(p)), Len: uint64(len(b)), Writable: writable, Kind: kind}
}

// Contains reports whether [addr, addr+n) lies inside r, without overflow.
func (r *Region) Contains(addr, n uint64) bool {
	return addr-r.Start < r.Len && n <= r.Len-(addr-r.Start)
}

// Env is the state of one program run that helpers may use: the memory the
// program may touch, its map table and the worker it runs on. It is owned by
// one goroutine for the duration of the run; a helper must not keep it.
type Env struct {
	// Regions are all regions of the run: the stack first, then the
	// context, then map memory and host regions.
	Regions []Region
	// Maps is the program's map table: lddw map handles index it.
	Maps []maps.Map
	// Worker is the per-worker slot used by per-worker maps.
	Worker int
	// Host is opaque state of the host that registered the hook helpers
	// (for example the engine's hook context).
	Host any
}

// Find returns the region that contains [addr, addr+n), or nil.
func (e *Env) Find(addr, n uint64) *Region {
	for i := range e.Regions {
		r := &e.Regions[i]
		if r.Contains(addr, n) {
			return r
		}
	}
	return nil
}

// Mem returns the n bytes at program address addr as a slice aliasing the
// program's memory, or a *MemoryError if they are not all inside one region
// (or the region is read-only and write is set).
func (e *Env) Mem(addr, n uint64, write bool) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	r := e.Find(addr, n)
	if r == nil || (write && !r.Writable) {
		return nil, e.MemoryError(-1, addr, n, write)
	}
	return unsafe.Slice((*byte)(unsafe.Add(r.Ptr, addr-r.Start)), n), nil
}

// MemoryError describes a failed access of n bytes at addr by the
// instruction at pc (-1 for a helper), naming the nearest region.
func (e *Env) MemoryError(pc int, addr, n uint64, write bool) *MemoryError {
	me := &MemoryError{PC: pc, Addr: addr, Size: n, Write: write}
	if r := e.Find(addr, n); r != nil {
		me.ReadOnly = true
		me.Near = fmt.Sprintf("%s+%d", r.Kind, addr-r.Start)
		return me
	}
	// The nearest region within a page, by distance to its bytes.
	const page = 4096
	best := uint64(page)
	for i := range e.Regions {
		r := &e.Regions[i]
		if r.Len == 0 {
			continue
		}
		var d uint64
		switch {
		case addr < r.Start:
			d = r.Start - addr
		case addr-r.Start >= r.Len:
			d = addr - r.Start - r.Len + 1
		}
		if d < best {
			best = d
			me.Near = fmt.Sprintf("%s%+d, the %s being %d bytes", r.Kind, int64(addr-r.Start), r.Kind, r.Len)
		}
	}
	return me
}

// Map translates a map handle (see MapHandleBase) into the map, or returns
// an error if h is not a handle of this program's map table.
func (e *Env) Map(h uint64) (maps.Map, error) {
	i := h - MapHandleBase
	if i >= uint64(len(e.Maps)) {
		return nil, fmt.Errorf("%#x is not a map handle of this program", h)
	}
	return e.Maps[i], nil
}

// HelperFunc implements a helper. It receives r1-r5 and returns r0. An error
// ends the run: it becomes a *HelperError naming the call instruction. Errors
// a program should handle are returned in r0 (negative errno), not as err.
type HelperFunc func(env *Env, r1, r2, r3, r4, r5 uint64) (uint64, error)

// ArgKind is what a helper argument must be. The verifier checks each
// argument against it; the run-time checks of a helper that takes memory
// use Env.Mem.
type ArgKind uint8

// Argument kinds, in the spirit of Linux's bpf_arg_type.
const (
	ArgNone            ArgKind = iota // the argument is not used
	ArgAnything                       // any initialized value
	ArgScalar                         // any initialized scalar (not a pointer)
	ArgConstMap                       // a map handle from a map pseudo-load
	ArgMapKey                         // pointer to KeySize readable bytes of the map argument
	ArgMapValue                       // pointer to ValueSize readable bytes of the map argument
	ArgMem                            // pointer to readable memory; its size is the next argument
	ArgUninitMem                      // pointer to writable memory; its size is the next argument
	ArgConstSize                      // the size of the preceding memory argument, > 0
	ArgConstSizeOrZero                // the size of the preceding memory argument, >= 0
	ArgContext                        // the program's context pointer
)

var argNames = [...]string{"none", "anything", "scalar", "const_map_ptr", "map_key", "map_value",
	"mem", "uninit_mem", "const_size", "const_size_or_zero", "ctx"}

func (k ArgKind) String() string {
	if int(k) < len(argNames) {
		return argNames[k]
	}
	return fmt.Sprintf("ArgKind(%d)", uint8(k))
}

// RetKind is what a helper returns in r0.
type RetKind uint8

// Return kinds.
const (
	RetScalar         RetKind = iota // an integer
	RetVoid                          // nothing meaningful; r0 is clobbered
	RetMapValueOrNull                // a pointer to a value of the map argument, or 0
)

func (k RetKind) String() string {
	switch k {
	case RetScalar:
		return "scalar"
	case RetVoid:
		return "void"
	case RetMapValueOrNull:
		return "map_value_or_null"
	}
	return fmt.Sprintf("RetKind(%d)", uint8(k))
}

// Prototype is the typed signature of a helper: what the verifier checks at
// each call.
type Prototype struct {
	Args [5]ArgKind
	Ret  RetKind
}

// Helper is a helper function with its id, name and prototype.
type Helper struct {
	ID    int32
	Name  string
	Proto Prototype
	Fn    HelperFunc
}

// Errors of a run. Every run-time failure wraps ErrRun, so callers can tell
// a failing program from a failing call setup.
var (
	ErrRun           = errors.New("program fault")
	ErrBudget        = errors.New("instruction budget exhausted")
	ErrMemory        = errors.New("memory access out of bounds")
	ErrStackOverflow = errors.New("call depth exceeds 8 frames")
	ErrUnknownHelper = errors.New("unknown helper")
	ErrDivision      = errors.New("invalid division")
	ErrAlignment     = errors.New("misaligned atomic access")
)

// RunError is a failure of a program run at an instruction.
type RunError struct {
	PC  int    // instruction slot
	Ins string // disassembly of the instruction
	Err error  // ErrBudget, *MemoryError, a helper's error, ...
}

func (e *RunError) Error() string {
	if e.Ins != "" {
		return fmt.Sprintf("instruction %d (%s): %v", e.PC, e.Ins, e.Err)
	}
	return fmt.Sprintf("instruction %d: %v", e.PC, e.Err)
}

// Unwrap returns both the cause and ErrRun.
func (e *RunError) Unwrap() []error { return []error{e.Err, ErrRun} }

// MemoryError is an out-of-bounds or read-only violation.
type MemoryError struct {
	PC       int // -1 when found by a helper
	Addr     uint64
	Size     uint64
	Write    bool
	ReadOnly bool // the memory exists but is read-only
	// Near locates Addr relative to the region it is in or nearest to,
	// e.g. "context+8, the context being 8 bytes"; empty when no region is
	// within a page.
	Near string
}

func (e *MemoryError) Error() string {
	verb := "read"
	if e.Write {
		verb = "write"
	}
	at := fmt.Sprintf("%#x", e.Addr)
	if e.Near != "" {
		at += " (" + e.Near + ")"
	}
	if e.ReadOnly {
		return fmt.Sprintf("%s of %d bytes at %s: memory is read-only", verb, e.Size, at)
	}
	return fmt.Sprintf("%s of %d bytes at %s: outside every region the program may access", verb, e.Size, at)
}

// Unwrap returns ErrMemory.
func (e *MemoryError) Unwrap() error { return ErrMemory }
