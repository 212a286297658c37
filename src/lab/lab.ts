/**
 * @module lab/lab
 * The e2e lab: network namespaces joined by veth pairs and a bridge, with
 * three HTTP backends, built and torn down by the tests (and by `xlb lab`).
 * examples/lab.yaml uses exactly these names and addresses.
 *
 * ```
 *  <p>-client            <p>-node (xlb runs here)          <p>-sw           <p>-be1..3
 *  c0 10.99.0.2/24  ==== xlb0 10.99.0.1/24                               eth0 10.99.1.11..13/24
 *     fd99::2/64              fd99::1/64                                      fd99:1::11..13/64
 *                         lo   10.99.0.10/32, fd99::10/128 (VIPs)        lo   the VIPs too
 *                         xlb1 10.99.1.1/24  ======== s0 ─┐
 *                              fd99:1::1/64               br0 ─ s1..s3 ==== eth0 (one per backend)
 * ```
 *
 * Layer: test tooling. Runs `ip`, `tc`, `ethtool`, `sysctl` (through nsenter,
 * see lab/exec) and `clang`; never adds an address or a route to the root
 * namespace: every device is created directly inside its namespace (the
 * peers with `netns`), so nothing of the lab ever exists in the root
 * namespace. All names carry the prefix (`xlab` by default; tests use their
 * own, e.g. `xlt<pid>`); the device names inside the namespaces are fixed.
 *
 * ## Node
 * ip_forward and IPv6 forwarding on, rp_filter off. The VIPs sit on the
 * node's `lo`, as if it were the VRRP master:
 * - IPv4: with the default `arp_ignore=0` Linux answers ARP on any interface
 *   for any local address, so the client's neighbour entry for 10.99.0.10 is
 *   xlb0's MAC (checked by test/e2e/lab.test.ts).
 * - IPv6: Linux does NOT answer neighbour solicitations on xlb0 for an address
 *   held by lo (ndisc only answers for addresses of the receiving interface;
 *   measured: the client's entry for fd99::10 stays INCOMPLETE). So the lab
 *   adds a proxy entry, `ip -6 neigh add proxy fd99::10 dev xlb0`, with
 *   `proxy_ndp=1` and `proxy_delay=0` (the default delays proxied answers by
 *   up to 0.8 s). A VRRP master that puts the VIP on xlb0 itself needs none
 *   of this.
 * - `accept_local=1`: in dr and tunnel modes a backend answers from the VIP,
 *   and the node routes that answer back to the client; without accept_local
 *   the node drops it as a martian (its source is one of the node's own
 *   addresses).
 * - Neighbours: createLab ends by fetching once from every backend (v4 and
 *   v6) from the node, which proves the path and leaves the node's neighbour
 *   entries for the backends resolved (option `primeNeighbours`). This
 *   matters for xlb's dr mode: on a cold neighbour table xlb passes the
 *   frame to the kernel, which delivers it to the node's own VIP instead of
 *   resolving the backend (measured: every dr connection timed out; tunnel
 *   and nat recover, since the kernel forwards the passed packet).
 * Without xlb, traffic to a VIP is simply delivered to the node itself.
 *
 * ## Backends (each mode)
 * Every backend has eth0 on 10.99.1.0/24 and fd99:1::/64 behind the bridge,
 * default routes via the node (10.99.1.1, fd99:1::1), and the VIPs
 * 10.99.0.10/32 and fd99::10/128 on lo. rp_filter is off everywhere. Each
 * runs src/lab/http-backend.ts, named be1..be3, on [::]:80 and [::]:8080
 * ({@link LAB_BACKEND_PORTS}), so it answers on its own address and on the VIPs.
 * - dr: xlb rewrites only the destination MAC to the backend's eth0 and
 *   redirects the frame out of xlb1. The backend accepts it because the VIP is
 *   a local address (on lo). `arp_ignore=1` (answer ARP only for addresses of
 *   the receiving interface) and `arp_announce=2` (use eth0's own address as
 *   ARP source) keep the backends from ever claiming the VIP on the wire; for
 *   IPv6 nothing is needed, since Linux never answers ND for lo's addresses on
 *   eth0 (see Node). The backend replies from the VIP straight to the client
 *   via its default route, i.e. through the node's kernel routing.
 * - tunnel: xlb wraps the packet in IPIP (IPv4) or IP6IP6 (IPv6), outer
 *   destination the backend's eth0 address, inner destination the VIP. The
 *   backend strips the outer header and delivers the inner packet to the VIP
 *   on lo; replies go as in dr mode. Decapsulation, `Lab.decap`:
 *   - `kernel`: the fallback tunnel devices `tunl0` (ipip) and `ip6tnl0`
 *     (ip6_tunnel) are brought up (after `modprobe` where modules exist), with
 *     rp_filter off on tunl0 too. Used when the kernel has both.
 *   - `xdp`: kernels without CONFIG_NET_IPIP / CONFIG_IPV6_TUNNEL (like the
 *     CI VM's 6.18, built without modules) have no tunl0/ip6tnl0 at all, so
 *     the lab attaches a 40-line XDP program ({@link DECAP_BPF_SOURCE},
 *     compiled with clang on first use) to each backend's eth0: an IPv4 header
 *     with protocol 4 (IPIP) or 41, or an IPv6 header with next header 4 or 41,
 *     is removed (bpf_xdp_adjust_head), the ethertype set from the inner
 *     version, and the frame passed to the stack. Outer fragments and IPv4
 *     options are left alone.
 * - nat: xlb rewrites the destination address/port to the backend's own
 *   address; the backend answers the client's address through its default
 *   route, i.e. back through xlb1, where xlb rewrites the source back to the
 *   VIP. Nothing else is needed on the backend.
 *
 * ## XDP on veth: NAPI and checksums
 * A veth receives XDP_TX / redirected frames only when it has a NAPI
 * instance, so GRO is on for the receivers of xlb's output: `s0` (peer of
 * xlb1: dr/tunnel/nat towards the backends) and `c0` (peer of xlb0: XDP_TX
 * answers and nat replies). And since a frame that XDP sends on loses the
 * skb's checksum state, a sender whose TCP/UDP checksums are left to
 * "offload" (CHECKSUM_PARTIAL on veth) would be forwarded with a checksum the
 * receiver rejects: transmit checksum offload is off (`ethtool -K <dev> tx
 * off`) on c0 and on every backend's eth0, so their packets carry complete
 * checksums. Measured with xlb on examples/lab.yaml: GRO off on s0 breaks
 * every mode, GRO off on c0 breaks nat, tx offload on at c0 breaks what XDP
 * redirects from the client, tx offload on at the backends breaks nat replies.
 *
 * IPv6 duplicate address detection is off (accept_dad=0 in every namespace,
 * `nodad` on every address) so addresses are usable at once; the bridge has
 * multicast snooping off so ND multicast always floods.
 *
 * ## Readiness
 * createLab returns only when: every veth is operationally up and every
 * bridge port forwards (the kernel applies carrier changes asynchronously;
 * frames sent before are dropped, which made the first connection of about
 * one new lab in ten wait for a 1 s ARP retry), every HTTP server has said it
 * listens, and the node has fetched from every backend (bounded retries).
 * `Lab.timings` has the durations (about 0.3 s up, 0.5-1 s when the kernel's
 * link events lag; 35 ms down, on the 2-core VM).
 */
import { type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { buildBpfObject, LabError, nsExec, nsSpawn, run, runClient, stopChild } from './exec.js';

export { LabError } from './exec.js';

/** Prefix of the namespaces when none is given. */
export const DEFAULT_LAB_PREFIX = 'xlab';

/** Fixed addresses of the lab (examples/lab.yaml uses these). */
export const LAB_ADDR = {
  vip4: '10.99.0.10',
  vip6: 'fd99::10',
  client4: '10.99.0.2',
  client6: 'fd99::2',
  /** node, client side (xlb0) */
  node4: '10.99.0.1',
  node6: 'fd99::1',
  /** node, backend side (xlb1): the backends' default gateway */
  nodeBe4: '10.99.1.1',
  nodeBe6: 'fd99:1::1',
} as const;

/**
 * Ports every backend's HTTP server listens on: 80 (dr, and nat's target)
 * and 8080 (examples/lab.yaml's tunnel services: dr and tunnel keep the port).
 */
export const LAB_BACKEND_PORTS: readonly number[] = [80, 8080];

/** Fixed MAC addresses (locally administered), so tests can name frames. */
export const LAB_MAC = {
  c0: '02:99:00:00:00:02',
  xlb0: '02:99:00:00:00:01',
  xlb1: '02:99:00:01:00:01',
  s0: '02:99:00:01:f0:00',
} as const;

/** One backend of the lab. */
export interface LabBackend {
  /** `be1`..`be3`: the name the HTTP server answers with */
  name: string;
  /** its namespace, `<p>-be1`.. */
  ns: string;
  /** its interface (in its namespace) */
  ifname: 'eth0';
  /** 10.99.1.11.. */
  v4: string;
  /** fd99:1::11.. */
  v6: string;
  /** MAC of its eth0 */
  mac: string;
  /** its bridge port in the sw namespace, `s1`.. */
  port: string;
}

/** Namespace names of a lab. */
export interface LabNamespaces {
  client: string;
  node: string;
  sw: string;
  /** one per backend, in order */
  backends: string[];
}

/** A running lab. */
export interface Lab {
  /** the name prefix */
  readonly prefix: string;
  /** namespace names */
  readonly ns: LabNamespaces;
  /** IPv4 VIP (on the node's lo and every backend's lo) */
  readonly vip4: string;
  /** IPv6 VIP */
  readonly vip6: string;
  /** the client namespace's side */
  readonly client: { ns: string; ifname: 'c0'; v4: string; v6: string; mac: string };
  /** the node namespace (where xlb runs) */
  readonly node: {
    ns: string;
    /** client-facing interface */
    clientIf: 'xlb0';
    /** backend-facing interface */
    backendIf: 'xlb1';
    clientV4: string;
    clientV6: string;
    backendV4: string;
    backendV6: string;
    clientMac: string;
    backendMac: string;
  };
  /** the backends, be1..be3 */
  readonly backends: readonly LabBackend[];
  /** ports the backends' HTTP servers listen on (none when started with http: false) */
  readonly backendPorts: readonly number[];
  /** how backends decapsulate tunnel mode (see the module comment) */
  readonly decap: LabDecap;
  /** how long createLab took (and each of its steps), and down() once it ran, ms */
  readonly timings: { upMs: number; downMs: number | undefined; steps: Record<string, number> };
  /**
   * Start a process in one of the lab's namespaces (nsenter, see lab/exec);
   * down() stops it (SIGTERM, then SIGKILL).
   */
  spawn(ns: string, cmd: string, args: readonly string[], opts?: SpawnOptions): ChildProcess;
  /**
   * Tear everything down: stop spawned processes (and anything else still
   * running in the lab's namespaces), delete the namespaces (which deletes
   * every device). Idempotent; concurrent calls share one teardown.
   * @throws LabError if a namespace could not be deleted (a later call retries)
   */
  down(): Promise<void>;
}

/** Tunnel-mode decapsulation on the backends. */
export type LabDecap = 'kernel' | 'xdp' | 'none';

/** Options of {@link createLab}. */
export interface CreateLabOptions {
  /** name prefix, `[a-z][a-z0-9]{0,14}`; default {@link DEFAULT_LAB_PREFIX} */
  prefix?: string;
  /** start the HTTP backends; default true */
  http?: boolean;
  /** their ports; default {@link LAB_BACKEND_PORTS} */
  backendPorts?: readonly number[];
  /** tunnel decapsulation: 'auto' (kernel when it has ipip and ip6_tunnel, else xdp; the default), or forced */
  decap?: 'auto' | LabDecap;
  /** how long to wait for the HTTP servers to listen and answer the node, ms; default 15000 */
  readyTimeoutMs?: number;
  /**
   * finish by fetching once from every backend (v4 and v6) from the node, which
   * leaves the node's neighbour entries for them resolved; default true
   */
  primeNeighbours?: boolean;
  /** the backend script (for tests of createLab's failure path); default dist/src/lab/http-backend.js */
  backendScript?: string;
}

/** Number of backends. */
const BACKENDS = 3;
/** Directory of this module (dist/src/lab when compiled). */
const HERE = dirname(fileURLToPath(import.meta.url));
/** Path of the compiled backend server. */
export const BACKEND_SCRIPT = join(HERE, 'http-backend.js');

/**
 * XDP decapsulation of IPIP / IP6IP6 for backends of kernels without tunnel
 * devices: removes an outer IPv4 (protocol 4 or 41) or IPv6 (next header 4 or
 * 41) header and passes the inner packet to the stack.
 */
export const DECAP_BPF_SOURCE = `// SPDX-License-Identifier: GPL-2.0
/* xlb lab: strip an outer IPv4/IPv6 header (IPIP, IP6IP6, 4in6, 6in4); XDP_PASS the rest. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>

#define SEC(n) __attribute__((section(n), used))
#define BE16(x) ((__be16)__builtin_bswap16(x)) /* little-endian BPF target */
static long (*bpf_xdp_adjust_head)(struct xdp_md *ctx, int delta) = (void *)BPF_FUNC_xdp_adjust_head;

SEC("xdp")
int lab_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data, copy;
	__u8 proto, *inner;
	int hlen;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto == BE16(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end)
			return XDP_PASS;
		/* options or a fragment: leave it to the kernel */
		if (ip->ihl != 5 || (ip->frag_off & BE16(0x3fff)))
			return XDP_PASS;
		proto = ip->protocol;
		hlen = sizeof(*ip);
	} else if (eth->h_proto == BE16(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return XDP_PASS;
		proto = ip6->nexthdr;
		hlen = sizeof(*ip6);
	} else {
		return XDP_PASS;
	}
	inner = (__u8 *)(eth + 1) + hlen;
	if ((void *)(inner + 1) > data_end)
		return XDP_PASS;
	copy = *eth;
	if (proto == IPPROTO_IPIP && (*inner >> 4) == 4)
		copy.h_proto = BE16(ETH_P_IP);
	else if (proto == IPPROTO_IPV6 && (*inner >> 4) == 6)
		copy.h_proto = BE16(ETH_P_IPV6);
	else
		return XDP_PASS;
	if (bpf_xdp_adjust_head(ctx, hlen))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(eth, &copy, sizeof(copy));
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
`;

/** Namespace names for `prefix`. */
export function labNamespaces(prefix: string): LabNamespaces {
  return {
    client: `${prefix}-client`,
    node: `${prefix}-node`,
    sw: `${prefix}-sw`,
    backends: Array.from({ length: BACKENDS }, (_, i) => `${prefix}-be${i + 1}`),
  };
}

function allNamespaces(n: LabNamespaces): string[] {
  return [n.client, n.node, n.sw, ...n.backends];
}

function checkPrefix(prefix: string): void {
  if (!/^[a-z][a-z0-9]{0,14}$/.test(prefix)) throw new LabError('XLB_LAB_INVALID', `lab prefix must match [a-z][a-z0-9]{0,14}: ${JSON.stringify(prefix)}`);
}

/** Names of the existing network namespaces (`ip netns list`). */
export async function listNamespaces(): Promise<string[]> {
  const { stdout } = await run('ip', ['-j', 'netns', 'list']);
  if (stdout.trim() === '') return [];
  return (JSON.parse(stdout) as { name: string }[]).map((x) => x.name);
}

/**
 * The MAC address that namespace `ns` has for neighbour `addr`, or undefined
 * (no entry, or an entry without an address: INCOMPLETE / FAILED).
 */
export async function neighbourMac(ns: string, addr: string): Promise<string | undefined> {
  const { stdout } = await run('ip', ['-j', '-n', ns, 'neigh', 'show', 'to', addr]);
  if (stdout.trim() === '') return undefined;
  const rows = JSON.parse(stdout) as { dst: string; lladdr?: string }[];
  return rows.find((r) => r.lladdr)?.lladdr;
}

/** Run `ip -n ns -batch -` with these lines; stops at the first failing line. */
async function ipBatch(ns: string, lines: string[]): Promise<void> {
  await run('ip', ['-n', ns, '-batch', '-'], { input: `${lines.join('\n')}\n` });
}

/**
 * Wait until every device in `devs` of `ns` has operstate UP. The kernel
 * applies a carrier change (operstate, and the qdisc that lets frames out)
 * asynchronously, in linkwatch: a frame sent before that is silently dropped,
 * and the first ARP/ND of a brand-new lab then waits for its 1 s retry
 * (measured: about 1 lab in 10 without this wait).
 * @throws LabError XLB_LAB_TIMEOUT
 */
async function waitLinksUp(ns: string, devs: readonly string[], timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const links = JSON.parse((await run('ip', ['-j', '-n', ns, 'link', 'show'])).stdout) as { ifname: string; operstate?: string }[];
    const down = devs.filter((d) => links.find((l) => l.ifname === d)?.operstate !== 'UP');
    if (down.length === 0) return;
    if (Date.now() > until) throw new LabError('XLB_LAB_TIMEOUT', `${ns}: links not up after ${timeoutMs} ms: ${down.join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Wait until the bridge in `ns` forwards on every port of `ports`. A port
 * starts forwarding only when the bridge hears of its carrier (also via
 * linkwatch); br0's own operstate may lag a second behind and does not
 * matter for frames between ports.
 * @throws LabError XLB_LAB_TIMEOUT
 */
async function waitBridgeForwarding(ns: string, ports: readonly string[], timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const out = (await run('bridge', ['-j', '-n', ns, 'link', 'show'])).stdout;
    const links = (out.trim() ? JSON.parse(out) : []) as { ifname: string; state?: string }[];
    const waiting = ports.filter((p) => links.find((l) => l.ifname === p)?.state !== 'forwarding');
    if (waiting.length === 0) return;
    if (Date.now() > until) throw new LabError('XLB_LAB_TIMEOUT', `${ns}: bridge ports not forwarding after ${timeoutMs} ms: ${waiting.join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** sysctl -w inside ns. */
async function sysctl(ns: string, settings: string[]): Promise<void> {
  await nsExec(ns, 'sysctl', ['-q', '-w', ...settings]);
}

/** Pids of processes in `ns` (`ip netns pids`), minus this process and its parent. */
async function nsPids(ns: string): Promise<number[]> {
  try {
    const { stdout } = await run('ip', ['netns', 'pids', ns]);
    return stdout
      .split(/\s+/)
      .filter((s) => /^\d+$/.test(s))
      .map(Number)
      .filter((p) => p !== process.pid && p !== process.ppid);
  } catch {
    return []; // namespace gone
  }
}

/** SIGTERM the pids, SIGKILL what is left after `graceMs`. */
async function killPids(pids: number[], graceMs = 1000): Promise<void> {
  const alive = (p: number): boolean => {
    try {
      process.kill(p, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (const p of pids) {
    try {
      process.kill(p, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
  const until = Date.now() + graceMs;
  while (pids.some(alive) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  for (const p of pids.filter(alive)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** Kill whatever runs in these namespaces, then delete them (those that exist). */
async function deleteNamespaces(names: string[]): Promise<void> {
  const existing = new Set(await listNamespaces());
  const targets = names.filter((n) => existing.has(n));
  const pids = (await Promise.all(targets.map(nsPids))).flat();
  if (pids.length) await killPids([...new Set(pids)]);
  await Promise.all(
    targets.map((n) =>
      run('ip', ['netns', 'del', n]).catch(async (err: unknown) => {
        if ((await listNamespaces()).includes(n)) throw err;
      }),
    ),
  );
  const left = (await listNamespaces()).filter((n) => names.includes(n));
  if (left.length) throw new LabError('XLB_LAB_CMD', `lab teardown: namespaces still present: ${left.join(', ')}`);
}

/**
 * Remove every namespace of the lab with this prefix (and kill what runs in
 * them): for leftovers of a crashed run. A no-op when there are none.
 * @throws LabError XLB_LAB_INVALID on a bad prefix
 */
export async function destroyLab(prefix: string = DEFAULT_LAB_PREFIX): Promise<void> {
  checkPrefix(prefix);
  await deleteNamespaces(allNamespaces(labNamespaces(prefix)));
}

/** Whether the running kernel can create ipip / ip6tnl devices (probed in `ns`). */
async function kernelTunnels(ns: string): Promise<boolean> {
  const has = async (dev: string): Promise<boolean> =>
    run('ip', ['-n', ns, 'link', 'show', 'dev', dev]).then(
      () => true,
      () => false,
    );
  if ((await has('tunl0')) && (await has('ip6tnl0'))) return true;
  // modules, where the kernel has them (an existing namespace gets the fallback devices on load)
  for (const mod of ['ipip', 'ip6_tunnel']) await run('modprobe', [mod]).catch(() => undefined);
  return (await has('tunl0')) && (await has('ip6tnl0'));
}

/** Wait for the backend's `listening` line on stdout. */
function waitListening(child: ChildProcess, what: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const fail = (why: string): void => {
      cleanup();
      reject(new LabError(why.startsWith('timed out') ? 'XLB_LAB_TIMEOUT' : 'XLB_LAB_CMD', `${what}: ${why}${err.trim() ? `: ${err.trim().slice(-300)}` : ''}`, { stderr: err }));
    };
    const onOut = (b: Buffer): void => {
      out += b.toString();
      if (out.includes('"event":"listening"')) {
        cleanup();
        resolve();
      }
    };
    const onErr = (b: Buffer): void => {
      err += b.toString();
    };
    const onExit = (code: number | null, sig: string | null): void => fail(`exited (${code ?? sig}) before listening`);
    const onError = (e: Error): void => fail(e.message);
    const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms waiting for it to listen`), timeoutMs);
    function cleanup(): void {
      clearTimeout(timer);
      child.stdout?.off('data', onOut);
      child.stderr?.off('data', onErr);
      child.off('exit', onExit);
      child.off('error', onError);
      // keep draining so a chatty child never blocks on a full pipe
      child.stdout?.resume();
      child.stderr?.resume();
    }
    child.stdout?.on('data', onOut);
    child.stderr?.on('data', onErr);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

/**
 * Build the lab. On any failure, everything this call created is torn down
 * before the error propagates; a prefix already in use is refused without
 * touching the existing lab.
 * @throws LabError XLB_LAB_IN_USE (a namespace with the prefix exists: down() it or destroyLab()),
 *   XLB_LAB_INVALID, XLB_LAB_CMD, XLB_LAB_TIMEOUT
 */
export async function createLab(opts: CreateLabOptions = {}): Promise<Lab> {
  const t0 = performance.now();
  const prefix = opts.prefix ?? DEFAULT_LAB_PREFIX;
  checkPrefix(prefix);
  const ns = labNamespaces(prefix);
  const all = allNamespaces(ns);
  const taken = (await listNamespaces()).filter((n) => all.includes(n));
  if (taken.length) {
    throw new LabError('XLB_LAB_IN_USE', `lab prefix ${prefix} in use (${taken.join(', ')}): down() that lab or destroyLab('${prefix}') first`);
  }

  const created: string[] = [];
  const children = new Set<ChildProcess>();
  const timings: Lab['timings'] = { upMs: 0, downMs: undefined, steps: {} };
  let stepT = performance.now();
  const step = (name: string): void => {
    const now = performance.now();
    timings.steps[name] = Math.round(now - stepT);
    stepT = now;
  };
  let tearing: Promise<void> | undefined;
  let downDone = false;
  const down = (): Promise<void> => {
    if (downDone) return Promise.resolve();
    tearing ??= (async () => {
      const d0 = performance.now();
      try {
        await Promise.all([...children].map((c) => stopChild(c)));
        children.clear();
        await deleteNamespaces(created);
        downDone = true;
        timings.downMs = Math.round(performance.now() - d0);
      } finally {
        tearing = undefined;
      }
    })();
    return tearing;
  };
  const spawnIn = (where: string, cmd: string, args: readonly string[], sopts: SpawnOptions = {}): ChildProcess => {
    if (!all.includes(where)) throw new LabError('XLB_LAB_INVALID', `${where} is not a namespace of lab ${prefix}`);
    if (downDone || tearing) throw new LabError('XLB_LAB_INVALID', `lab ${prefix} is down`);
    const child = nsSpawn(where, cmd, args, sopts);
    children.add(child);
    child.once('exit', () => children.delete(child));
    child.once('error', () => children.delete(child)); // e.g. spawn failed; nothing to stop
    return child;
  };

  const backends: LabBackend[] = ns.backends.map((bns, i) => ({
    name: `be${i + 1}`,
    ns: bns,
    ifname: 'eth0',
    v4: `10.99.1.${11 + i}`,
    v6: `fd99:1::${11 + i}`,
    mac: `02:99:00:01:00:${(0x11 + i).toString(16)}`,
    port: `s${i + 1}`,
  }));
  const A = LAB_ADDR;

  try {
    // 1. namespaces; record each one made so a failure removes exactly those
    const made = await Promise.allSettled(
      all.map(async (n) => {
        await run('ip', ['netns', 'add', n]);
        created.push(n);
      }),
    );
    const failedAdd = made.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failedAdd) throw failedAdd.reason;

    step('namespaces');
    // 2. namespace-wide settings, before any device exists so `default` applies to them
    const common = [
      'net.ipv6.conf.all.accept_dad=0',
      'net.ipv6.conf.default.accept_dad=0',
      'net.ipv4.conf.all.rp_filter=0',
      'net.ipv4.conf.default.rp_filter=0',
    ];
    await Promise.all([
      sysctl(ns.client, [...common, 'net.ipv4.conf.all.arp_ignore=0', 'net.ipv4.conf.default.arp_ignore=0']),
      sysctl(ns.node, [
        ...common,
        'net.ipv4.ip_forward=1',
        'net.ipv6.conf.all.forwarding=1',
        'net.ipv6.conf.default.forwarding=1',
        'net.ipv4.conf.all.arp_ignore=0',
        'net.ipv4.conf.default.arp_ignore=0',
        'net.ipv4.conf.all.accept_local=1',
        'net.ipv4.conf.default.accept_local=1',
        'net.ipv6.conf.all.proxy_ndp=1',
      ]),
      sysctl(ns.sw, common),
      ...ns.backends.map((b) =>
        sysctl(b, [
          ...common,
          'net.ipv4.conf.all.arp_ignore=1',
          'net.ipv4.conf.default.arp_ignore=1',
          'net.ipv4.conf.all.arp_announce=2',
          'net.ipv4.conf.default.arp_announce=2',
          // udp and dns checks of a closed port are refused by the ICMP port
          // unreachable it sends back; the kernel's per-destination bucket
          // (a burst of 6, then 1/s) dropped some when several checks and
          // the neighbour keeper hit one backend, and those attempts timed out
          'net.ipv4.icmp_ratelimit=0',
          'net.ipv6.icmp.ratelimit=0',
        ]),
      ),
    ]);

    step('sysctl');
    // 3. devices, each created inside its namespace (peers moved at creation)
    await Promise.all([
      ipBatch(ns.node, [
        `link add xlb0 address ${LAB_MAC.xlb0} type veth peer name c0 address ${LAB_MAC.c0} netns ${ns.client}`,
        `link add xlb1 address ${LAB_MAC.xlb1} type veth peer name s0 address ${LAB_MAC.s0} netns ${ns.sw}`,
      ]),
      ipBatch(ns.sw, [
        'link add br0 type bridge mcast_snooping 0',
        ...backends.map((b, i) => `link add ${b.port} address 02:99:00:01:f0:0${i + 1} type veth peer name eth0 address ${b.mac} netns ${b.ns}`),
      ]),
    ]);

    step('devices');
    // 4. addresses, routes, links up; offloads
    await Promise.all([
      ipBatch(ns.client, ['link set lo up', 'link set c0 up', `addr add ${A.client4}/24 dev c0`, `addr add ${A.client6}/64 dev c0 nodad`]).then(() =>
        nsExec(ns.client, 'ethtool', ['-K', 'c0', 'gro', 'on', 'tx', 'off']),
      ),
      ipBatch(ns.node, [
        'link set lo up',
        `addr add ${A.vip4}/32 dev lo`,
        `addr add ${A.vip6}/128 dev lo nodad`,
        'link set xlb0 up',
        'link set xlb1 up',
        `addr add ${A.node4}/24 dev xlb0`,
        `addr add ${A.node6}/64 dev xlb0 nodad`,
        `addr add ${A.nodeBe4}/24 dev xlb1`,
        `addr add ${A.nodeBe6}/64 dev xlb1 nodad`,
        `neigh add proxy ${A.vip6} dev xlb0`,
      ]).then(() => sysctl(ns.node, ['net.ipv6.neigh.xlb0.proxy_delay=0'])), // per device: a netns has no neigh/default
      ipBatch(ns.sw, [
        'link set lo up',
        'link set br0 up',
        ...['s0', ...backends.map((b) => b.port)].flatMap((p) => [`link set ${p} master br0`, `link set ${p} up`]),
      ]).then(() => nsExec(ns.sw, 'ethtool', ['-K', 's0', 'gro', 'on'])),
      ...backends.map((b) =>
        ipBatch(b.ns, [
          'link set lo up',
          `addr add ${A.vip4}/32 dev lo`,
          `addr add ${A.vip6}/128 dev lo nodad`,
          'link set eth0 up',
          `addr add ${b.v4}/24 dev eth0`,
          `addr add ${b.v6}/64 dev eth0 nodad`,
          `route add default via ${A.nodeBe4} dev eth0`,
          `route add ::/0 via ${A.nodeBe6} dev eth0`,
        ]).then(() => nsExec(b.ns, 'ethtool', ['-K', 'eth0', 'tx', 'off'])),
      ),
    ]);

    step('addresses');
    // 5. tunnel-mode decapsulation on the backends
    let decap: LabDecap = 'none';
    const want = opts.decap ?? 'auto';
    if (want === 'kernel' || want === 'auto') {
      const first = backends[0];
      const ok = first !== undefined && (await kernelTunnels(first.ns));
      if (ok) decap = 'kernel';
      else if (want === 'kernel') throw new LabError('XLB_LAB_INVALID', 'decap: kernel: this kernel has no ipip / ip6_tunnel (tunl0, ip6tnl0)');
      else decap = 'xdp';
    } else decap = want;
    if (decap === 'kernel') {
      await Promise.all(
        backends.map(async (b) => {
          await ipBatch(b.ns, ['link set tunl0 up', 'link set ip6tnl0 up']);
          await sysctl(b.ns, ['net.ipv4.conf.tunl0.rp_filter=0']);
        }),
      );
    } else if (decap === 'xdp') {
      const obj = await buildBpfObject('lab-decap', DECAP_BPF_SOURCE);
      await Promise.all(backends.map((b) => run('ip', ['-n', b.ns, 'link', 'set', 'dev', 'eth0', 'xdpdrv', 'obj', obj, 'sec', 'xdp'])));
    }

    // every veth operationally up and every bridge port forwarding (linkwatch
    // done), so no early frame is dropped
    await Promise.all([
      waitLinksUp(ns.client, ['c0'], 5000),
      waitLinksUp(ns.node, ['xlb0', 'xlb1'], 5000),
      waitLinksUp(ns.sw, ['s0', ...backends.map((b) => b.port)], 5000).then(() => waitBridgeForwarding(ns.sw, ['s0', ...backends.map((b) => b.port)], 5000)),
      ...backends.map((b) => waitLinksUp(b.ns, ['eth0'], 5000)),
    ]);
    step('decap');
    // 6. HTTP backends, waited for (bounded)
    const backendPorts = opts.http ?? true ? [...(opts.backendPorts ?? LAB_BACKEND_PORTS)] : [];
    if (backendPorts.length) {
      const script = opts.backendScript ?? BACKEND_SCRIPT;
      if (!existsSync(script)) throw new LabError('XLB_LAB_INVALID', `backend script missing: ${script} (run npx tsc -p tsconfig.json)`);
      const readyMs = opts.readyTimeoutMs ?? 15_000;
      await Promise.all(
        backends.map((b) => {
          const child = spawnIn(b.ns, process.execPath, [script, '--name', b.name, '--port', backendPorts.join(',')]);
          return waitListening(child, `http-backend ${b.name} in ${b.ns}`, readyMs);
        }),
      );
    }

    step('http');
    // 7. the node reaches every backend (bounded retries): proves the path and
    //    resolves the node's neighbour entries for the backends
    if (backendPorts.length && (opts.primeNeighbours ?? true)) {
      const port = backendPorts[0] ?? 80;
      const urls = backends.flatMap((b) => [`http://${b.v4}:${port}/`, `http://[${b.v6}]:${port}/`]);
      const until = Date.now() + (opts.readyTimeoutMs ?? 15_000);
      for (;;) {
        const r = await runClient({ ns: { client: ns.node } }, { url: urls, count: urls.length, concurrency: urls.length, timeoutMs: 2000 });
        if (r.ok === urls.length) break;
        if (Date.now() > until) throw new LabError('XLB_LAB_TIMEOUT', `the node does not reach every backend: ${JSON.stringify(r)}`);
        await new Promise((res) => setTimeout(res, 200));
      }
    }

    step('prime');
    timings.upMs = Math.round(performance.now() - t0);
    return {
      prefix,
      ns,
      vip4: A.vip4,
      vip6: A.vip6,
      client: { ns: ns.client, ifname: 'c0', v4: A.client4, v6: A.client6, mac: LAB_MAC.c0 },
      node: {
        ns: ns.node,
        clientIf: 'xlb0',
        backendIf: 'xlb1',
        clientV4: A.node4,
        clientV6: A.node6,
        backendV4: A.nodeBe4,
        backendV6: A.nodeBe6,
        clientMac: LAB_MAC.xlb0,
        backendMac: LAB_MAC.xlb1,
      },
      backends,
      backendPorts,
      decap,
      timings,
      spawn: spawnIn,
      down,
    };
  } catch (err) {
    try {
      await down();
    } catch (cleanupErr) {
      throw new AggregateError([err, cleanupErr], `createLab(${prefix}) failed and its cleanup failed too`);
    }
    throw err;
  }
}
