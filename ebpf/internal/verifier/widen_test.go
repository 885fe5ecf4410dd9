package verifier_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/internal/core"
	"github.com/bpfdb/bpfdb/ebpf/internal/verifier"
)

// rowsType is shaped like the engine's per-row hooks: regions of a fixed
// capacity (2048 rows) and a row count bounded by the context's declared
// maximum, which loops over the rows are bounded by.
//
//	 0         8         16        24      28      32
//	+---------+---------+---------+-------+-------+
//	| keys    | out     | nulls   | count | width |
//	+---------+---------+---------+-------+-------+
//	  2048*8    2048*8 rw  2048      <=2048  <=8
var rowsType = &core.ProgramType{
	Name: "rows",
	Regions: []core.RegionSpec{
		{Name: "keys", Size: rows * 8},
		{Name: "out", Size: rows * 8, Writable: true},
		{Name: "nulls", Size: rows},
	},
	Context: core.Context{Size: 32, Fields: []core.Field{
		{Name: "keys", Offset: 0, Size: 8, Kind: core.FieldPointer, Region: "keys"},
		{Name: "out", Offset: 8, Size: 8, Kind: core.FieldPointer, Region: "out"},
		{Name: "nulls", Offset: 16, Size: 8, Kind: core.FieldPointer, Region: "nulls"},
		{Name: "count", Offset: 24, Size: 4, Max: rows},
		{Name: "width", Offset: 28, Size: 4, Max: 8},
	}},
	Return: core.Return{Min: 0, Max: 1},
}

const rows = 2048

// widenCase is a loop the verifier must widen to verify quickly. maxSteps
// bounds the instructions it may process: iteration by iteration, each
// would take thousands.
type widenCase struct {
	name     string
	prog     string
	want     verifier.Code // when rejected
	ok       bool
	maxSteps int
}

var widenCases = []widenCase{
	{name: "index bounded by a context field", ok: true, maxSteps: 100, prog: `
		ldxdw %r2, [%r1+0]
		ldxdw %r3, [%r1+8]
		ldxw %r4, [%r1+24]
		mov %r5, 0
		jge %r5, %r4, done
	loop:
		mov %r6, %r5
		lsh %r6, 3
		mov %r7, %r2
		add %r7, %r6
		ldxdw %r8, [%r7+0]
		mov %r7, %r3
		add %r7, %r6
		stxdw [%r7+0], %r8
		add %r5, 1
		jlt %r5, %r4, loop
	done:
		mov %r0, 0
		exit`},
	{name: "index bounded by a context field, one too far", want: verifier.CodeOutOfBounds, prog: `
		ldxdw %r2, [%r1+0]
		ldxw %r4, [%r1+24]
		mov %r5, 0
	loop:
		mov %r6, %r5
		lsh %r6, 3
		mov %r7, %r2
		add %r7, %r6
		ldxdw %r8, [%r7+0]
		add %r5, 1
		jle %r5, %r4, loop
		mov %r0, 0
		exit`},
	// The pointers advance on their own, in step with the counter: only
	// their link to the iteration count bounds them.
	{name: "pointers advanced with the counter", ok: true, maxSteps: 100, prog: `
		ldxdw %r2, [%r1+0]
		ldxdw %r3, [%r1+8]
		ldxw %r4, [%r1+24]
		mov %r5, 0
		jeq %r4, 0, done
	loop:
		ldxdw %r8, [%r2+0]
		stxdw [%r3+0], %r8
		add %r2, 8
		add %r3, 8
		add %r5, 1
		jlt %r5, %r4, loop
	done:
		mov %r0, 0
		exit`},
	{name: "pointer advanced one row ahead of the counter", want: verifier.CodeOutOfBounds, prog: `
		ldxdw %r2, [%r1+0]
		ldxw %r4, [%r1+24]
		mov %r5, 0
		jeq %r4, 0, done
	loop:
		add %r2, 8
		ldxdw %r8, [%r2+0]
		add %r5, 1
		jlt %r5, %r4, loop
	done:
		mov %r0, 0
		exit`},
	// A byte offset kept in a register of its own, 8 per row, spilled
	// and filled every iteration.
	{name: "second counter in step, through the stack", ok: true, maxSteps: 120, prog: `
		ldxdw %r2, [%r1+8]
		ldxw %r3, [%r1+24]
		mov %r4, 0
		stdw [%r10-8], 0
		jeq %r3, 0, done
	loop:
		ldxdw %r5, [%r10-8]
		mov %r6, %r2
		add %r6, %r5
		stxdw [%r6+0], %r4
		add %r5, 8
		stxdw [%r10-8], %r5
		add %r4, 1
		jlt %r4, %r3, loop
	done:
		mov %r0, 0
		exit`},
	{name: "second counter one step too fast", want: verifier.CodeOutOfBounds, prog: `
		ldxdw %r2, [%r1+8]
		ldxw %r3, [%r1+24]
		mov %r4, 0
		mov %r5, 0
		jeq %r3, 0, done
	loop:
		mov %r6, %r2
		add %r6, %r5
		stxdw [%r6+0], %r4
		add %r5, 9
		add %r4, 1
		jlt %r4, %r3, loop
	done:
		mov %r0, 0
		exit`},
	// The index is a sum of the counters (i*(i-1)/2, at most 1711 < 2048):
	// safe, but no linear relation holds it, and widening loses its bound.
	{name: "quadratic index lost by widening", want: verifier.CodePointerArithmetic, prog: `
		ldxdw %r2, [%r1+16]
		mov %r3, 0
		mov %r4, 0
	loop:
		mov %r5, %r2
		add %r5, %r4
		ldxb %r6, [%r5+0]
		add %r4, %r3
		add %r3, 1
		jlt %r3, 60, loop
		mov %r0, 0
		exit`},
	{name: "counting down from a context field", ok: true, maxSteps: 100, prog: `
		ldxdw %r2, [%r1+16]
		ldxw %r3, [%r1+24]
		mov %r0, 0
		jeq %r3, 0, done
	loop:
		sub %r3, 1
		mov %r5, %r2
		add %r5, %r3
		ldxb %r6, [%r5+0]
		or %r0, %r6
		jne %r3, 0, loop
	done:
		and %r0, 1
		exit`},
	{name: "counting down a constant", ok: true, maxSteps: 100, prog: `
		ldxdw %r2, [%r1+16]
		mov %r3, 2047
		mov %r0, 0
	loop:
		mov %r5, %r2
		add %r5, %r3
		ldxb %r6, [%r5+0]
		or %r0, %r6
		sub %r3, 1
		jsge %r3, 0, loop
		and %r0, 1
		exit`},
	{name: "counting down one too far", want: verifier.CodeOutOfBounds, prog: `
		ldxdw %r2, [%r1+16]
		mov %r3, 2047
		mov %r0, 0
	loop:
		mov %r5, %r2
		add %r5, %r3
		ldxb %r6, [%r5+0]
		or %r0, %r6
		sub %r3, 1
		jsge %r3, -1, loop
		and %r0, 1
		exit`},
	// clang's "while (n--) out[n] = keys[n] + 1": a byte offset counted
	// down by 8 from 8*count, pointers based 8 bytes before the regions.
	// After "!= 0" the offset is at least 8, a multiple of 8.
	{name: "counting down a scaled count", ok: true, maxSteps: 100, prog: `
		ldxw %r2, [%r1+24]
		jeq %r2, 0, done
		ldxdw %r3, [%r1+8]
		ldxdw %r1, [%r1+0]
		add %r3, -8
		add %r1, -8
		lsh %r2, 3
	loop:
		mov %r4, %r3
		add %r4, %r2
		mov %r5, %r1
		add %r5, %r2
		ldxdw %r5, [%r5+0]
		add %r5, 1
		stxdw [%r4+0], %r5
		add %r2, -8
		jne %r2, 0, loop
	done:
		mov %r0, 1
		exit`},
	// nulls[i*8 + j] for i < 256, j < width <= 8.
	{name: "nested loops", ok: true, maxSteps: 600, prog: `
		ldxdw %r2, [%r1+16]
		ldxw %r3, [%r1+28]
		mov %r0, 0
		mov %r4, 0
	outer:
		mov %r5, 0
		jge %r5, %r3, next
	inner:
		mov %r6, %r4
		lsh %r6, 3
		add %r6, %r5
		mov %r7, %r2
		add %r7, %r6
		ldxb %r8, [%r7+0]
		or %r0, %r8
		add %r5, 1
		jlt %r5, %r3, inner
	next:
		add %r4, 1
		jlt %r4, 256, outer
		and %r0, 1
		exit`},
	{name: "nested loops, outer one too far", want: verifier.CodeOutOfBounds, prog: `
		ldxdw %r2, [%r1+16]
		ldxw %r3, [%r1+28]
		mov %r0, 0
		mov %r4, 0
	outer:
		mov %r5, 0
		jge %r5, %r3, next
	inner:
		mov %r6, %r4
		lsh %r6, 3
		add %r6, %r5
		mov %r7, %r2
		add %r7, %r6
		ldxb %r8, [%r7+0]
		or %r0, %r8
		add %r5, 1
		jlt %r5, %r3, inner
	next:
		add %r4, 1
		jle %r4, 256, outer
		and %r0, 1
		exit`},
	// A 32-bit counter, as C's __u32 compiles with alu32.
	{name: "32-bit counter", ok: true, maxSteps: 100, prog: `
		ldxdw %r2, [%r1+16]
		ldxw %r3, [%r1+24]
		mov32 %r4, 0
		mov %r0, 0
		jeq %r3, 0, done
	loop:
		mov %r5, %r2
		add %r5, %r4
		ldxb %r6, [%r5+0]
		or %r0, %r6
		add32 %r4, 1
		jlt %r4, %r3, loop
	done:
		and %r0, 1
		exit`},
	// Never ends: widened, accepted, and stopped by the run-time budget
	// (TestWidenedLoopRunsOutOfBudget).
	{name: "infinite counting loop", ok: true, maxSteps: 100, prog: infiniteLoop},
	// Repeats its state exactly: rejected.
	{name: "infinite loop that changes nothing", want: verifier.CodeInfiniteLoop, prog: `
		ldxw %r2, [%r1+24]
	loop:
		jgt %r2, 4096, out
		ja loop
	out:
		mov %r0, 0
		exit`},
}

const infiniteLoop = `
		mov %r0, 0
	loop:
		add %r0, 1
		ja loop`

func TestWidenedLoops(t *testing.T) {
	for _, c := range widenCases {
		t.Run(c.name, func(t *testing.T) {
			res, err := verifier.Verify(mustAssemble(c.prog), verifier.Config{Type: rowsType})
			var ve *verifier.Error
			switch {
			case c.ok && err != nil:
				errors.As(err, &ve)
				t.Fatalf("rejected: %v\n%s", err, logOf(ve))
			case c.ok && res.Processed > c.maxSteps:
				t.Fatalf("processed %d instructions, more than %d: the loop was not widened", res.Processed, c.maxSteps)
			case c.ok:
			case !errors.As(err, &ve):
				t.Fatalf("got %v, want a rejection (%s)", err, c.want)
			case ve.Code != c.want:
				t.Fatalf("got %s: %v, want %s\n%s", ve.Code, err, c.want, ve.Log)
			}
		})
	}
}

// TestNoWiden: with Config.NoWiden, loops are walked iteration by
// iteration: a bounded loop is accepted after its iterations, one whose
// end is not proven hits the complexity limit.
func TestNoWiden(t *testing.T) {
	for _, c := range []struct {
		name  string
		prog  string
		steps int // at least, when accepted
		want  verifier.Code
	}{
		{"bounded", `
			ldxdw %r2, [%r1+16]
			mov %r3, 0
			mov %r0, 0
		loop:
			mov %r5, %r2
			add %r5, %r3
			ldxb %r6, [%r5+0]
			or %r0, %r6
			add %r3, 1
			jlt %r3, 100, loop
			and %r0, 1
			exit`, 100 * 6, 0},
		{"unbounded", infiniteLoop, 0, verifier.CodeTooComplex},
	} {
		res, err := verifier.Verify(mustAssemble(c.prog), verifier.Config{Type: rowsType, NoWiden: true, MaxSteps: 20_000})
		var ve *verifier.Error
		switch {
		case c.want == 0 && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want == 0 && res.Processed < c.steps:
			t.Errorf("%s: processed %d instructions, fewer than %d: the loop was widened", c.name, res.Processed, c.steps)
		case c.want != 0 && (!errors.As(err, &ve) || ve.Code != c.want):
			t.Errorf("%s: got %v, want %s", c.name, err, c.want)
		}
	}
}

// TestWidenedLoopRunsOutOfBudget: a loop the verifier accepts without
// proving it ends is stopped by the instruction budget on every engine.
func TestWidenedLoopRunsOutOfBudget(t *testing.T) {
	engines := []ebpf.Engine{ebpf.EngineInterpreter}
	if ebpf.JITSupported() {
		engines = append(engines, ebpf.EngineJIT)
	}
	for _, e := range engines {
		t.Run(e.String(), func(t *testing.T) {
			p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "spin", Instructions: mustAssemble(infiniteLoop)},
				&ebpf.ProgramOptions{Engine: e, Budget: 10_000})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.Run(nil); !errors.Is(err, ebpf.ErrBudget) {
				t.Fatalf("run = %v, want ErrBudget", err)
			}
		})
	}
}

// rowsRun is the memory of one run of a rowsType program: each region
// followed by a guard that belongs to no region, so that an access past
// a region's end fails the run-time check.
type rowsRun struct {
	ctx  []byte
	opts ebpf.RunOptions
}

func newRowsRun(rng *rand.Rand, count, width uint32) *rowsRun {
	r := &rowsRun{ctx: make([]byte, 32)}
	for i, size := range []int{rows * 8, rows * 8, rows} {
		buf := make([]byte, size+64)
		for j := range buf {
			buf[j] = byte(rng.Uint32())
		}
		binary.LittleEndian.PutUint64(r.ctx[8*i:], uint64(uintptr(unsafe.Pointer(&buf[0]))))
		r.opts.Memory = append(r.opts.Memory, ebpf.Memory{Data: buf[:size], Writable: i == 1})
	}
	binary.LittleEndian.PutUint32(r.ctx[24:], count)
	binary.LittleEndian.PutUint32(r.ctx[28:], width)
	return r
}

// randomLoop returns a loop over a region put together from random
// parts, some safe, some not: a counter starting at a constant or a
// context field, counting up or down by a step in 64 or 32 bits, maybe
// kept on the stack; a bound that is a constant or a context field, and a
// condition; an access (a load or a store of 1 to 8 bytes at an offset)
// through an index scaled from the counter or through a pointer advanced
// with it; maybe a data-dependent early exit, maybe an inner loop.
func randomLoop(rng *rand.Rand) string {
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	var b strings.Builder
	emit := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	region := rng.IntN(3)
	emit("ldxdw %%r2, [%%r1+%d]", 8*region)
	emit("mov %%r0, 0")
	down := rng.IntN(4) == 0
	alu := pick("", "", "32")
	// r3: the bound (counting up) or the start (counting down).
	switch rng.IntN(3) {
	case 0:
		emit("ldxw %%r3, [%%r1+24]")
	case 1:
		emit("ldxw %%r3, [%%r1+28]")
	default:
		emit("mov %%r3, %d", rng.IntN(rows+8))
	}
	if down {
		emit("mov%s %%r4, %%r3", alu)
		emit("jeq %%r4, 0, done")
	} else {
		emit("mov%s %%r4, %s", alu, pick("0", "0", "1", "2"))
		emit("jge %%r4, %%r3, done")
	}
	spill := rng.IntN(4) == 0
	if spill {
		emit("stxdw [%%r10-16], %%r4")
	}
	emit("loop:")
	if spill {
		emit("ldxdw %%r4, [%%r10-16]")
	}
	if down {
		emit("sub%s %%r4, %s", alu, pick("1", "1", "2"))
	}
	if rng.IntN(2) == 0 {
		emit("mov %%r5, %%r4")
		emit("lsh %%r5, %s", pick("0", "0", "3", "2"))
		emit("mov %%r6, %%r2")
		emit("add %%r6, %%r5")
	} else {
		emit("mov %%r6, %%r2")
	}
	size, off := pick("b", "h", "w", "dw"), pick("+0", "+0", "+1", "+7", "-1")
	if region == 1 && rng.IntN(2) == 0 {
		emit("stx%s [%%r6%s], %%r4", size, off)
	} else {
		emit("ldx%s %%r7, [%%r6%s]", size, off)
		emit("or %%r0, %%r7")
		if rng.IntN(4) == 0 {
			emit("jeq %%r7, 7, done")
		}
	}
	if rng.IntN(5) == 0 {
		// An inner loop over the next few bytes of the same row.
		emit("mov %%r8, 0")
		emit("inner:")
		emit("mov %%r9, %%r6")
		emit("add %%r9, %%r8")
		emit("ldxb %%r7, [%%r9+0]")
		emit("add %%r8, 1")
		emit("jlt %%r8, %s, inner", pick("2", "4", "8", "9"))
	}
	emit("add %%r2, %s", pick("0", "0", "1", "8"))
	if down {
		if spill {
			emit("stxdw [%%r10-16], %%r4")
		}
		emit("%s %%r4, %s, loop", pick("jne", "jgt", "jsgt"), pick("0", "0", "1"))
	} else {
		emit("add%s %%r4, %s", alu, pick("1", "1", "2"))
		if spill {
			emit("stxdw [%%r10-16], %%r4")
		}
		emit("%s %%r4, %%r3, loop", pick("jlt", "jle", "jne"))
	}
	emit("done:")
	emit("and %%r0, 1")
	emit("exit")
	return b.String()
}

// runsClean runs insns with every memory access checked on guarded memory
// for several row counts, and reports whether no run faulted (running out
// of budget is no fault). A verified program (verified) must not fault.
func runsClean(t *testing.T, rng *rand.Rand, insns asm.Instructions, verified bool) bool {
	t.Helper()
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "loop", Instructions: insns},
		&ebpf.ProgramOptions{Type: rowsType, Engine: ebpf.EngineInterpreter, RuntimeChecks: true, Budget: 100_000, Unverified: !verified})
	if err != nil {
		t.Fatalf("%v\n%s", err, insns.String())
	}
	for _, count := range []uint32{0, 1, 2, uint32(rng.IntN(rows + 1)), rows - 1, rows} {
		run := newRowsRun(rng, count, uint32(rng.IntN(9)))
		if _, err := p.NewRunner().RunWith(run.ctx, run.opts); err != nil && !errors.Is(err, ebpf.ErrBudget) {
			if verified {
				t.Fatalf("count %d: verified, but the run failed: %v\n%s", count, err, insns.String())
			}
			return false
		}
	}
	return true
}

// TestWidenedLoopsRandom checks widening against execution: random loops
// over regions are verified, and each accepted one runs with every memory
// access checked at run time (RuntimeChecks), on memory whose regions are
// followed by guards, for several row counts. An access the verifier
// proved but that leaves its region fails the test. WIDEN_SEED replays a
// seed; WIDEN_SHOW=1 logs the rejected programs that ran without a fault
// (the verifier's imprecision, or inputs not tried).
func TestWidenedLoopsRandom(t *testing.T) {
	seed := rand.Uint64()
	if s := os.Getenv("WIDEN_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("WIDEN_SEED=%q: %v", s, err)
		}
	}
	t.Logf("seed %d (WIDEN_SEED replays it)", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	accepted, rejected, safeRejected := 0, 0, 0
	for range 300 {
		src := randomLoop(rng)
		insns := mustAssemble(src)
		if _, err := verifier.Verify(insns, verifier.Config{Type: rowsType}); err != nil {
			var ve *verifier.Error
			if !errors.As(err, &ve) {
				t.Fatalf("%v\n%s", err, src)
			}
			rejected++
			if runsClean(t, rng, insns, false) {
				safeRejected++
				if os.Getenv("WIDEN_SHOW") != "" {
					t.Logf("rejected: %v\n%s", err, src)
				}
			}
			continue
		}
		accepted++
		runsClean(t, rng, insns, true)
	}
	t.Logf("%d accepted, %d rejected (%d of which ran without a fault on every input tried)", accepted, rejected, safeRejected)
	if accepted < 30 || rejected < 30 {
		t.Errorf("%d accepted, %d rejected: the generator no longer makes both", accepted, rejected)
	}
}
