/* Programs against ext/include/bpfdb.h: the ABI test (abi_test.go) loads
 * abi.o and checks which the verifier accepts under each hook's type.
 * Sections name the hook; program names say what is expected. */
#include "../include/bpfdb.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u64);
} seen SEC(".maps");

/* Scan resistance: a block loaded for the first time goes to the front of
 * eviction; one seen before stays with the built-in queue. */
SEC("bpfdb/unpin")
int ok_unpin(struct bpfdb_unpin_ctx *ctx)
{
	__u64 block = ctx->block;
	__u64 *n = bpf_map_lookup_elem(&seen, &block);
	if (!n) {
		__u64 one = 1;
		bpf_map_update_elem(&seen, &block, &one, BPF_ANY);
		if (ctx->temporary == 0)
			ctx->unload = bpfdb_readers(ctx) == 0;
		return BPFDB_HANDLED;
	}
	ctx->queue = ctx->builtin_queue < BPFDB_QUEUE_LAST ? ctx->builtin_queue + 1 : BPFDB_QUEUE_LAST;
	bpfdb_queue_length(ctx, ctx->queue);
	return BPFDB_HANDLED;
}

/* A multiplicative hash of integer keys. */
SEC("bpfdb/hash")
int ok_hash(struct bpfdb_hash_ctx *ctx)
{
	__u64 *keys = (__u64 *)ctx->keys;
	__u64 *hashes = (__u64 *)ctx->hashes;
	__u8 *nulls = (__u8 *)ctx->nulls;
	__u32 n = ctx->count;
	char buf[16];
	if (ctx->type == BPFDB_TYPE_VARCHAR) {
		if (n > 0)
			bpfdb_hash_key_bytes(ctx, 0, buf, sizeof(buf));
		return BPFDB_BUILTIN;
	}
	for (__u32 i = 0; i < n && i < BPFDB_MAX_ROWS; i++) {
		__u64 h = nulls[i] ? 0x5be2a8f1c0d39e47ULL : keys[i] * 0x9e3779b97f4a7c15ULL;
		if (ctx->flags & BPFDB_HASH_COMBINE)
			h ^= hashes[i] * 31;
		hashes[i] = h;
	}
	return BPFDB_HANDLED;
}

SEC("bpfdb/execute_forever")
int ok_execute_forever(struct bpfdb_execute_forever_ctx *ctx)
{
	bpfdb_queue_stats(ctx);
	if (ctx->held || bpfdb_dequeue(ctx) || bpfdb_dequeue_from(ctx, 1)) {
		if (bpfdb_execute(ctx, BPFDB_MODE_PARTIAL) == BPFDB_TASK_AGAIN)
			bpfdb_requeue(ctx);
		bpfdb_signal(ctx, bpfdb_queued(ctx, ctx->held_producer) > 1);
		return BPFDB_HANDLED;
	}
	bpfdb_flush_idle(ctx);
	bpfdb_wait(ctx);
	return BPFDB_HANDLED;
}

SEC("bpfdb/schedule_task")
int ok_schedule_task(struct bpfdb_schedule_task_ctx *ctx)
{
	bpfdb_enqueue(ctx, ctx->producer_queued == 0, ctx->idle > 0);
	return BPFDB_HANDLED;
}

SEC("bpfdb/load")
int ok_load(struct bpfdb_load_ctx *ctx)
{
	if (bpfdb_read_block(ctx) != 0)
		return -5; /* -EIO: the host reads the block itself */
	if (!ctx->temporary)
		bpfdb_read_ahead(ctx, ctx->block + 1);
	return BPFDB_HANDLED;
}

SEC("bpfdb/update_used_memory")
int ok_update_used_memory(struct bpfdb_update_used_memory_ctx *ctx)
{
	if (bpfdb_cache_add(ctx, ctx->tag, ctx->delta) > (1 << 20))
		bpfdb_cache_flush(ctx);
	else if (ctx->worker == BPFDB_NO_WORKER)
		bpfdb_count_tag(ctx, ctx->tag, 0);
	return BPFDB_HANDLED;
}

/* A quota: hash tables may not take more than half the limit. */
SEC("bpfdb/allocate_new_block")
int ok_allocate_new_block(struct bpfdb_allocate_new_block_ctx *ctx)
{
	if (ctx->tag == BPFDB_TAG_HASH_TABLE && bpfdb_tag_used(ctx, ctx->tag) + ctx->size > ctx->limit / 2)
		return -12; /* -ENOMEM */
	if (ctx->used + ctx->size > ctx->limit)
		bpfdb_evict(ctx, ctx->size);
	ctx->evict_ahead = 0;
	ctx->queue = BPFDB_QUEUE_LOW;
	return BPFDB_HANDLED;
}

/* Rejected: a helper of another hook. */
SEC("bpfdb/unpin")
int bad_unpin_other_hooks_helper(struct bpfdb_unpin_ctx *ctx)
{
	bpfdb_enqueue((void *)ctx, 0, 0);
	return BPFDB_BUILTIN;
}

/* Rejected: a store into a read-only field. */
SEC("bpfdb/unpin")
int bad_unpin_writes_size(struct bpfdb_unpin_ctx *ctx)
{
	ctx->size = 0;
	return BPFDB_HANDLED;
}

/* Rejected: a return value outside -4095..1. */
SEC("bpfdb/schedule_task")
int bad_schedule_task_returns_2(struct bpfdb_schedule_task_ctx *ctx)
{
	return ctx->idle ? 2 : 0;
}

/* Rejected: past the end of the hashes region. */
SEC("bpfdb/hash")
int bad_hash_past_region(struct bpfdb_hash_ctx *ctx)
{
	__u64 *hashes = (__u64 *)ctx->hashes;
	hashes[BPFDB_MAX_ROWS] = 1;
	return BPFDB_HANDLED;
}
