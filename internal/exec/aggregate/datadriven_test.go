package aggregate_test

import (
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/aggregate"
	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/testutil/datadriven"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files in testdata/")

// TestDataDriven runs testdata/aggregate:
//
//	aggregate [groups=0,1] [aggs=count(*);sum(2);count_distinct(1)]
//	<input table as vector.ParseTable reads it>
//	----
//	<the aggregate's String>
//	<output rows, sorted>
//
// Every case runs under the vectortest matrix on 1 and 2 threads, which
// must agree, and against the map-based reference.
func TestDataDriven(t *testing.T) {
	datadriven.Run(t, "testdata/aggregate", *rewrite, func(t *testing.T, c *datadriven.Case) string {
		if c.Cmd != "aggregate" {
			t.Fatalf("line %d: unknown command %q", c.Line, c.Cmd)
		}
		in, err := vector.ParseTable(strings.Join(c.Input, "\n"))
		if err != nil {
			return "error: " + err.Error()
		}
		ts := in.Types()
		var groups []int
		var specs []expr.AggSpec
		for _, arg := range c.Args {
			k, v, _ := strings.Cut(arg, "=")
			switch k {
			case "groups":
				for _, f := range strings.Split(v, ",") {
					g, err := strconv.Atoi(f)
					if err != nil {
						t.Fatalf("line %d: groups: %v", c.Line, err)
					}
					groups = append(groups, g)
				}
			case "aggs":
				for _, f := range strings.Split(v, ";") {
					s, err := parseSpec(f, ts)
					if err != nil {
						t.Fatalf("line %d: %v", c.Line, err)
					}
					specs = append(specs, s)
				}
			default:
				t.Fatalf("line %d: unknown argument %q", c.Line, arg)
			}
		}
		a, err := aggregate.New(ts, groups, specs, aggregate.Options{})
		if err != nil {
			return "error: " + err.Error()
		}
		rows := vectortest.Collect(in)
		r := vectortest.Rand(t)
		var first string
		var firstRows [][]types.Value
		for _, cfg := range vectortest.Configs {
			src := newRowSource(ts, rows, cfg, r.Uint64())
			for _, threads := range []int{1, 2} {
				got, err := runSource(a, src, threads)
				if err != nil {
					return "error: " + err.Error()
				}
				text := vectortest.Sorted(got)
				if first == "" {
					first, firstRows = text, got
					want, err := reference(ts, rows, groups, specs)
					if err != nil {
						t.Fatal(err)
					}
					if w := vectortest.Sorted(want); w != text {
						t.Errorf("line %d: the reference disagrees:\n%s", c.Line, firstDiff(text, w))
					}
				} else if text != first {
					t.Errorf("line %d: %v on %d threads disagrees:\n%s", c.Line, cfg, threads, firstDiff(text, first))
				}
			}
		}
		return a.String() + "\n" + goldenText(firstRows)
	})
}

// goldenText prints rows sorted, values separated by " | ", DOUBLEs in Go's
// shortest form (so that the file does not follow changes of
// types.FormatDouble; the comparisons with the reference use Value.String
// on both sides).
func goldenText(rows [][]types.Value) string {
	var lines []string
	for _, row := range rows {
		cells := make([]string, len(row))
		for j, v := range row {
			cells[j] = v.String()
			if v.Type().ID() == types.Double && !v.IsNull() {
				cells[j] = strconv.FormatFloat(v.Float64(), 'g', -1, 64)
			}
		}
		lines = append(lines, strings.Join(cells, " | "))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// parseSpec reads "count(*)", "sum(2)" or "count_distinct(1)".
func parseSpec(s string, ts []types.Type) (expr.AggSpec, error) {
	name, rest, ok := strings.Cut(s, "(")
	name, distinct := strings.CutSuffix(name, "_distinct")
	if !ok || !strings.HasSuffix(rest, ")") {
		return expr.AggSpec{}, fmt.Errorf("aggregate %q: want name(arg)", s)
	}
	arg := strings.TrimSuffix(rest, ")")
	kinds := map[string]expr.AggKind{"count": expr.Count, "sum": expr.Sum, "avg": expr.Avg, "min": expr.Min, "max": expr.Max}
	kind, ok := kinds[name]
	if !ok {
		return expr.AggSpec{}, fmt.Errorf("aggregate %q: unknown function", s)
	}
	if arg == "*" && kind == expr.Count {
		return spec(expr.CountStar, ts, 0, false), nil
	}
	j, err := strconv.Atoi(arg)
	if err != nil || j < 0 || j >= len(ts) {
		return expr.AggSpec{}, fmt.Errorf("aggregate %q: bad column %q", s, arg)
	}
	return spec(kind, ts, j, distinct), nil
}
