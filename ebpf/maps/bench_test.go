package maps

import (
	"sync/atomic"
	"testing"
)

// benchMap returns a map of typ with 1024 entries of 8-byte values, all
// present, and the keys.
func benchMap(b *testing.B, typ Type) (Map, [][]byte) {
	const n = 1024
	m := mustNew(b, Spec{Type: typ, KeySize: 4, ValueSize: 8, MaxEntries: n}, 8)
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = u32(uint32(i))
		if err := m.Update(keys[i], make([]byte, 8*m.Workers()), UpdateAny); err != nil {
			b.Fatal(err)
		}
	}
	return m, keys
}

var benchTypes = []Type{Array, PerCPUArray, Hash, LRUHash}

func BenchmarkLookupRef(b *testing.B) {
	for _, typ := range benchTypes {
		b.Run(typ.String(), func(b *testing.B) {
			m, keys := benchMap(b, typ)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if m.LookupRef(0, keys[i&1023]) == nil {
					b.Fatal("miss")
				}
				i++
			}
		})
	}
}

// BenchmarkLookupRefParallel measures program-side lookups and atomic adds
// from all CPUs at once, each goroutine on its own worker slot and keys.
func BenchmarkLookupRefParallel(b *testing.B) {
	for _, typ := range benchTypes {
		b.Run(typ.String(), func(b *testing.B) {
			m, keys := benchMap(b, typ)
			var next atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				w := int(next.Add(1)-1) % m.Workers()
				i := w * 128
				for pb.Next() {
					atomic.AddUint64(word(m.LookupRef(w, keys[i&1023])), 1)
					i++
				}
			})
		})
	}
}

func BenchmarkUpdate(b *testing.B) {
	for _, typ := range benchTypes {
		b.Run(typ.String(), func(b *testing.B) {
			m, keys := benchMap(b, typ)
			v := make([]byte, 8*m.Workers())
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := m.Update(keys[i&1023], v, UpdateExist); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkUpdateFrom(b *testing.B) {
	for _, typ := range benchTypes {
		b.Run(typ.String(), func(b *testing.B) {
			m, keys := benchMap(b, typ)
			v := make([]byte, 8)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := m.UpdateFrom(0, keys[i&1023], v, UpdateAny); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkInsertDelete measures inserting a new key and deleting it in a
// half-full hash map: the free list and index bookkeeping.
func BenchmarkInsertDelete(b *testing.B) {
	for _, typ := range []Type{Hash, LRUHash} {
		b.Run(typ.String(), func(b *testing.B) {
			m := mustNew(b, Spec{Type: typ, KeySize: 4, ValueSize: 8, MaxEntries: 1024}, 1)
			for i := range uint32(512) {
				_ = m.Update(u32(i), make([]byte, 8), UpdateAny)
			}
			k, v := u32(5000), make([]byte, 8)
			b.ReportAllocs()
			for b.Loop() {
				if err := m.Update(k, v, UpdateNoExist); err != nil {
					b.Fatal(err)
				}
				if err := m.Delete(k); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLRUEvict measures inserts into a full LRU map, each evicting the
// least recently used entry, with a lookup of a recent key between them so
// that the heap has stale stamps to fix.
func BenchmarkLRUEvict(b *testing.B) {
	const n = 4096
	m := mustNew(b, Spec{Type: LRUHash, KeySize: 4, ValueSize: 8, MaxEntries: n}, 1)
	v := make([]byte, 8)
	keys := make([][]byte, 4*n)
	for i := range keys {
		keys[i] = u32(uint32(i))
	}
	for i := range n {
		_ = m.Update(keys[i], v, UpdateAny)
	}
	b.ReportAllocs()
	i := n
	for b.Loop() {
		if err := m.Update(keys[i%len(keys)], v, UpdateAny); err != nil {
			b.Fatal(err)
		}
		m.LookupRef(0, keys[(i-n/2)%len(keys)])
		i++
	}
}
