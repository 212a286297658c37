/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * maglev.h - a new flow's backend from its VIP's Maglev ring (the control
 * plane builds the rings, src/lb/maglev.ts), recorded in the connection table.
 */
#ifndef XLB_MAGLEV_H
#define XLB_MAGLEV_H

#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include "../xlb_abi.h"
#include "maps.h"
#include "hash.h"
#include "parse.h"
#include "stats.h"
#include "conntrack.h"

/**
 * lb_schedule - pick a backend from the VIP's Maglev ring (a flow without a
 * valid record: new, or its backend removed / down) and record the choice.
 * @create: record it in the connection table (not for ICMP errors)
 * Returns: XLB_CONTINUE with @c filled, or a drop reason.
 */
static __always_inline int lb_schedule(const struct xlb_flow *flow, __u32 vip_id,
				       const struct xlb_vip_val *vip, const struct xlb_flow4 *k4,
				       int create, struct xlb_choice *c)
{
	struct xlb_conn_val nconn = {};
	struct xlb_backend_val *be;
	__u32 idx, id, pos;

	pos = flow_hash(flow, vip->flags & XLB_VIP_F_PERSIST) % ring_size;
	idx = vip->ring * ((ring_size + XLB_RING_CHUNK - 1) / XLB_RING_CHUNK) + pos / XLB_RING_CHUNK;
	{
		struct xlb_ring_chunk *chunk = bpf_map_lookup_elem(&XLB_MAP_RINGS, &idx);

		if (!chunk)
			return XLB_R_DROP_NO_BACKEND;
		id = chunk->ids[pos & (XLB_RING_CHUNK - 1)];
		if (!id)
			return XLB_R_DROP_NO_BACKEND;
	}
	be = bpf_map_lookup_elem(&XLB_MAP_BACKENDS, &id);
	if (!be || !(be->flags & XLB_BE_F_UP))
		return XLB_R_DROP_NO_BACKEND;
	if (be->family != flow->family) /* 4in6 / 6in4 are not offered */
		return XLB_R_DROP_BAD_BACKEND;
	c->be = be;
	c->be_id = id;
	c->vip_id = vip_id;
	c->vip_gen = vip->gen;
	c->new_flow = create;
	c->recorded = 0;
	if (!create)
		return XLB_CONTINUE;
	/* nat flows are always recorded: their replies need the reverse entry anyway */
	if (vip->mode != XLB_MODE_NAT && !conn_may_record()) {
		event_add(XLB_EV_CONN_FLOOD_SKIP);
		return XLB_CONTINUE;
	}
	nconn.backend_id = id;
	nconn.vip_id = vip_id;
	nconn.vip_gen = vip->gen;
	if (conn_update(flow, k4, &nconn)) {
		event_add(XLB_EV_CONN_INSERT_FAIL);
	} else {
		event_add(XLB_EV_CONN_NEW);
		c->recorded = 1;
	}
	return XLB_CONTINUE;
}

#endif /* XLB_MAGLEV_H */
