package maps

import (
	"encoding/binary"
	"fmt"
	"iter"
	"slices"
	"unsafe"
)

// maxStripes is the largest number of locks of an array.
const maxStripes = 64

// arrayMap implements Array and PerCPUArray: every entry is always present,
// keyed by its little-endian u32 index.
//
// Memory is one slab. An Array has one block; a PerCPUArray has one block
// per worker, each rounded up to a 64-byte cache line and starting on one, so
// that two workers never share a line:
//
//	block of worker 0                      block of worker 1
//	+---------+---------+-----+-----------+---------+---------+-----
//	| entry 0 | entry 1 | ... | line pad  | entry 0 | entry 1 | ...
//	+---------+---------+-----+-----------+---------+---------+-----
//	^ 64-byte aligned  each entry is stride = roundup8(ValueSize) bytes
//
// Locking: LookupRef takes no lock. Go-side copies (Lookup, Update,
// UpdateFrom, All) of the slot of (worker, index) hold stripe number
// (worker*MaxEntries + index) mod len(stripes), so they never see each other
// half done; a Go-side copy of all workers' values locks one worker's slot
// at a time.
type arrayMap struct {
	spec      *Spec
	workers   int
	n         uint64 // MaxEntries
	block     uint64 // bytes per worker block
	slab      slab
	stripes   []stripe
	readOnly  bool // values are read-only to programs
	perWorker bool // a PerCPUArray: worker selects a slot
}

func newArray(s *Spec, workers int) *arrayMap {
	n := uint64(s.MaxEntries)
	stride := roundUp(uint64(s.ValueSize), 8)
	block, align := n*stride, uint64(8)
	if s.Type == PerCPUArray {
		block, align = roundUp(block, cacheLine), cacheLine
	}
	slots := n * uint64(workers)
	stripes := uint64(1)
	for stripes < slots && stripes < maxStripes {
		stripes *= 2
	}
	return &arrayMap{
		spec:      s,
		workers:   workers,
		n:         n,
		block:     block,
		slab:      newSlab(block*uint64(workers), align, stride, uint64(s.ValueSize)),
		stripes:   make([]stripe, stripes),
		readOnly:  s.ReadOnlyProg,
		perWorker: s.Type == PerCPUArray,
	}
}

// Spec implements Map.
func (a *arrayMap) Spec() *Spec { return a.spec }

// Workers implements Map: the number of per-worker slots, 1 for an Array.
func (a *arrayMap) Workers() int { return a.workers }

// Regions implements Map: the whole slab, padding included.
func (a *arrayMap) Regions() []Region {
	return []Region{{Mem: a.slab.mem, Writable: !a.readOnly}}
}

// arrayIndex decodes key; ok is false if it is not 4 bytes.
func arrayIndex(key []byte) (uint64, bool) {
	if len(key) != 4 {
		return 0, false
	}
	return uint64(binary.LittleEndian.Uint32(key)), true
}

// off returns the byte offset of the slot of worker w for entry i.
func (a *arrayMap) off(w int, i uint64) uint64 {
	return uint64(w)*a.block + i*a.slab.stride
}

// lock returns the stripe of the slot of worker w for entry i.
func (a *arrayMap) lock(w int, i uint64) *stripe {
	return &a.stripes[(uint64(w)*a.n+i)&uint64(len(a.stripes)-1)]
}

// key decodes and checks key against the entries.
func (a *arrayMap) key(key []byte) (uint64, error) {
	if err := checkKey(key, 4); err != nil {
		return 0, err
	}
	i, _ := arrayIndex(key)
	if i >= a.n {
		return 0, ErrKeyNotExist
	}
	return i, nil
}

// LookupRef implements Map. It takes no lock. For a PerCPUArray it returns
// nil if worker is not in [0, Workers()); an Array ignores worker.
func (a *arrayMap) LookupRef(worker int, key []byte) []byte {
	i, ok := arrayIndex(key)
	if !ok || i >= a.n {
		return nil
	}
	if !a.perWorker {
		worker = 0
	} else if worker < 0 || worker >= a.workers {
		return nil
	}
	return a.slab.ref(a.off(worker, i))
}

// Lookup implements Map. An index out of range gives ErrKeyNotExist.
func (a *arrayMap) Lookup(key []byte) ([]byte, error) {
	i, err := a.key(key)
	if err != nil {
		return nil, err
	}
	return a.load(i), nil
}

// load copies the values of all workers for entry i.
func (a *arrayMap) load(i uint64) []byte {
	size := a.slab.size
	out := make([]byte, uint64(a.workers)*size)
	for w := range a.workers {
		l := a.lock(w, i)
		l.RLock()
		a.slab.load(out[uint64(w)*size:uint64(w+1)*size], a.off(w, i))
		l.RUnlock()
	}
	return out
}

// check checks the arguments of an update and returns the index.
func (a *arrayMap) check(key, value []byte, size uint64, flags UpdateFlags) (uint64, error) {
	if err := checkFlags(flags); err != nil {
		return 0, err
	}
	i, err := a.key(key)
	if err != nil {
		return 0, err
	}
	if err := checkValue(value, size); err != nil {
		return 0, err
	}
	if flags == UpdateNoExist {
		return 0, ErrKeyExist
	}
	return i, nil
}

// Update implements Map. Every entry exists, so UpdateNoExist always gives
// ErrKeyExist; an index out of range gives ErrKeyNotExist (Linux returns
// E2BIG). For a PerCPUArray, value holds Workers() values, written to the
// workers' slots in order.
func (a *arrayMap) Update(key, value []byte, flags UpdateFlags) error {
	i, err := a.check(key, value, uint64(a.workers)*a.slab.size, flags)
	if err != nil {
		return err
	}
	a.store(i, value)
	return nil
}

// store writes value (the values of all workers) to entry i.
func (a *arrayMap) store(i uint64, value []byte) {
	size := a.slab.size
	for w := range a.workers {
		l := a.lock(w, i)
		l.Lock()
		a.slab.store(a.off(w, i), value[uint64(w)*size:uint64(w+1)*size])
		l.Unlock()
	}
}

// UpdateFrom implements Map: like Update, but value is one ValueSize value,
// written to the slot of worker only for a PerCPUArray (an Array ignores
// worker). It fails with ErrNotSupported if the spec is ReadOnlyProg.
func (a *arrayMap) UpdateFrom(worker int, key, value []byte, flags UpdateFlags) error {
	if a.readOnly {
		return errReadOnly
	}
	if !a.perWorker {
		worker = 0
	} else if worker < 0 || worker >= a.workers {
		return fmt.Errorf("worker %d, want 0 to %d: %w", worker, a.workers-1, ErrInvalid)
	}
	i, err := a.check(key, value, a.slab.size, flags)
	if err != nil {
		return err
	}
	l := a.lock(worker, i)
	l.Lock()
	a.slab.store(a.off(worker, i), value)
	l.Unlock()
	return nil
}

// Delete implements Map: arrays cannot delete entries, so it returns
// ErrNotSupported (Linux returns EINVAL) after checking the key length.
func (a *arrayMap) Delete(key []byte) error {
	if err := checkKey(key, 4); err != nil {
		return err
	}
	return ErrNotSupported
}

// NextKey implements Map. Iteration is in index order. As in Linux, a key
// out of range is followed by index 0.
func (a *arrayMap) NextKey(key []byte) ([]byte, error) {
	next := uint64(0)
	if len(key) != 0 {
		if err := checkKey(key, 4); err != nil {
			return nil, err
		}
		if i, _ := arrayIndex(key); i < a.n {
			next = i + 1
		}
	}
	if next >= a.n {
		return nil, ErrKeyNotExist
	}
	return binary.LittleEndian.AppendUint32(nil, uint32(next)), nil
}

// All implements Map, in index order.
func (a *arrayMap) All() iter.Seq2[[]byte, []byte] {
	return func(yield func([]byte, []byte) bool) {
		for i := range a.n {
			if !yield(binary.LittleEndian.AppendUint32(nil, uint32(i)), a.load(i)) {
				return
			}
		}
	}
}

// writeContents writes one entry of Spec.Contents. For a PerCPUArray a
// single value is written to every worker.
func (a *arrayMap) writeContents(e Entry) error {
	v := e.Value
	if a.workers > 1 && uint64(len(v)) == a.slab.size {
		v = slices.Repeat(v, a.workers)
	}
	return a.Update(e.Key, v, UpdateAny)
}

// ArrayLayout reports where the values of m live if m is an Array created by
// this package: value i (i < entries) starts at base + i*stride and never
// moves while m is reachable, for every worker. A backend may then compute a
// lookup's result itself instead of calling LookupRef (the JIT inlines
// map_lookup_elem). ok is false for every other map, PerCPUArray included.
func ArrayLayout(m Map) (base uintptr, stride uint64, entries uint32, ok bool) {
	a, isArray := m.(*arrayMap)
	if !isArray || a.perWorker || a.n == 0 {
		return 0, 0, 0, false
	}
	return uintptr(unsafe.Pointer(unsafe.SliceData(a.slab.mem))), a.slab.stride, uint32(a.n), true
}
