package verifier_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/internal/core"
	"github.com/bpfdb/bpfdb/ebpf/internal/verifier"
	"github.com/bpfdb/bpfdb/ebpf/maps"
)

// hookType is a program type shaped like an engine hook:
//
//	 0          8          16       20       24         32
//	+----------+----------+--------+--------+----------+
//	| keys ptr | out ptr  | count  | flags  | result   |
//	+----------+----------+--------+--------+----------+
//	  -> keys    -> out     ro u32   rw u32   rw u64
var hookType = &core.ProgramType{
	Name: "hook",
	Regions: []core.RegionSpec{
		{Name: "keys", Size: 64},
		{Name: "out", Size: 64, Writable: true},
	},
	Context: core.Context{Size: 32, Fields: []core.Field{
		{Name: "keys", Offset: 0, Size: 8, Kind: core.FieldPointer, Region: "keys"},
		{Name: "out", Offset: 8, Size: 8, Kind: core.FieldPointer, Region: "out"},
		{Name: "count", Offset: 16, Size: 4},
		{Name: "flags", Offset: 20, Size: 4, Writable: true},
		{Name: "result", Offset: 24, Size: 8, Writable: true},
	}},
	Return: core.Return{Min: -4095, Max: 1},
}

// int32Type is hookType whose return range applies to int32(r0), as for
// programs written `int prog(ctx)` in C.
var int32Type = func() *core.ProgramType {
	t := *hookType
	t.Name = "int-hook"
	t.Return.Int32 = true
	return &t
}()

// testMaps is the map table of the cases: 0 a hash map with 4-byte keys and
// 8-byte values, 1 an array of 16-byte values, 2 a read-only array.
var testMaps = []*maps.Spec{
	{Name: "h", Type: maps.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 16},
	{Name: "a", Type: maps.Array, KeySize: 4, ValueSize: 16, MaxEntries: 4},
	{Name: "ro", Type: maps.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1, ReadOnlyProg: true},
}

// lookup0 looks up key 0 of map 0 with the key on the stack at fp-4.
const lookup0 = `
	stw [%r10-4], 0
	lddw %r1, map 0
	mov %r2, %r10
	add %r2, -4
	call 1
`

const lookup1 = `
	stw [%r10-4], 0
	lddw %r1, map 1
	mov %r2, %r10
	add %r2, -4
	call 1
`

type verifyCase struct {
	name string
	typ  *core.ProgramType // nil: hookType
	cfg  func(*verifier.Config)
	prog string
	want verifier.Code // meaningful when reject
	ok   bool
	// reason is a substring of the rejection's reason.
	reason string
}

var verifyCases = []verifyCase{
	// Uninitialized registers.
	{name: "init register", ok: true, prog: `mov %r0, 0
		exit`},
	{name: "uninit r0 at exit", want: verifier.CodeUninitRegister, reason: "R0", prog: `exit`},
	{name: "uninit r2", want: verifier.CodeUninitRegister, reason: "R2", prog: `mov %r0, %r2
		exit`},
	{name: "r1-r5 clobbered by a call", want: verifier.CodeUninitRegister, reason: "R3", prog: `mov %r3, 1
		call 5
		mov %r0, %r3
		exit`},

	// Uninitialized stack.
	{name: "init stack", ok: true, prog: `stdw [%r10-8], 7
		ldxdw %r0, [%r10-8]
		and %r0, 1
		exit`},
	{name: "uninit stack", want: verifier.CodeUninitStack, prog: `ldxdw %r0, [%r10-8]
		exit`},
	{name: "partly init stack", want: verifier.CodeUninitStack, reason: "fp-4", prog: `stw [%r10-8], 7
		ldxdw %r0, [%r10-8]
		exit`},
	{name: "uninit stack through a variable offset", want: verifier.CodeUninitStack, prog: `ldxw %r2, [%r1+16]
		and %r2, 8
		stdw [%r10-16], 1
		mov %r3, %r10
		add %r3, %r2
		ldxdw %r0, [%r3-16]
		exit`},
	{name: "variable stack offset", ok: true, prog: `ldxw %r2, [%r1+16]
		and %r2, 8
		stdw [%r10-16], 1
		stdw [%r10-8], 2
		mov %r3, %r10
		add %r3, %r2
		ldxdw %r0, [%r3-16]
		and %r0, 1
		exit`},

	// Stack bounds.
	{name: "stack below the frame", want: verifier.CodeOutOfBounds, prog: `stdw [%r10-520], 1
		mov %r0, 0
		exit`},
	{name: "stack above the frame", want: verifier.CodeOutOfBounds, prog: `stdw [%r10-4], 1
		mov %r0, 0
		exit`},
	{name: "stack bottom", ok: true, prog: `stdw [%r10-512], 1
		mov %r0, 0
		exit`},

	// Context.
	{name: "ctx field reads", ok: true, prog: `ldxw %r2, [%r1+16]
		ldxw %r3, [%r1+20]
		ldxdw %r4, [%r1+24]
		mov %r0, 0
		exit`},
	{name: "ctx out of bounds", want: verifier.CodeContextAccess, reason: "offset 32", prog: `ldxw %r0, [%r1+32]
		exit`},
	{name: "ctx wrong width", want: verifier.CodeContextAccess, reason: "not 8", prog: `ldxdw %r0, [%r1+16]
		exit`},
	{name: "ctx write read-only field", want: verifier.CodeReadOnly, reason: "count", prog: `stw [%r1+16], 1
		mov %r0, 0
		exit`},
	{name: "ctx write writable field", ok: true, prog: `stw [%r1+20], 1
		stdw [%r1+24], 5
		mov %r0, 1
		exit`},
	{name: "ctx write pointer field", want: verifier.CodeReadOnly, prog: `stdw [%r1+8], 0
		mov %r0, 0
		exit`},
	{name: "ctx variable offset", want: verifier.CodeContextAccess, reason: "variable", prog: `ldxw %r2, [%r1+16]
		and %r2, 4
		add %r1, %r2
		ldxw %r0, [%r1+16]
		exit`},

	// Regions through context pointers.
	{name: "region read and write", ok: true, prog: `ldxdw %r2, [%r1+0]
		ldxdw %r3, [%r1+8]
		ldxdw %r4, [%r2+56]
		stxdw [%r3+56], %r4
		mov %r0, 0
		exit`},
	{name: "region out of bounds", want: verifier.CodeOutOfBounds, reason: "region", prog: `ldxdw %r2, [%r1+0]
		ldxdw %r0, [%r2+57]
		exit`},
	{name: "read-only region", want: verifier.CodeReadOnly, reason: "keys", prog: `ldxdw %r2, [%r1+0]
		stdw [%r2+0], 1
		mov %r0, 0
		exit`},
	{name: "region loop", ok: true, prog: `ldxdw %r2, [%r1+0]
		ldxdw %r3, [%r1+8]
		mov %r4, 0
	loop:
		mov %r5, %r2
		add %r5, %r4
		ldxdw %r6, [%r5+0]
		mov %r5, %r3
		add %r5, %r4
		stxdw [%r5+0], %r6
		add %r4, 8
		jlt %r4, 64, loop
		mov %r0, 0
		exit`},
	{name: "loop to an end pointer", ok: true, prog: `ldxdw %r2, [%r1+0]
		mov %r3, %r2
		add %r3, 64
		mov %r0, 0
	loop:
		ldxb %r4, [%r2+0]
		add %r0, %r4
		add %r2, 1
		jlt %r2, %r3, loop
		and %r0, 1
		exit`},
	{name: "loop to an end pointer one too far", want: verifier.CodeOutOfBounds, prog: `ldxdw %r2, [%r1+0]
		mov %r3, %r2
		add %r3, 64
		mov %r0, 0
	loop:
		ldxb %r4, [%r2+0]
		add %r0, %r4
		add %r2, 1
		jle %r2, %r3, loop
		and %r0, 1
		exit`},
	{name: "comparing pointers into two objects", want: verifier.CodePointerLeak, prog: `ldxdw %r2, [%r1+0]
		ldxdw %r3, [%r1+8]
		jlt %r2, %r3, out
	out:
		mov %r0, 0
		exit`},
	{name: "region loop one too far", want: verifier.CodeOutOfBounds, prog: `ldxdw %r2, [%r1+0]
		mov %r4, 0
	loop:
		mov %r5, %r2
		add %r5, %r4
		ldxdw %r6, [%r5+0]
		add %r4, 8
		jle %r4, 64, loop
		mov %r0, 0
		exit`},

	// Maps.
	{name: "lookup with null check", ok: true, prog: lookup0 + `
		jeq %r0, 0, out
		ldxdw %r1, [%r0+0]
		add %r1, 1
		stxdw [%r0+0], %r1
	out:
		mov %r0, 0
		exit`},
	{name: "lookup without null check", want: verifier.CodeNullPointer, prog: lookup0 + `
		ldxdw %r1, [%r0+0]
		mov %r0, 0
		exit`},
	{name: "null check of a copy", ok: true, prog: lookup0 + `
		mov %r6, %r0
		jne %r6, 0, ok
		mov %r0, 0
		exit
	ok:
		ldxdw %r1, [%r0+0]
		mov %r0, 0
		exit`},
	{name: "map value out of bounds", want: verifier.CodeOutOfBounds, reason: "map value", prog: lookup0 + `
		jeq %r0, 0, out
		ldxdw %r1, [%r0+1]
	out:
		mov %r0, 0
		exit`},
	{name: "map value loop", ok: true, prog: lookup1 + `
		jeq %r0, 0, out
		mov %r2, 0
		mov %r3, 0
	loop:
		mov %r4, %r0
		add %r4, %r2
		ldxb %r5, [%r4+0]
		add %r3, %r5
		add %r2, 1
		jlt %r2, 16, loop
	out:
		mov %r0, 0
		exit`},
	{name: "map value variable index", ok: true, prog: lookup1 + `
		jeq %r0, 0, out
		ldxw %r2, [%r0+0]
		and %r2, 15
		add %r0, %r2
		ldxb %r0, [%r0+0]
		mov %r0, 0
	out:
		exit`},
	{name: "map value unbounded index", want: verifier.CodePointerArithmetic, reason: "unbounded", prog: lookup1 + `
		jeq %r0, 0, out
		ldxdw %r2, [%r0+0]
		add %r0, %r2
		ldxb %r0, [%r0+0]
		mov %r0, 0
	out:
		exit`},
	{name: "map value bounded too loosely", want: verifier.CodeOutOfBounds, prog: lookup1 + `
		jeq %r0, 0, out
		ldxw %r2, [%r0+0]
		and %r2, 31
		add %r0, %r2
		ldxb %r0, [%r0+0]
		mov %r0, 0
	out:
		exit`},
	{name: "read-only map", want: verifier.CodeReadOnly, prog: `lddw %r1, mapvalue 2+0
		stdw [%r1+0], 1
		mov %r0, 0
		exit`},
	{name: "map value pseudo-load", ok: true, prog: `lddw %r1, mapvalue 1+8
		ldxdw %r0, [%r1+0]
		and %r0, 1
		exit`},
	{name: "map key uninitialized", want: verifier.CodeUninitStack, prog: `lddw %r1, map 0
		mov %r2, %r10
		add %r2, -4
		call 1
		mov %r0, 0
		exit`},
	{name: "map update", ok: true, prog: `stw [%r10-4], 3
		stdw [%r10-16], 9
		lddw %r1, map 0
		mov %r2, %r10
		add %r2, -4
		mov %r3, %r10
		add %r3, -16
		mov %r4, 0
		call 2
		mov %r0, 0
		exit`},

	// Helper arguments.
	{name: "helper arg: scalar for a map", want: verifier.CodeHelperArg, reason: "must be a map", prog: `mov %r1, 0
		mov %r2, %r10
		call 1
		mov %r0, 0
		exit`},
	{name: "helper arg: pointer for a scalar", want: verifier.CodeHelperArg, reason: "must be a scalar", prog: `stw [%r10-4], 3
		stdw [%r10-16], 9
		lddw %r1, map 0
		mov %r2, %r10
		add %r2, -4
		mov %r3, %r10
		add %r3, -16
		mov %r4, %r10
		call 2
		mov %r0, 0
		exit`},
	{name: "helper arg: key outside the stack", want: verifier.CodeOutOfBounds, prog: `lddw %r1, map 0
		mov %r2, %r10
		add %r2, -2
		call 1
		mov %r0, 0
		exit`},
	{name: "helper arg: mem and size", ok: true, prog: `stdw [%r10-8], 0x64
		mov %r1, %r10
		add %r1, -8
		mov %r2, 8
		mov %r3, 0
		mov %r4, 0
		mov %r5, 0
		call 6
		mov %r0, 0
		exit`},
	{name: "helper arg: size too big", want: verifier.CodeOutOfBounds, prog: `stdw [%r10-8], 0x64
		mov %r1, %r10
		add %r1, -8
		mov %r2, 9
		mov %r3, 0
		mov %r4, 0
		mov %r5, 0
		call 6
		mov %r0, 0
		exit`},
	{name: "helper arg: size zero", want: verifier.CodeHelperArg, reason: "may be 0", prog: `mov %r1, %r10
		add %r1, -8
		mov %r2, 0
		mov %r3, 0
		mov %r4, 0
		mov %r5, 0
		call 6
		mov %r0, 0
		exit`},
	{name: "unknown helper", want: verifier.CodeHelper, prog: `call 99
		mov %r0, 0
		exit`},
	{name: "unknown helper in dead code", want: verifier.CodeHelper, prog: `mov %r0, 0
		jeq %r0, 0, out
		call 99
	out:
		exit`},
	{name: "disallowed helper", typ: &core.ProgramType{Name: "strict", AllowedHelpers: []int32{5}, Return: core.Return{Any: true}},
		want: verifier.CodeHelper, reason: "not allowed", prog: `call 7
		exit`},

	// Pointer leaks.
	{name: "leak via r0", want: verifier.CodePointerLeak, reason: "R0", prog: `mov %r0, %r10
		exit`},
	{name: "leak via r0 of ctx", want: verifier.CodePointerLeak, prog: `mov %r0, %r1
		exit`},
	{name: "leak via map", want: verifier.CodePointerLeak, reason: "map_value", prog: lookup0 + `
		jeq %r0, 0, out
		stxdw [%r0+0], %r10
	out:
		mov %r0, 0
		exit`},
	{name: "leak via ctx", want: verifier.CodePointerLeak, reason: "context", prog: `stxdw [%r1+24], %r1
		mov %r0, 0
		exit`},
	{name: "leak via region", want: verifier.CodePointerLeak, prog: `ldxdw %r2, [%r1+8]
		stxdw [%r2+0], %r2
		mov %r0, 0
		exit`},
	{name: "leak via partial spill", want: verifier.CodePointerLeak, prog: `stxw [%r10-8], %r1
		mov %r0, 0
		exit`},
	{name: "leak via partial fill", want: verifier.CodePointerLeak, prog: `stxdw [%r10-8], %r1
		ldxw %r0, [%r10-8]
		exit`},
	{name: "spill and fill keeps the pointer", ok: true, prog: `stxdw [%r10-8], %r1
		ldxdw %r2, [%r10-8]
		ldxw %r0, [%r2+16]
		mov %r0, 0
		exit`},
	{name: "leak via comparison", want: verifier.CodePointerLeak, reason: "comparing", prog: `jgt %r1, 5, out
	out:
		mov %r0, 0
		exit`},
	{name: "leak via 32-bit mov", want: verifier.CodePointerLeak, prog: `mov32 %r0, %r1
		exit`},
	{name: "map handle as memory", want: verifier.CodeInvalidPointer, prog: `stw [%r10-4], 3
		lddw %r1, map 0
		mov %r2, %r10
		add %r2, -4
		mov %r3, %r1
		mov %r4, 0
		call 2
		mov %r0, 0
		exit`},

	// Pointer arithmetic.
	{name: "pointer multiply", want: verifier.CodePointerArithmetic, prog: `mul %r1, 2
		mov %r0, 0
		exit`},
	{name: "pointer difference", ok: true, typ: core.TestProgramType(0), prog: `mov %r2, %r10
		add %r2, -16
		mov %r0, %r10
		sub %r0, %r2
		exit`},
	{name: "pointer sum", want: verifier.CodePointerArithmetic, prog: `mov %r2, %r10
		add %r2, %r10
		mov %r0, 0
		exit`},
	{name: "arithmetic on or-null", want: verifier.CodeNullPointer, prog: lookup0 + `
		add %r0, 1
		mov %r0, 0
		exit`},

	// Loops.
	{name: "bounded loop", ok: true, typ: core.TestProgramType(0), prog: `mov %r0, 0
		mov %r1, 0
	loop:
		add %r0, %r1
		add %r1, 1
		jlt %r1, 100, loop
		exit`},
	{name: "bounded loop with unknown bound", ok: true, prog: `ldxw %r2, [%r1+16]
		and %r2, 63
		mov %r0, 0
		mov %r1, 0
	loop:
		jge %r1, %r2, out
		add %r1, 1
		ja loop
	out:
		mov %r0, 0
		exit`},
	{name: "infinite loop", want: verifier.CodeInfiniteLoop, prog: `mov %r0, 0
	loop:
		ja loop`},
	{name: "infinite loop on an unknown value", want: verifier.CodeInfiniteLoop, prog: `ldxdw %r2, [%r1+24]
	loop:
		jeq %r2, 0, out
		ja loop
	out:
		mov %r0, 0
		exit`},
	// Widened: safe on every iteration; the run-time budget ends it.
	{name: "loop on an unknown counter", ok: true, prog: `ldxdw %r2, [%r1+24]
		mov %r0, 0
	loop:
		sub %r2, 1
		jne %r2, 0, loop
		exit`},
	{name: "loop of ten million iterations", ok: true, prog: `mov %r0, 0
		mov %r1, 0
	loop:
		add %r1, 1
		jlt %r1, 10000000, loop
		exit`},
	// 2^16 paths with r0 a different constant on each: no state covers
	// another.
	{name: "paths beyond the complexity limit", cfg: func(c *verifier.Config) { c.MaxSteps = 20000 },
		want: verifier.CodeTooComplex, prog: manyPaths(16)},

	// Limits and structure.
	{name: "too many instructions", cfg: func(c *verifier.Config) { c.MaxInstructions = 3 },
		want: verifier.CodeTooLarge, prog: `mov %r0, 0
		mov %r0, 0
		mov %r0, 0
		exit`},
	{name: "call depth 8", ok: true, prog: `call local f1
		mov %r0, 0
		exit
	f1:
		call local f2
		exit
	f2:
		call local f3
		exit
	f3:
		call local f4
		exit
	f4:
		call local f5
		exit
	f5:
		call local f6
		exit
	f6:
		call local f7
		exit
	f7:
		mov %r0, 0
		exit`},
	{name: "call depth 9", want: verifier.CodeCallDepth, prog: `call local f1
		mov %r0, 0
		exit
	f1:
		call local f2
		exit
	f2:
		call local f3
		exit
	f3:
		call local f4
		exit
	f4:
		call local f5
		exit
	f5:
		call local f6
		exit
	f6:
		call local f7
		exit
	f7:
		call local f8
		exit
	f8:
		mov %r0, 0
		exit`},
	{name: "recursion", want: verifier.CodeCallDepth, prog: `call local f
		mov %r0, 0
		exit
	f:
		call local f
		exit`},
	{name: "callee preserves r6-r9", ok: true, prog: `mov %r6, %r1
		call local f
		ldxw %r0, [%r6+16]
		mov %r0, 0
		exit
	f:
		mov %r0, 1
		exit`},
	{name: "callee cannot read r6", want: verifier.CodeUninitRegister, reason: "R6", prog: `mov %r6, 1
		call local f
		exit
	f:
		mov %r0, %r6
		exit`},
	{name: "callee reads caller stack", ok: true, prog: `stdw [%r10-8], 1
		mov %r1, %r10
		add %r1, -8
		call local f
		exit
	f:
		ldxdw %r0, [%r1+0]
		and %r0, 1
		exit`},
	{name: "callee returns its stack", want: verifier.CodePointerLeak, prog: `call local f
		mov %r0, 0
		exit
	f:
		mov %r0, %r10
		exit`},
	{name: "unreachable", want: verifier.CodeUnreachable, prog: `mov %r0, 0
		exit
		mov %r0, 1
		exit`},
	{name: "falls off", want: verifier.CodeFallsOff, prog: `mov %r0, 0`},
	{name: "write r10", want: verifier.CodeInvalid, reason: "r10", prog: `mov %r10, 0
		mov %r0, 0
		exit`},
	{name: "legacy packet load", want: verifier.CodeUnsupported, prog: `ldabsw 0
		mov %r0, 0
		exit`},
	{name: "map index out of range", want: verifier.CodeInvalid, prog: `lddw %r1, map 7
		mov %r0, 0
		exit`},

	// Atomics.
	{name: "atomic aligned", ok: true, prog: `stdw [%r10-8], 0
		mov %r1, 1
		lock fetch add [%r10-8], %r1
		mov %r0, %r1
		and %r0, 1
		exit`},
	{name: "atomic misaligned", want: verifier.CodeMisaligned, prog: `stdw [%r10-16], 0
		stdw [%r10-8], 0
		mov %r1, 1
		lock add [%r10-12], %r1
		mov %r0, 0
		exit`},
	{name: "atomic on ctx", want: verifier.CodeContextAccess, prog: `mov %r2, 1
		lock add [%r1+24], %r2
		mov %r0, 0
		exit`},

	// Return values.
	{name: "return in range", ok: true, prog: `ldxw %r0, [%r1+16]
		and %r0, 1
		exit`},
	{name: "return out of range", want: verifier.CodeReturn, prog: `mov %r0, 2
		exit`},
	{name: "return unknown", want: verifier.CodeReturn, prog: `ldxw %r0, [%r1+16]
		exit`},
	{name: "return negative errno", ok: true, prog: `mov %r0, -22
		exit`},
	// A C `int` program returns -12 in w0: the upper half is zero.
	{name: "return 32-bit errno to a 64-bit range", want: verifier.CodeReturn, prog: `mov32 %r0, -12
		exit`},
	{name: "return 32-bit errno to an int32 range", ok: true, typ: int32Type, prog: `mov32 %r0, -12
		exit`},
	{name: "return 32-bit value out of an int32 range", want: verifier.CodeReturn, typ: int32Type, prog: `mov32 %r0, 2
		exit`},
	{name: "return int32 range ignores the upper half", ok: true, typ: int32Type, prog: `lddw %r0, 0x500000001
		exit`},

	// Branch refinement makes code dead.
	{name: "dead branch not explored", ok: true, prog: `ldxw %r2, [%r1+16]
		and %r2, 7
		jle %r2, 7, ok
		ldxdw %r0, [%r10-8]
	ok:
		mov %r0, 0
		exit`},
	{name: "jmp32 refinement", ok: true, prog: `ldxw %r2, [%r1+16]
		jlt32 %r2, 8, ok
		mov %r0, 0
		exit
	ok:
		ldxdw %r3, [%r1+8]
		add %r3, %r2
		stb [%r3+56], 1
		mov %r0, 0
		exit`},
	{name: "jsgt refinement", ok: true, prog: `ldxw %r2, [%r1+16]
		lsh %r2, 32
		arsh %r2, 32
		jsgt %r2, 56, out
		jslt %r2, 0, out
		ldxdw %r3, [%r1+8]
		add %r3, %r2
		stdw [%r3+0], 1
	out:
		mov %r0, 0
		exit`},
	{name: "signed range unchecked below", want: verifier.CodePointerArithmetic, prog: `ldxw %r2, [%r1+16]
		lsh %r2, 32
		arsh %r2, 32
		jsgt %r2, 56, out
		ldxdw %r3, [%r1+8]
		add %r3, %r2
		stdw [%r3+0], 1
	out:
		mov %r0, 0
		exit`},
}

// manyPaths returns a program whose n conditional jumps on bits of an
// unknown value each add a different power of two to r0 or not.
func manyPaths(n int) string {
	var b strings.Builder
	b.WriteString("ldxdw %r2, [%r1+24]\nmov %r0, 0\n")
	for i := range n {
		fmt.Fprintf(&b, "jset %%r2, %d, skip%d\nadd %%r0, %d\nskip%d:\n", 1<<i, i, 1<<i, i)
	}
	b.WriteString("and %r0, 1\nexit\n")
	return b.String()
}

func TestVerifyCases(t *testing.T) {
	for _, c := range verifyCases {
		t.Run(c.name, func(t *testing.T) {
			insns, err := asm.Assemble(c.prog)
			if err != nil {
				t.Fatalf("assemble: %v", err)
			}
			cfg := verifier.Config{Type: c.typ, Maps: testMaps, Helpers: genericHelpers()}
			if cfg.Type == nil {
				cfg.Type = hookType
			}
			if c.cfg != nil {
				c.cfg(&cfg)
			}
			_, err = verifier.Verify(insns, cfg)
			if c.ok {
				if err != nil {
					var ve *verifier.Error
					errors.As(err, &ve)
					t.Fatalf("rejected: %v\n%s", err, ve.Log)
				}
				return
			}
			var ve *verifier.Error
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want a *verifier.Error (%s)", err, c.want)
			}
			if !errors.Is(err, verifier.ErrRejected) {
				t.Errorf("error does not wrap ErrRejected")
			}
			if ve.Code != c.want || !strings.Contains(ve.Reason, c.reason) {
				t.Fatalf("got %s: %v, want %s containing %q\n%s", ve.Code, err, c.want, c.reason, ve.Log)
			}
		})
	}
}
