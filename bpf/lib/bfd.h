/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bfd.h - BFD echo (RFC 5880 §6.4, RFC 5881 §4) in the data path.
 *
 * A UDP datagram to port 3785 is one of three things here: our own echo
 * come back from a peer, timestamped in its slot of xlb_bfd_echo and
 * dropped; a reflect peer's echo, sent straight back (XDP_TX); or anything
 * else, which goes to the kernel (or on through the program, when it may be
 * a VIP's datagram or a nat reply). What a reflected echo looks like, and
 * why, is in xlb_abi.h above enum xlb_bfd_consts.
 * Only echo-port datagrams get here: every other packet pays one compare.
 */
#ifndef XLB_BFD_H
#define XLB_BFD_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../xlb_abi.h"
#include "maps.h"
#include "csum.h"
#include "parse.h"
#include "vip.h"
#include "nexthop.h"

/**
 * bfd_own_echo - is this our own echo come back? If so, record it in its
 * slot: the sequence number, the time, one more echo.
 * The payload must be a whole struct xlb_bfd_echo_pkt inside the datagram,
 * with the magic, and name a slot in use by the same discriminator and
 * family. The TTL is not asked: the peer forwarded it (FRR: 254), but any
 * value proves the path. A forged one needs the slot, the discriminator and
 * a sequence number the runtime sent (it checks the last).
 * Returns: 1 when recorded, 0 when it is not ours.
 */
static __always_inline int bfd_own_echo(void *data, void *data_end, struct xlb_pkt *p)
{
	struct udphdr *uh = data + (p->l4 & 0xff);
	struct xlb_bfd_echo_pkt *e = (void *)(uh + 1);
	struct xlb_bfd_echo_slot *s;
	__u32 slot;

	/* the UDP length was checked against the IP packet: the payload is not L2 padding */
	if ((void *)(e + 1) > data_end || bpf_ntohs(uh->len) < sizeof(*uh) + sizeof(*e) ||
	    e->magic != bpf_htonl(XLB_BFD_ECHO_MAGIC))
		return 0;
	slot = bpf_ntohl(e->slot);
	s = bpf_map_lookup_elem(&XLB_MAP_BFD_ECHO, &slot);
	if (!s || !s->discr || s->discr != bpf_ntohl(e->discr) || s->family != p->flow.family)
		return 0;
	/* seq and time first: a reader that sees count move reads them after */
	s->last_seq = bpf_ntohl(e->seq);
	s->last_ns = bpf_ktime_get_ns();
	__sync_fetch_and_add(&s->count, 1);
	return 1;
}

/**
 * bfd_reflect - send a reflect peer's echo back where it came from: the
 * Ethernet and IP addresses swapped (the IP swap changes nothing for an echo
 * sent to its sender's own address), TTL / hop limit 255 -> 254 with the
 * IPv4 header checksum updated (RFC 1624). Neither the addresses' order nor
 * the TTL is in the UDP checksum.
 * Returns: XDP_TX, or XDP_DROP when the TTL is not 255 (XLB_R_DROP_BFD_ECHO_TTL).
 */
static __always_inline int bfd_reflect(void *data, void *data_end, struct xlb_pkt *p,
				       __u32 *reason)
{
	struct ethhdr *eth = data;
	__u8 mac[ETH_ALEN];

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (p->flow.family == XLB_AF_INET) {
		struct iphdr *iph = data + (p->l3 & 0x1f);
		__u16 old;
		__u32 a;

		if ((void *)(iph + 1) > data_end)
			return XDP_DROP;
		if (iph->ttl != XLB_BFD_ECHO_TTL)
			goto bad_ttl;
		old = *(__u16 *)&iph->ttl; /* TTL and protocol: one checksum word */
		iph->ttl--;
		csum_replace2(&iph->check, old, *(__u16 *)&iph->ttl);
		a = iph->saddr;
		iph->saddr = iph->daddr;
		iph->daddr = a;
	} else {
		struct ipv6hdr *ip6 = data + (p->l3 & 0x1f);
		struct in6_addr a;

		if ((void *)(ip6 + 1) > data_end)
			return XDP_DROP;
		if (ip6->hop_limit != XLB_BFD_ECHO_TTL)
			goto bad_ttl;
		ip6->hop_limit--;
		a = ip6->saddr;
		ip6->saddr = ip6->daddr;
		ip6->daddr = a;
	}
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	*reason = XLB_R_TX_BFD_ECHO;
	return XDP_TX;
bad_ttl:
	/* forwarded by some router: not the neighbour's echo, or one already
	 * reflected. Not passed: the kernel would forward it back all the same. */
	*reason = XLB_R_DROP_BFD_ECHO_TTL;
	return XDP_DROP;
}

/**
 * bfd_peer_flags - the xlb_bfd_peers flags of the datagram's source, 0 when
 * it is no peer. The answer for the last source seen on this CPU is kept
 * under the fc_epoch it was read with: echo comes from a few peers at high
 * rates, and the hash lookup was a third of the reflect path's cost (about
 * 60 of 190 ns a packet in `make bench`'s bpf_ns.bfd_echo on the 2-vCPU VM).
 * The epoch is read before the peers map, so that a change made between the
 * two leaves an entry that is already stale.
 */
static __always_inline __u32 bfd_peer_flags(const struct xlb_pkt *p)
{
	struct xlb_bfd_peer_cache *c;
	struct xlb_bfd_peer_val *peer;
	struct xlb_addr_key k = {};
	__u32 zero = 0, epoch = fc_epoch, flags;

	c = bpf_map_lookup_elem(&XLB_MAP_BFD_PEER_CACHE, &zero);
	if (c && c->epoch == epoch && c->family == p->flow.family &&
	    addr_eq(p->flow.family, c->addr, p->flow.src))
		return c->flags;
	__builtin_memcpy(k.addr, p->flow.src, sizeof(k.addr));
	k.family = p->flow.family;
	peer = bpf_map_lookup_elem(&XLB_MAP_BFD_PEERS, &k);
	flags = peer ? peer->flags : 0;
	if (c) {
		__builtin_memcpy(c->addr, k.addr, sizeof(c->addr));
		c->family = k.family;
		c->flags = flags;
		c->epoch = epoch;
	}
	return flags;
}

/**
 * bfd_echo - a UDP datagram to the echo port (header and length checked).
 * A reflect peer's datagram is echo whatever its destination: a peer is a
 * router, not a client of a VIP on this port.
 * Returns: an XDP verdict with *reason set, or XLB_CONTINUE for a datagram
 * that is no echo of ours nor a peer's but may be a VIP's or a nat reply.
 */
static __always_inline int bfd_echo(struct xdp_md *ctx, struct xlb_pkt *p, __u32 *reason)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (bfd_own_echo(data, data_end, p)) {
		*reason = XLB_R_DROP_BFD_ECHO_OWN;
		return XDP_DROP;
	}
	if (bfd_peer_flags(p) & XLB_BFD_PEER_F_REFLECT)
		return bfd_reflect(data, data_end, p, reason);
	if (addr_filter_has(XLB_FILTER_VIP, p->flow.dst, p->flow.family) ||
	    addr_filter_has(XLB_FILTER_NAT_SRC, p->flow.src, p->flow.family))
		return XLB_CONTINUE;
	/* the node's own BFD, if any, or the kernel's forwarding */
	*reason = XLB_R_PASS_BFD_ECHO;
	return XDP_PASS;
}

#endif /* XLB_BFD_H */
