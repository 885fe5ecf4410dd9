// Package conformance is the bpf_conformance `.data` format. Each file holds
// a program (as assembly, or as raw instruction words), optional input
// memory and the expected value of r0 or the expected error. Parse,
// ParseFile and Glob read files as shared/conformance/bpf_conformance/README.md
// (sections 1 to 3) describes them, with asm.Assemble for the assembly;
// Load and Check run a parsed test in the documented test environment.
//
// The runtime's tests, `bpfdb bpf test` and the asm package's round-trip
// tests share this one parser, so every consumer reads the suite the same
// way.
//
// It must not import the database engine: only the standard library and
// packages under ebpf/ (a test enforces this).
package conformance
