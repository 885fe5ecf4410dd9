package verifier

// Every test of the package checks that each widened state covers the
// state it widens.
func init() { checkWiden = true }
