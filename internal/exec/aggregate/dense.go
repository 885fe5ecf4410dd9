package aggregate

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// DenseRange says that the aggregate's one group column (INTEGER, BIGINT
// or DATE) holds values in [Lo, Hi] (the table's zone maps, for a column
// the scan reads): a task then pre-aggregates into an array with one row
// per value plus one for NULL, found by subtracting Lo, without hashing
// or probing. A chunk with a value outside the range takes the hashed
// path, so a range that is wrong costs speed, not correctness.
type DenseRange struct{ Lo, Hi int64 }

// maxDenseBytes bounds a task's dense array (also to an eighth of its
// share of the memory limit).
const maxDenseBytes = 8 << 20

// dense is a task's direct-indexed pre-aggregation (Options.Dense): slot
// x−lo holds the states of key x's group, slot span the NULL group's.
// Combine flushes the groups it saw into the task's table, as rows whose
// states are merged (Aggregate.Combine), and the partitions merge them as
// usual. A slot is the states part of a group row (layout.stateOff[0] on,
// dw bytes); the array starts with base = stateOff[0] bytes so that slot s
// seen as a row, array[s×dw : s×dw+base+dw], has its states where a
// row's are (its first base bytes, which no aggregate touches, overlap
// the slot before):
//
//	array  [ base | slot 0 (lo) | slot 1 | … | slot span-1 (hi) | slot span (NULL) ]
//	seen   bit i: slot i holds a group
type dense struct {
	lo       int64
	span     int // values in the range
	base, dw int
	mem      *region
	seen     []uint64
}

// row returns slot s seen as a group row (only its states are valid).
func (d *dense) row(s int) []byte {
	at := s * d.dw
	return d.mem.b[at : at+d.base+d.dw : at+d.base+d.dw]
}

// newDense allocates a task's dense array, or returns nil when the range
// is too wide or memory is short (the task hashes instead).
func newDense(r *run) (*dense, error) {
	d := r.a.opts.Dense
	if d == nil || len(r.a.groups) != 1 || d.Hi < d.Lo || uint64(d.Hi-d.Lo) >= maxDenseBytes {
		return nil, nil
	}
	switch r.a.input[r.a.groups[0]].ID() {
	case types.Integer, types.BigInt, types.Date:
	default:
		return nil, nil
	}
	span := int(d.Hi-d.Lo) + 1
	base := r.lay.width
	if len(r.lay.stateOff) > 0 {
		base = r.lay.stateOff[0]
	}
	dw := r.lay.width - base
	size := base + (span+1)*dw
	limit := int64(maxDenseBytes)
	if r.mem.m != nil {
		limit = min(limit, r.mem.m.Limit()/int64(max(r.threads, 1))/8)
	}
	if int64(size) > limit {
		return nil, nil
	}
	m, err := r.mem.alloc(size)
	if errors.Is(err, buffer.ErrOutOfMemory) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("hash aggregate: %w", err)
	}
	return &dense{lo: d.Lo, span: span, base: base, dw: dw, mem: m, seen: make([]uint64, (span+1+63)/64)}, nil
}

// sink finds each logical row's slot (l.t.rows) and reports false, having
// changed nothing, if a key lies outside the range.
func (l *local) denseSink(in *vector.Chunk) (bool, error) {
	d, r := l.dense, l.r
	n := in.Len()
	v := in.Col(r.a.groups[0])
	words := v.Validity().Words()
	sel := in.Sel()
	slots := l.slots[:n]
	span := uint64(d.span)
	switch v.Type().Physical() {
	case types.PhysInt32:
		xs := v.Int32s()
		for row := range n {
			i := index(sel, row)
			s := uint64(int64(xs[i]) - d.lo)
			if !valid(words, i) {
				s = span
			} else if s >= span {
				return false, nil
			}
			slots[row] = int32(s)
		}
	case types.PhysInt64:
		xs := v.Int64s()
		for row := range n {
			i := index(sel, row)
			s := uint64(xs[i] - d.lo)
			if !valid(words, i) {
				s = span
			} else if s >= span {
				return false, nil
			}
			slots[row] = int32(s)
		}
	default:
		return false, nil
	}
	rows := l.t.rows[:n]
	for row, s := range slots {
		rows[row] = d.row(int(s))
		if d.seen[s>>6]&(1<<(s&63)) == 0 {
			d.seen[s>>6] |= 1 << (s & 63)
			if !r.zeroInit {
				r.initStates(rows[row])
			}
		}
	}
	for k, ag := range r.aggs {
		if err := ag.Update(in, rows, r.lay.stateOff[k]); err != nil {
			return true, fmt.Errorf("hash aggregate: %w", err)
		}
	}
	return true, nil
}

// flushDense moves the groups of the dense array into the task's table,
// a chunk of keys at a time, merging their states into the table's rows,
// and frees the array.
func (l *local) flushDense() error {
	d, r, t := l.dense, l.r, l.t
	l.dense = nil
	col := r.a.groups[0]
	kc := vector.NewChunk(r.a.input)
	key := kc.Col(col)
	var at []int32 // the slots of kc's rows
	flush := func() error {
		n := len(at)
		if n == 0 {
			return nil
		}
		kc.SetLen(n)
		hashes := l.hashes[:n]
		r.hasher.Chunk(kc, r.a.groups, hashes)
		t.encode(kc)
		for attempt := 0; ; attempt++ {
			if err := t.prepare(n); err != nil {
				return err
			}
			created, err := t.group(kc, hashes)
			if !r.zeroInit {
				for _, i := range created {
					r.initStates(t.rows[i])
				}
			}
			if err == nil {
				break
			}
			if attempt > 0 || !errors.Is(err, buffer.ErrOutOfMemory) {
				return err
			}
			t.spill()
		}
		for i, s := range at {
			src := d.row(int(s))
			for k, ag := range r.aggs {
				off := r.lay.stateOff[k]
				if err := ag.Combine(t.rows[i][off:], src[off:]); err != nil {
					return fmt.Errorf("hash aggregate: %w", err)
				}
			}
		}
		t.endChunk()
		kc.Reset()
		key = kc.Col(col)
		at = at[:0]
		return nil
	}
	for w, word := range d.seen {
		for ; word != 0; word &= word - 1 {
			s := w*64 + bits.TrailingZeros64(word)
			i := len(at)
			switch {
			case s == d.span:
				key.SetNull(i)
			case key.Type().Physical() == types.PhysInt32:
				key.Int32s()[i] = int32(d.lo + int64(s))
			default:
				key.Int64s()[i] = d.lo + int64(s)
			}
			at = append(at, int32(s))
			if len(at) == vector.Size {
				if err := flush(); err != nil {
					return errors.Join(err, t.mem.free(d.mem))
				}
			}
		}
	}
	err := flush()
	return errors.Join(err, t.mem.free(d.mem))
}
