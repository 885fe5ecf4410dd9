package hooks

import (
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ext"
	"github.com/bpfdb/bpfdb/internal/exec/hash"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// BenchmarkUnpinSite measures one Unpin policy call: the built-in policy
// called directly, the site with nothing attached (one atomic load and a
// branch more; under -tags nohooks the site is the built-in), and the site
// running unpin_scan.
func BenchmarkUnpinSite(b *testing.B) {
	reg := New(Options{Logf: b.Logf})
	m, err := buffer.New(buffer.Options{Limit: 1 << 20, TempDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	blk, _, err := m.Allocate(buffer.TagColumnData, bufSize)
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, p buffer.UnpinPolicy) {
		b.ReportAllocs()
		for b.Loop() {
			if p.Unpin(m, blk, 1).Queue < 0 {
				b.Fatal("bad queue")
			}
		}
	}
	var builtin buffer.UnpinPolicy = buffer.DefaultUnpin{}
	b.Run("builtin", func(b *testing.B) { run(b, builtin) })
	b.Run("nothing-attached", func(b *testing.B) { run(b, reg.UnpinPolicy()) })
	if !enabled {
		return
	}
	for _, eng := range benchEngines() {
		b.Run("unpin_scan/"+eng.String(), func(b *testing.B) {
			reg := New(Options{Engine: eng, Logf: b.Logf})
			if _, err := reg.Attach(ext.Unpin, object(b, "unpin.o"), "unpin_scan"); err != nil {
				b.Fatal(err)
			}
			run(b, reg.UnpinPolicy())
		})
	}
}

func benchEngines() []ebpf.Engine {
	if ebpf.JITSupported() {
		return []ebpf.Engine{ebpf.EngineInterpreter, ebpf.EngineJIT}
	}
	return []ebpf.Engine{ebpf.EngineInterpreter}
}

// BenchmarkHash measures hashing one full vector (2048 keys) of BIGINT and
// of short VARCHAR keys: the built-in function, and attached per engine the
// test program hash_default and the stock extensions/hash/default.o.
// ns/key is the time per key.
func BenchmarkHash(b *testing.B) {
	stock, err := os.ReadFile("../../extensions/hash/default.o")
	if err != nil {
		b.Fatal(err)
	}
	for _, typ := range []types.Type{types.BigIntType, types.VarcharType} {
		v := vector.New(typ)
		for i := range vector.Size {
			if typ == types.VarcharType {
				v.Set(i, types.VarcharValue(fmt.Sprintf("Customer#%09d", i)))
			} else {
				v.Set(i, types.BigIntValue(int64(i*7919)))
			}
		}
		out := make([]uint64, vector.Size)
		run := func(b *testing.B, h hash.Hasher) {
			for b.Loop() {
				h.Column(v, nil, vector.Size, out, false)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*vector.Size), "ns/key")
		}
		b.Run(typ.String()+"/builtin", func(b *testing.B) { run(b, hash.Hasher{}) })
		if !enabled {
			continue
		}
		for _, eng := range benchEngines() {
			for _, prog := range []struct {
				name string
				obj  []byte
			}{{"hash_default", object(b, "hash_default.o")}, {"stock", stock}} {
				b.Run(typ.String()+"/"+prog.name+"/"+eng.String(), func(b *testing.B) {
					reg := New(Options{Engine: eng, Logf: b.Logf})
					if _, err := reg.Attach(ext.Hash, prog.obj, ""); err != nil {
						b.Fatal(err)
					}
					run(b, reg.HashSlot().Capture())
				})
			}
		}
	}
}

// BenchmarkAttach measures a replacement: verify, compile, reuse maps,
// swap (the object's parse is cached after the first attach) (DESIGN.md §5: at most 1 ms for a stock policy).
func BenchmarkAttach(b *testing.B) {
	if !enabled {
		b.Skip("hooks compiled out")
	}
	for _, c := range []struct {
		hook    ext.Hook
		obj     string
		program string
	}{{ext.Unpin, "unpin.o", "unpin_scan"}, {ext.Hash, "hash_default.o", ""}} {
		for _, eng := range benchEngines() {
			b.Run(c.obj+":"+c.program+"/"+eng.String(), func(b *testing.B) {
				reg := New(Options{Engine: eng, Logf: func(string, ...any) {}})
				obj := object(b, c.obj)
				for b.Loop() {
					if _, err := reg.Attach(c.hook, obj, c.program); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkMemorySite measures one UpdateUsedMemory call: the built-in
// policy directly, the site with nothing attached, and mem_batch attached.
func BenchmarkMemorySite(b *testing.B) {
	reg := New(Options{Logf: b.Logf})
	m, err := buffer.New(buffer.Options{Limit: 1 << 20, TempDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	run := func(b *testing.B, p buffer.MemoryPolicy) {
		b.ReportAllocs()
		d := int64(4096)
		for b.Loop() {
			p.UpdateUsedMemory(m, buffer.TagSort, d)
			d = -d
		}
	}
	var builtin buffer.MemoryPolicy = buffer.DefaultMemory{}
	b.Run("builtin", func(b *testing.B) { run(b, builtin) })
	b.Run("nothing-attached", func(b *testing.B) { run(b, reg.MemoryPolicy()) })
	if !enabled {
		return
	}
	for _, eng := range benchEngines() {
		b.Run("mem_batch/"+eng.String(), func(b *testing.B) {
			reg := New(Options{Engine: eng, Logf: b.Logf})
			if _, err := reg.Attach(ext.UpdateUsedMemory, object(b, "memory.o"), "mem_batch"); err != nil {
				b.Fatal(err)
			}
			run(b, reg.MemoryPolicy())
		})
	}
}

// BenchmarkUnpinParallel measures Unpin calls from all cores at once, the
// way workers unpin during a scan: the site with nothing attached and with
// the stock default program (extensions/unpin/default.o), per engine (and
// default-serial: from one goroutine, over 64 blocks). The difference is
// what attaching the default costs per unpin, contention between the
// callers included.
func BenchmarkUnpinParallel(b *testing.B) {
	m, err := buffer.New(buffer.Options{Limit: 1 << 24, TempDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	var blks []*buffer.Block
	for range 64 {
		blk, _, err := m.Allocate(buffer.TagColumnData, bufSize)
		if err != nil {
			b.Fatal(err)
		}
		blks = append(blks, blk)
	}
	run := func(b *testing.B, p buffer.UnpinPolicy) {
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			blk := blks[next.Add(1)%int64(len(blks))]
			for pb.Next() {
				if p.Unpin(m, blk, 1).Queue < 0 {
					panic("bad queue")
				}
			}
		})
	}
	b.Run("nothing-attached", func(b *testing.B) { run(b, New(Options{Logf: b.Logf}).UnpinPolicy()) })
	if !enabled {
		return
	}
	obj, err := os.ReadFile("../../extensions/unpin/default.o")
	if err != nil {
		b.Fatal(err)
	}
	for _, eng := range benchEngines() {
		b.Run("default-serial/"+eng.String(), func(b *testing.B) {
			reg := New(Options{Engine: eng, Logf: b.Logf})
			if _, err := reg.Attach(ext.Unpin, obj, ""); err != nil {
				b.Fatal(err)
			}
			p := reg.UnpinPolicy()
			for i := 0; b.Loop(); i++ {
				if p.Unpin(m, blks[i%len(blks)], uint64(i)).Queue < 0 {
					b.Fatal("bad queue")
				}
			}
		})
	}
	for _, eng := range benchEngines() {
		b.Run("default/"+eng.String(), func(b *testing.B) {
			reg := New(Options{Engine: eng, Logf: b.Logf})
			if _, err := reg.Attach(ext.Unpin, obj, ""); err != nil {
				b.Fatal(err)
			}
			run(b, reg.UnpinPolicy())
		})
	}
}

// BenchmarkHashParallel hashes vectors of BIGINT keys from all cores at
// once, as the workers of a join or an aggregate do, with the built-in
// function and with the stock default attached: contention between the
// callers (runners, counters) included. Vectors hold n keys (a probe round
// or a partition's rows can be short).
func BenchmarkHashParallel(b *testing.B) {
	stock, err := os.ReadFile("../../extensions/hash/default.o")
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{vector.Size, 256} {
		v := vector.New(types.BigIntType)
		for i := range vector.Size {
			v.Set(i, types.BigIntValue(int64(i*7919)))
		}
		run := func(b *testing.B, h hash.Hasher) {
			b.RunParallel(func(pb *testing.PB) {
				out := make([]uint64, vector.Size)
				for pb.Next() {
					h.Column(v, nil, n, out, false)
				}
			})
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/key")
		}
		name := fmt.Sprintf("%d-keys/", n)
		b.Run(name+"builtin", func(b *testing.B) { run(b, hash.Hasher{}) })
		if !enabled {
			continue
		}
		for _, eng := range benchEngines() {
			b.Run(name+"stock/"+eng.String(), func(b *testing.B) {
				reg := New(Options{Engine: eng, Logf: b.Logf})
				if _, err := reg.Attach(ext.Hash, stock, ""); err != nil {
					b.Fatal(err)
				}
				run(b, reg.HashSlot().Capture())
			})
		}
	}
}
