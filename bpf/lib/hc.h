/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hc.h - helpers of xlb_hc_egress, the tc program that steers health
 * checks of `target: vip` through the data path (see bpf/xlb.bpf.c).
 */
#ifndef XLB_HC_H
#define XLB_HC_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../xlb_abi.h"
#include "maps.h"
#include "csum.h"
#include "encap.h"

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

#endif /* XLB_HC_H */
