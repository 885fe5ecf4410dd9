/* bpf_loop with a callback: the callback's address is a pseudo-func load,
 * refused. */
#include "bpfdb_test.h"

static int step(__u32 index, void *ctx)
{
	*(__u64 *)ctx += index;
	return 0;
}

SEC("bpfdb/callback")
int uses_callback(void *ctx)
{
	__u64 sum = 0;
	bpf_loop(10, step, &sum, 0);
	return (int)sum;
}
