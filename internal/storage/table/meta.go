package table

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/bpfdb/bpfdb/internal/storage/file"
	"github.com/bpfdb/bpfdb/internal/types"
)

// catalogMagic starts the catalog metadata.
var catalogMagic = [4]byte{'B', 'T', 'B', 'L'}

// catalogVersion is the version of the catalog encoding Checkpoint writes:
// 2 adds the caller's metadata (DB.SetExtra) after the tables. Open also
// reads version 1, which has none.
const catalogVersion = 2

// Zone flags in the catalog.
const (
	zoneHas    = 1 << 0
	zoneHasMax = 1 << 1
	zoneExact  = 1 << 2
)

// encodeCatalog serializes the tables and the caller's extra metadata
// (layout in the package comment). It takes each table's read lock in turn.
func encodeCatalog(tables []*Table, extra []byte) []byte {
	b := append([]byte(nil), catalogMagic[:]...)
	b = binary.AppendUvarint(b, catalogVersion)
	b = binary.AppendUvarint(b, uint64(len(tables)))
	for _, t := range tables {
		t.mu.RLock()
		b = appendString(b, t.name)
		b = binary.AppendUvarint(b, uint64(len(t.cols)))
		for _, c := range t.cols {
			b = appendString(b, c.Name)
			b = append(b, byte(c.Type.ID()), byte(c.Type.Precision()), byte(c.Type.Scale()))
		}
		b = binary.AppendUvarint(b, uint64(len(t.groups)))
		for _, g := range t.groups {
			b = binary.AppendUvarint(b, uint64(g.rows))
			for _, s := range g.segs {
				b = appendSegment(b, s)
			}
		}
		t.mu.RUnlock()
	}
	return appendString(b, string(extra))
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendSegment(b []byte, s *segment) []byte {
	b = append(b, byte(s.format))
	b = binary.AppendUvarint(b, uint64(s.nulls))
	var flags byte
	if s.zone.has {
		flags |= zoneHas
		if s.zone.hasMax {
			flags |= zoneHasMax
		}
		if s.zone.exact {
			flags |= zoneExact
		}
	}
	b = append(b, flags)
	if s.zone.has {
		b = appendValue(b, s.zone.min)
		if s.zone.hasMax {
			b = appendValue(b, s.zone.max)
		}
	}
	b = binary.AppendUvarint(b, uint64(s.size))
	b = binary.AppendUvarint(b, uint64(len(s.ext)))
	for _, e := range s.ext {
		if e.blk.id == file.NoBlock {
			panic("BUG: catalog names a block that was never written")
		}
		b = binary.AppendUvarint(b, uint64(e.blk.id))
		b = binary.AppendUvarint(b, uint64(e.off))
		b = binary.AppendUvarint(b, uint64(e.n))
	}
	return b
}

func appendValue(b []byte, v types.Value) []byte {
	switch v.Type().Physical() {
	case types.PhysBool:
		if v.Bool() {
			return append(b, 1)
		}
		return append(b, 0)
	case types.PhysInt32, types.PhysInt64:
		return binary.AppendVarint(b, v.Int64())
	case types.PhysFloat64:
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(v.Float64()))
	case types.PhysString:
		return appendString(b, v.Str())
	}
	panic(fmt.Sprintf("BUG: zone value of type %v", v.Type()))
}

// tableDesc is a decoded table before the DB resolves its blocks.
type tableDesc struct {
	name   string
	cols   []Column
	groups []*rowGroup
}

// catalogLimits are the facts about the file the decoder checks references
// against.
type catalogLimits struct {
	blocks  uint64 // blocks in the file
	payload int    // payload bytes per block
}

// metaReader reads the catalog, remembering the first error.
type metaReader struct {
	b   []byte
	off int
	err error
}

func (r *metaReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: at byte %d: %s", ErrCorrupt, r.off, fmt.Sprintf(format, args...))
	}
}

func (r *metaReader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	x, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail("bad %s", what)
		return 0
	}
	r.off += n
	return x
}

// count reads a uvarint that must be at most max.
func (r *metaReader) count(what string, max uint64) int {
	x := r.uvarint(what)
	if x > max {
		r.fail("%s %d exceeds %d", what, x, max)
		return 0
	}
	return int(x)
}

func (r *metaReader) varint(what string) int64 {
	if r.err != nil {
		return 0
	}
	x, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		r.fail("bad %s", what)
		return 0
	}
	r.off += n
	return x
}

func (r *metaReader) bytes(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.b)-r.off {
		r.fail("%s of %d bytes runs past the end", what, n)
		return nil
	}
	r.off += n
	return r.b[r.off-n : r.off]
}

func (r *metaReader) byte(what string) byte {
	b := r.bytes(1, what)
	if b == nil {
		return 0
	}
	return b[0]
}

func (r *metaReader) string(what string) string {
	n := r.count(what+" length", uint64(len(r.b)))
	return string(r.bytes(n, what))
}

func (r *metaReader) value(t types.Type) types.Value {
	switch t.Physical() {
	case types.PhysBool:
		b := r.byte("boolean")
		if b > 1 {
			r.fail("boolean %d", b)
		}
		return types.BoolValue(b == 1)
	case types.PhysInt32:
		x := r.varint("integer")
		if x != int64(int32(x)) {
			r.fail("integer %d does not fit %v", x, t)
		}
		return intValue(t, x)
	case types.PhysInt64:
		return intValue(t, r.varint("integer"))
	case types.PhysFloat64:
		b := r.bytes(8, "double")
		if b == nil {
			return types.DoubleValue(0)
		}
		return types.DoubleValue(math.Float64frombits(binary.LittleEndian.Uint64(b)))
	default:
		return types.VarcharValue(r.string("string"))
	}
}

// decodeCatalog parses the catalog and checks everything it can without
// reading blocks: counts, types, zone maps, and that every extent lies in a
// block of the file. Extents carry placeholder blocks holding only the id.
//
// It returns the tables and the caller's extra metadata (nil if none or
// empty).
func decodeCatalog(b []byte, lim catalogLimits) ([]tableDesc, []byte, error) {
	if len(b) == 0 {
		return nil, nil, nil
	}
	r := &metaReader{b: b}
	if m := r.bytes(4, "magic"); r.err == nil && string(m) != string(catalogMagic[:]) {
		r.fail("magic %q, want %q", m, catalogMagic[:])
	}
	version := r.uvarint("version")
	if r.err == nil && version != 1 && version != catalogVersion {
		r.fail("catalog version %d, want 1 to %d", version, catalogVersion)
	}
	if r.err != nil {
		return nil, nil, fmt.Errorf("catalog: %w", r.err)
	}
	n := r.count("table count", uint64(len(b)))
	var out []tableDesc
	names := map[string]bool{}
	for ti := 0; ti < n && r.err == nil; ti++ {
		td := r.table(lim)
		if r.err != nil {
			name := td.name
			if name == "" {
				name = fmt.Sprintf("#%d", ti)
			}
			return nil, nil, fmt.Errorf("table %q: %w", name, r.err)
		}
		if names[td.name] {
			return nil, nil, fmt.Errorf("table %q: %w: appears twice", td.name, ErrCorrupt)
		}
		names[td.name] = true
		out = append(out, td)
	}
	var extra []byte
	if version >= 2 {
		n := r.count("extra metadata length", uint64(len(b)))
		if e := r.bytes(n, "extra metadata"); len(e) > 0 {
			extra = slices.Clone(e)
		}
	}
	if r.err == nil && r.off != len(b) {
		r.fail("%d bytes after the catalog", len(b)-r.off)
	}
	if r.err != nil {
		return nil, nil, fmt.Errorf("catalog: %w", r.err)
	}
	return out, extra, nil
}

func (r *metaReader) table(lim catalogLimits) tableDesc {
	var td tableDesc
	td.name = r.string("table name")
	ncols := r.count("column count", uint64(len(r.b)))
	for range ncols {
		name := r.string("column name")
		id, p, s := types.ID(r.byte("type")), int(r.byte("precision")), int(r.byte("scale"))
		if r.err != nil {
			return td
		}
		var t types.Type
		switch id {
		case types.Decimal:
			var err error
			if t, err = types.DecimalType(p, s); err != nil {
				r.fail("column %q: %v", name, err)
				return td
			}
		case types.Boolean, types.Integer, types.BigInt, types.Double, types.Varchar, types.Date:
			if p != 0 || s != 0 {
				r.fail("column %q: %v with precision %d and scale %d", name, id, p, s)
				return td
			}
			t = types.New(id)
		default:
			r.fail("column %q: unknown type id %d", name, id)
			return td
		}
		td.cols = append(td.cols, Column{Name: name, Type: t})
	}
	if r.err != nil {
		return td
	}
	if err := checkColumns(td.name, td.cols); err != nil {
		r.fail("%v", err)
		return td
	}
	ngroups := r.count("row group count", uint64(len(r.b)))
	for g := 0; g < ngroups && r.err == nil; g++ {
		rows := r.count("row count", RowGroupSize)
		if r.err == nil && rows == 0 {
			r.fail("row group %d: no rows", g)
		}
		rg := &rowGroup{rows: rows}
		for _, c := range td.cols {
			s := r.segment(c.Type, rows, lim)
			if r.err != nil {
				r.err = fmt.Errorf("row group %d: column %q: %w", g, c.Name, r.err)
				return td
			}
			rg.segs = append(rg.segs, s)
		}
		td.groups = append(td.groups, rg)
	}
	return td
}

func (r *metaReader) segment(t types.Type, rows int, lim catalogLimits) *segment {
	s := &segment{}
	s.format = Format(r.byte("format"))
	if r.err == nil && (s.format == FormatInvalid || s.format >= numFormats) {
		r.fail("unknown segment format %d", s.format)
	}
	s.nulls = r.count("null count", uint64(rows))
	flags := r.byte("zone flags")
	if r.err != nil {
		return s
	}
	if flags&^(zoneHas|zoneHasMax|zoneExact) != 0 || (flags&zoneHas != 0) != (s.nulls < rows) {
		r.fail("zone flags %#x with %d NULLs in %d rows", flags, s.nulls, rows)
		return s
	}
	s.zone.has, s.zone.hasMax, s.zone.exact = flags&zoneHas != 0, flags&zoneHasMax != 0, flags&zoneExact != 0
	if s.zone.has {
		s.zone.min = r.value(t)
		if s.zone.hasMax {
			s.zone.max = r.value(t)
			if r.err == nil && types.Compare(s.zone.min, s.zone.max) > 0 {
				r.fail("zone map minimum %v above maximum %v", s.zone.min, s.zone.max)
			}
		}
	}
	s.size = r.count("segment size", math.MaxUint32)
	next := r.count("extent count", uint64(len(r.b)))
	if r.err == nil && s.size < segHeaderSize {
		r.fail("segment of %d bytes", s.size)
	}
	sum := 0
	for i := 0; i < next && r.err == nil; i++ {
		id := file.BlockID(r.uvarint("block"))
		off := r.count("extent offset", uint64(lim.payload))
		n := r.count("extent length", uint64(lim.payload))
		switch {
		case r.err != nil:
		case uint64(id) >= lim.blocks:
			r.fail("extent %d in block %d, the file has %d", i, id, lim.blocks)
		case n == 0 || off+n > lim.payload:
			r.fail("extent %d of %d bytes at %d does not fit a block payload of %d", i, n, off, lim.payload)
		}
		sum += n
		s.ext = append(s.ext, extent{blk: &dataBlock{id: id}, off: off, n: n})
	}
	if r.err == nil && sum != s.size {
		r.fail("extents hold %d bytes of a %d-byte segment", sum, s.size)
	}
	return s
}
