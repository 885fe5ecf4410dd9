package ebpf_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf"
)

// TestRegionMemory: a verified program whose context has pointer fields
// reaches its regions without bounds checks, so every run first checks the
// memory it is given against the type's regions. Each case breaks the
// memory of newRowsRun in one way; the run must fail with ErrRegionMemory
// before the program starts (hashes stays untouched), the same way on
// every engine with and without RuntimeChecks. The intact case must run
// and hash every row.
func TestRegionMemory(t *testing.T) {
	cases := []struct {
		name  string
		spoil func(r *rowsRun)
		want  string // "" if the run must succeed
	}{
		{"intact", func(*rowsRun) {}, ""},
		{"no memory", func(r *rowsRun) { r.opts.Memory = nil }, `ctx field "keys" holds`},
		{"field into the middle", func(r *rowsRun) {
			binary.LittleEndian.PutUint64(r.ctx[8:], addrOf(wordBytes(r.hashes[1:])))
		}, `ctx field "hashes" holds`},
		{"short region", func(r *rowsRun) {
			r.opts.Memory[1].Data = r.opts.Memory[1].Data[:benchRows*8-1]
		}, `region "hashes" is 16384 bytes, RunOptions.Memory[1] only 16383`},
		{"read-only for a writable region", func(r *rowsRun) { r.opts.Memory[1].Writable = false }, `region "hashes" is writable`},
		{"fields swapped", func(r *rowsRun) {
			binary.LittleEndian.PutUint64(r.ctx[0:], addrOf(wordBytes(r.hashes)))
			binary.LittleEndian.PutUint64(r.ctx[8:], addrOf(wordBytes(r.keys)))
		}, `region "hashes" is writable`},
		{"writable memory over the ctx", func(r *rowsRun) {
			r.opts.Memory = append(r.opts.Memory, ebpf.Memory{Data: r.ctx[8:16], Writable: true})
		}, "writable RunOptions.Memory[2] overlaps the ctx"},
		// Read-only memory over the ctx cannot rewrite a pointer field.
		{"read-only memory over the ctx", func(r *rowsRun) {
			r.opts.Memory = append(r.opts.Memory, ebpf.Memory{Data: r.ctx})
		}, ""},
		// Checked accesses would find the first entry: region memory may
		// overlap no other entry.
		{"overlapping entry", func(r *rowsRun) {
			r.opts.Memory = append(r.opts.Memory, ebpf.Memory{Data: r.opts.Memory[1].Data[8:16]})
		}, "RunOptions.Memory[1] overlaps RunOptions.Memory[2]"},
		{"region memory over the ctx", func(r *rowsRun) {
			buf := make([]byte, benchRows*8)
			copy(buf, r.ctx)
			r.ctx = buf[:24:24]
			binary.LittleEndian.PutUint64(r.ctx[0:], addrOf(buf))
			r.opts.Memory[0].Data = buf
		}, "RunOptions.Memory[0] overlaps the ctx"},
	}
	for _, c := range cases {
		for _, e := range engines() {
			for _, checks := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%v/checks=%v", c.name, e, checks), func(t *testing.T) {
					p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "rows", Instructions: mustAssemble(t, rowsLoop)},
						&ebpf.ProgramOptions{Type: rowsType, Engine: e, RuntimeChecks: checks, Budget: -1})
					if err != nil {
						t.Fatal(err)
					}
					rn, run := p.NewRunner(), newRowsRun(benchRows)
					if c.want != "" {
						// First a run that passes, on the same runner
						// and memory: what it leaves (the runner
						// remembers a passed check) must not let the
						// spoiled run through.
						if _, err := rn.RunWith(run.ctx, run.opts); err != nil {
							t.Fatalf("intact run: %v", err)
						}
						clear(run.hashes)
					}
					c.spoil(run)
					r0, err := rn.RunWith(run.ctx, run.opts)
					if c.want == "" {
						if err != nil || r0 != benchRows || run.hashes[3] != (run.keys[3]*0x5bd1e995) {
							t.Fatalf("r0 = %d, err = %v, hashes[3] = %#x", r0, err, run.hashes[3])
						}
						return
					}
					if !errors.Is(err, ebpf.ErrRegionMemory) || !strings.Contains(err.Error(), c.want) {
						t.Fatalf("err = %v, want ErrRegionMemory with %q", err, c.want)
					}
					for i, h := range run.hashes {
						if h != 0 {
							t.Fatalf("hashes[%d] = %#x: the program ran", i, h)
						}
					}
				})
			}
		}
	}
	// Run passes no memory at all.
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "rows", Instructions: mustAssemble(t, rowsLoop)}, &ebpf.ProgramOptions{Type: rowsType})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(newRowsRun(1).ctx); !errors.Is(err, ebpf.ErrRegionMemory) {
		t.Fatalf("Run: err = %v, want ErrRegionMemory", err)
	}
	if _, err := p.NewRunner().Run(newRowsRun(1).ctx); !errors.Is(err, ebpf.ErrRegionMemory) {
		t.Fatalf("Runner.Run: err = %v, want ErrRegionMemory", err)
	}
	// Nor after a run with the memory on the same ctx: a runner skips
	// rechecking the ctx's length, never the regions.
	for _, e := range engines() {
		p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "rows", Instructions: mustAssemble(t, rowsLoop)}, &ebpf.ProgramOptions{Type: rowsType, Engine: e})
		if err != nil {
			t.Fatal(err)
		}
		run, r := newRowsRun(1), p.NewRunner()
		if _, err := r.RunWith(run.ctx, run.opts); err != nil {
			t.Fatalf("%v: RunWith: %v", e, err)
		}
		if _, err := r.Run(run.ctx); !errors.Is(err, ebpf.ErrRegionMemory) {
			t.Fatalf("%v: Runner.Run after RunWith: err = %v, want ErrRegionMemory", e, err)
		}
	}
}
