/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * flow_cache.h - the per-CPU flow cache in front of the connection tables.
 *
 * An entry is a copy of a connection-table record, checked on use as a
 * record is; a dr flow's entry also holds its next hop, and its frames are
 * sent from the entry alone while fc_epoch is unchanged (fc_send()).
 */
#ifndef XLB_FLOW_CACHE_H
#define XLB_FLOW_CACHE_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include "../xlb_abi.h"
#include "maps.h"
#include "hash.h"
#include "parse.h"
#include "stats.h"
#include "conntrack.h"
#include "nexthop.h"

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

#endif /* XLB_FLOW_CACHE_H */
