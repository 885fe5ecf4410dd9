package join

import (
	"errors"
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/bpfdb/bpfdb/internal/exec/hash"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
)

// Pages, rows and buckets.
//
// Build tasks write rows and string bytes into pages of their own, which
// are numbered in one list per table (page 0 is never used, so that no
// ref is 0, which ends a chain; a string field of page 0 is the empty
// string). Rows stay where they were written; a row is named by its ref:
//
//	 63        48 47                       18 17              0
//	┌────────────┬───────────────────────────┬─────────────────┐
//	│ (salt, in  │ page number (30 bits)     │ byte offset in  │
//	│  a bucket) │                           │ the page        │
//	└────────────┴───────────────────────────┴─────────────────┘
//
// The buckets are an open-addressing (linear probing) table with one
// entry per distinct key hash: the ref of the first row of the chain of
// rows with that hash (linked by their next refs, in no order) and, in
// the top 16 bits, the hash's top 16 bits (its salt):
//
//	 63          48 47                                          0
//	┌──────────────┬─────────────────────────────────────────────┐
//	│ salt: h>>48  │ ref of the chain's first row (0: empty)     │
//	└──────────────┴─────────────────────────────────────────────┘
//
// A probe of hash h scans from entry h&mask to the first entry with h's
// salt (most often the first one) or an empty one: only a salt match
// leads to a row, and only a rare salt collision (another hash with the
// same top bits, 1 in 65536) to a row that does not have hash h. So a
// probe row without a match costs one cache miss, in the buckets, and a
// match one more, in the rows.
const (
	pageBits  = 18
	pageMask  = 1<<pageBits - 1
	maxPage   = 1 << pageBits // the largest row page (and string page)
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

// salt returns the bits of hash h kept in its bucket entry.
func salt(h uint64) uint64 { return h &^ refMask }

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
	owner  uint64        // the query whose memory the pages are (buffer.Manager.AllocateFor)
	keySet bool          // Spec.KeySet
	stat   *atomic.Int64 // the join's TableBytes

	// Filled by the build tasks, under mu.
	mu       sync.Mutex
	pages    [][]byte        // page 0 is nil
	blocks   []*buffer.Block // per page: its buffer, if Buffers is set
	other    []*buffer.Block // the buffer of the buckets
	bytes    int64
	rowPages []rowPage
	rows     int64  // stored rows (RightAnti: with those with NULL keys)
	sunk     int64  // rows the build side gave, NULL keys included
	nullKeys bool   // a build row had a NULL key
	nullable []bool // per field: some stored row has it NULL
	keys     keyRange

	// Set by finalize.
	finalized bool
	bases     []unsafe.Pointer // per page: its first byte
	heads     []uint64
	mask      uint64
	// filter is RightSemi's and RightAnti's one-hash Bloom filter of the
	// key hashes (bit h>>filterShift), about 8 bits per row: their probe
	// side is the big one and mostly misses, and the filter answers most
	// misses from the caches without touching the buckets. nil for the
	// other kinds.
	filter      []uint64
	filterShift uint
	// keyBits is the key set's bitmap (keyset.go), nil if none.
	keyBits []uint64

	// The parallel insert: probe tasks claim row pages.
	claim     atomic.Int64
	left      atomic.Int64
	ready     atomic.Bool
	built     chan struct{}
	builtOnce sync.Once
	// buildErr is set (before built is closed) if an insert failed.
	buildErr error

	// probed is set when the probe sink of a RightSemi or RightAnti join
	// finalized: the marks are complete.
	probed atomic.Bool

	released bool
}

func newTable(j *Join, owner uint64) *table {
	return &table{
		owner: owner, keySet: j.spec.KeySet, l: j.layout, hasher: captureHasher(j.spec.Hash), noKeys: len(j.spec.BuildKeys) == 0, stat: &j.tableBytes,
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
		if blk, buf, err = t.m.AllocateFor(t.owner, buffer.TagHashTable, size); err != nil {
			return 0, nil, fmt.Errorf("hash table page: %w", err)
		}
	} else {
		buf = make([]byte, size)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	no := len(t.pages)
	if no >= maxPages {
		if blk != nil {
			t.m.Unpin(blk)
			t.m.Free(blk) // unused: its only error would be a double free
		}
		return 0, nil, fmt.Errorf("hash table of more than %d pages: %w", maxPages, ErrSpec)
	}
	t.pages = append(t.pages, buf)
	t.blocks = append(t.blocks, blk)
	t.bytes += int64(size)
	return uint32(no), buf, nil
}

// The probe reads row fields with plain loads at the row's page base +
// offset + field offset, without bounds checks: refs come only from the
// buckets and chains, which hold refs of written rows, and field offsets
// lie within a row.

// at returns the address of byte off of row ref.
func (t *table) at(ref uint64, off int) unsafe.Pointer {
	return unsafe.Add(t.bases[ref>>pageBits], uintptr(ref&pageMask)+uintptr(off))
}

// u64 returns the 8 bytes at off of row ref.
func (t *table) u64(ref uint64, off int) uint64 {
	return *(*uint64)(t.at(ref, off))
}

// u32 returns the 4 bytes at off of row ref.
func (t *table) u32(ref uint64, off int) uint32 {
	return *(*uint32)(t.at(ref, off))
}

// u8 returns the byte at off of row ref.
func (t *table) u8(ref uint64, off int) byte {
	return *(*byte)(t.at(ref, off))
}

// str returns the bytes of the string field at off of row ref.
func (t *table) str(ref uint64, off int) []byte {
	p, o, n := t.u32(ref, off), t.u32(ref, off+4), t.u32(ref, off+8)
	return t.pages[p][o : o+n : o+n]
}

// mark records that row ref has a match. Many probe tasks may mark a row
// at once: the store is atomic, and skipped if the row is marked already
// (a shared cache line is then only read).
func (t *table) mark(ref uint64) {
	m := (*uint32)(t.at(ref, markOff))
	if atomic.LoadUint32(m) == unmarked {
		atomic.StoreUint32(m, marked)
	}
}

// markOf returns the mark of row ref.
func (t *table) markOf(ref uint64) uint32 {
	return atomic.LoadUint32((*uint32)(t.at(ref, markOff)))
}

// isNull reports whether field fi of row ref is NULL.
func (t *table) isNull(ref uint64, fi int) bool {
	return t.u8(ref, t.l.nullOff+fi>>3)&(1<<(fi&7)) != 0
}

// finalize allocates the buckets (a power of two, at least twice the
// rows) and inserts the rows if there are few; else the probe tasks do.
func (t *table) finalize() error {
	n := uint64(1)
	if !t.noKeys {
		for n < 2*uint64(t.rows) {
			n <<= 1
		}
	}
	heads, err := t.allocOther(int(n * 8))
	if err != nil {
		return fmt.Errorf("hash table buckets for %d rows: %w", t.rows, err)
	}
	t.heads, t.mask = uint64s(heads), n-1
	if t.l.marks && !t.noKeys {
		nbits := uint64(512)
		for nbits < 8*uint64(t.rows) {
			nbits <<= 1
		}
		f, err := t.allocOther(int(nbits / 8))
		if err != nil {
			return fmt.Errorf("hash table filter for %d rows: %w", t.rows, err)
		}
		t.filter, t.filterShift = uint64s(f), uint(64-bits64(nbits))
	}
	t.bases = make([]unsafe.Pointer, len(t.pages))
	for i, p := range t.pages {
		t.bases[i] = unsafe.Pointer(unsafe.SliceData(p))
	}
	if t.keySet {
		if err := t.setBits(); err != nil {
			return err
		}
	}
	t.finalized = true
	t.stat.Store(t.bytes)
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

// allocOther allocates a zeroed buffer of size bytes for the buckets.
func (t *table) allocOther(size int) ([]byte, error) {
	t.bytes += int64(size)
	if t.m == nil {
		return make([]byte, size), nil
	}
	blk, buf, err := t.m.AllocateFor(t.owner, buffer.TagHashTable, size)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.other = append(t.other, blk)
	t.mu.Unlock()
	return buf, nil
}

// bits64 returns log2 of the power of two n.
func bits64(n uint64) int { return 63 - bits.LeadingZeros64(n) }

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
		return t.buildErr
	}
	for {
		i := t.claim.Add(1) - 1
		if i >= int64(len(t.rowPages)) {
			break
		}
		t.insertShared(t.rowPages[i])
	}
	<-t.built
	return t.buildErr
}

// insertShared inserts one claimed page; the task that inserts the last
// releases the waiting tasks. A panic (a bug)
// releases them too, with an error, rather than leaving them waiting.
func (t *table) insertShared(rp rowPage) {
	done := false
	defer func() {
		if !done {
			t.builtOnce.Do(func() {
				t.buildErr = fmt.Errorf("BUG: a task panicked while inserting hash table rows")
				close(t.built)
			})
		}
	}()
	t.insert(rp, true)
	done = true
	if t.left.Add(-1) == 0 {
		t.builtOnce.Do(func() {
			t.ready.Store(true)
			close(t.built)
		})
	}
}

// insert links the rows of one page each into the chain of its hash,
// creating the chain's entry if it is the first; shared uses
// compare-and-swap, as other tasks insert concurrently.
func (t *table) insert(rp rowPage, shared bool) {
	w := t.l.width
	heads, mask := t.heads, t.mask
	for off := 0; off+w <= rp.used; off += w {
		ref := uint64(rp.no)<<pageBits | uint64(off)
		if t.l.marks && t.u32(ref, markOff) == nullKey {
			continue // a RightAnti row with a NULL key matches nothing
		}
		h := t.u64(ref, hashOff)
		next := (*uint64)(t.at(ref, nextOff))
		if t.filter != nil {
			b := h >> t.filterShift
			if shared {
				atomic.OrUint64(&t.filter[b>>6], 1<<(b&63))
			} else {
				t.filter[b>>6] |= 1 << (b & 63)
			}
		}
		s := salt(h)
		for i := h & mask; ; i = (i + 1) & mask {
			b := &heads[i]
			var e uint64
			if shared {
				e = atomic.LoadUint64(b)
			} else {
				e = *b
			}
			if e != 0 && (salt(e) != s || t.u64(e&refMask, hashOff) != h) {
				continue // another hash's chain
			}
			*next = e & refMask
			if !shared {
				*b = s | ref
				break
			}
			if atomic.CompareAndSwapUint64(b, e, s|ref) {
				break
			}
			i = (i - 1) & mask // the entry changed: look at it again
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
	t.blocks, t.other, t.pages, t.bases, t.heads, t.rowPages, t.filter, t.keyBits = nil, nil, nil, nil, nil, nil, nil, nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("release hash table: %w", err)
	}
	return nil
}
