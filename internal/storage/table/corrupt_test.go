package table

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/storage/file"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

// encodeValues encodes vals as one segment of type typ.
func encodeValues(typ types.Type, vals []types.Value) encoded {
	d := newColData(typ)
	for i := 0; i < len(vals); i += vector.Size {
		ch := vector.NewChunk([]types.Type{typ})
		for _, v := range vals[i:min(i+vector.Size, len(vals))] {
			ch.AppendRow(v)
		}
		d.appendRows(ch, 0, 0, ch.Len())
	}
	return encodeSegment(d)
}

// TestCorruptSegment writes segments whose bytes were damaged after encoding
// (so the file's block checksums are right) and scans them: each scan fails
// with an error wrapping ErrCorrupt that names the table, row group and
// column.
func TestCorruptSegment(t *testing.T) {
	ints := func(n int, f func(i int) int64) []types.Value {
		vals := make([]types.Value, n)
		for i := range vals {
			vals[i] = types.BigIntValue(f(i))
		}
		return vals
	}
	strs := func(n, k int) []types.Value {
		vals := make([]types.Value, n)
		for i := range vals {
			vals[i] = types.VarcharValue(strings.Repeat("s", i%k))
		}
		return vals
	}
	put32 := func(off int, x uint32) func([]byte) {
		return func(b []byte) { binary.LittleEndian.PutUint32(b[off:], x) }
	}
	for _, tc := range []struct {
		name   string
		typ    types.Type
		vals   []types.Value
		format Format
		damage func(b []byte)
		want   string
	}{
		{"magic", types.BigIntType, ints(3000, func(i int) int64 { return int64(i) }), FormatBitPacked,
			func(b []byte) { b[0] = 'X' }, "magic"},
		{"physical type", types.BigIntType, ints(3000, func(i int) int64 { return int64(i) }), FormatBitPacked,
			func(b []byte) { b[3] = byte(types.PhysInt32) }, "physical type"},
		{"width", types.BigIntType, ints(3000, func(i int) int64 { return int64(i) }), FormatBitPacked,
			func(b []byte) { b[4] = 65 }, "bit width 65"},
		{"rows", types.BigIntType, ints(3000, func(i int) int64 { return int64(i) }), FormatBitPacked,
			put32(8, 2999), "bytes"},
		{"format", types.BigIntType, ints(3000, func(i int) int64 { return int64(i) }), FormatBitPacked,
			func(b []byte) { b[2] = 9 }, "unknown format 9"},
		{"reserved", types.BigIntType, ints(3000, func(i int) int64 { return 5 }), FormatConstant,
			func(b []byte) { b[6] = 1 }, "reserved"},
		{"dictionary code", types.VarcharType, strs(3000, 3), FormatDictionary,
			func(b []byte) { b[len(b)-packPadding-1] = 0xff }, "dictionary code 3"},
		{"dictionary offsets", types.VarcharType, strs(3000, 3), FormatDictionary,
			put32(segHeaderSize+4, 7), "dictionary offsets decrease"},
		{"string offsets", types.VarcharType, strs(3000, 3000), FormatUncompressed,
			put32(segHeaderSize+4*2500, 1), "string offsets"},
		{"body size", types.DoubleType, []types.Value{types.DoubleValue(1), types.DoubleValue(2)}, FormatUncompressed,
			put32(28, 8), "header describes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, file.MinBlockSize, 0)
			tbl, err := e.db.CreateTable("t", []Column{{"a", types.BooleanType}, {"bad", tc.typ}})
			if err != nil {
				t.Fatal(err)
			}
			good := encodeValues(types.BooleanType, fillBools(len(tc.vals)))
			enc := encodeValues(tc.typ, tc.vals)
			if enc.format != tc.format {
				t.Fatalf("encoded as %v, want %v", enc.format, tc.format)
			}
			// A healthy row group first, then the damaged one.
			if err := tbl.publish(len(tc.vals), []encoded{good, encodeValues(tc.typ, tc.vals)}); err != nil {
				t.Fatal(err)
			}
			tc.damage(enc.bytes)
			if err := tbl.publish(len(tc.vals), []encoded{good, enc}); err != nil {
				t.Fatal(err)
			}
			if err := e.db.Checkpoint(); err != nil {
				t.Fatal(err)
			}
			e = e.reopen(t, 0)
			s, err := e.db.Table("t").Scan(ScanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			c := s.NewChunk()
			rows := 0
			for {
				ok, err := s.Next(c)
				if err != nil {
					msg := err.Error()
					if !errors.Is(err, ErrCorrupt) || !strings.Contains(msg, `table "t": row group 1: column "bad"`) || !strings.Contains(msg, tc.want) {
						t.Fatalf("error %q: want ErrCorrupt naming table, row group 1, column and %q", msg, tc.want)
					}
					t.Log(msg)
					break
				}
				if !ok {
					t.Fatal("the damaged segment scanned without error")
				}
				rows += c.Len()
			}
			if rows < len(tc.vals) {
				t.Fatalf("only %d rows of the healthy row group scanned", rows)
			}
		})
	}
}

func fillBools(n int) []types.Value {
	vals := make([]types.Value, n)
	for i := range vals {
		vals[i] = types.BoolValue(i%3 == 0)
	}
	return vals
}

// validCatalog returns the catalog of a small database with two tables.
func validCatalog(t testing.TB) ([]byte, catalogLimits) {
	e := newEnv(t, file.MinBlockSize, 0)
	r := vectortest.Rand(t)
	for _, name := range []string{"a", "b"} {
		tbl, err := e.db.CreateTable(name, columnsOf(allTypes))
		if err != nil {
			t.Fatal(err)
		}
		rows := genRows(r, allTypes, 3000, 1000, 0.2)
		appendRows(t, r, tbl, rows[:1000], vectortest.Configs[0])
		appendRows(t, r, tbl, rows[1000:], vectortest.Configs[0])
	}
	if err := e.db.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	return e.f.Metadata(), catalogLimits{blocks: e.f.Info().Blocks, payload: e.f.PayloadSize()}
}

// TestCorruptCatalog truncates and flips bytes of a catalog: decoding fails
// with ErrCorrupt or succeeds, never panics; and Open of a file whose
// catalog names a block past its end fails naming the table, row group and
// column.
func TestCorruptCatalog(t *testing.T) {
	meta, lim := validCatalog(t)
	if _, _, err := decodeCatalog(meta, lim); err != nil {
		t.Fatalf("valid catalog: %v", err)
	}
	for n := range len(meta) {
		if _, _, err := decodeCatalog(meta[:n], lim); n > 0 && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("catalog cut to %d of %d bytes: %v, want ErrCorrupt", n, len(meta), err)
		}
	}
	b := append([]byte(nil), meta...)
	failed := 0
	for i := range b {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			b[i] ^= x
			if _, _, err := decodeCatalog(b, lim); err != nil {
				failed++
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("byte %d ^ %#x: %v does not wrap ErrCorrupt", i, x, err)
				}
			}
			b[i] ^= x
		}
	}
	t.Logf("%d of %d flips detected", failed, 3*len(b))

	e := newEnv(t, file.MinBlockSize, 0)
	tbl, err := e.db.CreateTable("t", []Column{{"a", types.BigIntType}, {"b", types.VarcharType}})
	if err != nil {
		t.Fatal(err)
	}
	r := vectortest.Rand(t)
	rows := genRows(r, tbl.Types(), 20, 20, 0)
	appendRows(t, r, tbl, rows, vectortest.Configs[0])
	appendRows(t, r, tbl, rows, vectortest.Configs[0])
	if err := e.db.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	tbl.groups[1].segs[1].ext[0].blk = &dataBlock{id: 1 << 40}
	if err := e.f.Checkpoint(encodeCatalog([]*Table{tbl}, nil)); err != nil {
		t.Fatal(err)
	}
	e.close(t)
	f, err := file.Open(e.path, file.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := buffer.New(buffer.Options{File: f, Limit: 1 << 20, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	_, err = Open(f, m)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), `table "t": row group 1: column "b"`) || !strings.Contains(err.Error(), "block 1099511627776") {
		t.Fatalf("open: %v, want ErrCorrupt naming the table, row group, column and block", err)
	}
	t.Log(err)
}

// TestSegmentFlips flips every header byte and random body bytes of
// segments of every type and format and decodes every vector: a damaged
// segment gives an error or (for flipped values) other values, never a
// panic.
func TestSegmentFlips(t *testing.T) {
	r := vectortest.Rand(t)
	decodeAll := func(seg []byte, typ types.Type) error {
		sr, err := openSegment(bytesSource(seg), len(seg), typ)
		if err != nil {
			return err
		}
		v := vector.New(typ)
		for k := 0; k*vector.Size < sr.h.count; k++ {
			v.Reset()
			if err := sr.readVector(k, min(vector.Size, sr.h.count-k*vector.Size), v); err != nil {
				return err
			}
		}
		return nil
	}
	detected, total := 0, 0
	for _, typ := range allTypes {
		for kind := range numKinds {
			vals := make([]types.Value, vector.Size+100)
			for i := range vals {
				vals[i] = genValue(r, typ, kind, i, 0.2)
			}
			seg := encodeValues(typ, vals).bytes
			positions := make([]int, 0, segHeaderSize+64)
			for i := range min(segHeaderSize, len(seg)) {
				positions = append(positions, i)
			}
			for range 64 {
				positions = append(positions, r.IntN(len(seg)))
			}
			for _, i := range positions {
				for _, x := range []byte{0x01, 0x10, 0x80, 0xff} {
					seg[i] ^= x
					if err := decodeAll(seg, typ); err != nil {
						detected++
						if !errors.Is(err, errSegment) {
							t.Fatalf("%v: byte %d ^ %#x: %v does not wrap errSegment", typ, i, x, err)
						}
					}
					total++
					seg[i] ^= x
				}
			}
		}
	}
	t.Logf("%d of %d flips detected (the rest changed values only)", detected, total)
}
