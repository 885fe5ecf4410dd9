package vector

import (
	"fmt"
	"strings"

	"github.com/bpfdb/bpfdb/internal/types"
)

// Selection lists the physical slots of a chunk's logical rows: logical
// row r is slot sel[r]. Two bytes per entry (Size fits 16 bits):
//
//	sel   [ 0 | 2 | 7 | … ]   uint16 each, len = chunk length
//	rows    r0  r1  r2
//
// A nil Selection means the identity (row r is slot r).
type Selection []uint16

// Every slot index must fit a Selection entry.
const _ = uint16(Size - 1)

// Chunk is a set of vectors of equal length plus an optional selection:
// DuckDB's DataChunk, CockroachDB's Batch. Operators pass chunks along a
// pipeline; a chunk is owned by one task at a time and is not safe for
// concurrent use.
//
// A column may reference a vector owned by another chunk (Reference,
// ReferenceChunk): a projection or a filter then passes data on without
// copying. The chunk never modifies a referenced vector: Reset drops the
// reference, Flatten copies into the chunk's own vector, and Append and
// AppendRow refuse to write into one.
type Chunk struct {
	cols   []*Vector // what the columns read: own vectors or references
	own    []*Vector // the chunk's own vectors
	n      int
	sel    Selection // nil, or the first n entries of selBuf (or a caller's slice)
	selBuf Selection // Size entries owned by the chunk
}

// NewChunk returns an empty chunk with one vector per type.
func NewChunk(ts []types.Type) *Chunk {
	c := &Chunk{cols: make([]*Vector, len(ts)), own: make([]*Vector, len(ts))}
	for i, t := range ts {
		c.own[i] = New(t)
		c.cols[i] = c.own[i]
	}
	return c
}

// Len returns the number of logical rows.
func (c *Chunk) Len() int { return c.n }

// SetLen sets the number of logical rows (≤ Size; ≤ len(Sel()) if a
// selection is set).
func (c *Chunk) SetLen(n int) {
	if n < 0 || n > Size || c.sel != nil && n > len(c.sel) {
		panic(fmt.Sprintf("BUG: chunk length %d out of range", n))
	}
	c.n = n
	if c.sel != nil {
		c.sel = c.sel[:n]
	}
}

// Width returns the number of columns.
func (c *Chunk) Width() int { return len(c.cols) }

// Col returns column j.
func (c *Chunk) Col(j int) *Vector { return c.cols[j] }

// Types returns the column types.
func (c *Chunk) Types() []types.Type {
	ts := make([]types.Type, len(c.cols))
	for i, v := range c.cols {
		ts[i] = v.typ
	}
	return ts
}

// Sel returns the selection, or nil if rows are dense (row r = slot r).
func (c *Chunk) Sel() Selection { return c.sel }

// Index returns the slot of logical row r.
func (c *Chunk) Index(r int) int {
	if c.sel != nil {
		return int(c.sel[r])
	}
	return r
}

// SelBuffer returns a chunk-owned selection buffer of Size entries, for
// filters to fill before calling SetSel. It may alias the current
// selection: a filter reading Sel() while writing SelBuffer() must write
// entry k only after reading entries ≤ k (which a filter that keeps rows in
// order does).
func (c *Chunk) SelBuffer() Selection {
	if c.selBuf == nil {
		c.selBuf = make(Selection, Size)
	}
	return c.selBuf
}

// SetSel sets the selection to the first n entries of sel (which may be
// SelBuffer() or a slice the caller keeps unchanged while the chunk is in
// use) and the length to n. A nil sel makes the chunk dense with length n.
func (c *Chunk) SetSel(sel Selection, n int) {
	if sel == nil {
		c.sel = nil
	} else {
		c.sel = sel[:n]
		if invariants {
			for r, p := range c.sel {
				if int(p) >= Size {
					panic(fmt.Sprintf("BUG: selection entry %d is slot %d, past the vector size %d", r, p, Size))
				}
			}
		}
	}
	c.SetLen(n)
}

// Reset empties the chunk: length 0, no selection, no references, and its
// own vectors without NULLs or string bytes. The memory is kept.
func (c *Chunk) Reset() {
	c.n = 0
	c.sel = nil
	for j, v := range c.own {
		c.cols[j] = v
		v.Reset()
	}
}

// Reference makes column j read vector v (of the column's type) without
// copying it. v must stay unchanged while c uses it.
func (c *Chunk) Reference(j int, v *Vector) {
	if v.typ != c.own[j].typ {
		panic(fmt.Sprintf("BUG: reference a %v vector as a %v column", v.typ, c.own[j].typ))
	}
	c.cols[j] = v
}

// ReferenceChunk makes c a view of src: every column references src's
// vector, and c takes src's length and selection (the selection slice is
// shared: c must not write it; a filter writes SelBuffer and SetSel).
func (c *Chunk) ReferenceChunk(src *Chunk) {
	if len(src.cols) != len(c.cols) {
		panic(fmt.Sprintf("BUG: reference a chunk of %d columns from one of %d", len(src.cols), len(c.cols)))
	}
	for j, v := range src.cols {
		c.Reference(j, v)
	}
	c.sel, c.n = src.sel, src.n
}

// Owned reports whether column j is the chunk's own vector (not a
// reference), so that writing to it is safe.
func (c *Chunk) Owned(j int) bool { return c.cols[j] == c.own[j] }

// Flatten makes the chunk dense: it applies the selection by moving the
// selected rows to slots 0..n-1 of every column. A dense chunk is left
// alone. An increasing selection (what filters produce) is applied in place
// without allocating; any other order goes through a new vector; a
// referenced column is gathered into the chunk's own vector.
func (c *Chunk) Flatten() {
	if c.sel == nil {
		return
	}
	increasing := true
	for r := 1; r < c.n; r++ {
		if c.sel[r] <= c.sel[r-1] {
			increasing = false
			break
		}
	}
	for j, v := range c.cols {
		switch {
		case !c.Owned(j):
			// Never modify a referenced vector: gather into our own.
			own := c.own[j]
			own.Reset()
			Copy(own, 0, v, c.sel, c.n)
			c.cols[j] = own
			continue
		case !increasing:
			tmp := New(v.typ)
			Copy(tmp, 0, v, c.sel, c.n)
			c.cols[j], c.own[j] = tmp, tmp
			continue
		}
		// sel[r] ≥ r, so slot r is overwritten only after its value was
		// read or when it is not selected at all.
		switch d := v.data.(type) {
		case []bool:
			compact(d, c.sel)
		case []int32:
			compact(d, c.sel)
		case []int64:
			compact(d, c.sel)
		case []float64:
			compact(d, c.sel)
		case []Str:
			compact(d, c.sel)
		}
		if !v.valid.AllValid() {
			for r, p := range c.sel {
				v.valid.Set(r, v.valid.IsValid(int(p)))
			}
		}
	}
	c.sel = nil
}

func compact[T any](d []T, sel Selection) {
	for r, p := range sel {
		d[r] = d[p]
	}
}

// Append appends the logical rows of src to c, which must be dense, have
// the same types and room for them (c.Len()+src.Len() ≤ Size).
func (c *Chunk) Append(src *Chunk) {
	if c.sel != nil || c.n+src.n > Size || len(c.cols) != len(src.cols) || !c.ownsAll() {
		panic(fmt.Sprintf("BUG: append %d rows to a chunk of %d (selection %v, references %v)", src.n, c.n, c.sel != nil, !c.ownsAll()))
	}
	for j, v := range c.cols {
		Copy(v, c.n, src.cols[j], src.sel, src.n)
	}
	c.n += src.n
}

func (c *Chunk) ownsAll() bool {
	for j := range c.cols {
		if !c.Owned(j) {
			return false
		}
	}
	return true
}

// AppendRow appends one row of boxed values (tests and constants).
func (c *Chunk) AppendRow(vals ...types.Value) {
	if c.sel != nil || c.n == Size || len(vals) != len(c.cols) || !c.ownsAll() {
		panic(fmt.Sprintf("BUG: append a row of %d values to a chunk of %d columns and %d rows", len(vals), len(c.cols), c.n))
	}
	for j, v := range c.cols {
		v.Set(c.n, vals[j])
	}
	c.n++
}

// Value returns column j of logical row r boxed, for tests and printing.
func (c *Chunk) Value(j, r int) types.Value { return c.cols[j].Value(c.Index(r)) }

// String prints the chunk as a table: a header of column types, then one
// line per logical row, columns separated by " | " and padded to align.
// NULL prints as NULL; strings print as they are.
//
//	BIGINT | VARCHAR
//	1      | apple
//	NULL   | pear
func (c *Chunk) String() string {
	cells := make([][]string, c.n+1)
	cells[0] = make([]string, len(c.cols))
	for j, v := range c.cols {
		cells[0][j] = v.typ.String()
	}
	for r := range c.n {
		row := make([]string, len(c.cols))
		for j := range c.cols {
			row[j] = c.Value(j, r).String()
		}
		cells[r+1] = row
	}
	width := make([]int, len(c.cols))
	for _, row := range cells {
		for j, s := range row {
			width[j] = max(width[j], len(s))
		}
	}
	var b strings.Builder
	for _, row := range cells {
		for j, s := range row {
			if j > 0 {
				b.WriteString(" | ")
			}
			b.WriteString(s)
			if j < len(row)-1 {
				b.WriteString(strings.Repeat(" ", width[j]-len(s)))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// ParseTable builds a dense chunk from the text form String prints: a
// header line of types separated by "|", then one line per row. Cells are
// trimmed; NULL is NULL in every column (a VARCHAR cell cannot hold the
// text NULL, a "|", a line break or surrounding spaces). Errors name the
// line and column.
func ParseTable(text string) (*Chunk, error) {
	// One trailing newline ends the last row; more would be rows (an empty
	// VARCHAR in a one-column table prints as an empty line).
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) == 0 || strings.TrimSpace(lines[0]) == "" {
		return nil, fmt.Errorf("parse table: no header line")
	}
	var ts []types.Type
	for j, name := range strings.Split(lines[0], "|") {
		t, err := types.ParseType(name)
		if err != nil {
			return nil, fmt.Errorf("parse table: line 1 column %d: %w", j+1, err)
		}
		ts = append(ts, t)
	}
	if len(lines)-1 > Size {
		return nil, fmt.Errorf("parse table: %d rows exceed the chunk size %d", len(lines)-1, Size)
	}
	c := NewChunk(ts)
	for i, line := range lines[1:] {
		cells := strings.Split(line, "|")
		if len(cells) != len(ts) {
			return nil, fmt.Errorf("parse table: line %d: %d cells, want %d", i+2, len(cells), len(ts))
		}
		vals := make([]types.Value, len(ts))
		for j, cell := range cells {
			cell = strings.TrimSpace(cell)
			if cell == "NULL" {
				vals[j] = types.Null(ts[j])
				continue
			}
			v, err := types.ParseValue(ts[j], cell)
			if err != nil {
				return nil, fmt.Errorf("parse table: line %d column %d: %w", i+2, j+1, err)
			}
			vals[j] = v
		}
		c.AppendRow(vals...)
	}
	return c, nil
}
