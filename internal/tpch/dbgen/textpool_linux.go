package dbgen

import "syscall"

// allocPool returns zeroed memory for the text pool. On Linux it is mapped
// directly and marked for transparent huge pages: comments are read from
// random places in the 300 MiB pool, and with 4 KiB pages almost every read
// also misses the TLB (measured: a random 30-byte read takes ~107 ns from
// huge pages against ~137 ns from the Go heap). It falls back to the Go heap
// if the mapping fails. The mapping is never unmapped: the pool lives as
// long as the process.
func allocPool(size int) []byte {
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]byte, 0, size)
	}
	_ = syscall.Madvise(b, 14) // MADV_HUGEPAGE; advisory, so errors do not matter
	return b[:0]
}

// freePool releases memory from allocPool (used by benchmarks that build
// pools repeatedly; the shared pool is never freed).
func freePool(b []byte) {
	if err := syscall.Munmap(b[:cap(b)]); err != nil {
		panic("BUG: dbgen: unmap text pool: " + err.Error())
	}
}
