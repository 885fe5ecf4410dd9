package table

import "encoding/binary"

// packPadding is the number of zero bytes that follow bit-packed data, so that
// unpack may always read eight bytes at the byte holding a value's first bit.
const packPadding = 8

// packedLen is the size in bytes of n values bit-packed at width w, padding
// included.
func packedLen(n, w int) int { return (n*w+7)/8 + packPadding }

// pack writes the low w bits of each of vals into dst (packedLen(len(vals), w)
// bytes, zeroed), value i at bits [i·w, i·w+w) counted from bit 0 of byte 0,
// little-endian:
//
//	byte 0                byte 1
//	b7 … b0               b7 … b0          w = 3:
//	v2₁ v2₀ v1₂ v1₁ v1₀ v0₂ v0₁ v0₀   …    v0 at bits 0-2, v1 at 3-5, v2 at 6-8
func pack(dst []byte, vals []uint64, w int) {
	if w == 0 {
		return
	}
	bit := 0
	for _, v := range vals {
		off, s := bit>>3, uint(bit&7)
		x := binary.LittleEndian.Uint64(dst[off:]) | v<<s
		binary.LittleEndian.PutUint64(dst[off:], x)
		if int(s)+w > 64 {
			dst[off+8] |= byte(v >> (64 - s))
		}
		bit += w
	}
}

// unpack decodes len(dst) values of width w from src (which starts at the
// first value's byte, bit 0, and holds at least (len(dst)·w+7)/8 +
// packPadding bytes) and adds base to each: frame of reference.
func unpack[T int32 | int64](dst []T, src []byte, w int, base int64) {
	if w == 0 {
		for i := range dst {
			dst[i] = T(base)
		}
		return
	}
	mask := ^uint64(0) >> (64 - uint(w))
	bit := 0
	if w <= 56 {
		// Eight values take w bytes, so groups of eight start on a byte
		// and the offsets and shifts inside a group are the same for all.
		var off, sh [8]int
		for k := range 8 {
			off[k], sh[k] = k*w>>3, k*w&7
		}
		i := 0
		for ; i+8 <= len(dst); i += 8 {
			p := src[bit>>3:]
			p = p[:w+8]
			d := dst[i : i+8 : i+8]
			d[0] = T(base + int64(binary.LittleEndian.Uint64(p[off[0]:])>>uint(sh[0])&mask))
			d[1] = T(base + int64(binary.LittleEndian.Uint64(p[off[1]:])>>uint(sh[1])&mask))
			d[2] = T(base + int64(binary.LittleEndian.Uint64(p[off[2]:])>>uint(sh[2])&mask))
			d[3] = T(base + int64(binary.LittleEndian.Uint64(p[off[3]:])>>uint(sh[3])&mask))
			d[4] = T(base + int64(binary.LittleEndian.Uint64(p[off[4]:])>>uint(sh[4])&mask))
			d[5] = T(base + int64(binary.LittleEndian.Uint64(p[off[5]:])>>uint(sh[5])&mask))
			d[6] = T(base + int64(binary.LittleEndian.Uint64(p[off[6]:])>>uint(sh[6])&mask))
			d[7] = T(base + int64(binary.LittleEndian.Uint64(p[off[7]:])>>uint(sh[7])&mask))
			bit += 8 * w
		}
		for ; i < len(dst); i++ {
			x := binary.LittleEndian.Uint64(src[bit>>3:]) >> uint(bit&7)
			dst[i] = T(base + int64(x&mask))
			bit += w
		}
		return
	}
	for i := range dst {
		off, s := bit>>3, uint(bit&7)
		x := binary.LittleEndian.Uint64(src[off:]) >> s
		if int(s)+w > 64 {
			x |= uint64(src[off+8]) << (64 - s)
		}
		dst[i] = T(base + int64(x&mask))
		bit += w
	}
}

// bitWidth is the number of bits needed to store x (0 for 0).
func bitWidth(x uint64) int {
	n := 0
	for x != 0 {
		n++
		x >>= 1
	}
	return n
}
