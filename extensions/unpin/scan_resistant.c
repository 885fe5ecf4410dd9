/* unpin/scan_resistant: scan-resistant eviction (two queues, as in 2Q): a
 * block unpinned for the first time enters the queue the built-in chose,
 * which is evicted first; a block unpinned again, so used more than once,
 * enters BPFDB_QUEUE_LOW, evicted only after the built-in queues. A large
 * scan then evicts its own blocks, read once, instead of flushing the hot
 * working set (dimension tables, index blocks) that the built-in LRU
 * would push out. An operator attaches it when a batch scan shares the
 * memory limit with interactive queries over a hot set.
 *
 * Blocks used more than once leave BPFDB_QUEUE_LOW oldest first when the
 * built-in queues are empty, so the hot set can still change. The map
 * remembers the last SEEN_BLOCKS blocks unpinned (least recently unpinned
 * forgotten first); a block forgotten and used again starts over.
 *
 * Map seen (LRU hash): key __u64, the block number with bit 63 set for a
 * temporary buffer; value __u64, the unpins counted. Reading it shows how
 * often each remembered block was used; deleting an entry demotes it. */
#include "../../ext/include/bpfdb.h"

#define SEEN_BLOCKS 65536

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SEEN_BLOCKS);
	__type(key, __u64);
	__type(value, __u64);
} seen SEC(".maps");

SEC("bpfdb/unpin")
int unpin_scan_resistant(struct bpfdb_unpin_ctx *ctx)
{
	__u64 key = ctx->block | ((__u64)ctx->temporary << 63);
	__u64 *n = bpf_map_lookup_elem(&seen, &key);
	if (!n) {
		__u64 one = 1;
		bpf_map_update_elem(&seen, &key, &one, BPF_ANY);
		ctx->queue = ctx->builtin_queue;
		return BPFDB_HANDLED;
	}
	__sync_fetch_and_add(n, 1);
	ctx->queue = BPFDB_QUEUE_LOW;
	return BPFDB_HANDLED;
}
