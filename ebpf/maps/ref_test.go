package maps

import (
	"bytes"
	"testing"
	"unsafe"
)

// offsetIn returns the offset of sub's first byte in mem, or -1 if sub does
// not lie entirely inside mem.
func offsetIn(mem, sub []byte) int {
	if len(sub) == 0 || len(mem) == 0 {
		return -1
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(mem)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(sub)))
	if p < base || p-base+uintptr(len(sub)) > uintptr(len(mem)) {
		return -1
	}
	return int(p - base)
}

// inRegions reports whether ref lies inside one of regions.
func inRegions(regions []Region, ref []byte) bool {
	for _, r := range regions {
		if offsetIn(r.Mem, ref) >= 0 {
			return true
		}
	}
	return false
}

// TestLookupRefInsideRegions checks, for every type, that LookupRef results
// lie inside Regions, are 8-byte aligned, are ValueSize long with no spare
// capacity, and alias the stored value both ways: a write through the ref
// is seen by Lookup, and an Update is seen through the ref.
func TestLookupRefInsideRegions(t *testing.T) {
	for _, size := range []uint32{1, 4, 8, 12, 64} {
		for _, typ := range []Type{Array, PerCPUArray, Hash, LRUHash} {
			const workers, n = 3, 5
			m := mustNew(t, Spec{Type: typ, KeySize: 4, ValueSize: size, MaxEntries: n}, workers)
			regions := m.Regions()
			if len(regions) == 0 {
				t.Fatalf("%v: no regions", typ)
			}
			for k := range uint32(n) {
				if !typ.IsArray() {
					if err := m.Update(u32(k), make([]byte, size), UpdateNoExist); err != nil {
						t.Fatal(err)
					}
				}
				for w := range m.Workers() {
					ref := m.LookupRef(w, u32(k))
					if len(ref) != int(size) || cap(ref) != int(size) {
						t.Fatalf("%v/%d: ref of key %d worker %d: len %d cap %d", typ, size, k, w, len(ref), cap(ref))
					}
					if !inRegions(regions, ref) {
						t.Fatalf("%v/%d: ref of key %d worker %d is outside the regions", typ, size, k, w)
					}
					if p := uintptr(unsafe.Pointer(&ref[0])); p%8 != 0 {
						t.Errorf("%v/%d: ref of key %d worker %d at %#x is not 8-byte aligned", typ, size, k, w, p)
					}
					// Write through the ref; Lookup must see it.
					for i := range ref {
						ref[i] = byte(k*16 + uint32(w)*4 + uint32(i))
					}
				}
				got, err := m.Lookup(u32(k))
				if err != nil {
					t.Fatal(err)
				}
				for w := range m.Workers() {
					if ref := m.LookupRef(w, u32(k)); !bytes.Equal(got[w*int(size):(w+1)*int(size)], ref) {
						t.Errorf("%v/%d: key %d worker %d: Lookup %x, ref %x", typ, size, k, w, got, ref)
					}
				}
				// Update; the ref must see it.
				v := bytes.Repeat([]byte{0x5a}, int(size)*m.Workers())
				if err := m.Update(u32(k), v, UpdateExist); err != nil {
					t.Fatal(err)
				}
				for w := range m.Workers() {
					if ref := m.LookupRef(w, u32(k)); !bytes.Equal(ref, v[:size]) {
						t.Errorf("%v/%d: key %d worker %d: ref %x after Update", typ, size, k, w, ref)
					}
				}
			}
			// Regions are fixed for the life of the map.
			r2 := m.Regions()
			for i := range regions {
				if unsafe.SliceData(r2[i].Mem) != unsafe.SliceData(regions[i].Mem) || len(r2[i].Mem) != len(regions[i].Mem) {
					t.Errorf("%v: region %d moved", typ, i)
				}
			}
		}
	}
}

// TestPerWorkerBlocks checks that each worker's block of a per-worker
// array starts on its own cache line, so workers never share one.
func TestPerWorkerBlocks(t *testing.T) {
	for _, n := range []uint32{1, 3, 8, 9} {
		m := mustNew(t, Spec{Type: PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: n}, 4)
		for w := range 4 {
			ref := m.LookupRef(w, u32(0))
			if p := uintptr(unsafe.Pointer(&ref[0])); p%cacheLine != 0 {
				t.Errorf("n=%d: worker %d's block at %#x is not on a cache line", n, w, p)
			}
		}
	}
}

// TestPerWorkerIsolation checks that UpdateFrom and writes through
// LookupRef touch only the worker's own slot.
func TestPerWorkerIsolation(t *testing.T) {
	const workers = 4
	m := mustNew(t, Spec{Type: PerCPUArray, KeySize: 4, ValueSize: 4, MaxEntries: 2}, workers)
	for w := range workers {
		if err := m.UpdateFrom(w, u32(1), u32(uint32(10+w)), UpdateAny); err != nil {
			t.Fatal(err)
		}
		m.LookupRef(w, u32(0))[0] = byte(w + 1)
	}
	for k, want := range map[uint32][]uint32{0: {1, 2, 3, 4}, 1: {10, 11, 12, 13}} {
		got, err := m.Lookup(u32(k))
		if err != nil {
			t.Fatal(err)
		}
		var wantB []byte
		for _, v := range want {
			wantB = append(wantB, u32(v)...)
		}
		if !bytes.Equal(got, wantB) {
			t.Errorf("key %d: Lookup = %x, want %x", k, got, wantB)
		}
	}
}

// TestLookupRefDoesNotAllocate checks that the program-side lookup, hit or
// miss, allocates nothing.
func TestLookupRefDoesNotAllocate(t *testing.T) {
	for _, s := range allTypes() {
		m := mustNew(t, s, 2)
		if !s.Type.IsArray() {
			if err := m.Update(u32(1), make([]byte, 8), UpdateAny); err != nil {
				t.Fatal(err)
			}
		}
		hit, miss := u32(1), u32(77)
		var sink []byte
		allocs := testing.AllocsPerRun(100, func() {
			sink = m.LookupRef(1, hit)
			if m.LookupRef(1, miss) != nil {
				sink = nil
			}
		})
		if allocs != 0 || sink == nil {
			t.Errorf("%s: LookupRef: %v allocations, hit %v", s.Name, allocs, sink != nil)
		}
		// The program-side update of an existing key and the sentinel
		// errors a program handles allocate nothing either.
		v := make([]byte, 8)
		allocs = testing.AllocsPerRun(100, func() {
			_ = m.UpdateFrom(1, hit, v, UpdateAny)
			_ = m.UpdateFrom(1, hit, v, UpdateNoExist)
		})
		if allocs != 0 {
			t.Errorf("%s: UpdateFrom: %v allocations", s.Name, allocs)
		}
	}
}
