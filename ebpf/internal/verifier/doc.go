// Package verifier proves eBPF programs safe before they run: every memory
// access inside its object, no read of uninitialized registers or stack,
// no pointer leaks, helper calls matching their prototypes; termination
// is proven for loops explored iteration by iteration and left to the
// run-time instruction budget for widened ones (see "How it works").
// Verify checks a program against a core.ProgramType and either returns a
// Result (statistics, and which accesses were proven so a backend may skip
// its run-time checks) or an *Error with a kernel-style log.
//
// # How it works
//
// A structural pass checks every instruction, jump and call target,
// function boundaries, map references and reachability. Then an abstract
// interpreter walks every path depth-first. Its state holds, per register
// and per spilled 8-byte stack slot, a value: uninitialized, a scalar, or a
// pointer (context, stack frame, map value, map value or null, map handle,
// region) with an offset. Scalars and offsets are tracked as signed and
// unsigned 64-bit ranges, 32-bit sub-register ranges and known bits (a
// tnum). Conditional jumps refine both sides and drop a side that cannot
// happen. Stack bytes carry an initialized bit each.
//
// At prune points (jump targets, fall-through of conditional jumps, call
// returns, function entries) the state is stored (at fall-throughs only
// every few instructions); a later path reaching the same point in a
// state covered by a stored state whose exploration is complete stops
// there. Registers that a static liveness pass proves dead at that point
// are not compared. A path that reaches a state exactly equal to an
// ancestor's at the same point, with no widening in between, is an
// infinite loop.
//
// Loops are widened. Their headers are found on each function's control
// flow graph (a compiler may enter a loop by a forward jump to its header
// and jump back to join points inside it): the targets of the edges a
// depth-first search finds back to a node on its stack, which every cycle
// has. At a loop header the first arrivals of a path are explored as they
// are, so that a loop whose state repeats exactly is still caught; the
// second is widened against the first (below) if a value changed by a
// constant step (a counter, so the loop cannot repeat); from the third on,
// the state is compared with the previous arrival's. If that state covers
// it, the path stops: the set of states the previous arrival stands for is
// closed under the loop body, an inductive invariant, and its exploration,
// still in progress, checks every iteration (pruning against a state in
// progress is sound for safety by induction on the length of an execution,
// once the whole exploration succeeds). Otherwise, when both states have
// the same shape (frames, pointer kinds and objects, spilled pointers,
// except in stack slots one of them never wrote), the path goes on from
// their widening: values that grew are joined and their growing bounds
// moved out to thresholds, the next ones among the constants and register
// bounds the loop's conditions compare with, the context fields' declared
// bounds and the ends of objects, or to the type's limits; known bits and
// 32-bit ranges are recomputed from them. Thresholds ascend, so repeated
// widening reaches a state the next arrival is covered by. A conditional
// jump back to a loop header is explored before the paths leaving the loop,
// so those leave from the loop's final state.
//
// Ranges alone cannot say that a loop's counter and the pointers it
// advances move in step, and so cannot prove an access through such a
// pointer once the counter's bound is checked. A value that is a different
// constant at two arrivals, and the values computed from it by adding,
// subtracting or multiplying constants, or copied and spilled, are kept
// linear in a hidden induction variable k, the iteration count (base +
// stride*k modulo 2^64, k in a range of the state); a branch that narrows
// one of them narrows k and all the others. Exact 128-bit arithmetic
// relates k's range to the values' 64-bit views.
//
// Once a loop is widened its termination is no longer proven by walking
// it: it is guaranteed by the run-time instruction budget, which both
// engines (ebpf/internal/interp and ebpf/internal/jit) charge on every
// taken backward jump and every local call of every program, and whose
// exhaustion ends the run with ErrBudget. A loop that is truly infinite is
// rejected if its state repeats exactly within its first arrivals (a jump
// to itself, a loop whose body changes nothing it tests), and otherwise
// accepted and stopped by the budget.
//
// # What is checked
//
//   - Structure: valid and supported instructions, at most MaxInstructions
//     slots, jumps inside their function, no fall-through off a function's
//     end, no unreachable instruction, lddw map references inside the map
//     table, no write to r10.
//   - Registers: no read of an uninitialized register; r1-r5 are
//     clobbered by helper calls; bpf-to-bpf calls pass r1-r5, start the
//     callee with r0 and r6-r9 uninitialized, restore r6-r9 on return; at
//     most 8 frames.
//   - Memory: loads and stores inside their object with the right width:
//     the stack frame (512 bytes), a map value (its value size), a region
//     of the program type; context accesses only at a declared field's
//     offset and size, stores only to writable scalar fields; writes only
//     to writable memory; atomics naturally aligned and never on the
//     context; stack reads only of initialized bytes.
//   - Pointers: arithmetic only as 64-bit add/sub of a bounded scalar
//     (offsets stay within ±2^29) or the difference of two pointers into
//     the same stack frame, context or region (never two map values);
//     pointers are spilled only by aligned 8-byte stores and never stored
//     to maps, regions or the context, never returned in r0 from the
//     entry function, never compared except against 0 (null checks) or
//     with pointers into the same object.
//   - Maps and helpers: each argument matches the helper's core.Prototype;
//     a lookup returns map-value-or-null, which must be null-checked before
//     use; keys and values are initialized memory of the map's sizes.
//   - Exit: r0 is an initialized scalar inside the type's return range.
//
// # Not checked (yet)
//
//   - ArgAnything helper arguments accept pointers: a helper that returns
//     its argument as a scalar would leak it, so a helper declares
//     ArgAnything only if it never hands the value back (the conformance
//     test helpers, which do, take ArgScalar).
//   - Stack slots are compared in full when pruning (no stack liveness).
//   - Termination of widened loops (see "How it works"): a program run
//     with an unlimited budget (ebpf.ProgramOptions.Budget < 0) may not
//     end, unless it was verified with Config.NoWiden, which walks loops
//     iteration by iteration as Linux does and so proves that every
//     accepted loop ends.
//   - Relations between values are tracked only as linear functions of
//     loop iteration counts: a loop whose body's safety depends on another
//     relation (an index that grows quadratically, a bound computed from
//     two counters) loses it when widened and is rejected even if safe.
//
// It imports only the runtime's core, asm and maps packages, never the
// engine.
package verifier
