package parallel

import (
	"context"
	"errors"
	"fmt"
	"github.com/bpfdb/bpfdb/internal/testutil/datadriven"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// traceTask records each Execute call in a shared trace and needs calls
// Execute calls (returning Again before the last) to finish.
type traceTask struct {
	name  string
	calls int
	done  int
	trace *traceLog
}

type traceLog struct {
	mu  sync.Mutex
	log []string
}

func (l *traceLog) add(s string) {
	l.mu.Lock()
	l.log = append(l.log, s)
	l.mu.Unlock()
}

func (t *traceTask) Execute(_ TaskContext, mode Mode) (Result, error) {
	for {
		t.done++
		if t.calls > 1 {
			t.trace.add(fmt.Sprintf("%s#%d", t.name, t.done))
		} else {
			t.trace.add(t.name)
		}
		if t.done == t.calls {
			return Done, nil
		}
		if mode == Partial {
			return Again, nil
		}
	}
}

// gate occupies every worker until released, so that a test can queue
// tasks while nothing runs.
func gate(t *testing.T, s *Scheduler) (release func()) {
	t.Helper()
	n := s.Threads()
	var started sync.WaitGroup
	started.Add(n)
	rel := make(chan struct{})
	p := s.NewProducer(context.Background())
	for range n {
		p.Schedule(TaskFunc(func(TaskContext) error {
			started.Done()
			<-rel
			return nil
		}))
	}
	started.Wait()
	return func() {
		close(rel)
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// byQuery serves producers strictly in the order of ids: first-come,
// first-served across queries, the unfair baseline.
type byQuery struct {
	mu    sync.Mutex
	order []ProducerID
}

func (b *byQuery) add(id ProducerID) {
	b.mu.Lock()
	b.order = append(b.order, id)
	b.mu.Unlock()
}

func (b *byQuery) ExecuteForever(w *Worker) (Verdict, error) {
	b.mu.Lock()
	order := b.order
	b.mu.Unlock()
	for _, id := range order {
		if w.DequeueFrom(id) {
			if res, _ := w.Execute(Partial); res == Again {
				w.Requeue()
			}
			return Handled, nil
		}
	}
	if w.Dequeue() { // producers not in the list (the gate)
		w.Execute(Full)
		return Handled, nil
	}
	w.Wait()
	return Handled, nil
}

// fullMode runs every task to the end in one call.
type fullMode struct{}

func (fullMode) ExecuteForever(w *Worker) (Verdict, error) {
	if !w.Dequeue() {
		w.Wait()
		return Handled, nil
	}
	w.Execute(Full)
	return Handled, nil
}

// lifo puts every new task at the front of its producer's queue.
type lifo struct{}

func (lifo) ScheduleTask(sub *Submission) (Verdict, error) {
	sub.Enqueue(true)
	sub.Wake(1)
	return Handled, nil
}

// TestScheduleGolden runs testdata/schedule: with one worker, the order in
// which queued tasks of several queries run, under the built-in policies
// and under replacements.
//
//	order [execute=by-query|full] [schedule=lifo]
//	<producer> <tasks> [calls]      one line per producer, submitted in order
//	----
//	the executions, in order (name#call for tasks that need several calls)
func TestScheduleGolden(t *testing.T) {
	datadriven.Run(t, "testdata/schedule", *rewrite, func(t *testing.T, c *datadriven.Case) string {
		s := New(Options{Threads: 1})
		defer s.Close()
		bq := &byQuery{}
		for _, a := range c.Args {
			switch a {
			case "execute=by-query":
				s.SetExecutePolicy(bq)
			case "execute=full":
				s.SetExecutePolicy(fullMode{})
			case "schedule=lifo":
				s.SetSchedulePolicy(lifo{})
			default:
				t.Fatalf("unknown argument %q", a)
			}
		}
		release := gate(t, s)
		trace := &traceLog{}
		var ps []*Producer
		for _, line := range c.Input {
			f := strings.Fields(line)
			n, _ := strconv.Atoi(f[1])
			calls := 1
			if len(f) > 2 {
				calls, _ = strconv.Atoi(f[2])
			}
			p := s.NewProducer(context.Background())
			bq.add(p.ID())
			ps = append(ps, p)
			for i := range n {
				p.Schedule(&traceTask{name: fmt.Sprintf("%s%d", f[0], i+1), calls: calls, trace: trace})
			}
		}
		release()
		for _, p := range ps {
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
		}
		return strings.Join(trace.log, " ")
	})
}

// TestManyQueries runs many concurrent queries whose tasks spawn more
// tasks and checks every task ran exactly once and the counters agree.
func TestManyQueries(t *testing.T) {
	s := New(Options{Threads: 4})
	defer s.Close()
	const queries, tasks = 40, 100
	var wg sync.WaitGroup
	errs := make(chan error, queries)
	for q := range queries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := s.NewProducer(context.Background())
			runs := make([]atomic.Int32, 2*tasks)
			for i := range tasks {
				p.Schedule(TaskFunc(func(tc TaskContext) error {
					runs[i].Add(1)
					if i%2 == 0 { // every other task spawns a child
						tc.Producer.Schedule(TaskFunc(func(TaskContext) error {
							runs[tasks+i].Add(1)
							return nil
						}))
					}
					return nil
				}))
			}
			if err := p.Close(); err != nil {
				errs <- err
				return
			}
			for i := range runs {
				want := int32(1)
				if i >= tasks && (i-tasks)%2 == 1 {
					want = 0
				}
				if got := runs[i].Load(); got != want {
					errs <- fmt.Errorf("query %d task %d ran %d times, want %d", q, i, got, want)
					return
				}
			}
			m := p.Metrics()
			if m.TasksScheduled != tasks*3/2 || m.TasksFinished != m.TasksScheduled || m.TasksDropped != 0 || m.Executions != m.TasksScheduled {
				errs <- fmt.Errorf("query %d metrics: %v", q, m)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	m := s.Metrics()
	if m.TasksScheduled != queries*tasks*3/2 || m.Executions != m.TasksScheduled || m.Producers != 0 {
		t.Errorf("scheduler metrics:\n%v", m)
	}
	var execs uint64
	for _, w := range m.Workers {
		execs += w.Executions
	}
	if execs != m.Executions {
		t.Errorf("workers executed %d tasks, scheduler counted %d", execs, m.Executions)
	}
	t.Logf("\n%v", m)
}

// fairness submits two queries of equal work, all of A's tasks before any
// of B's. When the faster query had started 90% of its tasks, how many of
// the other's had started, relative to 90%? 1 is perfectly interleaved, 0
// is one query after the other. Start order is what the scheduler decides;
// completion order would also measure how the OS preempts worker threads.
func fairness(t *testing.T, s *Scheduler, bq *byQuery) float64 {
	t.Helper()
	const tasks = 200
	var order atomic.Int64
	var startedAt [2][]int64
	for q := range startedAt {
		startedAt[q] = make([]int64, tasks)
	}
	release := gate(t, s)
	var ps [2]*Producer
	for q := range ps {
		ps[q] = s.NewProducer(context.Background())
		if bq != nil {
			bq.add(ps[q].ID())
		}
		for i := range tasks {
			ps[q].Schedule(TaskFunc(func(TaskContext) error {
				startedAt[q][i] = order.Add(1)
				spin(2000)
				return nil
			}))
		}
	}
	release()
	for _, p := range ps {
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// Cut at the 90th percentile rather than the last start: a worker thread
	// the OS deschedules between dequeue and start makes a straggler.
	const k = tasks * 9 / 10
	var cut [2]int64
	for q := range startedAt {
		sorted := slices.Sorted(slices.Values(startedAt[q]))
		cut[q] = sorted[k-1]
	}
	first, second := 0, 1
	if cut[1] < cut[0] {
		first, second = 1, 0
	}
	n := 0
	for _, at := range startedAt[second] {
		if at < cut[first] {
			n++
		}
	}
	return float64(n) / k
}

var sink atomic.Uint64

// spin does some CPU work that the compiler cannot remove.
func spin(n int) {
	x := uint64(n)
	for i := range n {
		x = x*6364136223846793005 + uint64(i)
	}
	sink.Add(x)
}

// TestFairness checks that two queries of equal work submitted together
// finish interleaved under the built-in round robin, and that the metric
// tells a first-come-first-served policy apart. The bounds are loose: the
// metric depends on ordering, not on timing.
func TestFairness(t *testing.T) {
	s := New(Options{Threads: 2})
	defer s.Close()
	rr := fairness(t, s, nil)
	bq := &byQuery{}
	s.SetExecutePolicy(bq)
	fifo := fairness(t, s, bq)
	t.Logf("fairness (other query's share of starts when the first had started 90%%): round robin %.3f, first-come-first-served %.3f", rr, fifo)
	if rr < 0.5 {
		t.Errorf("round robin fairness %.3f, want ≥ 0.5", rr)
	}
	if fifo > 0.2 {
		t.Errorf("first-come-first-served fairness %.3f, want ≤ 0.2 (the metric does not discriminate)", fifo)
	}
}

// cancelTask counts executions after the query was cancelled and
// discards.
type cancelTask struct {
	i                  int
	started, afterStop *atomic.Int64
	stopped            *atomic.Bool
	discarded          *atomic.Int64
	onStart            func(i int)
}

func (c *cancelTask) Execute(tc TaskContext, _ Mode) (Result, error) {
	if c.stopped.Load() {
		c.afterStop.Add(1)
	}
	c.started.Add(1)
	if c.onStart != nil {
		c.onStart(c.i)
	}
	spin(500)
	return Done, nil
}

// Discard marks the query stopped: the first discard happens inside
// Cancel, after the queue was emptied, so a task starting later must have
// been taken by a worker before the cancellation.
func (c *cancelTask) Discard(error) {
	c.stopped.Store(true)
	c.discarded.Add(1)
}

// TestCancel cancels a query from one of its own tasks, from outside, and
// by its context, and checks that no more than one task per worker started
// after the cancellation, that Wait returns the cause and that every
// dropped task was discarded.
func TestCancel(t *testing.T) {
	errStop := errors.New("stop here")
	for _, how := range []string{"cancel", "context", "error", "panic"} {
		t.Run(how, func(t *testing.T) {
			const threads, tasks = 3, 2000
			s := New(Options{Threads: threads})
			defer s.Close()
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			p := s.NewProducer(ctx)
			var started, afterStop, discarded atomic.Int64
			var stopped atomic.Bool
			for i := range tasks {
				ct := &cancelTask{i: i, started: &started, afterStop: &afterStop, stopped: &stopped, discarded: &discarded}
				if i == 100 {
					switch how {
					case "cancel":
						ct.onStart = func(int) { p.Cancel(errStop) }
					case "context":
						ct.onStart = func(int) { cancel(errStop) }
					}
				}
				var task Task = ct
				if i == 100 && how == "error" {
					task = TaskFunc(func(TaskContext) error { return errStop })
				}
				if i == 100 && how == "panic" {
					task = TaskFunc(func(TaskContext) error { panic(errStop) })
				}
				p.Schedule(task)
			}
			err := p.Close()
			switch how {
			case "panic":
				if err == nil || !strings.Contains(err.Error(), "BUG: task panicked: stop here") {
					t.Fatalf("Wait = %v, want the recovered panic", err)
				}
			default:
				if !errors.Is(err, errStop) {
					t.Fatalf("Wait = %v, want %v", err, errStop)
				}
			}
			m := p.Metrics()
			t.Logf("%s: %v; started after the stop: %d", how, m, afterStop.Load())
			if afterStop.Load() > threads {
				t.Errorf("%d tasks started after the cancellation, want ≤ %d (one per worker)", afterStop.Load(), threads)
			}
			if m.TasksFinished+m.TasksDropped != tasks {
				t.Errorf("finished %d + dropped %d != scheduled %d", m.TasksFinished, m.TasksDropped, tasks)
			}
			if uint64(discarded.Load()) != m.TasksDropped {
				t.Errorf("discarded %d tasks, dropped %d", discarded.Load(), m.TasksDropped)
			}
			// The query stops while task 100 runs or returns, with most of the
			// 2000 tasks still queued. (A panic first captures its stack, which
			// takes long enough under -race that this is not certain for it.)
			if how != "panic" && m.TasksDropped == 0 {
				t.Errorf("no task dropped: the cancellation did not stop the query")
			}
			// Submissions after the cancellation are dropped at once.
			p2 := s.NewProducer(ctx)
			p2.Cancel(nil)
			p2.Schedule(TaskFunc(func(TaskContext) error { t.Error("task of a cancelled query ran"); return nil }))
			if err := p2.Close(); err == nil {
				t.Error("cancelled producer reports no error")
			}
		})
	}
}

// TestCloseDropsQueued closes the scheduler with tasks queued: their
// queries fail with ErrClosed, later submissions too, and nothing hangs.
func TestCloseDropsQueued(t *testing.T) {
	s := New(Options{Threads: 1})
	release := gate(t, s)
	_ = release
	p := s.NewProducer(context.Background())
	var ran atomic.Int64
	for range 10 {
		p.Schedule(TaskFunc(func(TaskContext) error { ran.Add(1); return nil }))
	}
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	// Close drops the queue at once, then waits for the gate task.
	if err := p.Wait(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Wait = %v, want ErrClosed", err)
	}
	release()
	<-done
	if ran.Load() != 0 {
		t.Errorf("%d queued tasks ran after Close", ran.Load())
	}
	p.Schedule(TaskFunc(func(TaskContext) error { ran.Add(1); return nil }))
	if err := p.Close(); !errors.Is(err, ErrClosed) || ran.Load() != 0 {
		t.Fatalf("submission after Close: %v, ran %d", err, ran.Load())
	}
}

// TestNoGoroutineLeak runs queries (finished, cancelled, failing) and
// checks that Close leaves no goroutine behind.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	s := New(Options{Threads: 4})
	for i := range 20 {
		ctx, cancel := context.WithCancel(context.Background())
		p := s.NewProducer(ctx)
		for j := range 50 {
			p.Schedule(TaskFunc(func(TaskContext) error {
				if i%3 == 1 && j == 10 {
					cancel()
				}
				if i%3 == 2 && j == 10 {
					return errors.New("fail")
				}
				return nil
			}))
		}
		p.Close()
		cancel()
	}
	s.Close()
	// Goroutines that context.AfterFunc started may still be returning.
	var after int
	for range 1000 {
		if after = runtime.NumGoroutine(); after <= before {
			break
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
	if after > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines before, %d after Close:\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}

// Misbehaving policies: the host repairs, counts, and loses no task.
type holdAndLeave struct{}

func (holdAndLeave) ExecuteForever(w *Worker) (Verdict, error) {
	w.Dequeue() // …and neither execute nor requeue
	return Handled, nil
}

type failing struct{}

func (failing) ExecuteForever(*Worker) (Verdict, error)   { return Handled, errors.New("no") }
func (failing) ScheduleTask(*Submission) (Verdict, error) { return Handled, errors.New("no") }

type panicking struct{}

func (panicking) ExecuteForever(*Worker) (Verdict, error)   { panic("policy bug") }
func (panicking) ScheduleTask(*Submission) (Verdict, error) { panic("policy bug") }

type placeNothing struct{}

func (placeNothing) ScheduleTask(*Submission) (Verdict, error) { return Handled, nil }

type neverWake struct{}

func (neverWake) ScheduleTask(sub *Submission) (Verdict, error) {
	sub.Enqueue(false)
	sub.Enqueue(true) // a second place is refused
	return Handled, nil
}

func TestPolicyRepairs(t *testing.T) {
	for _, tc := range []struct {
		name   string
		exec   ExecutePolicy
		sched  SchedulePolicy
		check  func(m Metrics) bool
		expect string
	}{
		{"hold-and-leave", holdAndLeave{}, nil, func(m Metrics) bool { return m.ExecuteRepairs > 0 }, "execute repairs"},
		{"execute-error", failing{}, nil, func(m Metrics) bool { return m.ExecuteErrors > 0 }, "execute errors"},
		{"execute-panic", panicking{}, nil, func(m Metrics) bool { return m.ExecuteErrors > 0 }, "execute errors"},
		{"place-nothing", nil, placeNothing{}, func(m Metrics) bool { return m.ScheduleRepairs == 300 }, "300 schedule repairs"},
		{"never-wake", nil, neverWake{}, func(m Metrics) bool { return true }, "completion"},
		{"schedule-error", nil, failing{}, func(m Metrics) bool { return m.ScheduleErrors == 300 }, "300 schedule errors"},
		{"schedule-panic", nil, panicking{}, func(m Metrics) bool { return m.ScheduleErrors == 300 }, "300 schedule errors"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(Options{Threads: 2, Execute: tc.exec, Schedule: tc.sched})
			defer s.Close()
			var ran atomic.Int64
			for range 3 {
				p := s.NewProducer(context.Background())
				for range 100 {
					p.Schedule(&traceTask{name: "t", calls: 2, trace: &traceLog{}})
					ran.Add(1)
				}
				if err := p.Close(); err != nil {
					t.Fatal(err)
				}
				if m := p.Metrics(); m.TasksFinished != 100 || m.Executions != 200 {
					t.Fatalf("query metrics %v, want 100 finished in 200 executions", m)
				}
			}
			if m := s.Metrics(); !tc.check(m) {
				t.Errorf("want %s:\n%v", tc.expect, m)
			}
		})
	}
}

// TestPolicySwapUnderLoad replaces the policies over and over while
// queries run; every task still runs exactly once.
func TestPolicySwapUnderLoad(t *testing.T) {
	s := New(Options{Threads: 3})
	defer s.Close()
	stop := make(chan struct{})
	var swapper sync.WaitGroup
	swapper.Add(1)
	go func() {
		defer swapper.Done()
		execs := []ExecutePolicy{nil, BuiltinExecute{}, fullMode{}, holdAndLeave{}, failing{}}
		scheds := []SchedulePolicy{nil, BuiltinSchedule{}, lifo{}, placeNothing{}, neverWake{}}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			s.SetExecutePolicy(execs[i%len(execs)])
			s.SetSchedulePolicy(scheds[i%len(scheds)])
			runtime.Gosched()
		}
	}()
	var count atomic.Int64
	for range 20 {
		p := s.NewProducer(context.Background())
		for range 200 {
			p.Schedule(TaskFunc(func(TaskContext) error { count.Add(1); return nil }))
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	swapper.Wait()
	if count.Load() != 20*200 {
		t.Fatalf("%d tasks ran, want %d", count.Load(), 20*200)
	}
	t.Logf("\n%v", s.Metrics())
}

func TestEnumsPrint(t *testing.T) {
	for _, s := range []fmt.Stringer{Full, Partial, Mode(9), Done, Again, Result(9), UseBuiltin, Handled, Verdict(9), NeedMoreInput, HaveMoreOutput, Finished, OperatorResult(9)} {
		if s.String() == "" {
			t.Errorf("%#v prints empty", s)
		}
	}
	if got := Partial.String() + " " + Again.String() + " " + Handled.String() + " " + Verdict(9).String(); got != "partial again handled Verdict(9)" {
		t.Errorf("got %q", got)
	}
}

// BenchmarkDispatch measures the scheduler's overhead per task (ns/op is
// per task): submit and run empty tasks of one query; "requeue" is one
// task executed b.N times in Partial mode.
func BenchmarkDispatch(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			s := New(Options{Threads: threads})
			defer s.Close()
			nop := TaskFunc(func(TaskContext) error { return nil })
			p := s.NewProducer(context.Background())
			b.ResetTimer()
			for b.Loop() {
				p.Schedule(nop)
			}
			p.Close()
		})
	}
	b.Run("requeue", func(b *testing.B) {
		// One task executed b.N times in Partial mode: the cost of a
		// requeue and dequeue round trip.
		s := New(Options{Threads: 1})
		defer s.Close()
		p := s.NewProducer(context.Background())
		b.ResetTimer()
		p.Schedule(&countdown{left: b.N})
		p.Close()
	})
}

// countdown needs `left` Partial executions and does nothing in them.
type countdown struct{ left int }

func (c *countdown) Execute(_ TaskContext, mode Mode) (Result, error) {
	for {
		c.left--
		if c.left <= 0 {
			return Done, nil
		}
		if mode == Partial {
			return Again, nil
		}
	}
}

// TestMetricsText pins the dashboard's text, durations masked.
func TestMetricsText(t *testing.T) {
	s := New(Options{Threads: 2, Schedule: placeNothing{}})
	p := s.NewProducer(context.Background())
	for range 5 {
		p.Schedule(&countdown{left: 2})
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	m := s.Metrics()
	var execs uint64
	for i := range m.Workers {
		execs += m.Workers[i].Executions
		m.Workers[i].Executions = 0 // how the two workers split the work varies
	}
	if execs != 10 {
		t.Fatalf("workers executed %d times, want 10", execs)
	}
	dur := regexp.MustCompile(`[0-9.]+(ns|µs|ms|s)\b|[0-9.]+%|sleeps [0-9]+`)
	got := dur.ReplaceAllString(m.String(), "_")
	want := `scheduler: 2 workers, 0 producers, 0 queued, up _
tasks:     scheduled 5, executions 10, dropped 0
policies:  execute errors 0 repairs 0, schedule errors 0 repairs 5
worker 0:  executions 0, busy _ (_), _, idle _
worker 1:  executions 0, busy _ (_), _, idle _
`
	if got != want {
		t.Errorf("dashboard:\n%s\nwant:\n%s", got, want)
	}
	qm := dur.ReplaceAllString(p.Metrics().String(), "_")
	if qm != "scheduled 5, executions 10, finished 5, dropped 0, queue wait _ (max _), busy _" {
		t.Errorf("query metrics: %s", qm)
	}
}

// TestIdleCallback checks that workers call Options.Idle, on their own
// index, before they sleep.
func TestIdleCallback(t *testing.T) {
	var calls [2]atomic.Int64
	s := New(Options{Threads: 2, Idle: func(w int) { calls[w].Add(1) }})
	p := s.NewProducer(context.Background())
	for range 10 {
		p.Schedule(TaskFunc(func(TaskContext) error { return nil }))
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	// Let both workers run out of work and fall asleep.
	for s.Stats().Idle < 2 {
		runtime.Gosched()
	}
	s.Close()
	m := s.Metrics()
	for w := range calls {
		// Every sleep was preceded by a call; a worker may call and then
		// find work or the scheduler closed instead of sleeping.
		if got := calls[w].Load(); got < int64(m.Workers[w].Sleeps) {
			t.Errorf("worker %d: %d idle calls, %d sleeps", w, got, m.Workers[w].Sleeps)
		}
		if calls[w].Load() == 0 {
			t.Errorf("worker %d fell asleep without calling Idle", w)
		}
	}
}
