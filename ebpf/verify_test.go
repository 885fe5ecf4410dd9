package ebpf_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/conformance"
	"github.com/bpfdb/bpfdb/ebpf/maps"
)

// vfHelpers returns the helpers of the verifier fuzz target: the generic
// ones (1 map lookup, 2 update, 3 delete, 5 time, 6 log, 7 random), with
// time and random replaced by deterministic functions of the same
// prototypes, so that two runs of a program compute the same. Each call
// returns a new registry, with its own log ring.
func vfHelpers() *ebpf.Helpers {
	h := ebpf.NewHelpers()
	var tick uint64
	for _, hp := range ebpf.DefaultHelpers().All() {
		switch hp.ID {
		case ebpf.HelperKtimeGetNs:
			hp.Fn = func(*ebpf.Env, uint64, uint64, uint64, uint64, uint64) (uint64, error) {
				tick += 1000
				return tick, nil
			}
		case ebpf.HelperGetPrandom:
			hp.Fn = func(*ebpf.Env, uint64, uint64, uint64, uint64, uint64) (uint64, error) {
				tick = tick*6364136223846793005 + 1442695040888963407
				return tick >> 32, nil
			}
		}
		if err := h.Register(hp); err != nil {
			panic("BUG: " + err.Error())
		}
	}
	return h
}

// vfVerifyHelpers is one registry of vfHelpers for the verifier, which
// reads only the prototypes.
var vfVerifyHelpers = sync.OnceValue(vfHelpers)

// vfMapSpecs is the fuzz target's map table: "map 0" is a hash map, "map 1"
// an array, "map 2" a read-only array.
var vfMapSpecs = map[string]*maps.Spec{
	"h":  {Name: "h", Type: maps.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 8},
	"a":  {Name: "a", Type: maps.Array, KeySize: 4, ValueSize: 16, MaxEntries: 4},
	"ro": {Name: "ro", Type: maps.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1, ReadOnlyProg: true},
}

var vfMapNames = []string{"h", "a", "ro"}

// vfMaps creates a fresh set of the fuzz target's maps.
func vfMaps(t *testing.T) map[string]maps.Map {
	out := map[string]maps.Map{}
	for name, s := range vfMapSpecs {
		m, err := maps.New(s, maps.Options{})
		if err != nil {
			t.Fatal(err)
		}
		out[name] = m
	}
	return out
}

// vfRun is the observable outcome of one run of a fuzzed program.
type vfRun struct {
	r0 uint64
	// err is the run's error text ("" if none); outOfBudget says whether
	// it wraps ErrBudget.
	err         string
	outOfBudget bool
	// mem is the ctx after the run; maps and log the contents of the maps
	// and of the log ring.
	mem, maps, log string
}

// vfRegions is the memory length vfProgram gives for vfRegionType.
const vfRegions = -1

// vfRegionType is a hook-shaped type: the context's pointer fields lead to
// a writable region "w" and a read-only region "r", each passed with
// exactly its declared size, so that a proof one byte too generous shows
// as a fault of the checked run.
var vfRegionType = &ebpf.ProgramType{
	Name:    "vfregions",
	Regions: []ebpf.RegionSpec{{Name: "w", Size: 32, Writable: true}, {Name: "r", Size: 16}},
	Context: ebpf.Context{Size: 24, Fields: []ebpf.Field{
		{Name: "w", Offset: 0, Size: 8, Kind: ebpf.FieldPointer, Region: "w"},
		{Name: "r", Offset: 8, Size: 8, Kind: ebpf.FieldPointer, Region: "r"},
		{Name: "n", Offset: 16, Size: 8, Writable: true},
	}},
	Return: ebpf.Return{Any: true},
}

// vfType is the program type of a fuzzed program of memory length memLen.
func vfType(memLen int) *ebpf.ProgramType {
	if memLen == vfRegions {
		return vfRegionType
	}
	return ebpf.TestProgramType(memLen)
}

// vfExecute loads spec verified against vfType(memLen) on the engine, with
// the run-time checks of proven accesses skipped or kept, and runs it once
// on fresh maps and a fresh ctx (and regions).
func vfExecute(t *testing.T, spec *ebpf.ProgramSpec, memLen int, engine ebpf.Engine, checks bool) vfRun {
	helpers, ms := vfHelpers(), vfMaps(t)
	p, err := ebpf.NewProgram(spec, &ebpf.ProgramOptions{Type: vfType(memLen), Helpers: helpers,
		Maps: ms, Budget: 100_000_000, RuntimeChecks: checks, Engine: engine})
	if err != nil {
		t.Fatalf("verified program does not load (%v, RuntimeChecks %v): %v\n%s", engine, checks, err, asm.Disassemble(spec.Instructions))
	}
	// The context and the regions: 8-byte aligned, as program types
	// require. With vfRegionType, all: ctx (24 bytes), w (32), r (16).
	n := memLen
	if memLen == vfRegions {
		n = 24 + 32 + 16
	}
	words := make([]uint64, (n+7)/8)
	all := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(words))), len(words)*8)[:n]
	for i := range all {
		all[i] = byte(i * 7)
	}
	var out vfRun
	if memLen == vfRegions {
		ctx, w, r := all[:24:24], all[24:56:56], all[56:72:72]
		binary.LittleEndian.PutUint64(ctx[0:], uint64(uintptr(unsafe.Pointer(&w[0]))))
		binary.LittleEndian.PutUint64(ctx[8:], uint64(uintptr(unsafe.Pointer(&r[0]))))
		out.r0, err = p.RunWith(ctx, ebpf.RunOptions{Memory: []ebpf.Memory{{Data: r}, {Data: w, Writable: true}}})
		// The addresses differ from run to run.
		clear(ctx[:16])
	} else {
		out.r0, err = p.Run(all)
	}
	if err != nil {
		out.err, out.outOfBudget = err.Error(), errors.Is(err, ebpf.ErrBudget)
	}
	out.mem = fmt.Sprintf("%x", all)
	var b strings.Builder
	for _, name := range vfMapNames {
		fmt.Fprintf(&b, "%s:", name)
		for k, v := range ms[name].All() {
			fmt.Fprintf(&b, " %x=%x", k, v)
		}
		b.WriteByte('\n')
	}
	out.maps = b.String()
	lines, _ := helpers.Log().Lines()
	out.log = strings.Join(lines, "\n")
	return out
}

// vfProgram turns fuzz input into a program and a memory length. The first
// byte selects the memory length (0..64, or vfRegions for 65..127) and the
// mode: raw bytecode, or one
// instruction per 8 bytes with fields folded into valid ranges (most such
// instructions are valid, so the verifier sees real programs), ended by
// exit.
func vfProgram(data []byte) (asm.Instructions, int, bool) {
	if len(data) < 1 {
		return nil, 0, false
	}
	memLen := int(data[0] & 0x7f)
	if memLen > 64 {
		memLen = vfRegions
	}
	body := data[1:]
	if data[0]&0x80 == 0 {
		insns, err := asm.Decode(body)
		return insns, memLen, err == nil
	}
	// A prelude initializes r0 and r3-r9 with small constants; r1 and r2
	// are the memory pointer and its length.
	var insns asm.Instructions
	for _, r := range []asm.Register{0, 3, 4, 5, 6, 7, 8, 9} {
		insns = append(insns, asm.Instruction{OpCode: asm.ALUOpCode(asm.ClassALU64, asm.Mov, asm.SourceImm), Dst: r, Constant: int64(r)})
	}
	for len(body) >= 8 {
		b := body[:8]
		body = body[8:]
		ins := asm.Instruction{
			OpCode:   asm.OpCode(b[0]),
			Dst:      asm.Register(b[1] & 0xf % 11),
			Src:      asm.Register(b[1] >> 4 % 11),
			Offset:   int16(int8(b[2])),
			Constant: int64(int32(binary.LittleEndian.Uint32(b[4:]))) >> (b[3] & 31),
		}
		c := ins.OpCode.Class()
		if ins.Dst == asm.R10 && (c.IsALU() || c == asm.ClassLDX) {
			ins.Dst = asm.R0
		}
		switch {
		case c.IsALU() && ins.OpCode.ALUOp() == asm.End:
			ins.Constant = []int64{16, 32, 64}[b[3]%3]
			ins.Src, ins.Offset = 0, 0
		case c == asm.ClassSTX && ins.OpCode.Mode() == asm.ModeATOMIC:
			ins.Constant = int64([]asm.AtomicOp{asm.AtomicAdd, asm.AtomicOr, asm.AtomicAnd, asm.AtomicXor,
				asm.AtomicAdd | asm.AtomicFetch, asm.AtomicXchg, asm.AtomicCmpXchg}[b[3]%7])
			ins.Offset = int16(int8(b[2])) &^ 3
		case ins.OpCode == asm.OpLdImm64:
			ins.Src = asm.Register(b[3] % 3)
			ins.Offset = 0
			if ins.Src != 0 {
				ins.Constant = int64(b[4]%3) | int64(b[5]%24)<<32
			}
		case c.IsJump():
			// Mostly forward jumps, a few short backward ones.
			ins.Offset = int16(b[2] % 6)
			if b[2]&0xc0 == 0xc0 {
				ins.Offset = -int16(b[2]%4) - 1
			}
			if ins.OpCode.JumpOp() == asm.Call && ins.Src == 1 {
				ins.Src = 0
			}
			if ins.OpCode.JumpOp() == asm.Call && ins.Src == 0 {
				ins.Constant = []int64{1, 2, 3, 5, 6, 7}[b[4]%6]
			}
		case c == asm.ClassLDX || c == asm.ClassST || c == asm.ClassSTX:
			ins.Offset = int16(int8(b[2]) % 24)
			if ins.Dst != asm.R10 && ins.Dst != asm.R1 && b[3]&1 == 0 {
				ins.Dst = asm.R10
			}
			if ins.Dst == asm.R10 && ins.Offset >= 0 {
				ins.Offset = -ins.Offset - 8
			}
		}
		if ins.Validate() != nil {
			// Try again as a register or immediate form.
			ins.Src = 0
			if ins.Validate() != nil {
				ins.Constant = 0
				if ins.Validate() != nil {
					continue
				}
			}
		}
		insns = append(insns, ins)
	}
	// Jumps that leave the program, or land inside a lddw, fall through.
	slots := insns.SlotIndex()
	total := insns.Slots() + 1
	second := map[int]bool{}
	for i, ins := range insns {
		if ins.IsWide() {
			second[slots[i]+1] = true
		}
	}
	for i := range insns {
		if insns[i].IsBranch() && insns[i].OpCode != asm.OpJa32 {
			t := slots[i] + 1 + int(insns[i].Offset)
			if t < 0 || t >= total || second[t] {
				insns[i].Offset = 0
			}
		}
		if insns[i].OpCode == asm.OpJa32 {
			insns[i].Constant = 0
		}
	}
	insns = append(insns, asm.Instruction{OpCode: asm.OpExit})
	return insns, memLen, true
}

// FuzzVerify checks the verifier's soundness: it never panics, and every
// program it accepts runs in the interpreter (with its run-time checks on)
// without a memory fault, a misaligned atomic, a fall off the end, a stack
// overflow, an unknown helper or an exhausted budget. It also checks the
// backends' use of the proofs: the program run with the checks of proven
// accesses skipped (the default) and on every engine must give the same
// r0, error, ctx bytes, map contents and log lines as the checked
// interpreter.
func FuzzVerify(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(conformanceDir, "*.data"))
	for _, file := range files {
		ct, err := conformance.ParseFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(append([]byte{byte(len(ct.Mem))}, ct.Program.Encode()...))
	}
	for _, p := range vfSeeds {
		insns, err := asm.Assemble(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(append([]byte{16}, insns.Encode()...))
	}
	for _, p := range vfRegionSeeds {
		insns, err := asm.Assemble(p)
		if err != nil {
			f.Fatal(err)
		}
		// A region seed that does not verify would test nothing.
		spec := &ebpf.ProgramSpec{Name: "seed", Instructions: insns, MapNames: vfMapNames}
		if _, err := ebpf.Verify(spec, &ebpf.VerifyOptions{Type: vfRegionType, Helpers: vfVerifyHelpers(), Maps: vfMapSpecs}); err != nil {
			f.Fatalf("region seed: %v", err)
		}
		f.Add(append([]byte{100}, insns.Encode()...))
	}
	f.Add([]byte{0x90, 0xb7, 0x00, 0x00, 0x00, 0x05, 0, 0, 0, 0x07, 0x01, 0, 0, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		insns, memLen, ok := vfProgram(data)
		if !ok {
			return
		}
		spec := &ebpf.ProgramSpec{Name: "fuzz", Instructions: insns, MapNames: vfMapNames}
		_, err := ebpf.Verify(spec, &ebpf.VerifyOptions{
			Type: vfType(memLen), Helpers: vfVerifyHelpers(), Maps: vfMapSpecs, MaxSteps: 100_000,
		})
		if err != nil {
			var ve *ebpf.VerifierError
			if !errors.As(err, &ve) {
				t.Fatalf("rejection is not a *VerifierError: %v", err)
			}
			return
		}
		// In the interpreter with every run-time check kept, none may
		// fire: a fault would mean the verifier accepted an unsafe program.
		// Running out of budget is no fault: a widened loop's termination
		// rests on the budget (the verifier's package doc), and every
		// engine must then stop at the same instruction.
		want := vfExecute(t, spec, memLen, ebpf.EngineInterpreter, true)
		if want.err != "" && !want.outOfBudget {
			t.Fatalf("verified program faulted: %v\n%s", want.err, asm.Disassemble(insns))
		}
		// Without the checks of proven accesses, and on every engine, the
		// run computes the same.
		for _, e := range engines() {
			for _, checks := range []bool{false, true} {
				if e == ebpf.EngineInterpreter && checks {
					continue
				}
				if got := vfExecute(t, spec, memLen, e, checks); got != want {
					t.Fatalf("runs differ:\ninterpreter with checks: %+v\n%v, RuntimeChecks %v: %+v\n%s", want, e, checks, got, asm.Disassemble(insns))
				}
			}
		}
	})
}

// vfRegionSeeds are fuzz seeds of vfRegionType: loads and stores of both
// regions, at the last bytes and through a variable index.
var vfRegionSeeds = []string{
	`ldxdw %r2, [%r1+0]
	ldxdw %r3, [%r1+8]
	ldxdw %r4, [%r3+8]
	stxdw [%r2+24], %r4
	ldxb %r5, [%r3+15]
	stxb [%r2+31], %r5
	ldxdw %r0, [%r2+0]
	exit`,
	`ldxdw %r2, [%r1+0]
	ldxdw %r3, [%r1+8]
	ldxdw %r6, [%r1+16]
	mov %r0, 0
	mov %r4, 0
loop:
	mov %r5, %r4
	and %r5, 15
	add %r5, %r3
	ldxb %r7, [%r5+0]
	add %r0, %r7
	mov %r5, %r4
	and %r5, 31
	add %r5, %r2
	stxb [%r5+0], %r0
	add %r4, 1
	jlt %r4, 40, loop
	lock add [%r2+8], %r6
	exit`,
}

// vfSeeds are fuzz seeds using maps, calls and loops.
var vfSeeds = []string{
	`stw [%r10-4], 1
	lddw %r1, map 1
	mov %r2, %r10
	add %r2, -4
	call 1
	jeq %r0, 0, out
	mov %r2, 0
loop:
	mov %r3, %r0
	add %r3, %r2
	ldxb %r4, [%r3+0]
	stb [%r3+0], 1
	add %r2, 1
	jlt %r2, 16, loop
out:
	mov %r0, 0
	exit`,
	`mov %r6, %r1
	call local f
	ldxdw %r0, [%r6+8]
	exit
f:
	stdw [%r10-8], 3
	lddw %r1, map 0
	mov %r2, %r10
	add %r2, -4
	stw [%r10-4], 2
	mov %r3, %r10
	add %r3, -16
	stdw [%r10-16], 9
	mov %r4, 0
	call 2
	mov %r0, 0
	exit`,
	`ldxdw %r2, [%r1+0]
	and %r2, 7
	lsh %r2, 3
	mov %r3, %r1
	add %r3, %r2
	lock fetch add [%r3+0], %r2
	mov %r0, %r2
	exit`,
}

func ExampleVerify() {
	insns, err := asm.Assemble(`
		ldxw %r0, [%r1+16]
		exit`)
	if err != nil {
		panic(err)
	}
	typ := &ebpf.ProgramType{
		Name:    "example",
		Context: ebpf.Context{Size: 8, Fields: []ebpf.Field{{Name: "flags", Offset: 0, Size: 4}}},
		Return:  ebpf.Return{Min: 0, Max: 1},
	}
	_, err = ebpf.Verify(&ebpf.ProgramSpec{Name: "bad", Instructions: insns}, &ebpf.VerifyOptions{Type: typ})
	var ve *ebpf.VerifierError
	if errors.As(err, &ve) {
		fmt.Println(ve.PC, ve.Code, ve.Reason)
		fmt.Println(ve.State)
	}
	// Output:
	// 0 context access no context field of program type "example" starts at offset 16
	// R1=ctx(off=0) R10=fp0
}

func TestVerifyPublicAPI(t *testing.T) {
	insns, err := asm.Assemble(`
		stw [%r10-4], 0
		lddw %r1, map 0
		mov %r2, %r10
		add %r2, -4
		call 1
		jeq %r0, 0, out
		ldxdw %r0, [%r0+0]
	out:
		mov %r0, 0
		exit`)
	if err != nil {
		t.Fatal(err)
	}
	spec := &ebpf.ProgramSpec{Name: "lookup", Instructions: insns, MapNames: []string{"h"}}
	res, err := ebpf.Verify(spec, &ebpf.VerifyOptions{Maps: vfMapSpecs})
	if err != nil {
		t.Fatal(err)
	}
	if res.Processed == 0 || res.States == 0 {
		t.Errorf("no statistics: %+v", res)
	}
	if !res.Access[0].Proven || !res.Access[7].Proven || res.Access[1].Proven {
		t.Errorf("access proofs: %+v", res.Access)
	}
	if _, err := ebpf.Verify(spec, nil); err == nil {
		t.Error("missing map spec accepted")
	}
	// Without the null check.
	bad := &ebpf.ProgramSpec{Name: "nonull", Instructions: append(insns[:5:5], insns[6:]...), MapNames: []string{"h"}}
	_, err = ebpf.Verify(bad, &ebpf.VerifyOptions{Maps: vfMapSpecs})
	var ve *ebpf.VerifierError
	if !errors.As(err, &ve) || !errors.Is(err, ebpf.ErrVerifier) {
		t.Fatalf("got %v, want a VerifierError", err)
	}
	if ve.PC != 6 || ve.Insn != "ldxdw %r0, [%r0+0]" {
		t.Errorf("rejection at %d (%s), want 6 (ldxdw %%r0, [%%r0+0])", ve.PC, ve.Insn)
	}
}
