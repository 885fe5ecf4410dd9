/* A map pinned by name: pinning is a kernel file system feature, refused. */
#include "bpfdb_test.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, 1); /* LIBBPF_PIN_BY_NAME */
} shared SEC(".maps");

SEC("bpfdb/pinned")
int uses_pinned(void *ctx)
{
	__u32 k = 0;
	return bpf_map_lookup_elem(&shared, &k) != 0;
}
