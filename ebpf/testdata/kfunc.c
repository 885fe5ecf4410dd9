/* A call to a kernel function (kfunc): needs the kernel's BTF, refused. */
#include "bpfdb_test.h"

extern void bpf_rcu_read_lock(void) __attribute__((section(".ksyms")));

SEC("bpfdb/kfunc")
int uses_kfunc(void *ctx)
{
	bpf_rcu_read_lock();
	return 0;
}
