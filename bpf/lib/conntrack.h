/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * conntrack.h - the connection tables: a flow's recorded backend, the check
 * that the record still holds, and the per-CPU budget of new records.
 */
#ifndef XLB_CONNTRACK_H
#define XLB_CONNTRACK_H

#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include "../xlb_abi.h"
#include "maps.h"

/* The backend chosen for a packet. */
struct xlb_choice {
	struct xlb_backend_val *be;
	__u32 be_id;
	__u32 vip_id;
	__u16 vip_gen;	/* the VIP's generation when chosen */
	__u8 new_flow;	/* chosen from the ring */
	__u8 recorded;	/* in the connection table (found there or written) */
};

#define NSEC_PER_SEC 1000000000ULL

/*
 * The connection tables: IPv4 flows under a compact key (@k4, filled by
 * conn_key4), IPv6 flows under the flow itself. Each branch names its map:
 * with a map pointer chosen at run time the verifier can no longer call the
 * map's own lookup directly, and the indirect call costs about 20 ns a packet.
 */
static __always_inline void conn_key4(const struct xlb_flow *flow, struct xlb_flow4 *k4)
{
	k4->src = *(const __u32 *)flow->src;
	k4->dst = *(const __u32 *)flow->dst;
	k4->sport = flow->sport;
	k4->dport = flow->dport;
	k4->proto = flow->proto;
}

static __always_inline struct xlb_conn_val *conn_lookup(const struct xlb_flow *flow,
							const struct xlb_flow4 *k4)
{
	if (flow->family == XLB_AF_INET)
		return bpf_map_lookup_elem(&XLB_MAP_CONNS4, k4);
	return bpf_map_lookup_elem(&XLB_MAP_CONNS6, flow);
}

static __always_inline long conn_update(const struct xlb_flow *flow, const struct xlb_flow4 *k4,
					const struct xlb_conn_val *val)
{
	if (flow->family == XLB_AF_INET)
		return bpf_map_update_elem(&XLB_MAP_CONNS4, k4, val, BPF_ANY);
	return bpf_map_update_elem(&XLB_MAP_CONNS6, flow, val, BPF_ANY);
}

/**
 * lb_choice_check - whether a recorded choice still holds: its VIP id still
 * carries the same generation and the backend is still up and the VIP's.
 * Draining backends (weight 0, out of the ring) are still up.
 * Returns: 1 with @c and *vipp filled, or 0.
 */
static __always_inline int lb_choice_check(__u32 vip_id, __u16 vip_gen, __u32 id,
					   struct xlb_choice *c, struct xlb_vip_val **vipp)
{
	struct xlb_backend_val *be;
	struct xlb_vip_val *vip;

	vip = bpf_map_lookup_elem(&XLB_MAP_VIP_TABLE, &vip_id);
	if (!vip || !(vip->flags & XLB_VIP_F_ACTIVE) || vip->gen != vip_gen)
		return 0;
	be = bpf_map_lookup_elem(&XLB_MAP_BACKENDS, &id);
	if (!be || !(be->flags & XLB_BE_F_UP) || be->vip_id != vip_id)
		return 0;
	c->be = be;
	c->be_id = id;
	c->vip_id = vip_id;
	c->vip_gen = vip_gen;
	c->new_flow = 0;
	c->recorded = 1;
	*vipp = vip;
	return 1;
}

/* The backend a flow was given, if its connection-table record still holds. */
static __always_inline int lb_conn_hit(const struct xlb_flow *flow, const struct xlb_flow4 *k4,
				       struct xlb_choice *c, struct xlb_vip_val **vipp)
{
	struct xlb_conn_val *conn = conn_lookup(flow, k4);

	return conn && lb_choice_check(conn->vip_id, conn->vip_gen, conn->backend_id, c, vipp);
}

/**
 * conn_may_record - the new-flow budget of this CPU: conn_rate_limit flows
 * per window of at least a second. The clock is read only once the budget
 * is spent, so flows within it cost no time lookup.
 * Returns: 1 if a new flow may go into the connection table.
 */
static __always_inline int conn_may_record(void)
{
	struct xlb_cpu_state *st;
	__u32 zero = 0;
	__u64 now;

	if (!conn_rate_limit)
		return 1;
	st = bpf_map_lookup_elem(&XLB_MAP_CPU, &zero);
	if (!st)
		return 1;
	if (++st->new_flows <= conn_rate_limit && st->window_ns)
		return 1;
	now = bpf_ktime_get_coarse_ns();
	if (st->window_ns && now - st->window_ns < NSEC_PER_SEC)
		return 0;
	st->window_ns = now; /* a new window, this flow its first */
	st->new_flows = 1;
	return 1;
}

#endif /* XLB_CONNTRACK_H */
