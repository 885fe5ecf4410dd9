/* load/default: the built-in miss path of a pin: read the block now, from
 * the database file or, for a spilled temporary buffer, from the temporary
 * file, verifying its checksum. A failed read is returned as the program's
 * error, so the pin fails as it does without a program. Attaching it
 * changes nothing; it is the reference for readahead and buffer reuse. */
#include "../../ext/include/bpfdb.h"

SEC("bpfdb/load")
int load_default(struct bpfdb_load_ctx *ctx)
{
	long err = bpfdb_read_block(ctx);
	if (err < 0) /* a negative errno; anything else is an I/O error */
		return err >= -4095 ? err : -5;
	return BPFDB_HANDLED;
}
