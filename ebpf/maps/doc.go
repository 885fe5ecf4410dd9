// Package maps implements eBPF maps: array, hash, LRU hash and per-worker
// array. Maps are shared by programs and Go code, safe for concurrent use,
// and outlive the programs that use them.
//
// It imports nothing from the rest of bpfdb.
package maps
