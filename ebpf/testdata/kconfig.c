/* An extern __kconfig variable: needs the kernel's configuration, refused. */
#include "bpfdb_test.h"

extern unsigned int LINUX_KERNEL_VERSION __attribute__((section(".kconfig")));

SEC("bpfdb/kconfig")
int uses_kconfig(void *ctx)
{
	return LINUX_KERNEL_VERSION > 0;
}
