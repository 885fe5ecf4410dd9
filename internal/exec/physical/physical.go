package physical

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/bpfdb/bpfdb/internal/exec/aggregate"
	"github.com/bpfdb/bpfdb/internal/exec/collect"
	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/exec/filter"
	"github.com/bpfdb/bpfdb/internal/exec/hash"
	"github.com/bpfdb/bpfdb/internal/exec/join"
	"github.com/bpfdb/bpfdb/internal/exec/order"
	"github.com/bpfdb/bpfdb/internal/exec/project"
	"github.com/bpfdb/bpfdb/internal/exec/scan"
	"github.com/bpfdb/bpfdb/internal/exec/values"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/planner"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/types"
)

// Options are what operators need from the database.
type Options struct {
	// Buffers accounts the memory of hash tables, sorts and results; nil:
	// none.
	Buffers *buffer.Manager
	// Hash is the Hash hook's slot; nil: the built-in hash.
	Hash *hash.Slot
}

// Plan is an executable query: pipelines in dependency order and the
// collection the last one fills with the result.
type Plan struct {
	// Pipelines run with parallel.Run.
	Pipelines []*parallel.Pipeline
	// Result holds the result rows once the pipelines ran, in the order
	// of Columns.
	Result *collect.Collection
	// Columns are the result's columns as the client sees them.
	Columns []planner.Column
	// Steps describe the pipelines for EXPLAIN, in the order of Pipelines.
	Steps []Step

	release []func() error // the operators' Close or Release
}

// Close releases the memory the operators of the last run still hold (hash
// tables, sorted runs, materialized rows, the result): call it once the
// pipelines ended and the result was read. The plan must not run again.
func (p *Plan) Close() error {
	var errs []error
	for _, f := range p.release {
		errs = append(errs, f())
	}
	p.release = nil
	return errors.Join(errs...)
}

// Step describes one pipeline: the names of its source, operators and
// sink, for EXPLAIN; RunStats of the same index give their row counts.
type Step struct {
	Name   string
	Stages []string // source, operators..., sink
	After  []string // names of the pipelines it waits for
	stats  []func() string
}

// Stats returns what each stage that keeps statistics reported after the
// last run, one string per stage ("" if none).
func (s Step) Stats() []string {
	out := make([]string, len(s.stats))
	for i, f := range s.stats {
		if f != nil {
			out[i] = f()
		}
	}
	return out
}

// ErrUnsupported is returned for plan nodes the executor cannot run.
var ErrUnsupported = errors.New("unsupported plan")

// Build turns an optimized logical plan into pipelines.
func Build(p *planner.Plan, opts Options) (*Plan, error) {
	b := &builder{opts: opts}
	root, err := b.build(p.Root)
	if err != nil {
		return nil, err
	}
	// Put the result columns in the client's order.
	exprs := make([]expr.Expr, len(p.Result))
	for i, c := range p.Result {
		exprs[i] = c.Ref()
	}
	if err := b.project(root, exprs, ids(p.Result)); err != nil {
		return nil, err
	}
	res := collect.New(root.types, collect.Options{Limit: -1, Buffers: opts.Buffers})
	b.release = append(b.release, res.Close)
	b.finish(root, res, "result", nil)
	return &Plan{Pipelines: b.pipelines, Result: res, Columns: p.Result, Steps: b.steps, release: b.release}, nil
}

// pipe is a pipeline being built: a source, operators, and where each
// column of its current chunks comes from.
type pipe struct {
	source parallel.Source
	ops    []parallel.Operator
	stages []string
	stats  []func() string
	// layout[i] is the ColumnID of chunk column i (-1: a column the
	// planner made up, e.g. a computed join key).
	layout []planner.ColumnID
	types  []types.Type
	deps   []*parallel.Pipeline
	// scan is the pipeline's source if it scans a table, scanIDs the
	// ColumnIDs of the scan's output columns: a column of the same ID
	// further up holds the scanned value.
	scan    *scan.Source
	scanIDs []planner.ColumnID
}

// scanColumn returns the output column of p's scan that chunk column pos
// holds, if p starts with a scan and the column came from it unchanged.
func (p *pipe) scanColumn(pos int) (int, bool) {
	if p.scan == nil || p.layout[pos] < 0 {
		return 0, false
	}
	i := slices.Index(p.scanIDs, p.layout[pos])
	return i, i >= 0
}

// keySetColumn returns the scan output column a join of kind with
// probeKeys (positions in probe) can give its key set to (join.Spec's
// KeySet): one INTEGER, BIGINT or DATE key that the probe pipeline's scan
// produces, and a kind whose probe rows without a match produce nothing,
// so that the scan may drop them.
func keySetColumn(kind join.Kind, probe *pipe, probeKeys []int) (int, bool) {
	switch kind {
	case join.Inner, join.Semi, join.RightSemi, join.RightAnti:
	default:
		return 0, false
	}
	if len(probeKeys) != 1 {
		return 0, false
	}
	switch probe.types[probeKeys[0]].ID() {
	case types.Integer, types.BigInt, types.Date:
	default:
		return 0, false
	}
	return probe.scanColumn(probeKeys[0])
}

type builder struct {
	opts      Options
	pipelines []*parallel.Pipeline
	steps     []Step
	release   []func() error
}

func ids(cs []planner.Column) []planner.ColumnID {
	out := make([]planner.ColumnID, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func typesOf(cs []planner.Column) []types.Type {
	out := make([]types.Type, len(cs))
	for i, c := range cs {
		out[i] = c.Type
	}
	return out
}

// finish ends p with sink and records the pipeline; name gets a number.
func (b *builder) finish(p *pipe, sink parallel.Sink, name string, sinkStats func() string) *parallel.Pipeline {
	name = fmt.Sprintf("%d %s", len(b.pipelines)+1, name)
	pl := parallel.NewPipeline(name, p.source, p.ops, sink)
	pl.DependsOn(p.deps...)
	after := make([]string, len(p.deps))
	for i, d := range p.deps {
		after[i] = d.Name()
	}
	b.pipelines = append(b.pipelines, pl)
	b.steps = append(b.steps, Step{
		Name:   name,
		Stages: append(slices.Clone(p.stages), sinkName(sink)),
		After:  after,
		stats:  append(slices.Clone(p.stats), sinkStats),
	})
	return pl
}

func sinkName(s parallel.Sink) string {
	switch s.(type) {
	case *aggregate.Aggregate:
		return "HASH_GROUP_BY"
	case *order.Sort:
		return "ORDER_BY"
	case *collect.Collection:
		return "COLLECT"
	}
	return "JOIN_BUILD"
}

// newPipe starts a pipeline from a source.
func newPipe(src parallel.Source, name string, stats func() string, layout []planner.ColumnID, deps ...*parallel.Pipeline) *pipe {
	return &pipe{
		source: src,
		stages: []string{name},
		stats:  []func() string{stats},
		layout: layout,
		types:  src.Types(),
		deps:   deps,
	}
}

func (p *pipe) add(op parallel.Operator, name string, stats func() string, layout []planner.ColumnID) {
	p.ops = append(p.ops, op)
	p.stages = append(p.stages, name)
	p.stats = append(p.stats, stats)
	p.layout = layout
	p.types = op.Types()
}

// bind maps an expression over ColumnIDs to one over p's chunk positions.
func (p *pipe) bind(e expr.Expr) (expr.Expr, error) {
	return bindTo(e, p.layout, p.types)
}

func bindTo(e expr.Expr, layout []planner.ColumnID, ts []types.Type) (expr.Expr, error) {
	return expr.Rewrite(e, func(e expr.Expr) (expr.Expr, error) {
		c, ok := e.(*expr.Column)
		if !ok {
			return e, nil
		}
		i := slices.Index(layout, planner.ColumnID(c.Index))
		if i < 0 {
			return nil, fmt.Errorf("%w: column %s#%d is not an input of its operator", ErrUnsupported, c.Name, c.Index)
		}
		if ts[i] != c.T {
			return nil, fmt.Errorf("BUG: column %s#%d is %s in the plan but %s in the pipeline", c.Name, c.Index, c.T, ts[i])
		}
		return expr.NewColumn(i, c.Name, c.T, c.At), nil
	})
}

// project adds a projection of exprs (over IDs) whose outputs get layout.
func (b *builder) project(p *pipe, exprs []expr.Expr, layout []planner.ColumnID) error {
	bound := make([]expr.Expr, len(exprs))
	identity := len(exprs) == len(p.layout)
	for i, e := range exprs {
		be, err := p.bind(e)
		if err != nil {
			return err
		}
		bound[i] = be
		if c, ok := be.(*expr.Column); !ok || c.Index != i {
			identity = false
		}
	}
	if identity {
		p.layout = layout
		return nil
	}
	op, err := project.New(p.types, bound)
	if err != nil {
		return err
	}
	p.add(op, "PROJECTION "+exprList(bound), nil, layout)
	return nil
}

// keep appends to p's chunk the values of exprs that are not plain input
// columns and returns the positions of all of them.
func (b *builder) keep(p *pipe, exprs []expr.Expr) ([]int, error) {
	pos := make([]int, len(exprs))
	var extra []expr.Expr
	for i, e := range exprs {
		be, err := p.bind(e)
		if err != nil {
			return nil, err
		}
		if c, ok := be.(*expr.Column); ok {
			pos[i] = c.Index
			continue
		}
		pos[i] = len(p.layout) + len(extra)
		extra = append(extra, be)
	}
	if len(extra) == 0 {
		return pos, nil
	}
	layout := slices.Clone(p.layout)
	for range extra {
		layout = append(layout, -1)
	}
	// Columns with made-up IDs (-1) cannot be referenced by ID: bind the
	// pass-through part positionally.
	bound := make([]expr.Expr, len(layout))
	for i := range p.layout {
		bound[i] = expr.NewColumn(i, "", p.types[i], expr.Pos{})
	}
	copy(bound[len(p.layout):], extra)
	op, err := project.New(p.types, bound)
	if err != nil {
		return nil, err
	}
	p.add(op, "PROJECTION "+exprList(bound), nil, layout)
	return pos, nil
}

func exprList(es []expr.Expr) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.String()
	}
	return strings.Join(parts, ", ")
}

func (b *builder) build(n planner.Node) (*pipe, error) {
	switch n := n.(type) {
	case *planner.Get:
		return b.get(n)
	case *planner.Filter:
		p, err := b.build(n.Input)
		if err != nil {
			return nil, err
		}
		return p, b.filter(p, n.Cond)
	case *planner.Project:
		p, err := b.build(n.Input)
		if err != nil {
			return nil, err
		}
		return p, b.project(p, n.Exprs, ids(n.Columns))
	case *planner.Aggregate:
		return b.aggregate(n)
	case *planner.Join:
		return b.join(n)
	case *planner.Order:
		return b.order(n.Input, n.Keys, -1, 0)
	case *planner.TopN:
		return b.order(n.Input, n.Keys, n.Count, n.Offset)
	case *planner.Limit:
		return b.limit(n)
	case *planner.Union:
		return b.union(n)
	case *planner.Values:
		return b.values(n)
	}
	return nil, fmt.Errorf("%w: %T", ErrUnsupported, n)
}

func (b *builder) get(n *planner.Get) (*pipe, error) {
	src, err := scan.New(n.Table, scan.Options{Columns: n.TableColumns, Filters: n.ZoneFilters})
	if err != nil {
		return nil, err
	}
	name := "TABLE_SCAN " + n.Table.Name()
	if len(n.ZoneFilters) > 0 {
		fs := make([]string, len(n.ZoneFilters))
		for i, f := range n.ZoneFilters {
			fs[i] = f.String()
		}
		name += " zonemap [" + strings.Join(fs, ", ") + "]"
	}
	p := newPipe(src, name, func() string { return src.Stats().String() }, ids(n.Columns))
	p.scan, p.scanIDs = src, ids(n.Columns)
	// The filters the scan applies exactly need no operator.
	var rest []expr.Expr
	for _, f := range n.Filters {
		if !n.ScanExact(f) {
			rest = append(rest, f)
		}
	}
	if len(rest) == 0 {
		return p, nil
	}
	// One filter for all: EvalFilter runs the conjuncts one after
	// another on the rows the previous ones kept.
	cond := rest[0]
	for _, f := range rest[1:] {
		and, err := expr.NewBinary(expr.OpAnd, cond, f, expr.Pos{})
		if err != nil {
			return nil, err
		}
		cond = and
	}
	return p, b.filter(p, cond)
}

func (b *builder) filter(p *pipe, cond expr.Expr) error {
	be, err := p.bind(cond)
	if err != nil {
		return err
	}
	op, err := filter.New(p.types, be)
	if err != nil {
		return err
	}
	p.add(op, "FILTER "+be.String(), nil, p.layout)
	return nil
}

func (b *builder) aggregate(n *planner.Aggregate) (*pipe, error) {
	p, err := b.build(n.Input)
	if err != nil {
		return nil, err
	}
	// The aggregate reads its keys and arguments as columns: compute them.
	exprs := slices.Clone(n.Groups)
	argAt := make([]int, len(n.Aggs))
	for i, a := range n.Aggs {
		argAt[i] = -1
		if a.Arg != nil {
			argAt[i] = len(exprs)
			exprs = append(exprs, a.Arg)
		}
	}
	in, err := b.keep(p, exprs)
	if err != nil {
		return nil, err
	}
	groups := in[:len(n.Groups)]
	specs := make([]expr.AggSpec, len(n.Aggs))
	for i, a := range n.Aggs {
		specs[i] = expr.AggSpec{Kind: a.Kind, Distinct: a.Distinct, Text: a.Text, At: a.At}
		if argAt[i] >= 0 {
			specs[i].Arg = in[argAt[i]]
			specs[i].ArgType = p.types[specs[i].Arg]
		}
	}
	opts := aggregate.Options{Buffers: b.opts.Buffers, Hash: b.opts.Hash}
	if len(groups) == 1 {
		// One integer group column the scan reads: its zone maps bound it.
		if col, ok := p.scanColumn(groups[0]); ok {
			if lo, hi, ok := p.scan.IntRange(col); ok {
				opts.Dense = &aggregate.DenseRange{Lo: lo, Hi: hi}
			}
		}
	}
	agg, err := aggregate.New(p.types, groups, specs, opts)
	if err != nil {
		return nil, err
	}
	b.release = append(b.release, agg.Release)
	pl := b.finish(p, agg, "aggregate", func() string { return agg.Stats().String() })
	out := ids(n.Output())
	return newPipe(agg.Source(), "HASH_GROUP_BY (result)", nil, out, pl), nil
}

var joinKinds = map[planner.JoinKind]join.Kind{
	planner.Inner:     join.Inner,
	planner.Cross:     join.Inner,
	planner.LeftOuter: join.Left,
	planner.Semi:      join.Semi,
	planner.Anti:      join.Anti,
	planner.Mark:      join.Mark,
	planner.Single:    join.Single,
}

func (b *builder) join(n *planner.Join) (*pipe, error) {
	kind, ok := joinKinds[n.Kind]
	if !ok {
		return nil, fmt.Errorf("%w: join kind %s", ErrUnsupported, n.Kind)
	}
	if n.BuildLeft && (n.Kind == planner.Semi || n.Kind == planner.Anti) && len(n.Conds) > 0 {
		return b.rightJoin(n)
	}
	build, err := b.build(n.Right)
	if err != nil {
		return nil, err
	}
	rightKeys := make([]expr.Expr, len(n.Conds))
	leftKeys := make([]expr.Expr, len(n.Conds))
	for i, c := range n.Conds {
		leftKeys[i], rightKeys[i] = c.Left, c.Right
	}
	buildKeys, err := b.keep(build, rightKeys)
	if err != nil {
		return nil, err
	}
	probe, err := b.build(n.Left)
	if err != nil {
		return nil, err
	}
	probeKeys, err := b.keep(probe, leftKeys)
	if err != nil {
		return nil, err
	}
	var buildOut []int
	var outLayout []planner.ColumnID
	outLayout = append(outLayout, probe.layout...)
	switch n.Kind {
	case planner.Inner, planner.Cross, planner.LeftOuter, planner.Single:
		for _, c := range n.Right.Output() {
			i := slices.Index(build.layout, c.ID)
			if i < 0 {
				return nil, fmt.Errorf("BUG: join build side lost column %s", c)
			}
			buildOut = append(buildOut, i)
			outLayout = append(outLayout, c.ID)
		}
	case planner.Mark:
		outLayout = append(outLayout, n.Mark.ID)
	}
	j, err := b.newJoin(kind, n, probe, build, probeKeys, buildKeys, buildOut)
	if err != nil {
		return nil, err
	}
	bpl := b.finish(build, j.Build(), "join build", nil)
	probe.deps = append(probe.deps, bpl)
	probe.add(j.Probe(), joinName(n.Kind, n), func() string { return j.Stats().String() }, outLayout)
	return probe, nil
}

// newJoin binds n's residual over the probe's columns followed by the
// build's and creates the join, whose memory the plan releases.
func (b *builder) newJoin(kind join.Kind, n *planner.Join, probe, build *pipe, probeKeys, buildKeys, buildOut []int) (*join.Join, error) {
	var residual expr.Expr
	if n.Residual != nil {
		both := append(slices.Clone(probe.layout), build.layout...)
		bothTypes := append(slices.Clone(probe.types), build.types...)
		var err error
		if residual, err = bindTo(n.Residual, both, bothTypes); err != nil {
			return nil, err
		}
	}
	setCol, keySet := keySetColumn(kind, probe, probeKeys)
	if len(n.Conds) == 0 {
		keySet = false // a cross product
	}
	j, err := join.New(join.Spec{
		KeySet:      keySet,
		Kind:        kind,
		Probe:       probe.types,
		Build:       build.types,
		ProbeKeys:   probeKeys,
		BuildKeys:   buildKeys,
		Residual:    residual,
		BuildOutput: buildOut,
		Buffers:     b.opts.Buffers,
		Hash:        b.opts.Hash,
	})
	if err != nil {
		return nil, err
	}
	b.release = append(b.release, j.Close)
	if keySet {
		if err := probe.scan.AddSetFilter(setCol, j.KeySet); err != nil {
			return nil, err
		}
	}
	return j, nil
}

// joinName describes a join for EXPLAIN: "HASH_JOIN inner [a = b]".
func joinName(kind fmt.Stringer, n *planner.Join) string {
	name := fmt.Sprintf("HASH_JOIN %s", kind)
	if len(n.Conds) > 0 {
		conds := make([]string, len(n.Conds))
		for i, c := range n.Conds {
			conds[i] = fmt.Sprintf("%s = %s", c.Left, c.Right)
		}
		name += " [" + strings.Join(conds, ", ") + "]"
	}
	if n.Residual != nil {
		name += " residual " + n.Residual.String()
	}
	return name
}

// rightJoin runs a Semi or Anti join with its left (preserved) side built
// and its right side probing (join.RightSemi, join.RightAnti): the left
// rows go into the hash table, the probe pipeline marks the ones that
// match and the join's Source continues with the marked (semi) or
// unmarked (anti) left rows, in a pipeline of their own.
func (b *builder) rightJoin(n *planner.Join) (*pipe, error) {
	kind := join.RightSemi
	if n.Kind == planner.Anti {
		kind = join.RightAnti
	}
	leftKeys := make([]expr.Expr, len(n.Conds))
	rightKeys := make([]expr.Expr, len(n.Conds))
	for i, c := range n.Conds {
		leftKeys[i], rightKeys[i] = c.Left, c.Right
	}
	build, err := b.build(n.Left)
	if err != nil {
		return nil, err
	}
	buildKeys, err := b.keep(build, leftKeys)
	if err != nil {
		return nil, err
	}
	probe, err := b.build(n.Right)
	if err != nil {
		return nil, err
	}
	probeKeys, err := b.keep(probe, rightKeys)
	if err != nil {
		return nil, err
	}
	out := ids(n.Left.Output())
	buildOut := make([]int, len(out))
	for i, id := range out {
		if buildOut[i] = slices.Index(build.layout, id); buildOut[i] < 0 {
			return nil, fmt.Errorf("BUG: join build side lost column %d", id)
		}
	}
	j, err := b.newJoin(kind, n, probe, build, probeKeys, buildKeys, buildOut)
	if err != nil {
		return nil, err
	}
	bpl := b.finish(build, j.Build(), "join build", nil)
	probe.deps = append(probe.deps, bpl)
	ppl := b.finish(probe, j.ProbeSink(), "join probe", func() string { return j.Stats().String() })
	b.steps[len(b.steps)-1].Stages[len(probe.stages)] = "JOIN_PROBE"
	return newPipe(j.Source(), joinName(kind, n)+" (result)", nil, out, ppl), nil
}

func (b *builder) order(input planner.Node, keys []planner.SortKey, count, offset int64) (*pipe, error) {
	p, err := b.build(input)
	if err != nil {
		return nil, err
	}
	exprs := make([]expr.Expr, len(keys))
	for i, k := range keys {
		exprs[i] = k.Expr
	}
	width := len(p.layout)
	layout := p.layout
	pos, err := b.keep(p, exprs)
	if err != nil {
		return nil, err
	}
	okeys := make([]order.Key, len(keys))
	for i, k := range keys {
		okeys[i] = order.Key{Column: pos[i], Desc: k.Desc, NullsFirst: k.NullsFirst}
	}
	s, err := order.New(p.types, okeys, order.Options{Limit: count, Offset: offset, Buffers: b.opts.Buffers})
	if err != nil {
		return nil, err
	}
	b.release = append(b.release, s.Close)
	name := "order"
	if count >= 0 {
		name = "top-n"
	}
	pl := b.finish(p, s, name, func() string { return s.Stats().String() })
	out := newPipe(s.Source(), "ORDER_BY (result)", nil, p.layout, pl)
	if len(p.layout) > width {
		// Drop the computed sort keys again.
		exprs := make([]expr.Expr, width)
		for i := range width {
			exprs[i] = expr.NewColumn(i, "", out.types[i], expr.Pos{})
		}
		op, err := project.New(out.types, exprs)
		if err != nil {
			return nil, err
		}
		out.add(op, "PROJECTION "+exprList(exprs), nil, layout)
	}
	return out, nil
}

func (b *builder) limit(n *planner.Limit) (*pipe, error) {
	p, err := b.build(n.Input)
	if err != nil {
		return nil, err
	}
	c := collect.New(p.types, collect.Options{Limit: n.Count, Offset: n.Offset, Buffers: b.opts.Buffers})
	b.release = append(b.release, c.Close)
	pl := b.finish(p, c, "limit", nil)
	return newPipe(c.Source(), fmt.Sprintf("LIMIT %d OFFSET %d", n.Count, n.Offset), nil, p.layout, pl), nil
}

func (b *builder) union(n *planner.Union) (*pipe, error) {
	var parts []*collect.Collection
	var deps []*parallel.Pipeline
	ts := typesOf(n.Columns)
	for _, br := range n.Branches {
		p, err := b.build(br)
		if err != nil {
			return nil, err
		}
		refs := make([]expr.Expr, len(br.Output()))
		for i, c := range br.Output() {
			refs[i] = c.Ref()
		}
		if err := b.project(p, refs, ids(br.Output())); err != nil {
			return nil, err
		}
		for i, t := range p.types {
			if t != ts[i] {
				return nil, fmt.Errorf("BUG: union branch column %d is %s, union says %s", i, t, ts[i])
			}
		}
		c := collect.New(p.types, collect.Options{Limit: -1, Buffers: b.opts.Buffers})
		b.release = append(b.release, c.Close)
		deps = append(deps, b.finish(p, c, "union branch", nil))
		parts = append(parts, c)
	}
	return newPipe(collect.Concat(parts...), "UNION ALL", nil, ids(n.Columns), deps...), nil
}

func (b *builder) values(n *planner.Values) (*pipe, error) {
	rows := make([][]types.Value, len(n.Rows))
	for i, r := range n.Rows {
		rows[i] = make([]types.Value, len(r))
		for j, e := range r {
			c, ok := expr.Fold(e).(*expr.Const)
			if !ok {
				return nil, fmt.Errorf("%w: VALUES row %d column %d is not a constant: %s", ErrUnsupported, i+1, j+1, e)
			}
			rows[i][j] = c.Val
		}
	}
	src, err := values.New(typesOf(n.Columns), rows)
	if err != nil {
		return nil, err
	}
	return newPipe(src, fmt.Sprintf("VALUES %d rows", len(rows)), nil, ids(n.Columns)), nil
}
