//go:build !race

package aggregate_test

import "github.com/bpfdb/bpfdb/internal/vector/vectortest"

// scale divides the randomized tests' row counts (see race_on_test.go).
const scale = 1

// matrix is the configurations the differential tests run under.
func matrix() []vectortest.Config { return vectortest.Configs }
