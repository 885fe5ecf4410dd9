package verifier_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/internal/core"
	"github.com/bpfdb/bpfdb/ebpf/internal/verifier"
)

// straightLine returns a program of about n slots without branches:
// arithmetic, stack spills and fills, and loads from the context region.
func straightLine(n int) asm.Instructions {
	body := []string{
		"add %r0, 3", "stxdw [%r10-8], %r0", "ldxdw %r2, [%r10-8]", "ldxb %r3, [%r1+5]",
		"xor %r0, %r3", "and %r0, 0xffff", "mul %r2, 7", "stxw [%r10-16], %r2",
	}
	var b strings.Builder
	b.WriteString("mov %r0, 0\n")
	for i := 0; i < n-2; i++ {
		b.WriteString(body[i%len(body)] + "\n")
	}
	b.WriteString("exit\n")
	return mustAssemble(b.String())
}

// loopsAndMaps returns a program of about n slots made of blocks that look
// up a map value, null-check it, loop over its 16 bytes and store a sum
// back, the shape of a policy that scans a small table.
func loopsAndMaps(n int) asm.Instructions {
	var b strings.Builder
	b.WriteString("mov %r6, %r1\nmov %r7, 0\n")
	const blockSlots = 19
	for i := 0; i < (n-4)/blockSlots; i++ {
		fmt.Fprintf(&b, `stw [%%r10-4], %d
lddw %%r1, map 1
mov %%r2, %%r10
add %%r2, -4
call 1
jeq %%r0, 0, skip%d
mov %%r2, 0
mov %%r5, 0
loop%d:
mov %%r3, %%r0
add %%r3, %%r2
ldxb %%r4, [%%r3+0]
add %%r5, %%r4
add %%r2, 1
jlt %%r2, 16, loop%d
stxdw [%%r0+8], %%r5
skip%d:
ldxb %%r8, [%%r6+%d]
add %%r7, %%r8
and %%r7, 0xfff
`, i%4, i, i, i, i, i%16)
	}
	b.WriteString("mov %r0, %r7\nexit\n")
	return mustAssemble(b.String())
}

func mustAssemble(s string) asm.Instructions {
	insns, err := asm.Assemble(s)
	if err != nil {
		panic(err)
	}
	return insns
}

func benchVerify(b *testing.B, insns asm.Instructions) {
	cfg := verifier.Config{Type: core.TestProgramType(16), Maps: testMaps, Helpers: genericHelpers()}
	var res *verifier.Result
	for b.Loop() {
		var err error
		res, err = verifier.Verify(insns, cfg)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(insns.Slots()), "slots")
	b.ReportMetric(float64(res.Processed), "processed")
	b.ReportMetric(float64(res.States), "states")
	b.ReportMetric(float64(res.PeakStates), "peak-states")
}

func BenchmarkVerifyStraight1k(b *testing.B)  { benchVerify(b, straightLine(1000)) }
func BenchmarkVerifyStraight10k(b *testing.B) { benchVerify(b, straightLine(10000)) }

// BenchmarkVerifyLoopsMaps10k is the bar of issue 3: a 10,000-instruction
// program with loops and map accesses must verify in under 50 ms.
func BenchmarkVerifyLoopsMaps10k(b *testing.B) { benchVerify(b, loopsAndMaps(10000)) }

// TestBenchmarkProgramsVerify keeps the benchmark programs valid.
func TestBenchmarkProgramsVerify(t *testing.T) {
	for _, p := range []asm.Instructions{straightLine(1000), loopsAndMaps(10000)} {
		_, err := verifier.Verify(p, verifier.Config{Type: core.TestProgramType(16), Maps: testMaps, Helpers: genericHelpers()})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := loopsAndMaps(10000).Slots(); n < 9500 || n > 10500 {
		t.Errorf("loopsAndMaps(10000) has %d slots", n)
	}
}
