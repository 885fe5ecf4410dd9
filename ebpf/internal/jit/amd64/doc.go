// Package amd64 is an x86-64 machine-code encoder for bpfdb's eBPF JIT: an
// Assembler appends instructions to a byte buffer, with labels and jump
// fixups, and keeps a canonical Intel-syntax text form of every instruction
// it emits so that tests can pin text and bytes together.
//
// It covers what an eBPF JIT needs and nothing more: 8/16/32/64-bit moves
// and ALU operations on registers, immediates and memory, multiplication
// and division, shifts, sign and zero extension, byte swaps, loads and
// stores with [base + index*scale + disp] addressing, LEA (also of a label,
// RIP-relative), SETcc and CMOVcc, the locked read-modify-write
// instructions behind eBPF atomics, conditional and unconditional jumps to
// labels, indirect calls and jumps, PUSH/POP, RET and multi-byte NOP
// padding.
//
// The package imports nothing from the engine and nothing else from the
// runtime: it only knows the x86-64 encoding. A test enforces this.
//
// # Encoding
//
// Every instruction the Assembler emits has the shape
//
//	[66 opsize] [F0 lock] [REX] opcode (1-2 bytes) [ModRM] [SIB] [disp8/32] [imm8/16/32/64]
//
// REX carries the high bit of each register number and the 64-bit operand
// size:
//
//	 7   4   3   2   1   0
//	+-------+---+---+---+---+
//	| 0100  | W | R | X | B |   W: 64-bit operand  R: ModRM.reg  X: SIB.index  B: ModRM.rm/SIB.base/opcode reg
//	+-------+---+---+---+---+
//
// ModRM and SIB select the operands:
//
//	 7  6 5   3 2   0          7   6 5     3 2    0
//	+----+-----+-----+        +-----+-------+------+
//	|mod | reg | rm  |        |scale| index | base |
//	+----+-----+-----+        +-----+-------+------+
//
//	mod 11: rm is a register; 00: [rm]; 01: [rm + disp8]; 10: [rm + disp32]
//	rm 100 (RSP, R12): a SIB byte follows (index 100 = no index)
//	mod 00 with rm or base 101 (RBP, R13) means RIP- or disp32-only, so those
//	bases are always encoded with a displacement, disp8 0 if need be.
//
// An 8-bit register operand numbered 4-7 means AH, CH, DH, BH without a REX
// prefix and SPL, BPL, SIL, DIL with one; the Assembler only exposes the
// latter and emits an empty REX (0x40) when one of them is used.
//
// # Text form
//
// Every instruction has one canonical text, in Intel syntax as llvm-mc reads
// it after ".intel_syntax noprefix": destination first, lower-case register
// names sized by the access ("sil", "r8d", "r12w"), memory operands with a
// size keyword ("qword ptr [rbx + rcx*8 - 16]", none for lea), decimal
// immediates as the caller passed them, labels as "L0", "L1", and padding as
// the directive ".nops n". Assembler.String is the listing; Assembler.Inst
// gives one instruction's offset, length and text. Tests assemble the listing
// with llvm-mc and decode the bytes with golang.org/x/arch/x86/x86asm, so
// text and bytes are checked against two independent tools.
//
// Where x86 offers several encodings the Assembler picks the one llvm-mc
// picks: the MR form for reg, reg operations, the sign-extended imm8 forms
// when the immediate fits, the short accumulator forms for RAX, D1 for a
// shift by one, and the 66 prefix before F0.
//
// # Why are forward jumps rel32?
//
// A jump to a label that is already bound uses rel8 when the displacement
// fits; a jump to a label not yet bound always uses rel32. The rejected
// alternative is branch relaxation (emit short, grow the jumps that do not
// fit, iterate until stable), which saves 3-4 bytes per short forward jump
// but moves code after emission, so every recorded offset (eBPF instruction
// to native offset tables, exit-point tables) would need rewriting, and the
// JIT would need a second pass. Forward rel32 keeps emission single-pass and
// offsets final; a JIT that wants short forward jumps can emit a second time
// with the sizes learned from the first.
//
// # Errors
//
// Instruction methods return nothing. The first invalid operand combination
// is recorded, nothing more is emitted, and Finish returns the error, which
// names the instruction's index and mnemonic and wraps ErrOperand or
// ErrLabel. Panics are reserved for bugs in this package.
package amd64
