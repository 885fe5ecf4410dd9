package verifier

import (
	"errors"
	"fmt"
	"strings"
)

// ErrRejected is wrapped by every *Error: the program was not proven safe.
var ErrRejected = errors.New("program rejected by the verifier")

// Code classifies why a program was rejected.
type Code uint8

// Rejection codes.
const (
	CodeInvalid           Code = iota // malformed instruction or program structure
	CodeUnsupported                   // an instruction the runtime does not implement
	CodeTooLarge                      // more instructions than Config.MaxInstructions
	CodeUnreachable                   // an instruction no path reaches
	CodeFallsOff                      // a path runs past the end of its function
	CodeUninitRegister                // a read of a register never written on this path
	CodeUninitStack                   // a read of stack bytes never written on this path
	CodeOutOfBounds                   // a memory access not provably inside its object
	CodeContextAccess                 // a context access not matching a declared field
	CodeReadOnly                      // a write to memory the program may only read
	CodeInvalidPointer                // dereference of a scalar, map handle, ...
	CodeNullPointer                   // use of a map lookup result before its null check
	CodePointerLeak                   // a pointer stored, returned or compared where it would leak
	CodePointerArithmetic             // arithmetic a pointer does not allow
	CodeHelper                        // unknown or disallowed helper
	CodeHelperArg                     // a helper argument does not match the prototype
	CodeReturn                        // r0 at exit outside the type's return range
	CodeCallDepth                     // more than 8 nested frames
	CodeInfiniteLoop                  // a loop whose state repeats exactly
	CodeTooComplex                    // the exploration exceeded the complexity limits
	CodeMisaligned                    // an atomic access not naturally aligned
	CodeConfig                        // the configuration itself is invalid
)

var codeNames = [...]string{
	"invalid", "unsupported", "too large", "unreachable", "falls off", "uninit register",
	"uninit stack", "out of bounds", "context access", "read-only", "invalid pointer",
	"null pointer", "pointer leak", "pointer arithmetic", "helper", "helper argument",
	"return value", "call depth", "infinite loop", "too complex", "misaligned", "config",
}

func (c Code) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("Code(%d)", uint8(c))
}

// Error is a rejection: where, why and in which state. Error() is a one-line
// summary; Log holds the kernel-style log of the path that failed.
type Error struct {
	// PC is the slot of the failing instruction (-1 if the failure is not
	// about one instruction).
	PC int
	// Insn is its disassembly.
	Insn string
	// State is the register and stack state on the failing path just
	// before the instruction, as in "R1=ctx(off=0) R10=fp0 fp-8=mmmmmmmm".
	State string
	// Code classifies the reason.
	Code Code
	// Reason is one sentence saying why.
	Reason string
	// Log is the verifier's log: the last 32 instructions processed (with
	// "from X to Y:" where a queued path resumes), the state on the
	// failing path, the failure and the exploration's statistics.
	Log string
}

func (e *Error) Error() string {
	if e.PC < 0 {
		return "verifier: " + e.Reason
	}
	return fmt.Sprintf("verifier: instruction %d (%s): %s", e.PC, e.Insn, e.Reason)
}

// Unwrap returns ErrRejected.
func (e *Error) Unwrap() error { return ErrRejected }

// logRing keeps the last instructions of the exploration for the error
// log: a slot number, or the start of a path popped from the work list
// (from >= 0: "from X to Y").
type logRing struct {
	ents [logLines]logEntry
	n    int
}

type logEntry struct{ pc, from int32 }

const logLines = 32

func (l *logRing) add(pc, from int) {
	l.ents[l.n%logLines] = logEntry{int32(pc), int32(from)}
	l.n++
}

// lines formats the kept entries, oldest first; insn disassembles a slot.
func (l *logRing) lines(insn func(pc int) string) string {
	var b strings.Builder
	start := max(0, l.n-logLines)
	for i := start; i < l.n; i++ {
		e := l.ents[i%logLines]
		if e.from >= 0 {
			fmt.Fprintf(&b, "from %d to %d:\n", e.from, e.pc)
			continue
		}
		fmt.Fprintf(&b, "%d: %s\n", e.pc, insn(int(e.pc)))
	}
	return b.String()
}
