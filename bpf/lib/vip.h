/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vip.h - is a destination a virtual service: the address filter, then
 * the lookup of the VIP by (address, port, protocol) or by address alone.
 */
#ifndef XLB_VIP_H
#define XLB_VIP_H

#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include "../xlb_abi.h"
#include "maps.h"

/**
 * addr_filter_bit - an address's bit in a plane of xlb_addr_filter
 * (src/dataplane/xdp/addr-filter.ts computes the same).
 */
static __always_inline __u32 addr_filter_bit(const __u8 *addr, __u8 family)
{
	const __u32 *w = (const __u32 *)addr;
	__u32 x = family == XLB_AF_INET ? w[0] : w[0] ^ w[1] ^ w[2] ^ w[3];

	return (x * 0x9e3779b1) >> 20; /* 12 bits: 4096 per plane */
}

/* 0: @addr is certainly not in @plane; 1: it may be. */
static __always_inline int addr_filter_has(__u32 plane, const __u8 *addr, __u8 family)
{
	__u32 bit = addr_filter_bit(addr, family);
	__u32 idx = plane * XLB_FILTER_WORDS + (bit >> 6);
	__u64 *w = bpf_map_lookup_elem(&XLB_MAP_ADDR_FILTER, &idx);

	return w && ((*w >> (bit & 63)) & 1);
}

/**
 * lb_lookup_vip - the virtual service for (addr, port, proto).
 * Returns: the VIP (its id in *vip_id), or NULL. An exact port match wins
 * over the all-ports VIP.
 */
static __always_inline struct xlb_vip_val *lb_lookup_vip(const __u8 *addr, __u8 family,
							 __be16 port, __u8 proto,
							 const struct xlb_globals *g, __u32 *vip_id)
{
	struct xlb_vip_key key = {};
	struct xlb_vip_ref *ref;
	struct xlb_vip_val *vip;
	__u32 id;

	__builtin_memcpy(key.addr, addr, 16);
	key.port = port;
	key.proto = proto;
	key.family = family;
	ref = bpf_map_lookup_elem(&XLB_MAP_VIPS, &key);
	if (!ref && g && g->wildcard_vips) {
		key.port = 0;
		ref = bpf_map_lookup_elem(&XLB_MAP_VIPS, &key);
	}
	if (!ref)
		return NULL;
	id = ref->vip_id;
	vip = bpf_map_lookup_elem(&XLB_MAP_VIP_TABLE, &id);
	if (!vip || !(vip->flags & XLB_VIP_F_ACTIVE))
		return NULL;
	*vip_id = id;
	return vip;
}

static __always_inline int lb_is_vip_addr(const __u8 *addr, __u8 family)
{
	struct xlb_addr_key key = {};

	if (!addr_filter_has(XLB_FILTER_VIP, addr, family))
		return 0;
	__builtin_memcpy(key.addr, addr, 16);
	key.family = family;
	return bpf_map_lookup_elem(&XLB_MAP_VIP_ADDRS, &key) != NULL;
}

#endif /* XLB_VIP_H */
