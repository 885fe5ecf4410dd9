package parallel

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is the error of tasks dropped because the scheduler closed.
var ErrClosed = errors.New("scheduler closed")

// ErrCancelled is the error of a query cancelled without a cause.
var ErrCancelled = errors.New("query cancelled")

// Options configure a Scheduler.
type Options struct {
	// Threads is the number of worker goroutines; 0 means
	// runtime.NumCPU().
	Threads int
	// Execute is the worker-loop policy; nil means the built-in one.
	Execute ExecutePolicy
	// Schedule is the task-submission policy; nil means the built-in one.
	Schedule SchedulePolicy
	// Idle, if set, is called on a worker's goroutine before it sleeps for
	// lack of work (by the built-in loop, or by a policy through
	// Worker.FlushIdle), with no lock held: the place to return per-worker
	// caches, such as a memory allocator's, to the shared pool. It must
	// not block.
	Idle func(worker int)
}

// Scheduler is a pool of worker goroutines serving the task queues of many
// queries. All methods are safe for concurrent use.
//
// Lock order: the scheduler's mutex is the only lock it takes; it is never
// held while a task, a policy or a Discard runs.
type Scheduler struct {
	threads int
	start   time.Time
	idleFn  func(worker int)

	mu        sync.Mutex
	wake      *sync.Cond // idle workers sleep here
	active    []*Producer
	cursor    int // next producer in active to serve
	queued    int // tasks in all queues
	idle      int // workers asleep in Wait
	closed    bool
	nextID    ProducerID
	producers map[ProducerID]*Producer

	closedFlag atomic.Bool // closed, readable without the lock
	workers    []*Worker
	wg         sync.WaitGroup

	execPolicy  atomic.Pointer[execSlot]
	schedPolicy atomic.Pointer[schedSlot]

	c counters
}

type execSlot struct{ p ExecutePolicy }
type schedSlot struct{ p SchedulePolicy }

// New starts a scheduler with its worker goroutines. Close stops them.
func New(opts Options) *Scheduler {
	n := opts.Threads
	if n <= 0 {
		n = runtime.NumCPU()
	}
	s := &Scheduler{threads: n, start: time.Now(), idleFn: opts.Idle, producers: map[ProducerID]*Producer{}}
	s.wake = sync.NewCond(&s.mu)
	s.SetExecutePolicy(opts.Execute)
	s.SetSchedulePolicy(opts.Schedule)
	s.workers = make([]*Worker, n)
	s.wg.Add(n)
	for i := range s.workers {
		w := &Worker{s: s, id: i, now: s.start}
		s.workers[i] = w
		go w.loop()
	}
	return s
}

// Threads returns the number of worker goroutines.
func (s *Scheduler) Threads() int { return s.threads }

// SetExecutePolicy replaces the worker-loop policy; nil restores the
// built-in one. Iterations already running finish with the old policy.
func (s *Scheduler) SetExecutePolicy(p ExecutePolicy) {
	if p == nil {
		s.execPolicy.Store(nil)
		return
	}
	s.execPolicy.Store(&execSlot{p})
}

// SetSchedulePolicy replaces the submission policy; nil restores the
// built-in one.
func (s *Scheduler) SetSchedulePolicy(p SchedulePolicy) {
	if p == nil {
		s.schedPolicy.Store(nil)
		return
	}
	s.schedPolicy.Store(&schedSlot{p})
}

// Close stops the scheduler: queued tasks are dropped (their queries fail
// with ErrClosed), running tasks finish their current Execute call, and
// Close returns when every worker goroutine has exited. Later Schedule
// calls drop their tasks. Close is idempotent. It must not be called from
// inside a task (it would wait for its own worker).
func (s *Scheduler) Close() {
	s.mu.Lock()
	var drops []entry
	if !s.closed {
		s.closed = true
		s.closedFlag.Store(true)
		for _, p := range s.active {
			drops = append(drops, p.queue.drain()...)
			p.inRing = false
			p.failLocked(ErrClosed)
		}
		s.active, s.cursor, s.queued = nil, 0, 0
		s.wake.Broadcast()
	}
	s.mu.Unlock()
	for _, e := range drops {
		e.p.drop(e.task, e.p.Err())
	}
	s.wg.Wait()
}

// enqueueLocked adds e (whose queuedAt the caller set) to its producer's
// queue (front or back) and puts the producer in the round-robin ring. It returns false, changing nothing, if
// the producer has failed or the scheduler is closed (which fails the
// producer with ErrClosed): the caller drops the task.
func (s *Scheduler) enqueueLocked(e entry, front bool) bool {
	p := e.p
	if s.closed {
		p.failLocked(ErrClosed)
	}
	if p.err != nil {
		return false
	}
	if front {
		p.queue.pushFront(e)
	} else {
		p.queue.pushBack(e)
	}
	s.queued++
	if !p.inRing {
		p.inRing = true
		s.active = append(s.active, p)
	}
	return true
}

// removeActiveLocked takes the producer at index i out of the ring,
// keeping the cursor on the producer that was next.
func (s *Scheduler) removeActiveLocked(i int) {
	s.active[i].inRing = false
	s.active = slices.Delete(s.active, i, i+1)
	if i < s.cursor {
		s.cursor--
	}
	if s.cursor >= len(s.active) {
		s.cursor = 0
	}
}

// takeLocked pops the front task of the producer at ring index i; now is
// the dequeuing worker's clock, for the queue-wait metric.
func (s *Scheduler) takeLocked(i int, now time.Time) entry {
	p := s.active[i]
	e, _ := p.queue.popFront()
	s.queued--
	if p.queue.len() == 0 {
		s.removeActiveLocked(i)
	} else if i == s.cursor {
		s.cursor = (s.cursor + 1) % len(s.active)
	}
	wait := max(0, now.Sub(e.queuedAt))
	p.m.QueueWait += wait
	p.m.MaxQueueWait = max(p.m.MaxQueueWait, wait)
	return e
}

// dequeueLocked takes the next task round robin over the producers with
// queued tasks.
func (s *Scheduler) dequeueLocked(now time.Time) (entry, bool) {
	if len(s.active) == 0 {
		return entry{}, false
	}
	if s.cursor >= len(s.active) {
		s.cursor = 0
	}
	return s.takeLocked(s.cursor, now), true
}

// dequeueFromLocked takes the front task of producer id.
func (s *Scheduler) dequeueFromLocked(id ProducerID, now time.Time) (entry, bool) {
	p := s.producers[id]
	if p == nil || !p.inRing {
		return entry{}, false
	}
	return s.takeLocked(slices.Index(s.active, p), now), true
}

// QueueStats is a snapshot of the scheduler's queues, as policies see it.
type QueueStats struct {
	Workers   int // worker goroutines
	Idle      int // workers asleep waiting for work
	Queued    int // tasks queued over all producers
	Producers int // producers with at least one queued task
}

func (s *Scheduler) statsLocked() QueueStats {
	return QueueStats{Workers: s.threads, Idle: s.idle, Queued: s.queued, Producers: len(s.active)}
}

// Stats returns a snapshot of the queues.
func (s *Scheduler) Stats() QueueStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statsLocked()
}

// wakeLocked wakes up to n idle workers and returns how many it woke.
func (s *Scheduler) wakeLocked(n int) int {
	k := min(n, s.idle)
	for range k {
		s.wake.Signal()
	}
	return k
}

// runTask calls t.Execute, turning a panic into an error: the one place
// where a query's panics are recovered.
func runTask(t Task, tc TaskContext, mode Mode) (res Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = Done, fmt.Errorf("BUG: task panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return t.Execute(tc, mode)
}

// discard tells a dropped task so, if it wants to know.
func discard(t Task, err error) {
	if d, ok := t.(Discarder); ok {
		d.Discard(err)
	}
}

// ProducerID identifies a producer (a query) for policies.
type ProducerID uint64

// Producer is one query's task queue and completion state (DuckDB's
// producer token). Tasks are submitted with Schedule; Wait returns when
// every submitted task has ended. A Producer is safe for concurrent use.
type Producer struct {
	s         *Scheduler
	id        ProducerID
	ctx       context.Context
	done      <-chan struct{} // ctx.Done(), nil if ctx cannot be cancelled
	stop      func() bool     // detaches the context's cancellation
	cancelled atomic.Bool

	// Guarded by s.mu.
	queue    deque
	inRing   bool
	pending  int   // tasks submitted and not yet ended (queued, held or running)
	err      error // first error; set means cancelled
	idleCond *sync.Cond
	m        QueryMetrics
}

// NewProducer registers a query. Cancelling ctx cancels the query with
// context.Cause(ctx). Close the producer when the query is done.
func (s *Scheduler) NewProducer(ctx context.Context) *Producer {
	if ctx == nil {
		ctx = context.Background()
	}
	p := &Producer{s: s, ctx: ctx, done: ctx.Done()}
	p.idleCond = sync.NewCond(&s.mu)
	s.mu.Lock()
	s.nextID++
	p.id = s.nextID
	s.producers[p.id] = p
	s.mu.Unlock()
	p.stop = context.AfterFunc(ctx, func() { p.Cancel(context.Cause(ctx)) })
	return p
}

// ID returns the producer's id.
func (p *Producer) ID() ProducerID {
	if p == nil { // operators' unit tests run without a scheduler
		return 0
	}
	return p.id
}

// Scheduler returns the scheduler the producer belongs to.
func (p *Producer) Scheduler() *Scheduler { return p.s }

// Context returns the query's context.
func (p *Producer) Context() context.Context { return p.ctx }

// Cancelled reports whether the query was cancelled or failed: running
// tasks poll it between chunks and stop, and workers check it before
// running a task. It costs an atomic load and, for a cancellable context,
// a non-blocking channel receive; a context found cancelled cancels the
// query here and now (the context's own callback may not have run yet).
func (p *Producer) Cancelled() bool {
	if p.cancelled.Load() {
		return true
	}
	if p.done != nil {
		select {
		case <-p.done:
			p.Cancel(context.Cause(p.ctx))
			return true
		default:
		}
	}
	return false
}

// Err returns the query's error: the first task error, the cancellation
// cause, or nil.
func (p *Producer) Err() error {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	return p.err
}

// Schedule submits a task. It passes through the ScheduleTask policy; if
// the query has already failed or the scheduler is closed, the task is
// dropped at once (and Discarded). Schedule may be called from any
// goroutine, including from inside a task of the same query.
func (p *Producer) Schedule(t Task) {
	s := p.s
	s.mu.Lock()
	p.m.TasksScheduled++
	p.pending++
	s.mu.Unlock()
	s.c.scheduled.Add(1)
	sub := Submission{s: s, e: entry{task: t, p: p}}
	slot := s.schedPolicy.Load()
	if slot == nil {
		BuiltinSchedule{}.ScheduleTask(&sub)
	} else {
		s.runSchedulePolicy(slot.p, &sub)
	}
	if sub.dropped {
		p.drop(t, p.Err())
	}
}

// runSchedulePolicy calls a ScheduleTask policy and enforces its contract.
func (s *Scheduler) runSchedulePolicy(pol SchedulePolicy, sub *Submission) {
	v, err := callSchedule(pol, sub)
	switch {
	case err != nil || v == UseBuiltin:
		if err != nil {
			s.c.scheduleErrors.Add(1)
		}
		if !sub.placed {
			sub.Enqueue(false)
		}
		sub.Wake(1)
	case !sub.placed:
		s.c.scheduleRepairs.Add(1)
		sub.Enqueue(false)
		sub.Wake(1)
	case sub.woken == 0:
		// A queued task with every worker asleep would wait forever.
		s.mu.Lock()
		if s.idle == s.threads && s.queued > 0 {
			s.c.scheduleRepairs.Add(1)
			s.wakeLocked(1)
		}
		s.mu.Unlock()
	}
}

func callSchedule(pol SchedulePolicy, sub *Submission) (v Verdict, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("schedule policy panicked: %v", r)
		}
	}()
	return pol.ScheduleTask(sub)
}

// failLocked records err as the query's error if it has none yet and
// reports whether it did. Requires s.mu.
func (p *Producer) failLocked(err error) bool {
	if p.err != nil {
		return false
	}
	p.err = err
	p.cancelled.Store(true)
	return true
}

// Cancel cancels the query with err (ErrCancelled if nil) unless it already
// failed: its queued tasks are dropped and Discarded, running tasks see
// Cancelled and stop at their next chunk, and later submissions are
// dropped. Wait then returns the error.
func (p *Producer) Cancel(err error) {
	if err == nil {
		err = ErrCancelled
	}
	s := p.s
	s.mu.Lock()
	if !p.failLocked(err) {
		s.mu.Unlock()
		return
	}
	drops := p.queue.drain()
	s.queued -= len(drops)
	if p.inRing {
		s.removeActiveLocked(slices.Index(s.active, p))
	}
	s.mu.Unlock()
	for _, e := range drops {
		p.drop(e.task, err)
	}
}

// drop ends a task that will not run to Done.
func (p *Producer) drop(t Task, err error) {
	discard(t, err)
	p.s.c.dropped.Add(1)
	p.s.mu.Lock()
	p.m.TasksDropped++
	p.endLocked()
	p.s.mu.Unlock()
}

// endLocked accounts for one ended task.
func (p *Producer) endLocked() {
	p.pending--
	if p.pending < 0 {
		panic("BUG: producer ended more tasks than it was given")
	}
	if p.pending == 0 {
		p.idleCond.Broadcast()
	}
}

// Wait blocks until every task submitted so far has ended (finished or
// dropped) and returns the query's error. A task must not Wait on its own
// producer (it would wait for itself).
func (p *Producer) Wait() error {
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for p.pending > 0 {
		p.idleCond.Wait()
	}
	return p.err
}

// Close waits for the query's tasks, unregisters the producer and returns
// the query's error. The metrics stay readable.
func (p *Producer) Close() error {
	err := p.Wait()
	p.stop()
	p.s.mu.Lock()
	delete(p.s.producers, p.id)
	p.s.mu.Unlock()
	return err
}

// Metrics returns a snapshot of the query's metrics.
func (p *Producer) Metrics() QueryMetrics {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	return p.m
}
