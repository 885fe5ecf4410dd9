/* hash/multiply: a cheaper hash for join, aggregate and partition keys: one
 * multiplication by the golden-ratio constant and one xor-shift per key
 * (the built-in runs a full 64-bit finalizer: two multiplications, three
 * xor-shifts). An operator wants it when keys are already well spread
 * (surrogate keys, dense integers) and hashing shows up in profiles; it
 * trades some avalanche for speed. Results never change: operators compare
 * keys whenever hashes match.
 *
 * A VARCHAR key hashes its length and its first MAX_STR bytes, so every
 * string is hashed here (a program that hashed some vectors itself and left
 * others to the built-in would give equal keys different hashes); strings
 * that share those bytes and their length collide, which costs key
 * comparisons, never correctness. Doubles are normalized as the built-in
 * does (-0 as +0, every NaN alike), because SQL calls them equal. */
#include "../../ext/include/bpfdb.h"

#define GOLDEN 0x9e3779b97f4a7c15ULL
#define NULL_HASH 0x5be2a8f1c0d39e47ULL
#define MAX_STR BPFDB_HASH_PREFIX
#define __always_inline inline __attribute__((always_inline))

/* opaque hides x's value from the compiler, which would otherwise turn the
 * arithmetic selections below back into branches (the verifier walks a
 * loop of up to 2048 rows one iteration at a time: branches inside would
 * multiply the states it stores). */
#define opaque(x) asm volatile("" : "+r"(x))

static __always_inline __u64 sel(__u64 cond, __u64 a, __u64 b)
{
	__u64 m = -cond;
	opaque(m);
	return (a & m) | (b & ~m);
}

static __always_inline __u64 nz(__u64 x)
{
	__u64 y = x | -x;
	opaque(y);
	return y >> 63;
}

static __always_inline __u64 fib(__u64 x)
{
	x *= GOLDEN;
	return x ^ (x >> 32);
}

static __always_inline __u64 combine(__u64 h, __u64 next) { return ((h << 21) | (h >> 43)) * GOLDEN ^ next; }

SEC("bpfdb/hash")
int hash_multiply(struct bpfdb_hash_ctx *ctx)
{
	__u64 *keys = (__u64 *)ctx->keys;
	__u64 *hashes = (__u64 *)ctx->hashes;
	__u8 *nulls = (__u8 *)ctx->nulls;
	__u32 n = ctx->count;
	__u64 comb = ctx->flags & BPFDB_HASH_COMBINE;

	if (ctx->type == BPFDB_TYPE_VARCHAR) {
		/* The key's first MAX_STR bytes, zero-padded, are its slot in
		 * prefixes; its length is keys[r]. */
		const __u64 *prefixes = (const __u64 *)ctx->prefixes;
		for (__u32 r = 0; r < n; r++) {
			const __u64 *w = prefixes + r * (MAX_STR / 8);
			__u64 h = fib(keys[r]);
#pragma unroll
			for (int k = 0; k < MAX_STR / 8; k++)
				h = fib(h ^ w[k]);
			h = sel(nulls[r], NULL_HASH, h);
			hashes[r] = sel(comb, combine(hashes[r], h), h);
		}
		return BPFDB_HANDLED;
	}
	__u64 dbl = 1 - nz(ctx->type ^ BPFDB_TYPE_DOUBLE);
	for (__u32 r = 0; r < n; r++) {
		__u64 x = keys[r];
		__u64 zero = dbl & (1 - nz(x << 1));
		__u64 nan = dbl & (1 - nz((x & 0x7ff0000000000000ULL) ^ 0x7ff0000000000000ULL)) & nz(x & 0xfffffffffffffULL);
		x = sel(zero, 0, x);
		x = sel(nan, 0x7ff8000000000001ULL, x);
		__u64 h = sel(nulls[r], NULL_HASH, fib(x));
		hashes[r] = sel(comb, combine(hashes[r], h), h);
	}
	return BPFDB_HANDLED;
}
