/* Hash programs that misbehave, for hash_test.go. */
#include "../../../ext/include/bpfdb.h"

/* Scribbles on every hash, then asks for the built-in. */
SEC("bpfdb/hash")
int hash_scribble(struct bpfdb_hash_ctx *ctx)
{
	__u64 *hashes = (__u64 *)ctx->hashes;
	for (__u32 r = 0; r < ctx->count; r++)
		hashes[r] = 0xdeadbeef;
	return BPFDB_BUILTIN;
}

/* Scribbles, then fails. */
SEC("bpfdb/hash")
int hash_error(struct bpfdb_hash_ctx *ctx)
{
	__u64 *hashes = (__u64 *)ctx->hashes;
	for (__u32 r = 0; r < ctx->count; r++)
		hashes[r] = 0xdeadbeef;
	return -5;
}

/* Asks for VARCHAR bytes of a row past the vector, and for the bytes of a
 * non-VARCHAR key: both must be refused with -EINVAL. */
SEC("bpfdb/hash")
int hash_bad_rows(struct bpfdb_hash_ctx *ctx)
{
	char buf[8];
	if (bpfdb_hash_key_bytes(ctx, ctx->count, buf, sizeof(buf)) != -22)
		return -1;
	return BPFDB_BUILTIN;
}
