package ebpf_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ebpf/conformance"
)

// conformanceDir holds the bpf_conformance suite (see its README).
const conformanceDir = "../../shared/conformance/bpf_conformance"

// TestConformance runs every file of the bpf_conformance suite in the
// interpreter: all 313 must pass. Each file that verifies runs twice, with
// the checks of proven accesses skipped (the default, which Check uses)
// and with RuntimeChecks; both runs must give the same r0 or error and
// leave the same memory.
func TestConformance(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(conformanceDir, "*.data"))
	if err != nil || len(files) == 0 {
		t.Skipf("conformance suite not found at %s: it is part of ../shared", conformanceDir)
	}
	if len(files) != 313 {
		t.Errorf("found %d conformance files, want 313", len(files))
	}
	verified := 0
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			ct, err := conformance.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := conformance.Check(ct, 0); err != nil {
				t.Error(err)
			}
			unchecked, err := runConformance(ct, false)
			if err != nil {
				return // rejected by the verifier: Check compared the error
			}
			verified++
			checked, err := runConformance(ct, true)
			if err != nil {
				t.Fatalf("loads without RuntimeChecks but not with them: %v", err)
			}
			if checked != unchecked {
				t.Errorf("runs differ:\nwith checks:    %s\nwithout checks: %s", checked, unchecked)
			}
		})
	}
	// Nearly the whole suite verifies (see the verifier's exceptions), so
	// the comparison covers it.
	if verified < 300 {
		t.Errorf("only %d files verified; the differential run covers too little", verified)
	}
}

// runConformance loads ct as conformance.Load does, with or without
// RuntimeChecks, runs it once and describes the outcome: r0 or the error,
// and the memory afterwards.
func runConformance(ct *conformance.Test, checks bool) (string, error) {
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: ct.Name, Instructions: ct.Program},
		&ebpf.ProgramOptions{Helpers: conformance.TestHelpers(), Type: ebpf.TestProgramType(len(ct.Mem)), RuntimeChecks: checks})
	if err != nil {
		return "", err
	}
	mem := append([]byte(nil), ct.Mem...)
	r0, err := p.Run(mem)
	return fmt.Sprintf("r0=%#x err=%v mem=%x", r0, err, mem), nil
}
