package optimizer

import (
	"fmt"
	"slices"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/planner"
)

// chain is n copies of nation joined in a chain by comma joins under one
// filter (n_regionkey of one = n_nationkey of the next), the first copy
// filtered to one nation, and Semi joins with region on some copies.
func chain(t testing.TB, n int) *planner.Plan {
	b := newBuilder(t, tpchTables(t))
	var ins []planner.Node
	var conds []expr.Expr
	for i := range n {
		a := fmt.Sprint("n", i)
		ins = append(ins, b.get("nation", a))
		if i > 0 {
			conds = append(conds, b.eq(b.c(fmt.Sprint("n", i-1, ".n_regionkey")), b.c(a+".n_nationkey")))
		}
	}
	conds = append(conds, b.eq(b.c("n0.n_nationkey"), b.int(3)))
	var root planner.Node = &planner.Filter{Input: cross(ins...), Cond: and(conds)}
	for i := 0; i < n; i += 4 {
		r := b.get("region", fmt.Sprint("r", i))
		root = &planner.Join{Kind: planner.Semi, Left: root, Right: r,
			Conds: []planner.JoinCond{{Left: b.c(fmt.Sprint("n", i, ".n_regionkey")), Right: b.c(fmt.Sprint("r", i, ".r_regionkey"))}}}
	}
	return b.plan(root, "n_name")
}

// TestJoinOrderLargeTrees orders chains of more relations than the
// dynamic program takes (the greedy path) and of fewer, and checks that
// every join gets its condition and that the rows are those of the plan
// joined in the written order.
func TestJoinOrderLargeTrees(t *testing.T) {
	for _, n := range []int{6, dpLimit + 3} {
		p := chain(t, n)
		if _, err := Optimize(p, Options{Validate: true}); err != nil {
			t.Fatal(err)
		}
		if problems := joinProblems(p.Root); len(problems) > 0 {
			t.Errorf("%d relations: %v\n%s", n, problems, planner.Format(p.Root))
		}
		written := chain(t, n)
		if _, err := Optimize(written, Options{Validate: true, Disabled: map[string]bool{"join_order": true}}); err != nil {
			t.Fatal(err)
		}
		got, err := result(p)
		if err != nil {
			t.Fatal(err)
		}
		want, err := result(written)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("%d relations: %d rows reordered, %d as written (want the same, and some)", n, len(got), len(want))
		}
	}
}
