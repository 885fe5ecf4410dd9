package hooks

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bpfdb/bpfdb/ext"
	"github.com/bpfdb/bpfdb/internal/parallel"
)

// steps is a task of n steps: Partial mode runs one, Full all; every
// Execute call is counted.
type steps struct {
	left  int
	calls *atomic.Int64
	done  func()
}

func (s *steps) Execute(_ parallel.TaskContext, mode parallel.Mode) (parallel.Result, error) {
	s.calls.Add(1)
	if mode == parallel.Full {
		s.left = 0
	} else {
		s.left--
	}
	if s.left > 0 {
		return parallel.Again, nil
	}
	if s.done != nil {
		s.done()
	}
	return parallel.Done, nil
}

func scheduler(t *testing.T, reg *Registry, threads int) *parallel.Scheduler {
	t.Helper()
	s := parallel.New(parallel.Options{Threads: threads, Execute: reg.ExecutePolicy(), Schedule: reg.SchedulePolicy()})
	t.Cleanup(s.Close)
	return s
}

// lifoOrder runs a blocking task on a single worker, submits five more
// meanwhile and returns the order they ran in.
func lifoOrder(t *testing.T, reg *Registry) string {
	s := scheduler(t, reg, 1)
	p := s.NewProducer(context.Background())
	started, gate := make(chan struct{}), make(chan struct{})
	p.Schedule(parallel.TaskFunc(func(parallel.TaskContext) error {
		close(started)
		<-gate
		return nil
	}))
	<-started
	var mu sync.Mutex
	var order []int
	var calls atomic.Int64
	for i := range 5 {
		p.Schedule(&steps{left: 1, calls: &calls, done: func() { mu.Lock(); order = append(order, i); mu.Unlock() }})
	}
	close(gate)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(order)
}

// TestScheduleLIFO shows a ScheduleTask program placing tasks: with
// sched_lifo every task goes to the front, so tasks queued behind a busy
// worker run last-in first-out.
func TestScheduleLIFO(t *testing.T) {
	if got := lifoOrder(t, quiet(t, Options{})); got != "[0 1 2 3 4]" {
		t.Fatalf("built-in order %s", got)
	}
	reg := quiet(t, Options{})
	a, err := reg.Attach(ext.ScheduleTask, object(t, "sched.o"), "sched_lifo")
	if err != nil {
		t.Fatal(err)
	}
	if got := lifoOrder(t, reg); got != "[4 3 2 1 0]" {
		t.Errorf("sched_lifo order %s, want [4 3 2 1 0]", got)
	}
	if st := a.Stats(); st.Calls != 6 || st.Handled != 6 {
		t.Errorf("stats %s", st)
	}
}

// runSteps runs 10 tasks of 5 steps on 2 workers and returns the number of
// Execute calls and the scheduler's metrics.
func runSteps(t *testing.T, reg *Registry) (int64, parallel.Metrics) {
	s := scheduler(t, reg, 2)
	p := s.NewProducer(context.Background())
	var calls atomic.Int64
	for range 10 {
		p.Schedule(&steps{left: 5, calls: &calls})
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	return calls.Load(), s.Metrics()
}

// TestExecuteForever attaches worker-loop programs: exec_full runs each
// task in one Full execution; exec_hoard takes tasks without running them,
// which the scheduler repairs, so every task still finishes.
func TestExecuteForever(t *testing.T) {
	if calls, _ := runSteps(t, quiet(t, Options{})); calls != 50 {
		t.Fatalf("built-in loop: %d executions, want 50 (Partial mode)", calls)
	}
	for _, eng := range engines(t) {
		t.Run(eng.String(), func(t *testing.T) {
			reg := quiet(t, Options{Engine: eng})
			a, err := reg.Attach(ext.ExecuteForever, object(t, "sched.o"), "exec_full")
			if err != nil {
				t.Fatal(err)
			}
			calls, m := runSteps(t, reg)
			if calls != 10 || m.ExecuteRepairs != 0 || m.ExecuteErrors != 0 {
				t.Errorf("exec_full: %d executions, want 10 (Full mode); metrics:\n%s", calls, m)
			}
			if st := a.Stats(); st.Errors != 0 || st.Calls == 0 {
				t.Errorf("stats %s", st)
			}
		})
	}
	reg := quiet(t, Options{})
	if _, err := reg.Attach(ext.ExecuteForever, object(t, "sched.o"), "exec_hoard"); err != nil {
		t.Fatal(err)
	}
	if calls, m := runSteps(t, reg); calls != 50 || m.ExecuteRepairs == 0 {
		t.Errorf("exec_hoard: %d executions, %d repairs; want all 50 built-in executions and repairs", calls, m.ExecuteRepairs)
	}
}

// TestScheduleDrop checks a ScheduleTask program that places nothing: the
// scheduler enqueues every task itself and counts the repairs.
func TestScheduleDrop(t *testing.T) {
	reg := quiet(t, Options{})
	if _, err := reg.Attach(ext.ScheduleTask, object(t, "sched.o"), "sched_drop"); err != nil {
		t.Fatal(err)
	}
	calls, m := runSteps(t, reg)
	if calls != 50 || m.ScheduleRepairs != 10 {
		t.Errorf("%d executions, %d schedule repairs; want 50, 10", calls, m.ScheduleRepairs)
	}
}
