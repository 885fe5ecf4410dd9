// Package vector holds the unit of data that flows between operators: typed
// column vectors of up to [Size] values, each with a validity mask, and
// chunks (a set of vectors of equal length plus an optional selection
// vector).
//
// Kernels read and write the typed data slices directly ([Data],
// [Vector.Int64s], …) or through typed views ([Col], [StrCol]) that apply
// the chunk's selection and validity; nothing in this package boxes a
// value per row except the printing and test helpers ([Chunk.Value],
// [Chunk.String], [ParseTable]).
//
// Memory layout of a chunk with two columns, a BIGINT and a VARCHAR, and a
// selection that keeps physical rows 0 and 2:
//
//	Chunk{n: 2, sel: [0 2]}           logical row r lives at physical sel[r]
//	 │
//	 ├─ Vector BIGINT (physical int64)
//	 │    data  []int64   [ 17 | 42 | 99 | … ]       Size slots, 8 bytes each
//	 │    valid []uint64  [ …0101 | … ]              bit i = 1: slot i is not NULL
//	 │                                               (unused while the vector has no NULL)
//	 └─ Vector VARCHAR (physical string)
//	      data  []Str     [ {0,5} | {5,0} | {5,3} ]  {offset, length} into arena
//	      arena []byte    "helloxyz"                 bytes appended as strings are set
//
// A chunk's column may reference another chunk's vector instead of its
// own ([Chunk.Reference]): projections and filters pass data on without
// copying, and the chunk never writes through such a reference.
//
// Building with -tags invariants adds range checks on selections and
// copies (panics with a "BUG:" message).
//
// The package imports only package types and the standard library; it must
// not import operators, storage or the scheduler.
package vector
