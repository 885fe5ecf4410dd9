package optimizer

import (
	"fmt"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/planner"
)

// BenchmarkOptimizeTPCH optimizes each bound TPC-H query with every pass
// (binding is not timed).
func BenchmarkOptimizeTPCH(b *testing.B) {
	t := &testing.T{}
	db := tpchTables(b)
	for _, q := range []string{"03", "05", "08", "09", "21"} {
		b.Run("q"+q, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				p := bindQuery(t, db, q)
				b.StartTimer()
				if _, err := Optimize(p, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// chainPlan is n copies of nation joined in a chain (n_regionkey of one =
// n_nationkey of the next) by comma joins under one filter.
func chainPlan(b *testing.B, n int) *planner.Plan {
	bd := newBuilder(b, tpchTables(b))
	var ins []planner.Node
	var conds []expr.Expr
	for i := range n {
		a := fmt.Sprint("n", i)
		ins = append(ins, bd.get("nation", a))
		if i > 0 {
			conds = append(conds, bd.eq(bd.c(fmt.Sprint("n", i-1, ".n_regionkey")), bd.c(a+".n_nationkey")))
		}
	}
	return bd.plan(&planner.Filter{Input: cross(ins...), Cond: and(conds)}, "n_name")
}

// BenchmarkJoinOrder times filter pushdown and join ordering of a chain of
// n relations: the exact dynamic program up to dpLimit, greedy above.
func BenchmarkJoinOrder(b *testing.B) {
	for _, n := range []int{4, 8, 10, 16} {
		b.Run(fmt.Sprint(n, "_relations"), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				p := chainPlan(b, n)
				if err := pushFilters(p, new(int)); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := orderJoins(p, new(int)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
