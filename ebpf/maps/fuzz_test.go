package maps

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// model is the oracle for hash maps: a Go map plus, for LRU maps, the keys
// from least to most recently used.
type model struct {
	lru    bool
	max    int
	vals   map[string][]byte
	recent []string
}

func (m *model) use(k string) {
	if i := slices.Index(m.recent, k); i >= 0 {
		m.recent = slices.Delete(m.recent, i, i+1)
	}
	m.recent = append(m.recent, k)
}

func (m *model) update(k string, v []byte, flags UpdateFlags) error {
	if flags > UpdateExist {
		return ErrInvalid
	}
	if _, ok := m.vals[k]; ok {
		if flags == UpdateNoExist {
			return ErrKeyExist
		}
		m.vals[k] = v
		m.use(k)
		return nil
	}
	if flags == UpdateExist {
		return ErrKeyNotExist
	}
	if len(m.vals) == m.max {
		if !m.lru {
			return ErrFull
		}
		delete(m.vals, m.recent[0])
		m.recent = m.recent[1:]
	}
	m.vals[k] = v
	m.use(k)
	return nil
}

func (m *model) delete(k string) error {
	if _, ok := m.vals[k]; !ok {
		return ErrKeyNotExist
	}
	delete(m.vals, k)
	m.recent = slices.DeleteFunc(m.recent, func(x string) bool { return x == k })
	return nil
}

func (m *model) lookup(k string) ([]byte, bool) {
	v, ok := m.vals[k]
	if ok {
		m.use(k)
	}
	return v, ok
}

// sameErr reports whether got is want: both nil, or got wraps want.
func sameErr(got, want error) bool {
	if want == nil || got == nil {
		return got == want
	}
	return errors.Is(got, want)
}

// runHashOps decodes data into a map configuration and a sequence of
// operations, runs them on a hash map and on the model, and reports the
// first disagreement.
//
// data[0] picks the configuration: bit 0 the type (Hash or LRUHash), bits
// 1-2 the value size (1, 5, 8 or 12), bits 3-5 MaxEntries-1. Then each
// operation is two bytes, op and arg: op%8 selects Update (flags (op>>3)%4,
// so 3 is invalid), Delete, Lookup, LookupRef, a write through LookupRef,
// a full NextKey iteration, All, or one NextKey step; arg%12 is the key and
// arg is the value's byte.
func runHashOps(data []byte) error {
	if len(data) == 0 {
		return nil
	}
	cfg := data[0]
	data = data[1:]
	spec := Spec{Name: "fuzz", Type: Hash, KeySize: 2, MaxEntries: uint32(cfg>>3&7) + 1}
	if cfg&1 != 0 {
		spec.Type = LRUHash
	}
	spec.ValueSize = []uint32{1, 5, 8, 12}[cfg>>1&3]
	mm, err := New(&spec, Options{})
	if err != nil {
		return err
	}
	h := mm.(*hashMap)
	mod := &model{lru: spec.Type == LRUHash, max: int(spec.MaxEntries), vals: map[string][]byte{}}
	vs := int(spec.ValueSize)

	for step := 0; len(data) >= 2; step, data = step+1, data[2:] {
		op, arg := data[0], data[1]
		key := []byte{arg % 12, 0x5a ^ arg%12}
		k := string(key)
		val := bytes.Repeat([]byte{arg}, vs)
		fail := func(format string, args ...any) error {
			return fmt.Errorf("%v step %d (op %d, key %x): %s", spec.Type, step, op%8, key, fmt.Sprintf(format, args...))
		}
		switch op % 8 {
		case 0:
			flags := UpdateFlags(op >> 3 % 4)
			got, want := h.Update(key, val, flags), mod.update(k, val, flags)
			if !sameErr(got, want) {
				return fail("Update(%v) = %v, model %v", flags, got, want)
			}
		case 1:
			if got, want := h.Delete(key), mod.delete(k); !sameErr(got, want) {
				return fail("Delete = %v, model %v", got, want)
			}
		case 2:
			got, err := h.Lookup(key)
			want, ok := mod.lookup(k)
			if ok != (err == nil) || !bytes.Equal(got, want) || (!ok && !errors.Is(err, ErrKeyNotExist)) {
				return fail("Lookup = %x, %v; model %x, %v", got, err, want, ok)
			}
		case 3, 4:
			got := h.LookupRef(0, key)
			want, ok := mod.lookup(k)
			if ok != (got != nil) || !bytes.Equal(got, want) {
				return fail("LookupRef = %x; model %x, %v", got, want, ok)
			}
			if op%8 == 4 && got != nil {
				for i := range got {
					got[i] = arg ^ byte(i)
				}
				mod.vals[k] = bytes.Clone(got)
			}
		case 5:
			got := map[string]bool{}
			var next []byte
			for {
				var err error
				next, err = h.NextKey(next)
				if errors.Is(err, ErrKeyNotExist) {
					break
				}
				if err != nil || got[string(next)] || len(got) > len(mod.vals) {
					return fail("NextKey iteration: %x, %v after %d keys", next, err, len(got))
				}
				got[string(next)] = true
			}
			if !maps.Equal(got, keySet(mod.vals)) {
				return fail("NextKey visited %q, model has %q", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(mod.vals)))
			}
		case 6:
			got := map[string][]byte{}
			for k, v := range h.All() {
				got[string(k)] = v
			}
			if !maps.EqualFunc(got, mod.vals, bytes.Equal) {
				return fail("All = %x, model %x", got, mod.vals)
			}
		case 7:
			got, err := h.NextKey(key)
			if _, ok := mod.vals[k]; !ok {
				first, ferr := h.NextKey(nil)
				if !bytes.Equal(got, first) || !sameErr(err, ferr) {
					return fail("NextKey(missing) = %x, %v; first key %x, %v", got, err, first, ferr)
				}
			} else if _, ok := mod.vals[string(got)]; !ok && !errors.Is(err, ErrKeyNotExist) {
				return fail("NextKey = %x, %v; not in the model", got, err)
			}
		}
		if err := h.check(); err != nil {
			return fail("inconsistent: %v", err)
		}
	}
	return nil
}

func keySet(m map[string][]byte) map[string]bool {
	s := map[string]bool{}
	for k := range m {
		s[k] = true
	}
	return s
}

// FuzzHashOps runs decoded operation sequences against Hash and LRUHash
// maps and a Go-map model; see runHashOps.
func FuzzHashOps(f *testing.F) {
	f.Add([]byte{0x00, 0, 1, 0, 2, 0, 3, 1, 1, 5, 0, 6, 0})
	f.Add([]byte{0x01, 0, 1, 0, 2, 0, 3, 2, 1, 0, 4, 5, 0, 6, 0})
	f.Add([]byte{0x13, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 3, 2, 4, 1, 0, 6, 7, 1, 7, 9})
	f.Add([]byte{0x06, 8, 1, 16, 1, 24, 1, 0, 1, 16, 2, 8, 2, 1, 1, 8, 1, 5, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := runHashOps(data); err != nil {
			t.Fatal(err)
		}
	})
}

// TestHashModel runs random operation sequences through runHashOps, so the
// model comparison runs in every go test, not only when fuzzing.
func TestHashModel(t *testing.T) {
	r := rand.New(rand.NewPCG(seed(t), 0))
	for range 300 {
		data := make([]byte, 1+2*r.IntN(400))
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		if err := runHashOps(data); err != nil {
			t.Fatalf("%v\ninput: %x", err, data)
		}
	}
}

// TestLRULarge compares an LRU map of a few hundred entries with the model
// over a long random sequence of uses, inserts and deletes, so that the
// eviction heap is deep and often stale.
func TestLRULarge(t *testing.T) {
	r := rand.New(rand.NewPCG(seed(t), 1))
	const n = 300
	m := mustNew(t, Spec{Type: LRUHash, KeySize: 4, ValueSize: 4, MaxEntries: n}, 1)
	h := m.(*hashMap)
	mod := &model{lru: true, max: n, vals: map[string][]byte{}}
	for step := range 20000 {
		k := u32(uint32(r.IntN(2 * n)))
		v := u32(uint32(step))
		switch r.IntN(5) {
		case 0, 1:
			if got, want := m.Update(k, v, UpdateAny), mod.update(string(k), v, UpdateAny); !sameErr(got, want) {
				t.Fatalf("step %d: Update(%x) = %v, model %v", step, k, got, want)
			}
		case 2:
			got, err := m.Lookup(k)
			want, ok := mod.lookup(string(k))
			if ok != (err == nil) || !bytes.Equal(got, want) {
				t.Fatalf("step %d: Lookup(%x) = %x, %v; model %x", step, k, got, err, want)
			}
		case 3:
			got := m.LookupRef(0, k)
			want, ok := mod.lookup(string(k))
			if ok != (got != nil) || !bytes.Equal(got, want) {
				t.Fatalf("step %d: LookupRef(%x) = %x; model %x", step, k, got, want)
			}
		case 4:
			if r.IntN(4) == 0 {
				if got, want := m.Delete(k), mod.delete(string(k)); !sameErr(got, want) {
					t.Fatalf("step %d: Delete(%x) = %v, model %v", step, k, got, want)
				}
			}
		}
		if step%1000 == 0 {
			if err := h.check(); err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
		}
	}
	got := map[string][]byte{}
	for k, v := range m.All() {
		got[string(k)] = v
	}
	if !maps.EqualFunc(got, mod.vals, bytes.Equal) {
		t.Errorf("contents differ from the model: %d keys vs %d", len(got), len(mod.vals))
	}
}
