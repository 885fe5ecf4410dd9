/* Globals in .data, .rodata and .bss, reached through direct value loads. */
#include "bpfdb_test.h"

__u64 hits = 0;                          /* .bss */
__u64 pad_bss[3];                        /* .bss, after hits */
__u64 seed = 0x1122334455667788ULL;      /* .data */
__u32 limits[4] = {10, 20, 30, 40};      /* .data, after seed */
const volatile __u32 scale = 3;          /* .rodata */
const volatile __u64 table[3] = {5, 6, 7}; /* .rodata, after scale */
static __u64 private_total = 42;         /* .data, static: section-relative */

SEC("bpfdb/globals")
__u64 globals(__u32 *ctx)
{
	__u32 i = *ctx & 3;
	hits++;
	pad_bss[2] = hits;
	private_total += limits[i];
	return seed + scale * table[2] + limits[2] + private_total;
}
