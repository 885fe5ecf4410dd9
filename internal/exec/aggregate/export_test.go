package aggregate

// SetMaxLocalEntries bounds the tasks' directories (at least 4×vector.Size
// entries) until the returned function restores the default.
func SetMaxLocalEntries(n int) (restore func()) {
	old := maxLocalEntries
	maxLocalEntries = max(n, minLocalEntries)
	return func() { maxLocalEntries = old }
}
