/**
 * Reads what daemon/veth-check.ts needs to know about the interfaces xlb
 * attaches to: each one's driver, and for a veth its peer's name, GRO,
 * transmit checksumming, native XDP program and master, wherever the peer
 * lives.
 *
 * How the peer is found: the interface's link (rtnetlink) gives the peer's
 * ifindex (IFLA_LINK) and, when the peer is in another network namespace,
 * that namespace's id as xlb's namespace numbers it (IFLA_LINK_NETNSID).
 * An id cannot be opened, so candidate namespaces are opened by path, the
 * ones `ip netns` names (/run/netns/NAME) first, then those of running
 * processes (/proc/PID/ns/net, containers), and each is asked its id
 * (RTM_GETNSID with its fd) until one matches. The peer is then read inside
 * that namespace: the calling thread enters it (enterNetns) just long
 * enough to make the ethtool socket, the XDP query and a netlink client
 * there, and goes back at once.
 * What it cannot see: a namespace held only by an fd or a bind mount
 * elsewhere (no /run/netns entry, no process in it): that peer is reported
 * as not examined, never guessed.
 * Devices xlb redirects into without being attached to them are found from
 * the routes to the backends (RTM_GETROUTE, the lookup bpf_fib_lookup makes
 * too), as of the time of the probe.
 *
 * Layer: I/O edge (H-29): sockets and namespaces through the addon and
 * io/netlink-client.ts; no policy, the findings are daemon/veth-check.ts's.
 *
 * @module io/veth-probe
 */
import { closeSync, openSync, readdirSync, statSync } from 'node:fs';
import { inNetns, native, type NativeAddon } from '../native/binding.js';
import type { InterfaceFacts, PeerFacts, PeerNetns } from '../daemon/veth-check.js';
import { NetlinkClient, type LinkInfo } from './netlink-client.js';

/** Most /proc entries looked at when searching for a peer's namespace: a bound on the work, far above what a balancer host runs. */
const MAX_PROC_ENTRIES = 65536;

/** What the probe uses of the addon (tests may pass their own). */
export type VethProbeAddon = Pick<NativeAddon, 'ethtoolQuery' | 'xdpQuery' | 'enterNetns' | 'restoreNetns'>;

/** Options of {@link probeInterfaces}. */
export interface VethProbeOptions {
  /** The addon; default the real one. */
  addon?: VethProbeAddon;
  /** Where `ip netns` keeps its namespaces; default /run/netns. */
  netnsDir?: string;
  /** The proc mount; default /proc. */
  procDir?: string;
  /**
   * Backend addresses: the devices their routes leave through, when xlb is
   * not attached to them, are read too (role `'egress'`): the program
   * redirects into whatever device bpf_fib_lookup returns.
   */
  egressTo?: readonly string[];
}

/** A namespace found for an id. */
interface FoundNetns {
  path: string;
  netns: PeerNetns;
}

/**
 * Reads the facts of the named interfaces in the calling thread's
 * namespace, then of the devices the routes to `options.egressTo` leave
 * through when they are not among them (see the module comment). A failure
 * about one interface or its peer is reported in its facts
 * (`peerUnknown`); only a failure to open netlink at all throws.
 * @param names interface names
 * @throws SystemError when the netlink client cannot start
 */
export async function probeInterfaces(names: readonly string[], options: VethProbeOptions = {}): Promise<InterfaceFacts[]> {
  const addon = options.addon ?? native();
  const netnsDir = options.netnsDir ?? '/run/netns';
  const procDir = options.procDir ?? '/proc';
  const nl = new NetlinkClient({ events: false });
  nl.start();
  const found = new Map<number, FoundNetns | null>();

  /** Fills in the driver and the peer of `link`. */
  const examine = async (link: LinkInfo, facts: InterfaceFacts): Promise<void> => {
    facts.driver = addon.ethtoolQuery(link.ifindex).driver;
    if (facts.driver !== 'veth') return;
    // The kernel leaves IFLA_LINK out when it equals the device's own
    // index, which happens across namespaces.
    const peerIndex = link.link ?? (link.linkNetnsid !== undefined ? link.ifindex : undefined);
    if (peerIndex === undefined) {
      facts.peerUnknown = 'its link names no peer';
      return;
    }
    try {
      if (link.linkNetnsid === undefined) {
        facts.peer = await readPeer(addon, nl, peerIndex, { kind: 'same' });
        return;
      }
      if (!found.has(link.linkNetnsid)) found.set(link.linkNetnsid, await findNetns(nl, link.linkNetnsid, netnsDir, procDir));
      const ns = found.get(link.linkNetnsid);
      if (!ns) {
        facts.peerUnknown = `the peer, ifindex ${peerIndex}, is in the namespace of id ${link.linkNetnsid}, which is neither under ${netnsDir} nor the namespace of a process`;
        return;
      }
      facts.peer = await readPeerIn(addon, ns, peerIndex);
    } catch (err) {
      facts.peerUnknown = `reading the peer, ifindex ${peerIndex}: ${(err as Error).message}`;
    }
  };

  try {
    const out: InterfaceFacts[] = [];
    const attached = new Set<number>();
    for (const ifname of names) {
      const facts: InterfaceFacts = { ifname, driver: '' };
      out.push(facts);
      try {
        const link = await nl.link(ifname);
        attached.add(link.ifindex);
        await examine(link, facts);
      } catch (err) {
        facts.peerUnknown = (err as Error).message;
      }
    }
    // devices the routes to the backends leave through, xlb not attached
    const egress = new Map<number, string[]>();
    for (const address of options.egressTo ?? []) {
      let oif: number | undefined;
      try {
        oif = (await nl.route(address)).oif;
      } catch {
        continue; // no route: nothing is redirected towards it
      }
      if (oif === undefined || attached.has(oif)) continue;
      egress.set(oif, [...(egress.get(oif) ?? []), address]);
    }
    for (const [ifindex, backends] of egress) {
      const facts: InterfaceFacts = { ifname: `ifindex ${ifindex}`, driver: '', role: 'egress', backends };
      try {
        const link = await nl.link(ifindex);
        facts.ifname = link.name;
        await examine(link, facts);
      } catch (err) {
        facts.peerUnknown = (err as Error).message;
      }
      out.push(facts);
    }
    return out;
  } finally {
    nl.stop();
  }
}

/** The peer's facts from a client and addon calls that talk to its namespace. */
async function readPeer(addon: VethProbeAddon, nl: NetlinkClient, ifindex: number, netns: PeerNetns): Promise<PeerFacts> {
  const e = addon.ethtoolQuery(ifindex);
  const xdp = addon.xdpQuery(ifindex);
  return finish(nl, ifindex, netns, e, xdp);
}

/** The peer's facts, read inside the namespace at `ns.path`. */
async function readPeerIn(addon: VethProbeAddon, ns: FoundNetns, ifindex: number): Promise<PeerFacts> {
  const pnl = new NetlinkClient({ events: false });
  // sockets belong to the namespace they are made in
  const [e, xdp] = inNetns(
    ns.path,
    () => {
      const facts = [addon.ethtoolQuery(ifindex), addon.xdpQuery(ifindex)] as const;
      pnl.start();
      return facts;
    },
    addon,
  );
  try {
    return await finish(pnl, ifindex, ns.netns, e, xdp);
  } finally {
    pnl.stop();
  }
}

async function finish(nl: NetlinkClient, ifindex: number, netns: PeerNetns, e: ReturnType<VethProbeAddon['ethtoolQuery']>, xdp: ReturnType<VethProbeAddon['xdpQuery']>): Promise<PeerFacts> {
  const link = await nl.link(ifindex);
  const peer: PeerFacts = {
    ifindex,
    ifname: e.ifname,
    netns,
    gro: e.gro,
    txChecksum: e.txChecksum,
    xdpNative: xdp !== null && (xdp.mode === 'native' || xdp.mode === 'multi'),
  };
  if (link.master !== undefined) {
    try {
      peer.master = (await nl.link(link.master)).name;
    } catch {
      peer.master = `ifindex ${link.master}`;
    }
  }
  return peer;
}

/**
 * The namespace that xlb's namespace numbers `nsid`: the named ones first,
 * then those of processes, each namespace asked once; null if none is.
 */
async function findNetns(nl: NetlinkClient, nsid: number, netnsDir: string, procDir: string): Promise<FoundNetns | null> {
  const seen = new Set<string>();
  const key = (path: string): string | null => {
    try {
      const st = statSync(path);
      return `${st.dev}:${st.ino}`;
    } catch {
      return null;
    }
  };
  const own = key(`${procDir}/self/ns/net`);
  if (own !== null) seen.add(own);
  const ask = async (path: string): Promise<boolean> => {
    const k = key(path);
    if (k === null || seen.has(k)) return false;
    seen.add(k);
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return false; // gone, or not ours to open
    }
    try {
      return (await nl.netnsId(fd)) === nsid;
    } catch {
      return false; // not a namespace (a stray file under /run/netns)
    } finally {
      closeSync(fd);
    }
  };
  for (const name of list(netnsDir).sort()) {
    if (await ask(`${netnsDir}/${name}`)) return { path: `${netnsDir}/${name}`, netns: { kind: 'named', name } };
  }
  const pids = list(procDir)
    .filter((n) => /^[1-9][0-9]*$/.test(n))
    .slice(0, MAX_PROC_ENTRIES)
    .map(Number)
    .sort((a, b) => a - b);
  for (const pid of pids) {
    const path = `${procDir}/${pid}/ns/net`;
    if (await ask(path)) return { path, netns: { kind: 'pid', pid } };
  }
  return null;
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
