// Package platform is what the amd64 JIT needs from the operating system and
// the Go runtime to run native code: executable memory (CodeSegment) and an
// entry trampoline (Call) written in Go assembly. It knows nothing about eBPF;
// the JIT decides what the machine code does and what the state pointer
// points to.
//
// # Capability
//
// Supported reports whether native code can run here: linux, darwin or
// freebsd on amd64. Everywhere else the package still compiles, NewCodeSegment
// fails with ErrUnsupported and the runtime falls back to the interpreter.
//
// # Executable memory
//
// NewCodeSegment maps anonymous read-write pages, copies the code in and then
// makes the pages read+execute. The pages are never writable and executable at
// once (W^X). They are placed in an arena reserved near the Go program's
// text when possible (arena_unix.go): a branch between Go and native code
// that spans more than about 2^37 bytes costs extra cycles on each entry and
// each return. The owner must Close a segment only when no run can still be
// executing it; see CodeSegment.Close for why this package does not count runs
// itself.
//
// # Entering native code
//
// Call(entry, state) jumps to entry with the state pointer in RDI, and the
// native code's RET returns to Call's caller. The exact contract (registers,
// stack budget, flags, what native code may store) is in Call's
// documentation. Enter is the same jump without Call's prologue, for the
// first entry of a run, whose Go caller's prologue does the same checks. Native code leaves only by RET: there are no signal
// handlers, because a fault or a helper call in native code is turned into an
// exit code written to the state, and the Go caller acts on it. Handling
// SIGSEGV or SIGILL ourselves would mean competing with the Go runtime's own
// handlers, which own every signal, for a recovery path that can never be
// made exact; the verifier and the JIT's bounds checks make faults impossible
// instead.
//
// A goroutine running native code cannot be preempted: the Go runtime only
// stops a goroutine at a safe point of Go code, and an address outside any Go
// function is never one, so a stop-the-world phase (each garbage collection
// has two) waits until the native code returns. The JIT therefore bounds every
// run: at back-edges and calls it charges an instruction budget, and when the
// budget runs out it returns to Go with an exit code, which lets the scheduler
// and the garbage collector in before the run resumes or fails. Returning is
// not enough by itself: the goroutine must also pass a preemption check, and
// Call's prologue is one (Call is deliberately not NOSPLIT), so re-entering
// native code in a tight loop is safe. Enter relies on its caller's
// prologue instead, which a new run always passes.
//
// # Imports
//
// The standard library and golang.org/x/sys only; in particular nothing from
// bpfdb (TestImports checks it).
package platform
