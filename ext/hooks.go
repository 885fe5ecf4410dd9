package ext

import (
	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// MaxRows is the capacity of the per-row regions of the Hash hook: the rows
// of one vector.
const MaxRows = vector.Size

// HashPrefix is how many bytes of each VARCHAR key the Hash hook's
// prefixes region holds: enough for most keys (names, codes, flags), so
// that a program reads them from memory instead of calling a helper per
// row.
const HashPrefix = 32

// Helper id bases: each hook numbers its helpers from its base, far above
// Linux's helper ids, so that a program built for one hook names helpers
// another hook does not have (and the verifier rejects it there).
const (
	baseHash           = 0x1000
	baseExecuteForever = 0x1100
	baseScheduleTask   = 0x1200
	baseLoad           = 0x1300
	baseMemory         = 0x1400
	baseAllocate       = 0x1500
	baseUnpin          = 0x1600
)

var (
	argCtx = Arg{"ctx", Ctx, ebpf.ArgContext}
)

func scalar(name string, t CType) Arg { return Arg{name, t, ebpf.ArgScalar} }

// specs holds the seven hooks' ABIs, indexed by Hook.
var specs = [...]*Spec{
	Hash: {
		Hook: Hash,
		Doc: "Hash: the hash function of join, aggregate and partition keys, called once per key\n" +
			"column per vector of up to BPFDB_MAX_ROWS rows. Write hashes[0..count) and return\n" +
			"BPFDB_HANDLED, or return BPFDB_BUILTIN. Equal keys must hash equally.",
		Fields: []Field{
			{Name: "keys", Type: Ptr, Region: "keys", Doc: "count key values, 8 bytes each: integers, dates (days) and decimals (scaled) sign-extended, doubles as their bits, booleans 0/1, strings their length (their first bytes in prefixes, all of them via bpfdb_hash_key_bytes)"},
			{Name: "hashes", Type: Ptr, Region: "hashes", Doc: "count hashes: in, the hash of the previous key columns when flags has BPFDB_HASH_COMBINE; out, the new hash"},
			{Name: "nulls", Type: Ptr, Region: "nulls", Doc: "count bytes, 1 where the key is NULL"},
			{Name: "count", Type: U32, Min: 0, Max: MaxRows, Doc: "rows in this vector"},
			{Name: "type", Type: U32, Doc: "the key column's type: BPFDB_TYPE_*"},
			{Name: "column", Type: U32, Doc: "index of the key column in the key (0 for the first)"},
			{Name: "flags", Type: U32, Doc: "BPFDB_HASH_COMBINE: combine with hashes[] instead of overwriting"},
			{Name: "prefixes", Type: Ptr, Region: "prefixes", Doc: "VARCHAR keys: the first BPFDB_HASH_PREFIX bytes of each key, zero-padded, row r's at prefixes + r*BPFDB_HASH_PREFIX (longer keys whole via bpfdb_hash_key_bytes); not filled for other types"},
		},
		Regions: []Region{
			{Name: "keys", Size: MaxRows * 8},
			{Name: "hashes", Size: MaxRows * 8, Writable: true},
			{Name: "nulls", Size: MaxRows},
			{Name: "prefixes", Size: MaxRows * HashPrefix},
		},
		Helpers: []Helper{
			{ID: baseHash, Name: "bpfdb_hash_key_bytes", Ret: ebpf.RetScalar,
				Args: []Arg{argCtx, scalar("row", U32), {"buf", Ptr, ebpf.ArgUninitMem}, {"size", U32, ebpf.ArgConstSize}},
				Doc:  "copy up to size bytes of the VARCHAR key of row into buf; returns the key's full length, or a negative errno (not a VARCHAR key, row out of range)"},
		},
		Consts: []Const{
			{"BPFDB_HASH_COMBINE", 1, "flags: combine with the previous columns' hash"},
			{"BPFDB_HASH_PREFIX", HashPrefix, "bytes of each VARCHAR key in prefixes"},
		},
	},
	ExecuteForever: {
		Hook: ExecuteForever,
		Doc: "ExecuteForever: one iteration of a worker's loop. Take, run, requeue and wait\n" +
			"through the helpers; at most one task is held at a time. A task still held when\n" +
			"the program returns is requeued by the host.",
		Fields: []Field{
			{Name: "worker", Type: U32, Doc: "this worker's number, 0..workers-1"},
			{Name: "workers", Type: U32, Doc: "worker threads"},
			{Name: "idle", Type: U32, Doc: "workers asleep for lack of work"},
			{Name: "queued", Type: U32, Doc: "tasks queued over all queries"},
			{Name: "producers", Type: U32, Doc: "queries with queued tasks"},
			{Name: "held", Type: U32, Min: 0, Max: 1, Doc: "1 if this worker holds a task"},
			{Name: "held_producer", Type: U64, Doc: "the query (producer id) of the held task, 0 if none"},
		},
		Helpers: []Helper{
			{ID: baseExecuteForever, Name: "bpfdb_dequeue", Ret: ebpf.RetScalar, Args: []Arg{argCtx},
				Doc: "take the next task, queries round robin; 1 if one was taken, 0 if none is queued"},
			{ID: baseExecuteForever + 1, Name: "bpfdb_dequeue_from", Ret: ebpf.RetScalar, Args: []Arg{argCtx, scalar("producer", U64)},
				Doc: "take the next task of one query; 1 if taken, 0 if it has none"},
			{ID: baseExecuteForever + 2, Name: "bpfdb_execute", Ret: ebpf.RetScalar, Args: []Arg{argCtx, scalar("mode", U32)},
				Doc: "run the held task (BPFDB_MODE_FULL or BPFDB_MODE_PARTIAL); BPFDB_TASK_DONE, BPFDB_TASK_AGAIN, or a negative errno if none is held"},
			{ID: baseExecuteForever + 3, Name: "bpfdb_requeue", Ret: ebpf.RetScalar, Args: []Arg{argCtx},
				Doc: "put the held task back at the end of its query's queue; 1 if one was held"},
			{ID: baseExecuteForever + 4, Name: "bpfdb_wait", Ret: ebpf.RetVoid, Args: []Arg{argCtx},
				Doc: "sleep until work is signalled (returns at once if work is queued)"},
			{ID: baseExecuteForever + 5, Name: "bpfdb_signal", Ret: ebpf.RetScalar, Args: []Arg{argCtx, scalar("n", U32)},
				Doc: "wake up to n sleeping workers; how many were woken"},
			{ID: baseExecuteForever + 6, Name: "bpfdb_queued", Ret: ebpf.RetScalar, Args: []Arg{argCtx, scalar("producer", U64)},
				Doc: "tasks queued by one query"},
			{ID: baseExecuteForever + 7, Name: "bpfdb_queue_stats", Ret: ebpf.RetVoid, Args: []Arg{argCtx},
				Doc: "refresh the context's idle, queued and producers fields"},
			{ID: baseExecuteForever + 8, Name: "bpfdb_flush_idle", Ret: ebpf.RetVoid, Args: []Arg{argCtx},
				Doc: "hand this worker's caches (memory accounting) back to the shared pool"},
		},
		Consts: []Const{
			{"BPFDB_MODE_FULL", 0, "bpfdb_execute: run the task to its end"},
			{"BPFDB_MODE_PARTIAL", 1, "bpfdb_execute: run one morsel, then return"},
			{"BPFDB_TASK_DONE", 0, "bpfdb_execute: the task finished"},
			{"BPFDB_TASK_AGAIN", 1, "bpfdb_execute: the task has more work (requeue it)"},
		},
	},
	ScheduleTask: {
		Hook: ScheduleTask,
		Doc: "ScheduleTask: a task is submitted. Place it with bpfdb_enqueue (front or back of\n" +
			"its query's queue) and wake workers; a task not placed is enqueued at the back by\n" +
			"the host.",
		Fields: []Field{
			{Name: "producer", Type: U64, Doc: "the submitting query (producer id)"},
			{Name: "producer_queued", Type: U32, Doc: "tasks that query has queued"},
			{Name: "workers", Type: U32, Doc: "worker threads"},
			{Name: "idle", Type: U32, Doc: "workers asleep"},
			{Name: "queued", Type: U32, Doc: "tasks queued over all queries"},
			{Name: "producers", Type: U32, Doc: "queries with queued tasks"},
		},
		Helpers: []Helper{
			{ID: baseScheduleTask, Name: "bpfdb_enqueue", Ret: ebpf.RetScalar, Args: []Arg{argCtx, scalar("front", U32), scalar("wake", U32)},
				Doc: "place the task at the front (front != 0) or back of its query's queue and wake up to wake idle workers; 1 if placed, 0 if it was placed already"},
		},
	},
	Load: {
		Hook: Load,
		Doc: "Load: a block is not in memory and must be read (the miss path of Pin). Memory is\n" +
			"reserved; fill it with a read helper. If the program returns without reading, the\n" +
			"host reads the block itself and counts a repair.",
		Fields: []Field{
			{Name: "block", Type: U64, Doc: "block number in the database file, or temporary buffer number"},
			{Name: "size", Type: U32, Doc: "bytes"},
			{Name: "tag", Type: U32, Doc: "what the memory is for: BPFDB_TAG_*"},
			{Name: "temporary", Type: U32, Min: 0, Max: 1, Doc: "1 for a spilled temporary buffer, 0 for a block of the database file"},
			{Name: "worker", Type: U32, Doc: "the loading worker, or BPFDB_NO_WORKER"},
		},
		Helpers: []Helper{
			{ID: baseLoad, Name: "bpfdb_read_block", Ret: ebpf.RetScalar, Args: []Arg{argCtx},
				Doc: "read the block into its buffer: from the database file (verified), or a spilled temporary buffer back from the temporary file; " +
					"0, -EALREADY if it was read already in this call, -EIO if the read failed"},
			{ID: baseLoad + 1, Name: "bpfdb_read_ahead", Ret: ebpf.RetScalar, Args: []Arg{argCtx, scalar("block", U64)},
				Doc: "start reading block number block of the database file in the background, so that a later pin finds it in memory (readahead); " +
					"0 if started, -EINVAL if no such block, -EALREADY if it is in memory, -EBUSY if it is being loaded or unloaded, " +
					"-ENOMEM if there is no room without evicting pinned blocks or temporary buffers"},
		},
	},
	UpdateUsedMemory: {
		Hook: UpdateUsedMemory,
		Doc: "UpdateUsedMemory: accounted memory changed by delta bytes under a tag. Count it\n" +
			"with the helpers; per-tag counts must add up to the total whenever no change is\n" +
			"in flight (the host checks and repairs).",
		Fields: []Field{
			{Name: "delta", Type: S64, Doc: "bytes reserved (> 0) or released (< 0)"},
			{Name: "used", Type: U64, Doc: "total accounted bytes, delta included"},
			{Name: "limit", Type: U64, Doc: "the memory limit"},
			{Name: "tag", Type: U32, Doc: "BPFDB_TAG_*"},
			{Name: "worker", Type: U32, Doc: "the worker making the change, or BPFDB_NO_WORKER"},
		},
		Helpers: []Helper{
			{ID: baseMemory, Name: "bpfdb_count_tag", Ret: ebpf.RetVoid, Args: []Arg{argCtx, scalar("tag", U32), scalar("delta", S64)},
				Doc: "add delta to a tag's global counter at once"},
			{ID: baseMemory + 1, Name: "bpfdb_cache_add", Ret: ebpf.RetScalar, Args: []Arg{argCtx, scalar("tag", U32), scalar("delta", S64)},
				Doc: "add delta to this worker's cached count for tag; returns the cached amount"},
			{ID: baseMemory + 2, Name: "bpfdb_cache_flush", Ret: ebpf.RetVoid, Args: []Arg{argCtx},
				Doc: "move this worker's cached counts to the global counters"},
		},
	},
	AllocateNewBlock: {
		Hook: AllocateNewBlock,
		Doc: "AllocateNewBlock: a block or buffer is about to be created. Decide admission, how\n" +
			"much to evict ahead and the block's eviction queue (writable fields), then return\n" +
			"BPFDB_HANDLED; or refuse it by returning a negative errno (-ENOMEM). A refusal of\n" +
			"a query's first buffer (producer_used 0) or of the engine's own allocation\n" +
			"(producer 0) is a violation: the host admits it, so every query makes progress.",
		Fields: []Field{
			{Name: "size", Type: U64, Doc: "bytes requested"},
			{Name: "used", Type: U64, Doc: "total accounted bytes"},
			{Name: "limit", Type: U64, Doc: "the memory limit"},
			{Name: "tag_used", Type: U64, Doc: "bytes accounted to this tag"},
			{Name: "tag", Type: U32, Doc: "BPFDB_TAG_*"},
			{Name: "block", Type: U32, Min: 0, Max: 1, Doc: "1 for a block-shaped buffer, 0 for a plain temporary buffer"},
			{Name: "producer", Type: U64, Doc: "the query allocating (producer id), 0 if unknown"},
			{Name: "evict_ahead", Type: U64, Writable: true, Doc: "bytes to free beyond the request now"},
			{Name: "queue", Type: U32, Writable: true, Doc: "eviction queue of the new block (BPFDB_QUEUE_*); preset to the default"},
			{Name: "producer_used", Type: U64, Doc: "bytes the query's buffers hold now (allocated and not freed, in memory or spilled); 0 if unknown"},
		},
		Helpers: []Helper{
			{ID: baseAllocate, Name: "bpfdb_tag_used", Ret: ebpf.RetScalar, Args: []Arg{argCtx, scalar("tag", U32)},
				Doc: "bytes accounted to a tag now"},
			{ID: baseAllocate + 1, Name: "bpfdb_evict", Ret: ebpf.RetScalar, Args: []Arg{argCtx, scalar("bytes", U64)},
				Doc: "evict unpinned blocks, queue by queue, until bytes are free; bytes freed, or a negative errno"},
		},
	},
	Unpin: {
		Hook: Unpin,
		Doc: "Unpin: the last pin of a block was released (its reader count is already\n" +
			"decremented). Choose its eviction queue (writable queue) or unload it now\n" +
			"(writable unload), and return BPFDB_HANDLED; or return BPFDB_BUILTIN.",
		Fields: []Field{
			{Name: "block", Type: U64, Doc: "block number, or temporary buffer number"},
			{Name: "seq", Type: U64, Doc: "the eviction sequence number this unpin gets (grows by one per unpin)"},
			{Name: "size", Type: U32, Doc: "bytes"},
			{Name: "tag", Type: U32, Doc: "BPFDB_TAG_*"},
			{Name: "temporary", Type: U32, Min: 0, Max: 1, Doc: "1 for a temporary buffer"},
			{Name: "builtin_queue", Type: U32, Doc: "the queue the built-in policy would choose"},
			{Name: "loads", Type: U32, Doc: "times this block was loaded so far"},
			{Name: "worker", Type: U32, Doc: "the unpinning worker, or BPFDB_NO_WORKER"},
			{Name: "queue", Type: U32, Writable: true, Doc: "the queue to enter (BPFDB_QUEUE_*); preset to builtin_queue"},
			{Name: "unload", Type: U32, Writable: true, Doc: "1: unload the block now instead of queueing it"},
		},
		Helpers: []Helper{
			{ID: baseUnpin, Name: "bpfdb_readers", Ret: ebpf.RetScalar, Args: []Arg{argCtx},
				Doc: "the block's reader count now (0 unless pinned again meanwhile)"},
			{ID: baseUnpin + 1, Name: "bpfdb_enqueue_block", Ret: ebpf.RetScalar, Args: []Arg{argCtx, scalar("queue", U32)},
				Doc: "put the block in an eviction queue now; 0 or a negative errno"},
			{ID: baseUnpin + 2, Name: "bpfdb_unload", Ret: ebpf.RetScalar, Args: []Arg{argCtx},
				Doc: "unload the block now if it is still unpinned; 1 if unloaded"},
			{ID: baseUnpin + 3, Name: "bpfdb_purge_queue", Ret: ebpf.RetScalar, Args: []Arg{argCtx, scalar("queue", U32)},
				Doc: "drop stale entries of a queue; entries dropped"},
			{ID: baseUnpin + 4, Name: "bpfdb_queue_length", Ret: ebpf.RetScalar, Args: []Arg{argCtx, scalar("queue", U32)},
				Doc: "entries in a queue (stale ones included)"},
		},
	},
}

func init() {
	for _, s := range specs[1:] {
		s.layout()
	}
}

// SpecOf returns the ABI of hook h; it panics for an invalid hook.
func SpecOf(h Hook) *Spec {
	if h < Hash || h > Unpin {
		panic("BUG: ext.SpecOf(" + h.String() + ")")
	}
	return specs[h]
}

// common are the constants every hook's header shares: return codes,
// types, tags and queues, taken from the engine's own definitions.
func common() []Const {
	cs := []Const{
		{"BPFDB_BUILTIN", RetBuiltin, "return: let the built-in behaviour run"},
		{"BPFDB_HANDLED", RetHandled, "return: the program handled the call"},
		{"BPFDB_MAX_ROWS", MaxRows, "rows in one vector: the capacity of the Hash hook's regions"},
		{"BPFDB_NO_WORKER", noWorker, "worker field of a call from outside the worker threads"},
	}
	for id := types.Boolean; id <= types.Date; id++ {
		cs = append(cs, Const{"BPFDB_TYPE_" + id.String(), int64(id), ""})
	}
	for t := buffer.Tag(0); t < buffer.NumTags; t++ {
		cs = append(cs, Const{"BPFDB_TAG_" + cname(t.String()), int64(t), ""})
	}
	cs = append(cs,
		Const{"BPFDB_QUEUE_PERSISTENT", buffer.QueuePersistent, "unpinned blocks of the database file, evicted first"},
		Const{"BPFDB_QUEUE_TEMPORARY", buffer.QueueTemporary, "unpinned temporary buffers, evicted next"},
		Const{"BPFDB_QUEUE_LOW", buffer.QueueLow, "for policies: evicted after the built-in queues"},
		Const{"BPFDB_QUEUE_LAST", buffer.QueueLast, "for policies: evicted last"},
		Const{"BPFDB_NUM_QUEUES", buffer.NumQueues, ""},
	)
	return cs
}

// noWorker is the worker field of a call made outside a worker thread.
const noWorker = 0xffffffff

func cname(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		default:
			b[i] = '_'
		}
	}
	return string(b)
}
