/* Several programs in one object, sharing bpf-to-bpf functions.
 *
 * prog_chain -> add_twice -> add_one (a call from a callee)
 * prog_mixed -> add_one, mul_add (two callees, one of them also used above)
 * prog_leaf    calls nothing
 */
#include "bpfdb_test.h"

static __noinline __u64 add_one(__u64 x)
{
	return x + 1;
}

static __noinline __u64 add_twice(__u64 x)
{
	return add_one(add_one(x) ^ 0x55);
}

static __noinline __u64 mul_add(__u64 x, __u64 y)
{
	return x * 7 + y;
}

SEC("bpfdb/chain")
__u64 prog_chain(__u64 *ctx)
{
	return add_twice(*ctx) + 3;
}

SEC("bpfdb/mixed")
__u64 prog_mixed(__u64 *ctx)
{
	__u64 a = add_one(ctx[0]);
	return mul_add(a, ctx[1]);
}

SEC("bpfdb/leaf")
__u64 prog_leaf(__u64 *ctx)
{
	return *ctx * 2 + 1;
}
