package maps

import (
	"iter"
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"
)

// hashMap implements Hash and LRUHash with preallocated entries: every slot
// a key can ever use exists from New on, so inserting never allocates value
// memory and LookupRef results always lie inside the value slab.
//
// Memory: slot i owns value bytes [i*stride, i*stride+ValueSize) of the
// value slab (the map's only region) and key bytes [i*KeySize,
// (i+1)*KeySize) of the key slab. The index maps a key to its slot; its
// string keys alias the key slab (see keyString), so inserting does not
// allocate either.
//
//	index (Go map)         keys                 values (region)
//	"k1" ─────────► 0      +----+----+----+     +-------+-------+-------+
//	"k7" ─────────► 2      | k1 | -- | k7 |     | v(k1) | ----- | v(k7) |
//	                       +----+----+----+     +-------+-------+-------+
//	free: [1]   used: 0b101
//
// Locking: mu guards the index, the free list, the used bitmap, the key
// slab and the LRU heap. Readers (LookupRef, Lookup, NextKey, All) hold it
// shared, writers (Update, UpdateFrom, Delete) exclusively; value copies
// are made with it held, so Go-side copies never see each other half done.
// The LRU access stamps are atomics because readers write them.
type hashMap struct {
	spec     *Spec
	lru      bool
	readOnly bool
	ks       uint64 // KeySize
	vals     slab
	keys     []byte

	mu    sync.RWMutex
	index map[string]uint32
	free  []uint32 // stack of free slots; the next insert pops the last
	used  []uint64 // bitmap: bit i is set iff slot i is in index

	// LRUHash only.
	clock  atomic.Uint64   // the last stamp handed out
	stamps []atomic.Uint64 // per slot: the stamp of its last use
	heap   lruHeap
}

func newHash(s *Spec) *hashMap {
	n := uint64(s.MaxEntries)
	stride := roundUp(uint64(s.ValueSize), 8)
	h := &hashMap{
		spec:     s,
		lru:      s.Type == LRUHash,
		readOnly: s.ReadOnlyProg,
		ks:       uint64(s.KeySize),
		vals:     newSlab(n*stride, 8, stride, uint64(s.ValueSize)),
		keys:     make([]byte, n*uint64(s.KeySize)),
		index:    make(map[string]uint32, n),
		free:     make([]uint32, n),
		used:     make([]uint64, (n+63)/64),
	}
	// Pop order is slot 0, 1, 2, ...: until the first delete, iteration
	// order is insertion order.
	for i := range h.free {
		h.free[i] = uint32(n - 1 - uint64(i))
	}
	if h.lru {
		h.stamps = make([]atomic.Uint64, n)
		h.heap = lruHeap{items: make([]heapItem, 0, n), pos: make([]uint32, n)}
	}
	return h
}

// Spec implements Map.
func (h *hashMap) Spec() *Spec { return h.spec }

// Workers implements Map: 1.
func (h *hashMap) Workers() int { return 1 }

// Regions implements Map: the value slab.
func (h *hashMap) Regions() []Region {
	return []Region{{Mem: h.vals.mem, Writable: !h.readOnly}}
}

// keyString returns the key of slot i as a string aliasing the key slab.
// It is used as the index key: a slot's key bytes are written only while
// the slot is free, that is while no index key aliases them, so the string
// never changes while the index holds it.
func (h *hashMap) keyString(i uint32) string {
	return unsafe.String(&h.keys[uint64(i)*h.ks], int(h.ks))
}

// valueOff returns the byte offset of slot i's value.
func (h *hashMap) valueOff(i uint32) uint64 { return uint64(i) * h.vals.stride }

// touch records a use of slot i for the LRU policy. It needs mu held,
// shared or exclusive. A slot that already holds the latest stamp is left
// alone, so repeated uses of the hottest entry only read.
func (h *hashMap) touch(i uint32) {
	if h.stamps[i].Load() != h.clock.Load() {
		h.stamps[i].Store(h.clock.Add(1))
	}
}

// LookupRef implements Map; worker is ignored. It does not allocate. The
// result stays inside Regions for ever, but if another goroutine deletes the
// key, its slot may be reused for another key while the caller still holds
// the slice, as with Linux's preallocated hash maps.
func (h *hashMap) LookupRef(_ int, key []byte) []byte {
	if uint64(len(key)) != h.ks {
		return nil
	}
	h.mu.RLock()
	i, ok := h.index[string(key)]
	if ok && h.lru {
		h.touch(i)
	}
	h.mu.RUnlock()
	if !ok {
		return nil
	}
	return h.vals.ref(h.valueOff(i))
}

// Lookup implements Map.
func (h *hashMap) Lookup(key []byte) ([]byte, error) {
	if err := checkKey(key, h.spec.KeySize); err != nil {
		return nil, err
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	i, ok := h.index[string(key)]
	if !ok {
		return nil, ErrKeyNotExist
	}
	if h.lru {
		h.touch(i)
	}
	out := make([]byte, h.vals.size)
	h.vals.load(out, h.valueOff(i))
	return out, nil
}

// Update implements Map. Inserting a new key into a full Hash gives ErrFull;
// a full LRUHash evicts its least recently used entry instead (see
// lruHeap).
func (h *hashMap) Update(key, value []byte, flags UpdateFlags) error {
	if err := checkFlags(flags); err != nil {
		return err
	}
	if err := checkKey(key, h.spec.KeySize); err != nil {
		return err
	}
	if err := checkValue(value, h.vals.size); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if i, ok := h.index[string(key)]; ok {
		if flags == UpdateNoExist {
			return ErrKeyExist
		}
		h.vals.store(h.valueOff(i), value)
		if h.lru {
			h.touch(i)
		}
		return nil
	}
	if flags == UpdateExist {
		return ErrKeyNotExist
	}
	var i uint32
	switch {
	case len(h.free) > 0:
		i = h.free[len(h.free)-1]
		h.free = h.free[:len(h.free)-1]
	case h.lru:
		i = h.heap.evict(h.stamps)
		h.unindex(i)
	default:
		return ErrFull
	}
	copy(h.keys[uint64(i)*h.ks:], key)
	h.index[h.keyString(i)] = i
	h.used[i/64] |= 1 << (i % 64)
	h.vals.store(h.valueOff(i), value)
	if h.lru {
		s := h.clock.Add(1)
		h.stamps[i].Store(s)
		h.heap.push(i, s)
	}
	return nil
}

// UpdateFrom implements Map: Update, with worker ignored. It fails with
// ErrNotSupported if the spec is ReadOnlyProg.
func (h *hashMap) UpdateFrom(_ int, key, value []byte, flags UpdateFlags) error {
	if h.readOnly {
		return errReadOnly
	}
	return h.Update(key, value, flags)
}

// unindex removes slot i from the index and the used bitmap. It needs mu
// held exclusively.
func (h *hashMap) unindex(i uint32) {
	delete(h.index, h.keyString(i))
	h.used[i/64] &^= 1 << (i % 64)
}

// Delete implements Map. The slot goes back to the free list; its value is
// left as it was until the slot is reused.
func (h *hashMap) Delete(key []byte) error {
	if err := checkKey(key, h.spec.KeySize); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	i, ok := h.index[string(key)]
	if !ok {
		return ErrKeyNotExist
	}
	h.unindex(i)
	if h.lru {
		h.heap.remove(h.heap.pos[i])
	}
	h.free = append(h.free, i)
	return nil
}

// nextUsed returns the first used slot at or after i. It needs mu held.
func (h *hashMap) nextUsed(i uint64) (uint32, bool) {
	for w := i / 64; w < uint64(len(h.used)); w++ {
		bitsLeft := h.used[w]
		if w == i/64 {
			bitsLeft &^= 1<<(i%64) - 1
		}
		if bitsLeft != 0 {
			return uint32(w*64 + uint64(bits.TrailingZeros64(bitsLeft))), true
		}
	}
	return 0, false
}

// NextKey implements Map. Iteration is in slot order: a key's position
// depends on which slot it got when inserted (slot 0, 1, 2, ... until the
// first delete; then the most recently freed slot first). As in Linux, a key
// that is not in the map is followed by the first key. It is not a use for
// the LRU policy.
func (h *hashMap) NextKey(key []byte) ([]byte, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	start := uint64(0)
	if len(key) != 0 {
		if err := checkKey(key, h.spec.KeySize); err != nil {
			return nil, err
		}
		if i, ok := h.index[string(key)]; ok {
			start = uint64(i) + 1
		}
	}
	i, ok := h.nextUsed(start)
	if !ok {
		return nil, ErrKeyNotExist
	}
	return []byte(h.keyString(i)), nil
}

// All implements Map, in slot order like NextKey. It holds mu only while
// copying one entry, so yield may use the map. A key deleted and reinserted
// during the iteration may be seen twice. It does not count as a use.
func (h *hashMap) All() iter.Seq2[[]byte, []byte] {
	return func(yield func([]byte, []byte) bool) {
		for next := uint64(0); ; {
			h.mu.RLock()
			i, ok := h.nextUsed(next)
			if !ok {
				h.mu.RUnlock()
				return
			}
			k := []byte(h.keyString(i))
			v := make([]byte, h.vals.size)
			h.vals.load(v, h.valueOff(i))
			h.mu.RUnlock()
			if !yield(k, v) {
				return
			}
			next = uint64(i) + 1
		}
	}
}

// writeContents writes one entry of Spec.Contents.
func (h *hashMap) writeContents(e Entry) error {
	return h.Update(e.Key, e.Value, UpdateAny)
}
