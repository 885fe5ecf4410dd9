package join

import (
	"fmt"

	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// RightSemi and RightAnti joins run in three pipelines: the build
// pipeline stores the preserved side's rows, each with a mark; the probe
// pipeline (ProbeSink) matches the other side's rows against them and
// marks every build row it matches, emitting nothing; the output
// pipeline (Source) then reads the row pages and emits the rows whose
// mark says what the kind keeps.
//
//	build:  preserved side ──► row pages, mark 0 (2: NULL key)
//	probe:  other side ──► rounds (keys, residual) ──► mark := 1
//	output: row pages ──► mark 1 (semi) / mark ≠ 1 (anti) ──► BuildOutput columns

// probeSink is the sink of a RightSemi or RightAnti join's probe
// pipeline.
type probeSink struct{ j *Join }

var _ parallel.Sink = probeSink{}

// String describes the sink as EXPLAIN prints it: "hash join probe
// (right semi)".
func (s probeSink) String() string { return "hash join probe (" + s.j.spec.Kind.String() + ")" }

// Init takes the table the build pipeline finalized.
func (s probeSink) Init(*parallel.Producer) (parallel.SinkState, error) {
	j := s.j
	if !j.spec.Kind.right() {
		return nil, fmt.Errorf("%s join: only right semi and right anti joins have a probe sink: %w", j.spec.Kind, ErrSpec)
	}
	j.mu.Lock()
	t := j.cur
	j.mu.Unlock()
	if t == nil || !t.finalized {
		return nil, fmt.Errorf("%s join: probe before the build pipeline finalized (the probe pipeline must depend on it): %w", j.spec.Kind, ErrSpec)
	}
	t.probed.Store(false)
	return &probeSinkState{probeState{j: j, t: t}}, nil
}

type probeSinkState struct{ probeState }

// NewLocal helps insert the build rows into the buckets (as the probe
// operator's NewLocal does) and returns a task's marker.
func (s *probeSinkState) NewLocal() (parallel.SinkLocal, error) {
	l, err := s.probeState.NewLocal()
	if err != nil {
		return nil, err
	}
	return markLocal{l.(*probeLocal)}, nil
}

// Finalize records that the marks are complete.
func (s *probeSinkState) Finalize() error {
	s.t.probed.Store(true)
	return nil
}

// markLocal is one probe task's state: a probeLocal whose rounds mark
// build rows.
type markLocal struct{ p *probeLocal }

// Sink matches the chunk's rows and marks every build row that matches
// one of them.
func (m markLocal) Sink(in *vector.Chunk) error {
	p := m.p
	if in.Len() == 0 {
		return nil
	}
	p.start(in)
	defer func() { p.busy = false }()
	for len(p.act) > 0 {
		k, err := p.round(in)
		if err != nil {
			return err
		}
		for _, ref := range p.cref[:k] {
			p.t.mark(ref)
		}
		p.advance(false)
	}
	return nil
}

// Combine has nothing to merge: the marks are in the table.
func (m markLocal) Combine() error { return nil }

// Close gives the probe state back (and adds its counters to the
// join's).
func (m markLocal) Close() error { return m.p.Close() }

// dropMarked narrows the k candidate pairs with equal keys to those whose
// build row is not marked yet, before the residual: a marked row's fate
// is settled.
func (p *probeLocal) dropMarked(k int) int {
	t := p.t
	cr, cref := p.cr[:k], p.cref[:k]
	j := 0
	for i, r := range cr {
		ref := cref[i]
		cr[j], cref[j] = r, ref
		j += b2i(t.markOf(ref) == unmarked)
	}
	return j
}

// rightSource is the source of a RightSemi or RightAnti join's output.
type rightSource struct{ j *Join }

var _ parallel.Source = rightSource{}

// Types returns the BuildOutput columns' types.
func (s rightSource) Types() []types.Type { return s.j.Types() }

// String describes the source as EXPLAIN prints it.
func (s rightSource) String() string { return "hash join output (" + s.j.spec.Kind.String() + ")" }

// Init takes the table whose marks the probe pipeline completed; a morsel
// is a row page.
func (s rightSource) Init(*parallel.Producer) (parallel.SourceState, error) {
	j := s.j
	if !j.spec.Kind.right() {
		return nil, fmt.Errorf("%s join: only right semi and right anti joins have a source: %w", j.spec.Kind, ErrSpec)
	}
	j.mu.Lock()
	t := j.cur
	j.mu.Unlock()
	if t == nil || !t.probed.Load() {
		return nil, fmt.Errorf("%s join: output before the probe pipeline finalized (the output pipeline must depend on it): %w", j.spec.Kind, ErrSpec)
	}
	return &rightState{j: j, t: t}, nil
}

type rightState struct {
	j *Join
	t *table
}

// Morsels returns the number of row pages.
func (s *rightState) Morsels() int { return len(s.t.rowPages) }

// NewLocal returns a task's page reader.
func (s *rightState) NewLocal() (parallel.SourceLocal, error) {
	return &rightLocal{t: s.t, want: s.j.spec.Kind == RightSemi, page: -1, refs: make([]uint64, vector.Size)}, nil
}

// rightLocal emits the kept rows of one row page after another.
type rightLocal struct {
	t    *table
	want bool // keep the marked rows (RightSemi), else the others
	page int  // the morsel being read, -1 before the first
	off  int  // the next row's offset in it
	refs []uint64
}

// Scan emits the next kept rows of row page m, up to a chunk.
func (r *rightLocal) Scan(m int, out *vector.Chunk) (bool, error) {
	t := r.t
	if m != r.page {
		r.page, r.off = m, 0
	}
	rp := t.rowPages[m]
	w := t.l.width
	k := 0
	refs := (*[vector.Size]uint64)(r.refs)
	for ; r.off+w <= rp.used && k < vector.Size; r.off += w {
		ref := uint64(rp.no)<<pageBits | uint64(r.off)
		refs[k&sizeMask] = ref
		k += b2i((t.markOf(ref) == marked) == r.want)
	}
	for j, fi := range t.l.outs {
		t.gather(fi, r.refs[:k], out.Col(j), seqSlots[:k])
	}
	out.SetLen(k)
	return r.off+w <= rp.used, nil
}
