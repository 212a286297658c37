/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hash.h - the flow hash that picks a Maglev ring entry.
 *
 * MurmurHash3 (x86_32) over 32-bit words read in host byte order from the
 * xlb_flow bytes. src/lb/flow-hash.ts computes the same value (tests predict
 * the backend a flow lands on); change both together, and bump
 * XLB_FLOW_HASH_VERSION there, since two xlb nodes sharing a VIP must agree.
 */
#ifndef XLB_HASH_H
#define XLB_HASH_H

#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include "../xlb_abi.h"

#define XLB_HASH_SEED 0x786c6231 /* "xlb1" */

static __always_inline __u32 rotl32(__u32 x, __u32 r)
{
	return (x << r) | (x >> (32 - r));
}

static __always_inline __u32 murmur_mix(__u32 h, __u32 k)
{
	k *= 0xcc9e2d51;
	k = rotl32(k, 15);
	k *= 0x1b873593;
	h ^= k;
	h = rotl32(h, 13);
	return h * 5 + 0xe6546b64;
}

static __always_inline __u32 murmur_final(__u32 h, __u32 len)
{
	h ^= len;
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

/**
 * flow_hash - hash of a flow for ring selection.
 * @f: the flow (client -> VIP), zero-padded addresses
 * @src_only: persistence: hash the source address only
 *
 * IPv4 hashes 4 words (src, dst, ports, proto), IPv6 10; src_only hashes the
 * 1 or 4 words of the source address.
 */
static __always_inline __u32 flow_hash(const struct xlb_flow *f, int src_only)
{
	const __u32 *s = (const __u32 *)f->src;
	const __u32 *d = (const __u32 *)f->dst;
	__u32 h = XLB_HASH_SEED;

	if (f->family == XLB_AF_INET) {
		h = murmur_mix(h, s[0]);
		if (src_only)
			return murmur_final(h, 4);
		h = murmur_mix(h, d[0]);
		h = murmur_mix(h, *(const __u32 *)&f->sport);
		h = murmur_mix(h, f->proto);
		return murmur_final(h, 16);
	}
#pragma unroll
	for (int i = 0; i < 4; i++)
		h = murmur_mix(h, s[i]);
	if (src_only)
		return murmur_final(h, 16);
#pragma unroll
	for (int i = 0; i < 4; i++)
		h = murmur_mix(h, d[i]);
	h = murmur_mix(h, *(const __u32 *)&f->sport);
	h = murmur_mix(h, f->proto);
	return murmur_final(h, 40);
}

/**
 * flow_cache_slot - slot of a flow in a direct-mapped cache of 2^@bits
 * entries: the flow's 40 bytes folded with XOR, spread by a multiplication
 * (Fibonacci hashing). Cheap, not collision-resistant: a collision only costs
 * a cache miss.
 */
static __always_inline __u32 flow_cache_slot(const struct xlb_flow *f, __u32 bits)
{
	const __u64 *w = (const __u64 *)f;
	__u64 x = w[0] ^ w[1] ^ w[2] ^ w[3] ^ w[4];

	x ^= x >> 32;
	return (__u32)((x * 0x9E3779B97F4A7C15ULL) >> (64 - bits));
}

#endif /* XLB_HASH_H */
