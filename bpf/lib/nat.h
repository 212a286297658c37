/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nat.h - nat mode: destination rewrite towards the backend with a reverse
 * entry in xlb_nat, and the backend's replies rewritten back to the VIP.
 */
#ifndef XLB_NAT_H
#define XLB_NAT_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include "../xlb_abi.h"
#include "csum.h"
#include "parse.h"
#include "stats.h"
#include "conntrack.h"
#include "nexthop.h"

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

#endif /* XLB_NAT_H */
