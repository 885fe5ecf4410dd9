// Package maps implements eBPF maps: array, hash, LRU hash and per-worker
// array. Maps are shared by programs and Go code, safe for concurrent use,
// and outlive the programs that use them. New creates one from a Spec.
//
// It imports nothing from the rest of bpfdb (TestImports enforces it).
//
// # Memory
//
// Every map keeps its values in one slab allocated by New and never moved
// or grown: the map's only Region. The slab is a []uint64 viewed as bytes,
// and every value slot starts on an 8-byte boundary (a per-worker array's
// worker blocks on a 64-byte one), so programs may use 4- and 8-byte atomic
// instructions on aligned value words. See arrayMap and hashMap for the
// layouts.
//
// # Values shared with programs
//
// LookupRef returns a slice of the slab; a program reads and writes it with
// no lock, as in the kernel. Go-side copies (Lookup, Update, UpdateFrom,
// All) hold the entry's lock, so two of them never see each other half
// done, and copy 8-byte words with atomic loads and stores, so that a
// Go-side copy and a program's aligned atomic operation on the same word
// each see the word whole (and the race detector sees no race). A program's
// plain loads and stores are not synchronized with Go-side copies, as in
// Linux: a value may be torn between words; nothing ever reaches outside the
// slab.
//
// A slice from a hash map's LookupRef stays inside the slab for ever, but
// once its key is deleted (or evicted) its slot may be reused for another
// key, as with Linux's preallocated hash maps.
//
// # Differences from Linux
//
//   - Delete on an array returns ErrNotSupported (EOPNOTSUPP); Linux returns
//     EINVAL.
//   - Update of an array index out of range returns ErrKeyNotExist (ENOENT);
//     Linux returns E2BIG. Both reject it.
//   - UpdateFrom on a ReadOnlyProg map returns ErrNotSupported; in Linux the
//     verifier rejects such a program.
//   - LRUHash is exact LRU (see lruHeap); Linux's is approximate.
//
// # Why preallocate every entry?
//
// The runtime bounds-checks every program memory access against the map's
// regions, so LookupRef results must lie in memory known when a program is
// loaded. Allocating each hash entry separately would mean one region per
// entry, and regions that change while programs run. One slab per map gives
// one fixed region and inserts that never allocate; the price is memory for
// MaxEntries values up front, which New bounds by MaxMemory. Linux's
// default hash maps preallocate too.
//
// # Why copy values with atomic word loads and stores?
//
// Policies count with atomic adds into map values while the engine reads the
// counters with Lookup. With plain copies, every such read would be a data
// race (and a report under -race), and a counter read could be torn within
// a word. Atomic 8-byte loads are plain loads on amd64 and arm64; stores
// cost more, but Go-side writes are rare next to program lookups.
//
// # Why do index keys alias the key slab?
//
// The index is a Go map[string]uint32. Copying each key into a new string
// would allocate on every insert, including inserts from programs, and keep
// a second copy of every key. Instead keys live in a slab next to the
// values and the index's strings point into it (unsafe.String). This is
// sound because a slot's key bytes are written only while the slot is free,
// when no index key refers to them: a string in the index never changes.
//
// # Why iterate in slot order?
//
// NextKey finds the key's slot through the index and scans a bitmap of used
// slots for the next one: no extra per-entry memory, and a full iteration
// costs O(MaxEntries/64 + entries). The rejected alternative, insertion
// order through a linked list of entries, costs 8 bytes per entry and a
// list update on every insert and delete for an order nobody relies on
// (until the first delete, slot order is insertion order anyway).
//
// # Why exact LRU with a lazy heap?
//
// A lookup must stay cheap and must not take the exclusive lock, so it only
// stores a stamp; eviction (under the exclusive lock) finds the oldest stamp
// in a min-heap that it repairs lazily. The rejected alternatives: a linked
// list moved on every use (needs the exclusive lock per lookup); scanning
// every stamp on eviction (O(MaxEntries) per insert into a full map);
// sampling a few entries, as Redis does, or Linux's active/inactive lists
// (cheaper, but approximate, so the eviction order cannot be stated or
// tested exactly).
//
// # Why one lock per hash map?
//
// One sync.RWMutex guards a hash map's index; readers share it. It is the
// simplest correct design, and a lookup is ~25 ns uncontended. Its reader
// count is one contended cache line when many workers look up the same map
// at once; sharding the index by key hash is the planned fix if a profile
// shows it, at the cost of a global lock for the free list and LRU heap.
package maps
