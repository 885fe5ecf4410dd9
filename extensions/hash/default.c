/* hash/default: the built-in hash function of internal/exec/hash, bit for
 * bit, as a Hash program. Attaching it changes no result and no hash value:
 * it is the reference the alternatives are measured against, and the proof
 * that the hook sees every key as the engine does.
 *
 * Every type is hashed here, VARCHAR keys up to MAX_STR bytes included; a
 * vector holding a longer string is left to the built-in (BPFDB_BUILTIN),
 * which computes the same function, so the two never disagree.
 *
 * What is constant for a vector (the key type, whether to combine with the
 * previous columns' hash) is decided once, before the row loops: each case
 * has a plain loop of its own. NULL rows and special doubles are rare, so
 * they are branches that are almost never taken. (The verifier widens
 * loops, so branches inside a loop of 2048 rows cost it a few states, not
 * states per row.) */
#include "../../ext/include/bpfdb.h"

#define PRIME1 0x9e3779b97f4a7c15ULL
#define PRIME2 0xc2b2ae3d27d4eb4fULL
#define NULL_HASH 0x5be2a8f1c0d39e47ULL
#define EXP_BITS 0x7ff0000000000000ULL
#define MANT_BITS 0x000fffffffffffffULL
#define GO_NAN 0x7ff8000000000001ULL /* math.NaN()'s bits */
#define MAX_STR 32
#define __always_inline inline __attribute__((always_inline))

/* The splitmix64 finalizer. */
static __always_inline __u64 mix(__u64 x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* The hash of a fixed-width key's 64 bits. */
static __always_inline __u64 key(__u64 x) { return mix(x ^ PRIME2); }

static __always_inline __u64 rotl(__u64 x, int k) { return (x << k) | (x >> (64 - k)); }

static __always_inline __u64 round64(__u64 h, __u64 w) { return rotl(h ^ (w * PRIME2), 31) * PRIME1; }

static __always_inline __u64 combine(__u64 h, __u64 next) { return (rotl(h, 21) * PRIME1) ^ next; }

/* Bytes() of internal/exec/hash over the len <= MAX_STR bytes in w (the
 * bytes past len in w are garbage): with len == 32, two lanes over
 * 16-byte steps folded together; else the whole words, then the
 * zero-padded tail. */
static __always_inline __u64 hash_bytes(const __u64 *w, __u64 len)
{
	__u64 h = PRIME1 ^ len;
	if (len == 32) {
		__u64 g = PRIME2 ^ len;
		h = round64(h, w[0]);
		g = round64(g, w[1]);
		h = round64(h, w[2]);
		g = round64(g, w[3]);
		return mix(round64(h, g));
	}
	__u64 words = len >> 3;
	if (words > 0)
		h = round64(h, w[0]);
	if (words > 1)
		h = round64(h, w[1]);
	if (words > 2)
		h = round64(h, w[2]);
	__u64 tail = len & 7;
	if (tail)
		h = round64(h, w[words & 3] & ((1ULL << (8 * tail)) - 1));
	return mix(h);
}

static __always_inline int hash_strings(struct bpfdb_hash_ctx *ctx, __u64 *hashes, const __u8 *nulls, __u32 n, int comb)
{
	__u64 w[MAX_STR / 8];
	for (__u32 r = 0; r < n; r++) {
		__u64 len = bpfdb_hash_key_bytes(ctx, r, w, sizeof(w));
		if (len > MAX_STR) /* longer, or an error: the built-in does it */
			return BPFDB_BUILTIN;
		__u64 h = NULL_HASH;
		if (!nulls[r])
			h = hash_bytes(w, len);
		hashes[r] = comb ? combine(hashes[r], h) : h;
	}
	return BPFDB_HANDLED;
}

/* DOUBLE keys: -0 as +0, every NaN as Go's math.NaN(). */
static __always_inline __u64 double_key(__u64 x)
{
	if ((x << 1) == 0)
		return key(0);
	if ((x & EXP_BITS) == EXP_BITS && (x & MANT_BITS))
		return key(GO_NAN);
	return key(x);
}

SEC("bpfdb/hash")
int hash_default(struct bpfdb_hash_ctx *ctx)
{
	const __u64 *keys = (const __u64 *)ctx->keys;
	__u64 *hashes = (__u64 *)ctx->hashes;
	const __u8 *nulls = (const __u8 *)ctx->nulls;
	__u32 n = ctx->count;
	int comb = ctx->flags & BPFDB_HASH_COMBINE;
	__u32 type = ctx->type;

	if (type == BPFDB_TYPE_VARCHAR)
		return hash_strings(ctx, hashes, nulls, n, comb);
	if (type == BPFDB_TYPE_DOUBLE) {
		if (comb) {
			for (__u32 r = 0; r < n; r++) {
				__u64 h = nulls[r] ? NULL_HASH : double_key(keys[r]);
				hashes[r] = combine(hashes[r], h);
			}
		} else {
			for (__u32 r = 0; r < n; r++)
				hashes[r] = nulls[r] ? NULL_HASH : double_key(keys[r]);
		}
		return BPFDB_HANDLED;
	}
	/* Integers of every width, dates, decimals, booleans: the host
	 * sign-extended them to 64 bits. */
	if (comb) {
		for (__u32 r = 0; r < n; r++) {
			__u64 h = key(keys[r]);
			if (nulls[r])
				h = NULL_HASH;
			hashes[r] = combine(hashes[r], h);
		}
	} else {
		for (__u32 r = 0; r < n; r++) {
			__u64 h = key(keys[r]);
			if (nulls[r])
				h = NULL_HASH;
			hashes[r] = h;
		}
	}
	return BPFDB_HANDLED;
}
