// Package project is the projection operator of bpfdb's pipelines: a
// parallel.Operator whose output columns are expressions over its input's.
//
// An output that is a plain input column references the input's vector
// (vector.Chunk.Reference), so passing a column through copies nothing.
// Any other expression is evaluated by a compiled expr.Evaluator into the
// output chunk's own vector, at the slots of the input's selection: the
// output keeps the input's selection instead of compacting it.
//
//	in:  A B C, sel [1 4]     out: ref→C, own(A*B) slots 1,4, sel [1 4]
//
// The package imports types, vector, parallel and exec/expr of bpfdb; it
// must not import storage, other operators, the planner or the eBPF runtime.
package project
