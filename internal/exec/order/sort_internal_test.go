package order

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

// TestRadixSort checks radixSort against a stable comparison sort on
// inputs small and large (the most-significant-digit partition starts at
// msdMin entries), with digits that vary everywhere, only in the low
// bytes, only in the class, and not at all.
func TestRadixSort(t *testing.T) {
	r := vectortest.Rand(t)
	gens := map[string]func(*rand.Rand) entry{
		"random":   func(r *rand.Rand) entry { return entry{p: r.Uint64(), cls: uint8(r.IntN(3)), sub: uint8(r.IntN(10))} },
		"low byte": func(r *rand.Rand) entry { return entry{p: 1<<63 | uint64(r.IntN(256)), cls: clsValue} },
		"classes":  func(r *rand.Rand) entry { return entry{p: 42, cls: uint8(r.IntN(3))} },
		"equal":    func(r *rand.Rand) entry { return entry{p: 7, cls: clsValue, sub: 3} },
		"few": func(r *rand.Rand) entry {
			return entry{p: uint64(r.IntN(5)) << 40, cls: clsValue, sub: uint8(r.IntN(2))}
		},
	}
	for name, gen := range gens {
		for _, n := range []int{0, 1, 2, 64, 65, 1000, msdMin - 1, msdMin, 3 * msdMin} {
			es := make([]entry, n)
			for i := range es {
				es[i] = gen(r)
				es[i].ref = uint32(i) // the input order, to check stability
			}
			want := slices.Clone(es)
			slices.SortStableFunc(want, func(a, b entry) int {
				switch {
				case less(a, b):
					return -1
				case less(b, a):
					return 1
				}
				return 0
			})
			radixSort(es, make([]entry, n))
			if !slices.Equal(es, want) {
				t.Fatalf("%s, %d entries: radix sort differs from a stable sort", name, n)
			}
		}
	}
}
