package planner_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/planner"
	"github.com/bpfdb/bpfdb/internal/sql/ast"
	"github.com/bpfdb/bpfdb/internal/sql/parser"
)

// TestRandomQueries binds random queries over the small test tables:
// nested and correlated subqueries, aggregates, joins, set operations.
// Every query must bind to a valid plan or fail with a positioned
// *planner.Error; none may panic. The seed is logged and taken from
// PLANNER_SEED if set.
func TestRandomQueries(t *testing.T) {
	seed := uint64(rand.Int64())
	if s := os.Getenv("PLANNER_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("PLANNER_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (rerun with PLANNER_SEED=%d)", seed, seed)
	cat := newCatalog(t)
	g := &queryGen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	bound, failed := 0, map[string]int{}
	for range 3000 {
		g.n = 0
		src := g.query(0, nil)
		st, err := parser.ParseOne(src)
		if err != nil {
			t.Fatalf("generated query does not parse: %v\n%s", err, src)
		}
		p, err := planner.Bind(cat, st.(*ast.SelectStmt).Query)
		if err != nil {
			var be *planner.Error
			if !errors.As(err, &be) || !be.Pos.IsValid() || be.Pos.Offset > len(src) {
				t.Fatalf("%s\nerror %v is not a positioned *planner.Error", src, err)
			}
			failed[sentinel(err)]++
			continue
		}
		if err := validate(p); err != nil {
			t.Fatalf("%s\ninvalid plan: %v\n%s", src, err, planner.Format(p.Root))
		}
		bound++
	}
	t.Logf("%d bound, failures by kind: %v", bound, failed)
	if bound < 1000 {
		t.Errorf("only %d of 3000 random queries bound: the generator has drifted from what the binder accepts", bound)
	}
}

// queryGen writes random queries over tables t, u and w.
type queryGen struct {
	r *rand.Rand
	n int // aliases used so far
}

// genRel is a FROM item in scope: its alias and integer columns.
type genRel struct {
	alias string
	ints  []string
	strs  []string
}

var genTables = map[string]genRel{
	"t": {ints: []string{"a", "b"}, strs: []string{"c"}},
	"u": {ints: []string{"a"}, strs: []string{"x"}},
	"w": {ints: []string{"a"}},
}

func (g *queryGen) pick(n int) int { return g.r.IntN(n) }

// from returns a FROM clause and its relations.
func (g *queryGen) from(depth int) (string, []genRel) {
	var parts []string
	var rels []genRel
	for i := range 1 + g.pick(2) {
		names := []string{"t", "u", "w"}
		name := names[g.pick(3)]
		g.n++
		rel := genTables[name]
		rel.alias = fmt.Sprintf("r%d", g.n)
		item := name + " " + rel.alias
		if depth < 2 && g.pick(6) == 0 {
			// A derived table.
			item = fmt.Sprintf("(SELECT a, a + 1 AS b FROM %s) %s", name, rel.alias)
			rel.ints, rel.strs = []string{"a", "b"}, nil
		}
		if i > 0 && g.pick(2) == 0 {
			kind := []string{"JOIN", "LEFT JOIN", "RIGHT JOIN"}[g.pick(3)]
			prev := rels[len(rels)-1]
			parts[len(parts)-1] += fmt.Sprintf(" %s %s ON %s.a = %s.a", kind, item, prev.alias, rel.alias)
		} else {
			parts = append(parts, item)
		}
		rels = append(rels, rel)
	}
	return strings.Join(parts, ", "), rels
}

// col returns a qualified integer column of rels or outer.
func (g *queryGen) col(rels, outer []genRel) string {
	all := rels
	if len(outer) > 0 && g.pick(3) == 0 {
		all = outer
	}
	r := all[g.pick(len(all))]
	return r.alias + "." + r.ints[g.pick(len(r.ints))]
}

func (g *queryGen) intExpr(depth int, rels, outer []genRel) string {
	switch n := g.pick(10); {
	case n < 4 || depth > 2:
		return g.col(rels, outer)
	case n == 4:
		return strconv.Itoa(g.pick(100))
	case n == 5:
		return "(" + g.intExpr(depth+1, rels, outer) + " + " + g.intExpr(depth+1, rels, outer) + ")"
	case n == 6:
		return "CASE WHEN " + g.boolExpr(depth+1, rels, outer) + " THEN " + g.intExpr(depth+1, rels, outer) + " ELSE 0 END"
	case n == 7:
		return "coalesce(" + g.intExpr(depth+1, rels, outer) + ", 0)"
	default:
		return "(" + g.subquery(depth+1, rels, true) + ")"
	}
}

func (g *queryGen) boolExpr(depth int, rels, outer []genRel) string {
	switch n := g.pick(10); {
	case n < 4 || depth > 2:
		op := []string{"=", "<", ">=", "<>"}[g.pick(4)]
		return g.intExpr(depth+1, rels, outer) + " " + op + " " + g.intExpr(depth+1, rels, outer)
	case n == 4:
		return "(" + g.boolExpr(depth+1, rels, outer) + " OR " + g.boolExpr(depth+1, rels, outer) + ")"
	case n == 5:
		return "NOT " + g.boolExpr(depth+1, rels, outer)
	case n == 6:
		return "EXISTS (" + g.subquery(depth+1, rels, false) + ")"
	case n == 7:
		not := []string{"", "NOT "}[g.pick(2)]
		return g.intExpr(depth+1, rels, outer) + " " + not + "IN (" + g.subquery(depth+1, rels, true) + ")"
	case n == 8:
		return g.intExpr(depth+1, rels, outer) + " IN (1, 2, 3)"
	default:
		return g.col(rels, outer) + " IS NULL"
	}
}

// subquery returns a subquery correlated with outer (maybe), of one
// integer column if scalar.
func (g *queryGen) subquery(depth int, outer []genRel, scalar bool) string {
	from, rels := g.from(depth)
	var where []string
	if g.pick(4) != 0 {
		// Correlate: mostly by equality, sometimes not.
		op := []string{"=", "=", "=", "<"}[g.pick(4)]
		where = append(where, g.col(rels, nil)+" "+op+" "+g.col(outer, nil))
	}
	if depth < 3 && g.pick(3) == 0 {
		where = append(where, g.boolExpr(depth+1, rels, nil))
	}
	sel := g.col(rels, nil)
	if scalar || g.pick(2) == 0 {
		switch g.pick(4) {
		case 0:
			sel = "count(*)"
		case 1:
			sel = "max(" + g.col(rels, nil) + ") + 1"
		case 2:
			sel = "count(" + g.col(rels, nil) + ")"
		}
	}
	q := "SELECT " + sel + " FROM " + from
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return q
}

// query returns a top-level query.
func (g *queryGen) query(depth int, outer []genRel) string {
	from, rels := g.from(depth)
	var sel, group []string
	aggregated := g.pick(3) == 0
	if aggregated {
		gc := g.col(rels, nil)
		group = append(group, gc)
		sel = append(sel, gc, "count(*)", "sum("+g.intExpr(depth+1, rels, nil)+")")
	} else {
		for range 1 + g.pick(3) {
			sel = append(sel, g.intExpr(depth+1, rels, outer))
		}
	}
	q := "SELECT " + strings.Join(sel, ", ") + " FROM " + from
	if g.pick(4) != 0 {
		var conj []string
		for range 1 + g.pick(3) {
			conj = append(conj, g.boolExpr(depth+1, rels, outer))
		}
		q += " WHERE " + strings.Join(conj, " AND ")
	}
	if aggregated {
		q += " GROUP BY " + strings.Join(group, ", ")
		if g.pick(2) == 0 {
			q += " HAVING count(*) > " + strconv.Itoa(g.pick(5))
		}
	}
	switch g.pick(4) {
	case 0:
		q += " UNION ALL SELECT " + strings.Repeat("1, ", len(sel)-1) + "1"
	case 1:
		q += " ORDER BY 1 DESC LIMIT " + strconv.Itoa(g.pick(10))
	}
	return q
}
