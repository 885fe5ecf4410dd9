/* hash/default: the built-in hash function of internal/exec/hash, bit for
 * bit, as a Hash program. Attaching it changes no result and no hash value:
 * it is the reference the alternatives are measured against, and the proof
 * that the hook sees every key as the engine does.
 *
 * Every type is hashed here, VARCHAR keys up to MAX_STR bytes included
 * (read from the prefixes region, no helper call per row); a vector
 * holding a longer string is left to the built-in (BPFDB_BUILTIN), which
 * computes the same function, so the two never disagree.
 *
 * What is constant for a vector is decided once, before the row loops:
 * the key type, and for integer keys (the common ones) whether to combine
 * with the previous columns' hash, each case with a plain loop of its own.
 * Inside a loop, NULLs, the combine flag of DOUBLE and VARCHAR keys and
 * special doubles are selected without branches: the verifier stores a
 * state at every join (and a few branches per loop cost attaching the
 * program as much as the loops' bodies), and a NULL pattern cannot be
 * mispredicted. Only the string hash branches on the key's length, whose
 * cases differ by whole rounds. */
#include "../../ext/include/bpfdb.h"

#define PRIME1 0x9e3779b97f4a7c15ULL
#define PRIME2 0xc2b2ae3d27d4eb4fULL
#define NULL_HASH 0x5be2a8f1c0d39e47ULL
#define EXP_BITS 0x7ff0000000000000ULL
#define MANT_BITS 0x000fffffffffffffULL
#define GO_NAN 0x7ff8000000000001ULL /* math.NaN()'s bits */
#define MAX_STR BPFDB_HASH_PREFIX
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

/* opaque hides x's value from the compiler, which would otherwise turn
 * the arithmetic selections below back into branches. */
#define opaque(x) asm volatile("" : "+r"(x))

/* sel returns a if cond is 1, b if it is 0, without a branch. */
static __always_inline __u64 sel(__u64 cond, __u64 a, __u64 b)
{
	__u64 m = -cond;
	opaque(m);
	return (a & m) | (b & ~m);
}

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

/* VARCHAR keys: each one's bytes are the first ones of its slot in
 * prefixes (BPFDB_HASH_PREFIX = MAX_STR bytes, zero-padded), its length
 * in keys. */
static __always_inline int hash_strings(const __u64 *keys, const __u64 *prefixes, __u64 *hashes, const __u8 *nulls, __u32 n, __u64 comb)
{
	for (__u32 r = 0; r < n; r++) {
		__u64 len = keys[r];
		if (len > MAX_STR) /* longer: the built-in does the vector */
			return BPFDB_BUILTIN;
		__u64 h = sel(nulls[r], NULL_HASH, hash_bytes(prefixes + r * (MAX_STR / 8), len));
		hashes[r] = sel(comb, combine(hashes[r], h), h);
	}
	return BPFDB_HANDLED;
}

/* nz is 1 if x != 0, without a branch (BPF has no set-on-condition). */
static __always_inline __u64 nz(__u64 x)
{
	__u64 y = x | -x;
	opaque(y);
	return y >> 63;
}

/* DOUBLE keys' bits as the built-in hashes them: -0 as +0, every NaN as
 * Go's math.NaN(). */
static __always_inline __u64 double_bits(__u64 x)
{
	__u64 zero = 1 - nz(x << 1);
	__u64 nan = (1 - nz((x & EXP_BITS) ^ EXP_BITS)) & nz(x & MANT_BITS);
	x = sel(zero, 0, x);
	return sel(nan, GO_NAN, x);
}

SEC("bpfdb/hash")
int hash_default(struct bpfdb_hash_ctx *ctx)
{
	const __u64 *keys = (const __u64 *)ctx->keys;
	__u64 *hashes = (__u64 *)ctx->hashes;
	const __u8 *nulls = (const __u8 *)ctx->nulls;
	__u32 n = ctx->count;
	__u64 comb = ctx->flags & BPFDB_HASH_COMBINE;
	__u32 type = ctx->type;

	if (type == BPFDB_TYPE_VARCHAR)
		return hash_strings(keys, (const __u64 *)ctx->prefixes, hashes, nulls, n, comb);
	if (type == BPFDB_TYPE_DOUBLE) {
		for (__u32 r = 0; r < n; r++) {
			__u64 h = sel(nulls[r], NULL_HASH, key(double_bits(keys[r])));
			hashes[r] = sel(comb, combine(hashes[r], h), h);
		}
		return BPFDB_HANDLED;
	}
	/* Integers of every width, dates, decimals, booleans: the host
	 * sign-extended them to 64 bits. The most common keys: one loop per
	 * value of the combine flag. */
	if (comb) {
		for (__u32 r = 0; r < n; r++)
			hashes[r] = combine(hashes[r], sel(nulls[r], NULL_HASH, key(keys[r])));
	} else {
		for (__u32 r = 0; r < n; r++)
			hashes[r] = sel(nulls[r], NULL_HASH, key(keys[r]));
	}
	return BPFDB_HANDLED;
}
