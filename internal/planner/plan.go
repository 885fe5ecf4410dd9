package planner

import (
	"fmt"
	"strings"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
)

// ColumnID names one column of a logical plan. The binder numbers every
// column it creates (a table column read by a Get, a computed projection,
// a group key, an aggregate result, a mark) once per statement, so an ID
// means the same value wherever it appears: optimizer passes move filters
// and reorder joins without renumbering anything. Expressions in a plan
// refer to columns by ID: an *expr.Column's Index is a ColumnID, not a
// position; the physical planner maps IDs to the positions of its
// operators' input chunks.
type ColumnID int

// Column is one output column of a plan node.
type Column struct {
	ID   ColumnID
	Name string // for EXPLAIN and result headers
	Type types.Type
}

// String prints the column as "name#id".
func (c Column) String() string { return fmt.Sprintf("%s#%d", c.Name, c.ID) }

// Ref returns an expression that reads c.
func (c Column) Ref() *expr.Column { return expr.NewColumn(int(c.ID), c.Name, c.Type, expr.Pos{}) }

// Node is a logical plan operator. Output lists the columns it produces, in
// order; Inputs its children. Nodes are plain structs that passes may
// rewrite in place or rebuild.
type Node interface {
	Output() []Column
	Inputs() []Node
}

// Get reads a stored table.
type Get struct {
	Table *table.Table
	Alias string // the name the query gave it (the table name if none)
	// Columns are the columns read and TableColumns their indexes in the
	// table (parallel slices); projection pushdown drops unused ones.
	Columns      []Column
	TableColumns []int
	// Filters are predicates over Columns that filter pushdown moved into
	// the scan: the optimizer turns the `column op constant` ones into
	// zone-map filters (which the scan applies to rows too), and the
	// physical planner evaluates the others (not ScanExact) on the
	// scanned chunks.
	Filters []expr.Expr
	// ZoneFilters are the zone-map filters derived from Filters.
	ZoneFilters []table.Filter
}

// Filter keeps the rows for which Cond is true.
type Filter struct {
	Input Node
	Cond  expr.Expr
}

// Project computes Exprs over its input's columns into Columns.
type Project struct {
	Input   Node
	Exprs   []expr.Expr
	Columns []Column
}

// AggFunc is one aggregate of an Aggregate node.
type AggFunc struct {
	Kind     expr.AggKind
	Arg      expr.Expr // nil for count(*)
	Distinct bool
	Text     string // "sum(l_extendedprice)"
	At       expr.Pos
	Column   Column // the result
}

// Aggregate groups its input by Groups and computes Aggs per group. Its
// output is GroupColumns then the Aggs' Columns. With no groups it
// produces exactly one row, even from no input; with no Aggs it is a
// DISTINCT.
type Aggregate struct {
	Input        Node
	Groups       []expr.Expr
	GroupColumns []Column
	Aggs         []AggFunc
}

// JoinKind says which rows a Join produces.
type JoinKind uint8

// Join kinds. Left is the probe side of the physical hash join, Right the
// build side, except for Inner joins, whose sides the optimizer may swap.
const (
	// Inner: pairs that match.
	Inner JoinKind = iota + 1
	// LeftOuter: pairs that match, and left rows without a match with
	// NULLs for the right's columns.
	LeftOuter
	// Semi: left rows with at least one match (EXISTS, IN); left
	// columns only.
	Semi
	// Anti: left rows without a match (NOT EXISTS); left columns only.
	Anti
	// Mark: every left row, plus the BOOLEAN column Mark: true if it has a
	// match, else NULL if the comparison met a NULL (the left key is NULL,
	// or the right has a NULL key), else false. Used for IN and NOT IN in
	// expressions.
	Mark
	// Single: every left row with the columns of its one matching right
	// row, NULLs if none, an error if more than one (scalar subqueries).
	Single
	// Cross: every pair; Conds is empty.
	Cross
)

var joinKindNames = [...]string{"", "inner", "left", "semi", "anti", "mark", "single", "cross"}

// String returns the kind's name.
func (k JoinKind) String() string {
	if int(k) < len(joinKindNames) && k != 0 {
		return joinKindNames[k]
	}
	return fmt.Sprintf("JoinKind(%d)", uint8(k))
}

// JoinCond is an equality Left = Right between an expression over the left
// input's columns and one over the right's. NULL matches nothing.
type JoinCond struct {
	Left, Right expr.Expr
}

// Join combines two inputs. Output: the left's columns, then for Inner,
// LeftOuter, Single and Cross the right's columns, for Mark the Mark
// column, for Semi and Anti nothing more.
type Join struct {
	Kind        JoinKind
	Left, Right Node
	Conds       []JoinCond
	// Residual is an extra condition over both sides' columns that a pair
	// must also satisfy (nil if none); for LeftOuter, Semi, Anti, Mark and
	// Single it is part of the match, not a filter after the join.
	Residual expr.Expr
	// Mark is the output column of a Mark join.
	Mark Column
	// BuildLeft asks the executor to build the hash table over the left
	// (preserved) side of a Semi or Anti join and probe with the right,
	// marking the left rows that match (a "right semi/anti join"): the
	// optimizer sets it when the left side is estimated much smaller. It
	// changes how the join runs, not what it produces.
	BuildLeft bool
}

// SortKey is one ORDER BY item.
type SortKey struct {
	Expr       expr.Expr
	Desc       bool
	NullsFirst bool
}

// Order sorts its input.
type Order struct {
	Input Node
	Keys  []SortKey
}

// Limit passes on Count rows after skipping Offset (Count < 0: all).
type Limit struct {
	Input         Node
	Count, Offset int64
}

// TopN is Order followed by Limit, which the optimizer fuses.
type TopN struct {
	Input         Node
	Keys          []SortKey
	Count, Offset int64
}

// Union concatenates its Branches (UNION ALL; UNION is a Distinct
// Aggregate over a Union). Each branch has as many columns as Columns,
// of the same types.
type Union struct {
	Branches []Node
	Columns  []Column
}

// Values produces constant rows (also a one-row, no-column input for a
// SELECT without FROM).
type Values struct {
	Rows    [][]expr.Expr
	Columns []Column
}

// Output implements Node.
func (n *Get) Output() []Column { return n.Columns }

// Output implements Node.
func (n *Filter) Output() []Column { return n.Input.Output() }

// Output implements Node.
func (n *Project) Output() []Column { return n.Columns }

// Output implements Node.
func (n *Aggregate) Output() []Column {
	out := append([]Column(nil), n.GroupColumns...)
	for _, a := range n.Aggs {
		out = append(out, a.Column)
	}
	return out
}

// Output implements Node.
func (n *Join) Output() []Column {
	out := append([]Column(nil), n.Left.Output()...)
	switch n.Kind {
	case Inner, LeftOuter, Single, Cross:
		out = append(out, n.Right.Output()...)
	case Mark:
		out = append(out, n.Mark)
	}
	return out
}

// Output implements Node.
func (n *Order) Output() []Column { return n.Input.Output() }

// Output implements Node.
func (n *Limit) Output() []Column { return n.Input.Output() }

// Output implements Node.
func (n *TopN) Output() []Column { return n.Input.Output() }

// Output implements Node.
func (n *Union) Output() []Column { return n.Columns }

// Output implements Node.
func (n *Values) Output() []Column { return n.Columns }

// Inputs implements Node.
func (n *Get) Inputs() []Node { return nil }

// Inputs implements Node.
func (n *Filter) Inputs() []Node { return []Node{n.Input} }

// Inputs implements Node.
func (n *Project) Inputs() []Node { return []Node{n.Input} }

// Inputs implements Node.
func (n *Aggregate) Inputs() []Node { return []Node{n.Input} }

// Inputs implements Node.
func (n *Join) Inputs() []Node { return []Node{n.Left, n.Right} }

// Inputs implements Node.
func (n *Order) Inputs() []Node { return []Node{n.Input} }

// Inputs implements Node.
func (n *Limit) Inputs() []Node { return []Node{n.Input} }

// Inputs implements Node.
func (n *TopN) Inputs() []Node { return []Node{n.Input} }

// Inputs implements Node.
func (n *Union) Inputs() []Node { return n.Branches }

// Inputs implements Node.
func (n *Values) Inputs() []Node { return nil }

// Plan is a bound query: its root and the names and order of the columns
// the client sees (Root's output may carry more, e.g. ORDER BY keys that
// are not selected; Result picks and orders them).
type Plan struct {
	Root   Node
	Result []Column
	// NextID is the first ColumnID not used by the plan, for passes that
	// create columns.
	NextID ColumnID
}

// Format prints a plan as an indented tree, one node per line, for EXPLAIN
// and golden tests; columns print as name#id, in expressions too
// (ExprString):
//
//	Project [l_returnflag#17 AS l_returnflag#17, sum(l_quantity)#18 AS sum_qty#18]
//	  Aggregate groups [l_returnflag#9] AS [l_returnflag#17] aggs [sum(l_quantity#5) AS sum(l_quantity)#18]
//	    Get lineitem [l_quantity#5, l_returnflag#9, l_shipdate#11] filters [(l_shipdate#11 <= DATE '1998-09-02')]
func Format(n Node) string {
	var b strings.Builder
	format(&b, n, 0)
	return b.String()
}

func format(b *strings.Builder, n Node, depth int) {
	b.WriteString(strings.Repeat("  ", depth))
	b.WriteString(Describe(n))
	b.WriteByte('\n')
	for _, in := range n.Inputs() {
		format(b, in, depth+1)
	}
}

// Describe prints one node (without its inputs) on one line.
func Describe(n Node) string {
	switch n := n.(type) {
	case *Get:
		s := "Get " + n.Table.Name()
		if n.Alias != "" && n.Alias != n.Table.Name() {
			s += " AS " + n.Alias
		}
		s += " " + columns(n.Columns)
		if len(n.Filters) > 0 {
			s += " filters " + exprs(n.Filters)
		}
		return s
	case *Filter:
		return "Filter " + ExprString(n.Cond)
	case *Project:
		parts := make([]string, len(n.Exprs))
		for i, e := range n.Exprs {
			parts[i] = fmt.Sprintf("%s AS %s", ExprString(e), n.Columns[i])
		}
		return "Project [" + strings.Join(parts, ", ") + "]"
	case *Aggregate:
		aggs := make([]string, len(n.Aggs))
		for i, a := range n.Aggs {
			aggs[i] = fmt.Sprintf("%s AS %s", a.describe(), a.Column)
		}
		return fmt.Sprintf("Aggregate groups %s AS %s aggs [%s]", exprs(n.Groups), columns(n.GroupColumns), strings.Join(aggs, ", "))
	case *Join:
		conds := make([]string, len(n.Conds))
		for i, c := range n.Conds {
			conds[i] = fmt.Sprintf("%s = %s", ExprString(c.Left), ExprString(c.Right))
		}
		s := fmt.Sprintf("Join %s [%s]", n.Kind, strings.Join(conds, ", "))
		if n.Residual != nil {
			s += " residual " + ExprString(n.Residual)
		}
		if n.Kind == Mark {
			s += " mark " + n.Mark.String()
		}
		if n.BuildLeft {
			s += " build left"
		}
		return s
	case *Order:
		return "Order " + keys(n.Keys)
	case *Limit:
		return fmt.Sprintf("Limit %d offset %d", n.Count, n.Offset)
	case *TopN:
		return fmt.Sprintf("TopN %s limit %d offset %d", keys(n.Keys), n.Count, n.Offset)
	case *Union:
		return "Union " + columns(n.Columns)
	case *Values:
		return fmt.Sprintf("Values %d rows %s", len(n.Rows), columns(n.Columns))
	}
	return fmt.Sprintf("%T", n)
}

func columns(cs []Column) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func exprs(es []expr.Expr) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = ExprString(e)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// ExprString prints a plan expression as its SQL text with every column
// reference written name#id, so that two columns of the same name (the
// n_name of nation n1 and of nation n2) can be told apart.
func ExprString(e expr.Expr) string {
	out, _ := expr.Rewrite(e, func(x expr.Expr) (expr.Expr, error) {
		if c, ok := x.(*expr.Column); ok {
			return expr.NewColumn(c.Index, fmt.Sprintf("%s#%d", c.Name, c.Index), c.T, c.At), nil
		}
		return x, nil
	})
	return out.String()
}

// describe prints the aggregate with its argument over the input's
// columns: "sum(l_quantity#5)", "count(DISTINCT ps_suppkey#2)",
// "count_star()".
func (a AggFunc) describe() string {
	if a.Arg == nil {
		return "count_star()"
	}
	s := a.Kind.String() + "("
	if a.Distinct {
		s += "DISTINCT "
	}
	return s + ExprString(a.Arg) + ")"
}

func keys(ks []SortKey) string {
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = ExprString(k.Expr)
		if k.Desc {
			parts[i] += " DESC"
		}
		if k.NullsFirst {
			parts[i] += " NULLS FIRST"
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
