/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * stats.h - the counters: one reason per packet, per-VIP and per-backend
 * packets, bytes and new flows, and the events that are not a per-packet outcome.
 */
#ifndef XLB_STATS_H
#define XLB_STATS_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "../xlb_abi.h"
#include "maps.h"

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

#endif /* XLB_STATS_H */
