//go:build !amd64

package platform

import "unsafe"

// Call runs native code; there is none on this architecture, and since
// NewCodeSegment always fails here, reaching Call is a bug.
func Call(entry uintptr, state unsafe.Pointer) {
	panic("BUG: platform.Call without native code support on this architecture")
}

// Enter runs native code; as Call, it is a bug to reach it here.
func Enter(entry uintptr, state unsafe.Pointer, a, b uint64) {
	panic("BUG: platform.Enter without native code support on this architecture")
}
