package maps

import (
	"fmt"
	"sync"
	"unsafe"
)

// errReadOnly is the error of UpdateFrom on a map whose values are
// read-only to programs; a variable so that it costs no allocation.
var errReadOnly = fmt.Errorf("values are read-only to programs: %w", ErrNotSupported)

// checkKey checks that key is size bytes long.
func checkKey(key []byte, size uint32) error {
	if uint64(len(key)) != uint64(size) {
		return fmt.Errorf("key is %d bytes, want %d: %w", len(key), size, ErrInvalid)
	}
	return nil
}

// checkValue checks that value is size bytes long.
func checkValue(value []byte, size uint64) error {
	if uint64(len(value)) != size {
		return fmt.Errorf("value is %d bytes, want %d: %w", len(value), size, ErrInvalid)
	}
	return nil
}

// checkFlags checks that f is one of the three update flags.
func checkFlags(f UpdateFlags) error {
	if f > UpdateExist {
		return fmt.Errorf("update flags %v: %w", f, ErrInvalid)
	}
	return nil
}

// stripe is a lock padded to a cache line, so that goroutines taking
// neighbouring stripes do not contend for one line.
type stripe struct {
	sync.RWMutex
	_ [cacheLine - unsafe.Sizeof(sync.RWMutex{})%cacheLine]byte
}
