package collect

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// A page is one chunk encoded into a temporary buffer of the buffer
// manager, so that its memory is accounted and the manager may spill it to
// the temporary file while it is unpinned (which it is, except while it is
// written or read). Layout, little-endian:
//
//	offset  size            field
//	0       4               n: rows
//	then per column, in column order:
//	        1               flags: bit 0 = the column has NULLs
//	        8·⌈n/64⌉        validity words (bit i = 1: row i valid), if flag 0
//	        n·w             values, w = 1 (BOOLEAN), 4 (INTEGER, DATE),
//	                        8 (BIGINT, DECIMAL, DOUBLE as IEEE bits)
//	   or, for VARCHAR:
//	        4·n             lengths
//	        Σ lengths       the bytes, row after row
//
// A NULL row's value bytes are zero (its length 0).
type page struct {
	b    *buffer.Block
	size int
}

// encodedSize returns the bytes of c's page.
func encodedSize(c *vector.Chunk) int {
	n := c.Len()
	size := 4
	for j := range c.Width() {
		v := c.Col(j)
		size++
		if !v.Validity().AllValid() {
			size += 8 * ((n + 63) / 64)
		}
		if p := v.Type().Physical(); p == types.PhysString {
			size += 4 * n
			strs := v.Strs()
			for r := range n {
				size += int(strs[c.Index(r)].Len)
			}
		} else {
			size += n * p.Width()
		}
	}
	return size
}

// encode writes dense chunk c (no selection) into buf, which has
// encodedSize(c) bytes.
func encode(buf []byte, c *vector.Chunk) {
	n := c.Len()
	le := binary.LittleEndian
	le.PutUint32(buf, uint32(n))
	o := 4
	for j := range c.Width() {
		v := c.Col(j)
		val := v.Validity()
		if val.AllValid() {
			buf[o] = 0
			o++
		} else {
			buf[o] = 1
			o++
			words := val.Words()
			for w := range (n + 63) / 64 {
				le.PutUint64(buf[o:], words[w])
				o += 8
			}
		}
		switch v.Type().Physical() {
		case types.PhysBool:
			for r, b := range v.Bools()[:n] {
				if b {
					buf[o+r] = 1
				}
			}
			o += n
		case types.PhysInt32:
			for _, x := range v.Int32s()[:n] {
				le.PutUint32(buf[o:], uint32(x))
				o += 4
			}
		case types.PhysInt64:
			for _, x := range v.Int64s()[:n] {
				le.PutUint64(buf[o:], uint64(x))
				o += 8
			}
		case types.PhysFloat64:
			for _, x := range v.Float64s()[:n] {
				le.PutUint64(buf[o:], math.Float64bits(x))
				o += 8
			}
		case types.PhysString:
			strs := v.Strs()[:n]
			for _, s := range strs {
				le.PutUint32(buf[o:], s.Len)
				o += 4
			}
			arena := v.Arena()
			for _, s := range strs {
				o += copy(buf[o:], arena[s.Off:s.Off+s.Len])
			}
		}
	}
	if o != len(buf) {
		panic(fmt.Sprintf("BUG: page of %d bytes encoded into %d", o, len(buf)))
	}
}

// errCorrupt is wrapped by decode's errors: a page's bytes do not describe
// a chunk of the collection's types (which only a bug or a damaged
// temporary file can cause).
var errCorrupt = fmt.Errorf("corrupt page")

// decode reads a page into out, which must be empty (Reset) and own its
// vectors.
func decode(buf []byte, out *vector.Chunk) error {
	le := binary.LittleEndian
	short := func(what string, j int) error {
		return fmt.Errorf("column %d: %s past the end of %d bytes: %w", j+1, what, len(buf), errCorrupt)
	}
	if len(buf) < 4 {
		return short("row count", -1)
	}
	n := int(le.Uint32(buf))
	if n > vector.Size {
		return fmt.Errorf("%d rows exceed the vector size: %w", n, errCorrupt)
	}
	o := 4
	for j := range out.Width() {
		v := out.Col(j)
		if o >= len(buf) {
			return short("flags", j)
		}
		flags := buf[o]
		o++
		if flags&1 != 0 {
			nw := (n + 63) / 64
			if o+8*nw > len(buf) {
				return short("validity", j)
			}
			words := v.Validity().Writable()
			for w := range nw {
				words[w] = le.Uint64(buf[o:])
				o += 8
			}
		}
		p := v.Type().Physical()
		if p != types.PhysString && o+n*p.Width() > len(buf) {
			return short("values", j)
		}
		switch p {
		case types.PhysBool:
			for r, d := 0, v.Bools()[:n]; r < n; r++ {
				d[r] = buf[o+r] != 0
			}
			o += n
		case types.PhysInt32:
			d := v.Int32s()[:n]
			for r := range d {
				d[r] = int32(le.Uint32(buf[o:]))
				o += 4
			}
		case types.PhysInt64:
			d := v.Int64s()[:n]
			for r := range d {
				d[r] = int64(le.Uint64(buf[o:]))
				o += 8
			}
		case types.PhysFloat64:
			d := v.Float64s()[:n]
			for r := range d {
				d[r] = math.Float64frombits(le.Uint64(buf[o:]))
				o += 8
			}
		case types.PhysString:
			if o+4*n > len(buf) {
				return short("string lengths", j)
			}
			lens := buf[o : o+4*n]
			o += 4 * n
			valid := v.Validity()
			for r := range n {
				l := int(le.Uint32(lens[4*r:]))
				if l > len(buf)-o {
					return short("string bytes", j)
				}
				wasNull := valid.IsNull(r)
				v.SetBytes(r, buf[o:o+l])
				if wasNull {
					valid.SetNull(r)
				}
				o += l
			}
		}
	}
	if o != len(buf) {
		return fmt.Errorf("%d bytes left after the last column: %w", len(buf)-o, errCorrupt)
	}
	out.SetLen(n)
	return nil
}

// writePage stores dense chunk c in a new page of m, for owner and
// accounted to tag, and leaves it unpinned (spillable).
func writePage(m *buffer.Manager, owner uint64, tag buffer.Tag, c *vector.Chunk) (*page, error) {
	size := encodedSize(c)
	b, buf, err := m.AllocateFor(owner, tag, size)
	if err != nil {
		return nil, err
	}
	encode(buf[:size], c)
	m.Unpin(b)
	return &page{b: b, size: size}, nil
}

// read decodes the page into out (Reset, owning its vectors), pinning it
// for the time of the copy.
func (p *page) read(m *buffer.Manager, out *vector.Chunk) error {
	buf, err := m.Pin(p.b)
	if err != nil {
		return err
	}
	err = decode(buf[:p.size], out)
	m.Unpin(p.b)
	if err != nil {
		return fmt.Errorf("read %v: %w", p.b, err)
	}
	return nil
}
