package aggregate

import (
	"fmt"

	"github.com/bpfdb/bpfdb/internal/vector"
)

// fewMax is the most groups a task's table finds by comparing encoded
// keys instead of hashing them (see few).
const fewMax = 8

// few is the small-group path of a task's table: while the directory
// holds at most fewMax groups, none with a long string, their encoded keys
// are kept side by side, and a chunk whose rows all have one of them is
// grouped by comparing each row's key words with the group its previous
// row had (then with the others): no hashing, no probing. The aggregates
// are then updated group by group over a selection of that group's rows
// (Aggregate.UpdateState), which keeps running sums in registers instead
// of loading and storing a state per row. TPC-H Q1 (four groups of six
// million rows) runs all but its first chunk this way.
//
// Any chunk with a row that matches none of the groups takes the hashed
// path, which finds or creates the groups in the directory; its new groups
// are then added here, or, past fewMax or with a long string, the path is
// off for the rest of the task. Clearing the directory (reset, spill)
// empties the list, since the rows may be unpinned.
type few struct {
	n     int      // groups in keys and rows; -1: off for good
	keys  []uint64 // keyWords words per group
	rows  [][]byte
	codes *fewCodes // the column-code matcher (fewcols.go), nil if none
	// Scratch per chunk.
	sels  [fewMax][]uint16 // per group: the slots of its rows
	count [fewMax]int      // per group: rows in sels
	view  *vector.Chunk    // the input with one group's selection
}

func newFew(kw int) few {
	f := few{keys: make([]uint64, 0, fewMax*kw), rows: make([][]byte, 0, fewMax)}
	for g := range f.sels {
		f.sels[g] = make([]uint16, vector.Size)
	}
	return f
}

// clear forgets the groups (their rows may be unpinned); the path stays
// off if it was.
func (f *few) clear() {
	if f.n > 0 {
		f.n, f.keys, f.rows, f.codes = 0, f.keys[:0], f.rows[:0], nil
	}
}

// matchFew lists the slots of each group's rows (f.sels, f.count) for
// the n logical rows of in whose keys the table encoded, and reports
// whether every row has one of the groups.
func (t *table) matchFew(in *vector.Chunk, n int) bool {
	f := &t.few
	if f.n <= 0 {
		return false
	}
	clear(f.count[:])
	kw := t.lay.keyWords
	keys := f.keys[:f.n*kw]
	img := t.img[:n*kw]
	sel := in.Sel()
	last := 0
	for r := range n {
		if t.long[r] {
			return false
		}
		x := img[r*kw : r*kw+kw]
		if !equalWords(keys[last*kw:last*kw+kw], x) {
			g := 0
			for ; g < f.n; g++ {
				if equalWords(keys[g*kw:g*kw+kw], x) {
					break
				}
			}
			if g == f.n {
				return false
			}
			last = g
		}
		slot := uint16(r)
		if sel != nil {
			slot = sel[r]
		}
		f.sels[last][f.count[last]] = slot
		f.count[last]++
	}
	return true
}

func equalWords(a, b []uint64) bool {
	for w, x := range b {
		if a[w] != x {
			return false
		}
	}
	return true
}

// addFew adds the groups the hashed path created for the chunk (their
// rows t.rows[r] for r in created) to the small-group path, or turns it
// off.
func (t *table) addFew(created []int32) {
	f := &t.few
	if f.n < 0 || len(created) == 0 {
		return
	}
	if t.passRows > 0 || f.n+len(created) > fewMax {
		f.n, f.codes = -1, nil
		return
	}
	kw := t.lay.keyWords
	for _, r := range created {
		if t.long[r] {
			f.n, f.codes = -1, nil
			return
		}
	}
	for _, r := range created {
		f.keys = append(f.keys, t.img[int(r)*kw:int(r)*kw+kw]...)
		f.rows = append(f.rows, t.rows[r])
		f.n++
	}
	t.buildCodes()
}

// updateFew updates the aggregates of the chunk's rows, whose groups
// matchFew found, group by group.
func (l *local) updateFew(in *vector.Chunk) error {
	r, f := l.r, &l.t.few
	if f.view == nil {
		f.view = vector.NewChunk(in.Types())
	}
	for g := range f.n {
		if f.count[g] == 0 {
			continue
		}
		f.view.ReferenceChunk(in)
		f.view.SetSel(f.sels[g], f.count[g])
		state := f.rows[g]
		for k, ag := range r.aggs {
			if err := ag.UpdateState(f.view, state[r.lay.stateOff[k]:]); err != nil {
				return fmt.Errorf("hash aggregate: %w", err)
			}
		}
	}
	return nil
}
