// Package objects_test measures and checks the verification of compiled
// objects: the engine hooks' test policies (typed by ext) and the
// runtime's ELF test objects. It lives apart from the verifier's own tests
// so that those do not depend on the engine packages ext imports.
package objects_test

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ebpf/internal/verifier"
	"github.com/bpfdb/bpfdb/ext"
)

// The compiled objects whose verification time matters: the engine hooks'
// test policies and the runtime's ELF test objects, read by relative path
// from this package's directory.
const (
	hookObjects  = "../../../../internal/hooks/testdata"
	stockObjects = "../../../../extensions/*"
	elfObjects   = "../../../testdata"
)

// objectProgram is one program of a compiled object with what it is
// verified against.
type objectProgram struct {
	name string // object:program
	spec *ebpf.ProgramSpec
	opts *ebpf.VerifyOptions
}

// hookFor returns the hook whose section is sec.
func hookFor(sec string) (ext.Hook, bool) {
	for h := ext.Hash; h <= ext.Unpin; h++ {
		if ext.Section(h) == sec {
			return h, true
		}
	}
	return 0, false
}

// hookHelpers are the default helpers plus hook h's, with functions that
// are never called: verification needs only the prototypes.
func hookHelpers(tb testing.TB, h ext.Hook) *ebpf.Helpers {
	hs := ebpf.DefaultHelpers()
	fns := map[int32]ebpf.HelperFunc{}
	for _, hp := range ext.SpecOf(h).Helpers {
		fns[hp.ID] = func(*ebpf.Env, uint64, uint64, uint64, uint64, uint64) (uint64, error) {
			return 0, errors.New("BUG: a helper ran during verification")
		}
	}
	if err := ext.SpecOf(h).Register(hs, fns); err != nil {
		tb.Fatal(err)
	}
	return hs
}

// hookPrograms loads every program of the hooks' test objects and of the
// stock policies (extensions/<hook>/*.o) with the type and helpers of the
// hook its section names.
func hookPrograms(tb testing.TB) []objectProgram {
	files, _ := filepath.Glob(filepath.Join(hookObjects, "*.o"))
	if len(files) == 0 {
		tb.Skipf("no hook test objects in %s (run from ebpf/internal/verifier/objects in the repository)", hookObjects)
	}
	stock, _ := filepath.Glob(filepath.Join(stockObjects, "*.o"))
	files = append(files, stock...)
	var out []objectProgram
	for _, f := range files {
		cs, err := ebpf.LoadCollectionSpecFromFile(f)
		if err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		for _, name := range slices.Sorted(maps.Keys(cs.Programs)) {
			ps := cs.Programs[name]
			h, ok := hookFor(ps.Section)
			if !ok {
				tb.Fatalf("%s: program %s is in section %q, which names no hook", f, name, ps.Section)
			}
			out = append(out, objectProgram{
				name: objectName(f) + ":" + name,
				spec: ps,
				opts: &ebpf.VerifyOptions{Type: ext.SpecOf(h).Type(), Helpers: hookHelpers(tb, h), Maps: cs.Maps},
			})
		}
	}
	return out
}

// objectName names an object file by its base name, with its directory
// for a stock policy (hash/default.o).
func objectName(f string) string {
	if dir := filepath.Base(filepath.Dir(f)); dir != "testdata" {
		return dir + "/" + filepath.Base(f)
	}
	return filepath.Base(f)
}

// elfCandidateTypes are the context shapes the runtime's ELF test objects
// read (see ebpf/elf_run_test.go); a program is verified against the first
// that accepts it.
var elfCandidateTypes = []*ebpf.ProgramType{
	ebpf.TestProgramType(0),
	ctxType(8), ctxType(8, 8), ctxType(4),
}

func ctxType(sizes ...int) *ebpf.ProgramType {
	typ := &ebpf.ProgramType{Name: fmt.Sprint(sizes), Return: ebpf.Return{Any: true}}
	for i, size := range sizes {
		typ.Context.Fields = append(typ.Context.Fields, ebpf.Field{Name: fmt.Sprintf("f%d", i), Offset: typ.Context.Size, Size: size})
		typ.Context.Size += size
	}
	return typ
}

// elfPrograms loads the programs of the runtime's ELF test objects that
// some candidate type accepts; objects the loader rejects (the broken-*
// files, unsupported features) are left out.
func elfPrograms(tb testing.TB) []objectProgram {
	files, _ := filepath.Glob(filepath.Join(elfObjects, "*.o"))
	if len(files) == 0 {
		tb.Skipf("no ELF test objects in %s", elfObjects)
	}
	var out []objectProgram
	for _, f := range files {
		cs, err := ebpf.LoadCollectionSpecFromFile(f)
		if err != nil {
			continue
		}
		for _, name := range slices.Sorted(maps.Keys(cs.Programs)) {
			ps := cs.Programs[name]
			for _, typ := range elfCandidateTypes {
				opts := &ebpf.VerifyOptions{Type: typ, Maps: cs.Maps}
				if _, err := ebpf.Verify(ps, opts); err == nil {
					out = append(out, objectProgram{name: filepath.Base(f) + ":" + name, spec: ps, opts: opts})
					break
				}
			}
		}
	}
	return out
}

// BenchmarkVerifyObjects measures the verification of every program of the
// hooks' test objects and of the runtime's ELF test objects, with the
// exploration's statistics.
func BenchmarkVerifyObjects(b *testing.B) {
	progs := hookPrograms(b)
	if _, err := os.Stat(elfObjects); err == nil {
		progs = append(progs, elfPrograms(b)...)
	}
	for _, p := range progs {
		b.Run(strings.ReplaceAll(p.name, "/", "_"), func(b *testing.B) {
			var res *ebpf.VerifyResult
			for b.Loop() {
				var err error
				if res, err = ebpf.Verify(p.spec, p.opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(p.spec.Instructions.Slots()), "slots")
			b.ReportMetric(float64(res.Processed), "processed")
			b.ReportMetric(float64(res.States), "states")
		})
	}
}

// maxProcessed bounds the instructions the verification of a hook test
// program may process: their loops over up to 2048 rows are widened, not
// walked (iteration by iteration, hash_default took 774,179).
var maxProcessed = map[string]int{
	"hash_default.o:hash_default": 1200,
}

// TestHookObjects verifies every program of the hooks' test objects, and
// bounds the work of those whose loops must be widened.
func TestHookObjects(t *testing.T) {
	for _, p := range hookPrograms(t) {
		t.Run(p.name, func(t *testing.T) {
			res, err := ebpf.Verify(p.spec, p.opts)
			if err != nil {
				t.Fatal(err)
			}
			if limit, ok := maxProcessed[p.name]; ok && res.Processed > limit {
				t.Errorf("processed %d instructions, more than %d", res.Processed, limit)
			}
		})
	}
}

// TestLoopObjects verifies testdata/loops.o and loops_alu32.o, loops over
// the Hash hook's rows as clang compiles them (build.sh): each ok one in a
// few walks of its body, the bad ones rejected.
func TestLoopObjects(t *testing.T) {
	for _, f := range []string{"testdata/loops.o", "testdata/loops_alu32.o"} {
		cs, err := ebpf.LoadCollectionSpecFromFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range slices.Sorted(maps.Keys(cs.Programs)) {
			t.Run(filepath.Base(f)+":"+name, func(t *testing.T) {
				opts := &ebpf.VerifyOptions{Type: ext.SpecOf(ext.Hash).Type(), Helpers: hookHelpers(t, ext.Hash), Maps: cs.Maps}
				res, err := ebpf.Verify(cs.Programs[name], opts)
				var ve *ebpf.VerifierError
				switch {
				case strings.HasPrefix(name, "bad_"):
					if !errors.As(err, &ve) || ve.Code != verifier.CodeOutOfBounds {
						t.Fatalf("got %v, want an out-of-bounds rejection", err)
					}
				case err != nil:
					t.Fatal(err)
				case res.Processed > 300:
					t.Errorf("processed %d instructions, more than 300: the loop was not widened", res.Processed)
				default:
					t.Logf("processed %d, states %d, widened %d", res.Processed, res.States, res.Widened)
				}
			})
		}
	}
}
