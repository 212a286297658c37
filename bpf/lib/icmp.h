/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * icmp.h - ICMP and ICMPv6 to a VIP.
 *
 * Echo requests are answered in place (XDP_TX); "fragmentation needed" /
 * "packet too big" about a VIP flow go to the backend that owns the quoted
 * flow, translated in nat mode; the rest goes to the kernel.
 */
#ifndef XLB_ICMP_H
#define XLB_ICMP_H

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
#include "parse.h"
#include "vip.h"
#include "conntrack.h"
#include "maglev.h"
#include "nexthop.h"
#include "forward.h"

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

#endif /* XLB_ICMP_H */
