/**
 * @module test/support/fib-lab
 * A network namespace with routes and permanent neighbours for running the
 * XDP program through BPF_PROG_TEST_RUN: bpf_fib_lookup() answers from the
 * namespace of the calling thread, so the tests enter this one (setns on the
 * main thread) and every forwarding decision is deterministic.
 *
 * Everything lives inside the namespace (named with a unique `xlbt-` prefix);
 * nothing is added to the root namespace. destroy() removes it all and is
 * safe to call twice.
 *
 *   xa (ingress, 10.0.0.1/24, fd00::1/64)  - client 10.0.0.2, dr/nat backends .10-.12,
 *                                            gateway .254 (routes 10.2.0.0/24, fd02::/64)
 *   xc (10.1.0.1/24, fd01::1/64)           - backend 10.1.0.10 (redirect), 10.1.0.99 no neighbour
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** MACs of the lab, fixed so that expected packets can be written down. */
export const LAB_MAC = {
  xa: '02:00:00:00:0a:01',
  xb: '02:00:00:00:0a:02',
  xc: '02:00:00:00:0c:01',
  xd: '02:00:00:00:0c:02',
  client: '02:00:00:00:00:02',
  be10: '02:00:00:00:00:10',
  be11: '02:00:00:00:00:11',
  be12: '02:00:00:00:00:12',
  gw: '02:00:00:00:00:fe',
  beC10: '02:00:00:00:01:10',
} as const;

/** A namespace ready for BPF_PROG_TEST_RUN with bpf_fib_lookup(). */
export interface FibLab {
  /** namespace name */
  ns: string;
  /** /var/run/netns/<ns>, for enterNetns() */
  path: string;
  /** ifindex of xa, the ingress device of the tests */
  ifA: number;
  /** ifindex of xc */
  ifC: number;
  /** remove the namespace (idempotent) */
  destroy(): void;
}

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** True when the process may create namespaces and load BPF. */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * Build the lab. On any failure the partial namespace is removed before the error propagates.
 * @param prefix name prefix; the pid and random bytes make it unique
 */
export function createFibLab(prefix = 'xlbt'): FibLab {
  const ns = `${prefix}-${process.pid}-${randomBytes(2).toString('hex')}`;
  ip(['netns', 'add', ns]);
  let destroyed = false;
  const destroy = (): void => {
    if (destroyed) return;
    destroyed = true;
    try {
      ip(['netns', 'del', ns]);
    } catch {
      /* already gone */
    }
  };
  try {
    const n = (args: string[]): string => ip(['-n', ns, ...args]);
    n(['link', 'set', 'lo', 'up']);
    n(['link', 'add', 'xa', 'address', LAB_MAC.xa, 'type', 'veth', 'peer', 'name', 'xb', 'address', LAB_MAC.xb]);
    n(['link', 'add', 'xc', 'address', LAB_MAC.xc, 'type', 'veth', 'peer', 'name', 'xd', 'address', LAB_MAC.xd]);
    for (const d of ['xa', 'xb', 'xc', 'xd']) n(['link', 'set', d, 'up']);
    execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1'], { stdio: 'ignore' });
    n(['addr', 'add', '10.0.0.1/24', 'dev', 'xa']);
    n(['addr', 'add', 'fd00::1/64', 'dev', 'xa', 'nodad']);
    n(['addr', 'add', '10.1.0.1/24', 'dev', 'xc']);
    n(['addr', 'add', 'fd01::1/64', 'dev', 'xc', 'nodad']);
    const neigh = (addr: string, mac: string, dev: string): void => {
      n(['neigh', 'replace', addr, 'lladdr', mac, 'dev', dev, 'nud', 'permanent']);
    };
    neigh('10.0.0.2', LAB_MAC.client, 'xa');
    neigh('fd00::2', LAB_MAC.client, 'xa');
    for (const [i, mac] of [[10, LAB_MAC.be10], [11, LAB_MAC.be11], [12, LAB_MAC.be12]] as const) {
      neigh(`10.0.0.${i}`, mac, 'xa');
      neigh(`fd00::${i}`, mac, 'xa');
    }
    neigh('10.0.0.254', LAB_MAC.gw, 'xa');
    neigh('fd00::fe', LAB_MAC.gw, 'xa');
    neigh('10.1.0.10', LAB_MAC.beC10, 'xc');
    neigh('fd01::10', LAB_MAC.beC10, 'xc');
    n(['route', 'add', '10.2.0.0/24', 'via', '10.0.0.254', 'dev', 'xa']);
    n(['-6', 'route', 'add', 'fd02::/64', 'via', 'fd00::fe', 'dev', 'xa']);
    const links = JSON.parse(n(['-j', 'link', 'show'])) as { ifname: string; ifindex: number }[];
    const idx = (name: string): number => {
      const l = links.find((x) => x.ifname === name);
      if (!l) throw new Error(`lab: ${name} missing`);
      return l.ifindex;
    };
    return { ns, path: `/var/run/netns/${ns}`, ifA: idx('xa'), ifC: idx('xc'), destroy };
  } catch (err) {
    destroy();
    throw err;
  }
}
