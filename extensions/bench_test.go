package extensions_test

import (
	"testing"

	"github.com/bpfdb/bpfdb/extensions"
	"github.com/bpfdb/bpfdb/internal/hooks"
)

// BenchmarkAttach measures what ATTACH PROGRAM costs for each stock
// policy on each engine: verify the program against its hook's type,
// compile it, swap it into the slot (replacing the previous iteration's
// attachment, whose maps it reuses). The object is parsed once, at the
// first attach; later ones find it in the registry's cache.
func BenchmarkAttach(b *testing.B) {
	for _, p := range extensions.List() {
		for _, eng := range engines(b) {
			b.Run(p.Hook.String()+"/"+p.Name+"/"+eng.String(), func(b *testing.B) {
				obj := object(b, p.Hook, p.Name)
				reg := hooks.New(hooks.Options{Engine: eng, Logf: func(string, ...any) {}})
				for b.Loop() {
					if _, err := reg.Attach(p.Hook, obj, ""); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
