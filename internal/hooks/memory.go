package hooks

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ext"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
)

// The UpdateUsedMemory site: buffer.MemoryPolicy. Per call (accounted
// memory changed by delta bytes under a tag) the host fills the context
// and runs the program, whose helpers count the change:
//
//	bpfdb_count_tag(tag, d)    d into a tag's counter now (Manager.CountTag)
//	bpfdb_cache_add(tag, d)    d into the cache of the call's runner slot
//	bpfdb_cache_flush()        that slot's cache into the counters
//
// The "per-worker" cache of the ABI is per runner slot: the engine does not
// tell the buffer manager which worker changes memory, and a runner slot
// is used by one call at a time. Caches live in the registry, so that they
// outlive the attachment that filled them.
//
// Enforced after every call, whatever the program returned: the bytes it
// counted or cached add up to delta. What is missing (or counted twice) is
// counted under the call's tag, and is a violation if the program returned
// BPFDB_HANDLED. Cached bytes are moved to the counters when the program is
// replaced or detached and by FlushMemory, so the per-tag counts sum to
// Metrics.Used whenever no change is in flight and the caches are flushed.

// Offsets of the UpdateUsedMemory context's fields.
var memCtx = struct{ delta, used, limit, tag, worker int }{}

func init() {
	s := ext.SpecOf(ext.UpdateUsedMemory)
	memCtx.delta, memCtx.used, memCtx.limit = s.Field("delta").Offset(), s.Field("used").Offset(), s.Field("limit").Offset()
	memCtx.tag, memCtx.worker = s.Field("tag").Offset(), s.Field("worker").Offset()
}

// memState is a runner's host state during an UpdateUsedMemory call.
type memState struct {
	r       *Registry
	m       *buffer.Manager
	slot    int
	counted int64 // bytes counted or cached by the helpers in this call
}

// memCaches are the per-runner-slot caches of UpdateUsedMemory programs,
// and the manager they count into.
type memCaches struct {
	m     atomic.Pointer[buffer.Manager]
	slots [][buffer.NumTags]atomic.Int64
}

// memSite is the registry's buffer.MemoryPolicy.
type memSite struct{ r *Registry }

// MemoryPolicy returns the UpdateUsedMemory site, to pass as
// buffer.Options.Memory: the built-in accounting while nothing is
// attached. Under nohooks it is buffer.DefaultMemory itself.
func (r *Registry) MemoryPolicy() buffer.MemoryPolicy {
	if !enabled {
		return buffer.DefaultMemory{}
	}
	return &r.memory
}

// UpdateUsedMemory implements buffer.MemoryPolicy.
func (s *memSite) UpdateUsedMemory(m *buffer.Manager, tag buffer.Tag, delta int64) {
	a := s.r.load(ext.UpdateUsedMemory)
	if a == nil {
		m.CountTag(tag, delta)
		return
	}
	a.updateUsedMemory(m, tag, delta)
}

func (a *Attachment) updateUsedMemory(m *buffer.Manager, tag buffer.Tag, delta int64) {
	caches := &a.r.caches
	if caches.m.Load() != m {
		caches.m.Store(m)
	}
	rn := a.acquire()
	defer rn.release()
	st := rn.mem
	st.m, st.counted = m, 0
	ctx, le := rn.ctx, binary.LittleEndian
	le.PutUint64(ctx[memCtx.delta:], uint64(delta))
	le.PutUint64(ctx[memCtx.used:], uint64(m.Used()))
	le.PutUint64(ctx[memCtx.limit:], uint64(m.Limit()))
	le.PutUint32(ctx[memCtx.tag:], uint32(tag))
	le.PutUint32(ctx[memCtx.worker:], noWorker)
	out, _ := a.call(rn, 0)
	st.m = nil
	if missing := delta - st.counted; missing != 0 {
		m.CountTag(tag, missing)
		if out == handled {
			rn.viol.Add(1)
		}
	}
}

// FlushMemory moves the bytes UpdateUsedMemory programs cached into the
// buffer manager's per-tag counters. Call it where no memory change is in
// flight and the counters must add up (before reading them for a report).
func (r *Registry) FlushMemory() {
	m := r.caches.m.Load()
	if m == nil {
		return
	}
	for i := range r.caches.slots {
		r.flushSlot(m, i)
	}
}

func (r *Registry) flushSlot(m *buffer.Manager, slot int) {
	c := &r.caches.slots[slot]
	for t := range c {
		if n := c[t].Swap(0); n != 0 {
			m.CountTag(buffer.Tag(t), n)
		}
	}
}

var memHelpers = map[int32]ebpf.HelperFunc{
	helperID(ext.UpdateUsedMemory, "bpfdb_count_tag"):   memCountTag,
	helperID(ext.UpdateUsedMemory, "bpfdb_cache_add"):   memCacheAdd,
	helperID(ext.UpdateUsedMemory, "bpfdb_cache_flush"): memCacheFlush,
}

func memHost(env *ebpf.Env) (*memState, error) {
	st, ok := env.Host.(*memState)
	if !ok || st.m == nil {
		return nil, fmt.Errorf("BUG: an UpdateUsedMemory helper outside an UpdateUsedMemory call")
	}
	return st, nil
}

// memCountTag is bpfdb_count_tag(ctx, tag, delta); a tag out of range is
// ignored (the host then counts the call's delta itself).
func memCountTag(env *ebpf.Env, _, tag, delta, _, _ uint64) (uint64, error) {
	st, err := memHost(env)
	if err != nil || tag >= uint64(buffer.NumTags) {
		return 0, err
	}
	st.m.CountTag(buffer.Tag(tag), int64(delta))
	st.counted += int64(delta)
	return 0, nil
}

// memCacheAdd is bpfdb_cache_add(ctx, tag, delta): it returns the slot's
// cached bytes for tag afterwards, or -EINVAL for a tag out of range.
func memCacheAdd(env *ebpf.Env, _, tag, delta, _, _ uint64) (uint64, error) {
	st, err := memHost(env)
	if err != nil {
		return 0, err
	}
	if tag >= uint64(buffer.NumTags) {
		return negErrno(errINVAL), nil
	}
	st.counted += int64(delta)
	return uint64(st.r.caches.slots[st.slot][tag].Add(int64(delta))), nil
}

// memCacheFlush is bpfdb_cache_flush(ctx).
func memCacheFlush(env *ebpf.Env, _, _, _, _, _ uint64) (uint64, error) {
	st, err := memHost(env)
	if err != nil {
		return 0, err
	}
	st.r.flushSlot(st.m, st.slot)
	return 0, nil
}
