package hooks

import (
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ext"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
)

// TestAttachErrors checks that every way an attach can fail says why, and
// leaves the slot as it was.
func TestAttachErrors(t *testing.T) {
	reg := quiet(t, Options{})
	unpin := object(t, "unpin.o")
	cases := []struct {
		hook    ext.Hook
		obj     []byte
		program string
		want    string
		is      error
	}{
		{ext.Unpin, unpin, "", `section "bpfdb/unpin" holds`, ErrNoProgram},
		{ext.Unpin, unpin, "nope", `no program "nope"`, ErrNoProgram},
		{ext.Hash, unpin, "", `no program in section "bpfdb/hash"`, ErrNoProgram},
		// An Unpin program under the Hash type: its context is shorter.
		{ext.Hash, unpin, "unpin_garbage", "verifier log:", ebpf.ErrVerifier},
		// ... and one that calls an Unpin helper.
		{ext.Hash, unpin, "unpin_report", "unknown helper", nil},
		{ext.Unpin, []byte("not an ELF object"), "", "load ELF", nil},
		// An Unpin program under the Load type: it writes fields the
		// Load context does not have.
		{ext.Load, unpin, "unpin_garbage", "verifier log:", ebpf.ErrVerifier},
	}
	for _, c := range cases {
		_, err := reg.Attach(c.hook, c.obj, c.program)
		switch {
		case err == nil:
			t.Errorf("attach %q to %s: no error", c.program, c.hook)
		case !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "attach "):
			t.Errorf("attach %q to %s: %v, want it to mention %q", c.program, c.hook, err, c.want)
		case c.is != nil && !errors.Is(err, c.is):
			t.Errorf("attach %q to %s: %v, want it to wrap %v", c.program, c.hook, err, c.is)
		}
	}
	for _, hi := range reg.List() {
		if hi.Attached != nil {
			t.Errorf("%s: %s attached after failed attaches", hi.Hook, hi.Attached.Name())
		}
	}
	if _, err := reg.AttachFile(ext.Unpin, "testdata/missing.o", ""); err == nil || !strings.Contains(err.Error(), "missing.o") {
		t.Errorf("AttachFile of a missing file: %v", err)
	}
}

// counter reads entry k of the calls map of unpin.o's counting programs.
func counter(t *testing.T, a *Attachment, k uint32) uint64 {
	t.Helper()
	var key [4]byte
	binary.LittleEndian.PutUint32(key[:], k)
	v, err := a.Maps()["calls"].Lookup(key[:])
	if err != nil {
		t.Fatal(err)
	}
	return binary.LittleEndian.Uint64(v)
}

// TestReplaceUnderLoad swaps two versions of a counting Unpin program
// while goroutines pin and unpin: no call is lost (each ran on one
// version; the map both count in survives every swap), and the listing
// shows the last one.
func TestReplaceUnderLoad(t *testing.T) {
	reg := New(Options{Logf: func(string, ...any) {}}) // 50 swaps: too many to log
	obj := object(t, "unpin.o")
	first, err := reg.Attach(ext.Unpin, obj, "unpin_count_v1")
	if err != nil {
		t.Fatal(err)
	}
	all := []*Attachment{first}
	m := manager(t, reg, 64)
	const workers, swaps = 4, 50
	var wg sync.WaitGroup
	var unpins atomic.Uint64
	stop := make(chan struct{})
	for range workers {
		b := allocate(t, m)
		m.Unpin(b)
		unpins.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := m.Pin(b); err != nil {
					t.Error(err)
					return
				}
				m.Unpin(b)
				unpins.Add(1)
			}
		}()
	}
	for i := range swaps {
		name := []string{"unpin_count_v1", "unpin_count_v2"}[(i+1)%2]
		a, err := reg.Attach(ext.Unpin, obj, name)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.Reused(); len(got) != 1 || got[0] != "calls" {
			t.Fatalf("swap %d: reused maps %v, want [calls]", i, got)
		}
		all = append(all, a)
	}
	close(stop)
	wg.Wait()
	total := unpins.Load()
	t.Logf("%d swaps during %d unpins", swaps, total)
	var calls uint64
	for _, a := range all {
		calls += a.Stats().Calls
	}
	last := all[len(all)-1]
	if got := counter(t, last, 0); got != total || calls != total {
		t.Errorf("%d swaps: the map counted %d calls, the attachments %d, want %d", swaps, got, calls, total)
	}
	if !strings.Contains(reg.String(), "unpin              "+last.Name()) {
		t.Errorf("listing:\n%s", reg.String())
	}
	if x := m.Metrics(); x.PolicyRepairs != 0 {
		t.Errorf("repairs: %d", x.PolicyRepairs)
	}
}

// TestAttachDetachUnderLoad attaches and detaches while goroutines unpin
// (run it with -race): every placement stays valid.
func TestAttachDetachUnderLoad(t *testing.T) {
	reg := New(Options{Logf: func(string, ...any) {}}) // 200 attaches: too many to log
	obj := object(t, "unpin.o")
	m := manager(t, reg, 64)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		b := allocate(t, m)
		m.Unpin(b)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := m.Pin(b); err != nil {
					t.Error(err)
					return
				}
				m.Unpin(b)
			}
		}()
	}
	for i := range 200 {
		if _, err := reg.Attach(ext.Unpin, obj, []string{"unpin_scan", "unpin_garbage"}[i%2]); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if err := reg.Detach(ext.Unpin); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(stop)
	wg.Wait()
	if x := m.Metrics(); x.PolicyRepairs != 0 || x.Unloads != 0 {
		t.Errorf("bad placements reached the manager:\n%s", x)
	}
}

// TestMapsSurviveReplacement checks that a new version takes over the
// state of the one it replaces, that a detach in between starts afresh,
// and that an incompatible map of the same name is not reused.
func TestMapsSurviveReplacement(t *testing.T) {
	reg := quiet(t, Options{})
	obj := object(t, "unpin.o")
	m := manager(t, reg, 16)
	unpins := func(n int) {
		for range n {
			m.Unpin(allocate(t, m))
		}
	}
	v1, err := reg.Attach(ext.Unpin, obj, "unpin_count_v1")
	if err != nil {
		t.Fatal(err)
	}
	unpins(3)
	v2, err := reg.Attach(ext.Unpin, obj, "unpin_count_v2")
	if err != nil {
		t.Fatal(err)
	}
	unpins(2)
	if got, last := counter(t, v2, 0), counter(t, v2, 1); got != 5 || last != 2 {
		t.Errorf("after v1 (3 calls) and v2 (2 calls): count %d, last version %d; want 5, 2", got, last)
	}
	if counter(t, v1, 0) != 5 {
		t.Error("v1 and v2 do not share the map")
	}
	if err := reg.Detach(ext.Unpin); err != nil {
		t.Fatal(err)
	}
	v3, err := reg.Attach(ext.Unpin, obj, "unpin_count_v1")
	if err != nil {
		t.Fatal(err)
	}
	if len(v3.Reused()) != 0 || counter(t, v3, 0) != 0 {
		t.Errorf("after a detach: reused %v, count %d; want a fresh map", v3.Reused(), counter(t, v3, 0))
	}
	// unpin_scan has no map called "calls"; unpin_report's "report" map
	// is not "seen": nothing to reuse either way.
	if a, err := reg.Attach(ext.Unpin, obj, "unpin_scan"); err != nil || len(a.Reused()) != 0 {
		t.Errorf("attach unpin_scan: reused %v, %v", a.Reused(), err)
	}
}

// TestListing pins the text form of the listing with nothing attached.
func TestListing(t *testing.T) {
	reg := quiet(t, Options{})
	want := `hash               built-in
execute_forever    built-in
schedule_task      built-in
load               built-in
update_used_memory built-in
allocate_new_block built-in
unpin              built-in
`
	if got := reg.String(); got != want {
		t.Errorf("listing:\n%s\nwant:\n%s", got, want)
	}
	if err := reg.Detach(ext.Unpin); !errors.Is(err, ErrNotAttached) && !errors.Is(err, ErrDisabled) {
		t.Errorf("Detach with nothing attached: %v", err)
	}
	if _, ok := reg.UnpinPolicy().(buffer.DefaultUnpin); ok != !enabled {
		t.Errorf("UnpinPolicy is the built-in policy: %v; hooks enabled: %v", ok, enabled)
	}
}
