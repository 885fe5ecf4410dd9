package platform

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// These tests run hand-encoded amd64 code. Each byte string is shown with
// the assembly it encodes (Intel syntax, RDI = state pointer per Call's ABI).

// computeState is the state of computeCode:
//
//	+0 A  +8 B  +16 Result  +24 Exit (uint32)  +28 pad
type computeState struct {
	A, B   int64
	Result int64
	Exit   uint32
	_      uint32
}

// computeCode: Result = (A + B) * 3; Exit = 7.
var computeCode = concat(
	[]byte{0x48, 0x8b, 0x07},                         // mov  rax, [rdi]          ; A
	[]byte{0x48, 0x03, 0x47, 0x08},                   // add  rax, [rdi+8]        ; + B
	[]byte{0x48, 0x6b, 0xc0, 0x03},                   // imul rax, rax, 3
	[]byte{0x48, 0x89, 0x47, 0x10},                   // mov  [rdi+16], rax       ; Result
	[]byte{0xc7, 0x47, 0x18, 0x07, 0x00, 0x00, 0x00}, // mov  dword [rdi+24], 7   ; Exit
	[]byte{0xc3}, // ret
)

// clobberCode stores 42 to the uint64 at state, then breaks everything the
// ABI lets it break: it fills the whole stack budget, sets every general
// register (RBP, saved first, and R14 included) and X0 and X15 to garbage,
// and returns, restoring RBP.
var clobberCode = concat(
	[]byte{0x55}, // push rbp
	[]byte{0x48, 0xc7, 0x07, 0x2a, 0x00, 0x00, 0x00}, // mov  qword [rdi], 42
	movImm64(0xb8, 0x48),                             // mov  rax, garbage
	bytes.Repeat([]byte{0x50}, NativeStackBytes/8-1), // push rax ×31         ; with rbp, the whole budget
	[]byte{0x48, 0x81, 0xc4, 0xf8, 0x00, 0x00, 0x00}, // add  rsp, 248
	[]byte{0x66, 0x48, 0x0f, 0x6e, 0xc0},             // movq xmm0, rax
	[]byte{0x66, 0x4c, 0x0f, 0x6e, 0xf8},             // movq xmm15, rax
	movImm64(0xbb, 0x48),                             // mov  rbx, garbage
	movImm64(0xb9, 0x48),                             // mov  rcx, garbage
	movImm64(0xba, 0x48),                             // mov  rdx, garbage
	movImm64(0xbe, 0x48),                             // mov  rsi, garbage
	movImm64(0xbf, 0x48),                             // mov  rdi, garbage
	movImm64(0xbd, 0x48),                             // mov  rbp, garbage
	movImm64(0xb8, 0x49),                             // mov  r8, garbage
	movImm64(0xb9, 0x49),                             // mov  r9, garbage
	movImm64(0xba, 0x49),                             // mov  r10, garbage
	movImm64(0xbb, 0x49),                             // mov  r11, garbage
	movImm64(0xbc, 0x49),                             // mov  r12, garbage
	movImm64(0xbd, 0x49),                             // mov  r13, garbage
	movImm64(0xbe, 0x49),                             // mov  r14, garbage    ; Go's g register
	movImm64(0xbf, 0x49),                             // mov  r15, garbage
	[]byte{0x5d},                                     // pop  rbp
	[]byte{0xc3},                                     // ret
)

// loopState is the state of loopCode: +0 N, +8 Count.
type loopState struct {
	N, Count uint64
}

// loopCode counts to N (N > 0) in a register and stores the count.
var loopCode = concat(
	[]byte{0x48, 0x8b, 0x0f},       //       mov  rcx, [rdi]     ; N
	[]byte{0x31, 0xc0},             //       xor  eax, eax
	[]byte{0x48, 0xff, 0xc0},       // loop: inc  rax
	[]byte{0x48, 0xff, 0xc9},       //       dec  rcx
	[]byte{0x75, 0xf8},             //       jnz  loop           ; rel8 -8
	[]byte{0x48, 0x89, 0x47, 0x08}, // mov  [rdi+8], rax   ; Count
	[]byte{0xc3},                   //                   ret
)

// movImm64 encodes "mov reg, garbage" with garbage = 0xdeadbeef0badf00d:
// REX.W (+B for r8–r15), B8+reg, imm64.
func movImm64(op, rex byte) []byte {
	b := []byte{rex, op}
	return append(b, 0x0d, 0xf0, 0xad, 0x0b, 0xef, 0xbe, 0xad, 0xde) // garbage, little-endian
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func newSegment(t testing.TB, code []byte) *CodeSegment {
	t.Helper()
	seg, err := NewCodeSegment(code)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := seg.Close(); err != nil {
			t.Error(err)
		}
	})
	return seg
}

func TestCallConcurrent(t *testing.T) {
	seg := newSegment(t, computeCode)
	const goroutines, calls = 32, 2000
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			st := new(computeState)
			for i := range calls {
				*st = computeState{A: int64(g), B: int64(i) - 1000}
				Call(seg.Entry(), unsafe.Pointer(st))
				want := (int64(g) + int64(i) - 1000) * 3
				if st.Result != want || st.Exit != 7 || st.A != int64(g) {
					t.Errorf("goroutine %d call %d: state %+v, want Result %d Exit 7", g, i, *st, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestCallRestoresGo checks that Go keeps working after native code clobbers
// every register it may: R14 (g) and X15 (zero) restored, RBP restored, the
// caller's frame intact after the whole stack budget is used.
func TestCallRestoresGo(t *testing.T) {
	seg := newSegment(t, clobberCode)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				if err := clobberOnce(seg, g, i); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	runtime.GC()
}

//go:noinline
func clobberOnce(seg *CodeSegment, g, i int) error {
	before := [4]int{g, i, g ^ i, 77} // lives in this frame across the call
	var out uint64
	Call(seg.Entry(), unsafe.Pointer(&out))
	if out != 42 {
		return fmt.Errorf("native code stored %d, want 42", out)
	}
	if before != [4]int{g, i, g ^ i, 77} {
		return fmt.Errorf("caller's frame changed: %v", before)
	}
	// The compiler zeroes these with X15; a garbage X15 shows up here.
	var zero [16]uint64
	zeroed := make([]uint64, 32)
	for _, v := range append(zero[:], zeroed...) {
		if v != 0 {
			return fmt.Errorf("zeroed memory holds %#x: X15 not restored", v)
		}
	}
	// Anything using g (R14): allocation, scheduling, channels.
	ch := make(chan string, 1)
	go func() { ch <- strconv.Itoa(i) }()
	if s := <-ch; s != strconv.Itoa(i) {
		return fmt.Errorf("goroutine round trip gave %q", s)
	}
	return nil
}

// TestLongRunWithGC runs native loops while another goroutine collects
// garbage continuously. No collection can finish while a loop runs (the
// goroutine cannot be stopped), so the collector waits; each must finish
// after the loops return, and nothing may crash.
func TestLongRunWithGC(t *testing.T) {
	seg := newSegment(t, loopCode)
	n := uint64(3e7)
	if testing.Short() {
		n = 3e6
	}
	var done atomic.Bool
	var gcs int
	var longest time.Duration
	gcDone := make(chan struct{})
	go func() {
		defer close(gcDone)
		for !done.Load() {
			start := time.Now()
			runtime.GC()
			longest = max(longest, time.Since(start))
			gcs++
			_ = make([]byte, 1<<16) // garbage to collect
		}
	}()
	var wg sync.WaitGroup
	start := time.Now()
	for range 4 {
		wg.Go(func() {
			for range 2 {
				st := &loopState{N: n}
				Call(seg.Entry(), unsafe.Pointer(st))
				if st.Count != n {
					t.Errorf("count %d, want %d", st.Count, n)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	done.Store(true)
	select {
	case <-gcDone:
	case <-time.After(10 * time.Second):
		t.Fatal("a garbage collection did not finish 10 s after the native runs returned")
	}
	if gcs == 0 {
		t.Error("no garbage collection completed")
	}
	t.Logf("4×2 runs of %d iterations in %v; %d collections meanwhile, the longest %v", n, elapsed, gcs, longest)
}

// TestReentryIsPreemptible checks that Call's prologue is a preemption
// point: a goroutine that does nothing but re-enter native code must let a
// garbage collection finish between two runs. If Call skipped the check (a
// NOSPLIT trampoline), each runtime.GC below would wait until the loop ends,
// which only the 30-second safety stop would do.
func TestReentryIsPreemptible(t *testing.T) {
	seg := newSegment(t, loopCode)
	var stop, timedOut atomic.Bool
	var runs atomic.Int64
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		st := &loopState{N: 1e6} // about a millisecond per run
		for !stop.Load() {       // no Go call in this loop but Call itself
			Call(seg.Entry(), unsafe.Pointer(st))
			runs.Add(1)
		}
	}()
	safety := time.AfterFunc(30*time.Second, func() { timedOut.Store(true); stop.Store(true) })
	defer safety.Stop()
	for range 3 {
		start := time.Now()
		runtime.GC()
		t.Logf("collection took %v, native runs so far %d", time.Since(start), runs.Load())
	}
	if timedOut.Load() {
		t.Error("garbage collections finished only after the re-entering loop was stopped")
	}
	stop.Store(true)
	<-exited
}

// mapping is one line of /proc/self/maps.
type mapping struct {
	start, end uintptr
	perms      string
	named      bool // backed by a file or a kernel name like [vdso]
}

// countExecAnon counts anonymous executable mappings: code segments (the
// kernel may merge adjacent ones), nothing else in a Go test binary.
func countExecAnon(maps []mapping) int {
	n := 0
	for _, m := range maps {
		if !m.named && m.perms[2] == 'x' {
			n++
		}
	}
	return n
}

func readMaps(t testing.TB) []mapping {
	t.Helper()
	data, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	var maps []mapping
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok || len(fields) < 2 {
			t.Fatalf("bad /proc/self/maps line %q", sc.Text())
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("bad /proc/self/maps line %q", sc.Text())
		}
		maps = append(maps, mapping{uintptr(start), uintptr(end), fields[1], len(fields) > 5})
	}
	return maps
}

// mappingAt returns the mapping containing addr.
func mappingAt(maps []mapping, addr uintptr) (mapping, bool) {
	for _, m := range maps {
		if m.start <= addr && addr < m.end {
			return m, true
		}
	}
	return mapping{}, false
}

func TestSegmentMapping(t *testing.T) {
	code := bytes.Repeat([]byte{0x90}, pageSize+1) // nop × (page+1), then ret
	code = append(code, 0xc3)
	seg, err := NewCodeSegment(code)
	if err != nil {
		t.Fatal(err)
	}
	if seg.Len() != len(code) || seg.Size() != 2*uintptr(pageSize) || seg.Entry()%uintptr(pageSize) != 0 {
		t.Errorf("%v: want %d bytes of code in 2 pages at a page boundary", seg, len(code))
	}
	var st uint64
	Call(seg.Entry(), unsafe.Pointer(&st))
	mem := unsafe.Slice(seg.mem.Load(), seg.Size())
	if !bytes.Equal(mem[:len(code)], code) {
		t.Error("the segment does not hold the code")
	}
	if pad := mem[len(code):]; !bytes.Equal(pad, bytes.Repeat([]byte{0xcc}, len(pad))) {
		t.Error("the end of the last page is not filled with int3 (0xcc)")
	}

	maps := readMaps(t)
	for _, addr := range []uintptr{seg.Entry(), seg.Entry() + seg.Size() - 1} {
		m, ok := mappingAt(maps, addr)
		if !ok {
			t.Fatalf("%#x of %v is not in /proc/self/maps", addr, seg)
		}
		if m.perms != "r-xp" { // W^X: executable, never writable
			t.Errorf("%v is mapped %s, want r-xp", seg, m.perms)
		}
	}
	if countExecAnon(maps) == 0 {
		t.Error("countExecAnon does not see the open segment")
	}
	for _, m := range maps {
		if strings.HasPrefix(m.perms, "rwx") {
			t.Errorf("writable and executable mapping %#x-%#x %s", m.start, m.end, m.perms)
		}
	}
	if !strings.HasSuffix(seg.String(), ", mapped") {
		t.Errorf("String() = %q", seg)
	}

	if err := seg.Close(); err != nil {
		t.Fatal(err)
	}
	if m, ok := mappingAt(readMaps(t), seg.Entry()); ok && m.perms != "---p" {
		t.Errorf("%#x is still accessible after Close: %#x-%#x %s", seg.Entry(), m.start, m.end, m.perms)
	}
	if err := seg.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if want := fmt.Sprintf("code segment %#x, %d bytes of code in %d, closed", seg.Entry(), len(code), 2*pageSize); seg.String() != want {
		t.Errorf("String() = %q, want %q", seg, want)
	}
}

func TestConcurrentClose(t *testing.T) {
	for range 100 {
		seg, err := NewCodeSegment(computeCode)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				if err := seg.Close(); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if m, ok := mappingAt(readMaps(t), seg.Entry()); ok && m.perms != "---p" {
			t.Fatalf("%v still accessible: %s", seg, m.perms)
		}
	}
}

// TestNoLeak creates, runs and closes 100,000 segments; the process must end
// with about as many mappings and about the same resident memory.
func TestNoLeak(t *testing.T) {
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	round := func(n int) {
		for i := range n {
			seg, err := NewCodeSegment(computeCode)
			if err != nil {
				t.Fatalf("segment %d: %v", i, err)
			}
			st := computeState{A: int64(i), B: 1}
			Call(seg.Entry(), unsafe.Pointer(&st))
			if st.Result != (int64(i)+1)*3 {
				t.Fatalf("segment %d computed %d", i, st.Result)
			}
			if err := seg.Close(); err != nil {
				t.Fatalf("segment %d: %v", i, err)
			}
		}
	}
	// A first round warms up the runtime (under -race, the detector's
	// shadow memory for the heap these calls churn).
	round(n / 10)
	runtime.GC()
	maps := readMaps(t)
	mapsBefore, execBefore, rssBefore := len(maps), countExecAnon(maps), rss(t)
	start := time.Now()
	round(n)
	elapsed := time.Since(start)
	runtime.GC()
	maps = readMaps(t)
	mapsAfter, execAfter, rssAfter := len(maps), countExecAnon(maps), rss(t)
	t.Logf("%d segments in %v (%v each); mappings %d → %d, anonymous executable %d → %d; RSS %d KiB → %d KiB",
		n, elapsed, elapsed/time.Duration(n), mapsBefore, mapsAfter, execBefore, execAfter, rssBefore>>10, rssAfter>>10)
	if execAfter != execBefore {
		t.Errorf("anonymous executable mappings: %d before, %d after", execBefore, execAfter)
	}
	if raceEnabled {
		return // the race detector's own mappings and memory grow with the work
	}
	// Slack for the Go runtime's own growth (heap arenas, thread stacks).
	if mapsAfter > mapsBefore+16 {
		t.Errorf("mappings grew from %d to %d", mapsBefore, mapsAfter)
	}
	if rssAfter > rssBefore+16<<20 {
		t.Errorf("resident memory grew from %d KiB to %d KiB", rssBefore>>10, rssAfter>>10)
	}
}

// rss reads VmRSS from /proc/self/status, in bytes.
func rss(t testing.TB) int {
	t.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatalf("VmRSS line %q: %v", line, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

func BenchmarkCall(b *testing.B) {
	seg := newSegment(b, computeCode)
	st := new(computeState)
	for b.Loop() {
		Call(seg.Entry(), unsafe.Pointer(st))
	}
}

// BenchmarkRoundTrip measures the least a run of native code can cost: Go
// to native code that only returns, and back, through Call and through
// Enter. "far" is Call into the same code in an ordinary mapping (an mmap
// address, about 2^47 bytes from the Go text) instead of the arena near
// the text; "go" is an empty Go function for scale.
func BenchmarkRoundTrip(b *testing.B) {
	st := new(computeState)
	b.Run("arena", func(b *testing.B) {
		seg := newSegment(b, []byte{0xc3}) // ret
		for b.Loop() {
			Call(seg.Entry(), unsafe.Pointer(st))
		}
	})
	b.Run("arena-enter", func(b *testing.B) {
		seg := newSegment(b, []byte{0xc3}) // ret
		for b.Loop() {
			Enter(seg.Entry(), unsafe.Pointer(st), 0, 0)
		}
	})
	b.Run("far", func(b *testing.B) {
		mem, err := unix.Mmap(-1, 0, pageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
		if err != nil {
			b.Fatal(err)
		}
		defer unix.Munmap(mem)
		mem[0] = 0xc3 // ret
		if err := unix.Mprotect(mem, unix.PROT_READ|unix.PROT_EXEC); err != nil {
			b.Fatal(err)
		}
		entry := uintptr(unsafe.Pointer(&mem[0]))
		for b.Loop() {
			Call(entry, unsafe.Pointer(st))
		}
	})
	b.Run("go", func(b *testing.B) {
		for b.Loop() {
			emptyGo(0, unsafe.Pointer(st))
		}
	})
}

//go:noinline
func emptyGo(uintptr, unsafe.Pointer) {}

func BenchmarkNewCodeSegment(b *testing.B) {
	for b.Loop() {
		seg, err := NewCodeSegment(computeCode)
		if err != nil {
			b.Fatal(err)
		}
		seg.Close()
	}
}

// TestCallMovesStack enters native code at many stack depths in fresh
// goroutines (which start with small stacks), so that Call's prologue now and
// then grows and moves the stack with the state a local of the caller: the
// state pointer must follow the move.
func TestCallMovesStack(t *testing.T) {
	seg := newSegment(t, computeCode)
	var wg sync.WaitGroup
	for depth := range 300 {
		wg.Go(func() {
			if err := callAtDepth(seg, depth, depth); err != nil {
				t.Errorf("depth %d: %v", depth, err)
			}
		})
	}
	wg.Wait()
	if stackMoves.Load() == 0 {
		t.Error("the stack never moved in Call's prologue: the test does not test what it says")
	}
	t.Logf("the stack moved in Call's prologue %d times", stackMoves.Load())
}

// stackMoves counts the calls of callAtDepth whose stack moved inside Call.
var stackMoves atomic.Int64

//go:noinline
func callAtDepth(seg *CodeSegment, depth, n int) error {
	var pad [4]int64 // a few words of frame per level
	pad[n%4] = int64(n)
	if n > 0 {
		if err := callAtDepth(seg, depth, n-1); err != nil {
			return err
		}
	}
	st := computeState{A: int64(depth), B: pad[n%4]}
	before := uintptr(unsafe.Pointer(&st))
	Call(seg.Entry(), unsafe.Pointer(&st))
	if uintptr(unsafe.Pointer(&st)) != before {
		stackMoves.Add(1) // the stack moved in Call's prologue
	}
	if want := (int64(depth) + int64(n)) * 3; st.Result != want || st.Exit != 7 {
		return fmt.Errorf("level %d: state %+v, want Result %d Exit 7", n, st, want)
	}
	return nil
}

// TestEnter runs native code through Enter, which has no prologue of its
// own, at every stack depth up to 300 frames on fresh goroutines (whose
// small stacks grow in the callers' prologues): the code that fills the
// whole native stack budget and clobbers every register it may must leave
// the caller's frame, R14, X15 and RBP intact, and the computation must be
// right.
func TestEnter(t *testing.T) {
	clobber := newSegment(t, clobberCode)
	compute := newSegment(t, computeCode)
	var wg sync.WaitGroup
	for depth := range 300 {
		wg.Go(func() {
			if err := enterAtDepth(clobber, compute, depth, depth); err != nil {
				t.Errorf("depth %d: %v", depth, err)
			}
		})
	}
	wg.Wait()
	runtime.GC()
}

//go:noinline
func enterAtDepth(clobber, compute *CodeSegment, depth, n int) error {
	var pad [4]int64 // a few words of frame per level
	pad[n%4] = int64(n)
	if n > 0 {
		if err := enterAtDepth(clobber, compute, depth, n-1); err != nil {
			return err
		}
	}
	before := [4]int{depth, n, depth ^ n, 77} // lives in this frame across the calls
	var out uint64
	Enter(clobber.Entry(), unsafe.Pointer(&out), 0, 0)
	if out != 42 {
		return fmt.Errorf("level %d: native code stored %d, want 42", n, out)
	}
	st := computeState{A: int64(depth), B: pad[n%4]}
	Enter(compute.Entry(), unsafe.Pointer(&st), 0, 0)
	if want := (int64(depth) + int64(n)) * 3; st.Result != want || st.Exit != 7 {
		return fmt.Errorf("level %d: state %+v, want Result %d Exit 7", n, st, want)
	}
	if before != [4]int{depth, n, depth ^ n, 77} {
		return fmt.Errorf("level %d: caller's frame changed: %v", n, before)
	}
	ch := make(chan int, 1) // uses g (R14)
	go func() { ch <- n }()
	if got := <-ch; got != n {
		return fmt.Errorf("level %d: goroutine round trip gave %d", n, got)
	}
	return nil
}
