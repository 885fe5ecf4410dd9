package planner

import (
	"strconv"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/sql/ast"
	"github.com/bpfdb/bpfdb/internal/types"
)

// selItem is one item of a select list after * is expanded.
type selItem struct {
	e     ast.Expr // nil for a column of *
	col   Column   // the column of *
	name  string   // the result column's name
	pos   ast.Pos
	alias bool // name is an alias the query wrote
}

// bindSelect binds a SELECT block and its ORDER BY:
//
//	Order                       ORDER BY (keys are columns of what is below)
//	  Aggregate (DISTINCT)      groups = the select list
//	    Project                 select list, then ORDER BY keys not in it
//	      [joins of subqueries in SELECT, HAVING, ORDER BY]
//	        Filter              HAVING
//	          Aggregate         GROUP BY and the aggregates
//	            Filter          WHERE (conjuncts without subqueries)
//	              [semi/anti joins of EXISTS and IN conjuncts, other subqueries' joins]
//	                FROM items, cross joined left to right
func (b *binder) bindSelect(sel *ast.Select, orderBy []*ast.OrderItem, outer *scope, corr *corrSet) (boundQuery, error) {
	sc := &scope{outer: outer, corr: corr}
	var plan Node
	if len(sel.From) == 0 {
		plan = &Values{Rows: [][]expr.Expr{{}}}
	}
	for _, item := range sel.From {
		node, rels, err := b.bindFrom(item, sc)
		if err != nil {
			return boundQuery{}, err
		}
		if err := addRelations(sc, rels, item.Pos()); err != nil {
			return boundQuery{}, err
		}
		if plan == nil {
			plan = node
		} else {
			plan = &Join{Kind: Cross, Left: plan, Right: node}
		}
	}
	if sel.Where != nil {
		if err := b.bindWhere(sc, &plan, sel.Where); err != nil {
			return boundQuery{}, err
		}
	}

	var items []selItem
	for _, it := range sel.Columns {
		if st, ok := it.Expr.(*ast.Star); ok {
			cols, err := sc.star(st)
			if err != nil {
				return boundQuery{}, err
			}
			for _, c := range cols {
				items = append(items, selItem{col: c.col, name: c.name, pos: st.At})
			}
			continue
		}
		name := it.Alias
		if name == "" {
			name = resultName(it.Expr)
		}
		items = append(items, selItem{e: it.Expr, name: name, pos: it.Expr.Pos(), alias: it.Alias != ""})
	}

	aggregated := len(sel.GroupBy) > 0 || sel.Having != nil
	for _, it := range items {
		aggregated = aggregated || (it.e != nil && findAgg(it.e) != nil)
	}
	for _, o := range orderBy {
		aggregated = aggregated || findAgg(o.Expr) != nil
	}

	input := &plan
	ctx := &exprCtx{b: b, scope: sc, input: input, clause: "SELECT"}
	var agg *aggState
	if aggregated {
		agg = &aggState{node: &Aggregate{Input: plan}, aggKeys: map[string]int{}}
		if err := b.bindGroups(sel.GroupBy, items, sc, agg); err != nil {
			return boundQuery{}, err
		}
		agg.active = true
		sc.agg = agg
		post := Node(agg.node)
		input = &post
		ctx = &exprCtx{b: b, scope: sc, input: input, agg: agg, clause: "SELECT"}
		if sel.Having != nil {
			hc := *ctx
			hc.clause = "HAVING"
			cond, err := hc.bindBool(sel.Having, "HAVING")
			if err != nil {
				return boundQuery{}, err
			}
			post = &Filter{Input: post, Cond: cond}
		}
	}

	exprs := make([]expr.Expr, len(items))
	keys := make([]string, len(items))
	for i, it := range items {
		var x expr.Expr
		var err error
		switch {
		case it.e != nil:
			x, err = ctx.bind(it.e)
		case agg != nil:
			x, err = agg.groupRef(it.col, it.pos)
		default:
			x = it.col.Ref()
		}
		if err != nil {
			return boundQuery{}, err
		}
		exprs[i], keys[i] = x, exprKey(x)
	}

	// ORDER BY: each key is a select item (by ordinal, by name or by
	// being the same expression) or an extra, hidden column.
	type orderKey struct {
		item  int // select item, or -1
		extra expr.Expr
	}
	oks := make([]orderKey, len(orderBy))
	var extras []expr.Expr
	var extraNames []string
	for i, o := range orderBy {
		item := -1
		switch e := o.Expr.(type) {
		case *ast.NumberLit:
			if e.Kind == ast.NumInteger {
				k, err := strconv.Atoi(e.Text)
				if err != nil || k < 1 || k > len(items) {
					return boundQuery{}, errorf(e.At, ErrInvalid, "ORDER BY position %s is not in select list", e.Text)
				}
				item = k - 1
			}
		case *ast.ColumnRef:
			if len(e.Parts) == 1 {
				for j, it := range items {
					if it.name != e.Parts[0] {
						continue
					}
					if item >= 0 && keys[item] != keys[j] {
						return boundQuery{}, errorf(e.At, ErrAmbiguous, "ORDER BY %q is ambiguous", e.Parts[0])
					}
					if item < 0 {
						item = j
					}
				}
			}
		}
		if item < 0 {
			oc := *ctx
			oc.clause = "ORDER BY"
			x, err := oc.bind(o.Expr)
			if err != nil {
				return boundQuery{}, err
			}
			k := exprKey(x)
			for j := range items {
				if keys[j] == k {
					item = j
					break
				}
			}
			if item < 0 {
				if sel.Distinct {
					return boundQuery{}, errorf(o.Expr.Pos(), ErrInvalid, "for SELECT DISTINCT, ORDER BY expressions must appear in select list")
				}
				oks[i] = orderKey{item: -1, extra: x}
				extras = append(extras, x)
				extraNames = append(extraNames, duckText(o.Expr))
				continue
			}
		}
		oks[i] = orderKey{item: item}
	}

	proj := &Project{Input: *input}
	used := map[ColumnID]bool{}
	add := func(x expr.Expr, name string) Column {
		var col Column
		if c, ok := x.(*expr.Column); ok && !used[ColumnID(c.Index)] {
			col = Column{ID: ColumnID(c.Index), Name: name, Type: c.T}
		} else {
			col = b.newColumn(name, x.Type())
		}
		used[col.ID] = true
		proj.Exprs = append(proj.Exprs, x)
		proj.Columns = append(proj.Columns, col)
		return col
	}
	for i, it := range items {
		add(exprs[i], it.name)
	}
	extraCols := make([]Column, len(extras))
	for i, x := range extras {
		extraCols[i] = add(x, extraNames[i])
	}
	var root Node = proj
	result := proj.Columns[:len(items):len(items)]
	if sel.Distinct {
		d := b.distinct(proj, result)
		root, result = d, d.GroupColumns
	}
	if len(orderBy) > 0 {
		sk := make([]SortKey, len(orderBy))
		next := 0
		for i, ok := range oks {
			var col Column
			if ok.item >= 0 {
				col = result[ok.item]
			} else {
				col = extraCols[next]
				next++
			}
			sk[i] = b.sortKey(col.Ref(), orderBy[i])
		}
		root = &Order{Input: root, Keys: sk}
	}
	return boundQuery{root: root, result: result}, nil
}

// groupRef is a column of * in an aggregated block: it must be grouped.
func (a *aggState) groupRef(c Column, pos ast.Pos) (expr.Expr, error) {
	k := exprKey(c.Ref())
	for i, gk := range a.keys {
		if gk == k {
			return a.node.GroupColumns[i].Ref(), nil
		}
	}
	return nil, errorf(pos, ErrGrouping, "column %q must appear in the GROUP BY clause or be used in an aggregate function", c.Name)
}

// bindGroups binds the GROUP BY list into agg's node: expressions over
// the FROM items, select-list ordinals, or select aliases (an input
// column of the same name wins, as in PostgreSQL).
func (b *binder) bindGroups(groupBy []ast.Expr, items []selItem, sc *scope, agg *aggState) error {
	gc := &exprCtx{b: b, scope: sc, clause: "GROUP BY"}
	for _, g := range groupBy {
		target := g
		var x expr.Expr
		name := ""
		if n, ok := g.(*ast.NumberLit); ok && n.Kind == ast.NumInteger {
			k, err := strconv.Atoi(n.Text)
			if err != nil || k < 1 || k > len(items) {
				return errorf(n.At, ErrInvalid, "GROUP BY position %s is not in select list", n.Text)
			}
			it := items[k-1]
			if it.e == nil {
				x, name = it.col.Ref(), it.col.Name
			}
			target = it.e
		} else if ref, ok := g.(*ast.ColumnRef); ok && len(ref.Parts) == 1 {
			if _, found, _ := sc.find(ref, ref.Parts); !found {
				for _, it := range items {
					if it.alias && it.name == ref.Parts[0] {
						target = it.e
						break
					}
				}
			}
		}
		if x == nil {
			if a := findAgg(target); a != nil {
				return errorf(a.At, ErrGrouping, "aggregate functions are not allowed in GROUP BY")
			}
			if hasSubquery(target) {
				return errorf(target.Pos(), ErrNotSupported, "subqueries in GROUP BY are not supported")
			}
			var err error
			if x, err = gc.bind(target); err != nil {
				return err
			}
			name = resultName(target)
		}
		k := exprKey(x)
		dup := false
		for _, gk := range agg.keys {
			dup = dup || gk == k
		}
		if dup {
			continue
		}
		agg.keys = append(agg.keys, k)
		agg.node.Groups = append(agg.node.Groups, x)
		agg.node.GroupColumns = append(agg.node.GroupColumns, b.newColumn(name, x.Type()))
	}
	return nil
}

// bindWhere binds WHERE over *plan: EXISTS, NOT EXISTS and IN (subquery)
// conjuncts become semi and anti joins, the other conjuncts a Filter.
func (b *binder) bindWhere(sc *scope, plan *Node, where ast.Expr) error {
	if a := findAgg(where); a != nil {
		return errorf(a.At, ErrGrouping, "aggregate functions are not allowed in WHERE")
	}
	ctx := &exprCtx{b: b, scope: sc, input: plan, clause: "WHERE"}
	var preds []expr.Expr
	for _, c := range astConjuncts(where) {
		// A semi or anti join returns no expression; a subquery that
		// could not be one returns the predicate that stands for it.
		var p expr.Expr
		var err error
		planned := true
		switch x := c.(type) {
		case *ast.ExistsExpr:
			p, err = ctx.planExists(x, false, true)
		case *ast.UnaryExpr:
			if ex, ok := x.X.(*ast.ExistsExpr); ok && x.Op == ast.OpNot {
				p, err = ctx.planExists(ex, true, true)
			} else {
				planned = false
			}
		case *ast.InSubqueryExpr:
			if !x.Not {
				p, err = ctx.planIn(x, true)
			} else {
				planned = false
			}
		default:
			planned = false
		}
		if err != nil {
			return err
		}
		if planned {
			if p != nil {
				preds = append(preds, p)
			}
			continue
		}
		if p, err = ctx.bindBool(c, "WHERE"); err != nil {
			return err
		}
		preds = append(preds, p)
	}
	if len(preds) > 0 {
		*plan = &Filter{Input: *plan, Cond: and(preds)}
	}
	return nil
}

// astConjuncts splits e into the operands of its top-level ANDs.
func astConjuncts(e ast.Expr) []ast.Expr {
	if x, ok := e.(*ast.BinaryExpr); ok && x.Op == ast.OpAnd {
		return append(astConjuncts(x.L), astConjuncts(x.R)...)
	}
	return []ast.Expr{e}
}

// boolConst returns a BOOLEAN constant.
func boolConst(v bool, pos expr.Pos) expr.Expr { return expr.NewConst(types.BoolValue(v), pos) }
