package aggregate

import (
	"bytes"
	"slices"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// The small-group path's column codes: instead of encoding each row's key
// and comparing it with the groups' (matchFew), each key column maps a
// row's value to a code, its index among the values the few groups have
// in that column (NULL included); the codes combine, as digits of a mixed
// radix number, into an index of lut, which names the group with those
// values (or none: the chunk then takes the other paths).
//
//	column g:  value ─► code c_g ∈ [0, n_g)        gid = Σ c_g × stride_g
//	lut[gid] = the group whose key is those values, or -1
//
// A VARCHAR column looks its strings up by their vector headers first: a
// string whose {offset, length} in the arena is in a small cache (direct
// mapped by offset) has the code it had (a dictionary segment's rows share
// headers), so the bytes of each distinct header are compared about once
// per chunk. A chunk with more misses than maxStrCache, as from
// uncompressed strings, gives up on the codes and is matched by its
// encoded keys.

// maxLut bounds the combinations of codes; beyond it the path is off.
const maxLut = 256

// maxStrCache bounds the header cache's misses per column and chunk.
const maxStrCache = 32

// fewCol is the values of key column g among the few groups.
type fewCol struct {
	fixed []uint64 // fixed-width values as the key image holds them
	strs  [][]byte // VARCHAR values (at most 12 bytes each)
	null  int32    // code of NULL (0), -1 if no group has NULL here
	off   int32    // code of the first value: 1 after NULL's, else 0
	n     int32    // codes
}

// fewCodes is the column-code matcher of a task's few groups; nil: off
// (no groups, or too many combinations).
type fewCodes struct {
	cols   []fewCol
	stride []int32
	lut    []int8
	code   []int32 // scratch per chunk: per logical row, its gid so far
	tab    [strTab]strEntry
}

// strTab is the size of the per-column header cache.
const strTab = 16

// strEntry caches a string header's code plus one (0: empty).
type strEntry struct {
	s vector.Str
	k int32
}

// buildCodes makes the column-code matcher for the groups of f (none if
// there are none or they have too many combinations of values).
func (t *table) buildCodes() {
	f := &t.few
	f.codes = nil
	if f.n <= 0 {
		return
	}
	lay := t.lay
	kw := lay.keyWords
	c := &fewCodes{cols: make([]fewCol, len(lay.groups)), stride: make([]int32, len(lay.groups))}
	img := func(j int) []uint64 { return f.keys[j*kw : j*kw+kw] }
	isNull := func(j, g int) bool { return img(j)[g>>6]&(1<<(g&63)) != 0 }
	str := func(j, w int) []byte {
		var buf [16]byte
		le.PutUint64(buf[0:], img(j)[w])
		le.PutUint64(buf[8:], img(j)[w+1])
		return bytes.Clone(buf[4 : 4+le.Uint32(buf[0:])])
	}
	// valueOf[j]: group j's index among column g's values (-1: NULL).
	valueOf := make([]int, f.n)
	gid := make([]int32, f.n)
	total := int32(1)
	for g := range lay.groups {
		col := &c.cols[g]
		col.null = -1
		w := (lay.keyOff[g] - 8) / 8
		nulls := false
		for j := range f.n {
			valueOf[j] = -1
			switch {
			case isNull(j, g):
				nulls = true
			case lay.phys[g] == types.PhysString:
				s := str(j, w)
				valueOf[j] = slices.IndexFunc(col.strs, func(x []byte) bool { return bytes.Equal(x, s) })
				if valueOf[j] < 0 {
					valueOf[j] = len(col.strs)
					col.strs = append(col.strs, s)
				}
			default:
				valueOf[j] = slices.Index(col.fixed, img(j)[w])
				if valueOf[j] < 0 {
					valueOf[j] = len(col.fixed)
					col.fixed = append(col.fixed, img(j)[w])
				}
			}
		}
		if nulls {
			col.null, col.off = 0, 1
		}
		col.n = col.off + int32(len(col.strs)+len(col.fixed))
		c.stride[g] = total
		for j := range f.n {
			code := col.null
			if valueOf[j] >= 0 {
				code = col.off + int32(valueOf[j])
			}
			gid[j] += code * total
		}
		total *= col.n
		if total > maxLut {
			return
		}
	}
	c.lut = make([]int8, total)
	for i := range c.lut {
		c.lut[i] = -1
	}
	for j, x := range gid {
		c.lut[x] = int8(j)
	}
	c.code = make([]int32, vector.Size)
	f.codes = c
}

// valueCode returns the code of value k of the column (after NULL's).
func (col *fewCol) valueCode(k int) int32 { return col.off + int32(k) }

// matchCodes lists the slots of each group's rows (f.sels, f.count) for
// the n logical rows of in by column codes, and reports whether every row
// has one of the groups; false changes nothing the caller relies on.
func (t *table) matchCodes(in *vector.Chunk, n int) bool {
	f := &t.few
	c := f.codes
	if c == nil || f.n <= 0 {
		return false
	}
	lay := t.lay
	sel := in.Sel()
	code := c.code[:n]
	clear(code)
	for g, colIdx := range lay.groups {
		col := &c.cols[g]
		stride := c.stride[g]
		v := in.Col(colIdx)
		words := v.Validity().Words()
		switch lay.phys[g] {
		case types.PhysString:
			strs, arena := v.Strs(), v.Arena()
			// A direct-mapped cache of headers by offset: a hit (almost
			// every row of a dictionary vector) is one predictable branch.
			clear(c.tab[:])
			misses := 0
			for r := range n {
				i := index(sel, r)
				if !valid(words, i) {
					if col.null < 0 {
						return false
					}
					code[r] += col.null * stride
					continue
				}
				s := strs[i]
				e := &c.tab[s.Off%strTab]
				if e.s != s || e.k == 0 {
					misses++
					if misses > maxStrCache {
						return false
					}
					b := arena[s.Off : s.Off+s.Len]
					k := slices.IndexFunc(col.strs, func(x []byte) bool { return bytes.Equal(x, b) })
					if k < 0 {
						return false
					}
					e.s, e.k = s, col.valueCode(k)+1
				}
				code[r] += (e.k - 1) * stride
			}
		default:
			for r := range n {
				i := index(sel, r)
				var k int32 = -1
				if !valid(words, i) {
					k = col.null
				} else {
					x := fixedWord(v, lay.phys[g], i)
					for e, y := range col.fixed {
						if x == y {
							k = col.valueCode(e)
							break
						}
					}
				}
				if k < 0 {
					return false
				}
				code[r] += k * stride
			}
		}
	}
	clear(f.count[:])
	for r, gid := range code {
		j := c.lut[gid]
		if j < 0 {
			return false
		}
		slot := uint16(r)
		if sel != nil {
			slot = sel[r]
		}
		f.sels[j][f.count[j]] = slot
		f.count[j]++
	}
	return true
}

// fixedWord returns slot i of a fixed-width vector as the key image holds
// it (layout.encode).
func fixedWord(v *vector.Vector, p types.Physical, i int) uint64 {
	switch p {
	case types.PhysInt64:
		return uint64(v.Int64s()[i])
	case types.PhysInt32:
		return uint64(int64(v.Int32s()[i]))
	case types.PhysFloat64:
		return floatBits(v.Float64s()[i])
	case types.PhysBool:
		if v.Bools()[i] {
			return 1
		}
	}
	return 0
}
