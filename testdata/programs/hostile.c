/* Programs the verifier must refuse, for hooks_test.go. */
#include "../../ext/include/bpfdb.h"

/* Writes a read-only context field. */
SEC("bpfdb/hash")
int hash_write_count(struct bpfdb_hash_ctx *ctx)
{
	ctx->count = 0;
	return BPFDB_BUILTIN;
}

/* Calls a helper of another hook: bpfdb_hash_key_bytes from Unpin. */
static long (*const foreign_key_bytes)(void *ctx, __u64 row, void *buf, __u64 size) = (void *)0x1000;

SEC("bpfdb/unpin")
int unpin_foreign_helper(struct bpfdb_unpin_ctx *ctx)
{
	char buf[8];
	return foreign_key_bytes(ctx, 0, buf, sizeof(buf)) < 0 ? BPFDB_BUILTIN : BPFDB_HANDLED;
}

/* Never returns. */
SEC("bpfdb/schedule_task")
int schedule_spin(struct bpfdb_schedule_task_ctx *ctx)
{
	volatile __u64 x = 0;
	for (;;)
		x = x;
	return BPFDB_BUILTIN;
}

/* Refuses every allocation: a decision, not an error (queries that need
 * new memory fail with out of memory, cleanly; nothing is detached). */
SEC("bpfdb/allocate_new_block")
int allocate_refuse_all(struct bpfdb_allocate_new_block_ctx *ctx) { return -12; }
