//go:build !linux

package dbgen

// allocPool returns zeroed memory for the text pool.
func allocPool(size int) []byte { return make([]byte, 0, size) }

// freePool releases memory from allocPool; the garbage collector does it here.
func freePool([]byte) {}
