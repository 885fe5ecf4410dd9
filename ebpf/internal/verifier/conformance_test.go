package verifier_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/conformance"
	"github.com/bpfdb/bpfdb/ebpf/internal/core"
	"github.com/bpfdb/bpfdb/ebpf/internal/verifier"
)

const conformanceDir = "../../../../shared/conformance/bpf_conformance"

// testHelpers are the generic helpers' prototypes, with ids 1 and 5
// replaced by the conformance test helpers (ArgScalar, scalar result).
func testHelpers() map[int32]core.Prototype {
	m := map[int32]core.Prototype{}
	for _, h := range ebpf.DefaultHelpers().All() {
		m[h.ID] = h.Proto
	}
	for _, h := range conformance.TestHelpers().All() {
		m[h.ID] = h.Proto
	}
	return m
}

func genericHelpers() map[int32]core.Prototype {
	m := map[int32]core.Prototype{}
	for _, h := range ebpf.DefaultHelpers().All() {
		m[h.ID] = h.Proto
	}
	return m
}

// conformanceRejected lists the conformance programs the verifier rejects,
// with the code of the reason. The test fails when the set changes.
var conformanceRejected = map[string]verifier.Code{}

func TestConformanceVerifies(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(conformanceDir, "*.data"))
	if err != nil || len(files) == 0 {
		t.Skipf("conformance suite not found at %s", conformanceDir)
	}
	helpers := testHelpers()
	accepted := 0
	var got []string
	for _, file := range files {
		ct, err := conformance.ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		_, err = verifier.Verify(ct.Program, verifier.Config{Type: core.TestProgramType(len(ct.Mem)), Helpers: helpers})
		want, rejected := conformanceRejected[ct.Name]
		if err == nil {
			accepted++
			if rejected {
				t.Errorf("%s: accepted, but listed as rejected (%s)", ct.Name, want)
			}
			continue
		}
		got = append(got, ct.Name)
		ve, ok := err.(*verifier.Error)
		if !ok {
			t.Errorf("%s: error is %T, not *verifier.Error: %v", ct.Name, err, err)
			continue
		}
		if !rejected || ve.Code != want {
			t.Errorf("%s: rejected (%s): %v\n%s", ct.Name, ve.Code, err, ve.Log)
		}
	}
	for name := range conformanceRejected {
		if !slices.Contains(got, name) {
			t.Errorf("%s: listed as rejected but not rejected", name)
		}
	}
	t.Logf("accepted %d of %d conformance programs; rejected: %s", accepted, len(files), strings.Join(got, ", "))
}

const benchProgsDir = "../../../../shared/bench-progs"

// benchRejected lists the bench programs the verifier rejects, with the
// code of the reason.
// (loop1m, a counted loop of 1,000,000 iterations, was rejected as too
// complex before loops were widened.)
var benchRejected = map[string]verifier.Code{}

// TestBenchProgsVerify verifies the runtime's benchmark programs against
// the test type.
func TestBenchProgsVerify(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(benchProgsDir, "*.data"))
	if err != nil || len(files) == 0 {
		t.Skipf("bench programs not found at %s", benchProgsDir)
	}
	for _, file := range files {
		ct, err := conformance.ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		res, err := verifier.Verify(ct.Program, verifier.Config{Type: core.TestProgramType(len(ct.Mem)), Helpers: testHelpers()})
		want, rejected := benchRejected[ct.Name]
		var ve *verifier.Error
		switch {
		case err == nil && rejected:
			t.Errorf("%s: accepted, but listed as rejected (%s)", ct.Name, want)
		case err == nil:
			t.Logf("%s: accepted, %d instructions processed, %d states", ct.Name, res.Processed, res.States)
		case !errors.As(err, &ve) || !rejected || ve.Code != want:
			t.Errorf("%s: %v", ct.Name, err)
		}
	}
}

// TestTestHelpersTakeScalars: the test helpers hand their argument back, so
// passing them a pointer must be rejected, or a verified program could turn
// a pointer into a number.
func TestTestHelpersTakeScalars(t *testing.T) {
	for _, id := range []int{1, 5} {
		src := fmt.Sprintf("mov %%r1, %%r10\ncall %d\nexit", id)
		insns, err := asm.Assemble(src)
		if err != nil {
			t.Fatal(err)
		}
		_, err = verifier.Verify(insns, verifier.Config{Type: core.TestProgramType(0), Helpers: testHelpers()})
		var ve *verifier.Error
		if !errors.As(err, &ve) || ve.Code != verifier.CodeHelperArg {
			t.Errorf("helper %d with a stack pointer: err = %v, want a %s rejection", id, err, verifier.CodeHelperArg)
		}
	}
}
