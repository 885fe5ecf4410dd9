//go:build !linux

package dbgen

// allocPool returns zeroed memory for the text pool.
func allocPool(size int) []byte { return make([]byte, 0, size) }
