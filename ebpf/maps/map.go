package maps

import (
	"errors"
	"fmt"
	"iter"
)

// Type is a map type, numbered as Linux numbers them.
type Type uint32

// The map types bpfdb implements.
const (
	Hash        Type = 1 // hash table with preallocated entries
	Array       Type = 2 // array indexed by a u32 key, entries always present
	PerCPUArray Type = 6 // array with one value per worker
	LRUHash     Type = 9 // hash table that evicts the least recently used entry when full
)

// Valid reports whether bpfdb implements maps of type t.
func (t Type) Valid() bool {
	switch t {
	case Hash, Array, PerCPUArray, LRUHash:
		return true
	}
	return false
}

// IsArray reports whether t is indexed by a little-endian u32 key with every
// entry always present (Array and PerCPUArray).
func (t Type) IsArray() bool { return t == Array || t == PerCPUArray }

func (t Type) String() string {
	switch t {
	case Hash:
		return "hash"
	case Array:
		return "array"
	case PerCPUArray:
		return "percpu_array"
	case LRUHash:
		return "lru_hash"
	}
	return fmt.Sprintf("Type(%d)", uint32(t))
}

// Spec describes a map to create. New checks it: see New for the limits.
type Spec struct {
	// Name names the map in error messages.
	Name string
	// Type selects the kind of map.
	Type Type
	// KeySize is the key length in bytes: 4 for arrays, 1 to MaxKeySize for
	// hash maps.
	KeySize uint32
	// ValueSize is the value length in bytes, at least 1. For a per-worker
	// array it is the size of one worker's value.
	ValueSize uint32
	// MaxEntries is the number of entries of an array, or the capacity of a
	// hash map. At least 1.
	MaxEntries uint32
	// ReadOnlyProg makes the values read-only to programs (BPF_F_RDONLY_PROG);
	// Go code can still write them. The loader sets it for .rodata.
	ReadOnlyProg bool
	// Contents are entries written when the map is created, in order, as
	// Update(key, value, UpdateAny) writes them. For a per-worker array a
	// value may also be ValueSize bytes long: it is then written to the slot
	// of every worker.
	Contents []Entry
}

// Entry is one key/value pair of initial contents.
type Entry struct {
	Key, Value []byte // KeySize and ValueSize bytes long
}

// UpdateFlags select the behaviour of Update, numbered as Linux numbers them.
type UpdateFlags uint64

// Update flags. They are exclusive values, not bits; any other value is
// rejected with ErrInvalid.
const (
	UpdateAny     UpdateFlags = 0 // create or replace
	UpdateNoExist UpdateFlags = 1 // create only: ErrKeyExist if present
	UpdateExist   UpdateFlags = 2 // replace only: ErrKeyNotExist if absent
)

func (f UpdateFlags) String() string {
	switch f {
	case UpdateAny:
		return "any"
	case UpdateNoExist:
		return "noexist"
	case UpdateExist:
		return "exist"
	}
	return fmt.Sprintf("UpdateFlags(%#x)", uint64(f))
}

// Errors returned by map operations. Helpers map them to negative errno
// values for programs (see Errno).
//
// The outcomes a program is expected to handle (ErrKeyNotExist, ErrKeyExist,
// ErrFull) are returned unwrapped, so that they cost no allocation; invalid
// arguments are wrapped with a message that names what was wrong, for
// example "key is 3 bytes, want 4: invalid argument".
var (
	// ErrKeyNotExist: the key is absent, an array index is out of range,
	// or NextKey reached the last key.
	ErrKeyNotExist = errors.New("key does not exist")
	// ErrKeyExist: UpdateNoExist of a present key (every array key is).
	ErrKeyExist = errors.New("key already exists")
	// ErrFull: inserting a new key into a full Hash map.
	ErrFull = errors.New("map is full")
	// ErrNotSupported: Delete on an array, UpdateFrom on a map that is
	// read-only to programs, or New with a type bpfdb does not implement.
	ErrNotSupported = errors.New("operation not supported by this map type")
	// ErrInvalid: a bad spec, key or value length, flag or worker.
	ErrInvalid = errors.New("invalid argument")
)

// Region is a span of map memory that programs may address directly: the
// values returned by LookupRef always lie inside one of a map's regions.
type Region struct {
	Mem      []byte // the memory, 8-byte aligned; never moves
	Writable bool   // whether programs may store into it
}

// Map is a key/value store shared by programs and Go code.
//
// Lifecycle: a map is created with New and lives as long as something
// references it; it outlives the programs that use it, so its state survives
// a program reload. Its regions are allocated by New and never move.
//
// Concurrency: every method is safe for concurrent use by any number of
// goroutines, whether they run programs or Go code. No method holds a lock
// for longer than one value copy (plus, in an LRU hash map, one eviction);
// LookupRef on an array takes no lock at all.
// Value memory is shared, as in the kernel: a program that holds a value
// pointer while Go code updates the same entry may see a torn value, but
// never memory outside the map. Go-side copies are made under the entry's
// lock, one atomic 8-byte word at a time (see the package doc).
//
// Keys and values passed in are not retained; values returned are copies,
// except those of LookupRef.
type Map interface {
	// Spec returns the map's description. The caller must not modify it.
	Spec() *Spec

	// Lookup copies the value stored under key into a new slice. For a
	// per-worker array the result holds the values of all workers in order,
	// each ValueSize bytes long. An absent key (an array index out of
	// range) gives ErrKeyNotExist.
	Lookup(key []byte) ([]byte, error)
	// Update stores value under key, as flags allow. For a per-worker array,
	// value holds one value per worker (Workers()*ValueSize bytes). A new
	// key in a full Hash gives ErrFull; a full LRUHash evicts its least
	// recently used entry instead.
	Update(key, value []byte, flags UpdateFlags) error
	// Delete removes key. Arrays return ErrNotSupported; an absent key
	// gives ErrKeyNotExist.
	Delete(key []byte) error
	// NextKey returns the key that follows key in iteration order, or the
	// first key when key is nil (or empty) or, as in Linux, not in the map;
	// ErrKeyNotExist after the last one. Arrays iterate in index order, hash
	// maps in slot order, which is insertion order until the first delete.
	// Iterating while nothing changes visits every key exactly once.
	NextKey(key []byte) ([]byte, error)
	// All iterates over a snapshot-free view of the entries, in NextKey
	// order: keys and values are copies; entries added or removed during
	// iteration may or may not be seen. The loop body may use the map.
	All() iter.Seq2[[]byte, []byte]

	// LookupRef is the program-side lookup: it returns the value stored
	// under key as a slice aliasing map memory (inside one of Regions), or
	// nil if absent or if key has the wrong length. For a per-worker array
	// it returns the slot of worker (nil if worker is out of range); other
	// maps ignore worker. It must not allocate.
	LookupRef(worker int, key []byte) []byte
	// UpdateFrom is the program-side update: like Update, but for a
	// per-worker array value is one ValueSize value, written only to the
	// slot of worker. It returns ErrNotSupported if the map is read-only to
	// programs (Spec.ReadOnlyProg).
	UpdateFrom(worker int, key, value []byte, flags UpdateFlags) error
	// Regions returns the memory that LookupRef results lie in. It is fixed
	// for the life of the map; each call returns a new slice describing
	// the same memory.
	Regions() []Region
	// Workers returns the number of per-worker slots (1 for shared maps).
	Workers() int
}

// Errno returns the negative Linux errno value a helper returns to a
// program for err: 0 for nil.
func Errno(err error) int64 {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrKeyNotExist):
		return -2 // ENOENT
	case errors.Is(err, ErrFull):
		return -7 // E2BIG
	case errors.Is(err, ErrKeyExist):
		return -17 // EEXIST
	case errors.Is(err, ErrNotSupported):
		return -95 // EOPNOTSUPP
	default:
		return -22 // EINVAL
	}
}
