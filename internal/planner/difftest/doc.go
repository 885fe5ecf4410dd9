// Package difftest checks the binder's subquery unnesting by its results:
// random queries with correlated and uncorrelated subqueries (scalar
// aggregates, EXISTS, IN and NOT IN, equality and other correlations,
// outer joins, grouping) run through the whole engine (package bpfdb) on
// small random tables with NULLs, and are compared with a reference
// evaluator that interprets the syntax tree row by row, evaluating every
// subquery again for every outer row, as SQL defines it.
//
// The package has tests only. They import the module root (the embedded
// API) and packages sql/ast, sql/parser and types; as an engine package it
// must not import the eBPF runtime.
package difftest
