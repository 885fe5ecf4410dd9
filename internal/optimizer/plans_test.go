package optimizer

import (
	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/planner"
	"github.com/bpfdb/bpfdb/internal/types"
)

// handPlans are plans built as the binder builds them (FROM items as cross
// joins under one Filter with the whole WHERE, subqueries as joins), named
// for the golden tests.
var handPlans = map[string]func(b *builder) *planner.Plan{
	// TPC-H Q3: three comma-joined tables, filters on two of them, top 10.
	"q3": func(b *builder) *planner.Plan {
		from := cross(b.get("customer", ""), b.get("orders", ""), b.get("lineitem", ""))
		where := &planner.Filter{Input: from, Cond: b.and(
			b.eq(b.c("c_mktsegment"), b.str("BUILDING")),
			b.eq(b.c("c_custkey"), b.c("o_custkey")),
			b.eq(b.c("l_orderkey"), b.c("o_orderkey")),
			b.bin(expr.OpLt, b.c("o_orderdate"), b.date("1995-03-15")),
			b.bin(expr.OpGt, b.c("l_shipdate"), b.date("1995-03-15")),
		)}
		rev := b.bin(expr.OpMul, b.c("l_extendedprice"), b.bin(expr.OpSub, b.int(1), b.c("l_discount")))
		ag := b.aggregate(where, []expr.Expr{b.c("l_orderkey"), b.c("o_orderdate"), b.c("o_shippriority")},
			[]string{"l_orderkey", "o_orderdate", "o_shippriority"}, agg{expr.Sum, rev, "sum"})
		pr := b.project(ag, []string{"l_orderkey", "revenue", "o_orderdate", "o_shippriority"},
			b.c("l_orderkey"), b.c("sum"), b.c("o_orderdate"), b.c("o_shippriority"))
		ord := &planner.Order{Input: pr, Keys: []planner.SortKey{{Expr: b.c("revenue"), Desc: true}, {Expr: b.c("o_orderdate")}}}
		return b.plan(&planner.Limit{Input: ord, Count: 10}, "l_orderkey", "revenue", "o_orderdate", "o_shippriority")
	},
	// TPC-H Q5: six tables, a chain of key joins with a cycle through
	// nation (c_nationkey = s_nationkey = n_nationkey).
	"q5": func(b *builder) *planner.Plan {
		from := cross(b.get("customer", ""), b.get("orders", ""), b.get("lineitem", ""), b.get("supplier", ""), b.get("nation", ""), b.get("region", ""))
		where := &planner.Filter{Input: from, Cond: b.and(
			b.eq(b.c("c_custkey"), b.c("o_custkey")),
			b.eq(b.c("l_orderkey"), b.c("o_orderkey")),
			b.eq(b.c("l_suppkey"), b.c("s_suppkey")),
			b.eq(b.c("c_nationkey"), b.c("s_nationkey")),
			b.eq(b.c("s_nationkey"), b.c("n_nationkey")),
			b.eq(b.c("n_regionkey"), b.c("r_regionkey")),
			b.eq(b.c("r_name"), b.str("ASIA")),
			b.bin(expr.OpGe, b.c("o_orderdate"), b.date("1994-01-01")),
			b.bin(expr.OpLt, b.c("o_orderdate"), b.date("1995-01-01")),
		)}
		rev := b.bin(expr.OpMul, b.c("l_extendedprice"), b.bin(expr.OpSub, b.int(1), b.c("l_discount")))
		ag := b.aggregate(where, []expr.Expr{b.c("n_name")}, []string{"n_name"}, agg{expr.Sum, rev, "revenue"})
		ord := &planner.Order{Input: ag, Keys: []planner.SortKey{{Expr: b.c("revenue"), Desc: true}}}
		return b.plan(ord, "n_name", "revenue")
	},
	// TPC-H Q6: one table, a conjunction of ranges (zone-map filters).
	"q6": func(b *builder) *planner.Plan {
		where := &planner.Filter{Input: b.get("lineitem", ""), Cond: b.and(
			b.bin(expr.OpGe, b.c("l_shipdate"), b.date("1994-01-01")),
			b.bin(expr.OpLt, b.c("l_shipdate"), b.date("1995-01-01")),
			b.between(b.c("l_discount"), b.dec("0.05"), b.dec("0.07")),
			b.bin(expr.OpLt, b.c("l_quantity"), b.int(24)),
		)}
		ag := b.aggregate(where, nil, nil, agg{expr.Sum, b.bin(expr.OpMul, b.c("l_extendedprice"), b.c("l_discount")), "revenue"})
		return b.plan(ag, "revenue")
	},
	// TPC-H Q13: a left outer join whose ON has an equality and a
	// condition on the right side only (the binder leaves both in the
	// residual), aggregated twice.
	"q13": func(b *builder) *planner.Plan {
		j := &planner.Join{Kind: planner.LeftOuter, Left: b.get("customer", ""), Right: b.get("orders", ""),
			Residual: b.and(b.eq(b.c("c_custkey"), b.c("o_custkey")), b.like(b.c("o_comment"), "%special%requests%", true))}
		inner := b.aggregate(j, []expr.Expr{b.c("c_custkey")}, []string{"c_custkey"}, agg{expr.Count, b.c("o_orderkey"), "c_count"})
		outer := b.aggregate(inner, []expr.Expr{b.c("c_count")}, []string{"c_count"}, agg{expr.CountStar, nil, "custdist"})
		ord := &planner.Order{Input: outer, Keys: []planner.SortKey{{Expr: b.c("custdist"), Desc: true}, {Expr: b.c("c_count"), Desc: true}}}
		return b.plan(ord, "c_count", "custdist")
	},
	// A filter on the right side of a left join that no NULL passes
	// makes it an inner join; a left-side one goes left.
	"left_to_inner": func(b *builder) *planner.Plan {
		j := &planner.Join{Kind: planner.LeftOuter, Left: b.get("customer", ""), Right: b.get("orders", ""),
			Conds: []planner.JoinCond{{Left: b.c("c_custkey"), Right: b.c("o_custkey")}}}
		f := &planner.Filter{Input: j, Cond: b.and(
			b.bin(expr.OpGt, b.c("o_totalprice"), b.dec("1000.00")),
			b.bin(expr.OpGt, b.c("c_acctbal"), b.int(0)))}
		return b.plan(f, "c_name", "o_orderkey")
	},
	// IS NULL and COALESCE keep NULL-extended rows: the join stays left,
	// the filters stay above it.
	"left_stays": func(b *builder) *planner.Plan {
		j := &planner.Join{Kind: planner.LeftOuter, Left: b.get("customer", ""), Right: b.get("orders", ""),
			Conds: []planner.JoinCond{{Left: b.c("c_custkey"), Right: b.c("o_custkey")}}}
		coalesce := b.must(expr.NewCoalesce([]expr.Expr{b.c("o_totalprice"), b.dec("0.00")}, expr.Pos{}))
		f := &planner.Filter{Input: j, Cond: b.or(
			expr.NewIsNull(b.c("o_orderkey"), false, expr.Pos{}),
			b.bin(expr.OpLt, coalesce, b.dec("10.00")))}
		return b.plan(f, "c_name", "o_orderkey")
	},
	// TPC-H Q4: EXISTS as a semi join whose residual holds the correlation
	// and a condition on lineitem alone.
	"q4": func(b *builder) *planner.Plan {
		semi := &planner.Join{Kind: planner.Semi, Left: b.get("orders", ""), Right: b.get("lineitem", ""),
			Residual: b.and(b.eq(b.c("l_orderkey"), b.c("o_orderkey")), b.bin(expr.OpLt, b.c("l_commitdate"), b.c("l_receiptdate")))}
		f := &planner.Filter{Input: semi, Cond: b.and(
			b.bin(expr.OpGe, b.c("o_orderdate"), b.date("1993-07-01")),
			b.bin(expr.OpLt, b.c("o_orderdate"), b.date("1993-10-01")))}
		ag := b.aggregate(f, []expr.Expr{b.c("o_orderpriority")}, []string{"o_orderpriority"}, agg{expr.CountStar, nil, "order_count"})
		ord := &planner.Order{Input: ag, Keys: []planner.SortKey{{Expr: b.c("o_orderpriority")}}}
		return b.plan(ord, "o_orderpriority", "order_count")
	},
	// NOT EXISTS as an anti join: a condition on the left side alone
	// decides matches, so it stays; one on the right side goes right.
	"anti": func(b *builder) *planner.Plan {
		anti := &planner.Join{Kind: planner.Anti, Left: b.get("customer", ""), Right: b.get("orders", ""),
			Conds: []planner.JoinCond{{Left: b.c("c_custkey"), Right: b.c("o_custkey")}},
			Residual: b.and(b.bin(expr.OpGt, b.c("c_acctbal"), b.int(0)),
				b.bin(expr.OpGt, b.c("o_orderdate"), b.date("1998-01-01")))}
		f := &planner.Filter{Input: anti, Cond: b.eq(b.c("c_mktsegment"), b.str("BUILDING"))}
		return b.plan(f, "c_name")
	},
	// TPC-H Q19: the join condition repeated in every branch of an OR is
	// factored out into a hash-join condition; each side gets the OR of
	// its own parts of the branches as an early filter.
	"q19": func(b *builder) *planner.Plan {
		from := cross(b.get("lineitem", ""), b.get("part", ""))
		branch := func(brand string, lo, hi int64, size int64) expr.Expr {
			return b.and(
				b.eq(b.c("p_partkey"), b.c("l_partkey")),
				b.eq(b.c("p_brand"), b.str(brand)),
				b.bin(expr.OpGe, b.c("l_quantity"), b.int(lo)),
				b.bin(expr.OpLe, b.c("l_quantity"), b.int(hi)),
				b.between(b.c("p_size"), b.int(1), b.int(size)),
				b.in(b.c("l_shipmode"), b.str("AIR"), b.str("AIR REG")))
		}
		where := &planner.Filter{Input: from, Cond: b.or(branch("Brand#12", 1, 11, 5), branch("Brand#23", 10, 20, 10), branch("Brand#34", 20, 30, 15))}
		rev := b.bin(expr.OpMul, b.c("l_extendedprice"), b.bin(expr.OpSub, b.int(1), b.c("l_discount")))
		ag := b.aggregate(where, nil, nil, agg{expr.Sum, rev, "revenue"})
		return b.plan(ag, "revenue")
	},
	// Constant folding: a WHERE that is always false empties the scan,
	// but an aggregate without groups still makes its row; TRUE AND x is
	// x.
	"fold": func(b *builder) *planner.Plan {
		never := &planner.Filter{Input: b.get("nation", ""), Cond: b.and(
			b.bin(expr.OpLt, b.c("n_nationkey"), b.int(10)),
			b.eq(b.bin(expr.OpAdd, b.int(1), b.int(1)), b.int(3)))}
		cnt := b.aggregate(never, nil, nil, agg{expr.CountStar, nil, "cnt"})
		regions := &planner.Filter{Input: b.get("region", ""), Cond: b.and(
			b.eq(b.int(2), b.bin(expr.OpAdd, b.int(1), b.int(1))),
			b.eq(b.c("r_name"), b.str("ASIA")))}
		return b.plan(cross(regions, cnt), "r_name", "cnt")
	},
	// An uncorrelated scalar subquery (Q11's HAVING, Q22's average) is a
	// cross join with a one-row aggregate: it stays a cross join, with
	// the comparison above it.
	"scalar": func(b *builder) *planner.Plan {
		total := b.aggregate(b.get("partsupp", "ps2"), nil, nil, agg{expr.Sum, b.c("ps2.ps_supplycost"), "total"})
		ps := &planner.Join{Kind: planner.Cross, Left: b.get("partsupp", ""), Right: b.get("supplier", "")}
		f := &planner.Filter{Input: ps, Cond: b.eq(b.c("ps_suppkey"), b.c("s_suppkey"))}
		value := b.bin(expr.OpMul, b.c("ps_supplycost"), b.c("ps_availqty"))
		groups := b.aggregate(f, []expr.Expr{b.c("ps_partkey")}, []string{"ps_partkey"}, agg{expr.Sum, value, "value"})
		having := &planner.Filter{Input: cross(groups, total), Cond: b.bin(expr.OpGt, b.c("value"), b.c("total"))}
		return b.plan(having, "ps_partkey", "value")
	},
	// Predicates above a projection are rewritten over its input; above
	// an aggregate only those on group columns move; a Limit stops them.
	"through": func(b *builder) *planner.Plan {
		pr := b.project(b.get("orders", ""), []string{"year", "price"},
			b.must(expr.NewExtract(expr.Year, b.c("o_orderdate"), expr.Pos{})), b.c("o_totalprice"))
		ag := b.aggregate(pr, []expr.Expr{b.c("year")}, []string{"year"}, agg{expr.Sum, b.c("price"), "total"})
		f := &planner.Filter{Input: ag, Cond: b.and(
			b.bin(expr.OpGe, b.c("year"), expr.NewConst(types.BigIntValue(1995), expr.Pos{})),
			b.bin(expr.OpGt, b.c("total"), b.dec("100.00")))}
		lim := &planner.Limit{Input: f, Count: 3}
		f2 := &planner.Filter{Input: lim, Cond: b.bin(expr.OpLt, b.c("year"), expr.NewConst(types.BigIntValue(1998), expr.Pos{}))}
		return b.plan(f2, "year", "total")
	},
	// Equalities carry constant predicates across: o_orderkey < 100 and
	// o_orderkey = l_orderkey give l_orderkey < 100 (a zone-map filter on
	// lineitem); a second equality chains it on to partsupp.
	"transitive": func(b *builder) *planner.Plan {
		from := cross(b.get("orders", ""), b.get("lineitem", ""), b.get("partsupp", ""))
		f := &planner.Filter{Input: from, Cond: b.and(
			b.eq(b.c("o_orderkey"), b.c("l_orderkey")),
			b.eq(b.c("l_partkey"), b.c("ps_partkey")),
			b.bin(expr.OpLt, b.c("o_orderkey"), expr.NewConst(types.BigIntValue(100), expr.Pos{})),
			b.in(b.c("ps_partkey"), expr.NewConst(types.BigIntValue(7), expr.Pos{}), expr.NewConst(types.BigIntValue(9), expr.Pos{})))}
		return b.plan(f, "o_orderkey", "ps_suppkey")
	},
	// A union whose branches are join trees: reordering a branch must keep
	// its column order, which the union reads by position.
	"union": func(b *builder) *planner.Plan {
		branch := func(alias string) planner.Node {
			f := &planner.Filter{Input: cross(b.get("lineitem", alias+"l"), b.get("nation", alias+"n"), b.get("supplier", alias+"s")), Cond: b.and(
				b.eq(b.c(alias+"l.l_suppkey"), b.c(alias+"s.s_suppkey")),
				b.eq(b.c(alias+"s.s_nationkey"), b.c(alias+"n.n_nationkey")))}
			return f
		}
		l, r := branch("a"), branch("b")
		u := &planner.Union{Branches: []planner.Node{l, r}}
		for _, c := range l.Output() {
			u.Columns = append(u.Columns, b.column("u_"+c.Name, c.Type))
		}
		return b.plan(u, "u_n_name", "u_l_quantity")
	},
	// A filter that keeps the rows whose mark is true (EXISTS in HAVING),
	// when nothing else reads the mark, makes the mark join a semi join.
	"mark_to_semi": func(b *builder) *planner.Plan {
		mark := &planner.Join{Kind: planner.Mark, Left: b.get("part", ""), Right: b.get("partsupp", ""),
			Conds: []planner.JoinCond{{Left: b.c("p_partkey"), Right: b.c("ps_partkey")}},
			Mark:  b.column("exists", types.BooleanType)}
		coalesce := b.must(expr.NewCoalesce([]expr.Expr{b.c("exists"), expr.NewConst(types.BoolValue(false), expr.Pos{})}, expr.Pos{}))
		f := &planner.Filter{Input: mark, Cond: b.and(coalesce, b.eq(b.c("p_size"), b.int(15)))}
		return b.plan(f, "p_name")
	},
	// The same filter when the mark is also selected: the mark join stays.
	"mark_kept": func(b *builder) *planner.Plan {
		mark := &planner.Join{Kind: planner.Mark, Left: b.get("part", ""), Right: b.get("partsupp", ""),
			Conds: []planner.JoinCond{{Left: b.c("p_partkey"), Right: b.c("ps_partkey")}},
			Mark:  b.column("exists", types.BooleanType)}
		f := &planner.Filter{Input: mark, Cond: b.c("exists")}
		return b.plan(f, "p_name", "exists")
	},
	// ... or read again by the same filter.
	"mark_kept_twice": func(b *builder) *planner.Plan {
		mark := &planner.Join{Kind: planner.Mark, Left: b.get("part", ""), Right: b.get("partsupp", ""),
			Conds: []planner.JoinCond{{Left: b.c("p_partkey"), Right: b.c("ps_partkey")}},
			Mark:  b.column("exists", types.BooleanType)}
		f := &planner.Filter{Input: mark, Cond: b.and(b.c("exists"), b.or(b.c("exists"), b.eq(b.c("p_size"), b.int(3))))}
		return b.plan(f, "p_name")
	},
	// Mark and single joins: only left-side filters move into the left.
	"mark_single": func(b *builder) *planner.Plan {
		mark := &planner.Join{Kind: planner.Mark, Left: b.get("part", ""), Right: b.get("partsupp", ""),
			Conds: []planner.JoinCond{{Left: b.c("p_partkey"), Right: b.c("ps_partkey")}},
			Mark:  b.column("in", types.BooleanType)}
		minCost := b.aggregate(b.get("partsupp", "ps2"), []expr.Expr{b.c("ps2.ps_partkey")}, []string{"min_partkey"}, agg{expr.Min, b.c("ps2.ps_supplycost"), "min_cost"})
		single := &planner.Join{Kind: planner.Single, Left: mark, Right: minCost,
			Conds: []planner.JoinCond{{Left: b.c("p_partkey"), Right: b.c("min_partkey")}}}
		f := &planner.Filter{Input: single, Cond: b.and(
			b.or(b.c("in"), b.bin(expr.OpGt, b.c("min_cost"), b.dec("5.00"))),
			b.eq(b.c("p_size"), b.int(15)))}
		return b.plan(f, "p_name", "min_cost")
	},
}
