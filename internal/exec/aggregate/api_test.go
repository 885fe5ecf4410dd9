package aggregate_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/aggregate"
	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

// TestNewErrors: New refuses what it cannot build, naming it.
func TestNewErrors(t *testing.T) {
	ts := []types.Type{types.IntegerType, types.VarcharType}
	for _, c := range []struct {
		name   string
		groups []int
		aggs   []expr.AggSpec
		want   string
	}{
		{"nothing", nil, nil, "no groups and no aggregates"},
		{"group out of range", []int{2}, nil, "group column #2 of an input of 2 columns"},
		{"negative group", []int{-1}, nil, "group column #-1"},
		{"argument out of range", nil, []expr.AggSpec{{Kind: expr.Sum, Arg: 5, ArgType: types.IntegerType, Text: "sum(x)"}}, "sum(x) reads column #5"},
		{"argument type", nil, []expr.AggSpec{{Kind: expr.Sum, Arg: 0, ArgType: types.BigIntType, Text: "sum(x)"}}, "sum(x) reads column #0 as BIGINT, the input's is INTEGER"},
		{"sum of strings", nil, []expr.AggSpec{spec(expr.Sum, ts, 1, false)}, "sum of VARCHAR"},
	} {
		_, err := aggregate.New(ts, c.groups, c.aggs, aggregate.Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

// TestTypes: the group columns, then each aggregate's result type.
func TestTypes(t *testing.T) {
	ts := []types.Type{types.VarcharType, types.MustDecimal(15, 2), types.IntegerType}
	a, err := aggregate.New(ts, []int{2, 0}, []expr.AggSpec{spec(expr.CountStar, ts, 0, false), spec(expr.Avg, ts, 1, false), spec(expr.Max, ts, 0, false)}, aggregate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, typ := range a.Types() {
		got = append(got, typ.String())
	}
	if g, w := strings.Join(got, " "), "INTEGER VARCHAR BIGINT DOUBLE VARCHAR"; g != w {
		t.Fatalf("types %s, want %s", g, w)
	}
	if g, w := a.String(), "hash aggregate groups=[#2 #0] aggs=[count(*) avg(#1) max(#0)]"; g != w {
		t.Fatalf("String %q, want %q", g, w)
	}
	if s := a.Stats(); s != (aggregate.Stats{}) {
		t.Fatalf("stats before a run: %v", s)
	}
	st := aggregate.Stats{Rows: 6, Groups: 2, Partitions: 128, Resets: 1, Spills: 2, Passed: 3, Few: 5, Dense: 6, Sliced: 1, SpilledBytes: 4096}
	if g, w := st.String(), "rows=6 groups=2 partitions=128 resets=1 spills=2 passed=3 few=5 dense=6 sliced=1 spilled=4096B"; g != w {
		t.Fatalf("Stats.String %q, want %q", g, w)
	}
}

// TestSourceBeforeSink: reading groups that were never computed is an
// error, not a panic.
func TestSourceBeforeSink(t *testing.T) {
	ts := []types.Type{types.IntegerType}
	a, err := aggregate.New(ts, []int{0}, nil, aggregate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := parallel.New(parallel.Options{Threads: 1})
	defer s.Close()
	_, err = parallel.Run(context.Background(), s, []*parallel.Pipeline{parallel.NewPipeline("groups", a.Source(), nil, &collectSink{})})
	if !errors.Is(err, aggregate.ErrNotRun) {
		t.Fatalf("got %v, want ErrNotRun", err)
	}
}

// limitOne is an operator that passes one chunk on and then Finishes, as
// a LIMIT does.
type limitOne struct{ ts []types.Type }

func (l limitOne) Types() []types.Type                                     { return l.ts }
func (l limitOne) Init(*parallel.Producer) (parallel.OperatorState, error) { return l, nil }
func (l limitOne) NewLocal() (parallel.OperatorLocal, error)               { return l, nil }
func (l limitOne) Execute(in, out *vector.Chunk) (parallel.OperatorResult, error) {
	out.ReferenceChunk(in)
	return parallel.Finished, nil
}

// TestReleaseAfterStop: a reader that stops early leaves partitions
// unread; Release (and the next run's Init) frees them, so no hash table
// memory stays accounted.
func TestReleaseAfterStop(t *testing.T) {
	r := vectortest.Rand(t)
	rows := diffRows(r, 20000, 10000, 0)
	m, err := buffer.New(buffer.Options{Limit: 64 << 20, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	a, err := aggregate.New(diffTypes, []int{0, 1}, []expr.AggSpec{spec(expr.CountStar, diffTypes, 0, false)}, aggregate.Options{Buffers: m})
	if err != nil {
		t.Fatal(err)
	}
	chunks := vectortest.Chunks(r, diffTypes, rows, vectortest.Config{BatchSize: vector.Size})
	s := parallel.New(parallel.Options{Threads: 2})
	defer s.Close()
	sink := parallel.NewPipeline("aggregate", &chunkSource{ts: diffTypes, chunks: chunks}, nil, a)
	read := parallel.NewPipeline("groups", a.Source(), []parallel.Operator{limitOne{a.Types()}}, &collectSink{})
	read.DependsOn(sink)
	for run := range 2 {
		if _, err := parallel.Run(context.Background(), s, []*parallel.Pipeline{read, sink}); err != nil {
			t.Fatal(err)
		}
		if used := m.Metrics().Tags[buffer.TagHashTable]; used == 0 {
			t.Fatalf("run %d: the reader stopped early, yet no partition is left", run)
		}
	}
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	if used := m.Metrics().Tags[buffer.TagHashTable]; used != 0 {
		t.Fatalf("%d bytes of hash tables accounted after Release", used)
	}
}
