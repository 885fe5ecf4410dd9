package aggregate

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/exec/hash"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// Options tune an Aggregate.
type Options struct {
	// Buffers accounts the hash tables' memory (tag hash table) and spills
	// them; nil: plain Go memory, no limit.
	Buffers *buffer.Manager
	// Hash is the hash policy slot; nil: the built-in hash. A Hasher is
	// captured once per run, when the sink starts.
	Hash *hash.Slot
	// Dense, if set, is the range of the one group column's values: tasks
	// pre-aggregate into an array indexed by value (DenseRange).
	Dense *DenseRange
}

// ErrAggregate is wrapped by the errors New returns for an aggregate it
// cannot build (bad column indexes, nothing to compute).
var ErrAggregate = errors.New("invalid aggregate")

// Aggregate is the hash aggregate: a parallel.Sink that groups its input
// and a parallel.Source (Source) that returns one row per group. An
// Aggregate may run many times, not concurrently; each run of the sink's
// pipeline replaces the previous run's groups.
type Aggregate struct {
	input  []types.Type
	groups []int
	specs  []expr.AggSpec
	out    []types.Type
	opts   Options

	run  *run // the last run, read by the source
	last atomic.Pointer[run]
}

var _ parallel.Sink = (*Aggregate)(nil)

// New returns a hash aggregate over chunks of the input types: it groups by
// the input columns groups (any types incl. VARCHAR; NULL is a group of its
// own, NULLs equal each other) and computes aggs (expr.AggSpec.Arg is an
// input column index, already computed by a projection below). With no
// groups it produces exactly one row, also for empty input (count 0, sum
// NULL ...). With no aggs it is DISTINCT over the group columns.
func New(input []types.Type, groups []int, aggs []expr.AggSpec, opts Options) (*Aggregate, error) {
	a := &Aggregate{input: slices.Clone(input), groups: slices.Clone(groups), specs: slices.Clone(aggs), opts: opts}
	if len(groups) == 0 && len(aggs) == 0 {
		return nil, fmt.Errorf("hash aggregate: no groups and no aggregates: %w", ErrAggregate)
	}
	for _, g := range groups {
		if g < 0 || g >= len(input) {
			return nil, fmt.Errorf("hash aggregate: group column #%d of an input of %d columns: %w", g, len(input), ErrAggregate)
		}
		if !input[g].IsValid() {
			return nil, fmt.Errorf("hash aggregate: group column #%d has no type: %w", g, ErrAggregate)
		}
		a.out = append(a.out, input[g])
	}
	for _, s := range aggs {
		if s.Kind != expr.CountStar {
			if s.Arg < 0 || s.Arg >= len(input) {
				return nil, fmt.Errorf("hash aggregate: %s reads column #%d of an input of %d columns: %w", s.Text, s.Arg, len(input), ErrAggregate)
			}
			if input[s.Arg] != s.ArgType {
				return nil, fmt.Errorf("hash aggregate: %s reads column #%d as %v, the input's is %v: %w", s.Text, s.Arg, s.ArgType, input[s.Arg], ErrAggregate)
			}
		}
		ag, err := expr.NewAggregate(s)
		if err != nil {
			return nil, fmt.Errorf("hash aggregate: %w", err)
		}
		a.out = append(a.out, ag.Type())
	}
	return a, nil
}

// Types returns the output types: the group columns, then one column per
// aggregate (its result type).
func (a *Aggregate) Types() []types.Type { return slices.Clone(a.out) }

// String describes the aggregate as EXPLAIN prints it:
// "hash aggregate groups=[#0 #2] aggs=[sum(x) count(*)]".
func (a *Aggregate) String() string {
	var b strings.Builder
	b.WriteString("hash aggregate")
	if len(a.groups) > 0 {
		b.WriteString(" groups=[")
		for i, g := range a.groups {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "#%d", g)
		}
		b.WriteByte(']')
	}
	if len(a.specs) > 0 {
		b.WriteString(" aggs=[")
		for i, s := range a.specs {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(s.Text)
		}
		b.WriteByte(']')
	}
	return b.String()
}

// Stats is what a run of an Aggregate did, for EXPLAIN ANALYZE.
type Stats struct {
	// Rows counts the input rows the sink consumed.
	Rows int64
	// Groups counts the rows the source produced (one per group).
	Groups int64
	// Partitions is the number of radix partitions (the source's
	// morsels); 0 without groups.
	Partitions int
	// Resets counts the times a task's pre-aggregation table was full (or
	// memory was short) and started over.
	Resets int64
	// Spills counts the times a task ran out of memory, unpinned all its
	// pages for the buffer manager to spill and went on.
	Spills int64
	// Passed counts the rows that became groups of their own without a
	// lookup, because the tasks' tables found few duplicates (the merge
	// combines them).
	Passed int64
	// Few counts the rows grouped by comparing their keys with those of
	// a task's few groups (at most 8), without hashing.
	Few int64
	// Dense counts the rows grouped in a task's array indexed by value
	// (Options.Dense).
	Dense int64
	// Sliced counts the partitions too big to merge in memory at once,
	// split into slices by the source.
	Sliced int64
	// SpilledBytes counts the bytes of pages the buffer manager had
	// written to temporary storage when the source read them back.
	SpilledBytes int64
}

// String prints the stats on one line.
func (s Stats) String() string {
	return fmt.Sprintf("rows=%d groups=%d partitions=%d resets=%d spills=%d passed=%d few=%d dense=%d sliced=%d spilled=%dB",
		s.Rows, s.Groups, s.Partitions, s.Resets, s.Spills, s.Passed, s.Few, s.Dense, s.Sliced, s.SpilledBytes)
}

// Stats returns what the last run did (zero before the first).
func (a *Aggregate) Stats() Stats {
	r := a.last.Load()
	if r == nil {
		return Stats{}
	}
	return Stats{
		Rows: r.rows.Load(), Groups: r.groupsOut.Load(), Partitions: len(r.parts),
		Resets: r.resets.Load(), Spills: r.spills.Load(), Passed: r.passed.Load(), Few: r.few.Load(), Dense: r.dense.Load(), Sliced: r.sliced.Load(), SpilledBytes: r.spilled.Load(),
	}
}

// run is the global state of one run: the sink's, then the source's.
type run struct {
	a       *Aggregate
	aggs    []*expr.Aggregate // compiled for this run (their side tables are per run)
	lay     *layout
	mem     memory
	hasher  hash.Hasher
	threads int // of the scheduler: tasks share the memory limit
	// zeroInit: every aggregate's initial state is all zero bytes, which
	// new rows in fresh (zeroed) pages already hold.
	zeroInit bool

	mu    sync.Mutex
	parts [][]*page // grouped: the pages of each partition, from every task
	state []byte    // ungrouped: the one row of states

	rows, groupsOut, resets, spills, passed, few, dense, spilled, sliced atomic.Int64
}

// Init starts a run of the sink: it frees what the previous run still
// held, compiles the aggregates and captures the hash function.
func (a *Aggregate) Init(p *parallel.Producer) (parallel.SinkState, error) {
	if err := a.Release(); err != nil {
		return nil, err
	}
	r := &run{a: a, mem: memory{m: a.opts.Buffers, owner: uint64(p.ID())}, threads: 1}
	if p != nil {
		r.threads = p.Scheduler().Threads()
	}
	for _, s := range a.specs {
		ag, err := expr.NewAggregate(s)
		if err != nil {
			return nil, fmt.Errorf("hash aggregate: %w", err)
		}
		r.aggs = append(r.aggs, ag)
	}
	r.lay = newLayout(a.input, a.groups, r.aggs)
	r.zeroInit = true
	for _, ag := range r.aggs {
		st := bytes.Repeat([]byte{0xff}, ag.StateSize())
		ag.Init(st)
		r.zeroInit = r.zeroInit && !slices.ContainsFunc(st, func(b byte) bool { return b != 0 })
	}
	if a.opts.Hash != nil {
		r.hasher = a.opts.Hash.Capture()
	}
	if len(a.groups) == 0 {
		r.state = make([]byte, r.lay.width)
		r.initStates(r.state)
	} else {
		r.parts = make([][]*page, numPartitions)
	}
	a.run = r
	a.last.Store(r)
	return r, nil
}

// Release frees the memory the last run still holds: partitions the
// source did not read (a query that failed or stopped early). Init calls
// it; call it when a plan is done with the aggregate. It must not run
// concurrently with a run.
func (a *Aggregate) Release() error {
	r := a.run
	if r == nil {
		return nil
	}
	var first error
	for p, pages := range r.parts {
		for _, pg := range pages {
			if err := r.mem.free(&pg.region); err != nil && first == nil {
				first = err
			}
		}
		r.parts[p] = nil
	}
	return first
}

func (r *run) initStates(row []byte) {
	for k, ag := range r.aggs {
		ag.Init(row[r.lay.stateOff[k]:])
	}
}

// NewLocal returns a task's sink state.
func (r *run) NewLocal() (parallel.SinkLocal, error) {
	l := &local{r: r}
	if len(r.a.groups) == 0 {
		l.state = make([]byte, r.lay.width)
		r.initStates(l.state)
		return l, nil
	}
	l.t = newTable(r.lay, r.mem, r.threads)
	l.hashes = make([]uint64, vector.Size)
	var err error
	if l.dense, err = newDense(r); err != nil {
		return nil, err
	}
	if l.dense != nil {
		l.slots = make([]int32, vector.Size)
	}
	return l, nil
}

// Finalize has nothing left to do: the partitions are merged by the
// source, in parallel.
func (r *run) Finalize() error { return nil }

// local is a task's sink state.
type local struct {
	r         *run
	t         *table // grouped
	hashes    []uint64
	state     []byte // ungrouped
	rows      int64
	dense     *dense  // Options.Dense, while the task has one
	slots     []int32 // dense: per logical row, its slot
	denseRows int64
}

// Sink adds a chunk's rows to their groups.
func (l *local) Sink(in *vector.Chunk) error {
	n := in.Len()
	if n == 0 {
		return nil
	}
	l.rows += int64(n)
	r := l.r
	if l.t == nil {
		for k, ag := range r.aggs {
			if err := ag.UpdateState(in, l.state[r.lay.stateOff[k]:]); err != nil {
				return fmt.Errorf("hash aggregate: %w", err)
			}
		}
		return nil
	}
	if l.dense != nil {
		ok, err := l.denseSink(in)
		if err != nil {
			return err
		}
		if ok {
			l.denseRows += int64(n)
			return nil
		}
	}
	if l.t.matchCodes(in, n) {
		l.t.probed += n
		l.t.fewRows += int64(n)
		return l.updateFew(in)
	}
	l.t.encode(in)
	if l.t.matchFew(in, n) {
		l.t.probed += n
		l.t.fewRows += int64(n)
		return l.updateFew(in)
	}
	hashes := l.hashes[:n]
	r.hasher.Chunk(in, r.a.groups, hashes)
	rows := l.t.rows[:n]
	var created []int32
	for attempt := 0; ; attempt++ {
		if err := l.t.prepare(n); err != nil {
			return err
		}
		var err error
		created, err = l.t.group(in, hashes)
		if !r.zeroInit {
			for _, i := range created {
				r.initStates(rows[i])
			}
		}
		if err == nil {
			break
		}
		if attempt > 0 || !errors.Is(err, buffer.ErrOutOfMemory) {
			return err
		}
		// Unpin everything (the buffer manager may spill it) and group
		// the chunk again.
		l.t.spill()
	}
	for k, ag := range r.aggs {
		if err := ag.Update(in, rows, r.lay.stateOff[k]); err != nil {
			return fmt.Errorf("hash aggregate: %w", err)
		}
	}
	l.t.addFew(created)
	l.t.endChunk()
	return nil
}

// Combine hands the task's pages to the global state, by partition,
// unpinned: from now on the buffer manager may spill them.
func (l *local) Combine() error {
	r := l.r
	r.rows.Add(l.rows)
	l.rows = 0
	if l.t == nil {
		r.mu.Lock()
		defer r.mu.Unlock()
		for k, ag := range r.aggs {
			off := r.lay.stateOff[k]
			if err := ag.Combine(r.state[off:], l.state[off:]); err != nil {
				return fmt.Errorf("hash aggregate: %w", err)
			}
		}
		return nil
	}
	if l.dense != nil {
		if err := l.flushDense(); err != nil {
			return err
		}
	}
	r.dense.Add(l.denseRows)
	t := l.t
	r.resets.Add(t.resets)
	r.spills.Add(t.spills)
	r.passed.Add(t.passed)
	r.few.Add(t.fewRows)
	var err error
	if t.dir != nil {
		err = t.mem.free(t.dir)
		t.dir = nil
	}
	for _, pg := range t.pages {
		t.mem.unpin(&pg.region)
	}
	r.mu.Lock()
	for _, pg := range t.pages {
		if pg.rows > 0 {
			r.parts[pg.part] = append(r.parts[pg.part], pg)
		}
	}
	r.mu.Unlock()
	for _, pg := range t.pages {
		if pg.rows == 0 {
			if ferr := t.mem.free(&pg.region); err == nil {
				err = ferr
			}
		}
	}
	t.pages = nil
	return err
}

// Close frees what a task that did not combine (a failed query) holds.
func (l *local) Close() error {
	if l.t == nil {
		return nil
	}
	t := l.t
	var err error
	if l.dense != nil {
		err = t.mem.free(l.dense.mem)
		l.dense = nil
	}
	if t.dir != nil {
		err = errors.Join(err, t.mem.free(t.dir))
		t.dir = nil
	}
	for _, pg := range t.pages {
		if ferr := t.mem.free(&pg.region); err == nil {
			err = ferr
		}
	}
	t.pages = nil
	return err
}
