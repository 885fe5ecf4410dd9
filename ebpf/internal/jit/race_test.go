//go:build race

package jit_test

// raceEnabled: the race detector slows compilation tenfold, so the
// release test compiles fewer programs.
const raceEnabled = true
