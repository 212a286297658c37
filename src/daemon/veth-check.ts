/**
 * @module daemon/veth-check
 * Whether XDP can work on the veth devices xlb uses, from what was read of
 * them and their peers (io/veth-probe.ts gathers it). Two settings that real
 * NICs do not need decide it (lab-notes, src/lab/lab.ts "XDP on veth"):
 * - a veth hands frames that XDP sends into it (XDP_TX, redirects) to its
 *   peer's NAPI instance, which exists only when the peer has GRO on or a
 *   native XDP program attached; without one the frames are dropped while
 *   xlb's counters say "forwarded";
 * - a frame that XDP forwards loses the skb's CHECKSUM_PARTIAL state, so a
 *   TCP/UDP packet whose checksum a sender left to transmit offload is
 *   forwarded with a checksum the receiver rejects. A veth completes partial
 *   checksums of everything it transmits only with `tx off`.
 * Every interface xlb attaches to both receives frames it forwards and has
 * frames sent into it (XDP_TX, and redirects from the other interfaces), so
 * both checks apply to each attached veth. A device xlb only redirects into
 * (the route to a backend leaves through it) needs the first one only.
 *
 * Layer: pure (H-28): facts in, findings out, each with the exact command
 * that fixes it. No I/O, no logger.
 */

/** Where a peer lives, as seen from xlb's namespace. */
export type PeerNetns =
  /** xlb's own namespace. */
  | { kind: 'same' }
  /** A namespace `ip netns` names (/run/netns/NAME). */
  | { kind: 'named'; name: string }
  /** A namespace found through a process in it (/proc/PID/ns/net). */
  | { kind: 'pid'; pid: number };

/** What was read of a veth's peer. */
export interface PeerFacts {
  /** Its ifindex, in its namespace. */
  ifindex: number;
  /** Its name. */
  ifname: string;
  /** Its namespace. */
  netns: PeerNetns;
  /** GRO on (ETHTOOL_GGRO); null when unknown. */
  gro: boolean | null;
  /** Transmit checksum offload on (ETHTOOL_GTXCSUM); null when unknown. */
  txChecksum: boolean | null;
  /** A native-mode XDP program is attached to it (which gives it a NAPI instance too). */
  xdpNative: boolean;
  /** Name of its master device (a bridge, typically) when it is enslaved; then the senders are behind it. */
  master?: string;
}

/** What was read of one interface xlb attaches to, or redirects into. */
export interface InterfaceFacts {
  /** The interface's name (in xlb's namespace). */
  ifname: string;
  /**
   * `'attached'` (the default): a configured interface, where the program
   * receives and sends. `'egress'`: a device the program only redirects
   * into (the route to {@link InterfaceFacts.backends}); what arrives there
   * does not pass xlb's XDP, so only the peer's NAPI matters.
   */
  role?: 'attached' | 'egress';
  /** For `'egress'`: the backends whose route leaves through it. */
  backends?: string[];
  /** Its driver (ETHTOOL_GDRVINFO); only `'veth'` is checked. */
  driver: string;
  /** The peer, when it could be examined. */
  peer?: PeerFacts;
  /** Why the peer could not be examined (another namespace xlb cannot open, a failed query). */
  peerUnknown?: string;
}

/** A problem found at one interface's peer. */
export type VethProblem = 'napi' | 'tx-checksum' | 'unchecked';

/**
 * The findings of one level at one interface: a warning is a setting that
 * breaks forwarding, a note what xlb could not see or decide. One interface
 * has at most one of each, so a user gets one line, and one command, per
 * interface.
 */
export interface VethFinding {
  /** `'warning'`: forwarding through this interface fails until fixed; `'note'`: check it yourself. */
  level: 'warning' | 'note';
  /** What it is about: the peer's NAPI (GRO), transmit checksumming, a peer that could not be examined. */
  problems: VethProblem[];
  /** The xlb interface. */
  interface: string;
  /** The peer's name, when known. */
  peer?: string;
  /** The peer's namespace as a user names it (`'lab-client'`, `'pid 1234'`), when it is another one. */
  netns?: string;
  /** What is wrong and what it does, one sentence per problem. */
  message: string;
  /** The one command that fixes all of them (or says what to check, for a peer xlb could not examine). */
  fix: string;
}

/** `cmd` run where the peer lives. */
function inNetns(netns: PeerNetns, cmd: string): string {
  if (netns.kind === 'named') return `ip netns exec ${netns.name} ${cmd}`;
  if (netns.kind === 'pid') return `nsenter --net=/proc/${netns.pid}/ns/net ${cmd}`;
  return cmd;
}

function netnsLabel(netns: PeerNetns): string | undefined {
  if (netns.kind === 'named') return netns.name;
  if (netns.kind === 'pid') return `pid ${netns.pid}`;
  return undefined;
}

/** How a message names the interface. */
function subject(i: InterfaceFacts): string {
  if (i.role !== 'egress') return `XDP on veth ${i.ifname}`;
  return `XDP redirects into veth ${i.ifname} (the route to ${(i.backends ?? []).join(', ')}; xlb is not attached to it)`;
}

/** One problem before grouping: its sentence and the ethtool setting that fixes it. */
interface Item {
  level: 'warning' | 'note';
  problem: VethProblem;
  sentence: string;
  setting: 'gro on' | 'tx off';
}

/** The problems of one veth's peer (see the module comment). */
function peerItems(ifname: string, p: PeerFacts, egress: boolean): Item[] {
  const where = p.netns.kind === 'same' ? '' : ` (netns ${netnsLabel(p.netns)!})`;
  const items: Item[] = [];
  // NAPI: GRO on, or a native XDP program, at the peer
  if (!p.xdpNative && p.gro === false) {
    items.push({ level: 'warning', problem: 'napi', setting: 'gro on', sentence: `its peer ${p.ifname}${where} has GRO off and no XDP program, so it has no NAPI instance and drops every frame xlb sends or redirects into ${ifname}, while the counters say forwarded` });
  } else if (!p.xdpNative && p.gro === null) {
    items.push({ level: 'note', problem: 'napi', setting: 'gro on', sentence: `xlb could not read whether GRO is on at its peer ${p.ifname}${where}; without GRO or an XDP program there, frames xlb sends into ${ifname} are dropped` });
  }
  // checksums of what arrives through the peer: only where xlb's XDP receives
  if (egress) return items;
  if (p.txChecksum === null) {
    items.push({ level: 'note', problem: 'tx-checksum', setting: 'tx off', sentence: `xlb could not read transmit checksumming of its peer ${p.ifname}${where}; with it on, TCP/UDP packets xlb forwards from there can carry checksums the receiver rejects` });
  } else if (p.txChecksum && p.master !== undefined) {
    // The peer only passes on what hosts behind its master sent: their own
    // setting decides, and xlb cannot see them.
    items.push({
      level: 'note',
      problem: 'tx-checksum',
      setting: 'tx off',
      sentence: `its peer ${p.ifname}${where} is a port of ${p.master} with transmit checksum offload on, so TCP/UDP packets xlb forwards from hosts behind ${p.master} keep whatever checksum they were sent with: those hosts need tx off (xlb cannot see them), or turn it off on ${p.ifname}, which completes every checksum it passes on`,
    });
  } else if (p.txChecksum) {
    items.push({ level: 'warning', problem: 'tx-checksum', setting: 'tx off', sentence: `its peer ${p.ifname}${where} sends with transmit checksum offload on, so the TCP/UDP packets xlb forwards from it carry partial checksums that the receiver rejects` });
  }
  return items;
}

/**
 * The findings for the interfaces xlb attaches to or redirects into, in
 * their order: for each veth at most one warning and one note, each with
 * one command that fixes all its problems. Non-veth interfaces give none.
 * @param interfaces what io/veth-probe.ts read
 */
export function vethFindings(interfaces: readonly InterfaceFacts[]): VethFinding[] {
  const out: VethFinding[] = [];
  for (const i of interfaces) {
    if (i.driver !== 'veth') continue;
    const p = i.peer;
    if (p === undefined) {
      out.push({
        level: 'note',
        problems: ['unchecked'],
        interface: i.ifname,
        message: `${subject(i)}: xlb could not examine its peer (${i.peerUnknown ?? 'no reason given'}); XDP through it needs GRO on at the peer and transmit checksum offload off at the peer`,
        fix: 'in the namespace of the peer: ethtool -K <peer> gro on tx off',
      });
      continue;
    }
    const label = netnsLabel(p.netns);
    const egress = i.role === 'egress';
    const items = peerItems(i.ifname, p, egress);
    for (const level of ['warning', 'note'] as const) {
      const mine = items.filter((x) => x.level === level);
      if (mine.length === 0) continue;
      out.push({
        level,
        problems: mine.map((x) => x.problem),
        interface: i.ifname,
        peer: p.ifname,
        ...(label !== undefined ? { netns: label } : {}),
        message: `${subject(i)}: ${mine.map((x) => x.sentence).join('; and ')}`,
        fix: inNetns(p.netns, `ethtool -K ${p.ifname} ${mine.map((x) => x.setting).join(' ')}`),
      });
    }
  }
  return out;
}

/** One line of `xlb status` for a finding. */
export function findingLine(f: VethFinding): string {
  return `${f.level}: ${f.message}. Fix: ${f.fix}`;
}
