package join_test

import (
	"context"
	"sync"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/exec/join"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

// chunkSource is a source over fixed chunks: one morsel each, or per
// chunks each (a table scan's row groups hold 60).
type chunkSource struct {
	ts     []types.Type
	chunks []*vector.Chunk
	per    int
}

func (s *chunkSource) Types() []types.Type { return s.ts }

func (s *chunkSource) Init(*parallel.Producer) (parallel.SourceState, error) { return s, nil }

func (s *chunkSource) Morsels() int { return (len(s.chunks) + s.perMorsel() - 1) / s.perMorsel() }

func (s *chunkSource) perMorsel() int { return max(s.per, 1) }

func (s *chunkSource) NewLocal() (parallel.SourceLocal, error) {
	return &chunkScan{s: s, next: -1}, nil
}

// chunkScan is a task's position in its morsel.
type chunkScan struct {
	s    *chunkSource
	m    int
	next int
}

func (c *chunkScan) Scan(m int, out *vector.Chunk) (bool, error) {
	per := c.s.perMorsel()
	if c.next < 0 || c.m != m {
		c.m, c.next = m, m*per
	}
	out.ReferenceChunk(c.s.chunks[c.next])
	c.next++
	more := c.next < min(len(c.s.chunks), (m+1)*per)
	if !more {
		c.next = -1
	}
	return more, nil
}

// collectSink keeps every row it is given, boxed.
type collectSink struct {
	mu   sync.Mutex
	rows [][]types.Value
}

func (s *collectSink) Init(*parallel.Producer) (parallel.SinkState, error) {
	s.rows = nil
	return s, nil
}

func (s *collectSink) NewLocal() (parallel.SinkLocal, error) { return &collectLocal{s: s}, nil }

func (s *collectSink) Finalize() error { return nil }

type collectLocal struct {
	s    *collectSink
	rows [][]types.Value
}

func (l *collectLocal) Sink(in *vector.Chunk) error {
	if in.Len() > vector.Size {
		panic("chunk longer than vector.Size")
	}
	l.rows = append(l.rows, vectortest.Collect(in)...)
	return nil
}

func (l *collectLocal) Combine() error {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	l.s.rows = append(l.s.rows, l.rows...)
	return nil
}

// runJoin runs j's build pipeline over build and its probe pipeline over
// probe on a scheduler of threads workers and returns the output rows.
func runJoin(t testing.TB, s *parallel.Scheduler, j *join.Join, spec join.Spec, build, probe []*vector.Chunk) ([][]types.Value, parallel.RunStats, error) {
	t.Helper()
	sink := &collectSink{}
	bp := parallel.NewPipeline("build", &chunkSource{ts: spec.Build, chunks: build}, nil, j.Build())
	pp := parallel.NewPipeline("probe", &chunkSource{ts: spec.Probe, chunks: probe}, []parallel.Operator{j.Probe()}, sink)
	pp.DependsOn(bp)
	// The probe pipeline is listed first: parallel.Run starts the pipelines
	// without dependencies in list order and, listed after its build, a
	// probe whose build already finalized would be started twice.
	st, err := parallel.Run(context.Background(), s, []*parallel.Pipeline{pp, bp})
	st.Pipelines[0], st.Pipelines[1] = st.Pipelines[1], st.Pipelines[0]
	return sink.rows, st, err
}

// scheduler returns a scheduler of threads workers, closed with the test.
func scheduler(t testing.TB, threads int) *parallel.Scheduler {
	s := parallel.New(parallel.Options{Threads: threads})
	t.Cleanup(s.Close)
	return s
}

func must(e expr.Expr, err error) expr.Expr {
	if err != nil {
		panic(err)
	}
	return e
}

func col(j int, t types.Type) expr.Expr {
	return expr.NewColumn(j, "c"+itoa(j), t, expr.Pos{})
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
