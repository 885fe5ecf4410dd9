//go:build invariants

package vector

import (
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/types"
)

// TestInvariantsCatchBadSelections runs only with -tags invariants.
func TestInvariantsCatchBadSelections(t *testing.T) {
	for name, f := range map[string]func(){
		"SetSel past the vector": func() { NewChunk([]types.Type{types.BigIntType}).SetSel(Selection{0, Size}, 2) },
		"Copy past the vector":   func() { Copy(New(types.BigIntType), Size-1, New(types.BigIntType), nil, 2) },
	} {
		func() {
			defer func() {
				if r, _ := recover().(string); !strings.HasPrefix(r, "BUG: ") {
					t.Errorf("%s: recovered %q, want a BUG panic", name, r)
				}
			}()
			f()
		}()
	}
}
