// Package hash computes the key hashes of joins, aggregates and
// partitioning: one uint64 per row, a vector (up to 2048 keys) at a time,
// for every type, multi-column keys combined column by column.
//
// The hash function is the Hash seam of DESIGN.md §3: a [Policy] can
// replace it per vector, the built-in function is the default. A [Slot]
// holds the attached policy; an operator [Slot.Capture]s a [Hasher] when
// it starts and uses only that, so the build and probe sides of one join
// always hash alike even if the policy is swapped meanwhile.
//
// Built-in function, per row (see [Int64], [Float64], [Bytes]):
//
//	BOOLEAN, INTEGER, BIGINT,     mix(uint64(value) ^ prime2), sign-extended: equal
//	DATE, DECIMAL                 values hash alike across INTEGER, BIGINT, DATE
//	                              (days) and DECIMALs of one scale (scaled integers)
//	DOUBLE                        mix(bits ^ prime2), with -0 as +0 and one NaN
//	VARCHAR                       Bytes: 8-byte little-endian words folded by
//	                              rotate-multiply rounds, then mix
//	NULL                          the constant NullHash
//	column k > 0                  Combine(hash so far, hash of column k)
//
// where mix is the splitmix64 finalizer (Stafford's "Mix13") and prime2 =
// 0xc2b2ae3d27d4eb4f (so that 0 does not hash to 0). The function
// is fixed: the stock eBPF "default" Hash program must reproduce it bit for
// bit, and testdata/hashes pins it. It is fast, not attack-resistant; a
// keyed, attack-resistant hash is a policy's business.
//
// The package imports types and vector of bpfdb and nothing else of it.
package hash
