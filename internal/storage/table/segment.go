package table

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/bpfdb/bpfdb/internal/types"
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
