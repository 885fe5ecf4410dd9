// Package jit compiles eBPF programs to x86-64 machine code and runs them.
//
// Compile lowers every instruction to native code with the encoder of
// ebpf/internal/jit/amd64, maps it into a W^X code segment
// (ebpf/internal/platform) and returns a Program with the same Run contract
// as the interpreter's (ebpf/internal/interp): registers hold real host
// addresses, the stack is 8 frames of 512 bytes in Go memory, the
// instruction budget is charged at taken backward jumps and local calls.
//
// # The native code's world
//
// eBPF registers live in host registers for the whole run:
//
//	eBPF  r0  r1  r2  r3  r4  r5  r6  r7  r8  r9  r10
//	x86   rax rdi rsi rdx rcx r8  rbx r13 r14 r15 rbp
//
//	r12   the run's state (below), never changes
//	r9    budget units left in the current slice
//	r10, r11   scratch
//
// A run enters at the start entry, the first byte of the code, with r1 and
// r2 in registers and the budget in the state (Enter: one store and
// platform.Enter, whose arguments they are); the entry derives
// r10 from the state's address (the stack follows the state in the
// Machine), splits off the first budget slice and zeroes r3-r5 (and, for
// an unverified program, r0 and r6-r9). Entries load, and exits save, only
// the registers the program names: the others' values are never observed.
// r10 lives in rbp, Go's frame pointer, which the trampoline's contract
// says to preserve: entries push it and returns pop it, in programs that
// name r10 (or make local calls, which move it). A program without
// backward jumps and local calls never charges the budget, so its entries
// leave r9 alone. A run that needs no Go ends with one RET straight into
// Go (the trampolines jump into the code, see platform.Call); Enter is
// small enough to inline into the runtime's Runner, so a short run costs
// one Go call (whose prologue is the entry's stack check and preemption
// point), the trampoline's jump and its own code.
//
// The code never calls Go. Everything that needs Go (a helper call, a
// memory access the verifier did not prove safe, an exhausted budget slice,
// a fault) stores an exit code, the slot and a resume address into the
// state, saves the registers there and returns to Go (the caller of
// platform.Enter or platform.Call). The Go loop in Run does the work and
// re-enters (platform.Call) at the resume address with the registers
// reloaded. Native code therefore never faults: an access is either
// proven in bounds by the verifier or performed by Go after a region
// check, division by zero and INT_MIN/-1 are handled by explicit
// branches, and nothing else can trap.
//
// The budget is split into slices (SliceUnits at most): when a slice runs
// out the code exits, Go charges it against the run's budget and re-enters
// with a fresh slice, so a long run returns to Go regularly and the
// goroutine can be preempted there (every platform.Call is a preemption
// point) and the garbage collector is never held up for long.
//
// Two kinds of helper calls stay in native code: map_lookup_elem of an
// array map the verifier pinned (Config.Lookups), and pure helpers that
// carry a body of eBPF instructions (Config.Inline, from
// ebpf.Helpers.SetInline), compiled in place of the call.
//
// Local calls keep their frames (r6-r9, r10 and the native return address)
// in the state, not on the native stack, so the code can exit to Go at any
// call depth and resume there.
//
// It imports nothing from the engine.
package jit
