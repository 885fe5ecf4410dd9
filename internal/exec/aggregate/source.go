package aggregate

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// ErrNotRun is returned by the source's Init when the aggregate's sink has
// not run: the reading pipeline must DependsOn the sink's pipeline.
var ErrNotRun = errors.New("hash aggregate read before its sink ran")

// Source returns the parallel.Source of the groups: one morsel per
// partition (one morsel without groups), read by a pipeline that
// DependsOn the sink's pipeline. Each morsel merges its partition's rows
// from every task and emits chunks of up to vector.Size groups, in no
// particular order; then it frees the partition, so the groups of a run
// are read once (an aggregate without groups returns its row every time).
func (a *Aggregate) Source() parallel.Source { return source{a} }

type source struct{ a *Aggregate }

func (s source) Types() []types.Type { return s.a.Types() }

func (s source) Init(*parallel.Producer) (parallel.SourceState, error) {
	if s.a.run == nil {
		return nil, ErrNotRun
	}
	return sourceState{s.a.run}, nil
}

type sourceState struct{ r *run }

func (s sourceState) Morsels() int {
	if s.r.parts == nil {
		return 1
	}
	return len(s.r.parts)
}

func (s sourceState) NewLocal() (parallel.SourceLocal, error) {
	return &sourceLocal{r: s.r, m: -1}, nil
}

// sourceLocal merges and emits one partition at a time.
//
// A partition that fits in memory is merged in place: all its pages
// pinned, equal groups combined into the first row of each. A bigger one
// is split first into slices (by hash bits above the partition's): its
// pages are read once, one at a time, and their rows copied into pages of
// their slice, which may be spilled; then each slice is merged in place,
// emitted and freed in turn.
type sourceLocal struct {
	r      *run
	m      int       // the partition being read, or -1
	pages  []*page   // the pages the directory refers to
	dir    *region   // the groups: entries as in a task's directory
	pos    int       // next directory entry to emit
	sub    [][]*page // sliced: each slice's pages (copies of its rows)
	slice  int       // sliced: the slice being emitted
	slices int       // sliced: how many slices (0: merged in place)

	rows  [][]byte
	heaps [][]byte
}

// Scan emits the next groups of partition m.
func (l *sourceLocal) Scan(m int, out *vector.Chunk) (bool, error) {
	r := l.r
	if r.parts == nil {
		return false, l.scanUngrouped(out)
	}
	if l.m != m {
		if err := l.release(); err != nil {
			return false, err
		}
		if err := l.merge(m); err != nil {
			return false, fmt.Errorf("hash aggregate: partition %d: %w", m, err)
		}
	}
	more, err := l.emit(out)
	if err != nil {
		return false, err
	}
	if more {
		return true, nil
	}
	if l.slices > 0 && l.slice+1 < l.slices {
		if err := l.freeMerged(); err != nil {
			return false, err
		}
		l.slice++
		if err := l.mergeInPlace(l.sub[l.slice]); err != nil {
			return false, fmt.Errorf("hash aggregate: partition %d: slice %d of %d: %w", m, l.slice, l.slices, err)
		}
		return true, nil
	}
	return false, l.release()
}

func (l *sourceLocal) scanUngrouped(out *vector.Chunk) error {
	r := l.r
	for k, ag := range r.aggs {
		if err := ag.Finalize(r.state[r.lay.stateOff[k]:], out.Col(k), 0); err != nil {
			return fmt.Errorf("hash aggregate: %w", err)
		}
	}
	out.SetLen(1)
	r.groupsOut.Add(1)
	return nil
}

// maxSlices bounds the slices of one partition.
const maxSlices = 1 << 9

// merge prepares partition m for emitting: in place if it fits in an
// eighth of the memory limit (or there is no limit), else, or if that
// runs out of memory, split into slices that do.
func (l *sourceLocal) merge(m int) error {
	r := l.r
	l.m, l.pos = m, 0
	if r.mem.m == nil {
		return l.mergeInPlace(r.parts[m])
	}
	total := 0
	for _, pg := range r.parts[m] {
		total += pg.size
	}
	budget := int(max(r.mem.m.Limit()/8, 1))
	slices := 1
	for slices*budget < total && slices < maxSlices {
		slices *= 2
	}
	if slices == 1 {
		err := l.mergeInPlace(r.parts[m])
		if !errors.Is(err, buffer.ErrOutOfMemory) {
			return err
		}
		if err := l.freeMerged(); err != nil {
			return err
		}
		for _, pg := range r.parts[m] {
			r.mem.unpin(&pg.region)
		}
		slices = 2
	}
	l.pages = nil
	if err := l.split(r.parts[m], slices); err != nil {
		return err
	}
	r.sliced.Add(1)
	return l.mergeInPlace(l.sub[0])
}

// freeMerged frees the directory and, when sliced, the slice's pages.
func (l *sourceLocal) freeMerged() error {
	r := l.r
	var err error
	if l.dir != nil {
		err = r.mem.free(l.dir)
		l.dir = nil
	}
	if l.slices > 0 {
		for _, pg := range l.pages {
			if ferr := r.mem.free(&pg.region); err == nil {
				err = ferr
			}
		}
		l.pages = nil
		l.sub[l.slice] = nil
	}
	l.pos = 0
	return err
}

// split copies the rows of a partition's pages into slices by hash bits
// 32+radixBits.., reading (and then freeing) one page at a time, with one
// open page per slice; full pages are unpinned for the buffer manager to
// spill.
func (l *sourceLocal) split(parts []*page, slices int) error {
	r := l.r
	lay := r.lay
	width := lay.width
	l.slices, l.slice = slices, 0
	l.sub = make([][]*page, slices)
	open := make([]*page, slices)
	defer func() {
		for _, pg := range open {
			if pg != nil {
				r.mem.unpin(&pg.region)
			}
		}
	}()
	pageSize := max(minPage, min(maxPage, int(r.mem.m.Limit()/8/int64(slices))))
	shift := 32 + radixBits
	for _, sp := range parts {
		spilled, err := r.mem.pin(&sp.region)
		if err != nil {
			return err
		}
		if spilled {
			r.spilled.Add(int64(sp.size))
		}
		for i := range sp.rows {
			row := sp.row(i, width)
			b := int(le.Uint64(row)>>shift) & (slices - 1)
			pg := open[b]
			if need := width + lay.heapOf(row); pg == nil || pg.room(width) < need {
				if len(l.sub[b]) == maxPages {
					return fmt.Errorf("more than %d pages in one slice", maxPages)
				}
				reg, err := r.mem.alloc(max(pageSize, need))
				if err != nil {
					return err
				}
				if pg != nil {
					r.mem.unpin(&pg.region)
				}
				pg = &page{region: *reg, idx: uint64(len(l.sub[b]))}
				l.sub[b] = append(l.sub[b], pg)
				open[b] = pg
			}
			dst := pg.row(pg.rows, width)
			pg.rows++
			copy(dst, row)
			lay.moveStrings(dst, pg, sp.b)
		}
		if err := r.mem.free(&sp.region); err != nil {
			return err
		}
	}
	return nil
}

// mergeInPlace pins the pages of a partition and builds a directory with
// one entry per distinct group, combining the states of equal groups
// into the first row of each.
func (l *sourceLocal) mergeInPlace(parts []*page) error {
	r := l.r
	l.pages = parts
	n := 0
	for _, pg := range l.pages {
		spilled, err := r.mem.pin(&pg.region)
		if err != nil {
			return err
		}
		if spilled {
			r.spilled.Add(int64(pg.size))
		}
		n += pg.rows
	}
	if n == 0 {
		return nil
	}
	// The directory starts at twice the rows or mergeStart entries, the
	// smaller, and doubles when half full: partitions of few groups in
	// many rows keep a small, cache-resident directory.
	entries := 1 << bits.Len(uint(2*min(n, mergeStart)-1))
	d, err := r.mem.alloc(entries * 8)
	if err != nil {
		return err
	}
	l.dir = d
	mask := uint64(entries - 1)
	lay := r.lay
	width := lay.width
	groups := 0
	for pi, pg := range l.pages {
		for i := range pg.rows {
			row := pg.row(i, width)
			h := le.Uint64(row)
			dir := l.dir.b
			s := h & mask
			for {
				e := le.Uint64(dir[s*8:])
				if e == 0 {
					le.PutUint64(dir[s*8:], h>>48<<48|(uint64(pi)<<refRowBits|uint64(i))+1)
					if groups++; 2*groups > int(mask+1) {
						if mask, err = l.growDir(mask); err != nil {
							return err
						}
					}
					break
				}
				if e>>48 == h>>48 {
					ref := e&refMask - 1
					opg := l.pages[ref>>refRowBits]
					orow := opg.row(int(ref&(1<<refRowBits-1)), width)
					if le.Uint64(orow) == h && lay.sameKeys(orow, opg.b, row, pg.b) {
						for k, ag := range r.aggs {
							off := lay.stateOff[k]
							if err := ag.Combine(orow[off:], row[off:]); err != nil {
								return err
							}
						}
						break
					}
				}
				s = (s + 1) & mask
			}
		}
	}
	return nil
}

// mergeStart bounds the initial size of a merge's directory (entries). A
// variable so that tests can make every merge grow its directory.
var mergeStart = 1 << 14

// growDir doubles the merge's directory and returns its new mask.
func (l *sourceLocal) growDir(mask uint64) (uint64, error) {
	r := l.r
	entries := int(mask+1) * 2
	d, err := r.mem.alloc(entries * 8)
	if err != nil {
		return 0, err
	}
	nmask := uint64(entries - 1)
	old := l.dir.b
	for i := 0; i < len(old); i += 8 {
		e := le.Uint64(old[i:])
		if e == 0 {
			continue
		}
		ref := e&refMask - 1
		h := le.Uint64(l.pages[ref>>refRowBits].row(int(ref&(1<<refRowBits-1)), r.lay.width))
		s := h & nmask
		for le.Uint64(d.b[s*8:]) != 0 {
			s = (s + 1) & nmask
		}
		le.PutUint64(d.b[s*8:], e)
	}
	if err := r.mem.free(l.dir); err != nil {
		return 0, err
	}
	l.dir = d
	return nmask, nil
}

// emit writes the next groups of the merged partition into out and
// reports whether more are left.
func (l *sourceLocal) emit(out *vector.Chunk) (bool, error) {
	if l.dir == nil {
		return false, nil
	}
	r := l.r
	lay := r.lay
	dir := l.dir.b
	entries := len(dir) / 8
	l.rows, l.heaps = l.rows[:0], l.heaps[:0]
	for ; l.pos < entries && len(l.rows) < vector.Size; l.pos++ {
		e := le.Uint64(dir[l.pos*8:])
		if e == 0 {
			continue
		}
		ref := e&refMask - 1
		pg := l.pages[ref>>refRowBits]
		l.rows = append(l.rows, pg.row(int(ref&(1<<refRowBits-1)), lay.width))
		l.heaps = append(l.heaps, pg.b)
	}
	for g := range lay.groups {
		lay.gatherKeys(g, l.rows, l.heaps, out.Col(g))
	}
	ng := len(lay.groups)
	for k, ag := range r.aggs {
		v := out.Col(ng + k)
		off := lay.stateOff[k]
		for i, row := range l.rows {
			if err := ag.Finalize(row[off:], v, i); err != nil {
				return false, fmt.Errorf("hash aggregate: %w", err)
			}
		}
	}
	out.SetLen(len(l.rows))
	r.groupsOut.Add(int64(len(l.rows)))
	return l.pos < entries, nil
}

// release frees the partition being read.
func (l *sourceLocal) release() error {
	if l.m < 0 {
		return nil
	}
	r := l.r
	err := l.freeMerged()
	pages := l.pages
	if l.slices > 0 {
		pages = nil
		for _, sub := range l.sub {
			pages = append(pages, sub...)
		}
	}
	pages = append(pages, r.parts[l.m]...) // freed twice is harmless
	for _, pg := range pages {
		if ferr := r.mem.free(&pg.region); err == nil {
			err = ferr
		}
	}
	r.parts[l.m] = nil
	l.m, l.pages, l.sub, l.slices = -1, nil, nil, 0
	return err
}

// Close frees a partition a stopped pipeline did not finish.
func (l *sourceLocal) Close() error { return l.release() }
