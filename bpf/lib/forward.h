/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * forward.h - dr mode, and the send of a packet by its VIP's mode.
 */
#ifndef XLB_FORWARD_H
#define XLB_FORWARD_H

#include <linux/types.h>
#include <linux/bpf.h>
#include "../xlb_abi.h"
#include "parse.h"
#include "conntrack.h"
#include "nexthop.h"
#include "flow_cache.h"
#include "encap.h"
#include "nat.h"

/**
 * fwd_dr - direct routing: the backend (on-link, holding the VIP) gets the
 * packet unchanged but for the destination MAC.
 * Returns: an XDP verdict; sets *reason.
 */
static __always_inline int fwd_dr(struct xdp_md *ctx, struct xlb_pkt *p,
				  const struct xlb_choice *c, struct xlb_fc_entry *learn,
				  __u32 epoch, __u32 *reason)
{
	struct xlb_nh *nh = NULL;
	int rc;

	rc = nh_resolve(ctx, c->be_id, c->be, p->ip_len, p->flow.proto, &nh);
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		/* The packet still says "to the VIP": the kernel cannot forward it. */
		*reason = XLB_R_DROP_DR_NO_NEIGH;
		return XDP_DROP;
	}
	if (!nh || rc != BPF_FIB_LKUP_RET_SUCCESS) {
		*reason = rc == BPF_FIB_LKUP_RET_FRAG_NEEDED ? XLB_R_DROP_TOO_BIG : XLB_R_DROP_DR_FIB;
		return XDP_DROP;
	}
	/* Behind a gateway the next hop's MAC is not the backend's. */
	if (!nh->onlink) {
		*reason = XLB_R_DROP_DR_FIB;
		return XDP_DROP;
	}
	if (learn)
		fc_learn(learn, nh, epoch);
	*reason = XLB_R_FWD_DR;
	return fwd_l2_out(ctx, p, nh, reason);
}

/* Send a packet to its backend by the VIP's mode; a dr flow's next hop goes
 * into @learn (its flow cache entry, or NULL). */
static __always_inline int fwd_by_mode(struct xdp_md *ctx, struct xlb_pkt *p,
				       const struct xlb_vip_val *vip, const struct xlb_choice *c,
				       const struct xlb_globals *g, struct xlb_fc_entry *learn,
				       __u32 epoch, __u32 *reason)
{
	if (vip->mode == XLB_MODE_TUNNEL)
		return fwd_tunnel(ctx, p, c, &p->flow, g, reason);
	if (vip->mode == XLB_MODE_NAT)
		return fwd_nat(ctx, p, vip, c, reason);
	return fwd_dr(ctx, p, c, learn, epoch, reason);
}

#endif /* XLB_FORWARD_H */
