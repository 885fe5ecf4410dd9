package hooks

import (
	"encoding/binary"
	"fmt"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ext"
	"github.com/bpfdb/bpfdb/internal/parallel"
)

// The scheduler's sites: parallel.SchedulePolicy (ScheduleTask) and
// parallel.ExecutePolicy (ExecuteForever). Their helpers are the methods
// of the seam's handle (parallel.Submission, parallel.Worker), which
// already refuse what would break the scheduler (a second placement, a
// second task held); the scheduler enforces the rest after every call (a
// task not placed is enqueued, a task still held is requeued, a policy
// that neither ran a task nor slept gets the built-in step) and counts it
// in its Metrics. A program's BPFDB_BUILTIN and its failures become
// parallel.UseBuiltin (failures also as an error, which the scheduler
// counts too).
//
// ExecuteForever programs run on the runner of their worker's number (a
// worker's calls never overlap), so Options.Runners should be at least
// the scheduler's threads; bpfdb_wait sleeps inside the run.

// Offsets of the two contexts' fields.
var (
	schedCtx = struct{ producer, producerQueued, workers, idle, queued, producers int }{}
	execCtx  = struct{ worker, workers, idle, queued, producers, held, heldProducer int }{}
)

func init() {
	s := ext.SpecOf(ext.ScheduleTask)
	schedCtx.producer, schedCtx.producerQueued = s.Field("producer").Offset(), s.Field("producer_queued").Offset()
	schedCtx.workers, schedCtx.idle = s.Field("workers").Offset(), s.Field("idle").Offset()
	schedCtx.queued, schedCtx.producers = s.Field("queued").Offset(), s.Field("producers").Offset()
	e := ext.SpecOf(ext.ExecuteForever)
	execCtx.worker, execCtx.workers, execCtx.idle = e.Field("worker").Offset(), e.Field("workers").Offset(), e.Field("idle").Offset()
	execCtx.queued, execCtx.producers = e.Field("queued").Offset(), e.Field("producers").Offset()
	execCtx.held, execCtx.heldProducer = e.Field("held").Offset(), e.Field("held_producer").Offset()
}

// schedState and execState are a runner's host state during a call.
type (
	schedState struct{ sub *parallel.Submission }
	execState  struct {
		w   *parallel.Worker
		ctx []byte
	}
)

type schedSite struct{ r *Registry }
type execSite struct{ r *Registry }

// SchedulePolicy returns the ScheduleTask site, to pass as
// parallel.Options.Schedule: the built-in placement while nothing is
// attached (it returns UseBuiltin). Under nohooks it is
// parallel.BuiltinSchedule.
func (r *Registry) SchedulePolicy() parallel.SchedulePolicy {
	if !enabled {
		return parallel.BuiltinSchedule{}
	}
	return &r.sched
}

// ExecutePolicy returns the ExecuteForever site, to pass as
// parallel.Options.Execute: the built-in loop step while nothing is
// attached (it returns UseBuiltin). Under nohooks it is
// parallel.BuiltinExecute.
func (r *Registry) ExecutePolicy() parallel.ExecutePolicy {
	if !enabled {
		return parallel.BuiltinExecute{}
	}
	return &r.exec
}

// verdict turns a call's outcome into the scheduler's verdict.
func verdict(out outcome, err error) (parallel.Verdict, error) {
	if out == handled {
		return parallel.Handled, nil
	}
	return parallel.UseBuiltin, err
}

// ScheduleTask implements parallel.SchedulePolicy.
func (s *schedSite) ScheduleTask(sub *parallel.Submission) (parallel.Verdict, error) {
	a := s.r.load(ext.ScheduleTask)
	if a == nil {
		return parallel.UseBuiltin, nil
	}
	rn := a.acquire()
	defer rn.release()
	rn.sched.sub = sub
	ctx, le := rn.ctx, binary.LittleEndian
	st := sub.Stats()
	le.PutUint64(ctx[schedCtx.producer:], uint64(sub.Producer()))
	le.PutUint32(ctx[schedCtx.producerQueued:], uint32(sub.Queued()))
	le.PutUint32(ctx[schedCtx.workers:], uint32(st.Workers))
	le.PutUint32(ctx[schedCtx.idle:], uint32(st.Idle))
	le.PutUint32(ctx[schedCtx.queued:], uint32(st.Queued))
	le.PutUint32(ctx[schedCtx.producers:], uint32(st.Producers))
	out, err := a.call(rn, 0)
	rn.sched.sub = nil
	if out == handled && !sub.Placed() {
		rn.viol.Add(1) // the scheduler enqueues it (ScheduleRepairs)
	}
	return verdict(out, err)
}

// ExecuteForever implements parallel.ExecutePolicy.
func (s *execSite) ExecuteForever(w *parallel.Worker) (parallel.Verdict, error) {
	a := s.r.load(ext.ExecuteForever)
	if a == nil {
		return parallel.UseBuiltin, nil
	}
	rn := a.acquireAt(w.ID())
	defer rn.release()
	rn.exec.w = w
	fillExec(rn.ctx, w)
	out, err := a.call(rn, 0)
	rn.exec.w = nil
	if _, holding := w.Held(); holding || (out == handled && !w.Progressed()) {
		rn.viol.Add(1) // the scheduler requeues or steps (ExecuteRepairs)
	}
	return verdict(out, err)
}

// fillExec writes a worker's state into an ExecuteForever context.
func fillExec(ctx []byte, w *parallel.Worker) {
	le := binary.LittleEndian
	st := w.Stats()
	held, holding := w.Held()
	le.PutUint32(ctx[execCtx.worker:], uint32(w.ID()))
	le.PutUint32(ctx[execCtx.workers:], uint32(st.Workers))
	le.PutUint32(ctx[execCtx.idle:], uint32(st.Idle))
	le.PutUint32(ctx[execCtx.queued:], uint32(st.Queued))
	le.PutUint32(ctx[execCtx.producers:], uint32(st.Producers))
	le.PutUint32(ctx[execCtx.held:], b2u(holding))
	le.PutUint64(ctx[execCtx.heldProducer:], uint64(held))
}

var schedHelpers = map[int32]ebpf.HelperFunc{
	helperID(ext.ScheduleTask, "bpfdb_enqueue"): func(env *ebpf.Env, _, front, wake, _, _ uint64) (uint64, error) {
		st, ok := env.Host.(*schedState)
		if !ok || st.sub == nil {
			return 0, fmt.Errorf("BUG: bpfdb_enqueue outside a ScheduleTask call")
		}
		placed := st.sub.Enqueue(front != 0)
		if wake > 0 {
			st.sub.Wake(int(min(wake, 1<<16)))
		}
		return uint64(b2u(placed)), nil
	},
}

// execHelper adapts a Worker method to an ExecuteForever helper.
func execHelper(name string, fn func(w *parallel.Worker, ctx []byte, r2 uint64) uint64) (int32, ebpf.HelperFunc) {
	return helperID(ext.ExecuteForever, name), func(env *ebpf.Env, _, r2, _, _, _ uint64) (uint64, error) {
		st, ok := env.Host.(*execState)
		if !ok || st.w == nil {
			return 0, fmt.Errorf("BUG: %s outside an ExecuteForever call", name)
		}
		return fn(st.w, st.ctx, r2), nil
	}
}

var execHelpers = func() map[int32]ebpf.HelperFunc {
	fns := map[int32]ebpf.HelperFunc{}
	add := func(id int32, fn ebpf.HelperFunc) { fns[id] = fn }
	add(execHelper("bpfdb_dequeue", func(w *parallel.Worker, ctx []byte, _ uint64) uint64 {
		ok := w.Dequeue()
		fillExec(ctx, w)
		return uint64(b2u(ok))
	}))
	add(execHelper("bpfdb_dequeue_from", func(w *parallel.Worker, ctx []byte, p uint64) uint64 {
		ok := w.DequeueFrom(parallel.ProducerID(p))
		fillExec(ctx, w)
		return uint64(b2u(ok))
	}))
	add(execHelper("bpfdb_execute", func(w *parallel.Worker, ctx []byte, mode uint64) uint64 {
		if mode > uint64(parallel.Partial) {
			return negErrno(errINVAL)
		}
		res, ok := w.Execute(parallel.Mode(mode))
		fillExec(ctx, w)
		if !ok {
			return negErrno(errINVAL)
		}
		if res == parallel.Again {
			return 1
		}
		return 0
	}))
	add(execHelper("bpfdb_requeue", func(w *parallel.Worker, ctx []byte, _ uint64) uint64 {
		ok := w.Requeue()
		fillExec(ctx, w)
		return uint64(b2u(ok))
	}))
	add(execHelper("bpfdb_wait", func(w *parallel.Worker, ctx []byte, _ uint64) uint64 {
		w.Wait()
		fillExec(ctx, w)
		return 0
	}))
	add(execHelper("bpfdb_signal", func(w *parallel.Worker, _ []byte, n uint64) uint64 {
		return uint64(w.Signal(int(min(n, 1<<16))))
	}))
	add(execHelper("bpfdb_queued", func(w *parallel.Worker, _ []byte, p uint64) uint64 {
		return uint64(w.Queued(parallel.ProducerID(p)))
	}))
	add(execHelper("bpfdb_queue_stats", func(w *parallel.Worker, ctx []byte, _ uint64) uint64 {
		fillExec(ctx, w)
		return 0
	}))
	add(execHelper("bpfdb_flush_idle", func(w *parallel.Worker, _ []byte, _ uint64) uint64 {
		w.FlushIdle()
		return 0
	}))
	return fns
}()
