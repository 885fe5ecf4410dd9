/* unpin/scan_resistant: scan-resistant eviction. The built-in policy is LRU
 * by last unpin, so a scan larger than the memory limit pushes out
 * everything else, including the small hot working set (dimension
 * tables, the blocks an interactive query reads again and again), which
 * then has to be read back after every scan. An operator attaches this
 * policy when a batch scan shares the memory limit with interactive
 * queries over a hot set.
 *
 * It counts uses, not pins, in the manner of LRU-K's correlated reference
 * period: a scan pins each block once per vector it reads, many times in
 * a burst of microseconds, and that burst is one use. A block unpinned
 * again while it is still in memory (its loads count unchanged since its
 * last unpin) after a pause longer than the period (map config, default
 * 1 ms) was used twice: it is hot, and for the rest of its stay in memory
 * enters BPFDB_QUEUE_LOW, evicted only after the built-in queues. Every
 * other block enters the queue the built-in chose. A scan then evicts its
 * own blocks, used once each, before the hot set. A hot block that is
 * evicted all the same (the built-in queues were empty) starts over when
 * it is read again, so the hot set can change.
 *
 * Map seen (LRU hash, the last SEEN_BLOCKS blocks unpinned): key __u64,
 * the block number with bit 63 set for a temporary buffer; value struct
 * state below. Map config (array of 1): key __u32 0; value __u64, the
 * correlated reference period in nanoseconds (0: the default). */
#include "../../ext/include/bpfdb.h"

#define SEEN_BLOCKS 65536
#define DEFAULT_PERIOD_NS 1000000ULL

struct state {
	__u64 last;  /* time of its last unpin, ns */
	__u32 loads; /* its loads count then */
	__u32 hot;   /* used again in memory after a pause: stays in the low queue */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SEEN_BLOCKS);
	__type(key, __u64);
	__type(value, struct state);
} seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} config SEC(".maps");

SEC("bpfdb/unpin")
int unpin_scan_resistant(struct bpfdb_unpin_ctx *ctx)
{
	__u32 zero = 0;
	__u64 *cfg = bpf_map_lookup_elem(&config, &zero);
	__u64 period = cfg && *cfg ? *cfg : DEFAULT_PERIOD_NS;
	__u64 now = bpf_ktime_get_ns();
	__u64 key = ctx->block | ((__u64)ctx->temporary << 63);
	struct state *s = bpf_map_lookup_elem(&seen, &key);
	if (!s || s->loads != ctx->loads) {
		/* first use in this stay in memory */
		struct state n = {.last = now, .loads = ctx->loads};
		bpf_map_update_elem(&seen, &key, &n, BPF_ANY);
		return BPFDB_BUILTIN;
	}
	if (now - s->last > period)
		s->hot = 1;
	s->last = now;
	if (!s->hot)
		return BPFDB_BUILTIN;
	ctx->queue = BPFDB_QUEUE_LOW;
	return BPFDB_HANDLED;
}
