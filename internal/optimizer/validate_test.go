package optimizer

import (
	"errors"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/planner"
	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
)

// TestValidateCatches breaks a valid plan in each way Validate knows and
// checks that it names the problem.
func TestValidateCatches(t *testing.T) {
	db := tpchTables(t)
	// base: nation ⋈ region under a filter, projected.
	base := func() (*builder, *planner.Plan, *planner.Join) {
		b := newBuilder(t, db)
		j := &planner.Join{Kind: planner.Inner, Left: b.get("nation", ""), Right: b.get("region", ""),
			Conds: []planner.JoinCond{{Left: b.c("n_regionkey"), Right: b.c("r_regionkey")}}}
		f := &planner.Filter{Input: j, Cond: b.eq(b.c("r_name"), b.str("ASIA"))}
		pr := b.project(f, []string{"name"}, b.c("n_name"))
		return b, b.plan(pr, "name"), j
	}
	_, p, _ := base()
	if err := Validate(p); err != nil {
		t.Fatalf("the base plan is invalid: %v", err)
	}
	for _, tc := range []struct {
		name  string
		brk   func(b *builder, p *planner.Plan, j *planner.Join)
		wants string
	}{
		{"filter reads a column its input lacks", func(b *builder, p *planner.Plan, j *planner.Join) {
			pr := p.Root.(*planner.Project)
			pr.Input.(*planner.Filter).Input = j.Left
		}, "which its input does not produce"},
		{"projection type", func(b *builder, p *planner.Plan, j *planner.Join) {
			pr := p.Root.(*planner.Project)
			pr.Columns[0].Type = types.IntegerType
			p.Result[0].Type = types.IntegerType
		}, "but its column"},
		{"column defined twice", func(b *builder, p *planner.Plan, j *planner.Join) {
			g := j.Right.(*planner.Get)
			g.Columns[2].ID = j.Left.(*planner.Get).Columns[3].ID
			g.Columns[2].Type = types.VarcharType
		}, "twice"},
		{"result not produced", func(b *builder, p *planner.Plan, j *planner.Join) {
			p.Result = append(p.Result, b.cols["r_name"])
		}, "not among the root's output"},
		{"cross join with a condition", func(b *builder, p *planner.Plan, j *planner.Join) {
			j.Kind = planner.Cross
		}, "cross join with conditions"},
		{"condition side on the wrong input", func(b *builder, p *planner.Plan, j *planner.Join) {
			j.Conds[0] = planner.JoinCond{Left: j.Conds[0].Right, Right: j.Conds[0].Left}
		}, "left key"},
		{"condition of two types", func(b *builder, p *planner.Plan, j *planner.Join) {
			j.Conds[0].Right = b.c("r_name")
		}, "compares"},
		{"zone filter on a column not read", func(b *builder, p *planner.Plan, j *planner.Join) {
			g := j.Right.(*planner.Get)
			g.Columns, g.TableColumns = g.Columns[:2], g.TableColumns[:2]
			g.ZoneFilters = []table.Filter{{Column: 2, Op: table.OpEq, Value: types.VarcharValue("x")}}
		}, "does not read"},
		{"zone filter constant of another type", func(b *builder, p *planner.Plan, j *planner.Join) {
			j.Right.(*planner.Get).ZoneFilters = []table.Filter{{Column: 1, Op: table.OpEq, Value: types.DateValue(1)}}
		}, "constant of type DATE"},
		{"ID beyond NextID", func(b *builder, p *planner.Plan, j *planner.Join) {
			p.NextID = 3
		}, "NextID"},
		{"Get column of the wrong type", func(b *builder, p *planner.Plan, j *planner.Join) {
			g := j.Right.(*planner.Get)
			g.Columns[2].Type = types.IntegerType
		}, "table column r_comment is VARCHAR"},
		{"filter not BOOLEAN", func(b *builder, p *planner.Plan, j *planner.Join) {
			p.Root.(*planner.Project).Input.(*planner.Filter).Cond = b.c("r_name")
		}, "not BOOLEAN"},
		{"mark column type", func(b *builder, p *planner.Plan, j *planner.Join) {
			j.Kind = planner.Mark
			j.Mark = planner.Column{ID: b.next, Name: "m", Type: types.IntegerType}
			p.NextID++
			p.Root.(*planner.Project).Input.(*planner.Filter).Cond = b.eq(b.c("n_name"), b.str("x"))
		}, "not BOOLEAN"},
		{"union branch types", func(b *builder, p *planner.Plan, j *planner.Join) {
			u := &planner.Union{Branches: []planner.Node{j.Left, j.Right}}
			for _, c := range j.Left.Output() {
				u.Columns = append(u.Columns, b.column("u", c.Type))
			}
			p.Root, p.Result, p.NextID = u, nil, b.next
		}, "branch 1 has 3 columns"},
		{"nil input", func(b *builder, p *planner.Plan, j *planner.Join) {
			j.Right = nil
		}, "nil input"},
		{"values row width", func(b *builder, p *planner.Plan, j *planner.Join) {
			v := &planner.Values{Rows: [][]expr.Expr{{b.str("a"), b.str("b")}}, Columns: []planner.Column{b.column("v", types.VarcharType)}}
			p.Root, p.Result, p.NextID = v, nil, b.next
		}, "row 0 has 2 values for 1 columns"},
	} {
		b, p, j := base()
		tc.brk(b, p, j)
		err := Validate(p)
		switch {
		case err == nil:
			t.Errorf("%s: Validate accepted\n%s", tc.name, planner.Format(p.Root))
		case !errors.Is(err, ErrInvalidPlan):
			t.Errorf("%s: error %v does not wrap ErrInvalidPlan", tc.name, err)
		case !strings.Contains(err.Error(), tc.wants):
			t.Errorf("%s: error %q does not say %q", tc.name, err, tc.wants)
		}
	}
}

// TestOptimizeOptions checks that Optimize refuses an unknown disabled
// pass and an invalid input plan (with Validate), and reports every pass
// in its timings, the disabled ones as such.
func TestOptimizeOptions(t *testing.T) {
	b := newBuilder(t, tpchTables(t))
	p := b.plan(b.get("region", ""), "r_name")
	if _, err := Optimize(p, Options{Disabled: map[string]bool{"nope": true}}); !errors.Is(err, ErrUnknownPass) {
		t.Errorf("unknown disabled pass: %v, want ErrUnknownPass", err)
	}
	p.Result[0].Type = types.BigIntType
	_, err := Optimize(p, Options{Validate: true})
	if err == nil || !strings.Contains(err.Error(), "input plan") {
		t.Errorf("an invalid input plan gave %v", err)
	}
	p.Result[0].Type = types.VarcharType
	ts, err := Optimize(p, Options{Validate: true, Disabled: map[string]bool{"top_n": true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != len(Passes()) || !ts[len(ts)-1].Disabled || ts[0].Disabled {
		t.Errorf("timings %v: want every pass, top_n disabled", ts)
	}
	if s := ts.String(); !strings.Contains(s, "top_n: disabled\n") || !strings.Contains(s, "constant_folding: ") {
		t.Errorf("timings print as %q", s)
	}
}
