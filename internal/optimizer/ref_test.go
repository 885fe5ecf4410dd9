package optimizer

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/planner"
	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// A reference interpreter of logical plans, row at a time, with
// expressions evaluated by package expr's kernels: the oracle that says an
// optimized plan computes what the plan it came from did.

type row = []types.Value

// errSingle is the error of a single join with two matches.
var errSingle = errors.New("more than one row returned by a subquery used as an expression")

// evalExpr evaluates e over rows whose columns are cols.
func evalExpr(e expr.Expr, cols []planner.Column, rows []row) ([]types.Value, error) {
	pos := map[planner.ColumnID]int{}
	for i, c := range cols {
		pos[c.ID] = i
	}
	var bad error
	local, _ := expr.Rewrite(e, func(x expr.Expr) (expr.Expr, error) {
		if c, ok := x.(*expr.Column); ok {
			i, ok := pos[planner.ColumnID(c.Index)]
			if !ok {
				bad = fmt.Errorf("BUG: %v reads column #%d, not among %v", e, c.Index, cols)
				return x, nil
			}
			return expr.NewColumn(i, c.Name, c.T, c.At), nil
		}
		return x, nil
	})
	if bad != nil {
		return nil, bad
	}
	ev, err := expr.Compile(local)
	if err != nil {
		return nil, err
	}
	ts := make([]types.Type, len(cols))
	for i, c := range cols {
		ts[i] = c.Type
	}
	out := make([]types.Value, 0, len(rows))
	v := vector.New(e.Type())
	for start := 0; start < len(rows); start += vector.Size {
		ch := vector.NewChunk(ts)
		for _, r := range rows[start:min(start+vector.Size, len(rows))] {
			ch.AppendRow(r...)
		}
		if err := ev.Eval(ch, v); err != nil {
			return nil, err
		}
		for i := range ch.Len() {
			out = append(out, v.Value(i))
		}
	}
	return out, nil
}

func isTrue(v types.Value) bool { return !v.IsNull() && v.Bool() }

// run evaluates n.
func run(n planner.Node) ([]row, error) {
	switch n := n.(type) {
	case *planner.Get:
		sc, err := n.Table.Scan(table.ScanOptions{Columns: n.TableColumns, Filters: n.ZoneFilters})
		if err != nil {
			return nil, err
		}
		var rows []row
		ch := sc.NewChunk()
		for {
			ok, err := sc.Next(ch)
			if err != nil {
				return nil, err
			}
			if !ok {
				break
			}
			for r := range ch.Len() {
				x := make(row, ch.Width())
				for j := range x {
					x[j] = ch.Value(j, r)
				}
				rows = append(rows, x)
			}
		}
		for _, f := range n.Filters {
			if rows, err = filter(rows, n.Columns, f); err != nil {
				return nil, err
			}
		}
		return rows, nil
	case *planner.Filter:
		in, err := run(n.Input)
		if err != nil {
			return nil, err
		}
		return filter(in, n.Input.Output(), n.Cond)
	case *planner.Project:
		in, err := run(n.Input)
		if err != nil {
			return nil, err
		}
		out := make([]row, len(in))
		for i := range out {
			out[i] = make(row, len(n.Exprs))
		}
		for j, e := range n.Exprs {
			vs, err := evalExpr(e, n.Input.Output(), in)
			if err != nil {
				return nil, err
			}
			for i, v := range vs {
				out[i][j] = v
			}
		}
		return out, nil
	case *planner.Aggregate:
		return runAggregate(n)
	case *planner.Join:
		return runJoin(n)
	case *planner.Order:
		in, err := run(n.Input)
		if err != nil {
			return nil, err
		}
		return sortRows(in, n.Input.Output(), n.Keys)
	case *planner.Limit:
		in, err := run(n.Input)
		if err != nil {
			return nil, err
		}
		return limit(in, n.Count, n.Offset), nil
	case *planner.TopN:
		in, err := run(n.Input)
		if err != nil {
			return nil, err
		}
		s, err := sortRows(in, n.Input.Output(), n.Keys)
		if err != nil {
			return nil, err
		}
		return limit(s, n.Count, n.Offset), nil
	case *planner.Union:
		var out []row
		for _, b := range n.Branches {
			rows, err := run(b)
			if err != nil {
				return nil, err
			}
			out = append(out, rows...)
		}
		return out, nil
	case *planner.Values:
		var out []row
		for _, r := range n.Rows {
			x := make(row, len(r))
			for j, e := range r {
				vs, err := evalExpr(e, nil, []row{{}})
				if err != nil {
					return nil, err
				}
				x[j] = vs[0]
			}
			out = append(out, x)
		}
		return out, nil
	}
	return nil, fmt.Errorf("BUG: run %T", n)
}

func filter(rows []row, cols []planner.Column, cond expr.Expr) ([]row, error) {
	vs, err := evalExpr(cond, cols, rows)
	if err != nil {
		return nil, err
	}
	var out []row
	for i, v := range vs {
		if isTrue(v) {
			out = append(out, rows[i])
		}
	}
	return out, nil
}

func limit(rows []row, count, offset int64) []row {
	if offset >= int64(len(rows)) {
		return nil
	}
	rows = rows[offset:]
	if count >= 0 && count < int64(len(rows)) {
		rows = rows[:count]
	}
	return rows
}

func sortRows(rows []row, cols []planner.Column, keys []planner.SortKey) ([]row, error) {
	kv := make([][]types.Value, len(keys))
	for i, k := range keys {
		var err error
		if kv[i], err = evalExpr(k.Expr, cols, rows); err != nil {
			return nil, err
		}
	}
	idx := make([]int, len(rows))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		for i, k := range keys {
			x, y := kv[i][a], kv[i][b]
			if x.IsNull() != y.IsNull() {
				if x.IsNull() == k.NullsFirst {
					return -1
				}
				return 1
			}
			c := types.Compare(x, y)
			if k.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	out := make([]row, len(rows))
	for i, j := range idx {
		out[i] = rows[j]
	}
	return out, nil
}

// groupKey is a map key for a list of values (type, NULL and value).
func groupKey(vs []types.Value) string {
	var b strings.Builder
	for _, v := range vs {
		if v.IsNull() {
			b.WriteString("N|")
		} else {
			fmt.Fprintf(&b, "%v:%s|", v.Type(), v)
		}
	}
	return b.String()
}

func runAggregate(n *planner.Aggregate) ([]row, error) {
	in, err := run(n.Input)
	if err != nil {
		return nil, err
	}
	cols := n.Input.Output()
	gv := make([][]types.Value, len(n.Groups))
	for i, g := range n.Groups {
		if gv[i], err = evalExpr(g, cols, in); err != nil {
			return nil, err
		}
	}
	av := make([][]types.Value, len(n.Aggs))
	for i, a := range n.Aggs {
		if a.Arg != nil {
			if av[i], err = evalExpr(a.Arg, cols, in); err != nil {
				return nil, err
			}
		}
	}
	type group struct {
		keys []types.Value
		rows []int
	}
	var order []string
	groups := map[string]*group{}
	for r := range in {
		keys := make([]types.Value, len(n.Groups))
		for i := range keys {
			keys[i] = gv[i][r]
		}
		k := groupKey(keys)
		g := groups[k]
		if g == nil {
			g = &group{keys: keys}
			groups[k] = g
			order = append(order, k)
		}
		g.rows = append(g.rows, r)
	}
	if len(n.Groups) == 0 && len(groups) == 0 {
		groups[""] = &group{}
		order = append(order, "")
	}
	// Each aggregate runs on the engine's own kernels, one state per
	// group, fed the group's argument values.
	kernels := make([]*expr.Aggregate, len(n.Aggs))
	for i, a := range n.Aggs {
		spec := expr.AggSpec{Kind: a.Kind, Distinct: a.Distinct, Text: a.Text}
		if a.Arg != nil {
			spec.ArgType = a.Arg.Type()
		}
		if kernels[i], err = expr.NewAggregate(spec); err != nil {
			return nil, err
		}
		if kernels[i].Type() != a.Column.Type {
			return nil, fmt.Errorf("BUG: aggregate %s is %v, its column %v", a.Text, kernels[i].Type(), a.Column.Type)
		}
	}
	var out []row
	for _, k := range order {
		g := groups[k]
		x := append(row(nil), g.keys...)
		for i, a := range n.Aggs {
			argType := types.BigIntType
			if a.Arg != nil {
				argType = a.Arg.Type()
			}
			state := make([]byte, kernels[i].StateSize())
			kernels[i].Init(state)
			for start := 0; start < len(g.rows); start += vector.Size {
				ch := vector.NewChunk([]types.Type{argType})
				for _, r := range g.rows[start:min(start+vector.Size, len(g.rows))] {
					v := types.Null(argType)
					if a.Arg != nil {
						v = av[i][r]
					}
					ch.AppendRow(v)
				}
				if err := kernels[i].UpdateState(ch, state); err != nil {
					return nil, err
				}
			}
			res := vector.New(a.Column.Type)
			if err := kernels[i].Finalize(state, res, 0); err != nil {
				return nil, err
			}
			x = append(x, res.Value(0))
		}
		out = append(out, x)
	}
	return out, nil
}

func runJoin(n *planner.Join) ([]row, error) {
	left, err := run(n.Left)
	if err != nil {
		return nil, err
	}
	right, err := run(n.Right)
	if err != nil {
		return nil, err
	}
	lcols, rcols := n.Left.Output(), n.Right.Output()
	both := append(append([]planner.Column(nil), lcols...), rcols...)
	lk := make([][]types.Value, len(n.Conds))
	rk := make([][]types.Value, len(n.Conds))
	for i, c := range n.Conds {
		if lk[i], err = evalExpr(c.Left, lcols, left); err != nil {
			return nil, err
		}
		if rk[i], err = evalExpr(c.Right, rcols, right); err != nil {
			return nil, err
		}
	}
	// All pairs whose keys are equal (NULL equals nothing), then the
	// residual on them.
	var pairs []row
	var pairIdx [][2]int
	for i := range left {
	pair:
		for j := range right {
			for c := range n.Conds {
				x, y := lk[c][i], rk[c][j]
				if x.IsNull() || y.IsNull() || types.Compare(x, y) != 0 {
					continue pair
				}
			}
			pairs = append(pairs, append(append(row(nil), left[i]...), right[j]...))
			pairIdx = append(pairIdx, [2]int{i, j})
		}
	}
	if n.Residual != nil {
		vs, err := evalExpr(n.Residual, both, pairs)
		if err != nil {
			return nil, err
		}
		var keep []row
		var keepIdx [][2]int
		for k, v := range vs {
			if isTrue(v) {
				keep = append(keep, pairs[k])
				keepIdx = append(keepIdx, pairIdx[k])
			}
		}
		pairs, pairIdx = keep, keepIdx
	}
	matches := make([][]int, len(left))
	for k, p := range pairIdx {
		matches[p[0]] = append(matches[p[0]], k)
	}
	nulls := func() row {
		x := make(row, len(rcols))
		for j, c := range rcols {
			x[j] = types.Null(c.Type)
		}
		return x
	}
	var out []row
	switch n.Kind {
	case planner.Inner, planner.Cross:
		return pairs, nil
	case planner.LeftOuter, planner.Single:
		for i, l := range left {
			switch {
			case len(matches[i]) == 0:
				out = append(out, append(append(row(nil), l...), nulls()...))
			case n.Kind == planner.Single && len(matches[i]) > 1:
				return nil, errSingle
			default:
				for _, k := range matches[i] {
					out = append(out, pairs[k])
				}
			}
		}
	case planner.Semi, planner.Anti:
		for i, l := range left {
			if (len(matches[i]) > 0) == (n.Kind == planner.Semi) {
				out = append(out, l)
			}
		}
	case planner.Mark:
		for i, l := range left {
			m := types.BoolValue(len(matches[i]) > 0)
			if len(matches[i]) == 0 && len(right) > 0 {
				for c := range n.Conds {
					if lk[c][i].IsNull() || slices.ContainsFunc(rk[c], types.Value.IsNull) {
						m = types.Null(types.BooleanType)
					}
				}
			}
			out = append(out, append(append(row(nil), l...), m))
		}
	default:
		return nil, fmt.Errorf("BUG: join kind %v", n.Kind)
	}
	return out, nil
}

// result runs p and returns its Result columns, rows as text, sorted.
func result(p *planner.Plan) ([]string, error) {
	rows, err := run(p.Root)
	if err != nil {
		return nil, err
	}
	pos := map[planner.ColumnID]int{}
	for i, c := range p.Root.Output() {
		pos[c.ID] = i
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		var parts []string
		for _, c := range p.Result {
			parts = append(parts, r[pos[c.ID]].String())
		}
		out[i] = strings.Join(parts, "|")
	}
	slices.Sort(out)
	return out, nil
}
