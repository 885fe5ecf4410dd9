// Package asm models eBPF instructions as RFC 9669 (BPF ISA v4) defines them:
// typed opcodes, strict decoding of raw bytecode, encoding, a text assembler
// for the syntax of the bpf_conformance suite and a disassembler that prints
// the same syntax, so that assemble → disassemble → assemble round-trips.
//
// # Text syntax
//
// Assemble documents the grammar. It is the bpf_conformance assembler's
// (shared/conformance/bpf_conformance/README.md, section 3), extended for
// the instructions that syntax cannot write, so that every valid
// instruction has a text form:
//
//	lddw %r1, map 3             lddw with src 1 (PseudoMapFD): imm = 3
//	lddw %r1, mapvalue 3+16     src 2 (PseudoMapValue): imm = 3, next imm = 16
//	lddw %r1, btf 7             src 3; likewise func (4), mapidx (5), mapidxvalue (6)
//	ldabsw 0x10                 legacy packet load, absolute (ldabsb, ldabsh)
//	ldindw %r2, 4               legacy packet load, indirect: src = %r2 (ldindb, ldindh)
//	call kfunc 7                a synonym of the conformance `call runtime 7` (src 2)
//
// For a pseudo lddw the two 32-bit immediates print as unsigned decimals;
// the second is left out when it is zero, except for the two map-value
// kinds, which always show their offset.
//
// The disassembler (Instruction.String, Disassemble) prints numbers so that
// they re-assemble to the same bits: immediates in decimal when their
// magnitude is at most 4096 and otherwise as a 32-bit hex pattern (always
// hex for and, or, xor and jset), lddw constants likewise with 64 bits, and
// memory and jump offsets as decimals with an explicit sign ([%r10-8],
// +3). Jumps print relative offsets, never labels. Where the conformance
// syntax has two spellings the disassembler picks one: bswapNN (not
// swapNN), `call N` (not `call helper N`), `call runtime N` (not kfunc),
// [%rN+0] (not [%rN]).
//
// It imports nothing from the rest of bpfdb.
package asm
