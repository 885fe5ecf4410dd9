/* schedule_task/default: the built-in placement of a submitted task: at the
 * back of its query's queue, waking one idle worker. Attaching it changes
 * nothing; it is the reference for alternative placements. */
#include "../../ext/include/bpfdb.h"

SEC("bpfdb/schedule_task")
int schedule_task_default(struct bpfdb_schedule_task_ctx *ctx)
{
	bpfdb_enqueue(ctx, 0, 1);
	return BPFDB_HANDLED;
}
