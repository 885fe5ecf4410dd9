package bpfdb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bpfdb/bpfdb/internal/catalog"
	"github.com/bpfdb/bpfdb/internal/exec/load"
	"github.com/bpfdb/bpfdb/internal/exec/physical"
	"github.com/bpfdb/bpfdb/internal/optimizer"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/planner"
	"github.com/bpfdb/bpfdb/internal/sql/ast"
	"github.com/bpfdb/bpfdb/internal/sql/parser"
	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
)

// run parses sql and runs its statements one by one, handing each result
// to f (nil: drop them).
func (db *DB) run(ctx context.Context, sql string, f func(*Result) error) (int, error) {
	stmts, err := parser.Parse(sql)
	if err != nil {
		return 0, err
	}
	for i, st := range stmts {
		res, err := db.statement(ctx, st)
		if err != nil {
			return i, err
		}
		if f != nil {
			if err := f(res); err != nil {
				return i, err
			}
		}
	}
	return len(stmts), nil
}

// ErrNotSupported is returned for statements bpfdb parses but does not run.
var ErrNotSupported = errors.New("not supported")

// statement runs one statement in a transaction of its own.
func (db *DB) statement(ctx context.Context, st ast.Statement) (*Result, error) {
	if err := authorize(ctx, st); err != nil {
		return nil, err
	}
	switch st := st.(type) {
	case *ast.SelectStmt:
		return db.query(ctx, st.Query)
	case *ast.ExplainStmt:
		return db.explain(ctx, st)
	case *ast.CreateTableStmt:
		return db.createTable(ctx, st)
	case *ast.CreateViewStmt:
		return db.createView(st)
	case *ast.DropStmt:
		return db.drop(st)
	case *ast.InsertStmt:
		return db.insert(ctx, st)
	case *ast.CopyStmt:
		return db.copy(st)
	case *ast.SetStmt:
		return db.set(st)
	case *ast.ShowStmt:
		return db.show(st)
	case *ast.AttachProgramStmt:
		return db.attachProgram(st)
	case *ast.DetachProgramStmt:
		return db.detachProgram(st)
	case *ast.CreateUserStmt:
		return db.createUser(st)
	case *ast.AlterUserStmt:
		return db.alterUser(st)
	case *ast.DropUserStmt:
		return db.dropUser(st)
	}
	return nil, fmt.Errorf("%s: %w yet", strings.SplitN(st.String(), " ", 3)[0], ErrNotSupported)
}

// prepared is a query planned and ready to run.
type prepared struct {
	logical  *planner.Plan
	timings  optimizer.Timings
	physical *physical.Plan
}

// plan binds, optimizes and builds q against the catalog version tx sees.
func (db *DB) plan(tx *catalog.Tx, q *ast.Query) (*prepared, error) {
	lp, err := planner.Bind(db.binding(tx), q)
	if err != nil {
		return nil, err
	}
	return db.planBound(lp)
}

func (db *DB) planBound(lp *planner.Plan) (*prepared, error) {
	disabled, err := db.disabledOptimizers()
	if err != nil {
		return nil, err
	}
	timings, err := optimizer.Optimize(lp, optimizer.Options{Disabled: disabled})
	if err != nil {
		return nil, err
	}
	pp, err := physical.Build(lp, physical.Options{Buffers: db.cat.Buffers(), Hash: db.hooks.HashSlot()})
	if err != nil {
		return nil, err
	}
	return &prepared{logical: lp, timings: timings, physical: pp}, nil
}

func (db *DB) disabledOptimizers() (map[string]bool, error) {
	v, err := db.cat.Setting("disabled_optimizers")
	if err != nil {
		return nil, nil
	}
	return optimizer.ParseDisabled(v)
}

// close releases the memory a prepared query's operators hold.
func (p *prepared) close() {
	// Errors here are failures to give memory back, which the buffer
	// manager already reports where it matters; the statement's outcome
	// does not change.
	_ = p.physical.Close()
}

// execute runs a prepared query's pipelines.
func (db *DB) execute(ctx context.Context, p *prepared) (parallel.RunStats, error) {
	s, release, err := db.acquire()
	if err != nil {
		return parallel.RunStats{}, err
	}
	defer release()
	return parallel.Run(ctx, s, p.physical.Pipelines)
}

func (db *DB) query(ctx context.Context, q *ast.Query) (*Result, error) {
	tx := db.cat.Begin()
	defer tx.Rollback()
	p, err := db.plan(tx, q)
	if err != nil {
		return nil, err
	}
	defer p.close()
	if _, err := db.execute(ctx, p); err != nil {
		return nil, err
	}
	return p.result()
}

func (p *prepared) result() (*Result, error) {
	cols := make([]string, len(p.physical.Columns))
	ts := make([]types.Type, len(p.physical.Columns))
	for i, c := range p.physical.Columns {
		cols[i], ts[i] = c.Name, c.Type
	}
	chunks, err := p.physical.Result.Chunks()
	if err != nil {
		return nil, err
	}
	return newResult(cols, ts, chunks), nil
}

func (db *DB) explain(ctx context.Context, st *ast.ExplainStmt) (*Result, error) {
	sel, ok := st.Stmt.(*ast.SelectStmt)
	if !ok {
		return nil, fmt.Errorf("EXPLAIN %s: %w (only queries)", strings.SplitN(st.Stmt.String(), " ", 2)[0], ErrNotSupported)
	}
	tx := db.cat.Begin()
	defer tx.Rollback()
	lp, err := planner.Bind(db.binding(tx), sel.Query)
	if err != nil {
		return nil, err
	}
	unoptimized := planner.Format(lp.Root)
	p, err := db.planBound(lp)
	if err != nil {
		return nil, err
	}
	defer p.close()
	var lines []string
	add := func(s string) { lines = append(lines, strings.Split(strings.TrimRight(s, "\n"), "\n")...) }
	if !st.Analyze {
		add("logical plan (bound):")
		add(indent(unoptimized))
		add("logical plan (optimized):")
		add(indent(planner.Format(lp.Root)))
		add("pipelines:")
		for _, s := range p.physical.Steps {
			add(indent(describeStep(s, nil, nil)))
		}
		return textResult("explain", lines), nil
	}
	start := time.Now()
	stats, err := db.execute(ctx, p)
	if err != nil {
		return nil, err
	}
	total := time.Since(start)
	add(fmt.Sprintf("total %s, %d result rows", total.Round(time.Microsecond), p.physical.Result.Rows()))
	add("optimizer:")
	for _, t := range p.timings {
		add(fmt.Sprintf("  %-22s %s", t.Name, t.Duration.Round(time.Microsecond)))
	}
	add("pipelines:")
	for i, s := range p.physical.Steps {
		var ps *parallel.PipelineStats
		if i < len(stats.Pipelines) {
			ps = &stats.Pipelines[i]
		}
		add(indent(describeStep(s, ps, s.Stats())))
	}
	return textResult("explain analyze", lines), nil
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}

// describeStep prints one pipeline: its name and what it waits for, then
// each stage, with rows and statistics if it ran.
func describeStep(s physical.Step, ps *parallel.PipelineStats, extra []string) string {
	var b strings.Builder
	b.WriteString("pipeline " + s.Name)
	if len(s.After) > 0 {
		b.WriteString(" (after " + strings.Join(s.After, ", ") + ")")
	}
	if ps != nil {
		fmt.Fprintf(&b, ": %d tasks, %d morsels, wall %s", ps.Tasks, ps.Morsels, ps.Wall.Round(time.Microsecond))
	}
	b.WriteByte('\n')
	for i, name := range s.Stages {
		fmt.Fprintf(&b, "  %s", name)
		if ps != nil && i < len(ps.Rows) {
			fmt.Fprintf(&b, "  → %d rows", ps.Rows[i])
		}
		if ps != nil && i < len(ps.Time) {
			fmt.Fprintf(&b, "  %s", ps.Time[i].Round(time.Microsecond))
		}
		if i < len(extra) && extra[i] != "" {
			fmt.Fprintf(&b, "  [%s]", extra[i])
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func (db *DB) createTable(ctx context.Context, st *ast.CreateTableStmt) (*Result, error) {
	tx := db.cat.Begin()
	defer tx.Rollback()
	name := st.Name.Name
	if st.As != nil {
		p, err := db.plan(tx, st.As)
		if err != nil {
			return nil, err
		}
		defer p.close()
		cols := make([]catalog.ColumnDef, len(p.physical.Columns))
		for i, c := range p.physical.Columns {
			cols[i] = catalog.ColumnDef{Name: c.Name, Type: c.Type}
		}
		if err := tx.CreateTable(name, cols, st.IfNotExists); err != nil {
			return nil, err
		}
		if _, err := db.execute(ctx, p); err != nil {
			return nil, err
		}
		n, err := db.appendResult(tx, name, p)
		if err != nil {
			return nil, err
		}
		if err := tx.Commit(); err != nil {
			return nil, err
		}
		return &Result{Tag: "CREATE TABLE", RowsAffected: n}, nil
	}
	pk := map[string]bool{}
	for _, c := range st.PrimaryKey {
		pk[strings.ToLower(c)] = true
	}
	cols := make([]catalog.ColumnDef, len(st.Columns))
	for i, c := range st.Columns {
		t, err := types.ParseType(c.Type.String())
		if err != nil {
			return nil, fmt.Errorf("create table %s: column %s at %s: %w", name, c.Name, c.At, err)
		}
		isPK := c.PrimaryKey || pk[strings.ToLower(c.Name)]
		cols[i] = catalog.ColumnDef{Name: c.Name, Type: t, NotNull: c.NotNull || isPK, PrimaryKey: isPK}
	}
	if err := tx.CreateTable(name, cols, st.IfNotExists); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return &Result{Tag: "CREATE TABLE"}, nil
}

// appendResult appends the rows of an executed plan to table name.
func (db *DB) appendResult(tx *catalog.Tx, name string, p *prepared) (int64, error) {
	ins, err := tx.Insert(name)
	if err != nil {
		return 0, err
	}
	chunks, err := p.physical.Result.Chunks()
	if err != nil {
		return 0, err
	}
	var n int64
	for _, c := range chunks {
		if err := ins.Append(c); err != nil {
			return 0, err
		}
		n += int64(c.Len())
	}
	return n, nil
}

func (db *DB) createView(st *ast.CreateViewStmt) (*Result, error) {
	tx := db.cat.Begin()
	defer tx.Rollback()
	// Bind the query now, so that a view that cannot work is refused.
	lp, err := planner.Bind(db.binding(tx), st.Query)
	if err != nil {
		return nil, err
	}
	if len(st.Columns) > len(lp.Result) {
		return nil, fmt.Errorf("create view %s: %d column names for %d columns", st.Name.Name, len(st.Columns), len(lp.Result))
	}
	if err := tx.CreateView(st.Name.Name, ast.Format(st.Query), st.Columns, st.OrReplace); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return &Result{Tag: "CREATE VIEW"}, nil
}

func (db *DB) drop(st *ast.DropStmt) (*Result, error) {
	tx := db.cat.Begin()
	defer tx.Rollback()
	kind := catalog.KindTable
	tag := "DROP TABLE"
	if st.Kind == ast.ObjView {
		kind, tag = catalog.KindView, "DROP VIEW"
	}
	for _, n := range st.Names {
		if err := tx.Drop(kind, n.Name, st.IfExists); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return &Result{Tag: tag}, nil
}

func (db *DB) insert(ctx context.Context, st *ast.InsertStmt) (*Result, error) {
	tx := db.cat.Begin()
	defer tx.Rollback()
	lp, err := planner.BindInsert(db.binding(tx), st)
	if err != nil {
		return nil, err
	}
	p, err := db.planBound(lp)
	if err != nil {
		return nil, err
	}
	defer p.close()
	if _, err := db.execute(ctx, p); err != nil {
		return nil, err
	}
	n, err := db.appendResult(tx, st.Table.Name, p)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return &Result{Tag: "INSERT", RowsAffected: n}, nil
}

func (db *DB) copy(st *ast.CopyStmt) (*Result, error) {
	tx := db.cat.Begin()
	defer tx.Rollback()
	opts := load.Options{}
	if strings.HasSuffix(strings.ToLower(st.File), ".tbl") {
		opts.Format = load.TBL
	}
	for _, o := range st.Options {
		switch o.Name {
		case "format":
			switch strings.ToLower(o.Value) {
			case "csv":
				opts.Format = load.CSV
			case "tbl":
				opts.Format = load.TBL
			default:
				return nil, fmt.Errorf("copy %s: option format at %s: %q is not csv or tbl", st.Table.Name, o.At, o.Value)
			}
		case "header":
			opts.Header = o.Kind == ast.OptNone || isTrue(o.Value)
		case "delimiter", "delim", "sep":
			if len(o.Value) != 1 {
				return nil, fmt.Errorf("copy %s: option delimiter at %s: %q is not one byte", st.Table.Name, o.At, o.Value)
			}
			opts.Delimiter = o.Value[0]
			if o.Value == "|" && opts.Format == load.CSV {
				opts.Format = load.TBL
			}
		default:
			return nil, fmt.Errorf("copy %s: option %s at %s: %w", st.Table.Name, o.Name, o.At, ErrNotSupported)
		}
	}
	if len(st.Columns) > 0 {
		return nil, fmt.Errorf("copy %s: a column list: %w", st.Table.Name, ErrNotSupported)
	}
	n, err := tx.Load(st.Table.Name, func(t *table.Table, notNull []bool) (int64, error) {
		opts.NotNull = notNull
		stats, err := load.File(t, st.File, opts)
		return stats.Rows, err
	})
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return &Result{Tag: "COPY", RowsAffected: n}, nil
}

func isTrue(s string) bool {
	switch strings.ToLower(s) {
	case "true", "on", "1", "yes":
		return true
	}
	return false
}

func (db *DB) set(st *ast.SetStmt) (*Result, error) {
	var v string
	switch e := st.Value.(type) {
	case *ast.StringLit:
		v = e.Value
	default:
		v = e.String()
	}
	if st.Name == "disabled_optimizers" {
		if _, err := optimizer.ParseDisabled(v); err != nil {
			return nil, err
		}
	}
	if err := db.cat.Set(st.Name, v); err != nil {
		return nil, err
	}
	return &Result{Tag: "SET"}, nil
}

func (db *DB) show(st *ast.ShowStmt) (*Result, error) {
	v, err := db.cat.Setting(st.Name)
	if err != nil {
		return nil, err
	}
	r := textResult(st.Name, []string{v})
	r.Tag = "SHOW"
	return r, nil
}
