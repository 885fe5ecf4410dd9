//go:build race

package platform

// raceEnabled: the race detector keeps bookkeeping (mappings, resident
// memory) that grows with the work done, so resource tests relax.
const raceEnabled = true
