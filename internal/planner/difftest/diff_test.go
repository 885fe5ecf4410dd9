package difftest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb"
	"github.com/bpfdb/bpfdb/internal/sql/ast"
	"github.com/bpfdb/bpfdb/internal/sql/parser"
	"github.com/bpfdb/bpfdb/internal/types"
)

var queries = flag.Int("queries", 400, "random queries to run")

// TestSubqueries runs random queries through the engine and the reference
// evaluator and compares the results as multisets. The seed is logged; it
// is 1 unless DIFFTEST_SEED gives one ("random": a new one each run), so
// that a plain go test run is repeatable.
//
//	DIFFTEST_SEED=random go test ./internal/planner/difftest -queries 5000
func TestSubqueries(t *testing.T) {
	seed := uint64(1)
	if s := os.Getenv("DIFFTEST_SEED"); s == "random" {
		seed = uint64(rand.Int64())
	} else if s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("DIFFTEST_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (rerun with DIFFTEST_SEED=%d)", seed, seed)
	r := rand.New(rand.NewPCG(seed, seed^0x2545f4914f6cdd1d))

	ctx := context.Background()
	db, err := bpfdb.Open("", bpfdb.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ref := &reference{tables: map[string]*table{}}
	var setup []string
	for _, name := range []string{"t", "u", "w"} {
		tbl := &table{cols: []string{"a", "b"}}
		var vals []string
		for range 4 + r.IntN(6) {
			row := make([]val, 2)
			var lits []string
			for j := range row {
				if r.IntN(6) == 0 {
					row[j] = val{null: true}
					lits = append(lits, "NULL")
				} else {
					row[j] = val{v: int64(r.IntN(5))}
					lits = append(lits, strconv.FormatInt(row[j].v, 10))
				}
			}
			tbl.rows = append(tbl.rows, row)
			vals = append(vals, "("+strings.Join(lits, ", ")+")")
		}
		ref.tables[name] = tbl
		sql := fmt.Sprintf("CREATE TABLE %s (a INTEGER, b INTEGER); INSERT INTO %s VALUES %s", name, name, strings.Join(vals, ", "))
		if err := db.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		setup = append(setup, sql)
	}

	g := &gen{r: r}
	compared, unsupported, flaky := 0, 0, 0
	for range *queries {
		g.n = 0
		src := g.query(0, nil)
		st, err := parser.ParseOne(src)
		if err != nil {
			t.Fatalf("generated query does not parse: %v\n%s", err, src)
		}
		want, werr := ref.query(st.(*ast.SelectStmt).Query, nil)
		wantText := make([]string, len(want))
		for i, row := range want {
			var cells []string
			for _, v := range row {
				cells = append(cells, v.String())
			}
			wantText[i] = strings.Join(cells, " ")
		}
		slices.Sort(wantText)
		// A plan is the same every time its query is bound: if another
		// run of the same query gives the reference's rows, what varied
		// is the engine, not the meaning of the plan.
		rerun := func() bool {
			for range 3 {
				if res, err := db.Query(ctx, src); err == nil && werr == nil && slices.Equal(rowsText(res), wantText) {
					return true
				}
			}
			return false
		}
		res, err := db.Query(ctx, src)
		if err != nil {
			if strings.Contains(err.Error(), "not supported") {
				unsupported++
				continue
			}
			if rerun() {
				t.Logf("%s\nengine failed once: %v; ran as the reference on another try", src, err)
				flaky++
				continue
			}
			t.Fatalf("%s\nengine: %v (reference: %v)\ntables: %s", src, err, werr, strings.Join(setup, "; "))
		}
		if werr != nil {
			t.Fatalf("%s\nreference: %v, but the engine returned %d rows", src, werr, res.Rows())
		}
		got := rowsText(res)
		if !slices.Equal(got, wantText) {
			if rerun() {
				t.Logf("%s\nengine returned %q once, then %q (as the reference)", src, got, wantText)
				flaky++
				continue
			}
			res, _ := db.Query(ctx, "EXPLAIN "+src)
			var plan []string
			if res != nil {
				for i := range res.Rows() {
					plan = append(plan, res.Value(i, 0).String())
				}
			}
			t.Fatalf("%s\nengine:    %q\nreference: %q\ntables: %s\n%s", src, got, wantText, strings.Join(setup, "; "), strings.Join(plan, "\n"))
		}
		compared++
	}
	t.Logf("%d queries compared, %d not supported, %d failed or differed in the engine only once (not a question of the plan)", compared, unsupported, flaky)
}

// rowsText renders a result's rows, sorted.
func rowsText(res *bpfdb.Result) []string {
	out := make([]string, res.Rows())
	for i := range out {
		var cells []string
		for _, v := range res.Row(i) {
			cells = append(cells, engineText(v))
		}
		out[i] = strings.Join(cells, " ")
	}
	slices.Sort(out)
	return out
}

// engineText renders an integer result the way val.String does.
func engineText(v types.Value) string {
	if v.IsNull() {
		return "NULL"
	}
	return v.String()
}

// ---- the reference evaluator ----

// val is an integer or NULL.
type val struct {
	null bool
	v    int64
}

func (v val) String() string {
	if v.null {
		return "NULL"
	}
	return strconv.FormatInt(v.v, 10)
}

// tri is a truth value of three-valued logic.
type tri uint8

const (
	falseT tri = iota
	trueT
	unknownT
)

type table struct {
	cols []string
	rows [][]val
}

// env is one row of a FROM clause, with its qualified column names, and
// the row of the enclosing query (for correlated references).
type env struct {
	names []string
	vals  []val
	outer *env
}

func (e *env) lookup(name string) (val, error) {
	for x := e; x != nil; x = x.outer {
		for i, n := range x.names {
			if n == name {
				return x.vals[i], nil
			}
		}
	}
	return val{}, fmt.Errorf("reference: no column %s", name)
}

// rel is the rows of a FROM item under qualified names.
type rel struct {
	names []string
	rows  [][]val
}

type reference struct {
	tables map[string]*table
}

var errRef = errors.New("reference evaluation failed")

func (r *reference) query(q *ast.Query, outer *env) ([][]val, error) {
	return r.body(q.Body, outer)
}

func (r *reference) body(b ast.QueryBody, outer *env) ([][]val, error) {
	switch b := b.(type) {
	case *ast.Select:
		return r.sel(b, outer)
	case *ast.Query:
		return r.query(b, outer)
	case *ast.SetOp:
		if b.Op != ast.Union || !b.All {
			return nil, fmt.Errorf("%w: set operation %v", errRef, b.Op)
		}
		l, err := r.body(b.Left, outer)
		if err != nil {
			return nil, err
		}
		rr, err := r.body(b.Right, outer)
		if err != nil {
			return nil, err
		}
		return append(l, rr...), nil
	}
	return nil, fmt.Errorf("%w: body %T", errRef, b)
}

func (r *reference) from(t ast.TableExpr, outer *env) (rel, error) {
	switch t := t.(type) {
	case *ast.TableRef:
		tbl := r.tables[t.Name.Name]
		alias := t.Name.Name
		if t.Alias != nil {
			alias = t.Alias.Name
		}
		out := rel{rows: tbl.rows}
		for _, c := range tbl.cols {
			out.names = append(out.names, alias+"."+c)
		}
		return out, nil
	case *ast.SubqueryRef:
		rows, err := r.query(t.Query, nil)
		if err != nil {
			return rel{}, err
		}
		out := rel{rows: rows}
		for _, it := range t.Query.Body.(*ast.Select).Columns {
			out.names = append(out.names, t.Alias.Name+"."+it.Alias)
		}
		return out, nil
	case *ast.Join:
		l, err := r.from(t.Left, outer)
		if err != nil {
			return rel{}, err
		}
		rr, err := r.from(t.Right, outer)
		if err != nil {
			return rel{}, err
		}
		out := rel{names: append(append([]string(nil), l.names...), rr.names...)}
		nulls := func(n int) []val {
			v := make([]val, n)
			for i := range v {
				v[i].null = true
			}
			return v
		}
		matchedR := make([]bool, len(rr.rows))
		for _, lrow := range l.rows {
			matched := false
			for j, rrow := range rr.rows {
				row := append(append([]val(nil), lrow...), rrow...)
				ok, err := r.boolean(t.On, &env{names: out.names, vals: row, outer: outer})
				if err != nil {
					return rel{}, err
				}
				if ok == trueT {
					out.rows = append(out.rows, row)
					matched, matchedR[j] = true, true
				}
			}
			if !matched && t.Kind == ast.JoinLeft {
				out.rows = append(out.rows, append(append([]val(nil), lrow...), nulls(len(rr.names))...))
			}
		}
		if t.Kind == ast.JoinRight {
			for j, rrow := range rr.rows {
				if !matchedR[j] {
					out.rows = append(out.rows, append(nulls(len(l.names)), rrow...))
				}
			}
		}
		return out, nil
	}
	return rel{}, fmt.Errorf("%w: FROM %T", errRef, t)
}

func (r *reference) sel(s *ast.Select, outer *env) ([][]val, error) {
	cur := rel{rows: [][]val{{}}}
	for _, item := range s.From {
		f, err := r.from(item, outer)
		if err != nil {
			return nil, err
		}
		next := rel{names: append(append([]string(nil), cur.names...), f.names...)}
		for _, a := range cur.rows {
			for _, b := range f.rows {
				next.rows = append(next.rows, append(append([]val(nil), a...), b...))
			}
		}
		cur = next
	}
	var rows []*env
	for _, row := range cur.rows {
		e := &env{names: cur.names, vals: row, outer: outer}
		if s.Where != nil {
			ok, err := r.boolean(s.Where, e)
			if err != nil {
				return nil, err
			}
			if ok != trueT {
				continue
			}
		}
		rows = append(rows, e)
	}
	aggregated := len(s.GroupBy) > 0 || s.Having != nil
	for _, it := range s.Columns {
		aggregated = aggregated || hasAgg(it.Expr)
	}
	var out [][]val
	if !aggregated {
		for _, e := range rows {
			var row []val
			for _, it := range s.Columns {
				v, err := r.eval(it.Expr, e)
				if err != nil {
					return nil, err
				}
				row = append(row, v)
			}
			out = append(out, row)
		}
		return out, nil
	}
	var groups [][]*env
	if len(s.GroupBy) == 0 {
		groups = [][]*env{rows}
	} else {
		index := map[string]int{}
		for _, e := range rows {
			var key []string
			for _, g := range s.GroupBy {
				v, err := r.eval(g, e)
				if err != nil {
					return nil, err
				}
				key = append(key, v.String())
			}
			k := strings.Join(key, ",")
			i, ok := index[k]
			if !ok {
				i = len(groups)
				index[k] = i
				groups = append(groups, nil)
			}
			groups[i] = append(groups[i], e)
		}
	}
	for _, grp := range groups {
		if s.Having != nil {
			ok, err := r.aggBool(s.Having, grp)
			if err != nil {
				return nil, err
			}
			if ok != trueT {
				continue
			}
		}
		var row []val
		for _, it := range s.Columns {
			v, err := r.aggEval(it.Expr, grp)
			if err != nil {
				return nil, err
			}
			row = append(row, v)
		}
		out = append(out, row)
	}
	return out, nil
}

func hasAgg(e ast.Expr) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SubqueryExpr, *ast.ExistsExpr, *ast.InSubqueryExpr:
			return false
		case *ast.FuncCall:
			if n.Name != "coalesce" {
				found = true
			}
		}
		return !found
	})
	return found
}

// aggEval evaluates a post-aggregation expression over a group.
func (r *reference) aggEval(e ast.Expr, grp []*env) (val, error) {
	switch e := e.(type) {
	case *ast.FuncCall:
		if e.Name == "coalesce" {
			break
		}
		var vals []val
		for _, row := range grp {
			if e.Star {
				vals = append(vals, val{})
				continue
			}
			v, err := r.eval(e.Args[0], row)
			if err != nil {
				return val{}, err
			}
			if !v.null {
				vals = append(vals, v)
			}
		}
		switch e.Name {
		case "count":
			return val{v: int64(len(vals))}, nil
		case "sum", "max":
			if len(vals) == 0 {
				return val{null: true}, nil
			}
			acc := vals[0].v
			for _, v := range vals[1:] {
				if e.Name == "sum" {
					acc += v.v
				} else {
					acc = max(acc, v.v)
				}
			}
			return val{v: acc}, nil
		}
		return val{}, fmt.Errorf("%w: aggregate %s", errRef, e.Name)
	case *ast.BinaryExpr:
		l, err := r.aggEval(e.L, grp)
		if err != nil {
			return val{}, err
		}
		rr, err := r.aggEval(e.R, grp)
		if err != nil {
			return val{}, err
		}
		return arith(e.Op, l, rr)
	case *ast.NumberLit:
		return r.eval(e, nil)
	}
	if len(grp) == 0 {
		return val{}, fmt.Errorf("%w: %s over no rows", errRef, ast.Format(e))
	}
	return r.eval(e, grp[0]) // a group column
}

func (r *reference) aggBool(e ast.Expr, grp []*env) (tri, error) {
	b, ok := e.(*ast.BinaryExpr)
	if !ok {
		return 0, fmt.Errorf("%w: HAVING %s", errRef, ast.Format(e))
	}
	l, err := r.aggEval(b.L, grp)
	if err != nil {
		return 0, err
	}
	rr, err := r.aggEval(b.R, grp)
	if err != nil {
		return 0, err
	}
	return compare(b.Op, l, rr)
}

func arith(op ast.BinaryOp, l, r val) (val, error) {
	if l.null || r.null {
		return val{null: true}, nil
	}
	switch op {
	case ast.OpAdd:
		return val{v: l.v + r.v}, nil
	case ast.OpSub:
		return val{v: l.v - r.v}, nil
	case ast.OpMul:
		return val{v: l.v * r.v}, nil
	}
	return val{}, fmt.Errorf("%w: operator %v", errRef, op)
}

func compare(op ast.BinaryOp, l, r val) (tri, error) {
	if l.null || r.null {
		return unknownT, nil
	}
	var ok bool
	switch op {
	case ast.OpEq:
		ok = l.v == r.v
	case ast.OpNe:
		ok = l.v != r.v
	case ast.OpLt:
		ok = l.v < r.v
	case ast.OpLe:
		ok = l.v <= r.v
	case ast.OpGt:
		ok = l.v > r.v
	case ast.OpGe:
		ok = l.v >= r.v
	default:
		return 0, fmt.Errorf("%w: comparison %v", errRef, op)
	}
	if ok {
		return trueT, nil
	}
	return falseT, nil
}

func (r *reference) eval(e ast.Expr, en *env) (val, error) {
	switch e := e.(type) {
	case *ast.ColumnRef:
		return en.lookup(strings.Join(e.Parts, "."))
	case *ast.NumberLit:
		v, err := strconv.ParseInt(e.Text, 10, 64)
		return val{v: v}, err
	case *ast.UnaryExpr:
		if e.Op == ast.OpNeg {
			v, err := r.eval(e.X, en)
			if err != nil || v.null {
				return v, err
			}
			return val{v: -v.v}, nil
		}
	case *ast.BinaryExpr:
		l, err := r.eval(e.L, en)
		if err != nil {
			return val{}, err
		}
		rr, err := r.eval(e.R, en)
		if err != nil {
			return val{}, err
		}
		return arith(e.Op, l, rr)
	case *ast.CaseExpr:
		for _, w := range e.Whens {
			ok, err := r.boolean(w.Cond, en)
			if err != nil {
				return val{}, err
			}
			if ok == trueT {
				return r.eval(w.Result, en)
			}
		}
		if e.Else == nil {
			return val{null: true}, nil
		}
		return r.eval(e.Else, en)
	case *ast.FuncCall:
		if e.Name == "coalesce" {
			for _, a := range e.Args {
				v, err := r.eval(a, en)
				if err != nil || !v.null {
					return v, err
				}
			}
			return val{null: true}, nil
		}
	case *ast.SubqueryExpr:
		rows, err := r.query(e.Query, en)
		if err != nil {
			return val{}, err
		}
		switch len(rows) {
		case 0:
			return val{null: true}, nil
		case 1:
			return rows[0][0], nil
		}
		return val{}, fmt.Errorf("more than one row returned by a subquery used as an expression")
	}
	return val{}, fmt.Errorf("%w: expression %s", errRef, ast.Format(e))
}

func (r *reference) boolean(e ast.Expr, en *env) (tri, error) {
	switch e := e.(type) {
	case *ast.BinaryExpr:
		switch e.Op {
		case ast.OpAnd, ast.OpOr:
			l, err := r.boolean(e.L, en)
			if err != nil {
				return 0, err
			}
			rr, err := r.boolean(e.R, en)
			if err != nil {
				return 0, err
			}
			if e.Op == ast.OpAnd {
				switch {
				case l == falseT || rr == falseT:
					return falseT, nil
				case l == trueT && rr == trueT:
					return trueT, nil
				}
				return unknownT, nil
			}
			switch {
			case l == trueT || rr == trueT:
				return trueT, nil
			case l == falseT && rr == falseT:
				return falseT, nil
			}
			return unknownT, nil
		}
		l, err := r.eval(e.L, en)
		if err != nil {
			return 0, err
		}
		rr, err := r.eval(e.R, en)
		if err != nil {
			return 0, err
		}
		return compare(e.Op, l, rr)
	case *ast.UnaryExpr:
		if e.Op == ast.OpNot {
			v, err := r.boolean(e.X, en)
			return not3(v), err
		}
	case *ast.IsNullExpr:
		v, err := r.eval(e.X, en)
		if err != nil {
			return 0, err
		}
		if v.null != e.Not {
			return trueT, nil
		}
		return falseT, nil
	case *ast.ExistsExpr:
		rows, err := r.query(e.Query, en)
		if err != nil {
			return 0, err
		}
		if len(rows) > 0 {
			return trueT, nil
		}
		return falseT, nil
	case *ast.InListExpr, *ast.InSubqueryExpr:
		var x ast.Expr
		var not bool
		var set []val
		switch e := e.(type) {
		case *ast.InListExpr:
			x, not = e.X, e.Not
			for _, it := range e.List {
				v, err := r.eval(it, en)
				if err != nil {
					return 0, err
				}
				set = append(set, v)
			}
		case *ast.InSubqueryExpr:
			x, not = e.X, e.Not
			rows, err := r.query(e.Query, en)
			if err != nil {
				return 0, err
			}
			for _, row := range rows {
				set = append(set, row[0])
			}
		}
		v, err := r.eval(x, en)
		if err != nil {
			return 0, err
		}
		res := falseT
		for _, s := range set {
			c, _ := compare(ast.OpEq, v, s)
			if c == trueT {
				res = trueT
				break
			}
			if c == unknownT {
				res = unknownT
			}
		}
		if not {
			res = not3(res)
		}
		return res, nil
	}
	return 0, fmt.Errorf("%w: condition %s", errRef, ast.Format(e))
}

func not3(v tri) tri {
	switch v {
	case trueT:
		return falseT
	case falseT:
		return trueT
	}
	return unknownT
}

// ---- the query generator ----

// gen writes random queries over t, u and w (columns a and b, integers).
type gen struct {
	r *rand.Rand
	n int // aliases used so far
}

func (g *gen) pick(n int) int { return g.r.IntN(n) }

// from returns a FROM clause and the aliases it brings into scope.
func (g *gen) from(depth int) (string, []string) {
	var parts, aliases []string
	for i := range 1 + g.pick(2) {
		name := []string{"t", "u", "w"}[g.pick(3)]
		g.n++
		alias := fmt.Sprintf("r%d", g.n)
		item := name + " " + alias
		if depth < 2 && g.pick(8) == 0 {
			item = fmt.Sprintf("(SELECT x.a AS a, x.a + 1 AS b FROM %s x) %s", name, alias)
		}
		if i > 0 && g.pick(2) == 0 {
			kind := []string{"JOIN", "LEFT JOIN", "RIGHT JOIN"}[g.pick(3)]
			prev := aliases[len(aliases)-1]
			parts[len(parts)-1] += fmt.Sprintf(" %s %s ON %s.a = %s.a", kind, item, prev, alias)
		} else {
			parts = append(parts, item)
		}
		aliases = append(aliases, alias)
	}
	return strings.Join(parts, ", "), aliases
}

func (g *gen) col(aliases []string) string {
	return aliases[g.pick(len(aliases))] + "." + []string{"a", "b"}[g.pick(2)]
}

// colOf picks a column of rels, or sometimes of outer.
func (g *gen) colOf(rels, outer []string) string {
	if len(outer) > 0 && g.pick(3) == 0 {
		return g.col(outer)
	}
	return g.col(rels)
}

func (g *gen) intExpr(depth int, rels, outer []string) string {
	switch n := g.pick(10); {
	case n < 4 || depth > 2:
		return g.colOf(rels, outer)
	case n == 4:
		return strconv.Itoa(g.pick(5))
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

func (g *gen) boolExpr(depth int, rels, outer []string) string {
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
		return g.intExpr(depth+1, rels, outer) + " " + not + "IN (" + g.subquery(depth+1, rels, false) + ")"
	case n == 8:
		return g.intExpr(depth+1, rels, outer) + " IN (1, 2, 3)"
	default:
		return g.colOf(rels, outer) + " IS NULL"
	}
}

// subquery returns a one-column subquery correlated with outer (mostly);
// a scalar one is an aggregate without GROUP BY, so that it always has
// exactly one row.
func (g *gen) subquery(depth int, outer []string, scalar bool) string {
	from, rels := g.from(depth)
	var where []string
	if g.pick(4) != 0 {
		op := []string{"=", "=", "=", "<", "<>"}[g.pick(5)]
		where = append(where, g.col(rels)+" "+op+" "+g.col(outer))
	}
	if depth < 3 && g.pick(3) == 0 {
		where = append(where, g.boolExpr(depth+1, rels, nil))
	}
	sel := g.col(rels)
	if scalar || g.pick(3) == 0 {
		sel = []string{"count(*)", "max(" + g.col(rels) + ") + 1", "count(" + g.col(rels) + ")", "sum(" + g.col(rels) + ")"}[g.pick(4)]
	}
	q := "SELECT " + sel + " FROM " + from
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return q
}

// query returns a top-level query.
func (g *gen) query(depth int, outer []string) string {
	from, rels := g.from(depth)
	var sel []string
	aggregated := g.pick(3) == 0
	var group string
	if aggregated {
		group = g.col(rels)
		sel = append(sel, group, "count(*)", "sum("+g.intExpr(depth+1, rels, nil)+")")
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
		q += " GROUP BY " + group
		if g.pick(2) == 0 {
			q += " HAVING count(*) > " + strconv.Itoa(g.pick(3))
		}
	}
	if g.pick(5) == 0 {
		q += " UNION ALL SELECT " + strings.Repeat("1, ", len(sel)-1) + "1"
	}
	return q
}
