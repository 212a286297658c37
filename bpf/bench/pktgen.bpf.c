// SPDX-License-Identifier: GPL-2.0-only
/*
 * pktgen.bpf.c - the traffic generator of `make bench`: run through
 * BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES on the generator's veth,
 * it rewrites the whole frame every time (live-frame pages are recycled
 * without being re-initialised, and receivers rewrite headers in place) into
 * a 64-byte UDP packet of one of `flows` flows, and transmits it (XDP_TX).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../lib/csum.h"

const volatile __u8 dst_mac[ETH_ALEN] = {};
const volatile __u8 src_mac[ETH_ALEN] = {};
const volatile __be32 src_ip = 0;
const volatile __be32 dst_ip = 0;
const volatile __u16 dport = 9;	  /* host order */
const volatile __u32 flows = 1024; /* distinct source ports */

__u64 seq = 0;

SEC("xdp")
int xlb_pktgen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct udphdr *uh = (void *)(iph + 1);
	__u32 len = data_end - data;

	if ((void *)(uh + 1) > data_end)
		return XDP_DROP;
	for (int i = 0; i < ETH_ALEN; i++) {
		eth->h_dest[i] = dst_mac[i];
		eth->h_source[i] = src_mac[i];
	}
	eth->h_proto = bpf_htons(ETH_P_IP);
	iph->version = 4;
	iph->ihl = 5;
	iph->tos = 0;
	iph->tot_len = bpf_htons(len - sizeof(*eth));
	iph->id = 0;
	iph->frag_off = 0;
	iph->ttl = 64;
	iph->protocol = IPPROTO_UDP;
	iph->check = 0;
	iph->saddr = src_ip;
	iph->daddr = dst_ip;
	iph->check = csum_ipv4_hdr20(iph);
	uh->source = bpf_htons(10000 + (seq++ % flows));
	uh->dest = bpf_htons(dport);
	uh->len = bpf_htons(len - sizeof(*eth) - sizeof(*iph));
	uh->check = 0;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
