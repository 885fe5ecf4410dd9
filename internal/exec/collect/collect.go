package collect

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// Options configure a Collection.
type Options struct {
	// Limit is the most rows kept (LIMIT); < 0 means all.
	Limit int64
	// Offset is the number of leading rows dropped (OFFSET), in the
	// source's morsel order.
	Offset int64
	// Buffers, if set, holds the chunks as pages of temporary buffers:
	// their memory is accounted under Tag and the manager may spill them
	// to its temporary file. Nil keeps plain chunks in Go memory,
	// unaccounted.
	Buffers *buffer.Manager
	// Tag is what the pages are accounted to. The zero value
	// (buffer.TagBaseTable, which is never an intermediate's) means
	// buffer.TagColumnData.
	Tag buffer.Tag
	// Owner is the query the pages are allocated for
	// (buffer.Manager.AllocateFor); as a pipeline's sink, the collection
	// takes its run's producer id instead.
	Owner uint64
}

// part is one stored chunk, dense, of which rows [from, to) belong to the
// collection: in memory (c) or in a page (p).
type part struct {
	c        *vector.Chunk
	p        *page
	from, to int
}

func (pt part) rows() int { return pt.to - pt.from }

// Collection is a materialized sequence of rows: a query's result, a UNION
// ALL branch, a CTE. It is filled either as a parallel.Sink (a pipeline
// run, after which its rows are in the source's morsel order) or by
// Append, and then read by Chunks, an Iterator or its Source.
//
// Reads may run concurrently with each other once filling is over; filling
// and reading must not overlap. A Collection with Options.Buffers holds
// temporary buffers until Close.
type Collection struct {
	types []types.Type
	opts  Options

	parts []part
	rows  int64

	// run is the state of the pipeline run filling the collection.
	run *runState
}

var _ parallel.Sink = (*Collection)(nil)

// New returns an empty collection of rows of the given types.
func New(ts []types.Type, opts Options) *Collection {
	if opts.Tag == buffer.TagBaseTable {
		opts.Tag = buffer.TagColumnData
	}
	return &Collection{types: slices.Clone(ts), opts: opts}
}

// Types returns the column types.
func (c *Collection) Types() []types.Type { return slices.Clone(c.types) }

// Rows returns the number of rows (after Limit and Offset).
func (c *Collection) Rows() int64 { return c.rows }

// String describes the collection as EXPLAIN prints it:
// "collect" or "collect limit 10 offset 5".
func (c *Collection) String() string {
	if c.opts.Limit < 0 && c.opts.Offset == 0 {
		return "collect"
	}
	if c.opts.Limit < 0 {
		return fmt.Sprintf("collect offset %d", c.opts.Offset)
	}
	return fmt.Sprintf("collect limit %d offset %d", c.opts.Limit, c.opts.Offset)
}

// keep is the most rows any one morsel can contribute with a limit: the
// rows of a morsel after the first Offset+Limit cannot be in the result
// whatever the morsels before it hold. -1 means no bound.
func (c *Collection) keep() int64 {
	switch {
	case c.opts.Limit < 0:
		return -1
	case c.opts.Limit == 0:
		return 0 // no row is kept, whatever the offset
	}
	return c.opts.Offset + c.opts.Limit
}

// store turns a dense chunk into a part, paging it out with Buffers.
func (c *Collection) store(ch *vector.Chunk) (part, error) {
	pt := part{to: ch.Len()}
	if c.opts.Buffers == nil {
		pt.c = ch
		return pt, nil
	}
	p, err := writePage(c.opts.Buffers, c.opts.Owner, c.opts.Tag, ch)
	if err != nil {
		return part{}, fmt.Errorf("collect: store %d rows: %w", ch.Len(), err)
	}
	pt.p = p
	return pt, nil
}

// Append adds the logical rows of in at the end of the collection, as one
// stored chunk (so callers should append full chunks). It ignores Limit
// and Offset and must not run during a pipeline run filling c.
func (c *Collection) Append(in *vector.Chunk) error {
	if in.Len() == 0 {
		return nil
	}
	if in.Width() != len(c.types) {
		panic(fmt.Sprintf("BUG: append a chunk of %d columns to a collection of %d", in.Width(), len(c.types)))
	}
	ch := vector.NewChunk(c.types)
	ch.Append(in)
	pt, err := c.store(ch)
	if err != nil {
		return err
	}
	c.parts = append(c.parts, pt)
	c.rows += int64(pt.rows())
	return nil
}

// Close releases the collection's pages (with Buffers) and empties it.
func (c *Collection) Close() error {
	var errs []error
	for _, pt := range c.parts {
		if pt.p != nil {
			errs = append(errs, c.opts.Buffers.Free(pt.p.b))
		}
	}
	c.parts, c.rows = nil, 0
	return errors.Join(errs...)
}

// NumChunks returns the number of stored chunks.
func (c *Collection) NumChunks() int { return len(c.parts) }

// ReadChunk fills out (which the caller has Reset; it must have the
// collection's types) with stored chunk i: a view of the stored vectors
// for chunks in memory (with a selection if only some of its rows belong
// to the collection), a copy for pages.
func (c *Collection) ReadChunk(i int, out *vector.Chunk) error {
	pt := c.parts[i]
	if pt.c != nil {
		out.ReferenceChunk(pt.c)
	} else if err := pt.p.read(c.opts.Buffers, out); err != nil {
		return fmt.Errorf("collect: chunk %d: %w", i, err)
	}
	if pt.from != 0 || pt.to != out.Len() {
		sel := out.SelBuffer()
		for r := pt.from; r < pt.to; r++ {
			sel[r-pt.from] = uint16(r)
		}
		out.SetSel(sel, pt.rows())
	}
	return nil
}

// Chunks returns the rows as dense chunks in order. Chunks held in memory
// whose rows all belong to the collection are returned as they are stored
// (callers must not modify them); the others are copies. With Buffers it
// reads every page, which can fail (out of memory, temporary file).
func (c *Collection) Chunks() ([]*vector.Chunk, error) {
	out := make([]*vector.Chunk, 0, len(c.parts))
	for i, pt := range c.parts {
		if pt.c != nil && pt.from == 0 && pt.to == pt.c.Len() {
			out = append(out, pt.c)
			continue
		}
		ch := vector.NewChunk(c.types)
		if err := c.ReadChunk(i, ch); err != nil {
			return nil, err
		}
		if ch.Sel() != nil || !ownsAll(ch) {
			dense := vector.NewChunk(c.types)
			dense.Append(ch)
			ch = dense
		}
		out = append(out, ch)
	}
	return out, nil
}

func ownsAll(c *vector.Chunk) bool {
	for j := range c.Width() {
		if !c.Owned(j) {
			return false
		}
	}
	return true
}

// Iterator returns an iterator over the rows, boxed, for printing.
func (c *Collection) Iterator() *Iterator {
	return &Iterator{c: c, chunk: vector.NewChunk(c.types), next: 0, row: -1}
}

// Iterator walks a collection's rows in order, boxing each (for clients
// that print rows, not for kernels):
//
//	it := c.Iterator()
//	for it.Next() {
//		fmt.Println(it.Row())
//	}
//	if err := it.Err(); err != nil { … }
type Iterator struct {
	c     *Collection
	chunk *vector.Chunk
	next  int // next stored chunk to read
	row   int // current row of chunk
	vals  []types.Value
	err   error
}

// Next advances to the next row and reports whether there is one.
func (it *Iterator) Next() bool {
	if it.err != nil {
		return false
	}
	it.row++
	for it.row >= it.chunk.Len() {
		if it.next == len(it.c.parts) {
			return false
		}
		it.chunk.Reset()
		if err := it.c.ReadChunk(it.next, it.chunk); err != nil {
			it.err = err
			return false
		}
		it.next++
		it.row = 0
	}
	return true
}

// Row returns the current row's values; the slice is reused by the next
// call to Next.
func (it *Iterator) Row() []types.Value {
	if cap(it.vals) < it.chunk.Width() {
		it.vals = make([]types.Value, it.chunk.Width())
	}
	it.vals = it.vals[:it.chunk.Width()]
	for j := range it.vals {
		it.vals[j] = it.chunk.Value(j, it.row)
	}
	return it.vals
}

// Err returns the error that stopped the iteration, if any.
func (it *Iterator) Err() error { return it.err }

// Init starts a pipeline run filling the collection: it drops what the
// collection held (releasing its pages).
func (c *Collection) Init(p *parallel.Producer) (parallel.SinkState, error) {
	if err := c.Close(); err != nil {
		return nil, fmt.Errorf("collect: drop the previous rows: %w", err)
	}
	if id := uint64(p.ID()); id != 0 {
		c.opts.Owner = id
	}
	c.run = &runState{c: c}
	return c.run, nil
}

// runState is the global sink state of one pipeline run: the parts of
// every morsel, gathered by Combine.
type runState struct {
	c  *Collection
	mu sync.Mutex
	ms []morselParts
}

// morselParts are the parts one morsel produced, in order.
type morselParts struct {
	m     int
	parts []part
	rows  int64
}

// NewLocal returns a task's sink state.
func (st *runState) NewLocal() (parallel.SinkLocal, error) {
	return &local{st: st, keep: st.c.keep()}, nil
}

// Finalize puts the morsels in source order and cuts the window
// [Offset, Offset+Limit) out of their rows.
func (st *runState) Finalize() error {
	c := st.c
	slices.SortFunc(st.ms, func(a, b morselParts) int { return a.m - b.m })
	skip, left := c.opts.Offset, c.opts.Limit
	var drop []part
	for _, mp := range st.ms {
		for _, pt := range mp.parts {
			n := int64(pt.rows())
			switch {
			case left == 0:
				drop = append(drop, pt)
				continue
			case skip >= n:
				skip -= n
				drop = append(drop, pt)
				continue
			}
			pt.from += int(skip)
			skip = 0
			if left >= 0 && int64(pt.rows()) > left {
				pt.to = pt.from + int(left)
			}
			if left >= 0 {
				left -= int64(pt.rows())
			}
			c.parts = append(c.parts, pt)
			c.rows += int64(pt.rows())
		}
	}
	st.ms = nil
	c.run = nil
	var errs []error
	for _, pt := range drop {
		if pt.p != nil {
			errs = append(errs, c.opts.Buffers.Free(pt.p.b))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("collect: free pages past the limit: %w", err)
	}
	return nil
}

// local is a task's sink state: the morsels it scanned, each as parts,
// and the chunk being filled.
type local struct {
	st   *runState
	keep int64 // most rows per morsel, -1: all
	done []morselParts
	cur  morselParts   // the morsel being scanned; rows counts fill's too
	fill *vector.Chunk // being filled for cur; nil if none

	next    int  // the morsel BeginMorsel announced
	pending bool // cur ends at the next Sink or Combine
}

// BeginMorsel notes that the next chunks come from morsel m. The switch
// happens at the next Sink or Combine, which can report an error.
func (l *local) BeginMorsel(m int) { l.next, l.pending = m, true }

// switchMorsel ends the current morsel if BeginMorsel announced another.
func (l *local) switchMorsel() error {
	if !l.pending {
		return nil
	}
	l.pending = false
	if err := l.endMorsel(); err != nil {
		return err
	}
	l.cur = morselParts{m: l.next}
	return nil
}

// seal stores the chunk being filled as a part of the current morsel.
func (l *local) seal() error {
	if l.fill == nil || l.fill.Len() == 0 {
		return nil
	}
	pt, err := l.st.c.store(l.fill)
	if err != nil {
		return err
	}
	l.fill = nil
	l.cur.parts = append(l.cur.parts, pt)
	return nil
}

// endMorsel seals the current morsel's last chunk and files the morsel.
func (l *local) endMorsel() error {
	if err := l.seal(); err != nil {
		return err
	}
	if len(l.cur.parts) > 0 {
		l.done = append(l.done, l.cur)
	}
	l.cur = morselParts{m: l.cur.m}
	return nil
}

// identity is the selection 0, 1, 2, …: rows [a, b) of a dense chunk are
// identity[a:b].
var identity = func() vector.Selection {
	s := make(vector.Selection, vector.Size)
	for i := range s {
		s[i] = uint16(i)
	}
	return s
}()

// Sink copies in's rows (up to the per-morsel bound of a limit) into the
// chunk being filled, sealing it whenever it is full.
func (l *local) Sink(in *vector.Chunk) error {
	if err := l.switchMorsel(); err != nil {
		return err
	}
	n := in.Len()
	if l.keep >= 0 {
		n = int(min(int64(n), max(0, l.keep-l.cur.rows)))
	}
	sel := in.Sel()
	if sel == nil {
		sel = identity
	}
	ts := l.st.c.types
	for done := 0; done < n; {
		if l.fill == nil {
			l.fill = vector.NewChunk(ts)
		}
		k := min(n-done, vector.Size-l.fill.Len())
		for j := range ts {
			vector.Copy(l.fill.Col(j), l.fill.Len(), in.Col(j), sel[done:done+k], k)
		}
		l.fill.SetLen(l.fill.Len() + k)
		done += k
		if l.fill.Len() == vector.Size {
			if err := l.seal(); err != nil {
				return err
			}
		}
	}
	l.cur.rows += int64(n)
	return nil
}

// Combine files the task's morsels in the run's state.
func (l *local) Combine() error {
	l.pending = false
	if err := l.endMorsel(); err != nil {
		return err
	}
	l.st.mu.Lock()
	l.st.ms = append(l.st.ms, l.done...)
	l.st.mu.Unlock()
	l.done = nil
	return nil
}
