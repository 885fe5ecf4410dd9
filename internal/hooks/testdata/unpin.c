/* Unpin programs for unpin_test.go. */
#include "../../../ext/include/bpfdb.h"

/* Blocks unpinned before, keyed by number with bit 63 set for temporary
 * buffers; the value counts unpins. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u64);
} seen SEC(".maps");

/* Scan resistance: a block unpinned for the first time goes to the queue
 * evicted first; one unpinned before goes to BPFDB_QUEUE_LOW, evicted after
 * the built-in queues. A scan then evicts its own blocks, not the hot ones. */
SEC("bpfdb/unpin")
int unpin_scan(struct bpfdb_unpin_ctx *ctx)
{
	__u64 key = ctx->block | ((__u64)ctx->temporary << 63);
	__u64 *n = bpf_map_lookup_elem(&seen, &key);
	if (!n) {
		__u64 one = 1;
		bpf_map_update_elem(&seen, &key, &one, BPF_ANY);
		ctx->queue = BPFDB_QUEUE_PERSISTENT;
		return BPFDB_HANDLED;
	}
	__sync_fetch_and_add(n, 1);
	if (bpfdb_enqueue_block(ctx, BPFDB_QUEUE_LOW) != 0)
		return -22;
	return BPFDB_HANDLED;
}

/* Calls counted in a map that a new version takes over. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

static __attribute__((always_inline)) inline int count(__u32 version)
{
	__u32 k = 0;
	__u64 *total = bpf_map_lookup_elem(&calls, &k);
	if (total)
		__sync_fetch_and_add(total, 1);
	k = 1;
	__u64 *last = bpf_map_lookup_elem(&calls, &k);
	if (last)
		*last = version;
	return BPFDB_BUILTIN;
}

SEC("bpfdb/unpin")
int unpin_count_v1(struct bpfdb_unpin_ctx *ctx) { return count(1); }

SEC("bpfdb/unpin")
int unpin_count_v2(struct bpfdb_unpin_ctx *ctx) { return count(2); }

/* Hostile: garbage in both writable fields and a second enqueue. */
SEC("bpfdb/unpin")
int unpin_garbage(struct bpfdb_unpin_ctx *ctx)
{
	ctx->queue = 1000 + (__u32)ctx->seq;
	ctx->unload = 7;
	return BPFDB_HANDLED;
}

/* Hostile: a queue out of range through the helper, then two enqueues. */
SEC("bpfdb/unpin")
int unpin_double_enqueue(struct bpfdb_unpin_ctx *ctx)
{
	if (bpfdb_enqueue_block(ctx, 99) != -22)
		return -1;
	bpfdb_enqueue_block(ctx, BPFDB_QUEUE_LAST);
	bpfdb_enqueue_block(ctx, BPFDB_QUEUE_LOW);
	return BPFDB_HANDLED;
}

/* Hostile: fails every call. */
SEC("bpfdb/unpin")
int unpin_error(struct bpfdb_unpin_ctx *ctx) { return -22; }

/* Hostile: runs until the budget is exhausted (given a small one). */
SEC("bpfdb/unpin")
int unpin_spin(struct bpfdb_unpin_ctx *ctx)
{
	__u64 acc = 0;
	for (int i = 0; i < 20000; i++)
		acc += bpf_get_prandom_u32();
	ctx->queue = acc & 1;
	return BPFDB_HANDLED;
}

/* The helpers that report: readers, queue lengths, purge. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __s64);
} report SEC(".maps");

SEC("bpfdb/unpin")
int unpin_report(struct bpfdb_unpin_ctx *ctx)
{
	__u32 k = 0;
	__s64 v = bpfdb_readers(ctx);
	bpf_map_update_elem(&report, &k, &v, BPF_ANY);
	k = 1, v = bpfdb_queue_length(ctx, ctx->builtin_queue);
	bpf_map_update_elem(&report, &k, &v, BPF_ANY);
	k = 2, v = bpfdb_purge_queue(ctx, 0);
	bpf_map_update_elem(&report, &k, &v, BPF_ANY);
	k = 3, v = bpfdb_queue_length(ctx, 17);
	bpf_map_update_elem(&report, &k, &v, BPF_ANY);
	if (ctx->size == 12345)
		return BPFDB_BUILTIN;
	ctx->unload = bpfdb_unload(ctx) == 1;
	return BPFDB_HANDLED;
}

/* Copies the context into a map, for the test of what the host fills in. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} fields SEC(".maps");

static __attribute__((always_inline)) inline void put(__u32 k, __u64 v)
{
	bpf_map_update_elem(&fields, &k, &v, BPF_ANY);
}

SEC("bpfdb/unpin")
int unpin_fields(struct bpfdb_unpin_ctx *ctx)
{
	put(0, ctx->block);
	put(1, ctx->seq);
	put(2, ctx->size);
	put(3, ctx->tag);
	put(4, ctx->temporary);
	put(5, ctx->builtin_queue);
	put(6, ctx->worker);
	put(7, ctx->queue);
	return BPFDB_BUILTIN;
}
