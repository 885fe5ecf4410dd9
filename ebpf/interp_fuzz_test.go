package ebpf_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/conformance"
	"github.com/bpfdb/bpfdb/ebpf/maps"
)

// fuzzBudget bounds every run of FuzzRun, so that no input runs for long.
const fuzzBudget = 10_000

// fuzzHelpers are the helpers FuzzRun programs may call: the generic map
// helpers 1-3, the conformance suite's identity helper 5 (so the suite's
// programs run as written), the log helper 6 and the random helper 7.
var fuzzHelpers = sync.OnceValue(func() *ebpf.Helpers {
	def, test := ebpf.DefaultHelpers(), conformance.TestHelpers()
	h := ebpf.NewHelpers()
	for _, src := range []struct {
		from *ebpf.Helpers
		id   int32
	}{{def, 1}, {def, 2}, {def, 3}, {test, 5}, {def, 6}, {def, 7}} {
		hp, ok := src.from.Lookup(src.id)
		if !ok {
			panic(fmt.Sprintf("BUG: helper %d missing", src.id))
		}
		if err := h.Register(hp); err != nil {
			panic("BUG: " + err.Error())
		}
	}
	return h
})

// fuzzMapNames is the map table of FuzzRun programs: `lddw %rN, map 0` is an
// array (4-byte keys, 16-byte values, 4 entries) whose value 0 is also
// reachable with `mapvalue 0+off`, `map 1` a hash map (8-byte keys and
// values, 4 entries, holding key 1) and `map 2` an array that is read-only
// to programs (as .rodata is).
var fuzzMapNames = []string{"array", "hash", "rodata"}

func fuzzMaps(t *testing.T) map[string]maps.Map {
	array, err := maps.New(&maps.Spec{Name: "array", Type: maps.Array, KeySize: 4, ValueSize: 16, MaxEntries: 4}, maps.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hash, err := maps.New(&maps.Spec{Name: "hash", Type: maps.Hash, KeySize: 8, ValueSize: 8, MaxEntries: 4,
		Contents: []maps.Entry{{Key: []byte{1, 0, 0, 0, 0, 0, 0, 0}, Value: []byte{2, 0, 0, 0, 0, 0, 0, 0}}}}, maps.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rodata, err := maps.New(&maps.Spec{Name: "rodata", Type: maps.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1, ReadOnlyProg: true,
		Contents: []maps.Entry{{Key: []byte{0, 0, 0, 0}, Value: []byte{1, 2, 3, 4, 5, 6, 7, 8}}}}, maps.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]maps.Map{"array": array, "hash": hash, "rodata": rodata}
}

// guardLen is the number of guard bytes on each side of a guarded context.
const guardLen = 64

// hostLen is the size of the read-only host region FuzzRun places right
// after the context.
const hostLen = 16

// guarded is a context with guard bytes before and after it in the same
// allocation: a program may write only the middle, so the guard bytes
// prove that stores are bounded.
//
//	0          guardLen         guardLen+n        2*guardLen+n
//	+----------+----------------+-----------------+
//	|  guard   |  ctx (n bytes) |      guard      |
//	+----------+----------------+-----------------+
type guarded struct {
	buf []byte
	n   int
}

func guardByte(i int) byte { return 0xa5 ^ byte(i*7) }

func newGuarded(ctx []byte) guarded {
	g := guarded{buf: make([]byte, 2*guardLen+len(ctx)), n: len(ctx)}
	for i := range g.buf {
		g.buf[i] = guardByte(i)
	}
	copy(g.buf[guardLen:], ctx)
	return g
}

// ctx returns the middle, with its capacity cut so that nothing the run
// is given reaches the guard bytes.
func (g guarded) ctx() []byte { return g.buf[guardLen : guardLen+g.n : guardLen+g.n] }

// check returns an error naming the first changed guard byte.
func (g guarded) check() error {
	for i, b := range g.buf {
		if i >= guardLen && i < guardLen+g.n {
			continue
		}
		if b != guardByte(i) {
			return fmt.Errorf("guard byte at ctx%+d changed from %#x to %#x", i-guardLen, guardByte(i), b)
		}
	}
	return nil
}

// checkRun returns an error if a run broke an invariant: a failed run must
// end with a *RunError wrapping ErrRun that names a slot of the program (or
// the one past its end), and a memory error found by the interpreter must
// name the same slot.
func checkRun(err error, slots int) error {
	if err == nil {
		return nil
	}
	if !errors.Is(err, ebpf.ErrRun) {
		return fmt.Errorf("error %v does not wrap ErrRun", err)
	}
	var re *ebpf.RunError
	if !errors.As(err, &re) {
		return fmt.Errorf("error %v is not a *RunError", err)
	}
	if re.PC < 0 || re.PC > slots {
		return fmt.Errorf("error %v names slot %d of a %d-slot program", err, re.PC, slots)
	}
	if !strings.HasPrefix(err.Error(), fmt.Sprintf("instruction %d", re.PC)) {
		return fmt.Errorf("error %q does not start with its instruction", err)
	}
	var me *ebpf.MemoryError
	if errors.As(err, &me) && me.PC != -1 && me.PC != re.PC {
		return fmt.Errorf("memory error at instruction %d inside a run error at %d", me.PC, re.PC)
	}
	return nil
}

// usesMaps reports whether the program loads a map handle or a map value
// address.
func usesMaps(insns asm.Instructions) bool {
	for _, ins := range insns {
		if ins.IsWide() && ins.Src != asm.PseudoNone {
			return true
		}
	}
	return false
}

// runGuarded runs the program on a guarded copy of ctx and checks the
// invariants of the run and the guard bytes.
func runGuarded(run func([]byte) (uint64, error), ctx []byte, slots int) error {
	g := newGuarded(ctx)
	_, err := run(g.ctx())
	if e := checkRun(err, slots); e != nil {
		return e
	}
	return g.check()
}

// FuzzRun decodes random bytecode and runs what loads on a random context,
// through Program.Run, a Runner (twice on the same context and once on a
// shorter one, to exercise state kept between runs), RunWith with read-only
// host memory right after the context, and from two goroutines at once. A
// run must never panic, a failed run must return a *RunError wrapping
// ErrRun that names a slot of the program, and no store may reach outside
// the context (guard bytes on both sides) or into read-only memory. Load
// errors are fine.
//
// Programs may use the map table of fuzzMapNames and the helpers of
// fuzzHelpers. The seeds are every conformance program with its memory, the
// bench programs and hand-written edge cases.
func FuzzRun(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(conformanceDir, "*.data"))
	bench, _ := filepath.Glob(filepath.Join(benchDir, "*.data"))
	for _, file := range append(files, bench...) {
		ct, err := conformance.ParseFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(ct.Program.Encode(), append([]byte{}, ct.Mem...))
	}
	for _, s := range fuzzSeeds {
		insns, err := asm.Assemble(s.src)
		if err != nil {
			f.Fatalf("seed %q: %v", s.src, err)
		}
		f.Add(insns.Encode(), s.ctx)
	}
	f.Fuzz(func(t *testing.T, code, ctx []byte) {
		insns, err := asm.Decode(code)
		if err != nil {
			return
		}
		// Unverified: FuzzRun throws arbitrary programs at the
		// interpreter's run-time checks, which must hold on their own.
		p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "fuzz", Instructions: insns, MapNames: fuzzMapNames},
			&ebpf.ProgramOptions{Unverified: true, Helpers: fuzzHelpers(), Maps: fuzzMaps(t), Budget: fuzzBudget})
		if err != nil {
			return
		}
		slots := insns.Slots()
		if err := runGuarded(p.Run, ctx, slots); err != nil {
			t.Fatalf("Program.Run: %v\n%s", err, insns)
		}

		r := p.NewRunner()
		g := newGuarded(ctx)
		for i := range 2 {
			_, err := r.Run(g.ctx())
			if e := checkRun(err, slots); e != nil {
				t.Fatalf("Runner.Run %d: %v\n%s", i, e, insns)
			}
		}
		if e := g.check(); e != nil {
			t.Fatalf("Runner.Run: %v\n%s", e, insns)
		}
		if g.n > 0 {
			// Same start, one byte shorter: the last byte becomes a guard.
			short := guarded{buf: g.buf, n: g.n - 1}
			short.buf[guardLen+short.n] = guardByte(guardLen + short.n)
			_, err := r.Run(short.ctx())
			if e := checkRun(err, slots); e != nil {
				t.Fatalf("Runner.Run on a shorter context: %v\n%s", e, insns)
			}
			if e := short.check(); e != nil {
				t.Fatalf("Runner.Run on a shorter context: %v\n%s", e, insns)
			}
		}

		// Read-only host memory right after the context: a store that
		// crosses the end of the context must fault instead of writing it.
		withHost := append(append([]byte{}, ctx...), make([]byte, hostLen)...)
		for i := range hostLen {
			withHost[len(ctx)+i] = byte(0xc0 + i)
		}
		g = newGuarded(withHost)
		host := g.buf[guardLen+len(ctx) : guardLen+len(withHost)]
		_, err = p.RunWith(g.buf[guardLen:guardLen+len(ctx):guardLen+len(ctx)], ebpf.RunOptions{Memory: []ebpf.Memory{{Data: host}}})
		if e := checkRun(err, slots); e != nil {
			t.Fatalf("RunWith host memory: %v\n%s", e, insns)
		}
		if e := g.check(); e != nil {
			t.Fatalf("RunWith host memory: %v\n%s", e, insns)
		}
		for i, b := range host {
			if b != byte(0xc0+i) {
				t.Fatalf("RunWith: read-only host memory byte %d changed to %#x\n%s", i, b, insns)
			}
		}

		// Concurrent runs share the program, and so its maps: a program that
		// stores into map memory from two goroutines races like it would in
		// Linux, which the race detector would report. Run concurrently only
		// programs without map references.
		if usesMaps(insns) {
			return
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Go(func() { errs[i] = runGuarded(p.Run, ctx, slots) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("concurrent run %d: %v\n%s", i, err, insns)
			}
		}
	})
}

// fuzzSeeds are hand-written FuzzRun seeds: the edges of the stack and the
// context, map handles and values, every helper, atomics, local calls and
// budget exhaustion.
var fuzzSeeds = []struct {
	src string
	ctx []byte
}{
	{"stb [%r10-1], 1\nstdw [%r10-8], 2\nstdw [%r10-512], 3\nldxdw %r0, [%r10-512]\nldxb %r1, [%r10-1]\nadd %r0, %r1\nexit", nil},
	{"stdw [%r10-4096], 3\nldxdw %r0, [%r10-4096]\nexit", nil},
	{"ldxb %r0, [%r10+0]\nexit", nil},
	{"stb [%r10-4097], 1\nexit", nil},
	{"ldxdw %r0, [%r1+0]\nldxb %r2, [%r1+7]\nadd %r0, %r2\nexit", make([]byte, 8)},
	{"stxdw [%r1+0], %r1\nldxdw %r0, [%r1+1]\nexit", make([]byte, 8)},
	{"stb [%r1-1], 1\nexit", make([]byte, 4)},
	{"sth [%r1+3], 1\nexit", make([]byte, 4)},
	{"ldxsw %r0, [%r1+0]\nldxsh %r2, [%r1+4]\nldxsb %r3, [%r1+6]\nadd %r0, %r2\nadd %r0, %r3\nexit", []byte{0xff, 0xff, 0xff, 0xff, 0x00, 0x80, 0x80, 0}},
	{"mov %r6, %r1\nadd %r6, %r2\nldxb %r0, [%r6-1]\nstb [%r6+0], 1\nexit", []byte{1, 2, 3}},
	// Stores of every width across the end of a context cached as the hot
	// region.
	{"stb [%r1+0], 0\nstb [%r1+16], 1\nexit", make([]byte, 16)},
	{"stb [%r1+0], 0\nsth [%r1+15], 1\nexit", make([]byte, 16)},
	{"stb [%r1+0], 0\nstw [%r1+13], 1\nexit", make([]byte, 16)},
	{"stb [%r1+0], 0\nstdw [%r1+9], 1\nexit", make([]byte, 16)},
	{"stb [%r1+0], 0\nstxb [%r1+16], %r1\nexit", make([]byte, 16)},
	{"stb [%r1+0], 0\nstxh [%r1+15], %r1\nexit", make([]byte, 16)},
	{"stb [%r1+0], 0\nstxw [%r1+13], %r1\nexit", make([]byte, 16)},
	{"stb [%r1+0], 0\nstxdw [%r1+9], %r1\nexit", make([]byte, 16)},
	// Maps: lookup, update, delete, a value pointer and a map value address.
	{`stdw [%r10-8], 1
lddw %r1, map 1
mov %r2, %r10
add %r2, -8
call 1
jeq %r0, 0, +3
ldxdw %r3, [%r0+0]
stxdw [%r0+0], %r3
lock add [%r0+0], %r3
stdw [%r10-16], 5
lddw %r1, map 1
mov %r2, %r10
add %r2, -8
mov %r3, %r10
add %r3, -16
mov %r4, 0
call 2
lddw %r1, map 1
mov %r2, %r10
add %r2, -8
call 3
exit`, nil},
	{"stw [%r10-4], 3\nlddw %r1, map 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, +1\nstdw [%r0+8], -1\nexit", nil},
	{"lddw %r1, mapvalue 0+8\nldxdw %r0, [%r1+0]\nstdw [%r1+8], 7\nmov %r2, 1\nlock fetch add [%r1+0], %r2\nlock cmpxchg32 [%r1-8], %r2\nexit", nil},
	{"lddw %r1, mapvalue 0+15\nstb [%r1+0], 1\nldxdw %r0, [%r1+49]\nexit", nil},
	{"lddw %r1, map 0\nldxb %r0, [%r1+0]\nexit", nil},
	{"lddw %r1, map 0\nmov %r2, %r10\ncall 1\nexit", nil},
	// Helpers: identity, callx, log, random, an unknown callx id.
	{"mov %r1, -1\ncall 5\nmov %r2, 5\ncall %r2\nexit", nil},
	{"stw [%r10-4], 0x7825\nmov %r1, %r10\nadd %r1, -4\nmov %r2, 4\nmov %r3, 42\ncall 6\ncall 7\nexit", nil},
	{"mov %r1, %r10\nmov %r2, 256\ncall 6\nexit", nil},
	{"mov %r2, 99\ncall %r2\nexit", nil},
	{"mov %r1, 0\nmov %r2, 1\ncall %r2\nexit", nil},
	// The read-only map and the read-only host memory after the context.
	{"lddw %r1, mapvalue 2+0\nldxdw %r0, [%r1+0]\nstb [%r1+7], 1\nexit", nil},
	{"lddw %r1, map 2\nstw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r2\nmov %r4, 0\ncall 2\nexit", nil},
	{"mov %r3, %r1\nadd %r3, %r2\nldxdw %r0, [%r3+0]\nldxw %r4, [%r3-2]\nstb [%r3+0], 1\nexit", make([]byte, 8)},
	// Atomics on the stack and the context, aligned and not.
	{"stdw [%r10-8], 1\nmov %r1, 2\nlock fetch xor [%r10-8], %r1\nmov %r0, 1\nlock cmpxchg32 [%r10-4], %r1\nlock xchg [%r10-15], %r1\nexit", nil},
	{"mov %r2, 1\nlock add32 [%r1+0], %r2\nlock fetch or [%r1+8], %r2\nexit", make([]byte, 16)},
	// Local calls, recursion and the budget.
	{"mov %r6, 1\ncall local f\nadd %r0, %r6\nexit\nf:\nmov %r6, 9\nstdw [%r10-512], 1\nmov %r0, 2\nexit", nil},
	{"f:\nstb [%r10-1], 1\ncall local f\nexit", nil},
	{"L:\nadd %r0, 1\nja L", nil},
	{"L:\ncall local f\nja L\nf:\n" + strings.Repeat("add %r0, 1\n", 100) + "exit", nil},
	{"mov %r0, 0\nL:\nadd %r0, 1\njlt %r0, 100, L\nlddw %r1, 0x8000000000000000\nsdiv %r1, -1\nsmod32 %r0, 0\ndiv %r0, 0\nexit", nil},
	{"ja32 +1\nexit\nlddw %r0, 1\nexit", nil},
	{"mov %r0, 1", nil},
}

// region is where TestMemoryEdges accesses memory: base register, length
// and where the region starts relative to the base register.
type region struct {
	name  string
	base  asm.Register
	len   int
	start int // offset of the region's first byte from base
}

var (
	stackRegion = region{"stack", asm.R10, 4096, -4096} // 8 frames of 512 bytes below r10
	ctxRegion   = region{"ctx", asm.R1, 16, 0}
	smallCtx    = region{"ctx5", asm.R1, 5, 0} // shorter than 8: never cached as hot
)

// memOp is an access kind of TestMemoryEdges.
type memOp struct {
	name  string
	store bool
	mode  asm.Mode // MEM or MEMSX for loads
	class asm.Class
}

var memOps = []memOp{
	{"ldx", false, asm.ModeMEM, asm.ClassLDX},
	{"ldxs", false, asm.ModeMEMSX, asm.ClassLDX},
	{"st", true, asm.ModeMEM, asm.ClassST},
	{"stx", true, asm.ModeMEM, asm.ClassSTX},
}

const (
	edgeStoreValue = 0xf1e2_d3c4_b5a6_9788 // stx source: negative in every width
	edgeStoreImm   = int32(-0x7564_5343)   // st immediate: 0x8a9bacbd
)

// ctxPattern is the initial context: a mix of bytes with and without the
// sign bit.
func ctxPattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(0x81 + 0x13*i)
	}
	return b
}

// widthValue returns the little-endian value of b (1, 2, 4 or 8 bytes),
// zero- or sign-extended.
func widthValue(b []byte, signed bool) uint64 {
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	if signed {
		return uint64(sext(v, uint(8*len(b))))
	}
	return v
}

// TestMemoryEdges performs loads (zero- and sign-extending) and stores
// (immediate and register) of every width at the first and last valid byte
// of the stack and of the context, and one byte outside either end. Each is
// done with the region cached as the interpreter's hot region and not, so
// that both the fast loop's and the slow loop's bounds checks are tested.
// Inside, the value loaded or stored must be exact and nothing else may
// change; outside, the run must fail with a *MemoryError naming the
// instruction, address, size and direction, and change nothing.
func TestMemoryEdges(t *testing.T) {
	sizes := []asm.Size{asm.SizeB, asm.SizeH, asm.SizeW, asm.SizeDW}
	cases := 0
	for _, reg := range []region{stackRegion, ctxRegion, smallCtx} {
		for _, op := range memOps {
			for _, size := range sizes {
				if op.mode == asm.ModeMEMSX && size == asm.SizeDW {
					continue
				}
				w := size.Bytes()
				positions := []int{0, reg.len - w, -1, reg.len - w + 1, reg.len, -w}
				if reg == stackRegion {
					positions = append(positions, reg.len-512)
				}
				for _, rel := range positions {
					for _, warm := range []bool{false, true} {
						name := fmt.Sprintf("%s/%s%s/%s%+d/warm=%v", reg.name, op.name, size, reg.name, rel, warm)
						t.Run(name, func(t *testing.T) { testMemoryEdge(t, reg, op, size, rel, warm) })
						cases++
					}
				}
			}
		}
	}
	t.Logf("%d cases", cases)
}

func testMemoryEdge(t *testing.T, reg region, op memOp, size asm.Size, rel int, warm bool) {
	w := size.Bytes()
	valid := rel >= 0 && rel+w <= reg.len
	off := int16(reg.start + rel)
	memIns := func(o memOp, sz asm.Size, base asm.Register, off int16) asm.Instruction {
		ins := asm.Instruction{OpCode: asm.MemOpCode(o.class, o.mode, sz), Offset: off}
		switch {
		case !o.store:
			ins.Dst, ins.Src = asm.R0, base
		case o.class == asm.ClassST:
			ins.Dst, ins.Constant = base, int64(edgeStoreImm)
		default:
			ins.Dst, ins.Src = base, asm.R6
		}
		return ins
	}
	ldx, stx := memOps[0], memOps[3]
	kind := ldx
	if op.store {
		kind = stx
	}
	insns := asm.Instructions{lddw(asm.R6, edgeStoreValue)}
	// Make the region under test the hot region of its direction (warm),
	// or the other region hot (cold): a same-direction access elsewhere.
	// Stores of the context write back its pattern byte, so that its
	// contents stay known.
	hot := reg
	if !warm {
		hot = stackRegion
		if reg == stackRegion {
			hot = ctxRegion
		}
	}
	if hot == stackRegion || !op.store {
		insns = append(insns, memIns(kind, asm.SizeB, hot.base, int16(hot.start)))
	} else {
		insns = append(insns, asm.Instruction{OpCode: asm.MemOpCode(asm.ClassST, asm.ModeMEM, asm.SizeB), Dst: hot.base,
			Offset: int16(hot.start), Constant: int64(int8(ctxPattern(1)[0]))})
	}
	if reg == stackRegion && !op.store && valid {
		// Give the stack bytes a known value, through the store cache only.
		insns = append(insns, memIns(stx, size, reg.base, off))
	}
	insns = append(insns, asm.Instruction{OpCode: asm.ALUOpCode(asm.ClassALU64, asm.Mov, asm.SourceImm), Dst: asm.R0, Constant: -1})
	pc := insns.Slots()
	access := memIns(op, size, reg.base, off)
	insns = append(insns, access)
	if reg == stackRegion && op.store && valid {
		insns = append(insns, memIns(ldx, size, reg.base, off))
	}
	insns = append(insns, exitIns)

	ctxLen := ctxRegion.len
	if reg == smallCtx {
		ctxLen = smallCtx.len
	}
	g := newGuarded(ctxPattern(ctxLen))
	ctx := g.ctx()
	r0, err := loadInsns(t, insns).Run(ctx)
	if e := g.check(); e != nil {
		t.Error(e)
	}
	defer func() {
		if t.Failed() {
			t.Logf("program:\n%s", insns)
		}
	}()

	stored := uint64(edgeStoreValue)
	if op.class == asm.ClassST {
		imm := edgeStoreImm // sign-extended by the store
		stored = uint64(int64(imm))
	}
	var storedBytes [8]byte
	binary.LittleEndian.PutUint64(storedBytes[:], stored)
	wantCtx := ctxPattern(ctxLen)
	if !valid {
		var me *ebpf.MemoryError
		var re *ebpf.RunError
		if !errors.As(err, &me) || !errors.As(err, &re) {
			t.Fatalf("r0 = %#x, err = %v; want a memory error at instruction %d", r0, err, pc)
		}
		if re.PC != pc || me.PC != pc || me.Size != uint64(w) || me.Write != op.store || me.ReadOnly {
			t.Errorf("error %v (%+v at instruction %d); want a %d-byte %s at instruction %d", err, *me, re.PC, w, access, pc)
		}
		if reg != stackRegion && me.Addr != addrOf(ctx)+uint64(int64(off)) {
			t.Errorf("fault address %#x, want ctx%+d = %#x", me.Addr, off, addrOf(ctx)+uint64(int64(off)))
		}
		if want := fmt.Sprintf("instruction %d (%s): ", pc, access); !strings.HasPrefix(err.Error(), want) {
			t.Errorf("error %q does not start with %q", err, want)
		}
	} else {
		if err != nil {
			t.Fatalf("%s: %v", access, err)
		}
		var want uint64
		switch {
		case !op.store && reg == stackRegion:
			want = widthValue(storedBytes[:w], op.mode == asm.ModeMEMSX)
		case !op.store:
			want = widthValue(wantCtx[rel:rel+w], op.mode == asm.ModeMEMSX)
		case reg == stackRegion:
			want = widthValue(storedBytes[:w], false) // loaded back by ldx
		default:
			want = r0 // -1 from the mov; checked through the context below
			copy(wantCtx[rel:], storedBytes[:w])
		}
		if r0 != want {
			t.Errorf("%s: r0 = %#x, want %#x", access, r0, want)
		}
	}
	if string(ctx) != string(wantCtx) {
		t.Errorf("context is %x, want %x", ctx, wantCtx)
	}
}

// TestSignExtendingLoads pins the extension of every load width on both
// sides of the sign bit, in the slow loop (first access to the context)
// and the fast loop (second access). r0 starts as all ones, so a load that
// fails to clear the high bits shows.
func TestSignExtendingLoads(t *testing.T) {
	tests := []struct {
		ins  string
		mem  []byte
		want uint64
	}{
		{"ldxb", []byte{0x80}, 0x80},
		{"ldxsb", []byte{0x80}, 0xffff_ffff_ffff_ff80},
		{"ldxsb", []byte{0x7f}, 0x7f},
		{"ldxh", []byte{0x00, 0x80}, 0x8000},
		{"ldxsh", []byte{0x00, 0x80}, 0xffff_ffff_ffff_8000},
		{"ldxsh", []byte{0xff, 0x7f}, 0x7fff},
		{"ldxw", []byte{0, 0, 0, 0x80}, 0x8000_0000},
		{"ldxsw", []byte{0, 0, 0, 0x80}, 0xffff_ffff_8000_0000},
		{"ldxsw", []byte{0xff, 0xff, 0xff, 0x7f}, 0x7fff_ffff},
		{"ldxsw", []byte{0xff, 0xff, 0xff, 0xff}, 0xffff_ffff_ffff_ffff},
		{"ldxdw", []byte{1, 2, 3, 4, 5, 6, 7, 0x88}, 0x8807_0605_0403_0201},
	}
	for _, tt := range tests {
		for _, warm := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s %x warm=%v", tt.ins, tt.mem, warm), func(t *testing.T) {
				// The value sits at offset 8 of a 16-byte context.
				src := "mov %r0, -1\n"
				if warm {
					src += "ldxb %r3, [%r1+0]\n"
				}
				src += tt.ins + " %r0, [%r1+8]\nexit"
				ctx := make([]byte, 16)
				copy(ctx[8:], tt.mem)
				r0, err := load(t, src, nil).Run(ctx)
				if err != nil || r0 != tt.want {
					t.Errorf("r0 = %#x, err = %v; want %#x", r0, err, tt.want)
				}
			})
		}
	}
}

// TestAdjacentRegions: an access must lie inside one region. With a
// writable host region starting right where the context ends, accesses of
// every width on either side of the boundary succeed and those that
// straddle it fault, whichever region is cached as hot.
func TestAdjacentRegions(t *testing.T) {
	const n = 16 // context length; the host region is the next 16 bytes
	sizes := map[string]int{"b": 1, "h": 2, "w": 4, "dw": 8}
	for _, suffix := range []string{"b", "h", "w", "dw"} {
		w := sizes[suffix]
		for _, store := range []bool{false, true} {
			for off := n - w; off <= n; off++ {
				for _, hot := range []string{"none", "ctx", "host"} {
					ins := fmt.Sprintf("ldx%s %%r0, [%%r1%+d]", suffix, off)
					if store {
						ins = fmt.Sprintf("stx%s [%%r1%+d], %%r6", suffix, off)
					}
					t.Run(fmt.Sprintf("%s/hot=%s", ins, hot), func(t *testing.T) {
						src := "lddw %r6, 0x8877665544332211\n"
						switch {
						case hot == "ctx" && store:
							src += "stb [%r1+0], 0\n"
						case hot == "ctx":
							src += "ldxb %r3, [%r1+0]\n"
						case hot == "host" && store:
							src += "stb [%r1+16], 16\n"
						case hot == "host":
							src += "ldxb %r3, [%r1+16]\n"
						}
						src += "mov %r0, 0\n" + ins + "\nexit"
						p := load(t, src, nil)
						buf := make([]byte, 2*n)
						for i := range buf {
							buf[i] = byte(i)
						}
						want := slices.Clone(buf)
						r0, err := p.RunWith(buf[:n:n], ebpf.RunOptions{Memory: []ebpf.Memory{{Data: buf[n:], Writable: true}}})
						straddles := off < n && off+w > n
						if straddles {
							var me *ebpf.MemoryError
							if !errors.As(err, &me) || me.Size != uint64(w) || me.Write != store {
								t.Fatalf("r0 = %#x, err = %v; want a memory error", r0, err)
							}
						} else if err != nil {
							t.Fatal(err)
						}
						switch {
						case straddles:
						case store:
							copy(want[off:off+w], []byte{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}[:w])
						default:
							if v := widthValue(buf[off:off+w], false); r0 != v {
								t.Errorf("r0 = %#x, want %#x", r0, v)
							}
						}
						if !slices.Equal(buf, want) {
							t.Errorf("memory is %x, want %x", buf, want)
						}
					})
				}
			}
		}
	}
}
