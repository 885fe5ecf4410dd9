package aggregate

import (
	"bytes"
	"encoding/binary"
	"math"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

var le = binary.LittleEndian

// inlineMax is the longest VARCHAR key stored inside its row.
const inlineMax = 12

// layout is the shape of a group row (drawn in the package doc).
type layout struct {
	groups   []int // input columns of the keys
	types    []types.Type
	phys     []types.Physical
	keyOff   []int // offset of each key's slot
	fixedEnd int   // [8:fixedEnd) holds the NULL bits and fixed keys
	keyWords int   // [8 : 8+8×keyWords) holds all of the key
	strKeys  []int // the keys (indexes into groups) that are VARCHAR
	strIndex []int // per key: its index in strKeys, or -1
	stateOff []int // offset of each aggregate's state
	width    int
}

func newLayout(input []types.Type, groups []int, aggs []*expr.Aggregate) *layout {
	l := &layout{groups: groups}
	nb := (len(groups) + 63) / 64 * 8 // NULL bits, whole words
	off := 8 + nb
	l.keyOff = make([]int, len(groups))
	for g, c := range groups {
		t := input[c]
		l.types = append(l.types, t)
		l.phys = append(l.phys, t.Physical())
		if t.Physical() != types.PhysString {
			l.keyOff[g] = off
			off += 8
		}
	}
	l.fixedEnd = off
	l.strIndex = make([]int, len(groups))
	for g, p := range l.phys {
		l.strIndex[g] = -1
		if p == types.PhysString {
			l.strIndex[g] = len(l.strKeys)
			l.keyOff[g] = off
			l.strKeys = append(l.strKeys, g)
			off += 16
		}
	}
	l.keyWords = (off - 8) / 8
	for _, a := range aggs {
		l.stateOff = append(l.stateOff, off)
		off += a.StateSize()
	}
	l.width = (off + 7) &^ 7
	return l
}

// isNull reports whether key g of row is NULL.
func isNull(row []byte, g int) bool { return row[8+g>>3]&(1<<(g&7)) != 0 }

func valid(words []uint64, i int) bool {
	return words == nil || words[i>>6]&(1<<(uint(i)&63)) != 0
}

// floatBits returns the bits a DOUBLE key stores: −0 as +0 and one NaN,
// so that keys SQL calls equal have equal bits.
func floatBits(f float64) uint64 {
	switch {
	case f == 0:
		f = 0
	case f != f:
		f = math.NaN()
	}
	return math.Float64bits(f)
}

// encode writes the keys of in's logical rows in their row form, keyWords
// words per row from img[r×keyWords] (the row's bytes [8 : 8+8×keyWords)
// as little-endian words), so that finding a row's group compares words.
// A VARCHAR key longer than 12 bytes has only its first word (length and
// first 4 bytes) in the image, a zero second word where the row has the
// bytes' offset in its page; long[r] says row r has one, and heap[r] how
// many bytes such strings need.
func (l *layout) encode(in *vector.Chunk, img []uint64, long []bool, heap []int) {
	n := in.Len()
	kw := l.keyWords
	sel := in.Sel()
	img = img[:n*kw]
	clear(long[:n])
	clear(heap[:n])
	for nw := range (len(l.groups) + 63) / 64 {
		for r := range n {
			img[r*kw+nw] = 0
		}
	}
	for g, c := range l.groups {
		v := in.Col(c)
		words := v.Validity().Words()
		w := (l.keyOff[g] - 8) / 8
		if words != nil {
			// NULL: its bit set, its slot zero (written below).
			nw, bit := g>>6, uint64(1)<<(g&63)
			for r := range n {
				if !valid(words, index(sel, r)) {
					img[r*kw+nw] |= bit
				}
			}
		}
		switch l.phys[g] {
		case types.PhysInt64:
			d := v.Int64s()
			for r := range n {
				img[r*kw+w] = 0
				if i := index(sel, r); valid(words, i) {
					img[r*kw+w] = uint64(d[i])
				}
			}
		case types.PhysInt32:
			d := v.Int32s()
			for r := range n {
				img[r*kw+w] = 0
				if i := index(sel, r); valid(words, i) {
					img[r*kw+w] = uint64(int64(d[i]))
				}
			}
		case types.PhysFloat64:
			d := v.Float64s()
			for r := range n {
				img[r*kw+w] = 0
				if i := index(sel, r); valid(words, i) {
					img[r*kw+w] = floatBits(d[i])
				}
			}
		case types.PhysBool:
			d := v.Bools()
			for r := range n {
				img[r*kw+w] = 0
				if i := index(sel, r); valid(words, i) && d[i] {
					img[r*kw+w] = 1
				}
			}
		case types.PhysString:
			l.encodeStrings(v, words, sel, n, img[w:], long, heap)
		}
	}
}

// encodeStrings writes the 16-byte slots of a VARCHAR key (see encode);
// img starts at the slot's first word of row 0.
func (l *layout) encodeStrings(v *vector.Vector, words []uint64, sel vector.Selection, n int, img []uint64, long []bool, heap []int) {
	kw := l.keyWords
	strs, arena := v.Strs(), v.Arena()
	for r := range n {
		i := index(sel, r)
		at := r * kw
		img[at], img[at+1] = 0, 0
		if !valid(words, i) {
			continue
		}
		s := strs[i]
		if s.Len > inlineMax {
			img[at] = uint64(s.Len) | uint64(le.Uint32(arena[s.Off:]))<<32
			long[r] = true // the second word stays 0
			heap[r] += int(s.Len)
			continue
		}
		if int(s.Off)+inlineMax <= cap(arena) { // always (vector.ArenaSlack)
			// Load 12 bytes and mask off what is not the string's.
			b := arena[s.Off : s.Off+inlineMax]
			m := &shortMasks[s.Len]
			img[at] = uint64(s.Len) | uint64(le.Uint32(b))&m[0]<<32
			img[at+1] = le.Uint64(b[4:]) & m[1]
			continue
		}
		// Not reached while vector.ArenaSlack ≥ 12 holds (so a change
		// there costs speed, not correctness): assemble the words a byte
		// at a time.
		lo, hi := uint64(s.Len), uint64(0)
		for j, c := range arena[s.Off : s.Off+s.Len] {
			if j < 4 {
				lo |= uint64(c) << (32 + 8*j)
			} else {
				hi |= uint64(c) << (8 * (j - 4))
			}
		}
		img[at], img[at+1] = lo, hi
	}
}

// shortMasks[n] masks the first 4 bytes and the next 8 of a string of n ≤
// 12 bytes loaded as two little-endian words.
var shortMasks = func() (m [inlineMax + 1][2]uint64) {
	for n := range m {
		for b := range n { // byte b of the string
			if b < 4 {
				m[n][0] |= 0xff << (8 * b)
			} else {
				m[n][1] |= 0xff << (8 * (b - 4))
			}
		}
	}
	return m
}()

// store writes an encoded key (img, keyWords words) into a new row in
// page pg, copying its long strings (logical row r of in) to the page's
// bytes from offset at on, which newRow reserved for them.
func (l *layout) store(row []byte, pg *page, img []uint64, long bool, in *vector.Chunk, r, at int) {
	for w, x := range img[:l.keyWords] {
		le.PutUint64(row[8+8*w:], x)
	}
	if !long {
		return
	}
	i := in.Index(r)
	for _, g := range l.strKeys {
		off := l.keyOff[g]
		if isNull(row, g) || le.Uint32(row[off:]) <= inlineMax {
			continue
		}
		b := in.Col(l.groups[g]).Bytes(i)
		copy(pg.b[at:], b)
		le.PutUint32(row[off+8:], uint32(at))
		at += len(b)
	}
}

// equalLong reports whether row (in page pg) holds the encoded key img
// of logical row r of in, which has a long string: the second word of
// such a slot in the row is the bytes' offset in the row's page, so
// words may differ there while the strings are equal.
func (l *layout) equalLong(row []byte, pg []byte, img []uint64, in *vector.Chunk, r int) bool {
	for w, x := range img[:l.keyWords] {
		if le.Uint64(row[8+8*w:]) != x && !l.isLongOffsetWord(row, w) {
			return false
		}
	}
	// Every other word is equal, the strings' lengths included.
	i := in.Index(r)
	for _, g := range l.strKeys {
		off := l.keyOff[g]
		if isNull(row, g) || le.Uint32(row[off:]) <= inlineMax {
			continue
		}
		at := le.Uint32(row[off+8:])
		b := in.Col(l.groups[g]).Bytes(i)
		if !bytes.Equal(pg[at:int(at)+len(b)], b) {
			return false
		}
	}
	return true
}

// isLongOffsetWord reports whether word w of row's key is the second
// word of a long string's slot (its page offset).
func (l *layout) isLongOffsetWord(row []byte, w int) bool {
	for _, g := range l.strKeys {
		off := l.keyOff[g]
		if (off-8)/8+1 == w {
			return !isNull(row, g) && le.Uint32(row[off:]) > inlineMax
		}
	}
	return false
}

// stringOf returns the bytes of a row's string slot.
func stringOf(slot, page []byte) []byte {
	n := le.Uint32(slot)
	if n <= inlineMax {
		return slot[4 : 4+n]
	}
	at := le.Uint32(slot[8:12])
	return page[at : at+n]
}

// heapOf returns the bytes of page heap row's long strings take.
func (l *layout) heapOf(row []byte) int {
	n := 0
	for _, g := range l.strKeys {
		if k := le.Uint32(row[l.keyOff[g]:]); !isNull(row, g) && k > inlineMax {
			n += int(k)
		}
	}
	return n
}

// moveStrings copies the long strings of dst, a copy of a row whose page
// bytes were src, to the heap of dst's page pg and points dst at them.
func (l *layout) moveStrings(dst []byte, pg *page, src []byte) {
	for _, g := range l.strKeys {
		off := l.keyOff[g]
		n := le.Uint32(dst[off:])
		if isNull(dst, g) || n <= inlineMax {
			continue
		}
		at := le.Uint32(dst[off+8:])
		pg.heap += int(n)
		to := len(pg.b) - pg.heap
		copy(pg.b[to:], src[at:at+n])
		le.PutUint32(dst[off+8:], uint32(to))
	}
}

// sameKeys reports whether rows a (in page pa) and b (in page pb) have
// equal keys.
func (l *layout) sameKeys(a, pa, b, pb []byte) bool {
	// The NULL bits and fixed keys, a word at a time.
	fa, fb := a[8:l.fixedEnd], b[8:l.fixedEnd]
	for i := 0; i < len(fa); i += 8 {
		if le.Uint64(fa[i:]) != le.Uint64(fb[i:]) {
			return false
		}
	}
	for _, g := range l.strKeys {
		if isNull(a, g) {
			continue // both NULL: the NULL bits are equal
		}
		off := l.keyOff[g]
		if !bytes.Equal(stringOf(a[off:off+16], pa), stringOf(b[off:off+16], pb)) {
			return false
		}
	}
	return true
}

// gatherKeys writes key g of rows (rows[i] in a page whose bytes are
// heaps[i]) into slots 0.. of out.
func (l *layout) gatherKeys(g int, rows, heaps [][]byte, out *vector.Vector) {
	off := l.keyOff[g]
	nbyte, nbit := 8+g>>3, byte(1)<<(g&7)
	switch l.phys[g] {
	case types.PhysInt64:
		gatherFixed(out.Int64s(), rows, off, nbyte, nbit, out, func(x uint64) int64 { return int64(x) })
	case types.PhysInt32:
		gatherFixed(out.Int32s(), rows, off, nbyte, nbit, out, func(x uint64) int32 { return int32(int64(x)) })
	case types.PhysFloat64:
		gatherFixed(out.Float64s(), rows, off, nbyte, nbit, out, math.Float64frombits)
	case types.PhysBool:
		gatherFixed(out.Bools(), rows, off, nbyte, nbit, out, func(x uint64) bool { return x != 0 })
	case types.PhysString:
		for i, row := range rows {
			if row[nbyte]&nbit != 0 {
				out.SetNull(i)
				continue
			}
			out.SetBytes(i, stringOf(row[off:off+16], heaps[i]))
		}
	}
}

func gatherFixed[T vector.Fixed](d []T, rows [][]byte, off, nbyte int, nbit byte, out *vector.Vector, conv func(uint64) T) {
	for i, row := range rows {
		if row[nbyte]&nbit != 0 {
			out.SetNull(i)
			continue
		}
		d[i] = conv(le.Uint64(row[off:]))
	}
}

func index(sel vector.Selection, r int) int {
	if sel != nil {
		return int(sel[r])
	}
	return r
}
