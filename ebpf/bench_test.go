package ebpf_test

import (
	"encoding/binary"
	"path/filepath"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ebpf/conformance"
)

// benchDir holds the shared bench programs (see its README).
const benchDir = "../../shared/bench-progs"

// Native Go versions of the bench programs with the same (mem) -> u64
// contract: the physical limit the runtime is measured against.
var natives = map[string]func(mem []byte) uint64{
	"ret": func([]byte) uint64 { return 0 },
	"loop1m": func([]byte) uint64 {
		var r uint64
		for i := uint64(0); i < 1_000_000; i++ {
			r = (r*31 + i) ^ (i >> 3)
		}
		return r
	},
	"fnv1a64": func(mem []byte) uint64 {
		h := uint64(0xcbf29ce484222325)
		for _, b := range mem {
			h ^= uint64(b)
			h *= 0x100000001b3
		}
		return h
	},
	"murmur64": func(mem []byte) uint64 {
		const m, r uint64 = 0xc6a4a7935bd1e995, 47
		mm := m // a variable, so that 8*m wraps as the program's multiply does
		h := uint64(0x12345678) ^ (8 * mm)
		k := binary.LittleEndian.Uint64(mem)
		k *= m
		k ^= k >> r
		k *= m
		h ^= k
		h *= m
		h ^= h >> r
		h *= m
		h ^= h >> r
		return h
	},
	"helper_call": func([]byte) uint64 {
		inc := increment
		var r uint64
		for i := 0; i < 100; i++ {
			r = inc(r)
		}
		return r
	},
}

//go:noinline
func increment(x uint64) uint64 { return x + 1 }

// goHelpers are the test helpers without their inline bodies.
func goHelpers(b *testing.B) *ebpf.Helpers {
	h := ebpf.NewHelpers()
	for _, hp := range conformance.TestHelpers().All() {
		if err := h.Register(hp); err != nil {
			b.Fatal(err)
		}
	}
	return h
}

// loadBench loads a bench program as conformance.Load does: verified
// against TestProgramType(len(mem)), so the interpreter skips the checks
// of the accesses the verifier proved (unless checks is set, which keeps
// them all). loop1m cannot verify: its million iterations are beyond the
// verifier's state limit, so it is loaded Unverified and always checks.
func loadBench(b *testing.B, name string, engine ebpf.Engine, checks bool, helpers ...*ebpf.Helpers) (*ebpf.Program, *conformance.Test) {
	if engine == ebpf.EngineJIT && !ebpf.JITSupported() {
		b.Skip("the JIT is not supported on this platform")
	}
	t, err := conformance.ParseFile(filepath.Join(benchDir, name+".data"))
	if err != nil {
		b.Skipf("bench programs not available (%v): they live in ../shared/bench-progs", err)
	}
	h := conformance.TestHelpers()
	if len(helpers) > 0 {
		h = helpers[0]
	}
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: t.Name, Instructions: t.Program}, &ebpf.ProgramOptions{
		Helpers:       h,
		Budget:        -1,
		Type:          ebpf.TestProgramType(len(t.Mem)),
		Unverified:    name == "loop1m",
		RuntimeChecks: checks,
		Engine:        engine,
	})
	if err != nil {
		b.Fatal(err)
	}
	return p, t
}

// benchRunner returns the benchmark of a bench program on a Runner, which
// owns its state as a worker of a pool would (Program.Run takes a machine
// from the program's pool for every run). It is not inlined: a closure
// copied into an inlined caller loses the inlining of b.Loop, and its loop
// would pay a call per run that the native column's loop does not.
//
//go:noinline
func benchRunner(name string, engine ebpf.Engine, checks bool) func(b *testing.B) {
	return func(b *testing.B) {
		p, t := loadBench(b, name, engine, checks)
		r := p.NewRunner()
		mem := append([]byte(nil), t.Mem...)
		for b.Loop() {
			r0, err := r.Run(mem)
			if err != nil || r0 != t.Result {
				b.Fatalf("r0 = %#x, %v; want %#x", r0, err, t.Result)
			}
		}
	}
}

// BenchmarkBenchProgs runs each bench program under the JIT and in the
// interpreter next to its native Go version.
func BenchmarkBenchProgs(b *testing.B) {
	for _, name := range []string{"ret", "murmur64", "fnv1a64", "helper_call", "loop1m"} {
		runner := func(engine ebpf.Engine, checks bool) func(b *testing.B) {
			return benchRunner(name, engine, checks)
		}
		b.Run(name+"/jit", runner(ebpf.EngineJIT, false))
		if name == "helper_call" {
			// The test helpers run inline under the JIT (they are pure, see
			// Helpers.SetInline); this is the same helper as a Go function
			// only, each call a round trip from native code through Go.
			b.Run(name+"/jit-exit", func(b *testing.B) {
				p, t := loadBench(b, name, ebpf.EngineJIT, false, goHelpers(b))
				r := p.NewRunner()
				for b.Loop() {
					r0, err := r.Run(nil)
					if err != nil || r0 != t.Result {
						b.Fatalf("r0 = %#x, %v; want %#x", r0, err, t.Result)
					}
				}
			})
		}
		b.Run(name+"/interp", runner(ebpf.EngineInterpreter, false))
		// The same with every run-time check kept (RuntimeChecks).
		b.Run(name+"/interp-checks", runner(ebpf.EngineInterpreter, true))
		b.Run(name+"/interp-shared", func(b *testing.B) {
			p, t := loadBench(b, name, ebpf.EngineInterpreter, false)
			mem := append([]byte(nil), t.Mem...)
			for b.Loop() {
				r0, err := p.Run(mem)
				if err != nil || r0 != t.Result {
					b.Fatalf("r0 = %#x, %v; want %#x", r0, err, t.Result)
				}
			}
		})
		b.Run(name+"/native", func(b *testing.B) {
			_, t := loadBench(b, name, ebpf.EngineInterpreter, false)
			f := natives[name]
			mem := append([]byte(nil), t.Mem...)
			for b.Loop() {
				if r := f(mem); r != t.Result {
					b.Fatalf("native %s = %#x, want %#x", name, r, t.Result)
				}
			}
		})
	}
}
