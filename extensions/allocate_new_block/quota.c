/* allocate_new_block/quota: memory quotas, per query and per purpose. A
 * runaway query (a join whose hash table outgrows memory, a sort of
 * everything) would otherwise take memory until the whole database hits
 * its limit and every query spills or fails; with a quota, the allocation
 * that would pass it is refused with -ENOMEM, so that query alone fails
 * with a clean out-of-memory error and the others continue. An operator
 * attaches it and sets the quotas live, for a tenant's queries or for a
 * kind of memory.
 *
 * Per query: the bytes the query's buffers hold now (producer_used:
 * allocated and not freed, in memory or spilled) plus the request may not
 * exceed its quota; the host knows the query when the operator allocates
 * on its behalf (producer 0: unknown, no per-query quota). Per purpose
 * (tag): the bytes accounted to the tag now plus the request may not
 * exceed the tag's quota. Admitted blocks get the built-in treatment (no
 * evict-ahead, the preset queue). Allocations racing on one query see the
 * usage before each other's, so together they can pass its quota by at
 * most one request each.
 *
 * Map query_quota (hash, QUERIES entries): key __u64, a producer id;
 * value __u64, bytes (0: no quota); key 0 holds the default of the
 * queries without an entry of their own.
 * Map tag_quota (array, BPFDB_TAG_OTHER+1 entries): key __u32, a
 * BPFDB_TAG_*; value __u64, bytes (0: no quota).
 * Map refused (array, 2 entries): key __u32 0: allocations refused by a
 * query's quota, 1: by a tag's quota. */
#include "../../ext/include/bpfdb.h"

#define ENOMEM 12
#define QUERIES 4096

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, QUERIES);
	__type(key, __u64);
	__type(value, __u64);
} query_quota SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BPFDB_TAG_OTHER + 1);
	__type(key, __u32);
	__type(value, __u64);
} tag_quota SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} refused SEC(".maps");

static inline __attribute__((always_inline)) int refuse(__u32 why)
{
	__u64 *n = bpf_map_lookup_elem(&refused, &why);
	if (n)
		__sync_fetch_and_add(n, 1);
	return -ENOMEM;
}

SEC("bpfdb/allocate_new_block")
int allocate_new_block_quota(struct bpfdb_allocate_new_block_ctx *ctx)
{
	__u64 producer = ctx->producer;
	if (producer) {
		__u64 *q = bpf_map_lookup_elem(&query_quota, &producer);
		if (!q) {
			__u64 dflt = 0;
			q = bpf_map_lookup_elem(&query_quota, &dflt);
		}
		if (q && *q && ctx->producer_used + ctx->size > *q)
			return refuse(0);
	}
	__u32 tag = ctx->tag;
	__u64 *t = bpf_map_lookup_elem(&tag_quota, &tag);
	if (t && *t && ctx->tag_used + ctx->size > *t)
		return refuse(1);
	ctx->evict_ahead = 0;
	return BPFDB_HANDLED;
}
