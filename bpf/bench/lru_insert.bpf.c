// SPDX-License-Identifier: GPL-2.0-only
/*
 * lru_insert.bpf.c - what one connection-table insert costs on this machine:
 * look a 16-byte key (bytes 26..41 of the frame: the IPv4 addresses and
 * ports) up in a per-CPU-LRU hash map like xlb_conns4 and insert it on a miss,
 * then XDP_TX. `make bench` times it beside xlb's new-flow path, so that the
 * share of the kernel's map insert in that path is measured, not guessed.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct key16 {
	__u32 w[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct key16);
	__type(value, __u64);
	__uint(max_entries, 65536); /* sized by the bench like xlb_conns4 */
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
} lru_bench SEC(".maps");

SEC("xdp")
int xlb_lru_insert(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct key16 *k = data + 26;
	struct key16 key;
	__u64 one = 1;

	if ((void *)(k + 1) > data_end)
		return XDP_DROP;
	key = *k;
	if (bpf_map_lookup_elem(&lru_bench, &key))
		return XDP_PASS;
	bpf_map_update_elem(&lru_bench, &key, &one, BPF_ANY);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
