package order

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// Rows are addressed inside a rowBuf by a ref: chunk index and slot.
//
//	ref (uint32)  bits 31..11 chunk   bits 10..0 slot
const slotBits = 11

// Every slot of a chunk must fit the ref's slot bits (exactly, for the
// default vector size; a smaller one, as under the tinyvectors tag,
// leaves slots unused).
const _ = uint(1<<slotBits - vector.Size)

// maxChunks is the most chunks a rowBuf addresses: 2^21, so 2^32 rows.
const maxChunks = 1 << (32 - slotBits)

func refOf(chunk, slot int) uint32 { return uint32(chunk)<<slotBits | uint32(slot) }
func refChunk(ref uint32) int      { return int(ref >> slotBits) }
func refSlot(ref uint32) int       { return int(ref & (1<<slotBits - 1)) }

// The classes of a key value, the most significant part of its order:
// NULLs go before or after every value by the key's NullsFirst, whatever
// its direction.
const (
	clsNullFirst uint8 = 0
	clsValue     uint8 = 1
	clsNullLast  uint8 = 2
)

// An entry is a row in a sort: the normalized prefix of one of its keys
// and its ref. Entries compare as the tuple (cls, p, sub), unsigned, which
// orders them as the key does; for VARCHAR keys, a tie with sub = 9 means
// "both go on past this window", decided by the next window.
//
//	cls  clsNullFirst, clsValue or clsNullLast
//	p    (uint64; DESC complements it; NULLs have 0)
//	       BOOLEAN            0 or 1
//	       INTEGER, DATE      x XOR 2^31 (sign bit flipped: negative < positive)
//	       BIGINT, DECIMAL    x XOR 2^63
//	       DOUBLE             IEEE bits, negative: all flipped, else sign set;
//	                          -0 as +0, every NaN as one NaN above +Infinity
//	       VARCHAR, depth d   bytes [8d, 8d+8) big-endian, zero-padded
//	sub  VARCHAR: min(bytes left from 8d, 9) (DESC: 9 minus that), so that
//	     "ab" < "ab\x00" though their windows are equal; else 0
type entry struct {
	p   uint64
	ref uint32
	cls uint8
	sub uint8
}

// less orders entries by (cls, p, sub).
func less(a, b entry) bool {
	if a.cls != b.cls {
		return a.cls < b.cls
	}
	if a.p != b.p {
		return a.p < b.p
	}
	return a.sub < b.sub
}

// samePrefix reports whether a and b tie on (cls, p, sub).
func samePrefix(a, b entry) bool { return a.p == b.p && a.cls == b.cls && a.sub == b.sub }

// column reads one column of a rowBuf's chunks without going through the
// chunk and vector per row.
type column struct {
	phys types.Physical
	// nulls: some row may be NULL (else validity checks are skipped).
	nulls bool
	// Per chunk of the buffer: the column's vector.
	vecs []*vector.Vector
	// Per chunk, the typed data of the column (the one of its type is set).
	b   [][]bool
	i32 [][]int32
	i64 [][]int64
	f64 [][]float64
	str [][]vector.Str // VARCHAR: headers into the vector's arena
}

// bytes returns the bytes of VARCHAR slot s of chunk c.
func (col *column) bytes(c, s int) []byte {
	h := col.str[c][s]
	return col.vecs[c].Arena()[h.Off : h.Off+h.Len]
}

// add records column j of chunk c.
func (col *column) add(c *vector.Chunk, j int) {
	v := c.Col(j)
	col.vecs = append(col.vecs, v)
	switch col.phys {
	case types.PhysBool:
		col.b = append(col.b, v.Bools())
	case types.PhysInt32:
		col.i32 = append(col.i32, v.Int32s())
	case types.PhysInt64:
		col.i64 = append(col.i64, v.Int64s())
	case types.PhysFloat64:
		col.f64 = append(col.f64, v.Float64s())
	case types.PhysString:
		col.str = append(col.str, v.Strs())
	}
}

// fixed returns the typed data of a fixed-width column; T must match.
func fixed[T vector.Fixed](col *column) [][]T {
	var d any
	switch col.phys {
	case types.PhysBool:
		d = col.b
	case types.PhysInt32:
		d = col.i32
	case types.PhysInt64:
		d = col.i64
	case types.PhysFloat64:
		d = col.f64
	}
	return d.([][]T)
}

// keyCol reads one sort key in the chunks of a rowBuf: the key's column
// with the key's direction and NULL placement.
type keyCol struct {
	key   Key
	exact bool // the prefix decides the order (not VARCHAR)
	*column
}

// nullCls is the class of a NULL of this key.
func (kc *keyCol) nullCls() uint8 {
	if kc.key.NullsFirst {
		return clsNullFirst
	}
	return clsNullLast
}

// prefixes fills the prefix of every entry's row, at window depth (for
// VARCHAR keys; 0 for the others).
func (kc *keyCol) prefixes(es []entry, depth int) {
	nullCls := kc.nullCls()
	var flip uint64
	if kc.key.Desc {
		flip = ^uint64(0)
	}
	if !kc.nulls && kc.phys == types.PhysInt64 {
		// The common case without a NULL or a type switch per row.
		for i := range es {
			e := &es[i]
			e.cls, e.sub = clsValue, 0
			e.p = (uint64(kc.i64[refChunk(e.ref)][refSlot(e.ref)]) ^ 1<<63) ^ flip
		}
		return
	}
	for i := range es {
		e := &es[i]
		c, s := refChunk(e.ref), refSlot(e.ref)
		if kc.nulls && kc.vecs[c].Validity().IsNull(s) {
			e.cls, e.p, e.sub = nullCls, 0, 0
			continue
		}
		e.cls, e.sub = clsValue, 0
		switch kc.phys {
		case types.PhysBool:
			e.p = 0
			if kc.b[c][s] {
				e.p = 1
			}
		case types.PhysInt32:
			e.p = uint64(uint32(kc.i32[c][s]) ^ 1<<31)
		case types.PhysInt64:
			e.p = uint64(kc.i64[c][s]) ^ 1<<63
		case types.PhysFloat64:
			e.p = floatPrefix(kc.f64[c][s])
		case types.PhysString:
			e.p, e.sub = kc.window(kc.bytes(c, s), depth)
		}
		e.p ^= flip
	}
}

// window returns the prefix and sub digit of string s at depth (sub
// already flipped for DESC, p not yet).
func (kc *keyCol) window(s []byte, depth int) (uint64, uint8) {
	s = s[min(len(s), 8*depth):]
	sub := uint8(min(len(s), 9))
	if kc.key.Desc {
		sub = 9 - sub
	}
	return stringPrefix(s), sub
}

// deeper reports whether a VARCHAR tie with this sub digit continues past
// the window (both strings have more than 8 bytes left).
func (kc *keyCol) deeper(sub uint8) bool {
	if kc.key.Desc {
		return sub == 0
	}
	return sub == 9
}

// resolved reports whether rows tied on e's prefix of this key at depth 0
// are equal in the key.
func (kc *keyCol) resolved(e entry) bool {
	return e.cls != clsValue || kc.exact || !kc.deeper(e.sub)
}

// prefixOf returns the depth-0 entry prefix (ref unset) of slot s of
// vector v of this key's type, for rows not in a buffer (a top-N's input).
func (kc *keyCol) prefixOf(v *vector.Vector, s int) entry {
	if v.Validity().IsNull(s) {
		return entry{cls: kc.nullCls()}
	}
	e := entry{cls: clsValue}
	switch kc.phys {
	case types.PhysBool:
		if v.Bools()[s] {
			e.p = 1
		}
	case types.PhysInt32:
		e.p = uint64(uint32(v.Int32s()[s]) ^ 1<<31)
	case types.PhysInt64:
		e.p = uint64(v.Int64s()[s]) ^ 1<<63
	case types.PhysFloat64:
		e.p = floatPrefix(v.Float64s()[s])
	case types.PhysString:
		e.p, e.sub = kc.window(v.Bytes(s), 0)
	}
	if kc.key.Desc {
		e.p = ^e.p
	}
	return e
}

func floatPrefix(f float64) uint64 {
	switch {
	case f != f:
		f = math.NaN()
	case f == 0:
		f = 0 // -0 sorts as +0
	}
	b := math.Float64bits(f)
	if b>>63 != 0 {
		return ^b
	}
	return b | 1<<63
}

func stringPrefix(s []byte) uint64 {
	if len(s) >= 8 {
		return binary.BigEndian.Uint64(s)
	}
	var p uint64
	for i, c := range s {
		p |= uint64(c) << (56 - 8*i)
	}
	return p
}

// compare orders row a of x's buffer and row b of y's buffer (x and y read
// the same key, possibly of different buffers) by this key alone:
// types.Compare's order, DESC reversed, NULLs placed by NullsFirst.
func compare(x *keyCol, a uint32, y *keyCol, b uint32) int {
	ca, sa := refChunk(a), refSlot(a)
	cb, sb := refChunk(b), refSlot(b)
	na, nb := x.vecs[ca].Validity().IsNull(sa), y.vecs[cb].Validity().IsNull(sb)
	switch {
	case na && nb:
		return 0
	case na || nb:
		c := 1 // a is NULL
		if nb {
			c = -1
		}
		if x.key.NullsFirst {
			c = -c
		}
		return c
	}
	var c int
	switch x.phys {
	case types.PhysBool:
		c = cmpOrdered(b2i(x.b[ca][sa]), b2i(y.b[cb][sb]))
	case types.PhysInt32:
		c = cmpOrdered(x.i32[ca][sa], y.i32[cb][sb])
	case types.PhysInt64:
		c = cmpOrdered(x.i64[ca][sa], y.i64[cb][sb])
	case types.PhysFloat64:
		c = cmpOrdered(floatPrefix(x.f64[ca][sa]), floatPrefix(y.f64[cb][sb]))
	case types.PhysString:
		c = bytes.Compare(x.bytes(ca, sa), y.bytes(cb, sb))
	default:
		panic(fmt.Sprintf("BUG: sort key of physical type %v", x.phys))
	}
	if x.key.Desc {
		c = -c
	}
	return c
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func cmpOrdered[T int | int32 | int64 | uint64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
