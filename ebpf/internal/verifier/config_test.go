package verifier_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/internal/core"
	"github.com/bpfdb/bpfdb/ebpf/internal/verifier"
)

// TestInvalidProgramTypes checks that Verify refuses inconsistent program
// types before looking at the program.
func TestInvalidProgramTypes(t *testing.T) {
	insns := mustAssemble("mov %r0, 0\nexit")
	for _, c := range []struct {
		name   string
		typ    core.ProgramType
		reason string
	}{
		{"field outside", core.ProgramType{Context: core.Context{Size: 4, Fields: []core.Field{{Name: "a", Offset: 2, Size: 4}}}}, "outside"},
		{"overlap", core.ProgramType{Context: core.Context{Size: 8, Fields: []core.Field{{Name: "a", Size: 4}, {Name: "b", Offset: 2, Size: 2}}}}, "overlap"},
		{"bad size", core.ProgramType{Context: core.Context{Size: 8, Fields: []core.Field{{Name: "a", Size: 3}}}}, "size 3"},
		{"undeclared region", core.ProgramType{Context: core.Context{Size: 8, Fields: []core.Field{{Name: "p", Size: 8, Kind: core.FieldPointer, Region: "x"}}}}, "undeclared"},
		{"writable pointer", core.ProgramType{Regions: []core.RegionSpec{{Name: "x", Size: 8}}, Context: core.Context{Size: 8, Fields: []core.Field{{Name: "p", Size: 8, Kind: core.FieldPointer, Region: "x", Writable: true}}}}, "read-only"},
		{"register r6", core.ProgramType{Registers: []core.RegisterSpec{{Reg: 6}}}, "r6"},
		{"register twice", core.ProgramType{Registers: []core.RegisterSpec{{Reg: 2}, {Reg: 2}}}, "twice"},
		{"empty return", core.ProgramType{Return: core.Return{Min: 1, Max: 0}}, "return"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := verifier.Verify(insns, verifier.Config{Type: &c.typ})
			var ve *verifier.Error
			if !errors.As(err, &ve) || ve.Code != verifier.CodeConfig || !strings.Contains(ve.Reason, c.reason) {
				t.Fatalf("got %v, want a config error about %q", err, c.reason)
			}
		})
	}
}

// TestProgramTypeRegisters checks the entry registers a type declares.
func TestProgramTypeRegisters(t *testing.T) {
	typ := &core.ProgramType{
		Name:    "regs",
		Regions: []core.RegionSpec{{Name: "buf", Size: 32, Writable: true}},
		Context: core.Context{Size: 8, Fields: []core.Field{{Name: "n", Size: 4, Min: 0, Max: 31}}},
		Registers: []core.RegisterSpec{
			{Reg: 1, Kind: core.RegisterRegion, Region: "buf"},
			{Reg: 2, Kind: core.RegisterScalar, Min: 0, Max: 31},
			{Reg: 3, Kind: core.RegisterContext},
		},
		Return: core.Return{Any: true},
	}
	ok := mustAssemble(`add %r1, %r2
		stb [%r1+0], 1
		ldxw %r4, [%r3+0]
		mov %r0, %r4
		exit`)
	if _, err := verifier.Verify(ok, verifier.Config{Type: typ}); err != nil {
		t.Fatal(err)
	}
	// A bounded context field bounds what a load gives.
	bounded := mustAssemble(`ldxw %r4, [%r3+0]
		add %r1, %r4
		stb [%r1+0], 1
		mov %r0, 0
		exit`)
	if _, err := verifier.Verify(bounded, verifier.Config{Type: typ}); err != nil {
		t.Fatal(err)
	}
	bad := mustAssemble(`add %r1, %r2
		stb [%r1+1], 1
		mov %r0, 0
		exit`)
	_, err := verifier.Verify(bad, verifier.Config{Type: typ})
	var ve *verifier.Error
	if !errors.As(err, &ve) || ve.Code != verifier.CodeOutOfBounds {
		t.Fatalf("got %v, want out of bounds", err)
	}
	// r4 and r5 are not declared: uninitialized.
	_, err = verifier.Verify(mustAssemble("mov %r0, %r4\nexit"), verifier.Config{Type: typ})
	if !errors.As(err, &ve) || ve.Code != verifier.CodeUninitRegister {
		t.Fatalf("got %v, want uninit register", err)
	}
}

// TestAccessProofs checks Result.Access on the conformance programs: every
// load, store and atomic is proven, nothing else is.
func TestAccessProofs(t *testing.T) {
	insns := mustAssemble(`stdw [%r10-8], 1
		ldxdw %r0, [%r10-8]
		ldxb %r2, [%r1+3]
		lddw %r3, 5
		mov %r4, 1
		lock add [%r10-8], %r4
		exit`)
	res, err := verifier.Verify(insns, verifier.Config{Type: core.TestProgramType(8)})
	if err != nil {
		t.Fatal(err)
	}
	slots := insns.SlotIndex()
	for i, ins := range insns {
		a := res.Access[slots[i]]
		mem := ins.OpCode.Class() == asm.ClassLDX || ins.OpCode.Class() == asm.ClassST || ins.OpCode.Class() == asm.ClassSTX
		if a.Proven != mem {
			t.Errorf("%s: proven = %v", ins, a.Proven)
		}
	}
	if !res.Access[0].Kinds.Has(core.RegionStack) || !res.Access[2].Kinds.Has(core.RegionHost) || res.Access[2].Kinds.Has(core.RegionStack) {
		t.Errorf("access kinds: %+v", res.Access)
	}
}

// TestUncheckedExits checks that an unchecked exit ends a path without
// looking at r0, in the entry function only.
func TestUncheckedExits(t *testing.T) {
	insns := mustAssemble(`mov %r0, %r10
		exit`)
	cfg := verifier.Config{Type: core.TestProgramType(0), UncheckedExits: map[int]bool{1: true}}
	if _, err := verifier.Verify(insns, cfg); err != nil {
		t.Fatal(err)
	}
	cfg.UncheckedExits = nil
	var ve *verifier.Error
	if _, err := verifier.Verify(insns, cfg); !errors.As(err, &ve) || ve.Code != verifier.CodePointerLeak {
		t.Fatalf("got %v, want a pointer leak", err)
	}
	// In a callee, the exit returns and r0 is checked as usual.
	callee := mustAssemble(`call local f
		exit
	f:
		exit`)
	cfg.UncheckedExits = map[int]bool{2: true}
	if _, err := verifier.Verify(callee, cfg); !errors.As(err, &ve) || ve.Code != verifier.CodeUninitRegister {
		t.Fatalf("got %v, want uninit r0 in the callee", err)
	}
}

// TestEntryRegisters checks Config.Entry.
func TestEntryRegisters(t *testing.T) {
	insns := mustAssemble(`stxdw [%r3+0], %r0
		ldxdw %r0, [%r3+0]
		add %r4, %r0
		ldxb %r5, [%r4+0]
		mov %r0, %r5
		exit`)
	cfg := verifier.Config{Type: core.TestProgramType(16), Maps: testMaps, Entry: []verifier.EntryRegister{
		{Reg: 0, Kind: verifier.EntryScalar, Min: 0, Max: 8},
		{Reg: 3, Kind: verifier.EntryStack, Min: -16, Max: -16},
		{Reg: 4, Kind: verifier.EntryMapValue, Index: 1},
	}}
	if _, err := verifier.Verify(insns, cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Entry[0].Max = 16 // value 16 bytes: offset 16 is outside
	var ve *verifier.Error
	if _, err := verifier.Verify(insns, cfg); !errors.As(err, &ve) || ve.Code != verifier.CodeOutOfBounds {
		t.Fatalf("got %v, want out of bounds", err)
	}
	cfg.Entry = []verifier.EntryRegister{{Reg: 10, Kind: verifier.EntryScalar}}
	if _, err := verifier.Verify(insns, cfg); !errors.As(err, &ve) || ve.Code != verifier.CodeConfig {
		t.Fatalf("got %v, want a config error", err)
	}
}
