package aggregate_test

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"

	"github.com/bpfdb/bpfdb/internal/exec/aggregate"
	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

// chunkSource is a parallel.Source of fixed chunks, one morsel each.
type chunkSource struct {
	ts     []types.Type
	chunks []*vector.Chunk
}

func (s *chunkSource) Types() []types.Type                                   { return s.ts }
func (s *chunkSource) Init(*parallel.Producer) (parallel.SourceState, error) { return s, nil }
func (s *chunkSource) Morsels() int                                          { return len(s.chunks) }
func (s *chunkSource) NewLocal() (parallel.SourceLocal, error)               { return s, nil }
func (s *chunkSource) Scan(m int, out *vector.Chunk) (bool, error) {
	out.ReferenceChunk(s.chunks[m])
	return false, nil
}

// rowSource is a parallel.Source that cuts boxed rows into chunks as a
// vectortest.Config says, chunk by chunk into one reused chunk per task,
// so that tiny batches of many rows take no memory: with a selection, junk
// rows (half NULL) surround the real ones.
type rowSource struct {
	ts   []types.Type
	rows [][]types.Value
	cfg  vectortest.Config
	seed uint64
	size int // rows per chunk
}

func newRowSource(ts []types.Type, rows [][]types.Value, cfg vectortest.Config, seed uint64) *rowSource {
	size := max(1, min(cfg.BatchSize, vector.Size))
	if cfg.Selection {
		size = max(1, min(size, vector.Size/2)) // room for junk
	}
	return &rowSource{ts: ts, rows: rows, cfg: cfg, seed: seed, size: size}
}

func (s *rowSource) Types() []types.Type                                   { return s.ts }
func (s *rowSource) Init(*parallel.Producer) (parallel.SourceState, error) { return s, nil }
func (s *rowSource) Morsels() int                                          { return (len(s.rows) + s.size - 1) / s.size }
func (s *rowSource) NewLocal() (parallel.SourceLocal, error) {
	return &rowLocal{s: s, c: vector.NewChunk(s.ts)}, nil
}

type rowLocal struct {
	s   *rowSource
	c   *vector.Chunk
	sel vector.Selection
}

func (l *rowLocal) Scan(m int, out *vector.Chunk) (bool, error) {
	s := l.s
	batch := s.rows[m*s.size : min(len(s.rows), (m+1)*s.size)]
	c := l.c
	c.Reset()
	if !s.cfg.Selection {
		for _, row := range batch {
			c.AppendRow(row...)
		}
		out.ReferenceChunk(c)
		return false, nil
	}
	r := rand.New(rand.NewPCG(s.seed, uint64(m)))
	l.sel = l.sel[:0]
	junk := vector.Size - 1 - len(batch)
	for _, row := range batch {
		for ; junk > 0 && r.IntN(2) == 0; junk-- {
			c.AppendRow(vectortest.Rows(r, s.ts, 1, 0.5)[0]...)
		}
		l.sel = append(l.sel, uint16(c.Len()))
		c.AppendRow(row...)
	}
	c.AppendRow(vectortest.Rows(r, s.ts, 1, 0.5)[0]...)
	c.SetSel(l.sel, len(l.sel))
	out.ReferenceChunk(c)
	return false, nil
}

// collectSink keeps the rows it is given, boxed, and counts its chunks.
type collectSink struct {
	mu      sync.Mutex
	rows    [][]types.Value
	chunks  int
	maxRows int
}

func (s *collectSink) Init(*parallel.Producer) (parallel.SinkState, error) {
	s.rows, s.chunks, s.maxRows = nil, 0, 0
	return s, nil
}
func (s *collectSink) NewLocal() (parallel.SinkLocal, error) { return &collectLocal{s: s}, nil }
func (s *collectSink) Finalize() error                       { return nil }

type collectLocal struct {
	s      *collectSink
	rows   [][]types.Value
	chunks int
	max    int
}

func (l *collectLocal) Sink(in *vector.Chunk) error {
	l.rows = append(l.rows, vectortest.Collect(in)...)
	l.chunks++
	l.max = max(l.max, in.Len())
	return nil
}

func (l *collectLocal) Combine() error {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	l.s.rows = append(l.s.rows, l.rows...)
	l.s.chunks += l.chunks
	l.s.maxRows = max(l.s.maxRows, l.max)
	return nil
}

// runAgg pushes chunks into a and reads its groups back, on a scheduler
// of the given threads: two pipelines, the reader depending on the sink.
func runAgg(a *aggregate.Aggregate, ts []types.Type, chunks []*vector.Chunk, threads int) ([][]types.Value, error) {
	return runSource(a, &chunkSource{ts: ts, chunks: chunks}, threads)
}

// runSource is runAgg with any source.
func runSource(a *aggregate.Aggregate, src parallel.Source, threads int) ([][]types.Value, error) {
	s := parallel.New(parallel.Options{Threads: threads})
	defer s.Close()
	sink := parallel.NewPipeline("aggregate", src, nil, a)
	out := &collectSink{}
	read := parallel.NewPipeline("groups", a.Source(), nil, out)
	read.DependsOn(sink)
	// The reader is listed first: parallel.Run starts the pipelines without
	// dependencies while it walks the list, and a dependent listed after a
	// pipeline that already finished would be started a second time.
	if _, err := parallel.Run(context.Background(), s, []*parallel.Pipeline{read, sink}); err != nil {
		return nil, err
	}
	if out.maxRows > vector.Size {
		return nil, fmt.Errorf("a chunk of %d rows", out.maxRows)
	}
	return out.rows, nil
}

// spec builds an AggSpec over input column arg of ts.
func spec(kind expr.AggKind, ts []types.Type, arg int, distinct bool) expr.AggSpec {
	s := expr.AggSpec{Kind: kind, Arg: arg, Distinct: distinct}
	if kind == expr.CountStar {
		s.Text = "count(*)"
		return s
	}
	s.ArgType = ts[arg]
	d := ""
	if distinct {
		d = "DISTINCT "
	}
	s.Text = fmt.Sprintf("%v(%s#%d)", kind, d, arg)
	return s
}

// reference computes the aggregate row by row with boxed values and Go
// maps: the oracle of the differential tests.
func reference(ts []types.Type, rows [][]types.Value, groups []int, specs []expr.AggSpec) ([][]types.Value, error) {
	type group struct {
		keys []types.Value
		rows [][]types.Value
	}
	byKey := map[string]*group{}
	var order []string
	for _, row := range rows {
		var kb strings.Builder
		for _, g := range groups {
			if row[g].IsNull() {
				kb.WriteString("N\x00")
			} else {
				kb.WriteString("V" + normKey(row[g]).String() + "\x00")
			}
		}
		k := kb.String()
		gr := byKey[k]
		if gr == nil {
			gr = &group{}
			for _, g := range groups {
				gr.keys = append(gr.keys, normKey(row[g]))
			}
			byKey[k] = gr
			order = append(order, k)
		}
		gr.rows = append(gr.rows, row)
	}
	if len(groups) == 0 && len(order) == 0 {
		byKey[""] = &group{}
		order = append(order, "")
	}
	var out [][]types.Value
	for _, k := range order {
		gr := byKey[k]
		res := slices.Clone(gr.keys)
		for _, s := range specs {
			v, err := refAgg(s, gr.rows)
			if err != nil {
				return nil, err
			}
			res = append(res, v)
		}
		out = append(out, res)
	}
	return out, nil
}

// normKey returns a key as the aggregate prints its group: −0 and +0 are
// one group, printed as 0.
func normKey(k types.Value) types.Value {
	if k.Type().ID() == types.Double && !k.IsNull() && k.Float64() == 0 {
		return types.DoubleValue(0)
	}
	return k
}

func refAgg(s expr.AggSpec, rows [][]types.Value) (types.Value, error) {
	if s.Kind == expr.CountStar {
		return types.BigIntValue(int64(len(rows))), nil
	}
	var vals []types.Value
	seen := map[string]bool{}
	for _, row := range rows {
		v := row[s.Arg]
		if v.IsNull() {
			continue
		}
		if s.Distinct {
			if seen[v.String()] {
				continue
			}
			seen[v.String()] = true
		}
		vals = append(vals, v)
	}
	t := s.ArgType
	switch s.Kind {
	case expr.Count:
		return types.BigIntValue(int64(len(vals))), nil
	case expr.Min, expr.Max:
		if len(vals) == 0 {
			return types.Null(t), nil
		}
		best := vals[0]
		for _, v := range vals[1:] {
			c := types.Compare(v, best)
			if s.Kind == expr.Min && c < 0 || s.Kind == expr.Max && c > 0 {
				best = v
			}
		}
		return best, nil
	}
	// sum, avg
	ag, err := expr.NewAggregate(s)
	if err != nil {
		return types.Value{}, err
	}
	out := ag.Type()
	if len(vals) == 0 {
		return types.Null(out), nil
	}
	if t.ID() == types.Double {
		sum := 0.0
		for _, v := range vals {
			sum += v.Float64() // the test data's sums are exact in any order
		}
		if s.Kind == expr.Avg {
			return types.DoubleValue(sum / float64(len(vals))), nil
		}
		return types.DoubleValue(sum), nil
	}
	sum := new(big.Int)
	for _, v := range vals {
		sum.Add(sum, big.NewInt(v.Int64()))
	}
	if s.Kind == expr.Avg {
		den := new(big.Int).Mul(big.NewInt(int64(len(vals))), big.NewInt(types.Pow10(t.Scale())))
		f, _ := new(big.Rat).SetFrac(sum, den).Float64()
		return types.DoubleValue(f), nil
	}
	if !sum.IsInt64() {
		return types.Value{}, fmt.Errorf("reference sum overflows")
	}
	if out.ID() == types.Decimal {
		return types.DecimalValue(sum.Int64(), out), nil
	}
	return types.BigIntValue(sum.Int64()), nil
}
