package table

import (
	"bytes"
	"testing"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

// TestBitPack packs random values at every width 0..64 with both packers
// and unpacks them, at every start vector-aligned offset the scan uses.
func TestBitPack(t *testing.T) {
	r := vectortest.Rand(t)
	for w := 0; w <= 64; w++ {
		n := 1 + r.IntN(300)
		lo := int64(r.Uint64())
		vals := make([]int64, n)
		deltas := make([]uint64, n)
		for i := range vals {
			d := r.Uint64()
			if w < 64 {
				d &= 1<<w - 1
			}
			deltas[i] = d
			vals[i] = int64(uint64(lo) + d)
		}
		a := make([]byte, packedLen(n, w))
		b := make([]byte, packedLen(n, w))
		pack(a, deltas, w)
		packFOR(b, vals, lo, w, &colData{typ: types.BigIntType})
		if !bytes.Equal(a, b) {
			t.Fatalf("width %d: pack and packFOR differ:\n% x\n% x", w, a, b)
		}
		got := make([]int64, n)
		unpack(got, a, w, lo)
		for i := range got {
			if got[i] != vals[i] {
				t.Fatalf("width %d: value %d unpacks to %d, want %d", w, i, got[i], vals[i])
			}
		}
		// From an 8-value boundary (vector starts are multiples of 2048).
		if n > 8 {
			unpack(got[:n-8], a[w:], w, lo)
			for i := range n - 8 {
				if got[i] != vals[8+i] {
					t.Fatalf("width %d from value 8: value %d unpacks to %d, want %d", w, i, got[i], vals[8+i])
				}
			}
		}
	}
}
