/* Loops over the rows of the Hash hook in the shapes clang gives them:
 * counted up to the context's count (bounded by its declared maximum, the
 * regions' capacity), with a signed counter, skipping rows, as a while
 * loop, counted down, and behind an explicit bound. Each must verify in
 * a few walks of its body (objects_test.go). */
#include "../../../../../ext/include/bpfdb.h"

SEC("bpfdb/hash")
int copy_rows(struct bpfdb_hash_ctx *ctx)
{
	__u64 *keys = (__u64 *)ctx->keys;
	__u64 *hashes = (__u64 *)ctx->hashes;
	for (__u32 i = 0; i < ctx->count; i++)
		hashes[i] = keys[i] * 31;
	return BPFDB_HANDLED;
}

SEC("bpfdb/hash")
int copy_rows_int(struct bpfdb_hash_ctx *ctx)
{
	__u64 *keys = (__u64 *)ctx->keys;
	__u64 *hashes = (__u64 *)ctx->hashes;
	int n = ctx->count;
	for (int i = 0; i < n; i++)
		hashes[i] = keys[i] ^ (keys[i] >> 7);
	return BPFDB_HANDLED;
}

SEC("bpfdb/hash")
int skip_nulls(struct bpfdb_hash_ctx *ctx)
{
	__u64 *keys = (__u64 *)ctx->keys;
	__u64 *hashes = (__u64 *)ctx->hashes;
	__u8 *nulls = (__u8 *)ctx->nulls;
	__u32 n = ctx->count;
	for (__u32 i = 0; i < n; i++) {
		if (nulls[i])
			continue;
		hashes[i] = keys[i] * 0x9e3779b97f4a7c15ULL;
	}
	return BPFDB_HANDLED;
}

SEC("bpfdb/hash")
int while_count(struct bpfdb_hash_ctx *ctx)
{
	__u64 *keys = (__u64 *)ctx->keys;
	__u64 *hashes = (__u64 *)ctx->hashes;
	__u32 n = ctx->count;
	__u32 i = 0;
	while (i < n) {
		hashes[i] = keys[i] + 1;
		i++;
	}
	return BPFDB_HANDLED;
}

SEC("bpfdb/hash")
int countdown(struct bpfdb_hash_ctx *ctx)
{
	__u64 *keys = (__u64 *)ctx->keys;
	__u64 *hashes = (__u64 *)ctx->hashes;
	__u32 n = ctx->count;
	while (n--)
		hashes[n] = keys[n] + 1;
	return BPFDB_HANDLED;
}

SEC("bpfdb/hash")
int bounded_then(struct bpfdb_hash_ctx *ctx)
{
	__u64 *keys = (__u64 *)ctx->keys;
	__u64 *hashes = (__u64 *)ctx->hashes;
	__u32 n = ctx->count;
	if (n > BPFDB_MAX_ROWS)
		return BPFDB_BUILTIN;
	for (__u32 i = 0; i < n; i++)
		hashes[i] = keys[i] + i;
	return BPFDB_HANDLED;
}

SEC("bpfdb/hash")
int nested(struct bpfdb_hash_ctx *ctx)
{
	__u64 *keys = (__u64 *)ctx->keys;
	__u64 *hashes = (__u64 *)ctx->hashes;
	__u32 n = ctx->count;
	for (__u32 i = 0; i < n; i++) {
		__u64 h = 0;
#pragma nounroll
		for (__u32 j = 0; j < 8; j++)
			h = h * 31 + ((keys[i] >> (8 * j)) & 0xff);
		hashes[i] = h;
	}
	return BPFDB_HANDLED;
}

/* One row too far: rejected. */
SEC("bpfdb/hash")
int bad_one_too_far(struct bpfdb_hash_ctx *ctx)
{
	__u64 *keys = (__u64 *)ctx->keys;
	__u64 *hashes = (__u64 *)ctx->hashes;
	__u32 n = ctx->count;
	for (__u32 i = 0; i <= n; i++)
		hashes[i] = keys[i];
	return BPFDB_HANDLED;
}
