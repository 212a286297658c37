// SPDX-License-Identifier: GPL-2.0-only
/*
 * addon_bad.bpf.c - an XDP program the verifier must reject (packet read
 * without a bounds check). test/bpf/addon.test.ts loads it to check that a
 * load failure carries code, syscall and the verifier log. Test-only.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int addon_bad(struct xdp_md *ctx)
{
	__u8 *p = (void *)(long)ctx->data;

	return p[0]; /* no "p + 1 > data_end" check: rejected */
}

char LICENSE[] SEC("license") = "GPL";
