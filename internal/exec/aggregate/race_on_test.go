//go:build race

package aggregate_test

import "github.com/bpfdb/bpfdb/internal/vector/vectortest"

// scale divides the randomized tests' row counts: the race detector makes
// them ten times slower.
const scale = 4

// matrix is vectortest.Configs without batches of one row.
func matrix() []vectortest.Config {
	var out []vectortest.Config
	for _, c := range vectortest.Configs {
		if c.BatchSize > 1 {
			out = append(out, c)
		}
	}
	return out
}
