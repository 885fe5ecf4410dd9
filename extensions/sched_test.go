package extensions_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/bpfdb/bpfdb/ext"
	"github.com/bpfdb/bpfdb/internal/hooks"
	"github.com/bpfdb/bpfdb/internal/parallel"
)

// trace records executions in order.
type trace struct {
	mu  sync.Mutex
	log []string
}

func (tr *trace) add(s string) {
	tr.mu.Lock()
	tr.log = append(tr.log, s)
	tr.mu.Unlock()
}

// steps is a task of n steps: Partial mode runs one, Full all; each
// Execute call is traced as its name.
type steps struct {
	name string
	left int
	tr   *trace
}

func (s *steps) Execute(_ parallel.TaskContext, mode parallel.Mode) (parallel.Result, error) {
	s.tr.add(s.name)
	s.left--
	if mode == parallel.Full {
		s.left = 0
	}
	if s.left > 0 {
		return parallel.Again, nil
	}
	return parallel.Done, nil
}

func scheduler(t *testing.T, reg *hooks.Registry, threads int) *parallel.Scheduler {
	t.Helper()
	s := parallel.New(parallel.Options{Threads: threads, Execute: reg.ExecutePolicy(), Schedule: reg.SchedulePolicy()})
	t.Cleanup(s.Close)
	return s
}

// gated runs queries on a single worker that is kept busy while they
// submit their tasks, so that the order of executions depends only on the
// policies. submit schedules each query's tasks (query q's tasks named by
// prefix); gated returns the trace, the scheduler's metrics and the
// queries' producers.
//
// The scheduler is closed before gated returns: a worker sleeping inside
// an ExecuteForever program holds the runner of its number, which the
// next scheduler's worker of that number needs (one registry serves one
// scheduler at a time).
func gated(t *testing.T, reg *hooks.Registry, prepare func(ps []*parallel.Producer), submit func(ps []*parallel.Producer, tr *trace), queries int) ([]string, parallel.Metrics) {
	s := scheduler(t, reg, 1)
	defer s.Close()
	gate := s.NewProducer(context.Background())
	started, open := make(chan struct{}), make(chan struct{})
	gate.Schedule(parallel.TaskFunc(func(parallel.TaskContext) error {
		close(started)
		<-open
		return nil
	}))
	<-started
	ps := make([]*parallel.Producer, queries)
	for i := range ps {
		ps[i] = s.NewProducer(context.Background())
	}
	if prepare != nil {
		prepare(ps)
	}
	tr := &trace{}
	submit(ps, tr)
	close(open)
	if err := gate.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return tr.log, s.Metrics()
}

// interleaved: query a submits three tasks of 4 steps, query b two of 3,
// then a one more of 2.
func interleaved(ps []*parallel.Producer, tr *trace) {
	for i := range 3 {
		ps[0].Schedule(&steps{name: fmt.Sprint("a", i), left: 4, tr: tr})
	}
	for i := range 2 {
		ps[1].Schedule(&steps{name: fmt.Sprint("b", i), left: 3, tr: tr})
	}
	ps[0].Schedule(&steps{name: "a3", left: 2, tr: tr})
}

// TestSchedulerDefaults: with schedule_task/default and
// execute_forever/default attached (each alone, then both), two queries'
// tasks run in exactly the built-in order, with no repair; and on two
// workers 40 tasks of 5 steps take the built-in's 200 partial executions.
func TestSchedulerDefaults(t *testing.T) {
	want, m := gated(t, hooks.New(hooks.Options{Logf: t.Logf}), nil, interleaved, 2)
	t.Logf("built-in order: %s", strings.Join(want, " "))
	if len(want) != 20 || m.ExecuteRepairs != 0 || m.ScheduleRepairs != 0 {
		t.Fatalf("built-in: %d executions, metrics %+v", len(want), m)
	}
	for _, eng := range engines(t) {
		for _, hs := range [][]ext.Hook{{ext.ScheduleTask}, {ext.ExecuteForever}, {ext.ScheduleTask, ext.ExecuteForever}} {
			t.Run(fmt.Sprint(eng, hs), func(t *testing.T) {
				reg := registry(t, eng)
				var as []*hooks.Attachment
				for _, h := range hs {
					as = append(as, attach(t, reg, h, "default"))
				}
				got, m := gated(t, reg, nil, interleaved, 2)
				if strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("order %s\nwant  %s", strings.Join(got, " "), strings.Join(want, " "))
				}
				if m.ExecuteRepairs != 0 || m.ScheduleRepairs != 0 || m.ExecuteErrors != 0 || m.ScheduleErrors != 0 {
					t.Errorf("repairs or errors: %+v", m)
				}

				s := scheduler(t, reg, 2)
				defer s.Close()
				var tr trace
				var qs []*parallel.Producer
				for q := range 4 {
					p := s.NewProducer(context.Background())
					qs = append(qs, p)
					for i := range 10 {
						p.Schedule(&steps{name: fmt.Sprint(q, i), left: 5, tr: &tr})
					}
				}
				for _, p := range qs {
					if err := p.Close(); err != nil {
						t.Fatal(err)
					}
				}
				if len(tr.log) != 200 {
					t.Errorf("2 workers: %d executions, want 200", len(tr.log))
				}
				for _, a := range as {
					if st := a.Stats(); st.Calls == 0 || st.Handled != st.Calls || st.Errors != 0 {
						t.Errorf("%s: %s", a.Hook(), st)
					}
				}
			})
		}
	}
}

// shortBesideLong: a long query submits 4 tasks of 50 steps, a short one
// 1 task of 20 steps.
func shortBesideLong(ps []*parallel.Producer, tr *trace) {
	for range 4 {
		ps[0].Schedule(&steps{name: "long", left: 50, tr: tr})
	}
	ps[1].Schedule(&steps{name: "short", left: 20, tr: tr})
}

// longBeforeShortEnds counts the long query's executions before the short
// query's last one.
func longBeforeShortEnds(log []string) int {
	n, last := 0, 0
	for i, s := range log {
		if s == "short" {
			last = i
		}
	}
	for _, s := range log[:last] {
		if s == "long" {
			n++
		}
	}
	return n
}

// TestExecutePriority: one worker, a long query (4 tasks of 50 morsels)
// beside a short one (1 task of 20). The built-in round robin runs a
// morsel of the long query for each of the short one's; with
// execute_forever/priority the short query (fewest queued tasks) runs
// through once the worker has seen both, and with the long query's
// priority raised in the map the long query runs first.
func TestExecutePriority(t *testing.T) {
	log, _ := gated(t, hooks.New(hooks.Options{Logf: t.Logf}), nil, shortBesideLong, 2)
	builtin := longBeforeShortEnds(log)
	if builtin < 19 {
		t.Fatalf("built-in: %d long executions before the short query ended, want about 20", builtin)
	}
	for _, eng := range engines(t) {
		t.Run(eng.String(), func(t *testing.T) {
			reg := registry(t, eng)
			a := attach(t, reg, ext.ExecuteForever, "priority")
			log, m := gated(t, reg, nil, shortBesideLong, 2)
			got := longBeforeShortEnds(log)
			t.Logf("long executions before the short query ended: built-in %d, priority %d", builtin, got)
			if got > 2 || len(log) != 220 {
				t.Errorf("priority: %d long executions before the short query ended (want at most 2), %d in all", got, len(log))
			}
			if m.ExecuteRepairs != 0 || m.ExecuteErrors != 0 {
				t.Errorf("metrics %+v", m)
			}

			// The operator raises the long query: it runs first.
			log, _ = gated(t, reg, func(ps []*parallel.Producer) {
				update(t, a.Maps()["priority"], uint64(ps[0].ID()), uint32(5))
			}, shortBesideLong, 2)
			if got := longBeforeShortEnds(log); got < 198 {
				t.Errorf("long query raised: %d long executions before the short query ended, want nearly all 200", got)
			}
			if st := a.Stats(); st.Handled != st.Calls || st.Errors != 0 {
				t.Errorf("stats %s", st)
			}
		})
	}
}

// TestExecutePriorityStress runs 8 queries of mixed sizes, some raised in
// the priority map, on 2 workers with execute_forever/priority: every
// morsel of every task runs exactly once (run it with -race).
func TestExecutePriorityStress(t *testing.T) {
	reg := registry(t, 0)
	a := attach(t, reg, ext.ExecuteForever, "priority")
	s := scheduler(t, reg, 2)
	tr := &trace{}
	want := 0
	var wg sync.WaitGroup
	for q := range 8 {
		p := s.NewProducer(context.Background())
		if q%3 == 0 {
			update(t, a.Maps()["priority"], uint64(p.ID()), uint32(q))
		}
		name := fmt.Sprint("q", q)
		for i := range 1 + q*3 {
			n := 1 + (q+i)%7
			want += n
			p.Schedule(&steps{name: name, left: n, tr: tr})
		}
		wg.Go(func() {
			if err := p.Close(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	m := s.Metrics()
	if len(tr.log) != want || m.ExecuteErrors != 0 || m.TasksDropped != 0 {
		t.Errorf("%d executions, want %d; metrics %+v", len(tr.log), want, m)
	}
	t.Logf("%d executions, %d repairs, %s", len(tr.log), m.ExecuteRepairs, a.Stats())
}
