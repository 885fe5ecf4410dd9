package ebpf

import (
	"errors"
	"fmt"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/maps"
)

// vecType is a hook-like type: the context holds a pointer to region
// "vec" (host memory passed with RunOptions.Memory) and a writable count.
var vecType = &ProgramType{
	Name:    "vec",
	Regions: []RegionSpec{{Name: "vec", Size: 64, Writable: true}},
	Context: Context{Size: 16, Fields: []Field{
		{Name: "vec", Offset: 0, Size: 8, Kind: FieldPointer, Region: "vec"},
		{Name: "n", Offset: 8, Size: 4, Writable: true},
	}},
	Return: Return{Any: true},
}

// shortR2 declares r2 in [0, 8], but Run passes the ctx length, 16.
var shortR2 = &ProgramType{Name: "short-r2", Regions: []RegionSpec{{Name: "m", Size: 16}},
	Registers: []RegisterSpec{{Reg: 1, Kind: RegisterRegion, Region: "m"}, {Reg: 2, Kind: RegisterScalar, Min: 0, Max: 8}},
	Return:    Return{Any: true}}

// TestUncheckedAccesses: which proven accesses the interpreter may run
// without a check, by what the access touches and by whether the type's
// entry registers are what Run passes. Each case lists the slots that run
// unchecked ("-" when every access keeps its check).
func TestUncheckedAccesses(t *testing.T) {
	const lookup = `
		stw [%r10-4], 0
		lddw %r1, map 0
		mov %r2, %r10
		add %r2, -4
		call 1
		jeq %r0, 0, out
		ldxdw %r3, [%r0+8]
		stdw [%r0+0], 1
	out:
		mov %r0, 0
		exit`
	cases := []struct {
		name, src string
		typ       *ProgramType
		want      string
	}{
		// Stack and map value: slots 0, 7 (lddw takes 2 slots) and 8.
		{"stack and map", lookup, nil, "[0 7 8]"},
		// r1 is the region "mem", which is the ctx itself.
		{"ctx region", "ldxdw %r0, [%r1+8]\nstb [%r1+0], 1\nexit", TestProgramType(16), "[0 1]"},
		{"r2 is the ctx length", "ldxdw %r0, [%r1+8]\nexit", &ProgramType{Name: "r2", Regions: []RegionSpec{{Name: "m", Size: 16}},
			Registers: []RegisterSpec{{Reg: 1, Kind: RegisterRegion, Region: "m"}, {Reg: 2, Kind: RegisterScalar, Min: 0, Max: 16}},
			Return:    Return{Any: true}}, "[0]"},
		// Context fields and the region they point to run unchecked: every
		// run checks the field against its RunOptions.Memory first.
		{"pointer field", "ldxdw %r2, [%r1+0]\nldxdw %r0, [%r2+8]\nstw [%r1+8], 3\nexit", vecType, "[0 1 2]"},
		// An access on no feasible path keeps its check.
		{"dead access", "mov %r0, 0\njeq %r0, 0, +1\nldxdw %r0, [%r10-8]\nstdw [%r10-8], 0\nexit", nil, "[3]"},
		// Entry registers Run does not pass: what the verifier proved
		// started from values the program never sees.
		{"r2 out of range", "stdw [%r10-8], 1\nldxdw %r0, [%r10-8]\nexit", shortR2, "-"},
		{"r3 a region", "stdw [%r10-8], 1\nldxdw %r0, [%r10-8]\nexit", &ProgramType{Name: "r3", Regions: []RegionSpec{{Name: "m", Size: 16}},
			Registers: []RegisterSpec{{Reg: 3, Kind: RegisterRegion, Region: "m"}}, Return: Return{Any: true}}, "-"},
		{"r2 the context", "stdw [%r10-8], 1\nldxdw %r0, [%r10-8]\nexit", &ProgramType{Name: "r2ctx",
			Registers: []RegisterSpec{{Reg: 2, Kind: RegisterContext}}, Return: Return{Any: true}}, "-"},
	}
	mapSpec := &maps.Spec{Name: "a", Type: maps.Array, KeySize: 4, ValueSize: 16, MaxEntries: 1}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			insns, err := asm.Assemble(c.src)
			if err != nil {
				t.Fatal(err)
			}
			typ := c.typ
			if typ == nil {
				typ = TestProgramType(0)
			}
			res, err := Verify(&ProgramSpec{Name: c.name, Instructions: insns, MapNames: []string{"a"}},
				&VerifyOptions{Type: typ, Maps: map[string]*maps.Spec{"a": mapSpec}})
			if err != nil {
				t.Fatal(err)
			}
			got := "-"
			if skip := uncheckedAccesses(res, typ, contextLen(typ)); skip != nil {
				var slots []int
				for pc, s := range skip {
					if s {
						slots = append(slots, pc)
					}
				}
				got = fmt.Sprint(slots)
			}
			if got != c.want {
				t.Errorf("unchecked slots %s, want %s\n%s", got, c.want, asm.Disassemble(insns))
			}
		})
	}
}

// TestEntryMismatchChecks: a program of a type whose r2 range excludes the
// value Run passes verifies, but its access through r1+r2 would leave the
// ctx at run time; it stays checked, so the run fails with a memory error
// instead of reading past the ctx.
func TestEntryMismatchChecks(t *testing.T) {
	insns, err := asm.Assemble("add %r1, %r2\nldxdw %r0, [%r1+0]\nexit")
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewProgram(&ProgramSpec{Name: "r2", Instructions: insns}, &ProgramOptions{Type: shortR2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(make([]byte, 16)); !errors.Is(err, ErrMemory) {
		t.Fatalf("err = %v, want a memory error", err)
	}
}
