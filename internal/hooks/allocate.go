package hooks

import (
	"encoding/binary"
	"fmt"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ext"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
)

// The AllocateNewBlock site: buffer.AllocatePolicy. Per call (a block or
// buffer is about to be created, nothing reserved yet) the host fills the
// context with the request and the manager's memory, presets the writable
// fields to the built-in admission (evict_ahead 0, queue
// BPFDB_QUEUE_TEMPORARY) and runs the program:
//
//	BPFDB_HANDLED   admit with the writable fields
//	BPFDB_BUILTIN   admit as the built-in policy does
//	-ENOMEM         refuse: the allocation fails with buffer.ErrOutOfMemory
//	other < 0       an error: counted, admitted as the built-in does
//
// Enforced afterwards: a queue out of range and an evict_ahead that
// would not fit under the limit with the request (a program could
// otherwise fail every allocation) are violations, replaced by the
// built-in values. So is a refusal of an allocation no query owns (the
// engine's own) or of a query's first buffer (producer_used 0): the host
// admits it, so that every query can make progress and a policy refusing
// everything cannot stop the database from answering. The manager itself guarantees that exactly one block is
// created per admitted call. producer and producer_used are the request's
// owner (the query's producer id, when the operator allocated with
// Manager.AllocateFor) and the bytes it holds; 0 when the owner is unknown.

// Offsets of the AllocateNewBlock context's fields.
var allocCtx = struct{ size, used, limit, tagUsed, tag, block, producer, evictAhead, queue, producerUsed int }{}

func init() {
	s := ext.SpecOf(ext.AllocateNewBlock)
	allocCtx.size, allocCtx.used, allocCtx.limit = s.Field("size").Offset(), s.Field("used").Offset(), s.Field("limit").Offset()
	allocCtx.tagUsed, allocCtx.tag, allocCtx.block = s.Field("tag_used").Offset(), s.Field("tag").Offset(), s.Field("block").Offset()
	allocCtx.producer, allocCtx.evictAhead, allocCtx.queue = s.Field("producer").Offset(), s.Field("evict_ahead").Offset(), s.Field("queue").Offset()
	allocCtx.producerUsed = s.Field("producer_used").Offset()
}

// errNOMEM is the return of an AllocateNewBlock program that refuses.
const errNOMEM = 12

// allocState is a runner's host state during an AllocateNewBlock call.
type allocState struct {
	m *buffer.Manager
}

// allocSite is the registry's buffer.AllocatePolicy.
type allocSite struct{ r *Registry }

// AllocatePolicy returns the AllocateNewBlock site, to pass as
// buffer.Options.Allocate: the built-in admission while nothing is
// attached. Under nohooks it is buffer.DefaultAllocate itself.
func (r *Registry) AllocatePolicy() buffer.AllocatePolicy {
	if !enabled {
		return buffer.DefaultAllocate{}
	}
	return &r.alloc
}

// AllocateNewBlock implements buffer.AllocatePolicy.
func (s *allocSite) AllocateNewBlock(m *buffer.Manager, req buffer.AllocRequest) (buffer.Admission, error) {
	a := s.r.load(ext.AllocateNewBlock)
	if a == nil {
		return buffer.DefaultAllocate{}.AllocateNewBlock(m, req)
	}
	return a.allocate(m, req)
}

func (a *Attachment) allocate(m *buffer.Manager, req buffer.AllocRequest) (buffer.Admission, error) {
	def, err := buffer.DefaultAllocate{}.AllocateNewBlock(m, req)
	if err != nil {
		return def, err
	}
	rn := a.acquire()
	defer rn.release()
	rn.alloc.m = m
	ctx, le := rn.ctx, binary.LittleEndian
	used, limit := m.Used(), m.Limit()
	le.PutUint64(ctx[allocCtx.size:], uint64(req.Size))
	le.PutUint64(ctx[allocCtx.used:], uint64(used))
	le.PutUint64(ctx[allocCtx.limit:], uint64(limit))
	le.PutUint64(ctx[allocCtx.tagUsed:], uint64(max(m.TagUsed(req.Tag), 0)))
	le.PutUint32(ctx[allocCtx.tag:], uint32(req.Tag))
	le.PutUint32(ctx[allocCtx.block:], b2u(req.Block))
	le.PutUint64(ctx[allocCtx.producer:], req.Owner)
	le.PutUint64(ctx[allocCtx.producerUsed:], uint64(max(m.OwnerUsed(req.Owner), 0)))
	le.PutUint64(ctx[allocCtx.evictAhead:], 0)
	le.PutUint32(ctx[allocCtx.queue:], uint32(def.Queue))
	out, _ := a.call(rn, -errNOMEM)
	rn.alloc.m = nil
	switch out {
	case refused:
		if req.Owner == 0 || m.OwnerUsed(req.Owner) == 0 {
			// Progress: every query gets its first buffer, and the
			// engine's own allocations (no query) are not refused.
			rn.viol.Add(1)
			return def, nil
		}
		return def, fmt.Errorf("refused by policy %s: %w", a.name, buffer.ErrOutOfMemory)
	case builtin, failed: // a failure is counted; the built-in admits
		return def, nil
	}
	adm := def
	viol := 0
	if q := le.Uint32(ctx[allocCtx.queue:]); q < buffer.NumQueues {
		adm.Queue = int(q)
	} else {
		viol++
	}
	ahead := le.Uint64(ctx[allocCtx.evictAhead:])
	if room := limit - int64(req.Size); room >= 0 && ahead <= uint64(room) {
		adm.EvictAhead = int64(ahead)
	} else {
		viol++
	}
	rn.violated(viol)
	return adm, nil
}

var allocHelpers = map[int32]ebpf.HelperFunc{
	helperID(ext.AllocateNewBlock, "bpfdb_tag_used"): allocTagUsed,
	helperID(ext.AllocateNewBlock, "bpfdb_evict"):    allocEvict,
}

func allocHost(env *ebpf.Env) (*allocState, error) {
	st, ok := env.Host.(*allocState)
	if !ok || st.m == nil {
		return nil, fmt.Errorf("BUG: an AllocateNewBlock helper outside an AllocateNewBlock call")
	}
	return st, nil
}

// allocTagUsed is bpfdb_tag_used(ctx, tag): bytes accounted to a tag now
// (as the UpdateUsedMemory policy counted them), or -EINVAL.
func allocTagUsed(env *ebpf.Env, _, tag, _, _, _ uint64) (uint64, error) {
	st, err := allocHost(env)
	if err != nil {
		return 0, err
	}
	if tag >= uint64(buffer.NumTags) {
		return negErrno(errINVAL), nil
	}
	return uint64(max(st.m.TagUsed(buffer.Tag(tag)), 0)), nil
}

// allocEvict is bpfdb_evict(ctx, bytes): it evicts unpinned blocks, in the
// order a reservation would, until bytes are free under the limit or
// nothing is left to evict, and returns the bytes freed (the memory the
// manager accounts less afterwards).
func allocEvict(env *ebpf.Env, _, bytes, _, _, _ uint64) (uint64, error) {
	st, err := allocHost(env)
	if err != nil {
		return 0, err
	}
	m := st.m
	before := m.Used()
	for free := m.Limit() - m.Used(); (free < 0 || uint64(free) < bytes) && m.Evict(1) == 1; free = m.Limit() - m.Used() {
	}
	return uint64(max(before-m.Used(), 0)), nil
}
