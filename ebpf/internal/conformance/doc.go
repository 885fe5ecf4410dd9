// Package conformance reads the test vectors of the bpf_conformance suite:
// `.data` files holding a program (as assembly, or as raw instruction
// words), optional input memory and the expected value of r0 or the
// expected error. The format is described in
// shared/conformance/bpf_conformance/README.md, sections 1 to 3; Parse
// implements it and asm.Assemble implements the assembly syntax.
//
// The runtime's tests, the bpfdb command and the asm package's round-trip
// tests share this one parser, so that every consumer reads the suite the
// same way.
//
// It must not import the database engine: only the standard library and
// packages under ebpf/.
package conformance
