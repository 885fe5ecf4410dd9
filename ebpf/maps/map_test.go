package maps

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
)

// TestSemantics runs an operation script against each map type: update
// flags, full maps, delete and reinsert, iteration order and LRU eviction
// order. See script for the command language.
func TestSemantics(t *testing.T) {
	hash := Spec{Name: "h", Type: Hash, KeySize: 1, ValueSize: 4, MaxEntries: 3}
	lru := hash
	lru.Type = LRUHash
	for _, tc := range []struct {
		name    string
		spec    Spec
		workers int
		want    string
	}{{
		name: "hash",
		spec: hash,
		want: `
			lookup a -> key does not exist
			ref 0 a -> nil
			update a 1 exist -> key does not exist
			update a 1 noexist -> ok
			update a 2 noexist -> key already exists
			lookup a -> 1
			ref 0 a -> 1
			update a 3 exist -> ok
			update a 4 any -> ok
			lookup a -> 4
			update b 5 -> ok
			update c 6 -> ok
			update d 7 -> map is full
			update d 7 noexist -> map is full
			update d 7 exist -> key does not exist
			update c 8 -> ok
			keys -> a b c
			all -> a=4 b=5 c=8
			delete b -> ok
			delete b -> key does not exist
			lookup b -> key does not exist
			ref 0 b -> nil
			keys -> a c
			update d 9 -> ok
			keys -> a d c
			update b 10 -> map is full
			delete a -> ok
			delete d -> ok
			update b 10 -> ok
			keys -> b c
			update e 11 -> ok
			keys -> e b c
			all -> e=11 b=10 c=8
			update ab 1 -> key is 2 bytes, want 1: invalid argument
			update a 1,2 -> value is 8 bytes, want 4: invalid argument
			lookup ab -> key is 2 bytes, want 1: invalid argument
			delete ab -> key is 2 bytes, want 1: invalid argument
			ref 0 ab -> nil
			from 9 z 12 -> map is full
			from 9 e 12 exist -> ok
			lookup e -> 12`,
	}, {
		// Stamps are given after each use as key:stamp; the map evicts
		// the smallest.
		name: "lru_hash",
		spec: lru,
		want: `
			update a 1 -> ok
			update b 2 -> ok
			update c 3 -> ok
			keys -> a b c
			update d 4 -> ok
			keys -> d b c
			lookup b -> 2
			update e 5 -> ok
			keys -> d b e
			ref 0 d -> 4
			update f 6 -> ok
			keys -> d f e
			update e 50 -> ok
			update g 7 noexist -> ok
			keys -> g f e
			update f 8 noexist -> key already exists
			update h 8 -> ok
			keys -> g h e
			update z 1 exist -> key does not exist
			keys -> g h e
			delete h -> ok
			update i 9 -> ok
			keys -> g i e
			all -> g=7 i=9 e=50
			update j 10 -> ok
			keys -> g i j
			lookup j -> 10
			lookup j -> 10
			ref 0 j -> 10
			update k 11 -> ok
			keys -> k i j
			lookup i -> 9
			from 0 l 12 -> ok
			keys -> k i l
			delete k -> ok
			delete i -> ok
			delete l -> ok
			keys -> (none)
			update m 13 -> ok
			keys -> m`,
	}, {
		name: "array",
		spec: Spec{Name: "a", Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 3},
		want: `
			lookup 0 -> 0
			lookup 3 -> key does not exist
			ref 0 3 -> nil
			update 1 7 -> ok
			update 1 8 noexist -> key already exists
			update 1 9 exist -> ok
			update 3 1 -> key does not exist
			update 3 1 noexist -> key does not exist
			lookup 1 -> 9
			ref 0 1 -> 9
			ref 5 1 -> 9
			ref -1 1 -> 9
			delete 1 -> operation not supported by this map type
			delete 3 -> operation not supported by this map type
			keys -> 0 1 2
			all -> 0=0 1=9 2=0
			from 7 2 5 -> ok
			lookup 2 -> 5
			update 0 1,2 -> value is 8 bytes, want 4: invalid argument`,
	}, {
		name:    "percpu_array",
		spec:    Spec{Name: "p", Type: PerCPUArray, KeySize: 4, ValueSize: 4, MaxEntries: 2},
		workers: 3,
		want: `
			lookup 0 -> 0,0,0
			update 0 1,2,3 -> ok
			lookup 0 -> 1,2,3
			ref 0 0 -> 1
			ref 1 0 -> 2
			ref 2 0 -> 3
			ref 3 0 -> nil
			ref -1 0 -> nil
			ref 0 2 -> nil
			from 1 0 20 -> ok
			lookup 0 -> 1,20,3
			lookup 1 -> 0,0,0
			from 3 0 1 -> worker 3, want 0 to 2: invalid argument
			from -1 0 1 -> worker -1, want 0 to 2: invalid argument
			from 0 0 1,2,3 -> value is 12 bytes, want 4: invalid argument
			update 0 1 -> value is 4 bytes, want 12: invalid argument
			update 1 4,5,6 noexist -> key already exists
			from 0 1 4 noexist -> key already exists
			from 0 1 4 exist -> ok
			from 2 2 4 -> key does not exist
			keys -> 0 1
			all -> 0=1,20,3 1=4,0,0
			delete 0 -> operation not supported by this map type`,
	}, {
		name:    "percpu_array_one_worker",
		spec:    Spec{Name: "p1", Type: PerCPUArray, KeySize: 4, ValueSize: 4, MaxEntries: 1},
		workers: 0,
		want: `
			update 0 5 -> ok
			ref 0 0 -> 5
			ref 1 0 -> nil
			from 1 0 6 -> worker 1, want 0 to 0: invalid argument
			lookup 0 -> 5`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			checkScript(t, mustNew(t, tc.spec, tc.workers), tc.want)
		})
	}
}

// allTypes returns a small spec of each type, with 8-byte values.
func allTypes() []Spec {
	return []Spec{
		{Name: "array", Type: Array, KeySize: 4, ValueSize: 8, MaxEntries: 4},
		{Name: "percpu", Type: PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 4},
		{Name: "hash", Type: Hash, KeySize: 4, ValueSize: 8, MaxEntries: 4},
		{Name: "lru", Type: LRUHash, KeySize: 4, ValueSize: 8, MaxEntries: 4},
	}
}

// TestBadArguments checks that every method rejects a key or value of the
// wrong length and unknown flags with ErrInvalid and a message naming the
// sizes, and that LookupRef returns nil.
func TestBadArguments(t *testing.T) {
	for _, s := range allTypes() {
		t.Run(s.Name, func(t *testing.T) {
			m := mustNew(t, s, 2)
			vs := int(s.ValueSize) * m.Workers()
			good, val := u32(1), make([]byte, vs)
			for _, tc := range []struct {
				op   string
				err  error
				want string
			}{
				{"Lookup short key", second(m.Lookup(good[:3])), "key is 3 bytes, want 4"},
				{"Lookup long key", second(m.Lookup(append(good, 0))), "key is 5 bytes, want 4"},
				{"Update short key", m.Update(good[:2], val, UpdateAny), "key is 2 bytes, want 4"},
				{"Update short value", m.Update(good, val[:vs-1], UpdateAny), "want " + strconv.Itoa(vs)},
				{"Update long value", m.Update(good, append(val, 0), UpdateAny), "want " + strconv.Itoa(vs)},
				{"Update nil value", m.Update(good, nil, UpdateAny), "value is 0 bytes"},
				{"Update flags 3", m.Update(good, val, 3), "update flags UpdateFlags(0x3)"},
				{"Update flags 4", m.Update(good, val, 4), "update flags UpdateFlags(0x4)"},
				{"UpdateFrom flags", m.UpdateFrom(0, good, val[:s.ValueSize], 7), "update flags"},
				{"UpdateFrom short value", m.UpdateFrom(0, good, val[:s.ValueSize-1], UpdateAny), "value is 7 bytes, want 8"},
				{"Delete short key", m.Delete(nil), "key is 0 bytes, want 4"},
				{"NextKey short key", second(m.NextKey(good[:1])), "key is 1 bytes, want 4"},
			} {
				if !errors.Is(tc.err, ErrInvalid) || !strings.Contains(tc.err.Error(), tc.want) {
					t.Errorf("%s: got %v, want ErrInvalid with %q", tc.op, tc.err, tc.want)
				}
			}
			for _, k := range [][]byte{nil, good[:3], append(good, 0)} {
				if v := m.LookupRef(0, k); v != nil {
					t.Errorf("LookupRef(%x) = %x, want nil", k, v)
				}
			}
		})
	}
}

func second[T any](_ T, err error) error { return err }

// TestArrayNextKey checks NextKey's edge cases on arrays, as Linux defines
// them: a key out of range restarts at index 0.
func TestArrayNextKey(t *testing.T) {
	m := mustNew(t, Spec{Type: Array, KeySize: 4, ValueSize: 1, MaxEntries: 3}, 1)
	for _, tc := range []struct {
		key  []byte
		want []byte
		err  error
	}{
		{nil, u32(0), nil},
		{[]byte{}, u32(0), nil},
		{u32(0), u32(1), nil},
		{u32(1), u32(2), nil},
		{u32(2), nil, ErrKeyNotExist},
		{u32(3), u32(0), nil},
		{u32(1 << 31), u32(0), nil},
	} {
		got, err := m.NextKey(tc.key)
		if !bytes.Equal(got, tc.want) || !errors.Is(err, tc.err) {
			t.Errorf("NextKey(%x) = %x, %v; want %x, %v", tc.key, got, err, tc.want, tc.err)
		}
	}
}

// TestHashNextKeyMissing checks that a key that is not in a hash map is
// followed by the first key, as in Linux.
func TestHashNextKeyMissing(t *testing.T) {
	for _, typ := range []Type{Hash, LRUHash} {
		m := mustNew(t, Spec{Type: typ, KeySize: 4, ValueSize: 8, MaxEntries: 8}, 1)
		if _, err := m.NextKey(nil); !errors.Is(err, ErrKeyNotExist) {
			t.Errorf("%v: NextKey(nil) on an empty map: %v, want ErrKeyNotExist", typ, err)
		}
		for _, k := range []uint32{5, 6, 7} {
			if err := m.Update(u32(k), make([]byte, 8), UpdateAny); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := m.NextKey(u32(99)); err != nil || !bytes.Equal(got, u32(5)) {
			t.Errorf("%v: NextKey(missing) = %x, %v; want %x", typ, got, err, u32(5))
		}
	}
}

// TestIterationVisitsEveryKey fills hash maps through a history of inserts
// and deletes, then checks that NextKey and All both visit every key exactly
// once, agreeing on the order.
func TestIterationVisitsEveryKey(t *testing.T) {
	for _, typ := range []Type{Hash, LRUHash, Array, PerCPUArray} {
		for _, n := range []uint32{1, 63, 64, 65, 200} {
			m := mustNew(t, Spec{Type: typ, KeySize: 4, ValueSize: 3, MaxEntries: n}, 2)
			want := map[uint32]bool{}
			if typ.IsArray() {
				for i := range n {
					want[i] = true
				}
			} else {
				for i := range 3 * n {
					k := i * 2654435761 % (4 * n)
					if err := m.Update(u32(k), []byte{1, 2, 3}, UpdateAny); err != nil && !errors.Is(err, ErrFull) {
						t.Fatal(err)
					} else if err == nil {
						want[k] = true
					}
					if i%3 == 0 {
						if m.Delete(u32(k)) == nil {
							delete(want, k)
						}
					}
				}
				// An LRU map may have evicted some keys: the map is
				// the truth for its contents, the model for the rest.
				if typ == LRUHash {
					for k := range want {
						if _, err := m.Lookup(u32(k)); err != nil {
							delete(want, k)
						}
					}
				}
			}
			keys := keysOf(t, m)
			if len(keys) != len(want) {
				t.Errorf("%v/%d: NextKey visited %d keys, want %d", typ, n, len(keys), len(want))
			}
			for _, k := range keys {
				if !want[leU32(k)] {
					t.Errorf("%v/%d: NextKey visited %x, not in the map", typ, n, k)
				}
			}
			i := 0
			for k, v := range m.All() {
				if i >= len(keys) || !bytes.Equal(k, keys[i]) {
					t.Errorf("%v/%d: All's key %d is %x, NextKey's is %x", typ, n, i, k, keys[min(i, len(keys)-1)])
					break
				}
				if len(v) != 3*m.Workers() {
					t.Errorf("%v/%d: All's value is %d bytes", typ, n, len(v))
				}
				i++
			}
			if i != len(keys) {
				t.Errorf("%v/%d: All visited %d keys, NextKey %d", typ, n, i, len(keys))
			}
		}
	}
}

func leU32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// TestAllStops checks that All stops when yield returns false and lets
// yield use the map.
func TestAllStops(t *testing.T) {
	for _, s := range allTypes() {
		m := mustNew(t, s, 2)
		for i := range uint32(4) {
			_ = m.Update(u32(i), make([]byte, int(s.ValueSize)*m.Workers()), UpdateAny)
		}
		n := 0
		for k := range m.All() {
			if _, err := m.Lookup(k); err != nil {
				t.Errorf("%s: Lookup inside All: %v", s.Name, err)
			}
			if n++; n == 2 {
				break
			}
		}
		if n != 2 {
			t.Errorf("%s: All visited %d, want 2 before stopping", s.Name, n)
		}
	}
}

// TestValuesRoundTrip checks that values whose size is not a multiple of 8
// are stored and read back exactly, and that the padding after them stays
// zero.
func TestValuesRoundTrip(t *testing.T) {
	for _, size := range []uint32{1, 3, 7, 8, 9, 15, 16, 17, 100} {
		for _, typ := range []Type{Array, PerCPUArray, Hash, LRUHash} {
			m := mustNew(t, Spec{Type: typ, KeySize: 4, ValueSize: size, MaxEntries: 2}, 2)
			v := make([]byte, int(size)*m.Workers())
			for i := range v {
				v[i] = byte(0xa0 + i)
			}
			for _, k := range []uint32{0, 1} {
				if err := m.Update(u32(k), v, UpdateAny); err != nil {
					t.Fatal(err)
				}
			}
			got, err := m.Lookup(u32(1))
			if err != nil || !bytes.Equal(got, v) {
				t.Errorf("%v/%d: Lookup = %x, %v; want %x", typ, size, got, err, v)
			}
			mem := m.Regions()[0].Mem
			ref := m.LookupRef(0, u32(0))
			off := offsetIn(mem, ref)
			for i := off + int(size); i < off+int(roundUp(uint64(size), 8)); i++ {
				if mem[i] != 0 {
					t.Errorf("%v/%d: padding byte %d is %#x", typ, size, i-off, mem[i])
				}
			}
		}
	}
}

// TestReadOnlyProg checks that ReadOnlyProg makes the regions read-only and
// refuses program-side updates, while Go code can still update.
func TestReadOnlyProg(t *testing.T) {
	for _, s := range allTypes() {
		for _, ro := range []bool{false, true} {
			s.ReadOnlyProg = ro
			m := mustNew(t, s, 2)
			for _, r := range m.Regions() {
				if r.Writable == ro {
					t.Errorf("%s ro=%v: region writable=%v", s.Name, ro, r.Writable)
				}
			}
			err := m.UpdateFrom(0, u32(0), make([]byte, s.ValueSize), UpdateAny)
			if ro != errors.Is(err, ErrNotSupported) || (!ro && err != nil) {
				t.Errorf("%s ro=%v: UpdateFrom: %v", s.Name, ro, err)
			}
			if err := m.Update(u32(0), make([]byte, int(s.ValueSize)*m.Workers()), UpdateAny); err != nil {
				t.Errorf("%s ro=%v: Update: %v", s.Name, ro, err)
			}
		}
	}
}

// TestErrno checks the errno each error maps to, wrapped or not.
func TestErrno(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int64
	}{
		{nil, 0},
		{ErrKeyNotExist, -2},
		{ErrFull, -7},
		{ErrKeyExist, -17},
		{ErrNotSupported, -95},
		{errReadOnly, -95},
		{ErrInvalid, -22},
		{checkKey(nil, 4), -22},
		{errors.New("other"), -22},
	} {
		if got := Errno(tc.err); got != tc.want {
			t.Errorf("Errno(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

// TestStrings pins the text of every enum.
func TestStrings(t *testing.T) {
	for _, tc := range []struct {
		v    interface{ String() string }
		want string
	}{
		{Hash, "hash"},
		{Array, "array"},
		{PerCPUArray, "percpu_array"},
		{LRUHash, "lru_hash"},
		{Type(3), "Type(3)"},
		{UpdateAny, "any"},
		{UpdateNoExist, "noexist"},
		{UpdateExist, "exist"},
		{UpdateFlags(4), "UpdateFlags(0x4)"},
	} {
		if got := tc.v.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
	for typ, want := range map[Type]bool{Hash: true, Array: true, PerCPUArray: true, LRUHash: true, 0: false, 3: false, 5: false, 99: false} {
		if typ.Valid() != want {
			t.Errorf("%v.Valid() = %v", typ, !want)
		}
	}
}
