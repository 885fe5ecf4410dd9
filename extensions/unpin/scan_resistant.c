/* unpin/scan_resistant: scan-resistant eviction (two queues, as in 2Q and
 * LRU-2): a block whose last pin is released enters the queue the built-in
 * chose, which is evicted first, unless it was already unpinned before
 * without leaving memory in between: a block used again while resident is
 * hot and enters BPFDB_QUEUE_LOW, evicted only after the built-in queues.
 * A large scan, which uses each block once per stay in memory, then
 * evicts its own blocks instead of flushing the hot working set (dimension
 * tables, index and metadata blocks, a small table joined repeatedly) that
 * the built-in LRU pushes out; scanning the same table again does not
 * promote it either. An operator attaches it when batch scans share the
 * memory limit with interactive queries over a hot set.
 *
 * Whether a block stayed in memory is told by its loads count, which grows
 * each time it is read back. Hot blocks leave BPFDB_QUEUE_LOW oldest first
 * when the built-in queues are empty, and start over once evicted, so the
 * hot set can change. The map remembers the last SEEN_BLOCKS blocks
 * unpinned (least recently unpinned forgotten first).
 *
 * Map seen (LRU hash): key __u64, the block number with bit 63 set for a
 * temporary buffer; value struct { __u32 loads; __u32 hits; }: the block's
 * loads count at its last unpin, and how many unpins found it still in
 * memory since. Deleting an entry demotes the block at its next unpin. */
#include "../../ext/include/bpfdb.h"

#define SEEN_BLOCKS 65536

struct use {
	__u32 loads;
	__u32 hits;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SEEN_BLOCKS);
	__type(key, __u64);
	__type(value, struct use);
} seen SEC(".maps");

SEC("bpfdb/unpin")
int unpin_scan_resistant(struct bpfdb_unpin_ctx *ctx)
{
	__u64 key = ctx->block | ((__u64)ctx->temporary << 63);
	struct use *u = bpf_map_lookup_elem(&seen, &key);
	if (u && u->loads == ctx->loads) {
		u->hits++;
		ctx->queue = BPFDB_QUEUE_LOW;
		return BPFDB_HANDLED;
	}
	struct use first = {.loads = ctx->loads, .hits = 0};
	bpf_map_update_elem(&seen, &key, &first, BPF_ANY);
	ctx->queue = ctx->builtin_queue;
	return BPFDB_HANDLED;
}
