// Package storage is the parent of the engine's storage layers, bottom up:
//
//   - file: the single database file of checksummed fixed-size blocks, with
//     atomic checkpoints and a metadata root for the table layer;
//   - buffer: the buffer manager, which keeps blocks of that file and
//     temporary buffers of operators in memory under a memory limit, evicting
//     and spilling to a temporary file as needed;
//   - table: columnar row groups stored in buffer-managed blocks.
//
// This package itself holds no code. Nothing under storage imports the eBPF
// runtime (ebpf/...); the buffer manager's policy seams are plain Go
// interfaces that internal/hooks implements.
package storage
