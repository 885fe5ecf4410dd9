// Package vectortest helps test anything that consumes or produces chunks:
// random values and chunks with NULLs, logged and replayable seeds, and a
// matrix that feeds the same rows to an operator under different batch
// sizes and with selections that hide junk rows (CockroachDB's colexec
// test harness does the same), so that an operator that forgets the
// selection or a chunk boundary gives a different answer.
//
// Only tests import it. It imports types and vector of bpfdb, and testing.
package vectortest
