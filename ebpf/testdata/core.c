/* A CO-RE field access: needs the kernel's BTF to relocate, refused. */
#include "bpfdb_test.h"

struct task {
	int pid;
	int tgid;
} __attribute__((preserve_access_index));

SEC("bpfdb/core")
int uses_core(struct task *t)
{
	return t->tgid;
}
