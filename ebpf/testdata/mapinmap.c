/* An array of maps: maps in maps are refused. */
#include "bpfdb_test.h"

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps");

SEC("bpfdb/mapinmap")
int uses_map_in_map(void *ctx)
{
	__u32 key = 0;
	void *inner = bpf_map_lookup_elem(&outer, &key);
	return inner != 0;
}
