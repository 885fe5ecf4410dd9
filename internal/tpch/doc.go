// Package tpch is the TPC-H workload for bpfdb: the schema with DuckDB's
// column types, the 22 queries with the specification's validation
// parameters (and the specification's interval-arithmetic forms where it
// writes dates as DATE + INTERVAL), a loader that creates the eight tables
// and copies dbgen's .tbl files into them, a runner that times a query,
// and the comparison of a result with a reference answer.
//
// # Answers and how they compare
//
// An [Answer] is a result as text: column names and rows of cells, each
// cell a string or NULL, with what kind of value each column holds. Answers
// are read from and written to CSV with a header row (NULL is an empty
// unquoted field, the empty string is ""), as the reference answers in
// ../shared/tpch/answers are. [Compare] checks a result against an expected
// answer by the rules of that directory's README:
//
//	column names      equal, in order
//	DECIMAL, integers exact: 12.5 equals 12.50
//	DOUBLE            relative difference at most 1e-9
//	text, dates       byte for byte
//	row order         as the query's ORDER BY keys define it: rows equal
//	                  on every key may come in any order; without ORDER BY
//	                  the rows may come in any order
//	LIMIT             when the limit cut through rows tied on the keys,
//	                  the last tied rows need only match on the keys
//
// The package imports the embedded API of bpfdb (the module root) and
// package types; nothing of the engine's insides. Only tools and tests use
// it, never the engine.
package tpch
