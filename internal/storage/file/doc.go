// Package file is bpfdb's database file: one operating-system file of
// fixed-size blocks (256 KiB by default), two alternating header slots, and
// atomic checkpoints.
//
// # File layout
//
//	offset 0        4096       8192                8192+B        8192+2B
//	┌──────────────┬──────────┬───────────────────┬─────────────┬───
//	│ header slot 0│ header   │ block 0           │ block 1     │ …
//	│              │ slot 1   │ (B = block size)  │             │
//	└──────────────┴──────────┴───────────────────┴─────────────┴───
//
// Block n starts at byte 8192 + n·B. B is recorded in the header; it is a
// power of two from 4 KiB to 256 KiB (256 KiB unless a test asks for less).
//
// # Header slot (4096 bytes, integers little-endian)
//
//	 0        8        12       16                24               32
//	┌────────┬────────┬────────┬────────────────┬────────────────┬
//	│ magic  │version │ block  │ checkpoint     │ block count    │
//	│ 8 B    │ u32    │ size   │ number u64     │ u64            │
//	└────────┴────────┴────────┴────────────────┴────────────────┴
//	 32               40               48               56      60      4096
//	┬────────────────┬────────────────┬────────────────┬───────┬───────┐
//	│ root block u64 │ metadata bytes │ free blocks    │ CRC-32│ zero  │
//	│ (or 2⁶⁴−1)     │ u64            │ u64            │ C u32 │       │
//	┴────────────────┴────────────────┴────────────────┴───────┴───────┘
//
// The magic is the 8 bytes 89 'B' 'P' 'F' 'D' 'B' '\r' '\n' (the high byte
// and the line ending catch transfers that mangle binary files). The CRC-32C
// (Castagnoli) covers every byte of the slot except its own four, so a flipped
// bit anywhere in the slot is detected. A slot of all zero bytes is empty.
//
// # Block (B bytes)
//
//	 0       4       8               16                              B
//	┌───────┬───────┬───────────────┬──────────────────────────────┐
//	│ CRC-32│ zero  │ epoch u64     │ payload (B − 16 bytes)       │
//	│ C u32 │ u32   │               │                              │
//	└───────┴───────┴───────────────┴──────────────────────────────┘
//
// The CRC-32C covers the block's own number (8 bytes, little-endian)
// followed by bytes [4, B): a block read from the wrong offset fails its
// check. The epoch is the number of the checkpoint the block was written
// for; a checkpoint may only reference blocks whose epoch is at most its own
// number, which catches a block that was reused after the header naming it
// became stale.
//
// # Checkpoint chain
//
// A checkpoint stores a byte stream in a chain of blocks starting at the
// header's root block: first the free list (the free block numbers as u64,
// ascending; the header says how many), then the metadata bytes of the table
// layer (the header says how many). Each chain block's payload is
//
//	 16               24       28       32                           B
//	┌────────────────┬────────┬────────┬──────────────────────────┐
//	│ next block u64 │ used   │ zero   │ stream bytes             │
//	│ (or 2⁶⁴−1)     │ u32    │ u32    │ (used of B − 32)         │
//	└────────────────┴────────┴────────┴──────────────────────────┘
//
// # Atomic checkpoints
//
// Checkpoint writes the new chain into blocks the last checkpoint does not
// reference, fsyncs, then writes the header into the slot the last
// checkpoint did not use, with the next checkpoint number, and fsyncs again.
// Open takes the valid slot with the higher number. A crash before the
// header is durable leaves the old header, whose blocks were never
// overwritten; a torn header write fails its checksum and the older slot is
// used. Blocks the last checkpoint references are never written: freeing
// one takes effect only after the next checkpoint completes. Once a newer
// checkpoint is durable, the older slot's blocks may be reused; if the
// newer slot is later damaged, Open falls back to the older one, and the
// epochs of its chain blocks (and of its data blocks, when read) reveal any
// that were reused, as an error rather than wrong data.
//
// Open reads the header and the chain only, so reopening costs time
// proportional to the metadata and free list, not to the data. It opens the
// file read-only, validates it, and only then (if asked to write) opens it
// for writing, so a file that is not a valid database is never modified.
//
// This package imports only the standard library; it knows nothing of
// tables, the buffer manager or the eBPF runtime.
package file
