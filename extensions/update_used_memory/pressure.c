/* update_used_memory/pressure: the built-in accounting (every change into
 * its tag's counter at once) plus a live account of which kind of memory
 * presses on the limit: per tag, the bytes reserved and released since the
 * program was attached, and how many reservations were made while the
 * memory in use stood above a threshold of the limit (90% unless the map
 * config says otherwise). An operator attaches it, without a restart and
 * without changing any decision, to see whether hash tables, sorts or
 * cached table blocks fill the memory before choosing a quota
 * (allocate_new_block/quota) or an eviction policy.
 *
 * Map tags (array, BPFDB_TAG_OTHER+1 entries): key __u32 BPFDB_TAG_*;
 * value struct { __u64 reserved, released, pressed, pressed_bytes; }: bytes
 * reserved and released, reservations made above the threshold and their
 * bytes.
 * Map config (array, 1 entry): key __u32 0; value __u32, the threshold in
 * percent of the limit (0: DEFAULT_THRESHOLD). */
#include "../../ext/include/bpfdb.h"

#define DEFAULT_THRESHOLD 90

struct tag_stats {
	__u64 reserved;
	__u64 released;
	__u64 pressed;
	__u64 pressed_bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BPFDB_TAG_OTHER + 1);
	__type(key, __u32);
	__type(value, struct tag_stats);
} tags SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} config SEC(".maps");

SEC("bpfdb/update_used_memory")
int update_used_memory_pressure(struct bpfdb_update_used_memory_ctx *ctx)
{
	__s64 delta = ctx->delta;
	bpfdb_count_tag(ctx, ctx->tag, delta);

	__u32 tag = ctx->tag;
	struct tag_stats *s = bpf_map_lookup_elem(&tags, &tag);
	if (!s)
		return BPFDB_HANDLED;
	if (delta < 0) {
		__sync_fetch_and_add(&s->released, -delta);
		return BPFDB_HANDLED;
	}
	__sync_fetch_and_add(&s->reserved, delta);
	__u32 zero = 0, threshold = DEFAULT_THRESHOLD;
	__u32 *c = bpf_map_lookup_elem(&config, &zero);
	if (c && *c)
		threshold = *c;
	/* used includes delta; both stay far below 2^57 bytes */
	if (ctx->used * 100 > ctx->limit * threshold) {
		__sync_fetch_and_add(&s->pressed, 1);
		__sync_fetch_and_add(&s->pressed_bytes, delta);
	}
	return BPFDB_HANDLED;
}
