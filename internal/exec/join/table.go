package join

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/bpfdb/bpfdb/internal/exec/hash"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
)

// Pages, refs and buckets.
//
// Rows and string bytes live in pages, numbered in one list per table;
// page 0 is never used, so that no ref is 0. A row is named by its ref:
//
//	 63          48 47                      18 17             0
//	┌──────────────┬──────────────────────────┬────────────────┐
//	│ (tags, in a  │ page number (30 bits)    │ byte offset in │
//	│  bucket only)│                          │ the page       │
//	└──────────────┴──────────────────────────┴────────────────┘
//
// A bucket is one uint64: the ref of the first row of its chain and, in
// the top 16 bits, a tiny Bloom filter of the chain: bit 48+h>>60 is set
// for every row hash h in the chain. A probe whose bit is clear skips the
// bucket without touching a row (most probes of a selective join).
const (
	pageBits  = 18
	maxPage   = 1 << pageBits // the largest row page (string pages may be larger)
	firstPage = 4 << 10       // a task's first page; each next one doubles
	refBits   = 48
	refMask   = 1<<refBits - 1
	maxPages  = 1 << (refBits - pageBits)
	// bigString is the length above which a string gets a page of its own.
	bigString = maxPage / 4
	// serialRows is the build size up to which Finalize inserts the rows
	// itself; above it the probe tasks insert them in parallel.
	serialRows = 1 << 16
)

// tag returns the Bloom filter bit of hash h in a bucket.
func tag(h uint64) uint64 { return 1 << (refBits + h>>60) }

// rowPage is a page of rows: the rows are its first used bytes.
type rowPage struct {
	no   uint32
	used int
}

// table is one run's hash table: the stored build rows and the buckets.
type table struct {
	l      *layout
	hasher hash.Hasher
	noKeys bool
	m      *buffer.Manager

	// Filled by the build tasks, under mu.
	mu       sync.Mutex
	pages    [][]byte // page 0 is nil
	blocks   []*buffer.Block
	bytes    int64
	rowPages []rowPage
	rows     int64  // stored rows
	sunk     int64  // rows the build side gave, NULL keys included
	nullKeys bool   // a build row had a NULL key
	nullable []bool // per field: some stored row has it NULL

	// Set by finalize.
	finalized bool
	heads     []uint64
	mask      uint64

	// The parallel insert: probe tasks claim row pages.
	claim atomic.Int64
	left  atomic.Int64
	ready atomic.Bool
	built chan struct{}

	released bool
}

func newTable(j *Join) *table {
	return &table{
		l: j.layout, hasher: captureHasher(j.spec.Hash), noKeys: len(j.spec.BuildKeys) == 0,
		m: j.spec.Buffers, pages: [][]byte{nil}, nullable: make([]bool, len(j.layout.fields)),
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
	if no >= maxPages {
		return 0, nil, fmt.Errorf("hash table of more than %d pages: %w", maxPages, ErrSpec)
	}
	t.pages = append(t.pages, buf)
	if blk != nil {
		t.blocks = append(t.blocks, blk)
	}
	t.bytes += int64(size)
	return uint32(no), buf, nil
}

// row returns the bytes of the row ref names, up to the end of its page.
func (t *table) row(ref uint64) []byte { return t.pages[ref>>pageBits][ref&(maxPage-1):] }

// str returns the bytes of the string field at off of row.
func (t *table) str(row []byte, off int) []byte {
	p, o, n := le.Uint32(row[off:]), le.Uint32(row[off+4:]), le.Uint32(row[off+8:])
	return t.pages[p][o : o+n : o+n]
}

// finalize sizes the buckets (a power of two, at least twice the rows) and
// inserts the rows if there are few; the probe tasks insert many.
func (t *table) finalize() error {
	n := uint64(1)
	if !t.noKeys {
		for n < 2*uint64(t.rows) {
			n <<= 1
		}
	}
	if t.m != nil {
		blk, buf, err := t.m.Allocate(buffer.TagHashTable, int(n*8))
		if err != nil {
			return fmt.Errorf("hash table buckets for %d rows: %w", t.rows, err)
		}
		t.mu.Lock()
		t.blocks = append(t.blocks, blk)
		t.mu.Unlock()
		t.heads = uint64s(buf)
	} else {
		t.heads = make([]uint64, n)
	}
	t.bytes += int64(n * 8)
	t.mask = n - 1
	t.finalized = true
	if t.rows <= serialRows {
		for _, rp := range t.rowPages {
			t.insert(rp, false)
		}
		t.ready.Store(true)
		return nil
	}
	t.left.Store(int64(len(t.rowPages)))
	t.built = make(chan struct{})
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
func (t *table) help() {
	if t.ready.Load() {
		return
	}
	for {
		i := t.claim.Add(1) - 1
		if i >= int64(len(t.rowPages)) {
			break
		}
		t.insert(t.rowPages[i], true)
		if t.left.Add(-1) == 0 {
			t.ready.Store(true)
			close(t.built)
		}
	}
	<-t.built
}

// insert links the rows of one page into their buckets' chains; shared
// uses compare-and-swap, as other tasks insert concurrently.
func (t *table) insert(rp rowPage, shared bool) {
	page, w := t.pages[rp.no], t.l.width
	base := uint64(rp.no) << pageBits
	for off := 0; off+w <= rp.used; off += w {
		row := page[off : off+w]
		h := le.Uint64(row[hashOff:])
		b := &t.heads[h&t.mask]
		ref := base | uint64(off)
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
	for _, b := range t.blocks {
		t.m.Unpin(b)
		if err := t.m.Free(b); err != nil {
			errs = append(errs, err)
		}
	}
	t.blocks, t.pages, t.heads, t.rowPages = nil, nil, nil, nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("release hash table: %w", err)
	}
	return nil
}
