package order

import (
	"errors"
	"fmt"

	"github.com/bpfdb/bpfdb/internal/exec/collect"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// reserveStep returns the size of the reservations a task takes from m
// as its buffer grows: a sixteenth of the memory limit, between 64 KiB and
// 4 MiB.
func reserveStep(m *buffer.Manager) int {
	return int(min(max(m.Limit()/16, 64<<10), 4<<20))
}

// estimate is the memory a task's buffer needs until its run is written:
// the rows, their sorted copy, and the entries and radix scratch (16
// bytes each per row).
func (b *rowBuf) estimate() int64 { return 2*b.bytes() + 32*int64(b.n) }

// account makes the task's reservations cover its buffer's estimate. When
// a reservation fails for lack of memory, the buffer is sorted and written
// as a run to pages (spill) and its reservations are returned.
func (l *local) account() error {
	m := l.st.s.opts.Buffers
	if m == nil {
		return nil
	}
	if l.reserved >= l.buf.estimate() {
		return nil
	}
	l.st.s.memMu.Lock()
	defer l.st.s.memMu.Unlock()
	step := reserveStep(m)
	for l.reserved < l.buf.estimate() {
		b, _, err := m.AllocateFor(l.st.owner, buffer.TagSort, step)
		if err == nil {
			l.blocks = append(l.blocks, b)
			l.reserved += int64(step)
			continue
		}
		if !errors.Is(err, buffer.ErrOutOfMemory) || l.buf.n == 0 {
			return fmt.Errorf("sort: reserve memory for %d rows: %w", l.buf.n, err)
		}
		if err := l.spill(); err != nil {
			return err
		}
	}
	return nil
}

// release frees the task's reservations.
func (l *local) release() error {
	m := l.st.s.opts.Buffers
	var errs []error
	for _, b := range l.blocks {
		m.Unpin(b)
		errs = append(errs, m.Free(b))
	}
	l.blocks, l.reserved = nil, 0
	return errors.Join(errs...)
}

// spill sorts the task's buffer, frees its reservations and writes the
// sorted rows as a run of pages, with the sort's memMu held (by account);
// the buffer manager may evict the pages to its temporary file. The
// buffer starts over empty. (Between freeing the
// reservations and dropping the buffer, its Go memory is not accounted:
// the pages written need the room.)
func (l *local) spill() error {
	es := l.buf.sorted()
	if l.keep >= 0 && int64(len(es)) > l.keep {
		es = es[:l.keep]
	}
	sorted := gatherBuf(l.buf, es)
	l.buf = newRowBuf(l.buf.ts, l.buf.keyList())
	if err := l.release(); err != nil {
		return fmt.Errorf("sort: spill: %w", err)
	}
	c, err := writeRun(l.st.s.opts.Buffers, l.st.owner, sorted)
	if err != nil {
		return fmt.Errorf("sort: spill %d rows: %w", sorted.n, err)
	}
	l.st.s.hold(nil, c)
	l.st.mu.Lock()
	l.st.spilled = append(l.st.spilled, c)
	l.st.mu.Unlock()
	return nil
}

// writeRun stores a sorted buffer as pages of m, for owner: its columns
// and, last, a BIGINT column of the rows' sequence numbers.
func writeRun(m *buffer.Manager, owner uint64, b *rowBuf) (*collect.Collection, error) {
	ts := append(append([]types.Type(nil), b.ts...), types.BigIntType)
	c := collect.New(ts, collect.Options{Limit: -1, Buffers: m, Tag: buffer.TagSort, Owner: owner})
	w := vector.NewChunk(ts)
	for i, ch := range b.chunks {
		w.Reset()
		for j := range b.ts {
			w.Reference(j, ch.Col(j))
		}
		seq := w.Col(len(b.ts)).Int64s()
		for r, s := range b.seqs[i] {
			seq[r] = int64(s)
		}
		w.SetLen(ch.Len())
		if err := c.Append(w); err != nil {
			return nil, errors.Join(err, c.Close())
		}
	}
	return c, nil
}

// A cursor reads a sorted run front to back for a merge: a run in memory,
// or a run of pages read one page (one chunk) at a time.
type cursor struct {
	b   *rowBuf
	es  []entry
	pos int

	pages *collect.Collection // nil for a run in memory
	next  int                 // next page
	chunk *vector.Chunk       // the page read
	ts    []types.Type
	keys  []Key
}

func (c *cursor) done() bool  { return c.pos == len(c.es) }
func (c *cursor) head() entry { return c.es[c.pos] }

// load reads the next page into the cursor's buffer.
func (c *cursor) load() error {
	c.chunk.Reset()
	if err := c.pages.ReadChunk(c.next, c.chunk); err != nil {
		return fmt.Errorf("sort: read run: %w", err)
	}
	c.next++
	n := c.chunk.Len()
	b := newRowBuf(c.ts, c.keys)
	b.chunks = []*vector.Chunk{c.chunk}
	for j, col := range b.cols {
		col.add(c.chunk, j)
		b.nulls[j], col.nulls = true, true
	}
	seqs := make([]uint64, n)
	for r, s := range c.chunk.Col(len(c.ts)).Int64s()[:n] {
		seqs[r] = uint64(s)
	}
	b.seqs = [][]uint64{seqs}
	b.n = n
	c.b = b
	c.es = make([]entry, n)
	for i := range c.es {
		c.es[i].ref = refOf(0, i)
	}
	b.keys[0].prefixes(c.es, 0)
	c.pos = 0
	return nil
}

// advance moves past the head; it reports whether the cursor's buffer is
// about to change (the caller must be done with refs into it), in which
// case it returns a function to call for the next page.
func (c *cursor) advance() (refill bool) {
	c.pos++
	return c.done() && c.pages != nil && c.next < c.pages.NumChunks()
}

// mergePaged merges in-memory runs and runs of pages into a new collection
// of pages: rows [skip, skip+limit) of the order (limit < 0: all).
func (s *Sort) mergePaged(owner uint64, runs []*run, spilled []*collect.Collection, skip, limit int64) (*collect.Collection, error) {
	m := s.opts.Buffers
	out := collect.New(s.types, collect.Options{Limit: -1, Buffers: m, Tag: buffer.TagSort, Owner: owner})
	fail := func(err error) (*collect.Collection, error) {
		return nil, errors.Join(fmt.Errorf("sort: merge runs: %w", err), out.Close())
	}
	var curs []*cursor
	for _, r := range runs {
		curs = append(curs, &cursor{b: r.b, es: r.es})
	}
	for _, p := range spilled {
		c := &cursor{pages: p, ts: s.types, keys: s.keys, chunk: vector.NewChunk(p.Types())}
		if p.NumChunks() > 0 {
			if err := c.load(); err != nil {
				return fail(err)
			}
		}
		curs = append(curs, c)
	}
	bufs := make([]*rowBuf, len(curs))
	var heap []int
	for i, c := range curs {
		bufs[i] = c.b
		if !c.done() {
			heap = append(heap, i)
		}
	}
	less := func(i, j int) bool {
		c := cmpRuns(curs[i].b, curs[i].head(), curs[j].b, curs[j].head())
		return c < 0 || c == 0 && i < j
	}
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= len(heap) {
				return
			}
			m := l
			if r := l + 1; r < len(heap) && less(heap[r], heap[l]) {
				m = r
			}
			if !less(heap[m], heap[i]) {
				return
			}
			heap[i], heap[m] = heap[m], heap[i]
			i = m
		}
	}
	for i := len(heap)/2 - 1; i >= 0; i-- {
		down(i)
	}
	chunk := vector.NewChunk(s.types)
	var pending []oref
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		chunk.Reset()
		gatherInto(chunk, bufs, pending)
		pending = pending[:0]
		return out.Append(chunk)
	}
	for len(heap) > 0 && limit != 0 {
		i := heap[0]
		c := curs[i]
		if skip > 0 {
			skip--
		} else {
			pending = append(pending, orefOf(i, c.head().ref))
			if limit > 0 {
				limit--
			}
			if len(pending) == vector.Size {
				if err := flush(); err != nil {
					return fail(err)
				}
			}
		}
		if c.advance() {
			if err := flush(); err != nil {
				return fail(err)
			}
			if err := c.load(); err != nil {
				return fail(err)
			}
			bufs[i] = c.b
		}
		if c.done() {
			heap[0] = heap[len(heap)-1]
			heap = heap[:len(heap)-1]
		}
		down(0)
	}
	if err := flush(); err != nil {
		return fail(err)
	}
	return out, nil
}
