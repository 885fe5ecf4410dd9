package table

import (
	"flag"
	"fmt"
	"github.com/bpfdb/bpfdb/internal/testutil/datadriven"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata golden files with the actual output")

// TestFormats is the golden test of format choice: for given values (encode)
// or generated columns of representative data (gen), the format picked, its
// size and zone map. Every encoded segment is decoded again and compared.
//
//	encode type=T            values one per line (NULL is NULL)
//	dump type=T              the same, printing the segment's bytes
//	gen type=T rows=N data=D generated data (see genColumn)
func TestFormats(t *testing.T) {
	datadriven.Run(t, "testdata/formats", *rewrite, func(t *testing.T, c *datadriven.Case) string {
		typ, err := types.ParseType(c.Arg(t, "type"))
		if err != nil {
			t.Fatalf("line %d: %v", c.Line, err)
		}
		var vals []types.Value
		switch c.Cmd {
		case "encode", "dump":
			for _, l := range c.Input {
				if l == "NULL" {
					vals = append(vals, types.Null(typ))
					continue
				}
				v, err := types.ParseValue(typ, l)
				if err != nil {
					t.Fatalf("line %d: %v", c.Line, err)
				}
				vals = append(vals, v)
			}
		case "gen":
			n, err := strconv.Atoi(c.Arg(t, "rows"))
			if err != nil {
				t.Fatalf("line %d: %v", c.Line, err)
			}
			vals = genColumn(t, typ, c.Arg(t, "data"), n)
		default:
			t.Fatalf("line %d: unknown command %s", c.Line, c.Cmd)
		}
		d := newColData(typ)
		for i := 0; i < len(vals); i += vector.Size {
			ch := vector.NewChunk([]types.Type{typ})
			for _, v := range vals[i:min(i+vector.Size, len(vals))] {
				ch.AppendRow(v)
			}
			d.appendRows(ch, 0, 0, ch.Len())
		}
		enc := encodeSegment(d)
		checkDecode(t, enc.bytes, typ, vals)
		if c.Cmd == "dump" {
			return hexDump(enc.bytes)
		}
		z := enc.zone
		zs := "none"
		if z.has {
			zs = fmt.Sprintf("%v..%v", z.min, z.max)
			if !z.hasMax {
				zs = fmt.Sprintf("%v..?", z.min)
			}
		}
		out := fmt.Sprintf("%v rows=%d nulls=%d bytes=%d zone=%s", enc.format, len(vals), enc.nulls, len(enc.bytes), zs)
		if c.Cmd == "gen" {
			plain := plainSize(d)
			out += fmt.Sprintf("\nbits/row=%.2f uncompressed=%d ratio=%.2f", float64(8*len(enc.bytes))/float64(len(vals)), plain, float64(plain)/float64(len(enc.bytes)))
		}
		return out
	})
}

// hexDump prints b 16 bytes a line with offsets.
func hexDump(b []byte) string {
	var sb strings.Builder
	for off := 0; off < len(b); off += 16 {
		fmt.Fprintf(&sb, "%04x ", off)
		for i := off; i < min(off+16, len(b)); i++ {
			fmt.Fprintf(&sb, " %02x", b[i])
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

// plainSize is the size d would take uncompressed.
func plainSize(d *colData) int {
	h := segHeader{count: d.n}
	if d.nulls > 0 && d.nulls < d.n {
		h.flags = flagValidity
	}
	if d.typ.Physical() == types.PhysString {
		return h.bodyOff() + 4*(d.n+1) + len(d.data)
	}
	return h.bodyOff() + d.n*fixedWidth(d.typ.Physical())
}

// checkDecode decodes seg vector by vector and compares it with vals.
func checkDecode(t *testing.T, seg []byte, typ types.Type, vals []types.Value) {
	t.Helper()
	r, err := openSegment(bytesSource(seg), len(seg), typ)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	v := vector.New(typ)
	for k := 0; k*vector.Size < len(vals); k++ {
		n := min(vector.Size, len(vals)-k*vector.Size)
		v.Reset()
		if err := r.readVector(k, n, v); err != nil {
			t.Fatalf("decode vector %d: %v", k, err)
		}
		for i := range n {
			got, want := v.Value(i), vals[k*vector.Size+i]
			if got.String() != want.String() || got.IsNull() != want.IsNull() {
				t.Fatalf("row %d decodes to %v, want %v", k*vector.Size+i, got, want)
			}
		}
	}
}

// genColumn generates n values of representative data, fixed seed:
//
//	seq        0, 1, 2, … (keys)
//	range:A:B  uniform in [A, B] (quantities, discounts, sizes)
//	dates      days from 1992-01-01 to 1998-12-31 (TPC-H order dates)
//	const      one value
//	flags:K    one of K short strings (return flags, ship modes)
//	words      random 10-40 character strings (comments)
//	random     uniform random doubles or full-range integers
//	nulls:P    "seq" with P percent NULLs
func genColumn(t *testing.T, typ types.Type, data string, n int) []types.Value {
	r := rand.New(rand.NewPCG(1, 2))
	kind, param, _ := strings.Cut(data, ":")
	num := func(s string) int64 {
		x, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("gen %s: %v", data, err)
		}
		return x
	}
	ofInt := func(x int64) types.Value {
		switch typ.ID() {
		case types.Double:
			return types.DoubleValue(float64(x))
		case types.Varchar:
			return types.VarcharValue(strconv.FormatInt(x, 10))
		}
		return intValue(typ, x)
	}
	vals := make([]types.Value, n)
	start, _ := types.ParseDate("1992-01-01")
	end, _ := types.ParseDate("1998-12-31")
	words := []string{"AIR", "MAIL", "SHIP", "TRUCK", "RAIL", "REG AIR", "FOB", "N", "R", "A", "F", "O"}
	for i := range vals {
		switch kind {
		case "seq":
			vals[i] = ofInt(int64(i))
		case "nulls":
			if r.Int64N(100) < num(param) {
				vals[i] = types.Null(typ)
			} else {
				vals[i] = ofInt(int64(i))
			}
		case "range":
			lo, hi, _ := strings.Cut(param, ":")
			vals[i] = ofInt(num(lo) + r.Int64N(num(hi)-num(lo)+1))
		case "dates":
			vals[i] = types.DateValue(start + int32(r.IntN(int(end-start+1))))
		case "const":
			vals[i] = ofInt(42)
		case "flags":
			vals[i] = types.VarcharValue(words[r.IntN(int(num(param)))])
		case "words":
			b := make([]byte, 10+r.IntN(31))
			for k := range b {
				b[k] = byte('a' + r.IntN(26))
			}
			vals[i] = types.VarcharValue(string(b))
		case "random":
			if typ.ID() == types.Double {
				vals[i] = types.DoubleValue(r.Float64() * 1e5)
			} else {
				vals[i] = ofInt(int64(r.Uint64()))
			}
		default:
			t.Fatalf("gen: unknown data %q", data)
		}
	}
	return vals
}

// TestSegmentReadsEveryVector checks readVector's bounds: a vector past the
// segment is an error, not a panic.
func TestSegmentReadsEveryVector(t *testing.T) {
	r := vectortest.Rand(t)
	for _, typ := range allTypes {
		for kind := range numKinds {
			d := newColData(typ)
			ch := vector.NewChunk([]types.Type{typ})
			for i := range min(100, vector.Size) {
				ch.AppendRow(genValue(r, typ, kind, i, 0.3))
			}
			d.appendRows(ch, 0, 0, ch.Len())
			enc := encodeSegment(d)
			sr, err := openSegment(bytesSource(enc.bytes), len(enc.bytes), typ)
			if err != nil {
				t.Fatal(err)
			}
			v := vector.New(typ)
			for _, bad := range [][2]int{{1, 1}, {0, 101}, {0, 0}, {-1, 5}} {
				if err := sr.readVector(bad[0], bad[1], v); err == nil {
					t.Errorf("%v kind %d: vector %d of %d rows: no error", typ, kind, bad[0], bad[1])
				}
			}
		}
	}
}
