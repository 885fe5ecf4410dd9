/* UpdateUsedMemory programs for memory_test.go. */
#include "../../../ext/include/bpfdb.h"

/* Batches counts in the runner's cache, flushing past 16 KiB either way. */
SEC("bpfdb/update_used_memory")
int mem_batch(struct bpfdb_update_used_memory_ctx *ctx)
{
	long cached = bpfdb_cache_add(ctx, ctx->tag, ctx->delta);
	if (cached > 16384 || cached < -16384)
		bpfdb_cache_flush(ctx);
	return BPFDB_HANDLED;
}

/* Counts every change under BPFDB_TAG_OTHER: tags lie, the total holds. */
SEC("bpfdb/update_used_memory")
int mem_as_other(struct bpfdb_update_used_memory_ctx *ctx)
{
	bpfdb_count_tag(ctx, BPFDB_TAG_OTHER, ctx->delta);
	return BPFDB_HANDLED;
}

/* Hostile: counts nothing. */
SEC("bpfdb/update_used_memory")
int mem_drop(struct bpfdb_update_used_memory_ctx *ctx) { return BPFDB_HANDLED; }

/* Hostile: counts twice. */
SEC("bpfdb/update_used_memory")
int mem_double(struct bpfdb_update_used_memory_ctx *ctx)
{
	bpfdb_count_tag(ctx, ctx->tag, ctx->delta);
	bpfdb_count_tag(ctx, ctx->tag, ctx->delta);
	return BPFDB_HANDLED;
}

/* Counts, then declines: the host must not count again. */
SEC("bpfdb/update_used_memory")
int mem_count_then_builtin(struct bpfdb_update_used_memory_ctx *ctx)
{
	bpfdb_count_tag(ctx, ctx->tag, ctx->delta);
	return BPFDB_BUILTIN;
}
