// Package bpfdb is the embedded API of the bpfdb analytical database: Open a
// database (in memory, or a file that is created if absent), run SQL with
// Exec and Query, and read results as typed rows. A database/sql driver is
// registered as "bpfdb" (see Driver).
//
//	db, err := bpfdb.Open("tpch.db", bpfdb.Options{})
//	res, err := db.Query(ctx, "SELECT l_returnflag, count(*) FROM lineitem GROUP BY 1")
//	for i := range res.Rows() { fmt.Println(res.Row(i)) }
//
// A statement runs in a transaction of its own: a statement that fails
// changes nothing. Queries run on the database's scheduler, in parallel on
// Options.Threads workers, under the buffer manager's memory limit.
package bpfdb

import (
	"context"
	"errors"
	"fmt"
	"log"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ext"
	"github.com/bpfdb/bpfdb/internal/catalog"
	"github.com/bpfdb/bpfdb/internal/hooks"
	"github.com/bpfdb/bpfdb/internal/parallel"
)

// Options configure a database when it opens.
type Options struct {
	// Threads is the number of worker threads; 0 means GOMAXPROCS.
	Threads int
	// MemoryLimit is the buffer manager's limit in bytes; 0 means the
	// default (80% of the machine's memory).
	MemoryLimit int64
	// ReadOnly opens a file database without writing to it.
	ReadOnly bool
	// NoPrograms opens the database without attaching the eBPF programs
	// it records (ATTACH PROGRAM is durable): every hook starts built-in.
	NoPrograms bool
	// HookEngine runs the hooks' eBPF programs: EngineAuto (the JIT where
	// available), EngineInterpreter or EngineJIT.
	HookEngine HookEngine
	// HookMaxErrors is the number of failed calls (a negative return, a
	// fault, an exhausted instruction budget) after which a hook's program
	// is detached and its record dropped from the database; 0 means 100,
	// negative means never.
	HookMaxErrors int64
	// Logf receives the hook registry's events (attach, replace, detach,
	// a program detached after too many errors); nil means log.Printf.
	Logf func(format string, args ...any)
}

// HookEngine is how the hooks' eBPF programs run (ebpf.Engine).
type HookEngine = ebpf.Engine

// The engines of Options.HookEngine.
const (
	EngineAuto        = ebpf.EngineAuto        // the JIT where the platform supports it, else the interpreter
	EngineInterpreter = ebpf.EngineInterpreter // the interpreter
	EngineJIT         = ebpf.EngineJIT         // native code; attaching fails where it is not supported
)

// JITSupported reports whether this build can run hook programs as native
// code.
func JITSupported() bool { return ebpf.JITSupported() }

// DB is an open database. Its methods are safe for concurrent use.
type DB struct {
	cat    *catalog.Catalog
	hooks  *hooks.Registry
	engine HookEngine // Options.HookEngine

	progMu  sync.Mutex          // serializes ATTACH and DETACH PROGRAM; guards sources
	sources map[ext.Hook]string // where each attached program came from
	dropped sync.WaitGroup      // records of programs detached after errors being dropped

	mu      sync.Mutex // guards sched, threads and closed
	sched   *schedRef
	threads int
	closed  bool
}

// schedRef counts the statements running on a scheduler, so that one
// replaced by SET threads is closed only when the last of them ended.
type schedRef struct {
	s       *parallel.Scheduler
	users   int
	retired bool
}

// ErrClosed is returned by the methods of a closed DB.
var ErrClosed = errors.New("database is closed")

// Open opens the database at path, creating it if it does not exist; ""
// or ":memory:" opens a new in-memory database.
func Open(path string, opts Options) (*DB, error) {
	threads := opts.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	logf := opts.Logf
	if logf == nil {
		logf = log.Printf
	}
	var opening atomic.Bool // re-attaching recorded programs is not news
	opening.Store(true)
	var db *DB
	reg := hooks.New(hooks.Options{Engine: opts.HookEngine, Runners: runners(threads), MaxErrors: opts.HookMaxErrors,
		Logf: func(format string, args ...any) {
			if !opening.Load() {
				logf(format, args...)
			}
		},
		Detached: func(h ext.Hook, a *hooks.Attachment, _ error) { db.detached(h, a, logf) },
	})
	cat, err := catalog.Open(path, catalog.Options{MemoryLimit: opts.MemoryLimit, Threads: threads, ReadOnly: opts.ReadOnly,
		Load: reg.LoadPolicy(), Unpin: reg.UnpinPolicy(), Memory: reg.MemoryPolicy(), Allocate: reg.AllocatePolicy()})
	if err != nil {
		return nil, err
	}
	db = &DB{cat: cat, hooks: reg, engine: opts.HookEngine, threads: threads, sources: map[ext.Hook]string{}}
	if !opts.NoPrograms {
		if err := db.attachRecorded(); err != nil {
			cat.Close()
			return nil, fmt.Errorf("open database %s: %w", cat.Path(), err)
		}
	}
	opening.Store(false)
	db.sched = &schedRef{s: db.newScheduler(threads)}
	return db, nil
}

// runners is the number of runners of a hook attachment for a database of
// threads workers: every worker's ExecuteForever runs on the runner of its
// number, and other hooks' calls from any goroutine share them. SET
// threads may raise the workers later: a scheduler of more threads than
// runners shares runners between workers (they wait for each other).
func runners(threads int) int { return max(16, 2*threads) }

// newScheduler returns a scheduler of threads workers whose policies are
// the database's hook sites.
func (db *DB) newScheduler(threads int) *parallel.Scheduler {
	return parallel.New(parallel.Options{Threads: threads,
		Execute: db.hooks.ExecutePolicy(), Schedule: db.hooks.SchedulePolicy()})
}

// Close waits for nothing: queries still running fail. It closes the
// database file.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return nil
	}
	db.closed = true
	s := db.sched
	db.mu.Unlock()
	s.s.Close()
	db.dropped.Wait()
	return db.cat.Close()
}

// acquire returns the scheduler for the current thread setting (SET
// threads replaces it) and a function that releases it when the
// statement ends.
func (db *DB) acquire() (*parallel.Scheduler, func(), error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return nil, nil, ErrClosed
	}
	want := db.threads
	if v, err := db.cat.Setting("threads"); err == nil {
		var n int
		if _, err := fmt.Sscan(v, &n); err == nil && n > 0 {
			want = n
		}
	}
	if want != db.sched.s.Threads() {
		old := db.sched
		old.retired = true
		if old.users == 0 {
			go old.s.Close()
		}
		db.sched = &schedRef{s: db.newScheduler(want)}
	}
	r := db.sched
	r.users++
	release := func() {
		db.mu.Lock()
		r.users--
		last := r.retired && r.users == 0
		db.mu.Unlock()
		if last {
			r.s.Close()
		}
	}
	return r.s, release, nil
}

// Exec runs every statement of sql (separated by ';') in order and stops
// at the first that fails, returning its error; the statements before it
// stay done.
func (db *DB) Exec(ctx context.Context, sql string) error {
	_, err := db.run(ctx, sql, nil)
	return err
}

// Query runs every statement of sql in order and returns the result of
// the last one.
func (db *DB) Query(ctx context.Context, sql string) (*Result, error) {
	var last *Result
	_, err := db.run(ctx, sql, func(r *Result) error { last = r; return nil })
	if err != nil {
		return nil, err
	}
	if last == nil {
		return nil, fmt.Errorf("query: no statement in %q", sql)
	}
	return last, nil
}

// QueryEach runs every statement of sql in order and hands each result to
// f as soon as its statement finished (a shell prints them one by one).
func (db *DB) QueryEach(ctx context.Context, sql string, f func(*Result) error) error {
	_, err := db.run(ctx, sql, f)
	return err
}
