package amd64

import "testing"

// BenchmarkEncode measures encoding throughput on a fixed mix of random
// instructions (jumps included), reusing one Assembler as a JIT would.
func BenchmarkEncode(b *testing.B) {
	const n = 1000
	a := New()
	var insts int
	for b.Loop() {
		a.Reset()
		newGen(1).sequence(a, n, true)
		if _, err := a.Finish(); err != nil {
			b.Fatal(err)
		}
		insts += a.NumInsts()
	}
	b.ReportMetric(float64(insts)/b.Elapsed().Seconds(), "insts/s")
}

// BenchmarkEncodeTyped measures a typical JIT sequence without the random
// generator's overhead: a loop of loads, ALU operations, a store and a
// conditional back-edge.
func BenchmarkEncodeTyped(b *testing.B) {
	a := New()
	var insts int
	for b.Loop() {
		a.Reset()
		for range 100 {
			l := a.NewLabel()
			a.Bind(l)
			a.MovRM(S64, RAX, M(RDI, 8))
			a.ALURI(ADD, S64, RAX, 1)
			a.ALURR(XOR, S32, RDX, RDX)
			a.ShiftRI(SHL, S64, RAX, 3)
			a.MovMR(S64, MI(RSP, RCX, 8, 16), RAX)
			a.ALURR(CMP, S64, RAX, RBX)
			a.Jcc(CondNE, l)
			a.LockXadd(S64, M(R12, 0), RAX)
			a.MovImm64(R9, 1<<40)
			a.Jmp(l)
		}
		if _, err := a.Finish(); err != nil {
			b.Fatal(err)
		}
		insts += a.NumInsts()
	}
	b.ReportMetric(float64(insts)/b.Elapsed().Seconds(), "insts/s")
}
