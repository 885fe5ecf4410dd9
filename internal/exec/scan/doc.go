// Package scan is the table scan of bpfdb's pipelines: a parallel.Source
// that reads a subset of a stored table's columns, one row group per morsel,
// and skips whole row groups whose zone maps rule out the `column op
// constant` predicates the optimizer pushed down to it.
//
//	table row groups   rg0 ─┐  rg1 ─┐  rg2 ─┐        (morsels 0, 1, 2)
//	                        │       │ zone map: skip
//	tasks claim morsels     ▼       ▼
//	              table.Scanner [m, m+1) ─► chunks of ≤ vector.Size rows
//
// Zone-map filters only skip: the rows of a row group that is read all come
// out, and the filter operator above the scan evaluates the full predicate.
// A Source counts what its last run read and skipped (Stats), for EXPLAIN
// ANALYZE.
//
// The package imports types, vector, parallel and storage/table of bpfdb; it
// must not import other operators, the planner or the eBPF runtime.
package scan
