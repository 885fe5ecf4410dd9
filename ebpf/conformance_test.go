package ebpf_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ebpf/conformance"
)

// engines are the engines this build can run: the interpreter, and the
// JIT where it is supported.
func engines() []ebpf.Engine {
	if ebpf.JITSupported() {
		return []ebpf.Engine{ebpf.EngineInterpreter, ebpf.EngineJIT}
	}
	return []ebpf.Engine{ebpf.EngineInterpreter}
}

// conformanceDir holds the bpf_conformance suite (see its README).
const conformanceDir = "../../shared/conformance/bpf_conformance"

// TestConformance runs every file of the bpf_conformance suite on every
// engine, verified and not: all 313 must pass each way. Each file that
// verifies also runs with the checks of proven accesses skipped (the
// default) and with RuntimeChecks on every engine: all runs must give the
// same r0 or error and leave the same memory.
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
			for _, e := range engines() {
				for _, unverified := range []bool{false, true} {
					if err := conformance.CheckWith(ct, ebpf.ProgramOptions{Engine: e, Unverified: unverified}); err != nil {
						t.Errorf("%v, unverified %v: %v", e, unverified, err)
					}
				}
			}
			want, err := runConformance(ct, ebpf.EngineInterpreter, true)
			if err != nil {
				return // rejected by the verifier: Check compared the error
			}
			verified++
			for _, e := range engines() {
				for _, checks := range []bool{false, true} {
					got, err := runConformance(ct, e, checks)
					if err != nil {
						t.Fatalf("%v, RuntimeChecks %v: does not load: %v", e, checks, err)
					}
					if got != want {
						t.Errorf("runs differ:\ninterpreter with checks: %s\n%v, RuntimeChecks %v: %s", want, e, checks, got)
					}
				}
			}
		})
	}
	// Nearly the whole suite verifies (see the verifier's exceptions), so
	// the comparison covers it.
	if verified < 300 {
		t.Errorf("only %d files verified; the differential run covers too little", verified)
	}
}

// runConformance loads ct as conformance.Load does, on the engine and with
// or without RuntimeChecks, runs it once and describes the outcome: r0 or the error,
// and the memory afterwards.
func runConformance(ct *conformance.Test, engine ebpf.Engine, checks bool) (string, error) {
	p, err := conformance.LoadWith(ct, ebpf.ProgramOptions{Engine: engine, RuntimeChecks: checks})
	if err != nil {
		return "", err
	}
	mem := append([]byte(nil), ct.Mem...)
	r0, err := p.Run(mem)
	return fmt.Sprintf("r0=%#x err=%v mem=%x", r0, err, mem), nil
}
