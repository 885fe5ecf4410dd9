package order_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/order"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

func newManager(t testing.TB, limit int64) *buffer.Manager {
	t.Helper()
	m, err := buffer.New(buffer.Options{Limit: limit, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// TestSpill sorts 20,000 rows under a 1 MiB memory limit, far below what
// they need: tasks write sorted runs to pages, the buffer manager spills
// pages to its temporary file, the merge reads them back; the result must
// equal the reference, and Close must give all memory back.
func TestSpill(t *testing.T) {
	rows := testRows(t, 20000)
	r := vectortest.Rand(t)
	src := newChunkSource(r, sortTypes, rows, vectortest.Config{BatchSize: 1000, Selection: true})
	for ki, keys := range keySets {
		if ki%3 != 0 {
			continue
		}
		sorted := slices.Clone(rows)
		slices.SortStableFunc(sorted, func(a, b []types.Value) int { return compareRows(keys, a, b) })
		for _, w := range []struct{ limit, offset int64 }{{-1, 0}, {-1, 5000}, {100, 19950}, {15000, 10}} {
			for _, threads := range []int{1, 2} {
				m := newManager(t, 1<<20)
				s, err := order.New(sortTypes, keys, order.Options{Limit: w.limit, Offset: w.offset, Buffers: m})
				if err != nil {
					t.Fatal(err)
				}
				got := vectortest.Format(sortRows(t, threads, src, s))
				if want := vectortest.Format(window(sorted, w.limit, w.offset)); got != want {
					t.Fatalf("keys %v, %v, %d threads:\n%s", keys, s, threads, firstDiff(got, want))
				}
				st := s.Stats()
				if st.SpilledRuns == 0 {
					t.Fatalf("%v, %d threads: nothing spilled under 1 MiB: %v", s, threads, st)
				}
				if m.Metrics().Spills == 0 {
					t.Fatalf("%v: no page reached the temporary file: %v", s, m.Metrics())
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				if m.Used() != 0 {
					t.Fatalf("%v: %d bytes accounted after Close", s, m.Used())
				}
			}
		}
	}
}

// TestInMemoryAccounting: with room enough, nothing spills, the rows are
// accounted to the sort tag while the result lives, and Close returns
// them.
func TestInMemoryAccounting(t *testing.T) {
	rows := testRows(t, 5000)
	r := vectortest.Rand(t)
	src := newChunkSource(r, sortTypes, rows, vectortest.Config{BatchSize: 2048})
	m := newManager(t, 1<<30)
	keys := []order.Key{{Column: 3}, {Column: 0, Desc: true}}
	s, err := order.New(sortTypes, keys, order.Options{Limit: -1, Buffers: m})
	if err != nil {
		t.Fatal(err)
	}
	got := vectortest.Format(sortRows(t, 2, src, s))
	sorted := slices.Clone(rows)
	slices.SortStableFunc(sorted, func(a, b []types.Value) int { return compareRows(keys, a, b) })
	if want := vectortest.Format(sorted); got != want {
		t.Fatal(firstDiff(got, want))
	}
	if st := s.Stats(); st.SpilledRuns != 0 {
		t.Fatalf("spilled with 1 GiB: %v", st)
	}
	if tag := m.Metrics().Tags[buffer.TagSort]; tag <= 0 {
		t.Fatalf("sort tag accounts %d bytes while the result lives", tag)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if m.Used() != 0 {
		t.Fatalf("%d bytes accounted after Close", m.Used())
	}
}

// TestOutOfMemory: a limit too small for even one chunk of rows fails the
// query with an error wrapping buffer.ErrOutOfMemory, and nothing stays
// accounted once the sort is closed.
func TestOutOfMemory(t *testing.T) {
	rows := testRows(t, 3000)
	r := vectortest.Rand(t)
	src := newChunkSource(r, sortTypes, rows, vectortest.Config{BatchSize: 2048})
	m := newManager(t, 100<<10)
	s, err := order.New(sortTypes, []order.Key{{Column: 0}}, order.Options{Limit: -1, Buffers: m})
	if err != nil {
		t.Fatal(err)
	}
	sch := parallel.New(parallel.Options{Threads: 2})
	defer sch.Close()
	_, err = parallel.Run(context.Background(), sch, []*parallel.Pipeline{parallel.NewPipeline("sort", src, nil, s)})
	if !errors.Is(err, buffer.ErrOutOfMemory) {
		t.Fatalf("err = %v, want ErrOutOfMemory", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if m.Used() != 0 {
		t.Fatalf("%d bytes accounted after a failed sort was closed", m.Used())
	}
}
