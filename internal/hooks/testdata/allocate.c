/* AllocateNewBlock programs for allocate_test.go. */
#include "../../../ext/include/bpfdb.h"

/* A quota: hash tables may take at most half the memory limit; their
 * blocks are evicted after the built-in queues. */
SEC("bpfdb/allocate_new_block")
int alloc_quota(struct bpfdb_allocate_new_block_ctx *ctx)
{
	if (ctx->tag != BPFDB_TAG_HASH_TABLE)
		return BPFDB_BUILTIN;
	if (bpfdb_tag_used(ctx, ctx->tag) + ctx->size > ctx->limit / 2)
		return -12; /* -ENOMEM */
	ctx->queue = BPFDB_QUEUE_LOW;
	return BPFDB_HANDLED;
}

/* Hostile: a queue out of range and more evict-ahead than the limit. */
SEC("bpfdb/allocate_new_block")
int alloc_garbage(struct bpfdb_allocate_new_block_ctx *ctx)
{
	ctx->queue = 77;
	ctx->evict_ahead = ctx->limit;
	return BPFDB_HANDLED;
}

/* Frees twice the request before it is reserved; the bytes freed go to a
 * map for the test. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __s64);
} freed SEC(".maps");

SEC("bpfdb/allocate_new_block")
int alloc_evict(struct bpfdb_allocate_new_block_ctx *ctx)
{
	__u32 k = 0;
	__s64 n = bpfdb_evict(ctx, 2 * ctx->size);
	bpf_map_update_elem(&freed, &k, &n, BPF_ANY);
	if (bpfdb_tag_used(ctx, 99) != -22)
		return -1;
	return BPFDB_BUILTIN;
}
