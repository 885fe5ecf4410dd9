package aggregate

import (
	"errors"
	"fmt"
	"math"

	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/vector"
)

const (
	// radixBits is log2 of the number of partitions: the groups are split
	// by bits 32..32+radixBits of their hash.
	radixBits     = 7
	numPartitions = 1 << radixBits
	// minLocalEntries is the smallest directory of a task (8 bytes an
	// entry). A directory is at most half full, so that a chunk of new
	// groups always fits after a check.
	minLocalEntries = 4 * vector.Size

	// minPage and maxPage bound the size pages grow to, doubling per
	// partition, unless one chunk needs a bigger one.
	minPage  = 4 << 10
	tinyPage = 512
	maxPage  = 256 << 10
	// refRowBits: a row reference is page << refRowBits | row.
	refRowBits = 24
	maxPages   = 1 << 24
	refMask    = 1<<48 - 1
)

// passBurst × maxLocalEntries rows pass through without a lookup when a
// full directory found few groups again.
const passBurst = 8

// maxLocalEntries is the largest directory of a task (1 MiB: it stays in
// the L2 cache). A variable so that tests can make tasks start over often.
var maxLocalEntries = 1 << 17

func partitionOf(h uint64) int { return int(h>>32) & (numPartitions - 1) }

// page is a run of group rows of one partition, with their long strings
// at its end.
type page struct {
	region
	part int
	idx  uint64 // in its table's pages
	rows int    // rows written
	heap int    // string bytes at the end
}

// room returns the bytes left between the rows and the string heap.
func (p *page) room(width int) int { return p.size - p.rows*width - p.heap }

func (p *page) row(i, width int) []byte { return p.b[i*width : (i+1)*width : (i+1)*width] }

// table is one task's pre-aggregation: a directory over group rows in
// pages, by partition. It is used by one goroutine.
type table struct {
	lay *layout
	mem memory
	// first, pageCap, dirCap and sealedCap bound pages, the directory and
	// the sealed pages (see capsFor).
	first, pageCap, dirCap int
	sealedCap              int64
	sealedBytes            int64 // bytes of the sealed pages
	pages                  []*page
	open                   [numPartitions]*page // the page rows of each partition go to, or nil
	// sealed holds the pages no longer open that are still pinned: rows of
	// theirs may be reachable from the directory or the current chunk.
	sealed []*page
	next   [numPartitions]int // size of the partition's next page

	dir   *region // entries: salt<<48 | ref+1, 0 = empty
	mask  uint64
	count int // groups in the directory

	resets int64
	spills int64 // times memory ran out and spill ran

	// Pre-aggregation that finds few groups again is not worth its
	// lookups: probed and created count the rows looked up and the groups
	// created since the directory last started over; passRows is how many
	// more rows become groups of their own without a lookup.
	probed, created int
	passRows        int
	passed          int64 // rows that went through without a lookup

	few     few   // the small-group path
	fewRows int64 // rows it grouped

	// Scratch per chunk, by logical row.
	rows      [][]byte
	newRows   []int32
	img       []uint64 // the rows' encoded keys (layout.encode)
	long      []bool   // per row: its key has a long string
	heapBytes []int    // per row: page heap its long strings need
	heapAt    []int    // per new row: where newRow reserved that heap
}

// capsFor returns the first and the largest page size, the largest
// directory and the most bytes of sealed pages a task keeps pinned, given
// its share of the memory limit (0: no limit). Its directory and its open
// pages (one per partition) may each take an eighth of the share, its
// sealed pages a quarter, so that all tasks together pin at most half of
// the limit and the source's merges and other operators fit beside them.
// Under a tiny limit pages start below minPage (down to tinyPage).
func capsFor(share int64) (first, pageCap, dirCap int, sealedCap int64) {
	first, pageCap, dirCap, sealedCap = minPage, maxPage, maxLocalEntries, math.MaxInt64
	if share <= 0 {
		return first, pageCap, dirCap, sealedCap
	}
	first = int(max(tinyPage, min(minPage, share/8/numPartitions)))
	for pageCap > first && int64(pageCap)*numPartitions > share/8 {
		pageCap /= 2
	}
	for dirCap > minLocalEntries && int64(dirCap)*8 > share/8 {
		dirCap /= 2
	}
	return first, max(first, pageCap), dirCap, share / 4
}

func newTable(lay *layout, mem memory, threads int) *table {
	var share int64
	if mem.m != nil {
		share = max(mem.m.Limit()/int64(max(threads, 1)), 1)
	}
	first, pageCap, dirCap, sealedCap := capsFor(share)
	t := &table{lay: lay, mem: mem, first: first, pageCap: pageCap, dirCap: dirCap, sealedCap: sealedCap,
		rows: make([][]byte, vector.Size), newRows: make([]int32, 0, vector.Size),
	}
	for p := range t.next {
		t.next[p] = first
	}
	t.img = make([]uint64, vector.Size*lay.keyWords)
	t.long = make([]bool, vector.Size)
	t.heapBytes = make([]int, vector.Size)
	t.heapAt = make([]int, vector.Size)
	t.few = newFew(lay.keyWords)
	return t
}

// spill makes room when memory is short: it clears the directory and
// unpins every page, so that the buffer manager may spill them; the next
// pages start small again.
func (t *table) spill() {
	t.spills++
	t.reset()
	for _, p := range t.open {
		if p != nil {
			t.mem.unpin(&p.region)
		}
	}
	t.open = [numPartitions]*page{}
	for p := range t.next {
		t.next[p] = t.first
	}
}

// reset clears the directory and unpins the sealed pages: no row of
// theirs is reachable any more. It must not run while a chunk's rows
// are in use.
func (t *table) reset() {
	if t.dir != nil {
		clear(t.dir.b)
	}
	t.count = 0
	t.few.clear()
	t.resets++
	t.probed, t.created = 0, 0
	t.unpinSealed()
}

func (t *table) unpinSealed() {
	for _, p := range t.sealed {
		t.mem.unpin(&p.region)
	}
	t.sealed = t.sealed[:0]
	t.sealedBytes = 0
}

// endChunk is called when a chunk's rows are no longer in use: with an
// empty directory (rows passing through), the sealed pages are
// unreachable.
func (t *table) endChunk() {
	if t.count == 0 {
		t.unpinSealed()
	}
}

// encode encodes the keys of in (t.img, t.long, t.heapBytes).
func (t *table) encode(in *vector.Chunk) { t.lay.encode(in, t.img, t.long, t.heapBytes) }

// prepare makes the directory ready for n more groups (at most half full
// after them).
func (t *table) prepare(n int) error {
	if t.dir == nil {
		d, err := t.mem.alloc(minLocalEntries * 8)
		if errors.Is(err, buffer.ErrOutOfMemory) {
			t.spill()
			d, err = t.mem.alloc(minLocalEntries * 8)
		}
		if err != nil {
			return fmt.Errorf("hash aggregate: %w", err)
		}
		t.dir, t.mask = d, minLocalEntries-1
	}
	if t.sealedBytes > t.sealedCap {
		t.reset() // let the buffer manager spill what the directory reached
	}
	if t.passRows == 0 && 2*(t.count+n) > int(t.mask+1) {
		return t.grow()
	}
	return nil
}

// newPage opens a new page for partition p with room for need bytes.
func (t *table) newPage(p, need int) (*page, error) {
	if len(t.pages) == maxPages {
		return nil, fmt.Errorf("hash aggregate: more than %d pages in one task", maxPages)
	}
	r, err := t.mem.alloc(max(t.next[p], need))
	if err != nil {
		return nil, fmt.Errorf("hash aggregate: %w", err)
	}
	t.next[p] = min(2*t.next[p], t.pageCap)
	pg := &page{region: *r, part: p, idx: uint64(len(t.pages))}
	t.pages = append(t.pages, pg)
	if old := t.open[p]; old != nil {
		t.sealed = append(t.sealed, old)
		t.sealedBytes += int64(old.size)
	}
	t.open[p] = pg
	return pg, nil
}

// newRow appends a row for logical row r (hash h) to its partition's open
// page, opening a new page if it is full, and reserves the page heap its
// long strings need (from t.heapAt[r] on).
func (t *table) newRow(r int, h uint64) ([]byte, *page, error) {
	p := partitionOf(h)
	width := t.lay.width
	pg := t.open[p]
	if need := width + t.heapBytes[r]; pg == nil || pg.room(width) < need {
		var err error
		if pg, err = t.newPage(p, need); err != nil {
			return nil, nil, err
		}
	}
	row := pg.row(pg.rows, width)
	pg.rows++
	pg.heap += t.heapBytes[r]
	t.heapAt[r] = len(pg.b) - pg.heap
	le.PutUint64(row, h)
	return row, pg, nil
}

// grow doubles the directory, or clears it when it is as big as a task's
// may be or no memory is left for a bigger one.
func (t *table) grow() error {
	size := int(t.mask+1) * 2
	if size > t.dirCap {
		if t.created*10 > t.probed*9 {
			// Fewer than one row in ten found its group: pass the next
			// rows through, then try again.
			t.passRows = passBurst * t.dirCap
		}
		t.reset()
		return nil
	}
	r, err := t.mem.alloc(size * 8)
	if err != nil {
		if errors.Is(err, buffer.ErrOutOfMemory) {
			t.reset()
			return nil
		}
		return fmt.Errorf("hash aggregate: %w", err)
	}
	mask := uint64(size - 1)
	old := t.dir.b
	for i := 0; i < len(old); i += 8 {
		e := le.Uint64(old[i:])
		if e == 0 {
			continue
		}
		ref := e&refMask - 1
		h := le.Uint64(t.pages[ref>>refRowBits].b[int(ref&(1<<refRowBits-1))*t.lay.width:])
		s := h & mask
		for le.Uint64(r.b[s*8:]) != 0 {
			s = (s + 1) & mask
		}
		le.PutUint64(r.b[s*8:], e)
	}
	if err := t.mem.free(t.dir); err != nil {
		return err
	}
	t.dir, t.mask = r, mask
	return nil
}

// group sets t.rows[r] to the group row of each logical row r of in, like
// findOrCreate, or, while rows pass through, to a new row of its own. It
// returns the new rows. If memory runs out, it returns the rows created so
// far with the error: once the caller has initialized their states, they
// are groups that change nothing when merged with their equals, so the
// caller may spill and group the chunk again.
func (t *table) group(in *vector.Chunk, hashes []uint64) ([]int32, error) {
	if t.passRows == 0 {
		created, err := t.findOrCreate(in, hashes)
		if err != nil {
			return created, err
		}
		t.probed += len(hashes)
		t.created += len(created)
		return created, nil
	}
	lay := t.lay
	kw := lay.keyWords
	created := t.newRows[:len(hashes)]
	for r, h := range hashes {
		row, pg, err := t.newRow(r, h)
		if err != nil {
			return created[:r], err
		}
		lay.store(row, pg, t.img[r*kw:], t.long[r], in, r, t.heapAt[r])
		t.rows[r] = row
		created[r] = int32(r)
	}
	t.passRows = max(0, t.passRows-len(hashes))
	t.passed += int64(len(hashes))
	return created, nil
}

// findOrCreate sets t.rows[r] to the group row of each logical row r of in
// (hashes[r] its hash), creating the groups that are new (keys stored,
// states left for the caller to Init). It returns the new rows. Rows are
// looked up one after the other, so a key new in this chunk is found by
// its later rows.
func (t *table) findOrCreate(in *vector.Chunk, hashes []uint64) ([]int32, error) {
	lay := t.lay
	width, kw := lay.width, lay.keyWords
	dir, mask := t.dir.b, t.mask
	created := t.newRows[:0]
	for r, h := range hashes {
		img := t.img[r*kw : r*kw+kw]
		s := h & mask
		for {
			e := le.Uint64(dir[s*8:])
			if e == 0 {
				row, pg, err := t.newRow(r, h)
				if err != nil {
					return created, err
				}
				lay.store(row, pg, img, t.long[r], in, r, t.heapAt[r])
				le.PutUint64(dir[s*8:], h>>48<<48|(pg.idx<<refRowBits|uint64(pg.rows-1))+1)
				t.rows[r] = row
				created = append(created, int32(r))
				t.count++
				break
			}
			if e>>48 == h>>48 {
				ref := e&refMask - 1
				pg := t.pages[ref>>refRowBits]
				row := pg.row(int(ref&(1<<refRowBits-1)), width)
				if le.Uint64(row) == h && t.keyEqual(row, pg, img, in, r) {
					t.rows[r] = row
					break
				}
			}
			s = (s + 1) & mask
		}
	}
	return created, nil
}

// keyEqual reports whether row (in page pg) holds the encoded key img of
// logical row r of in: its words, then (rarely) its long strings.
func (t *table) keyEqual(row []byte, pg *page, img []uint64, in *vector.Chunk, r int) bool {
	key := row[8 : 8+8*len(img)]
	for w, x := range img {
		if le.Uint64(key[8*w:]) != x {
			return t.long[r] && t.lay.equalLong(row, pg.b, img, in, r)
		}
	}
	return true
}
