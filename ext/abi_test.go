package ext_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ext"
)

// TestHeaderCurrent checks that include/bpfdb.h is what Header generates
// (run go generate ./ext after changing the ABI).
func TestHeaderCurrent(t *testing.T) {
	got, err := os.ReadFile(ext.HeaderPath)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != ext.Header() {
		t.Errorf("%s is stale: run go generate ./ext", ext.HeaderPath)
	}
}

// TestHelperCounts pins the number of helpers of each hook (DESIGN.md §3)
// and that helper ids are unique across hooks and the generic helpers.
func TestHelperCounts(t *testing.T) {
	want := map[ext.Hook]int{ext.Hash: 1, ext.ExecuteForever: 9, ext.ScheduleTask: 1, ext.Load: 2,
		ext.UpdateUsedMemory: 3, ext.AllocateNewBlock: 2, ext.Unpin: 5}
	ids := map[int32]string{}
	for _, h := range ext.Generic {
		ids[h.ID] = h.Name
	}
	for _, h := range ext.Hooks() {
		s := ext.SpecOf(h)
		if len(s.Helpers) != want[h] {
			t.Errorf("%s: %d helpers, want %d", h, len(s.Helpers), want[h])
		}
		for _, hp := range s.Helpers {
			if other, dup := ids[hp.ID]; dup {
				t.Errorf("%s: helper %s has the id %#x of %s", h, hp.Name, hp.ID, other)
			}
			ids[hp.ID] = hp.Name
		}
		if s.Size()%8 != 0 || s.Type().Context.Size != s.Size() {
			t.Errorf("%s: context size %d", h, s.Size())
		}
		if got, err := ext.ParseHook(strings.ToUpper(h.String())); err != nil || got != h {
			t.Errorf("ParseHook(%q) = %v, %v", strings.ToUpper(h.String()), got, err)
		}
	}
	if h, err := ext.ParseHook("UpdateUsedMemory"); err != nil || h != ext.UpdateUsedMemory {
		t.Errorf("ParseHook(UpdateUsedMemory) = %v, %v", h, err)
	}
	if _, err := ext.ParseHook("evict"); err == nil {
		t.Error("ParseHook(evict): no error")
	}
}

// helpers returns a helper set with every hook's helpers registered (with
// implementations that return 0: the test only verifies).
func helpers(t *testing.T) *ebpf.Helpers {
	hs := ebpf.DefaultHelpers()
	for _, h := range ext.Hooks() {
		s := ext.SpecOf(h)
		fns := map[int32]ebpf.HelperFunc{}
		for _, hp := range s.Helpers {
			fns[hp.ID] = func(*ebpf.Env, uint64, uint64, uint64, uint64, uint64) (uint64, error) { return 0, nil }
		}
		if err := s.Register(hs, fns); err != nil {
			t.Fatal(err)
		}
	}
	return hs
}

// TestProgramsAgainstTypes loads testdata/abi.o (C against the generated
// header) and verifies each program under its section's hook type: the
// ok_ programs pass, each bad_ one is rejected for its reason.
func TestProgramsAgainstTypes(t *testing.T) {
	spec, err := ebpf.LoadCollectionSpecFromFile("testdata/abi.o")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"bad_unpin_other_hooks_helper": "helper",
		"bad_unpin_writes_size":        "size",
		"bad_schedule_task_returns_2":  "return",
		"bad_hash_past_region":         "hashes",
	}
	hs := helpers(t)
	seen := 0
	for name, ps := range spec.Programs {
		hook, err := ext.ParseHook(strings.TrimPrefix(ps.Section, "bpfdb/"))
		if err != nil {
			t.Errorf("%s: section %q: %v", name, ps.Section, err)
			continue
		}
		seen++
		one := &ebpf.CollectionSpec{Maps: spec.Maps, Programs: map[string]*ebpf.ProgramSpec{name: ps}}
		_, err = ebpf.NewCollection(one, &ebpf.CollectionOptions{Type: ext.SpecOf(hook).Type(), Helpers: hs})
		reason, bad := want[name]
		switch {
		case !bad && err != nil:
			t.Errorf("%s (%s): rejected: %v", name, hook, err)
		case bad && err == nil:
			t.Errorf("%s (%s): accepted", name, hook)
		case bad && (!errors.Is(err, ebpf.ErrVerifier) || !strings.Contains(strings.ToLower(err.Error()), reason)):
			t.Errorf("%s (%s): rejected with %v, want a verifier error about %q", name, hook, err, reason)
		}
	}
	if seen != len(spec.Programs) || seen < 11 {
		t.Errorf("checked %d of %d programs", seen, len(spec.Programs))
	}
}
