package ext

import "github.com/bpfdb/bpfdb/ebpf"

// Short names for the kinds the header writer distinguishes.
const (
	retVoid     = ebpf.RetVoid
	retMapValue = ebpf.RetMapValueOrNull
	argUninit   = ebpf.ArgUninitMem
)
