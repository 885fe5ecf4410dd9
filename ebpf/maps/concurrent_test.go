package maps

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"
)

// word returns the first 8 bytes of a map value as a *uint64 for atomic
// operations, as a program's atomic instructions use them.
func word(ref []byte) *uint64 { return (*uint64)(unsafe.Pointer(&ref[0])) }

// TestConcurrentOps runs updates, deletes, lookups, LookupRef reads and
// iteration from many goroutines on every type (run it with -race). Each
// value is two equal 8-byte words; Go-side copies are made under the
// entry's lock, so Lookup and All must never see the two words differ.
func TestConcurrentOps(t *testing.T) {
	s0 := seed(t)
	const goroutines, ops = 8, 1500
	for _, typ := range []Type{Array, PerCPUArray, Hash, LRUHash} {
		t.Run(typ.String(), func(t *testing.T) {
			m := mustNew(t, Spec{Type: typ, KeySize: 4, ValueSize: 16, MaxEntries: 16}, 4)
			torn := func(v []byte) bool {
				for ; len(v) >= 16; v = v[16:] {
					if binary.LittleEndian.Uint64(v) != binary.LittleEndian.Uint64(v[8:]) {
						return true
					}
				}
				return false
			}
			var wg sync.WaitGroup
			errs := make(chan error, goroutines)
			for g := range goroutines {
				wg.Go(func() {
					r := rand.New(rand.NewPCG(s0, uint64(g)))
					fail := func(err error) { errs <- err }
					for range ops {
						key := u32(uint32(r.IntN(24)))
						x := r.Uint64()
						val := make([]byte, 0, 16*m.Workers())
						for range m.Workers() {
							val = binary.LittleEndian.AppendUint64(val, x)
							val = binary.LittleEndian.AppendUint64(val, x)
						}
						switch r.IntN(7) {
						case 0, 1:
							err := m.Update(key, val, UpdateFlags(r.IntN(3)))
							if err != nil && !errors.Is(err, ErrKeyExist) && !errors.Is(err, ErrKeyNotExist) && !errors.Is(err, ErrFull) {
								fail(err)
								return
							}
						case 2:
							err := m.UpdateFrom(r.IntN(m.Workers()), key, val[:16], UpdateAny)
							if err != nil && !errors.Is(err, ErrKeyNotExist) && !errors.Is(err, ErrFull) {
								fail(err)
								return
							}
						case 3:
							err := m.Delete(key)
							if err != nil && !errors.Is(err, ErrKeyNotExist) && !errors.Is(err, ErrNotSupported) {
								fail(err)
								return
							}
						case 4:
							v, err := m.Lookup(key)
							if (err != nil && !errors.Is(err, ErrKeyNotExist)) || torn(v) {
								fail(errors.Join(err, errors.New("torn value")))
								return
							}
						case 5:
							if ref := m.LookupRef(r.IntN(m.Workers()), key); ref != nil {
								atomic.LoadUint64(word(ref))
							}
						case 6:
							for k, v := range m.All() {
								if len(k) != 4 || torn(v) {
									fail(errors.New("All: bad entry"))
									return
								}
							}
							var k []byte
							for i := 0; i < 100; i++ {
								var err error
								if k, err = m.NextKey(k); err != nil {
									break
								}
							}
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if h, ok := m.(*hashMap); ok {
				if err := h.check(); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestConcurrentCounters has goroutines count through LookupRef with
// atomic adds, as programs do, while Go code reads the counters and updates
// other entries; no increment may be lost.
func TestConcurrentCounters(t *testing.T) {
	const goroutines, adds = 8, 2000
	for _, typ := range []Type{Array, PerCPUArray, Hash, LRUHash} {
		t.Run(typ.String(), func(t *testing.T) {
			m := mustNew(t, Spec{Type: typ, KeySize: 4, ValueSize: 8, MaxEntries: 64}, goroutines)
			zero := make([]byte, 8*m.Workers())
			if err := m.Update(u32(0), zero, UpdateAny); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			stop := make(chan struct{})
			// Go-side readers and writers of other entries.
			var side sync.WaitGroup
			for g := range 2 {
				side.Go(func() {
					for i := uint32(1); ; i = i%60 + 1 {
						select {
						case <-stop:
							return
						default:
						}
						_, _ = m.Lookup(u32(0))
						_ = m.Update(u32(i), zero, UpdateAny)
						if g == 1 {
							_ = m.Delete(u32(i))
						}
					}
				})
			}
			for g := range goroutines {
				wg.Go(func() {
					for range adds {
						ref := m.LookupRef(g, u32(0))
						if ref == nil {
							t.Error("counter vanished")
							return
						}
						atomic.AddUint64(word(ref), 1)
					}
				})
			}
			wg.Wait()
			close(stop)
			side.Wait()
			v, err := m.Lookup(u32(0))
			if err != nil {
				t.Fatal(err)
			}
			var total uint64
			for w := range m.Workers() {
				c := binary.LittleEndian.Uint64(v[8*w:])
				if typ == PerCPUArray && c != adds {
					t.Errorf("worker %d counted %d, want %d", w, c, adds)
				}
				total += c
			}
			if total != goroutines*adds {
				t.Errorf("total %d, want %d", total, goroutines*adds)
			}
		})
	}
}
