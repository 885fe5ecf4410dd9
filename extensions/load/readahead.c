/* load/readahead: sequential readahead on the miss path. A scan that reads
 * a table's blocks in order waits for each one when the built-in reads on
 * demand; this policy reads the missed block now and, once a worker's
 * misses look sequential (this block follows its previous miss, or falls
 * in or just after the window it read ahead), starts background reads of
 * the next blocks, so the scan finds them in memory. Random access reads
 * nothing more. An operator attaches it for cold scans on slow storage, and
 * detaches it when memory is tight (readahead spends memory on blocks that
 * may not be read).
 *
 * Streams are tracked per worker (calls from outside the workers, and all
 * calls while the host does not say which worker pins, share one slot).
 * Spilled temporary buffers are only read. Readaheads never evict pinned
 * blocks or pass the memory limit (the host refuses them instead).
 *
 * Map config (array, 1 entry): key __u32 0; value __u32, blocks to read
 * ahead (0: DEFAULT_WINDOW; at most MAX_WINDOW).
 * Map streams (array, STREAMS entries): per worker, the last block missed
 * and the window read ahead [lo, hi). */
#include "../../ext/include/bpfdb.h"

#define STREAMS 64
#define EALREADY 114
#define EBUSY 16
#define DEFAULT_WINDOW 8
#define MAX_WINDOW 32

struct stream {
	__u64 last;
	__u64 lo, hi;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, STREAMS);
	__type(key, __u32);
	__type(value, struct stream);
} streams SEC(".maps");

SEC("bpfdb/load")
int load_readahead(struct bpfdb_load_ctx *ctx)
{
	long err = bpfdb_read_block(ctx);
	if (err < 0) /* a negative errno; anything else is an I/O error */
		return err >= -4095 ? err : -5;
	if (ctx->temporary)
		return BPFDB_HANDLED;

	__u32 slot = ctx->worker;
	if (slot >= STREAMS)
		slot = STREAMS - 1;
	struct stream *s = bpf_map_lookup_elem(&streams, &slot);
	if (!s)
		return BPFDB_HANDLED;
	__u64 b = ctx->block;
	int sequential = b == s->last + 1 || (b >= s->lo && b <= s->hi);
	s->last = b;
	if (!sequential) {
		s->lo = s->hi = 0;
		return BPFDB_HANDLED;
	}

	__u32 zero = 0, window = DEFAULT_WINDOW;
	__u32 *w = bpf_map_lookup_elem(&config, &zero);
	if (w && *w)
		window = *w;
	if (window > MAX_WINDOW)
		window = MAX_WINDOW;
	__u64 end = b + 1;
	for (__u32 i = 1; i <= MAX_WINDOW; i++) {
		if (i > window)
			break;
		/* A block in memory or being read counts as read ahead; past
		 * the last block (-EINVAL) or out of memory, stop. */
		long r = bpfdb_read_ahead(ctx, b + i);
		if (r < 0 && r != -EALREADY && r != -EBUSY)
			break;
		end = b + i + 1;
	}
	s->lo = b + 1;
	s->hi = end;
	return BPFDB_HANDLED;
}
