package order

import (
	"fmt"
	"slices"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// rowBuf holds rows copied out of a pipeline's chunks, dense, in arrival
// order, each with its sequence number: seq = morsel<<32 | position in the
// morsel, which orders rows as a single-threaded scan would (the tie-break
// that makes the sort stable at any thread count).
type rowBuf struct {
	ts     []types.Type
	cols   []*column // per column
	keys   []*keyCol // per key, sharing cols
	chunks []*vector.Chunk
	seqs   [][]uint64
	n      int
	nulls  []bool // per column: some row may be NULL
	arena  int64  // bytes of the chunks' string arenas
}

func newRowBuf(ts []types.Type, keys []Key) *rowBuf {
	b := &rowBuf{ts: ts, nulls: make([]bool, len(ts))}
	for _, t := range ts {
		b.cols = append(b.cols, &column{phys: t.Physical()})
	}
	for _, k := range keys {
		b.keys = append(b.keys, &keyCol{key: k, exact: ts[k.Column].Physical() != types.PhysString, column: b.cols[k.Column]})
	}
	return b
}

// keyList returns the buffer's keys.
func (b *rowBuf) keyList() []Key {
	ks := make([]Key, len(b.keys))
	for i, kc := range b.keys {
		ks[i] = kc.key
	}
	return ks
}

// newChunk appends an empty chunk to the buffer.
func (b *rowBuf) newChunk() *vector.Chunk {
	c := vector.NewChunk(b.ts)
	b.chunks = append(b.chunks, c)
	for j, col := range b.cols {
		col.add(c, j)
	}
	return c
}

// bytes estimates the memory of the buffer's chunks.
func (b *rowBuf) bytes() int64 { return int64(len(b.chunks))*chunkBytes(b.ts) + b.arena }

// chunkBytes estimates a chunk's memory (strings count their headers only).
func chunkBytes(ts []types.Type) int64 {
	var n int64
	for _, t := range ts {
		w := t.Physical().Width()
		if w == 0 {
			w = 8
		}
		n += int64(w) * vector.Size
	}
	return n + 8*vector.Size // the sequence numbers
}

// add copies n rows of in, at slots sel[0:n] (nil: 0..n-1), numbering
// them seq, seq+step, … by a callback-free rule: row i gets seqs[i].
func (b *rowBuf) add(in *vector.Chunk, sel vector.Selection, seqs []uint64) error {
	n := len(seqs)
	for done := 0; done < n; {
		last := len(b.chunks) - 1
		if last < 0 || b.chunks[last].Len() == vector.Size {
			if len(b.chunks) == maxChunks {
				return fmt.Errorf("sort: more than %d rows in one task", maxChunks*vector.Size)
			}
			b.newChunk()
			b.seqs = append(b.seqs, make([]uint64, 0, vector.Size))
			last++
		}
		c := b.chunks[last]
		k := min(n-done, vector.Size-c.Len())
		s := sel
		if s == nil {
			s = identity
		}
		for j, t := range b.ts {
			v, dst := in.Col(j), c.Col(j)
			before := len(dst.Arena())
			vector.Copy(dst, c.Len(), v, s[done:done+k], k)
			if t.Physical() == types.PhysString {
				b.arena += int64(len(dst.Arena()) - before)
			}
			if !v.Validity().AllValid() {
				b.nulls[j] = true
				b.cols[j].nulls = true
			}
		}
		c.SetLen(c.Len() + k)
		b.seqs[last] = append(b.seqs[last], seqs[done:done+k]...)
		done += k
	}
	b.n += n
	return nil
}

// identity is the selection 0, 1, 2, ….
var identity = func() vector.Selection {
	s := make(vector.Selection, vector.Size)
	for i := range s {
		s[i] = uint16(i)
	}
	return s
}()

func (b *rowBuf) seq(ref uint32) uint64 { return b.seqs[refChunk(ref)][refSlot(ref)] }

// sorted returns the buffer's rows in order: entries whose (cls, p, sub)
// is the first key's prefix at depth 0.
func (b *rowBuf) sorted() []entry {
	es := make([]entry, b.n)
	i := 0
	for c, ch := range b.chunks {
		for s := range ch.Len() {
			es[i].ref = refOf(c, s)
			i++
		}
	}
	st := sorter{b: b, tmp: make([]entry, len(es))}
	st.sort(es, 0, 0) // leaves two or more entries with the first key's prefix
	if len(es) == 1 {
		// A single row is not sorted, so it has no prefix yet (the merge
		// compares runs by it).
		b.keys[0].prefixes(es, 0)
	}
	return es
}

// sorter sorts entries of one rowBuf.
type sorter struct {
	b   *rowBuf
	tmp []entry // scratch for radix passes, as long as the longest range
}

// sort orders es, rows equal in keys before k (and, for a VARCHAR key k,
// in its bytes before window depth), by keys k… and sequence. Two or more
// entries are left with the prefix of key k at depth.
func (st *sorter) sort(es []entry, k, depth int) {
	if len(es) < 2 {
		return
	}
	b := st.b
	if k == len(b.keys) {
		// Equal in every key: sequence order. Radix passes are stable and
		// rows arrive in sequence order within a task, so this is usually
		// a check.
		if !slices.IsSortedFunc(es, st.bySeq) {
			slices.SortFunc(es, st.bySeq)
		}
		return
	}
	kc := b.keys[k]
	kc.prefixes(es, depth)
	radixSort(es, st.tmp[:len(es)])
	for i := 0; i < len(es); {
		j := i + 1
		for j < len(es) && samePrefix(es[j], es[i]) {
			j++
		}
		if j-i > 1 {
			run := es[i:j]
			tie := run[0]
			if tie.cls == clsValue && !kc.exact && kc.deeper(tie.sub) {
				st.sort(run, k, depth+1)
			} else {
				st.sort(run, k+1, 0)
			}
			if k+1 < len(b.keys) || !kc.exact {
				// The deeper sort overwrote the prefixes; they were all
				// this run's (a sequential write, not a recomputation
				// that would read the rows in sorted, random order).
				for x := range run {
					run[x].cls, run[x].p, run[x].sub = tie.cls, tie.p, tie.sub
				}
			}
		}
		i = j
	}
}

func (st *sorter) bySeq(x, y entry) int { return cmpOrdered(st.b.seq(x.ref), st.b.seq(y.ref)) }

// radixSort orders es by (cls, p, sub), stably. Large inputs are first
// partitioned by their most significant varying byte (one pass through
// memory), so that the least-significant-digit passes that finish each
// part run on data that fits the cache; small ones go straight to those
// passes. tmp is scratch of len(es).
func radixSort(es, tmp []entry) {
	n := len(es)
	if n <= 64 {
		insertionSort(es)
		return
	}
	counts := histogram(es)
	if n < msdMin {
		lsdSort(es, tmp, counts)
		return
	}
	// Digits, most significant first: cls (9), the bytes of p (8..1), sub (0).
	d := -1
	for x := 9; x >= 0; x-- {
		if counts[x][digit(&es[0], x)] != n {
			d = x
			break
		}
	}
	if d < 0 {
		return // all equal
	}
	var offs [256]int
	sum := 0
	for v := range 256 {
		offs[v] = sum
		sum += counts[d][v]
	}
	bounds := offs
	for i := range es {
		v := digit(&es[i], d)
		tmp[offs[v]] = es[i]
		offs[v]++
	}
	for v := range 256 {
		lo, hi := bounds[v], offs[v]
		if hi-lo == 0 {
			continue
		}
		part, scratch := tmp[lo:hi], es[lo:hi]
		if hi-lo <= 64 {
			insertionSort(part)
		} else {
			lsdSort(part, scratch, histogram(part))
		}
		copy(es[lo:hi], part)
	}
}

// msdMin is the least number of entries partitioned first by their most
// significant digit: 2^16 entries (1 MiB) and more.
const msdMin = 1 << 16

// digit returns digit d of e's sort tuple: 0 is sub, 1..8 the bytes of p
// from the least significant, 9 is cls.
func digit(e *entry, d int) byte {
	switch d {
	case 0:
		return e.sub
	case 9:
		return e.cls
	}
	return byte(e.p >> (8 * (d - 1)))
}

// histogram counts the values of every digit.
func histogram(es []entry) *[10][256]int {
	var counts [10][256]int
	for i := range es {
		e := &es[i]
		counts[0][e.sub]++
		p := e.p
		for d := 1; d <= 8; d++ {
			counts[d][byte(p)]++
			p >>= 8
		}
		counts[9][e.cls]++
	}
	return &counts
}

// insertionSort orders a few entries, stably.
func insertionSort(es []entry) {
	for i := 1; i < len(es); i++ {
		e := es[i]
		j := i
		for ; j > 0 && less(e, es[j-1]); j-- {
			es[j] = es[j-1]
		}
		es[j] = e
	}
}

// lsdSort orders es stably by least-significant-digit passes of one byte,
// skipping the digits on which all entries agree; the result is in es.
func lsdSort(es, tmp []entry, counts *[10][256]int) {
	n := len(es)
	src, dst := es, tmp
	for d := range 10 {
		cnt := &counts[d]
		if cnt[digit(&src[0], d)] == n {
			continue
		}
		var offs [256]int
		sum := 0
		for v := range 256 {
			offs[v] = sum
			sum += cnt[v]
		}
		switch d {
		case 0:
			for _, e := range src {
				dst[offs[e.sub]] = e
				offs[e.sub]++
			}
		case 9:
			for _, e := range src {
				dst[offs[e.cls]] = e
				offs[e.cls]++
			}
		default:
			shift := uint(8 * (d - 1))
			for _, e := range src {
				v := byte(e.p >> shift)
				dst[offs[v]] = e
				offs[v]++
			}
		}
		src, dst = dst, src
	}
	if &src[0] != &es[0] {
		copy(es, src)
	}
}
