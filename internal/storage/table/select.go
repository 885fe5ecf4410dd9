package table

import (
	"encoding/binary"
	"math"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// unpackOne returns the w-bit value i of bit-packed src (which starts at
// value 0 and has the padding after the last value).
func unpackOne(src []byte, i, w int) uint64 {
	if w == 0 {
		return 0
	}
	bit := i * w
	off, s := bit>>3, uint(bit&7)
	x := binary.LittleEndian.Uint64(src[off:]) >> s
	if int(s)+w > 64 {
		x |= uint64(src[off+8]) << (64 - s)
	}
	return x & (^uint64(0) >> (64 - uint(w)))
}

// readSelected decodes the slots sel of rows [first, first+n) into v: the
// data only, readVectorSel adds the validity.
func (r *segReader) readSelected(first, n int, sel []uint16, v *vector.Vector) error {
	h := &r.h
	if h.flags&flagAllNull != 0 {
		return nil
	}
	switch h.format {
	case FormatConstant:
		return r.readData(first, n, v)
	case FormatBitPacked:
		start := first * h.width / 8
		b, err := r.src.view(h.bodyOff()+start, (n*h.width+7)/8+packPadding)
		if err != nil {
			return err
		}
		w, base := h.width, int64(h.base)
		switch h.phys {
		case types.PhysInt32:
			dst := v.Int32s()
			for _, i := range sel {
				dst[i] = int32(base + int64(unpackOne(b, int(i), w)))
			}
		case types.PhysInt64:
			dst := v.Int64s()
			for _, i := range sel {
				dst[i] = base + int64(unpackOne(b, int(i), w))
			}
		case types.PhysBool:
			dst := v.Bools()
			for _, i := range sel {
				dst[i] = base+int64(unpackOne(b, int(i), w)) != 0
			}
		}
		return nil
	case FormatDictionary:
		start := first * h.width / 8
		b, err := r.src.view(r.codesOff+start, (n*h.width+7)/8+packPadding)
		if err != nil {
			return err
		}
		if len(r.stamp) < h.dictN {
			r.stamp, r.at = make([]uint32, h.dictN), make([]uint16, h.dictN)
		}
		r.gen++
		strs := v.Strs()
		clear(strs[:n])
		for _, i := range sel {
			c := unpackOne(b, int(i), h.width)
			if c >= uint64(h.dictN) {
				return segErr("dictionary code %d at row %d, dictionary has %d strings", c, first+int(i), h.dictN)
			}
			if r.stamp[c] == r.gen {
				strs[i] = strs[r.at[c]]
				continue
			}
			v.SetBytes(int(i), r.dictData[r.dictOffs[c]:r.dictOffs[c+1]])
			r.stamp[c], r.at[c] = r.gen, i
		}
		return nil
	case FormatUncompressed:
		if h.phys == types.PhysString {
			return r.readStringsSel(first, n, sel, v)
		}
		b, err := r.src.view(h.bodyOff()+first*h.width, n*h.width)
		if err != nil {
			return err
		}
		switch h.phys {
		case types.PhysBool:
			dst := v.Bools()
			for _, i := range sel {
				dst[i] = b[i] != 0
			}
		case types.PhysInt32:
			dst := v.Int32s()
			for _, i := range sel {
				dst[i] = int32(binary.LittleEndian.Uint32(b[4*int(i):]))
			}
		case types.PhysInt64:
			dst := v.Int64s()
			for _, i := range sel {
				dst[i] = int64(binary.LittleEndian.Uint64(b[8*int(i):]))
			}
		case types.PhysFloat64:
			dst := v.Float64s()
			for _, i := range sel {
				dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*int(i):]))
			}
		}
		return nil
	}
	return segErr("unknown format %d", h.format)
}

// readStringsSel is readStrings for the slots sel.
func (r *segReader) readStringsSel(first, n int, sel []uint16, v *vector.Vector) error {
	offs, err := r.stringOffsets(first, n)
	if err != nil {
		return err
	}
	b, err := r.src.view(r.h.bodyOff()+4*(r.h.count+1)+int(offs[0]), int(offs[n]-offs[0]))
	if err != nil {
		return err
	}
	clear(v.Strs()[:n])
	for _, i := range sel {
		v.SetBytes(int(i), b[offs[i]-offs[0]:offs[i+1]-offs[0]])
	}
	return nil
}

// stringOffsets reads and checks the n+1 offsets of the uncompressed
// strings of rows [first, first+n), into r's scratch.
func (r *segReader) stringOffsets(first, n int) ([]uint32, error) {
	h := &r.h
	b, err := r.src.view(h.bodyOff()+4*first, 4*(n+1))
	if err != nil {
		return nil, err
	}
	if cap(r.offs) < vector.Size+1 {
		r.offs = make([]uint32, vector.Size+1)
	}
	offs := r.offs[:n+1]
	for i := range offs {
		offs[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	dataLen := uint32(h.body - 4*(h.count+1))
	for i := range n {
		if offs[i] > offs[i+1] || offs[i+1] > dataLen {
			return nil, segErr("string offsets %d..%d at row %d outside the %d string bytes", offs[i], offs[i+1], first+i, dataLen)
		}
	}
	return offs, nil
}

// selective reports whether decoding only the rows of a selection of cnt
// rows out of n beats decoding the whole vector: always for strings (whose
// bytes are copied), for fixed-width values when few rows are selected.
func (r *segReader) selective(cnt, n int) bool {
	return r.h.phys == types.PhysString || 4*cnt <= n
}

// filter writes to out the slots among sel (nil: all n) of vector k whose
// values pass p, in order, and returns how many (out may be sel). Constant
// and dictionary segments are tested without decoding (a dictionary's
// strings once per segment); other formats are decoded into v first, at the
// rows of sel, and decoded reports that v holds them.
func (r *segReader) filter(k, n int, sel []uint16, p *colPred, v *vector.Vector, out []uint16) (cnt int, decoded bool, err error) {
	h := &r.h
	if p.none || h.flags&flagAllNull != 0 {
		return 0, false, nil
	}
	first := k * vector.Size
	if k < 0 || n <= 0 || n > vector.Size || first+n > h.count {
		return 0, false, segErr("vector %d of %d rows beyond the segment's %d rows", k, n, h.count)
	}
	switch {
	case h.format == FormatConstant || h.format == FormatDictionary:
	case h.format == FormatBitPacked && h.phys != types.PhysBool && len(p.ne) == 0 && h.flags&flagValidity == 0 &&
		!(p.output && p.most):
		// Test the packed deltas: base+delta passes when delta-c <= hi-lo.
		b, err := r.src.view(h.bodyOff()+first*h.width/8, (n*h.width+7)/8+packPadding)
		if err != nil {
			return 0, false, err
		}
		var cnt int
		if s := p.onlySet(); s != nil {
			cnt = setPacked(b, h.width, n, sel, h.base-uint64(s.min), s.bits, out)
		} else {
			cnt = rangePacked(b, h.width, n, sel, (p.lo^1<<63)-h.base, p.hi-p.lo, out)
		}
		if len(p.sets) > 0 && p.onlySet() == nil {
			// The sets test the values of the rows in range only.
			k := 0
			for _, i := range out[:cnt] {
				x := int64(h.base + unpackOne(b, int(i), h.width))
				if h.phys == types.PhysInt32 {
					x = int64(int32(x))
				}
				if p.inSets(x) {
					out[k] = i
					k++
				}
			}
			cnt = k
		}
		p.most = 2*cnt > n
		return cnt, false, nil
	default:
		dsel := sel
		if sel != nil && !r.selective(len(sel), n) {
			dsel = nil
		}
		if err := r.readVectorSel(k, n, dsel, v); err != nil {
			return 0, false, err
		}
		cnt := p.eval(v, sel, n, out)
		p.most = 2*cnt > n
		return cnt, true, nil
	}
	var words []uint64
	if h.flags&flagValidity != 0 {
		b, err := r.validity(first, n)
		if err != nil {
			return 0, false, err
		}
		r.words = r.words[:0]
		for i := range len(b) / 8 {
			r.words = append(r.words, binary.LittleEndian.Uint64(b[8*i:]))
		}
		words = r.words
	}
	if h.format == FormatConstant {
		var pass bool
		switch h.phys {
		case types.PhysString:
			pass = p.passStr(r.constStr)
		case types.PhysBool:
			pass = p.passKey(h.base)
		case types.PhysInt32:
			pass = p.passKey(intKey(int64(int32(h.base))))
		case types.PhysInt64:
			pass = p.passKey(intKey(int64(h.base)))
		case types.PhysFloat64:
			pass = p.passKey(floatKey(math.Float64frombits(h.base)))
		}
		if !pass {
			return 0, false, nil
		}
		return evalSlots(words, sel, n, out, func(int) bool { return true }), false, nil
	}
	// Dictionary: which codes pass, once per segment.
	if r.pass == nil {
		r.pass = make([]bool, h.dictN)
		for c := range r.pass {
			r.pass[c] = p.passStr(r.dictData[r.dictOffs[c]:r.dictOffs[c+1]])
		}
	}
	b, err := r.src.view(r.codesOff+first*h.width/8, (n*h.width+7)/8+packPadding)
	if err != nil {
		return 0, false, err
	}
	var bad error
	pass := func(i int) bool {
		c := unpackOne(b, i, h.width)
		if c >= uint64(h.dictN) {
			if bad == nil {
				bad = segErr("dictionary code %d at row %d, dictionary has %d strings", c, first+i, h.dictN)
			}
			return false
		}
		return r.pass[c]
	}
	cnt = evalSlots(words, sel, n, out, pass)
	if bad != nil {
		return 0, false, bad
	}
	return cnt, false, nil
}

// setPacked keeps the slots among sel (nil: 0..n-1) whose w-bit packed
// values d in src have bit d+c set in bits (c: the segment's base minus
// the set's minimum; d+c past the bits fails): a set test without
// decoding the values.
func setPacked(src []byte, w, n int, sel []uint16, c uint64, bits []uint64, out []uint16) int {
	nw := uint64(len(bits))
	in := func(d uint64) int {
		i := min(d>>6, nw-1)
		return int(bits[i]>>(d&63)&1) & b2i(d>>6 < nw)
	}
	k := 0
	if sel != nil {
		for _, i := range sel {
			out[k] = i
			k += in(unpackOne(src, int(i), w) + c)
		}
		return k
	}
	i := 0
	if w > 0 && w <= 56 {
		// As unpack: eight values take w bytes.
		mask := ^uint64(0) >> (64 - uint(w))
		var off, sh [8]int
		for j := range 8 {
			off[j], sh[j] = j*w>>3, j*w&7
		}
		bit := 0
		for ; i+8 <= n; i += 8 {
			p := src[bit>>3:]
			p = p[:w+8]
			for j := range 8 {
				out[k] = uint16(i + j)
				k += in(binary.LittleEndian.Uint64(p[off[j]:])>>uint(sh[j])&mask + c)
			}
			bit += 8 * w
		}
	}
	for ; i < n; i++ {
		out[k] = uint16(i)
		k += in(unpackOne(src, i, w) + c)
	}
	return k
}

// rangePacked keeps the slots among sel (nil: 0..n-1) whose w-bit packed
// values d in src satisfy d-c <= width (unsigned, wrapping): a range test
// on the values without decoding them.
func rangePacked(src []byte, w, n int, sel []uint16, c, width uint64, out []uint16) int {
	k := 0
	if sel != nil {
		for _, i := range sel {
			out[k] = i
			k += b2i(unpackOne(src, int(i), w)-c <= width)
		}
		return k
	}
	i := 0
	if w > 0 && w <= 56 {
		// As unpack: eight values take w bytes.
		mask := ^uint64(0) >> (64 - uint(w))
		var off, sh [8]int
		for j := range 8 {
			off[j], sh[j] = j*w>>3, j*w&7
		}
		bit := 0
		var d [8]uint64
		for ; i+8 <= n; i += 8 {
			p := src[bit>>3:]
			p = p[:w+8]
			d[0] = binary.LittleEndian.Uint64(p[off[0]:])>>uint(sh[0])&mask - c
			d[1] = binary.LittleEndian.Uint64(p[off[1]:])>>uint(sh[1])&mask - c
			d[2] = binary.LittleEndian.Uint64(p[off[2]:])>>uint(sh[2])&mask - c
			d[3] = binary.LittleEndian.Uint64(p[off[3]:])>>uint(sh[3])&mask - c
			d[4] = binary.LittleEndian.Uint64(p[off[4]:])>>uint(sh[4])&mask - c
			d[5] = binary.LittleEndian.Uint64(p[off[5]:])>>uint(sh[5])&mask - c
			d[6] = binary.LittleEndian.Uint64(p[off[6]:])>>uint(sh[6])&mask - c
			d[7] = binary.LittleEndian.Uint64(p[off[7]:])>>uint(sh[7])&mask - c
			bit += 8 * w
			if d[0] > width && d[1] > width && d[2] > width && d[3] > width &&
				d[4] > width && d[5] > width && d[6] > width && d[7] > width {
				continue // none of the eight: the common case of a selective filter
			}
			for j, x := range d {
				out[k] = uint16(i + j)
				k += b2i(x <= width)
			}
		}
	}
	for ; i < n; i++ {
		out[k] = uint16(i)
		k += b2i(unpackOne(src, i, w)-c <= width)
	}
	return k
}
