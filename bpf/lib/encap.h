/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * encap.h - tunnel mode: IPIP / IP6IP6 encapsulation towards the backend.
 *
 * Room is made in front of the IP header (bpf_xdp_adjust_head), the L2
 * header and its VLAN tags move to the new front, and the outer header is
 * written; the outer source is configured or the kernel's choice.
 */
#ifndef XLB_ENCAP_H
#define XLB_ENCAP_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../xlb_abi.h"
#include "csum.h"
#include "hash.h"
#include "parse.h"
#include "conntrack.h"
#include "nexthop.h"

#define XLB_IP_DF 0x4000 /* IPv4 "don't fragment" flag */

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

#endif /* XLB_ENCAP_H */
