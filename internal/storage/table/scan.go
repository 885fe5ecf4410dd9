package table

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// Op is the comparison of a zone-map filter.
type Op uint8

// The comparisons.
const (
	OpEq Op = iota // column = constant
	OpNe           // column <> constant
	OpLt           // column < constant
	OpLe           // column <= constant
	OpGt           // column > constant
	OpGe           // column >= constant
	numOps
)

var opNames = [numOps]string{"=", "<>", "<", "<=", ">", ">="}

// String returns the operator's SQL spelling ("<=").
func (o Op) String() string {
	if o < numOps {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// A Filter is a predicate `column op constant` that a scan checks against
// each row group's zone maps: a row group in which no row can satisfy it
// is skipped. Unless ScanOptions.FilterRows is set, filters only skip: the
// rows of a row group that is read are all returned, and the filter
// operator above the scan evaluates the predicate.
// Comparisons follow types.Compare (NaN above every number); a NULL
// constant matches no row. The constant must have the column's type, or both
// must be exact numbers (INTEGER, BIGINT, DECIMAL of any scale): the planner
// casts other constants first.
type Filter struct {
	Column int // index into the table's columns
	Op     Op
	Value  types.Value
}

// String prints the filter as "column op value" with the column's index.
func (f Filter) String() string { return fmt.Sprintf("#%d %v %v", f.Column, f.Op, f.Value) }

// ScanOptions say what a scan reads.
type ScanOptions struct {
	// Columns are the indexes of the table's columns to read, in the order
	// the chunks hold them; nil means all.
	Columns []int
	// Start and End delimit the row groups to read, [Start, End): the
	// morsel. End 0 means through the last row group published when the scan
	// starts.
	Start, End int
	// FirstVector and EndVector, with End = Start+1, limit the scan to
	// vectors [FirstVector, EndVector) of that row group (EndVector 0: to
	// its last vector): a morsel smaller than a row group. The row group
	// counts in ScanStats (read or skipped) only for the morsel with
	// FirstVector 0.
	FirstVector, EndVector int
	// Filters skip row groups by their zone maps.
	Filters []Filter
	// FilterRows makes the filters drop rows as well, vector by vector:
	// the filter columns are decoded (or, for constant and dictionary
	// segments, tested without decoding) first, one filter column after
	// another on the rows the previous ones kept; a vector in which no row
	// passes is skipped, and the other columns are decoded only for the
	// vectors with survivors (only at the surviving rows when they are
	// few). The chunks carry the survivors as their selection. The result
	// is exactly the rows of the read row groups that satisfy every filter
	// (NULL satisfies none), by types.Compare.
	FilterRows bool
	// Sets keep only the rows whose value is in a set (a hash join's build
	// keys): each adds the zone-map filters Min ≤ x ≤ Max, and with
	// FilterRows drops the rows outside its set as well.
	Sets []SetFilter
}

// A SetFilter is the predicate `Min <= column <= Max`, and, if Bits is not
// nil, `bit column−Min of Bits is set`, on an INTEGER, BIGINT or DATE
// column (no bit past Max may be set): a set of values as a bitmap over
// their range,
//
//	Bits  word 0: bits 0..63 = Min..Min+63, word 1: Min+64.., …
//
// so that testing a row costs a subtraction and one bit, whatever the
// set's size. A NULL matches no set.
type SetFilter struct {
	Column   int // index into the table's columns
	Min, Max int64
	Bits     []uint64 // nil: every value of the range; else ⌈(Max−Min+1)/64⌉ words at least
}

// String prints the filter as "#column in [min, max]" plus the number of
// values set in Bits.
func (f SetFilter) String() string {
	s := fmt.Sprintf("#%d in [%d, %d]", f.Column, f.Min, f.Max)
	if f.Bits != nil {
		n := 0
		for _, w := range f.Bits {
			n += bits.OnesCount64(w)
		}
		s += fmt.Sprintf(" (%d values)", n)
	}
	return s
}

// ScanStats count what a scan did.
type ScanStats struct {
	RowGroups int   // row groups read
	Skipped   int   // row groups skipped by the zone maps
	Rows      int64 // rows returned
	// With FilterRows: Vectors counts the vectors read (whose filter
	// columns were tested), Empty those in which no row passed, Dropped
	// the rows the filters dropped in the row groups read.
	Vectors, Empty int
	Dropped        int64
}

// String prints the stats as "rows=… rowgroups=… skipped=…".
func (st ScanStats) String() string {
	return fmt.Sprintf("rows=%d rowgroups=%d skipped=%d", st.Rows, st.RowGroups, st.Skipped)
}

// A Scanner reads a range of row groups as chunks. It holds no pin between
// calls to Next, so an abandoned scanner leaks nothing. It is not safe for
// concurrent use; run one scanner per task.
type Scanner struct {
	t       *Table
	cols    []int
	types   []types.Type
	groups  []*rowGroup
	first   int // row group number of groups[0]
	filters []Filter
	// FilterRows: the compiled filters, in the order they are tested, and
	// the vectors of filter columns that are not among cols (readers past
	// len(cols) read them).
	preds   []*colPred
	hidden  []*vector.Vector
	decoded []bool // per reader: the current vector is decoded

	g   int // index into groups of the row group being read
	vec int // next vector of that row group
	// The vectors of each row group to read: [firstVec, endVec), endVec 0
	// meaning all.
	firstVec, endVec int
	readers          []*segReader
	done             bool // exhausted or failed
	stats            ScanStats
}

// Scan starts a scan of the table's published row groups.
func (t *Table) Scan(opts ScanOptions) (*Scanner, error) {
	fail := func(format string, args ...any) (*Scanner, error) {
		return nil, fmt.Errorf("scan table %q: "+format, append([]any{t.name}, args...)...)
	}
	cols := opts.Columns
	if cols == nil {
		for j := range t.cols {
			cols = append(cols, j)
		}
	}
	s := &Scanner{t: t, cols: slices.Clone(cols), first: opts.Start}
	for _, j := range cols {
		if j < 0 || j >= len(t.cols) {
			return fail("no column %d", j)
		}
		s.types = append(s.types, t.cols[j].Type)
	}
	for _, f := range opts.Filters {
		if f.Column < 0 || f.Column >= len(t.cols) {
			return fail("filter %v: no column %d", f, f.Column)
		}
		if f.Op >= numOps {
			return fail("filter %v: unknown operator", f)
		}
		if ct := t.cols[f.Column].Type; !zoneComparable(ct, f.Value.Type()) {
			return fail("filter %v: cannot compare column %q of type %v with %v", f, t.cols[f.Column].Name, ct, f.Value.Type())
		}
	}
	s.filters = slices.Clone(opts.Filters)
	for _, f := range opts.Sets {
		if f.Column < 0 || f.Column >= len(t.cols) {
			return fail("filter %v: no column %d", f, f.Column)
		}
		ct := t.cols[f.Column].Type
		var lo, hi types.Value
		switch ct.ID() {
		case types.Integer:
			lo, hi = types.IntegerValue(int32(max(f.Min, math.MinInt32))), types.IntegerValue(int32(min(f.Max, math.MaxInt32)))
		case types.BigInt:
			lo, hi = types.BigIntValue(f.Min), types.BigIntValue(f.Max)
		case types.Date:
			lo, hi = types.DateValue(int32(max(f.Min, math.MinInt32))), types.DateValue(int32(min(f.Max, math.MaxInt32)))
		default:
			return fail("filter %v: a set of values on column %q of type %v (INTEGER, BIGINT or DATE only)", f, t.cols[f.Column].Name, ct)
		}
		if f.Min > f.Max || f.Bits != nil && uint64(len(f.Bits)) < (uint64(f.Max-f.Min)>>6)+1 {
			return fail("filter %v: %d words of bits for the range", f, len(f.Bits))
		}
		if f.Bits != nil {
			// No bit past Max: tests may read whole words.
			last := uint64(f.Max - f.Min)
			if f.Bits[last>>6]>>(last&63)>>1 != 0 || slices.ContainsFunc(f.Bits[last>>6+1:], func(w uint64) bool { return w != 0 }) {
				return fail("filter %v: bits set past the range", f)
			}
		}
		s.filters = append(s.filters, Filter{Column: f.Column, Op: OpGe, Value: lo}, Filter{Column: f.Column, Op: OpLe, Value: hi})
	}
	if opts.FilterRows && len(s.filters) > 0 {
		readerOf := func(col int) int {
			if i := slices.Index(s.cols, col); i >= 0 {
				return i
			}
			if i := slices.Index(s.cols[len(s.types):], col); i >= 0 {
				return len(s.types) + i
			}
			s.cols = append(s.cols, col)
			s.hidden = append(s.hidden, vector.New(t.cols[col].Type))
			return len(s.cols) - 1
		}
		s.preds = compilePreds(t.cols, s.filters, opts.Sets, readerOf)
		for _, p := range s.preds {
			p.output = p.reader < len(s.types)
		}
		s.decoded = make([]bool, len(s.cols))
	}
	t.mu.RLock()
	groups := t.groups
	t.mu.RUnlock()
	end := opts.End
	if end == 0 {
		end = len(groups)
	}
	if opts.Start < 0 || opts.Start > end || end > len(groups) {
		return fail("row groups [%d, %d) outside the table's %d", opts.Start, end, len(groups))
	}
	s.groups = groups[opts.Start:end]
	if opts.FirstVector != 0 || opts.EndVector != 0 {
		if end != opts.Start+1 || opts.FirstVector < 0 || opts.EndVector != 0 && opts.EndVector <= opts.FirstVector ||
			opts.FirstVector*vector.Size >= s.groups[0].rows {
			return fail("vectors [%d, %d) of row groups [%d, %d): a vector range needs one row group and must lie in it", opts.FirstVector, opts.EndVector, opts.Start, end)
		}
		s.firstVec, s.endVec = opts.FirstVector, opts.EndVector
	}
	s.g = -1
	return s, nil
}

// zoneComparable reports whether a zone map of type col can be compared with
// a constant of type c by types.Compare.
func zoneComparable(col, c types.Type) bool {
	exact := func(id types.ID) bool { return id == types.Integer || id == types.BigInt || id == types.Decimal }
	return col.ID() == c.ID() || exact(col.ID()) && exact(c.ID())
}

// Types returns the types of the chunks Next fills.
func (s *Scanner) Types() []types.Type { return slices.Clone(s.types) }

// NewChunk returns a chunk of the scan's types, for Next.
func (s *Scanner) NewChunk() *vector.Chunk { return vector.NewChunk(s.types) }

// Stats returns what the scan has done so far.
func (s *Scanner) Stats() ScanStats { return s.stats }

// Next resets c (which must have the scan's types) and fills it with the next
// vector of rows: up to vector.Size rows of one row group. It returns false
// when the range is exhausted. Errors name the table, row group and column.
func (s *Scanner) Next(c *vector.Chunk) (bool, error) {
	if !s.fits(c) {
		return false, fmt.Errorf("scan table %q: chunk of types %v, scan reads %v", s.t.name, c.Types(), s.types)
	}
	for {
		ok, err := s.next(c)
		if err != nil || !ok || c.Len() > 0 {
			return ok, err
		}
		// Every row of the vector failed the filters: on to the next.
	}
}

// next is Next for one vector, which may come out empty with FilterRows.
func (s *Scanner) next(c *vector.Chunk) (bool, error) {
	c.Reset()
	if s.done {
		return false, nil
	}
	for s.g < 0 || s.vec*vector.Size >= s.groups[s.g].rows || s.endVec > 0 && s.vec >= s.endVec {
		s.g++
		s.vec = s.firstVec
		s.closeReaders()
		if s.g >= len(s.groups) {
			s.stop()
			return false, nil
		}
		counts := s.firstVec == 0 // the row group's first morsel counts it
		if s.skip(s.groups[s.g]) {
			if counts {
				s.stats.Skipped++
			}
			s.vec = RowGroupSize
			continue
		}
		if counts {
			s.stats.RowGroups++
		}
		if err := s.open(); err != nil {
			s.stop()
			return false, err
		}
	}
	g := s.groups[s.g]
	n := min(vector.Size, g.rows-s.vec*vector.Size)
	if s.preds != nil {
		return s.nextFiltered(c, n)
	}
	for i, r := range s.readers {
		if err := r.readVector(s.vec, n, c.Col(i)); err != nil {
			s.stop()
			return false, s.errorf(i, "read vector %d: %w", s.vec, corrupt(err))
		}
	}
	s.vec++
	c.SetLen(n)
	s.stats.Rows += int64(n)
	return true, nil
}

// nextFiltered is next with FilterRows, for the current vector of n rows;
// c stays empty if no row passes.
func (s *Scanner) nextFiltered(c *vector.Chunk, n int) (bool, error) {
	k := s.vec
	s.vec++
	s.stats.Vectors++
	clear(s.decoded)
	buf := c.SelBuffer()
	var sel []uint16 // nil: all n rows
	cnt := n
	for _, p := range s.preds {
		r, v := s.readers[p.reader], s.vector(c, p.reader)
		var dec bool
		var err error
		cnt, dec, err = r.filter(k, n, sel, p, v, buf)
		if err != nil {
			s.stop()
			return false, s.errorf(p.reader, "filter vector %d: %w", k, corrupt(err))
		}
		s.decoded[p.reader] = s.decoded[p.reader] || dec
		sel = buf[:cnt]
		if cnt == 0 {
			break
		}
	}
	s.stats.Dropped += int64(n - cnt)
	if cnt == 0 {
		s.stats.Empty++
		return true, nil // c is empty
	}
	if cnt == n {
		sel = nil
	}
	for i, r := range s.readers[:len(s.types)] {
		if s.decoded[i] {
			continue
		}
		dsel := sel
		if sel != nil && !r.selective(cnt, n) {
			dsel = nil
		}
		if err := r.readVectorSel(k, n, dsel, c.Col(i)); err != nil {
			s.stop()
			return false, s.errorf(i, "read vector %d: %w", k, corrupt(err))
		}
	}
	if sel == nil {
		c.SetLen(n)
	} else {
		c.SetSel(sel, cnt)
	}
	s.stats.Rows += int64(cnt)
	return true, nil
}

// vector returns the vector reader i decodes into: the chunk's column, or
// a hidden one for a filter column the scan does not return.
func (s *Scanner) vector(c *vector.Chunk, i int) *vector.Vector {
	if i < len(s.types) {
		return c.Col(i)
	}
	v := s.hidden[i-len(s.types)]
	v.Reset()
	return v
}

// fits reports whether c has the scan's types.
func (s *Scanner) fits(c *vector.Chunk) bool {
	if c.Width() != len(s.types) {
		return false
	}
	for i, t := range s.types {
		if c.Col(i).Type() != t {
			return false
		}
	}
	return true
}

// Close releases what the scan holds: the blocks its segment readers
// keep pinned between vectors. A scan that Next ran to the end (or to an
// error) holds nothing; one given up before must be closed, or its blocks
// stay pinned (unevictable, and not reclaimable). Next after Close
// reports the end. Close is idempotent.
func (s *Scanner) Close() { s.stop() }

// stop ends the scan: no more rows, and the readers closed.
func (s *Scanner) stop() {
	s.done = true
	s.closeReaders()
}

// closeReaders closes and drops the current row group's segment readers.
func (s *Scanner) closeReaders() {
	for _, r := range s.readers {
		r.close()
	}
	clear(s.readers)
	s.readers = s.readers[:0]
}

// corrupt makes segment errors wrap ErrCorrupt.
func corrupt(err error) error {
	if errors.Is(err, errSegment) || errors.Is(err, errExtent) {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return err
}

func (s *Scanner) errorf(i int, format string, args ...any) error {
	col := s.t.cols[s.cols[i]]
	return fmt.Errorf("scan table %q: row group %d: column %q: "+format, append([]any{s.t.name, s.first + s.g, col.Name}, args...)...)
}

// open reads the segment headers of the current row group's columns.
func (s *Scanner) open() error {
	g := s.groups[s.g]
	for i, j := range s.cols {
		seg := g.segs[j]
		r, err := openSegment(newBlockSource(s.t.db.m, seg.ext), seg.size, s.t.cols[j].Type)
		if err != nil {
			return s.errorf(i, "open segment: %w", corrupt(err))
		}
		if r.h.format != seg.format || r.h.count != g.rows || r.h.nulls != seg.nulls {
			return s.errorf(i, "open segment: %w: header says %v with %d rows and %d NULLs, catalog %v with %d rows and %d NULLs",
				ErrCorrupt, r.h.format, r.h.count, r.h.nulls, seg.format, g.rows, seg.nulls)
		}
		s.readers = append(s.readers, r)
	}
	return nil
}

// skip reports whether a filter rules out every row of g.
func (s *Scanner) skip(g *rowGroup) bool {
	for _, f := range s.filters {
		if f.Value.IsNull() {
			return true
		}
		z := g.segs[f.Column].zone
		if !z.has {
			return true // every row NULL: no comparison is true
		}
		lo := types.Compare(z.min, f.Value) // min is exact or a lower bound
		hi := 0
		if z.hasMax {
			hi = types.Compare(z.max, f.Value)
		}
		switch f.Op {
		case OpEq:
			if lo > 0 || z.hasMax && hi < 0 {
				return true
			}
		case OpNe:
			if z.exact && lo == 0 && hi == 0 {
				return true
			}
		case OpLt:
			if lo >= 0 {
				return true
			}
		case OpLe:
			if lo > 0 {
				return true
			}
		case OpGt:
			if z.hasMax && hi <= 0 {
				return true
			}
		case OpGe:
			if z.hasMax && hi < 0 {
				return true
			}
		}
	}
	return false
}
