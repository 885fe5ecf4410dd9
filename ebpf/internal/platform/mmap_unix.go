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

// mapCode maps size bytes of anonymous memory read-write, copies code to its
// start, fills the rest with int3 and makes it read+execute. amd64 keeps
// instruction and data caches coherent, so no cache flush is needed before
// the code runs.
func mapCode(code []byte, size uintptr) (*byte, error) {
	p, err := unix.MmapPtr(-1, 0, nil, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return nil, fmt.Errorf("mmap read-write: %w", err)
	}
	mem := unsafe.Slice((*byte)(p), size)
	pad := mem[copy(mem, code):]
	for i := range pad {
		pad[i] = int3
	}
	if err := unix.Mprotect(mem, unix.PROT_READ|unix.PROT_EXEC); err != nil {
		// Best effort: the mapping is useless without execute permission.
		_ = unix.MunmapPtr(p, size)
		return nil, fmt.Errorf("mprotect read+execute: %w", err)
	}
	return (*byte)(p), nil
}

// unmapCode unmaps a mapping made by mapCode.
func unmapCode(mem *byte, size uintptr) error {
	if err := unix.MunmapPtr(unsafe.Pointer(mem), size); err != nil {
		return fmt.Errorf("munmap: %w", err)
	}
	return nil
}
