/* execute_forever/default: the built-in worker loop step, through the
 * hook's helpers: take the next task round robin over the queries with
 * queued tasks, run one morsel of it (partial mode) and put it back at the
 * end of its query's queue if it has more; with nothing queued, hand the
 * worker's memory caches back and sleep until work arrives, then take it.
 * Attaching it changes nothing but the path; it is the reference for the
 * alternatives and the template for a policy that changes one of these
 * choices. */
#include "../../ext/include/bpfdb.h"

SEC("bpfdb/execute_forever")
int execute_forever_default(struct bpfdb_execute_forever_ctx *ctx)
{
	if (!bpfdb_dequeue(ctx)) {
		bpfdb_flush_idle(ctx);
		bpfdb_wait(ctx);
		/* Woken with work queued, or not asleep at all because work
		 * came in meanwhile: take it now, as the built-in loop's next
		 * turn does (a call that neither runs a task nor sleeps is
		 * repaired by the host, and counted). */
		if (!ctx->queued || !bpfdb_dequeue(ctx))
			return BPFDB_HANDLED;
	}
	if (bpfdb_execute(ctx, BPFDB_MODE_PARTIAL) == BPFDB_TASK_AGAIN)
		bpfdb_requeue(ctx);
	return BPFDB_HANDLED;
}
