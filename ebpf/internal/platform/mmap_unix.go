//go:build (linux || darwin || freebsd) && amd64

package platform

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

const supported = true

var pageSize = unix.Getpagesize()

// int3 is the amd64 breakpoint instruction that fills the end of the last
// page.
const int3 = 0xcc

// mapCode maps size bytes of anonymous memory read-write, in the arena near
// the text if it has room (arena_unix.go), copies code to its start, fills
// the rest with int3 and makes it read+execute. amd64 keeps instruction and
// data caches coherent, so no cache flush is needed before the code runs.
func mapCode(code []byte, size uintptr) (*byte, error) {
	var p unsafe.Pointer
	var err error
	if at := codeArena.alloc(size); at != nil {
		// Over pages of our own reservation: MAP_FIXED replaces nothing
		// of anyone else's.
		p, err = unix.MmapPtr(-1, 0, at, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_FIXED)
		if err != nil {
			codeArena.release(at, size) // still reserved: the mapping failed
			return nil, fmt.Errorf("mmap read-write in the code arena: %w", err)
		}
	} else {
		p, err = unix.MmapPtr(-1, 0, nil, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
		if err != nil {
			return nil, fmt.Errorf("mmap read-write: %w", err)
		}
	}
	mem := unsafe.Slice((*byte)(p), size)
	pad := mem[copy(mem, code):]
	for i := range pad {
		pad[i] = int3
	}
	if err := unix.Mprotect(mem, unix.PROT_READ|unix.PROT_EXEC); err != nil {
		// Best effort: the mapping is useless without execute permission.
		_ = unmapCode((*byte)(p), size)
		return nil, fmt.Errorf("mprotect read+execute: %w", err)
	}
	return (*byte)(p), nil
}

// unmapCode releases a mapping made by mapCode: in the arena, the pages
// become inaccessible again (fresh PROT_NONE pages replace them, which
// frees their memory) and return to the arena; elsewhere they are
// unmapped.
func unmapCode(mem *byte, size uintptr) error {
	p := unsafe.Pointer(mem)
	if codeArena.owns(p) {
		if _, err := unix.MmapPtr(-1, 0, p, size, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_FIXED); err != nil {
			return fmt.Errorf("mmap inaccessible in the code arena: %w", err)
		}
		codeArena.release(p, size)
		return nil
	}
	if err := unix.MunmapPtr(p, size); err != nil {
		return fmt.Errorf("munmap: %w", err)
	}
	return nil
}
