// Package scan is the table scan of bpfdb's pipelines: a parallel.Source
// that reads a subset of a stored table's columns, a row group or a range
// of its vectors (at most MorselVectors) per morsel,
// skips whole row groups whose zone maps rule out the `column op constant`
// predicates the optimizer pushed down to it, and evaluates those
// predicates on the rows of the row groups it reads (late
// materialization: the filter columns first, the others only for vectors
// with survivors).
//
//	table row groups   rg0 ─┐  rg1 ─┐  rg2 ─┐        (morsels 0, 1, 2)
//	                        │       │ zone map: skip
//	tasks claim morsels     ▼       ▼
//	              table.Scanner [m, m+1) ─► chunks of ≤ vector.Size rows
//
// The chunks carry the rows that satisfy the pushed-down predicates as their
// selection: exactly those rows, so the physical planner puts no filter
// operator above the scan for a predicate the scan decides by itself
// (planner.Get.ScanExact), only for the rest.
// A hash join whose probe pipeline starts with this scan may also give it
// the set of its build keys (AddSetFilter): each run asks for the set when
// it starts, after the build, and drops the rows whose key is not in it
// like the pushed-down predicates (its range also skips row groups).
// A Source counts what its last run read and skipped (Stats), for EXPLAIN
// ANALYZE.
//
// The package imports types, vector, parallel and storage/table of bpfdb; it
// must not import other operators, the planner or the eBPF runtime.
package scan
