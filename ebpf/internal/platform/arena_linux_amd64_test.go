package platform

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"
)

// TestSegmentsNearText checks that code segments are placed in the arena,
// near the program's text, so that entering them avoids the far-branch
// penalty (see arena_unix.go).
func TestSegmentsNearText(t *testing.T) {
	segs := make([]*CodeSegment, 3)
	for i := range segs {
		segs[i] = newSegment(t, computeCode)
	}
	if codeArena.base == nil {
		t.Fatalf("no code arena: the kernel did not place it within %#x bytes of the text at %p", nearEnough, textAddr())
	}
	text := uintptr(textAddr())
	for _, s := range segs {
		if s.Entry()-uintptr(codeArena.base) >= arenaSize || distance(s.Entry(), text) > nearEnough {
			t.Errorf("%v is not in the arena at %p near the text at %#x", s, codeArena.base, text)
		}
		st := computeState{A: 1, B: 2}
		Call(s.Entry(), unsafe.Pointer(&st))
		if st.Result != 9 {
			t.Errorf("%v computed %d, want 9", s, st.Result)
		}
	}
}

// TestArenaSpans checks the arena's bookkeeping: the lowest run that fits,
// and runs merged with both neighbours when released.
func TestArenaSpans(t *testing.T) {
	mem := make([]byte, 16)                    // spans below stay inside it
	a := &arena{base: unsafe.Pointer(&mem[0])} // never mapped: offsets only
	a.once.Do(func() {})
	a.free = []span{{0, 10}}
	at := func(p unsafe.Pointer) uintptr { return uintptr(p) - uintptr(a.base) }
	show := func() string {
		var b strings.Builder
		for _, s := range a.free {
			fmt.Fprintf(&b, "[%d,%d)", s.start, s.start+s.size)
		}
		return b.String()
	}
	steps := []struct {
		do   func()
		want string
	}{
		{func() {}, "[0,10)"},
		{func() { a.alloc(3) }, "[3,10)"}, // 0-3
		{func() { a.alloc(2) }, "[5,10)"}, // 3-5
		{func() { a.alloc(5) }, ""},       // 5-10
		{func() { a.release(unsafe.Add(a.base, 3), 2) }, "[3,5)"},
		{func() { a.release(unsafe.Add(a.base, 0), 3) }, "[0,5)"}, // merged with the next
		{func() { a.release(unsafe.Add(a.base, 7), 3) }, "[0,5)[7,10)"},
		{func() {
			if p := a.alloc(4); at(p) != 0 {
				t.Errorf("alloc(4) at %d, want 0", at(p))
			}
		}, "[4,5)[7,10)"},
		{func() {
			if p := a.alloc(6); p != nil {
				t.Errorf("alloc(6) at %d, want none", at(p))
			}
		}, "[4,5)[7,10)"},
		{func() { a.release(unsafe.Add(a.base, 5), 2) }, "[4,10)"}, // merged with both
	}
	for i, s := range steps {
		s.do()
		if got := show(); got != s.want {
			t.Fatalf("step %d: free runs %s, want %s", i, got, s.want)
		}
	}
}
