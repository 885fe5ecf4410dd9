// Package ebpf is bpfdb's eBPF runtime: it loads programs from ELF objects
// or assembly, verifies them, and runs them in an interpreter or (on amd64)
// as native code, with maps and helper functions.
//
// The runtime is reusable on its own: nothing under ebpf/ imports the
// database engine.
package ebpf
