package order

import (
	"fmt"

	"github.com/bpfdb/bpfdb/internal/exec/collect"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// An oref is a row of a merged result: its run and its ref in the run's
// buffer.
//
//	oref (uint64)  bits 63..32 run   bits 31..0 ref
type oref uint64

func orefOf(run int, ref uint32) oref { return oref(uint64(run)<<32 | uint64(ref)) }
func (o oref) run() int               { return int(o >> 32) }
func (o oref) ref() uint32            { return uint32(o) }

// cmpRuns orders row a of run x and row b of run y: first-key prefixes,
// then the keys the prefix left undecided, then sequence numbers.
func cmpRuns(x *rowBuf, a entry, y *rowBuf, b entry) int {
	switch {
	case a.cls != b.cls:
		return cmpOrdered(int(a.cls), int(b.cls))
	case a.p != b.p:
		return cmpOrdered(a.p, b.p)
	case a.sub != b.sub:
		return cmpOrdered(int(a.sub), int(b.sub))
	}
	from := 0
	if x.keys[0].resolved(a) {
		from = 1
	}
	for k := from; k < len(x.keys); k++ {
		if c := compare(x.keys[k], a.ref, y.keys[k], b.ref); c != 0 {
			return c
		}
	}
	return cmpOrdered(x.seq(a.ref), y.seq(b.ref))
}

// merge returns the first want rows (all if want < 0) of the runs' rows in
// order: a k-way merge over a binary heap of the runs' heads.
func merge(runs []*run, want int64) []oref {
	total := int64(0)
	for _, r := range runs {
		total += int64(len(r.es))
	}
	if want < 0 || want > total {
		want = total
	}
	out := make([]oref, 0, want)
	switch len(runs) {
	case 0:
		return out
	case 1:
		for _, e := range runs[0].es[:want] {
			out = append(out, orefOf(0, e.ref))
		}
		return out
	}
	pos := make([]int, len(runs))
	heap := make([]int, len(runs)) // run indices; heap[0] has the least head
	for i := range heap {
		heap[i] = i
	}
	less := func(i, j int) bool {
		c := cmpRuns(runs[i].b, runs[i].es[pos[i]], runs[j].b, runs[j].es[pos[j]])
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
	for int64(len(out)) < want {
		r := heap[0]
		out = append(out, orefOf(r, runs[r].es[pos[r]].ref))
		pos[r]++
		if pos[r] == len(runs[r].es) {
			heap[0] = heap[len(heap)-1]
			heap = heap[:len(heap)-1]
		}
		down(0)
	}
	return out
}

// result is a finalized run's output: the buffers of the runs and the
// rows in order.
type result struct {
	bufs  []*rowBuf
	order []oref
	pages *collect.Collection // instead, after a merge of spilled runs
	// Or two runs that the Source merges (no order list): ranks [first,
	// total) of their merged order.
	pair         []*run
	first, total int64
}

// gatherInto fills out's own vectors with the rows order (of bufs, by
// run) and sets its length.
func gatherInto(out *vector.Chunk, bufs []*rowBuf, order []oref) {
	n := len(order)
	for j, t := range bufs[0].ts {
		dst := out.Col(j)
		switch t.Physical() {
		case types.PhysBool:
			gatherFixed(vector.Data[bool](dst)[:n], bufs, j, order)
		case types.PhysInt32:
			gatherFixed(vector.Data[int32](dst)[:n], bufs, j, order)
		case types.PhysInt64:
			gatherFixed(vector.Data[int64](dst)[:n], bufs, j, order)
		case types.PhysFloat64:
			gatherFixed(vector.Data[float64](dst)[:n], bufs, j, order)
		case types.PhysString:
			for i, o := range order {
				x := o.ref()
				dst.SetBytes(i, bufs[o.run()].cols[j].bytes(refChunk(x), refSlot(x)))
			}
		}
		nulls := false
		for _, b := range bufs {
			nulls = nulls || b.nulls[j]
		}
		if nulls {
			for i, o := range order {
				x := o.ref()
				if bufs[o.run()].cols[j].vecs[refChunk(x)].IsNull(refSlot(x)) {
					dst.SetNull(i)
				}
			}
		}
	}
	out.SetLen(n)
}

// gatherFixed copies column j of the rows order into dst.
func gatherFixed[T vector.Fixed](dst []T, bufs []*rowBuf, j int, order []oref) {
	if len(bufs) == 1 {
		src := fixed[T](bufs[0].cols[j])
		for i, o := range order {
			x := o.ref()
			dst[i] = src[refChunk(x)][refSlot(x)]
		}
		return
	}
	var srcs [8][][]T
	if len(bufs) <= len(srcs) {
		for r, b := range bufs {
			srcs[r] = fixed[T](b.cols[j])
		}
		for i, o := range order {
			x := o.ref()
			dst[i] = srcs[o.run()][refChunk(x)][refSlot(x)]
		}
		return
	}
	for i, o := range order {
		x := o.ref()
		dst[i] = fixed[T](bufs[o.run()].cols[j])[refChunk(x)][refSlot(x)]
	}
}

// morselRows is the number of rows of the sorted output per morsel of the
// Source.
const morselRows = 8 * vector.Size

// Source returns a parallel.Source producing the rows of the last
// finalized run in order: morsel m holds rows [m·morselRows,
// (m+1)·morselRows) of the order, so a sink that keeps morsel order (a
// collect.Collection) sees the sorted order. It must be initialized after
// the sort's pipeline finalized (a pipeline that depends on it).
func (s *Sort) Source() parallel.Source { return source{s} }

type source struct{ s *Sort }

// Types returns the sort's column types.
func (src source) Types() []types.Type { return src.s.Types() }

// String describes the source as EXPLAIN prints it.
func (src source) String() string { return "scan " + src.s.String() }

// Init takes the rows of the last finalized run.
func (src source) Init(p *parallel.Producer) (parallel.SourceState, error) {
	src.s.mu.Lock()
	res := src.s.res
	src.s.mu.Unlock()
	if res == nil {
		return nil, fmt.Errorf("scan %s: the sort has not finalized", src.s)
	}
	if res.pages != nil {
		return res.pages.Source().Init(p)
	}
	return res, nil
}

// Morsels returns the number of morsels of the sorted output.
func (res *result) Morsels() int {
	n := len(res.order)
	if res.pair != nil {
		n = int(res.total - res.first)
	}
	return (n + morselRows - 1) / morselRows
}

// NewLocal returns a task's scan state.
func (res *result) NewLocal() (parallel.SourceLocal, error) {
	return &scanLocal{res: res, m: -1, buf: make([]oref, vector.Size)}, nil
}

type scanLocal struct {
	res  *result
	m    int
	next int // next row of the order

	// Two runs merged here: the morsel's ranges of each, [i, iEnd) of
	// run 0 and [j, jEnd) of run 1.
	i, iEnd, j, jEnd int
	buf              []oref
}

// Scan gathers the next chunk of morsel m.
func (l *scanLocal) Scan(m int, out *vector.Chunk) (bool, error) {
	if l.res.pair != nil {
		return l.scanPair(m, out)
	}
	if m != l.m {
		l.m, l.next = m, m*morselRows
	}
	end := min(len(l.res.order), (m+1)*morselRows)
	k := min(end-l.next, vector.Size)
	gatherInto(out, l.res.bufs, l.res.order[l.next:l.next+k])
	l.next += k
	if l.next == end {
		l.m = -1
		return false, nil
	}
	return true, nil
}

// scanPair merges the part of two runs that morsel m covers: ranks
// [first + m·morselRows, …) of the merged order, whose bounds in each run
// a binary search finds (merge path), so that the merge of two runs is
// as parallel as the scan.
func (l *scanLocal) scanPair(m int, out *vector.Chunk) (bool, error) {
	res := l.res
	a, b := res.pair[0], res.pair[1]
	if m != l.m {
		lo := res.first + int64(m)*morselRows
		hi := min(res.total, lo+morselRows)
		l.m = m
		l.i, l.iEnd = res.split(lo), res.split(hi)
		l.j, l.jEnd = int(lo)-l.i, int(hi)-l.iEnd
	}
	n := 0
	for n < vector.Size && (l.i < l.iEnd || l.j < l.jEnd) {
		if l.j == l.jEnd || l.i < l.iEnd && cmpRuns(a.b, a.es[l.i], b.b, b.es[l.j]) < 0 {
			l.buf[n] = orefOf(0, a.es[l.i].ref)
			l.i++
		} else {
			l.buf[n] = orefOf(1, b.es[l.j].ref)
			l.j++
		}
		n++
	}
	gatherInto(out, res.bufs, l.buf[:n])
	if l.i == l.iEnd && l.j == l.jEnd {
		l.m = -1
		return false, nil
	}
	return true, nil
}

// split returns how many of the first r rows of the merged order of the
// pair come from run 0: the least i such that run 0's row i (if any) comes
// after run 1's row r-i-1 (if any). Rows never tie (sequence numbers
// differ), so the answer is unique.
func (res *result) split(r int64) int {
	a, b := res.pair[0], res.pair[1]
	lo, hi := max(0, int(r)-len(b.es)), min(int(r), len(a.es))
	for lo < hi {
		i := int(uint(lo+hi) >> 1)
		j := int(r) - i - 1 // ≥ 0, as i < hi ≤ r
		if cmpRuns(a.b, a.es[i], b.b, b.es[j]) < 0 {
			lo = i + 1 // run 0's row i is among the first r
		} else {
			hi = i
		}
	}
	return lo
}
