package ebpf_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/conformance"
	"github.com/bpfdb/bpfdb/ebpf/maps"
)

func mustAssemble(t testing.TB, src string) asm.Instructions {
	t.Helper()
	insns, err := asm.Assemble(src)
	if err != nil {
		t.Fatalf("assemble: %v", err)
	}
	return insns
}

// load loads src Unverified unless opts says otherwise: the tests in this
// file pin the interpreter's run-time semantics and checks (faults, budget,
// call depth, contexts of any size), which must hold without the verifier.
func load(t testing.TB, src string, opts *ebpf.ProgramOptions) *ebpf.Program {
	t.Helper()
	if opts == nil {
		opts = &ebpf.ProgramOptions{Helpers: conformance.TestHelpers(), Unverified: true}
	}
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "test", Instructions: mustAssemble(t, src)}, opts)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return p
}

// TestRunFaults checks that every kind of run-time fault ends the run with a
// typed error naming the faulting instruction, and never crashes the host.
func TestRunFaults(t *testing.T) {
	tests := []struct {
		name   string
		src    string
		ctx    []byte
		budget int64
		want   error
		pc     int
	}{
		{"infinite loop", "ja -1", nil, 0, ebpf.ErrBudget, 0},
		{"loop within budget+1", "mov %r0, 0\nL:\nadd %r0, 1\njlt %r0, 10, L\nexit", nil, 17, ebpf.ErrBudget, 2},
		{"read past stack top", "ldxdw %r0, [%r10+0]\nexit", nil, 0, ebpf.ErrMemory, 0},
		{"read below the 8 frames", "ldxb %r0, [%r10-4097]\nexit", nil, 0, ebpf.ErrMemory, 0},
		{"null context", "ldxw %r0, [%r1+0]\nexit", nil, 0, ebpf.ErrMemory, 0},
		{"context overrun", "ldxdw %r0, [%r1+1]\nexit", make([]byte, 8), 0, ebpf.ErrMemory, 0},
		{"wrapping address", "mov %r2, -1\nldxb %r0, [%r2+2]\nexit", nil, 0, ebpf.ErrMemory, 1},
		{"store to map handle", "lddw %r1, 0x1\nstw [%r1+0], 1\nexit", nil, 0, ebpf.ErrMemory, 2},
		{"recursion", "f:\ncall local f\nexit", nil, 0, ebpf.ErrStackOverflow, 0},
		{"callx to unknown helper", "mov %r2, 99\ncall %r2\nexit", nil, 0, ebpf.ErrUnknownHelper, 1},
		{"misaligned atomic", "stdw [%r10-16], 0\nmov %r1, 1\nlock add [%r10-15], %r1\nexit", nil, 0, ebpf.ErrAlignment, 2},
		{"fall off the end", "mov %r0, 0", nil, 0, ebpf.ErrNoExit, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := load(t, tt.src, &ebpf.ProgramOptions{Unverified: true, Helpers: conformance.TestHelpers(), Budget: tt.budget})
			_, err := p.Run(tt.ctx)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !errors.Is(err, ebpf.ErrRun) {
				t.Errorf("err = %v does not wrap ErrRun", err)
			}
			var re *ebpf.RunError
			if !errors.As(err, &re) || re.PC != tt.pc {
				t.Fatalf("err = %#v, want a RunError at instruction %d", err, tt.pc)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("instruction %d (", tt.pc)) {
				t.Errorf("error %q does not name instruction %d", err, tt.pc)
			}
		})
	}
}

// TestBudgetCharge pins the budget's unit: a taken backward jump charges
// the slots it jumps back over plus one.
func TestBudgetCharge(t *testing.T) {
	src := "mov %r0, 0\nL:\nadd %r0, 1\njlt %r0, 10, L\nexit"
	// Nine taken back-edges of span 2.
	for budget, ok := range map[int64]bool{18: true, 17: false} {
		p := load(t, src, &ebpf.ProgramOptions{Unverified: true, Budget: budget, Helpers: ebpf.NewHelpers()})
		r0, err := p.Run(nil)
		if (err == nil) != ok || (ok && r0 != 10) {
			t.Errorf("budget %d: r0 = %d, err = %v; want ok = %v", budget, r0, err, ok)
		}
	}
	// A local call charges the callee's length (3 slots here).
	call := "call local f\nexit\nf:\nmov %r0, 7\nadd %r0, 1\nexit"
	for budget, ok := range map[int64]bool{3: true, 2: false} {
		p := load(t, call, &ebpf.ProgramOptions{Unverified: true, Budget: budget, Helpers: ebpf.NewHelpers()})
		r0, err := p.Run(nil)
		if (err == nil) != ok || (ok && r0 != 8) {
			t.Errorf("call, budget %d: r0 = %d, err = %v; want ok = %v", budget, r0, err, ok)
		}
	}
	// Per-run override and unlimited.
	p := load(t, "ja -1", nil)
	if _, err := p.RunWith(nil, ebpf.RunOptions{Budget: 100}); !errors.Is(err, ebpf.ErrBudget) {
		t.Errorf("override: err = %v", err)
	}
}

// TestUnlimitedBudgetProvesTermination: a loop that ends only after 2^64
// iterations (no state repeats) is accepted with a budget,
// which then stops it, and refused without one, where the verifier walks
// loops instead of widening them.
func TestUnlimitedBudgetProvesTermination(t *testing.T) {
	src := "mov %r0, 0\nL:\nadd %r0, 1\njne %r0, 0, L\nexit"
	spec := &ebpf.ProgramSpec{Name: "endless", Instructions: mustAssemble(t, src)}
	p, err := ebpf.NewProgram(spec, &ebpf.ProgramOptions{Budget: 1000, Helpers: ebpf.NewHelpers()})
	if err != nil {
		t.Fatalf("with a budget: %v", err)
	}
	if _, err := p.Run(nil); !errors.Is(err, ebpf.ErrBudget) {
		t.Errorf("with a budget: run ended with %v, want ErrBudget", err)
	}
	if _, err := ebpf.NewProgram(spec, &ebpf.ProgramOptions{Budget: -1, Helpers: ebpf.NewHelpers()}); err == nil {
		t.Error("an endless loop was accepted to run without a budget")
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"unknown helper", "call 4242\nexit", "unknown helper 4242"},
		{"map index out of table", "lddw %r1, map 0\nexit", "outside the program's map table"},
		{"legacy packet load", "ldabsb 0x10\nexit", "legacy packet access"},
		{"kfunc", "call kfunc 7\nexit", "kfuncs"},
		{"write r10", "mov %r10, 0\nexit", "r10 is the read-only frame pointer"},
		{"add to r10", "add %r10, -8\nexit", "r10 is the read-only frame pointer"},
		{"load into r10", "ldxdw %r10, [%r1+0]\nexit", "r10 is the read-only frame pointer"},
		{"lddw into r10", "lddw %r10, 0x1\nexit", "r10 is the read-only frame pointer"},
		{"atomic fetch into r10", "lock fetch add [%r10-8], %r10\nexit", "r10 is the read-only frame pointer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			insns, err := asm.Assemble(tt.src)
			if err != nil {
				t.Fatalf("assemble: %v", err)
			}
			_, err = ebpf.NewProgram(&ebpf.ProgramSpec{Name: "bad", Instructions: insns}, &ebpf.ProgramOptions{Helpers: ebpf.NewHelpers()})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `load program "bad": instruction `) {
				t.Fatalf("err = %v, want one naming the instruction and %q", err, tt.want)
			}
		})
	}
}

// TestCallDepth: eight frames are allowed, a ninth is not.
func TestCallDepth(t *testing.T) {
	chain := func(n int) string {
		var b strings.Builder
		b.WriteString("mov %r0, 0\ncall local f1\nexit\n")
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, "f%d:\nadd %%r0, 1\nstdw [%%r10-512], %d\n", i, i)
			if i < n {
				fmt.Fprintf(&b, "call local f%d\n", i+1)
			}
			b.WriteString("exit\n")
		}
		return b.String()
	}
	r0, err := load(t, chain(7), nil).Run(nil)
	if err != nil || r0 != 7 {
		t.Errorf("8 frames: r0 = %d, err = %v", r0, err)
	}
	if _, err := load(t, chain(8), nil).Run(nil); !errors.Is(err, ebpf.ErrStackOverflow) {
		t.Errorf("9 frames: err = %v", err)
	}
}

func TestContextReadWrite(t *testing.T) {
	p := load(t, "ldxw %r0, [%r1+4]\nstw [%r1+0], 0x55\nadd %r0, %r2\nexit", nil)
	ctx := []byte{0, 0, 0, 0, 7, 0, 0, 0}
	r0, err := p.Run(ctx)
	if err != nil || r0 != 7+8 {
		t.Fatalf("r0 = %d, err = %v", r0, err)
	}
	if ctx[0] != 0x55 {
		t.Errorf("store into the context was not visible: %x", ctx)
	}
}

func TestHostMemory(t *testing.T) {
	// r3 is loaded from the context: the address of an extra host region.
	p := load(t, "ldxdw %r3, [%r1+0]\nldxb %r0, [%r3+2]\nstb [%r3+0], 9\nexit", nil)
	host := []byte{1, 2, 3}
	ctx := make([]byte, 8)
	binary.LittleEndian.PutUint64(ctx, addrOf(host))
	r0, err := p.RunWith(ctx, ebpf.RunOptions{Memory: []ebpf.Memory{{Data: host, Writable: true}}})
	if err != nil || r0 != 3 || host[0] != 9 {
		t.Fatalf("r0 = %d, err = %v, host = %v", r0, err, host)
	}
	_, err = p.RunWith(ctx, ebpf.RunOptions{Memory: []ebpf.Memory{{Data: host}}})
	var me *ebpf.MemoryError
	if !errors.As(err, &me) || !me.ReadOnly || !me.Write {
		t.Fatalf("read-only host memory: err = %v", err)
	}
	// Without the region, the same address is out of bounds.
	if _, err := p.Run(ctx); !errors.Is(err, ebpf.ErrMemory) {
		t.Fatalf("no region: err = %v", err)
	}
}

func newMap(t testing.TB, spec *maps.Spec) maps.Map {
	t.Helper()
	m, err := maps.New(spec, maps.Options{Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestMapHelpers drives lookup, update and delete from a program.
func TestMapHelpers(t *testing.T) {
	hash := newMap(t, &maps.Spec{Name: "h", Type: maps.Hash, KeySize: 8, ValueSize: 8, MaxEntries: 4})
	// key = ctx[0:8]; update(key, 41); v = lookup(key); *v += 1; r0 = *v;
	// then delete(key) and return r0 + 100*lookup-after-delete-is-null.
	src := `
ldxdw %r6, [%r1+0]
stxdw [%r10-8], %r6
stdw [%r10-16], 41
lddw %r1, map 0
mov %r2, %r10
add %r2, -8
mov %r3, %r10
add %r3, -16
mov %r4, 0
call 2
jne %r0, 0, fail
lddw %r1, map 0
mov %r2, %r10
add %r2, -8
call 1
jeq %r0, 0, fail
mov %r1, 1
lock add [%r0+0], %r1
ldxdw %r7, [%r0+0]
lddw %r1, map 0
mov %r2, %r10
add %r2, -8
call 3
jne %r0, 0, fail
lddw %r1, map 0
mov %r2, %r10
add %r2, -8
call 1
jne %r0, 0, fail
mov %r0, %r7
exit
fail:
mov %r0, -1
exit`
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "maps", Instructions: mustAssemble(t, src), MapNames: []string{"h"}},
		&ebpf.ProgramOptions{Unverified: true, Maps: map[string]maps.Map{"h": hash}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := make([]byte, 8)
	binary.LittleEndian.PutUint64(ctx, 77)
	r0, err := p.Run(ctx)
	if err != nil || r0 != 42 {
		t.Fatalf("r0 = %d, err = %v", int64(r0), err)
	}
	if _, err := hash.Lookup(ctx); !errors.Is(err, maps.ErrKeyNotExist) {
		t.Errorf("key still present after the program deleted it: %v", err)
	}
}

// TestConcurrentRuns runs one program from many goroutines at once: each
// run has its own stack, and atomic adds on a shared map value are exact.
func TestConcurrentRuns(t *testing.T) {
	arr := newMap(t, &maps.Spec{Name: "counter", Type: maps.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	src := `
ldxdw %r6, [%r1+0]
stxdw [%r10-8], %r6
stw [%r10-12], 0
lddw %r1, map 0
mov %r2, %r10
add %r2, -12
call 1
jeq %r0, 0, out
mov %r1, 1
lock add [%r0+0], %r1
out:
ldxdw %r0, [%r10-8]
mul %r0, 3
exit`
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "count", Instructions: mustAssemble(t, src), MapNames: []string{"counter"}},
		&ebpf.ProgramOptions{Unverified: true, Maps: map[string]maps.Map{"counter": arr}})
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, runs = 8, 500
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := make([]byte, 8)
			for i := 0; i < runs; i++ {
				v := uint64(g*runs + i)
				binary.LittleEndian.PutUint64(ctx, v)
				r0, err := p.RunWith(ctx, ebpf.RunOptions{Worker: g})
				if err != nil || r0 != 3*v {
					errs <- fmt.Errorf("goroutine %d run %d: r0 = %d, err = %v", g, i, r0, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	v, err := arr.Lookup([]byte{0, 0, 0, 0})
	if err != nil || binary.LittleEndian.Uint64(v) != goroutines*runs {
		t.Fatalf("counter = %v, %v; want %d", v, err, goroutines*runs)
	}
}

// TestReadOnlyMapValue: a program cannot store into a map that is
// read-only to programs (.rodata), but can read it.
func TestReadOnlyMapValue(t *testing.T) {
	ro := newMap(t, &maps.Spec{Name: ".rodata", Type: maps.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1, ReadOnlyProg: true,
		Contents: []maps.Entry{{Key: []byte{0, 0, 0, 0}, Value: []byte{5, 0, 0, 0, 0, 0, 0, 0}}}})
	opts := &ebpf.ProgramOptions{Unverified: true, Maps: map[string]maps.Map{".rodata": ro}}
	read, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "r", Instructions: mustAssemble(t, "lddw %r1, mapvalue 0+0\nldxdw %r0, [%r1+0]\nexit"), MapNames: []string{".rodata"}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if r0, err := read.Run(nil); err != nil || r0 != 5 {
		t.Fatalf("read: r0 = %d, err = %v", r0, err)
	}
	write, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "w", Instructions: mustAssemble(t, "lddw %r1, mapvalue 0+0\nstdw [%r1+0], 1\nexit"), MapNames: []string{".rodata"}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	var me *ebpf.MemoryError
	if _, err := write.Run(nil); !errors.As(err, &me) || !me.ReadOnly {
		t.Fatalf("write: err = %v, want a read-only MemoryError", err)
	}
}

func TestLogHelper(t *testing.T) {
	h := ebpf.DefaultHelpers()
	// "v=%d x=%llx%%" is stored on the stack, then logged.
	format := "v=%d x=%llx%%\x00"
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		fmt.Fprintf(&b, "stb [%%r10-%d], %d\n", 16-i, format[i])
	}
	b.WriteString("mov %r1, %r10\nadd %r1, -16\nmov %r2, 16\nmov %r3, -5\nlddw %r4, 0xdeadbeef12\ncall 6\nexit\n")
	p := load(t, b.String(), &ebpf.ProgramOptions{Unverified: true, Helpers: h})
	r0, err := p.Run(nil)
	if err != nil {
		t.Fatal(err)
	}
	lines, dropped := h.Log().Lines()
	want := "v=-5 x=deadbeef12%"
	if len(lines) != 1 || lines[0] != want || dropped != 0 || r0 != uint64(len(want)) {
		t.Fatalf("log = %q (dropped %d), r0 = %d; want %q", lines, dropped, r0, want)
	}
}

func TestLogRingBounded(t *testing.T) {
	r := ebpf.NewLogRing(3)
	for i := 0; i < 5; i++ {
		r.Write(fmt.Sprint(i))
	}
	lines, dropped := r.Lines()
	if strings.Join(lines, ",") != "2,3,4" || dropped != 2 {
		t.Fatalf("lines = %v, dropped = %d", lines, dropped)
	}
}

func TestRunDoesNotAllocate(t *testing.T) {
	p := load(t, "mov %r0, 0\nexit", nil)
	p.Run(nil)
	if n := testing.AllocsPerRun(100, func() { p.Run(nil) }); n != 0 {
		t.Errorf("Run allocates %v times per run", n)
	}
}

// addrOf returns the address a program sees for b's first byte.
func addrOf(b []byte) uint64 { return uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b)))) }

// TestHelperError: a helper's error ends the run at the call instruction,
// and the helper runs exactly once.
func TestHelperError(t *testing.T) {
	h := ebpf.NewHelpers()
	calls := 0
	boom := errors.New("boom")
	err := h.Register(ebpf.Helper{ID: 9, Name: "fail", Fn: func(_ *ebpf.Env, r1, _, _, _, _ uint64) (uint64, error) {
		calls++
		if r1 == 2 {
			return 0, boom
		}
		return r1, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	p := load(t, "mov %r1, 1\ncall 9\nmov %r1, 2\ncall 9\nmov %r0, 0\nexit", &ebpf.ProgramOptions{Unverified: true, Helpers: h})
	_, err = p.Run(nil)
	var re *ebpf.RunError
	if !errors.Is(err, boom) || !errors.As(err, &re) || re.PC != 3 || calls != 2 {
		t.Fatalf("err = %v (pc %v), calls = %d; want boom at instruction 3 after 2 calls", err, re, calls)
	}
}

// TestRegionsAcrossRuns: a runner reuses its state, including the region a
// previous run accessed last; none of that may let a later run reach memory
// that is not one of its own regions, or write memory that is read-only in
// this run.
func TestRegionsAcrossRuns(t *testing.T) {
	// r1 = ctx; the program loads the address of host memory from ctx[0:8],
	// stores 7 into its first byte and returns the context's second word.
	p := load(t, "ldxdw %r3, [%r1+0]\nstb [%r3+0], 7\nldxdw %r0, [%r1+8]\nexit", nil)
	r := p.NewRunner()
	host := make([]byte, 16)
	ctxA := make([]byte, 16)
	binary.LittleEndian.PutUint64(ctxA, addrOf(host))
	binary.LittleEndian.PutUint64(ctxA[8:], 1)
	if r0, err := r.RunWith(ctxA, ebpf.RunOptions{Memory: []ebpf.Memory{{Data: host, Writable: true}}}); err != nil || r0 != 1 || host[0] != 7 {
		t.Fatalf("writable host: r0 = %d, err = %v, host[0] = %d", r0, err, host[0])
	}
	host[0] = 0
	// Same memory, now read-only: the store must fault.
	if _, err := r.RunWith(ctxA, ebpf.RunOptions{Memory: []ebpf.Memory{{Data: host}}}); !errors.Is(err, ebpf.ErrMemory) || host[0] != 0 {
		t.Fatalf("read-only host: err = %v, host[0] = %d", err, host[0])
	}
	// Without the host region at all: the store must fault too.
	if _, err := r.Run(ctxA); !errors.Is(err, ebpf.ErrMemory) || host[0] != 0 {
		t.Fatalf("no host region: err = %v, host[0] = %d", err, host[0])
	}
	// A new context of the same length elsewhere: the old one is no longer
	// addressable. ctxB points the store at the old context.
	ctxB := make([]byte, 16)
	binary.LittleEndian.PutUint64(ctxB, addrOf(ctxA))
	if _, err := r.Run(ctxB); !errors.Is(err, ebpf.ErrMemory) || ctxA[0] == 7 {
		t.Fatalf("old context: err = %v, ctxA[0] = %d", err, ctxA[0])
	}
	// And the program still works on the new context's own memory.
	binary.LittleEndian.PutUint64(ctxB, addrOf(ctxB))
	binary.LittleEndian.PutUint64(ctxB[8:], 2)
	if r0, err := r.Run(ctxB); err != nil || r0 != 2 || ctxB[0] != 7 {
		t.Fatalf("new context: r0 = %d, err = %v, ctxB[0] = %d", r0, err, ctxB[0])
	}
}

// TestCallsHelpers checks which programs may call a helper: a call by id
// or by register does, a local call alone does not.
func TestCallsHelpers(t *testing.T) {
	for _, tt := range []struct {
		name, src string
		want      bool
	}{
		{"none", "mov %r0, 0\nexit", false},
		{"context only", "ldxw %r0, [%r1]\nexit", false},
		{"by id", "call 1\nexit", true},
		{"by register", "mov %r2, 1\ncall %r2\nexit", true},
		{"local call", "call local +1\nexit\nmov %r0, 2\nexit", false},
		{"helper in a subprogram", "call local +1\nexit\ncall 1\nexit", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := load(t, tt.src, nil).CallsHelpers(); got != tt.want {
				t.Errorf("CallsHelpers() = %v, want %v", got, tt.want)
			}
		})
	}
}
