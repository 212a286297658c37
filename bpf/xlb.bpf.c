// SPDX-License-Identifier: GPL-2.0-only
/*
 * xlb.bpf.c - the xlb L4 forwarder (XDP), and the tc program that steers
 * health checks through it.
 *
 * Per packet: parse, answer BFD echo (UDP 3785), look the destination up
 * in xlb_vips, find the flow in the connection table or pick a backend from
 * the VIP's Maglev ring, then forward by the VIP's mode (dr / tunnel / nat)
 * to the next hop that bpf_fib_lookup gives. Everything that is not for a VIP goes to the kernel.
 * Every packet is counted in exactly one xlb_stats_reason slot, at the single
 * exit of xlb_xdp().
 *
 * This file is that story; each step lives in a header-only piece under
 * lib/ (static __always_inline, one translation unit):
 *   parse.h       Ethernet, VLAN, IPv4, IPv6 and its extension headers
 *   vip.h         address filter and VIP lookup
 *   conntrack.h   connection tables, record checks, new-flow budget
 *   maglev.h      a new flow's backend from the ring (hash.h: the flow hash)
 *   flow_cache.h  per-CPU flow cache, and the dr send from an entry alone
 *   nexthop.h     route and neighbour (bpf_fib_lookup, cached), L2 send
 *   forward.h     dr, and the send by mode: encap.h (tunnel), nat.h (nat
 *                 and its replies)
 *   icmp.h        echo replies, frag-needed / packet-too-big to the backend
 *   bfd.h         BFD echo: peers' reflected, our own timestamped
 *   stats.h       reason, VIP, backend and event counters
 *   maps.h        load-time knobs and maps; csum.h checksums; hc.h helpers
 *                 of xlb_hc_egress
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
#include "lib/maps.h"
#include "lib/stats.h"
#include "lib/parse.h"
#include "lib/vip.h"
#include "lib/conntrack.h"
#include "lib/maglev.h"
#include "lib/nexthop.h"
#include "lib/flow_cache.h"
#include "lib/encap.h"
#include "lib/nat.h"
#include "lib/forward.h"
#include "lib/icmp.h"
#include "lib/bfd.h"
#include "lib/hc.h"

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
		/* BFD echo, before any VIP lookup: one compare for every other datagram */
		if (uh->dest == bpf_htons(XLB_BFD_PORT_ECHO)) {
			rc = bfd_echo(ctx, p, reason);
			if (rc != XLB_CONTINUE)
				return rc;
		}
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

/**
 * fast_bfd_echo - a datagram to the BFD echo port that fast_ipv4() has
 * checked (untagged IPv4, no options, not a fragment, the UDP length within
 * the packet): decided by bfd_echo() as the general way would decide it,
 * without parsing it again. A peer's echo comes at its sender's full rate;
 * through the general way it cost 1.38 floors in bpf_ns against a dr hit's
 * 1.27.
 * Returns: an XDP verdict (the packet counted), or XLB_CONTINUE for a
 * datagram that may be a VIP's (the general way takes it from the start).
 */
static __always_inline int fast_bfd_echo(struct xdp_md *ctx, const struct iphdr *iph, __u32 len,
					 __u32 tot)
{
	const struct udphdr *uh = (const void *)(iph + 1);
	__u32 reason = XLB_R_NONE;
	struct xlb_pkt p = {};
	int rc;

	p.len = len;
	p.l3 = sizeof(struct ethhdr);
	p.l4 = p.l3 + sizeof(*iph);
	p.ip_len = tot;
	p.l3_proto = ETH_P_IP;
	p.tos = iph->tos;
	*(__u32 *)p.flow.src = iph->saddr;
	*(__u32 *)p.flow.dst = iph->daddr;
	p.flow.sport = uh->source;
	p.flow.dport = uh->dest;
	p.flow.proto = IPPROTO_UDP;
	p.flow.family = XLB_AF_INET;
	rc = bfd_echo(ctx, &p, &reason);
	if (rc != XLB_CONTINUE)
		reason_add(reason, len);
	return rc;
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
 * A UDP datagram to the BFD echo port is handed to fast_bfd_echo() here.
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
		if (uh->dest == bpf_htons(XLB_BFD_PORT_ECHO))
			return fast_bfd_echo(ctx, iph, len, tot);
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
