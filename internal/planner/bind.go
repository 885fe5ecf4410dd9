package planner

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/sql/ast"
	"github.com/bpfdb/bpfdb/internal/sql/parser"
	"github.com/bpfdb/bpfdb/internal/types"
)

// Bind binds a query (a SELECT statement's *ast.Query) to a logical plan
// over the tables and views of cat. Errors are *Error values naming the
// position of the offending token.
func Bind(cat Catalog, q *ast.Query) (*Plan, error) {
	b, err := newBinder(cat)
	if err != nil {
		return nil, err
	}
	bq, err := b.bindQuery(q, nil, nil)
	if err != nil {
		return nil, err
	}
	return &Plan{Root: bq.root, Result: bq.result, NextID: b.nextID}, nil
}

// BindInsert binds the source query of INSERT INTO t [(columns)] so that
// its result has exactly t's columns, in t's order and with t's types:
// values are cast to the column types (a cast that can never work is an
// error), columns the statement does not name are NULL.
func BindInsert(cat Catalog, stmt *ast.InsertStmt) (*Plan, error) {
	b, err := newBinder(cat)
	if err != nil {
		return nil, err
	}
	name := stmt.Table.Name
	if stmt.Table.Schema != "" && stmt.Table.Schema != "main" {
		return nil, errorf(stmt.Table.At, ErrNotFound, "schema %q does not exist", stmt.Table.Schema)
	}
	tbl := cat.Table(name)
	if tbl == nil {
		if _, _, ok := cat.View(name); ok {
			return nil, errorf(stmt.Table.At, ErrNotSupported, "cannot insert into view %q", name)
		}
		return nil, errorf(stmt.Table.At, ErrNotFound, "table %q does not exist", name)
	}
	cols := tbl.Columns()
	// target[i] is the position in the source of table column i, or -1.
	target := make([]int, len(cols))
	for i := range target {
		target[i] = -1
	}
	if stmt.Columns == nil {
		for i := range target {
			target[i] = i
		}
	} else {
		for j, n := range stmt.Columns {
			i := tbl.ColumnIndex(n)
			if i < 0 {
				return nil, errorf(stmt.Table.At, ErrNotFound, "column %q of table %q does not exist", n, name)
			}
			if target[i] >= 0 {
				return nil, errorf(stmt.Table.At, ErrInvalid, "column %q is named more than once", n)
			}
			target[i] = j
		}
	}
	want := len(cols)
	if stmt.Columns != nil {
		want = len(stmt.Columns)
	}
	// The types each source position is cast to.
	wantTypes := make([]types.Type, want)
	for i, j := range target {
		if j >= 0 {
			wantTypes[j] = cols[i].Type
		}
	}
	src := stmt.Source
	var root Node
	var result []Column
	if v, ok := src.Body.(*ast.Values); ok && len(src.With) == 0 && src.OrderBy == nil && src.Limit == nil && src.Offset == nil {
		// VALUES: each value is cast to its column's type directly, so
		// that a bad constant fails here with its position.
		node, err := b.bindValues(v, wantTypes)
		if err != nil {
			return nil, err
		}
		root, result = node, node.Columns
	} else {
		bq, err := b.bindQuery(src, nil, nil)
		if err != nil {
			return nil, err
		}
		root, result = bq.root, bq.result
	}
	if len(result) != want {
		more := "more"
		if len(result) < want {
			more = "fewer"
		}
		return nil, errorf(src.At, ErrInvalid, "INSERT has %s values (%d) than target columns (%d)", more, len(result), want)
	}
	p := &Project{Input: root}
	for i, c := range cols {
		var x expr.Expr
		if j := target[i]; j >= 0 {
			var err error
			x, err = expr.CastTo(result[j].Ref(), c.Type, exprPos(src.At))
			if err != nil {
				var be *Error
				if errors.As(exprErr(src.At, err), &be) {
					return nil, &Error{Pos: be.Pos, Msg: fmt.Sprintf("column %q: %s", c.Name, be.Msg), Err: be.Err}
				}
				return nil, err
			}
		} else {
			x = expr.NewConst(types.Null(c.Type), expr.Pos{})
		}
		p.Exprs = append(p.Exprs, x)
		p.Columns = append(p.Columns, b.newColumn(c.Name, c.Type))
	}
	return &Plan{Root: p, Result: p.Columns, NextID: b.nextID}, nil
}

// Settings is implemented by a Catalog that carries the session's
// settings. The binder reads two of DuckDB's: default_order (asc or desc)
// and default_null_order (nulls_last, nulls_first,
// nulls_first_on_asc_last_on_desc or nulls_last_on_asc_first_on_desc),
// for ORDER BY items that do not say. A Catalog without Settings binds
// with DuckDB's defaults, asc and nulls_last.
type Settings interface {
	Setting(name string) (string, error)
}

// binder holds the state of binding one statement.
type binder struct {
	cat    Catalog
	nextID ColumnID
	// The default sort order: descending, and where NULLs go.
	defaultDesc bool
	nullOrder   string
	// ctes are the common table expressions in scope, innermost first.
	ctes *cteEnv
	// views are the views being expanded, to refuse a view that
	// refers to itself.
	views []string
}

// cteEnv is a list of CTEs; a CTE sees the list as it was where it was
// defined (next).
type cteEnv struct {
	cte  *ast.CTE
	next *cteEnv
}

// boundQuery is a bound query: its plan and the columns a reader of it
// sees (root's output may have more, e.g. ORDER BY keys).
type boundQuery struct {
	root   Node
	result []Column
}

func newBinder(cat Catalog) (*binder, error) {
	b := &binder{cat: cat, nextID: 1, nullOrder: "nulls_last"}
	s, ok := cat.(Settings)
	if !ok {
		return b, nil
	}
	order, err := s.Setting("default_order")
	if err != nil {
		return nil, fmt.Errorf("bind: read setting default_order: %w", err)
	}
	nulls, err := s.Setting("default_null_order")
	if err != nil {
		return nil, fmt.Errorf("bind: read setting default_null_order: %w", err)
	}
	switch strings.ToLower(order) {
	case "asc", "ascending":
	case "desc", "descending":
		b.defaultDesc = true
	default:
		return nil, fmt.Errorf("bind: setting default_order is %q, not asc or desc: %w", order, ErrInvalid)
	}
	switch n := strings.ToLower(nulls); n {
	case "nulls_last", "nulls_first", "nulls_first_on_asc_last_on_desc", "nulls_last_on_asc_first_on_desc":
		b.nullOrder = n
	default:
		return nil, fmt.Errorf("bind: setting default_null_order is %q: %w", nulls, ErrInvalid)
	}
	return b, nil
}

func (b *binder) newColumn(name string, t types.Type) Column {
	c := Column{ID: b.nextID, Name: name, Type: t}
	b.nextID++
	return c
}

// bindQuery binds a query whose outer references resolve in outer and are
// recorded in corr (both nil for a query that cannot be correlated).
func (b *binder) bindQuery(q *ast.Query, outer *scope, corr *corrSet) (boundQuery, error) {
	saved := b.ctes
	defer func() { b.ctes = saved }()
	seen := map[string]bool{}
	for _, c := range q.With {
		if seen[c.Name] {
			return boundQuery{}, errorf(c.At, ErrAmbiguous, "WITH query name %q specified more than once", c.Name)
		}
		seen[c.Name] = true
		b.ctes = &cteEnv{cte: c, next: b.ctes}
	}
	var bq boundQuery
	var err error
	if sel, ok := q.Body.(*ast.Select); ok {
		bq, err = b.bindSelect(sel, q.OrderBy, outer, corr)
	} else {
		bq, err = b.bindBody(q.Body, outer, corr)
		if err == nil && len(q.OrderBy) > 0 {
			bq, err = b.orderOutput(bq, q.OrderBy, outer, corr)
		}
	}
	if err != nil {
		return boundQuery{}, err
	}
	if q.Limit == nil && q.Offset == nil {
		return bq, nil
	}
	count, offset := int64(-1), int64(0)
	if q.Limit != nil {
		if count, err = b.constInt(q.Limit, "LIMIT"); err != nil {
			return boundQuery{}, err
		}
	}
	if q.Offset != nil {
		if offset, err = b.constInt(q.Offset, "OFFSET"); err != nil {
			return boundQuery{}, err
		}
	}
	bq.root = &Limit{Input: bq.root, Count: count, Offset: offset}
	return bq, nil
}

// constInt evaluates the constant of LIMIT or OFFSET: an integer ≥ 0.
func (b *binder) constInt(e ast.Expr, clause string) (int64, error) {
	if findAgg(e) != nil || hasSubquery(e) {
		return 0, errorf(e.Pos(), ErrInvalid, "%s must be a constant", clause)
	}
	c := &exprCtx{b: b, scope: &scope{}, clause: clause}
	x, err := c.bind(e)
	if err != nil {
		var be *Error
		if errors.As(err, &be) && errors.Is(err, ErrNotFound) {
			return 0, errorf(e.Pos(), ErrInvalid, "%s must be a constant", clause)
		}
		return 0, err
	}
	k, ok := expr.Fold(x).(*expr.Const)
	if !ok || k.Val.IsNull() {
		return 0, errorf(e.Pos(), ErrInvalid, "%s must be a constant integer", clause)
	}
	switch k.Val.Type().ID() {
	case types.Integer, types.BigInt:
	default:
		return 0, errorf(e.Pos(), ErrInvalid, "%s must be an integer, not %v", clause, k.Val.Type())
	}
	if k.Val.Int64() < 0 {
		return 0, errorf(e.Pos(), ErrInvalid, "%s must not be negative", clause)
	}
	return k.Val.Int64(), nil
}

// bindBody binds a query body without ORDER BY and LIMIT.
func (b *binder) bindBody(body ast.QueryBody, outer *scope, corr *corrSet) (boundQuery, error) {
	switch body := body.(type) {
	case *ast.Select:
		return b.bindSelect(body, nil, outer, corr)
	case *ast.Query:
		return b.bindQuery(body, outer, corr)
	case *ast.Values:
		v, err := b.bindValues(body, nil)
		if err != nil {
			return boundQuery{}, err
		}
		return boundQuery{root: v, result: v.Columns}, nil
	case *ast.SetOp:
		return b.bindSetOp(body, outer, corr)
	}
	return boundQuery{}, errorf(body.Pos(), ErrNotSupported, "query %s is not supported", ast.Format(body))
}

// bindValues binds a VALUES list; each column gets the common type of its
// values, or the type in want (for INSERT) if want is not nil.
func (b *binder) bindValues(v *ast.Values, want []types.Type) (*Values, error) {
	c := &exprCtx{b: b, scope: &scope{}, clause: "VALUES"}
	if len(v.Rows) == 0 {
		return nil, errorf(v.At, ErrInvalid, "VALUES without rows")
	}
	n := len(v.Rows[0])
	rows := make([][]expr.Expr, len(v.Rows))
	for i, row := range v.Rows {
		if len(row) != n {
			return nil, errorf(v.At, ErrInvalid, "VALUES lists must all be the same length (row %d has %d values, row 1 has %d)", i+1, len(row), n)
		}
		for _, e := range row {
			if hasSubquery(e) {
				return nil, errorf(e.Pos(), ErrNotSupported, "subqueries in VALUES are not supported")
			}
		}
		xs, err := c.bindList(row)
		if err != nil {
			return nil, err
		}
		rows[i] = xs
	}
	ts := want
	if len(want) != n {
		// A count mismatch is reported by the caller.
		ts = make([]types.Type, n)
		for j := range n {
			col := make([]expr.Expr, len(rows))
			for i := range rows {
				col[i] = rows[i][j]
			}
			t, err := commonType(col, v.Rows[0][j].Pos())
			if err != nil {
				return nil, err
			}
			ts[j] = t
		}
	}
	out := &Values{Rows: rows}
	for j, t := range ts {
		for i := range rows {
			x, err := expr.CastTo(rows[i][j], t, rows[i][j].Pos())
			if err != nil {
				return nil, exprErr(v.Rows[i][j].Pos(), err)
			}
			rows[i][j] = x
		}
		out.Columns = append(out.Columns, b.newColumn("col"+strconv.Itoa(j), t))
	}
	return out, nil
}

// commonType is the type the expressions convert to together (the rules
// of CASE and COALESCE results).
func commonType(es []expr.Expr, pos ast.Pos) (types.Type, error) {
	x, err := expr.NewCoalesce(es, exprPos(pos))
	if err != nil {
		return types.Type{}, exprErr(pos, err)
	}
	return x.Type(), nil
}

// resultNode returns the plan of bq with exactly its result columns.
func (b *binder) resultNode(bq boundQuery) Node {
	out := bq.root.Output()
	same := len(out) == len(bq.result)
	for i := 0; same && i < len(out); i++ {
		same = out[i].ID == bq.result[i].ID
	}
	if same {
		return bq.root
	}
	p := &Project{Input: bq.root}
	for _, c := range bq.result {
		p.Exprs = append(p.Exprs, c.Ref())
		p.Columns = append(p.Columns, c)
	}
	return p
}

// bindSetOp binds UNION [ALL], INTERSECT and EXCEPT. A chain of UNIONs
// becomes one Union node, UNION (distinct) a distinct Aggregate over it.
// INTERSECT and EXCEPT group the union of both sides, each row tagged with
// its side, by all columns (so that NULLs are equal, as set operations
// want) and keep the groups that occur on both sides, or on the left only.
func (b *binder) bindSetOp(s *ast.SetOp, outer *scope, corr *corrSet) (boundQuery, error) {
	if s.Op != ast.Union && s.All {
		return boundQuery{}, errorf(s.At, ErrNotSupported, "%v ALL is not supported", s.Op)
	}
	branches := []ast.QueryBody{s.Left, s.Right}
	if s.Op == ast.Union {
		branches = nil
		var collect func(q ast.QueryBody)
		collect = func(q ast.QueryBody) {
			// UNION ALL flattens UNION ALL children; UNION (distinct)
			// flattens every UNION child, its duplicates going anyway.
			if c, ok := q.(*ast.SetOp); ok && c.Op == ast.Union && (c.All || !s.All) {
				collect(c.Left)
				collect(c.Right)
				return
			}
			branches = append(branches, q)
		}
		collect(s.Left)
		collect(s.Right)
	}
	bound := make([]boundQuery, len(branches))
	for i, br := range branches {
		bq, err := b.bindBody(br, outer, corr)
		if err != nil {
			return boundQuery{}, err
		}
		if i > 0 && len(bq.result) != len(bound[0].result) {
			return boundQuery{}, errorf(br.Pos(), ErrInvalid, "each %v query must have the same number of columns (%d and %d)", s.Op, len(bound[0].result), len(bq.result))
		}
		bound[i] = bq
	}
	n := len(bound[0].result)
	ts := make([]types.Type, n)
	for j := range n {
		col := make([]expr.Expr, len(bound))
		for i, bq := range bound {
			col[i] = bq.result[j].Ref()
		}
		t, err := commonType(col, s.At)
		if err != nil {
			return boundQuery{}, err
		}
		ts[j] = t
	}
	if s.Op == ast.Union {
		u, err := b.union(bound, branches, ts, nil)
		if err != nil {
			return boundQuery{}, err
		}
		if s.All {
			return boundQuery{root: u, result: u.Columns}, nil
		}
		d := b.distinct(u, u.Columns)
		return boundQuery{root: d, result: d.GroupColumns}, nil
	}
	one := expr.NewConst(types.IntegerValue(1), expr.Pos{})
	null := expr.NewConst(types.Null(types.IntegerType), expr.Pos{})
	u, err := b.union(bound, branches, ts, [][]expr.Expr{{one, null}, {null, one}})
	if err != nil {
		return boundQuery{}, err
	}
	agg := b.distinct(u, u.Columns[:n])
	pos := exprPos(s.At)
	var conds []expr.Expr
	for i, side := range []string{"left", "right"} {
		tag := u.Columns[n+i]
		col := b.newColumn("count("+side+")", types.BigIntType)
		agg.Aggs = append(agg.Aggs, AggFunc{Kind: expr.Count, Arg: tag.Ref(), Text: col.Name, At: pos, Column: col})
		op := expr.OpGt
		if i == 1 && s.Op == ast.Except {
			op = expr.OpEq
		}
		c, err := expr.NewBinary(op, col.Ref(), expr.NewConst(types.BigIntValue(0), pos), pos)
		if err != nil {
			return boundQuery{}, exprErr(s.At, err)
		}
		conds = append(conds, c)
	}
	return boundQuery{root: &Filter{Input: agg, Cond: and(conds)}, result: agg.GroupColumns}, nil
}

// union concatenates the bound branches, each cast to the column types ts
// and followed by the constants of tags[i] (nil: none).
func (b *binder) union(bound []boundQuery, branches []ast.QueryBody, ts []types.Type, tags [][]expr.Expr) (*Union, error) {
	u := &Union{}
	for i, bq := range bound {
		node := b.resultNode(bq)
		cast := tags != nil
		for j, c := range bq.result {
			cast = cast || c.Type != ts[j]
		}
		if cast {
			p := &Project{Input: node}
			for j, c := range bq.result {
				x, err := expr.CastTo(c.Ref(), ts[j], exprPos(branches[i].Pos()))
				if err != nil {
					return nil, exprErr(branches[i].Pos(), err)
				}
				p.Exprs = append(p.Exprs, x)
				if c.Type == ts[j] {
					p.Columns = append(p.Columns, c)
				} else {
					p.Columns = append(p.Columns, b.newColumn(c.Name, ts[j]))
				}
			}
			if tags != nil {
				for k, x := range tags[i] {
					p.Exprs = append(p.Exprs, x)
					p.Columns = append(p.Columns, b.newColumn([]string{"left", "right"}[k], x.Type()))
				}
			}
			node = p
		}
		u.Branches = append(u.Branches, node)
	}
	for j, c := range bound[0].result {
		u.Columns = append(u.Columns, b.newColumn(c.Name, ts[j]))
	}
	if tags != nil {
		for k, x := range tags[0] {
			u.Columns = append(u.Columns, b.newColumn([]string{"left", "right"}[k], x.Type()))
		}
	}
	return u, nil
}

// distinct returns an Aggregate that removes duplicate rows of cols.
func (b *binder) distinct(in Node, cols []Column) *Aggregate {
	d := &Aggregate{Input: in}
	for _, c := range cols {
		d.Groups = append(d.Groups, c.Ref())
		d.GroupColumns = append(d.GroupColumns, b.newColumn(c.Name, c.Type))
	}
	return d
}

// orderOutput sorts the output of a set operation or VALUES: ORDER BY
// items are output names, ordinals, or expressions over the output.
func (b *binder) orderOutput(bq boundQuery, items []*ast.OrderItem, outer *scope, corr *corrSet) (boundQuery, error) {
	rel := &relation{}
	for _, c := range bq.result {
		rel.cols = append(rel.cols, scopeCol{name: c.Name, col: c})
	}
	sc := &scope{rels: []*relation{rel}, outer: outer, corr: corr}
	root := bq.root
	ctx := &exprCtx{b: b, scope: sc, input: &root, clause: "ORDER BY"}
	var keys []SortKey
	var extra []expr.Expr
	for _, o := range items {
		var x expr.Expr
		if n, ok := o.Expr.(*ast.NumberLit); ok && n.Kind == ast.NumInteger {
			k, err := strconv.Atoi(n.Text)
			if err != nil || k < 1 || k > len(bq.result) {
				return boundQuery{}, errorf(n.At, ErrInvalid, "ORDER BY position %s is not in select list", n.Text)
			}
			x = bq.result[k-1].Ref()
		} else {
			if a := findAgg(o.Expr); a != nil {
				return boundQuery{}, errorf(a.At, ErrGrouping, "aggregate functions are not allowed in ORDER BY of a set operation")
			}
			var err error
			if x, err = ctx.bind(o.Expr); err != nil {
				return boundQuery{}, err
			}
			if _, ok := x.(*expr.Column); !ok {
				extra = append(extra, x)
			}
		}
		keys = append(keys, b.sortKey(x, o))
	}
	if len(extra) > 0 {
		p := &Project{Input: root}
		for _, c := range root.Output() {
			p.Exprs = append(p.Exprs, c.Ref())
			p.Columns = append(p.Columns, c)
		}
		for i, k := range keys {
			if _, ok := k.Expr.(*expr.Column); ok {
				continue
			}
			c := b.newColumn(duckText(items[i].Expr), k.Expr.Type())
			p.Exprs = append(p.Exprs, k.Expr)
			p.Columns = append(p.Columns, c)
			keys[i].Expr = c.Ref()
		}
		root = p
	}
	bq.root = &Order{Input: root, Keys: keys}
	return bq, nil
}

// sortKey is the sort key of an ORDER BY item; what the item does not say
// comes from the settings (DuckDB's defaults: ascending, NULLs last).
func (b *binder) sortKey(x expr.Expr, o *ast.OrderItem) SortKey {
	desc := o.Dir == ast.Desc || (o.Dir == ast.DirDefault && b.defaultDesc)
	var first bool
	switch o.Nulls {
	case ast.NullsFirst:
		first = true
	case ast.NullsLast:
		first = false
	default:
		switch b.nullOrder {
		case "nulls_first":
			first = true
		case "nulls_first_on_asc_last_on_desc":
			first = !desc
		case "nulls_last_on_asc_first_on_desc":
			first = desc
		}
	}
	return SortKey{Expr: x, Desc: desc, NullsFirst: first}
}

// ---- FROM ----

// bindFrom binds one FROM item; its names go into the returned relations.
func (b *binder) bindFrom(t ast.TableExpr, sc *scope) (Node, []*relation, error) {
	switch t := t.(type) {
	case *ast.TableRef:
		return b.bindTableRef(t)
	case *ast.SubqueryRef:
		bq, err := b.bindQuery(t.Query, sc.outer, sc.corr)
		if err != nil {
			return nil, nil, err
		}
		rel, err := newRelation("", bq.result, nil, t.Alias, t.At)
		if err != nil {
			return nil, nil, err
		}
		return b.resultNode(bq), []*relation{rel}, nil
	case *ast.TableFuncRef:
		return b.bindTableFunc(t)
	case *ast.Join:
		return b.bindJoin(t, sc)
	}
	return nil, nil, errorf(t.Pos(), ErrNotSupported, "FROM item %s is not supported", ast.Format(t))
}

// newRelation names the columns of a FROM item: by the names its query
// gives them, renamed by names (a view's or CTE's column list) and then by
// the alias's column list.
func newRelation(name string, cols []Column, names []string, alias *ast.Alias, at ast.Pos) (*relation, error) {
	rel := &relation{name: name, cols: make([]scopeCol, 0, len(cols))}
	if alias != nil {
		rel.name = alias.Name
	}
	for _, c := range cols {
		rel.cols = append(rel.cols, scopeCol{name: c.Name, col: c})
	}
	rename := func(names []string, what string) error {
		if len(names) > len(rel.cols) {
			return errorf(at, ErrInvalid, "%s has %d columns available but %d columns specified", what, len(rel.cols), len(names))
		}
		for i, n := range names {
			rel.cols[i].name = n
		}
		return nil
	}
	if err := rename(names, fmt.Sprintf("%q", name)); err != nil {
		return nil, err
	}
	if alias != nil {
		if err := rename(alias.Columns, fmt.Sprintf("%q", rel.name)); err != nil {
			return nil, err
		}
	}
	for i := range rel.cols {
		rel.cols[i].col.Name = rel.cols[i].name
	}
	return rel, nil
}

func (b *binder) bindTableRef(t *ast.TableRef) (Node, []*relation, error) {
	name := t.Name.Name
	switch t.Name.Schema {
	case "":
		for e := b.ctes; e != nil; e = e.next {
			if e.cte.Name != name {
				continue
			}
			saved := b.ctes
			b.ctes = e.next
			bq, err := b.bindQuery(e.cte.Query, nil, nil)
			b.ctes = saved
			if err != nil {
				return nil, nil, err
			}
			rel, err := newRelation(name, bq.result, e.cte.Columns, t.Alias, t.Name.At)
			if err != nil {
				return nil, nil, err
			}
			return b.resultNode(bq), []*relation{rel}, nil
		}
	case "main":
	default:
		return nil, nil, errorf(t.Name.At, ErrNotFound, "schema %q does not exist", t.Name.Schema)
	}
	if tbl := b.cat.Table(name); tbl != nil {
		g := &Get{Table: tbl, Alias: name}
		if t.Alias != nil {
			g.Alias = t.Alias.Name
		}
		cols := tbl.Columns()
		g.Columns = make([]Column, 0, len(cols))
		g.TableColumns = make([]int, 0, len(cols))
		for i, c := range cols {
			g.Columns = append(g.Columns, b.newColumn(c.Name, c.Type))
			g.TableColumns = append(g.TableColumns, i)
		}
		rel, err := newRelation(name, g.Columns, nil, t.Alias, t.Name.At)
		if err != nil {
			return nil, nil, err
		}
		return g, []*relation{rel}, nil
	}
	if text, names, ok := b.cat.View(name); ok {
		return b.bindView(t, text, names)
	}
	return nil, nil, errorf(t.Name.At, ErrNotFound, "table %q does not exist", name)
}

// bindView parses and binds a view's query in place of its name.
func (b *binder) bindView(t *ast.TableRef, text string, names []string) (Node, []*relation, error) {
	name := t.Name.Name
	for _, v := range b.views {
		if v == name {
			return nil, nil, errorf(t.Name.At, ErrInvalid, "view %q refers to itself", name)
		}
	}
	wrap := func(err error) error {
		return &Error{Pos: t.Name.At, Msg: fmt.Sprintf("view %q: %v", name, err), Err: err}
	}
	stmt, err := parser.ParseOne(text)
	if err != nil {
		return nil, nil, wrap(err)
	}
	sel, ok := stmt.(*ast.SelectStmt)
	if !ok {
		return nil, nil, wrap(fmt.Errorf("%w: the view's text is not a query", ErrInvalid))
	}
	b.views = append(b.views, name)
	saved := b.ctes
	b.ctes = nil
	bq, err := b.bindQuery(sel.Query, nil, nil)
	b.ctes = saved
	b.views = b.views[:len(b.views)-1]
	if err != nil {
		return nil, nil, wrap(err)
	}
	rel, err := newRelation(name, bq.result, names, t.Alias, t.Name.At)
	if err != nil {
		return nil, nil, err
	}
	return b.resultNode(bq), []*relation{rel}, nil
}

// addRelations appends rels to sc, refusing a name given twice.
func addRelations(sc *scope, rels []*relation, at ast.Pos) error {
	for _, r := range rels {
		if r.name == "" {
			sc.rels = append(sc.rels, r)
			continue
		}
		for _, o := range sc.rels {
			if o.name == r.name {
				return errorf(at, ErrAmbiguous, "table name %q specified more than once", r.name)
			}
		}
		sc.rels = append(sc.rels, r)
	}
	return nil
}

func (b *binder) bindJoin(j *ast.Join, sc *scope) (Node, []*relation, error) {
	if j.Kind == ast.JoinFull {
		return nil, nil, errorf(j.At, ErrNotSupported, "FULL JOIN is not supported")
	}
	left, lrels, err := b.bindFrom(j.Left, sc)
	if err != nil {
		return nil, nil, err
	}
	right, rrels, err := b.bindFrom(j.Right, sc)
	if err != nil {
		return nil, nil, err
	}
	js := &scope{outer: sc.outer, corr: sc.corr}
	if err := addRelations(js, lrels, j.Left.Pos()); err != nil {
		return nil, nil, err
	}
	if err := addRelations(js, rrels, j.Right.Pos()); err != nil {
		return nil, nil, err
	}
	rels := js.rels
	node := &Join{Kind: Inner, Left: left, Right: right}
	switch j.Kind {
	case ast.JoinCross:
		node.Kind = Cross
		return node, rels, nil
	case ast.JoinLeft:
		node.Kind = LeftOuter
	case ast.JoinRight:
		node.Kind, node.Left, node.Right = LeftOuter, right, left
	}
	var preds []expr.Expr
	switch {
	case j.Using != nil:
		for _, n := range j.Using {
			lc, err := usingColumn(lrels, n, j.At, "left")
			if err != nil {
				return nil, nil, err
			}
			rc, err := usingColumn(rrels, n, j.At, "right")
			if err != nil {
				return nil, nil, err
			}
			eq, err := expr.NewBinary(expr.OpEq, lc.col.Ref(), rc.col.Ref(), exprPos(j.At))
			if err != nil {
				return nil, nil, exprErr(j.At, err)
			}
			preds = append(preds, eq)
			// The preserved side's copy is the one a plain name means.
			if j.Kind == ast.JoinRight {
				lc.hidden = true
			} else {
				rc.hidden = true
			}
		}
	case j.On != nil:
		if hasSubquery(j.On) {
			if node.Kind != Inner {
				return nil, nil, errorf(j.On.Pos(), ErrNotSupported, "subqueries in the conditions of an outer join are not supported")
			}
			// An inner join is a filter over the cross product, and
			// a filter's subqueries are joins onto its input.
			var plan Node = &Join{Kind: Cross, Left: node.Left, Right: node.Right}
			c := &exprCtx{b: b, scope: js, input: &plan, clause: "JOIN conditions"}
			cond, err := c.bindBool(j.On, "JOIN conditions")
			if err != nil {
				return nil, nil, err
			}
			return &Filter{Input: plan, Cond: cond}, rels, nil
		}
		c := &exprCtx{b: b, scope: js, clause: "JOIN conditions"}
		cond, err := c.bindBool(j.On, "JOIN conditions")
		if err != nil {
			return nil, nil, err
		}
		preds = conjuncts(cond)
	}
	node.Conds, node.Residual = splitConds(preds, outputSet(node.Left), outputSet(node.Right))
	return node, rels, nil
}

// usingColumn finds the column name of a USING list on one side of a join.
func usingColumn(rels []*relation, name string, at ast.Pos, side string) (*scopeCol, error) {
	var found *scopeCol
	for _, r := range rels {
		for i := range r.cols {
			c := &r.cols[i]
			if c.name == name && !c.hidden {
				if found != nil {
					return nil, errorf(at, ErrAmbiguous, "column %q in USING appears more than once in the %s table", name, side)
				}
				found = c
			}
		}
	}
	if found == nil {
		return nil, errorf(at, ErrNotFound, "column %q in USING does not exist in the %s table", name, side)
	}
	return found, nil
}

// ---- expressions over plans ----

// idSet is a set of column IDs.
type idSet map[ColumnID]bool

func outputSet(n Node) idSet {
	s := idSet{}
	for _, c := range n.Output() {
		s[c.ID] = true
	}
	return s
}

// within reports whether e reads at least one column and only columns of s.
func within(e expr.Expr, s idSet) bool {
	cols := expr.Columns(e)
	for _, c := range cols {
		if !s[ColumnID(c)] {
			return false
		}
	}
	return len(cols) > 0
}

// conjuncts splits e into the operands of its top-level ANDs.
func conjuncts(e expr.Expr) []expr.Expr {
	if x, ok := e.(*expr.Binary); ok && x.Op == expr.OpAnd {
		return append(conjuncts(x.Left), conjuncts(x.Right)...)
	}
	return []expr.Expr{e}
}

// and joins predicates with AND; nil for none.
func and(es []expr.Expr) expr.Expr {
	var out expr.Expr
	for _, e := range es {
		if out == nil {
			out = e
			continue
		}
		x, err := expr.NewBinary(expr.OpAnd, out, e, expr.Pos{})
		if err != nil {
			panic(fmt.Sprintf("BUG: AND of predicates %v and %v: %v", out, e, err))
		}
		out = x
	}
	return out
}

// splitConds makes equalities between an expression over left's columns
// and one over right's join conditions (left side first) and ANDs the
// other predicates into a residual.
func splitConds(preds []expr.Expr, left, right idSet) ([]JoinCond, expr.Expr) {
	var conds []JoinCond
	var rest []expr.Expr
	for _, p := range preds {
		if x, ok := p.(*expr.Binary); ok && x.Op == expr.OpEq {
			var l, r expr.Expr
			switch {
			case within(x.Left, left) && within(x.Right, right):
				l, r = x.Left, x.Right
			case within(x.Left, right) && within(x.Right, left):
				l, r = x.Right, x.Left
			}
			if l != nil {
				if l, r, ok := JoinKeys(l, r); ok {
					conds = append(conds, JoinCond{Left: l, Right: r})
					continue
				}
			}
		}
		rest = append(rest, p)
	}
	return conds, and(rest)
}

// JoinKeys returns l and r as hash join keys of one type: a hash join
// compares keys by their hashes and physical values, so an equality
// between, say, BIGINT and DECIMAL(4,1) becomes one between both cast to
// DECIMAL(38,1) (exact: a value beyond 18 digits fails with an overflow
// error, never matches wrongly), INTEGER and BIGINT meet as BIGINT, and
// anything with DOUBLE as DOUBLE, as the comparison itself would. ok is
// false for types that have no common key type: the equality then stays a
// residual condition.
func JoinKeys(l, r expr.Expr) (expr.Expr, expr.Expr, bool) {
	lt, rt := l.Type(), r.Type()
	if lt == rt {
		return l, r, true
	}
	if !lt.IsNumeric() || !rt.IsNumeric() {
		return l, r, false
	}
	var t types.Type
	switch {
	case lt.ID() == types.Double || rt.ID() == types.Double:
		t = types.DoubleType
	case lt.ID() == types.Decimal || rt.ID() == types.Decimal:
		t = types.MustDecimal(types.MaxDecimalWidth, max(lt.Scale(), rt.Scale()))
	default:
		t = types.BigIntType
	}
	lc, err := expr.CastTo(l, t, l.Pos())
	if err != nil {
		return l, r, false
	}
	rc, err := expr.CastTo(r, t, r.Pos())
	if err != nil {
		return l, r, false
	}
	return lc, rc, true
}

// bindTableFunc binds a table function call: the catalog computes its rows
// now (TableFunctions), which become constant rows.
func (b *binder) bindTableFunc(t *ast.TableFuncRef) (Node, []*relation, error) {
	tf, ok := b.cat.(TableFunctions)
	if !ok {
		return nil, nil, errorf(t.At, ErrNotFound, "table function %s does not exist", t.Name)
	}
	c := &exprCtx{b: b, scope: &scope{}, clause: "table function arguments"}
	args := make([]types.Value, len(t.Args))
	for i, a := range t.Args {
		x, err := c.bind(a)
		if err != nil {
			return nil, nil, err
		}
		k, ok := expr.Fold(x).(*expr.Const)
		if !ok {
			return nil, nil, errorf(a.Pos(), ErrInvalid, "argument %d of %s must be a constant", i+1, t.Name)
		}
		args[i] = k.Val
	}
	res, err := tf.TableFunction(t.Name, args)
	if err != nil {
		var be *Error
		if errors.As(err, &be) {
			return nil, nil, err
		}
		cause := ErrInvalid
		if errors.Is(err, ErrNotFound) {
			cause = ErrNotFound
		}
		return nil, nil, &Error{Pos: t.At, Msg: err.Error(), Err: cause}
	}
	out := &Values{Rows: make([][]expr.Expr, len(res.Rows))}
	cols := make([]Column, len(res.Names))
	for j, name := range res.Names {
		cols[j] = b.newColumn(name, res.Types[j])
	}
	out.Columns = cols
	for i, row := range res.Rows {
		if len(row) != len(cols) {
			return nil, nil, fmt.Errorf("BUG: table function %s: row %d has %d values for %d columns", t.Name, i, len(row), len(cols))
		}
		out.Rows[i] = make([]expr.Expr, len(row))
		for j, v := range row {
			out.Rows[i][j] = expr.NewConst(v, exprPos(t.At))
		}
	}
	rel, err := newRelation(t.Name, cols, nil, t.Alias, t.At)
	if err != nil {
		return nil, nil, err
	}
	return out, []*relation{rel}, nil
}
