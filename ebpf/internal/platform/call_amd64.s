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
// The frame is NativeStackBytes (256) + 8 bytes and is not used for locals:
// it reserves the stack that the native code's return address and pushes
// occupy, so the prologue's check covers them. The assembler adds the frame
// pointer save; the function runs:
//
//	prologue: stack check; PUSHQ BP; MOVQ SP, BP; SUBQ $264, SP
//
//	  caller's frame ... args: entry+0(FP), state+8(FP)
//	  return address into the caller
//	  saved BP                             <- BP, and SP after ADJSP $-264
//	  native return address (CALL AX)      \
//	  native pushes, at most 32 words       > the 264 reserved bytes
//	  ...                                  /  <- SP after the prologue
//
// ADJSP $-264 gives the reserved bytes back just before CALL, so CALL and
// the native pushes land inside them. ADJSP (unlike ADDQ on SP) keeps the
// assembler's SP bookkeeping, hence the pc-to-SP table used by tracebacks
// and profiles, exact. Nothing between the ADJSPs is a safe point: the
// runtime never preempts assembly asynchronously, and the stack cannot move
// while the native code runs.
//
// The epilogue generated at RET is ADDQ $264, SP; POPQ BP: it reloads BP
// from the stack, whatever the native code left in it. (ADJSP $264 followed
// by that ADDQ is a wasted pair of instructions, the price of letting the
// assembler write the prologue and epilogue.) The Go caller then
// restores R14 and X15 (see call_amd64.go).
TEXT ·Call(SB), 0, $264-16
	MOVQ entry+0(FP), AX
	MOVQ state+8(FP), DI
	ADJSP $-264
	CALL AX
	ADJSP $264
	RET
