// Package parallel runs queries on a pool of worker goroutines: the task
// scheduler (DuckDB's TaskScheduler) and morsel-driven pipelines on top of
// it.
//
// # Scheduler
//
// A [Scheduler] owns Threads worker goroutines. Each query submits its
// tasks through its own [Producer] (DuckDB's producer token), which holds a
// FIFO queue of the query's tasks. Workers serve the producers that have
// queued tasks round robin, so two queries with equal work progress at
// equal rates whatever order they were submitted in.
//
//	Producer A  [a3 a2 a1] ─┐
//	Producer B  [b2 b1]    ─┼─► round robin ─► worker 0: ExecuteForever loop
//	Producer C  []          │   (skips empty)   worker 1: ExecuteForever loop
//	                        └──────────────────  …
//
// The two scheduling decisions are policy seams, the hookpoints of
// DESIGN.md §3: [ExecutePolicy] is one iteration of a worker's loop (which
// task to run, how long, when to sleep) and [SchedulePolicy] places a newly
// submitted task (which queue position, how many workers to wake). Both
// have a built-in implementation ([BuiltinExecute], [BuiltinSchedule])
// and can be replaced live; the host checks each call's result and repairs
// what a policy got wrong, so no task is ever lost.
//
// A task runs until it returns [Done], or in [Partial] mode may return
// [Again] after a bounded amount of work (one morsel) to be requeued: the
// built-in loop always runs tasks partially, so queries interleave at
// morsel granularity. Cancelling a producer (explicitly or through its
// context) or a task error drops the query's queued tasks; running tasks
// see [Producer.Cancelled] and stop at their next chunk.
//
// # Pipelines
//
// A [Pipeline] is source → operators → sink with global state per
// pipeline run and local state per task ([Source], [Operator], [Sink]).
// [Run] executes a query's pipelines in dependency order (a hash join's
// probe pipeline depends on its build pipeline): each pipeline gets
// min(Threads, morsels) tasks that claim morsels (row-group or row ranges)
// from a shared counter, each task combines its local sink state into the
// global one when the morsels run out, and the last task to finish runs
// the sink's Finalize and then starts the pipelines that were waiting for
// it. Run returns [RunStats]: per pipeline, the rows out of every stage
// (what EXPLAIN ANALYZE shows), and the query's scheduler metrics.
//
// The package imports types and vector of bpfdb and nothing else of it: no
// storage, no operators, no hooks (the hooks package adapts its policy
// interfaces, not the other way round).
package parallel
