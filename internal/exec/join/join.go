package join

import (
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
)

// Kind says which rows a join produces; the kinds mean what the logical
// plan's planner.JoinKind of the same name means. A cross product is an
// Inner join without keys.
type Kind uint8

// The join kinds. The probe side is the left input, the build side the
// right one, except for RightSemi and RightAnti, which preserve the build
// side.
const (
	// Inner: every pair of a probe row and a build row that match.
	Inner Kind = iota + 1
	// Left: Inner's pairs, and every probe row without a match once, with
	// NULL build columns.
	Left
	// Semi: the probe rows with at least one match (probe columns only).
	Semi
	// Anti: the probe rows without a match (probe columns only). It is
	// not null-aware: a probe row whose key is NULL has no match and is
	// kept.
	Anti
	// Mark: every probe row plus a BOOLEAN mark: true if it has a match;
	// else NULL if the build side is not empty and the probe key is NULL,
	// or the build side had a NULL key, or the residual was NULL for a
	// pair whose keys were equal; else false (SQL's IN and NOT IN).
	Mark
	// Single: like Left, but a probe row with more than one match is the
	// error ErrSingle (scalar subqueries).
	Single
	// RightSemi: the build rows with at least one match (BuildOutput
	// columns only): a Semi join whose preserved side is the build side,
	// for a preserved side much smaller than the other. The probe
	// pipeline ends in ProbeSink, which marks the build rows it matches;
	// Source then emits the marked rows.
	RightSemi
	// RightAnti: the build rows without a match (BuildOutput columns
	// only), probed like RightSemi; a build row whose key is NULL has no
	// match and is emitted (NOT EXISTS).
	RightAnti
)

var kindNames = [...]string{"", "inner", "left", "semi", "anti", "mark", "single", "right semi", "right anti"}

// right reports whether the build side is the preserved one: the probe
// emits nothing and Source emits the build rows.
func (k Kind) right() bool { return k == RightSemi || k == RightAnti }

// String returns the kind's name as EXPLAIN prints it ("inner").
func (k Kind) String() string {
	if k >= Inner && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// ErrSingle is the error of a Single join whose probe row has more than one
// match: a scalar subquery that returned more than one row.
var ErrSingle = errors.New("more than one row returned by a subquery used as an expression")

// ErrSpec is the cause of the errors New returns for a Spec it cannot run.
var ErrSpec = errors.New("invalid join")

// Spec describes a hash join.
type Spec struct {
	// Kind says which rows the join produces.
	Kind Kind
	// Probe and Build are the column types of the probe (left) and build
	// (right) input chunks.
	Probe, Build []types.Type
	// ProbeKeys and BuildKeys are equal-length lists of key columns: key
	// i is ProbeKeys[i] of the probe input and BuildKeys[i] of the build
	// input, both of the same type (the planner casts). A NULL key matches
	// nothing. With no keys every pair is a candidate (a nested-loop join,
	// for a small build side).
	ProbeKeys, BuildKeys []int
	// Residual is an extra BOOLEAN condition a pair must satisfy (nil:
	// none), over the concatenation probe columns ++ build columns: its
	// column i < len(Probe) is probe column i, else build column
	// i-len(Probe). It is part of the match for every kind.
	Residual expr.Expr
	// BuildOutput lists the build columns appended to the output of Inner,
	// Left and Single joins, and the only output columns of RightSemi and
	// RightAnti joins (it must be empty for the others).
	BuildOutput []int
	// Buffers accounts the hash table's memory (tag "hash table"); nil:
	// no accounting.
	Buffers *buffer.Manager
	// Hash is where the hash policy is attached; nil: the built-in hash.
	Hash *hash.Slot
	// KeySet makes the build compute the set of its keys (KeySet), for a
	// scan of the probe side to drop rows that cannot match. It needs one
	// INTEGER, BIGINT or DATE key and a kind whose probe rows without a
	// match produce nothing: Inner, Semi, RightSemi, RightAnti.
	KeySet bool
}

// Stats counts a join's work for EXPLAIN ANALYZE, over all its runs.
type Stats struct {
	// BuildRows counts the rows the build side gave the join (NULL keys
	// included).
	BuildRows int64
	// ProbeRows counts the probe rows the join was given.
	ProbeRows int64
	// Matches counts the matching pairs found (equal keys and a true
	// residual); Semi, Anti and Mark joins stop at a probe row's first,
	// RightSemi and RightAnti joins with a residual skip the pairs whose
	// build row is matched already.
	Matches int64
	// TableBytes is the memory of the last run's hash table: row pages,
	// string pages and the bucket array.
	TableBytes int64
}

// String prints the stats as EXPLAIN ANALYZE shows them.
func (s Stats) String() string {
	return fmt.Sprintf("build %d rows, probe %d rows, %d matches, table %d bytes", s.BuildRows, s.ProbeRows, s.Matches, s.TableBytes)
}

// Join is a parallel hash join. Build returns the sink of the build
// pipeline, Probe the operator of the probe pipeline, which must depend on
// the build pipeline. A Join may be run many times, not concurrently: each
// run of the build pipeline replaces the previous run's table.
type Join struct {
	spec   Spec
	layout *layout
	out    []types.Type
	// resCols are the probe and build columns the residual reads (indexes
	// into probe ++ build).
	resCols []int

	mu  sync.Mutex
	cur *table // the table of the last finalized build, nil before

	buildRows, probeRows, matches, tableBytes atomic.Int64

	// probeLocals holds probe task states given back, for later tasks.
	probeLocals sync.Pool
}

// New checks spec and returns its join.
func New(spec Spec) (*Join, error) {
	fail := func(format string, args ...any) (*Join, error) {
		return nil, fmt.Errorf("%s join: %s: %w", spec.Kind, fmt.Sprintf(format, args...), ErrSpec)
	}
	if spec.Kind < Inner || spec.Kind > RightAnti {
		return fail("unknown kind %d", uint8(spec.Kind))
	}
	for _, ts := range [][]types.Type{spec.Probe, spec.Build} {
		for j, t := range ts {
			if t.Physical() == types.PhysInvalid {
				return fail("column %d has no storable type (%v)", j, t)
			}
		}
	}
	if len(spec.ProbeKeys) != len(spec.BuildKeys) {
		return fail("%d probe keys but %d build keys", len(spec.ProbeKeys), len(spec.BuildKeys))
	}
	for i, p := range spec.ProbeKeys {
		b := spec.BuildKeys[i]
		if p < 0 || p >= len(spec.Probe) {
			return fail("probe key %d is column %d of %d", i, p, len(spec.Probe))
		}
		if b < 0 || b >= len(spec.Build) {
			return fail("build key %d is column %d of %d", i, b, len(spec.Build))
		}
		if spec.Probe[p] != spec.Build[b] {
			return fail("key %d is %v on the probe side and %v on the build side", i, spec.Probe[p], spec.Build[b])
		}
	}
	switch spec.Kind {
	case Semi, Anti, Mark:
		if len(spec.BuildOutput) > 0 {
			return fail("a %s join outputs no build columns", spec.Kind)
		}
	}
	for _, b := range spec.BuildOutput {
		if b < 0 || b >= len(spec.Build) {
			return fail("build output column %d of %d", b, len(spec.Build))
		}
	}
	if spec.KeySet {
		if err := keySetOK(spec.Kind, spec.BuildKeys, spec.Build); err != nil {
			return fail("%v", err)
		}
	}
	j := &Join{spec: spec}
	if spec.Residual != nil {
		if spec.Residual.Type().ID() != types.Boolean {
			return fail("residual %s is %v, not BOOLEAN", spec.Residual, spec.Residual.Type())
		}
		pair := slices.Concat(spec.Probe, spec.Build)
		if err := checkColumns(pair, spec.Residual); err != nil {
			return nil, fmt.Errorf("%s join: residual %s: %w", spec.Kind, spec.Residual, err)
		}
		if _, err := expr.Compile(spec.Residual); err != nil {
			return nil, fmt.Errorf("%s join: residual %s: %w", spec.Kind, spec.Residual, err)
		}
		j.resCols = expr.Columns(spec.Residual)
		slices.Sort(j.resCols)
	}
	var resBuild []int
	for _, c := range j.resCols {
		if c >= len(spec.Probe) {
			resBuild = append(resBuild, c-len(spec.Probe))
		}
	}
	l, err := newLayout(spec.Build, spec.BuildKeys, spec.BuildOutput, resBuild, spec.Kind.right())
	if err != nil {
		return nil, fmt.Errorf("%s join: %w", spec.Kind, err)
	}
	j.layout = l
	j.out = slices.Clone(spec.Probe)
	switch spec.Kind {
	case RightSemi, RightAnti:
		j.out = j.out[:0]
		for _, b := range spec.BuildOutput {
			j.out = append(j.out, spec.Build[b])
		}
	case Inner, Left, Single:
		for _, b := range spec.BuildOutput {
			j.out = append(j.out, spec.Build[b])
		}
	case Mark:
		j.out = append(j.out, types.BooleanType)
	}
	return j, nil
}

// checkColumns verifies that every column e reads exists in input with the
// type e expects.
func checkColumns(input []types.Type, e expr.Expr) error {
	_, err := expr.Rewrite(e, func(n expr.Expr) (expr.Expr, error) {
		c, ok := n.(*expr.Column)
		if !ok {
			return n, nil
		}
		if c.Index < 0 || c.Index >= len(input) {
			return nil, fmt.Errorf("column %s is #%d of %d probe and build columns: %w", c, c.Index, len(input), expr.ErrType)
		}
		if input[c.Index] != c.T {
			return nil, fmt.Errorf("column %s is %v, the probe and build columns' #%d is %v: %w", c, c.T, c.Index, input[c.Index], expr.ErrType)
		}
		return n, nil
	})
	return err
}

// Spec returns the join's spec.
func (j *Join) Spec() Spec { return j.spec }

// Types returns the column types of the join's output: all probe columns,
// then the BuildOutput columns (Inner, Left, Single) or one BOOLEAN mark
// (Mark); nothing more for Semi and Anti. The output of RightSemi and
// RightAnti joins, which Source produces, is the BuildOutput columns.
func (j *Join) Types() []types.Type { return slices.Clone(j.out) }

// Build returns the sink of the build pipeline: it collects the build rows
// in parallel, and its Finalize sets up the hash table.
func (j *Join) Build() parallel.Sink { return buildSink{j} }

// Probe returns the operator of the probe pipeline, which must depend on
// the build pipeline (not for RightSemi and RightAnti joins: see
// ProbeSink).
func (j *Join) Probe() parallel.Operator { return probeOp{j} }

// ProbeSink returns the sink of the probe pipeline of a RightSemi or
// RightAnti join, which must depend on the build pipeline: it marks the
// build rows that have a match. Source then emits the join's output in a
// pipeline that depends on the probe pipeline.
func (j *Join) ProbeSink() parallel.Sink { return probeSink{j} }

// Source returns the source of the output of a RightSemi or RightAnti
// join: the build rows the probe pipeline marked (RightSemi) or did not
// mark (RightAnti), their BuildOutput columns.
func (j *Join) Source() parallel.Source { return rightSource{j} }

// Stats returns the join's counters.
func (j *Join) Stats() Stats {
	return Stats{
		BuildRows: j.buildRows.Load(), ProbeRows: j.probeRows.Load(),
		Matches: j.matches.Load(), TableBytes: j.tableBytes.Load(),
	}
}

// Close releases the hash table of the last run: its buffers go back to
// the buffer manager. Call it once the query's pipelines have ended; the
// next run of the build pipeline builds a new table (and releases an old
// one itself).
func (j *Join) Close() error {
	j.mu.Lock()
	t := j.cur
	j.cur = nil
	j.mu.Unlock()
	if t == nil {
		return nil
	}
	return t.release()
}

// String describes the join as EXPLAIN prints it:
// "hash join inner on #0 = #1, #2 = #0 residual (a < b) build output #1".
func (j *Join) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "hash join %s", j.spec.Kind)
	if len(j.spec.ProbeKeys) == 0 {
		b.WriteString(" (nested loop)")
	} else {
		b.WriteString(" on ")
		for i, p := range j.spec.ProbeKeys {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "probe#%d = build#%d", p, j.spec.BuildKeys[i])
		}
	}
	if j.spec.Residual != nil {
		b.WriteString(" residual " + j.spec.Residual.String())
	}
	if len(j.spec.BuildOutput) > 0 {
		b.WriteString(" build output")
		for _, c := range j.spec.BuildOutput {
			fmt.Fprintf(&b, " #%d", c)
		}
	}
	return b.String()
}
