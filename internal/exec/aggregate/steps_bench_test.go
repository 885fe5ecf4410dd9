package aggregate

import (
	"math/rand/v2"
	"syscall"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/exec/hash"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// cpuNanos returns the CPU time the process has used.
func cpuNanos(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkSinkSteps splits a task's Sink of TPC-H Q1's aggregate (4
// groups of two VARCHAR keys, 8 aggregates) into its steps, in CPU
// nanoseconds per row: hashing the keys, encoding them and making room,
// finding the groups, updating the states.
func BenchmarkSinkSteps(b *testing.B) {
	dec := types.MustDecimal(15, 2)
	ts := []types.Type{types.VarcharType, types.VarcharType, dec, dec, dec, types.MustDecimal(18, 4), types.MustDecimal(18, 6)}
	r := rand.New(rand.NewPCG(1, 2))
	flags := [][2]string{{"A", "F"}, {"N", "F"}, {"N", "O"}, {"R", "F"}}
	c := vector.NewChunk(ts)
	for i := range vector.Size {
		f := flags[r.IntN(len(flags))]
		c.Col(0).SetString(i, f[0])
		c.Col(1).SetString(i, f[1])
		for j := 2; j < len(ts); j++ {
			c.Col(j).Int64s()[i] = r.Int64N(10_000_000)
		}
	}
	c.SetLen(vector.Size)
	var aggs []*expr.Aggregate
	for _, s := range []expr.AggSpec{
		{Kind: expr.Sum, Arg: 2, ArgType: dec}, {Kind: expr.Sum, Arg: 3, ArgType: dec}, {Kind: expr.Sum, Arg: 5, ArgType: ts[5]},
		{Kind: expr.Sum, Arg: 6, ArgType: ts[6]}, {Kind: expr.Avg, Arg: 2, ArgType: dec}, {Kind: expr.Avg, Arg: 3, ArgType: dec},
		{Kind: expr.Avg, Arg: 4, ArgType: dec}, {Kind: expr.CountStar},
	} {
		a, err := expr.NewAggregate(s)
		if err != nil {
			b.Fatal(err)
		}
		aggs = append(aggs, a)
	}
	lay := newLayout(ts, []int{0, 1}, aggs)
	t := newTable(lay, memory{}, 1)
	hashes := make([]uint64, vector.Size)
	var h hash.Hasher
	h.Chunk(c, []int{0, 1}, hashes)
	t.encode(c)
	if err := t.prepare(len(hashes)); err != nil {
		b.Fatal(err)
	}
	created, err := t.group(c, hashes)
	if err != nil {
		b.Fatal(err)
	}
	for _, g := range created {
		for k, ag := range aggs {
			ag.Init(t.rows[g][lay.stateOff[k]:])
		}
	}
	step := func(name string, f func()) {
		b.Run(name, func(b *testing.B) {
			c0 := cpuNanos(b)
			for b.Loop() {
				f()
			}
			b.ReportMetric(float64(cpuNanos(b)-c0)/float64(b.N*vector.Size), "cpu-ns/row")
		})
	}
	step("hash", func() { h.Chunk(c, []int{0, 1}, hashes) })
	step("prepare", func() {
		t.encode(c)
		if err := t.prepare(len(hashes)); err != nil {
			b.Fatal(err)
		}
	})
	step("find", func() {
		if _, err := t.group(c, hashes); err != nil {
			b.Fatal(err)
		}
	})
	step("update", func() {
		for k, ag := range aggs {
			if err := ag.Update(c, t.rows[:vector.Size], lay.stateOff[k]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
