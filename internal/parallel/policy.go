package parallel

import (
	"fmt"
	"time"
)

// Verdict is a policy's answer for one call, as a hook program's return
// code is (DESIGN.md §3).
type Verdict uint8

const (
	// UseBuiltin: the host performs the built-in step for this call.
	UseBuiltin Verdict = iota
	// Handled: the policy did the work through its handle's helpers; the
	// host checks the result and repairs what is missing.
	Handled
)

// String returns "builtin" or "handled".
func (v Verdict) String() string {
	switch v {
	case UseBuiltin:
		return "builtin"
	case Handled:
		return "handled"
	}
	return fmt.Sprintf("Verdict(%d)", uint8(v))
}

// ExecutePolicy is the ExecuteForever seam: one iteration of a worker's
// loop.
//
// When: the worker goroutine calls ExecuteForever again and again until
// the scheduler closes; calls for different workers run concurrently, calls
// for one worker never do.
//
// Locks: none is held; the Worker's helpers take the scheduler's lock
// themselves, briefly.
//
// What it may decide, through w: which task to take (Dequeue: the next
// producer round robin; DequeueFrom: a given producer), whether to run it
// in Full or Partial mode (Execute), whether to put it back (Requeue),
// whether to sleep (Wait), whom to wake (Signal) and when to hand back
// per-worker caches (FlushIdle). It holds at most one task at a time.
//
// Returning UseBuiltin (or an error, which is counted) makes the host run
// the built-in step after the call: take the next task round robin, run it
// in Partial mode and requeue it if it returns Again; call Options.Idle
// and sleep if there is none. A panic in the policy counts as an error.
//
// What the host guarantees after every call: a task the policy still
// holds is requeued at the back of its producer's queue, so no task is
// lost; a task of a cancelled query is dropped, never run. After a Handled
// call that neither executed a task nor slept, the host runs the built-in
// step, so a policy cannot spin while work waits. Both repairs are counted
// in Metrics.ExecuteRepairs.
type ExecutePolicy interface {
	ExecuteForever(w *Worker) (Verdict, error)
}

// SchedulePolicy is the ScheduleTask seam: placing a newly submitted task.
//
// When: Producer.Schedule calls it on the submitting goroutine (a client's
// or, for tasks that spawn tasks, a worker's), concurrently for different
// submissions. Tasks requeued after Partial execution do not pass through
// it (the ExecutePolicy requeues those).
//
// Locks: none is held; the Submission's helpers take the scheduler's lock.
//
// What it may decide, through sub: the position in the producer's queue
// (Enqueue at the back or the front) and how many idle workers to wake
// (Wake).
//
// Returning UseBuiltin (or an error, counted) makes the host finish the
// built-in way: enqueue at the back if the policy did not place the task,
// and wake one idle worker. After a Handled call the host guarantees: a
// task the policy did not place is enqueued at the back and one worker is
// woken; if every worker is asleep and none was woken, one is. Both
// repairs are counted in Metrics.ScheduleRepairs.
type SchedulePolicy interface {
	ScheduleTask(sub *Submission) (Verdict, error)
}

// BuiltinExecute is the built-in ExecutePolicy: take the next task round
// robin over the producers with queued tasks, execute it in Partial mode,
// requeue it at the back if it returns Again; when nothing is queued, call
// Options.Idle and sleep.
type BuiltinExecute struct{}

// ExecuteForever performs the built-in step.
func (BuiltinExecute) ExecuteForever(w *Worker) (Verdict, error) {
	w.builtinStep()
	return Handled, nil
}

// BuiltinSchedule is the built-in SchedulePolicy: enqueue at the back of
// the producer's queue and wake one idle worker.
type BuiltinSchedule struct{}

// ScheduleTask performs the built-in placement.
func (BuiltinSchedule) ScheduleTask(sub *Submission) (Verdict, error) {
	sub.Enqueue(false)
	sub.Wake(1)
	return Handled, nil
}

// Worker is a worker goroutine's handle, passed to ExecutePolicy. Its
// methods are the ExecuteForever helpers; they must only be called from
// inside ExecuteForever on the worker's own goroutine.
type Worker struct {
	s  *Scheduler
	id int

	held    entry
	holding bool
	// now is the worker's clock: the last time it read the real one, at
	// the end of each execution and on waking. Reading the clock costs
	// about as much as dispatching a task, so dequeues, requeues and the
	// start of the next execution reuse this reading.
	now time.Time
	// Per iteration, for the host's checks.
	executed bool
	slept    bool
	raced    bool // Wait found work queued and returned without sleeping

	m workerCounters
}

// ID returns the worker's index, 0..Threads-1.
func (w *Worker) ID() int { return w.id }

// Stats returns a snapshot of the queues.
func (w *Worker) Stats() QueueStats { return w.s.Stats() }

// Queued returns the number of tasks queued by producer id (0 for an
// unknown producer).
func (w *Worker) Queued(id ProducerID) int {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	if p := w.s.producers[id]; p != nil {
		return p.queue.len()
	}
	return 0
}

// Held returns the producer of the task the worker holds, if any.
func (w *Worker) Held() (ProducerID, bool) {
	if !w.holding {
		return 0, false
	}
	return w.held.p.id, true
}

// Progressed reports whether the current ExecuteForever call executed a
// task or slept: a call that did neither is repaired by the host with a
// built-in step (and counted in Metrics.ExecuteRepairs).
//
// A call whose Wait found work queued, and returned at once, also counts
// as progress: the work went to another worker before this one could take
// it, a race the built-in loop loses too (it then turns again). The host
// still steps for it; a policy is not to blame.
func (w *Worker) Progressed() bool { return w.executed || w.slept || w.raced }

// Dequeue takes the next task round robin over the producers with queued
// tasks and holds it. It returns false if nothing is queued or a task is
// already held.
func (w *Worker) Dequeue() bool {
	if w.holding {
		return false
	}
	w.s.mu.Lock()
	e, ok := w.s.dequeueLocked(w.now)
	w.s.mu.Unlock()
	w.held, w.holding = e, ok
	return ok
}

// DequeueFrom takes the front task of producer id and holds it. It returns
// false if that producer has nothing queued or a task is already held.
func (w *Worker) DequeueFrom(id ProducerID) bool {
	if w.holding {
		return false
	}
	w.s.mu.Lock()
	e, ok := w.s.dequeueFromLocked(id, w.now)
	w.s.mu.Unlock()
	w.held, w.holding = e, ok
	return ok
}

// Execute runs the held task in the given mode. On Done (or an error,
// which fails the query) the task is released; on Again the worker still
// holds it. A task whose query was cancelled meanwhile is dropped instead
// of run and reported Done. ok is false if no task was held.
func (w *Worker) Execute(mode Mode) (res Result, ok bool) {
	if !w.holding {
		return Done, false
	}
	w.executed = true
	e := w.held
	p := e.p
	if p.Cancelled() {
		w.holding = false
		p.drop(e.task, p.Err())
		return Done, true
	}
	start := w.now
	res, err := runTask(e.task, TaskContext{Worker: w.id, Producer: p}, mode)
	w.now = time.Now()
	busy := w.now.Sub(start)
	w.m.executions.Add(1)
	w.m.busy.Add(int64(busy))
	w.s.c.executions.Add(1)
	if err != nil {
		res = Done
		p.Cancel(err)
	}
	w.s.mu.Lock()
	p.m.Executions++
	p.m.Busy += busy
	if res == Done {
		w.holding = false
		p.m.TasksFinished++
		p.endLocked()
	}
	w.s.mu.Unlock()
	return res, true
}

// Requeue puts the held task back at the back of its producer's queue (or
// drops it if the query failed meanwhile). It returns false if no task was
// held.
func (w *Worker) Requeue() bool {
	if !w.holding {
		return false
	}
	w.holding = false
	e := w.held
	e.queuedAt = w.now
	w.s.mu.Lock()
	ok := w.s.enqueueLocked(e, false)
	w.s.mu.Unlock()
	if !ok {
		e.p.drop(e.task, e.p.Err())
	}
	return true
}

// Wait sleeps until a task is submitted, another worker signals, or the
// scheduler closes. It returns at once, without sleeping, if tasks are
// queued, the scheduler is closed or the worker holds a task.
func (w *Worker) Wait() {
	if w.holding {
		return
	}
	s := w.s
	s.mu.Lock()
	if s.queued > 0 || s.closed {
		w.raced = s.queued > 0
		s.mu.Unlock()
		return
	}
	s.idle++
	start := w.now
	s.wake.Wait()
	s.idle--
	s.mu.Unlock()
	w.now = time.Now()
	w.slept = true
	w.m.sleeps.Add(1)
	w.m.idle.Add(int64(w.now.Sub(start)))
}

// FlushIdle calls Options.Idle for this worker (DESIGN.md's "allocator
// flush" helper); the built-in loop does so before every sleep.
func (w *Worker) FlushIdle() {
	if w.s.idleFn != nil {
		w.s.idleFn(w.id)
	}
}

// Signal wakes up to n sleeping workers and returns how many it woke.
func (w *Worker) Signal(n int) int {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	return w.s.wakeLocked(n)
}

// builtinStep is one iteration of the built-in worker loop.
func (w *Worker) builtinStep() {
	if !w.Dequeue() {
		w.FlushIdle()
		w.Wait()
		return
	}
	if res, _ := w.Execute(Partial); res == Again {
		w.Requeue()
	}
}

// loop is the worker goroutine: ExecuteForever until the scheduler closes.
func (w *Worker) loop() {
	defer w.s.wg.Done()
	for !w.s.closedFlag.Load() {
		slot := w.s.execPolicy.Load()
		if slot == nil {
			w.builtinStep()
			continue
		}
		w.executed, w.slept, w.raced = false, false, false
		v, err := callExecute(slot.p, w)
		if err != nil {
			w.s.c.executeErrors.Add(1)
		}
		if w.holding {
			w.s.c.executeRepairs.Add(1)
			w.Requeue()
		}
		switch {
		case err != nil || v != Handled:
			w.builtinStep()
		case !w.executed && !w.slept:
			w.s.c.executeRepairs.Add(1)
			w.builtinStep()
		}
	}
}

func callExecute(pol ExecutePolicy, w *Worker) (v Verdict, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("execute policy panicked: %v", r)
		}
	}()
	return pol.ExecuteForever(w)
}

// Submission is a task being submitted, passed to SchedulePolicy. Its
// methods are the ScheduleTask helpers; they must only be called from
// inside ScheduleTask.
type Submission struct {
	s       *Scheduler
	e       entry
	placed  bool // enqueued, or dropped because the query failed
	dropped bool
	woken   int
}

// Producer returns the id of the submitting producer.
func (sub *Submission) Producer() ProducerID { return sub.e.p.id }

// Placed reports whether the task was enqueued (or dropped because its
// query failed): a policy that handled the submission without placing it
// is repaired by the host (Metrics.ScheduleRepairs).
func (sub *Submission) Placed() bool { return sub.placed }

// Stats returns a snapshot of the queues.
func (sub *Submission) Stats() QueueStats { return sub.s.Stats() }

// Queued returns the number of tasks the submitting producer has queued.
func (sub *Submission) Queued() int {
	sub.s.mu.Lock()
	defer sub.s.mu.Unlock()
	return sub.e.p.queue.len()
}

// Enqueue places the task at the front or the back of its producer's
// queue. It returns false if the task was already placed (only one place
// per task). A task of a query that has failed is dropped instead, which
// also counts as placed.
func (sub *Submission) Enqueue(front bool) bool {
	if sub.placed {
		return false
	}
	sub.placed = true
	sub.e.queuedAt = time.Now()
	sub.s.mu.Lock()
	ok := sub.s.enqueueLocked(sub.e, front)
	sub.s.mu.Unlock()
	sub.dropped = !ok
	return true
}

// Wake wakes up to n idle workers and returns how many it woke.
func (sub *Submission) Wake(n int) int {
	sub.s.mu.Lock()
	k := sub.s.wakeLocked(n)
	sub.s.mu.Unlock()
	sub.woken += k
	return k
}
