/* unpin/default: the built-in placement of a block whose last pin was
 * released: the queue the built-in policy chose for it (database blocks
 * before temporary buffers), least recently unpinned evicted first within a
 * queue, as DuckDB does. Attaching it changes nothing; it is the reference
 * for scan resistance and early unload. */
#include "../../ext/include/bpfdb.h"

SEC("bpfdb/unpin")
int unpin_default(struct bpfdb_unpin_ctx *ctx)
{
	ctx->queue = ctx->builtin_queue;
	ctx->unload = 0;
	return BPFDB_HANDLED;
}
