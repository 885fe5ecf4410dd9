/* unpin/scan_resistant: scan-resistant eviction. The built-in policy is LRU
 * by last unpin, so a scan larger than the memory limit pushes out
 * everything else, including the small hot working set (dimension
 * tables, the blocks an interactive query reads again and again), which
 * then has to be read back after every scan. An operator attaches this
 * policy when a batch scan shares the memory limit with interactive
 * queries over a hot set.
 *
 * Two signals, both per stay of a block in memory (its loads count tells
 * a new stay from the same one):
 *
 * - Scans. A block read from the database file joins the run of nearby
 *   block numbers read recently (up to STREAMS runs at once, blocks within
 *   NEAR of a run's highest); a run of config.run blocks or more (default
 *   16) is a scan, and its blocks stay in the queue the built-in chose,
 *   evicted first.
 * - Uses, not pins. A scan pins a block once per vector it reads, many
 *   times in a burst, and that burst is one use (LRU-K's correlated
 *   reference period). A block unpinned again in memory after a pause
 *   longer than config.period (default 1 ms) was used twice: it is hot
 *   and, for the rest of its stay, enters BPFDB_QUEUE_LOW, evicted only
 *   after the built-in queues. A block of a scan never becomes hot, so a
 *   pause inside a scan (the machine is busy) does not promote it.
 *
 * A hot block that is evicted all the same (the built-in queues were
 * empty) starts over when it is read again, so the hot set can change.
 *
 * Map seen (LRU hash, the last SEEN_BLOCKS blocks unpinned): key __u64,
 * the block number with bit 63 set for a temporary buffer; value struct
 * state. Map streams (array of STREAMS): the runs, struct stream. Map
 * config (array of 1): key __u32 0; value struct config (0 fields: the
 * defaults). */
#include "../../ext/include/bpfdb.h"

#define SEEN_BLOCKS 16384 /* 4 GiB of 256 KiB blocks */
#define DEFAULT_PERIOD_NS 1000000ULL
#define DEFAULT_RUN 16
#define STREAMS 8
#define NEAR 16
#define inline_ inline __attribute__((always_inline))

struct state {
	__u64 last;   /* time of its last unpin, ns */
	__u64 gen;    /* generation of its run's slot when it joined */
	__u32 loads;  /* its loads count then */
	__u32 stream; /* its run's slot in streams */
	__u32 hot;    /* used again in memory after a pause */
	__u32 scan;   /* loaded as part of a long run of nearby blocks */
};

struct stream {
	__u64 last; /* highest block number loaded in the run */
	__u64 len;  /* blocks loaded in the run */
	__u64 used; /* time of its last load, to replace the oldest */
	__u64 gen;  /* bumped when the slot starts a new run */
};

struct config {
	__u64 period; /* correlated reference period, ns (0: 1 ms) */
	__u64 run;    /* blocks in a run that make it a scan (0: 16) */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SEEN_BLOCKS);
	__type(key, __u64);
	__type(value, struct state);
} seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, STREAMS);
	__type(key, __u32);
	__type(value, struct stream);
} streams SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct config);
} config SEC(".maps");

/* join adds a block just loaded to the run of nearby loads it continues,
 * or starts a run in the slot used least recently. */
static inline_ void join(struct state *st, __u64 block, __u64 now)
{
	__u32 oldest = 0;
	__u64 oldest_used = ~0ULL;
/* not unrolled: the verifier widens the loop */
	for (__u32 i = 0; i < STREAMS; i++) {
		__u32 k = i;
		struct stream *s = bpf_map_lookup_elem(&streams, &k);
		if (!s)
			return;
		if (s->len && block + NEAR >= s->last && block <= s->last + NEAR) {
			if (block > s->last)
				s->last = block;
			s->len++;
			s->used = now;
			st->stream = i;
			st->gen = s->gen;
			return;
		}
		if (s->used < oldest_used) {
			oldest_used = s->used;
			oldest = i;
		}
	}
	struct stream *s = bpf_map_lookup_elem(&streams, &oldest);
	if (s) {
		s->gen++;
		s->last = block;
		s->len = 1;
		s->used = now;
		st->stream = oldest;
		st->gen = s->gen;
	}
}

SEC("bpfdb/unpin")
int unpin_scan_resistant(struct bpfdb_unpin_ctx *ctx)
{
	__u32 zero = 0;
	struct config *cfg = bpf_map_lookup_elem(&config, &zero);
	__u64 period = cfg && cfg->period ? cfg->period : DEFAULT_PERIOD_NS;
	__u64 run = cfg && cfg->run ? cfg->run : DEFAULT_RUN;
	__u64 now = bpf_ktime_get_ns();
	__u64 key = ctx->block | ((__u64)ctx->temporary << 63);
	struct state *st = bpf_map_lookup_elem(&seen, &key);
	if (!st || st->loads != ctx->loads) {
		/* first use in this stay in memory */
		struct state n = {.last = now, .loads = ctx->loads, .stream = STREAMS};
		if (ctx->loads && !ctx->temporary)
			join(&n, ctx->block, now);
		bpf_map_update_elem(&seen, &key, &n, BPF_ANY);
		return BPFDB_BUILTIN;
	}
	if (!st->hot && !st->scan && st->stream < STREAMS) {
		__u32 k = st->stream;
		struct stream *s = bpf_map_lookup_elem(&streams, &k);
		if (s && s->gen == st->gen && s->len >= run)
			st->scan = 1;
	}
	if (!st->scan && now - st->last > period)
		st->hot = 1;
	st->last = now;
	if (!st->hot)
		return BPFDB_BUILTIN;
	ctx->queue = BPFDB_QUEUE_LOW;
	return BPFDB_HANDLED;
}
