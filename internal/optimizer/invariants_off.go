//go:build !invariants

package optimizer

// invariants makes Optimize validate the plan after every pass, as
// Options.Validate does (build with -tags invariants).
const invariants = false
