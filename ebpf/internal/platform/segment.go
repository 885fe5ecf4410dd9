package platform

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"unsafe"
)

// ErrUnsupported is returned by NewCodeSegment where native code cannot run
// (see Supported). Callers fall back to the interpreter.
var ErrUnsupported = errors.New("native code is not supported on " + runtime.GOOS + "/" + runtime.GOARCH)

// Supported reports whether this build can create code segments and enter
// them with Call: linux, darwin and freebsd on amd64. It is a constant
// property of the build, not a probe of the machine; a machine that refuses
// executable mappings (for example an SELinux execmem denial) makes
// NewCodeSegment fail with an error that is not ErrUnsupported.
func Supported() bool { return supported }

// A CodeSegment is machine code in memory of its own that is readable and
// executable and never writable. Its memory is outside the Go heap: the
// garbage collector neither moves nor frees it, and it stays mapped until
// Close.
//
// Layout: the code starts at the beginning of the mapping; the mapping is the
// code's length rounded up to whole pages, and the tail of the last page is
// filled with INT3 (0xcc), so code that runs off its end stops at once
// (SIGTRAP, a crash: it is a JIT bug) instead of executing whatever follows.
//
//	Entry()                     Entry()+Len()        Entry()+Size()
//	│ code (r-x)                │ 0xcc fill (r-x)    │
//	└───────────────────────────┴────────────────────┘
//	<──────────── whole pages, one anonymous mapping ─>
type CodeSegment struct {
	// mem is the start of the mapping, nil once closed (swapped atomically
	// so that concurrent Close calls unmap it exactly once). It points
	// outside the Go heap, which the garbage collector ignores.
	mem atomic.Pointer[byte]
	// entry, size and n are fixed at creation.
	entry uintptr
	size  uintptr
	n     int
}

// NewCodeSegment copies code into a new executable mapping. The code is
// copied, so the caller may reuse the slice. It fails with ErrUnsupported
// where Supported is false, and with a wrapped system error if the memory
// cannot be mapped or protected.
func NewCodeSegment(code []byte) (*CodeSegment, error) {
	if !supported {
		return nil, fmt.Errorf("create code segment: %w", ErrUnsupported)
	}
	if len(code) == 0 {
		return nil, errors.New("create code segment: no code")
	}
	size := roundToPages(uintptr(len(code)))
	mem, err := mapCode(code, size)
	if err != nil {
		return nil, fmt.Errorf("create code segment of %d bytes: %w", len(code), err)
	}
	s := &CodeSegment{entry: uintptr(unsafe.Pointer(mem)), size: size, n: len(code)}
	s.mem.Store(mem)
	return s, nil
}

// Entry is the address of the first byte of code, to be passed to Call
// (plus an offset if the code has several entry points). It does not change
// after Close; calling it then is a bug that crashes the process.
func (s *CodeSegment) Entry() uintptr { return s.entry }

// Len is the number of bytes of code, as given to NewCodeSegment.
func (s *CodeSegment) Len() int { return s.n }

// Size is the size of the mapping: Len rounded up to whole pages.
func (s *CodeSegment) Size() uintptr { return s.size }

// Close unmaps the segment (in the arena near the text: makes its pages
// inaccessible and gives them back to the arena). Only the first call
// releases; later calls, also concurrent ones, do nothing and return nil. A
// second release must never happen: by then the address may belong to a
// newer segment.
//
// The owner guarantees that no Call into the segment is in flight and none
// will start: unmapping code that a goroutine is executing crashes the whole
// process. This package does not count runs itself because the owner already
// knows its runs: the JIT's compiled program is published through an
// atomic.Pointer and a run holds the program it loaded, so the program can
// close its segment once it is unreachable (a cleanup registered with
// runtime.AddCleanup; a goroutine inside Call keeps it reachable, and no
// garbage collection can even finish while native code runs), or at an
// explicit shutdown point that the owner controls. A counter here would cost
// two atomic operations per run on the hot path (see RATIONALE.md on the
// Runner) to protect against a misuse that the owner's structure already
// rules out.
func (s *CodeSegment) Close() error {
	mem := s.mem.Swap(nil)
	if mem == nil {
		return nil
	}
	if err := unmapCode(mem, s.size); err != nil {
		return fmt.Errorf("close code segment at %#x (%d bytes): %w", s.entry, s.size, err)
	}
	return nil
}

// String describes the segment for logs and test failures.
func (s *CodeSegment) String() string {
	state := "mapped"
	if s.mem.Load() == nil {
		state = "closed"
	}
	return fmt.Sprintf("code segment %#x, %d bytes of code in %d, %s", s.entry, s.n, s.size, state)
}

// roundToPages rounds n up to a multiple of the system page size.
func roundToPages(n uintptr) uintptr {
	page := uintptr(pageSize)
	return (n + page - 1) &^ (page - 1)
}
