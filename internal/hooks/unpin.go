package hooks

import (
	"encoding/binary"
	"fmt"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ext"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
)

// The Unpin site: buffer.UnpinPolicy. Per call (the last pin of a block
// was released) the host fills the context, runs the program and, if it
// returns BPFDB_HANDLED, turns its decision into a buffer.Placement:
//
//	queue     the writable field, or the queue of a bpfdb_enqueue_block call
//	unload    the writable field (0 or 1), or a bpfdb_unload call
//
// The helpers that act record an intent that is applied after the program
// returns (the manager then enqueues or unloads the block); the reader
// count was decremented by the manager before the call and no program can
// change it. Enforced afterwards: a queue outside 0..BPFDB_NUM_QUEUES-1,
// an unload value other than 0 and 1, and a second bpfdb_enqueue_block
// are violations, counted and replaced by the built-in choice.
//
// The context's block identity, size, tag and loads are read without a
// lock (Block.Number, Kind, Loads); seq is the manager's eviction sequence
// number of this unpin, which the block's queue entry carries. What it
// cannot say yet: worker is BPFDB_NO_WORKER (the buffer manager does not
// know which worker unpins).

// Offsets of the Unpin context's fields.
var unpinCtx = struct{ block, seq, size, tag, temporary, builtinQueue, loads, worker, queue, unload int }{}

func init() {
	s := ext.SpecOf(ext.Unpin)
	unpinCtx.block, unpinCtx.seq, unpinCtx.size = s.Field("block").Offset(), s.Field("seq").Offset(), s.Field("size").Offset()
	unpinCtx.tag, unpinCtx.temporary = s.Field("tag").Offset(), s.Field("temporary").Offset()
	unpinCtx.builtinQueue, unpinCtx.loads = s.Field("builtin_queue").Offset(), s.Field("loads").Offset()
	unpinCtx.worker, unpinCtx.queue, unpinCtx.unload = s.Field("worker").Offset(), s.Field("queue").Offset(), s.Field("unload").Offset()
}

// noWorker is the context's worker field for a call with no worker.
const noWorker = 0xffff_ffff

// unpinState is a runner's host state during an Unpin call: the block and
// the intents its helpers recorded.
type unpinState struct {
	m       *buffer.Manager
	b       *buffer.Block
	enqueue int // queue of a bpfdb_enqueue_block call, or -1
	unload  bool
	extra   int // violations found by helpers (a second enqueue)
}

// unpinSite is the registry's buffer.UnpinPolicy.
type unpinSite struct{ r *Registry }

// UnpinPolicy returns the Unpin site, to pass as buffer.Options.Unpin:
// the built-in placement while nothing is attached. Under nohooks it is
// buffer.DefaultUnpin itself.
func (r *Registry) UnpinPolicy() buffer.UnpinPolicy {
	if !enabled {
		return buffer.DefaultUnpin{}
	}
	return &r.unpin
}

// Unpin implements buffer.UnpinPolicy.
func (s *unpinSite) Unpin(m *buffer.Manager, b *buffer.Block, seq uint64) buffer.Placement {
	a := s.r.load(ext.Unpin)
	if a == nil {
		return buffer.Placement{Queue: b.Queue()}
	}
	return a.unpin(m, b, seq)
}

func (a *Attachment) unpin(m *buffer.Manager, b *buffer.Block, seq uint64) buffer.Placement {
	def := buffer.Placement{Queue: b.Queue()}
	rn := a.acquire()
	defer rn.release()
	st := rn.unpin
	if !rn.plain { // a program without helpers leaves st as setup made it
		*st = unpinState{m: m, b: b, enqueue: -1}
	}
	ctx, le := rn.ctx, binary.LittleEndian
	le.PutUint64(ctx[unpinCtx.block:], b.Number())
	le.PutUint64(ctx[unpinCtx.seq:], seq)
	le.PutUint32(ctx[unpinCtx.size:], uint32(b.Size()))
	le.PutUint32(ctx[unpinCtx.tag:], uint32(b.Tag()))
	le.PutUint32(ctx[unpinCtx.temporary:], b2u(b.Kind() == buffer.Temporary))
	le.PutUint32(ctx[unpinCtx.builtinQueue:], uint32(def.Queue))
	le.PutUint32(ctx[unpinCtx.loads:], b.Loads())
	le.PutUint32(ctx[unpinCtx.queue:], uint32(def.Queue))
	le.PutUint32(ctx[unpinCtx.unload:], 0)
	out, _ := a.call(rn, 0)
	viol := st.extra
	if !rn.plain {
		st.m, st.b = nil, nil
	}
	if out != handled {
		rn.violated(viol)
		return def
	}
	p := def
	q := le.Uint32(ctx[unpinCtx.queue:])
	if st.enqueue >= 0 {
		q = uint32(st.enqueue)
	}
	if q < buffer.NumQueues {
		p.Queue = int(q)
	} else {
		viol++
	}
	switch u := le.Uint32(ctx[unpinCtx.unload:]); {
	case u == 1 || st.unload:
		p.Unload = true
	case u != 0:
		viol++
	}
	rn.violated(viol)
	return p
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// errALREADY is EALREADY: the block was placed (Unpin) or read (Load)
// already in this call, or is in memory already (a readahead).
const errALREADY = 114

func unpinHelper(name string) int32 { return helperID(ext.Unpin, name) }

// helperID returns the id of a hook's helper by name.
func helperID(hook ext.Hook, name string) int32 {
	for _, h := range ext.SpecOf(hook).Helpers {
		if h.Name == name {
			return h.ID
		}
	}
	panic(fmt.Sprintf("BUG: hook %s has no helper %s", hook, name))
}

var unpinHelpers = map[int32]ebpf.HelperFunc{
	unpinHelper("bpfdb_readers"):       unpinReaders,
	unpinHelper("bpfdb_enqueue_block"): unpinEnqueue,
	unpinHelper("bpfdb_unload"):        unpinUnload,
	unpinHelper("bpfdb_purge_queue"):   unpinPurge,
	unpinHelper("bpfdb_queue_length"):  unpinQueueLength,
}

func unpinHost(env *ebpf.Env) (*unpinState, error) {
	st, ok := env.Host.(*unpinState)
	if !ok || st.b == nil {
		return nil, fmt.Errorf("BUG: an Unpin helper outside an Unpin call")
	}
	return st, nil
}

// unpinReaders is bpfdb_readers(ctx): the block's reader count now.
func unpinReaders(env *ebpf.Env, _, _, _, _, _ uint64) (uint64, error) {
	st, err := unpinHost(env)
	if err != nil {
		return 0, err
	}
	return uint64(st.b.Info().Readers), nil
}

// unpinEnqueue is bpfdb_enqueue_block(ctx, queue): the block enters queue
// when the program returns BPFDB_HANDLED (0), -EINVAL for a queue out of
// range, -EALREADY (and a violation) if called before in this call.
func unpinEnqueue(env *ebpf.Env, _, q, _, _, _ uint64) (uint64, error) {
	st, err := unpinHost(env)
	if err != nil {
		return 0, err
	}
	switch {
	case q >= buffer.NumQueues:
		return negErrno(errINVAL), nil
	case st.enqueue >= 0:
		st.extra++
		return negErrno(errALREADY), nil
	}
	st.enqueue = int(q)
	return 0, nil
}

// unpinUnload is bpfdb_unload(ctx): the block is unloaded when the program
// returns BPFDB_HANDLED, if it is still unpinned then. It returns 1 if the
// block is resident and unpinned now, 0 if not (the unload will not
// happen).
func unpinUnload(env *ebpf.Env, _, _, _, _, _ uint64) (uint64, error) {
	st, err := unpinHost(env)
	if err != nil {
		return 0, err
	}
	st.unload = true
	info := st.b.Info()
	return uint64(b2u(info.State == buffer.Resident && info.Readers == 0)), nil
}

// unpinPurge is bpfdb_purge_queue(ctx, queue): it drops the queue's stale
// entries now (Manager.PurgeQueue) and returns how many, or -EINVAL for a
// queue out of range.
func unpinPurge(env *ebpf.Env, _, q, _, _, _ uint64) (uint64, error) {
	st, err := unpinHost(env)
	if err != nil {
		return 0, err
	}
	if q >= buffer.NumQueues {
		return negErrno(errINVAL), nil
	}
	return uint64(st.m.PurgeQueue(int(q))), nil
}

// unpinQueueLength is bpfdb_queue_length(ctx, queue): entries in a queue,
// stale ones included (Manager.QueueLen, no lock taken), or -EINVAL.
func unpinQueueLength(env *ebpf.Env, _, q, _, _, _ uint64) (uint64, error) {
	st, err := unpinHost(env)
	if err != nil {
		return 0, err
	}
	if q >= buffer.NumQueues {
		return negErrno(errINVAL), nil
	}
	return uint64(st.m.QueueLen(int(q))), nil
}
