/**
 * A lab for VRRP end-to-end tests: four network namespaces on one Ethernet
 * segment (a bridge in `<p>-sw`): `<p>-a` and `<p>-b` are the two VRRP nodes
 * (xlb or keepalived), `<p>-c` a client that pings and connects to the VIP.
 *
 *   a eth0 10.98.0.1/24, fd98::1/64 ──┐
 *   b eth0 10.98.0.2/24, fd98::2/64 ──┼── br0 (in <p>-sw)
 *   c eth0 10.98.0.3/24, fd98::3/64 ──┘
 *
 * With `backends: n`, namespaces `<p>-d1`.. join the same segment as real
 * servers behind an xlb VIP (10.98.0.11.. ; the lab's HTTP server on 80 and
 * 8080): the IPv4 VIP on their lo without answering ARP for it
 * (arp_ignore=1, arp_announce=2), the lab's XDP decapsulation for tunnel
 * mode, and they answer clients directly (direct server return: the client
 * is on the segment).
 *
 * Every address is inside the namespaces; `down()` removes them all and
 * kills what was spawned, also after a failure.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBpfObject, nsExec, nsPath, nsSpawn, stopChild } from '../../src/lab/exec.js';
import { BACKEND_SCRIPT, DECAP_BPF_SOURCE } from '../../src/lab/lab.js';

/** The nodes of the lab. */
export type VrrpNode = 'a' | 'b' | 'c' | `d${number}`;

/** Addresses and MACs of each node's eth0. */
export const VLAB = {
  a: { v4: '10.98.0.1', v6: 'fd98::1', mac: '02:98:00:00:00:0a' },
  b: { v4: '10.98.0.2', v6: 'fd98::2', mac: '02:98:00:00:00:0b' },
  c: { v4: '10.98.0.3', v6: 'fd98::3', mac: '02:98:00:00:00:0c' },
  vip4: '10.98.0.100',
  vip6: 'fd98::100',
} as const;

/**
 * keepalived.conf of a VRRPv3 BACKUP on eth0 for VLAB.vip4/24, virtual
 * router 51 (garp_master_delay 1 s, garp_master_repeat 2), as the VRRP e2e
 * test and bench run it against xlb.
 * @param prefix the lab's prefix (router_id ka-<prefix>)
 */
export function keepalivedConf(prefix: string, priority: number, advertMs: number): string {
  return `
global_defs {
  router_id ka-${prefix}
  vrrp_version 3
  vrrp_garp_master_delay 1
  vrrp_garp_master_repeat 2
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority ${priority}
  advert_int ${advertMs / 1000}
  virtual_ipaddress {
    ${VLAB.vip4}/24
  }
}
`;
}

/** An XDP program that passes everything (see createVrrpLab). */
const PASS_BPF_SOURCE = `// SPDX-License-Identifier: GPL-2.0
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp") int lab_pass(struct xdp_md *ctx) { return XDP_PASS; }
char LICENSE[] SEC("license") = "GPL";
`;

/** Address of backend i (1-based). */
export const backendV4 = (i: number): string => `10.98.0.${10 + i}`;

/** Options of {@link createVrrpLab}. */
export interface VrrpLabOptions {
  /** Backends d1..dn behind the VIP (default 0). */
  backends?: number;
}

export interface VrrpLab {
  readonly prefix: string;
  /** Namespace of a node. */
  ns(node: VrrpNode | 'sw'): string;
  /** A scratch directory, removed by down(). */
  readonly dir: string;
  /** Start a long-lived process in a node's namespace; down() stops it. */
  spawn(node: VrrpNode, cmd: string, args: readonly string[]): ChildProcess;
  /** Run a command in a node's namespace; its stdout. */
  exec(node: VrrpNode, cmd: string, args: readonly string[]): Promise<string>;
  /** Whether `address` is on the node's eth0. */
  hasAddress(node: VrrpNode, address: string): Promise<boolean>;
  /** The MAC the client's neighbour table holds for `address` (undefined: none or not valid). */
  clientNeighbour(address: string): Promise<string | undefined>;
  /** Start keepalived in a node with this config text; resolves once it runs. */
  keepalived(node: VrrpNode, conf: string): ChildProcess;
  down(): Promise<void>;
}

/**
 * Build the lab.
 * @param prefix unique namespace prefix (short: interface names derive from it)
 */
export async function createVrrpLab(prefix: string, opts: VrrpLabOptions = {}): Promise<VrrpLab> {
  const ns = (n: VrrpNode | 'sw'): string => `${prefix}-${n}`;
  const backends = Array.from({ length: opts.backends ?? 0 }, (_, i) => `d${i + 1}` as const);
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const children: ChildProcess[] = [];
  const ip = (args: string[]): void => void execFileSync('ip', args, { stdio: 'pipe' });
  /** A command inside a node's namespace, synchronously (set-up only). */
  const inNs = (n: VrrpNode | 'sw', args: string[]): void => void execFileSync('nsenter', [`--net=${nsPath(ns(n))}`, '--', ...args], { stdio: 'pipe' });
  const lab: VrrpLab = {
    prefix,
    ns,
    dir,
    spawn(node, cmd, args) {
      const c = nsSpawn(ns(node), cmd, args);
      children.push(c);
      return c;
    },
    async exec(node, cmd, args) {
      return (await nsExec(ns(node), cmd, args)).stdout;
    },
    async hasAddress(node, address) {
      const out = JSON.parse(await lab.exec(node, 'ip', ['-j', 'addr', 'show', 'dev', 'eth0'])) as { addr_info: { local: string }[] }[];
      return out.some((l) => l.addr_info.some((a) => a.local === address));
    },
    async clientNeighbour(address) {
      const out = JSON.parse(await lab.exec('c', 'ip', ['-j', 'neigh', 'show', 'to', address, 'dev', 'eth0'])) as { lladdr?: string; state?: string[] }[];
      const e = out[0];
      if (!e?.lladdr || e.state?.some((s) => s === 'FAILED' || s === 'INCOMPLETE')) return undefined;
      return e.lladdr;
    },
    keepalived(node, conf) {
      const d = join(dir, `keepalived-${node}`);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'keepalived.conf'), conf);
      return lab.spawn(node, 'keepalived', ['-n', '-l', '-D', '-P', '-f', join(d, 'keepalived.conf'), '-p', join(d, 'k.pid'), '-r', join(d, 'v.pid'), '-c', join(d, 'c.pid')]);
    },
    async down() {
      await Promise.all(children.map((c) => stopChild(c, 1000)));
      for (const n of ['a', 'b', 'c', ...backends, 'sw'] as const) {
        try {
          ip(['netns', 'del', ns(n)]);
        } catch {
          /* not there */
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const n of ['sw', 'a', 'b', 'c'] as const) ip(['netns', 'add', ns(n)]);
    ip(['-n', ns('sw'), 'link', 'add', 'br0', 'type', 'bridge', 'forward_delay', '0']);
    ip(['-n', ns('sw'), 'link', 'set', 'br0', 'up']);
    for (const n of ['a', 'b', 'c'] as const) {
      ip(['-n', ns('sw'), 'link', 'add', `s${n}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns(n), 'address', VLAB[n].mac]);
      ip(['-n', ns('sw'), 'link', 'set', `s${n}`, 'master', 'br0', 'up']);
      ip(['-n', ns(n), 'link', 'set', 'lo', 'up']);
      ip(['-n', ns(n), 'addr', 'add', `${VLAB[n].v4}/24`, 'dev', 'eth0']);
      ip(['-n', ns(n), 'addr', 'add', `${VLAB[n].v6}/64`, 'dev', 'eth0', 'nodad']);
      ip(['-n', ns(n), 'link', 'set', 'eth0', 'up']);
    }
    // the link-local addresses (IPv6 adverts come from them) must finish DAD
    for (const n of ['a', 'b', 'c'] as const) await waitLinkLocal(ns(n));
    if (backends.length) {
      const pass = await buildBpfObject('lab-pass', PASS_BPF_SOURCE);
      // frames that XDP sends on lose the skb's checksum state: the client
      // must send complete TCP checksums, not leave them to veth "offload"
      inNs('c', ['ethtool', '-K', 'eth0', 'tx', 'off']);
      for (const n of ['a', 'b'] as const) {
        // xlb's route lookups (bpf_fib_lookup) need forwarding on the nodes
        inNs(n, ['sysctl', '-q', '-w', 'net.ipv4.conf.all.forwarding=1', 'net.ipv4.conf.eth0.forwarding=1']);
        // a veth takes the XDP_TX frames of its peer only with an XDP
        // program of its own (or NAPI): a pass-through one on the bridge side
        ip(['-n', ns('sw'), 'link', 'set', 'dev', `s${n}`, 'xdpdrv', 'obj', pass, 'sec', 'xdp']);
      }
      const decap = await buildBpfObject('lab-decap', DECAP_BPF_SOURCE);
      for (const [i, d] of backends.entries()) {
        ip(['netns', 'add', ns(d)]);
        ip(['-n', ns('sw'), 'link', 'add', `s${d}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns(d)]);
        ip(['-n', ns('sw'), 'link', 'set', `s${d}`, 'master', 'br0', 'up']);
        ip(['-n', ns(d), 'link', 'set', 'lo', 'up']);
        ip(['-n', ns(d), 'addr', 'add', `${backendV4(i + 1)}/24`, 'dev', 'eth0']);
        ip(['-n', ns(d), 'addr', 'add', `${VLAB.vip4}/32`, 'dev', 'lo']);
        for (const k of ['all.arp_ignore=1', 'all.arp_announce=2', 'eth0.arp_ignore=1', 'eth0.arp_announce=2', 'all.rp_filter=0', 'eth0.rp_filter=0']) {
          inNs(d, ['sysctl', '-q', '-w', `net.ipv4.conf.${k}`]);
        }
        ip(['-n', ns(d), 'link', 'set', 'eth0', 'up']);
        // veth offloads would hand the client segments with partial checksums
        inNs(d, ['ethtool', '-K', 'eth0', 'tx', 'off']);
        ip(['-n', ns(d), 'link', 'set', 'dev', 'eth0', 'xdpdrv', 'obj', decap, 'sec', 'xdp']);
        const srv = lab.spawn(d, process.execPath, [BACKEND_SCRIPT, '--name', d, '--port', '80,8080']);
        await new Promise<void>((ok, fail) => {
          const timer = setTimeout(() => fail(new Error(`http-backend ${d} did not start`)), 10_000);
          let out = '';
          srv.stdout?.on('data', (b: Buffer) => {
            out += b.toString();
            if (out.includes('"listening"')) {
              clearTimeout(timer);
              ok();
            }
          });
        });
      }
    }
  } catch (err) {
    await lab.down();
    throw err;
  }
  return lab;
}

/** Wait until eth0 of `ns` has a link-local address that is not tentative. */
async function waitLinkLocal(ns: string): Promise<void> {
  const until = Date.now() + 5000;
  for (;;) {
    const out = JSON.parse((await nsExec(ns, 'ip', ['-j', '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'link'])).stdout) as { addr_info: { tentative?: boolean }[] }[];
    if (out[0]?.addr_info.some((a) => !a.tentative)) return;
    if (Date.now() > until) throw new Error(`${ns}: no usable link-local address`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
