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
	strKeys  []int // the keys (indexes into groups) that are VARCHAR
	strIndex []int // per key: its index in strKeys, or -1
	stateOff []int // offset of each aggregate's state
	width    int
}

func newLayout(input []types.Type, groups []int, aggs []*expr.Aggregate) *layout {
	l := &layout{groups: groups}
	nb := (len(groups) + 7) / 8
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

// stringImages computes, for the VARCHAR keys of in's logical rows, the
// 16-byte slot each would have in a row (img[k][r] for the k-th VARCHAR
// key, as two little-endian words; the second is 0 for a long string) and
// how many bytes of page heap each row's long strings need (heap[r]).
// NULLs get a zero image: their NULL bit decides.
func (l *layout) stringImages(in *vector.Chunk, img [][][2]uint64, heap []int) {
	n := in.Len()
	sel := in.Sel()
	clear(heap[:n])
	for k, g := range l.strKeys {
		v := in.Col(l.groups[g])
		words := v.Validity().Words()
		strs, arena := v.Strs(), v.Arena()
		im := img[k][:n]
		for r := range im {
			i := index(sel, r)
			if !valid(words, i) {
				im[r] = [2]uint64{}
				continue
			}
			s := strs[i]
			if s.Len > inlineMax {
				im[r] = [2]uint64{uint64(s.Len) | uint64(le.Uint32(arena[s.Off:]))<<32, 0}
				heap[r] += int(s.Len)
				continue
			}
			if int(s.Off)+inlineMax <= len(arena) {
				// Load 12 bytes and mask off what is not the string's.
				w := arena[s.Off : s.Off+inlineMax]
				m0, m1 := shortMasks(s.Len)
				im[r] = [2]uint64{uint64(s.Len) | uint64(le.Uint32(w))&m0<<32, le.Uint64(w[4:]) & m1}
				continue
			}
			var buf [16]byte
			le.PutUint32(buf[:], s.Len)
			copy(buf[4:], arena[s.Off:s.Off+s.Len])
			im[r] = [2]uint64{le.Uint64(buf[0:]), le.Uint64(buf[8:])}
		}
	}
}

// shortMasks returns the masks of a string of n ≤ 12 bytes over its first
// 4 bytes and its next 8.
func shortMasks(n uint32) (m0, m1 uint64) {
	if n >= 4 {
		m0 = 1<<32 - 1
	} else {
		m0 = 1<<(8*n) - 1
	}
	switch {
	case n >= 12:
		m1 = ^uint64(0)
	case n > 4:
		m1 = 1<<(8*(n-4)) - 1
	}
	return m0, m1
}

// scatterKeys writes the keys of the logical rows newRows of in into their
// rows (rows[r], in page pages[r]: long strings go to its heap); img is
// what stringImages computed for in.
func (l *layout) scatterKeys(in *vector.Chunk, rows [][]byte, pages []*page, newRows []int32, img [][][2]uint64) {
	sel := in.Sel()
	for g, c := range l.groups {
		v := in.Col(c)
		words := v.Validity().Words()
		off := l.keyOff[g]
		nbyte, nbit := 8+g>>3, byte(1)<<(g&7)
		p := l.phys[g]
		if p == types.PhysString {
			im := img[l.strIndex[g]]
			strs, arena := v.Strs(), v.Arena()
			for _, r := range newRows {
				row := rows[r]
				i := index(sel, int(r))
				if !valid(words, i) {
					row[nbyte] |= nbit
					continue
				}
				slot := row[off : off+16]
				le.PutUint64(slot, im[r][0])
				if s := strs[i]; s.Len > inlineMax {
					pg := pages[r]
					pg.heap += int(s.Len)
					at := len(pg.b) - pg.heap
					copy(pg.b[at:], arena[s.Off:s.Off+s.Len])
					le.PutUint32(slot[8:12], uint32(at))
				} else {
					le.PutUint64(slot[8:], im[r][1])
				}
			}
			continue
		}
		switch p {
		case types.PhysInt64:
			scatterFixed(v.Int64s(), words, sel, rows, newRows, off, nbyte, nbit, func(x int64) uint64 { return uint64(x) })
		case types.PhysInt32:
			scatterFixed(v.Int32s(), words, sel, rows, newRows, off, nbyte, nbit, func(x int32) uint64 { return uint64(int64(x)) })
		case types.PhysFloat64:
			scatterFixed(v.Float64s(), words, sel, rows, newRows, off, nbyte, nbit, floatBits)
		case types.PhysBool:
			scatterFixed(v.Bools(), words, sel, rows, newRows, off, nbyte, nbit, func(x bool) uint64 {
				if x {
					return 1
				}
				return 0
			})
		}
	}
}

func scatterFixed[T vector.Fixed](d []T, words []uint64, sel vector.Selection, rows [][]byte, newRows []int32, off, nbyte int, nbit byte, bits func(T) uint64) {
	for _, r := range newRows {
		i := index(sel, int(r))
		row := rows[r]
		if !valid(words, i) {
			row[nbyte] |= nbit
			continue
		}
		le.PutUint64(row[off:], bits(d[i]))
	}
}

// matchKeys keeps in cand the rows whose keys equal their candidate row's
// (rows[r]) and appends the others to miss. It returns the kept prefix of
// cand.
func (l *layout) matchKeys(in *vector.Chunk, rows [][]byte, pages []*page, cand, miss []int32, img [][][2]uint64) ([]int32, []int32) {
	sel := in.Sel()
	for g, c := range l.groups {
		if len(cand) == 0 {
			break
		}
		v := in.Col(c)
		words := v.Validity().Words()
		off := l.keyOff[g]
		nbyte, nbit := 8+g>>3, byte(1)<<(g&7)
		switch l.phys[g] {
		case types.PhysInt64:
			cand, miss = matchFixed(v.Int64s(), words, sel, rows, cand, miss, off, nbyte, nbit, func(x int64) uint64 { return uint64(x) })
		case types.PhysInt32:
			cand, miss = matchFixed(v.Int32s(), words, sel, rows, cand, miss, off, nbyte, nbit, func(x int32) uint64 { return uint64(int64(x)) })
		case types.PhysFloat64:
			cand, miss = matchFixed(v.Float64s(), words, sel, rows, cand, miss, off, nbyte, nbit, floatBits)
		case types.PhysBool:
			cand, miss = matchFixed(v.Bools(), words, sel, rows, cand, miss, off, nbyte, nbit, func(x bool) uint64 {
				if x {
					return 1
				}
				return 0
			})
		case types.PhysString:
			im := img[l.strIndex[g]]
			strs, arena := v.Strs(), v.Arena()
			kept := cand[:0]
			for _, r := range cand {
				i := index(sel, int(r))
				row := rows[r]
				rowNull := row[nbyte]&nbit != 0
				ok := rowNull == !valid(words, i)
				if ok && !rowNull {
					slot := row[off : off+16]
					switch {
					case le.Uint64(slot) != im[r][0]:
						ok = false
					case le.Uint32(slot) <= inlineMax: // equal lengths: the first words are equal
						ok = le.Uint64(slot[8:]) == im[r][1]
					default:
						s := strs[i]
						at := le.Uint32(slot[8:12])
						ok = bytes.Equal(pages[r].b[at:at+s.Len], arena[s.Off:s.Off+s.Len])
					}
				}
				if ok {
					kept = append(kept, r)
				} else {
					miss = append(miss, r)
				}
			}
			cand = kept
		}
	}
	return cand, miss
}

func matchFixed[T vector.Fixed](d []T, words []uint64, sel vector.Selection, rows [][]byte, cand, miss []int32, off, nbyte int, nbit byte, bits func(T) uint64) ([]int32, []int32) {
	kept := cand[:0]
	if words == nil {
		for _, r := range cand {
			row := rows[r]
			if row[nbyte]&nbit == 0 && le.Uint64(row[off:]) == bits(d[index(sel, int(r))]) {
				kept = append(kept, r)
			} else {
				miss = append(miss, r)
			}
		}
		return kept, miss
	}
	for _, r := range cand {
		i := index(sel, int(r))
		row := rows[r]
		rowNull := row[nbyte]&nbit != 0
		ok := rowNull == !valid(words, i)
		if ok && !rowNull {
			ok = le.Uint64(row[off:]) == bits(d[i])
		}
		if ok {
			kept = append(kept, r)
		} else {
			miss = append(miss, r)
		}
	}
	return kept, miss
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

// sameKeys reports whether rows a (in page pa) and b (in page pb) have
// equal keys.
func (l *layout) sameKeys(a, pa, b, pb []byte) bool {
	if !bytes.Equal(a[8:l.fixedEnd], b[8:l.fixedEnd]) {
		return false
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
