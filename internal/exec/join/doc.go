// Package join is bpfdb's parallel hash join: a parallel.Sink for the build
// pipeline and a parallel.Operator for the probe pipeline that depends on
// it, for the join kinds of the logical plan (inner, left, semi, anti,
// mark, single; a cross product is an inner join without keys), and the
// right semi and right anti joins that preserve the build side instead.
//
// # Build
//
// Every build task hashes its chunks' keys once per vector with the
// Hasher the join captured for this run (so build and probe hash alike
// even if a policy is attached meanwhile), drops rows with a NULL key
// (they match nothing) and appends the others, a column at a time, to row
// pages of its own (4 KiB growing to 256 KiB): fixed-width rows holding
// the key hash, a chain link and only the build columns the join reads
// (layout.go draws a row); strings go to string pages. Rows never move.
// Finalize allocates the buckets, an open-addressing table with one
// salted entry per distinct key hash that heads the chain of the rows
// with that hash (table.go draws an entry and a row ref), and links the
// rows into their chains: itself for a small build, else the probe tasks
// do it as they start, in parallel, claiming row pages and linking with
// compare-and-swap.
//
//	build tasks ──Sink──► own row pages ─Combine─► page list
//	Finalize:  buckets [ salt | ref ] (≥ 2 × rows, a power of two)
//	probe tasks (NewLocal): claim pages, CAS rows into chains, wait for the rest
//
// # Probe
//
// A probe chunk is hashed once; each row scans the buckets from its hash's
// home entry to the entry with its salt, so a row without a match touches
// no build row. The rest are matched in rounds, vector at a time: a round
// compares every row that still has a candidate with it (a single integer
// key directly, else the full hash and then each key column; then the
// residual over the surviving pairs, evaluated as one chunk) and moves the
// rows along their chains. A round yields at most one match per probe
// row. Inner and Left joins collect the matches while no probe row has
// two, and then output the probe columns by reference under a selection,
// writing only the build columns (the foreign-key join's case); from a
// row's second match on they copy pairs into a dense output, round by
// round, returning HaveMoreOutput whenever it is full. Semi, Anti, Mark
// and Single joins always reference the probe columns.
//
// # Right semi and right anti joins
//
// A Semi or Anti join whose preserved side is much smaller than the other
// (TPC-H Q4: a quarter's orders EXISTS lineitem) runs better the other way
// round: RightSemi and RightAnti build the preserved side, with a mark in
// every row, and probe with the other side. The probe pipeline ends in
// ProbeSink, whose rounds (keys, then the residual over pairs whose build
// row is not marked yet) mark every build row they match, atomically; the
// output pipeline starts from Source, which reads the row pages (a morsel
// each) and emits the marked (semi) or unmarked (anti) rows' BuildOutput
// columns. A RightAnti build stores rows with a NULL key too, marked as
// such and in no chain, so that it emits them (NOT EXISTS keeps them).
// As their probe side is the big one and mostly misses, their table also
// has a one-hash Bloom filter of the key hashes (8 bits per row, set as
// rows are linked), which answers most misses from the caches without
// touching the buckets.
// right.go draws the three pipelines.
//
// # Key set
//
// With Spec.KeySet (one INTEGER, BIGINT or DATE key; Inner, Semi,
// RightSemi, RightAnti) the build also computes the range of its keys and,
// when they are sparse in it, a bitmap of them (keyset.go): the physical
// planner hands KeySet to the scan at the start of the probe pipeline,
// which drops the rows that cannot match before decoding their other
// columns (TPC-H Q17: 6,088 of 6 million lineitem rows reach the join).
//
// Memory: with Spec.Buffers set, every page and the buckets are buffers
// of the buffer manager tagged "hash table", pinned until the next run of
// the build or Join.Close. Spilling is not implemented: a build side that
// does not fit the memory limit fails the query with the buffer manager's
// out-of-memory error.
//
// The package imports types, vector, parallel, exec/expr, exec/hash and
// storage/buffer of bpfdb; it must not import storage/table or file, other
// operators, the planner or the eBPF runtime.
package join
