//go:build race

package tpch

// raceEnabled reports whether the race detector is on: it slows the engine
// down so much that latency tests measure the detector.
const raceEnabled = true
