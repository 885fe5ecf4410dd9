// Package aggregate is bpfdb's parallel hash aggregate: the sink of GROUP
// BY, of aggregates without groups and of DISTINCT, and the source that
// reads its groups back, built the way DuckDB builds its radix-partitioned
// hash aggregate.
//
// # Data flow
//
//	pipeline A (tasks t0, t1 …)                    pipeline B (DependsOn A)
//	─────────────────────────────                  ───────────────────────────
//	Sink(chunk):                                   Source: one morsel per partition
//	  hash the group columns once (hash.Hasher)      pin the partition's pages
//	  find or create each row's group in the         merge equal groups (one table
//	  task's table; Update every aggregate           over the rows of every task)
//	  state in place                                 emit vector.Size rows a chunk:
//	Combine: hand the task's pages, already          keys, then Finalize of each
//	  split by partition, to the global state        aggregate; free the partition
//
// A task's table is a directory (open addressing, linear probing) over
// group rows stored in pages, one chain of pages per radix partition (128
// partitions, by bits 32..38 of the hash). When the directory is half
// full it doubles, up to 2^17 entries (1 MiB, less under a small memory
// limit); past that it is cleared and starts over while the rows stay
// where they are: pre-aggregation is best effort, the merge in the source
// makes the groups unique. If a full directory found fewer than one row in
// ten in an existing group, the next rows skip the lookup and become rows
// of their own (counted in Stats.Passed) before the task tries again. So
// a few groups cost one probe per row (or less, below) and nothing at the merge,
// and many groups cost a bounded table per task plus one pass per
// partition, in parallel.
//
// # Small-group and dense paths
//
// Two paths skip hashing. While a task's table holds at most 8 groups
// without long strings (TPC-H Q1's four), a chunk whose rows all have one
// of them is grouped by mapping each key column's values to small codes
// and the codes to the group (fewcols.go), or else by comparing encoded
// keys, and each aggregate is updated once per group over a selection of
// its rows (few.go). With
// Options.Dense (one INTEGER, BIGINT or DATE group column whose zone maps
// bound it to a range of at most about a MiB of rows), a task
// pre-aggregates into an array indexed by key minus the range's start and
// flushes the groups it saw into its table at Combine (dense.go; TPC-H
// Q15's 10,000 suppliers). Either way the groups end up as rows of the
// task's table and merge as usual.
//
// # Group rows
//
// Every row of a page has the same width; VARCHAR keys longer than 12
// bytes keep their bytes at the end of the same page, so a page refers to
// nothing outside itself and can be spilled and read back as it is:
//
//	page:  [ row 0 | row 1 | … | row n-1 ]  free  [ string bytes (grow ←) ]
//
//	row:   [0:8)      hash of the group columns
//	       [8:8+nb)   NULL bits, bit g = group column g is NULL (nb = 8×⌈groups/64⌉)
//	       fixed keys 8 bytes per BOOLEAN/INTEGER/BIGINT/DATE/DECIMAL/DOUBLE
//	                  key (integers sign-extended to 64 bits, DOUBLE bits with
//	                  −0 as +0 and one NaN; 0 when NULL)
//	       strings    16 bytes per VARCHAR key: [0:4) length, then the
//	                  bytes zero-padded if ≤ 12, else [4:8) first 4 bytes,
//	                  [8:12) offset of the bytes in the page, [12:16) 0
//	       states     each aggregate's state (expr.Aggregate.StateSize bytes)
//	       padding    to a multiple of 8
//
// so two rows have equal keys when their NULL bits and fixed keys are
// equal byte for byte and their strings are equal. The key part [8, end of
// strings) is a whole number of 8-byte words; a task encodes each input
// chunk's keys into that form once (vectorized, column by column), then
// looks the rows up one by one: a new group gets the words copied into its
// row, a candidate whose salt and hash match is compared word by word
// (long strings: their bytes too). A directory entry is the hash's top 16
// bits (a salt that skips most key comparisons) over the row's reference
// plus one (0 is empty): page index << 24 | row in page. New rows are
// zero bytes (pages come zeroed), which is every aggregate's initial
// state today; Init runs per row only if an aggregate's is not.
//
// # Memory
//
// With a buffer manager, pages and directories are temporary buffers
// tagged "hash table", so they count against the memory limit. Tasks
// share the limit equally (by the scheduler's threads); a task keeps
// pinned only its directory, one open page per partition and the pages
// its directory reaches, each bounded by a fraction of its share (see
// capsFor), and clears its directory early when the pages it reaches grow
// past theirs. Unpinned pages are evicted to the temporary file by the
// buffer manager when anything needs room. When an allocation fails
// anyway, the task clears its directory, unpins all its pages (the
// buffer manager may now spill them to the temporary file) and groups
// the chunk again; the rows it had created for the chunk keep their
// initial states and merge as no-ops. Combine unpins everything. The
// source merges a partition that fits in an eighth of the limit with all
// its pages pinned (reading spilled ones back); a bigger one (or one that
// ran out of memory) it first splits into 2 to 512 slices by more hash
// bits, reading its pages once, one at a time, and copying their rows
// into pages of their slice (which the buffer manager may spill), then
// merges and emits the slices one after the other. Every partition is
// freed once emitted. So a query whose data fits on disk does not fail for
// memory unless the rows one chunk creates in every task together do not
// fit (a limit of a few chunks of wide rows), or one slice's distinct
// groups do not (more than 512 slices' worth, or a hash policy that gives
// many groups one hash): that fails with an error wrapping
// buffer.ErrOutOfMemory. Partitions a
// stopped reader left are freed by Release or the next run. The
// variable-size parts of aggregate states (DISTINCT sets, VARCHAR
// min/max) live in the side tables of package expr and are not accounted.
//
// The package imports types, vector, parallel, exec/expr, exec/hash and
// storage/buffer of bpfdb; it must not import the planner, other
// operators, storage tables or the eBPF runtime.
package aggregate
