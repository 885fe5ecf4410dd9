package hooks

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/ext"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
)

func allocManager(t *testing.T, reg *Registry, limit int) *buffer.Manager {
	t.Helper()
	m, err := buffer.New(buffer.Options{Limit: int64(limit * bufSize), TempDir: t.TempDir(), Allocate: reg.AllocatePolicy(), Unpin: reg.UnpinPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// TestAllocateQuota attaches a per-tag quota: hash tables get half the
// limit, then their allocations fail with ErrOutOfMemory (a refusal, not a
// program error), while other tags still allocate.
func TestAllocateQuota(t *testing.T) {
	for _, eng := range engines(t) {
		t.Run(eng.String(), func(t *testing.T) {
			reg := quiet(t, Options{Engine: eng, MaxErrors: 1})
			a, err := reg.Attach(ext.AllocateNewBlock, object(t, "allocate.o"), "alloc_quota")
			if err != nil {
				t.Fatal(err)
			}
			m := allocManager(t, reg, 16)
			var ok int
			var refusal error
			for range 12 {
				b, _, err := m.AllocateFor(1, buffer.TagHashTable, bufSize)
				if err != nil {
					refusal = err
					break
				}
				if b.Queue() != buffer.QueueLow {
					t.Errorf("hash table block in queue %d, want %d", b.Queue(), buffer.QueueLow)
				}
				ok++
			}
			if ok != 8 || !errors.Is(refusal, buffer.ErrOutOfMemory) || !strings.Contains(refusal.Error(), "refused by policy alloc_quota") {
				t.Errorf("%d hash table buffers, then %v; want 8, then a refusal", ok, refusal)
			}
			for range 4 {
				if b, _, err := m.Allocate(buffer.TagSort, bufSize); err != nil || b.Queue() != buffer.QueueTemporary {
					t.Fatalf("sort buffer under the quota: %v", err)
				}
			}
			if st := a.Stats(); st.Errors != 0 || st.Calls != 13 || st.Handled != 8 || st.Violations != 0 || reg.Attached(ext.AllocateNewBlock) != a {
				t.Errorf("stats %s: a refusal counted as an error", st)
			}
			// Progress: the engine's own allocation (no owner) and a
			// query's first buffer are admitted all the same, as
			// violations.
			if _, _, err := m.Allocate(buffer.TagHashTable, bufSize); err != nil {
				t.Errorf("an allocation of no query refused: %v", err)
			}
			if _, _, err := m.AllocateFor(2, buffer.TagHashTable, bufSize); err != nil {
				t.Errorf("a query's first buffer refused: %v", err)
			}
			if _, _, err := m.AllocateFor(2, buffer.TagHashTable, bufSize); !errors.Is(err, buffer.ErrOutOfMemory) {
				t.Errorf("a query's second buffer over the quota: %v, want a refusal", err)
			}
			if st := a.Stats(); st.Violations != 2 || st.Errors != 0 {
				t.Errorf("stats %s: want the two admissions counted as violations", st)
			}
		})
	}
}

// TestAllocateHostile checks that garbage admissions are replaced by the
// built-in values: allocations succeed and land in the built-in queue.
func TestAllocateHostile(t *testing.T) {
	reg := quiet(t, Options{})
	a, err := reg.Attach(ext.AllocateNewBlock, object(t, "allocate.o"), "alloc_garbage")
	if err != nil {
		t.Fatal(err)
	}
	m := allocManager(t, reg, 4)
	for range 10 {
		b, _, err := m.Allocate(buffer.TagOther, bufSize)
		if err != nil {
			t.Fatal(err)
		}
		if b.Queue() != buffer.QueueTemporary {
			t.Errorf("queue %d, want the built-in %d", b.Queue(), buffer.QueueTemporary)
		}
		m.Unpin(b)
	}
	if st := a.Stats(); st.Violations != 20 || st.Calls != 10 {
		t.Errorf("stats %s, want 20 violations (queue and evict-ahead, 10 calls)", st)
	}
	if x := m.Metrics(); x.PolicyRepairs != 0 || x.OutOfMemory != 0 {
		t.Errorf("metrics:\n%s", x)
	}
}

// TestAllocateEvict checks bpfdb_evict: it frees the bytes asked for by
// evicting unpinned buffers.
func TestAllocateEvict(t *testing.T) {
	reg := quiet(t, Options{})
	m := allocManager(t, reg, 8)
	for range 8 {
		m.Unpin(allocate(t, m))
	}
	a, err := reg.Attach(ext.AllocateNewBlock, object(t, "allocate.o"), "alloc_evict")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.Allocate(buffer.TagOther, bufSize); err != nil {
		t.Fatal(err)
	}
	v, err := a.Maps()["freed"].Lookup(make([]byte, 4))
	if err != nil {
		t.Fatal(err)
	}
	if freed := int64(binary.LittleEndian.Uint64(v)); freed != 2*bufSize {
		t.Errorf("bpfdb_evict freed %d bytes, want %d", freed, 2*bufSize)
	}
	if st := a.Stats(); st.Errors != 0 {
		t.Errorf("stats %s (last error %v)", st, a.LastError())
	}
	if x := m.Metrics(); x.Evictions != 2 || x.Used != 7*bufSize {
		t.Errorf("metrics:\n%s\nwant 2 evictions, 7 buffers in use", x)
	}
}
