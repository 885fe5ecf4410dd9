package parallel

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// QueryMetrics are one query's (one producer's) counters.
type QueryMetrics struct {
	// TasksScheduled counts tasks submitted with Schedule.
	TasksScheduled uint64
	// Executions counts Execute calls; a task executed partially and
	// requeued counts once per call.
	Executions uint64
	// TasksFinished counts tasks that returned Done (with or without an
	// error).
	TasksFinished uint64
	// TasksDropped counts tasks ended without finishing because the query
	// was cancelled or failed, or the scheduler closed.
	TasksDropped uint64
	// QueueWait is the total time tasks spent in the queue, from each
	// enqueue or requeue to the dequeue that followed it. Workers read the
	// clock once per execution and reuse the reading (see Busy), so a wait
	// can be off by the dequeuing worker's scheduling overhead.
	QueueWait time.Duration
	// MaxQueueWait is the longest single such wait.
	MaxQueueWait time.Duration
	// Busy is the total time workers spent in the query's Execute calls,
	// each measured from the worker's previous clock reading (the end of
	// its previous execution or its wake-up) to the end of the call, so it
	// includes the worker's dequeue overhead.
	Busy time.Duration
}

// WorkerMetrics are one worker goroutine's counters.
type WorkerMetrics struct {
	// Executions counts the Execute calls the worker made.
	Executions uint64
	// Busy is the time the worker spent inside Execute calls (measured as
	// QueryMetrics.Busy is).
	Busy time.Duration
	// Sleeps counts the times the worker slept for lack of work.
	Sleeps uint64
	// Idle is the time it spent asleep.
	Idle time.Duration
}

// Metrics is a snapshot of the scheduler's counters.
type Metrics struct {
	// Uptime is the time since the scheduler started.
	Uptime time.Duration
	// Workers has one entry per worker goroutine.
	Workers []WorkerMetrics
	// Producers counts the registered (not yet closed) producers.
	Producers int
	// Queued counts the tasks queued right now.
	Queued int
	// TasksScheduled counts all submissions; Executions all Execute calls;
	// TasksDropped all tasks ended without finishing.
	TasksScheduled, Executions, TasksDropped uint64
	// ExecuteErrors counts ExecutePolicy calls that failed or panicked;
	// ExecuteRepairs counts iterations the host had to fix (a task left
	// held, or neither work nor sleep).
	ExecuteErrors, ExecuteRepairs uint64
	// ScheduleErrors counts SchedulePolicy calls that failed or panicked;
	// ScheduleRepairs counts submissions the host had to fix (task not
	// placed, or no worker woken while all slept).
	ScheduleErrors, ScheduleRepairs uint64
}

type counters struct {
	scheduled, executions, dropped  atomic.Uint64
	executeErrors, executeRepairs   atomic.Uint64
	scheduleErrors, scheduleRepairs atomic.Uint64
}

type workerCounters struct {
	executions, sleeps atomic.Uint64
	busy, idle         atomic.Int64 // nanoseconds
}

// Metrics returns a snapshot of the scheduler's counters.
func (s *Scheduler) Metrics() Metrics {
	s.mu.Lock()
	m := Metrics{Uptime: time.Since(s.start), Producers: len(s.producers), Queued: s.queued}
	s.mu.Unlock()
	m.TasksScheduled = s.c.scheduled.Load()
	m.Executions = s.c.executions.Load()
	m.TasksDropped = s.c.dropped.Load()
	m.ExecuteErrors = s.c.executeErrors.Load()
	m.ExecuteRepairs = s.c.executeRepairs.Load()
	m.ScheduleErrors = s.c.scheduleErrors.Load()
	m.ScheduleRepairs = s.c.scheduleRepairs.Load()
	for _, w := range s.workers {
		m.Workers = append(m.Workers, WorkerMetrics{
			Executions: w.m.executions.Load(),
			Busy:       time.Duration(w.m.busy.Load()),
			Sleeps:     w.m.sleeps.Load(),
			Idle:       time.Duration(w.m.idle.Load()),
		})
	}
	return m
}

// String renders the metrics as a small text dashboard:
//
//	scheduler: 2 workers, 1 producers, 0 queued, up 1.2s
//	tasks:     scheduled 10, executions 12, dropped 0
//	policies:  execute errors 0 repairs 0, schedule errors 0 repairs 0
//	worker 0:  executions 6, busy 3ms (0.2%), sleeps 4, idle 1.1s
func (m Metrics) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "scheduler: %d workers, %d producers, %d queued, up %v\n", len(m.Workers), m.Producers, m.Queued, m.Uptime.Round(time.Millisecond))
	fmt.Fprintf(&b, "tasks:     scheduled %d, executions %d, dropped %d\n", m.TasksScheduled, m.Executions, m.TasksDropped)
	fmt.Fprintf(&b, "policies:  execute errors %d repairs %d, schedule errors %d repairs %d\n", m.ExecuteErrors, m.ExecuteRepairs, m.ScheduleErrors, m.ScheduleRepairs)
	for i, w := range m.Workers {
		pct := 0.0
		if m.Uptime > 0 {
			pct = 100 * float64(w.Busy) / float64(m.Uptime)
		}
		fmt.Fprintf(&b, "worker %d:  executions %d, busy %v (%.1f%%), sleeps %d, idle %v\n", i, w.Executions, w.Busy.Round(time.Microsecond), pct, w.Sleeps, w.Idle.Round(time.Microsecond))
	}
	return b.String()
}

// String renders the query metrics on one line.
func (m QueryMetrics) String() string {
	return fmt.Sprintf("scheduled %d, executions %d, finished %d, dropped %d, queue wait %v (max %v), busy %v",
		m.TasksScheduled, m.Executions, m.TasksFinished, m.TasksDropped,
		m.QueueWait.Round(time.Microsecond), m.MaxQueueWait.Round(time.Microsecond), m.Busy.Round(time.Microsecond))
}
