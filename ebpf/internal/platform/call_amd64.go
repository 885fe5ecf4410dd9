package platform

import "unsafe"

// Call runs native code from entry, an address inside a CodeSegment, on the
// current goroutine and returns when the code executes RET. It and Enter
// are the only ways into native code; everything the code needs or reports
// travels through the memory at state.
//
// The native code's contract (the ABI of the trampoline, amd64):
//
//	on entry   RDI = state; [RSP] = the return address into Call's caller
//	           (Call jumps to entry, see call_amd64.s); no other register
//	           carries a value (RAX holds entry).
//	may        clobber RAX, RBX, RCX, RDX, RSI, RDI, R8–R15 (R14 included:
//	           Call's caller restores it), X0–X15, the arithmetic flags.
//	preserve   RBP, Go's frame pointer: code that uses it pushes it first
//	           and pops it before RET.
//	stack      RSP stays on the goroutine stack; the code may push up to
//	           NativeStackBytes (32 words, RBP's save among them) below its
//	           return address and must CALL nothing outside itself. Its own
//	           data stack (the eBPF stack) is ordinary Go memory reached
//	           through state.
//	must       return with RET and RSP as on entry; leave DF clear and MXCSR
//	           and the x87 control word unchanged (Go assumes both); run
//	           a bounded time (see the package doc); store no Go pointers
//	           into Go memory (no write barrier runs here: store only
//	           scalars, or pointers to memory outside the Go heap).
//
// What else Go requires on return is restored by Call's caller. Call is an
// ABI0 (assembly) function; Go code, which is compiled to ABIInternal,
// calls it directly and, right after each such call, re-zeroes X15 and
// reloads R14 (the current g) from thread-local storage
// (cmd/compile/internal/amd64/ssa.go, CALLstatic from ABIInternal to
// ABI0); a call through a func value goes through an ABIInternal-to-ABI0
// wrapper that makes the same direct call. All other registers are
// caller-saved in both Go ABIs.
//
// Call is a preemption point: its prologue checks the stack like any Go
// function's, so a pending preemption or stop-the-world is honoured before
// the native code is entered, and a loop that re-enters native code (say
// after each exhausted instruction budget) lets the scheduler and the
// garbage collector in between runs. Inside the native code the goroutine
// cannot be stopped (see the package doc). The check may grow, hence move,
// the goroutine stack before the native code starts, never while it runs.
//
// state must point to memory that stays alive and in place for the call:
// heap memory that the caller keeps referenced, or a local of the caller
// (the stack cannot move while native code runs; if the prologue moves it,
// state is adjusted like any pointer argument). Addresses stored in the
// state as integers are not adjusted: memory the native code reaches through
// them (the eBPF stack, the context, map values) must not be on the
// goroutine stack; allocate it on the heap or outside the Go heap. Nothing inside Call is
// preempted asynchronously (the runtime never preempts assembly), so a
// signal is the only thing that can interrupt the native code; Go's handlers
// run on the signal stack and find g through thread-local storage, not R14.
//
// Call panics nowhere and checks nothing: entry must come from a CodeSegment
// that is not closed, and must begin code that obeys the contract above.
//
//go:noescape
func Call(entry uintptr, state unsafe.Pointer)

// textAddr returns the address of Call, in the program's text (see
// arena_unix.go).
func textAddr() unsafe.Pointer

// Enter runs native code as Call does, under the same contract, with a
// and b in RSI and RDX besides the state in RDI, but has no prologue: the stack check and the preemption point are those of the Go
// function that calls Enter, which must be an ordinary one (not marked
// //go:nosplit; a function that makes a call is never a frameless leaf).
// Its check leaves the guard below its frame, at least 800 bytes
// (StackGuard - StackSmall on linux/amd64), which holds Enter's return
// address and the NativeStackBytes the code may push; a goroutine that
// enters native code in a loop passes that prologue on each entry. It is
// for the first entry of a run, which every caller reaches through a Go
// function (the JIT's Run, the runtime's Runner.Run), and saves the
// prologue's thread-local load of g, its compare and branch and the frame.
// Measured: alone (BenchmarkRoundTrip) it is no faster than Call, whose
// two extra argument words it pays for; in the JIT's runs, with the first
// entry and the resumes on jumps of their own, a run that calls helpers
// through Go took 1.5 ns less per call (helper_call 691 -> 539 ns, min of
// 2000 rounds), and short runs up to half a nanosecond less. Two words in
// registers spare the caller two stores to the state and the code the
// loads that would wait for them. A loop that re-enters native code without another Go call
// in between (resuming after exits to Go) must use Call.
//
//go:noescape
func Enter(entry uintptr, state unsafe.Pointer, a, b uint64)
