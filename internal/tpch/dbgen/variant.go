package dbgen

import "sync"

// The DuckDB variant. The query answers DuckDB publishes for SF 0.1 and 1
// (duckdb/duckdb extension/tpch/dbgen/answers) were computed on data from
// its copy of dbgen at the time, which generates the same numbers as the
// official dbgen 2.14 but different text, in two ways: its text pool was
// 10 MiB instead of 300 MiB (so every comment is a different window), and it
// computed the width of the full-range draw behind random strings in 64 bits
// (so every address differs). The tests generate this variant to compare
// whole query results, text included, with those answers.

// duckdbPoolSize is the text pool size of the DuckDB variant (10 MiB).
const duckdbPoolSize = 10 << 20

var (
	duckdbPoolOnce sync.Once
	duckdbPool     []byte
)

// textPool returns the text pool of the generator's variant.
func (g *Generator) textPool() []byte {
	if !g.duckdbVariant {
		return textPool()
	}
	duckdbPoolOnce.Do(func() { duckdbPool = buildTextPool(duckdbPoolSize, dPrepositions) })
	return duckdbPool
}
