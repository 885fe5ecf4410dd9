package buffer

import (
	"errors"
	"fmt"

	"github.com/bpfdb/bpfdb/internal/storage/file"
)

// Errors of ReadAhead, besides ErrOutOfMemory, ErrFreed and ErrClosed.
var (
	// ErrNoSuchBlock: the number names no block of the database file that
	// the manager has a handle for (Persistent or MakePersistent made
	// one), or the manager has no database file.
	ErrNoSuchBlock = errors.New("no such block of the database")
	// ErrInMemory: the block is in memory already (resident or read
	// ahead).
	ErrInMemory = errors.New("already in memory")
	// ErrBusy: the block's mutex is held: it is being loaded, read ahead,
	// unloaded or freed right now.
	ErrBusy = errors.New("block is being loaded or unloaded")
)

// ReadAhead starts reading block number n of the database file (a
// file.BlockID, as Block.Number returns it) in the background, so that a
// later Pin finds it in memory instead of reading it itself (readahead). It returns at once: nil once the read is started,
// or an error saying why nothing was started. It never blocks on another
// block's mutex, so a LoadPolicy may call it for other blocks while the
// host holds the mutex of the block being loaded.
//
// Resolving the number: only blocks the manager has a handle for can be
// read ahead (the table layer makes one for every data block when it
// opens the database, and MakePersistent for every block written since);
// any other number fails with ErrNoSuchBlock, and no handle is created,
// so a bad number costs nothing and aliases nothing.
//
// Memory: the block's memory is reserved under the limit before the read
// starts, as for a pin, but a readahead evicts only unpinned blocks of the
// first eviction queue (QueuePersistent: dropping one costs a later read,
// never a spill) and does not wait for evictions in progress; if that
// does not make room it fails with ErrOutOfMemory (not counted in
// Metrics.OutOfMemory: nothing failed but a guess). Pinned blocks are
// never evicted, and accounted memory never exceeds the limit.
//
// The background read is the built-in one (the file's verified read); the
// Load policy is not asked. While it runs, the readahead holds the block's
// mutex: a Pin of the block waits for it. Once read, the block is Prefetched: unpinned,
// evictable (it enters the block's eviction queue as if just unpinned);
// the first Pin counts it in Metrics.ReadAheadsUsed, an eviction or Free
// before any pin in Metrics.ReadAheadsWasted. A failed read releases the
// memory, leaves the block unloaded and counts as wasted; the next Pin
// reads it itself and reports the error.
//
// The other errors: ErrInMemory, ErrBusy (its mutex is held: being
// loaded, read ahead or unloaded), ErrFreed, ErrClosed.
func (m *Manager) ReadAhead(n uint64) error {
	fail := func(err error) error { return fmt.Errorf("read ahead block %d: %w", n, err) }
	if m.file == nil {
		return fail(fmt.Errorf("the buffer manager has no database file: %w", ErrNoSuchBlock))
	}
	m.regMu.Lock()
	b := m.persistent[file.BlockID(n)]
	m.regMu.Unlock()
	if b == nil {
		return fail(ErrNoSuchBlock)
	}
	if !b.mu.TryLock() {
		return fail(ErrBusy)
	}
	// b.mu is held from here to the end of the read (readAhead unlocks
	// it), and aheadMu for reading, so that Close waits for the read.
	m.aheadMu.RLock()
	err := m.startReadAhead(b)
	if err != nil {
		m.aheadMu.RUnlock()
		b.mu.Unlock()
		return fail(err)
	}
	return nil
}

// startReadAhead reserves memory for b and starts its read. b.mu and
// m.aheadMu (for reading) are held; on success the read releases them.
func (m *Manager) startReadAhead(b *Block) error {
	if m.closed.Load() {
		return ErrClosed
	}
	switch State(b.word.Load() >> 32) {
	case Unloaded:
	case Freed:
		return ErrFreed
	default: // Resident or Prefetched; Unloading is never seen under b.mu
		return ErrInMemory
	}
	if err := m.reserveAhead(b.tag, int64(b.size)); err != nil {
		return err
	}
	buf := m.getBuffer(b.size, false)
	m.stats.aheads.Add(1)
	m.inflight.Add(1)
	go m.readAhead(b, buf)
	return nil
}

// readAhead reads b into buf in the background and makes it Prefetched.
// It releases b.mu and m.aheadMu, which ReadAhead took.
func (m *Manager) readAhead(b *Block, buf []byte) {
	defer m.aheadMu.RUnlock()
	defer m.inflight.Add(-1)
	defer b.mu.Unlock()
	if err := m.file.ReadBlock(file.BlockID(b.Number()), buf); err != nil {
		m.stats.aheadWasted.Add(1)
		m.release(b.tag, int64(b.size))
		m.putBuffer(buf)
		return
	}
	b.buf = buf
	b.loads.Add(1)
	b.word.Store(word(Prefetched, 0))
	m.stats.resident.Add(1)
	m.enqueue(b, b.Queue())
}

// waitReadAheads waits for the background reads in progress, if any, and
// reports whether there were any. A reservation that finds nothing to
// evict calls it: the memory of a read in progress becomes evictable when
// the read ends. It must not be called with aheadMu held; holding block
// mutexes is fine, since a background read never waits for another
// block's mutex.
func (m *Manager) waitReadAheads() bool {
	if m.inflight.Load() == 0 {
		return false
	}
	m.aheadMu.Lock()
	//lint:ignore SA2001 taking the write lock is the wait: the reads hold it for reading
	m.aheadMu.Unlock()
	return true
}

// reserveAhead accounts n bytes to tag for a readahead: like reserve, but
// it evicts only from QueuePersistent and fails at once, uncounted, when
// that does not make room.
func (m *Manager) reserveAhead(tag Tag, n int64) error {
	for {
		used, limit := m.used.Load(), m.limit.Load()
		if used+n <= limit {
			if m.used.CompareAndSwap(used, used+n) {
				m.memory.UpdateUsedMemory(m, tag, n)
				return nil
			}
			continue
		}
		if !m.evictFrom(QueuePersistent + 1) {
			return fmt.Errorf("%s of the %s memory limit in use and no unpinned block of the database file to evict: %w",
				fmtBytes(used), fmtBytes(limit), ErrOutOfMemory)
		}
	}
}
