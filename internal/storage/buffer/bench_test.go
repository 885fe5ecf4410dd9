package buffer

import (
	"encoding/binary"
	"path/filepath"
	"testing"

	"github.com/bpfdb/bpfdb/internal/storage/file"
)

// BenchmarkPinUnpin pins and unpins one resident block from one goroutine:
// the hot path with the built-in Unpin policy (a CAS to pin; a CAS, an
// atomic add and a shard lock to unpin).
func BenchmarkPinUnpin(b *testing.B) {
	m, err := New(Options{Limit: 1 << 30, TempDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	blk, _, err := m.Allocate(TagOther, 4096)
	if err != nil {
		b.Fatal(err)
	}
	m.Unpin(blk)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Pin(blk); err != nil {
			b.Fatal(err)
		}
		m.Unpin(blk)
	}
}

// BenchmarkPinUnpinParallel pins and unpins from GOMAXPROCS goroutines,
// each its own resident block ("own"), or all the same one ("shared").
func BenchmarkPinUnpinParallel(b *testing.B) {
	for _, shared := range []bool{false, true} {
		name := "own"
		if shared {
			name = "shared"
		}
		b.Run(name, func(b *testing.B) {
			m, err := New(Options{Limit: 1 << 30, TempDir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			one, _, err := m.Allocate(TagOther, 4096)
			if err != nil {
				b.Fatal(err)
			}
			m.Unpin(one)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				blk := one
				if !shared {
					var err error
					if blk, _, err = m.Allocate(TagOther, 4096); err != nil {
						b.Error(err)
						return
					}
					m.Unpin(blk)
				}
				for pb.Next() {
					if _, err := m.Pin(blk); err != nil {
						b.Error(err)
						return
					}
					m.Unpin(blk)
				}
			})
		})
	}
}

// BenchmarkScanWarm reads 192 persistent blocks of 256 KiB (48 MiB) from
// warm buffers: pin, sum the payload as little-endian uint64s, unpin.
func BenchmarkScanWarm(b *testing.B) {
	const blocks = 192
	dir := b.TempDir()
	f, err := file.Create(filepath.Join(dir, "db"), file.CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	m, err := New(Options{File: f, Limit: 1 << 30, TempDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	handles := make([]*Block, blocks)
	var want uint64
	for i := range handles {
		blk, p, err := m.AllocateBlock(TagBaseTable)
		if err != nil {
			b.Fatal(err)
		}
		for j := 0; j+8 <= len(p); j += 8 {
			v := uint64(i*len(p) + j)
			binary.LittleEndian.PutUint64(p[j:], v)
			want += v
		}
		if _, err := m.MakePersistent(blk); err != nil {
			b.Fatal(err)
		}
		m.Unpin(blk)
		handles[i] = blk
	}
	b.SetBytes(int64(blocks * m.PayloadSize()))
	b.ReportAllocs()
	for b.Loop() {
		var sum uint64
		for _, h := range handles {
			p, err := m.Pin(h)
			if err != nil {
				b.Fatal(err)
			}
			for j := 0; j+8 <= len(p); j += 8 {
				sum += binary.LittleEndian.Uint64(p[j:])
			}
			m.Unpin(h)
		}
		if sum != want {
			b.Fatalf("sum %d, want %d", sum, want)
		}
	}
}
