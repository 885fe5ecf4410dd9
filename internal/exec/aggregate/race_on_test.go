//go:build race

package aggregate_test

// scale divides the randomized tests' row counts: the race detector makes
// them ten times slower.
const scale = 4
