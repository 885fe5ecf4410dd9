// Package extensions holds bpfdb's stock eBPF policies: for each of the
// seven hooks (DESIGN.md §3) a default program that reproduces the
// built-in behaviour exactly, and alternatives that show what a live
// policy change buys. The C sources live in <hook>/<policy>.c and are
// compiled by build.sh (go generate) with clang -O2 -g -target bpf into
// <hook>/<policy>.o; the objects are committed and embedded, so neither
// the database nor its tests need clang. They are built against
// ext/include/bpfdb.h, whose debug information they carry: a change of
// the ABI needs go generate ./extensions (TestObjectsCurrent says so
// where clang is installed).
//
//	hook                 policy          what it does
//	hash                 default         the built-in hash, bit for bit
//	hash                 multiply        one multiply and xor-shift per key
//	execute_forever      default         the built-in worker loop step
//	execute_forever      priority        highest priority, then fewest queued tasks, first
//	schedule_task        default         the built-in placement
//	load                 default         the built-in read on a miss
//	load                 readahead       background reads ahead of sequential misses
//	update_used_memory   default         the built-in per-tag accounting
//	update_used_memory   pressure        the built-in accounting, and which tags press on the limit
//	allocate_new_block   default         the built-in admission
//	allocate_new_block   quota           -ENOMEM past a per-query or per-tag quota
//	unpin                default         the built-in eviction queue
//	unpin                scan_resistant  blocks used twice in memory (after a pause) outlive blocks used once
//
// List describes them, Object returns a policy's ELF object for
// hooks.Registry.Attach (or ATTACH PROGRAM), Source its C text. Each
// object holds one program, in section "bpfdb/<hook>".
//
// # Knobs
//
// The alternatives read their settings from maps an operator writes while
// they run (Attachment.Maps, or the SQL map functions); keys and values
// are little-endian:
//
//	execute_forever/priority     priority     key u64 producer id; value u32 priority, higher first (absent: 0)
//	allocate_new_block/quota     query_quota  key u64 producer id; value u64 bytes a query's buffers may hold
//	                                          (0: no quota); key 0 holds the default of every query
//	allocate_new_block/quota     tag_quota    key u32 BPFDB_TAG_*; value u64 bytes the tag may hold (0: none)
//	allocate_new_block/quota     refused      key u32 0 (by a query's quota) or 1 (by a tag's); value u64
//	                                          allocations refused
//	update_used_memory/pressure  tags         key u32 BPFDB_TAG_*; value {u64 bytes reserved, u64 released,
//	                                          u64 reservations above the threshold, u64 their bytes}
//	update_used_memory/pressure  config       key u32 0; value u32 threshold, percent of the limit (0: 90)
//	load/readahead               config       key u32 0; value u32 blocks to read ahead (0: 8; at most 32)
//	unpin/scan_resistant         seen         key u64 block number, bit 63 set for a temporary buffer;
//	                                          value {u64 ns of the last unpin, u64 run generation, u32 loads
//	                                          then, u32 run slot, u32 hot, u32 scan} (LRU, 16384 blocks)
//	unpin/scan_resistant         streams      key u32 slot 0-7; value {u64 highest block, u64 blocks,
//	                                          u64 ns of the last load, u64 generation}: runs of nearby loads
//	unpin/scan_resistant         config       key u32 0; value {u64 correlated reference period, ns (0: 1 ms),
//	                                          u64 blocks in a run that make a scan (0: 16)}
//
// This package imports only the ABI (ext) of bpfdb, for the hook names;
// its tests drive the programs through internal/hooks against the engine's
// seams (buffer manager, scheduler, hashing).
package extensions

//go:generate sh build.sh
