// Package hooks is the glue between the engine's policy seams and the eBPF
// runtime: it holds, per database, one slot per hook (DESIGN.md §3), loads,
// verifies and compiles the programs attached to them, and implements the
// seams' Go interfaces by running the attached program: fill the hook's
// context from the engine's arguments, run, apply the decision, enforce
// the seam's invariants (repairing and counting violations).
//
//	engine seam                 site here                    program type
//	hash.Policy (hash.Slot)  ─► Registry.HashSlot          ─► ext.Hash
//	buffer.LoadPolicy        ─► Registry.LoadPolicy        ─► ext.Load
//	buffer.UnpinPolicy       ─► Registry.UnpinPolicy       ─► ext.Unpin
//	buffer.AllocatePolicy    ─► Registry.AllocatePolicy    ─► ext.AllocateNewBlock
//	buffer.MemoryPolicy      ─► Registry.MemoryPolicy      ─► ext.UpdateUsedMemory
//	parallel.SchedulePolicy  ─► Registry.SchedulePolicy    ─► ext.ScheduleTask
//	parallel.ExecutePolicy   ─► Registry.ExecutePolicy     ─► ext.ExecuteForever
//
// Every hook has a site. The Load site runs on the miss path of Pin with
// the block's mutex held by the buffer manager: its context comes from
// the block's lock-free identity (Block.Kind, Block.Number), its helpers
// read the block (Manager.ReadBlock) and start readaheads of other blocks
// (Manager.ReadAhead, which never waits for a block's mutex), and the host
// reads the block itself whenever the program did not.
//
// Life of an attachment (Registry.Attach): parse the ELF object → pick the
// program → verify it against the hook's program type, with the hook's
// helpers (implemented here) → compile (JIT where available) → reuse the
// maps of the previous attachment of the hook by name where their specs
// match → one atomic store into the hook's slot. Calls in flight finish on
// the program they loaded; a Hash program is captured per operator
// (hash.Slot.Capture), so both sides of a join agree across a swap.
//
// A call runs on one of the attachment's runners (its own machine,
// context and regions), taken with one compare-and-swap; the runner's
// index is the worker slot of per-worker maps. A program that fails
// (negative return, fault, budget exhausted) makes that call use the
// built-in behaviour; after Options.MaxErrors failures the program is
// detached and the event logged.
//
// With nothing attached a site costs one atomic load and a branch. Built
// with the tag nohooks, the sites are the built-in policies themselves and
// Attach fails with ErrDisabled: the baseline of overhead measurements.
//
// # Wiring (for the database)
//
// One Registry per database, created before the engine's parts, whose
// policies are the registry's sites:
//
//	reg := hooks.New(hooks.Options{Runners: threads})
//	bm, err := buffer.New(buffer.Options{…, Load: reg.LoadPolicy(),
//		Unpin: reg.UnpinPolicy(), Memory: reg.MemoryPolicy(),
//		Allocate: reg.AllocatePolicy()})
//	sched := parallel.New(parallel.Options{…, Execute: reg.ExecutePolicy(),
//		Schedule: reg.SchedulePolicy()})
//	hashSlot := reg.HashSlot() // operators: hashSlot.Capture() when they start
//
// ATTACH PROGRAM 'f.o' TO HOOK h is reg.AttachFile(ext.ParseHook(h), "f.o",
// "") (Attachment.Object keeps the bytes, to record and re-attach at open);
// DETACH PROGRAM FROM HOOK h is reg.Detach(h); a listing (bpfdb_hooks())
// is reg.List(): per hook the Attachment, with its Name, Section, Engine,
// Since, Stats (calls, handled, errors, violations, time), LastError and
// Maps. Options.Runners should be at least the scheduler's threads: each
// worker's ExecuteForever calls run on the runner of its number.
//
// This package may import the eBPF runtime (ebpf, ebpf/maps), the ABI
// (ext) and the engine packages whose seams it implements (exec/hash,
// storage/buffer, parallel, with types and vector); nothing above them (no planner,
// no database, no SQL).
package hooks
