package parallel

import "fmt"

// Mode tells a task how much work one Execute call may do.
type Mode uint8

const (
	// Full: run until the task is finished.
	Full Mode = iota
	// Partial: do a bounded amount of work (a pipeline task: one morsel),
	// then return Again if there is more.
	Partial
)

// String returns "full" or "partial".
func (m Mode) String() string {
	switch m {
	case Full:
		return "full"
	case Partial:
		return "partial"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// Result is what a task's Execute reports.
type Result uint8

const (
	// Done: the task is finished (successfully or with the error returned
	// alongside) and will not be executed again.
	Done Result = iota
	// Again: the task has more work; it must be executed again (the
	// built-in loop requeues it at the back of its producer's queue).
	Again
)

// String returns "done" or "again".
func (r Result) String() string {
	switch r {
	case Done:
		return "done"
	case Again:
		return "again"
	}
	return fmt.Sprintf("Result(%d)", uint8(r))
}

// TaskContext is what a task learns about where it runs.
type TaskContext struct {
	// Worker is the index (0..Threads-1) of the worker goroutine running
	// the task, for per-worker caches.
	Worker int
	// Producer is the query the task belongs to: tasks poll its
	// Cancelled between chunks and may Schedule more tasks on it.
	Producer *Producer
}

// Task is a unit of work of one query.
//
// Execute is called on a worker goroutine, with no scheduler lock held,
// never concurrently for the same task. In Full mode it runs to the end and
// returns Done; in Partial mode it may return Again after a bounded amount
// of work and is then executed again later, possibly on another worker. An
// error (returned with Done) fails the query: the producer is cancelled
// with it. A panic in Execute is recovered at the worker and fails the
// query with a "BUG: task panicked" error.
//
// A task that is dropped without being executed to Done (its query was
// cancelled or failed, or the scheduler closed) is told so if it
// implements [Discarder], exactly once; a task is therefore always ended
// either by Execute returning Done or by Discard.
type Task interface {
	Execute(tc TaskContext, mode Mode) (Result, error)
}

// Discarder is implemented by tasks that hold resources between Execute
// calls (a partially executed pipeline task holds local operator state).
// Discard is called with the query's error when the scheduler drops the
// task, on whatever goroutine drops it, with no scheduler lock held.
type Discarder interface {
	Discard(err error)
}

// TaskFunc adapts a function to a Task that always runs in one go.
type TaskFunc func(tc TaskContext) error

// Execute calls f and returns Done.
func (f TaskFunc) Execute(tc TaskContext, _ Mode) (Result, error) { return Done, f(tc) }
