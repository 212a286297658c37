/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * csum.h - internet checksum helpers for the XDP program (RFC 1071, RFC 1624).
 *
 * Sums are taken over 16-bit words exactly as they sit in memory; the one's
 * complement sum is byte-order independent (RFC 1071 §2(B)), so no swaps.
 */
#ifndef XLB_CSUM_H
#define XLB_CSUM_H

#include <linux/types.h>
#include <bpf/bpf_helpers.h>

static __always_inline __u16 csum_fold32(__u32 c)
{
	c = (c & 0xffff) + (c >> 16);
	c = (c & 0xffff) + (c >> 16);
	return (__u16)c;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for a 16-bit field change. */
static __always_inline void csum_replace2(__u16 *sum, __u16 from, __u16 to)
{
	__u32 c = (__u16)~*sum;

	c += (__u16)~from;
	c += to;
	*sum = ~csum_fold32(c);
}

/* Same for a 32-bit field (an IPv4 address, or a quarter of an IPv6 one). */
static __always_inline void csum_replace4(__u16 *sum, __u32 from, __u32 to)
{
	__u32 c = (__u16)~*sum;

	c += (__u16)~(from & 0xffff);
	c += (__u16)~(from >> 16);
	c += to & 0xffff;
	c += to >> 16;
	*sum = ~csum_fold32(c);
}

/* A 16-byte address change (IPv6, or an IPv4 key padded with zeros). */
static __always_inline void csum_replace16(__u16 *sum, const __u32 *from, const __u32 *to)
{
#pragma unroll
	for (int i = 0; i < 4; i++)
		csum_replace4(sum, from[i], to[i]);
}

/* Checksum of a 20-byte IPv4 header with its check field set to zero. */
static __always_inline __u16 csum_ipv4_hdr20(const void *hdr)
{
	const __u16 *w = hdr;
	__u32 c = 0;

#pragma unroll
	for (int i = 0; i < 10; i++)
		c += w[i];
	return ~csum_fold32(c);
}

#endif /* XLB_CSUM_H */
