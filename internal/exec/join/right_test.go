package join_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/exec/join"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

// flip returns the RightSemi or RightAnti spec that computes what the
// Semi or Anti spec s computes with its sides swapped: s's probe side is
// built and output, its build side probes.
func flip(t testing.TB, s join.Spec) join.Spec {
	t.Helper()
	kind := join.RightSemi
	if s.Kind == join.Anti {
		kind = join.RightAnti
	}
	f := swap(t, s, kind)
	for i := range s.Probe {
		f.BuildOutput = append(f.BuildOutput, i)
	}
	return f
}

// swap returns s as a join of kind with the probe and build sides
// exchanged, the residual's columns renumbered for the new probe ++
// build order, and no BuildOutput.
func swap(t testing.TB, s join.Spec, kind join.Kind) join.Spec {
	t.Helper()
	f := join.Spec{
		Kind: kind, Probe: s.Build, Build: s.Probe, ProbeKeys: s.BuildKeys, BuildKeys: s.ProbeKeys,
		Buffers: s.Buffers, Hash: s.Hash,
	}
	if s.Residual != nil {
		np, nb := len(s.Probe), len(s.Build)
		res, err := expr.Rewrite(s.Residual, func(e expr.Expr) (expr.Expr, error) {
			c, ok := e.(*expr.Column)
			if !ok {
				return e, nil
			}
			i := c.Index + nb
			if c.Index >= np {
				i = c.Index - np
			}
			return expr.NewColumn(i, c.Name, c.T, c.At), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		f.Residual = res
	}
	return f
}

// runRight runs a RightSemi or RightAnti join's three pipelines (build
// over build, probe into ProbeSink over probe, Source into a collector)
// and returns the output rows and the pipelines' stats in that order.
func runRight(t testing.TB, s *parallel.Scheduler, j *join.Join, spec join.Spec, build, probe []*vector.Chunk) ([][]types.Value, parallel.RunStats, error) {
	t.Helper()
	sink := &collectSink{}
	bp := parallel.NewPipeline("build", &chunkSource{ts: spec.Build, chunks: build}, nil, j.Build())
	pp := parallel.NewPipeline("probe", &chunkSource{ts: spec.Probe, chunks: probe}, nil, j.ProbeSink())
	op := parallel.NewPipeline("output", j.Source(), nil, sink)
	pp.DependsOn(bp)
	op.DependsOn(pp)
	// Dependents first, as in runJoin.
	st, err := parallel.Run(context.Background(), s, []*parallel.Pipeline{op, pp, bp})
	slices.Reverse(st.Pipelines)
	return sink.rows, st, err
}

// TestRightDifferential runs every shape of diffCases as a Semi and an
// Anti join, and as the RightSemi and RightAnti joins with the sides
// swapped, on random inputs (NULL keys, duplicate keys, residuals, empty
// sides) under the vectortest matrix on 1 and 2 threads: all three (the
// row-by-row reference, the probe-side join, the build-side join) must
// agree.
func TestRightDifferential(t *testing.T) {
	r := vectortest.Rand(t)
	s1, s2 := scheduler(t, 1), scheduler(t, 2)
	for _, c := range diffCases {
		for _, kind := range []join.Kind{join.Semi, join.Anti} {
			t.Run(c.name+"/"+kind.String(), func(t *testing.T) {
				spec := c.shape(kind)
				left, err := join.New(spec)
				if err != nil {
					t.Fatal(err)
				}
				fspec := flip(t, spec)
				right, err := join.New(fspec)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(right.Types(), spec.Probe) {
					t.Fatalf("%s join outputs %v, want the preserved side's %v", fspec.Kind, right.Types(), spec.Probe)
				}
				np, nb := 300, 200
				if len(c.keys) == 0 {
					np, nb = 60, 40
				}
				if raceEnabled || testing.Short() {
					np, nb = np/3, nb/3
				}
				counted := false // a trial had rows on both sides
				for trial := range 5 {
					pn, bn := r.IntN(np), r.IntN(nb)
					switch trial {
					case 1:
						bn = 0
					case 2:
						pn = 0
					case 3:
						pn = r.IntN(np / 10) // a small preserved side, the case the kinds are for
					}
					probe := c.rows(r, spec.Probe, spec.ProbeKeys, pn)
					build := c.rows(r, spec.Build, spec.BuildKeys, bn)
					want, err := reference(t, spec, probe, build)
					if err != nil {
						t.Fatal(err)
					}
					counted = counted || pn > 0 && bn > 0
					for ci, cfg := range vectortest.Configs {
						if raceEnabled && cfg.BatchSize == 1 && trial > 0 {
							continue
						}
						s, threads := s1, 1
						if ci%2 == 1 || cfg.BatchSize == 3 {
							s, threads = s2, 2
						}
						where := fmt.Sprintf("trial %d (%d preserved, %d other rows), %v, %d threads", trial, pn, bn, cfg, threads)
						pc, bc := vectortest.Chunks(r, spec.Probe, probe, cfg), vectortest.Chunks(r, spec.Build, build, cfg)
						got, _, err := runRight(t, s, right, fspec, pc, bc)
						if err != nil {
							t.Fatalf("%s: %s: %v", where, fspec.Kind, err)
						}
						if g, w := vectortest.Sorted(got), vectortest.Sorted(want); g != w {
							t.Fatalf("%s: %s: %d rows, reference %d\n got: %.1500s\nwant: %.1500s", where, fspec.Kind, len(got), len(want), g, w)
						}
						got, _, err = runJoin(t, s, left, spec, bc, pc)
						if err != nil {
							t.Fatalf("%s: %s: %v", where, spec.Kind, err)
						}
						if g, w := vectortest.Sorted(got), vectortest.Sorted(want); g != w {
							t.Fatalf("%s: %s: %d rows, reference %d", where, spec.Kind, len(got), len(want))
						}
					}
				}
				if st := right.Stats(); counted && (st.ProbeRows == 0 || st.BuildRows == 0) {
					t.Fatalf("stats %v count no rows", st)
				}
			})
		}
	}
}

// TestRightLarge builds more rows than Finalize links itself, so that the
// probe tasks link them in parallel before they mark, and compares
// RightSemi and RightAnti with Semi and Anti. Every key repeats on both
// sides, and some probe chunks find every build row of theirs marked.
func TestRightLarge(t *testing.T) {
	r := vectortest.Rand(t)
	n, m := 70_000, 35_000 // more than Finalize links itself
	if raceEnabled || testing.Short() {
		m = 5_000
	}
	var preserved, other [][]types.Value
	for i := range n {
		k := types.BigIntValue(int64(r.IntN(n)))
		if i%97 == 0 {
			k = types.Null(types.BigIntType)
		}
		preserved = append(preserved, []types.Value{k, types.IntegerValue(int32(i % 11)), types.VarcharValue(fmt.Sprint("row ", i))})
	}
	for range m {
		other = append(other, []types.Value{types.IntegerValue(int32(r.IntN(11))), types.BigIntValue(int64(r.IntN(n)))})
	}
	// preserved.int <> other.int: most pairs pass.
	residual := must(expr.NewBinary(expr.OpNe, col(1, types.IntegerType), col(3, types.IntegerType), expr.Pos{}))
	for _, kind := range []join.Kind{join.Semi, join.Anti} {
		for _, res := range []expr.Expr{nil, residual} {
			spec := join.Spec{
				Kind: kind, Probe: []types.Type{types.BigIntType, types.IntegerType, types.VarcharType},
				Build: []types.Type{types.IntegerType, types.BigIntType}, ProbeKeys: []int{0}, BuildKeys: []int{1}, Residual: res,
			}
			fspec := flip(t, spec)
			left, err := join.New(spec)
			if err != nil {
				t.Fatal(err)
			}
			right, err := join.New(fspec)
			if err != nil {
				t.Fatal(err)
			}
			cfg := vectortest.Config{BatchSize: vector.Size}
			pc, oc := vectortest.Chunks(r, spec.Probe, preserved, cfg), vectortest.Chunks(r, spec.Build, other, cfg)
			want, _, err := runJoin(t, scheduler(t, 2), left, spec, oc, pc)
			if err != nil {
				t.Fatal(err)
			}
			for _, threads := range []int{1, 2} {
				got, st, err := runRight(t, scheduler(t, threads), right, fspec, pc, oc)
				if err != nil {
					t.Fatal(err)
				}
				if g, w := vectortest.Sorted(got), vectortest.Sorted(want); g != w {
					t.Fatalf("%s residual %v, %d threads: %d rows, %s gives %d", fspec.Kind, res, threads, len(got), spec.Kind, len(want))
				}
				if out := st.Pipelines[2].Rows[0]; out != int64(len(want)) {
					t.Fatalf("output pipeline stats count %d rows, want %d", out, len(want))
				}
			}
			if err := right.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestRightMisuse checks that the pipelines of a right join refuse to run
// out of order or for the wrong kind.
func TestRightMisuse(t *testing.T) {
	s := scheduler(t, 1)
	spec := join.Spec{Kind: join.RightSemi, Probe: []types.Type{types.IntegerType}, Build: []types.Type{types.IntegerType}, ProbeKeys: []int{0}, BuildKeys: []int{0}, BuildOutput: []int{0}}
	j, err := join.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	run := func(p *parallel.Pipeline) error {
		_, err := parallel.Run(context.Background(), s, []*parallel.Pipeline{p})
		return err
	}
	chunks := vectortest.Chunks(vectortest.Rand(t), spec.Build, [][]types.Value{{types.IntegerValue(1)}}, vectortest.Config{BatchSize: vector.Size})
	if err := run(parallel.NewPipeline("probe", &chunkSource{ts: spec.Probe, chunks: chunks}, nil, j.ProbeSink())); !errors.Is(err, join.ErrSpec) {
		t.Fatalf("probe before build: %v, want ErrSpec", err)
	}
	if err := run(parallel.NewPipeline("build", &chunkSource{ts: spec.Build, chunks: chunks}, nil, j.Build())); err != nil {
		t.Fatal(err)
	}
	if err := run(parallel.NewPipeline("output", j.Source(), nil, &collectSink{})); !errors.Is(err, join.ErrSpec) {
		t.Fatalf("output before probe: %v, want ErrSpec", err)
	}
	if err := run(parallel.NewPipeline("probe", &chunkSource{ts: spec.Probe, chunks: chunks}, []parallel.Operator{j.Probe()}, &collectSink{})); !errors.Is(err, join.ErrSpec) {
		t.Fatalf("probe operator of a right join: %v, want ErrSpec", err)
	}
	spec.Kind = join.Semi
	spec.BuildOutput = nil
	semi, err := join.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := run(parallel.NewPipeline("build", &chunkSource{ts: spec.Build, chunks: chunks}, nil, semi.Build())); err != nil {
		t.Fatal(err)
	}
	if err := run(parallel.NewPipeline("probe", &chunkSource{ts: spec.Probe, chunks: chunks}, nil, semi.ProbeSink())); !errors.Is(err, join.ErrSpec) {
		t.Fatalf("probe sink of a semi join: %v, want ErrSpec", err)
	}
}
