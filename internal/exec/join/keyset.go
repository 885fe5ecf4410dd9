package join

import (
	"errors"
	"fmt"

	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// The key set (Spec.KeySet) of a join with one INTEGER, BIGINT or DATE
// key: the range [lo, hi] of the build keys and, when the range is not
// too wide (maxSetBits) and the keys do not fill most of it, a bitmap with
// bit x−lo set for every key x:
//
//	bits   word 0: keys lo..lo+63   word 1: lo+64..lo+127   …
//
// Build tasks track the range as they sink rows; Finalize allocates the
// bitmap (a buffer of the table, tag "hash table") and sets the bits
// from the stored rows, one pass. A scan of the probe side drops the
// rows whose key is outside the set before they reach the join: they
// could not match, and the kinds that allow a key set produce nothing
// for a probe row without a match.

// maxSetBits bounds the bitmap: 2^24 bits, 2 MiB.
const maxSetBits = 1 << 24

// keyRange is the range of the build keys seen.
type keyRange struct {
	lo, hi int64
	any    bool
}

func (r *keyRange) merge(o keyRange) {
	if !o.any {
		return
	}
	if !r.any {
		*r = o
		return
	}
	r.lo, r.hi = min(r.lo, o.lo), max(r.hi, o.hi)
}

// keySetOK reports whether a join of kind with these keys can have a key
// set: one integer key, and a kind whose probe rows without a match
// produce nothing.
func keySetOK(kind Kind, keys []int, ts []types.Type) error {
	switch kind {
	case Inner, Semi, RightSemi, RightAnti:
	default:
		return fmt.Errorf("a %s join keeps probe rows without a match: no key set", kind)
	}
	if len(keys) != 1 {
		return fmt.Errorf("a key set needs one key, not %d", len(keys))
	}
	switch t := ts[keys[0]]; t.ID() {
	case types.Integer, types.BigInt, types.Date:
	default:
		return fmt.Errorf("a key set of %v keys (INTEGER, BIGINT or DATE only)", t)
	}
	return nil
}

// rangeKeys adds the keys of the kept logical rows of in (keep; isNul[i]
// marks a kept RightAnti row with a NULL key) to b's range.
func (b *buildLocal) rangeKeys(in *vector.Chunk, keep []uint16, nulls bool) {
	v := in.Col(b.j.spec.BuildKeys[0])
	sel := in.Sel()
	r := &b.keys
	add := func(x int64) {
		if !r.any {
			r.lo, r.hi, r.any = x, x, true
			return
		}
		r.lo, r.hi = min(r.lo, x), max(r.hi, x)
	}
	switch v.Type().Physical() {
	case types.PhysInt32:
		d := v.Int32s()
		for i, row := range keep {
			if !nulls || !b.isNul[i] {
				add(int64(d[slot(sel, row)]))
			}
		}
	case types.PhysInt64:
		d := v.Int64s()
		for i, row := range keep {
			if !nulls || !b.isNul[i] {
				add(d[slot(sel, row)])
			}
		}
	}
}

// setBits fills the key set's bitmap from the stored rows once the pages
// are final (t.bases set). A bitmap is made only when it can drop rows:
// when the keys (at most t.rows of them) fill less than 7/8 of the range.
// Out of memory, the range alone serves.
func (t *table) setBits() error {
	r := t.keys
	if !r.any {
		return nil
	}
	span := uint64(r.hi-r.lo) + 1
	if span > maxSetBits || span == 0 || uint64(t.rows)*8 >= span*7 {
		return nil
	}
	buf, err := t.allocOther(int((span+63)/64) * 8)
	if errors.Is(err, buffer.ErrOutOfMemory) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("hash table key set of %d bits: %w", span, err)
	}
	bits := uint64s(buf)
	f := t.l.fields[t.l.keys[0]]
	w := t.l.width
	for _, rp := range t.rowPages {
		for off := 0; off+w <= rp.used; off += w {
			ref := uint64(rp.no)<<pageBits | uint64(off)
			if t.l.marks && t.u32(ref, markOff) == nullKey {
				continue
			}
			var x int64
			if f.phys == types.PhysInt32 {
				x = int64(int32(t.u32(ref, f.off)))
			} else {
				x = int64(t.u64(ref, f.off))
			}
			d := uint64(x - r.lo)
			bits[d>>6] |= 1 << (d & 63)
		}
	}
	t.keyBits = bits
	return nil
}

// KeySet returns the key set of the last finalized build (Spec.KeySet):
// every build key x has lo ≤ x ≤ hi and, if bits is not nil, bit x−lo of
// bits set. ok is false without one (no build yet, or no keys): then no
// probe row has a match. bits stays valid until the next build or Close.
func (j *Join) KeySet() (lo, hi int64, bits []uint64, ok bool) {
	j.mu.Lock()
	t := j.cur
	j.mu.Unlock()
	if t == nil || !t.finalized || !t.keys.any {
		return 0, 0, nil, false
	}
	return t.keys.lo, t.keys.hi, t.keyBits, true
}
