//go:build nohooks

package hooks

import (
	"errors"
	"os"
	"testing"

	"github.com/bpfdb/bpfdb/ext"
)

// TestCompiledOut checks the nohooks build: nothing can be attached and
// the sites are the built-in policies.
func TestCompiledOut(t *testing.T) {
	reg := New(Options{})
	obj, err := os.ReadFile("testdata/unpin.o")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Attach(ext.Unpin, obj, "unpin_scan"); !errors.Is(err, ErrDisabled) {
		t.Errorf("Attach: %v, want ErrDisabled", err)
	}
	if reg.Attached(ext.Unpin) != nil || !reg.HashSlot().Capture().Builtin() {
		t.Error("something is attached")
	}
}
