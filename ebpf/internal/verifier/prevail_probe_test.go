package verifier_test

import (
	"testing"

	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/internal/prevail"
	"github.com/bpfdb/bpfdb/ebpf/internal/verifier"
)

func TestPrevailProbe(t *testing.T) {
	probes := map[string]string{
		"numeric size join": `
r0 = *(u64 *)(r1 + 8)
r2 = r10
r2 += -8
r1 = 0
if r0 == 0 goto <w4>
*(u64 *)(r2 + 0) = r1
goto <rd>
<w4>:
*(u32 *)(r2 + 0) = r1
<rd>:
r3 = *(u64 *)(r2 + 0)
r0 = 0
exit`,
		"not same type": `
r0 = *(u64 *)(r1 + 8)
r8 = r1
r8 += 4
r9 = r1
if r0 == 0 goto <ctx>
r1 = 1
r2 = r9
goto <out>
<ctx>:
r1 = r8
r2 = r0
<out>:
r3 = r2
r3 -= r1
r0 = 0
exit`,
		"multiple types add": `
r0 = *(u64 *)(r1 + 8)
r8 = r1
if r0 == 0 goto <cn>
r1 = 4
r2 = r8
goto <out>
<cn>:
r1 = r8
r2 = 4
<out>:
r3 = r1
r3 += r2
r0 = 0
exit`,
	}
	var c prevail.Case
	setup := prevailConfig(&c, genericHelpers())
	for name, src := range probes {
		p, err := asm.AssembleKernel(src)
		if err != nil {
			t.Fatal(name, err)
		}
		_, err = verifier.Verify(p, setup.cfg)
		t.Logf("%s: %v", name, err)
	}
}
