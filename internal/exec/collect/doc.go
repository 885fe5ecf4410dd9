// Package collect holds materialized rows: a query's result, the branches
// of a UNION ALL, a CTE's rows, a sort's runs. A Collection is filled as
// the parallel.Sink of a pipeline (or by Append) and read back as chunks,
// row by row through an Iterator (for printing), or as a parallel.Source
// (Source, and Concat for UNION ALL).
//
// # Order
//
// The sink keeps rows in the source's morsel order, whatever the thread
// count: each task files the chunks of every morsel it scans under the
// morsel's number (parallel.MorselSink), and Finalize concatenates the
// morsels in number order, so the rows are those of a single-threaded run
// in the same order (DuckDB's batch index). With Limit and Offset it keeps
// rows [Offset, Offset+Limit) of that order: a deterministic LIMIT without
// ORDER BY. No morsel keeps more than Offset+Limit rows, whatever comes
// before it, so a LIMIT over a large scan holds little.
//
//	task 0: morsel 0 [c c], morsel 2 [c]      Finalize: 0 [c c] 1 [c c c] 2 [c]
//	task 1: morsel 1 [c c c]                             └─ window [Offset, Offset+Limit)
//
// # Memory
//
// Stored chunks are dense (no selection) and full except the last of each
// morsel. Without Options.Buffers they are vectors in Go memory, read back
// by reference (no copy). With Buffers each is a page: the chunk encoded
// into a temporary buffer of the buffer manager (layout on page), accounted
// under a tag and unpinned, so that the manager may spill it to its
// temporary file under memory pressure; reading pins and decodes it. Such a
// collection must be Closed to release its buffers.
//
// The package imports types, vector, parallel and storage/buffer of bpfdb;
// it must not import other operators, the planner or the eBPF runtime.
package collect
