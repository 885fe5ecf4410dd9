package table

import (
	"fmt"
	"slices"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// An Appender adds rows to a table. It buffers up to RowGroupSize rows in
// memory; each full row group is compressed, written to blocks and published
// (visible to scans) at once, and the rest when Flush or Close is called.
// A table has at most one open appender. An Appender is not safe for
// concurrent use. The buffered rows are Go memory outside the buffer
// manager's limit: about 122,880 × the value width per column (1 MB for a
// BIGINT), plus the string bytes of VARCHAR columns.
type Appender struct {
	t      *Table
	cols   []*colData
	n      int
	done   bool
	staged bool        // NewStagedAppender: row groups wait in pending for Commit
	groups []*rowGroup // staged: written, not yet published
	rows   int64       // staged: rows in groups
}

// NewAppender opens the table's appender; it fails with ErrBusy if one is
// already open, with ErrReadOnly on a snapshot and with ErrNotFound if the
// table was dropped.
func (t *Table) NewAppender() (*Appender, error) {
	if t.snapshot {
		return nil, fmt.Errorf("append to table %q: %w", t.name, ErrReadOnly)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.dropped:
		return nil, fmt.Errorf("append to table %q: dropped: %w", t.name, ErrNotFound)
	case t.appending:
		return nil, fmt.Errorf("append to table %q: %w", t.name, ErrBusy)
	}
	t.appending = true
	a := &Appender{t: t}
	for _, c := range t.cols {
		a.cols = append(a.cols, newColData(c.Type))
	}
	return a, nil
}

// NewStagedAppender opens the table's appender in staged mode, for loads
// that must be all or nothing: row groups are compressed and written to
// blocks as they fill, as with NewAppender, but scans, Rows and Checkpoint
// see none of them until Commit publishes them all at once. Abort, or Close
// without Commit, discards them; their bytes stay in the blocks they were
// written to, unreferenced (the file does not reclaim space within blocks).
// Like NewAppender, it fails with ErrBusy if the table has an open appender.
func (t *Table) NewStagedAppender() (*Appender, error) {
	a, err := t.NewAppender()
	if err != nil {
		return nil, err
	}
	a.staged = true
	return a, nil
}

// Append adds the logical rows of c (selection and NULLs respected), whose
// column types must be the table's.
func (a *Appender) Append(c *vector.Chunk) error {
	if a.done {
		return fmt.Errorf("append to table %q: %w", a.t.name, ErrClosed)
	}
	if !slices.Equal(c.Types(), a.t.Types()) {
		return fmt.Errorf("append to table %q: chunk of types %v, table has %v", a.t.name, c.Types(), a.t.Types())
	}
	for r := 0; r < c.Len(); {
		k := min(c.Len()-r, RowGroupSize-a.n)
		for j, col := range a.cols {
			col.appendRows(c, j, r, k)
		}
		a.n += k
		r += k
		if a.n == RowGroupSize || a.stringBytes() > maxStringBytes {
			if err := a.Flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// maxStringBytes bounds the VARCHAR bytes of one column of a row group: a
// row group is flushed early when a column reaches it, so that offsets and
// segment sizes stay far inside 32 bits.
const maxStringBytes = 1 << 30

func (a *Appender) stringBytes() int {
	n := 0
	for _, c := range a.cols {
		n = max(n, len(c.data))
	}
	return n
}

// Flush compresses and publishes the buffered rows as a row group (of fewer
// than RowGroupSize rows if the buffer is not full).
func (a *Appender) Flush() error {
	if a.done {
		return fmt.Errorf("append to table %q: %w", a.t.name, ErrClosed)
	}
	if a.n == 0 {
		return nil
	}
	segs := make([]encoded, len(a.cols))
	for j, col := range a.cols {
		segs[j] = encodeSegment(col)
	}
	g, err := a.t.write(a.n, segs)
	if err != nil {
		return fmt.Errorf("append to table %q: write row group: %w", a.t.name, err)
	}
	if a.staged {
		a.groups = append(a.groups, g)
		a.rows += int64(g.rows)
	} else {
		a.t.mu.Lock()
		a.t.groups = append(a.t.groups, g)
		a.t.rows += int64(g.rows)
		a.t.mu.Unlock()
	}
	for _, col := range a.cols {
		col.reset()
	}
	a.n = 0
	return nil
}

// Close flushes the buffered rows and releases the table's appender. A
// staged appender that was not committed is aborted instead: Close never
// publishes staged rows, so a deferred Close is the cleanup of a failed
// load.
func (a *Appender) Close() error {
	if a.done {
		return nil
	}
	if a.staged {
		a.Abort()
		return nil
	}
	err := a.Flush()
	a.release(nil, 0)
	return err
}

// Commit flushes the buffered rows and, for a staged appender, publishes
// every staged row group at once, in the order they were appended; then it
// releases the appender. If the flush fails, nothing staged is published
// and the appender is released. For an appender from NewAppender, Commit is
// Close.
func (a *Appender) Commit() error {
	if a.done {
		return fmt.Errorf("append to table %q: commit: %w", a.t.name, ErrClosed)
	}
	if err := a.Flush(); err != nil {
		a.release(nil, 0)
		return err
	}
	a.release(a.groups, a.rows)
	return nil
}

// Abort drops the buffered rows and, for a staged appender, every staged
// row group, and releases the appender. Row groups already published (by
// Flush of an appender from NewAppender) stay. Abort after Commit, Close or
// Abort does nothing.
func (a *Appender) Abort() {
	if !a.done {
		a.release(nil, 0)
	}
}

// release publishes groups (rows rows in all), ends the appender and frees
// the table for the next one.
func (a *Appender) release(groups []*rowGroup, rows int64) {
	a.done = true
	a.groups, a.rows = nil, 0
	for _, c := range a.cols {
		c.reset()
	}
	a.n = 0
	a.t.mu.Lock()
	a.t.groups = append(a.t.groups, groups...)
	a.t.rows += rows
	a.t.appending = false
	a.t.mu.Unlock()
}

// appendRows appends logical rows [r, r+k) of column j of c.
func (d *colData) appendRows(c *vector.Chunk, j, r, k int) {
	switch d.typ.Physical() {
	case types.PhysBool:
		d.b = appendFixed(d, d.b, vector.ColOf[bool](c, j), r, k)
	case types.PhysInt32:
		d.i32 = appendFixed(d, d.i32, vector.ColOf[int32](c, j), r, k)
	case types.PhysInt64:
		d.i64 = appendFixed(d, d.i64, vector.ColOf[int64](c, j), r, k)
	case types.PhysFloat64:
		d.f64 = appendFixed(d, d.f64, vector.ColOf[float64](c, j), r, k)
	case types.PhysString:
		if v := c.Col(j); c.Sel() == nil && v.Validity().AllValid() {
			strs, arena := v.Strs()[r:r+k], v.Arena()
			for _, s := range strs {
				d.data = append(d.data, arena[s.Off:s.Off+s.Len]...)
				d.offs = append(d.offs, uint32(len(d.data)))
			}
			d.setValidRange(d.n, k)
			d.n += k
			return
		}
		col := vector.StrColOf(c, j)
		for i := r; i < r+k; i++ {
			b, ok := col.Get(i)
			if ok {
				d.data = append(d.data, b...)
				d.setValid(d.n)
			} else {
				d.nulls++
			}
			d.offs = append(d.offs, uint32(len(d.data)))
			d.n++
		}
	}
}

func appendFixed[T vector.Fixed](d *colData, dst []T, col vector.Col[T], r, k int) []T {
	if col.Sel() == nil && col.AllValid() {
		dst = append(dst, col.Data()[r:r+k]...)
		d.setValidRange(d.n, k)
		d.n += k
		return dst
	}
	var zero T
	for i := r; i < r+k; i++ {
		x, ok := col.Get(i)
		if ok {
			d.setValid(d.n)
		} else {
			x = zero
			d.nulls++
		}
		dst = append(dst, x)
		d.n++
	}
	return dst
}

func (d *colData) setValid(i int) { d.valid[i>>6] |= 1 << (i & 63) }

// setValidRange marks rows [from, from+n) valid.
func (d *colData) setValidRange(from, n int) {
	for i := from; i < from+n; {
		if i&63 == 0 && from+n-i >= 64 {
			d.valid[i>>6] = ^uint64(0)
			i += 64
			continue
		}
		d.setValid(i)
		i++
	}
}
