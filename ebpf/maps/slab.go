package maps

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"
)

// slab is the value memory of a map: a []uint64-backed allocation viewed as
// bytes, so that every value slot starts on an 8-byte boundary and programs
// may use 4- and 8-byte atomics on aligned value words.
//
// Slot i of a slab with stride s (a multiple of 8, at least the value size)
// starts at byte i*s; the bytes between the end of a value and the next slot
// are padding that stays zero:
//
//	 0        size   s       s+size  2s
//	+--------+------+--------+------+----
//	| value0 | pad  | value1 | pad  | ...
//	+--------+------+--------+------+----
type slab struct {
	words  []uint64 // the allocation; words[off/8] is byte off of mem
	mem    []byte   // the same memory as bytes: the map's region
	stride uint64   // bytes from one slot to the next, a multiple of 8
	size   uint64   // value bytes used in each slot
}

// newSlab allocates n bytes (a multiple of 8) of zeroed value memory whose
// first byte is aligned to align bytes (a power of two, at least 8).
func newSlab(n, align, stride, size uint64) slab {
	extra := (align - 8) / 8
	all := make([]uint64, n/8+extra)
	skip := uint64(0)
	if extra > 0 {
		// The Go heap does not move objects, so the alignment found now
		// holds for the life of the slab.
		addr := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(all))))
		skip = ((align - addr%align) % align) / 8
	}
	words := all[skip : skip+n/8 : skip+n/8]
	return slab{
		words:  words,
		mem:    unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(words))), n),
		stride: stride,
		size:   size,
	}
}

// ref returns the value bytes of the slot at byte offset off, aliasing the
// slab, with the capacity cut so that an append cannot reach the padding.
func (s *slab) ref(off uint64) []byte {
	return s.mem[off : off+s.size : off+s.size]
}

// load copies the value of the slot at byte offset off into dst (s.size
// bytes), one atomic 8-byte load per word.
func (s *slab) load(dst []byte, off uint64) {
	w := s.words[off/8 : off/8+(s.size+7)/8]
	for len(dst) >= 8 {
		binary.NativeEndian.PutUint64(dst, atomic.LoadUint64(&w[0]))
		dst, w = dst[8:], w[1:]
	}
	if len(dst) > 0 {
		var tail [8]byte
		binary.NativeEndian.PutUint64(tail[:], atomic.LoadUint64(&w[0]))
		copy(dst, tail[:])
	}
}

// store copies src (s.size bytes) into the slot at byte offset off, one
// atomic 8-byte store per word. The padding after a value whose size is not
// a multiple of 8 is stored as zero.
func (s *slab) store(off uint64, src []byte) {
	w := s.words[off/8 : off/8+(s.size+7)/8]
	for len(src) >= 8 {
		atomic.StoreUint64(&w[0], binary.NativeEndian.Uint64(src))
		src, w = src[8:], w[1:]
	}
	if len(src) > 0 {
		var tail [8]byte
		copy(tail[:], src)
		atomic.StoreUint64(&w[0], binary.NativeEndian.Uint64(tail[:]))
	}
}
