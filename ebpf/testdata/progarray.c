/* A program array for tail calls: not a map type bpfdb implements, refused. */
#include "bpfdb_test.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} jumps SEC(".maps");

SEC("bpfdb/progarray")
int uses_tail_call(void *ctx)
{
	bpf_tail_call(ctx, &jumps, 0);
	return 0;
}
