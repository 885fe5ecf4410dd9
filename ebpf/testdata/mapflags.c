/* A map that programs may only write (BPF_F_WRONLY_PROG): a flag bpfdb does
 * not enforce, refused. */
#include "bpfdb_test.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(map_flags, 1 << 8);
} sink SEC(".maps");

SEC("bpfdb/mapflags")
int uses_sink(void *ctx)
{
	__u32 k = 0;
	__u64 v = 1;
	return bpf_map_update_elem(&sink, &k, &v, 0);
}
