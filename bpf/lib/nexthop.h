/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nexthop.h - the next hop towards a backend and the L2 send.
 *
 * bpf_fib_lookup() keeps the kernel's routes and neighbours the truth;
 * xlb_nh_cache holds its answer per CPU and backend for nh_cache_jiffies.
 * fwd_l2_out() writes the next hop's MACs and picks XDP_TX or a redirect.
 */
#ifndef XLB_NEXTHOP_H
#define XLB_NEXTHOP_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include "../xlb_abi.h"
#include "maps.h"
#include "parse.h"
#include "stats.h"

#ifndef BPF_FIB_LOOKUP_SRC
#define BPF_FIB_LOOKUP_SRC (1U << 4) /* Linux 6.8: fill in the preferred source address */
#endif

/* ipv4_dst shares its first bytes with ipv6_dst in struct bpf_fib_lookup. */
static __always_inline int addr_eq(__u8 family, const __u8 *a, const __u8 *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	if (family == XLB_AF_INET)
		return x[0] == y[0];
	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
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

#endif /* XLB_NEXTHOP_H */
