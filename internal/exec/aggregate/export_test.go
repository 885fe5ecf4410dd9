package aggregate

// SetMaxLocalEntries bounds the tasks' directories (at least 4×vector.Size
// entries) until the returned function restores the default.
func SetMaxLocalEntries(n int) (restore func()) {
	old := maxLocalEntries
	maxLocalEntries = max(n, minLocalEntries)
	return func() { maxLocalEntries = old }
}

// SetMergeStart sets the initial size bound of the source's merge
// directories until the returned function restores the default.
func SetMergeStart(n int) (restore func()) {
	old := mergeStart
	mergeStart = max(n, 1)
	return func() { mergeStart = old }
}
