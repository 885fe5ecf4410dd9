package optimizer

import (
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/planner"
	"github.com/bpfdb/bpfdb/internal/testutil/datadriven"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata golden files with the actual output")

// format prints a plan with the zone-map filters of its Gets (which
// planner.Format leaves out) and its result columns.
func format(p *planner.Plan) string {
	var b strings.Builder
	b.WriteString(planner.Format(p.Root))
	var walk func(n planner.Node)
	walk = func(n planner.Node) {
		if g, ok := n.(*planner.Get); ok && len(g.ZoneFilters) > 0 {
			tcols := g.Table.Columns()
			var zs []string
			for _, z := range g.ZoneFilters {
				zs = append(zs, fmt.Sprintf("%s %v %v", tcols[z.Column].Name, z.Op, z.Value))
			}
			fmt.Fprintf(&b, "zone %s: %s\n", g.Alias, strings.Join(zs, ", "))
		}
		for _, in := range n.Inputs() {
			walk(in)
		}
	}
	walk(p.Root)
	var rs []string
	for _, c := range p.Result {
		rs = append(rs, c.String())
	}
	fmt.Fprintf(&b, "result [%s]", strings.Join(rs, ", "))
	return b.String()
}

// TestGolden runs the cases of testdata/passes:
//
//	optimize plan=<name> [disable=a,b] [passes]
//
// prints the hand-built plan, then the plan after each pass that ran and
// changed it, with the changes the pass counted (with "passes"; else only
// the final plan). A pass must count changes exactly when it changes the
// plan's text.
func TestGolden(t *testing.T) {
	db := tpchTables(t)
	datadriven.Run(t, "testdata/passes", *rewrite, func(t *testing.T, c *datadriven.Case) string {
		switch c.Cmd {
		case "optimize":
			build, ok := handPlans[c.Arg(t, "plan")]
			if !ok {
				t.Fatalf("line %d: no plan %s", c.Line, c.Arg(t, "plan"))
			}
			p := build(newBuilder(t, db))
			disabled := map[string]bool{}
			each := false
			for _, a := range c.Args {
				if v, ok := strings.CutPrefix(a, "disable="); ok {
					var err error
					if disabled, err = ParseDisabled(v); err != nil {
						return err.Error()
					}
				}
				each = each || a == "passes"
			}
			if err := Validate(p); err != nil {
				t.Fatalf("line %d: hand-built plan: %v", c.Line, err)
			}
			var out strings.Builder
			prev := format(p)
			out.WriteString(prev + "\n")
			for _, pass := range Passes() {
				if disabled[pass.Name] {
					continue
				}
				var changes int
				if err := pass.run(p, &changes); err != nil {
					return fmt.Sprintf("%s: %v", pass.Name, err)
				}
				if err := Validate(p); err != nil {
					t.Errorf("line %d: after %s: %v\n%s", c.Line, pass.Name, err, planner.Format(p.Root))
				}
				now := format(p)
				if (now == prev) != (changes == 0) {
					t.Errorf("line %d: %s counted %d changes, the plan %s", c.Line, pass.Name, changes, map[bool]string{true: "did not change", false: "changed"}[now == prev])
				}
				if each && now != prev {
					fmt.Fprintf(&out, "=== %s (%d changes)\n%s\n", pass.Name, changes, now)
				}
				prev = now
			}
			if !each {
				fmt.Fprintf(&out, "=== optimized\n%s\n", format(p))
			}
			return out.String()
		case "estimate":
			// The optimized plan with each node's estimated rows.
			build, ok := handPlans[c.Arg(t, "plan")]
			if !ok {
				t.Fatalf("line %d: no plan %s", c.Line, c.Arg(t, "plan"))
			}
			p := build(newBuilder(t, db))
			if _, err := Optimize(p, Options{Validate: true}); err != nil {
				return err.Error()
			}
			est := Estimates(p.Root)
			var out strings.Builder
			var walk func(n planner.Node, depth int)
			walk = func(n planner.Node, depth int) {
				fmt.Fprintf(&out, "%s%s  ~%.0f rows\n", strings.Repeat("  ", depth), planner.Describe(n), est[n])
				for _, in := range n.Inputs() {
					walk(in, depth+1)
				}
			}
			walk(p.Root, 0)
			return out.String()
		case "disabled":
			m, err := ParseDisabled(strings.Join(c.Input, "\n"))
			if err != nil {
				return "error: " + err.Error()
			}
			var names []string
			for k := range m {
				names = append(names, k)
			}
			slices.Sort(names)
			if len(names) == 0 {
				return "(none)"
			}
			return strings.Join(names, " ")
		}
		t.Fatalf("line %d: unknown command %s", c.Line, c.Cmd)
		return ""
	})
}
