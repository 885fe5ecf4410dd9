package optimizer

import (
	"errors"
	"fmt"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/planner"
	"github.com/bpfdb/bpfdb/internal/types"
)

// ErrInvalidPlan is wrapped by every error of Validate.
var ErrInvalidPlan = errors.New("invalid plan")

// Validate checks the invariants every pass keeps:
//
//   - every expression reads only columns its node's inputs produce, with
//     the type they have there (a join condition's sides only their own
//     input's columns), and predicates are BOOLEAN;
//   - every column is defined (by a Get, Project, Aggregate, Union, Values
//     or a mark join) exactly once in the plan, with an ID below NextID (a
//     projection of a bare column under that column's own ID passes it on
//     and defines nothing);
//   - node shapes hold: parallel slices of equal length, Get columns of the
//     table's types, cross joins without conditions, union branches of the
//     union's types, zone-map filters on read columns with comparable
//     constants;
//   - the plan's Result columns are among the root's output.
//
// Errors wrap ErrInvalidPlan and name the node (planner.Describe).
func Validate(p *planner.Plan) error {
	if p == nil || p.Root == nil {
		return fmt.Errorf("%w: no root", ErrInvalidPlan)
	}
	v := &validator{p: p, defined: map[planner.ColumnID]bool{}}
	if err := v.node(p.Root); err != nil {
		return err
	}
	out := columnTypes(p.Root.Output())
	for _, c := range p.Result {
		if t, ok := out[c.ID]; !ok || t != c.Type {
			return fmt.Errorf("%w: result column %v is not among the root's output %v", ErrInvalidPlan, c, p.Root.Output())
		}
	}
	return nil
}

type validator struct {
	p       *planner.Plan
	defined map[planner.ColumnID]bool
}

func columnTypes(cs []planner.Column) map[planner.ColumnID]types.Type {
	m := make(map[planner.ColumnID]types.Type, len(cs))
	for _, c := range cs {
		m[c.ID] = c.Type
	}
	return m
}

func (v *validator) fail(n planner.Node, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidPlan, planner.Describe(n), fmt.Sprintf(format, args...))
}

// define records the columns n creates.
func (v *validator) define(n planner.Node, cs []planner.Column) error {
	for _, c := range cs {
		if v.defined[c.ID] {
			return v.fail(n, "column %v defined twice in the plan", c)
		}
		if c.ID < 0 || c.ID >= v.p.NextID {
			return v.fail(n, "column %v outside [0, NextID=%d)", c, v.p.NextID)
		}
		if !c.Type.IsValid() {
			return v.fail(n, "column %v has no type", c)
		}
		v.defined[c.ID] = true
	}
	return nil
}

// reads checks that e reads only columns of in, with their types.
func (v *validator) reads(n planner.Node, what string, e expr.Expr, in map[planner.ColumnID]types.Type) error {
	if e == nil {
		return v.fail(n, "%s is nil", what)
	}
	var err error
	var walk func(expr.Expr)
	walk = func(x expr.Expr) {
		if err != nil {
			return
		}
		if c, ok := x.(*expr.Column); ok {
			t, ok := in[planner.ColumnID(c.Index)]
			switch {
			case !ok:
				err = v.fail(n, "%s %v reads %s#%d, which its input does not produce", what, e, c.Name, c.Index)
			case t != c.T:
				err = v.fail(n, "%s %v reads %s#%d as %v, but it is %v", what, e, c.Name, c.Index, c.T, t)
			}
		}
		for _, k := range expr.Children(x) {
			walk(k)
		}
	}
	walk(e)
	return err
}

func (v *validator) predicate(n planner.Node, what string, e expr.Expr, in map[planner.ColumnID]types.Type) error {
	if err := v.reads(n, what, e, in); err != nil {
		return err
	}
	if e.Type().ID() != types.Boolean {
		return v.fail(n, "%s %v is %v, not BOOLEAN", what, e, e.Type())
	}
	return nil
}

func (v *validator) node(n planner.Node) error {
	for _, in := range n.Inputs() {
		if in == nil {
			return v.fail(n, "nil input")
		}
		if err := v.node(in); err != nil {
			return err
		}
	}
	// The output of a node never repeats a column.
	seen := map[planner.ColumnID]bool{}
	for _, c := range n.Output() {
		if seen[c.ID] {
			return v.fail(n, "output has column %v twice", c)
		}
		seen[c.ID] = true
	}
	switch n := n.(type) {
	case *planner.Get:
		return v.get(n)
	case *planner.Filter:
		return v.predicate(n, "condition", n.Cond, columnTypes(n.Input.Output()))
	case *planner.Project:
		if len(n.Exprs) != len(n.Columns) {
			return v.fail(n, "%d expressions for %d columns", len(n.Exprs), len(n.Columns))
		}
		in := columnTypes(n.Input.Output())
		for i, e := range n.Exprs {
			if err := v.reads(n, "expression", e, in); err != nil {
				return err
			}
			if e.Type() != n.Columns[i].Type {
				return v.fail(n, "expression %v is %v but its column %v is %v", e, e.Type(), n.Columns[i], n.Columns[i].Type)
			}
		}
		// A bare reference may pass its column on under its own ID (the
		// binder's projections do): that defines nothing new.
		var defs []planner.Column
		for i, c := range n.Columns {
			if col, ok := n.Exprs[i].(*expr.Column); !ok || planner.ColumnID(col.Index) != c.ID {
				defs = append(defs, c)
			}
		}
		return v.define(n, defs)
	case *planner.Aggregate:
		if len(n.Groups) != len(n.GroupColumns) {
			return v.fail(n, "%d groups for %d group columns", len(n.Groups), len(n.GroupColumns))
		}
		in := columnTypes(n.Input.Output())
		for i, g := range n.Groups {
			if err := v.reads(n, "group", g, in); err != nil {
				return err
			}
			if g.Type() != n.GroupColumns[i].Type {
				return v.fail(n, "group %v is %v but its column is %v", g, g.Type(), n.GroupColumns[i].Type)
			}
		}
		for _, a := range n.Aggs {
			if a.Arg == nil {
				if a.Kind != expr.CountStar {
					return v.fail(n, "aggregate %s has no argument", a.Text)
				}
				continue
			}
			if err := v.reads(n, "aggregate argument", a.Arg, in); err != nil {
				return err
			}
		}
		return v.define(n, n.Output())
	case *planner.Join:
		return v.join(n)
	case *planner.Order:
		return v.keys(n, n.Keys, n.Input)
	case *planner.TopN:
		return v.keys(n, n.Keys, n.Input)
	case *planner.Limit:
		return nil
	case *planner.Union:
		if len(n.Branches) == 0 {
			return v.fail(n, "no branches")
		}
		for i, b := range n.Branches {
			out := b.Output()
			if len(out) != len(n.Columns) {
				return v.fail(n, "branch %d has %d columns, the union %d", i, len(out), len(n.Columns))
			}
			for j, c := range out {
				if c.Type != n.Columns[j].Type {
					return v.fail(n, "branch %d column %v is %v, the union's %v", i, c, c.Type, n.Columns[j].Type)
				}
			}
		}
		return v.define(n, n.Columns)
	case *planner.Values:
		for i, row := range n.Rows {
			if len(row) != len(n.Columns) {
				return v.fail(n, "row %d has %d values for %d columns", i, len(row), len(n.Columns))
			}
			for j, e := range row {
				if err := v.reads(n, "value", e, nil); err != nil {
					return err
				}
				if e.Type() != n.Columns[j].Type {
					return v.fail(n, "row %d value %v is %v, its column %v", i, e, e.Type(), n.Columns[j].Type)
				}
			}
		}
		return v.define(n, n.Columns)
	}
	return v.fail(n, "unknown node %T", n)
}

func (v *validator) get(n *planner.Get) error {
	if n.Table == nil {
		return v.fail(n, "no table")
	}
	if len(n.Columns) != len(n.TableColumns) {
		return v.fail(n, "%d columns for %d table columns", len(n.Columns), len(n.TableColumns))
	}
	tcols := n.Table.Columns()
	read := map[int]bool{}
	for i, j := range n.TableColumns {
		if j < 0 || j >= len(tcols) {
			return v.fail(n, "column %v: table has no column %d", n.Columns[i], j)
		}
		if tcols[j].Type != n.Columns[i].Type {
			return v.fail(n, "column %v is %v, table column %s is %v", n.Columns[i], n.Columns[i].Type, tcols[j].Name, tcols[j].Type)
		}
		read[j] = true
	}
	in := columnTypes(n.Columns)
	for _, f := range n.Filters {
		if err := v.predicate(n, "filter", f, in); err != nil {
			return err
		}
	}
	for _, z := range n.ZoneFilters {
		if !read[z.Column] {
			return v.fail(n, "zone filter %v on a column the scan does not read", z)
		}
		if !zoneComparable(tcols[z.Column].Type, z.Value.Type()) {
			return v.fail(n, "zone filter %v: constant of type %v for column %s of type %v", z, z.Value.Type(), tcols[z.Column].Name, tcols[z.Column].Type)
		}
	}
	return v.define(n, n.Columns)
}

func (v *validator) join(n *planner.Join) error {
	left, right := columnTypes(n.Left.Output()), columnTypes(n.Right.Output())
	both := columnTypes(append(n.Left.Output(), n.Right.Output()...))
	switch n.Kind {
	case planner.Inner, planner.LeftOuter, planner.Semi, planner.Anti, planner.Mark, planner.Single:
	case planner.Cross:
		if len(n.Conds) > 0 || n.Residual != nil {
			return v.fail(n, "cross join with conditions")
		}
	default:
		return v.fail(n, "unknown join kind %v", n.Kind)
	}
	for _, c := range n.Conds {
		if err := v.reads(n, "left key", c.Left, left); err != nil {
			return err
		}
		if err := v.reads(n, "right key", c.Right, right); err != nil {
			return err
		}
		if c.Left.Type() != c.Right.Type() {
			return v.fail(n, "condition %v = %v compares %v with %v", c.Left, c.Right, c.Left.Type(), c.Right.Type())
		}
	}
	if n.Residual != nil {
		if err := v.predicate(n, "residual", n.Residual, both); err != nil {
			return err
		}
	}
	if n.Kind == planner.Mark {
		if n.Mark.Type != types.BooleanType {
			return v.fail(n, "mark column %v is %v, not BOOLEAN", n.Mark, n.Mark.Type)
		}
		return v.define(n, []planner.Column{n.Mark})
	}
	return nil
}

func (v *validator) keys(n planner.Node, keys []planner.SortKey, input planner.Node) error {
	in := columnTypes(input.Output())
	for _, k := range keys {
		if err := v.reads(n, "sort key", k.Expr, in); err != nil {
			return err
		}
	}
	return nil
}

// zoneComparable reports whether a zone-map filter may compare a column of
// type col with a constant of type c (table.Filter's rule: the same type
// family, or both exact numbers).
func zoneComparable(col, c types.Type) bool {
	return col.ID() == c.ID() || exactNum(col) && exactNum(c)
}

// exactNum reports whether t is INTEGER, BIGINT or DECIMAL.
func exactNum(t types.Type) bool {
	switch t.ID() {
	case types.Integer, types.BigInt, types.Decimal:
		return true
	}
	return false
}
