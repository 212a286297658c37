// SPDX-License-Identifier: GPL-2.0-only
/*
 * xlb.bpf.c - the xlb L4 forwarder (XDP).
 *
 * Per packet: parse, look the destination up in xlb_vips, find the flow in
 * the connection table or pick a backend from the VIP's Maglev ring, then
 * forward by the VIP's mode (dr / tunnel / nat) to the next hop that
 * bpf_fib_lookup gives. Everything that is not for a VIP goes to the kernel.
 * Every packet is counted in exactly one xlb_stats_reason slot, at the single
 * exit of xlb_xdp().
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xlb_abi.h"
#include "lib/csum.h"
#include "lib/hash.h"
#include "lib/parse.h"

#ifndef BPF_FIB_LOOKUP_SRC
#define BPF_FIB_LOOKUP_SRC (1U << 4) /* Linux 6.8: fill in the preferred source address */
#endif

/* ICMP (RFC 792) and ICMPv6 (RFC 4443) types and codes; <linux/icmp.h> drags
 * in libc socket headers that do not build for -target bpf. */
#define ICMP_ECHOREPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_FRAG_NEEDED 4
#define ICMP_ECHO 8
#define ICMPV6_PKT_TOOBIG 2
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129

/* Type, code and checksum open both ICMP and ICMPv6 headers. */
struct icmp_hdr {
	__u8 type;
	__u8 code;
	__u16 checksum;
	__u32 rest;
};

#define NSEC_PER_SEC 1000000000ULL
#define XLB_IP_DF 0x4000 /* IPv4 "don't fragment" flag */

/* Load-time knobs (written by the loader before load; the verifier sees constants). */
const volatile __u32 xlb_abi_version = XLB_ABI_VERSION;
const volatile __u32 ring_size = 65537; /* Maglev ring size M, prime */
/* Next-hop cache lifetime in jiffies (25 = 25 ms at HZ=1000, 100 ms at HZ=250);
 * 0 = a route lookup per packet. */
const volatile __u64 nh_cache_jiffies = 25;
/* New flows recorded per second per CPU before the connection table is
 * left alone (a SYN flood must not flush it); 0 = no limit. Flows above it
 * still go where the Maglev ring says. As Katran's MAX_CONN_RATE. */
const volatile __u32 conn_rate_limit = 125000;
/* log2 of the xlb_flow_cache entries of each CPU (the loader sizes the map
 * to match); 0 = no flow cache. */
const volatile __u32 flow_cache_bits = 10;
/* Bumped by the control plane (through the mmap'ed .bss) after every write
 * that the record check or a cached next hop depends on: a flow cache entry
 * whose epoch is not this one has its record checked again. The only .bss
 * variable: the loader maps .bss as one u32. */
volatile __u32 fc_epoch;

/* Maps: max_entries here are defaults; the loader sizes them from the config. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct xlb_vip_key);
	__type(value, struct xlb_vip_ref);
	__uint(max_entries, 512);
} XLB_MAP_VIPS SEC(".maps");

/* VIPs by id: what a connection-table hit needs, without a lookup by address. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_vip_val);
	__uint(max_entries, 512);
} XLB_MAP_VIP_TABLE SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, XLB_FILTER_WORDS * XLB_FILTER_PLANES);
} XLB_MAP_ADDR_FILTER SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct xlb_addr_key);
	__type(value, struct xlb_addr_val);
	__uint(max_entries, 512);
} XLB_MAP_VIP_ADDRS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_backend_val);
	__uint(max_entries, 4096);
} XLB_MAP_BACKENDS SEC(".maps");

/* Ring slots of ring_size entries each, in chunks; a VIP's xlb_vip_val.ring picks one. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_ring_chunk);
	__uint(max_entries, 2 * ((65537 + XLB_RING_CHUNK - 1) / XLB_RING_CHUNK));
	__uint(map_flags, BPF_F_MMAPABLE);
} XLB_MAP_RINGS SEC(".maps");

/* Connection tables: IPv4 flows under a compact key, IPv6 under the full one. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct xlb_flow4);
	__type(value, struct xlb_conn_val);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
} XLB_MAP_CONNS4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct xlb_flow);
	__type(value, struct xlb_conn_val);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
} XLB_MAP_CONNS6 SEC(".maps");

/* Copies of connection-table records (struct xlb_fc_entry), direct-mapped,
 * 2^flow_cache_bits entries per CPU: CPU n owns entries n << flow_cache_bits
 * onwards. A plain array, not a per-CPU one: one memory access less per
 * lookup (no per-element pointer), and mmapable so that every entry starts
 * a cache line. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_fc_entry);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_MMAPABLE);
} XLB_MAP_FLOW_CACHE SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct xlb_nat_key);
	__type(value, struct xlb_nat_val);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
} XLB_MAP_NAT SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_globals);
	__uint(max_entries, 1);
} XLB_MAP_GLOBALS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_cpu_state);
	__uint(max_entries, 1);
} XLB_MAP_CPU SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, XLB_EV_SLOTS);
} XLB_MAP_STATS_EVENT SEC(".maps");

/* Per-CPU next hop per backend id (sized as xlb_backends). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_nh);
	__uint(max_entries, 4096);
} XLB_MAP_NH_CACHE SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_stats);
	__uint(max_entries, 512);
} XLB_MAP_STATS_VIP SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_stats);
	__uint(max_entries, 4096);
} XLB_MAP_STATS_BACKEND SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_reason_stats);
	__uint(max_entries, XLB_R_MAX);
} XLB_MAP_STATS_REASON SEC(".maps");

/* Health checks through the data path: probe socket mark -> backend. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct xlb_hc_val);
	__uint(max_entries, 4096);
} XLB_MAP_HC_TARGETS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, XLB_HC_MAX);
} XLB_MAP_STATS_HC SEC(".maps");

/* BTF keeps enums only when something refers to them: anchor the ABI enums. */
struct xlb_abi_enums {
	enum xlb_family family;
	enum xlb_mode mode;
	enum xlb_vip_flags vip_flags;
	enum xlb_backend_flags backend_flags;
	enum xlb_global_flags global_flags;
	enum xlb_reason reason;
	enum xlb_ring_consts ring_consts;
	enum xlb_event event;
	enum xlb_filter_consts filter_consts;
	enum xlb_hc_result hc_result;
};
const volatile struct xlb_abi_enums xlb_abi_enums_anchor = {};

/* The backend chosen for a packet. */
struct xlb_choice {
	struct xlb_backend_val *be;
	__u32 be_id;
	__u32 vip_id;
	__u16 vip_gen;	/* the VIP's generation when chosen */
	__u8 new_flow;	/* chosen from the ring */
	__u8 recorded;	/* in the connection table (found there or written) */
};

/* ipv4_dst shares its first bytes with ipv6_dst in struct bpf_fib_lookup. */
static __always_inline int addr_eq(__u8 family, const __u8 *a, const __u8 *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	if (family == XLB_AF_INET)
		return x[0] == y[0];
	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

/* The verdict that goes with a reason decided before any rewrite. */
static __always_inline int reason_verdict(__u32 reason)
{
	switch (reason) {
	case XLB_R_DROP_TRUNC_ETH:
	case XLB_R_DROP_TRUNC_IP:
	case XLB_R_DROP_BAD_IP:
	case XLB_R_DROP_TRUNC_L4:
	case XLB_R_DROP_IPV6_EXT:
		return XDP_DROP;
	default:
		return XDP_PASS;
	}
}

static __always_inline void stats_add(void *map, __u32 idx, __u32 len, __u32 new_flow)
{
	struct xlb_stats *s = bpf_map_lookup_elem(map, &idx);

	if (s) {
		s->packets++;
		s->bytes += len;
		s->new_flows += new_flow;
	}
}

static __always_inline void event_add(__u32 ev)
{
	__u64 *n = bpf_map_lookup_elem(&XLB_MAP_STATS_EVENT, &ev);

	if (n)
		(*n)++;
}

static __always_inline struct xlb_globals *globals_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&XLB_MAP_GLOBALS, &zero);
}

/**
 * addr_filter_bit - an address's bit in a plane of xlb_addr_filter
 * (src/dataplane/xdp/addr-filter.ts computes the same).
 */
static __always_inline __u32 addr_filter_bit(const __u8 *addr, __u8 family)
{
	const __u32 *w = (const __u32 *)addr;
	__u32 x = family == XLB_AF_INET ? w[0] : w[0] ^ w[1] ^ w[2] ^ w[3];

	return (x * 0x9e3779b1) >> 20; /* 12 bits: 4096 per plane */
}

/* 0: @addr is certainly not in @plane; 1: it may be. */
static __always_inline int addr_filter_has(__u32 plane, const __u8 *addr, __u8 family)
{
	__u32 bit = addr_filter_bit(addr, family);
	__u32 idx = plane * XLB_FILTER_WORDS + (bit >> 6);
	__u64 *w = bpf_map_lookup_elem(&XLB_MAP_ADDR_FILTER, &idx);

	return w && ((*w >> (bit & 63)) & 1);
}

/**
 * lb_lookup_vip - the virtual service for (addr, port, proto).
 * Returns: the VIP (its id in *vip_id), or NULL. An exact port match wins
 * over the all-ports VIP.
 */
static __always_inline struct xlb_vip_val *lb_lookup_vip(const __u8 *addr, __u8 family,
							 __be16 port, __u8 proto,
							 const struct xlb_globals *g, __u32 *vip_id)
{
	struct xlb_vip_key key = {};
	struct xlb_vip_ref *ref;
	struct xlb_vip_val *vip;
	__u32 id;

	__builtin_memcpy(key.addr, addr, 16);
	key.port = port;
	key.proto = proto;
	key.family = family;
	ref = bpf_map_lookup_elem(&XLB_MAP_VIPS, &key);
	if (!ref && g && g->wildcard_vips) {
		key.port = 0;
		ref = bpf_map_lookup_elem(&XLB_MAP_VIPS, &key);
	}
	if (!ref)
		return NULL;
	id = ref->vip_id;
	vip = bpf_map_lookup_elem(&XLB_MAP_VIP_TABLE, &id);
	if (!vip || !(vip->flags & XLB_VIP_F_ACTIVE))
		return NULL;
	*vip_id = id;
	return vip;
}

static __always_inline int lb_is_vip_addr(const __u8 *addr, __u8 family)
{
	struct xlb_addr_key key = {};

	if (!addr_filter_has(XLB_FILTER_VIP, addr, family))
		return 0;
	__builtin_memcpy(key.addr, addr, 16);
	key.family = family;
	return bpf_map_lookup_elem(&XLB_MAP_VIP_ADDRS, &key) != NULL;
}

/*
 * The connection tables: IPv4 flows under a compact key (@k4, filled by
 * conn_key4), IPv6 flows under the flow itself. Each branch names its map:
 * with a map pointer chosen at run time the verifier can no longer call the
 * map's own lookup directly, and the indirect call costs about 20 ns a packet.
 */
static __always_inline void conn_key4(const struct xlb_flow *flow, struct xlb_flow4 *k4)
{
	k4->src = *(const __u32 *)flow->src;
	k4->dst = *(const __u32 *)flow->dst;
	k4->sport = flow->sport;
	k4->dport = flow->dport;
	k4->proto = flow->proto;
}

static __always_inline struct xlb_conn_val *conn_lookup(const struct xlb_flow *flow,
							const struct xlb_flow4 *k4)
{
	if (flow->family == XLB_AF_INET)
		return bpf_map_lookup_elem(&XLB_MAP_CONNS4, k4);
	return bpf_map_lookup_elem(&XLB_MAP_CONNS6, flow);
}

static __always_inline long conn_update(const struct xlb_flow *flow, const struct xlb_flow4 *k4,
					const struct xlb_conn_val *val)
{
	if (flow->family == XLB_AF_INET)
		return bpf_map_update_elem(&XLB_MAP_CONNS4, k4, val, BPF_ANY);
	return bpf_map_update_elem(&XLB_MAP_CONNS6, flow, val, BPF_ANY);
}

/**
 * lb_choice_check - whether a recorded choice still holds: its VIP id still
 * carries the same generation and the backend is still up and the VIP's.
 * Draining backends (weight 0, out of the ring) are still up.
 * Returns: 1 with @c and *vipp filled, or 0.
 */
static __always_inline int lb_choice_check(__u32 vip_id, __u16 vip_gen, __u32 id,
					   struct xlb_choice *c, struct xlb_vip_val **vipp)
{
	struct xlb_backend_val *be;
	struct xlb_vip_val *vip;

	vip = bpf_map_lookup_elem(&XLB_MAP_VIP_TABLE, &vip_id);
	if (!vip || !(vip->flags & XLB_VIP_F_ACTIVE) || vip->gen != vip_gen)
		return 0;
	be = bpf_map_lookup_elem(&XLB_MAP_BACKENDS, &id);
	if (!be || !(be->flags & XLB_BE_F_UP) || be->vip_id != vip_id)
		return 0;
	c->be = be;
	c->be_id = id;
	c->vip_id = vip_id;
	c->vip_gen = vip_gen;
	c->new_flow = 0;
	c->recorded = 1;
	*vipp = vip;
	return 1;
}

/* The backend a flow was given, if its connection-table record still holds. */
static __always_inline int lb_conn_hit(const struct xlb_flow *flow, const struct xlb_flow4 *k4,
				       struct xlb_choice *c, struct xlb_vip_val **vipp)
{
	struct xlb_conn_val *conn = conn_lookup(flow, k4);

	return conn && lb_choice_check(conn->vip_id, conn->vip_gen, conn->backend_id, c, vipp);
}

/* This CPU's flow cache entry for @flow, or NULL when there is no cache (an
 * entry lives as long as a cached next hop: none without that cache). */
static __always_inline struct xlb_fc_entry *fc_slot(const struct xlb_flow *flow)
{
	__u32 idx;

	if (!flow_cache_bits || !nh_cache_jiffies)
		return NULL;
	idx = bpf_get_smp_processor_id() << flow_cache_bits |
	      flow_cache_slot(flow, flow_cache_bits);
	return bpf_map_lookup_elem(&XLB_MAP_FLOW_CACHE, &idx);
}

/* Whether @e is @flow's entry and has not expired. */
static __always_inline int fc_holds(const struct xlb_fc_entry *e, const struct xlb_flow *flow)
{
	const __u64 *a = (const __u64 *)e->flow, *b = (const __u64 *)flow;

	if ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4]))
		return 0;
	return (__s64)(bpf_jiffies64() - e->expires) < 0;
}

/**
 * fc_hit - the backend a flow was given, from its flow cache entry while that
 * is fresh, checked as a connection-table record is. Entries expire after
 * nh_cache_jiffies, so that the table's record is looked up again (which
 * keeps the flow in its LRU order). Nothing is written on a hit.
 * Returns: 1 with @c and *vipp filled, or 0.
 */
static __always_inline int fc_hit(const struct xlb_fc_entry *e, const struct xlb_flow *flow,
				  struct xlb_choice *c, struct xlb_vip_val **vipp)
{
	if (!e || !fc_holds(e, flow))
		return 0;
	return lb_choice_check(e->vip_id, e->vip_gen, e->backend_id, c, vipp);
}

/* Copy a recorded choice into the flow's cache entry. */
static __always_inline void fc_fill(struct xlb_fc_entry *e, const struct xlb_flow *flow,
				    const struct xlb_choice *c)
{
	if (!e || !c->recorded)
		return;
	__builtin_memcpy(e->flow, flow, sizeof(e->flow));
	e->expires = bpf_jiffies64() + nh_cache_jiffies;
	e->backend_id = c->be_id;
	e->vip_id = c->vip_id;
	e->vip_gen = c->vip_gen;
	e->ifindex = 0; /* no next hop for this record yet (fc_learn) */
	event_add(XLB_EV_FC_FILL);
}

/**
 * conn_may_record - the new-flow budget of this CPU: conn_rate_limit flows
 * per window of at least a second. The clock is read only once the budget
 * is spent, so flows within it cost no time lookup.
 * Returns: 1 if a new flow may go into the connection table.
 */
static __always_inline int conn_may_record(void)
{
	struct xlb_cpu_state *st;
	__u32 zero = 0;
	__u64 now;

	if (!conn_rate_limit)
		return 1;
	st = bpf_map_lookup_elem(&XLB_MAP_CPU, &zero);
	if (!st)
		return 1;
	if (++st->new_flows <= conn_rate_limit && st->window_ns)
		return 1;
	now = bpf_ktime_get_coarse_ns();
	if (st->window_ns && now - st->window_ns < NSEC_PER_SEC)
		return 0;
	st->window_ns = now; /* a new window, this flow its first */
	st->new_flows = 1;
	return 1;
}

/**
 * lb_schedule - pick a backend from the VIP's Maglev ring (a flow without a
 * valid record: new, or its backend removed / down) and record the choice.
 * @create: record it in the connection table (not for ICMP errors)
 * Returns: XLB_CONTINUE with @c filled, or a drop reason.
 */
static __always_inline int lb_schedule(const struct xlb_flow *flow, __u32 vip_id,
				       const struct xlb_vip_val *vip, const struct xlb_flow4 *k4,
				       int create, struct xlb_choice *c)
{
	struct xlb_conn_val nconn = {};
	struct xlb_backend_val *be;
	__u32 idx, id, pos;

	pos = flow_hash(flow, vip->flags & XLB_VIP_F_PERSIST) % ring_size;
	idx = vip->ring * ((ring_size + XLB_RING_CHUNK - 1) / XLB_RING_CHUNK) + pos / XLB_RING_CHUNK;
	{
		struct xlb_ring_chunk *chunk = bpf_map_lookup_elem(&XLB_MAP_RINGS, &idx);

		if (!chunk)
			return XLB_R_DROP_NO_BACKEND;
		id = chunk->ids[pos & (XLB_RING_CHUNK - 1)];
		if (!id)
			return XLB_R_DROP_NO_BACKEND;
	}
	be = bpf_map_lookup_elem(&XLB_MAP_BACKENDS, &id);
	if (!be || !(be->flags & XLB_BE_F_UP))
		return XLB_R_DROP_NO_BACKEND;
	if (be->family != flow->family) /* 4in6 / 6in4 are not offered */
		return XLB_R_DROP_BAD_BACKEND;
	c->be = be;
	c->be_id = id;
	c->vip_id = vip_id;
	c->vip_gen = vip->gen;
	c->new_flow = create;
	c->recorded = 0;
	if (!create)
		return XLB_CONTINUE;
	/* nat flows are always recorded: their replies need the reverse entry anyway */
	if (vip->mode != XLB_MODE_NAT && !conn_may_record()) {
		event_add(XLB_EV_CONN_FLOOD_SKIP);
		return XLB_CONTINUE;
	}
	nconn.backend_id = id;
	nconn.vip_id = vip_id;
	nconn.vip_gen = vip->gen;
	if (conn_update(flow, k4, &nconn)) {
		event_add(XLB_EV_CONN_INSERT_FAIL);
	} else {
		event_add(XLB_EV_CONN_NEW);
		c->recorded = 1;
	}
	return XLB_CONTINUE;
}

/**
 * fwd_fib - route lookup towards @dst.
 * @src: source address for policy routing, or NULL to ask the kernel for one
 * Returns: the bpf_fib_lookup() result code; @fib holds the next hop.
 */
static __always_inline int fwd_fib(struct xdp_md *ctx, struct bpf_fib_lookup *fib, __u8 family,
				   const __u8 *src, const __u8 *dst, __u32 tot_len, __u8 proto)
{
	int rc;

	__builtin_memset(fib, 0, sizeof(*fib));
	fib->family = family;
	fib->ifindex = ctx->ingress_ifindex;
	fib->l4_protocol = proto;
	fib->tot_len = tot_len;
	if (family == XLB_AF_INET) {
		if (src)
			fib->ipv4_src = *(const __u32 *)src;
		fib->ipv4_dst = *(const __u32 *)dst;
	} else {
		if (src)
			__builtin_memcpy(fib->ipv6_src, src, 16);
		__builtin_memcpy(fib->ipv6_dst, dst, 16);
	}
	if (src)
		return bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
	rc = bpf_fib_lookup(ctx, fib, sizeof(*fib), BPF_FIB_LOOKUP_SRC);
	if (rc < 0) /* before Linux 6.8: no BPF_FIB_LOOKUP_SRC, no source */
		rc = bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
	return rc;
}

/* Map a failed route lookup to a reason: rewritten packets go to the kernel. */
static __always_inline int fwd_fib_fail_reason(int rc)
{
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH)
		return XLB_R_PASS_NO_NEIGH;
	if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED)
		return XLB_R_DROP_TOO_BIG;
	return XLB_R_PASS_FIB;
}

/* Copy a successful lookup's next hop into @nh. */
static __always_inline void nh_from_fib(struct xlb_nh *nh, const struct bpf_fib_lookup *fib)
{
	nh->ifindex = fib->ifindex;
	__builtin_memcpy(nh->dmac, fib->dmac, ETH_ALEN);
	__builtin_memcpy(nh->smac, fib->smac, ETH_ALEN);
}

/**
 * nh_resolve - the next hop towards a backend: from this CPU's cache while it
 * is fresh, for this ingress device and for packets no longer than one that
 * already fit the path MTU; from bpf_fib_lookup() otherwise (which refills
 * the cache on success). The lookup asks the kernel for the source address
 * too (tunnel mode without a configured source).
 * @tot_len: IP length of the packet as it will leave (after encapsulation)
 * Returns: a bpf_fib_lookup() code; *out is the entry on success, and on
 * BPF_FIB_LKUP_RET_NO_NEIGH (its src is then valid, its next hop is not).
 */
static __always_inline int nh_resolve(struct xdp_md *ctx, __u32 be_id,
				      const struct xlb_backend_val *be, __u32 tot_len, __u8 proto,
				      struct xlb_nh **out)
{
	struct xlb_nh *nh = bpf_map_lookup_elem(&XLB_MAP_NH_CACHE, &be_id);
	struct bpf_fib_lookup fib;
	int rc;

	if (!nh)
		return BPF_FIB_LKUP_RET_NOT_FWDED; /* never: sized as xlb_backends */
	*out = nh;
	/* bpf_jiffies64() is inlined (a load); a hit writes nothing */
	if (nh->expires && nh->in_ifindex == ctx->ingress_ifindex && tot_len <= nh->ok_len &&
	    bpf_jiffies64() < nh->expires)
		return BPF_FIB_LKUP_RET_SUCCESS;

	rc = fwd_fib(ctx, &fib, be->family, NULL, be->addr, tot_len, proto);
	nh->expires = 0;
	event_add(XLB_EV_NH_REFRESH);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return rc;
	/* ipv4_src shares its first bytes with ipv6_src, ipv4_dst with ipv6_dst */
	if (be->family == XLB_AF_INET)
		*(__u32 *)nh->src = fib.ipv4_src;
	else
		__builtin_memcpy(nh->src, fib.ipv6_src, 16);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return rc;
	nh_from_fib(nh, &fib);
	nh->in_ifindex = ctx->ingress_ifindex;
	/* a gateway leaves its own address in the destination */
	nh->onlink = addr_eq(be->family, (const __u8 *)fib.ipv6_dst, be->addr);
	nh->ok_len = tot_len;
	if (nh_cache_jiffies)
		nh->expires = bpf_jiffies64() + nh_cache_jiffies;
	return rc;
}

/* Copy a MAC address in two accesses, not six: XDP runs only where the
 * verifier allows unaligned packet and map value access (x86-64, arm64). */
static __always_inline void mac_copy(__u8 *dst, const __u8 *src)
{
	*(__u32 *)dst = *(const __u32 *)src;
	*(__u16 *)(dst + 4) = *(const __u16 *)(src + 4);
}

/* Copy the next hop a dr flow's frame was just sent with into its entry,
 * checked under @epoch (read before the record was). It lasts no longer than
 * the next hop does. */
static __always_inline void fc_learn(struct xlb_fc_entry *e, const struct xlb_nh *nh, __u32 epoch)
{
	e->ifindex = nh->ifindex;
	e->in_ifindex = nh->in_ifindex;
	e->ok_len = nh->ok_len;
	mac_copy(e->dmac, nh->dmac);
	mac_copy(e->smac, nh->smac);
	if (nh->expires < e->expires)
		e->expires = nh->expires;
	e->epoch = epoch;
}

/**
 * fc_send - send a dr flow's frame with the next hop in its flow cache entry:
 * the entry is the flow's, fresh, and its record was checked under the
 * current fc_epoch (nothing it depends on changed since). This is
 * fwd_dr() on a next-hop cache hit, without the lookups. The caller has
 * ruled out a TCP SYN (it is scheduled afresh).
 * @ip_len: the IP packet's length (no longer than one known to fit the path)
 * @len: the frame's length as received (counted)
 * @vlans: VLAN tags on the frame: a tagged one only goes back out its device
 * Returns: an XDP verdict (reason XLB_R_FWD_DR), or XLB_CONTINUE.
 */
static __always_inline int fc_send(struct xdp_md *ctx, const struct xlb_fc_entry *e,
				   const struct xlb_flow *flow, __u32 epoch, __u32 ip_len,
				   __u32 len, __u8 vlans)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if (!e || !e->ifindex || e->epoch != epoch || !fc_holds(e, flow) ||
	    e->in_ifindex != ctx->ingress_ifindex || ip_len > e->ok_len ||
	    (vlans && e->ifindex != ctx->ingress_ifindex) || (void *)(eth + 1) > data_end)
		return XLB_CONTINUE;
	stats_add(&XLB_MAP_STATS_VIP, e->vip_id, len, 0);
	stats_add(&XLB_MAP_STATS_BACKEND, e->backend_id, len, 0);
	mac_copy(eth->h_dest, e->dmac);
	mac_copy(eth->h_source, e->smac);
	if (e->ifindex == ctx->ingress_ifindex)
		return XDP_TX;
	return bpf_redirect(e->ifindex, 0);
}

/* fc_send() for a parsed packet. Returns: a verdict with *reason set, or XLB_CONTINUE. */
static __always_inline int fc_fast(struct xdp_md *ctx, const struct xlb_pkt *p,
				   const struct xlb_fc_entry *e, __u32 epoch, __u32 *reason)
{
	int rc;

	if (p->tcp_syn)
		return XLB_CONTINUE;
	rc = fc_send(ctx, e, &p->flow, epoch, p->ip_len, p->len, p->vlans);
	if (rc != XLB_CONTINUE)
		*reason = XLB_R_FWD_DR;
	return rc;
}

/**
 * fwd_l2_out - write the next hop's MACs and send: XDP_TX out of the ingress
 * device, or a redirect to another one. A VLAN-tagged packet can only go back
 * out where it came from (its tag means nothing elsewhere).
 * Returns: an XDP verdict, with *reason possibly changed.
 */
static __always_inline int fwd_l2_out(struct xdp_md *ctx, const struct xlb_pkt *p,
				      const struct xlb_nh *nh, __u32 *reason)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end) {
		*reason = XLB_R_DROP_TRUNC_ETH;
		return XDP_DROP;
	}
	if (nh->ifindex != ctx->ingress_ifindex && p->vlans) {
		*reason = XLB_R_PASS_VLAN_FWD;
		return XDP_PASS;
	}
	mac_copy(eth->h_dest, nh->dmac);
	mac_copy(eth->h_source, nh->smac);
	if (nh->ifindex == ctx->ingress_ifindex)
		return XDP_TX;
	return bpf_redirect(nh->ifindex, 0);
}

/*
 * After bpf_xdp_adjust_head() made @hlen bytes of room at the front, move the
 * ethertype and any VLAN tags from their old place to the new front, and the
 * MACs too when @keep_macs (a packet handed to the kernel must keep them; a
 * forwarded one gets the next hop's). @hlen is a constant after inlining.
 */
static __always_inline int l2_move(void *data, void *data_end, const int hlen, __u8 vlans,
				   int keep_macs)
{
	__u8 *to = data, *from = data + hlen;

	if ((void *)(from + ETH_HLEN + 4 * XLB_VLAN_MAX_DEPTH) > data_end)
		return -1; /* never: an IP header follows */
	/* hlen >= 20 > 12: the old and new places do not overlap */
	if (keep_macs)
		__builtin_memcpy(to, from, 2 * ETH_ALEN);
	if (vlans == 0)
		__builtin_memcpy(to + 2 * ETH_ALEN, from + 2 * ETH_ALEN, 2);
	else if (vlans == 1)
		__builtin_memcpy(to + 2 * ETH_ALEN, from + 2 * ETH_ALEN, 2 + 4);
	else
		__builtin_memcpy(to + 2 * ETH_ALEN, from + 2 * ETH_ALEN, 2 + 8);
	return 0;
}

/**
 * encap_push - make room for an outer header of @hlen bytes between the L2
 * header (and its VLAN tags) and the IP header.
 * Returns: 0, or -1 if the head could not be adjusted.
 */
static __always_inline int encap_push(struct xdp_md *ctx, const struct xlb_pkt *p, int hlen,
				      int keep_macs)
{
	void *data, *data_end;

	if (bpf_xdp_adjust_head(ctx, -hlen))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (hlen == sizeof(struct iphdr))
		return l2_move(data, data_end, sizeof(struct iphdr), p->vlans, keep_macs);
	return l2_move(data, data_end, sizeof(struct ipv6hdr), p->vlans, keep_macs);
}

/**
 * fwd_tunnel - encapsulate in IPIP / IP6IP6 towards the backend.
 * Returns: an XDP verdict; sets *reason.
 */
static __always_inline int fwd_tunnel(struct xdp_md *ctx, struct xlb_pkt *p,
				      const struct xlb_choice *c, const struct xlb_flow *flow,
				      const struct xlb_globals *g, __u32 *reason)
{
	int entropy = g && (g->flags & XLB_G_TUN_SRC_ENTROPY);
	/* the flow hash: for the IPv6 flow label and the source entropy only */
	__u32 hash = (entropy || c->be->family == XLB_AF_INET6) ? flow_hash(flow, 0) : 0;
	const struct xlb_backend_val *be = c->be;
	struct xlb_nh *nh = NULL;
	__u8 src[16] = {};
	int have_src = 0;
	void *data, *data_end;
	int rc, hlen;

	hlen = be->family == XLB_AF_INET ? (int)sizeof(struct iphdr) : (int)sizeof(struct ipv6hdr);
	if (g && be->family == XLB_AF_INET && g->tun_src4) {
		*(__u32 *)src = g->tun_src4;
		have_src = 1;
		if (entropy)
			*(__u16 *)&src[2] = (__u16)hash; /* low 16 bits of the address */
	} else if (g && be->family == XLB_AF_INET6 &&
		   (*(__u64 *)g->tun_src6 | *(__u64 *)&g->tun_src6[8])) {
		__builtin_memcpy(src, g->tun_src6, 16);
		have_src = 1;
		if (entropy)
			*(__u32 *)&src[12] = hash; /* low 32 bits of the address */
	}
	rc = nh_resolve(ctx, c->be_id, be, p->ip_len + hlen,
			be->family == XLB_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6, &nh);
	if (!nh || (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)) {
		*reason = fwd_fib_fail_reason(rc);
		return rc == BPF_FIB_LKUP_RET_FRAG_NEEDED ? XDP_DROP : XDP_PASS;
	}
	if (!have_src) /* the kernel's choice */
		__builtin_memcpy(src, nh->src, 16);

	if (encap_push(ctx, p, hlen, rc == BPF_FIB_LKUP_RET_NO_NEIGH)) {
		*reason = XLB_R_DROP_ADJUST;
		return XDP_DROP;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (be->family == XLB_AF_INET) {
		struct iphdr *outer = data + (p->l3 & 0x1f);
		struct iphdr *inner = (void *)(outer + 1);

		struct iphdr o = {};

		if ((void *)(inner + 1) > data_end) {
			*reason = XLB_R_DROP_ADJUST;
			return XDP_DROP;
		}
		/* built on the stack, then stored whole */
		o.version = 4;
		o.ihl = 5;
		o.tos = inner->tos;
		o.tot_len = bpf_htons(p->ip_len + sizeof(o));
		o.frag_off = inner->frag_off & bpf_htons(XLB_IP_DF);
		o.ttl = 64;
		o.protocol = IPPROTO_IPIP;
		o.saddr = *(__u32 *)src;
		o.daddr = *(const __u32 *)be->addr;
		o.check = csum_ipv4_hdr20(&o);
		__builtin_memcpy(outer, &o, sizeof(o));
	} else {
		struct ipv6hdr *outer = data + (p->l3 & 0x1f);

		if ((void *)(outer + 1) > data_end) {
			*reason = XLB_R_DROP_ADJUST;
			return XDP_DROP;
		}
		/* version 6, the inner traffic class, flow label from the flow hash (ECMP/RSS entropy) */
		*(__be32 *)outer = bpf_htonl(0x60000000 | ((__u32)p->tos << 20) | (hash & 0xfffff));
		outer->payload_len = bpf_htons(p->ip_len);
		outer->nexthdr = IPPROTO_IPV6;
		outer->hop_limit = 64;
		__builtin_memcpy(&outer->saddr, src, 16);
		__builtin_memcpy(&outer->daddr, be->addr, 16);
	}
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		*reason = XLB_R_PASS_NO_NEIGH;
		return XDP_PASS;
	}
	*reason = XLB_R_FWD_TUNNEL;
	return fwd_l2_out(ctx, p, nh, reason);
}

/**
 * nat_rewrite - replace the address and port at one end of a TCP/UDP packet,
 * fixing the IPv4 header and L4 checksums incrementally.
 * @dst: rewrite the destination (client -> backend) or the source (replies)
 * Returns: 0, or -1 if the headers moved out of reach.
 */
static __always_inline int nat_rewrite(struct xdp_md *ctx, const struct xlb_pkt *p, int dst,
				       const __u8 *addr, __be16 port)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u16 *l4csum = NULL;
	__be16 *l4port;
	void *l4 = data + (p->l4 & 0xff);

	if (p->flow.proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > data_end)
			return -1;
		l4csum = &th->check;
		l4port = dst ? &th->dest : &th->source;
	} else {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > data_end)
			return -1;
		/* UDP over IPv4 may carry no checksum (RFC 768): leave it at 0 */
		if (uh->check || p->flow.family == XLB_AF_INET6)
			l4csum = &uh->check;
		l4port = dst ? &uh->dest : &uh->source;
	}

	if (p->flow.family == XLB_AF_INET) {
		struct iphdr *iph = data + (p->l3 & 0x1f);
		__u32 *field;
		__u32 from;

		if ((void *)(iph + 1) > data_end)
			return -1;
		field = dst ? &iph->daddr : &iph->saddr;
		from = *field;
		*field = *(const __u32 *)addr;
		csum_replace4(&iph->check, from, *field);
		if (l4csum)
			csum_replace4(l4csum, from, *field);
	} else {
		struct ipv6hdr *ip6 = data + (p->l3 & 0x1f);
		__u32 from[4];
		__u8 *field;

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		field = dst ? (__u8 *)&ip6->daddr : (__u8 *)&ip6->saddr;
		__builtin_memcpy(from, field, 16);
		__builtin_memcpy(field, addr, 16);
		if (l4csum)
			csum_replace16(l4csum, from, (const __u32 *)addr);
	}
	if (port && port != *l4port) {
		if (l4csum)
			csum_replace2(l4csum, *l4port, port);
		*l4port = port;
	}
	if (l4csum && p->flow.proto == IPPROTO_UDP && *l4csum == 0)
		*l4csum = 0xffff; /* a computed 0 is sent as all ones (RFC 768) */
	return 0;
}

/**
 * fwd_nat - rewrite the destination to the backend, remember the reverse
 * mapping for the replies, and send.
 * Returns: an XDP verdict; sets *reason.
 */
static __always_inline int fwd_nat(struct xdp_md *ctx, struct xlb_pkt *p,
				   const struct xlb_vip_val *vip, const struct xlb_choice *c,
				   __u32 *reason)
{
	const struct xlb_backend_val *be = c->be;
	__be16 bport = be->port ? be->port : p->flow.dport;
	struct xlb_nh *nh = NULL;
	int rc;

	if (c->new_flow) {
		struct xlb_nat_key rk = {};
		struct xlb_nat_val rv = {};

		__builtin_memcpy(rk.backend, be->addr, 16);
		__builtin_memcpy(rk.client, p->flow.src, 16);
		rk.bport = bport;
		rk.cport = p->flow.sport;
		rk.proto = p->flow.proto;
		rk.family = p->flow.family;
		__builtin_memcpy(rv.vip, p->flow.dst, 16);
		rv.vport = p->flow.dport;
		rv.vip_id = c->vip_id;
		if (bpf_map_update_elem(&XLB_MAP_NAT, &rk, &rv, BPF_ANY))
			event_add(XLB_EV_NAT_INSERT_FAIL);
	}
	rc = nh_resolve(ctx, c->be_id, be, p->ip_len, p->flow.proto, &nh);
	if (nat_rewrite(ctx, p, 1, be->addr, bport)) {
		*reason = XLB_R_DROP_TRUNC_L4;
		return XDP_DROP;
	}
	if (!nh || rc != BPF_FIB_LKUP_RET_SUCCESS) {
		*reason = fwd_fib_fail_reason(rc);
		return rc == BPF_FIB_LKUP_RET_FRAG_NEEDED ? XDP_DROP : XDP_PASS;
	}
	*reason = XLB_R_FWD_NAT;
	return fwd_l2_out(ctx, p, nh, reason);
}

/**
 * fwd_dr - direct routing: the backend (on-link, holding the VIP) gets the
 * packet unchanged but for the destination MAC.
 * Returns: an XDP verdict; sets *reason.
 */
static __always_inline int fwd_dr(struct xdp_md *ctx, struct xlb_pkt *p,
				  const struct xlb_choice *c, struct xlb_fc_entry *learn,
				  __u32 epoch, __u32 *reason)
{
	struct xlb_nh *nh = NULL;
	int rc;

	rc = nh_resolve(ctx, c->be_id, c->be, p->ip_len, p->flow.proto, &nh);
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		/* The packet still says "to the VIP": the kernel cannot forward it. */
		*reason = XLB_R_DROP_DR_NO_NEIGH;
		return XDP_DROP;
	}
	if (!nh || rc != BPF_FIB_LKUP_RET_SUCCESS) {
		*reason = rc == BPF_FIB_LKUP_RET_FRAG_NEEDED ? XLB_R_DROP_TOO_BIG : XLB_R_DROP_DR_FIB;
		return XDP_DROP;
	}
	/* Behind a gateway the next hop's MAC is not the backend's. */
	if (!nh->onlink) {
		*reason = XLB_R_DROP_DR_FIB;
		return XDP_DROP;
	}
	if (learn)
		fc_learn(learn, nh, epoch);
	*reason = XLB_R_FWD_DR;
	return fwd_l2_out(ctx, p, nh, reason);
}

/* Send a packet to its backend by the VIP's mode; a dr flow's next hop goes
 * into @learn (its flow cache entry, or NULL). */
static __always_inline int fwd_by_mode(struct xdp_md *ctx, struct xlb_pkt *p,
				       const struct xlb_vip_val *vip, const struct xlb_choice *c,
				       const struct xlb_globals *g, struct xlb_fc_entry *learn,
				       __u32 epoch, __u32 *reason)
{
	if (vip->mode == XLB_MODE_TUNNEL)
		return fwd_tunnel(ctx, p, c, &p->flow, g, reason);
	if (vip->mode == XLB_MODE_NAT)
		return fwd_nat(ctx, p, vip, c, reason);
	return fwd_dr(ctx, p, c, learn, epoch, reason);
}

/**
 * nat_reply - a backend's reply to a NAT flow: source back to the VIP.
 * Returns: an XDP verdict, or XLB_CONTINUE if the packet is not a NAT reply.
 */
static __always_inline int nat_reply(struct xdp_md *ctx, struct xlb_pkt *p, __u32 *reason)
{
	struct xlb_nat_key rk = {};
	struct xlb_nat_val *rv;
	struct bpf_fib_lookup fib;
	struct xlb_nh nh;
	int rc;

	__builtin_memcpy(rk.backend, p->flow.src, 16);
	__builtin_memcpy(rk.client, p->flow.dst, 16);
	rk.bport = p->flow.sport;
	rk.cport = p->flow.dport;
	rk.proto = p->flow.proto;
	rk.family = p->flow.family;
	rv = bpf_map_lookup_elem(&XLB_MAP_NAT, &rk);
	if (!rv)
		return XLB_CONTINUE;
	rc = fwd_fib(ctx, &fib, p->flow.family, rv->vip, p->flow.dst, p->ip_len, p->flow.proto);
	if (nat_rewrite(ctx, p, 0, rv->vip, rv->vport)) {
		*reason = XLB_R_DROP_TRUNC_L4;
		return XDP_DROP;
	}
	if (rc != BPF_FIB_LKUP_RET_SUCCESS) {
		*reason = fwd_fib_fail_reason(rc);
		return rc == BPF_FIB_LKUP_RET_FRAG_NEEDED ? XDP_DROP : XDP_PASS;
	}
	nh_from_fib(&nh, &fib);
	*reason = XLB_R_FWD_NAT_REPLY;
	return fwd_l2_out(ctx, p, &nh, reason);
}

/* Echo request to a VIP: turn it into the reply in place and send it back. */
static __always_inline int icmp_echo_reply(void *data, void *data_end, struct xlb_pkt *p,
					   __u32 *reason)
{
	struct ethhdr *eth = data;
	__u8 mac[ETH_ALEN];

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);

	if (p->flow.family == XLB_AF_INET) {
		struct iphdr *iph = data + (p->l3 & 0x1f);
		struct icmp_hdr *ih = data + (p->l4 & 0xff);
		__u32 a;

		if ((void *)(iph + 1) > data_end || (void *)(ih + 1) > data_end)
			return XDP_DROP;
		/* swapping the addresses leaves the IP checksum as it was */
		a = iph->saddr;
		iph->saddr = iph->daddr;
		iph->daddr = a;
		ih->type = ICMP_ECHOREPLY;
		csum_replace2(&ih->checksum, bpf_htons(ICMP_ECHO << 8), bpf_htons(ICMP_ECHOREPLY << 8));
	} else {
		struct ipv6hdr *ip6 = data + (p->l3 & 0x1f);
		struct icmp_hdr *ih = data + (p->l4 & 0xff);
		struct in6_addr a;

		if ((void *)(ip6 + 1) > data_end || (void *)(ih + 1) > data_end)
			return XDP_DROP;
		a = ip6->saddr;
		ip6->saddr = ip6->daddr;
		ip6->daddr = a;
		ih->type = ICMPV6_ECHO_REPLY;
		csum_replace2(&ih->checksum, bpf_htons(ICMPV6_ECHO_REQUEST << 8),
			      bpf_htons(ICMPV6_ECHO_REPLY << 8));
	}
	*reason = XLB_R_TX_ICMP_ECHO;
	return XDP_TX;
}

/**
 * icmp_ptb_nat - a "fragmentation needed" / "packet too big" about a nat
 * flow, translated the way the flow is: the outer destination and the quoted
 * packet's source become the backend's address and port (the backend sent
 * that packet as itself), with the outer IPv4, quoted IPv4, quoted L4 (when
 * quoted) and ICMP checksums updated incrementally; then sent to the backend.
 * @ql4: offset of the quoted L4 header (its ports are within the frame)
 * Returns: an XDP verdict; sets *reason.
 */
static __always_inline int icmp_ptb_nat(struct xdp_md *ctx, struct xlb_pkt *p, __u32 inner_off,
					__u32 ql4, const struct xlb_choice *c, __u8 qproto,
					__u32 *reason)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	const struct xlb_backend_val *be = c->be;
	struct icmp_hdr *ih = data + (p->l4 & 0xff);
	__be16 *qports = data + (ql4 & 0x1ff);
	__u16 *ql4sum = NULL;
	struct xlb_nh *nh = NULL;
	__be16 vport, bport;
	int rc;

	if ((void *)(ih + 1) > data_end || (void *)(qports + 2) > data_end)
		return XDP_PASS;
	/* the quoted L4 checksum, when the quote reaches it (UDP 0: none) */
	if (qproto == IPPROTO_TCP) {
		__u16 *cs = data + ((ql4 + 16) & 0x1ff);

		if ((void *)(cs + 1) <= data_end && ql4 + 18 <= p->l3 + p->ip_len)
			ql4sum = cs;
	} else {
		__u16 *cs = data + ((ql4 + 6) & 0x1ff);

		if ((void *)(cs + 1) <= data_end && ql4 + 8 <= p->l3 + p->ip_len && *cs)
			ql4sum = cs;
	}
	vport = qports[0];
	bport = be->port ? be->port : vport;

	if (p->flow.family == XLB_AF_INET) {
		struct iphdr *outer = data + (p->l3 & 0x1f);
		struct iphdr *qi = data + (inner_off & 0x1ff);
		__u32 vip, bad = *(const __u32 *)be->addr;
		__u16 qcheck;

		if ((void *)(outer + 1) > data_end || (void *)(qi + 1) > data_end)
			return XDP_PASS;
		vip = qi->saddr;
		outer->daddr = bad;
		csum_replace4(&outer->check, vip, bad);
		qcheck = qi->check;
		qi->saddr = bad;
		csum_replace4(&qi->check, vip, bad);
		/* ICMP (v4) has no pseudo-header: only the quoted words that changed */
		csum_replace4(&ih->checksum, vip, bad);
		csum_replace2(&ih->checksum, qcheck, qi->check);
		if (ql4sum) {
			__u16 old = *ql4sum;

			csum_replace4(ql4sum, vip, bad);
			csum_replace2(ql4sum, vport, bport);
			csum_replace2(&ih->checksum, old, *ql4sum);
		}
	} else {
		struct ipv6hdr *outer = data + (p->l3 & 0x1f);
		struct ipv6hdr *qi = data + (inner_off & 0x1ff);
		__u32 vip[4];

		if ((void *)(outer + 1) > data_end || (void *)(qi + 1) > data_end)
			return XDP_PASS;
		__builtin_memcpy(vip, &qi->saddr, 16);
		__builtin_memcpy(&outer->daddr, be->addr, 16);
		__builtin_memcpy(&qi->saddr, be->addr, 16);
		/* ICMPv6 covers the pseudo-header (outer destination) and the quote */
		csum_replace16(&ih->checksum, vip, (const __u32 *)be->addr);
		csum_replace16(&ih->checksum, vip, (const __u32 *)be->addr);
		if (ql4sum) {
			__u16 old = *ql4sum;

			csum_replace16(ql4sum, vip, (const __u32 *)be->addr);
			csum_replace2(ql4sum, vport, bport);
			csum_replace2(&ih->checksum, old, *ql4sum);
		}
	}
	if (bport != vport) {
		csum_replace2(&ih->checksum, vport, bport);
		qports[0] = bport;
	}
	rc = nh_resolve(ctx, c->be_id, be, p->ip_len, p->flow.proto, &nh);
	if (!nh || rc != BPF_FIB_LKUP_RET_SUCCESS) {
		*reason = fwd_fib_fail_reason(rc);
		return rc == BPF_FIB_LKUP_RET_FRAG_NEEDED ? XDP_DROP : XDP_PASS;
	}
	*reason = XLB_R_FWD_ICMP_PTB;
	return fwd_l2_out(ctx, p, nh, reason);
}

/**
 * icmp_ptb - "fragmentation needed" / "packet too big" about a VIP flow: the
 * quoted packet left the VIP towards a client, so send the error to the
 * backend that owns the client -> VIP flow (in nat mode translated as the
 * flow is, by icmp_ptb_nat()).
 * @inner_off: offset of the quoted IP header
 * Returns: an XDP verdict; sets *reason.
 */
static __always_inline int icmp_ptb(struct xdp_md *ctx, struct xlb_pkt *p, __u32 inner_off,
				    const struct xlb_globals *g, __u32 *reason)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xlb_flow inner = {};
	struct xlb_vip_val *vip, *hit_vip;
	struct xlb_flow4 k4 = {};
	struct xlb_choice c;
	__be16 *ports;
	__u32 l4, vip_id = 0;
	int rc;

	*reason = XLB_R_PASS_ICMP;
	if (p->flow.family == XLB_AF_INET) {
		struct iphdr *iph = data + (inner_off & 0x1ff);

		if ((void *)(iph + 1) > data_end)
			return XDP_PASS;
		if (iph->ihl < 5)
			return XDP_PASS;
		l4 = inner_off + iph->ihl * 4;
		inner.family = XLB_AF_INET;
		inner.proto = iph->protocol;
		/* quoted: VIP -> client; the flow is client -> VIP */
		*(__u32 *)inner.src = iph->daddr;
		*(__u32 *)inner.dst = iph->saddr;
	} else {
		struct ipv6hdr *ip6 = data + (inner_off & 0x1ff);

		if ((void *)(ip6 + 1) > data_end)
			return XDP_PASS;
		l4 = inner_off + sizeof(*ip6);
		inner.family = XLB_AF_INET6;
		inner.proto = ip6->nexthdr;
		__builtin_memcpy(inner.src, &ip6->daddr, 16);
		__builtin_memcpy(inner.dst, &ip6->saddr, 16);
	}
	if (inner.proto != IPPROTO_TCP && inner.proto != IPPROTO_UDP)
		return XDP_PASS;
	ports = data + (l4 & 0x1ff);
	/* the quote must hold the ports, inside the IP packet (not its padding) */
	if ((void *)(ports + 2) > data_end || l4 + 4 > p->l3 + p->ip_len)
		return XDP_PASS;
	inner.sport = ports[1];
	inner.dport = ports[0];
	vip = lb_lookup_vip(inner.dst, inner.family, inner.dport, inner.proto, g, &vip_id);
	if (!vip)
		return XDP_PASS;
	conn_key4(&inner, &k4);
	if (!lb_conn_hit(&inner, &k4, &c, &hit_vip) || c.vip_id != vip_id) {
		rc = lb_schedule(&inner, vip_id, vip, &k4, 0, &c);
		if (rc != XLB_CONTINUE) {
			*reason = rc;
			return XDP_DROP;
		}
	}
	if (vip->mode == XLB_MODE_NAT)
		return icmp_ptb_nat(ctx, p, inner_off, l4, &c, inner.proto, reason);
	if (vip->mode == XLB_MODE_TUNNEL)
		rc = fwd_tunnel(ctx, p, &c, &inner, g, reason);
	else
		rc = fwd_dr(ctx, p, &c, NULL, 0, reason);
	if (*reason == XLB_R_FWD_TUNNEL || *reason == XLB_R_FWD_DR)
		*reason = XLB_R_FWD_ICMP_PTB;
	return rc;
}

/* ICMP / ICMPv6 addressed to a VIP. */
static __always_inline int handle_icmp(struct xdp_md *ctx, struct xlb_pkt *p,
				       const struct xlb_globals *g, __u32 *reason)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *ih = data + (p->l4 & 0xff);

	if ((void *)(ih + 8) > data_end || p->l4 + 8 > p->l3 + p->ip_len) {
		*reason = XLB_R_DROP_TRUNC_L4;
		return XDP_DROP;
	}
	if (!lb_is_vip_addr(p->flow.dst, p->flow.family)) {
		*reason = XLB_R_PASS_NO_VIP;
		return XDP_PASS;
	}
	if (p->flow.family == XLB_AF_INET) {
		if (ih[0] == ICMP_ECHO && ih[1] == 0)
			return icmp_echo_reply(data, data_end, p, reason);
		if (ih[0] == ICMP_DEST_UNREACH && ih[1] == ICMP_FRAG_NEEDED)
			return icmp_ptb(ctx, p, p->l4 + 8, g, reason);
	} else {
		if (ih[0] == ICMPV6_ECHO_REQUEST && ih[1] == 0)
			return icmp_echo_reply(data, data_end, p, reason);
		if (ih[0] == ICMPV6_PKT_TOOBIG && ih[1] == 0)
			return icmp_ptb(ctx, p, p->l4 + 8, g, reason);
	}
	*reason = XLB_R_PASS_ICMP;
	return XDP_PASS;
}

/* A TCP/UDP packet that is not for a VIP: a nat reply, or the kernel's. */
static __always_inline int not_for_vip(struct xdp_md *ctx, struct xlb_pkt *p, __u32 *reason)
{
	int rc;

	if (addr_filter_has(XLB_FILTER_NAT_SRC, p->flow.src, p->flow.family)) {
		rc = nat_reply(ctx, p, reason);
		if (rc != XLB_CONTINUE)
			return rc;
	}
	*reason = XLB_R_PASS_NO_VIP;
	return XDP_PASS;
}

/* Everything after parsing the IP header. */
static __always_inline int handle_ip(struct xdp_md *ctx, struct xlb_pkt *p, __u32 *reason)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xlb_globals *g = globals_get();
	struct xlb_vip_val *vip = NULL;
	struct xlb_flow4 k4 = {};
	struct xlb_choice c = {};
	struct xlb_fc_entry *fc;
	__u8 proto = p->flow.proto;
	__u32 vip_id = 0, epoch;
	int rc;

	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = data + (p->l4 & 0xff);

		if ((void *)(th + 1) > data_end || th->doff < 5 ||
		    p->l4 + th->doff * 4 > p->l3 + p->ip_len) {
			*reason = XLB_R_DROP_TRUNC_L4;
			return XDP_DROP;
		}
		p->flow.sport = th->source;
		p->flow.dport = th->dest;
		p->tcp_syn = th->syn && !th->ack;
	} else if (proto == IPPROTO_UDP) {
		struct udphdr *uh = data + (p->l4 & 0xff);

		if ((void *)(uh + 1) > data_end || p->l4 + sizeof(*uh) > p->l3 + p->ip_len) {
			*reason = XLB_R_DROP_TRUNC_L4;
			return XDP_DROP;
		}
		/* a datagram longer than its IP packet would be forwarded cut (RFC 768) */
		if (bpf_ntohs(uh->len) < sizeof(*uh) ||
		    p->l4 + bpf_ntohs(uh->len) > p->l3 + p->ip_len) {
			*reason = XLB_R_DROP_BAD_L4;
			return XDP_DROP;
		}
		p->flow.sport = uh->source;
		p->flow.dport = uh->dest;
	} else if ((proto == IPPROTO_ICMP && p->flow.family == XLB_AF_INET) ||
		   (proto == IPPROTO_ICMPV6 && p->flow.family == XLB_AF_INET6)) {
		return handle_icmp(ctx, p, g, reason);
	} else {
		*reason = lb_is_vip_addr(p->flow.dst, p->flow.family) ? XLB_R_PASS_L4
									: XLB_R_PASS_NO_VIP;
		return XDP_PASS;
	}

	/* Not for a VIP (most of what the node itself receives): one array read. */
	if (!addr_filter_has(XLB_FILTER_VIP, p->flow.dst, p->flow.family))
		return not_for_vip(ctx, p, reason);
	/* A dr flow whose flow cache entry holds its next hop, checked since the
	 * last change, is sent from the entry alone; another flow in this CPU's
	 * flow cache has its record checked; one with a valid connection-table
	 * record needs no lookup by address. A SYN opens a new connection even
	 * on a 5-tuple seen before (a client reusing its port): it is scheduled
	 * on the current ring and recorded afresh, so a draining backend gets no
	 * new connections (Katran does the same). */
	fc = fc_slot(&p->flow);
	epoch = fc_epoch; /* before anything it vouches for is read */
	rc = fc_fast(ctx, p, fc, epoch, reason);
	if (rc != XLB_CONTINUE)
		return rc;
	if (p->tcp_syn || !fc_hit(fc, &p->flow, &c, &vip)) {
		conn_key4(&p->flow, &k4);
		if (p->tcp_syn || !lb_conn_hit(&p->flow, &k4, &c, &vip)) {
			vip = lb_lookup_vip(p->flow.dst, p->flow.family, p->flow.dport, proto, g,
					    &vip_id);
			if (!vip)
				return not_for_vip(ctx, p, reason);
			rc = lb_schedule(&p->flow, vip_id, vip, &k4, 1, &c);
			if (rc != XLB_CONTINUE) {
				*reason = rc;
				return XDP_DROP;
			}
		}
		fc_fill(fc, &p->flow, &c);
	}
	stats_add(&XLB_MAP_STATS_VIP, c.vip_id, p->len, c.new_flow);
	stats_add(&XLB_MAP_STATS_BACKEND, c.be_id, p->len, c.new_flow);
	return fwd_by_mode(ctx, p, vip, &c, g, c.recorded ? fc : NULL, epoch, reason);
}

/* Count a packet in its reason: every packet is counted in exactly one. */
static __always_inline void reason_add(__u32 reason, __u32 len)
{
	struct xlb_reason_stats *rs;

	if (reason >= XLB_R_MAX)
		reason = XLB_R_NONE;
	rs = bpf_map_lookup_elem(&XLB_MAP_STATS_REASON, &reason);
	if (rs) {
		rs->packets++;
		rs->bytes += len;
	}
}

/**
 * fast_ipv4 - the most common packet first: untagged IPv4 without options,
 * TCP (not a SYN) or UDP, of a dr flow whose flow cache entry holds its next
 * hop. It is checked as parse_eth(), parse_ipv4() and handle_ip() would
 * check it, in fewer steps and without filling a struct xlb_pkt, and sent by
 * fc_send(). Anything else, and any miss, returns XLB_CONTINUE before a
 * write: the general way then decides the packet from the start, and reaches
 * the same verdict for what this path takes.
 * The address filter is not asked first: a valid entry is the proof of a VIP
 * flow. That costs other IPv4 TCP and UDP packets (NAT replies, the node's
 * own traffic) one flow cache read before the general way; asking the filter
 * here cost about 2% of the dr packet rate in the lab (make bench, lab_pps),
 * where this path gains about 4%.
 * Returns: an XDP verdict (the packet counted), or XLB_CONTINUE.
 */
static __always_inline int fast_ipv4(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	__u32 len = data_end - data, tot, epoch;
	struct xlb_flow flow = {};
	int rc;

	if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    *(__u8 *)iph != 0x45 /* version 4, IHL 5 */ || (iph->frag_off & bpf_htons(0x3fff)))
		return XLB_CONTINUE;
	tot = bpf_ntohs(iph->tot_len);
	if (sizeof(*eth) + tot > len)
		return XLB_CONTINUE;
	if (iph->protocol == IPPROTO_TCP) {
		struct tcphdr *th = (void *)(iph + 1);

		if ((void *)(th + 1) > data_end || th->doff < 5 ||
		    sizeof(*iph) + th->doff * 4 > tot || (th->syn && !th->ack))
			return XLB_CONTINUE;
	} else if (iph->protocol == IPPROTO_UDP) {
		struct udphdr *uh = (void *)(iph + 1);

		if ((void *)(uh + 1) > data_end || bpf_ntohs(uh->len) < sizeof(*uh) ||
		    sizeof(*iph) + bpf_ntohs(uh->len) > tot)
			return XLB_CONTINUE;
	} else {
		return XLB_CONTINUE;
	}
	*(__u32 *)flow.src = iph->saddr;
	*(__u32 *)flow.dst = iph->daddr;
	*(__u32 *)&flow.sport = *(__u32 *)(iph + 1); /* both ports, as in the packet */
	flow.proto = iph->protocol;
	flow.family = XLB_AF_INET;
	epoch = fc_epoch; /* before anything it vouches for is read */
	rc = fc_send(ctx, fc_slot(&flow), &flow, epoch, tot, len, 0);
	if (rc != XLB_CONTINUE)
		reason_add(XLB_R_FWD_DR, len);
	return rc;
}

SEC("xdp")
int xlb_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xlb_pkt p = {};
	__u32 reason = XLB_R_NONE;
	int action, rc;

	rc = fast_ipv4(ctx);
	if (rc != XLB_CONTINUE)
		return rc;
	p.len = data_end - data;
	rc = parse_eth(data, data_end, &p);
	if (rc == XLB_CONTINUE)
		rc = p.l3_proto == ETH_P_IP ? parse_ipv4(data, data_end, &p)
					    : parse_ipv6(data, data_end, &p);
	if (rc == XLB_CONTINUE) {
		action = handle_ip(ctx, &p, &reason);
	} else {
		reason = rc;
		action = reason_verdict(reason);
	}
	/* The single exit of the general way. */
	reason_add(reason, p.len);
	return action;
}

/*
 * Health checks through the data path (`target: vip`). A probe socket that
 * connects to a VIP carries an SO_MARK naming its backend in xlb_hc_targets.
 * Its packets are routed by the kernel towards the VIP (out of lo when this
 * node holds the VIP, else out of a device xlb_xdp is on); here, at that
 * device's egress, they are sent on the way xlb_xdp sends the VIP's traffic
 * to that backend: IPIP / IP6IP6 to it (tunnel), or unchanged to its MAC
 * (dr). A backend that does not hold the VIP then fails the check. Replies
 * come back from the VIP to the probe's source address like any reply.
 * A marked packet that cannot be steered is dropped, never passed on: the
 * local VIP would answer it and the check would pass for nothing.
 */

/* Count one steering result; returns @verdict. */
static __always_inline int hc_count(__u32 result, int verdict)
{
	__u64 *n = bpf_map_lookup_elem(&XLB_MAP_STATS_HC, &result);

	if (n)
		*n += 1;
	return verdict;
}

/* Push an outer IPv4 header to @t's backend (as fwd_tunnel() builds it). */
static __always_inline int hc_encap4(struct __sk_buff *skb, const struct xlb_hc_val *t,
				     const struct xlb_globals *g)
{
	struct iphdr inner, o = {};

	if (bpf_skb_load_bytes(skb, ETH_HLEN, &inner, sizeof(inner)))
		return -1;
	if (bpf_skb_adjust_room(skb, sizeof(o), BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_ENCAP_L3_IPV4))
		return -1;
	o.version = 4;
	o.ihl = 5;
	o.tos = inner.tos;
	o.tot_len = bpf_htons(bpf_ntohs(inner.tot_len) + sizeof(o));
	o.frag_off = inner.frag_off & bpf_htons(XLB_IP_DF);
	o.ttl = 64;
	o.protocol = IPPROTO_IPIP;
	o.saddr = g && g->tun_src4 ? g->tun_src4 : inner.saddr;
	o.daddr = *(const __u32 *)t->addr;
	o.check = csum_ipv4_hdr20(&o);
	return bpf_skb_store_bytes(skb, ETH_HLEN, &o, sizeof(o), 0);
}

/* Push an outer IPv6 header to @t's backend (as fwd_tunnel() builds it). */
static __always_inline int hc_encap6(struct __sk_buff *skb, const struct xlb_hc_val *t,
				     const struct xlb_globals *g)
{
	struct ipv6hdr inner, o = {};

	if (bpf_skb_load_bytes(skb, ETH_HLEN, &inner, sizeof(inner)))
		return -1;
	if (bpf_skb_adjust_room(skb, sizeof(o), BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_ENCAP_L3_IPV6))
		return -1;
	/* version, traffic class and flow label as the inner packet's */
	*(__be32 *)&o = *(__be32 *)&inner;
	o.payload_len = bpf_htons(bpf_ntohs(inner.payload_len) + sizeof(inner));
	o.nexthdr = IPPROTO_IPV6;
	o.hop_limit = 64;
	if (g && (*(__u64 *)g->tun_src6 | *(__u64 *)&g->tun_src6[8]))
		__builtin_memcpy(&o.saddr, g->tun_src6, 16);
	else
		o.saddr = inner.saddr;
	__builtin_memcpy(&o.daddr, t->addr, 16);
	return bpf_skb_store_bytes(skb, ETH_HLEN, &o, sizeof(o), 0);
}

SEC("tc")
int xlb_hc_egress(struct __sk_buff *skb)
{
	__u32 mark = skb->mark;
	struct bpf_fib_lookup fib = {};
	struct xlb_hc_val *t;
	int rc, v4, tunnel, hlen;
	__u8 l4 = 0;

	if (!mark) /* every unmarked packet of the device: one compare */
		return TC_ACT_OK;
	t = bpf_map_lookup_elem(&XLB_MAP_HC_TARGETS, &mark);
	if (!t)
		return TC_ACT_OK;
	v4 = t->family == XLB_AF_INET;
	if (skb->protocol != (v4 ? bpf_htons(ETH_P_IP) : bpf_htons(ETH_P_IPV6)))
		return hc_count(XLB_HC_BAD, TC_ACT_SHOT);
	tunnel = t->mode == XLB_MODE_TUNNEL;
	hlen = !tunnel ? 0 : v4 ? (int)sizeof(struct iphdr) : (int)sizeof(struct ipv6hdr);
	if (tunnel)
		l4 = v4 ? IPPROTO_IPIP : IPPROTO_IPV6;
	else if (bpf_skb_load_bytes(skb, ETH_HLEN + (v4 ? 9 : 6), &l4, 1))
		return hc_count(XLB_HC_BAD, TC_ACT_SHOT);

	/* the route xlb_xdp would take towards the backend (nh_resolve()) */
	fib.family = t->family;
	fib.ifindex = t->in_ifindex;
	fib.l4_protocol = l4;
	fib.tot_len = skb->len - ETH_HLEN + hlen;
	__builtin_memcpy(fib.ipv6_dst, t->addr, 16); /* IPv4: the first 4 bytes, the rest 0 */
	rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED)
		return hc_count(XLB_HC_TOO_BIG, TC_ACT_SHOT);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return hc_count(XLB_HC_NO_ROUTE, TC_ACT_SHOT);
	/* dr: the next hop must be the backend itself (fwd_dr()) */
	if (!tunnel && !addr_eq(t->family, (const __u8 *)fib.ipv6_dst, t->addr))
		return hc_count(XLB_HC_NO_ROUTE, TC_ACT_SHOT);

	if (tunnel && (v4 ? hc_encap4(skb, t, globals_get()) : hc_encap6(skb, t, globals_get())))
		return hc_count(XLB_HC_BAD, TC_ACT_SHOT);
	/* steered once: the device it is sent out of runs this program too */
	skb->mark = 0;
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		/* the kernel resolves the next hop's MAC (and queues meanwhile) */
		struct bpf_redir_neigh nh = {};

		nh.nh_family = t->family;
		__builtin_memcpy(nh.ipv6_nh, fib.ipv6_dst, 16);
		return hc_count(XLB_HC_NEIGH, bpf_redirect_neigh(fib.ifindex, &nh, sizeof(nh), 0));
	}
	if (bpf_skb_store_bytes(skb, 0, fib.dmac, ETH_ALEN, 0) ||
	    bpf_skb_store_bytes(skb, ETH_ALEN, fib.smac, ETH_ALEN, 0))
		return hc_count(XLB_HC_BAD, TC_ACT_SHOT);
	return hc_count(XLB_HC_STEERED, bpf_redirect(fib.ifindex, 0));
}

char LICENSE[] SEC("license") = "GPL";
