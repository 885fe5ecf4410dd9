//go:build !race

package aggregate_test

// scale divides the randomized tests' row counts (see race_on_test.go).
const scale = 1
