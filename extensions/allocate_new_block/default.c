/* allocate_new_block/default: the built-in admission: every block is
 * admitted, nothing is evicted ahead, and the block starts in the queue the
 * host preset (the built-in's: temporary buffers, until a block is made
 * persistent). Attaching it changes nothing; it is the reference for
 * quotas and evict-ahead. */
#include "../../ext/include/bpfdb.h"

SEC("bpfdb/allocate_new_block")
int allocate_new_block_default(struct bpfdb_allocate_new_block_ctx *ctx)
{
	ctx->evict_ahead = 0;
	return BPFDB_HANDLED;
}
