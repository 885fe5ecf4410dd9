package optimizer

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/planner"
	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// testSeed returns the seed of a randomized test: OPTIMIZER_SEED if set,
// else the clock; it is logged so that a failure can be replayed.
func testSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("OPTIMIZER_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("OPTIMIZER_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (replay with OPTIMIZER_SEED=%d)", seed, seed)
	return seed
}

// randomSchema is the schema of every random table, so that any two can
// be unioned.
const randomSchema = "a:INTEGER b:BIGINT c:VARCHAR d:DECIMAL(15,2) e:DATE"

// randomTables creates tables r0..r3 of up to 12 rows of small values
// (so that joins match) with NULLs, in row groups of a few rows each (so
// that zone-map filters skip some).
func randomTables(t *testing.T, r *rand.Rand) *table.DB {
	db := newDB(t)
	ts := []types.Type{types.IntegerType, types.BigIntType, types.VarcharType, types.MustDecimal(15, 2), types.DateType}
	for k := range 4 {
		var cols []table.Column
		for i, f := range strings.Fields(randomSchema) {
			name, _, _ := strings.Cut(f, ":")
			cols = append(cols, table.Column{Name: name, Type: ts[i]})
		}
		tbl, err := db.CreateTable(fmt.Sprint("r", k), cols)
		if err != nil {
			t.Fatal(err)
		}
		a, err := tbl.NewAppender()
		if err != nil {
			t.Fatal(err)
		}
		n := r.IntN(13)
		every := 1 + r.IntN(6)
		for i := range n {
			c := vector.NewChunk(ts)
			vals := []types.Value{
				types.IntegerValue(int32(r.IntN(6))),
				types.BigIntValue(int64(r.IntN(6))),
				types.VarcharValue([]string{"ab", "ac", "b", "", "ba"}[r.IntN(5)]),
				types.DecimalValue(int64(r.IntN(9)-4)*50, ts[3]),
				types.DateValue(int32(9000 + r.IntN(10))),
			}
			for j := range vals {
				if r.IntN(7) == 0 {
					vals[j] = types.Null(ts[j])
				}
			}
			c.AppendRow(vals...)
			if err := a.Append(c); err != nil {
				t.Fatal(err)
			}
			if (i+1)%every == 0 {
				if err := a.Flush(); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// gen makes random plans of the shapes the binder makes.
type gen struct {
	r *rand.Rand
	b *builder
}

func (g *gen) pick(cols []planner.Column) planner.Column { return cols[g.r.IntN(len(cols))] }

// constant returns a random constant of type t (sometimes NULL).
func (g *gen) constant(t types.Type) expr.Expr {
	var v types.Value
	switch t.ID() {
	case types.Integer:
		v = types.IntegerValue(int32(g.r.IntN(7) - 1))
	case types.BigInt:
		v = types.BigIntValue(int64(g.r.IntN(7) - 1))
	case types.Varchar:
		v = types.VarcharValue([]string{"ab", "b", "", "a", "c"}[g.r.IntN(5)])
	case types.Decimal:
		v = types.DecimalValue(int64(g.r.IntN(11)-5)*50, t)
	case types.Date:
		v = types.DateValue(int32(8999 + g.r.IntN(12)))
	case types.Boolean:
		v = types.BoolValue(g.r.IntN(2) == 0)
	default:
		v = types.Null(t)
	}
	if g.r.IntN(15) == 0 {
		v = types.Null(t)
	}
	return expr.NewConst(v, expr.Pos{})
}

// family groups types that compare with each other.
func family(t types.Type) int {
	if t.IsNumeric() {
		return 0
	}
	return int(t.ID()) + 1
}

var cmpOps = []expr.Op{expr.OpEq, expr.OpNe, expr.OpLt, expr.OpLe, expr.OpGt, expr.OpGe}

// pred returns a random predicate over cols.
func (g *gen) pred(cols []planner.Column, depth int) expr.Expr {
	b := g.b
	c := g.pick(cols)
	switch k := g.r.IntN(12); {
	case depth > 0 && k == 0:
		return b.bin(expr.OpAnd, g.pred(cols, depth-1), g.pred(cols, depth-1))
	case depth > 0 && k == 1:
		return b.bin(expr.OpOr, g.pred(cols, depth-1), g.pred(cols, depth-1))
	case depth > 0 && k == 2:
		return b.must(expr.NewUnary(expr.OpNot, g.pred(cols, depth-1), expr.Pos{}))
	case k == 3:
		return expr.NewIsNull(c.Ref(), g.r.IntN(2) == 0, expr.Pos{})
	case k == 4:
		// Another column of the same family.
		var same []planner.Column
		for _, o := range cols {
			if family(o.Type) == family(c.Type) && o.ID != c.ID && o.Type.ID() != types.Boolean && (o.Type == c.Type || g.r.IntN(3) == 0) {
				same = append(same, o)
			}
		}
		if len(same) > 0 && c.Type.ID() != types.Boolean {
			return b.bin(cmpOps[g.r.IntN(len(cmpOps))], c.Ref(), g.pick(same).Ref())
		}
	case k == 5 && c.Type.ID() == types.Varchar:
		return b.like(c.Ref(), []string{"a%", "%b", "b", "_"}[g.r.IntN(4)], g.r.IntN(3) == 0)
	case k == 6 && c.Type.ID() != types.Boolean:
		return b.in(c.Ref(), g.constant(c.Type), g.constant(c.Type))
	case k == 7 && g.r.IntN(3) == 0:
		// A constant predicate, for folding.
		return b.bin(expr.OpEq, b.int(int64(g.r.IntN(2))), b.int(int64(g.r.IntN(2))))
	case k == 8 && c.Type.ID() != types.Boolean:
		co := b.must(expr.NewCoalesce([]expr.Expr{c.Ref(), g.constant(c.Type)}, expr.Pos{}))
		return b.bin(cmpOps[g.r.IntN(len(cmpOps))], co, g.constant(c.Type))
	}
	if c.Type.ID() == types.Boolean {
		return c.Ref()
	}
	if g.r.IntN(3) == 0 {
		return b.bin(cmpOps[g.r.IntN(len(cmpOps))], g.constant(c.Type), c.Ref())
	}
	return b.bin(cmpOps[g.r.IntN(len(cmpOps))], c.Ref(), g.constant(c.Type))
}

// equi returns an equality between a column of l and one of r of the same
// family, if there is one.
func (g *gen) equi(l, r []planner.Column) (expr.Expr, expr.Expr, bool) {
	for i := range 20 {
		a, c := g.pick(l), g.pick(r)
		same := a.Type == c.Type || i >= 10 && family(a.Type) == family(c.Type)
		if same && a.Type.ID() != types.Boolean {
			eq := g.b.eq(a.Ref(), c.Ref()).(*expr.Binary)
			if eq.Left.Type() == eq.Right.Type() {
				return eq.Left, eq.Right, true
			}
		}
	}
	return nil, nil, false
}

// node returns a random plan of at most depth levels of joins.
func (g *gen) node(depth int) planner.Node {
	b := g.b
	if depth == 0 || g.r.IntN(4) == 0 {
		get := b.get(fmt.Sprint("r", g.r.IntN(4)), fmt.Sprint("t", b.next))
		if g.r.IntN(2) == 0 {
			return &planner.Filter{Input: get, Cond: g.pred(get.Columns, 2)}
		}
		return get
	}
	switch g.r.IntN(8) {
	case 0, 1:
		// FROM a, b, c WHERE …: cross joins under one filter.
		k := 2 + g.r.IntN(2)
		ins := make([]planner.Node, k)
		for i := range ins {
			ins[i] = g.node(depth - 1)
		}
		n := cross(ins...)
		var conds []expr.Expr
		for i := 1; i < k; i++ {
			if g.r.IntN(5) > 0 {
				if l, r, ok := g.equi(ins[g.r.IntN(i)].Output(), ins[i].Output()); ok {
					conds = append(conds, b.eq(l, r))
					// A constant predicate on a joined column, which the
					// equality carries to the other side.
					if c, isCol := l.(*expr.Column); isCol && g.r.IntN(2) == 0 {
						conds = append(conds, b.bin(cmpOps[g.r.IntN(len(cmpOps))], c, g.constant(c.T)))
					}
				}
			}
		}
		for range g.r.IntN(3) {
			conds = append(conds, g.pred(n.Output(), 2))
		}
		if len(conds) == 0 {
			return n
		}
		return &planner.Filter{Input: n, Cond: and(conds)}
	case 2:
		l, r := g.node(depth-1), g.node(depth-1)
		kind := []planner.JoinKind{planner.LeftOuter, planner.Semi, planner.Anti, planner.Mark, planner.Single, planner.Inner}[g.r.IntN(6)]
		if kind == planner.Single {
			// One right row per key: the right is grouped by it.
			rc := g.pick(r.Output())
			r = b.aggregate(r, []expr.Expr{rc.Ref()}, []string{"k"}, agg{expr.CountStar, nil, "n"})
		}
		j := &planner.Join{Kind: kind, Left: l, Right: r}
		if lk, rk, ok := g.equi(l.Output(), r.Output()); ok && (g.r.IntN(4) > 0 || kind == planner.Single) {
			j.Conds = []planner.JoinCond{{Left: lk, Right: rk}}
		}
		if kind == planner.Single && len(j.Conds) == 0 {
			return l
		}
		if g.r.IntN(2) == 0 {
			j.Residual = g.pred(append(l.Output(), r.Output()...), 1)
		}
		if kind == planner.Mark {
			j.Mark = b.column("mark", types.BooleanType)
		}
		if g.r.IntN(2) == 0 {
			return &planner.Filter{Input: j, Cond: g.pred(j.Output(), 2)}
		}
		return j
	case 3:
		in := g.node(depth - 1)
		var names []string
		var es []expr.Expr
		for _, c := range in.Output() {
			if g.r.IntN(2) == 0 {
				names, es = append(names, c.Name), append(es, c.Ref())
			}
		}
		c := g.pick(in.Output())
		if c.Type.ID() == types.Integer || c.Type.ID() == types.BigInt {
			names, es = append(names, "plus"), append(es, b.bin(expr.OpAdd, c.Ref(), b.int(1)))
		} else {
			names, es = append(names, "isnull"), append(es, expr.NewIsNull(c.Ref(), false, expr.Pos{}))
		}
		p := b.project(in, names, es...)
		// As the binder does, bare references may pass their column on
		// under its own ID.
		for i, e := range p.Exprs {
			if col, ok := e.(*expr.Column); ok && g.r.IntN(2) == 0 {
				p.Columns[i] = planner.Column{ID: planner.ColumnID(col.Index), Name: col.Name, Type: col.T}
			}
		}
		return p
	case 4:
		in := g.node(depth - 1)
		var groups []expr.Expr
		var names []string
		for range g.r.IntN(3) {
			c := g.pick(in.Output())
			groups, names = append(groups, c.Ref()), append(names, "g_"+c.Name)
		}
		c := g.pick(in.Output())
		aggs := []agg{{expr.CountStar, nil, "cnt"}, {expr.Count, c.Ref(), "count"}}
		if c.Type.ID() != types.Boolean {
			aggs = append(aggs, agg{expr.Min, c.Ref(), "min"}, agg{expr.Max, c.Ref(), "max"})
		}
		a := b.aggregate(in, groups, names, aggs...)
		if g.r.IntN(2) == 0 {
			return &planner.Filter{Input: a, Cond: g.pred(a.Output(), 1)}
		}
		return a
	case 5:
		// ORDER BY every column, so that LIMIT is deterministic.
		in := g.node(depth - 1)
		var keys []planner.SortKey
		for _, c := range in.Output() {
			keys = append(keys, planner.SortKey{Expr: c.Ref(), Desc: g.r.IntN(2) == 0, NullsFirst: g.r.IntN(2) == 0})
		}
		var top planner.Node = &planner.Order{Input: in, Keys: keys}
		if g.r.IntN(2) == 0 {
			// A projection between Limit and Order (TopN goes under it).
			var names []string
			var es []expr.Expr
			for _, c := range in.Output() {
				names, es = append(names, c.Name), append(es, c.Ref())
			}
			top = b.project(top, names, es...)
		}
		return &planner.Limit{Input: top, Count: int64(g.r.IntN(6)), Offset: int64(g.r.IntN(3))}
	case 6:
		// A union of two joins: reordering a branch must keep its column
		// order.
		var bs []planner.Node
		for range 2 {
			l := b.get(fmt.Sprint("r", g.r.IntN(4)), fmt.Sprint("t", b.next))
			r := b.get(fmt.Sprint("r", g.r.IntN(4)), fmt.Sprint("t", b.next))
			m := b.get(fmt.Sprint("r", g.r.IntN(4)), fmt.Sprint("t", b.next))
			cond := and([]expr.Expr{b.eq(l.Columns[0].Ref(), r.Columns[0].Ref()), b.eq(r.Columns[1].Ref(), m.Columns[1].Ref())})
			bs = append(bs, &planner.Filter{Input: cross(l, r, m), Cond: cond})
		}
		u := &planner.Union{Branches: bs}
		for _, c := range bs[0].Output() {
			u.Columns = append(u.Columns, b.column("u_"+c.Name, c.Type))
		}
		return u
	}
	// A union of two tables (all random tables have one schema).
	var bs []planner.Node
	for range 2 {
		get := b.get(fmt.Sprint("r", g.r.IntN(4)), fmt.Sprint("t", b.next))
		bs = append(bs, &planner.Filter{Input: get, Cond: g.pred(get.Columns, 1)})
	}
	u := &planner.Union{Branches: bs}
	for _, c := range bs[0].Output() {
		u.Columns = append(u.Columns, b.column("u_"+c.Name, c.Type))
	}
	if g.r.IntN(2) == 0 {
		return &planner.Filter{Input: u, Cond: g.pred(u.Columns, 1)}
	}
	return u
}

// randomPlan returns the plan of seed: the same seed gives the same plan.
func randomPlan(t *testing.T, db *table.DB, seed uint64) *planner.Plan {
	g := &gen{r: rand.New(rand.NewPCG(seed, 7)), b: newBuilder(t, db)}
	root := g.node(3)
	p := &planner.Plan{Root: root, NextID: g.b.next}
	for _, c := range root.Output() {
		if g.r.IntN(2) == 0 || len(p.Result) == 0 && c.ID == root.Output()[len(root.Output())-1].ID {
			p.Result = append(p.Result, c)
		}
	}
	return p
}

// TestRandomPlans builds random plans and optimizes each with every pass,
// with each pass alone and with random sets of passes: every plan must stay
// valid after every pass and compute the same rows (by the reference
// interpreter) as before.
func TestRandomPlans(t *testing.T) {
	seed := testSeed(t)
	r := rand.New(rand.NewPCG(seed, 1))
	db := randomTables(t, r)
	names := passNames()
	iters := 200
	if testing.Short() {
		iters = 50
	}
	failures := 0
	for it := range iters {
		ps := r.Uint64()
		p0 := randomPlan(t, db, ps)
		if err := Validate(p0); err != nil {
			t.Fatalf("plan %d: generated plan invalid: %v\n%s", ps, err, planner.Format(p0.Root))
		}
		want, wantErr := result(p0)
		configs := []map[string]bool{{}}
		for _, n := range names {
			only := map[string]bool{}
			for _, m := range names {
				only[m] = m != n
			}
			configs = append(configs, only)
		}
		for range 2 {
			d := map[string]bool{}
			for _, n := range names {
				d[n] = r.IntN(2) == 0
			}
			configs = append(configs, d)
		}
		for _, disabled := range configs {
			p := randomPlan(t, db, ps)
			if _, err := Optimize(p, Options{Disabled: disabled, Validate: true}); err != nil {
				t.Fatalf("iteration %d plan seed %d disabled %v: %v\nbefore:\n%s\nafter:\n%s", it, ps, disabled, err, planner.Format(p0.Root), planner.Format(p.Root))
			}
			got, gotErr := result(p)
			if wantErr != nil || gotErr != nil {
				if (wantErr == nil) != (gotErr == nil) && !errors.Is(wantErr, errSingle) && !errors.Is(gotErr, errSingle) {
					t.Errorf("plan seed %d disabled %v: error before %v, after %v\nbefore:\n%s\nafter:\n%s", ps, disabled, wantErr, gotErr, planner.Format(p0.Root), planner.Format(p.Root))
					failures++
				}
				continue
			}
			if !slices.Equal(want, got) {
				t.Errorf("plan seed %d disabled %v: results differ\nbefore (%d rows):\n%s\nafter (%d rows):\n%s\nplan before:\n%s\nplan after:\n%s", ps, disabled,
					len(want), strings.Join(want, "\n"), len(got), strings.Join(got, "\n"), planner.Format(p0.Root), planner.Format(p.Root))
				failures++
			}
			if failures > 3 {
				t.FailNow()
			}
		}
	}
}
