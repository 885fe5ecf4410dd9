//go:build invariants

package vector

// invariants enables the expensive consistency checks (build with
// -tags invariants).
const invariants = true
