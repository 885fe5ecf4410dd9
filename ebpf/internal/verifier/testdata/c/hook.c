/* Programs for the verifier's hook-like test type (see hookType in
 * ../../cases_test.go). A function named ok_* must verify; bad_<code>_*
 * must be rejected with that code. */

typedef unsigned char __u8;
typedef unsigned int __u32;
typedef unsigned long long __u64;

#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *)2;
static long (*bpf_trace_printk)(const char *fmt, __u32 fmt_size, ...) = (void *)6;

/* The context: two region pointers, a read-only count, writable flags and
 * result. */
struct ctx {
	const __u8 *keys; /* 64 bytes, read-only */
	__u8 *out;        /* 64 bytes, writable */
	__u32 count;
	__u32 flags;
	__u64 result;
};

struct {
	__uint(type, 1); /* hash */
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("hook")
int ok_loop_over_region(struct ctx *c)
{
	__u64 sum = 0;
	for (int i = 0; i < 64; i++) {
		sum += c->keys[i];
		c->out[i] = c->keys[63 - i];
	}
	c->result = sum;
	return 0;
}

SEC("hook")
int ok_masked_index(struct ctx *c)
{
	c->result = c->keys[c->count & 63];
	return 1;
}

SEC("hook")
int bad_out_of_bounds_index(struct ctx *c)
{
	c->result = c->keys[c->count & 127];
	return 1;
}

SEC("hook")
int ok_map_counter(struct ctx *c)
{
	__u32 key = c->count & 15;
	__u64 *v = bpf_map_lookup_elem(&counts, &key);
	if (!v) {
		__u64 one = 1;
		bpf_map_update_elem(&counts, &key, &one, 0);
		return 0;
	}
	__sync_fetch_and_add(v, 1);
	return 0;
}

SEC("hook")
int bad_null_pointer_no_check(struct ctx *c)
{
	__u32 key = c->count;
	__u64 *v = bpf_map_lookup_elem(&counts, &key);
	*v += 1;
	return 0;
}

SEC("hook")
int bad_read_only_ctx_write(struct ctx *c)
{
	c->count = 5;
	return 0;
}

SEC("hook")
int ok_ctx_write(struct ctx *c)
{
	c->flags = c->count | 1;
	return 1;
}

SEC("hook")
int bad_uninit_stack_printk(struct ctx *c)
{
	char buf[16];
	buf[0] = 'x';
	bpf_trace_printk(buf, sizeof buf);
	return 0;
}

SEC("hook")
int ok_printk(struct ctx *c)
{
	char fmt[] = "count %u";
	bpf_trace_printk(fmt, sizeof fmt, c->count, 0, 0); /* the prototype takes 3 scalars */
	return 0;
}

/* count has no declared bound: the loop's termination is not proven, the
 * run-time instruction budget ends it (the verifier widens the loop). */
SEC("hook")
int ok_loop_to_unbounded_count(struct ctx *c)
{
	__u64 s = 0;
	for (__u32 i = 0; i < c->count; i++)
		s += i * i;
	c->result = s;
	return 0;
}

SEC("hook")
int ok_bounded_unknown_loop(struct ctx *c)
{
	__u64 s = 0;
	__u32 n = c->count;
	if (n > 32)
		n = 32;
	for (__u32 i = 0; i < n; i++)
		s += c->keys[i];
	c->result = s;
	return 0;
}

SEC("hook")
int bad_pointer_leak_ctx(struct ctx *c)
{
	c->result = (__u64)c->keys;
	return 0;
}

SEC("hook")
int bad_pointer_leak_map(struct ctx *c)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&counts, &key);
	if (v)
		*v = (__u64)v;
	return 0;
}

SEC("hook")
int bad_return_out_of_range(struct ctx *c)
{
	return c->count;
}

struct table {
	__u64 slot[4];
};

struct {
	__uint(type, 2); /* array */
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, struct table);
} tables SEC(".maps");

SEC("hook")
int ok_map_value_array(struct ctx *c)
{
	__u32 key = c->count & 7;
	struct table *t = bpf_map_lookup_elem(&tables, &key);
	if (!t)
		return 0;
	__u64 s = 0;
	for (int i = 0; i < 4; i++)
		s += t->slot[i];
	t->slot[c->flags & 3] = s;
	return 0;
}

SEC("hook")
int ok_stack_array(struct ctx *c)
{
	__u8 buf[16];
	for (int i = 0; i < 16; i++)
		buf[i] = c->keys[i];
	c->result = buf[c->count & 15];
	return 0;
}

static __attribute__((noinline)) __u64 sum(const __u8 *p, __u32 n)
{
	__u64 s = 0;
	for (__u32 i = 0; i < n && i < 16; i++)
		s += p[i];
	return s;
}

SEC("hook")
int ok_subprogram(struct ctx *c)
{
	__u8 buf[16];
	for (int i = 0; i < 16; i++)
		buf[i] = c->keys[i + 16];
	c->result = sum(buf, 16);
	return 0;
}
