#include "textflag.h"

// func Call(entry uintptr, state unsafe.Pointer)
//
// Not NOSPLIT, on purpose: the stack check that the assembler puts in the
// prologue is what makes every entry into native code a preemption point.
// A goroutine that only re-enters native code (the JIT resuming after an
// exhausted instruction budget) passes no other Go prologue, and if Call
// skipped the check, a stop-the-world would wait for the loop to end
// (TestReentryIsPreemptible). The check also grows the stack when the frame
// below does not fit, and it costs a compare and a branch.
//
// Call does not call the native code: it jumps to it with Call's own frame
// given back, so that the native RET returns straight to Call's caller (one
// call and one return fewer per entry). The frame is never used for locals:
// its 248 bytes and the frame pointer save that the assembler adds are the
// NativeStackBytes (256) the native code may push, and they exist so that
// the prologue's check covers that stack, which lies where the frame was.
// The function runs:
//
//	prologue: stack check; PUSHQ BP; MOVQ SP, BP; SUBQ $248, SP
//	load entry and state; ADJSP $-248; POPQ BP; JMP entry
//	morestack call of the stack check (out of line)
//
//	  caller's frame ... args: entry+0(FP), state+8(FP)
//	  return address into the caller     <- SP at the JMP
//	  native pushes, at most 32 words    \  the 8 + 248 bytes
//	  (RBP's save among them)            /  the prologue checked
//
// ADJSP (unlike ADDQ on SP) keeps the assembler's SP bookkeeping, hence the
// pc-to-SP table used by tracebacks and profiles, exact. Nothing after the
// JMP is Go code: the runtime never preempts it asynchronously, and the
// stack cannot move while the native code runs. The native code restores
// RBP (Go's frame pointer) itself; the Go caller restores R14 and X15 (see
// call_amd64.go).
TEXT ·Call(SB), 0, $248-16
	MOVQ entry+0(FP), AX
	MOVQ state+8(FP), DI
	ADJSP $-248
	POPQ BP
	JMP AX
	// Not reached. The assembler tracks SP along the text and places the
	// stack check's call of morestack after this point, expecting the
	// frame there (it subtracts the frame at that call); these two
	// instructions give its bookkeeping the frame and the saved BP back,
	// so that the pc-to-SP table is right at the morestack call, where a
	// goroutine preempted in the prologue has its stack scanned.
	PUSHQ BP
	ADJSP $248

// func textAddr() unsafe.Pointer
//
// textAddr returns the address of Call, in the Go program's text: code
// segments are placed near it (see arena_unix.go).
TEXT ·textAddr(SB), NOSPLIT, $0-8
	LEAQ ·Call(SB), AX
	MOVQ AX, ret+0(FP)
	RET

// func Enter(entry uintptr, state unsafe.Pointer, a, b uint64)
//
// Enter is Call without a prologue, and with two more arguments, in RSI
// and RDX: NOSPLIT and without a frame, it loads the arguments and jumps. The stack check that covers the native code is
// the one in the prologue of Enter's Go caller, which leaves at least the
// stack guard's StackGuard - StackSmall bytes (800 on linux/amd64, twice
// that under -race) below the caller's frame, more than the 8 + 256 that
// Enter's return address and the native pushes take. See call_amd64.go.
TEXT ·Enter(SB), NOSPLIT|NOFRAME, $0-32
	MOVQ entry+0(FP), AX
	MOVQ state+8(FP), DI
	MOVQ a+16(FP), SI
	MOVQ b+24(FP), DX
	JMP AX
