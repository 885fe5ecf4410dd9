package planner_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/planner"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/storage/file"
	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
)

// tpchSchema is the TPC-H schema with DuckDB's types (as package
// exec/load's tests create it): keys INTEGER or BIGINT, money and
// quantities DECIMAL(15,2), dates DATE, the rest VARCHAR.
var tpchSchema = []struct{ name, cols string }{
	{"region", "r_regionkey:INTEGER r_name:VARCHAR r_comment:VARCHAR"},
	{"nation", "n_nationkey:INTEGER n_name:VARCHAR n_regionkey:INTEGER n_comment:VARCHAR"},
	{"supplier", "s_suppkey:BIGINT s_name:VARCHAR s_address:VARCHAR s_nationkey:INTEGER s_phone:VARCHAR s_acctbal:DECIMAL(15,2) s_comment:VARCHAR"},
	{"customer", "c_custkey:BIGINT c_name:VARCHAR c_address:VARCHAR c_nationkey:INTEGER c_phone:VARCHAR c_acctbal:DECIMAL(15,2) c_mktsegment:VARCHAR c_comment:VARCHAR"},
	{"part", "p_partkey:BIGINT p_name:VARCHAR p_mfgr:VARCHAR p_brand:VARCHAR p_type:VARCHAR p_size:INTEGER p_container:VARCHAR p_retailprice:DECIMAL(15,2) p_comment:VARCHAR"},
	{"partsupp", "ps_partkey:BIGINT ps_suppkey:BIGINT ps_availqty:INTEGER ps_supplycost:DECIMAL(15,2) ps_comment:VARCHAR"},
	{"orders", "o_orderkey:BIGINT o_custkey:BIGINT o_orderstatus:VARCHAR o_totalprice:DECIMAL(15,2) o_orderdate:DATE o_orderpriority:VARCHAR o_clerk:VARCHAR o_shippriority:INTEGER o_comment:VARCHAR"},
	{"lineitem", "l_orderkey:BIGINT l_partkey:BIGINT l_suppkey:BIGINT l_linenumber:INTEGER l_quantity:DECIMAL(15,2) l_extendedprice:DECIMAL(15,2) l_discount:DECIMAL(15,2) l_tax:DECIMAL(15,2) l_returnflag:VARCHAR l_linestatus:VARCHAR l_shipdate:DATE l_commitdate:DATE l_receiptdate:DATE l_shipinstruct:VARCHAR l_shipmode:VARCHAR l_comment:VARCHAR"},
	// Small tables for the binder's own cases.
	{"t", "a:INTEGER b:BIGINT c:VARCHAR d:DATE e:DECIMAL(15,2) f:DOUBLE g:BOOLEAN"},
	{"u", "a:INTEGER x:VARCHAR y:DECIMAL(4,1)"},
	{"w", "a:INTEGER z:DATE"},
}

// testViews are the views of the test catalog: query text and column
// names.
var testViews = map[string]struct {
	query string
	cols  []string
}{
	"big_t":    {"SELECT a, c AS name FROM t WHERE a > 10", nil},
	"revenue0": {"SELECT l_suppkey, sum(l_extendedprice * (1 - l_discount)) FROM lineitem WHERE l_shipdate >= DATE '1996-01-01' AND l_shipdate < DATE '1996-01-01' + INTERVAL '3' MONTH GROUP BY l_suppkey", []string{"supplier_no", "total_revenue"}},
	"loop1":    {"SELECT * FROM loop2", nil},
	"loop2":    {"SELECT * FROM loop1", nil},
	"broken":   {"SELECT nope FROM t", nil},
	"garbage":  {"SELEC 1", nil},
}

// testCatalog is a Catalog over a real (empty) table.DB and testViews.
type testCatalog struct{ db *table.DB }

func (c testCatalog) Table(name string) *table.Table { return c.db.Table(name) }

func (c testCatalog) View(name string) (string, []string, bool) {
	v, ok := testViews[name]
	return v.query, v.cols, ok
}

// newCatalog creates a database file in a temporary directory with the
// tables of tpchSchema.
func newCatalog(t testing.TB) testCatalog {
	t.Helper()
	dir := t.TempDir()
	f, err := file.Create(filepath.Join(dir, "test.db"), file.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := buffer.New(buffer.Options{File: f, Limit: 64 << 20, TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	db, err := table.Open(f, m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
		if err := m.Close(); err != nil {
			t.Error(err)
		}
		if err := f.Close(); err != nil {
			t.Error(err)
		}
	})
	for _, s := range tpchSchema {
		var cols []table.Column
		for _, c := range strings.Fields(s.cols) {
			n, ty, _ := strings.Cut(c, ":")
			typ, err := types.ParseType(ty)
			if err != nil {
				t.Fatal(err)
			}
			cols = append(cols, table.Column{Name: n, Type: typ})
		}
		if _, err := db.CreateTable(s.name, cols); err != nil {
			t.Fatal(err)
		}
	}
	return testCatalog{db: db}
}

// validate checks the invariants of a bound plan that the optimizer and
// the physical planner rely on: every expression reads only columns its
// node's inputs produce (join conditions: each side its own input), every
// column is produced by one node only (a Project may pass a column of its
// input through under the same ID), column references carry the type of
// the column they read, no node is in the plan twice, the result is part
// of the root's output, and
// NextID is above every ID.
func validate(p *planner.Plan) error {
	produced := map[planner.ColumnID]string{}
	seen := map[planner.Node]bool{}
	var check func(n planner.Node) error
	check = func(n planner.Node) error {
		if seen[n] {
			return fmt.Errorf("%s: the node is in the plan twice (a plan is a tree)", planner.Describe(n))
		}
		seen[n] = true
		for _, in := range n.Inputs() {
			if err := check(in); err != nil {
				return err
			}
		}
		avail := map[planner.ColumnID]types.Type{}
		for _, in := range n.Inputs() {
			for _, c := range in.Output() {
				avail[c.ID] = c.Type
			}
		}
		reads := func(e expr.Expr, from map[planner.ColumnID]types.Type, what string) error {
			var err error
			_, _ = expr.Rewrite(e, func(x expr.Expr) (expr.Expr, error) {
				if c, ok := x.(*expr.Column); ok && err == nil {
					t, ok := from[planner.ColumnID(c.Index)]
					switch {
					case !ok:
						err = fmt.Errorf("%s: %s reads %s#%d, which its input does not produce", planner.Describe(n), what, c.Name, c.Index)
					case t != c.T:
						err = fmt.Errorf("%s: %s reads %s#%d as %v, but it is %v", planner.Describe(n), what, c.Name, c.Index, c.T, t)
					}
				}
				return x, nil
			})
			return err
		}
		outputs := func(n planner.Node) map[planner.ColumnID]types.Type {
			m := map[planner.ColumnID]types.Type{}
			for _, c := range n.Output() {
				m[c.ID] = c.Type
			}
			return m
		}
		produce := func(c planner.Column) error {
			if c.ID >= p.NextID || c.ID <= 0 {
				return fmt.Errorf("%s: column %v outside [1, NextID=%d)", planner.Describe(n), c, p.NextID)
			}
			if prev, ok := produced[c.ID]; ok {
				return fmt.Errorf("%s: column %v is produced again (first by %s)", planner.Describe(n), c, prev)
			}
			produced[c.ID] = planner.Describe(n)
			return nil
		}
		switch n := n.(type) {
		case *planner.Get:
			for _, c := range n.Columns {
				if err := produce(c); err != nil {
					return err
				}
			}
		case *planner.Filter:
			if n.Cond.Type().ID() != types.Boolean {
				return fmt.Errorf("%s: condition of type %v", planner.Describe(n), n.Cond.Type())
			}
			return reads(n.Cond, avail, "condition")
		case *planner.Project:
			for i, e := range n.Exprs {
				if err := reads(e, avail, "projection"); err != nil {
					return err
				}
				c := n.Columns[i]
				if e.Type() != c.Type {
					return fmt.Errorf("%s: %v has type %v but its expression %v", planner.Describe(n), c, c.Type, e.Type())
				}
				if x, ok := e.(*expr.Column); ok && planner.ColumnID(x.Index) == c.ID {
					continue // passed through
				}
				if err := produce(c); err != nil {
					return err
				}
			}
		case *planner.Aggregate:
			for i, g := range n.Groups {
				if err := reads(g, avail, "group"); err != nil {
					return err
				}
				if err := produce(n.GroupColumns[i]); err != nil {
					return err
				}
			}
			for _, a := range n.Aggs {
				if a.Arg != nil {
					if err := reads(a.Arg, avail, "aggregate"); err != nil {
						return err
					}
				}
				if err := produce(a.Column); err != nil {
					return err
				}
			}
		case *planner.Join:
			l, r := outputs(n.Left), outputs(n.Right)
			for _, c := range n.Conds {
				if err := reads(c.Left, l, "left condition"); err != nil {
					return err
				}
				if err := reads(c.Right, r, "right condition"); err != nil {
					return err
				}
			}
			if n.Residual != nil {
				if err := reads(n.Residual, avail, "residual"); err != nil {
					return err
				}
			}
			if n.Kind == planner.Cross && (len(n.Conds) > 0 || n.Residual != nil) {
				return fmt.Errorf("%s: a cross join with conditions", planner.Describe(n))
			}
			if n.Kind == planner.Mark {
				if err := produce(n.Mark); err != nil {
					return err
				}
			}
		case *planner.Order:
			for _, k := range n.Keys {
				if err := reads(k.Expr, avail, "sort key"); err != nil {
					return err
				}
			}
		case *planner.Union:
			for _, br := range n.Branches {
				out := br.Output()
				if len(out) != len(n.Columns) {
					return fmt.Errorf("%s: branch with %d columns", planner.Describe(n), len(out))
				}
				for i, c := range out {
					if c.Type != n.Columns[i].Type {
						return fmt.Errorf("%s: branch column %v is not %v", planner.Describe(n), c, n.Columns[i].Type)
					}
				}
			}
			for _, c := range n.Columns {
				if err := produce(c); err != nil {
					return err
				}
			}
		case *planner.Values:
			for _, row := range n.Rows {
				if len(row) != len(n.Columns) {
					return fmt.Errorf("%s: a row of %d values", planner.Describe(n), len(row))
				}
				for i, e := range row {
					if e.Type() != n.Columns[i].Type {
						return fmt.Errorf("%s: value %v is not %v", planner.Describe(n), e, n.Columns[i].Type)
					}
					if err := reads(e, nil, "value"); err != nil {
						return err
					}
				}
			}
			for _, c := range n.Columns {
				if err := produce(c); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := check(p.Root); err != nil {
		return err
	}
	root := map[planner.ColumnID]planner.Column{}
	for _, c := range p.Root.Output() {
		root[c.ID] = c
	}
	for _, c := range p.Result {
		if rc, ok := root[c.ID]; !ok || rc.Type != c.Type {
			return fmt.Errorf("result column %v is not an output of the root", c)
		}
	}
	return nil
}

// formatPlan prints a bound plan and its result columns with their types.
func formatPlan(p *planner.Plan) string {
	var b strings.Builder
	b.WriteString(planner.Format(p.Root))
	b.WriteString("result:")
	for _, c := range p.Result {
		fmt.Fprintf(&b, " %v %v,", c, c.Type)
	}
	return strings.TrimSuffix(b.String(), ",")
}
