/* hash/default: the built-in hash function of internal/exec/hash, bit for
 * bit, as a Hash program. Attaching it changes no result and no hash value:
 * it is the reference the alternatives are measured against, and the proof
 * that the hook sees every key as the engine does.
 *
 * Every type is hashed here, VARCHAR keys up to MAX_STR bytes included; a
 * vector holding a longer string is left to the built-in (BPFDB_BUILTIN),
 * which computes the same function, so the two never disagree. */
#include "../../ext/include/bpfdb.h"

#define PRIME1 0x9e3779b97f4a7c15ULL
#define PRIME2 0xc2b2ae3d27d4eb4fULL
#define NULL_HASH 0x5be2a8f1c0d39e47ULL
#define MAX_STR 32
#define __always_inline inline __attribute__((always_inline))

static __always_inline __u64 mix(__u64 x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static __always_inline __u64 rotl(__u64 x, int k) { return (x << k) | (x >> (64 - k)); }

static __always_inline __u64 round64(__u64 h, __u64 w) { return rotl(h ^ (w * PRIME2), 31) * PRIME1; }

static __always_inline __u64 combine(__u64 h, __u64 next) { return (rotl(h, 21) * PRIME1) ^ next; }

/* opaque hides x's value from the compiler, which would otherwise turn
 * the arithmetic selections below back into branches. */
#define opaque(x) asm volatile("" : "+r"(x))

/* sel returns a if cond is 1, b if it is 0: the rounds below are chosen
 * without branches, so that the verifier walks one path per row. */
static __always_inline __u64 sel(__u64 cond, __u64 a, __u64 b)
{
	__u64 m = -cond;
	opaque(m);
	return (a & m) | (b & ~m);
}

/* lt is 1 if a < b, for a, b < 2^32. */
static __always_inline __u64 lt(__u64 a, __u64 b)
{
	__u64 d = a - b;
	opaque(d);
	return d >> 63;
}

/* Bytes() of internal/exec/hash over w, len <= MAX_STR bytes zero-padded
 * to whole words: with len >= 32, two lanes over 16-byte steps folded
 * together; then the remaining whole words; then the zero-padded tail. */
static __always_inline __u64 hash_bytes(const __u64 *w, __u64 len)
{
	__u64 h = PRIME1 ^ len, g = PRIME2 ^ len;
	__u64 lanes = 1 - lt(len, 32);
#pragma unroll
	for (int p = 0; p < MAX_STR / 16; p++) {
		__u64 on = lanes & (1 - lt(len, 16 * p + 16));
		h = sel(on, round64(h, w[2 * p]), h);
		g = sel(on, round64(g, w[2 * p + 1]), g);
	}
	h = sel(lanes, round64(h, g), h);
	__u64 first = sel(lanes, (len >> 4) << 1, 0); /* words the lanes took */
#pragma unroll
	for (int j = 0; j < MAX_STR / 8; j++) {
		__u64 on = (1 - lt(j, first)) & (1 - lt(len, 8 * j + 8));
		h = sel(on, round64(h, w[j]), h);
	}
	__u64 tail = w[(len >> 3) & (MAX_STR / 8 - 1)];
	h = sel(lt(0, len & 7), round64(h, tail), h);
	return mix(h);
}

/* nz is 1 if x != 0, without a branch (BPF has no set-on-condition). */
static __always_inline __u64 nz(__u64 x)
{
	__u64 y = x | -x;
	opaque(y);
	return y >> 63;
}

/* The loops below are free of branches but their own: the verifier walks
 * a loop of up to 2048 rows one iteration at a time, so a branch inside
 * would multiply the states it stores. */
SEC("bpfdb/hash")
int hash_default(struct bpfdb_hash_ctx *ctx)
{
	__u64 *keys = (__u64 *)ctx->keys;
	__u64 *hashes = (__u64 *)ctx->hashes;
	__u8 *nulls = (__u8 *)ctx->nulls;
	__u32 n = ctx->count;
	__u64 comb = ctx->flags & BPFDB_HASH_COMBINE;

	if (ctx->type == BPFDB_TYPE_VARCHAR) {
		__u64 w[MAX_STR / 8];
		for (__u32 r = 0; r < n; r++) {
#pragma unroll
			for (int k = 0; k < MAX_STR / 8; k++)
				w[k] = 0;
			__u64 len = bpfdb_hash_key_bytes(ctx, r, w, sizeof(w));
			if (len > MAX_STR) /* longer, or an error: the built-in does it */
				return BPFDB_BUILTIN;
			__u64 h = sel(nulls[r], NULL_HASH, hash_bytes(w, len));
			hashes[r] = sel(comb, combine(hashes[r], h), h);
		}
		return BPFDB_HANDLED;
	}
	__u64 dbl = 1 - nz(ctx->type ^ BPFDB_TYPE_DOUBLE);
	for (__u32 r = 0; r < n; r++) {
		__u64 x = keys[r];
		/* DOUBLE: -0 as +0, every NaN as Go's math.NaN() */
		__u64 zero = dbl & (1 - nz(x << 1));
		__u64 nan = dbl & (1 - nz((x & 0x7ff0000000000000ULL) ^ 0x7ff0000000000000ULL)) & nz(x & 0xfffffffffffffULL);
		x = sel(zero, 0, x);
		x = sel(nan, 0x7ff8000000000001ULL, x);
		__u64 h = sel(nulls[r], NULL_HASH, mix(x ^ PRIME2));
		hashes[r] = sel(comb, combine(hashes[r], h), h);
	}
	return BPFDB_HANDLED;
}
