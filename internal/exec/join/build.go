package join

import (
	"fmt"

	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// buildSink is the sink of the build pipeline.
type buildSink struct{ j *Join }

var _ parallel.Sink = buildSink{}

// String describes the sink as EXPLAIN prints it: "hash join build (inner)".
func (s buildSink) String() string { return "hash join build (" + s.j.spec.Kind.String() + ")" }

// Init starts a new table for this run (capturing the hash function) and
// releases the previous run's.
func (s buildSink) Init(p *parallel.Producer) (parallel.SinkState, error) {
	j := s.j
	t := newTable(j, uint64(p.ID()))
	j.mu.Lock()
	old := j.cur
	j.cur = t
	j.mu.Unlock()
	if old != nil {
		if err := old.release(); err != nil {
			return nil, fmt.Errorf("%s join: %w", j.spec.Kind, err)
		}
	}
	return &buildState{j: j, t: t}, nil
}

type buildState struct {
	j *Join
	t *table
}

// NewLocal returns a task's collector: it writes rows into pages of its
// own and shares only the page list.
func (s *buildState) NewLocal() (parallel.SinkLocal, error) {
	return &buildLocal{t: s.t, j: s.j, l: s.t.l, nullable: make([]bool, len(s.t.l.fields)), pageSize: firstPage, strSize: firstPage}, nil
}

// Finalize sizes the buckets; the rows are inserted here (few rows) or by
// the probe tasks (many).
func (s *buildState) Finalize() error {
	if err := s.t.finalize(); err != nil {
		return fmt.Errorf("%s join: %w", s.j.spec.Kind, err)
	}
	return nil
}

// buildLocal collects one task's build rows.
type buildLocal struct {
	t *table
	j *Join
	l *layout

	hashes [vector.Size]uint64
	keep   [vector.Size]uint16 // slots of the rows whose keys are not NULL
	isNul  [vector.Size]bool   // RightAnti: kept row i has a NULL key

	page     []byte // the current row page
	pageNo   uint32
	used     int
	pageSize int
	str      []byte // the current string page
	strNo    uint32
	strUsed  int
	strSize  int

	rows, sunk int64
	nullKeys   bool
	nullable   []bool
	keys       keyRange // Spec.KeySet: of the rows stored
}

// Sink hashes the chunk's keys and appends its rows with non-NULL keys to
// the task's pages, a field at a time.
func (b *buildLocal) Sink(in *vector.Chunk) error {
	n := in.Len()
	if n == 0 {
		return nil
	}
	b.sunk += int64(n)
	keys := b.j.spec.BuildKeys
	if len(keys) > 0 {
		b.t.hasher.Chunk(in, keys, b.hashes[:n])
	} else {
		clear(b.hashes[:n])
	}
	// keep[i] is the logical row of the i-th kept row; hashes are by
	// logical row.
	k := 0
	nulls := false
	for _, c := range keys {
		if in.Col(c).Validity().Words() != nil {
			nulls = true
		}
	}
	if !nulls {
		for r := range n {
			b.keep[r] = uint16(r)
		}
		k = n
	} else {
		// A RightAnti join keeps the rows with a NULL key too: it emits
		// them. They are marked as such and stay out of the chains.
		keepAll := b.j.spec.Kind == RightAnti
		for r := range n {
			s := in.Index(r)
			ok := true
			for _, c := range keys {
				if in.Col(c).IsNull(s) {
					ok = false
					break
				}
			}
			b.keep[k], b.isNul[k] = uint16(r), !ok
			k += b2i(ok || keepAll)
			b.nullKeys = b.nullKeys || !ok
		}
	}
	if b.j.spec.KeySet {
		b.rangeKeys(in, b.keep[:k], nulls)
	}
	w := b.l.width
	for done := 0; done < k; {
		if b.page == nil || b.used+w > len(b.page) {
			if err := b.newPage(); err != nil {
				return err
			}
		}
		cnt := min(k-done, (len(b.page)-b.used)/w)
		if err := b.write(in, b.keep[done:done+cnt]); err != nil {
			return err
		}
		if b.l.marks && nulls {
			for i, isNul := range b.isNul[done : done+cnt] {
				if isNul {
					ne.PutUint32(b.page[b.used+i*w+markOff:], nullKey)
				}
			}
		}
		b.used += cnt * w
		done += cnt
	}
	b.rows += int64(k)
	return nil
}

// newPage retires the current row page and starts a new one, twice as
// large up to maxPage.
func (b *buildLocal) newPage() error {
	b.retire()
	size := max(b.pageSize, b.l.width)
	no, buf, err := b.t.alloc(size)
	if err != nil {
		return fmt.Errorf("%s join build: %w", b.j.spec.Kind, err)
	}
	b.page, b.pageNo, b.used = buf, no, 0
	b.pageSize = min(2*b.pageSize, maxPage)
	return nil
}

// retire hands the current row page to the table.
func (b *buildLocal) retire() {
	if b.page == nil || b.used == 0 {
		return
	}
	b.t.mu.Lock()
	b.t.rowPages = append(b.t.rowPages, rowPage{no: b.pageNo, used: b.used})
	b.t.mu.Unlock()
	b.page = nil
}

// write stores the logical rows rows of in at b.page[b.used:], one field
// at a time.
func (b *buildLocal) write(in *vector.Chunk, rows []uint16) error {
	page, w, base := b.page, b.l.width, b.used
	sel := in.Sel()
	for i, r := range rows {
		ne.PutUint64(page[base+i*w+hashOff:], b.hashes[r])
	}
	for fi, f := range b.l.fields {
		v := in.Col(f.col)
		o := base + f.off
		switch f.phys {
		case types.PhysInt64:
			d := v.Int64s()
			for i, r := range rows {
				ne.PutUint64(page[o+i*w:], uint64(d[slot(sel, r)]))
			}
		case types.PhysFloat64:
			d := v.Float64s()
			for i, r := range rows {
				ne.PutUint64(page[o+i*w:], floatBits(d[slot(sel, r)]))
			}
		case types.PhysInt32:
			d := v.Int32s()
			for i, r := range rows {
				ne.PutUint32(page[o+i*w:], uint32(d[slot(sel, r)]))
			}
		case types.PhysBool:
			d := v.Bools()
			for i, r := range rows {
				page[o+i*w] = byte(b2i(d[slot(sel, r)]))
			}
		case types.PhysString:
			for i, r := range rows {
				s := slot(sel, r)
				if v.IsNull(s) {
					continue
				}
				if err := b.putString(page[o+i*w:], v.Bytes(s)); err != nil {
					return err
				}
			}
		}
		if words := v.Validity().Words(); words != nil {
			at := base + b.l.nullOff + fi>>3
			bit := byte(1) << (fi & 7)
			for i, r := range rows {
				s := slot(sel, r)
				if words[s>>6]&(1<<(uint(s)&63)) == 0 {
					page[at+i*w] |= bit
					b.nullable[fi] = true
				}
			}
		}
	}
	return nil
}

// putString copies s into a string page and writes its location to dst.
func (b *buildLocal) putString(dst []byte, s []byte) error {
	if len(s) == 0 {
		return nil // page 0, offset 0, length 0
	}
	var no uint32
	var off int
	switch {
	case len(s) > bigString:
		n, buf, err := b.t.alloc(len(s))
		if err != nil {
			return fmt.Errorf("%s join build: %w", b.j.spec.Kind, err)
		}
		copy(buf, s)
		no = n
	default:
		if b.str == nil || b.strUsed+len(s) > len(b.str) {
			n, buf, err := b.t.alloc(b.strSize)
			if err != nil {
				return fmt.Errorf("%s join build: %w", b.j.spec.Kind, err)
			}
			b.str, b.strNo, b.strUsed = buf, n, 0
			b.strSize = min(2*b.strSize, maxPage)
		}
		copy(b.str[b.strUsed:], s)
		no, off = b.strNo, b.strUsed
		b.strUsed += len(s)
	}
	ne.PutUint32(dst, no)
	ne.PutUint32(dst[4:], uint32(off))
	ne.PutUint32(dst[8:], uint32(len(s)))
	return nil
}

// Combine hands the task's last page and counts to the table.
func (b *buildLocal) Combine() error {
	b.retire()
	t := b.t
	t.mu.Lock()
	t.rows += b.rows
	t.sunk += b.sunk
	t.nullKeys = t.nullKeys || b.nullKeys
	t.keys.merge(b.keys)
	for i, n := range b.nullable {
		t.nullable[i] = t.nullable[i] || n
	}
	t.mu.Unlock()
	b.j.buildRows.Add(b.sunk)
	return nil
}

func slot(sel vector.Selection, r uint16) int {
	if sel != nil {
		return int(sel[r])
	}
	return int(r)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
