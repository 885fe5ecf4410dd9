//go:build (linux || darwin || freebsd) && amd64

package platform

import (
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Code segments live near the Go program's text when they can. A call or
// jump whose target is more than about 2^37 bytes away costs the branch
// predictor extra cycles (measured on AMD Zen 3: a call and return between
// the Go text at 0x400000 and a default mmap address near 0x7f0000000000
// take a nanosecond more than the same pair 4 GiB apart), and every run
// crosses twice: Call jumps into the segment and the code returns to Go.
//
// The arena is one range of address space reserved inaccessible
// (PROT_NONE, which commits no memory) a few GiB past the text; segments
// are mapped over free pages of it (MAP_FIXED over our own reservation)
// and, when closed, replaced by inaccessible pages again, which frees
// their memory and keeps the range ours. A segment that does not fit, or a
// process whose kernel put the reservation elsewhere, gets an ordinary
// mapping: only slower to enter.
//
//	text ... | 4 GiB gap | arena (1 GiB): [seg][ free ][seg][seg][ free ... ]
type arena struct {
	once sync.Once
	mu   sync.Mutex
	base unsafe.Pointer // nil if there is no arena
	free []span         // free page runs, sorted, adjacent runs merged
}

// span is a run of pages of the arena, by offset from its base.
type span struct{ start, size uintptr }

const (
	arenaSize = 1 << 30
	// arenaGap leaves the address space right after the program's data
	// to the C heap (brk) of a cgo program.
	arenaGap = 1 << 32
	// nearEnough is the largest distance between the text and any byte
	// of the arena for which the arena is used: well inside the 2^37
	// bytes that branches reach without the penalty.
	nearEnough = 1 << 35
)

var codeArena arena

// reserve maps the arena, once.
func (a *arena) reserve() {
	text := textAddr()
	// The first arenaSize boundary at least arenaGap past the text.
	hint := unsafe.Add(text, arenaGap+arenaSize-1-(uintptr(text)+arenaGap+arenaSize-1)%arenaSize)
	p, err := unix.MmapPtr(-1, 0, hint, arenaSize, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return
	}
	if distance(uintptr(p), uintptr(text)) > nearEnough || distance(uintptr(p)+arenaSize, uintptr(text)) > nearEnough {
		_ = unix.MunmapPtr(p, arenaSize) // the kernel placed it far away: useless
		return
	}
	a.base = p
	a.free = []span{{0, arenaSize}}
}

func distance(a, b uintptr) uintptr {
	if a > b {
		return a - b
	}
	return b - a
}

// alloc takes size bytes (whole pages) from the arena, the lowest free run
// that fits; it returns nil if there is none.
func (a *arena) alloc(size uintptr) unsafe.Pointer {
	a.once.Do(a.reserve)
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, s := range a.free {
		if s.size < size {
			continue
		}
		if s.size == size {
			a.free = append(a.free[:i], a.free[i+1:]...)
		} else {
			a.free[i] = span{s.start + size, s.size - size}
		}
		return unsafe.Add(a.base, s.start)
	}
	return nil
}

// owns reports whether p lies in the arena.
func (a *arena) owns(p unsafe.Pointer) bool {
	a.once.Do(a.reserve) // done already: a segment exists; orders the read of base
	return a.base != nil && uintptr(p)-uintptr(a.base) < arenaSize
}

// release gives back size bytes at p, which alloc returned and which are
// inaccessible again.
func (a *arena) release(at unsafe.Pointer, size uintptr) {
	p := uintptr(at) - uintptr(a.base)
	a.mu.Lock()
	defer a.mu.Unlock()
	i := 0
	for i < len(a.free) && a.free[i].start < p {
		i++
	}
	a.free = append(a.free, span{})
	copy(a.free[i+1:], a.free[i:])
	a.free[i] = span{p, size}
	// Merge with the next run, then with the previous one.
	if i+1 < len(a.free) && p+size == a.free[i+1].start {
		a.free[i].size += a.free[i+1].size
		a.free = append(a.free[:i+1], a.free[i+2:]...)
	}
	if i > 0 && a.free[i-1].start+a.free[i-1].size == p {
		a.free[i-1].size += a.free[i].size
		a.free = append(a.free[:i], a.free[i+1:]...)
	}
}
