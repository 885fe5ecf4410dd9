package table

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// FuzzCatalog decodes arbitrary catalog bytes: an error must wrap
// ErrCorrupt, and nothing may panic.
func FuzzCatalog(f *testing.F) {
	meta, lim := validCatalog(f)
	f.Add(meta)
	f.Add(meta[:len(meta)/2])
	f.Add([]byte("BTBL\x01\x01\x01t\x01\x01c\x03\x00\x00\x01\x05\x03\x00\x01\x00\x14\x01\x00\x00\x14"))
	f.Add([]byte("BTBL\x02\x01\x01t\x01\x01c\x03\x00\x00\x01\x05\x03\x00\x01\x00\x14\x01\x00\x00\x14\x02ab"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tables, _, err := decodeCatalog(b, lim)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%v does not wrap ErrCorrupt", err)
			}
			return
		}
		for _, td := range tables {
			for _, g := range td.groups {
				if g.rows < 1 || g.rows > RowGroupSize || len(g.segs) != len(td.cols) {
					t.Fatalf("table %q: row group of %d rows and %d segments accepted", td.name, g.rows, len(g.segs))
				}
			}
		}
	})
}

// FuzzSegment decodes arbitrary bytes as a segment of each type, every
// vector: errors are fine, panics are not.
func FuzzSegment(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	for ti, typ := range allTypes {
		for kind := range numKinds {
			for _, n := range []int{1, 100, vector.Size + 3} {
				vals := make([]types.Value, n)
				for i := range vals {
					vals[i] = genValue(r, typ, kind, i, 0.2)
				}
				f.Add(uint8(ti), encodeValues(typ, vals).bytes)
			}
		}
	}
	f.Fuzz(func(t *testing.T, ti uint8, b []byte) {
		typ := allTypes[int(ti)%len(allTypes)]
		sr, err := openSegment(bytesSource(b), len(b), typ)
		if err != nil {
			if !errors.Is(err, errSegment) {
				t.Fatalf("%v does not wrap errSegment", err)
			}
			return
		}
		v := vector.New(typ)
		for k := 0; k*vector.Size < sr.h.count; k++ {
			v.Reset()
			if err := sr.readVector(k, min(vector.Size, sr.h.count-k*vector.Size), v); err != nil {
				if !errors.Is(err, errSegment) {
					t.Fatalf("%v does not wrap errSegment", err)
				}
				return
			}
		}
	})
}
