/* execute_forever/priority: per-query priority in the worker loop. The
 * built-in loop serves the queries with queued tasks round robin, one
 * morsel each, so a short interactive query beside a long one waits behind
 * one morsel of the long query for each of its own. With this policy a
 * worker serves first the query with the highest priority and, among
 * equals (by default all are 0), the query with the fewest queued tasks:
 * short queries finish first, long ones take what is left. An operator
 * attaches it when interactive queries must keep their latency beside
 * batch work, and raises a query's priority through the map.
 *
 * The loop knows a query once a worker has taken one of its tasks (the
 * helpers name no queries otherwise): it remembers queries in SLOTS slots
 * by producer id, and while some query with queued tasks is not
 * remembered, the worker takes the next task round robin, as the built-in
 * does, which finds it. Everything else is the built-in step: one morsel
 * (partial mode), requeue if more, sleep when nothing is queued. Long
 * queries can wait as long as shorter or higher ones keep arriving.
 *
 * Map priority (hash, PRIORITY_QUERIES entries): key __u64, a query's
 * producer id; value __u32, its priority (higher first; absent: 0).
 * Map recent (array, 1 entry): the remembered producer ids, for
 * inspection. */
#include "../../ext/include/bpfdb.h"

#define SLOTS 8
#define PRIORITY_QUERIES 1024

struct producers {
	__u64 id[SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct producers);
} recent SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PRIORITY_QUERIES);
	__type(key, __u64);
	__type(value, __u32);
} priority SEC(".maps");

/* pick returns the remembered query to serve, or 0 if some query with
 * queued tasks is not remembered (or fewer than two have tasks). */
static inline __attribute__((always_inline)) __u64 pick(struct bpfdb_execute_forever_ctx *ctx, struct producers *p)
{
	__u64 best = 0;
	__u32 best_prio = 0;
	long best_queued = 0;
	__u32 known = 0;
/* not unrolled: the verifier widens the loop */
	for (int i = 0; i < SLOTS; i++) {
		__u64 id = p->id[i];
		if (!id)
			continue;
		long q = bpfdb_queued(ctx, id);
		if (q <= 0)
			continue;
		known++;
		__u32 prio = 0;
		__u32 *pp = bpf_map_lookup_elem(&priority, &id);
		if (pp)
			prio = *pp;
		if (!best || prio > best_prio || (prio == best_prio && q < best_queued)) {
			best = id;
			best_prio = prio;
			best_queued = q;
		}
	}
	if (known < ctx->producers)
		return 0;
	return best;
}

SEC("bpfdb/execute_forever")
int execute_forever_priority(struct bpfdb_execute_forever_ctx *ctx)
{
	__u32 zero = 0;
	struct producers *p = bpf_map_lookup_elem(&recent, &zero);
	long took = 0;
	if (p && ctx->producers > 1) {
		__u64 best = pick(ctx, p);
		if (best)
			took = bpfdb_dequeue_from(ctx, best);
	}
	if (!took && !bpfdb_dequeue(ctx)) {
		bpfdb_flush_idle(ctx);
		bpfdb_wait(ctx);
		/* Woken with work queued: take it now (round robin: a query
		 * that just arrived is not remembered yet). */
		if (!ctx->queued || !bpfdb_dequeue(ctx))
			return BPFDB_HANDLED;
	}
	if (p) {
		__u64 id = ctx->held_producer;
		p->id[id & (SLOTS - 1)] = id;
	}
	if (bpfdb_execute(ctx, BPFDB_MODE_PARTIAL) == BPFDB_TASK_AGAIN)
		bpfdb_requeue(ctx);
	return BPFDB_HANDLED;
}
