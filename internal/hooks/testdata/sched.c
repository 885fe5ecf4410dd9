/* ScheduleTask and ExecuteForever programs for sched_test.go. */
#include "../../../ext/include/bpfdb.h"

/* Last in, first out: every task goes to the front of its query's queue. */
SEC("bpfdb/schedule_task")
int sched_lifo(struct bpfdb_schedule_task_ctx *ctx)
{
	bpfdb_enqueue(ctx, 1, 1);
	return BPFDB_HANDLED;
}

/* Hostile: places nothing and wakes no one. */
SEC("bpfdb/schedule_task")
int sched_drop(struct bpfdb_schedule_task_ctx *ctx) { return BPFDB_HANDLED; }

/* Runs each task to its end in one go (no morsel-by-morsel requeue). */
SEC("bpfdb/execute_forever")
int exec_full(struct bpfdb_execute_forever_ctx *ctx)
{
	if (!ctx->held && !bpfdb_dequeue(ctx)) {
		bpfdb_flush_idle(ctx);
		bpfdb_wait(ctx);
		return BPFDB_HANDLED;
	}
	if (bpfdb_execute(ctx, BPFDB_MODE_FULL) == BPFDB_TASK_AGAIN)
		bpfdb_requeue(ctx);
	return BPFDB_HANDLED;
}

/* Hostile: takes a task and keeps it, without running or sleeping. */
SEC("bpfdb/execute_forever")
int exec_hoard(struct bpfdb_execute_forever_ctx *ctx)
{
	bpfdb_dequeue(ctx);
	bpfdb_execute(ctx, 7); /* no such mode: -EINVAL */
	return BPFDB_HANDLED;
}
