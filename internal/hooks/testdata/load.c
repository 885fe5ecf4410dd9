/* Load programs for load_test.go. */
#include "../../../ext/include/bpfdb.h"

/* The default: read the block now, as the built-in does. */
SEC("bpfdb/load")
int load_default(struct bpfdb_load_ctx *ctx)
{
	if (bpfdb_read_block(ctx) != 0)
		return -5; /* -EIO: the host reads the block itself */
	return BPFDB_HANDLED;
}

/* Readahead counters: misses seen, readaheads started, refused. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} ahead SEC(".maps");

static __attribute__((always_inline)) inline void bump(__u32 k)
{
	__u64 *n = bpf_map_lookup_elem(&ahead, &k);
	if (n)
		__sync_fetch_and_add(n, 1);
}

/* How many blocks past a miss to read ahead. */
#define READ_AHEAD 4

/* Readahead: on a miss of block n of the database file, read n now and
 * start reading n+1 .. n+READ_AHEAD in the background, so that a scan
 * finds them in memory. */
SEC("bpfdb/load")
int load_readahead(struct bpfdb_load_ctx *ctx)
{
	if (bpfdb_read_block(ctx) != 0)
		return -5;
	if (ctx->temporary)
		return BPFDB_HANDLED;
	bump(0);
	for (__u64 k = 1; k <= READ_AHEAD; k++) {
		if (bpfdb_read_ahead(ctx, ctx->block + k) == 0)
			bump(1);
		else
			bump(2);
	}
	return BPFDB_HANDLED;
}

/* Hostile: claims to have handled the load without reading. */
SEC("bpfdb/load")
int load_no_read(struct bpfdb_load_ctx *ctx) { return BPFDB_HANDLED; }

/* Hostile: fails every call. */
SEC("bpfdb/load")
int load_error(struct bpfdb_load_ctx *ctx) { return -22; }

/* Reads, then fails: counted, and the block is not read again. */
SEC("bpfdb/load")
int load_read_then_error(struct bpfdb_load_ctx *ctx)
{
	bpfdb_read_block(ctx);
	return -22;
}

/* What the helpers return and the context says, for the last call. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 10);
	__type(key, __u32);
	__type(value, __s64);
} report SEC(".maps");

static __attribute__((always_inline)) inline void put(__u32 k, __s64 v)
{
	bpf_map_update_elem(&report, &k, &v, BPF_ANY);
}

SEC("bpfdb/load")
int load_report(struct bpfdb_load_ctx *ctx)
{
	put(0, ctx->block);
	put(1, ctx->size);
	put(2, ctx->tag);
	put(3, ctx->temporary);
	put(4, ctx->worker);
	put(5, bpfdb_read_ahead(ctx, ctx->block)); /* itself: being loaded */
	put(6, bpfdb_read_ahead(ctx, 1ULL << 40)); /* no such block */
	put(7, bpfdb_read_ahead(ctx, ctx->block + 1));
	put(8, bpfdb_read_block(ctx));
	put(9, bpfdb_read_block(ctx)); /* a second read */
	return BPFDB_HANDLED;
}
