package conformance

import (
	"fmt"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ebpf/asm"
)

// TestHelpers returns the helpers of the documented test environment for
// .data files: helper 1 returns r1 + 1 (the bench programs' convention) and
// helper 5 returns r1 (the conformance suite's convention, uBPF's "unwind"
// helper without its unwinding).
func TestHelpers() *ebpf.Helpers {
	h := ebpf.NewHelpers()
	must := func(err error) {
		if err != nil {
			panic("BUG: " + err.Error())
		}
	}
	// Both take a scalar: a helper that hands its argument back would
	// otherwise let a verified program turn a pointer into a number.
	must(h.Register(ebpf.Helper{ID: 1, Name: "increment", Proto: ebpf.Prototype{Args: [5]ebpf.ArgKind{ebpf.ArgScalar}},
		Fn: func(_ *ebpf.Env, r1, _, _, _, _ uint64) (uint64, error) { return r1 + 1, nil }}))
	must(h.Register(ebpf.Helper{ID: 5, Name: "identity", Proto: ebpf.Prototype{Args: [5]ebpf.ArgKind{ebpf.ArgScalar}},
		Fn: func(_ *ebpf.Env, r1, _, _, _, _ uint64) (uint64, error) { return r1, nil }}))
	// Both are pure: the JIT runs them inline, the interpreter calls the
	// functions above, and the differential tests compare the two.
	inline := func(id int32, src string) {
		body, err := asm.Assemble(src)
		must(err)
		must(h.SetInline(id, body))
	}
	inline(1, "mov %r0, %r1\nadd %r0, 1")
	inline(5, "mov %r0, %r1")
	return h
}

// Load loads the test's program in the test environment with the given
// instruction budget (0: the default), verified against
// TestProgramType(len(t.Mem)) with the test helpers.
func Load(t *Test, budget int64) (*ebpf.Program, error) {
	return LoadWith(t, ebpf.ProgramOptions{Budget: budget})
}

// LoadUnverified is Load without the verifier, for tests and benchmarks of
// the run-time checks (and of programs beyond the verifier's limits): the
// program then relies on those checks alone.
func LoadUnverified(t *Test, budget int64) (*ebpf.Program, error) {
	return LoadWith(t, ebpf.ProgramOptions{Budget: budget, Unverified: true})
}

// LoadWith loads the test's program with opts, completed with the test
// environment: the test helpers unless opts.Helpers is set, and
// TestProgramType(len(t.Mem)) unless opts.Type is set.
func LoadWith(t *Test, opts ebpf.ProgramOptions) (*ebpf.Program, error) {
	if opts.Helpers == nil {
		opts.Helpers = TestHelpers()
	}
	if opts.Type == nil {
		opts.Type = ebpf.TestProgramType(len(t.Mem))
	}
	return ebpf.NewProgram(&ebpf.ProgramSpec{Name: t.Name, Instructions: t.Program}, &opts)
}

// Execute runs p once on a fresh writable copy of the test's memory: r1 is
// its address (0 without memory) and r2 its length.
func Execute(p *ebpf.Program, t *Test) (uint64, error) {
	mem := append([]byte(nil), t.Mem...)
	return p.Run(mem)
}

// Check loads and runs the test and compares r0 with the expected result
// (or the error with the expected error text). The program is verified
// first (see Load).
func Check(t *Test, budget int64) error {
	return CheckWith(t, ebpf.ProgramOptions{Budget: budget})
}

// CheckUnverified is Check on a program loaded with LoadUnverified: what
// it checks is the run-time behaviour alone.
func CheckUnverified(t *Test, budget int64) error {
	return CheckWith(t, ebpf.ProgramOptions{Budget: budget, Unverified: true})
}

// CheckWith is Check on a program loaded with LoadWith(t, opts).
func CheckWith(t *Test, opts ebpf.ProgramOptions) error {
	p, err := LoadWith(t, opts)
	if err == nil {
		var r0 uint64
		r0, err = Execute(p, t)
		if err == nil {
			if t.HasError {
				return fmt.Errorf("got r0 = %#x, want error %q", r0, t.Error)
			}
			if r0 != t.Result {
				return fmt.Errorf("got r0 = %#x, want %#x", r0, t.Result)
			}
			return nil
		}
	}
	if t.HasError {
		if err.Error() == t.Error {
			return nil
		}
		return fmt.Errorf("got error %q, want error %q", err, t.Error)
	}
	return err
}
