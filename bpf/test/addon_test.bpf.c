// SPDX-License-Identifier: GPL-2.0-only
/*
 * addon_test.bpf.c - a tiny XDP object that exercises every feature of the
 * native addon (test/bpf/addon.test.ts). Test-only: never shipped, never
 * attached outside the test's own network namespace.
 *
 * What each piece is for:
 *   addon_hash      HASH, 20-byte key: lookup/update/delete/iterate/batch
 *   addon_lru       LRU_HASH: a second hash flavour, reused from a pin
 *   addon_counters  PERCPU_ARRAY with a 12-byte value (8-byte rounding rule)
 *   addon_mmap      ARRAY + BPF_F_MMAPABLE, u32 value (mmap stride is 8)
 *   addon_mmap_big  ARRAY + BPF_F_MMAPABLE, 10 MiB: mmapAsync maps it in
 *                   pieces (native/src/bpf_map.cc kMmapPiece, 4 MiB)
 *   addon_knob      const volatile knob in .rodata: 1 turns PASS into DROP
 *   addon_magic     .data global copied into the packet
 *   addon_runs      .bss global the program bumps
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct addon_key {
	__u32 a;
	__u32 b;
	__u8 tail[12];
};

struct addon_counter {
	__u32 packets;
	__u32 bytes;
	__u32 last_len;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct addon_key);
	__type(value, __u64);
} addon_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} addon_lru SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct addon_counter);
} addon_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u32);
} addon_mmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 10 << 17); /* x 8 bytes = 10 MiB */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} addon_mmap_big SEC(".maps");

const volatile __u32 addon_knob = 0;
volatile __u32 addon_magic = 0x11223344;
volatile __u32 addon_runs;

/* Minimum packet the test program accepts, bytes */
#define ADDON_MIN_LEN 16

/*
 * Marks the packet so data_out can be checked byte by byte:
 *   [0] 0xa5, [1] addon_mmap[0] low byte, [4..7] ingress_ifindex,
 *   [8..11] rx_queue_index, [12..15] addon_magic (host order).
 */
SEC("xdp")
int addon_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *p = data;
	struct addon_counter *c;
	__u32 zero = 0, v;
	__u32 *m;

	if ((void *)(p + ADDON_MIN_LEN) > data_end)
		return XDP_ABORTED;

	c = bpf_map_lookup_elem(&addon_counters, &zero);
	if (c) {
		c->packets++;
		c->bytes += (__u32)(data_end - data);
		c->last_len = (__u32)(data_end - data);
	}
	addon_runs++;

	p[0] = 0xa5;
	m = bpf_map_lookup_elem(&addon_mmap, &zero);
	p[1] = m ? (__u8)*m : 0;
	v = ctx->ingress_ifindex;
	__builtin_memcpy(p + 4, &v, sizeof(v));
	v = ctx->rx_queue_index;
	__builtin_memcpy(p + 8, &v, sizeof(v));
	v = addon_magic;
	__builtin_memcpy(p + 12, &v, sizeof(v));

	return addon_knob == 1 ? XDP_DROP : XDP_PASS;
}

/* A second program, for bpf_link_update: drops everything. */
SEC("xdp")
int addon_xdp_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

/* Bytes addon_grow prepends, like an outer header would be */
#define ADDON_GROW 20

/* Prepends ADDON_GROW bytes of 0xee: data_out must be larger than data_in. */
SEC("xdp")
int addon_grow(struct xdp_md *ctx)
{
	void *data, *data_end;
	__u8 *p;

	if (bpf_xdp_adjust_head(ctx, -ADDON_GROW))
		return XDP_ABORTED;
	/* adjust_head invalidates every packet pointer: re-derive them */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	p = data;
	if ((void *)(p + ADDON_GROW) > data_end)
		return XDP_ABORTED;
	__builtin_memset(p, 0xee, ADDON_GROW);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
