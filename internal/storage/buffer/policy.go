package buffer

// The policy seams. Each is a small interface with the built-in behaviour as
// its default implementation; internal/hooks implements them to run
// attached eBPF programs, and enforces the invariants stated here after
// every call. The Manager's policies are fixed by Options when it is
// created; an implementation that wants to switch behaviour live keeps its
// own atomic slot.

// LoadPolicy is the Load seam: the miss path of Pin.
//
// When: Pin finds the block not resident (a persistent block never read or
// evicted, a temporary buffer spilled to the temporary file).
//
// Locks: the block's mutex is held, so no other goroutine loads, unloads or
// frees b meanwhile; no manager-wide lock is held. Load may block on I/O. It
// must not pin, unpin or free blocks (it would deadlock with another load);
// it may start readaheads of other blocks (m.ReadAhead), which never wait
// for a block's mutex.
//
// Given: memory for b.Size() bytes is already reserved and accounted under
// b's tag; buf is b.Size() bytes of undefined content that becomes b's
// buffer. b.Kind() and b.Number() say which block it is, without a lock.
//
// Decides: how buf gets filled: with the built-in read (m.ReadBlock, which
// reads the database file or the temporary file and verifies it), or by
// reusing bytes the policy has elsewhere (it then fills buf itself and still
// calls m.ReadBlock if it cannot); and which blocks to read ahead.
//
// Afterwards the host guarantees: if Load returns an error, the reservation
// is released, b stays unloaded and Pin returns the error; if it returns nil
// without having called m.ReadBlock, the host reads the block itself and
// counts a repair (Metrics.PolicyRepairs). Then b is resident with one
// reader.
type LoadPolicy interface {
	Load(m *Manager, b *Block, buf []byte) error
}

// Placement is an UnpinPolicy's decision for a block whose last pin was
// released.
type Placement struct {
	// Queue is the eviction queue the block enters (0 to NumQueues−1);
	// queues are evicted in order, each oldest entry first.
	Queue int
	// Unload asks for the block to be unloaded now, freeing its memory
	// (spilling it if it is temporary), instead of entering a queue.
	Unload bool
}

// UnpinPolicy is the Unpin seam: eviction-queue placement.
//
// When: Unpin released the last pin of b. The host has already decremented
// the reader count (exactly once; the policy cannot change it).
//
// Locks: none. The call runs on the pin/unpin hot path from any goroutine
// and concurrently with others; b may be pinned again meanwhile. It must not
// block and, to keep Unpin cheap, should not allocate.
//
// Decides: which eviction queue b enters (the built-in: b.Queue(), so LRU by
// last unpin within each queue), or to unload b at once (scan resistance,
// early unload).
//
// Given: seq, the eviction sequence number this unpin took (one per unpin,
// growing; the queues evict the lowest first). The queue entry, if any,
// carries it.
//
// Afterwards the host guarantees: the block is evictable. For a queue, it
// appends an entry with seq to that queue (entries left from earlier unpins
// become stale and are skipped); a queue out of range is replaced by
// b.Queue() and counted as a repair. For Unload, it unloads b if b is still
// unpinned and resident, and otherwise enqueues it as for b.Queue().
type UnpinPolicy interface {
	Unpin(m *Manager, b *Block, seq uint64) Placement
}

// MemoryPolicy is the UpdateUsedMemory seam: accounting per tag.
//
// When: after every change of accounted memory: a reservation for a block
// being created or loaded (delta > 0), a release when one is unloaded,
// freed or a reservation is given back (delta < 0).
//
// Locks: possibly the mutex of the block being loaded or unloaded; no
// manager-wide lock. Calls are concurrent. It must not block, pin or evict.
//
// Given: the manager's total (Metrics.Used, against which the limit is
// enforced) already includes delta; the limit does not depend on this
// policy.
//
// Decides: where and when the per-tag memory is counted (the built-in adds
// delta to the tag's counter at once with m.CountTag), and may keep its own
// counts for quotas or pressure signals that AllocateNewBlock then uses.
//
// Invariant: whenever no change is in flight, the per-tag counts sum to
// Metrics.Used; a policy that batches must flush.
type MemoryPolicy interface {
	UpdateUsedMemory(m *Manager, tag Tag, delta int64)
}

// AllocRequest describes a new block or buffer to an AllocatePolicy.
type AllocRequest struct {
	Tag  Tag // what the memory is for
	Size int // bytes
	// Owner is the query the memory is for (Manager.AllocateFor; its
	// producer id), 0 when unknown; Manager.OwnerUsed says how much it
	// holds already.
	Owner uint64
	// Block is true for a block-shaped buffer (AllocateBlock) that may
	// become persistent, false for a plain temporary buffer (Allocate).
	Block bool
}

// Admission is an AllocatePolicy's decision for a new block.
type Admission struct {
	// EvictAhead is how many bytes beyond the request to free now, so that
	// later allocations find room without evicting.
	EvictAhead int64
	// Queue is the eviction queue the block enters when first unpinned
	// (its eviction priority at birth; b.Queue()).
	Queue int
}

// AllocatePolicy is the AllocateNewBlock seam: admission and priority at
// birth.
//
// When: Allocate or AllocateBlock is about to create a block, before any
// memory is reserved for it.
//
// Locks: none; calls are concurrent. It may block briefly, not on I/O.
//
// Decides: admission (an error refuses the allocation, which then fails with
// that error; it should wrap ErrOutOfMemory), how much to evict ahead, and
// the block's eviction queue.
//
// Afterwards the host guarantees: it reserves Size+EvictAhead bytes,
// evicting in queue order as needed (failing with ErrOutOfMemory if it
// cannot), gives the EvictAhead part back, and creates exactly one block,
// pinned once, whose Queue is the admission's (or its default, counted as
// a repair, if out of range).
type AllocatePolicy interface {
	AllocateNewBlock(m *Manager, req AllocRequest) (Admission, error)
}

// DefaultLoad is the built-in LoadPolicy: read the block now.
type DefaultLoad struct{}

// Load reads b with m.ReadBlock.
func (DefaultLoad) Load(m *Manager, b *Block, buf []byte) error { return m.ReadBlock(b, buf) }

// DefaultUnpin is the built-in UnpinPolicy: LRU by last unpin within the
// block's queue, as DuckDB does.
type DefaultUnpin struct{}

// Unpin places b in its own queue.
func (DefaultUnpin) Unpin(m *Manager, b *Block, seq uint64) Placement {
	return Placement{Queue: b.Queue()}
}

// DefaultMemory is the built-in MemoryPolicy: count every change at once.
type DefaultMemory struct{}

// UpdateUsedMemory adds delta to tag's counter.
func (DefaultMemory) UpdateUsedMemory(m *Manager, tag Tag, delta int64) { m.CountTag(tag, delta) }

// DefaultAllocate is the built-in AllocatePolicy: admit everything, evict
// nothing ahead; block-shaped buffers start in QueueTemporary like other
// temporary buffers (MakePersistent moves them to QueuePersistent).
type DefaultAllocate struct{}

// AllocateNewBlock admits req.
func (DefaultAllocate) AllocateNewBlock(m *Manager, req AllocRequest) (Admission, error) {
	return Admission{Queue: QueueTemporary}, nil
}
