package ebpf_test

import (
	"encoding/binary"
	"fmt"
	"testing"
	"unsafe"

	"github.com/bpfdb/bpfdb/ebpf"
)

// benchRows is the capacity of the regions of rowsType, as the Hash hook's.
const benchRows = 2048

// rowsType is shaped like the Hash hook: the context points to a read-only
// "keys" region and a writable "hashes" region of benchRows words each, and
// holds the number of rows.
var rowsType = &ebpf.ProgramType{
	Name: "rows",
	Regions: []ebpf.RegionSpec{
		{Name: "keys", Size: benchRows * 8},
		{Name: "hashes", Size: benchRows * 8, Writable: true},
	},
	Context: ebpf.Context{Size: 24, Fields: []ebpf.Field{
		{Name: "keys", Offset: 0, Size: 8, Kind: ebpf.FieldPointer, Region: "keys"},
		{Name: "hashes", Offset: 8, Size: 8, Kind: ebpf.FieldPointer, Region: "hashes"},
		{Name: "count", Offset: 16, Size: 4, Max: benchRows},
	}},
	Return: ebpf.Return{Any: true},
}

// rowsLoop reads keys[i] and hashes[i] and writes hashes[i] for every row:
// two loads and a store of the regions per row, as a Hash program does.
const rowsLoop = `
	ldxdw %r2, [%r1+0]
	ldxdw %r3, [%r1+8]
	ldxw %r4, [%r1+16]
	mov %r5, 0
loop:
	jge %r5, %r4, out
	jge %r5, 2048, out
	mov %r6, %r5
	lsh %r6, 3
	mov %r7, %r2
	add %r7, %r6
	ldxdw %r8, [%r7+0]
	mov %r7, %r3
	add %r7, %r6
	ldxdw %r9, [%r7+0]
	xor %r9, %r8
	mul %r9, 0x5bd1e995
	stxdw [%r7+0], %r9
	add %r5, 1
	ja loop
out:
	mov %r0, %r5
	exit`

// rowsRun is one run's memory for rowsType: the context and its two
// regions, the context pointing at them.
type rowsRun struct {
	ctx          []byte
	keys, hashes []uint64
	opts         ebpf.RunOptions
}

func newRowsRun(n int) *rowsRun {
	r := &rowsRun{ctx: make([]byte, 24), keys: make([]uint64, benchRows), hashes: make([]uint64, benchRows)}
	for i := range r.keys {
		r.keys[i] = uint64(i) * 0x9e3779b97f4a7c15
	}
	kb, hb := wordBytes(r.keys), wordBytes(r.hashes)
	binary.LittleEndian.PutUint64(r.ctx[0:], addrOf(kb))
	binary.LittleEndian.PutUint64(r.ctx[8:], addrOf(hb))
	binary.LittleEndian.PutUint32(r.ctx[16:], uint32(n))
	r.opts.Memory = []ebpf.Memory{{Data: kb}, {Data: hb, Writable: true}}
	return r
}

func wordBytes(w []uint64) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(w))), 8*len(w))
}

// BenchmarkRegionLoop runs rowsLoop over all 2048 rows on a Runner, per
// engine, with the verifier's proofs used (checks=false) and with every
// access checked (checks=true).
func BenchmarkRegionLoop(b *testing.B) {
	for _, engine := range []ebpf.Engine{ebpf.EngineInterpreter, ebpf.EngineJIT} {
		for _, checks := range []bool{false, true} {
			b.Run(fmt.Sprintf("%v/checks=%v", engine, checks), func(b *testing.B) {
				if engine == ebpf.EngineJIT && !ebpf.JITSupported() {
					b.Skip("the JIT is not supported on this platform")
				}
				p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "rows", Instructions: mustAssemble(b, rowsLoop)},
					&ebpf.ProgramOptions{Type: rowsType, Engine: engine, RuntimeChecks: checks, Budget: -1})
				if err != nil {
					b.Fatal(err)
				}
				r, run := p.NewRunner(), newRowsRun(benchRows)
				b.ReportAllocs()
				for b.Loop() {
					if r0, err := r.RunWith(run.ctx, run.opts); err != nil || r0 != benchRows {
						b.Fatalf("r0 = %d, err = %v", r0, err)
					}
				}
			})
		}
	}
}
