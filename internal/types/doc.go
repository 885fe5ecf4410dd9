// Package types defines bpfdb's logical SQL types and the exact arithmetic
// and literal formats that belong to them: BOOLEAN, INTEGER, BIGINT, DOUBLE,
// DECIMAL(p,s), VARCHAR and DATE.
//
// A logical type ([Type]) says what a value means; its physical type
// ([Physical]) says how a vector stores it:
//
//	logical          physical   stored as
//	BOOLEAN          Bool       bool
//	INTEGER          Int32      int32
//	BIGINT           Int64      int64
//	DOUBLE           Float64    float64
//	DECIMAL(p,s)     Int64      v × 10^s as int64, 1 ≤ p ≤ 18, 0 ≤ s ≤ p
//	VARCHAR          String     bytes in a per-vector arena (package vector)
//	DATE             Int32      days since 1970-01-01 (proleptic Gregorian)
//
// DECIMAL precision above 18 is refused with [ErrDecimalPrecision]: a
// 19-digit value does not fit an int64, and bpfdb has no 128-bit decimal
// storage. Arithmetic on decimals ([MulDecimal], [DivDecimal],
// [AddDecimal], [Rescale]) computes exact intermediate results in 128 bits
// and reports [ErrOverflow] when a result does not fit, never a wrapped
// value. Every rounding (literals, rescaling, casts) is half away from
// zero.
//
// [Value] is the boxed form of one value, for constants and tests, with
// [Cast] (SQL's CAST for constants) and [Compare] (a total order). DATE
// helpers: [ParseDate], [FormatDate], [DateCivil] (EXTRACT), [AddMonths]
// and [AddDays] (interval arithmetic).
//
// The package is the bottom of the engine: it imports only the standard
// library and must never import another bpfdb package.
package types
