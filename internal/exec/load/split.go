package load

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// A splitter cuts one record at a time out of a block of input into fields.
// Fields are ranges of the block: a quoted CSV field with doubled quotes is
// unescaped in place, so the splitter may rewrite the block's bytes. The
// ranges are offsets, not slices, so that recording them costs no GC write
// barrier.
type splitter struct {
	delim   byte
	quoting bool // CSV: fields may be quoted

	fields []span // the last record's fields
}

// A span is a field: bytes [start, end) of the block, and whether it was
// quoted (an empty quoted field is the empty string, not NULL).
type span struct {
	start, end int32
	quoted     bool
}

func (s *splitter) add(start, end int, quoted bool) {
	s.fields = append(s.fields, span{int32(start), int32(end), quoted})
}

// splitError is what the splitter finds wrong with a record: field (0-based)
// is where, msg what.
type splitError struct {
	field int
	msg   string
}

// next splits the record that starts at data[pos] into s.fields. It returns
// the offset just past the record's line end (len(data) for a last record
// without one) and the number of newlines the record consumed (more than 1
// when quoted fields hold newlines). A CR before a record's LF is dropped.
func (s *splitter) next(data []byte, pos int) (end, lines int, serr *splitError) {
	s.fields = s.fields[:0]
	nl := bytes.IndexByte(data[pos:], '\n')
	lineEnd, end, lines := len(data), len(data), 0
	if nl >= 0 {
		lineEnd, end, lines = pos+nl, pos+nl+1, 1
	}
	if s.quoting && bytes.IndexByte(data[pos:lineEnd], '"') >= 0 {
		return s.nextQuoted(data, pos)
	}
	if lineEnd > pos && data[lineEnd-1] == '\r' {
		lineEnd--
	}
	start, i := pos, pos
	// Eight bytes at a time: t has bit 7 of every byte equal to the
	// delimiter set (and perhaps of bytes above one, through the borrow,
	// which the check of data[j] weeds out).
	pat := lo8 * uint64(s.delim)
	for ; i+8 <= lineEnd; i += 8 {
		x := binary.LittleEndian.Uint64(data[i:]) ^ pat
		for t := (x - lo8) &^ x & hi8; t != 0; t &= t - 1 {
			if j := i + bits.TrailingZeros64(t)>>3; data[j] == s.delim {
				s.add(start, j, false)
				start = j + 1
			}
		}
	}
	for ; i < lineEnd; i++ {
		if data[i] == s.delim {
			s.add(start, i, false)
			start = i + 1
		}
	}
	s.add(start, lineEnd, false)
	return end, lines, nil
}

// Every byte 0x01, every byte 0x80: for finding a byte in a uint64.
const lo8, hi8 = 0x0101010101010101, 0x8080808080808080

// nextQuoted splits a CSV record with quotes, byte by byte.
func (s *splitter) nextQuoted(data []byte, pos int) (end, lines int, serr *splitError) {
	i := pos
	for {
		field := len(s.fields)
		if i < len(data) && data[i] == '"' {
			// Quoted field: up to the quote that is not doubled; doubled
			// quotes are unescaped in place.
			start := i + 1
			w := start
			for i = start; ; {
				if i >= len(data) {
					return len(data), lines, &splitError{field, "unterminated quoted field"}
				}
				c := data[i]
				if c == '"' {
					if i+1 < len(data) && data[i+1] == '"' {
						data[w] = '"'
						w++
						i += 2
						continue
					}
					i++
					break
				}
				if c == '\n' {
					lines++
				}
				data[w] = c
				w++
				i++
			}
			s.add(start, w, true)
			switch {
			case i >= len(data):
				return i, lines, nil
			case data[i] == s.delim:
				i++
				continue
			case data[i] == '\n':
				return i + 1, lines + 1, nil
			case data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n':
				return i + 2, lines + 1, nil
			case data[i] == '\r' && i+1 == len(data):
				return i + 1, lines, nil
			}
			return i, lines, &splitError{field, "unexpected " + quoteByte(data[i]) + " after closing quote"}
		}
		// Unquoted field: up to the delimiter or the line end; a quote
		// inside it is an error (RFC 4180 quotes whole fields only).
		start := i
		for ; i < len(data); i++ {
			c := data[i]
			if c == s.delim || c == '\n' {
				break
			}
			if c == '"' {
				return i, lines, &splitError{field, "unexpected '\"' in unquoted field"}
			}
		}
		if i < len(data) && data[i] == s.delim {
			s.add(start, i, false)
			i++
			continue
		}
		s.add(start, start+len(trimCR(data[start:i])), false)
		if i < len(data) {
			return i + 1, lines + 1, nil
		}
		return i, lines, nil
	}
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// quoteByte prints a byte for an error message: 'x', or '\x01' for a
// control byte.
func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f && c != '\'' && c != '\\' {
		return "'" + string(rune(c)) + "'"
	}
	const hex = "0123456789abcdef"
	return `'\x` + string([]byte{hex[c>>4], hex[c&15]}) + "'"
}

// cut returns the length of the longest prefix of data that ends a record:
// just past the last newline outside quoted fields, or 0 if there is none.
// With quoting, quote parity from the start of data decides what is
// inside a quoted field (a doubled quote toggles twice); a stray quote in an
// unquoted field can only make blocks longer, and the splitter reports it.
func cut(data []byte, quoting bool) int {
	if !quoting {
		return bytes.LastIndexByte(data, '\n') + 1
	}
	best := 0
	in := false
	for off := 0; off < len(data); {
		q := bytes.IndexByte(data[off:], '"')
		seg := data[off:]
		if q >= 0 {
			seg = data[off : off+q]
		}
		if !in {
			if nl := bytes.LastIndexByte(seg, '\n'); nl >= 0 {
				best = off + nl + 1
			}
		}
		if q < 0 {
			break
		}
		in = !in
		off += q + 1
	}
	return best
}
