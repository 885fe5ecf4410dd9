package collect

import (
	"fmt"
	"slices"

	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// MorselChunks is the number of stored chunks per morsel of a collection's
// Source: enough rows per morsel to amortize claiming it, enough morsels
// for every worker of a large collection.
const MorselChunks = 4

// Source returns a parallel.Source scanning the collection: morsel m is
// stored chunks [m·MorselChunks, (m+1)·MorselChunks), so a sink that keeps
// morsel order sees the collection's order. The collection must not change
// while a pipeline scans it.
func (c *Collection) Source() parallel.Source { return Concat(c) }

// Concat returns a parallel.Source producing the rows of each collection
// in turn (UNION ALL), morsels of the first before those of the second.
// The collections must have the same types; with none, the source has no
// columns and no rows.
func Concat(cs ...*Collection) parallel.Source {
	s := &concat{cs: slices.Clone(cs)}
	if len(cs) > 0 {
		s.types = cs[0].Types()
	}
	for i, c := range cs {
		if !slices.Equal(c.types, s.types) {
			panic(fmt.Sprintf("BUG: concatenate collection %d of types %v to collections of %v", i, c.types, s.types))
		}
	}
	return s
}

// concat is the Source of Concat.
type concat struct {
	types []types.Type
	cs    []*Collection
}

// String describes the source as EXPLAIN prints it.
func (s *concat) String() string {
	if len(s.cs) == 1 {
		return "scan collection"
	}
	return fmt.Sprintf("scan %d collections", len(s.cs))
}

// Types returns the collections' column types.
func (s *concat) Types() []types.Type { return slices.Clone(s.types) }

// Init numbers the morsels of all collections.
func (s *concat) Init(*parallel.Producer) (parallel.SourceState, error) {
	st := &concatState{s: s, first: make([]int, len(s.cs)+1)}
	for i, c := range s.cs {
		st.first[i+1] = st.first[i] + (len(c.parts)+MorselChunks-1)/MorselChunks
	}
	return st, nil
}

// concatState maps morsels to collections: collection i has morsels
// [first[i], first[i+1]).
type concatState struct {
	s     *concat
	first []int
}

// Morsels returns the morsels of all collections.
func (st *concatState) Morsels() int { return st.first[len(st.first)-1] }

// NewLocal returns a task's scan state.
func (st *concatState) NewLocal() (parallel.SourceLocal, error) {
	return &concatLocal{st: st, m: -1}, nil
}

// concatLocal scans one morsel a chunk per call.
type concatLocal struct {
	st   *concatState
	m    int // morsel being scanned
	c    *Collection
	next int // next stored chunk of c
	end  int // its morsel's end
}

// Scan returns the next stored chunk of morsel m.
func (l *concatLocal) Scan(m int, out *vector.Chunk) (bool, error) {
	if m != l.m {
		i, _ := slices.BinarySearch(l.st.first, m+1)
		i-- // collection i: first[i] ≤ m < first[i+1]
		if m < 0 || i < 0 || i >= len(l.st.s.cs) {
			return false, fmt.Errorf("collect: morsel %d of %d", m, l.st.Morsels())
		}
		l.m, l.c = m, l.st.s.cs[i]
		l.next = (m - l.st.first[i]) * MorselChunks
		l.end = min(l.next+MorselChunks, len(l.c.parts))
	}
	if err := l.c.ReadChunk(l.next, out); err != nil {
		return false, err
	}
	l.next++
	if l.next == l.end {
		l.m = -1
		return false, nil
	}
	return true, nil
}
