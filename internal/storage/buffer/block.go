package buffer

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// Kind says where a block's bytes live when it is not in memory.
type Kind uint8

const (
	// Temporary buffers hold intermediates; evicting one spills it to the
	// temporary file.
	Temporary Kind = iota
	// Persistent blocks are blocks of the database file; evicting one just
	// drops its buffer, since the file has the same bytes.
	Persistent
)

// String returns "temporary" or "persistent".
func (k Kind) String() string {
	if k == Persistent {
		return "persistent"
	}
	return "temporary"
}

// State is where a block is in its life.
type State uint8

const (
	// Unloaded: not in memory (never read, evicted, or spilled).
	Unloaded State = iota
	// Resident: in memory; pinned if it has readers.
	Resident
	// Unloading: being evicted; Pin waits for it to finish.
	Unloading
	// Freed: freed with Free; it may not be pinned again.
	Freed
	// Prefetched: in memory, read by Manager.ReadAhead and not pinned
	// since. It is evictable like a resident block without readers; the
	// first pin makes it Resident and counts the readahead as used
	// (Metrics.ReadAheadsUsed), an eviction or Free first counts it as
	// wasted.
	Prefetched
)

var stateNames = [...]string{"unloaded", "resident", "unloading", "freed", "prefetched"}

// String returns the state's name in lower case ("resident").
func (s State) String() string { return stateNames[s] }

// A Block is a handle on a buffer-managed block: a block of the database
// file or a temporary buffer. Its bytes are reachable only while it is
// pinned (Manager.Pin); while unpinned, the manager may evict it.
//
// The state word packs the state (high 32 bits) and the reader count (low
// 32 bits) so that pinning a resident block is one compare-and-swap, with
// no lock:
//
//	63           32 31            0
//	┌──────────────┬──────────────┐
//	│ State        │ readers      │
//	└──────────────┴──────────────┘
//
// Loading, unloading and freeing hold mu and move the state word through
// Unloading, so that a pin racing with an eviction either wins (the
// eviction skips the block) or waits on mu for the unload to finish and
// loads the block again. A readahead holds mu from the moment it reserves
// memory until its background read has finished, so a pin that comes
// meanwhile waits for that read rather than starting another.
//
// The identity word says which block this is, and is read without a lock
// (Kind, Number, String); only MakePersistent changes it, once, under mu:
//
//	63  62                                               0
//	┌───┬──────────────────────────────────────────────────┐
//	│ P │ P=1: block number in the database file            │
//	│   │ P=0: number of the temporary buffer (1, 2, ...)   │
//	└───┴──────────────────────────────────────────────────┘
type Block struct {
	m     *Manager
	word  atomic.Uint64 // State<<32 | readers
	seq   atomic.Uint64 // sequence number of the block's live queue entry
	ident atomic.Uint64 // persistentBit | number
	queue atomic.Uint32 // the queue the built-in Unpin policy places it in
	loads atomic.Uint32 // times brought into memory: loaded by a pin, or read ahead
	off   int           // the payload's offset in buf
	size  int           // bytes of memory while resident
	tag   Tag
	shard uint8  // its shard in each eviction queue
	owner uint64 // the query it was allocated for (Manager.AllocateFor); 0: none

	mu     sync.Mutex // serializes load, readahead, unload, free and MakePersistent
	buf    []byte     // valid while resident or prefetched; written under mu
	slot   int        // temporary file slot while spilled, else -1
	filled bool       // set by ReadBlock during a Load call
}

// persistentBit marks the identity word of a block of the database file.
const persistentBit = 1 << 63

func word(s State, readers uint32) uint64 { return uint64(s)<<32 | uint64(readers) }

// Kind returns whether b is a block of the database file or a temporary
// buffer. It takes no lock; it changes only when MakePersistent turns a
// temporary buffer into a persistent block.
func (b *Block) Kind() Kind {
	if b.ident.Load()&persistentBit != 0 {
		return Persistent
	}
	return Temporary
}

// Number returns b's block number in the database file if it is
// persistent, else its number among its manager's temporary buffers (from
// 1; the number in its name, "temp 3"). It takes no lock. A caller that
// needs Kind and Number to agree while MakePersistent may run concurrently
// holds a pin on b or calls from the Load seam (whose host holds b's
// mutex), or uses Info.
func (b *Block) Number() uint64 { return b.ident.Load() &^ persistentBit }

// Loads returns how many times b was brought into memory from a file
// (loaded by a pin, or read ahead); a block created in memory starts at 0.
// It takes no lock. A policy compares it between two unpins to tell
// whether b stayed in memory between them.
func (b *Block) Loads() uint32 { return b.loads.Load() }

// Tag returns what the block's memory is accounted to.
func (b *Block) Tag() Tag { return b.tag }

// Size returns the bytes of memory the block takes while resident.
func (b *Block) Size() int { return b.size }

// Queue returns the eviction queue the built-in Unpin policy places the
// block in.
func (b *Block) Queue() int { return int(b.queue.Load()) }

// SetQueue sets the eviction queue the built-in Unpin policy places the
// block in from its next unpin on (0 to NumQueues−1).
func (b *Block) SetQueue(q int) {
	if q < 0 || q >= NumQueues {
		panic(fmt.Sprintf("BUG: eviction queue %d out of range", q))
	}
	b.queue.Store(uint32(q))
}

// String names the block: "block 17" for block 17 of the database file,
// "temp 3" for the third temporary buffer of its manager. It takes no
// lock.
func (b *Block) String() string {
	id := b.ident.Load()
	if id&persistentBit != 0 {
		return fmt.Sprintf("block %d", id&^persistentBit)
	}
	return fmt.Sprintf("temp %d", id)
}

// BlockInfo is a snapshot of a block's state, for printing and tests.
type BlockInfo struct {
	Name    string // as String returns
	Kind    Kind
	State   State
	Readers int
	Tag     Tag
	Size    int  // bytes in memory while resident
	Queue   int  // the queue the built-in Unpin policy uses
	Spilled bool // a temporary buffer held in the temporary file
}

// Info returns a snapshot of b's state. It waits for a load or unload of b
// in progress.
func (b *Block) Info() BlockInfo {
	b.mu.Lock()
	defer b.mu.Unlock()
	w := b.word.Load()
	return BlockInfo{
		Name: b.String(), Kind: b.Kind(), State: State(w >> 32), Readers: int(uint32(w)),
		Tag: b.tag, Size: b.size, Queue: b.Queue(), Spilled: b.slot >= 0,
	}
}
