/* allocate_new_block/quota: memory quotas, per query and per purpose. A
 * runaway query (a join whose hash table outgrows memory, a sort of
 * everything) would otherwise take memory until the whole database hits
 * its limit and every query spills or fails; with a quota, the allocation
 * that would pass it is refused with -ENOMEM, so that query alone fails
 * with a clean out-of-memory error and the others continue. An operator
 * attaches it and sets the quotas live, for a tenant's queries or for a
 * kind of memory.
 *
 * Per purpose (tag): the bytes accounted to the tag now (tag_used) plus the
 * request may not exceed the tag's quota. Per query (producer id, when the
 * host knows it): the bytes of the blocks the query created so far plus
 * the request may not exceed its quota. The ABI does not say which query
 * releases memory, so a query's count only grows: the quota bounds what a
 * query allocates over its life (deleting its entry of query_used resets
 * it). The check and the count are not one atomic step: allocations
 * racing on one query can pass the quota by at most one request each.
 * Admitted blocks get the built-in treatment (no evict-ahead, the preset
 * queue).
 *
 * Map tag_quota (array, BPFDB_TAG_OTHER+1 entries): key __u32, a
 * BPFDB_TAG_*; value __u64, bytes (0: no quota).
 * Map query_quota (hash): key __u64, a producer id; value __u64, bytes
 * (0: no quota); key 0 holds the default of the queries without an entry.
 * Map query_used (LRU hash): key __u64, a producer id; value __u64, bytes
 * its admitted blocks asked for. */
#include "../../ext/include/bpfdb.h"

#define ENOMEM 12
#define QUERIES 4096

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BPFDB_TAG_OTHER + 1);
	__type(key, __u32);
	__type(value, __u64);
} tag_quota SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, QUERIES);
	__type(key, __u64);
	__type(value, __u64);
} query_quota SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, QUERIES);
	__type(key, __u64);
	__type(value, __u64);
} query_used SEC(".maps");

SEC("bpfdb/allocate_new_block")
int allocate_new_block_quota(struct bpfdb_allocate_new_block_ctx *ctx)
{
	__u32 tag = ctx->tag;
	__u64 *tq = bpf_map_lookup_elem(&tag_quota, &tag);
	if (tq && *tq && ctx->tag_used + ctx->size > *tq)
		return -ENOMEM;

	__u64 producer = ctx->producer;
	if (producer) {
		__u64 *qq = bpf_map_lookup_elem(&query_quota, &producer);
		if (!qq) {
			__u64 dflt = 0;
			qq = bpf_map_lookup_elem(&query_quota, &dflt);
		}
		__u64 quota = qq ? *qq : 0;
		if (quota) {
			__u64 *used = bpf_map_lookup_elem(&query_used, &producer);
			if (!used) {
				__u64 none = 0;
				bpf_map_update_elem(&query_used, &producer, &none, BPF_NOEXIST);
				used = bpf_map_lookup_elem(&query_used, &producer);
			}
			if (used) {
				if (*used + ctx->size > quota)
					return -ENOMEM;
				__sync_fetch_and_add(used, ctx->size);
			}
		}
	}
	ctx->evict_ahead = 0;
	return BPFDB_HANDLED;
}
