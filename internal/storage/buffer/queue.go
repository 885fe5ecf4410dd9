package buffer

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// The eviction queues.
const (
	// QueuePersistent holds unpinned blocks of the database file; it is
	// evicted first, because reloading such a block costs one read.
	QueuePersistent = 0
	// QueueTemporary holds unpinned temporary buffers, evicted next: each
	// costs a write to the temporary file and a read back.
	QueueTemporary = 1
	// QueueLow and QueueLast are for policies: evicted after the built-in
	// queues (keep hash tables hot, say).
	QueueLow  = 2
	QueueLast = 3
	// NumQueues is the number of eviction queues.
	NumQueues = 4
)

// queueShards is the number of shards of each queue. Unpins of different
// blocks mostly take different shard locks; eviction looks at every
// shard's oldest entry.
const queueShards = 16

// An entry records that a block was unpinned with sequence number seq. It
// is stale once the block has a newer number (it was pinned and unpinned
// again, or entered another queue).
type entry struct {
	b   *Block
	seq uint64
}

// A queue is one eviction queue: FIFO by unpin order within each shard,
// and oldest sequence number first across shards.
type queue struct {
	shards [queueShards]shard
}

type shard struct {
	mu      sync.Mutex
	entries []entry // entries[head:] are queued, oldest first
	head    int
	purgeAt int            // compact when this many entries are queued
	n       atomic.Int64   // len(entries) − head, stored under mu, read without it
	_       [128 - 56]byte // pads a shard to 128 bytes: no false sharing between shards
}

// counted publishes the number of queued entries. s.mu is held.
func (s *shard) counted() { s.n.Store(int64(len(s.entries) - s.head)) }

const minPurge = 256

// push appends e. Every so often it drops stale entries, so that a block
// pinned and unpinned a million times without eviction does not leave a
// million entries. It returns the number dropped.
func (s *shard) push(e entry) (purged int) {
	s.mu.Lock()
	s.entries = append(s.entries, e)
	if len(s.entries)-s.head >= max(s.purgeAt, minPurge) {
		purged = s.compact()
	}
	s.counted()
	s.mu.Unlock()
	return purged
}

// compact removes stale entries and moves the queue to the front of its
// slice. s.mu is held.
func (s *shard) compact() int {
	queued := s.entries[s.head:]
	live := s.entries[:0] // writes never overtake the reads below
	for _, e := range queued {
		if e.b.seq.Load() == e.seq {
			live = append(live, e)
		}
	}
	dropped := len(queued) - len(live)
	clear(s.entries[len(live):])
	s.entries, s.head = live, 0
	s.purgeAt = 2 * len(live)
	s.counted()
	return dropped
}

// peek returns the oldest live entry's sequence number, dropping stale
// entries at the head. s.mu is held.
func (s *shard) peek() (seq uint64, stale int, ok bool) {
	for s.head < len(s.entries) {
		e := s.entries[s.head]
		if e.b.seq.Load() == e.seq {
			if stale > 0 {
				s.counted()
			}
			return e.seq, stale, true
		}
		s.entries[s.head] = entry{}
		s.head++
		stale++
	}
	s.entries, s.head = s.entries[:0], 0
	s.counted()
	return 0, stale, false
}

// pop removes and returns the head entry. s.mu is held and peek found one.
func (s *shard) pop() entry {
	e := s.entries[s.head]
	s.entries[s.head] = entry{}
	s.head++
	if s.head == len(s.entries) {
		s.entries, s.head = s.entries[:0], 0
	} else if s.head > 1024 && s.head > len(s.entries)/2 {
		n := copy(s.entries, s.entries[s.head:])
		clear(s.entries[n:])
		s.entries, s.head = s.entries[:n], 0
	}
	s.counted()
	return e
}

// popOldest removes the live entry with the lowest sequence number across
// shards. It returns false if the queue has none; stale counts the stale
// entries dropped on the way.
func (q *queue) popOldest() (e entry, stale int, ok bool) {
	for {
		best, bestSeq := -1, uint64(0)
		for i := range q.shards {
			s := &q.shards[i]
			s.mu.Lock()
			seq, st, found := s.peek()
			s.mu.Unlock()
			stale += st
			if found && (best < 0 || seq < bestSeq) {
				best, bestSeq = i, seq
			}
		}
		if best < 0 {
			return entry{}, stale, false
		}
		s := &q.shards[best]
		s.mu.Lock()
		seq, st, found := s.peek()
		stale += st
		if found && seq == bestSeq {
			e = s.pop()
			s.mu.Unlock()
			return e, stale, true
		}
		s.mu.Unlock() // it changed under us: look again
	}
}

// entries returns the queued entries (stale ones included) in order of
// sequence number, for printing.
func (q *queue) snapshot() []entry {
	var out []entry
	for i := range q.shards {
		s := &q.shards[i]
		s.mu.Lock()
		out = append(out, s.entries[s.head:]...)
		s.mu.Unlock()
	}
	return out
}

// len returns the number of queued entries, stale ones included, without
// taking the shards' locks.
func (q *queue) len() int {
	var n int64
	for i := range q.shards {
		n += q.shards[i].n.Load()
	}
	return int(n)
}

// purge drops the queue's stale entries and returns how many it dropped.
func (q *queue) purge() int {
	dropped := 0
	for i := range q.shards {
		s := &q.shards[i]
		s.mu.Lock()
		dropped += s.compact()
		s.mu.Unlock()
	}
	return dropped
}

// QueueLen returns the number of entries in eviction queue q (0 to
// NumQueues−1), stale ones included, as Metrics.QueueEntries counts them.
// It takes no lock (it adds one counter per shard), so a policy may call
// it on a hot path; under concurrent unpins and evictions it is a recent
// value, not a snapshot.
func (m *Manager) QueueLen(q int) int {
	if q < 0 || q >= NumQueues {
		panic(fmt.Sprintf("BUG: eviction queue %d out of range", q))
	}
	return m.queues[q].len()
}

// PurgeQueue drops the stale entries of eviction queue q (0 to
// NumQueues−1) now, rather than when the queue next grows, and returns how
// many it dropped (also counted in Metrics.StaleEntries). It takes each of
// the queue's shard locks in turn, briefly, and no other lock: it may be
// called from the Unpin seam.
func (m *Manager) PurgeQueue(q int) int {
	if q < 0 || q >= NumQueues {
		panic(fmt.Sprintf("BUG: eviction queue %d out of range", q))
	}
	n := m.queues[q].purge()
	m.stats.stale.Add(int64(n))
	return n
}

// QueueString renders the eviction queues, oldest entry first, one line
// per non-empty queue: "temporary: temp 1 #3, temp 2 #5 (stale)", where #n
// is the entry's sequence number and stale entries are marked. Meant for
// tests and debugging; it locks each block briefly to name it.
func (m *Manager) QueueString() string {
	var sb strings.Builder
	for q := range m.queues {
		es := m.queues[q].snapshot()
		if len(es) == 0 {
			continue
		}
		slices.SortFunc(es, func(a, b entry) int { return cmp.Compare(a.seq, b.seq) })
		fmt.Fprintf(&sb, "%s:", queueNames[q])
		for i, e := range es {
			sep := ","
			if i == 0 {
				sep = ""
			}
			fmt.Fprintf(&sb, "%s %s #%d", sep, e.b, e.seq)
			if e.b.seq.Load() != e.seq {
				sb.WriteString(" (stale)")
			}
		}
		sb.WriteString("\n")
	}
	return sb.String()
}
