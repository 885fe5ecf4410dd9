// Package join is bpfdb's parallel hash join: a parallel.Sink for the build
// pipeline and a parallel.Operator for the probe pipeline that depends on
// it, for the join kinds of the logical plan (inner, left, semi, anti,
// mark, single; a cross product is an inner join without keys).
//
// # Build
//
// Every build task hashes its chunks' keys once per vector with the
// Hasher the join captured for this run (so build and probe hash alike
// even if a policy is attached meanwhile), drops rows with a NULL key
// (they match nothing) and appends the others, a column at a time, to row
// pages of its own: fixed-width rows holding the key hash, a chain link
// and the build columns the join reads (layout.go draws a row). Pages come
// from the buffer manager, tagged "hash table", when Spec.Buffers is set,
// and stay pinned until the next run or Join.Close. Finalize sizes the
// bucket array (a power of two, at least twice the rows) and links the
// rows into their buckets' chains, itself for small builds; for large ones
// the probe tasks do it in parallel as they start, claiming row pages and
// linking them with compare-and-swap.
//
//	build tasks ──Sink──► own row pages ──Combine──► table's page list
//	Finalize:   buckets [ tags | ref ] … (power of two)
//	probe tasks (NewLocal): claim pages, CAS rows into chains, wait for the rest
//
// # Probe
//
// A probe chunk is hashed once, and each row looks up its bucket: the
// bucket's 16-bit Bloom filter of the chain's hashes rejects most rows
// without a match before any row is read. The rest are matched in rounds,
// vector at a time: a round compares every row that still has a candidate
// with it (full hash, then each key column, then the residual over the
// surviving pairs, evaluated as one chunk), then moves the rows along
// their chains. A round yields at most one match per probe row, so Inner
// and Left joins emit round by round and return HaveMoreOutput when the
// output chunk is full. When a single round finds every match (no probe
// row has two, the usual foreign-key join), the output references the
// probe columns under a selection instead of copying them; Semi, Anti,
// Mark and Single joins always do.
//
// Spilling is not implemented: a build side that does not fit the memory
// limit fails the query with the buffer manager's out-of-memory error.
//
// The package imports types, vector, parallel, exec/expr, exec/hash and
// storage/buffer of bpfdb; it must not import storage/table or file, other
// operators, the planner or the eBPF runtime.
package join
