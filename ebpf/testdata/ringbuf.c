/* A ring buffer map: not a map type bpfdb implements, refused. */
#include "bpfdb_test.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

SEC("bpfdb/ringbuf")
int uses_ringbuf(void *ctx)
{
	__u64 v = 1;
	bpf_ringbuf_output(&events, &v, sizeof(v), 0);
	return 0;
}
