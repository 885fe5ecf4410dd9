package table

import (
	"fmt"
	"runtime"
	"slices"
	"sync"

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
//
// Row groups are compressed in parallel, one goroutine per column, at most
// GOMAXPROCS at a time, and written in order by the goroutine of each row
// group once the previous one is written. A staged appender does not wait
// for a full row group to be compressed: it goes on buffering the next one
// while up to GOMAXPROCS+1 row groups are in flight (that many times the
// memory above), and Flush, Commit, Close and Abort wait for them all.
type Appender struct {
	t      *Table
	cols   []*colData
	n      int
	done   bool
	staged bool // NewStagedAppender: row groups wait in groups for Commit

	sem chan struct{} // a slot per concurrent column compression

	mu        sync.Mutex
	cond      sync.Cond    // signalled when a row group is written
	submitted int          // row groups handed to compression
	written   int          // row groups written (or dropped after an error), in order
	err       error        // the first write error: every later call returns it
	spare     [][]*colData // column buffers of written row groups, reset, for reuse
	buffers   int          // column buffer sets in existence
	groups    []*rowGroup  // staged: written, not yet published
	rows      int64        // staged: rows in groups
}

// parallelRows is the least rows of a row group compressed on goroutines:
// smaller ones (an INSERT's few rows) are compressed by the caller.
const parallelRows = 8192

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
	a := &Appender{t: t, sem: make(chan struct{}, runtime.GOMAXPROCS(0)), buffers: 1}
	a.cond.L = &a.mu
	a.cols = a.newBuffers()
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
			a.submit()
			if !a.staged {
				// Published when Append returns, as documented.
				if err := a.wait(); err != nil {
					return err
				}
			}
		}
	}
	return a.failed()
}

// newBuffers returns a new set of column buffers.
func (a *Appender) newBuffers() []*colData {
	cols := make([]*colData, len(a.t.cols))
	for j, c := range a.t.cols {
		cols[j] = newColData(c.Type)
	}
	return cols
}

// submit hands the buffered rows, if any, to compression as the next row
// group and takes fresh buffers, waiting while too many row groups are in
// flight.
func (a *Appender) submit() {
	if a.n == 0 {
		return
	}
	cols, n := a.cols, a.n
	a.mu.Lock()
	seq := a.submitted
	a.submitted++
	for len(a.spare) == 0 && a.buffers > cap(a.sem) {
		a.cond.Wait()
	}
	if k := len(a.spare); k > 0 {
		a.cols, a.spare = a.spare[k-1], a.spare[:k-1]
	} else {
		a.buffers++
		a.cols = nil
	}
	a.mu.Unlock()
	if a.cols == nil {
		// Sized like the row group just submitted: growing to that by
		// appending would copy the string bytes several times.
		a.cols = a.newBuffers()
		for j, c := range a.cols {
			c.reserve(cols[j])
		}
	}
	a.n = 0
	segs := make([]encoded, len(cols))
	if n < parallelRows {
		for j, c := range cols {
			segs[j] = encodeSegment(c)
		}
		a.write(seq, n, cols, segs)
		return
	}
	var wg sync.WaitGroup
	for j, c := range cols {
		wg.Go(func() {
			a.sem <- struct{}{}
			segs[j] = encodeSegment(c)
			<-a.sem
		})
	}
	go func() {
		wg.Wait()
		a.write(seq, n, cols, segs)
	}()
}

// write writes row group seq of n rows, compressed as segs from the
// buffers cols, after row group seq-1, publishes or stages it and gives
// the buffers back. After a write error it drops the row group.
func (a *Appender) write(seq, n int, cols []*colData, segs []encoded) {
	a.mu.Lock()
	for a.written != seq {
		a.cond.Wait()
	}
	err := a.err
	a.mu.Unlock()
	var g *rowGroup
	if err == nil {
		g, err = a.t.write(n, segs)
		if err != nil {
			err = fmt.Errorf("append to table %q: write row group: %w", a.t.name, err)
		}
	}
	for _, c := range cols {
		c.reset()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case err != nil:
		if a.err == nil {
			a.err = err
		}
	case a.staged:
		a.groups = append(a.groups, g)
		a.rows += int64(g.rows)
	default:
		a.t.mu.Lock()
		a.t.groups = append(a.t.groups, g)
		a.t.rows += int64(g.rows)
		a.t.mu.Unlock()
	}
	a.spare = append(a.spare, cols)
	a.written++
	a.cond.Broadcast()
}

// wait waits until every submitted row group is written and returns the
// first write error.
func (a *Appender) wait() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for a.written != a.submitted {
		a.cond.Wait()
	}
	return a.err
}

// failed returns the first write error so far.
func (a *Appender) failed() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
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
// than RowGroupSize rows if the buffer is not full), and waits until every
// row group appended so far is written (and, unless staged, published).
func (a *Appender) Flush() error {
	if a.done {
		return fmt.Errorf("append to table %q: %w", a.t.name, ErrClosed)
	}
	a.submit()
	return a.wait()
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
	a.mu.Lock()
	groups, rows := a.groups, a.rows
	a.mu.Unlock()
	a.release(groups, rows)
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

// release waits for the row groups in flight, publishes groups (rows rows
// in all), ends the appender and frees the table for the next one.
func (a *Appender) release(groups []*rowGroup, rows int64) {
	_ = a.wait() // the caller has seen the error or is dropping the rows
	a.done = true
	a.mu.Lock()
	a.groups, a.rows = nil, 0
	a.spare = nil
	a.mu.Unlock()
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
		if v := c.Col(j); c.Sel() == nil && v.Validity().AllValid() && k > 0 {
			strs, arena := v.Strs()[r:r+k], v.Arena()
			// Strings stored one after another in the arena (as a parser
			// writes them) are copied at once.
			end, next := len(d.data), strs[0].Off
			contiguous := true
			for _, s := range strs {
				contiguous = contiguous && s.Off == next
				next = s.Off + s.Len
			}
			if contiguous {
				d.data = append(d.data, arena[strs[0].Off:next]...)
				for _, s := range strs {
					end += int(s.Len)
					d.offs = append(d.offs, uint32(end))
				}
			} else {
				for _, s := range strs {
					d.data = append(d.data, arena[s.Off:s.Off+s.Len]...)
					d.offs = append(d.offs, uint32(len(d.data)))
				}
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
