package parallel

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func testSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("BPFDB_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("BPFDB_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (replay with BPFDB_SEED=%d)", seed, seed)
	return seed
}

// stressTask ends exactly once, by returning Done from Execute or by
// Discard; ends counts both.
type stressTask struct {
	ends     *atomic.Int64
	double   *atomic.Int64 // tasks that ended twice
	ended    atomic.Bool
	again    int  // Partial executions left before Done
	fail     bool // return an error when done
	children int  // tasks to spawn on the first execution
	spawn    func(p *Producer, n int)
}

func (s *stressTask) end() {
	if s.ended.Swap(true) {
		s.double.Add(1)
	}
	s.ends.Add(1)
}

func (s *stressTask) Execute(tc TaskContext, mode Mode) (Result, error) {
	if s.ended.Load() {
		s.double.Add(1) // executed after it ended
	}
	if s.children > 0 {
		s.spawn(tc.Producer, s.children)
		s.children = 0
	}
	if s.again > 0 && mode == Partial {
		s.again--
		return Again, nil
	}
	s.end()
	if s.fail {
		return Done, errors.New("task failed")
	}
	return Done, nil
}

func (s *stressTask) Discard(error) { s.end() }

// TestStress runs many queries with random task shapes, random
// cancellations and failures, while the policies are swapped among the
// built-in ones and misbehaving ones, and checks that every submitted
// task ended exactly once and every query's counters add up.
func TestStress(t *testing.T) {
	seed := testSeed(t)
	s := New(Options{Threads: 3})
	defer s.Close()
	stop := make(chan struct{})
	var swapper sync.WaitGroup
	swapper.Add(1)
	go func() {
		defer swapper.Done()
		r := rand.New(rand.NewPCG(seed, 1))
		execs := []ExecutePolicy{nil, BuiltinExecute{}, fullMode{}, holdAndLeave{}, failing{}, panicking{}}
		scheds := []SchedulePolicy{nil, BuiltinSchedule{}, lifo{}, placeNothing{}, neverWake{}, failing{}}
		for {
			select {
			case <-stop:
				return
			default:
			}
			s.SetExecutePolicy(execs[r.IntN(len(execs))])
			s.SetSchedulePolicy(scheds[r.IntN(len(scheds))])
			time.Sleep(50 * time.Microsecond)
		}
	}()
	const queries = 30
	var wg sync.WaitGroup
	errs := make(chan error, queries)
	for q := range queries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(q)+2))
			var mu sync.Mutex // guards r inside spawn, which runs on workers
			var submitted, ends, double atomic.Int64
			var newTask func() *stressTask
			spawn := func(p *Producer, n int) {
				for range n {
					mu.Lock()
					task := newTask()
					mu.Unlock()
					submitted.Add(1)
					p.Schedule(task)
				}
			}
			newTask = func() *stressTask {
				task := &stressTask{ends: &ends, double: &double, again: r.IntN(4), spawn: spawn}
				task.fail = r.IntN(2000) == 0
				if r.IntN(10) == 0 {
					task.children = 1 + r.IntN(3)
				}
				return task
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			p := s.NewProducer(ctx)
			mu.Lock()
			n := 50 + r.IntN(200)
			cancelAt := -1
			if r.IntN(4) == 0 {
				cancelAt = r.IntN(n)
			}
			mu.Unlock()
			for i := range n {
				if i == cancelAt {
					cancel()
				}
				spawn(p, 1)
			}
			err := p.Close()
			m := p.Metrics()
			switch {
			case double.Load() != 0:
				errs <- fmt.Errorf("query %d: %d tasks ended twice or ran after ending", q, double.Load())
			case ends.Load() != submitted.Load():
				errs <- fmt.Errorf("query %d: %d tasks submitted, %d ended (err %v)", q, submitted.Load(), ends.Load(), err)
			case m.TasksScheduled != uint64(submitted.Load()) || m.TasksFinished+m.TasksDropped != m.TasksScheduled:
				errs <- fmt.Errorf("query %d: metrics %v for %d submitted", q, m, submitted.Load())
			case cancelAt >= 0 && !errors.Is(err, context.Canceled) && (err == nil || err.Error() != "task failed"):
				errs <- fmt.Errorf("query %d: cancelled, but Wait returned %v", q, err)
			}
		}()
	}
	wg.Wait()
	close(stop)
	swapper.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("\n%v", s.Metrics())
}
