package hooks

import (
	"testing"

	"github.com/bpfdb/bpfdb/ext"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
)

// churn allocates, unpins (evicting under the limit of 8 buffers) and
// frees buffers of two tags.
func churn(t *testing.T, m *buffer.Manager) {
	t.Helper()
	var keep []*buffer.Block
	for i := range 30 {
		tag := []buffer.Tag{buffer.TagHashTable, buffer.TagSort}[i%2]
		b, _, err := m.Allocate(tag, bufSize)
		if err != nil {
			t.Fatal(err)
		}
		m.Unpin(b)
		if i%3 == 0 {
			if err := m.Free(b); err != nil {
				t.Fatal(err)
			}
		} else {
			keep = append(keep, b)
		}
	}
	for _, b := range keep[:5] {
		if _, err := m.Pin(b); err != nil {
			t.Fatal(err)
		}
		m.Unpin(b)
	}
}

func tagSum(x buffer.Metrics) int64 {
	var s int64
	for _, v := range x.Tags {
		s += v
	}
	return s
}

// TestMemoryPolicies runs UpdateUsedMemory programs over allocations,
// evictions, reloads and frees: the per-tag counts always add up to the
// manager's total (after a flush for a batching program), whatever the
// program does, and rule-breaking is counted.
func TestMemoryPolicies(t *testing.T) {
	cases := []struct {
		program    string
		violations bool
		check      func(t *testing.T, x buffer.Metrics)
	}{
		{program: "mem_batch"},
		{program: "mem_as_other", check: func(t *testing.T, x buffer.Metrics) {
			if x.Tags[buffer.TagOther] != x.Used || x.Tags[buffer.TagHashTable] != 0 {
				t.Errorf("everything should count as other:\n%s", x)
			}
		}},
		{program: "mem_drop", violations: true},
		{program: "mem_double", violations: true},
		{program: "mem_count_then_builtin"},
	}
	for _, c := range cases {
		for _, eng := range engines(t) {
			t.Run(c.program+"/"+eng.String(), func(t *testing.T) {
				reg := quiet(t, Options{Engine: eng})
				a, err := reg.Attach(ext.UpdateUsedMemory, object(t, "memory.o"), c.program)
				if err != nil {
					t.Fatal(err)
				}
				m, err := buffer.New(buffer.Options{Limit: 8 * bufSize, TempDir: t.TempDir(), Memory: reg.MemoryPolicy()})
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				churn(t, m)
				reg.FlushMemory()
				x := m.Metrics()
				if tagSum(x) != x.Used {
					t.Errorf("tags sum to %d, used %d:\n%s", tagSum(x), x.Used, x)
				}
				if c.check != nil {
					c.check(t, x)
				}
				st := a.Stats()
				if (st.Violations > 0) != c.violations || st.Errors != 0 || st.Calls == 0 {
					t.Errorf("stats %s, want violations: %v", st, c.violations)
				}
			})
		}
	}
}

// TestMemoryCacheFlushedOnDetach checks that detaching a batching program
// moves what it cached into the counters.
func TestMemoryCacheFlushedOnDetach(t *testing.T) {
	reg := quiet(t, Options{})
	if _, err := reg.Attach(ext.UpdateUsedMemory, object(t, "memory.o"), "mem_batch"); err != nil {
		t.Fatal(err)
	}
	m, err := buffer.New(buffer.Options{Limit: 8 * bufSize, TempDir: t.TempDir(), Memory: reg.MemoryPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	b, _, err := m.Allocate(buffer.TagSort, bufSize)
	if err != nil {
		t.Fatal(err)
	}
	if x := m.Metrics(); x.Tags[buffer.TagSort] != 0 {
		t.Fatalf("4 KiB counted at once by a program that batches 16 KiB:\n%s", x)
	}
	if err := reg.Detach(ext.UpdateUsedMemory); err != nil {
		t.Fatal(err)
	}
	if x := m.Metrics(); x.Tags[buffer.TagSort] != bufSize {
		t.Errorf("after detach:\n%s\nwant the cached 4 KiB counted", x)
	}
	m.Unpin(b)
}
