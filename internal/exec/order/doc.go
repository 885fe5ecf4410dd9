// Package order is ORDER BY and top-N in bpfdb's pipelines: Sort is a
// parallel.Sink that orders its input by keys, and its Source produces the
// rows in order for the next pipeline (morsel m before morsel m+1, so a
// collect.Collection downstream keeps the order).
//
// # Order
//
// Keys compare as types.Compare does (DOUBLE NaN above every number and
// equal to itself, -0 equal to +0, VARCHAR bytewise), reversed for DESC;
// NULLs go first or last by the key's NullsFirst, whatever its direction.
// Rows equal in every key keep the order of a single-threaded scan of the
// input: each row carries a sequence number, morsel<<32 | position in the
// morsel (parallel.MorselSink), the last tie-break everywhere. The result
// is therefore the same at any thread count and vector size.
//
// # How a sort runs
//
//	Sink (each task)       copy rows into the task's buffer (chunks, in
//	                       arrival order) with their sequence numbers
//	Combine (each task,    sort the buffer: entries (key prefix, ref) are
//	in parallel)           radix sorted by the first key; ties go on to the
//	                       next 8 bytes of a VARCHAR or the next key, on
//	                       the tied range only; the sorted entries are the
//	                       task's run (with several keys or a VARCHAR key,
//	                       whose merge compares rows, the rows are copied
//	                       in order too)
//	Finalize               k-way merge of the runs (a heap of run heads;
//	                       prefixes first, keys on ties) into a list of
//	                       (run, row) references; with exactly two runs of
//	                       a full sort (two tasks), nothing: the Source
//	                       merges them
//	Source                 gather the referenced rows, 16,384 per morsel;
//	                       for two runs, each morsel finds its bounds in
//	                       both by binary search (merge path) and merges
//	                       its part, so the merge runs on every thread
//
// An entry is 16 bytes: a 64-bit normalized prefix of one key (integers
// with the sign bit flipped, doubles by their ordered bits, the next 8
// bytes of a string), a class for NULL placement, a sub-digit for string
// lengths, and the row's ref (chunk and slot). Fixed-width keys are
// decided by their prefix; strings need another pass only where 8 bytes
// tie.
//
// A top-N (Options.Limit ≥ 0) keeps at most Offset+Limit rows per task:
// when its buffer holds twice that (and at least two chunks), it sorts,
// keeps the best, and from then on drops input rows whose first-key
// prefix is past the last kept row's before copying them.
//
// # Memory
//
// With Options.Buffers, a task reserves memory from the buffer manager
// (temporary buffers tagged sort) to cover an estimate of its buffer: rows,
// their sorted copy, entries. When a reservation fails for lack of memory,
// the task sorts what it has, returns its reservations and writes the run
// as pages of a collect.Collection, which the manager may spill to its
// temporary file. If any run was written, Finalize writes the runs still
// in memory as pages too and merges page by page into a result of pages;
// so a sort needs memory for one page per run and never fails for memory
// if its data fits on disk. Reservations and spills of one sort are
// serialized (a mutex), so that the memory a spilling task frees for its
// pages is not taken by another task of the same sort. Go memory outside
// the estimate (a page being decoded per run during the merge, a task's
// buffer while its run is written) is not accounted. Close releases what
// the last run holds.
//
// The package imports types, vector, parallel, storage/buffer and
// exec/collect (the pages of spilled runs) of bpfdb; it must not import
// other operators, the planner or the eBPF runtime.
package order
