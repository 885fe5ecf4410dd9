package hooks

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ebpf/maps"
	"github.com/bpfdb/bpfdb/ext"
)

// An Attachment is one program attached to one hook: the compiled
// program, its maps, its runners and its counters. It stays usable after
// it is replaced or detached, for the calls (and captured Hash functions)
// that still hold it.
type Attachment struct {
	r       *Registry
	hook    ext.Hook
	name    string
	section string
	prog    *ebpf.Program
	maps    map[string]maps.Map
	reused  []string
	object  []byte
	since   time.Time
	runners []runner
	// free holds runners their last callers released (*runner): a
	// processor's own pool slot, so that a worker calling again takes
	// the runner it used last, whose state is in its core's cache, and
	// workers do not all probe the first runner's flag.
	free   sync.Pool
	errors atomic.Int64
	last   atomic.Pointer[error] // the last failure
}

// runner is the state of one call at a time: the program's machine, the
// context, the hook's regions and host state, and counters that only its
// owner updates (so they share no cache line with other runners').
type runner struct {
	busy  atomic.Bool
	free  *sync.Pool // the attachment's pool of free runners
	run   *ebpf.Runner
	ctx   []byte // the hook's context, 8-byte aligned
	opts  ebpf.RunOptions
	hash  *hashState  // Hash only
	load  *loadState  // Load only
	unpin *unpinState // Unpin only
	alloc *allocState // AllocateNewBlock only
	mem   *memState   // UpdateUsedMemory only
	sched *schedState // ScheduleTask only
	exec  *execState  // ExecuteForever only
	tick  uint32      // calls, for sampling; only the owner touches it
	// plain is set if the program calls no helper and the hook passes no
	// memory: a run needs neither the host state nor the worker, and
	// takes Runner.Run's shorter path. The site may then skip setting up
	// the host state as well.
	plain bool
	calls atomic.Uint64
	nanos atomic.Uint64 // time of the timed calls
	timed atomic.Uint64
	other atomic.Uint64 // did not return BPFDB_HANDLED (calls - other were handled)
	viol  atomic.Uint64
	_     [64]byte
}

func newAttachment(r *Registry, hook ext.Hook, ps *ebpf.ProgramSpec, p *ebpf.Program, ms map[string]maps.Map, reused []string, obj []byte) *Attachment {
	a := &Attachment{r: r, hook: hook, name: ps.Name, section: ps.Section, prog: p, maps: ms, reused: reused, object: obj, since: time.Now()}
	a.runners = make([]runner, r.opts.Runners)
	return a
}

// setup prepares runner i the first time it is taken: its machine, context
// and the hook's host state and regions (a Hash runner's regions hold 40
// KiB), so that runners no worker uses cost nothing. The caller owns the
// runner (its busy flag).
func (a *Attachment) setup(i int) {
	rn := &a.runners[i]
	if rn.run != nil {
		return
	}
	r, hook, size := a.r, a.hook, ext.SpecOf(a.hook).Size()
	rn.free = &a.free
	rn.run = a.prog.NewRunner()
	rn.ctx = aligned(size)
	rn.opts = ebpf.RunOptions{Worker: i}
	switch hook {
	case ext.Hash:
		rn.hash = newHashState(rn)
	case ext.Load:
		rn.load = &loadState{}
		rn.opts.Host = rn.load
	case ext.Unpin:
		rn.unpin = &unpinState{enqueue: -1} // a plain runner's for good
		// Read-only, hence the same for every call.
		binary.LittleEndian.PutUint32(rn.ctx[unpinCtx.worker:], noWorker)
		rn.opts.Host = rn.unpin
	case ext.AllocateNewBlock:
		rn.alloc = &allocState{}
		rn.opts.Host = rn.alloc
	case ext.UpdateUsedMemory:
		rn.mem = &memState{r: r, slot: i}
		rn.opts.Host = rn.mem
	case ext.ScheduleTask:
		rn.sched = &schedState{}
		rn.opts.Host = rn.sched
	case ext.ExecuteForever:
		rn.exec = &execState{ctx: rn.ctx}
		rn.opts.Host = rn.exec
	}
	rn.plain = !a.prog.CallsHelpers() && rn.opts.Memory == nil
}

// aligned returns n zero bytes starting on an 8-byte boundary, as the
// runtime requires of a context.
func aligned(n int) []byte {
	words := make([]uint64, (n+7)/8)
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(words))), n)
}

// acquire takes a free runner: the one this processor released last if
// it is free, else the first free one; if all are busy it yields and tries
// again. Taking the lowest free one keeps the runners in use (and set up)
// as few as the calls that overlap.
func (a *Attachment) acquire() *runner {
	if rn, _ := a.free.Get().(*runner); rn != nil && rn.busy.CompareAndSwap(false, true) {
		return rn // set up: only set-up runners are put back
	}
	return a.scan()
}

// scan takes the first free runner; if all are busy it yields and tries
// again.
func (a *Attachment) scan() *runner {
	for {
		for i := range a.runners {
			rn := &a.runners[i]
			if !rn.busy.Load() && rn.busy.CompareAndSwap(false, true) {
				a.setup(i)
				return rn
			}
		}
		runtime.Gosched()
	}
}

// acquireAt takes runner i (mod the number of runners), waiting for it if
// it is busy: for callers that never overlap with themselves, such as one
// worker's ExecuteForever calls.
func (a *Attachment) acquireAt(i int) *runner {
	i %= len(a.runners)
	rn := &a.runners[i]
	for !rn.busy.CompareAndSwap(false, true) {
		runtime.Gosched()
	}
	a.setup(i)
	return rn
}

func (rn *runner) release() {
	rn.busy.Store(false)
	rn.free.Put(rn)
}

// violated counts n violations of the call rn runs (none: no atomic add).
func (rn *runner) violated(n int) {
	if n > 0 {
		rn.viol.Add(uint64(n))
	}
}

// timeSample is how often a call is timed: one in timeSample. Reading
// the clock twice costs more than a short program (about 100 ns on a
// virtual machine without a fast clock), so sampling keeps it to a
// nanosecond per call.
const timeSample = 128

// outcome is what a call of the program came to.
type outcome uint8

const (
	builtin outcome = iota // BPFDB_BUILTIN, or a failure: use the built-in
	handled                // BPFDB_HANDLED
	failed                 // error: counted, the built-in runs
	refused                // the hook's refusal code (AllocateNewBlock: -ENOMEM)
)

// call runs the program on rn's context and regions and classifies its
// result; a failure is counted (and may detach the program). refusal is a
// negative return that is a decision of the hook rather than an error (0:
// none).
func (a *Attachment) call(rn *runner, refusal int32) (outcome, error) {
	// One call in timeSample is timed and Stats scales the total. The
	// counters are atomics that only the runner's owner adds to; a call
	// that is handled adds to one of them (calls).
	rn.tick++
	var r0 uint64
	var err error
	if rn.tick%timeSample == 0 {
		start := time.Now()
		r0, err = rn.exec1()
		rn.nanos.Add(uint64(time.Since(start)))
		rn.timed.Add(1)
	} else {
		r0, err = rn.exec1()
	}
	rn.calls.Add(1)
	if err == nil {
		ret := int32(r0)
		if ret == ext.RetHandled {
			return handled, nil
		}
		rn.other.Add(1)
		switch {
		case ret < 0 && ret == refusal:
			return refused, nil
		case ret < 0:
			err = fmt.Errorf("program %s returned %d: %w", a.name, ret, ErrReturned)
		default:
			return builtin, nil
		}
	} else {
		rn.other.Add(1)
		err = fmt.Errorf("program %s: %w", a.name, err)
	}
	a.fail(err)
	return failed, err
}

// exec1 runs the program once on the runner's context, options and host
// state.
func (rn *runner) exec1() (uint64, error) {
	if rn.plain {
		return rn.run.Run(rn.ctx)
	}
	return rn.run.RunWith(rn.ctx, rn.opts)
}

// fail counts a failed call and detaches the program at the limit.
func (a *Attachment) fail(err error) {
	a.last.Store(&err)
	n := a.errors.Add(1)
	if max := a.r.opts.MaxErrors; max > 0 && n == max {
		a.r.detachFailing(a, err)
	}
}

// Hook returns the hook the program is attached to.
func (a *Attachment) Hook() ext.Hook { return a.hook }

// Name returns the program's name (its symbol in the object).
func (a *Attachment) Name() string { return a.name }

// Section returns the program's ELF section.
func (a *Attachment) Section() string { return a.section }

// Engine returns how the program runs (EngineJIT or EngineInterpreter).
func (a *Attachment) Engine() ebpf.Engine { return a.prog.Engine() }

// Instructions returns the number of instructions of the program.
func (a *Attachment) Instructions() int { return len(a.prog.Instructions()) }

// Object returns the ELF object the program came from (the caller must
// not modify it), so that an attachment can be recorded and re-attached.
func (a *Attachment) Object() []byte { return a.object }

// Maps returns the program's maps by name; they outlive the attachment
// when a replacement reuses them.
func (a *Attachment) Maps() map[string]maps.Map { return a.maps }

// Reused returns the names of the maps taken over from the attachment
// this one replaced, sorted.
func (a *Attachment) Reused() []string { return slices.Clone(a.reused) }

// LastError returns the error of the program's last failed call, or nil.
func (a *Attachment) LastError() error {
	if p := a.last.Load(); p != nil {
		return *p
	}
	return nil
}

// Stats are an attachment's counters since it was attached.
type Stats struct {
	// Calls counts runs of the program.
	Calls uint64
	// Handled counts runs that returned BPFDB_HANDLED.
	Handled uint64
	// Errors counts failed runs (a negative return, a fault, an exhausted
	// budget); the built-in behaviour ran for each.
	Errors uint64
	// Violations counts decisions the host replaced with the built-in
	// step because they broke the hook's invariants (a queue out of
	// range, say).
	Violations uint64
	// Time is the time spent in runs, helpers included: estimated from
	// one call in 128, which is timed.
	Time time.Duration
}

// String renders the counters on one line.
func (s Stats) String() string {
	per := time.Duration(0)
	if s.Calls > 0 {
		per = s.Time / time.Duration(s.Calls)
	}
	return fmt.Sprintf("calls=%d handled=%d errors=%d violations=%d time=%v (%v/call)",
		s.Calls, s.Handled, s.Errors, s.Violations, s.Time, per)
}

// Stats returns the attachment's counters.
func (a *Attachment) Stats() Stats {
	s := Stats{Errors: uint64(a.errors.Load())}
	var nanos, timed, others uint64
	for i := range a.runners {
		rn := &a.runners[i]
		others += rn.other.Load() // before calls, which a call adds to first
		s.Calls += rn.calls.Load()
		s.Violations += rn.viol.Load()
		nanos += rn.nanos.Load()
		timed += rn.timed.Load()
	}
	s.Handled = s.Calls - others
	if timed > 0 {
		s.Time = time.Duration(float64(nanos) / float64(timed) * float64(s.Calls))
	}
	return s
}
