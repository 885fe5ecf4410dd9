// Package ext defines the ABI between bpfdb and its eBPF policy programs:
// the seven hooks (Hash, ExecuteForever, ScheduleTask, Load,
// UpdateUsedMemory, AllocateNewBlock, Unpin), and for each the layout of
// its context struct (read-only and writable fields, fixed-capacity
// regions), the helpers it may call with their ids and prototypes, and the
// return codes. It is defined once, here, in Go: Spec.Type gives the
// program type the verifier checks a program against, and Header
// generates include/bpfdb.h, the same ABI for C authors.
//
//	struct bpfdb_unpin_ctx          offset  access
//	  block, seq  (__u64)             0, 8  ro
//	  size, tag, temporary, …       16…     ro
//	  queue, unload                  …      rw   ← the program's decision
//
// The host side (filling contexts, implementing the helpers, enforcing each
// hook's invariants after a call) lives in internal/hooks.
//
// The package imports ebpf and the engine packages whose constants the
// ABI exposes (types, vector, storage/buffer); nothing else of bpfdb.
package ext
