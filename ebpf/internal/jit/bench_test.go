package jit_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/conformance"
	"github.com/bpfdb/bpfdb/ebpf/internal/core"
	"github.com/bpfdb/bpfdb/ebpf/internal/jit"
)

// BenchmarkBenchProgs runs the bench programs compiled by the JIT on one
// machine, without the public API around it (ebpf's benchmarks measure
// that).
func BenchmarkBenchProgs(b *testing.B) {
	if !jit.Supported() {
		b.Skip("native code is not supported on this platform")
	}
	for _, name := range []string{"ret", "murmur64", "fnv1a64", "helper_call", "loop1m"} {
		b.Run(name, func(b *testing.B) {
			ct, err := conformance.ParseFile(filepath.Join(benchDir, name+".data"))
			if err != nil {
				b.Skipf("bench programs not available (%v): they live in ../shared/bench-progs", err)
			}
			// loop1m is beyond the verifier's limits: it runs unverified.
			proven := proofs(ct.Program, len(ct.Mem))
			p, err := jit.Compile(ct.Program, jit.Config{Helpers: testHelpers, Proven: proven, Verified: proven != nil})
			if err != nil {
				b.Fatal(err)
			}
			m := jit.NewMachine()
			mem := append([]byte(nil), ct.Mem...)
			m.Env.Regions = append(m.Env.Regions, core.NewRegion(mem, true, core.RegionContext))
			start := m.Env.Regions[1].Start
			for b.Loop() {
				r0, err := p.Run(m, start, uint64(len(mem)), 1<<40)
				if err != nil || r0 != ct.Result {
					b.Fatalf("r0 = %#x, %v; want %#x", r0, err, ct.Result)
				}
			}
		})
	}
}

// BenchmarkCompile compiles a straight-line program of 1,000 instructions
// with loads, stores, jumps and helper calls.
func BenchmarkCompile(b *testing.B) {
	if !jit.Supported() {
		b.Skip("native code is not supported on this platform")
	}
	insns := mixedProgram(1000)
	b.ReportMetric(float64(len(insns)), "insns")
	for b.Loop() {
		if _, err := jit.Compile(insns, jit.Config{Helpers: testHelpers}); err != nil {
			b.Fatal(err)
		}
	}
}

// mixedProgram returns a valid program of about n instructions that mixes
// arithmetic, stack stores and loads, forward jumps and helper calls.
func mixedProgram(n int) asm.Instructions {
	var src string
	src += "mov %r0, 0\nmov %r6, 1\n"
	for i := 0; len(src) < 1 || i < (n-3)/10; i++ {
		src += fmt.Sprintf(`add %%r6, %d
mul %%r6, 3
stxdw [%%r10-8], %%r6
ldxdw %%r7, [%%r10-8]
xor %%r0, %%r7
jgt %%r0, %d, +2
rsh %%r0, 1
lsh %%r7, 2
mov %%r1, %%r0
call 1
`, i, i*7)
	}
	src += "exit\n"
	insns, err := asm.Assemble(src)
	if err != nil {
		panic("BUG: " + err.Error())
	}
	return insns
}
