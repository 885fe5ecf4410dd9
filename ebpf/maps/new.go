package maps

import (
	"fmt"
	"math/bits"
	"slices"
)

// Limits that New enforces, so that a spec from an untrusted object file
// cannot make it allocate without bound.
const (
	// MaxKeySize is the largest key of a hash map: a program builds keys
	// on its 512-byte stack.
	MaxKeySize = 512
	// MaxMemory is the most memory one map may take, counting its values,
	// its keys and the estimated bookkeeping of its index.
	MaxMemory = 1 << 30
	// MaxWorkers is the largest Options.Workers.
	MaxWorkers = 1 << 16
)

// Bookkeeping bytes per entry that count towards MaxMemory besides values
// and keys: the index (a Go map entry, its string header and load factor),
// the free list and the slot bitmap; LRU maps add an access stamp and a heap
// entry with its position.
const (
	hashEntryOverhead = 48
	lruEntryOverhead  = 32
)

// cacheLine is the alignment of each worker's block in a per-worker array,
// so that two workers never write to the same cache line.
const cacheLine = 64

// Options are the settings of New that do not belong to the spec, because
// they depend on the machine rather than on the program.
type Options struct {
	// Workers is the number of per-worker slots of a PerCPUArray: the
	// number of workers that run programs in parallel. Values <= 0 mean 1.
	// Other map types ignore it.
	Workers int
}

// New creates the map that spec describes and writes spec.Contents into it.
//
// It checks the spec: the type must be one bpfdb implements (else
// ErrNotSupported); the value size and the number of entries must be at
// least 1; arrays take 4-byte keys and hash maps keys of 1 to MaxKeySize
// bytes; and the map must fit in MaxMemory. Errors name the map, as in
// `create map "counts": value size 0: invalid argument`, and wrap
// ErrInvalid, or the error of the Update that failed to write an entry of
// Contents (ErrFull when a Hash has more Contents than MaxEntries).
//
// The map keeps a copy of *spec, with its own Contents slice that shares the
// key and value bytes of the caller's.
func New(spec *Spec, opts Options) (Map, error) {
	if spec == nil {
		return nil, fmt.Errorf("create map: nil spec: %w", ErrInvalid)
	}
	s := *spec
	s.Contents = slices.Clone(spec.Contents)
	m, err := newMap(&s, opts)
	if err != nil {
		return nil, fmt.Errorf("create map %q: %w", s.Name, err)
	}
	for i, e := range s.Contents {
		if err := m.writeContents(e); err != nil {
			return nil, fmt.Errorf("create map %q: contents entry %d: %w", s.Name, i, err)
		}
	}
	return m, nil
}

// impl is what every map implementation adds to Map for New.
type impl interface {
	Map
	writeContents(e Entry) error
}

// newMap checks s and allocates the map, without its contents.
func newMap(s *Spec, opts Options) (impl, error) {
	if !s.Type.Valid() {
		return nil, fmt.Errorf("type %v: %w", s.Type, ErrNotSupported)
	}
	if s.ValueSize == 0 {
		return nil, fmt.Errorf("value size 0: %w", ErrInvalid)
	}
	if s.MaxEntries == 0 {
		return nil, fmt.Errorf("max entries 0: %w", ErrInvalid)
	}
	if s.Type.IsArray() {
		if s.KeySize != 4 {
			return nil, fmt.Errorf("key size %d, want 4 for type %v: %w", s.KeySize, s.Type, ErrInvalid)
		}
	} else if s.KeySize == 0 || s.KeySize > MaxKeySize {
		return nil, fmt.Errorf("key size %d, want 1 to %d: %w", s.KeySize, MaxKeySize, ErrInvalid)
	}
	workers := opts.Workers
	if workers <= 0 || s.Type != PerCPUArray {
		workers = 1
	}
	if workers > MaxWorkers {
		return nil, fmt.Errorf("%d workers, more than %d: %w", workers, MaxWorkers, ErrInvalid)
	}

	if need, ok := memoryNeed(s, workers); !ok || need > MaxMemory {
		perWorker := ""
		if s.Type == PerCPUArray {
			perWorker = fmt.Sprintf(" for each of %d workers", workers)
		}
		return nil, fmt.Errorf("%d entries of %d-byte keys and %d-byte values%s need more than %d bytes: %w",
			s.MaxEntries, s.KeySize, s.ValueSize, perWorker, MaxMemory, ErrInvalid)
	}

	switch s.Type {
	case Array, PerCPUArray:
		return newArray(s, workers), nil
	default:
		return newHash(s), nil
	}
}

// memoryNeed returns the bytes a map of spec s with the given workers
// takes, as counted against MaxMemory, and false if that overflows.
func memoryNeed(s *Spec, workers int) (uint64, bool) {
	stride := roundUp(uint64(s.ValueSize), 8)
	n := uint64(s.MaxEntries)
	switch s.Type {
	case Array:
		return mul(n, stride)
	case PerCPUArray:
		block, ok := mul(n, stride)
		return mulOK(ok, roundUp(block, cacheLine), uint64(workers))
	default:
		per := stride + uint64(s.KeySize) + hashEntryOverhead
		if s.Type == LRUHash {
			per += lruEntryOverhead
		}
		return mul(n, per)
	}
}

// roundUp rounds n up to a multiple of a, a power of two. n is far below
// 2^64, as every caller passes a product checked against MaxMemory or a
// value below 2^33.
func roundUp(n, a uint64) uint64 { return (n + a - 1) &^ (a - 1) }

// mul returns a*b and whether it did not overflow.
func mul(a, b uint64) (uint64, bool) {
	hi, lo := bits.Mul64(a, b)
	return lo, hi == 0
}

// mulOK is mul that also fails if ok is false already.
func mulOK(ok bool, a, b uint64) (uint64, bool) {
	p, ok2 := mul(a, b)
	return p, ok && ok2
}
