package ebpf_test

import (
	"path/filepath"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf/conformance"
)

// conformanceDir holds the bpf_conformance suite (see its README).
const conformanceDir = "../../shared/conformance/bpf_conformance"

// TestConformance runs every file of the bpf_conformance suite in the
// interpreter: all 313 must pass.
func TestConformance(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(conformanceDir, "*.data"))
	if err != nil || len(files) == 0 {
		t.Skipf("conformance suite not found at %s: it is part of ../shared", conformanceDir)
	}
	if len(files) != 313 {
		t.Errorf("found %d conformance files, want 313", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			ct, err := conformance.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := conformance.Check(ct, 0); err != nil {
				t.Error(err)
			}
		})
	}
}
