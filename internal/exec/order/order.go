package order

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/bpfdb/bpfdb/internal/exec/collect"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// Key is one ORDER BY key: a column of the input, its direction, and
// where its NULLs go (before or after every value, in either direction).
type Key struct {
	Column     int
	Desc       bool
	NullsFirst bool
}

// String returns "#2 DESC NULLS FIRST"-style text.
func (k Key) String() string {
	s := fmt.Sprintf("#%d", k.Column)
	if k.Desc {
		s += " DESC"
	}
	if k.NullsFirst {
		s += " NULLS FIRST"
	} else {
		s += " NULLS LAST"
	}
	return s
}

// Options configure a Sort.
type Options struct {
	// Limit < 0 sorts every row; Limit ≥ 0 makes a top-N: only rows
	// [Offset, Offset+Limit) of the order are produced, and each task
	// buffers at most max(2·(Offset+Limit), 4096) rows and one chunk.
	Limit int64
	// Offset is the number of leading rows of the order dropped.
	Offset int64
	// Buffers, if set, accounts the sort's memory under buffer.TagSort
	// and lets it spill sorted runs (see the package doc).
	Buffers *buffer.Manager
}

// ErrKey is wrapped by New's errors about keys.
var ErrKey = errors.New("invalid sort key")

// Sort is a parallel.Sink that orders its input; after the pipeline run
// finalized, Source produces the rows in order. A Sort may be run again
// (each run replaces the rows of the last); its Source reads the rows of
// the last finalized run until Close releases them.
type Sort struct {
	types []types.Type
	keys  []Key
	opts  Options

	mu    sync.Mutex
	res   *result // the last finalized run's rows
	stats Stats
	// What the last run holds of the buffer manager: reservations of rows
	// in memory and pages of runs and results, released by the next Init
	// or Close.
	heldBlocks []*buffer.Block
	heldPages  []*collect.Collection

	// memMu serializes the tasks' reservations and spills, so that the
	// memory one task frees to write its run is not taken by another
	// task's reservation before the pages are written. Lock order: memMu
	// before mu.
	memMu sync.Mutex
}

var _ parallel.Sink = (*Sort)(nil)

// New returns a sort of rows of types input by keys.
func New(input []types.Type, keys []Key, opts Options) (*Sort, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("sort: no keys: %w", ErrKey)
	}
	for i, k := range keys {
		if k.Column < 0 || k.Column >= len(input) {
			return nil, fmt.Errorf("sort: key %d is column #%d of an input of %d columns: %w", i+1, k.Column, len(input), ErrKey)
		}
		if input[k.Column].Physical() == types.PhysInvalid {
			return nil, fmt.Errorf("sort: key %d has invalid type %v: %w", i+1, input[k.Column], ErrKey)
		}
	}
	if opts.Offset < 0 {
		return nil, fmt.Errorf("sort: negative offset %d", opts.Offset)
	}
	return &Sort{types: slices.Clone(input), keys: slices.Clone(keys), opts: opts}, nil
}

// Types returns the column types, the input's.
func (s *Sort) Types() []types.Type { return slices.Clone(s.types) }

// Keys returns the sort keys.
func (s *Sort) Keys() []Key { return slices.Clone(s.keys) }

// String describes the sort as EXPLAIN prints it:
// "order by #0, #2 DESC NULLS FIRST" or "top 10 offset 5 by #1".
func (s *Sort) String() string {
	ks := make([]string, len(s.keys))
	for i, k := range s.keys {
		ks[i] = fmt.Sprintf("#%d", k.Column)
		if k.Desc {
			ks[i] += " DESC"
		}
		if k.NullsFirst {
			ks[i] += " NULLS FIRST"
		}
	}
	by := strings.Join(ks, ", ")
	if s.opts.Limit < 0 {
		if s.opts.Offset > 0 {
			return fmt.Sprintf("order by %s offset %d", by, s.opts.Offset)
		}
		return "order by " + by
	}
	return fmt.Sprintf("top %d offset %d by %s", s.opts.Limit, s.opts.Offset, by)
}

// keep is the number of leading rows of the order a top-N needs, or -1.
func (s *Sort) keep() int64 {
	switch {
	case s.opts.Limit < 0:
		return -1
	case s.opts.Limit == 0:
		return 0 // no row is produced, whatever the offset
	}
	return s.opts.Offset + s.opts.Limit
}

// Stats counts the work of a Sort's last run.
type Stats struct {
	// Rows is the number of rows the sink consumed.
	Rows int64
	// Kept is the number of rows that reached a sorted run (fewer than
	// Rows for a top-N, which discards rows that cannot make the cut).
	Kept int64
	// Runs is the number of sorted runs merged at Finalize.
	Runs int
	// SpilledRuns is the number of runs written to buffer pages because
	// memory was short (only with Options.Buffers).
	SpilledRuns int
	// Output is the number of rows Source produces.
	Output int64
}

// String prints the stats on one line.
func (st Stats) String() string {
	return fmt.Sprintf("rows %d, kept %d, runs %d (spilled %d), output %d", st.Rows, st.Kept, st.Runs, st.SpilledRuns, st.Output)
}

// Stats returns what the last run did.
func (s *Sort) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Init starts a run, releasing what the last one held.
func (s *Sort) Init(p *parallel.Producer) (parallel.SinkState, error) {
	if err := s.Close(); err != nil {
		return nil, err
	}
	return &runState{s: s, owner: uint64(p.ID())}, nil
}

// Close releases the rows of the last run: its reservations and pages of
// the buffer manager. The Source may not be scanned afterwards.
func (s *Sort) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.res = nil
	return s.releaseLocked()
}

// hold records reservations and pages the run keeps.
func (s *Sort) hold(blocks []*buffer.Block, pages *collect.Collection) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.heldBlocks = append(s.heldBlocks, blocks...)
	if pages != nil {
		s.heldPages = append(s.heldPages, pages)
	}
}

// releaseLocked frees what the run holds; s.mu is held.
func (s *Sort) releaseLocked() error {
	errs := []error{s.releaseBlocksLocked()}
	for _, c := range s.heldPages {
		errs = append(errs, c.Close())
	}
	s.heldPages = nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sort: release memory: %w", err)
	}
	return nil
}

// releaseBlocksLocked frees the reservations the run holds; s.mu is held.
func (s *Sort) releaseBlocksLocked() error {
	var errs []error
	m := s.opts.Buffers
	for _, b := range s.heldBlocks {
		m.Unpin(b)
		errs = append(errs, m.Free(b))
	}
	s.heldBlocks = nil
	return errors.Join(errs...)
}

// runState gathers the sorted runs of one pipeline run.
type runState struct {
	s       *Sort
	owner   uint64 // the query the run's memory is for (buffer.Manager.AllocateFor)
	mu      sync.Mutex
	runs    []*run                // in memory
	spilled []*collect.Collection // written to pages
	rows    int64
	kept    int64
}

// run is a sorted run: the rows of a buffer and their order.
type run struct {
	b       *rowBuf
	es      []entry // sorted refs into b; the prefixes are the first key's
	ordered bool    // b's rows are in es's order
}

// NewLocal returns a task's sink state.
func (st *runState) NewLocal() (parallel.SinkLocal, error) {
	s := st.s
	l := &local{st: st, keep: s.keep(), seqs: make([]uint64, vector.Size)}
	l.buf = newRowBuf(s.types, s.keys)
	return l, nil
}

// local is a task's sink state: the rows it buffered, their sequence
// numbers and, for a top-N, the bound that rows must not exceed.
type local struct {
	st   *runState
	keep int64 // top-N: rows needed; -1: all
	buf  *rowBuf

	morsel uint64 // current morsel
	pos    uint64 // rows of the morsel seen so far
	seqs   []uint64
	sel    vector.Selection // top-N: slots of an input chunk within the bound

	bound    entry // top-N: the keep-th row's first-key prefix
	hasBound bool
	rows     int64

	// With Options.Buffers: the task's reservations, covering its
	// buffer's estimate.
	blocks   []*buffer.Block
	reserved int64
}

// Close returns the reservations of a task that did not combine (a failed
// query); after Combine the run state holds them.
func (l *local) Close() error {
	if l.st.s.opts.Buffers == nil {
		return nil
	}
	return l.release()
}

// BeginMorsel numbers the next rows as rows of morsel m.
func (l *local) BeginMorsel(m int) { l.morsel, l.pos = uint64(m), 0 }

// compactAt is the least number of buffered rows at which a top-N sorts
// its buffer and keeps only the rows it needs.
const compactAt = 2 * vector.Size

// Sink copies in's rows into the task's buffer (for a top-N, only the
// rows whose first key does not exceed the bound).
func (l *local) Sink(in *vector.Chunk) error {
	n := in.Len()
	l.rows += int64(n)
	base := l.morsel<<32 | l.pos
	l.pos += uint64(n)
	if l.keep == 0 {
		return nil
	}
	sel := in.Sel()
	seqs := l.seqs[:n]
	if l.hasBound {
		kc := l.buf.keys[0]
		v := in.Col(kc.key.Column)
		if l.sel == nil {
			l.sel = make(vector.Selection, vector.Size)
		}
		m := 0
		for r := range n {
			slot := in.Index(r)
			if !less(l.bound, kc.prefixOf(v, slot)) {
				l.sel[m] = uint16(slot)
				seqs[m] = base + uint64(r)
				m++
			}
		}
		sel, seqs = l.sel[:m], seqs[:m]
	} else {
		for r := range seqs {
			seqs[r] = base + uint64(r)
		}
	}
	if err := l.buf.add(in, sel, seqs); err != nil {
		return err
	}
	if l.keep > 0 && int64(l.buf.n) >= max(2*l.keep, compactAt) {
		l.compact()
	}
	return l.account()
}

// compact sorts a top-N's buffer, keeps its first keep rows and sets the
// bound to the last kept row's first-key prefix.
func (l *local) compact() {
	es := l.buf.sorted()
	if int64(len(es)) > l.keep {
		es = es[:l.keep]
	}
	l.buf = gatherBuf(l.buf, es)
	if int64(len(es)) == l.keep {
		l.bound, l.hasBound = es[len(es)-1], true
	}
}

// gatherBuf copies the rows es of b, in that order, into a new buffer.
func gatherBuf(b *rowBuf, es []entry) *rowBuf {
	nb := newRowBuf(b.ts, b.keyList())
	copy(nb.nulls, b.nulls)
	for j, col := range nb.cols {
		col.nulls = b.cols[j].nulls
	}
	order := make([]oref, vector.Size)
	for len(es) > 0 {
		k := min(len(es), vector.Size)
		c := nb.newChunk()
		seqs := make([]uint64, k)
		for i, e := range es[:k] {
			order[i] = orefOf(0, e.ref)
			seqs[i] = b.seq(e.ref)
		}
		gatherInto(c, []*rowBuf{b}, order[:k])
		for j, t := range b.ts {
			if t.Physical() == types.PhysString {
				nb.arena += int64(len(c.Col(j).Arena()))
			}
		}
		nb.seqs = append(nb.seqs, seqs)
		nb.n += k
		es = es[k:]
	}
	return nb
}

// Combine sorts the task's buffer into a run (for a top-N, its first keep
// rows) and files it.
func (l *local) Combine() error {
	es := l.buf.sorted()
	if l.keep >= 0 && int64(len(es)) > l.keep {
		es = es[:l.keep]
	}
	// A single fixed-width key: the rows stay where they are, the run is
	// the sorted entries, and the Source gathers each row once (the merge
	// compares prefixes, rarely rows). Otherwise the merge compares rows
	// on every tie of the first key's prefix: the rows are copied in
	// order here, in parallel, so that the merge and the Source read each
	// run front to back instead of at random.
	b, ordered := l.buf, false
	if len(b.keys) > 1 || !b.keys[0].exact {
		b, ordered = gatherBuf(b, es), true
		for i := range es {
			es[i].ref = refOf(i/vector.Size, i%vector.Size)
		}
	}
	st := l.st
	st.s.hold(l.blocks, nil)
	l.blocks, l.reserved = nil, 0
	st.mu.Lock()
	defer st.mu.Unlock()
	st.rows += l.rows
	st.kept += int64(len(es))
	if len(es) > 0 {
		st.runs = append(st.runs, &run{b: b, es: es, ordered: ordered})
	}
	l.buf = nil
	return nil
}

// Finalize merges the runs into the final order.
func (st *runState) Finalize() error {
	s := st.s
	// Runs in the order of their first rows' sequence numbers, so that a
	// run's index says nothing that depends on which task ended first.
	slices.SortFunc(st.runs, func(a, b *run) int { return cmpOrdered(a.b.seq(a.es[0].ref), b.b.seq(b.es[0].ref)) })
	stats := Stats{Rows: st.rows, Kept: st.kept, Runs: len(st.runs) + len(st.spilled), SpilledRuns: len(st.spilled)}
	var res *result
	if len(st.spilled) == 0 && len(st.runs) == 2 && s.keep() < 0 {
		// Two runs (two tasks) of a full sort: the Source merges them in
		// parallel, each morsel its part.
		a, b := st.runs[0], st.runs[1]
		total := int64(len(a.es) + len(b.es))
		res = &result{bufs: []*rowBuf{a.b, b.b}, pair: []*run{a, b}, first: min(total, s.opts.Offset), total: total}
		stats.Output = total - res.first
	} else if len(st.spilled) == 0 {
		want := int64(-1)
		if k := s.keep(); k >= 0 {
			want = k
		}
		order := merge(st.runs, want)
		order = order[min(int64(len(order)), s.opts.Offset):]
		res = &result{order: order}
		for _, r := range st.runs {
			res.bufs = append(res.bufs, r.b)
			r.es = nil // merged into order
		}
		stats.Output = int64(len(order))
	} else {
		// Some task ran out of memory: the runs still in memory go to
		// pages too, so that the merge needs memory for a page per run
		// only.
		s.mu.Lock()
		err := s.releaseBlocksLocked()
		s.mu.Unlock()
		if err != nil {
			return err
		}
		for _, r := range st.runs {
			b := r.b
			if !r.ordered {
				b = gatherBuf(b, r.es)
			}
			c, err := writeRun(s.opts.Buffers, st.owner, b)
			if err != nil {
				return fmt.Errorf("sort: write a run to pages: %w", err)
			}
			s.hold(nil, c)
			st.spilled = append(st.spilled, c)
			r.b, r.es = nil, nil
		}
		out, err := s.mergePaged(st.owner, nil, st.spilled, s.opts.Offset, s.opts.Limit)
		if err != nil {
			return err
		}
		// The runs are merged: release them, keep the result's pages.
		s.mu.Lock()
		err = s.releaseLocked()
		s.mu.Unlock()
		s.hold(nil, out)
		if err != nil {
			return err
		}
		res = &result{pages: out}
		stats.Output = out.Rows()
	}
	st.runs, st.spilled = nil, nil
	s.mu.Lock()
	s.res = res
	s.stats = stats
	s.mu.Unlock()
	return nil
}
