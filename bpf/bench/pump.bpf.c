// SPDX-License-Identifier: GPL-2.0-only
/*
 * pump.bpf.c - the packet pump of `make bench`'s packet-rate table, for
 * machines that refuse BPF_F_TEST_XDP_LIVE_FRAMES (bench/pump.ts). A few
 * hundred frames circulate over one veth pair between the program under test
 * and a reflector, both ends' NAPI threads on one CPU:
 *  - xlb_pump_refl, the reflector: turns the frame back into a client frame
 *    to the VIP (MACs swapped; destination `vip`, TTL 64, the next of `flows`
 *    source ports, IPv4 checksum anew, UDP checksum 0), counts it, XDP_TX.
 *    That undoes xlb's dr forwarding (MACs only) and the kernel's DNAT and
 *    TTL decrement alike, so every mode sees the same client traffic;
 *  - xlb_pump_ceiling, the forwarding ceiling of the pump: write the next
 *    hop's MACs and send the frame back out (XDP_TX), no parsing, no lookup:
 *    ceiling.bpf.c with XDP_TX for the redirect, because xlb, whose backend
 *    is behind the same veth here, sends with XDP_TX too;
 *  - xlb_pump_echo, the reflector for BFD echo (bench/pump.ts
 *    benchEchoPump): turns a reflected echo back into the peer's echo (MACs
 *    swapped, TTL 255 again, IPv4 checksum anew), counts it, XDP_TX. The
 *    addresses are left alone: the peer's echo is sent to its own address,
 *    so xlb's address swap changes nothing;
 *  - xlb_pump_pass, XDP_PASS: on the lb's veth for the kernel path. Frames
 *    XDP_TX'd into a veth with no XDP program of its own (GRO on) never
 *    reached its stack on Linux 6.18 here (each seed went round once); with
 *    this one they do, for a few ns against the kernel path's microsecond.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../lib/csum.h"

const volatile __be32 vip = 0;
const volatile __u32 flows = 1024; /* distinct source ports, from 10000 */
const volatile __u8 dst_mac[ETH_ALEN] = {};
const volatile __u8 src_mac[ETH_ALEN] = {};

/* frames reflected (also the source port sequence) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} pump_count SEC(".maps");

/*
 * Both reflectors: anything but an IPv4 UDP frame without options leaves the
 * loop; the frame goes back with its MACs swapped, as a client's frame to the
 * VIP (@echo 0) or as the peer's echo again (@echo 1), counted.
 */
static __always_inline int pump_turn(struct xdp_md *ctx, const int echo)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct udphdr *uh = (void *)(iph + 1);
	unsigned char tmp[ETH_ALEN];
	__u32 zero = 0;
	__u64 *n;

	if ((void *)(uh + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || iph->ihl != 5 ||
	    iph->protocol != IPPROTO_UDP)
		return XDP_DROP;
	n = bpf_map_lookup_elem(&pump_count, &zero);
	if (!n)
		return XDP_DROP;
	__builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
	if (echo) {
		iph->ttl = 255;
	} else {
		iph->daddr = vip;
		iph->ttl = 64;
		uh->source = bpf_htons(10000 + (*n % flows));
		uh->check = 0;
	}
	iph->check = 0;
	iph->check = csum_ipv4_hdr20(iph);
	(*n)++;
	return XDP_TX;
}

SEC("xdp")
int xlb_pump_refl(struct xdp_md *ctx)
{
	return pump_turn(ctx, 0);
}

SEC("xdp")
int xlb_pump_echo(struct xdp_md *ctx)
{
	return pump_turn(ctx, 1);
}

SEC("xdp")
int xlb_pump_ceiling(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	for (int i = 0; i < ETH_ALEN; i++) {
		eth->h_dest[i] = dst_mac[i];
		eth->h_source[i] = src_mac[i];
	}
	return XDP_TX;
}

SEC("xdp")
int xlb_pump_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
