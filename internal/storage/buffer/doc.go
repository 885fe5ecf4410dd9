// Package buffer is bpfdb's buffer manager: it keeps blocks of the database
// file (persistent blocks, read on demand) and temporary buffers of
// operators (hash tables, sort runs, intermediates) in memory under one
// memory limit, evicting unpinned ones when a reservation needs room, and
// spilling evicted temporary buffers to a temporary file.
//
// # Life of a block
//
//	          Allocate / AllocateBlock (reserve, pinned once)
//	                             │
//	                             ▼
//	 Pin (miss: reserve, ┌─────────────────┐  Unpin to 0 readers:
//	 Load policy reads)  │ Resident        │  Unpin policy places it in
//	┌───────────────────►│ readers ≥ 0     │  an eviction queue
//	│                    └───────┬─────────┘
//	│                            │ evicted (readers = 0, oldest unpin
//	│                            ▼ first): temporary buffers spill
//	│                    ┌─────────────────┐  ReadAhead (persistent
//	└────────────────────┤ Unloaded        ├───────────┐ blocks: reserve,
//	                     └─────────────────┘           │ read in the
//	                             ▲ evicted (wasted)    ▼ background)
//	                             │             ┌─────────────────┐
//	                             └─────────────┤ Prefetched      │
//	                     first Pin (used) ◄────┤ readers = 0     │
//	                     ─► Resident           └─────────────────┘
//	            Free (from any, unpinned) ─► Freed
//
// The slice Pin returns is valid until the matching Unpin. A table writer
// allocates a block-shaped buffer with AllocateBlock, fills its payload,
// turns it into a block of the database file with MakePersistent and
// checkpoints the file; a scan gets the block's handle with Persistent,
// pins, reads and unpins it.
//
// A block's identity (Kind, Number, String) is one atomic word, read
// without a lock; only MakePersistent changes it.
//
// # Readahead
//
// ReadAhead(id) starts reading a block of the database file in the
// background so that a later Pin finds it in memory. The number is
// resolved through the manager's registry of persistent handles (never
// creating one), memory is reserved under the limit first (evicting only
// unpinned blocks of QueuePersistent, never a pinned one, never spilling;
// if that is not enough nothing happens and ErrOutOfMemory says so), and
// the block's mutex is held until the read is done, so that a Pin of it
// waits for the read rather than reading again. Metrics count readaheads
// started, used by a pin, and wasted (evicted or freed unused, or failed).
// A LoadPolicy calls it for the blocks it expects next (internal/hooks'
// Load site offers it to eBPF programs as bpfdb_read_ahead).
//
// # Eviction queues
//
// When a block's last pin is released, it gets the next value of a global
// sequence number and an entry (block, number) is appended to an eviction
// queue; older entries of the same block become stale and are skipped (and
// purged from time to time). Eviction takes the entry with the lowest
// number, so within a queue the built-in policy is LRU by last unpin, as in
// DuckDB. Queues are evicted in order: persistent blocks first (reloading
// costs one read), then temporary buffers (a write and a read), then the
// queues left to policies. Each queue is sharded so that unpins of
// different blocks rarely share a lock. For policies, QueueLen counts a
// queue's entries without a lock and PurgeQueue drops its stale entries
// on demand; TagUsed reads one tag's memory count.
//
// # Policy seams
//
// The four places where the research system's eBPF hooks attach are small
// interfaces declared here, each with its contract: LoadPolicy (Load, the
// miss path), UnpinPolicy (Unpin, queue placement), MemoryPolicy
// (UpdateUsedMemory, accounting per tag) and AllocatePolicy
// (AllocateNewBlock, admission and priority at birth). The built-in
// policies are DefaultLoad, DefaultUnpin, DefaultMemory and
// DefaultAllocate.
//
// # Locks
//
// Pinning a resident block is one compare-and-swap on the block's state
// word and an add to the hit counter, whose stripes (one per queue shard,
// each on a cache line of its own) keep pins of different blocks on
// different cores from writing one shared line; unpinning is one more
// compare-and-swap plus, at zero readers, an atomic add for the
// sequence number and a shard lock. Loading, unloading and freeing hold
// the block's mutex; an eviction or a readahead only try-locks a
// candidate's mutex, so a goroutine loading one block (and evicting others
// to make room, or reading others ahead) never waits for another. A
// readahead's background read holds its block's mutex until it is done.
// Lock order: block mutex, then the readahead lock (which only Close
// takes for writing, to wait for reads in progress), then queue shard,
// temporary file or registry mutexes, which are leaves.
//
// This package imports the database file package and the standard library
// only; it must not import the eBPF runtime (internal/hooks adapts the
// policies) nor the table layer above it.
package buffer
