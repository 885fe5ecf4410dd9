// Package physical turns an optimized logical plan (package planner) into
// the pipelines the scheduler runs (package parallel): it picks an operator
// for every plan node, cuts the plan into pipelines at the pipeline
// breakers (hash-join build, aggregate, sort, limit, union branches),
// records which pipeline waits for which, and maps the plan's column IDs to
// the positions of each operator's input chunk.
//
//	Join(Get orders, Get lineitem)     pipeline 1: scan lineitem → join build
//	                                   pipeline 2: scan orders → probe → result (after 1)
//
// A semi or anti join marked BuildLeft runs in three pipelines: the left
// side builds, the right side probes into the join's ProbeSink, and the
// output continues from the join's Source.
//
// A join whose probe rows without a match produce nothing (inner, semi,
// right semi, right anti) on one integer key that its probe pipeline's scan
// produces gives the scan its key set (join.Spec.KeySet,
// scan.Source.AddSetFilter), so that the scan drops the rows that cannot
// match.
//
// Expressions that an operator reads as columns (aggregate arguments, join
// and sort keys) are computed by a projection just below it. A Step per
// pipeline names its stages for EXPLAIN; EXPLAIN ANALYZE adds the rows
// and time of parallel.RunStats and the operators' own statistics.
//
// The package imports the operator packages, planner, parallel, types,
// vector and storage of bpfdb; it must not import the SQL front end's
// parser or the eBPF runtime.
package physical
