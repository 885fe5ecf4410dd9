package buffer

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/bpfdb/bpfdb/internal/storage/file"
)

// Errors of the buffer manager, wrapped in chains that say what was asked.
var (
	// ErrOutOfMemory: a reservation did not fit under the memory limit and
	// nothing more could be evicted (or a policy refused an allocation).
	ErrOutOfMemory = errors.New("out of memory")
	// ErrClosed: the manager was closed.
	ErrClosed = errors.New("buffer manager is closed")
	// ErrFreed: the block was freed.
	ErrFreed = errors.New("block was freed")
)

// Options configure a Manager.
type Options struct {
	// File is the database file whose blocks are persistent blocks; nil for
	// a manager of temporary buffers only.
	File *file.File
	// Limit is the memory limit in bytes; 0 means DefaultLimit().
	Limit int64
	// TempDir is the directory of the temporary file that spilled buffers
	// go to; "" means os.TempDir().
	TempDir string
	// The policies; nil means the built-in one.
	Load     LoadPolicy
	Unpin    UnpinPolicy
	Memory   MemoryPolicy
	Allocate AllocatePolicy
}

// maxSpare is how many evicted block-sized buffers are kept for reuse.
// They are not accounted: at most maxSpare blocks above the limit.
const maxSpare = 4

// maxOOMRetries bounds how often a reservation that found nothing to evict
// waits for concurrent evictions before it fails.
const maxOOMRetries = 1000

// A Manager keeps blocks of the database file and temporary buffers in
// memory under a memory limit. All its methods are safe for concurrent
// use.
//
// Memory is reserved before a block is loaded or created, against the
// limit: if the reservation does not fit, unpinned blocks are evicted,
// oldest unpin first, queue by queue (QueuePersistent, then
// QueueTemporary, ...), until it fits; if nothing is left to evict, the
// reservation fails with ErrOutOfMemory. Accounted memory therefore never
// exceeds the limit, except right after the limit is lowered.
type Manager struct {
	file      *file.File
	blockSize int

	limit atomic.Int64
	used  atomic.Int64
	tags  [NumTags]atomic.Int64

	seq   atomic.Uint64 // eviction sequence numbers
	names atomic.Uint64 // names of temporary buffers

	queues [NumQueues]queue
	temp   tempFile

	closed   atomic.Bool
	evicting atomic.Int64 // evictOne calls in progress
	released atomic.Int64 // bumped by every release of memory

	load   LoadPolicy
	unpin  UnpinPolicy
	memory MemoryPolicy
	alloc  AllocatePolicy

	regMu      sync.Mutex
	persistent map[file.BlockID]*Block

	ownMu sync.Mutex
	owned map[uint64]int64 // bytes allocated per owner and not freed

	spareMu sync.Mutex
	spare   [][]byte

	spillMu  sync.Mutex
	spillErr error // the last failed spill, for out-of-memory errors

	// aheadMu is read-locked by each readahead from its start to the end
	// of its background read; write-locking it waits for them
	// (waitReadAheads). inflight counts the background reads.
	aheadMu  sync.RWMutex
	inflight atomic.Int64

	stats struct {
		resident, loads, reloads, evictions, unloads, spills, stale, oom, repairs atomic.Int64
		aheads, aheadUsed, aheadWasted, misses                                    atomic.Int64
	}

	// hits counts the pins that found their block in memory: the fast
	// path's only write besides the block's state word (stripedCounter).
	hits stripedCounter
}

// New returns a Manager.
func New(opts Options) (*Manager, error) {
	m := &Manager{
		file: opts.File, blockSize: file.DefaultBlockSize, persistent: map[file.BlockID]*Block{}, owned: map[uint64]int64{},
		load: DefaultLoad{}, unpin: DefaultUnpin{}, memory: DefaultMemory{}, alloc: DefaultAllocate{},
	}
	if opts.File != nil {
		m.blockSize = opts.File.BlockSize()
	}
	limit := opts.Limit
	if limit == 0 {
		limit = DefaultLimit()
	}
	if limit < 0 {
		return nil, fmt.Errorf("new buffer manager: negative memory limit %d", limit)
	}
	m.limit.Store(limit)
	m.temp.dir = opts.TempDir
	if m.temp.dir == "" {
		m.temp.dir = os.TempDir()
	}
	m.temp.slotSize = int64(m.blockSize)
	if opts.Load != nil {
		m.load = opts.Load
	}
	if opts.Unpin != nil {
		m.unpin = opts.Unpin
	}
	if opts.Memory != nil {
		m.memory = opts.Memory
	}
	if opts.Allocate != nil {
		m.alloc = opts.Allocate
	}
	return m, nil
}

// BlockSize returns the size of block-shaped buffers (AllocateBlock,
// persistent blocks): the database file's block size.
func (m *Manager) BlockSize() int { return m.blockSize }

// PayloadSize returns the bytes of a block-shaped buffer its user may fill:
// BlockSize less file.BlockHeaderSize.
func (m *Manager) PayloadSize() int { return m.blockSize - file.BlockHeaderSize }

// Limit returns the memory limit in bytes.
func (m *Manager) Limit() int64 { return m.limit.Load() }

// Used returns the accounted memory in bytes.
func (m *Manager) Used() int64 { return m.used.Load() }

// SetLimit changes the memory limit, evicting until the accounted memory
// fits under it. If it cannot, the old limit stays and the error wraps
// ErrOutOfMemory.
func (m *Manager) SetLimit(limit int64) error {
	if limit <= 0 {
		return fmt.Errorf("set memory limit to %d bytes: the limit must be positive", limit)
	}
	old := m.limit.Swap(limit)
	for m.used.Load() > limit {
		if !m.evictOne() && !m.waitReadAheads() {
			used := m.used.Load()
			if used <= limit {
				break
			}
			m.limit.Store(old)
			m.stats.oom.Add(1)
			return fmt.Errorf("set memory limit to %s: %s in use cannot be evicted below it (the limit stays %s): %w",
				fmtBytes(limit), fmtBytes(used), fmtBytes(old), ErrOutOfMemory)
		}
	}
	return nil
}

// Allocate creates a temporary buffer of size bytes for tag, pinned once,
// and returns it with its bytes (zeroed). Evicting it spills it to the
// temporary file.
func (m *Manager) Allocate(tag Tag, size int) (*Block, []byte, error) {
	return m.allocate(AllocRequest{Tag: tag, Size: size})
}

// AllocateFor is Allocate on behalf of owner (a query: its producer id;
// 0 is nobody): the AllocateNewBlock policy sees the owner and its
// OwnerUsed, and the buffer counts toward it until Free.
func (m *Manager) AllocateFor(owner uint64, tag Tag, size int) (*Block, []byte, error) {
	return m.allocate(AllocRequest{Tag: tag, Size: size, Owner: owner})
}

// OwnerUsed returns the bytes of the buffers allocated for owner and not
// freed yet, resident or spilled. It is 0 for owner 0.
func (m *Manager) OwnerUsed(owner uint64) int64 {
	if owner == 0 {
		return 0
	}
	m.ownMu.Lock()
	defer m.ownMu.Unlock()
	return m.owned[owner]
}

// own adds delta bytes to owner's count; a count back at 0 is dropped.
func (m *Manager) own(owner uint64, delta int64) {
	if owner == 0 || delta == 0 {
		return
	}
	m.ownMu.Lock()
	defer m.ownMu.Unlock()
	if n := m.owned[owner] + delta; n != 0 {
		m.owned[owner] = n
	} else {
		delete(m.owned, owner)
	}
}

// AllocateBlock creates a block-shaped temporary buffer (BlockSize bytes)
// for tag, pinned once, and returns it with its payload (PayloadSize bytes,
// zeroed). Once filled it may become a block of the database file with
// MakePersistent.
func (m *Manager) AllocateBlock(tag Tag) (*Block, []byte, error) {
	return m.allocate(AllocRequest{Tag: tag, Size: m.blockSize, Block: true})
}

func (m *Manager) allocate(req AllocRequest) (*Block, []byte, error) {
	fail := func(err error) (*Block, []byte, error) {
		return nil, nil, fmt.Errorf("allocate %s for %s: %w", fmtBytes(int64(req.Size)), req.Tag, err)
	}
	if m.closed.Load() {
		return fail(ErrClosed)
	}
	if req.Size <= 0 || req.Tag >= NumTags {
		return fail(fmt.Errorf("invalid request (size %d, tag %d)", req.Size, req.Tag))
	}
	adm, err := m.alloc.AllocateNewBlock(m, req)
	if err != nil {
		if errors.Is(err, ErrOutOfMemory) {
			m.stats.oom.Add(1)
		}
		return fail(err)
	}
	if adm.Queue < 0 || adm.Queue >= NumQueues {
		m.stats.repairs.Add(1)
		adm.Queue = QueueTemporary
	}
	ahead := max(adm.EvictAhead, 0)
	if err := m.reserve(req.Tag, int64(req.Size)+ahead); err != nil {
		return fail(err)
	}
	if ahead > 0 {
		m.release(req.Tag, ahead)
	}
	n := m.names.Add(1)
	b := &Block{m: m, size: req.Size, tag: req.Tag, shard: uint8(n % queueShards), slot: -1, owner: req.Owner}
	m.own(req.Owner, int64(req.Size))
	b.ident.Store(n)
	if req.Block {
		b.off = file.BlockHeaderSize
	}
	b.queue.Store(uint32(adm.Queue))
	b.buf = m.getBuffer(req.Size, true)
	b.word.Store(word(Resident, 1))
	m.stats.resident.Add(1)
	return b, b.buf[b.off:], nil
}

// MakePersistent writes b, a block-shaped buffer from AllocateBlock that
// the caller has pinned and filled, to a newly allocated block of the
// database file, and turns b into that persistent block (evicting it now
// just drops it). It returns the block's number; the block is durable once
// the file is checkpointed. The caller must not modify the payload
// afterwards.
func (m *Manager) MakePersistent(b *Block) (file.BlockID, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	fail := func(err error) (file.BlockID, error) {
		return file.NoBlock, fmt.Errorf("make %s persistent: %w", b, err)
	}
	switch w := b.word.Load(); {
	case m.file == nil:
		return fail(errors.New("the buffer manager has no database file"))
	case b.Kind() == Persistent:
		return fail(errors.New("already persistent"))
	case State(w>>32) != Resident || uint32(w) == 0:
		return fail(errors.New("not pinned"))
	case b.off != file.BlockHeaderSize || b.size != m.blockSize:
		return fail(errors.New("not block-shaped (allocate it with AllocateBlock)"))
	}
	id, err := m.file.AllocateBlock()
	if err != nil {
		return fail(err)
	}
	if err := m.file.WriteBlock(id, b.buf); err != nil {
		return fail(errors.Join(err, m.file.FreeBlock(id)))
	}
	b.ident.Store(persistentBit | uint64(id))
	b.queue.Store(QueuePersistent)
	m.regMu.Lock()
	m.persistent[id] = b
	m.regMu.Unlock()
	return id, nil
}

// Persistent returns the handle of block id of the database file, creating
// an unloaded one the first time; every caller gets the same handle, so
// the block is in memory at most once. The tag is the one given first.
// Pinning it reads the block if it is not resident. The handle stays
// registered (about a hundred bytes per block of the file) until Free.
func (m *Manager) Persistent(id file.BlockID, tag Tag) *Block {
	if tag >= NumTags {
		panic(fmt.Sprintf("BUG: persistent block %d with invalid tag %d", id, tag))
	}
	m.regMu.Lock()
	defer m.regMu.Unlock()
	if b, ok := m.persistent[id]; ok {
		return b
	}
	b := &Block{m: m, off: file.BlockHeaderSize, size: m.blockSize, tag: tag, slot: -1, shard: uint8(id % queueShards)}
	b.ident.Store(persistentBit | uint64(id))
	b.queue.Store(QueuePersistent)
	m.persistent[id] = b
	return b
}

// Pin makes b resident, loading it if needed, adds a reader and returns its
// payload. The bytes are valid until the matching Unpin; a persistent
// block's bytes must not be modified. Pinning a resident block takes no
// lock: a compare-and-swap of its state word and an add to a striped
// counter (Metrics.Hits); a pin that loads counts in Metrics.Misses.
func (m *Manager) Pin(b *Block) ([]byte, error) {
	for {
		w := b.word.Load()
		if State(w>>32) != Resident || uint32(w) == math.MaxUint32 {
			break
		}
		if b.word.CompareAndSwap(w, w+1) {
			m.hits.add(b.shard)
			return b.buf[b.off:], nil
		}
	}
	return m.pinSlow(b)
}

func (m *Manager) pinSlow(b *Block) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		w := b.word.Load()
		switch State(w >> 32) {
		case Resident:
			if uint32(w) == math.MaxUint32 {
				panic("BUG: reader count of " + b.String() + " overflows")
			}
			if b.word.CompareAndSwap(w, w+1) {
				m.hits.add(b.shard)
				return b.buf[b.off:], nil
			}
		case Prefetched:
			// Read ahead: nothing but a pin moves it out of Prefetched
			// without b.mu, and it has no readers to unpin.
			if b.word.CompareAndSwap(w, word(Resident, 1)) {
				m.stats.aheadUsed.Add(1)
				m.hits.add(b.shard)
				return b.buf[b.off:], nil
			}
		case Unloaded:
			if err := m.loadLocked(b); err != nil {
				return nil, fmt.Errorf("pin %s: %w", b, err)
			}
			m.stats.misses.Add(1)
			return b.buf[b.off:], nil
		case Freed:
			return nil, fmt.Errorf("pin %s: %w", b, ErrFreed)
		default:
			panic("BUG: " + b.String() + " is unloading while its mutex is free")
		}
	}
}

// loadLocked reserves memory for b, has the Load policy fill a buffer and
// makes b resident with one reader. b.mu is held.
func (m *Manager) loadLocked(b *Block) error {
	if m.closed.Load() {
		return ErrClosed
	}
	if err := m.reserve(b.tag, int64(b.size)); err != nil {
		return fmt.Errorf("load %s for %s: %w", fmtBytes(int64(b.size)), b.tag, err)
	}
	buf := m.getBuffer(b.size, false)
	b.filled = false
	err := m.load.Load(m, b, buf)
	if err == nil && !b.filled {
		m.stats.repairs.Add(1)
		err = m.ReadBlock(b, buf)
	}
	if err != nil {
		m.release(b.tag, int64(b.size))
		m.putBuffer(buf)
		return err
	}
	b.buf = buf
	b.loads.Add(1)
	b.word.Store(word(Resident, 1))
	m.stats.resident.Add(1)
	return nil
}

// ReadBlock is the built-in read of the Load seam, for LoadPolicy
// implementations: it fills buf (b.Size() bytes) with b's bytes from the
// database file (verifying the block's checksum) or, for a spilled
// temporary buffer, from the temporary file (whose slots it then frees).
// It may be called only from Load, with b's mutex held by the host.
func (m *Manager) ReadBlock(b *Block, buf []byte) error {
	if len(buf) != b.size {
		return fmt.Errorf("read %s: buffer of %d bytes, want %d", b, len(buf), b.size)
	}
	switch {
	case b.Kind() == Persistent:
		if m.file == nil {
			return fmt.Errorf("read %s: the buffer manager has no database file", b)
		}
		if err := m.file.ReadBlock(file.BlockID(b.Number()), buf); err != nil {
			return err
		}
		m.stats.loads.Add(1)
	case b.slot >= 0:
		if err := m.temp.read(b.slot, buf); err != nil {
			return fmt.Errorf("read back %s: %w", b, err)
		}
		m.temp.free(b.slot, b.size)
		b.slot = -1
		m.stats.reloads.Add(1)
	default:
		return fmt.Errorf("read %s: a temporary buffer with nothing spilled to read back", b)
	}
	b.filled = true
	return nil
}

// Unpin releases one pin of b. When the last pin goes, the Unpin policy
// places b in an eviction queue (or unloads it). Unpinning a block that is
// not pinned is a bug and panics.
func (m *Manager) Unpin(b *Block) {
	for {
		w := b.word.Load()
		if uint32(w) == 0 || State(w>>32) != Resident {
			panic(fmt.Sprintf("BUG: unpin of a block that is not pinned (state %s)", State(w>>32)))
		}
		if b.word.CompareAndSwap(w, w-1) {
			if uint32(w) == 1 {
				m.placeUnpinned(b)
			}
			return
		}
	}
}

// placeUnpinned asks the Unpin policy where b goes and carries it out.
// The unpin takes its sequence number first, so that the policy sees the
// number its queue entry will carry.
func (m *Manager) placeUnpinned(b *Block) {
	s := m.seq.Add(1)
	p := m.unpin.Unpin(m, b, s)
	if p.Unload {
		if m.unload(b) {
			m.stats.unloads.Add(1)
			return
		}
		p.Queue = b.Queue() // pinned again or busy: make it evictable as usual
	}
	if p.Queue < 0 || p.Queue >= NumQueues {
		m.stats.repairs.Add(1)
		p.Queue = b.Queue()
	}
	m.enqueueAt(b, p.Queue, s)
}

// enqueue gives b the next sequence number and appends an entry to queue q.
func (m *Manager) enqueue(b *Block, q int) { m.enqueueAt(b, q, m.seq.Add(1)) }

// enqueueAt appends an entry with sequence number s for b to queue q,
// unless a later unpin placed b already.
func (m *Manager) enqueueAt(b *Block, q int, s uint64) {
	for {
		old := b.seq.Load()
		if old >= s {
			return // a later unpin already placed it
		}
		if b.seq.CompareAndSwap(old, s) {
			break
		}
	}
	if n := m.queues[q].shards[b.shard].push(entry{b, s}); n > 0 {
		m.stats.stale.Add(int64(n))
	}
}

// reserve accounts n bytes to tag, evicting until they fit under the limit.
func (m *Manager) reserve(tag Tag, n int64) error {
	if limit := m.limit.Load(); n > limit {
		m.stats.oom.Add(1)
		return fmt.Errorf("%s exceeds the %s memory limit: %w", fmtBytes(n), fmtBytes(limit), ErrOutOfMemory)
	}
	for retries := 0; ; {
		used, limit := m.used.Load(), m.limit.Load()
		if used+n <= limit {
			if m.used.CompareAndSwap(used, used+n) {
				m.memory.UpdateUsedMemory(m, tag, n)
				return nil
			}
			continue
		}
		released := m.released.Load()
		if m.evictOne() || m.waitReadAheads() {
			retries = 0
			continue
		}
		// Nothing to evict now; but another goroutine may be evicting, or
		// have freed memory since we looked.
		if (m.evicting.Load() > 0 || m.released.Load() != released) && retries < maxOOMRetries {
			retries++
			runtime.Gosched()
			continue
		}
		m.stats.oom.Add(1)
		err := fmt.Errorf("%s of the %s memory limit in use, nothing left to evict", fmtBytes(used), fmtBytes(limit))
		m.spillMu.Lock()
		if m.spillErr != nil {
			err = fmt.Errorf("%w (the last spill failed: %v)", err, m.spillErr)
		}
		m.spillMu.Unlock()
		return fmt.Errorf("%w: %w", err, ErrOutOfMemory)
	}
}

// release gives back n bytes accounted to tag.
func (m *Manager) release(tag Tag, n int64) {
	m.used.Add(-n)
	m.released.Add(1)
	m.memory.UpdateUsedMemory(m, tag, -n)
}

// CountTag adds delta bytes to tag's count in Metrics.Tags. It is the
// built-in step of the UpdateUsedMemory seam, for MemoryPolicy
// implementations.
func (m *Manager) CountTag(tag Tag, delta int64) { m.tags[tag].Add(delta) }

// TagUsed returns the bytes counted under tag (as Metrics.Tags has them:
// what the UpdateUsedMemory policy counted so far, possibly negative
// briefly while a policy batches). It is one atomic load, for policies on
// a hot path; tag must be below NumTags.
func (m *Manager) TagUsed(tag Tag) int64 { return m.tags[tag].Load() }

// Evict unloads up to n unpinned blocks, in the order a reservation would,
// and returns how many it unloaded.
func (m *Manager) Evict(n int) int {
	done := 0
	for done < n && m.evictOne() {
		done++
	}
	return done
}

// evictOne unloads the oldest evictable block of the first queue that has
// one. It returns false if no queue has one.
func (m *Manager) evictOne() bool { return m.evictFrom(NumQueues) }

// evictFrom unloads the oldest evictable block of the first of the queues
// 0 to n−1 that has one. It returns false if none has one.
//
// A block whose mutex is busy (being loaded, freed, or inspected by Info)
// cannot be judged now; its entry goes back into its queue afterwards, so
// that a resident unpinned block never loses its only entry.
func (m *Manager) evictFrom(n int) bool {
	m.evicting.Add(1)
	defer m.evicting.Add(-1)
	type busyEntry struct {
		q int
		e entry
	}
	var busy []busyEntry
	defer func() {
		for _, x := range busy {
			m.queues[x.q].shards[x.e.b.shard].push(x.e)
		}
	}()
	for q := range n {
		for {
			e, stale, ok := m.queues[q].popOldest()
			if stale > 0 {
				m.stats.stale.Add(int64(stale))
			}
			if !ok {
				break
			}
			switch m.tryUnload(e.b) {
			case unloaded:
				m.stats.evictions.Add(1)
				return true
			case busyBlock:
				busy = append(busy, busyEntry{q, e})
			}
		}
	}
	return false
}

// unloadResult says what tryUnload did.
type unloadResult uint8

const (
	unloaded     unloadResult = iota // the block was unloaded
	notEvictable                     // pinned, not resident, or its spill failed
	busyBlock                        // its mutex is held: try again later
)

// unload evicts b if it can now; see tryUnload.
func (m *Manager) unload(b *Block) bool { return m.tryUnload(b) == unloaded }

// tryUnload evicts b if it is resident or prefetched, unpinned and its
// mutex is free: a temporary buffer is spilled first.
func (m *Manager) tryUnload(b *Block) unloadResult {
	if !b.mu.TryLock() {
		return busyBlock
	}
	defer b.mu.Unlock()
	w := b.word.Load()
	if w != word(Resident, 0) && w != word(Prefetched, 0) || !b.word.CompareAndSwap(w, word(Unloading, 0)) {
		return notEvictable
	}
	if b.Kind() == Temporary {
		slot, err := m.temp.write(b.buf)
		if err != nil {
			b.word.Store(w)
			m.spillMu.Lock()
			m.spillErr = fmt.Errorf("spill %s: %w", b, err)
			m.spillMu.Unlock()
			m.enqueue(b, b.Queue()) // it lost its entry; keep it evictable
			return notEvictable
		}
		b.slot = slot
		m.stats.spills.Add(1)
	}
	if State(w>>32) == Prefetched {
		m.stats.aheadWasted.Add(1)
	}
	buf := b.buf
	b.buf = nil
	b.word.Store(word(Unloaded, 0))
	m.stats.resident.Add(-1)
	m.release(b.tag, int64(b.size))
	m.putBuffer(buf)
	return unloaded
}

// Free gives up b, which must not be pinned: its memory and temporary file
// space are released and, for a persistent block, the block is freed in the
// database file (effective at the next checkpoint). b may not be used
// afterwards.
func (m *Manager) Free(b *Block) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	name := b.String()
	var w uint64
	for {
		w = b.word.Load()
		if n := uint32(w); n != 0 {
			return fmt.Errorf("free %s: still pinned (%d readers)", name, n)
		}
		if State(w>>32) == Freed {
			return fmt.Errorf("free %s: %w", name, ErrFreed)
		}
		if b.word.CompareAndSwap(w, word(Freed, 0)) {
			break
		}
	}
	b.seq.Store(math.MaxUint64) // its queue entries are stale now
	m.own(b.owner, -int64(b.size))
	if st := State(w >> 32); st == Resident || st == Prefetched {
		if st == Prefetched {
			m.stats.aheadWasted.Add(1)
		}
		m.stats.resident.Add(-1)
		m.release(b.tag, int64(b.size))
		m.putBuffer(b.buf)
		b.buf = nil
	}
	if b.slot >= 0 {
		m.temp.free(b.slot, b.size)
		b.slot = -1
	}
	if b.Kind() == Persistent {
		id := file.BlockID(b.Number())
		m.regMu.Lock()
		delete(m.persistent, id)
		m.regMu.Unlock()
		if err := m.file.FreeBlock(id); err != nil {
			return fmt.Errorf("free %s: %w", name, err)
		}
	}
	return nil
}

// Close waits for the readaheads in progress and removes the temporary
// file. Blocks may not be loaded, read ahead or allocated afterwards; the
// database file stays open (it belongs to the caller).
func (m *Manager) Close() error {
	if m.closed.Swap(true) {
		return nil
	}
	m.waitReadAheads()
	if err := m.temp.close(); err != nil {
		return fmt.Errorf("close buffer manager: %w", err)
	}
	return nil
}

// getBuffer returns a buffer of size bytes, reusing an evicted block-sized
// one if it can; zero clears a reused buffer.
func (m *Manager) getBuffer(size int, zero bool) []byte {
	if size == m.blockSize {
		m.spareMu.Lock()
		if n := len(m.spare); n > 0 {
			buf := m.spare[n-1]
			m.spare[n-1] = nil
			m.spare = m.spare[:n-1]
			m.spareMu.Unlock()
			if zero {
				clear(buf)
			}
			return buf
		}
		m.spareMu.Unlock()
	}
	return make([]byte, size)
}

// putBuffer keeps an unloaded block-sized buffer for reuse.
func (m *Manager) putBuffer(buf []byte) {
	if len(buf) != m.blockSize {
		return
	}
	m.spareMu.Lock()
	if len(m.spare) < maxSpare {
		m.spare = append(m.spare, buf)
	}
	m.spareMu.Unlock()
}

// fmtBytes formats n bytes for messages: "256 KiB", "1.5 MiB", "100 bytes".
func fmtBytes(n int64) string {
	const unit = 1024
	if n < unit && n > -unit {
		return fmt.Sprintf("%d bytes", n)
	}
	f, suffix := float64(n), ""
	for _, s := range []string{"KiB", "MiB", "GiB", "TiB", "PiB"} {
		f /= unit
		suffix = s
		if f < unit && f > -unit {
			break
		}
	}
	if f == math.Trunc(f) {
		return fmt.Sprintf("%.0f %s", f, suffix)
	}
	return fmt.Sprintf("%.1f %s", f, suffix)
}
