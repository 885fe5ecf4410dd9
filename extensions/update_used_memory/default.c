/* update_used_memory/default: the built-in accounting: every change of
 * accounted memory goes into its tag's counter at once. Attaching it
 * changes nothing; it is the reference for batching or per-purpose
 * accounting. */
#include "../../ext/include/bpfdb.h"

SEC("bpfdb/update_used_memory")
int update_used_memory_default(struct bpfdb_update_used_memory_ctx *ctx)
{
	bpfdb_count_tag(ctx, ctx->tag, ctx->delta);
	return BPFDB_HANDLED;
}
