package collect

import (
	"errors"
	"testing"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

// TestPageRoundTrip encodes chunks of every type with and without NULLs
// and decodes them back; every truncation of a page, and a page with bytes
// left over, is a corrupt-page error, never a panic.
func TestPageRoundTrip(t *testing.T) {
	r := vectortest.Rand(t)
	ts := []types.Type{
		types.BigIntType, types.IntegerType, types.DoubleType, types.VarcharType,
		types.MustDecimal(15, 2), types.DateType, types.BooleanType,
	}
	for _, n := range []int{0, 1, 63, 64, 65, vector.Size} {
		n = min(n, vector.Size)
		for _, nulls := range []float64{0, 0.3} {
			rows := vectortest.Rows(r, ts, n, nulls)
			c := vector.NewChunk(ts)
			for _, row := range rows {
				c.AppendRow(row...)
			}
			buf := make([]byte, encodedSize(c))
			encode(buf, c)
			out := vector.NewChunk(ts)
			if err := decode(buf, out); err != nil {
				t.Fatalf("%d rows: %v", n, err)
			}
			if g, w := vectortest.Format(vectortest.Collect(out)), vectortest.Format(rows); g != w {
				t.Fatalf("%d rows, nulls %v: round trip differs\n got: %.200s\nwant: %.200s", n, nulls, g, w)
			}
			if n > 65 {
				continue // truncations of the small pages cover every field
			}
			for cut := range len(buf) {
				out.Reset()
				if err := decode(buf[:cut], out); !errors.Is(err, errCorrupt) {
					t.Fatalf("%d rows cut to %d of %d bytes: err = %v, want a corrupt page", n, cut, len(buf), err)
				}
			}
			out.Reset()
			if err := decode(append(buf, 0), out); !errors.Is(err, errCorrupt) {
				t.Fatalf("%d rows with a byte more: err = %v", n, err)
			}
		}
	}
}
