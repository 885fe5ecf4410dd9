// Package values is the source of constant rows in bpfdb's pipelines: a
// parallel.Source over rows given as boxed values (VALUES lists, and the
// single row without columns that a SELECT without FROM reads).
//
// New checks and converts the rows once into chunks of up to vector.Size
// rows; each chunk is one morsel, so the rows come out in the order given
// at any thread count. A scan passes the stored vectors on by reference
// (vector.Chunk.ReferenceChunk): nothing is copied per run.
//
//	rows [[1 'a'] [2 NULL] … ]  ─New─►  chunk 0 (rows 0..2047)   morsel 0
//	                                     chunk 1 (rows 2048..)   morsel 1
//
// The package imports types, vector and parallel of bpfdb; it must not
// import storage, other operators, the planner or the eBPF runtime.
package values
