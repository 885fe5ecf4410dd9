package jit_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/conformance"
	"github.com/bpfdb/bpfdb/ebpf/internal/core"
	"github.com/bpfdb/bpfdb/ebpf/internal/interp"
	"github.com/bpfdb/bpfdb/ebpf/internal/jit"
	"github.com/bpfdb/bpfdb/ebpf/internal/verifier"
)

const (
	conformanceDir = "../../../../shared/conformance/bpf_conformance"
	benchDir       = "../../../../shared/bench-progs"
)

// testHelpers are the conformance test environment's helpers (see
// conformance.TestHelpers): 1 returns r1+1, 5 returns r1.
var testHelpers = map[int32]core.HelperFunc{
	1: func(_ *core.Env, r1, _, _, _, _ uint64) (uint64, error) { return r1 + 1, nil },
	5: func(_ *core.Env, r1, _, _, _, _ uint64) (uint64, error) { return r1, nil },
}

var testProtos = map[int32]core.Prototype{
	1: {Args: [5]core.ArgKind{core.ArgScalar}},
	5: {Args: [5]core.ArgKind{core.ArgScalar}},
}

// outcome is everything a run leaves behind.
type outcome struct {
	r0  uint64
	err string
	mem []byte
}

func (o outcome) String() string {
	return fmt.Sprintf("r0 = %#x, err = %q, mem = %x", o.r0, o.err, o.mem)
}

// runInterp runs insns in the interpreter on a copy of mem.
func runInterp(t testing.TB, insns asm.Instructions, mem []byte, budget int64) outcome {
	t.Helper()
	p, err := interp.Compile(insns, interp.Config{Helpers: testHelpers})
	if err != nil {
		t.Fatalf("interp: %v", err)
	}
	m := interp.NewMachine()
	mem = append([]byte(nil), mem...)
	m.Env.Regions = append(m.Env.Regions, core.NewRegion(mem, true, core.RegionContext))
	r0, err := p.Run(m, m.Env.Regions[1].Start, uint64(len(mem)), budget)
	return result(r0, err, mem)
}

// runJIT runs insns compiled with the given proofs on a copy of mem.
func runJIT(t testing.TB, insns asm.Instructions, proven []bool, mem []byte, budget int64) outcome {
	t.Helper()
	p, err := jit.Compile(insns, jit.Config{Helpers: testHelpers, Proven: proven, Verified: proven != nil})
	if err != nil {
		t.Fatalf("jit: %v", err)
	}
	m := jit.NewMachine()
	mem = append([]byte(nil), mem...)
	m.Env.Regions = append(m.Env.Regions, core.NewRegion(mem, true, core.RegionContext))
	r0, err := p.Run(m, m.Env.Regions[1].Start, uint64(len(mem)), budget)
	return result(r0, err, mem)
}

func result(r0 uint64, err error, mem []byte) outcome {
	o := outcome{r0: r0, mem: mem}
	if err != nil {
		o.err = err.Error()
		o.r0 = 0
	}
	return o
}

// proofs verifies insns against the test program type and returns what the
// verifier proved, or nil if it rejects the program.
func proofs(insns asm.Instructions, memLen int) []bool {
	res, err := verifier.Verify(insns, verifier.Config{Type: core.TestProgramType(memLen), Helpers: testProtos})
	if err != nil {
		return nil
	}
	proven := make([]bool, len(res.Access))
	for i, a := range res.Access {
		proven[i] = a.Proven
	}
	return proven
}

func skipUnsupported(t *testing.T) {
	if !jit.Supported() {
		t.Skip("native code is not supported on this platform")
	}
}

// TestConformance runs every file of the bpf_conformance suite under the
// JIT, with the verifier's proofs and without (every access checked by
// Go), and compares r0, the error and the memory with the interpreter and
// with the file's expectation.
func TestConformance(t *testing.T) {
	skipUnsupported(t)
	tests, err := conformance.Glob(conformanceDir)
	if err != nil || len(tests) == 0 {
		t.Skipf("conformance suite not found at %s (%v): it is part of ../shared", conformanceDir, err)
	}
	verified := 0
	for _, ct := range tests {
		t.Run(ct.Name, func(t *testing.T) {
			want := runInterp(t, ct.Program, ct.Mem, core.MaxFrames*1_000_000)
			if !ct.HasError && want.r0 != ct.Result {
				t.Errorf("interpreter: %v, file expects r0 = %#x", want, ct.Result)
			}
			if got := runJIT(t, ct.Program, nil, ct.Mem, core.MaxFrames*1_000_000); got.String() != want.String() {
				t.Errorf("jit, all accesses checked:\n got  %v\n want %v", got, want)
			}
			if proven := proofs(ct.Program, len(ct.Mem)); proven != nil {
				verified++
				if got := runJIT(t, ct.Program, proven, ct.Mem, core.MaxFrames*1_000_000); got.String() != want.String() {
					t.Errorf("jit, proven accesses native:\n got  %v\n want %v", got, want)
				}
			}
		})
	}
	t.Logf("%d files, %d verified (run with proven accesses compiled natively)", len(tests), verified)
}

// TestBenchPrograms runs the bench programs under both backends.
func TestBenchPrograms(t *testing.T) {
	skipUnsupported(t)
	for _, name := range []string{"ret", "murmur64", "fnv1a64", "helper_call", "loop1m"} {
		t.Run(name, func(t *testing.T) {
			ct, err := conformance.ParseFile(filepath.Join(benchDir, name+".data"))
			if err != nil {
				t.Skipf("bench programs not available (%v): they live in ../shared/bench-progs", err)
			}
			want := runInterp(t, ct.Program, ct.Mem, 1<<40)
			if want.r0 != ct.Result || want.err != "" {
				t.Fatalf("interpreter: %v, want r0 = %#x", want, ct.Result)
			}
			got := runJIT(t, ct.Program, proofs(ct.Program, len(ct.Mem)), ct.Mem, 1<<40)
			if got.String() != want.String() {
				t.Errorf("jit:\n got  %v\n want %v", got, want)
			}
			if !bytes.Equal(got.mem, ct.Mem) && name != "loop1m" {
				t.Errorf("memory changed: %x", got.mem)
			}
		})
	}
}

// TestConcurrentRuns runs one compiled program from many goroutines at
// once, each with its own machine and memory (run it with -race).
func TestConcurrentRuns(t *testing.T) {
	skipUnsupported(t)
	insns, err := asm.Assemble(`
	mov %r0, 0
	mov %r7, 0
loop:
	ldxb %r4, [%r1+0]
	add %r0, %r4
	mul %r0, 31
	stxb [%r1+0], %r0
	mov %r6, %r1
	mov %r1, %r0
	call 1
	mov %r1, %r6
	add %r7, 1
	jlt %r7, 50, loop
	exit`)
	if err != nil {
		t.Fatal(err)
	}
	proven := proofs(insns, 1)
	if proven == nil {
		t.Fatal("the verifier rejects the test program")
	}
	p, err := jit.Compile(insns, jit.Config{Helpers: testHelpers, Proven: proven, Verified: true})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	for g := range 8 {
		go func() {
			m := jit.NewMachine()
			mem := []byte{byte(g)}
			m.Env.Regions = append(m.Env.Regions, core.NewRegion(mem, true, core.RegionContext))
			want := runInterp(t, insns, []byte{byte(g)}, 1_000_000)
			for range 500 {
				mem[0] = byte(g)
				r0, err := p.Run(m, m.Env.Regions[1].Start, 1, 1_000_000)
				if err != nil || r0 != want.r0 || !bytes.Equal(mem, want.mem) {
					done <- fmt.Errorf("goroutine %d: r0 = %#x, %v, mem %x; want %v", g, r0, err, mem, want)
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
