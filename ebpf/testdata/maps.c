/* BTF-defined maps of every supported type, and a legacy SEC("maps") map. */
#include "bpfdb_test.h"

struct counter {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__type(key, __u32);
	__type(value, struct counter);
} by_id SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1000);
	__type(key, __u64);
	__type(value, __u32);
} recent SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 24);
} scratch SEC(".maps");

struct bpf_map_def SEC("maps") legacy = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 64,
};

SEC("bpfdb/count")
int count(__u32 *ctx)
{
	__u32 id = *ctx;
	struct counter *c = bpf_map_lookup_elem(&by_id, &id);
	if (!c) {
		struct counter zero = {1, 0};
		bpf_map_update_elem(&by_id, &id, &zero, 0);
		return 0;
	}
	c->packets++;

	__u32 slot = id & 15;
	__u64 *s = bpf_map_lookup_elem(&slots, &slot);
	if (s)
		*s += 1;

	__u64 key = id;
	__u32 seen = 1;
	bpf_map_update_elem(&recent, &key, &seen, 0);
	return 1;
}

SEC("bpfdb/legacy")
int use_legacy(__u32 *ctx)
{
	__u32 key = *ctx;
	__u64 *v = bpf_map_lookup_elem(&legacy, &key);
	if (!v)
		return 0;
	__u32 zero = 0;
	__u8 *p = bpf_map_lookup_elem(&scratch, &zero);
	if (p)
		p[3] = 7;
	return (int)*v;
}
