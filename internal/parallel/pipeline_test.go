package parallel

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

var bigint = []types.Type{types.BigIntType}

// lifecycle counts local states opened and closed, morsels scanned, and
// the morsels scanned when a test cancelled its query.
type lifecycle struct{ opened, closed, scanned, atCancel atomic.Int64 }

// rangeSource produces the BIGINTs 0..n-1 in morsels of `morsel` rows and
// chunks of at most `chunk` rows.
type rangeSource struct {
	n, morsel, chunk int
	lc               *lifecycle
	failScan         int // fail the scan of this row (≥ 1), 0: never
	onScan           func(row int)
}

func (s *rangeSource) Types() []types.Type { return bigint }
func (s *rangeSource) Init(*Producer) (SourceState, error) {
	return s, nil
}
func (s *rangeSource) Morsels() int { return (s.n + s.morsel - 1) / s.morsel }
func (s *rangeSource) NewLocal() (SourceLocal, error) {
	s.lc.opened.Add(1)
	return &rangeLocal{s: s}, nil
}

type rangeLocal struct {
	s   *rangeSource
	pos int // offset in the current morsel
}

var errInjected = errors.New("injected failure")

func (l *rangeLocal) Scan(m int, out *vector.Chunk) (bool, error) {
	s := l.s
	if l.pos == 0 {
		s.lc.scanned.Add(1)
	}
	mEnd := min((m+1)*s.morsel, s.n)
	begin := m*s.morsel + l.pos
	end := min(begin+s.chunk, mEnd)
	if s.failScan > 0 && begin <= s.failScan && s.failScan < end {
		return false, errInjected
	}
	if s.onScan != nil {
		s.onScan(begin)
	}
	d := out.Col(0).Int64s()
	for i := begin; i < end; i++ {
		d[i-begin] = int64(i)
	}
	out.SetLen(end - begin)
	l.pos += end - begin
	if end == mEnd {
		l.pos = 0
		return false, nil
	}
	return true, nil
}

func (l *rangeLocal) Close() error {
	l.s.lc.closed.Add(1)
	return nil
}

// filterOp keeps the rows whose value is not a multiple of mod, using a
// selection over its input and a gather into its output.
type filterOp struct{ mod int64 }

func (f filterOp) Types() []types.Type                   { return bigint }
func (f filterOp) Init(*Producer) (OperatorState, error) { return f, nil }
func (f filterOp) NewLocal() (OperatorLocal, error)      { return f, nil }
func (f filterOp) Execute(in, out *vector.Chunk) (OperatorResult, error) {
	col := vector.ColOf[int64](in, 0)
	sel := make(vector.Selection, 0, in.Len())
	for r := range col.Len() {
		if x, ok := col.Get(r); ok && x%f.mod != 0 {
			sel = append(sel, uint16(col.Index(r)))
		}
	}
	vector.Copy(out.Col(0), 0, in.Col(0), sel, len(sel))
	out.SetLen(len(sel))
	return NeedMoreInput, nil
}

// repeatOp emits its input k times, one output chunk per call.
type repeatOp struct{ k int }

func (o repeatOp) Types() []types.Type                   { return bigint }
func (o repeatOp) Init(*Producer) (OperatorState, error) { return o, nil }
func (o repeatOp) NewLocal() (OperatorLocal, error)      { return &repeatLocal{k: o.k}, nil }

type repeatLocal struct{ k, done int }

func (o *repeatLocal) Execute(in, out *vector.Chunk) (OperatorResult, error) {
	out.Append(in)
	o.done++
	if o.done < o.k {
		return HaveMoreOutput, nil
	}
	o.done = 0
	return NeedMoreInput, nil
}

// limitOp passes on the first `limit` rows over all tasks, then Finishes.
type limitOp struct{ limit int64 }

func (o limitOp) Types() []types.Type { return bigint }
func (o limitOp) Init(*Producer) (OperatorState, error) {
	st := &limitState{}
	st.left.Store(o.limit)
	return st, nil
}

type limitState struct{ left atomic.Int64 }

func (s *limitState) NewLocal() (OperatorLocal, error) { return s, nil }
func (s *limitState) Execute(in, out *vector.Chunk) (OperatorResult, error) {
	n := int64(in.Len())
	left := s.left.Add(-n)
	take := n
	if left < 0 {
		take = max(0, n+left)
	}
	if take > 0 {
		sel := make(vector.Selection, take)
		for i := range sel {
			sel[i] = uint16(in.Index(i))
		}
		vector.Copy(out.Col(0), 0, in.Col(0), sel, int(take))
		out.SetLen(int(take))
	}
	if left <= 0 {
		return Finished, nil
	}
	return NeedMoreInput, nil
}

// sumSink adds up its input: the shape of an aggregate without groups.
type sumSink struct {
	lc          *lifecycle
	mu          sync.Mutex
	sum, count  int64
	finalized   int
	failAt      int64 // fail when this value arrives (≥ 1), 0: never
	failCombine bool
	failFinal   bool
}

func (s *sumSink) Init(*Producer) (SinkState, error) {
	s.sum, s.count, s.finalized = 0, 0, 0
	return s, nil
}
func (s *sumSink) NewLocal() (SinkLocal, error) {
	s.lc.opened.Add(1)
	return &sumLocal{s: s}, nil
}
func (s *sumSink) Finalize() error {
	if s.failFinal {
		return errInjected
	}
	s.finalized++
	return nil
}

type sumLocal struct {
	s          *sumSink
	sum, count int64
}

func (l *sumLocal) Sink(in *vector.Chunk) error {
	col := vector.ColOf[int64](in, 0)
	for r := range col.Len() {
		x, _ := col.Get(r)
		if l.s.failAt > 0 && x == l.s.failAt {
			return fmt.Errorf("value %d: %w", x, errInjected)
		}
		l.sum += x
		l.count++
	}
	return nil
}
func (l *sumLocal) Combine() error {
	if l.s.failCombine {
		return errInjected
	}
	l.s.mu.Lock()
	l.s.sum += l.sum
	l.s.count += l.count
	l.s.mu.Unlock()
	return nil
}
func (l *sumLocal) Close() error {
	l.s.lc.closed.Add(1)
	return nil
}

// setSink collects its input into a set: a hash join's build side.
type setSink struct {
	mu    sync.Mutex
	set   map[int64]bool
	built bool
}

func (s *setSink) Init(*Producer) (SinkState, error) {
	s.set, s.built = map[int64]bool{}, false
	return s, nil
}
func (s *setSink) NewLocal() (SinkLocal, error) { return &setLocal{s: s}, nil }
func (s *setSink) Finalize() error {
	s.built = true
	return nil
}

type setLocal struct {
	s    *setSink
	keys []int64
}

func (l *setLocal) Sink(in *vector.Chunk) error {
	col := vector.ColOf[int64](in, 0)
	for r := range col.Len() {
		x, _ := col.Get(r)
		l.keys = append(l.keys, x)
	}
	return nil
}
func (l *setLocal) Combine() error {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	for _, k := range l.keys {
		l.s.set[k] = true
	}
	return nil
}

// probeOp keeps the rows found in a finalized setSink: a hash join's probe.
type probeOp struct{ build *setSink }

func (o probeOp) Types() []types.Type { return bigint }
func (o probeOp) Init(*Producer) (OperatorState, error) {
	if !o.build.built {
		return nil, errors.New("probe initialized before its build finalized")
	}
	return o, nil
}
func (o probeOp) NewLocal() (OperatorLocal, error) { return o, nil }
func (o probeOp) Execute(in, out *vector.Chunk) (OperatorResult, error) {
	col := vector.ColOf[int64](in, 0)
	d := out.Col(0).Int64s()
	n := 0
	for r := range col.Len() {
		if x, _ := col.Get(r); o.build.set[x] {
			d[n] = x
			n++
		}
	}
	out.SetLen(n)
	return NeedMoreInput, nil
}

func expectedSum(n int, keep func(int64) bool, times int64) (sum, count int64) {
	for i := range int64(n) {
		if keep(i) {
			sum += i * times
			count += times
		}
	}
	return sum, count
}

// TestPipelineSum runs scan → filter → repeat → sum under 1..3 threads,
// chunk sizes from 1 to 2048 and both execution modes, and checks the
// result and that every local state was closed.
func TestPipelineSum(t *testing.T) {
	const n = 50000
	want, wantCount := expectedSum(n, func(x int64) bool { return x%3 != 0 }, 2)
	for _, threads := range []int{1, 2, 3} {
		for _, chunk := range []int{1, 7, min(1000, vector.Size), vector.Size} {
			for _, full := range []bool{false, true} {
				if chunk == 1 && threads > 1 {
					continue // slow and adds nothing
				}
				name := fmt.Sprintf("threads=%d/chunk=%d/full=%v", threads, chunk, full)
				t.Run(name, func(t *testing.T) {
					s := New(Options{Threads: threads})
					defer s.Close()
					if full {
						s.SetExecutePolicy(fullMode{})
					}
					lc := &lifecycle{}
					src := &rangeSource{n: n, morsel: 3000, chunk: chunk, lc: lc}
					sink := &sumSink{lc: lc}
					p := NewPipeline("sum", src, []Operator{filterOp{3}, repeatOp{2}}, sink)
					st, err := Run(context.Background(), s, []*Pipeline{p})
					if err != nil {
						t.Fatal(err)
					}
					m := st.Query
					chunks := 0
					for m := 0; m < n; m += 3000 {
						chunks += (min(3000, n-m) + chunk - 1) / chunk
					}
					ps := st.Pipelines[0]
					if got := fmt.Sprint(ps.Rows, ps.Morsels, ps.Chunks, ps.Finalized); got != fmt.Sprint([]int64{n, wantCount / 2, wantCount}, 17, chunks, true) {
						t.Errorf("pipeline stats: rows, morsels, chunks, finalized = %s", got)
					}
					if sink.sum != want || sink.count != wantCount || sink.finalized != 1 {
						t.Fatalf("sum %d count %d finalized %d; want %d, %d, 1", sink.sum, sink.count, sink.finalized, want, wantCount)
					}
					if lc.opened.Load() != lc.closed.Load() || lc.opened.Load() != 2*int64(min(threads, 17)) {
						t.Fatalf("opened %d locals, closed %d; want 2 per task", lc.opened.Load(), lc.closed.Load())
					}
					if lc.scanned.Load() != 17 {
						t.Fatalf("scanned %d morsels, want 17", lc.scanned.Load())
					}
					// Partial mode returns after each morsel: one execution per
					// morsel plus the one that finds none left.
					if !full && m.Executions != 17+m.TasksScheduled {
						t.Errorf("metrics %v: want %d executions", m, 17+m.TasksScheduled)
					}
				})
			}
		}
	}
}

// TestPipelineDependencies runs a build pipeline and a probe pipeline that
// depends on it, plus one with no morsels, several times concurrently on
// one scheduler.
func TestPipelineDependencies(t *testing.T) {
	s := New(Options{Threads: 3})
	defer s.Close()
	var wg sync.WaitGroup
	for q := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lc := &lifecycle{}
			build := &setSink{}
			bp := NewPipeline("build", &rangeSource{n: 3000, morsel: 500, chunk: min(300, vector.Size), lc: lc}, []Operator{filterOp{2}}, build)
			sink := &sumSink{lc: lc}
			pp := NewPipeline("probe", &rangeSource{n: 10000, morsel: 1000, chunk: vector.Size, lc: lc}, []Operator{probeOp{build}}, sink)
			pp.DependsOn(bp)
			empty := &sumSink{lc: lc}
			ep := NewPipeline("empty", &rangeSource{n: 0, morsel: 10, chunk: 10, lc: lc}, nil, empty)
			ep.DependsOn(pp)
			// Listed in reverse: Run orders by dependencies, not by list.
			if _, err := Run(context.Background(), s, []*Pipeline{ep, pp, bp}); err != nil {
				t.Errorf("query %d: %v", q, err)
				return
			}
			want, count := expectedSum(3000, func(x int64) bool { return x%2 != 0 }, 1)
			if sink.sum != want || sink.count != count {
				t.Errorf("query %d: probe sum %d count %d, want %d %d", q, sink.sum, sink.count, want, count)
			}
			if empty.finalized != 1 || empty.count != 0 {
				t.Errorf("query %d: pipeline without morsels finalized %d times, count %d", q, empty.finalized, empty.count)
			}
			if lc.opened.Load() != lc.closed.Load() {
				t.Errorf("query %d: opened %d locals, closed %d", q, lc.opened.Load(), lc.closed.Load())
			}
		}()
	}
	wg.Wait()
	if got := pipelineString(t); got != "probe (after build)" {
		t.Errorf("String() = %q", got)
	}
}

func pipelineString(*testing.T) string {
	b := NewPipeline("build", nil, nil, nil)
	p := NewPipeline("probe", nil, nil, nil)
	p.DependsOn(b)
	return p.String()
}

// orderedSink collects rows by morsel and concatenates them in morsel
// order when finalized: an order-preserving result collector.
type orderedSink struct {
	mu       sync.Mutex
	byMorsel map[int][]int64
	rows     []int64
}

func (s *orderedSink) Init(*Producer) (SinkState, error) {
	s.byMorsel, s.rows = map[int][]int64{}, nil
	return s, nil
}
func (s *orderedSink) NewLocal() (SinkLocal, error) {
	return &orderedLocal{s: s, got: map[int][]int64{}}, nil
}
func (s *orderedSink) Finalize() error {
	for m := 0; m < len(s.byMorsel); m++ {
		s.rows = append(s.rows, s.byMorsel[m]...)
	}
	return nil
}

type orderedLocal struct {
	s   *orderedSink
	m   int
	got map[int][]int64
}

func (l *orderedLocal) BeginMorsel(m int) { l.m = m; l.got[m] = []int64{} }
func (l *orderedLocal) Sink(in *vector.Chunk) error {
	col := vector.ColOf[int64](in, 0)
	for r := range col.Len() {
		x, _ := col.Get(r)
		l.got[l.m] = append(l.got[l.m], x)
	}
	return nil
}
func (l *orderedLocal) Combine() error {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	for m, rows := range l.got {
		l.s.byMorsel[m] = rows
	}
	return nil
}

// TestPipelineKeepsSourceOrder collects a parallel filtered scan in the
// source's order through MorselSink.
func TestPipelineKeepsSourceOrder(t *testing.T) {
	s := New(Options{Threads: 3})
	defer s.Close()
	sink := &orderedSink{}
	p := NewPipeline("ordered", &rangeSource{n: 20000, morsel: 700, chunk: min(256, vector.Size), lc: &lifecycle{}}, []Operator{filterOp{5}}, sink)
	if _, err := Run(context.Background(), s, []*Pipeline{p}); err != nil {
		t.Fatal(err)
	}
	var want []int64
	for i := range int64(20000) {
		if i%5 != 0 {
			want = append(want, i)
		}
	}
	if !slices.Equal(sink.rows, want) {
		t.Fatalf("rows out of source order: %d rows, first %v", len(sink.rows), sink.rows[:min(10, len(sink.rows))])
	}
}

// TestPipelineLimit stops all tasks once a LIMIT is satisfied.
func TestPipelineLimit(t *testing.T) {
	s := New(Options{Threads: 2})
	defer s.Close()
	lc := &lifecycle{}
	sink := &sumSink{lc: lc}
	src := &rangeSource{n: 1_000_000, morsel: 1000, chunk: min(100, vector.Size), lc: lc}
	p := NewPipeline("limit", src, []Operator{limitOp{250}}, sink)
	if _, err := Run(context.Background(), s, []*Pipeline{p}); err != nil {
		t.Fatal(err)
	}
	if sink.count != 250 || sink.finalized != 1 {
		t.Fatalf("count %d finalized %d, want 250, 1", sink.count, sink.finalized)
	}
	if got := lc.scanned.Load(); got > 10 {
		t.Fatalf("scanned %d of 1000 morsels for a LIMIT of 250 rows", got)
	}
}

// TestRunStatsText pins the EXPLAIN ANALYZE-style table, times masked.
func TestRunStatsText(t *testing.T) {
	if vector.Size < 1000 {
		t.Skipf("pins the chunk counts of vectors of 2048 rows; they hold %d here (-tags tinyvectors)", vector.Size)
	}
	s := New(Options{Threads: 1})
	defer s.Close()
	lc := &lifecycle{}
	build := &setSink{}
	bp := NewPipeline("build", &rangeSource{n: 3000, morsel: 500, chunk: min(300, vector.Size), lc: lc}, []Operator{filterOp{2}}, build)
	pp := NewPipeline("probe", &rangeSource{n: 10000, morsel: 1000, chunk: vector.Size, lc: lc}, []Operator{probeOp{build}, limitOp{100}}, &sumSink{lc: lc})
	pp.DependsOn(bp)
	st, err := Run(context.Background(), s, []*Pipeline{bp, pp})
	if err != nil {
		t.Fatal(err)
	}
	masked := regexp.MustCompile(`[0-9.]+(ns|µs|ms|s)\b`).ReplaceAllString(st.String(), "_")
	want := `pipeline     tasks  morsels   chunks  rows (source → operators)      wall
build            1        6       12  3000 → 1500                    _
probe            1        1        1  1000 → 500 → 100               _
query: scheduled 2, executions 8, finished 2, dropped 0, queue wait _ (max _), busy _
`
	if masked != want {
		t.Errorf("stats:\n%s\nwant:\n%s", masked, want)
	}
	// Time has one entry per stage (source, operators, sink), each
	// measured, none larger than the pipeline's wall time on one thread.
	for _, ps := range st.Pipelines {
		if len(ps.Time) != len(ps.Rows)+1 {
			t.Errorf("%s: %d stage times for %d stages", ps.Name, len(ps.Time), len(ps.Rows)+1)
		}
		for i, d := range ps.Time {
			if d <= 0 || d > ps.Wall {
				t.Errorf("%s: stage %d took %v of a wall time of %v", ps.Name, i, d, ps.Wall)
			}
		}
	}
}

// TestPipelineErrors fails each stage in turn and cancels by context; Run
// returns the error, every opened local is closed, and later pipelines do
// not start.
func TestPipelineErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(src *rangeSource, sink *sumSink, cancel context.CancelFunc)
		want  string
	}{
		{"scan", func(src *rangeSource, _ *sumSink, _ context.CancelFunc) { src.failScan = 12345 }, "pipeline first: scan morsel 12: injected failure"},
		{"sink", func(_ *rangeSource, sink *sumSink, _ context.CancelFunc) { sink.failAt = 20001 }, "pipeline first: value 20001: injected failure"},
		{"combine", func(_ *rangeSource, sink *sumSink, _ context.CancelFunc) { sink.failCombine = true }, "pipeline first: combine: injected failure"},
		{"finalize", func(_ *rangeSource, sink *sumSink, _ context.CancelFunc) { sink.failFinal = true }, "pipeline first: finalize: injected failure"},
		{"panic", func(src *rangeSource, _ *sumSink, _ context.CancelFunc) {
			src.onScan = func(row int) {
				if row == 40000 {
					panic("scan bug")
				}
			}
		}, "BUG: task panicked: scan bug"},
		{"cancel", func(src *rangeSource, _ *sumSink, cancel context.CancelFunc) {
			src.onScan = func(row int) {
				if row == 30000 {
					cancel()
					src.lc.atCancel.Store(src.lc.scanned.Load())
				}
			}
		}, "context canceled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(Options{Threads: 2})
			defer s.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			lc := &lifecycle{}
			src := &rangeSource{n: 100000, morsel: 1000, chunk: min(500, vector.Size), lc: lc}
			sink := &sumSink{lc: lc}
			tc.setup(src, sink, cancel)
			first := NewPipeline("first", src, nil, sink)
			second := &sumSink{lc: lc}
			next := NewPipeline("second", &rangeSource{n: 10, morsel: 10, chunk: 10, lc: lc}, nil, second)
			next.DependsOn(first)
			_, err := Run(ctx, s, []*Pipeline{first, next})
			if err == nil || err.Error() != tc.want && !(tc.name == "panic" && strings.HasPrefix(err.Error(), tc.want)) {
				t.Fatalf("Run = %v, want %q", err, tc.want)
			}
			if tc.name != "cancel" && tc.name != "panic" && !errors.Is(err, errInjected) {
				t.Fatalf("error %v does not wrap the cause", err)
			}
			if lc.opened.Load() != lc.closed.Load() {
				t.Fatalf("opened %d locals, closed %d", lc.opened.Load(), lc.closed.Load())
			}
			if second.finalized != 0 {
				t.Fatal("the dependent pipeline ran after a failure")
			}
			// Tasks check for cancellation before every chunk: once cancel
			// has returned, the other worker may at most start the morsel it
			// had already claimed. (How many morsels ran before cancel
			// returned depends on the goroutines' scheduling.)
			if n := lc.scanned.Load() - lc.atCancel.Load(); tc.name == "cancel" && n > 1 {
				t.Errorf("%d morsels started after cancel returned (at morsel %d), want at most 1", n, lc.atCancel.Load())
			}
		})
	}
}

// panicSink panics in Init or Finalize, which run outside tasks when a
// pipeline has no morsels.
type panicSink struct{ inInit bool }

func (s panicSink) Init(*Producer) (SinkState, error) {
	if s.inInit {
		panic("init bug")
	}
	return s, nil
}
func (s panicSink) NewLocal() (SinkLocal, error) { return nil, errors.New("no locals expected") }
func (s panicSink) Finalize() error              { panic("finalize bug") }

// TestStagePanicsOutsideTasks checks that a stage panicking on Run's own
// goroutine fails the query instead of crashing the caller.
func TestStagePanicsOutsideTasks(t *testing.T) {
	s := New(Options{Threads: 1})
	defer s.Close()
	for _, inInit := range []bool{true, false} {
		p := NewPipeline("empty", &rangeSource{n: 0, morsel: 1, chunk: 1, lc: &lifecycle{}}, nil, panicSink{inInit})
		_, err := Run(context.Background(), s, []*Pipeline{p})
		want := "pipeline empty: finalize: BUG: stage panicked: finalize bug"
		if inInit {
			want = "pipeline empty: init: BUG: stage panicked: init bug"
		}
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Run = %v, want %q", err, want)
		}
	}
}

func TestPlanErrors(t *testing.T) {
	s := New(Options{Threads: 1})
	defer s.Close()
	lc := &lifecycle{}
	mk := func(name string) *Pipeline {
		return NewPipeline(name, &rangeSource{n: 1, morsel: 1, chunk: 1, lc: lc}, nil, &sumSink{lc: lc})
	}
	a, b, c := mk("a"), mk("b"), mk("c")
	a.DependsOn(b)
	b.DependsOn(a)
	c.DependsOn(mk("outside"))
	for _, tc := range []struct {
		ps   []*Pipeline
		want string
	}{
		{[]*Pipeline{a, b}, "pipeline dependencies form a cycle"},
		{[]*Pipeline{c}, "pipeline c depends on outside, which is not in the plan"},
		{[]*Pipeline{c, c}, "pipeline c listed twice"},
	} {
		_, err := Run(context.Background(), s, tc.ps)
		if !errors.Is(err, ErrPlan) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Run = %v, want %q (ErrPlan)", err, tc.want)
		}
	}
}

// BenchmarkPipeline measures the framework's cost per chunk: a source that
// only sets chunk lengths, one pass-through operator and a counting sink,
// 6,000,000 rows in morsels of 122,880 (60 chunks each).
func BenchmarkPipeline(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			s := New(Options{Threads: threads})
			defer s.Close()
			const n = 6_000_000
			chunks := (n + vector.Size - 1) / vector.Size
			for b.Loop() {
				sink := &countSink{}
				p := NewPipeline("count", emptySource{n: n, morsel: 122880}, []Operator{passOp{}}, sink)
				if _, err := Run(context.Background(), s, []*Pipeline{p}); err != nil {
					b.Fatal(err)
				}
				if sink.rows.Load() != n {
					b.Fatalf("counted %d rows", sink.rows.Load())
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*chunks), "ns/chunk")
		})
	}
}

// emptySource produces chunks of garbage: only their lengths are set.
type emptySource struct{ n, morsel int }

func (s emptySource) Types() []types.Type                 { return bigint }
func (s emptySource) Init(*Producer) (SourceState, error) { return s, nil }
func (s emptySource) Morsels() int                        { return (s.n + s.morsel - 1) / s.morsel }
func (s emptySource) NewLocal() (SourceLocal, error)      { return &emptyLocal{s: s}, nil }

type emptyLocal struct {
	s   emptySource
	pos int
}

func (l *emptyLocal) Scan(m int, out *vector.Chunk) (bool, error) {
	end := min((m+1)*l.s.morsel, l.s.n)
	k := min(vector.Size, end-m*l.s.morsel-l.pos)
	out.SetLen(k)
	l.pos += k
	if m*l.s.morsel+l.pos == end {
		l.pos = 0
		return false, nil
	}
	return true, nil
}

// passOp passes its input on by reference.
type passOp struct{}

func (passOp) Types() []types.Type                   { return bigint }
func (passOp) Init(*Producer) (OperatorState, error) { return passOp{}, nil }
func (passOp) NewLocal() (OperatorLocal, error)      { return passOp{}, nil }
func (passOp) Execute(in, out *vector.Chunk) (OperatorResult, error) {
	out.ReferenceChunk(in)
	return NeedMoreInput, nil
}

// countSink counts rows.
type countSink struct{ rows atomic.Int64 }

func (s *countSink) Init(*Producer) (SinkState, error) { return s, nil }
func (s *countSink) NewLocal() (SinkLocal, error)      { return &countLocal{s: s}, nil }
func (s *countSink) Finalize() error                   { return nil }

type countLocal struct {
	s    *countSink
	rows int64
}

func (l *countLocal) Sink(in *vector.Chunk) error { l.rows += int64(in.Len()); return nil }
func (l *countLocal) Combine() error              { l.s.rows.Add(l.rows); return nil }

// countingSink counts its Inits and Finalizes.
type countingSink struct {
	inits, finals atomic.Int32
}

func (s *countingSink) Init(*Producer) (SinkState, error) { s.inits.Add(1); return s, nil }
func (s *countingSink) NewLocal() (SinkLocal, error)      { return countingLocal{}, nil }
func (s *countingSink) Finalize() error                   { s.finals.Add(1); return nil }

type countingLocal struct{}

func (countingLocal) Sink(*vector.Chunk) error { return nil }
func (countingLocal) Combine() error           { return nil }

// TestEmptyPipelineStartsDependentsOnce: a pipeline without morsels
// finalizes inside Run's start loop and starts its dependents itself; a
// dependent listed after it must not be started again (a join build
// started twice replaced the table its probe had already taken).
func TestEmptyPipelineStartsDependentsOnce(t *testing.T) {
	s := New(Options{Threads: 2})
	defer s.Close()
	lc := &lifecycle{}
	for range 50 {
		empty := NewPipeline("empty", &rangeSource{n: 0, morsel: 10, chunk: 10, lc: lc}, nil, &countingSink{})
		sink := &countingSink{}
		dep := NewPipeline("dependent", &rangeSource{n: 0, morsel: 10, chunk: 10, lc: lc}, nil, sink)
		dep.DependsOn(empty)
		last := NewPipeline("last", &rangeSource{n: 100, morsel: 10, chunk: 10, lc: lc}, nil, &countingSink{})
		last.DependsOn(dep)
		if _, err := Run(context.Background(), s, []*Pipeline{empty, dep, last}); err != nil {
			t.Fatal(err)
		}
		if i, f := sink.inits.Load(), sink.finals.Load(); i != 1 || f != 1 {
			t.Fatalf("dependent pipeline: %d Inits, %d Finalizes, want 1 each", i, f)
		}
	}
}

// keepOp keeps the rows divisible by k.
type keepOp struct{ k int64 }

func (f keepOp) Types() []types.Type                   { return bigint }
func (f keepOp) Init(*Producer) (OperatorState, error) { return f, nil }
func (f keepOp) NewLocal() (OperatorLocal, error)      { return f, nil }
func (f keepOp) Execute(in, out *vector.Chunk) (OperatorResult, error) {
	col := vector.ColOf[int64](in, 0)
	sel := make(vector.Selection, 0, in.Len())
	for r := range col.Len() {
		if x, ok := col.Get(r); ok && x%f.k == 0 {
			sel = append(sel, uint16(col.Index(r)))
		}
	}
	out.ReferenceChunk(in) // a selection over the input, as a filter's
	out.SetSel(sel, len(sel))
	return NeedMoreInput, nil
}

// sizesSink records the rows of each chunk it is given, by morsel.
type sizesSink struct {
	mu     sync.Mutex
	chunks map[int][][]int64
}

func (s *sizesSink) Init(*Producer) (SinkState, error) { s.chunks = map[int][][]int64{}; return s, nil }
func (s *sizesSink) NewLocal() (SinkLocal, error)      { return &sizesLocal{s: s}, nil }
func (s *sizesSink) Finalize() error                   { return nil }

type sizesLocal struct {
	s *sizesSink
	m int
}

func (l *sizesLocal) BeginMorsel(m int) { l.m = m }
func (l *sizesLocal) Sink(in *vector.Chunk) error {
	col := vector.ColOf[int64](in, 0)
	var rows []int64
	for r := range col.Len() {
		x, _ := col.Get(r)
		rows = append(rows, x)
	}
	l.s.mu.Lock()
	l.s.chunks[l.m] = append(l.s.chunks[l.m], rows)
	l.s.mu.Unlock()
	return nil
}
func (l *sizesLocal) Combine() error { return nil }

// TestPipelineCachesSmallOutputs: an operator that keeps few rows of each
// chunk sends them on gathered, in chunks of at least cacheBelow rows but
// the last of each morsel, and the rows come out complete, in order, and
// under the morsel they belong to; a big output goes on at once, after
// what was gathered before it (which may then be a small chunk).
func TestPipelineCachesSmallOutputs(t *testing.T) {
	const small = vector.Size / 16 // what the caches gather up to, at least
	for _, tc := range []struct {
		name string
		k    int64
	}{{"thin", 97}, {"mixed", 1}, {"every row", 1}} {
		t.Run(tc.name, func(t *testing.T) {
			for _, threads := range []int{1, 2} {
				s := New(Options{Threads: threads})
				sink := &sizesSink{}
				const n, morsel = 30000, 5000
				var ops []Operator
				if tc.name == "mixed" {
					// Thin and full outputs alternate: keep every row of
					// chunks whose first row is even, few of the others.
					ops = []Operator{altOp{min(500, vector.Size)}}
				} else {
					ops = []Operator{keepOp{tc.k}}
				}
				p := NewPipeline("cache", &rangeSource{n: n, morsel: morsel, chunk: min(500, vector.Size), lc: &lifecycle{}}, ops, sink)
				if _, err := Run(context.Background(), s, []*Pipeline{p}); err != nil {
					t.Fatal(err)
				}
				s.Close()
				for m := range n / morsel {
					var got, want []int64
					for _, c := range sink.chunks[m] {
						got = append(got, c...)
					}
					for x := int64(m * morsel); x < int64((m+1)*morsel); x++ {
						if tc.name == "mixed" && altKeeps(x, min(500, vector.Size)) || tc.name != "mixed" && x%tc.k == 0 {
							want = append(want, x)
						}
					}
					if !slices.Equal(got, want) {
						t.Fatalf("%d threads, morsel %d: %d rows, want %d (first %v)", threads, m, len(got), len(want), got[:min(5, len(got))])
					}
					// A chunk under small rows is the morsel's last
					// or what was gathered before a big one.
					cs := sink.chunks[m]
					for i := 0; i+1 < len(cs); i++ {
						if len(cs[i]) < small && len(cs[i+1]) < small {
							t.Fatalf("%d threads, morsel %d: chunks %d and %d of %d and %d rows, under %d", threads, m, i, i+1, len(cs[i]), len(cs[i+1]), small)
						}
					}
					if tc.name == "thin" && len(cs) > len(want)/small+1 {
						t.Fatalf("%d threads, morsel %d: %d chunks for %d rows", threads, m, len(cs), len(want))
					}
				}
			}
		})
	}
}

// altOp keeps every row of the even runs of size values (0..size-1,
// 2·size..3·size-1, ...) and one row in 50 of the others: with chunks of
// size rows, full and thin outputs alternate.
type altOp struct{ size int }

func (a altOp) Types() []types.Type                   { return bigint }
func (a altOp) Init(*Producer) (OperatorState, error) { return a, nil }
func (a altOp) NewLocal() (OperatorLocal, error)      { return a, nil }
func (a altOp) Execute(in, out *vector.Chunk) (OperatorResult, error) {
	col := vector.ColOf[int64](in, 0)
	sel := make(vector.Selection, 0, in.Len())
	for r := range col.Len() {
		if x, _ := col.Get(r); altKeeps(x, a.size) {
			sel = append(sel, uint16(col.Index(r)))
		}
	}
	out.ReferenceChunk(in)
	out.SetSel(sel, len(sel))
	return NeedMoreInput, nil
}

// altKeeps is altOp's rule for value x and runs of size values.
func altKeeps(x int64, size int) bool {
	return x/int64(size)%2 == 0 || x%50 == 0
}

// finishOp passes its input on whole and finishes the pipeline once it
// has passed at least after rows; a call after that is an error.
type finishOp struct {
	after  int64
	passed atomic.Int64
	done   atomic.Bool
}

func (o *finishOp) Types() []types.Type                   { return bigint }
func (o *finishOp) Init(*Producer) (OperatorState, error) { return o, nil }
func (o *finishOp) NewLocal() (OperatorLocal, error)      { return o, nil }
func (o *finishOp) Execute(in, out *vector.Chunk) (OperatorResult, error) {
	if o.done.Load() {
		return Finished, errors.New("Execute after Finished")
	}
	out.ReferenceChunk(in)
	if o.passed.Add(int64(in.Len())) >= o.after {
		o.done.Store(true)
		return Finished, nil
	}
	return NeedMoreInput, nil
}

// TestPipelineCacheFinished: an operator fed from a cache finishes the
// pipeline; it is not called again, and everything it passed on before
// (some of it small, through the cache after it) reaches the sink.
func TestPipelineCacheFinished(t *testing.T) {
	for _, after := range []int64{1, 300, 1500} { // of 2000 rows kept
		s := New(Options{Threads: 1})
		f := &finishOp{after: after}
		sink := &sumSink{lc: &lifecycle{}}
		// keepOp leaves 10 rows of 500 (cached before f); f's outputs
		// under 128 rows wait in the cache before the sink.
		p := NewPipeline("finish", &rangeSource{n: 100000, morsel: 1000, chunk: min(500, vector.Size), lc: &lifecycle{}},
			[]Operator{keepOp{50}, f}, sink)
		if _, err := Run(context.Background(), s, []*Pipeline{p}); err != nil {
			t.Fatalf("after %d: %v", after, err)
		}
		s.Close()
		if !f.done.Load() || sink.count != f.passed.Load() {
			t.Fatalf("after %d: finished %v, passed %d rows, the sink got %d", after, f.done.Load(), f.passed.Load(), sink.count)
		}
	}
}
