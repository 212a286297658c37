/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * parse.h - Ethernet / 802.1Q / IPv4 / IPv6 / L4 parsing for the XDP program.
 *
 * Parsing fills a struct xlb_pkt: offsets of each layer and the flow. Every
 * bounds check the verifier wants, and the length checks that keep a
 * malformed packet from being forwarded; nothing more.
 */
#ifndef XLB_PARSE_H
#define XLB_PARSE_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../xlb_abi.h"

/* 802.1Q/802.1ad tags followed (QinQ is two); deeper stacks are passed as non-IP. */
#ifndef XLB_VLAN_MAX_DEPTH
#define XLB_VLAN_MAX_DEPTH 2
#endif

/* IPv6 extension headers walked before giving up (the verifier needs a bound). */
#ifndef XLB_IPV6_EXT_MAX
#define XLB_IPV6_EXT_MAX 6
#endif

/* Largest L4 offset handled; packet offsets are masked with 0xff (quoted
 * headers inside ICMP errors with 0x1ff) for the verifier. */
#define XLB_L4_OFF_MAX 255

#define XLB_CONTINUE (-1)

struct vlan_hdr {
	__be16 tci;
	__be16 proto;
};

/* What parsing learnt about one packet. */
struct xlb_pkt {
	__u32 len;	/* frame length as received */
	__u32 l3;	/* offset of the IP header (14, 18 or 22) */
	__u32 l4;	/* offset of the L4 header */
	__u32 ip_len;	/* bytes of the IP packet (header + payload, no L2 padding) */
	__u16 l3_proto; /* ETH_P_IP / ETH_P_IPV6, host order */
	__u8 vlans;	/* number of VLAN tags */
	__u8 tos;	/* IPv4 TOS / IPv6 traffic class */
	__u32 tcp_syn;	/* a TCP SYN without ACK: the first packet of a connection */
	struct xlb_flow flow;
};

/**
 * parse_eth - Ethernet header and up to XLB_VLAN_MAX_DEPTH VLAN tags.
 * Returns: XLB_CONTINUE with p->l3 and p->l3_proto set, or a reason.
 */
static __always_inline int parse_eth(void *data, void *data_end, struct xlb_pkt *p)
{
	struct ethhdr *eth = data;
	__u32 off = sizeof(*eth);
	__u16 proto;

	if ((void *)(eth + 1) > data_end)
		return XLB_R_DROP_TRUNC_ETH;
	proto = bpf_ntohs(eth->h_proto);

#pragma unroll
	for (int i = 0; i < XLB_VLAN_MAX_DEPTH; i++) {
		struct vlan_hdr *vh = data + off;

		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		if ((void *)(vh + 1) > data_end)
			return XLB_R_DROP_TRUNC_ETH;
		proto = bpf_ntohs(vh->proto);
		off += sizeof(*vh);
		p->vlans++;
	}
	if (proto != ETH_P_IP && proto != ETH_P_IPV6)
		return XLB_R_PASS_NOT_IP;
	p->l3 = off;
	p->l3_proto = proto;
	return XLB_CONTINUE;
}

/**
 * parse_ipv4 - IPv4 header of any IHL.
 * Returns: XLB_CONTINUE with p->l4, p->ip_len and the flow's addresses and
 * proto set, or a reason (fragments are passed to the kernel).
 */
static __always_inline int parse_ipv4(void *data, void *data_end, struct xlb_pkt *p)
{
	struct iphdr *iph = data + p->l3;
	__u32 hlen, tot;

	if ((void *)(iph + 1) > data_end)
		return XLB_R_DROP_TRUNC_IP;
	if (iph->version != 4 || iph->ihl < 5)
		return XLB_R_DROP_BAD_IP;
	hlen = iph->ihl * 4;
	if (data + p->l3 + hlen > data_end)
		return XLB_R_DROP_TRUNC_IP;
	tot = bpf_ntohs(iph->tot_len);
	if (tot < hlen || p->l3 + tot > p->len)
		return XLB_R_DROP_BAD_IP;
	if (iph->frag_off & bpf_htons(0x3fff)) /* MF or a fragment offset */
		return XLB_R_PASS_FRAGMENT;

	p->l4 = p->l3 + hlen;
	p->ip_len = tot;
	p->tos = iph->tos;
	p->flow.family = XLB_AF_INET;
	p->flow.proto = iph->protocol;
	*(__u32 *)p->flow.src = iph->saddr;
	*(__u32 *)p->flow.dst = iph->daddr;
	return XLB_CONTINUE;
}

/**
 * parse_ipv6 - IPv6 header and its extension headers.
 * Returns: as parse_ipv4; a fragment header, or a routing header with
 * segments left, passes the packet to the kernel.
 */
static __always_inline int parse_ipv6(void *data, void *data_end, struct xlb_pkt *p)
{
	struct ipv6hdr *ip6 = data + p->l3;
	__u32 off = p->l3 + sizeof(*ip6);
	__u8 nh;

	if ((void *)(ip6 + 1) > data_end)
		return XLB_R_DROP_TRUNC_IP;
	if (ip6->version != 6)
		return XLB_R_DROP_BAD_IP;
	p->ip_len = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
	if (p->l3 + p->ip_len > p->len)
		return XLB_R_DROP_BAD_IP;
	nh = ip6->nexthdr;

#pragma unroll
	for (int i = 0; i < XLB_IPV6_EXT_MAX; i++) {
		__u8 *ext = data + off;

		if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_ROUTING && nh != IPPROTO_DSTOPTS &&
		    nh != IPPROTO_FRAGMENT && nh != IPPROTO_AH)
			goto done;
		if (nh == IPPROTO_FRAGMENT)
			return XLB_R_PASS_FRAGMENT;
		if ((void *)(ext + 2) > data_end)
			return XLB_R_DROP_IPV6_EXT;
		/* AH counts its length in 4-octet units minus 2 (RFC 4302 §2.2),
		 * the others in 8-octet units minus 1 (RFC 8200 §4.3) */
		if (nh == IPPROTO_AH)
			off += (ext[1] + 2) * 4;
		else
			off += (ext[1] + 1) * 8;
		/* A routing header with segments left names the next node of the
		 * route: this is not the final destination (RFC 8200 §4.4; type 0
		 * is answered with a parameter problem, RFC 5095). The kernel
		 * decides, whatever the type. A cut one is dropped first. */
		if (nh == IPPROTO_ROUTING) {
			if ((void *)(ext + 4) > data_end || off > p->l3 + p->ip_len)
				return XLB_R_DROP_IPV6_EXT;
			if (ext[3])
				return XLB_R_PASS_IPV6_ROUTING;
		}
		nh = ext[0];
	}
	return XLB_R_PASS_IPV6_EXT;
done:
	if (off > p->l3 + p->ip_len)
		return XLB_R_DROP_IPV6_EXT;
	if (off > XLB_L4_OFF_MAX)
		return XLB_R_PASS_IPV6_EXT;
	p->l4 = off;
	p->tos = (ip6->priority << 4) | (ip6->flow_lbl[0] >> 4);
	p->flow.family = XLB_AF_INET6;
	p->flow.proto = nh;
	__builtin_memcpy(p->flow.src, &ip6->saddr, 16);
	__builtin_memcpy(p->flow.dst, &ip6->daddr, 16);
	return XLB_CONTINUE;
}

#endif /* XLB_PARSE_H */
