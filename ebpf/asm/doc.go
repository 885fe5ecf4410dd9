// Package asm models eBPF instructions as RFC 9669 (BPF ISA v4) defines them:
// typed opcodes, strict decoding of raw bytecode, encoding, a text assembler
// for the syntax of the bpf_conformance suite and a disassembler that prints
// the same syntax, so that assemble → disassemble → assemble round-trips.
//
// It imports nothing from the rest of bpfdb.
package asm
