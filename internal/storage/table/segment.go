package table

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// Format is how a column segment stores its values; the layouts are drawn in
// the package comment.
type Format uint8

// The segment formats.
const (
	FormatInvalid      Format = iota
	FormatUncompressed        // values at their physical width; VARCHAR: offsets and bytes
	FormatConstant            // one value for every row (or every row NULL)
	FormatBitPacked           // frame of reference: base + w-bit unsigned deltas
	FormatDictionary          // VARCHAR: distinct strings + w-bit codes
	numFormats
)

var formatNames = [numFormats]string{"invalid", "uncompressed", "constant", "bitpacked", "dictionary"}

// String returns the format's name ("bitpacked").
func (f Format) String() string {
	if f < numFormats {
		return formatNames[f]
	}
	return fmt.Sprintf("format(%d)", uint8(f))
}

// segHeaderSize is the size of a segment's header.
const segHeaderSize = 32

// segMagic is the first two bytes of every segment.
var segMagic = [2]byte{'S', 'G'}

// Segment header flags.
const (
	flagValidity = 1 << 0 // a validity bitmap follows the header
	flagAllNull  = 1 << 1 // every row is NULL (constant format, no body)
)

// maxDictionary is the most distinct strings a dictionary segment holds.
const maxDictionary = 1 << 16

// segHeader is a decoded segment header.
type segHeader struct {
	format Format
	phys   types.Physical
	width  int // bits per packed value, or bytes per uncompressed value
	flags  uint8
	count  int
	nulls  int
	base   uint64 // bitpacked: frame of reference; constant: the value's bits
	dictN  int    // dictionary: number of distinct strings
	body   int    // bytes after the header and the validity bitmap
}

// validityLen is the size of the validity bitmap: a u64 per 64 rows.
func (h *segHeader) validityLen() int {
	if h.flags&flagValidity == 0 {
		return 0
	}
	return (h.count + 63) / 64 * 8
}

func (h *segHeader) bodyOff() int { return segHeaderSize + h.validityLen() }

// size is the total size of the segment.
func (h *segHeader) size() int { return h.bodyOff() + h.body }

func (h *segHeader) encode(b []byte) {
	b[0], b[1] = segMagic[0], segMagic[1]
	b[2], b[3], b[4], b[5] = byte(h.format), byte(h.phys), byte(h.width), h.flags
	b[6], b[7] = 0, 0
	binary.LittleEndian.PutUint32(b[8:], uint32(h.count))
	binary.LittleEndian.PutUint32(b[12:], uint32(h.nulls))
	binary.LittleEndian.PutUint64(b[16:], h.base)
	binary.LittleEndian.PutUint32(b[24:], uint32(h.dictN))
	binary.LittleEndian.PutUint32(b[28:], uint32(h.body))
}

// errSegment wraps every problem found in a segment's bytes.
var errSegment = errors.New("bad segment")

func segErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errSegment}, args...)...)
}

// fixedWidth is the uncompressed width in bytes of a fixed physical type.
func fixedWidth(p types.Physical) int {
	if p == types.PhysBool {
		return 1
	}
	return p.Width()
}

// decodeSegHeader decodes and checks the header of a segment of total bytes
// holding values of physical type phys. Everything the decoders rely on is
// checked here or, for offsets and codes, where they are read.
func decodeSegHeader(b []byte, total int, phys types.Physical) (segHeader, error) {
	var h segHeader
	if len(b) < segHeaderSize || total < segHeaderSize {
		return h, segErr("%d bytes, shorter than the %d-byte header", total, segHeaderSize)
	}
	if b[0] != segMagic[0] || b[1] != segMagic[1] {
		return h, segErr("magic %02x%02x, want %02x%02x", b[0], b[1], segMagic[0], segMagic[1])
	}
	h.format, h.phys, h.width, h.flags = Format(b[2]), types.Physical(b[3]), int(b[4]), b[5]
	h.count = int(binary.LittleEndian.Uint32(b[8:]))
	h.nulls = int(binary.LittleEndian.Uint32(b[12:]))
	h.base = binary.LittleEndian.Uint64(b[16:])
	h.dictN = int(binary.LittleEndian.Uint32(b[24:]))
	h.body = int(binary.LittleEndian.Uint32(b[28:]))
	switch {
	case b[6] != 0 || b[7] != 0 || h.flags&^(flagValidity|flagAllNull) != 0:
		return h, segErr("reserved header bits set")
	case h.phys != phys:
		return h, segErr("physical type %v, want %v", h.phys, phys)
	case h.count == 0 || h.count > RowGroupSize:
		return h, segErr("%d rows, want 1 to %d", h.count, RowGroupSize)
	case h.nulls > h.count:
		return h, segErr("%d NULLs in %d rows", h.nulls, h.count)
	case (h.flags&flagAllNull != 0) != (h.nulls == h.count):
		return h, segErr("all-NULL flag disagrees with %d NULLs in %d rows", h.nulls, h.count)
	case (h.flags&flagValidity != 0) != (h.nulls > 0 && h.nulls < h.count):
		return h, segErr("validity flag disagrees with %d NULLs in %d rows", h.nulls, h.count)
	case h.format != FormatDictionary && h.dictN != 0:
		return h, segErr("dictionary size %d in a %v segment", h.dictN, h.format)
	case h.size() != total:
		return h, segErr("header describes %d bytes, segment has %d", h.size(), total)
	}
	fixed := phys != types.PhysString
	var want int // the body size the format implies; -1: checked below
	switch h.format {
	case FormatUncompressed:
		if fixed {
			if h.width != fixedWidth(phys) {
				return h, segErr("uncompressed width %d, want %d", h.width, fixedWidth(phys))
			}
			want = h.count * h.width
		} else {
			if h.width != 0 {
				return h, segErr("uncompressed string width %d", h.width)
			}
			want = -1
			if h.body < 4*(h.count+1) {
				return h, segErr("body of %d bytes cannot hold %d offsets", h.body, h.count+1)
			}
		}
	case FormatConstant:
		if h.width != 0 {
			return h, segErr("constant width %d", h.width)
		}
		want = 0
		if !fixed && h.flags&flagAllNull == 0 {
			want = -1 // the string itself
		}
		if h.flags&flagAllNull != 0 && h.base != 0 {
			return h, segErr("all-NULL segment with a value")
		}
	case FormatBitPacked:
		maxw := 64
		switch phys {
		case types.PhysInt32:
			maxw = 32
		case types.PhysBool:
			maxw = 1
		case types.PhysInt64:
		default:
			return h, segErr("bitpacked %v", phys)
		}
		if h.width > maxw {
			return h, segErr("bit width %d, at most %d for %v", h.width, maxw, phys)
		}
		want = packedLen(h.count, h.width)
	case FormatDictionary:
		if fixed {
			return h, segErr("dictionary of %v", phys)
		}
		if h.dictN == 0 || h.dictN > maxDictionary || h.width > 16 || h.dictN > 1<<h.width {
			return h, segErr("dictionary of %d strings with %d-bit codes", h.dictN, h.width)
		}
		want = -1
		if h.body < 4*(h.dictN+1)+packedLen(h.count, h.width) {
			return h, segErr("body of %d bytes cannot hold a dictionary of %d and %d codes", h.body, h.dictN, h.count)
		}
	default:
		return h, segErr("unknown format %d", h.format)
	}
	if want >= 0 && h.body != want {
		return h, segErr("%v body of %d bytes, want %d", h.format, h.body, want)
	}
	if h.format == FormatConstant && phys == types.PhysBool && h.base > 1 {
		return h, segErr("constant boolean %d", h.base)
	}
	return h, nil
}

// colData is the rows of one column of a row group being built: the typed
// values (a NULL row holds the zero value) and a validity bitmap.
type colData struct {
	typ   types.Type
	n     int
	nulls int
	valid []uint64 // bit i = 1: row i is not NULL; RowGroupSize/64 words
	b     []bool
	i32   []int32
	i64   []int64
	f64   []float64
	offs  []uint32 // VARCHAR: n+1 offsets into data
	data  []byte
	// Scratch of encodeSegment, reused from row group to row group.
	seg   []byte
	codes []uint64
}

func newColData(t types.Type) *colData {
	c := &colData{typ: t, valid: make([]uint64, RowGroupSize/64)}
	c.reset()
	return c
}

func (c *colData) reset() {
	c.n, c.nulls = 0, 0
	clear(c.valid)
	c.b, c.i32, c.i64, c.f64 = c.b[:0], c.i32[:0], c.i64[:0], c.f64[:0]
	c.offs, c.data = append(c.offs[:0], 0), c.data[:0]
}

func (c *colData) isValid(i int) bool { return c.valid[i>>6]>>(i&63)&1 != 0 }

func (c *colData) str(i int) []byte { return c.data[c.offs[i]:c.offs[i+1]] }

// zone is the zone map of a segment: the least and greatest non-NULL values.
// For VARCHAR, a minimum longer than maxZoneString is stored as its prefix
// (still a lower bound, but inexact) and such a maximum is not stored.
type zone struct {
	has    bool // some row is not NULL
	min    types.Value
	max    types.Value
	hasMax bool
	exact  bool // min and max are the true values
}

// maxZoneString is the longest VARCHAR a zone map stores whole.
const maxZoneString = 64

// encoded is a segment ready to be written; its bytes belong to the colData
// that encoded it, valid until that encodes again.
type encoded struct {
	bytes  []byte
	format Format
	nulls  int
	zone   zone
}

// encodeSegment compresses a column of a row group: it measures the size of
// each format that applies and builds the smallest. Constant wins whenever it
// applies; bitpacked and dictionary only when strictly smaller than
// uncompressed.
func encodeSegment(c *colData) encoded {
	h := segHeader{phys: c.typ.Physical(), count: c.n, nulls: c.nulls}
	if c.nulls == c.n {
		h.format, h.flags = FormatConstant, flagAllNull
		return finishBody(h, c, nil, zone{})
	}
	if c.nulls > 0 {
		h.flags = flagValidity
	}
	switch h.phys {
	case types.PhysBool:
		ints := make([]int32, c.n)
		for i, v := range c.b[:c.n] {
			if v {
				ints[i] = 1
			}
		}
		return encodeInts(h, c, ints)
	case types.PhysInt32:
		return encodeInts(h, c, c.i32[:c.n])
	case types.PhysInt64:
		return encodeInts(h, c, c.i64[:c.n])
	case types.PhysFloat64:
		return encodeFloats(h, c)
	case types.PhysString:
		return encodeStrings(h, c)
	}
	panic(fmt.Sprintf("BUG: encode segment of %v", c.typ))
}

// newSegment returns a zeroed segment of h with a body of bodyLen bytes, and
// its body, for the encoder to fill. The bytes are c's scratch buffer, valid
// until c encodes again.
func newSegment(c *colData, h *segHeader, bodyLen int) (seg, body []byte) {
	h.body = bodyLen
	if cap(c.seg) < h.size() {
		c.seg = make([]byte, h.size())
	}
	seg = c.seg[:h.size()]
	clear(seg)
	return seg, seg[h.bodyOff():]
}

// finish writes the header and the validity bitmap of seg (from newSegment).
func finish(h segHeader, c *colData, seg []byte, z zone) encoded {
	h.encode(seg)
	if h.flags&flagValidity != 0 {
		for i := range (h.count + 63) / 64 {
			binary.LittleEndian.PutUint64(seg[segHeaderSize+8*i:], c.valid[i])
		}
	}
	z.exact = z.exact || !z.has
	return encoded{bytes: seg, format: h.format, nulls: h.nulls, zone: z}
}

// finishBody is finish for a body built separately.
func finishBody(h segHeader, c *colData, body []byte, z zone) encoded {
	seg, dst := newSegment(c, &h, len(body))
	copy(dst, body)
	return finish(h, c, seg, z)
}

// value boxes an integer of the column's type.
func intValue(t types.Type, x int64) types.Value {
	switch t.ID() {
	case types.Boolean:
		return types.BoolValue(x != 0)
	case types.Integer:
		return types.IntegerValue(int32(x))
	case types.Date:
		return types.DateValue(int32(x))
	case types.Decimal:
		return types.DecimalValue(x, t)
	}
	return types.BigIntValue(x)
}

func encodeInts[T int32 | int64](h segHeader, c *colData, vals []T) encoded {
	lo, hi, first := int64(0), int64(0), true
	if c.nulls == 0 {
		if len(vals) > 0 {
			lo, hi = int64(vals[0]), int64(vals[0])
		}
		for _, v := range vals {
			lo, hi = min(lo, int64(v)), max(hi, int64(v))
		}
	} else {
		for i, v := range vals {
			if !c.isValid(i) {
				continue
			}
			if first {
				lo, hi, first = int64(v), int64(v), false
			} else {
				lo, hi = min(lo, int64(v)), max(hi, int64(v))
			}
		}
	}
	z := zone{has: true, min: intValue(c.typ, lo), max: intValue(c.typ, hi), hasMax: true, exact: true}
	if lo == hi {
		h.format, h.base = FormatConstant, uint64(lo)
		seg, _ := newSegment(c, &h, 0)
		return finish(h, c, seg, z)
	}
	w := bitWidth(uint64(hi) - uint64(lo))
	uw := fixedWidth(h.phys)
	if packedLen(h.count, w) < h.count*uw {
		h.format, h.width, h.base = FormatBitPacked, w, uint64(lo)
		seg, body := newSegment(c, &h, packedLen(h.count, w))
		packFOR(body, vals, lo, w, c)
		return finish(h, c, seg, z)
	}
	h.format, h.width = FormatUncompressed, uw
	seg, body := newSegment(c, &h, h.count*uw)
	for i, v := range vals {
		switch uw {
		case 1:
			body[i] = byte(v)
		case 4:
			binary.LittleEndian.PutUint32(body[4*i:], uint32(v))
		default:
			binary.LittleEndian.PutUint64(body[8*i:], uint64(v))
		}
	}
	return finish(h, c, seg, z)
}

// packFOR bit-packs vals as w-bit deltas from lo into dst (zeroed,
// packedLen bytes); a NULL row of c gets delta 0.
func packFOR[T int32 | int64](dst []byte, vals []T, lo int64, w int, c *colData) {
	var acc uint64 // bits not yet written, from bit 0
	nacc, off := 0, 0
	for i, x := range vals {
		v := uint64(int64(x)) - uint64(lo)
		if c.nulls > 0 && !c.isValid(i) {
			v = 0
		}
		acc |= v << uint(nacc)
		nacc += w
		if nacc >= 64 {
			binary.LittleEndian.PutUint64(dst[off:], acc)
			off += 8
			nacc -= 64
			acc = v >> uint(w-nacc) // the bits that did not fit (0 if none)
		}
	}
	for k := 0; k < (nacc+7)/8; k++ {
		dst[off+k] = byte(acc >> (8 * k))
	}
}

func encodeFloats(h segHeader, c *colData) encoded {
	var lo, hi float64
	first, constant := true, true
	var bits uint64
	for i, v := range c.f64[:c.n] {
		if c.nulls > 0 && !c.isValid(i) {
			continue
		}
		if first {
			lo, hi, bits, first = v, v, math.Float64bits(v), false
			continue
		}
		constant = constant && math.Float64bits(v) == bits
		if types.Compare(types.DoubleValue(v), types.DoubleValue(lo)) < 0 {
			lo = v
		}
		if types.Compare(types.DoubleValue(v), types.DoubleValue(hi)) > 0 {
			hi = v
		}
	}
	z := zone{has: true, min: types.DoubleValue(lo), max: types.DoubleValue(hi), hasMax: true, exact: true}
	if constant {
		h.format, h.base = FormatConstant, bits
		return finishBody(h, c, nil, z)
	}
	h.format, h.width = FormatUncompressed, 8
	seg, body := newSegment(c, &h, 8*h.count)
	for i, v := range c.f64[:c.n] {
		binary.LittleEndian.PutUint64(body[8*i:], math.Float64bits(v))
	}
	return finish(h, c, seg, z)
}

func encodeStrings(h segHeader, c *colData) encoded {
	var lo, hi []byte
	first := true
	dict := make(map[string]int)
	var order []int // a row holding each distinct string, in code order
	if cap(c.codes) < c.n {
		c.codes = make([]uint64, c.n)
	}
	codes := c.codes[:c.n]
	clear(codes)
	dictBytes := 0
	for i := range c.n {
		if c.nulls > 0 && !c.isValid(i) {
			continue
		}
		s := c.str(i)
		if dict != nil {
			code, ok := dict[string(s)]
			if ok {
				codes[i] = uint64(code)
				continue // seen: no new minimum or maximum
			}
			if len(dict) == maxDictionary {
				dict = nil // too many distinct strings
			} else {
				code = len(order)
				dict[string(s)] = code
				order = append(order, i)
				dictBytes += len(s)
				codes[i] = uint64(code)
			}
		}
		if first {
			lo, hi, first = s, s, false
		} else if string(s) < string(lo) {
			lo = s
		} else if string(s) > string(hi) {
			hi = s
		}
	}
	constant := dict != nil && len(order) == 1
	z := zone{has: true, hasMax: len(hi) <= maxZoneString, exact: len(lo) <= maxZoneString && len(hi) <= maxZoneString}
	z.min = types.VarcharValue(string(lo[:min(len(lo), maxZoneString)]))
	if z.hasMax {
		z.max = types.VarcharValue(string(hi))
	}
	if constant {
		h.format = FormatConstant
		return finishBody(h, c, lo, z)
	}
	plain := 4*(h.count+1) + int(c.offs[c.n])
	if dict != nil {
		w := bitWidth(uint64(len(order) - 1))
		size := 4*(len(order)+1) + dictBytes + packedLen(h.count, w)
		if size < plain {
			h.format, h.width, h.dictN = FormatDictionary, w, len(order)
			body := make([]byte, size)
			off := 4 * (len(order) + 1)
			for k, row := range order {
				binary.LittleEndian.PutUint32(body[4*k:], uint32(off-4*(len(order)+1)))
				off += copy(body[off:], c.str(row))
			}
			binary.LittleEndian.PutUint32(body[4*len(order):], uint32(dictBytes))
			pack(body[off:], codes, w)
			return finishBody(h, c, body, z)
		}
	}
	h.format = FormatUncompressed
	body := make([]byte, plain)
	for i := range c.n + 1 {
		binary.LittleEndian.PutUint32(body[4*i:], c.offs[i])
	}
	copy(body[4*(h.count+1):], c.data[:c.offs[c.n]])
	return finishBody(h, c, body, z)
}

// A source reads the bytes of one segment: view returns n bytes at offset
// off, valid until release (which must be called before the next view).
type source interface {
	view(off, n int) ([]byte, error)
	release()
}

// bytesSource is a segment held in one slice (tests, fuzzing).
type bytesSource []byte

func (s bytesSource) view(off, n int) ([]byte, error) {
	if off < 0 || n < 0 || off+n > len(s) {
		return nil, segErr("read of %d bytes at %d beyond the segment's %d", n, off, len(s))
	}
	return s[off : off+n], nil
}

func (bytesSource) release() {}

// segReader decodes one segment vector by vector.
type segReader struct {
	h     segHeader
	src   source
	typ   types.Type
	total int
	// VARCHAR: the dictionary (dictOffs has dictN+1 entries into dictData),
	// or the constant string.
	dictOffs []uint32
	dictData []byte
	constStr []byte
	codesOff int // offset of the dictionary's codes in the segment
	offs     []uint32
	ints     []int64 // scratch for BOOLEAN
}

// openSegment reads and checks the header of a segment of total bytes and,
// for VARCHAR, its dictionary or constant.
func openSegment(src source, total int, t types.Type) (*segReader, error) {
	b, err := src.view(0, min(total, segHeaderSize))
	if err != nil {
		return nil, err
	}
	h, err := decodeSegHeader(b, total, t.Physical())
	src.release()
	if err != nil {
		return nil, err
	}
	r := &segReader{h: h, src: src, typ: t, total: total}
	if h.phys != types.PhysString {
		return r, nil
	}
	switch {
	case h.format == FormatConstant && h.flags&flagAllNull == 0:
		b, err := src.view(h.bodyOff(), h.body)
		if err != nil {
			return nil, err
		}
		r.constStr = append([]byte(nil), b...)
		src.release()
	case h.format == FormatDictionary:
		n := 4 * (h.dictN + 1)
		b, err := src.view(h.bodyOff(), n)
		if err != nil {
			return nil, err
		}
		r.dictOffs = make([]uint32, h.dictN+1)
		for i := range r.dictOffs {
			r.dictOffs[i] = binary.LittleEndian.Uint32(b[4*i:])
		}
		src.release()
		dictLen := h.body - n - packedLen(h.count, h.width)
		if int(r.dictOffs[h.dictN]) != dictLen {
			return nil, segErr("dictionary of %d bytes, offsets say %d", dictLen, r.dictOffs[h.dictN])
		}
		for i := range h.dictN {
			if r.dictOffs[i] > r.dictOffs[i+1] {
				return nil, segErr("dictionary offsets decrease at %d", i)
			}
		}
		b, err = src.view(h.bodyOff()+n, dictLen)
		if err != nil {
			return nil, err
		}
		r.dictData = append([]byte(nil), b...)
		src.release()
		r.codesOff = h.bodyOff() + n + dictLen
	}
	return r, nil
}

// readVector decodes rows [k·vector.Size, k·vector.Size+n) into v (whose
// validity must be all valid, as after Reset).
func (r *segReader) readVector(k, n int, v *vector.Vector) error {
	h := &r.h
	first := k * vector.Size
	if k < 0 || n <= 0 || n > vector.Size || first+n > h.count {
		return segErr("vector %d of %d rows beyond the segment's %d rows", k, n, h.count)
	}
	if err := r.readData(first, n, v); err != nil {
		return err
	}
	// Validity last: setting string bytes marks a slot valid.
	switch {
	case h.flags&flagAllNull != 0:
		clear(v.Validity().Writable())
	case h.flags&flagValidity != 0:
		words := (n + 63) / 64
		b, err := r.src.view(segHeaderSize+first/8, words*8)
		if err != nil {
			return err
		}
		dst := v.Validity().Writable()
		for i := range words {
			dst[i] = binary.LittleEndian.Uint64(b[8*i:])
		}
		r.src.release()
	}
	return nil
}

func (r *segReader) readData(first, n int, v *vector.Vector) error {
	h := &r.h
	if h.flags&flagAllNull != 0 {
		return nil
	}
	switch h.format {
	case FormatConstant:
		switch h.phys {
		case types.PhysBool:
			fill(v.Bools()[:n], h.base != 0)
		case types.PhysInt32:
			fill(v.Int32s()[:n], int32(h.base))
		case types.PhysInt64:
			fill(v.Int64s()[:n], int64(h.base))
		case types.PhysFloat64:
			fill(v.Float64s()[:n], math.Float64frombits(h.base))
		case types.PhysString:
			for i := range n {
				v.SetBytes(i, r.constStr)
			}
		}
		return nil
	case FormatBitPacked:
		start := first * h.width / 8 // first is a multiple of 8
		b, err := r.src.view(h.bodyOff()+start, (n*h.width+7)/8+packPadding)
		if err != nil {
			return err
		}
		defer r.src.release()
		base := int64(h.base)
		switch h.phys {
		case types.PhysInt32:
			unpack(v.Int32s()[:n], b, h.width, base)
		case types.PhysInt64:
			unpack(v.Int64s()[:n], b, h.width, base)
		case types.PhysBool:
			if cap(r.ints) < vector.Size {
				r.ints = make([]int64, vector.Size)
			}
			unpack(r.ints[:n], b, h.width, base)
			dst := v.Bools()
			for i, x := range r.ints[:n] {
				dst[i] = x != 0
			}
		}
		return nil
	case FormatDictionary:
		start := first * h.width / 8
		b, err := r.src.view(r.codesOff+start, (n*h.width+7)/8+packPadding)
		if err != nil {
			return err
		}
		if cap(r.ints) < vector.Size {
			r.ints = make([]int64, vector.Size)
		}
		codes := r.ints[:n]
		unpack(codes, b, h.width, 0)
		r.src.release()
		for i, c := range codes {
			if c >= int64(h.dictN) {
				return segErr("dictionary code %d at row %d, dictionary has %d strings", c, first+i, h.dictN)
			}
			v.SetBytes(i, r.dictData[r.dictOffs[c]:r.dictOffs[c+1]])
		}
		return nil
	case FormatUncompressed:
		if h.phys == types.PhysString {
			return r.readStrings(first, n, v)
		}
		b, err := r.src.view(h.bodyOff()+first*h.width, n*h.width)
		if err != nil {
			return err
		}
		defer r.src.release()
		switch h.phys {
		case types.PhysBool:
			dst := v.Bools()
			for i := range n {
				dst[i] = b[i] != 0
			}
		case types.PhysInt32:
			dst := v.Int32s()[:n]
			for i := range dst {
				dst[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
			}
		case types.PhysInt64:
			dst := v.Int64s()[:n]
			for i := range dst {
				dst[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
			}
		case types.PhysFloat64:
			dst := v.Float64s()[:n]
			for i := range dst {
				dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
			}
		}
		return nil
	}
	return segErr("unknown format %d", h.format)
}

func (r *segReader) readStrings(first, n int, v *vector.Vector) error {
	h := &r.h
	b, err := r.src.view(h.bodyOff()+4*first, 4*(n+1))
	if err != nil {
		return err
	}
	if cap(r.offs) < vector.Size+1 {
		r.offs = make([]uint32, vector.Size+1)
	}
	offs := r.offs[:n+1]
	for i := range offs {
		offs[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	r.src.release()
	dataLen := uint32(h.body - 4*(h.count+1))
	for i := range n {
		if offs[i] > offs[i+1] || offs[i+1] > dataLen {
			return segErr("string offsets %d..%d at row %d outside the %d string bytes", offs[i], offs[i+1], first+i, dataLen)
		}
	}
	dataOff := h.bodyOff() + 4*(h.count+1)
	b, err = r.src.view(dataOff+int(offs[0]), int(offs[n]-offs[0]))
	if err != nil {
		return err
	}
	defer r.src.release()
	for i := range n {
		v.SetBytes(i, b[offs[i]-offs[0]:offs[i+1]-offs[0]])
	}
	return nil
}

func fill[T any](s []T, x T) {
	for i := range s {
		s[i] = x
	}
}
