// Package filter is the filter operator of bpfdb's pipelines: a
// parallel.Operator that evaluates a compiled BOOLEAN expression
// (expr.Evaluator.EvalFilter) and passes its input on with a narrower
// selection. Nothing is copied: the output chunk references the input's
// vectors, and only the selection (two bytes per surviving row) is written.
//
//	in:  cols A B C, sel [0 1 2 3 4 5]      out: cols → A B C, sel [1 4 5]
//
// A row whose predicate is NULL is dropped, as SQL's WHERE does. A
// conjunction is evaluated operand by operand on the rows the previous ones
// kept, so a later operand never fails on a row an earlier one rejected.
//
// The package imports types, vector, parallel and exec/expr of bpfdb; it
// must not import storage, other operators, the planner or the eBPF runtime.
package filter
