/**
 * The e2e lab itself, without xlb: topology, addresses, neighbour answers for
 * the VIPs, the backends' dr and tunnel setup (driven by two tiny stand-ins
 * for xlb: an XDP program that does dr forwarding on xlb0, and a tc program
 * on the client that encapsulates like tunnel mode), teardown, and prefix
 * reuse. Needs root; every lab here has its own `xlt<pid>*` prefix.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildBpfObject, CLIENT_SCRIPT, LabError, nsExec, run, runClient } from '../../src/lab/exec.js';
import { BACKEND_SCRIPT, createLab, destroyLab, labNamespaces, listNamespaces, neighbourMac, type Lab } from '../../src/lab/lab.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const PREFIX = `xlt${process.pid}`;

/** The lab's namespaces that still exist. */
async function leftovers(prefix: string): Promise<string[]> {
  const mine = Object.values(labNamespaces(prefix)).flat();
  return (await listNamespaces()).filter((n) => mine.includes(n));
}

/**
 * Stand-in for xlb's dr mode: on xlb0, TCP to VIP:80 (v4 and v6) gets the
 * destination MAC of backend 11 + sport % 3 and is redirected out of xlb1.
 */
function drSource(xlb1Ifindex: number): string {
  return `// SPDX-License-Identifier: GPL-2.0
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#define SEC(n) __attribute__((section(n), used))
#define BE16(x) ((__be16)__builtin_bswap16(x))
static long (*bpf_redirect)(__u32 ifindex, __u64 flags) = (void *)BPF_FUNC_redirect;

SEC("xdp")
int lab_dr(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct tcphdr *tcp;
	__u8 be;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto == BE16(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end || ip->ihl != 5 || ip->protocol != IPPROTO_TCP ||
		    ip->daddr != __builtin_bswap32(0x0a63000a)) /* 10.99.0.10 */
			return XDP_PASS;
		tcp = (void *)(ip + 1);
	} else if (eth->h_proto == BE16(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_TCP ||
		    ip6->daddr.s6_addr32[0] != __builtin_bswap32(0xfd990000) || ip6->daddr.s6_addr32[1] ||
		    ip6->daddr.s6_addr32[2] || ip6->daddr.s6_addr32[3] != __builtin_bswap32(0x10)) /* fd99::10 */
			return XDP_PASS;
		tcp = (void *)(ip6 + 1);
	} else {
		return XDP_PASS;
	}
	if ((void *)(tcp + 1) > data_end || tcp->dest != BE16(80))
		return XDP_PASS;
	be = 0x11 + __builtin_bswap16(tcp->source) % 3;
	/* dst 02:99:00:01:00:1N (backend eth0), src 02:99:00:01:00:01 (xlb1) */
	eth->h_dest[0] = 0x02; eth->h_dest[1] = 0x99; eth->h_dest[2] = 0; eth->h_dest[3] = 0x01; eth->h_dest[4] = 0; eth->h_dest[5] = be;
	eth->h_source[0] = 0x02; eth->h_source[1] = 0x99; eth->h_source[2] = 0; eth->h_source[3] = 0x01; eth->h_source[4] = 0; eth->h_source[5] = 0x01;
	return bpf_redirect(${xlb1Ifindex}, 0);
}
char LICENSE[] SEC("license") = "GPL";
`;
}

/**
 * Stand-in for xlb's tunnel mode, at tc egress of the client's c0: TCP to
 * VIP:80 is wrapped in IPIP / IP6IP6 towards backend 11 + sport % 3 (outer
 * source: the client). The node then only routes it.
 */
const ENCAP_SOURCE = `// SPDX-License-Identifier: GPL-2.0
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#define SEC(n) __attribute__((section(n), used))
#define BE16(x) ((__be16)__builtin_bswap16(x))
static long (*bpf_skb_load_bytes)(const void *skb, __u32 off, void *to, __u32 len) = (void *)BPF_FUNC_skb_load_bytes;
static long (*bpf_skb_store_bytes)(struct __sk_buff *skb, __u32 off, const void *from, __u32 len, __u64 flags) = (void *)BPF_FUNC_skb_store_bytes;
static long (*bpf_skb_adjust_room)(struct __sk_buff *skb, __s32 len_diff, __u32 mode, __u64 flags) = (void *)BPF_FUNC_skb_adjust_room;

SEC("tc")
int lab_encap(struct __sk_buff *skb)
{
	__u16 ports[2];

	if (skb->protocol == BE16(ETH_P_IP)) {
		struct iphdr ip, o;
		__u32 sum = 0;
		__u16 *w = (__u16 *)&o;

		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) || ip.ihl != 5 || ip.protocol != IPPROTO_TCP ||
		    ip.daddr != __builtin_bswap32(0x0a63000a) ||
		    bpf_skb_load_bytes(skb, ETH_HLEN + sizeof(ip), ports, 4) || ports[1] != BE16(80))
			return TC_ACT_OK;
		o = ip;
		o.tot_len = BE16(__builtin_bswap16(ip.tot_len) + 20);
		o.id = 0;
		o.ttl = 64;
		o.protocol = IPPROTO_IPIP;
		o.daddr = __builtin_bswap32(0x0a630100 + 0x0b + __builtin_bswap16(ports[0]) % 3); /* 10.99.1.11.. */
		o.check = 0;
#pragma unroll
		for (int i = 0; i < 10; i++)
			sum += w[i];
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		o.check = ~sum;
		if (bpf_skb_adjust_room(skb, sizeof(o), BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_ENCAP_L3_IPV4) ||
		    bpf_skb_store_bytes(skb, ETH_HLEN, &o, sizeof(o), 0))
			return TC_ACT_SHOT;
		return TC_ACT_OK;
	}
	if (skb->protocol == BE16(ETH_P_IPV6)) {
		struct ipv6hdr ip6, o;

		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip6, sizeof(ip6)) || ip6.nexthdr != IPPROTO_TCP ||
		    ip6.daddr.s6_addr32[0] != __builtin_bswap32(0xfd990000) || ip6.daddr.s6_addr32[1] ||
		    ip6.daddr.s6_addr32[2] || ip6.daddr.s6_addr32[3] != __builtin_bswap32(0x10) ||
		    bpf_skb_load_bytes(skb, ETH_HLEN + sizeof(ip6), ports, 4) || ports[1] != BE16(80))
			return TC_ACT_OK;
		o = ip6;
		o.payload_len = BE16(__builtin_bswap16(ip6.payload_len) + 40);
		o.nexthdr = IPPROTO_IPV6;
		o.hop_limit = 64;
		o.daddr.s6_addr32[0] = __builtin_bswap32(0xfd990001); /* fd99:1::11.. */
		o.daddr.s6_addr32[1] = 0;
		o.daddr.s6_addr32[2] = 0;
		o.daddr.s6_addr32[3] = __builtin_bswap32(0x11 + __builtin_bswap16(ports[0]) % 3);
		if (bpf_skb_adjust_room(skb, sizeof(o), BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_ENCAP_L3_IPV6) ||
		    bpf_skb_store_bytes(skb, ETH_HLEN, &o, sizeof(o), 0))
			return TC_ACT_SHOT;
	}
	return TC_ACT_OK;
}
char LICENSE[] SEC("license") = "GPL";
`;

/** ifindex of `dev` in namespace `ns`. */
async function ifindex(ns: string, dev: string): Promise<number> {
  const { stdout } = await run('ip', ['-j', '-n', ns, 'link', 'show', 'dev', dev]);
  const idx = (JSON.parse(stdout) as { ifindex: number }[])[0]?.ifindex;
  assert.ok(idx, `no ifindex for ${dev}`);
  return idx;
}

/** Assert that every request succeeded and every backend answered some. */
function assertSpread(r: Awaited<ReturnType<typeof runClient>>, count: number, what: string): void {
  assert.equal(r.ok, count, `${what}: ${JSON.stringify(r)}`);
  assert.equal(r.failed, 0, `${what}: ${JSON.stringify(r)}`);
  assert.deepEqual(Object.keys(r.byBackend).sort(), ['be1', 'be2', 'be3'], `${what}: ${JSON.stringify(r)}`);
}

describe('e2e lab (no xlb)', { concurrency: false }, () => {
  let lab: Lab | undefined;

  before(async () => {
    if (!isRoot) return;
    await destroyLab(PREFIX); // leftovers of a crashed run with this pid
    lab = await createLab({ prefix: PREFIX });
    process.stderr.write(`# lab ${PREFIX} up in ${lab.timings.upMs} ms (decap: ${lab.decap})\n`);
  });
  after(async () => {
    await lab?.down();
    if (lab?.timings.downMs !== undefined) process.stderr.write(`# lab ${PREFIX} down in ${lab.timings.downMs} ms\n`);
    if (isRoot) await destroyLab(PREFIX);
  });

  it('each backend answers HTTP on its own v4 and v6 address (ports 80 and 8080), from the node', async (t) => {
    if (!lab) return t.skip('needs root');
    for (const b of lab.backends) {
      for (const host of [b.v4, `[${b.v6}]`, `${b.v4}:8080`, `[${b.v6}]:8080`]) {
        const r = await runClient(lab, { ns: lab.node.ns, url: `http://${host}/`, count: 3, concurrency: 3 });
        assert.deepEqual({ ok: r.ok, failed: r.failed, byBackend: r.byBackend }, { ok: 3, failed: 0, byBackend: { [b.name]: 3 } }, `${b.name} at ${host}: ${JSON.stringify(r)}`);
      }
    }
  });

  it('the client reaches the node, and the node answers ARP/ND for the VIPs on xlb0', async (t) => {
    if (!lab) return t.skip('needs root');
    const srv = lab.spawn(lab.node.ns, process.execPath, [BACKEND_SCRIPT, '--name', 'node', '--port', '8080']);
    try {
      await new Promise<void>((resolve, reject) => {
        srv.stdout?.on('data', (d: Buffer) => d.toString().includes('listening') && resolve());
        srv.once('exit', (c) => reject(new Error(`node server exited ${c}`)));
        setTimeout(() => reject(new Error('node server did not listen')), 10_000).unref();
      });
      for (const host of [lab.node.clientV4, `[${lab.node.clientV6}]`, lab.vip4, `[${lab.vip6}]`]) {
        const r = await runClient(lab, { url: `http://${host}:8080/`, count: 2 });
        assert.deepEqual({ ok: r.ok, byBackend: r.byBackend }, { ok: 2, byBackend: { node: 2 } }, `${host}: ${JSON.stringify(r)}`);
      }
      assert.equal(await neighbourMac(lab.client.ns, lab.vip4), lab.node.clientMac, 'client ARP entry for the v4 VIP');
      assert.equal(await neighbourMac(lab.client.ns, lab.vip6), lab.node.clientMac, 'client ND entry for the v6 VIP');
    } finally {
      srv.kill('SIGTERM');
    }
  });

  it('backends: VIPs on lo, ARP for them suppressed, decapsulation ready', async (t) => {
    if (!lab) return t.skip('needs root');
    for (const b of lab.backends) {
      const { stdout } = await nsExec(b.ns, 'sysctl', ['-n', 'net.ipv4.conf.all.arp_ignore', 'net.ipv4.conf.all.arp_announce', 'net.ipv4.conf.all.rp_filter']);
      assert.deepEqual(stdout.trim().split('\n'), ['1', '2', '0'], b.name);
      const lo = JSON.parse((await run('ip', ['-j', '-n', b.ns, 'addr', 'show', 'dev', 'lo'])).stdout) as { addr_info: { local: string }[] }[];
      const addrs = lo[0]?.addr_info.map((a) => a.local) ?? [];
      assert.ok(addrs.includes(lab.vip4) && addrs.includes(lab.vip6), `${b.name} lo: ${addrs.join(' ')}`);
      if (lab.decap === 'xdp') {
        const eth0 = JSON.parse((await run('ip', ['-j', '-n', b.ns, 'link', 'show', 'dev', 'eth0'])).stdout) as { xdp?: { mode: number } }[];
        assert.ok(eth0[0]?.xdp, `${b.name}: decap XDP attached to eth0`);
      }
    }
    assert.notEqual(lab.decap, 'none');
  });

  it('dr path: frames redirected from xlb0 to a backend MAC reach the backend; replies come back via the node', async (t) => {
    if (!lab) return t.skip('needs root');
    const obj = await buildBpfObject('lab-test-dr', drSource(await ifindex(lab.node.ns, lab.node.backendIf)));
    await run('ip', ['-n', lab.node.ns, 'link', 'set', 'dev', lab.node.clientIf, 'xdpdrv', 'obj', obj, 'sec', 'xdp']);
    try {
      assertSpread(await runClient(lab, { url: `http://${lab.vip4}/`, count: 30, concurrency: 3 }), 30, 'dr v4');
      assertSpread(await runClient(lab, { url: `http://[${lab.vip6}]/`, count: 30, concurrency: 3 }), 30, 'dr v6');
    } finally {
      await run('ip', ['-n', lab.node.ns, 'link', 'set', 'dev', lab.node.clientIf, 'xdpdrv', 'off']);
    }
  });

  it('tunnel path: IPIP / IP6IP6 to a backend address is decapsulated and answered from the VIP', async (t) => {
    if (!lab) return t.skip('needs root');
    const obj = await buildBpfObject('lab-test-encap', ENCAP_SOURCE);
    const c = lab.client;
    await run('tc', ['-n', c.ns, 'qdisc', 'add', 'dev', c.ifname, 'clsact']);
    try {
      await run('tc', ['-n', c.ns, 'filter', 'add', 'dev', c.ifname, 'egress', 'bpf', 'direct-action', 'obj', obj, 'sec', 'tc']);
      assertSpread(await runClient(lab, { url: `http://${lab.vip4}/`, count: 30, concurrency: 3 }), 30, 'tunnel v4');
      assertSpread(await runClient(lab, { url: `http://[${lab.vip6}]/`, count: 30, concurrency: 3 }), 30, 'tunnel v6');
    } finally {
      await run('tc', ['-n', c.ns, 'qdisc', 'del', 'dev', c.ifname, 'clsact']);
    }
  });

  it('the backends serve /slow and /stream', async (t) => {
    if (!lab) return t.skip('needs root');
    const b = lab.backends[0];
    assert.ok(b);
    const slow = await runClient(lab, { ns: lab.node.ns, url: `http://${b.v4}/slow?ms=300`, count: 1, timeoutMs: 5000 });
    assert.equal(slow.ok, 1, JSON.stringify(slow));
    assert.ok(slow.elapsedMs >= 300, `slow answered after ${slow.elapsedMs} ms`);
    const tooFast = await runClient(lab, { ns: lab.node.ns, url: `http://${b.v4}/slow?ms=3000`, count: 1, timeoutMs: 500 });
    assert.deepEqual(tooFast.errors, ['timeout']);
    const stream = await runClient(lab, { ns: lab.node.ns, url: `http://[${b.v6}]/stream?secs=2`, count: 1, timeoutMs: 5000 });
    assert.equal(stream.ok, 1, JSON.stringify(stream));
    assert.ok(stream.elapsedMs >= 1000, `stream lasted ${stream.elapsedMs} ms`);
  });

  it('down() removes every namespace and is idempotent', async (t) => {
    if (!lab) return t.skip('needs root');
    assert.equal((await leftovers(PREFIX)).length, 6);
    await lab.down();
    assert.deepEqual(await leftovers(PREFIX), []);
    await lab.down();
    assert.ok(lab.timings.downMs !== undefined);
  });

  it('a prefix in use is refused without harm, and reusable after down()', async (t) => {
    if (!isRoot) return t.skip('needs root');
    const p = `${PREFIX}r`;
    const first = await createLab({ prefix: p, http: false });
    try {
      await assert.rejects(createLab({ prefix: p, http: false }), (e: unknown) => e instanceof LabError && e.code === 'XLB_LAB_IN_USE');
      assert.equal((await leftovers(p)).length, 6, 'the first lab is intact');
    } finally {
      await first.down();
    }
    const again = await createLab({ prefix: p, http: false });
    await again.down();
    assert.deepEqual(await leftovers(p), []);
  });

  it('a failing createLab removes what it made', async (t) => {
    if (!isRoot) return t.skip('needs root');
    const p = `${PREFIX}f`;
    // client.js exits 2 on http-backend's arguments: the backends never listen
    await assert.rejects(createLab({ prefix: p, backendScript: CLIENT_SCRIPT, readyTimeoutMs: 5000 }), (e: unknown) => e instanceof LabError && /before listening/.test(e.message));
    assert.deepEqual(await leftovers(p), []);
    await assert.rejects(createLab({ prefix: 'Bad-Prefix' }), (e: unknown) => e instanceof LabError && e.code === 'XLB_LAB_INVALID');
  });
});
