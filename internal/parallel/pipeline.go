package parallel

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// A pipeline pushes chunks from a source through operators into a sink,
// DuckDB-style. Every stage has a global state, created once per run of
// the pipeline by Init, and a local state per task, created by NewLocal on
// the worker that first executes the task. Global states are shared by
// all tasks and must synchronize what they share; local states are used by
// one task at a time and need no locks.
//
// Lifecycle of one pipeline run:
//
//	Init (source, operators, sink)          once, after every dependency finalized
//	  n = min(Threads, Morsels()) tasks     each:
//	    NewLocal (source, operators, sink)    on its first execution
//	    repeat: claim morsel m                shared counter 0..Morsels()-1
//	      Scan(m) → Execute… → Sink           chunk by chunk
//	    Combine                               when no morsel is left
//	    Close locals (if they implement io.Closer-like Close() error)
//	  Finalize (sink)                       once, by the task that ended last
//	start the pipelines that depended on this one
//
// With zero morsels no task runs and Finalize follows Init directly (an
// aggregate without groups still produces its row). Errors from any stage
// fail the query; cancellation stops every task at its next chunk.

// Source produces a pipeline's chunks, morsel by morsel.
type Source interface {
	// Types returns the column types of the chunks the source produces.
	Types() []types.Type
	// Init creates the global state for one run of the pipeline. It is
	// called once, before any task runs, on the goroutine that starts the
	// pipeline (the caller of Run, or the worker that finalized the last
	// dependency).
	Init(p *Producer) (SourceState, error)
}

// SourceState is a source's global state for one pipeline run.
type SourceState interface {
	// Morsels returns how many morsels the source has: tasks claim them by
	// index 0..Morsels()-1. A morsel is a range of row groups of a table
	// or a range of rows of an intermediate result.
	Morsels() int
	// NewLocal creates one task's local source state.
	NewLocal() (SourceLocal, error)
}

// SourceLocal is a task's local source state.
type SourceLocal interface {
	// Scan fills out (which the caller has Reset) with the next rows of
	// morsel m and reports whether the morsel has more. It may return
	// zero rows with more = true (e.g. after skipping a zone), and rows
	// with more = false (the last ones).
	Scan(m int, out *vector.Chunk) (more bool, err error)
}

// OperatorResult is what an operator reports for one input chunk.
type OperatorResult uint8

const (
	// NeedMoreInput: the operator is done with this input chunk.
	NeedMoreInput OperatorResult = iota
	// HaveMoreOutput: call Execute again with the same input; it has more
	// output for it (a join emitting matches chunk by chunk).
	HaveMoreOutput
	// Finished: the operator wants no more input at all (a LIMIT that is
	// satisfied): the pipeline stops claiming morsels, in every task.
	Finished
)

// String returns the result's name.
func (r OperatorResult) String() string {
	switch r {
	case NeedMoreInput:
		return "need-more-input"
	case HaveMoreOutput:
		return "have-more-output"
	case Finished:
		return "finished"
	}
	return fmt.Sprintf("OperatorResult(%d)", uint8(r))
}

// Operator transforms chunks in the middle of a pipeline.
type Operator interface {
	// Types returns the column types of the operator's output.
	Types() []types.Type
	// Init creates the global state for one pipeline run, like
	// Source.Init. An operator that reads a finalized sink of another
	// pipeline (a hash join probe reading its build) does so here.
	Init(p *Producer) (OperatorState, error)
}

// OperatorState is an operator's global state for one pipeline run.
type OperatorState interface {
	// NewLocal creates one task's local operator state.
	NewLocal() (OperatorLocal, error)
}

// OperatorLocal is a task's local operator state.
type OperatorLocal interface {
	// Execute reads in and writes its output into out (which the caller
	// has Reset). in must not be modified. Output rows are passed on even
	// with Finished.
	Execute(in, out *vector.Chunk) (OperatorResult, error)
}

// Sink consumes a pipeline's chunks.
type Sink interface {
	// Init creates the global state for one pipeline run, like
	// Source.Init.
	Init(p *Producer) (SinkState, error)
}

// SinkState is a sink's global state for one pipeline run.
type SinkState interface {
	// NewLocal creates one task's local sink state.
	NewLocal() (SinkLocal, error)
	// Finalize runs once after every task has combined, on the worker
	// that finished the last task (or the goroutine that started the
	// pipeline, if it had no morsels). A hash join's build sink builds
	// its table here; work that should be parallel belongs in a pipeline
	// of its own that depends on this one.
	Finalize() error
}

// SinkLocal is a task's local sink state.
type SinkLocal interface {
	// Sink consumes one chunk (which it must copy from if it keeps data:
	// the chunk is reused).
	Sink(in *vector.Chunk) error
	// Combine merges the local state into the global state, once per
	// task, after its last Sink. Combines of different tasks may run
	// concurrently.
	Combine() error
}

// MorselSink is implemented by sink local states that want to know which
// morsel the next chunks come from: BeginMorsel(m) is called when the task
// claims morsel m, before its first chunk reaches the sink. Morsel order is
// the source's order, so a sink that keeps its chunks by morsel can restore
// it (DuckDB's batch index), e.g. to return a table scan's rows in
// insertion order from a parallel scan.
type MorselSink interface {
	BeginMorsel(m int)
}

// closer is implemented by local states that hold resources (pinned
// buffers): Close is called once when the task ends, however it ends.
type closer interface{ Close() error }

// Pipeline is one source → operators → sink chain of a query plan. A
// Pipeline describes; Run executes (a Pipeline may be run many times, not
// concurrently).
type Pipeline struct {
	name   string
	source Source
	ops    []Operator
	sink   Sink
	deps   []*Pipeline
}

// NewPipeline returns a pipeline; name appears in errors.
func NewPipeline(name string, source Source, ops []Operator, sink Sink) *Pipeline {
	return &Pipeline{name: name, source: source, ops: ops, sink: sink}
}

// DependsOn records that p may start only after each of deps finalized.
func (p *Pipeline) DependsOn(deps ...*Pipeline) { p.deps = append(p.deps, deps...) }

// Name returns the pipeline's name.
func (p *Pipeline) Name() string { return p.name }

// String returns "name" or "name (after a, b)".
func (p *Pipeline) String() string {
	if len(p.deps) == 0 {
		return p.name
	}
	names := make([]string, len(p.deps))
	for i, d := range p.deps {
		names[i] = d.name
	}
	return p.name + " (after " + strings.Join(names, ", ") + ")"
}

// ErrPlan is returned by Run for pipelines that cannot run: a dependency
// outside the set or a cycle.
var ErrPlan = errors.New("invalid pipeline plan")

// Run executes one query's pipelines on s, each after the pipelines it
// depends on, and returns when all have finalized or the query failed. The
// error is the first task or stage error, or the cancellation cause of
// ctx. In both cases Run returns only after every task of the query has
// ended, so no stage state is touched after it returns. Run must not be
// called from inside a task. The stats are filled in either case.
func Run(ctx context.Context, s *Scheduler, pipelines []*Pipeline) (RunStats, error) {
	runs, err := plan(pipelines)
	if err != nil {
		return RunStats{}, err
	}
	p := s.NewProducer(ctx)
	q := &query{p: p, runs: runs}
	q.left.Store(int64(len(runs)))
	// Collect the runs without dependencies before starting any: a run
	// with no morsels finishes inside start and starts its dependents,
	// which a later look at their depsLeft would start a second time.
	var ready []*pipelineRun
	for _, r := range runs {
		if r.depsLeft.Load() == 0 {
			ready = append(ready, r)
		}
	}
	for _, r := range ready {
		q.start(r)
	}
	err = p.Close()
	if err == nil && q.left.Load() != 0 {
		panic(fmt.Sprintf("BUG: query ended with %d pipelines not finalized", q.left.Load()))
	}
	st := RunStats{Query: p.Metrics()}
	for _, r := range runs {
		st.Pipelines = append(st.Pipelines, r.stats())
	}
	return st, err
}

// RunStats is what Run measured: the query's scheduler metrics and, per
// pipeline in the order given to Run, what flowed through it (the numbers
// EXPLAIN ANALYZE shows).
type RunStats struct {
	Query     QueryMetrics
	Pipelines []PipelineStats
}

// PipelineStats counts one pipeline's work in a Run.
type PipelineStats struct {
	// Name is the pipeline's name.
	Name string
	// Tasks is the number of tasks it was given (0 if it never started).
	Tasks int
	// Morsels counts the morsels its tasks claimed and scanned; fewer than
	// the source has if an operator Finished early or the query failed.
	Morsels int64
	// Chunks counts the non-empty chunks the source produced.
	Chunks int64
	// Rows has the rows out of each stage: Rows[0] from the source,
	// Rows[i] from operator i; the last entry is what the sink consumed.
	Rows []int64
	// Time has the time spent in each stage, summed over tasks (so it can
	// exceed Wall on several threads): Time[0] in the source's Scan,
	// Time[i] in operator i's Execute, and the last entry in the sink
	// (Sink, Combine and Finalize). A stage's time excludes the stages
	// after it.
	Time []time.Duration
	// Finalized reports whether the sink's Finalize completed.
	Finalized bool
	// Wall is the time from the pipeline's Init to the end of its
	// Finalize (zero unless Finalized).
	Wall time.Duration
}

// String prints the stats as a table, one pipeline per line:
//
//	pipeline  tasks  morsels  chunks  rows                  wall
//	build     2      6        10      3000 → 1500           1.2ms
func (st RunStats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-12s %5s %8s %8s  %-30s %s\n", "pipeline", "tasks", "morsels", "chunks", "rows (source → operators)", "wall")
	for _, ps := range st.Pipelines {
		rows := make([]string, len(ps.Rows))
		for i, n := range ps.Rows {
			rows[i] = fmt.Sprint(n)
		}
		wall := "-"
		if ps.Finalized {
			wall = ps.Wall.Round(time.Microsecond).String()
		}
		fmt.Fprintf(&b, "%-12s %5d %8d %8d  %-30s %s\n", ps.Name, ps.Tasks, ps.Morsels, ps.Chunks, strings.Join(rows, " → "), wall)
	}
	fmt.Fprintf(&b, "query: %v\n", st.Query)
	return b.String()
}

// pipelineRun is the state of one pipeline during one Run.
type pipelineRun struct {
	p          *Pipeline
	dependents []*pipelineRun
	depsLeft   atomic.Int32

	src     SourceState
	ops     []OperatorState
	sink    SinkState
	morsels int
	next    atomic.Int64 // next morsel to claim
	stop    atomic.Bool  // an operator Finished: claim no more morsels
	tasks   atomic.Int32 // tasks not yet ended

	// Stats: counters are added by each task when it ends.
	nTasks    int
	claimed   atomic.Int64
	chunks    atomic.Int64
	rows      []atomic.Int64 // per stage: source, then each operator
	nanos     []atomic.Int64 // per stage: source, each operator, sink
	started   time.Time
	wall      time.Duration
	finalized bool
}

func (r *pipelineRun) stats() PipelineStats {
	ps := PipelineStats{
		Name: r.p.name, Tasks: r.nTasks, Morsels: r.claimed.Load(), Chunks: r.chunks.Load(),
		Rows: make([]int64, len(r.rows)), Finalized: r.finalized, Wall: r.wall,
		Time: make([]time.Duration, len(r.nanos)),
	}
	for i := range r.rows {
		ps.Rows[i] = r.rows[i].Load()
	}
	for i := range r.nanos {
		ps.Time[i] = time.Duration(r.nanos[i].Load())
	}
	return ps
}

type query struct {
	p    *Producer
	runs []*pipelineRun
	left atomic.Int64 // pipelines not yet finalized
}

// plan checks the dependency graph and links dependents.
func plan(pipelines []*Pipeline) ([]*pipelineRun, error) {
	byP := make(map[*Pipeline]*pipelineRun, len(pipelines))
	runs := make([]*pipelineRun, len(pipelines))
	for i, p := range pipelines {
		if byP[p] != nil {
			return nil, fmt.Errorf("pipeline %s listed twice: %w", p.name, ErrPlan)
		}
		runs[i] = &pipelineRun{p: p, rows: make([]atomic.Int64, 1+len(p.ops)), nanos: make([]atomic.Int64, 2+len(p.ops))}
		byP[p] = runs[i]
	}
	for _, r := range runs {
		for _, d := range r.p.deps {
			dr := byP[d]
			if dr == nil {
				return nil, fmt.Errorf("pipeline %s depends on %s, which is not in the plan: %w", r.p.name, d.name, ErrPlan)
			}
			dr.dependents = append(dr.dependents, r)
			r.depsLeft.Add(1)
		}
	}
	// Kahn's algorithm: every pipeline must become ready.
	ready := 0
	left := make(map[*pipelineRun]int32, len(runs))
	var queue []*pipelineRun
	for _, r := range runs {
		left[r] = r.depsLeft.Load()
		if left[r] == 0 {
			queue = append(queue, r)
		}
	}
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		ready++
		for _, d := range r.dependents {
			if left[d]--; left[d] == 0 {
				queue = append(queue, d)
			}
		}
	}
	if ready != len(runs) {
		return nil, fmt.Errorf("pipeline dependencies form a cycle: %w", ErrPlan)
	}
	return runs, nil
}

// start initializes a pipeline run and schedules its tasks (or finalizes
// it at once if it has no morsels). Errors fail the query.
func (q *query) start(r *pipelineRun) {
	if q.p.Cancelled() {
		return
	}
	r.started = time.Now()
	if err := guard(func() error { return r.init(q.p) }); err != nil {
		q.p.Cancel(fmt.Errorf("pipeline %s: init: %w", r.p.name, err))
		return
	}
	n := min(q.p.s.threads, r.morsels)
	if n == 0 {
		q.finish(r)
		return
	}
	r.nTasks = n
	r.tasks.Store(int32(n))
	for range n {
		q.p.Schedule(&pipelineTask{q: q, r: r, morsel: -1})
	}
}

func (r *pipelineRun) init(p *Producer) error {
	var err error
	if r.src, err = r.p.source.Init(p); err != nil {
		return err
	}
	r.ops = make([]OperatorState, len(r.p.ops))
	for i, op := range r.p.ops {
		if r.ops[i], err = op.Init(p); err != nil {
			return err
		}
	}
	if r.sink, err = r.p.sink.Init(p); err != nil {
		return err
	}
	r.morsels = r.src.Morsels()
	return nil
}

// guard runs a stage call that may run on the caller of Run (not inside a
// task), turning a panic into the query's error as a worker would.
func guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("BUG: stage panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return f()
}

// finish finalizes a pipeline run and starts the runs that waited for it.
func (q *query) finish(r *pipelineRun) {
	if q.p.Cancelled() {
		return
	}
	start := time.Now()
	if err := guard(r.sink.Finalize); err != nil {
		q.p.Cancel(fmt.Errorf("pipeline %s: finalize: %w", r.p.name, err))
		return
	}
	r.nanos[len(r.nanos)-1].Add(int64(time.Since(start)))
	r.wall, r.finalized = time.Since(r.started), true
	q.left.Add(-1)
	for _, d := range r.dependents {
		if d.depsLeft.Add(-1) == 0 {
			q.start(d)
		}
	}
}

// pipelineTask is one of a pipeline run's tasks. It keeps its local states
// across Partial executions.
type pipelineTask struct {
	q      *query
	r      *pipelineRun
	morsel int // the morsel being scanned, -1 if none

	src    SourceLocal
	ops    []OperatorLocal
	sink   SinkLocal
	chunks []*vector.Chunk // chunks[0]: source output; chunks[i+1]: ops[i] output
	// cache[i+1] gathers ops[i]'s small outputs for stage i+1 (see
	// emit); cache[0] is unused.
	cache  []*vector.Chunk
	closed sync.Once

	// Local counters, added to the pipeline run's when the task ends.
	claimed, nChunks int64
	rows             []int64
	nanos            []int64 // per stage, as pipelineRun.nanos
}

// Execute scans morsels through the pipeline: one morsel per call in
// Partial mode, all remaining in Full mode.
func (t *pipelineTask) Execute(tc TaskContext, mode Mode) (Result, error) {
	defer func() {
		// A stage's panic is a bug the worker turns into the query's error;
		// the task's locals are closed all the same (they may hold pins).
		if p := recover(); p != nil {
			t.close()
			panic(p)
		}
	}()
	r := t.r
	if t.chunks == nil {
		if err := t.newLocals(); err != nil {
			t.close()
			return Done, fmt.Errorf("pipeline %s: %w", r.p.name, err)
		}
	}
	for {
		if tc.Producer.Cancelled() {
			t.close()
			return Done, nil
		}
		if t.morsel < 0 {
			m := int(r.next.Add(1) - 1)
			if m >= r.morsels || r.stop.Load() {
				return t.end()
			}
			t.morsel = m
			t.claimed++
			if ms, ok := t.sink.(MorselSink); ok {
				ms.BeginMorsel(m)
			}
		}
		src := t.chunks[0]
		src.Reset()
		start := time.Now()
		more, err := t.src.Scan(t.morsel, src)
		t.nanos[0] += int64(time.Since(start))
		if err != nil {
			t.close()
			return Done, fmt.Errorf("pipeline %s: scan morsel %d: %w", r.p.name, t.morsel, err)
		}
		var stop bool
		if src.Len() > 0 {
			t.nChunks++
			t.rows[0] += int64(src.Len())
			stop, err = t.push(0, src)
		}
		if !more && !stop && err == nil {
			// The morsel's rows leave the caches before the next morsel
			// begins (a MorselSink files them under this one).
			stop, err = t.flushFrom(1)
		}
		if err != nil {
			t.close()
			return Done, fmt.Errorf("pipeline %s: %w", r.p.name, err)
		}
		if stop {
			r.stop.Store(true)
			return t.end()
		}
		if !more {
			t.morsel = -1
			if mode == Partial {
				return Again, nil
			}
		}
	}
}

// cacheBelow and cacheRows: an operator's output of fewer than cacheBelow
// rows waits in its next stage's cache, with the ones after it, until the
// cache holds cacheRows or the morsel ends. Every stage pays for a chunk
// besides its rows (a join's probe, a hash call per key column, a hook
// call with a Hash program attached), and a selective join or filter
// sends on a few rows per input chunk; copying them costs their rows only.
// DuckDB caches small join outputs the same way.
const (
	cacheBelow = vector.Size / 16 // 128
	cacheRows  = vector.Size - cacheBelow
)

// emit passes ops[i]'s output out on to stage i+1: a small one through
// the stage's cache (which holds under cacheRows rows, so it fits), a big
// one at once (after what the cache holds, so that the rows keep their
// order).
func (t *pipelineTask) emit(i int, out *vector.Chunk) (bool, error) {
	j := i + 1
	c := t.cache[j]
	if out.Len() >= cacheBelow {
		if stop, err := t.flushCache(j); stop || err != nil {
			return stop, err
		}
		return t.push(j, out)
	}
	c.Append(out)
	if c.Len() >= cacheRows {
		return t.flushCache(j)
	}
	return false, nil
}

// flushCache pushes what stage j's cache holds through the stage.
func (t *pipelineTask) flushCache(j int) (bool, error) {
	c := t.cache[j]
	if c.Len() == 0 {
		return false, nil
	}
	stop, err := t.push(j, c)
	c.Reset()
	return stop, err
}

// flushFrom empties the caches of stages j and after, in order (a stage's
// flush may fill the caches after it), and stops when an operator
// finishes the pipeline: push has then flushed the caches after that
// operator (their rows came out of it before it finished), and the ones
// before it hold rows it does not want.
func (t *pipelineTask) flushFrom(j int) (bool, error) {
	for ; j < len(t.cache); j++ {
		if stop, err := t.flushCache(j); stop || err != nil {
			return stop, err
		}
	}
	return false, nil
}

// push sends in through operators i… and the sink. It reports whether an
// operator Finished.
func (t *pipelineTask) push(i int, in *vector.Chunk) (bool, error) {
	if i == len(t.ops) {
		start := time.Now()
		err := t.sink.Sink(in)
		t.nanos[i+1] += int64(time.Since(start))
		return false, err
	}
	out := t.chunks[i+1]
	for {
		out.Reset()
		start := time.Now()
		res, err := t.ops[i].Execute(in, out)
		t.nanos[i+1] += int64(time.Since(start))
		if err != nil {
			return false, err
		}
		if out.Len() > 0 {
			t.rows[i+1] += int64(out.Len())
			stop, err := t.emit(i, out)
			if stop || err != nil {
				return stop, err
			}
		}
		switch res {
		case NeedMoreInput:
			return false, nil
		case Finished:
			// What it sent on before it finished still goes through.
			_, err := t.flushFrom(i + 1)
			return true, err
		}
	}
}

func (t *pipelineTask) newLocals() error {
	r := t.r
	var err error
	if t.src, err = r.src.NewLocal(); err != nil {
		return err
	}
	t.rows = make([]int64, 1+len(r.ops))
	t.nanos = make([]int64, 2+len(r.ops))
	t.ops = make([]OperatorLocal, len(r.ops))
	t.chunks = []*vector.Chunk{vector.NewChunk(r.p.source.Types())}
	for i, op := range r.ops {
		if t.ops[i], err = op.NewLocal(); err != nil {
			return err
		}
		t.chunks = append(t.chunks, vector.NewChunk(r.p.ops[i].Types()))
	}
	t.cache = make([]*vector.Chunk, len(t.chunks))
	for j := 1; j < len(t.chunks); j++ {
		t.cache[j] = vector.NewChunk(r.p.ops[j-1].Types())
	}
	t.sink, err = r.sink.NewLocal()
	return err
}

// end combines the task's sink state, closes its locals and, if it was the
// pipeline's last task, finalizes the pipeline.
func (t *pipelineTask) end() (Result, error) {
	start := time.Now()
	err := t.sink.Combine()
	t.nanos[len(t.nanos)-1] += int64(time.Since(start))
	if cerr := t.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Done, fmt.Errorf("pipeline %s: combine: %w", t.r.p.name, err)
	}
	if t.r.tasks.Add(-1) == 0 {
		t.q.finish(t.r)
	}
	return Done, nil
}

// close closes the local states that want it, once.
func (t *pipelineTask) close() error {
	var err error
	t.closed.Do(func() {
		r := t.r
		r.claimed.Add(t.claimed)
		r.chunks.Add(t.nChunks)
		for i, n := range t.rows {
			r.rows[i].Add(n)
		}
		for i, n := range t.nanos {
			r.nanos[i].Add(n)
		}
		var ls []any
		ls = append(ls, t.src)
		for _, o := range t.ops {
			ls = append(ls, o)
		}
		ls = append(ls, t.sink)
		for _, l := range ls {
			if c, ok := l.(closer); ok {
				if cerr := c.Close(); err == nil {
					err = cerr
				}
			}
		}
	})
	return err
}

// Discard closes the locals of a task dropped between executions.
func (t *pipelineTask) Discard(error) { t.close() }
