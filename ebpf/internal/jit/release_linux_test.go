package jit_test

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bpfdb/bpfdb/ebpf/internal/jit"
)

// execAnonBytes is the size of all anonymous executable mappings of the
// process: JIT code, nothing else in a Go test binary.
func execAnonBytes(t *testing.T) uint64 {
	t.Helper()
	data, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || len(f) > 5 && f[5] != "" || f[1][2] != 'x' {
			continue
		}
		lo, hi, _ := strings.Cut(f[0], "-")
		a, err1 := strconv.ParseUint(lo, 16, 64)
		b, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("bad /proc/self/maps line %q", sc.Text())
		}
		n += b - a
	}
	return n
}

// TestRelease compiles and drops 100,000 programs: their code must be
// unmapped once they are unreachable, so neither the executable mappings
// nor the heap grow.
func TestRelease(t *testing.T) {
	if !jit.Supported() {
		t.Skip("native code is not supported on this platform")
	}
	n := 100_000
	if raceEnabled || testing.Short() {
		n = 5_000
	}
	insns := mixedProgram(40)
	settle := func() {
		// Cleanups run on their own goroutine after a collection.
		for range 5 {
			runtime.GC()
			time.Sleep(10 * time.Millisecond)
		}
	}
	settle()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	base := execAnonBytes(t)
	m := jit.NewMachine()
	for i := range n {
		p, err := jit.Compile(insns, jit.Config{Helpers: testHelpers})
		if err != nil {
			t.Fatal(err)
		}
		if i%1000 == 0 {
			if _, err := p.Run(m, 0, 0, 1_000_000); err != nil {
				t.Fatal(err)
			}
			runtime.GC()
		}
	}
	settle()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	left := execAnonBytes(t)
	t.Logf("%d programs: executable anonymous memory %d → %d bytes, heap in use %d → %d bytes",
		n, base, left, before.HeapInuse, after.HeapInuse)
	// A few segments may still wait for their cleanup.
	if left > base+64*4096 {
		t.Errorf("executable mappings grew from %d to %d bytes after %d programs: code is not unmapped", base, left, n)
	}
	if after.HeapInuse > before.HeapInuse+8<<20 {
		t.Errorf("heap grew from %d to %d bytes after %d programs", before.HeapInuse, after.HeapInuse, n)
	}
}
