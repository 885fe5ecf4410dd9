//go:build race

package join_test

// raceEnabled is set under the race detector, which slows the
// differential test down tenfold: it then runs fewer trials.
const raceEnabled = true
