package table

import (
	"encoding/binary"
	"math"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// A source reads the bytes of one segment: view returns n bytes at offset
// off, valid until the next view or close; close releases what the
// source holds (a block source keeps the block of its last view pinned,
// so that the vectors a scan reads one after another from one block cost
// one pin).
type source interface {
	view(off, n int) ([]byte, error)
	close()
}

// bytesSource is a segment held in one slice (tests, fuzzing).
type bytesSource []byte

func (s bytesSource) view(off, n int) ([]byte, error) {
	if off < 0 || n < 0 || off+n > len(s) {
		return nil, segErr("read of %d bytes at %d beyond the segment's %d", n, off, len(s))
	}
	return s[off : off+n], nil
}

func (bytesSource) close() {}

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
	ints     []int64 // scratch for BOOLEAN and dictionary codes
	stamp    []uint32
	at       []uint16
	gen      uint32
	words    []uint64 // scratch for validity words
	pass     []bool   // dictionary: whether each code passes the scan's filter
}

// openSegment reads and checks the header of a segment of total bytes and,
// for VARCHAR, its dictionary or constant.
func openSegment(src source, total int, t types.Type) (r *segReader, err error) {
	defer func() {
		if err != nil {
			src.close()
		}
	}()
	b, err := src.view(0, min(total, segHeaderSize))
	if err != nil {
		return nil, err
	}
	h, err := decodeSegHeader(b, total, t.Physical())
	if err != nil {
		return nil, err
	}
	r = &segReader{h: h, src: src, typ: t, total: total}
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
		r.codesOff = h.bodyOff() + n + dictLen
	}
	return r, nil
}

// close releases the segment's memory (the block its last read pinned).
func (r *segReader) close() { r.src.close() }

// readVector decodes rows [k·vector.Size, k·vector.Size+n) into v (whose
// validity must be all valid, as after Reset).
func (r *segReader) readVector(k, n int, v *vector.Vector) error {
	return r.readVectorSel(k, n, nil, v)
}

// readVectorSel is readVector for the slots sel of the vector only (nil:
// all n): the other slots of v hold garbage (VARCHAR: empty strings), and
// its validity is the whole vector's.
func (r *segReader) readVectorSel(k, n int, sel []uint16, v *vector.Vector) error {
	h := &r.h
	first := k * vector.Size
	if k < 0 || n <= 0 || n > vector.Size || first+n > h.count {
		return segErr("vector %d of %d rows beyond the segment's %d rows", k, n, h.count)
	}
	var err error
	if sel == nil {
		err = r.readData(first, n, v)
	} else {
		err = r.readSelected(first, n, sel, v)
	}
	if err != nil {
		return err
	}
	// Validity last: setting string bytes marks a slot valid.
	switch {
	case h.flags&flagAllNull != 0:
		clear(v.Validity().Writable())
	case h.flags&flagValidity != 0:
		b, err := r.validity(first, n)
		if err != nil {
			return err
		}
		dst := v.Validity().Writable()
		for i := range len(b) / 8 {
			dst[i] = binary.LittleEndian.Uint64(b[8*i:])
		}
	}
	return nil
}

// validity views the validity words of rows [first, first+n) (first a
// multiple of 64).
func (r *segReader) validity(first, n int) ([]byte, error) {
	return r.src.view(segHeaderSize+first/8, (n+63)/64*8)
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
			// The bytes once; every slot points at them.
			v.SetBytes(0, r.constStr)
			strs := v.Strs()
			fill(strs[1:n], strs[0])
		}
		return nil
	case FormatBitPacked:
		start := first * h.width / 8 // first is a multiple of 8
		b, err := r.src.view(h.bodyOff()+start, (n*h.width+7)/8+packPadding)
		if err != nil {
			return err
		}
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
		// Each string's bytes go into the vector once; later rows with the
		// same code point at them. stamp[c] == r.gen marks a code already
		// stored in this vector, at slot at[c].
		if len(r.stamp) < h.dictN {
			r.stamp, r.at = make([]uint32, h.dictN), make([]uint16, h.dictN)
		}
		r.gen++
		strs := v.Strs()
		for i, c := range codes {
			if c >= int64(h.dictN) {
				return segErr("dictionary code %d at row %d, dictionary has %d strings", c, first+i, h.dictN)
			}
			if r.stamp[c] == r.gen {
				strs[i] = strs[r.at[c]]
				continue
			}
			v.SetBytes(i, r.dictData[r.dictOffs[c]:r.dictOffs[c+1]])
			r.stamp[c], r.at[c] = r.gen, uint16(i)
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
