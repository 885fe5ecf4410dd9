package extensions_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ebpf/maps"
	"github.com/bpfdb/bpfdb/ext"
	"github.com/bpfdb/bpfdb/extensions"
	"github.com/bpfdb/bpfdb/internal/hooks"
)

// engines are the backends the programs are run on.
func engines(t testing.TB) []ebpf.Engine {
	if ebpf.JITSupported() {
		return []ebpf.Engine{ebpf.EngineInterpreter, ebpf.EngineJIT}
	}
	t.Log("no JIT on this platform: interpreter only")
	return []ebpf.Engine{ebpf.EngineInterpreter}
}

// object returns a stock policy's object, or fails the test.
func object(t testing.TB, hook ext.Hook, policy string) []byte {
	t.Helper()
	obj, err := extensions.Object(hook.String(), policy)
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

// registry returns a registry whose events go to the test log.
func registry(t testing.TB, eng ebpf.Engine) *hooks.Registry {
	return hooks.New(hooks.Options{Engine: eng, Logf: t.Logf})
}

// attach attaches a stock policy to reg, or fails the test (skipping it
// in a nohooks build).
func attach(t testing.TB, reg *hooks.Registry, hook ext.Hook, policy string) *hooks.Attachment {
	t.Helper()
	a, err := reg.Attach(hook, object(t, hook, policy), "")
	if errors.Is(err, hooks.ErrDisabled) {
		t.Skip("hooks are compiled out (-tags nohooks)")
	}
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestTable: the policy table and the embedded files agree; every source
// starts with a comment naming its path; unknown names are refused with an
// error naming what is unknown.
func TestTable(t *testing.T) {
	var files []string
	err := fs.WalkDir(os.DirFS("."), ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Count(path, "/") == 1 && (strings.HasSuffix(path, ".c") || strings.HasSuffix(path, ".o")) {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	seen := map[ext.Hook]bool{}
	for _, p := range extensions.List() {
		listed = append(listed, p.String()+".c", p.String()+".o")
		if !seen[p.Hook] && p.Name != "default" {
			t.Errorf("%s: the first policy of hook %s must be its default", p, p.Hook)
		}
		seen[p.Hook] = true
		if p.Summary == "" || strings.Contains(p.Summary, "\n") {
			t.Errorf("%s: summary %q is not one line", p, p.Summary)
		}
		src, err := extensions.Source(p.Hook.String(), p.Name)
		if err != nil {
			t.Fatal(err)
		}
		if want := "/* " + p.String() + ": "; !strings.HasPrefix(src, want) {
			t.Errorf("%s.c does not start with %q", p, want)
		}
	}
	for _, h := range ext.Hooks() {
		if !seen[h] {
			t.Errorf("hook %s has no stock policy", h)
		}
	}
	slices.Sort(files)
	slices.Sort(listed)
	if !slices.Equal(files, listed) {
		t.Errorf("files in the tree:\n%v\npolicies listed:\n%v", files, listed)
	}

	for _, c := range []struct{ hook, policy, want string }{
		{"unpin", "lru2", `stock extension unpin/lru2: unknown policy "lru2" for hook unpin (it has default, scan_resistant)`},
		{"evict", "default", `stock extension evict/default: unknown hook "evict" (hooks: hash, execute_forever, schedule_task, load, update_used_memory, allocate_new_block, unpin)`},
	} {
		_, err := extensions.Object(c.hook, c.policy)
		if err == nil || err.Error() != c.want {
			t.Errorf("Object(%q, %q): %v\nwant %s", c.hook, c.policy, err, c.want)
		}
		if _, err := extensions.Source(c.hook, c.policy); err == nil || err.Error() != c.want {
			t.Errorf("Source(%q, %q): %v", c.hook, c.policy, err)
		}
	}
	if _, err := extensions.Object("evict", "x"); !errors.Is(err, extensions.ErrUnknownHook) {
		t.Errorf("unknown hook: %v does not wrap ErrUnknownHook", err)
	}
	if _, err := extensions.Object("ScheduleTask", "fifo"); !errors.Is(err, extensions.ErrUnknownPolicy) {
		t.Errorf("unknown policy: %v does not wrap ErrUnknownPolicy", err)
	}
	if _, err := extensions.Object("ScheduleTask", "default"); err != nil {
		t.Errorf("the research system's hook name: %v", err)
	}
}

// TestObjectsCurrent rebuilds every object as build.sh does and compares
// it with the committed one (skipped without clang).
func TestObjectsCurrent(t *testing.T) {
	clang, err := exec.LookPath("clang")
	if err != nil {
		t.Skip("no clang: the committed objects are not checked against their sources")
	}
	dir := t.TempDir()
	for _, p := range extensions.List() {
		out := filepath.Join(dir, p.Hook.String()+"-"+p.Name+".o")
		cmd := exec.Command(clang, "-O2", "-g", "-target", "bpf", "-fdebug-compilation-dir=.", "-c", p.String()+".c", "-o", out)
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", p, err, msg)
		}
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, object(t, p.Hook, p.Name)) {
			t.Errorf("%s.o is not built from %s.c: run go generate ./extensions", p, p)
		}
	}
}

// TestVerify verifies every object against its hook's program type and
// attaches it on every engine. Each object holds exactly one program, in
// its hook's section. The verifier's statistics are logged per policy
// (go test -v -run TestVerify).
func TestVerify(t *testing.T) {
	for _, p := range extensions.List() {
		t.Run(p.String(), func(t *testing.T) {
			obj := object(t, p.Hook, p.Name)
			cs, err := ebpf.LoadCollectionSpec(bytes.NewReader(obj))
			if err != nil {
				t.Fatal(err)
			}
			if len(cs.Programs) != 1 {
				t.Fatalf("%d programs, want 1", len(cs.Programs))
			}
			for _, ps := range cs.Programs {
				if ps.Section != ext.Section(p.Hook) {
					t.Fatalf("program %s in section %q, want %q", ps.Name, ps.Section, ext.Section(p.Hook))
				}
				res, err := ebpf.Verify(ps, &ebpf.VerifyOptions{Type: ext.SpecOf(p.Hook).Type(), Helpers: stubHelpers(t, p.Hook), Maps: cs.Maps})
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%s: %d instructions, %d processed, %d states stored (peak %d), %d paths pruned, peak %d pending",
					ps.Name, len(ps.Instructions), res.Processed, res.States, res.PeakStates, res.Pruned, res.PeakPending)
			}
			for _, eng := range engines(t) {
				a := attach(t, registry(t, eng), p.Hook, p.Name)
				if a.Engine() == ebpf.EngineAuto || (eng == ebpf.EngineJIT && a.Engine() != ebpf.EngineJIT) {
					t.Errorf("asked for %s, runs on %s", eng, a.Engine())
				}
			}
		})
	}
}

// stubHelpers returns the generic helpers and hook's own, for the
// verifier: the hook's are stubs that fail a run.
func stubHelpers(t testing.TB, hook ext.Hook) *ebpf.Helpers {
	t.Helper()
	spec := ext.SpecOf(hook)
	all := map[int32]ebpf.HelperFunc{}
	for _, h := range spec.Helpers {
		name := h.Name
		all[h.ID] = func(*ebpf.Env, uint64, uint64, uint64, uint64, uint64) (uint64, error) {
			return 0, fmt.Errorf("helper %s is a stub", name)
		}
	}
	hs := ebpf.DefaultHelpers()
	if err := spec.Register(hs, all); err != nil {
		t.Fatal(err)
	}
	return hs
}

// update writes a map entry of fixed-size little-endian key and value.
func update(t testing.TB, m maps.Map, key, value any) {
	t.Helper()
	k, err := binary.Append(nil, binary.LittleEndian, key)
	if err != nil {
		t.Fatal(err)
	}
	v, err := binary.Append(nil, binary.LittleEndian, value)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Update(k, v, maps.UpdateAny); err != nil {
		t.Fatal(err)
	}
}
