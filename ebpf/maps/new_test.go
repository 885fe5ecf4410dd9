package maps

import (
	"bytes"
	"errors"
	"testing"
)

// TestNewInvalid checks that New rejects bad specs and options with an
// error that names the map and the problem and wraps the right sentinel.
func TestNewInvalid(t *testing.T) {
	ok := Spec{Name: "counts", Type: Hash, KeySize: 4, ValueSize: 8, MaxEntries: 16}
	with := func(f func(*Spec)) *Spec {
		s := ok
		f(&s)
		return &s
	}
	for _, tc := range []struct {
		name    string
		spec    *Spec
		workers int
		is      error
		msg     string
	}{
		{"nil spec", nil, 1, ErrInvalid, "create map: nil spec: invalid argument"},
		{"type 0", with(func(s *Spec) { s.Type = 0 }), 1, ErrNotSupported,
			`create map "counts": type Type(0): operation not supported by this map type`},
		{"type 5", with(func(s *Spec) { s.Type = 5 }), 1, ErrNotSupported, `create map "counts": type Type(5)`},
		{"value size 0", with(func(s *Spec) { s.ValueSize = 0 }), 1, ErrInvalid,
			`create map "counts": value size 0: invalid argument`},
		{"max entries 0", with(func(s *Spec) { s.MaxEntries = 0 }), 1, ErrInvalid,
			`create map "counts": max entries 0: invalid argument`},
		{"hash key size 0", with(func(s *Spec) { s.KeySize = 0 }), 1, ErrInvalid,
			`create map "counts": key size 0, want 1 to 512: invalid argument`},
		{"hash key size 513", with(func(s *Spec) { s.KeySize = 513 }), 1, ErrInvalid, "key size 513, want 1 to 512"},
		{"lru key size 0", with(func(s *Spec) { s.Type, s.KeySize = LRUHash, 0 }), 1, ErrInvalid, "key size 0"},
		{"array key size 8", with(func(s *Spec) { s.Type, s.KeySize = Array, 8 }), 1, ErrInvalid,
			`create map "counts": key size 8, want 4 for type array: invalid argument`},
		{"percpu key size 2", with(func(s *Spec) { s.Type, s.KeySize = PerCPUArray, 2 }), 1, ErrInvalid,
			"key size 2, want 4 for type percpu_array"},
		{"array too big", with(func(s *Spec) { s.Type, s.ValueSize, s.MaxEntries = Array, 1<<20, 1025 }), 1, ErrInvalid,
			`create map "counts": 1025 entries of 4-byte keys and 1048576-byte values need more than 1073741824 bytes: invalid argument`},
		{"array 2^32 values", with(func(s *Spec) { s.Type, s.ValueSize, s.MaxEntries = Array, 1<<32-1, 1<<32-1 }), 1, ErrInvalid,
			"need more than"},
		{"hash too big", with(func(s *Spec) { s.MaxEntries = 1 << 30 }), 1, ErrInvalid, "need more than"},
		{"hash keys too big", with(func(s *Spec) { s.KeySize, s.ValueSize, s.MaxEntries = 512, 1, 1<<21 }), 1, ErrInvalid, "need more than"},
		{"percpu too big", with(func(s *Spec) { s.Type, s.ValueSize, s.MaxEntries = PerCPUArray, 1<<20, 64 }), 1 << 16, ErrInvalid,
			"64 entries of 4-byte keys and 1048576-byte values for each of 65536 workers need more than 1073741824 bytes"},
		{"too many workers", with(func(s *Spec) { s.Type, s.KeySize = PerCPUArray, 4 }), 1<<16 + 1, ErrInvalid,
			`create map "counts": 65537 workers, more than 65536: invalid argument`},
		{"contents key", with(func(s *Spec) { s.Contents = []Entry{{Key: []byte{1}, Value: make([]byte, 8)}} }), 1, ErrInvalid,
			`create map "counts": contents entry 0: key is 1 bytes, want 4: invalid argument`},
		{"contents value", with(func(s *Spec) {
			s.Contents = []Entry{{Key: u32(1), Value: make([]byte, 8)}, {Key: u32(2), Value: make([]byte, 9)}}
		}), 1, ErrInvalid, `create map "counts": contents entry 1: value is 9 bytes, want 8: invalid argument`},
		{"contents overfill", with(func(s *Spec) {
			s.MaxEntries = 1
			s.Contents = []Entry{{Key: u32(1), Value: make([]byte, 8)}, {Key: u32(2), Value: make([]byte, 8)}}
		}), 1, ErrFull, `create map "counts": contents entry 1: map is full`},
		{"contents array index", with(func(s *Spec) {
			s.Type, s.MaxEntries = Array, 1
			s.Contents = []Entry{{Key: u32(1), Value: make([]byte, 8)}}
		}), 1, ErrKeyNotExist, `create map "counts": contents entry 0: key does not exist`},
		{"contents percpu value", with(func(s *Spec) {
			s.Type = PerCPUArray
			s.Contents = []Entry{{Key: u32(1), Value: make([]byte, 12)}}
		}), 2, ErrInvalid, "contents entry 0: value is 12 bytes, want 16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(tc.spec, Options{Workers: tc.workers})
			if m != nil || !errors.Is(err, tc.is) {
				t.Fatalf("New = %v, %v; want nil, %v", m, err, tc.is)
			}
			if got := err.Error(); !bytes.Contains([]byte(got), []byte(tc.msg)) {
				t.Errorf("error %q does not contain %q", got, tc.msg)
			}
		})
	}
}

// TestMemoryLimit checks the memory each type is charged against
// MaxMemory, without allocating it: the largest maps pass, one entry (or
// worker) more fails.
func TestMemoryLimit(t *testing.T) {
	const hashPer = 8 + 4 + hashEntryOverhead
	for _, tc := range []struct {
		spec    Spec
		workers int
		need    uint64
		ok      bool
	}{
		{Spec{Type: Array, ValueSize: 1 << 20, MaxEntries: 1024}, 1, MaxMemory, true},
		{Spec{Type: Array, ValueSize: 1<<20 - 7, MaxEntries: 1024}, 1, MaxMemory, true},
		{Spec{Type: Array, ValueSize: 1 << 20, MaxEntries: 1025}, 1, MaxMemory + 1<<20, true},
		{Spec{Type: Array, ValueSize: 1<<32 - 1, MaxEntries: 1<<32 - 1}, 1, (1<<32 - 1) << 32, true},
		{Spec{Type: PerCPUArray, ValueSize: 1, MaxEntries: 1}, MaxWorkers, MaxWorkers * cacheLine, true},
		{Spec{Type: PerCPUArray, ValueSize: 8, MaxEntries: 9}, 3, 3 * 128, true},
		{Spec{Type: PerCPUArray, ValueSize: 1<<32 - 1, MaxEntries: 1<<32 - 1}, 2, 0, false},
		{Spec{Type: Hash, KeySize: 4, ValueSize: 8, MaxEntries: 1000}, 1, 1000 * hashPer, true},
		{Spec{Type: LRUHash, KeySize: 4, ValueSize: 8, MaxEntries: 1000}, 1, 1000 * (hashPer + lruEntryOverhead), true},
	} {
		need, ok := memoryNeed(&tc.spec, tc.workers)
		if ok != tc.ok || (ok && need != tc.need) {
			t.Errorf("%v %d x %d, %d workers: need %d, %v; want %d, %v",
				tc.spec.Type, tc.spec.MaxEntries, tc.spec.ValueSize, tc.workers, need, ok, tc.need, tc.ok)
		}
	}
}

// TestNewLimits checks that maps at the key size and worker limits are
// created.
func TestNewLimits(t *testing.T) {
	for _, s := range []Spec{
		{Type: Array, KeySize: 4, ValueSize: 1, MaxEntries: 1},
		{Type: Hash, KeySize: MaxKeySize, ValueSize: 8, MaxEntries: 4},
		{Type: LRUHash, KeySize: 1, ValueSize: 1, MaxEntries: 1},
		{Type: PerCPUArray, KeySize: 4, ValueSize: 1, MaxEntries: 1},
	} {
		m, err := New(&s, Options{Workers: MaxWorkers})
		if err != nil {
			t.Errorf("%v: %v", s.Type, err)
			continue
		}
		want := 1
		if s.Type == PerCPUArray {
			want = MaxWorkers
		}
		if m.Workers() != want {
			t.Errorf("%v: Workers() = %d, want %d", s.Type, m.Workers(), want)
		}
	}
}

// TestNewContents checks that Contents are written at creation, in order,
// for every type.
func TestNewContents(t *testing.T) {
	for _, tc := range []struct {
		spec    Spec
		workers int
		want    string
	}{
		{Spec{Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 3,
			Contents: []Entry{{u32(2), u32(7)}, {u32(0), u32(5)}, {u32(2), u32(8)}}},
			1, "all -> 0=5 1=0 2=8"},
		{Spec{Type: PerCPUArray, KeySize: 4, ValueSize: 4, MaxEntries: 2,
			Contents: []Entry{{u32(0), u32(9)}, {u32(1), append(u32(1), u32(2)...)}}},
			2, "all -> 0=9,9 1=1,2"},
		{Spec{Type: Hash, KeySize: 1, ValueSize: 4, MaxEntries: 3,
			Contents: []Entry{{[]byte("x"), u32(1)}, {[]byte("y"), u32(2)}, {[]byte("x"), u32(3)}}},
			1, "all -> x=3 y=2"},
		{Spec{Type: LRUHash, KeySize: 1, ValueSize: 4, MaxEntries: 2,
			Contents: []Entry{{[]byte("x"), u32(1)}, {[]byte("y"), u32(2)}, {[]byte("z"), u32(3)}}},
			1, "all -> z=3 y=2"},
	} {
		t.Run(tc.spec.Type.String(), func(t *testing.T) {
			checkScript(t, mustNew(t, tc.spec, tc.workers), tc.want)
		})
	}
}

// TestSpecIsCopied checks that the map keeps its own copy of the spec.
func TestSpecIsCopied(t *testing.T) {
	s := Spec{Name: "a", Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 2,
		Contents: []Entry{{u32(0), u32(1)}}}
	m := mustNew(t, s, 1)
	s.Name, s.MaxEntries, s.Contents[0] = "b", 99, Entry{}
	got := m.Spec()
	if got.Name != "a" || got.MaxEntries != 2 || got.Type != Array || len(got.Contents) != 1 || got.Contents[0].Key == nil {
		t.Errorf("Spec() = %+v after the caller changed its spec", got)
	}
}
