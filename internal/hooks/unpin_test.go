package hooks

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ext"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
)

const bufSize = 4096

// manager returns a buffer manager whose Unpin policy is reg's site, with
// room for limit buffers of bufSize bytes.
func manager(t *testing.T, reg *Registry, limit int) *buffer.Manager {
	t.Helper()
	m, err := buffer.New(buffer.Options{Limit: int64(limit * bufSize), TempDir: t.TempDir(), Unpin: reg.UnpinPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func allocate(t *testing.T, m *buffer.Manager) *buffer.Block {
	t.Helper()
	b, buf, err := m.Allocate(buffer.TagColumnData, bufSize)
	if err != nil {
		t.Fatal(err)
	}
	buf[0] = 1
	return b
}

func pinUnpin(t *testing.T, m *buffer.Manager, b *buffer.Block) {
	t.Helper()
	if _, err := m.Pin(b); err != nil {
		t.Fatal(err)
	}
	m.Unpin(b)
}

// scanAfterHot uses 4 hot buffers (each unpinned three times), then scans
// 40 buffers used once under a limit of 8, then pins the hot ones again:
// it returns how many of them had to be read back from the temporary file.
func scanAfterHot(t *testing.T, reg *Registry) (reloads int64, m *buffer.Manager) {
	m = manager(t, reg, 8)
	var hot []*buffer.Block
	for range 4 {
		b := allocate(t, m)
		m.Unpin(b)
		hot = append(hot, b)
	}
	for range 2 {
		for _, b := range hot {
			pinUnpin(t, m, b)
		}
	}
	for range 40 {
		m.Unpin(allocate(t, m))
	}
	before := m.Metrics().Reloads
	for _, b := range hot {
		pinUnpin(t, m, b)
	}
	return m.Metrics().Reloads - before, m
}

// TestUnpinScanResistance shows the effect of an Unpin policy on the
// buffer manager: with the built-in LRU a scan evicts the hot buffers;
// with unpin_scan attached (first unpin: evicted first; later ones:
// QUEUE_LOW) they stay.
func TestUnpinScanResistance(t *testing.T) {
	builtin, _ := scanAfterHot(t, quiet(t, Options{}))
	if builtin != 4 {
		t.Fatalf("built-in LRU: %d hot buffers read back after the scan, want all 4", builtin)
	}
	for _, eng := range engines(t) {
		t.Run(eng.String(), func(t *testing.T) {
			reg := quiet(t, Options{Engine: eng})
			a, err := reg.Attach(ext.Unpin, object(t, "unpin.o"), "unpin_scan")
			if err != nil {
				t.Fatal(err)
			}
			got, m := scanAfterHot(t, reg)
			if got != 0 {
				t.Errorf("unpin_scan: %d hot buffers read back after the scan, want 0", got)
			}
			st := a.Stats()
			if st.Calls != 4+8+40+4 || st.Handled != st.Calls || st.Errors != 0 || st.Violations != 0 {
				t.Errorf("stats %s, want 56 calls, all handled", st)
			}
			if x := m.Metrics(); x.PolicyRepairs != 0 || x.QueueEntries[buffer.QueueLow] == 0 {
				t.Errorf("metrics:\n%s\nwant no repairs and entries in the low queue", x)
			}
		})
	}
}

// TestUnpinHostile attaches programs that break the rules and checks that
// the manager never sees a bad decision: each violation or failure is
// counted and replaced by the built-in placement.
func TestUnpinHostile(t *testing.T) {
	cases := []struct {
		program    string
		budget     int64
		errors     bool // every call fails
		violations uint64
		err        error
	}{
		{program: "unpin_garbage", violations: 2},        // queue and unload
		{program: "unpin_double_enqueue", violations: 1}, // the second enqueue
		{program: "unpin_error", errors: true, err: ErrReturned},
		{program: "unpin_spin", budget: 1000, errors: true, err: ebpf.ErrBudget},
	}
	for _, c := range cases {
		for _, eng := range engines(t) {
			t.Run(c.program+"/"+eng.String(), func(t *testing.T) {
				var log strings.Builder
				var mu sync.Mutex
				reg := New(Options{Engine: eng, Budget: c.budget, MaxErrors: -1, Logf: func(f string, args ...any) {
					mu.Lock()
					fmt.Fprintf(&log, f+"\n", args...)
					mu.Unlock()
				}})
				a, err := reg.Attach(ext.Unpin, object(t, "unpin.o"), c.program)
				if err != nil {
					t.Fatal(err)
				}
				m := manager(t, reg, 4)
				const n = 10
				for range n {
					m.Unpin(allocate(t, m))
				}
				st := a.Stats()
				wantErrors := uint64(0)
				if c.errors {
					wantErrors = n
				}
				if st.Calls != n || st.Errors != wantErrors || st.Violations != c.violations*n {
					t.Errorf("stats %s, want %d calls, %d errors, %d violations", st, n, wantErrors, c.violations*n)
				}
				x := m.Metrics()
				if x.PolicyRepairs != 0 || x.Unloads != 0 {
					t.Errorf("the manager saw bad decisions:\n%s", x)
				}
				if c.err != nil && !errors.Is(a.LastError(), c.err) {
					t.Errorf("last error %v, want %v", a.LastError(), c.err)
				}
				if reg.Attached(ext.Unpin) != a {
					t.Error("detached with MaxErrors < 0")
				}
			})
		}
	}
}

// TestUnpinErrorsDetach checks the error limit: after MaxErrors failed
// calls the program is detached, the event logged, and later calls use
// the built-in placement without running it.
func TestUnpinErrorsDetach(t *testing.T) {
	var events []string
	reg := New(Options{MaxErrors: 5, Logf: func(f string, args ...any) { events = append(events, fmt.Sprintf(f, args...)) }})
	a, err := reg.Attach(ext.Unpin, object(t, "unpin.o"), "unpin_error")
	if err != nil {
		t.Fatal(err)
	}
	m := manager(t, reg, 4)
	for range 12 {
		m.Unpin(allocate(t, m))
	}
	if st := a.Stats(); st.Calls != 5 || st.Errors != 5 {
		t.Errorf("stats %s, want 5 calls, 5 errors", st)
	}
	if reg.Attached(ext.Unpin) != nil {
		t.Fatal("still attached after 5 errors")
	}
	last := events[len(events)-1]
	if !strings.Contains(last, "detached unpin_error after 5 errors") || !strings.Contains(last, "returned -22") {
		t.Errorf("last event %q, want the detach after errors with the last error", last)
	}
	if err := reg.Detach(ext.Unpin); !errors.Is(err, ErrNotAttached) {
		t.Errorf("Detach after the auto-detach: %v, want ErrNotAttached", err)
	}
	if x := m.Metrics(); x.QueueEntries[buffer.QueueTemporary]+x.Evictions != 12 || x.PolicyRepairs != 0 {
		t.Errorf("built-in placement not used:\n%s", x)
	}
}

// TestUnpinHelpers checks what the reporting helpers return to a program
// and that bpfdb_unload unloads the block.
func TestUnpinHelpers(t *testing.T) {
	reg := quiet(t, Options{})
	a, err := reg.Attach(ext.Unpin, object(t, "unpin.o"), "unpin_report")
	if err != nil {
		t.Fatal(err)
	}
	m := manager(t, reg, 4)
	keep := allocate(t, m)
	m.Unpin(keep) // unloaded: it spills
	b := allocate(t, m)
	m.Unpin(b)
	report := func() []int64 {
		var got []int64
		for k := range uint32(4) {
			var key [4]byte
			binary.LittleEndian.PutUint32(key[:], k)
			v, err := a.Maps()["report"].Lookup(key[:])
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, int64(binary.LittleEndian.Uint64(v)))
		}
		return got
	}
	// readers 0; queue length of the temporary queue (nothing queued: the
	// first buffer was unloaded); purge of the empty persistent queue; a
	// bad queue.
	want := []int64{0, 0, 0, -errINVAL}
	if got := report(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("helpers returned %v, want %v", got, want)
	}
	x := m.Metrics()
	if x.Unloads != 2 || x.Spills != 2 || x.Resident != 0 {
		t.Errorf("bpfdb_unload: metrics\n%s\nwant 2 unloads", x)
	}

	// A buffer of 12345 bytes is left to the built-in placement, here the
	// persistent queue. At its third unpin, that queue holds its entry of
	// the first (stale) and of the second: the purge drops one, and the
	// queue length (of its built-in queue) counted both.
	c, _, err := m.Allocate(buffer.TagOther, 12345)
	if err != nil {
		t.Fatal(err)
	}
	c.SetQueue(buffer.QueuePersistent)
	m.Unpin(c)
	pinUnpin(t, m, c)
	pinUnpin(t, m, c)
	want = []int64{0, 2, 1, -errINVAL}
	if got := report(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("third unpin: helpers returned %v, want %v", got, want)
	}
	if n := m.QueueLen(buffer.QueuePersistent); n != 2 {
		t.Errorf("%d entries in the persistent queue after the purge and the third unpin, want 2", n)
	}
}

// TestUnpinContext checks the context the host fills in for the second
// temporary buffer's first unpin.
func TestUnpinContext(t *testing.T) {
	reg := quiet(t, Options{})
	a, err := reg.Attach(ext.Unpin, object(t, "unpin.o"), "unpin_fields")
	if err != nil {
		t.Fatal(err)
	}
	m := manager(t, reg, 4)
	first := allocate(t, m)
	m.Unpin(first)
	b, _, err := m.Allocate(buffer.TagHashTable, 2*bufSize)
	if err != nil {
		t.Fatal(err)
	}
	m.Unpin(b)
	var got []uint64
	for k := range uint32(8) {
		var key [4]byte
		binary.LittleEndian.PutUint32(key[:], k)
		v, err := a.Maps()["fields"].Lookup(key[:])
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, binary.LittleEndian.Uint64(v))
	}
	// block ("temp 2"), seq, size, tag, temporary, builtin_queue, worker, queue
	want := []uint64{2, 2, 2 * bufSize, uint64(buffer.TagHashTable), 1, buffer.QueueTemporary, noWorker, buffer.QueueTemporary}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("context %v, want %v", got, want)
	}
}
