package table

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/bpfdb/bpfdb/internal/types"
)

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

// reserve gives c (empty) the capacity of like's values.
func (c *colData) reserve(like *colData) {
	c.b = make([]bool, 0, len(like.b))
	c.i32 = make([]int32, 0, len(like.i32))
	c.i64 = make([]int64, 0, len(like.i64))
	c.f64 = make([]float64, 0, len(like.f64))
	c.offs = append(make([]uint32, 0, len(like.offs)), 0)
	c.data = make([]byte, 0, len(like.data)+len(like.data)/8)
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

// dictProbe is the number of rows after which a dictionary is given up as
// soon as more than half the rows seen are distinct: each string would then
// be stored about once anyway, and building the map costs more than the
// codes could save.
const dictProbe = 1024

// smallDictionary is the most distinct strings looked up by comparison
// rather than through the map.
const smallDictionary = 16

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
			code, ok := -1, false
			if len(order) <= smallDictionary {
				// Few strings so far: comparing them beats hashing.
				for k, row := range order {
					if string(c.str(row)) == string(s) {
						code, ok = k, true
						break
					}
				}
			} else {
				code, ok = dict[string(s)]
			}
			if ok {
				codes[i] = uint64(code)
				continue // seen: no new minimum or maximum
			}
			if len(order) == maxDictionary || i >= dictProbe && 2*len(order) > i {
				dict = nil // too many distinct strings for a dictionary to pay
			} else {
				code = len(order)
				order = append(order, i)
				if len(order) > smallDictionary {
					if len(dict) == 0 { // switching to the map: add the strings so far
						for k, row := range order[:len(order)-1] {
							dict[string(c.str(row))] = k
						}
					}
					dict[string(s)] = code
				}
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
