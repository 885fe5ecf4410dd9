package platform

// NativeStackBytes is how many bytes of the goroutine stack native code
// entered by Call may use below its return address: 32 eight-byte pushes,
// the save of RBP among them. Call's own frame reserves them (see
// call_amd64.s), so the stack check in Call's prologue covers them.
const NativeStackBytes = 256
