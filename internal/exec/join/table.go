package join

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/bpfdb/bpfdb/internal/exec/hash"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
)

// Pages, rows and buckets.
//
// Build tasks write rows and string bytes into pages of their own, which
// are numbered in one list per table (page 0 is never used: a string
// field of page 0 is the empty string). Finalize gathers the rows into one
// contiguous array, data, so that the probe's random accesses stay within
// one large allocation (the operating system maps it with large pages;
// many small pages cost a TLB miss per access), and frees the row pages.
// A row is named by its ref, its byte offset in data; data's first row
// is never used, so that no ref is 0, which ends a chain.
//
// A bucket is one uint64: the ref of the first row of its chain and, in
// the top 16 bits, a tiny Bloom filter of the chain: bit 48+h>>60 is set
// for every row hash h in the chain. A probe whose bit is clear skips the
// bucket without touching a row (most probes of a selective join).
//
//	 63          48 47                                          0
//	┌──────────────┬─────────────────────────────────────────────┐
//	│ Bloom tags   │ ref of the chain's first row (0: empty)     │
//	└──────────────┴─────────────────────────────────────────────┘
const (
	maxPage   = 256 << 10 // the largest row or string page
	firstPage = 4 << 10   // a task's first page; each next one doubles
	refBits   = 48
	refMask   = 1<<refBits - 1
	// bigString is the length above which a string gets a page of its own.
	bigString = maxPage / 4
	// serialRows is the build size up to which Finalize inserts the rows
	// itself; above it the probe tasks insert them in parallel.
	serialRows = 1 << 16
)

// tag returns the Bloom filter bit of hash h in a bucket.
func tag(h uint64) uint64 { return 1 << (refBits + h>>60) }

// rowPage is a page of rows: the rows are its first used bytes, which
// Finalize places at data[dst:].
type rowPage struct {
	no   uint32
	used int
	dst  int
}

// table is one run's hash table: the stored build rows and the buckets.
type table struct {
	l      *layout
	hasher hash.Hasher
	noKeys bool
	m      *buffer.Manager
	stat   *atomic.Int64 // the join's TableBytes

	// Filled by the build tasks, under mu.
	mu       sync.Mutex
	pages    [][]byte        // page 0 is nil
	blocks   []*buffer.Block // per page: its buffer, if Buffers is set
	other    []*buffer.Block // the buffers of data and heads
	bytes    int64
	rowPages []rowPage
	rows     int64  // stored rows
	sunk     int64  // rows the build side gave, NULL keys included
	nullKeys bool   // a build row had a NULL key
	nullable []bool // per field: some stored row has it NULL

	// Set by finalize.
	finalized bool
	data      []byte // the rows, from ref width on
	heads     []uint64
	mask      uint64

	// The parallel insert: probe tasks claim row pages.
	claim atomic.Int64
	left  atomic.Int64
	ready atomic.Bool
	built chan struct{}
	// freeErr is the error of freeing the row pages, set before ready.
	freeErr error

	released bool
}

func newTable(j *Join) *table {
	return &table{
		l: j.layout, hasher: captureHasher(j.spec.Hash), noKeys: len(j.spec.BuildKeys) == 0, stat: &j.tableBytes,
		m: j.spec.Buffers, pages: [][]byte{nil}, blocks: []*buffer.Block{nil}, nullable: make([]bool, len(j.layout.fields)),
	}
}

func captureHasher(s *hash.Slot) hash.Hasher {
	if s == nil {
		return hash.Hasher{}
	}
	return s.Capture()
}

// alloc adds a zeroed page of size bytes and returns its number.
func (t *table) alloc(size int) (uint32, []byte, error) {
	var (
		buf []byte
		blk *buffer.Block
	)
	if t.m != nil {
		var err error
		if blk, buf, err = t.m.Allocate(buffer.TagHashTable, size); err != nil {
			return 0, nil, fmt.Errorf("hash table page: %w", err)
		}
	} else {
		buf = make([]byte, size)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	no := len(t.pages)
	if no > math.MaxUint32 {
		return 0, nil, fmt.Errorf("hash table of more than %d pages: %w", math.MaxUint32, ErrSpec)
	}
	t.pages = append(t.pages, buf)
	t.blocks = append(t.blocks, blk)
	t.bytes += int64(size)
	return uint32(no), buf, nil
}

// row returns the bytes of the row ref names, up to the end of data.
func (t *table) row(ref uint64) []byte { return t.data[ref:] }

// str returns the bytes of the string field at off of row.
func (t *table) str(row []byte, off int) []byte {
	p, o, n := le.Uint32(row[off:]), le.Uint32(row[off+4:]), le.Uint32(row[off+8:])
	return t.pages[p][o : o+n : o+n]
}

// finalize allocates data and the buckets (a power of two, at least twice
// the rows) and places each row page in data; it copies and inserts the
// rows if there are few, else the probe tasks do.
func (t *table) finalize() error {
	w := t.l.width
	dst := w
	for i := range t.rowPages {
		t.rowPages[i].dst = dst
		dst += t.rowPages[i].used
	}
	if uint64(dst) > refMask {
		return fmt.Errorf("hash table of %d bytes of rows: %w", dst, ErrSpec)
	}
	n := uint64(1)
	if !t.noKeys {
		for n < 2*uint64(t.rows) {
			n <<= 1
		}
	}
	data, err := t.allocOther(dst)
	if err != nil {
		return fmt.Errorf("hash table rows (%d): %w", t.rows, err)
	}
	heads, err := t.allocOther(int(n * 8))
	if err != nil {
		return fmt.Errorf("hash table buckets for %d rows: %w", t.rows, err)
	}
	t.data, t.heads, t.mask = data, uint64s(heads), n-1
	t.finalized = true
	if t.rows <= serialRows {
		for _, rp := range t.rowPages {
			t.insert(rp, false)
		}
		t.ready.Store(true)
		return t.freeRowPages()
	}
	t.left.Store(int64(len(t.rowPages)))
	t.built = make(chan struct{})
	return nil
}

// allocOther allocates a zeroed buffer of size bytes for data or heads.
func (t *table) allocOther(size int) ([]byte, error) {
	t.bytes += int64(size)
	if t.m == nil {
		return make([]byte, size), nil
	}
	blk, buf, err := t.m.Allocate(buffer.TagHashTable, size)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.other = append(t.other, blk)
	t.mu.Unlock()
	return buf, nil
}

// freeRowPages frees the row pages once their rows are in data.
func (t *table) freeRowPages() error {
	var errs []error
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, rp := range t.rowPages {
		t.bytes -= int64(len(t.pages[rp.no]))
		t.pages[rp.no] = nil
		if b := t.blocks[rp.no]; b != nil {
			t.blocks[rp.no] = nil
			t.m.Unpin(b)
			if err := t.m.Free(b); err != nil {
				errs = append(errs, err)
			}
		}
	}
	t.stat.Store(t.bytes)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("free hash table row pages: %w", err)
	}
	return nil
}

// uint64s views an 8-byte aligned byte buffer (the Go allocator aligns
// every allocation of 8 bytes or more) as uint64s.
func uint64s(b []byte) []uint64 {
	p := unsafe.SliceData(b)
	if uintptr(unsafe.Pointer(p))%8 != 0 || len(b)%8 != 0 {
		panic(fmt.Sprintf("BUG: bucket buffer of %d bytes at %p is not 8-byte aligned", len(b), p))
	}
	return unsafe.Slice((*uint64)(unsafe.Pointer(p)), len(b)/8)
}

// help inserts row pages until none is left unclaimed, then waits for the
// pages other tasks claimed. Every claimed page is being inserted by a
// running task, so the wait is short and cannot deadlock.
func (t *table) help() error {
	if t.ready.Load() {
		return t.freeErr
	}
	for {
		i := t.claim.Add(1) - 1
		if i >= int64(len(t.rowPages)) {
			break
		}
		t.insert(t.rowPages[i], true)
		if t.left.Add(-1) == 0 {
			t.freeErr = t.freeRowPages()
			t.ready.Store(true)
			close(t.built)
		}
	}
	<-t.built
	return t.freeErr
}

// insert copies the rows of one page to data and links them into their
// buckets' chains; shared uses compare-and-swap, as other tasks insert
// concurrently.
func (t *table) insert(rp rowPage, shared bool) {
	w := t.l.width
	copy(t.data[rp.dst:rp.dst+rp.used], t.pages[rp.no][:rp.used])
	for off := rp.dst; off+w <= rp.dst+rp.used; off += w {
		row := t.data[off : off+w]
		h := le.Uint64(row[hashOff:])
		b := &t.heads[h&t.mask]
		ref := uint64(off)
		if !shared {
			old := *b
			le.PutUint64(row[nextOff:], old&refMask)
			*b = old&^refMask | tag(h) | ref
			continue
		}
		for {
			old := atomic.LoadUint64(b)
			le.PutUint64(row[nextOff:], old&refMask)
			if atomic.CompareAndSwapUint64(b, old, old&^refMask|tag(h)|ref) {
				break
			}
		}
	}
}

// release gives the table's buffers back. The table must not be used
// afterwards.
func (t *table) release() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.released {
		return nil
	}
	t.released = true
	var errs []error
	for _, b := range append(t.blocks, t.other...) {
		if b == nil {
			continue
		}
		t.m.Unpin(b)
		if err := t.m.Free(b); err != nil {
			errs = append(errs, err)
		}
	}
	t.blocks, t.other, t.pages, t.data, t.heads, t.rowPages = nil, nil, nil, nil, nil, nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("release hash table: %w", err)
	}
	return nil
}
