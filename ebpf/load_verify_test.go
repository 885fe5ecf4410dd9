package ebpf_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ebpf/conformance"
)

// A program reading through r1 is unsafe without memory behind r1: the
// default type (TestProgramType(0)) makes r1 the scalar 0.
const readCtx = "ldxw %r0, [%r1+4]\nexit"

// TestLoadVerifies: a program the verifier rejects cannot be loaded; the
// error names the program and matches ErrVerifier and *VerifierError.
func TestLoadVerifies(t *testing.T) {
	spec := &ebpf.ProgramSpec{Name: "reader", Instructions: mustAssemble(t, readCtx)}
	p, err := ebpf.NewProgram(spec, nil)
	if p != nil || !errors.Is(err, ebpf.ErrVerifier) {
		t.Fatalf("NewProgram = %v, %v; want a rejection wrapping ErrVerifier", p, err)
	}
	var ve *ebpf.VerifierError
	if !errors.As(err, &ve) {
		t.Fatalf("rejection is not a *VerifierError: %v", err)
	}
	if !strings.HasPrefix(err.Error(), `load program "reader": `) || !strings.Contains(err.Error(), "R1 is a scalar") {
		t.Fatalf("err = %q, want it to name the program and the reason", err)
	}
	// Against a type that gives r1 8 bytes, the same program verifies and runs.
	p, err = ebpf.NewProgram(spec, &ebpf.ProgramOptions{Type: ebpf.TestProgramType(8)})
	if err != nil {
		t.Fatal(err)
	}
	if r0, err := p.Run([]byte{0, 0, 0, 0, 7, 0, 0, 0}); err != nil || r0 != 7 {
		t.Fatalf("r0 = %d, err = %v; want 7", r0, err)
	}
}

// TestLoadUnverified: Unverified loads a program the verifier rejects, and
// the interpreter's run-time checks alone then stop its bad access.
func TestLoadUnverified(t *testing.T) {
	spec := &ebpf.ProgramSpec{Name: "reader", Instructions: mustAssemble(t, readCtx)}
	p, err := ebpf.NewProgram(spec, &ebpf.ProgramOptions{Unverified: true})
	if err != nil {
		t.Fatalf("Unverified load: %v", err)
	}
	var me *ebpf.MemoryError
	if _, err := p.Run(nil); !errors.As(err, &me) {
		t.Fatalf("run on no memory: err = %v, want a *MemoryError", err)
	}
	// Any ctx size is accepted.
	if r0, err := p.Run([]byte{0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0}); err != nil || r0 != 9 {
		t.Fatalf("r0 = %d, err = %v; want 9", r0, err)
	}
}

// TestRunContextSize: a verified program runs only on memory of the size it
// was verified for, through every entry point.
func TestRunContextSize(t *testing.T) {
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "reader", Instructions: mustAssemble(t, readCtx)},
		&ebpf.ProgramOptions{Type: ebpf.TestProgramType(8)})
	if err != nil {
		t.Fatal(err)
	}
	r := p.NewRunner()
	runs := map[string]func([]byte) (uint64, error){
		"Run":            p.Run,
		"RunWith":        func(b []byte) (uint64, error) { return p.RunWith(b, ebpf.RunOptions{}) },
		"Runner.Run":     r.Run,
		"Runner.RunWith": func(b []byte) (uint64, error) { return r.RunWith(b, ebpf.RunOptions{}) },
	}
	for name, run := range runs {
		for _, n := range []int{0, 4, 7, 9, 16} {
			_, err := run(make([]byte, n))
			if !errors.Is(err, ebpf.ErrContextSize) || !strings.Contains(err.Error(), `run program "reader": ctx is `) {
				t.Errorf("%s with %d bytes: err = %v, want ErrContextSize", name, n, err)
			}
		}
		if r0, err := run([]byte{0, 0, 0, 0, 3, 0, 0, 0}); err != nil || r0 != 3 {
			t.Errorf("%s with 8 bytes: r0 = %d, err = %v; want 3", name, r0, err)
		}
	}
	// The default type (r1 a scalar) runs only on an empty ctx.
	p, err = ebpf.NewProgram(&ebpf.ProgramSpec{Name: "const", Instructions: mustAssemble(t, "mov %r0, 5\nexit")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r0, err := p.Run(nil); err != nil || r0 != 5 {
		t.Fatalf("r0 = %d, err = %v; want 5", r0, err)
	}
	if _, err := p.Run(make([]byte, 1)); !errors.Is(err, ebpf.ErrContextSize) {
		t.Fatalf("err = %v, want ErrContextSize", err)
	}
	// A type whose r1 is the context: len(ctx) must be Context.Size.
	typ := &ebpf.ProgramType{Name: "ctx16", Context: ebpf.Context{Size: 16, Fields: []ebpf.Field{{Name: "a", Offset: 8, Size: 8}}}, Return: ebpf.Return{Any: true}}
	p, err = ebpf.NewProgram(&ebpf.ProgramSpec{Name: "field", Instructions: mustAssemble(t, "ldxdw %r0, [%r1+8]\nexit")}, &ebpf.ProgramOptions{Type: typ})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(make([]byte, 8)); !errors.Is(err, ebpf.ErrContextSize) {
		t.Fatalf("8-byte ctx for a 16-byte context: err = %v, want ErrContextSize", err)
	}
	ctx := make([]byte, 16)
	ctx[8] = 42
	if r0, err := p.Run(ctx); err != nil || r0 != 42 {
		t.Fatalf("r0 = %d, err = %v; want 42", r0, err)
	}
}

// TestCollectionType: CollectionOptions.Type applies to every program; a
// program that does not verify against it fails the whole load.
func TestCollectionType(t *testing.T) {
	if _, err := ebpf.NewCollection(loadTestObject(t, "globals.o"), nil); !errors.Is(err, ebpf.ErrVerifier) {
		t.Fatalf("globals.o against the default type: err = %v, want ErrVerifier", err)
	}
	c, err := ebpf.NewCollection(loadTestObject(t, "globals.o"), &ebpf.CollectionOptions{Type: ebpf.TestProgramType(4)})
	if err != nil {
		t.Fatal(err)
	}
	// As computed in cmd/bpfdb/testdata/elf.txt.
	if r0, err := c.Programs["globals"].Run([]byte{1, 0, 0, 0}); err != nil || r0 != 0x11223344556677f9 {
		t.Fatalf("r0 = %#x, err = %v; want 0x11223344556677f9", r0, err)
	}
	if _, err := c.Programs["globals"].Run(make([]byte, 8)); !errors.Is(err, ebpf.ErrContextSize) {
		t.Fatalf("err = %v, want ErrContextSize", err)
	}
	if _, err := ebpf.NewCollection(loadTestObject(t, "globals.o"), &ebpf.CollectionOptions{Unverified: true}); err != nil {
		t.Fatalf("Unverified collection: %v", err)
	}

	// Types gives one program its own type; the others keep Type.
	// prog_mixed reads 16 bytes, more than 8-byte Type allows.
	opts := &ebpf.CollectionOptions{Type: ebpf.TestProgramType(8)}
	if _, err := ebpf.NewCollection(loadTestObject(t, "calls.o"), opts); !errors.Is(err, ebpf.ErrVerifier) || !strings.Contains(err.Error(), `"prog_mixed"`) {
		t.Fatalf("calls.o against an 8-byte type: err = %v, want prog_mixed rejected", err)
	}
	opts.Types = map[string]*ebpf.ProgramType{"prog_mixed": ebpf.TestProgramType(16)}
	c, err = ebpf.NewCollection(loadTestObject(t, "calls.o"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if r0, err := c.Programs["prog_mixed"].Run(elfU64s(1, 2)); err != nil || r0 != 16 {
		t.Fatalf("prog_mixed(1, 2) = %d, %v; want 16", r0, err)
	}
	if r0, err := c.Programs["prog_leaf"].Run(elfU64s(4)); err != nil || r0 != 9 {
		t.Fatalf("prog_leaf(4) = %d, %v; want 9", r0, err)
	}
}

// TestConformanceLoadVerifies: conformance.Load verifies against the test
// type of the file's memory; LoadUnverified does not.
func TestConformanceLoadVerifies(t *testing.T) {
	ct := &conformance.Test{Name: "reader", Program: mustAssemble(t, readCtx)}
	if _, err := conformance.Load(ct, 0); !errors.Is(err, ebpf.ErrVerifier) {
		t.Fatalf("Load without memory: err = %v, want ErrVerifier", err)
	}
	if _, err := conformance.LoadUnverified(ct, 0); err != nil {
		t.Fatalf("LoadUnverified: %v", err)
	}
	ct.Mem = []byte{0, 0, 0, 0, 6, 0, 0, 0}
	if err := conformance.Check(&conformance.Test{Name: "reader", Program: ct.Program, Mem: ct.Mem, Result: 6}, 0); err != nil {
		t.Fatal(err)
	}
}
