package join

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/bpfdb/bpfdb/internal/types"
)

// ne writes and reads rows in the machine's byte order: the probe reads
// fields with plain loads (table.u64 …).
var ne = binary.NativeEndian

// Row layout of a stored build row (native byte order, no alignment needed):
//
//	0       8       16                                    nullOff     width
//	┌───────┬───────┬─────────────┬──────────┬───────────┬──────────┬─────┐
//	│ hash  │ next  │ 8-byte and  │ 4-byte   │ 1-byte    │ NULL     │ pad │
//	│ u64   │ ref   │ string flds │ fields   │ fields    │ bits     │ to 8│
//	└───────┴───────┴─────────────┴──────────┴───────────┴──────────┴─────┘
//
// hash is the row's key hash, next the ref of the next row of its bucket's
// chain (0 ends it). The rows of a RightSemi or RightAnti join have 8
// more bytes after next, before the fields: a 4-byte mark (0: no match
// yet, 1: matched, set atomically by the probe tasks; 2: the key is NULL,
// the row is in no chain) and 4 bytes of padding. Only the build columns the join reads are stored: the
// keys, the BuildOutput columns and the columns the residual reads, each
// once. Field widths by physical type:
//
//	int64, float64   8 bytes
//	string           12 bytes: page u32 | offset u32 | length u32 (bytes in a string page)
//	int32            4 bytes
//	bool             1 byte
//
// NULL bit i (byte nullOff+i/8, bit i%8) is set when field i is NULL. Keys
// are never NULL: rows with a NULL key are not stored.
const (
	hashOff = 0
	nextOff = 8
	rowHead = 16
	markOff = 16 // RightSemi, RightAnti
	markLen = 8
)

// The values of a row's mark.
const (
	unmarked = 0
	marked   = 1
	nullKey  = 2
)

// field is one stored build column.
type field struct {
	col  int // the build column
	t    types.Type
	phys types.Physical
	off  int // byte offset in the row
}

// width is the bytes a field takes in a row.
func width(p types.Physical) int {
	if p == types.PhysString {
		return 12
	}
	return p.Width()
}

// layout places the stored build columns in a row.
type layout struct {
	fields  []field
	colOf   []int // per build column: its field, or -1 if not stored
	keys    []int // field of key i
	outs    []int // field of BuildOutput[j]
	nullOff int
	width   int
	marks   bool // the rows have a mark
}

// newLayout lays out the build columns keys, outs and res (with
// duplicates) of a build input of types build, with a mark if marks.
func newLayout(build []types.Type, keys, outs, res []int, marks bool) (*layout, error) {
	l := &layout{colOf: make([]int, len(build)), marks: marks}
	for i := range l.colOf {
		l.colOf[i] = -1
	}
	var cols []int
	for _, c := range slices.Concat(keys, outs, res) {
		if !slices.Contains(cols, c) {
			cols = append(cols, c)
		}
	}
	// Wider fields first; among equals, the order the columns came in
	// (keys first).
	slices.SortStableFunc(cols, func(a, b int) int {
		return cmp.Compare(width(build[b].Physical()), width(build[a].Physical()))
	})
	off := rowHead
	if marks {
		off += markLen
	}
	for i, c := range cols {
		p := build[c].Physical()
		l.fields = append(l.fields, field{col: c, t: build[c], phys: p, off: off})
		l.colOf[c] = i
		off += width(p)
	}
	l.nullOff = off
	off += (len(cols) + 7) / 8
	l.width = (off + 7) &^ 7
	if l.width > maxPage {
		return nil, fmt.Errorf("a build row of %d columns takes %d bytes, more than a page of %d: %w", len(cols), l.width, maxPage, ErrSpec)
	}
	for _, c := range keys {
		l.keys = append(l.keys, l.colOf[c])
	}
	for _, c := range outs {
		l.outs = append(l.outs, l.colOf[c])
	}
	return l, nil
}

func floatBits(f float64) uint64 { return math.Float64bits(f) }

// floatEq compares DOUBLE keys as SQL does: -0 equals +0 and NaN equals
// NaN (and they hash alike).
func floatEq(a, b float64) bool { return a == b || a != a && b != b }

func fromBits(b uint64) float64 { return math.Float64frombits(b) }
