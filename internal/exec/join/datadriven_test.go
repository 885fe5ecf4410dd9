package join_test

import (
	"flag"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/exec/join"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/testutil/datadriven"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata golden files with the actual output")

// TestDataDriven runs testdata/joins. A case is
//
//	join kind=inner probe-keys=0,1 build-keys=1,0 output=2 residual=c1<c4
//	probe
//	<table in vector.ParseTable's form>
//	build
//	<table>
//	----
//	<the output rows, sorted, then the number of matches>
//
// keys and output are comma-separated column lists ("-" or absent: none);
// print lists the output columns to print (absent: all);
// the residual compares two columns of probe ++ build (c0 is probe column
// 0). Every case runs under the vectortest matrix on 1 and 2 threads, and
// each run must print the same.
func TestDataDriven(t *testing.T) {
	r := vectortest.Rand(t)
	s1, s2 := scheduler(t, 1), scheduler(t, 2)
	datadriven.Run(t, "testdata/joins", *rewrite, func(t *testing.T, c *datadriven.Case) string {
		if c.Cmd != "join" {
			t.Fatalf("line %d: unknown command %s", c.Line, c.Cmd)
		}
		probe, build := tables(t, c)
		spec := join.Spec{Probe: probe.Types(), Build: build.Types()}
		kind := strings.ReplaceAll(c.Arg(t, "kind"), "-", " ") // right-semi
		for _, k := range append(slices.Clone(kinds), join.RightSemi, join.RightAnti) {
			if k.String() == kind {
				spec.Kind = k
			}
		}
		run := runJoin
		if spec.Kind == join.RightSemi || spec.Kind == join.RightAnti {
			run = runRight
		}
		spec.ProbeKeys = intList(t, c, "probe-keys")
		spec.BuildKeys = intList(t, c, "build-keys")
		spec.BuildOutput = intList(t, c, "output")
		if res := optArg(c, "residual"); res != "" {
			spec.Residual = parseResidual(t, res, slices.Concat(spec.Probe, spec.Build))
		}
		j, err := join.New(spec)
		if err != nil {
			return "error: " + err.Error()
		}
		probeRows, buildRows := vectortest.Collect(probe), vectortest.Collect(build)
		print := intList(t, c, "print")
		var first string
		for ci, cfg := range vectortest.Configs {
			for _, sched := range []*parallel.Scheduler{s1, s2} {
				before := j.Stats().Matches
				rows, _, err := run(t, sched, j, spec, vectortest.Chunks(r, spec.Build, buildRows, cfg), vectortest.Chunks(r, spec.Probe, probeRows, cfg))
				var out string
				if err != nil {
					out = "error: " + err.Error()
				} else {
					matches := fmt.Sprintf("matches: %d", j.Stats().Matches-before)
					if spec.Residual != nil && (spec.Kind == join.RightSemi || spec.Kind == join.RightAnti) {
						// Pairs of a row matched in an earlier round skip
						// the residual: how many depends on the chunks.
						matches = "matches: (depend on the chunks)"
					}
					out = fmt.Sprintf("%s%s%s", header(pick(j.Types(), print)), vectortest.Sorted(pickRows(rows, print)), matches)
					if len(rows) == 0 {
						out = fmt.Sprintf("%s(no rows)\n%s", header(pick(j.Types(), print)), matches)
					}
				}
				if ci == 0 && first == "" {
					first = out
				} else if out != first {
					t.Fatalf("line %d: %v, %d threads:\n%s\ndiffers from the first run:\n%s", c.Line, cfg, sched.Threads(), out, first)
				}
			}
		}
		var want [][]types.Value
		var wantErr error
		if spec.Kind != join.RightSemi && spec.Kind != join.RightAnti {
			want, wantErr = reference(t, spec, probeRows, buildRows)
		} else {
			// The reference of a Semi or Anti join with the sides swapped,
			// its output narrowed to BuildOutput.
			kind := join.Semi
			if spec.Kind == join.RightAnti {
				kind = join.Anti
			}
			want, wantErr = reference(t, swap(t, spec, kind), buildRows, probeRows)
			want = pickRows(want, spec.BuildOutput)
		}
		if wantErr != nil {
			if !strings.HasPrefix(first, "error: ") || !strings.HasSuffix(first, wantErr.Error()) {
				t.Errorf("line %d: the reference fails with %v", c.Line, wantErr)
			}
		} else if !strings.Contains(first, vectortest.Sorted(pickRows(want, print))) {
			t.Errorf("line %d: the reference gives\n%s", c.Line, vectortest.Sorted(pickRows(want, print)))
		}
		return first
	})
}

func header(ts []types.Type) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = t.String()
	}
	return strings.Join(parts, " | ") + "\n"
}

// tables parses the probe and build tables of a case.
func tables(t *testing.T, c *datadriven.Case) (probe, build *vector.Chunk) {
	t.Helper()
	at := slices.Index(c.Input, "build")
	if len(c.Input) == 0 || c.Input[0] != "probe" || at < 0 {
		t.Fatalf("line %d: input must be \"probe\", a table, \"build\", a table", c.Line)
	}
	var err error
	if probe, err = vector.ParseTable(strings.Join(c.Input[1:at], "\n")); err != nil {
		t.Fatalf("line %d: probe: %v", c.Line, err)
	}
	if build, err = vector.ParseTable(strings.Join(c.Input[at+1:], "\n")); err != nil {
		t.Fatalf("line %d: build: %v", c.Line, err)
	}
	return probe, build
}

func optArg(c *datadriven.Case, key string) string {
	for _, a := range c.Args {
		if k, v, ok := strings.Cut(a, "="); ok && k == key {
			return v
		}
	}
	return ""
}

func intList(t *testing.T, c *datadriven.Case, key string) []int {
	s := optArg(c, key)
	if s == "" || s == "-" {
		return nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		i, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("line %d: %s=%s: %v", c.Line, key, s, err)
		}
		out = append(out, i)
	}
	return out
}

var residualRE = regexp.MustCompile(`^c(\d+)(<=|>=|<>|<|>|=)c(\d+)$`)

// parseResidual parses "cI op cJ" over columns of types ts.
func parseResidual(t *testing.T, s string, ts []types.Type) expr.Expr {
	m := residualRE.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("residual %q: want cI op cJ", s)
	}
	i, _ := strconv.Atoi(m[1])
	j, _ := strconv.Atoi(m[3])
	op := map[string]expr.Op{"<": expr.OpLt, "<=": expr.OpLe, ">": expr.OpGt, ">=": expr.OpGe, "=": expr.OpEq, "<>": expr.OpNe}[m[2]]
	e, err := expr.NewBinary(op, col(i, ts[i]), col(j, ts[j]), expr.Pos{})
	if err != nil {
		t.Fatalf("residual %q: %v", s, err)
	}
	return e
}

// pick returns the elements of xs at cols (all of xs if cols is nil).
func pick[T any](xs []T, cols []int) []T {
	if cols == nil {
		return xs
	}
	out := make([]T, len(cols))
	for i, c := range cols {
		out[i] = xs[c]
	}
	return out
}

func pickRows(rows [][]types.Value, cols []int) [][]types.Value {
	out := make([][]types.Value, len(rows))
	for i, row := range rows {
		out[i] = pick(row, cols)
	}
	return out
}
