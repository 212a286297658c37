/**
 * @module bfd/echo
 * xlb's own BFD echo in the BFD worker (RFC 5880 §6.4, RFC 5881 §4): the
 * real {@link BfdEchoIo} of the runtime. For each session whose echo may run
 * it finds the path (the route to the peer: interface and, without a
 * `source_ip`, our address; the interface's MAC; the peer's MAC from the
 * kernel's neighbour table), gives the session a slot of the pinned
 * xlb_bfd_echo (XDP timestamps the echoes that come back there), builds the
 * frame (./echo-frame.ts) and hands it to the native echo thread
 * (native/src/bfd_echo.h), which sends it on time and reports a failed echo
 * once. JS is not woken per packet.
 *
 * Why the neighbour table for the peer's MAC: the control packets go to the
 * same address through the kernel, so its entry is resolved and kept fresh
 * while the session is Up, which is the only time echo runs; it is read once
 * per start (each time the session comes Up). Learning it from the control
 * packets would need a packet socket beside the UDP ones for no gain. A peer
 * whose MAC changes fails its echo, goes Down, comes Up, and is read again.
 *
 * Layer: runtime edge (netlink, the pinned map, the addon's thread).
 */
import { native, inNetns, type NativeBfdEchoTx, type NativeBpfMap } from '../native/binding.js';
import { NetlinkClient } from '../io/netlink-client.js';
import { neighUsable } from '../net/neigh.js';
import { AF_INET, AF_INET6, formatAddr } from '../net/addr.js';
import { encodeEchoFrame } from './echo-frame.js';
import { XLB_BFD_ECHO_SLOT_SIZE, XlbFamily, encodeXlbBfdEchoSlot, xlbBfdEchoSlotLayout } from '../dataplane/xdp/abi.gen.js';
import type { BfdEchoIo, BfdEchoStart, BfdEchoCounters, BfdRuntimeIo } from './runtime.js';

/** RTA_PREFSRC (linux/rtnetlink.h): the route's preferred source address. */
const RTA_PREFSRC = 7;

const offsetOf = (name: string): number => xlbBfdEchoSlotLayout.fields.find((f) => f.name === name)!.offset;

/** Options of {@link createBfdEchoIo}. */
export interface BfdEchoIoOptions {
  /** The pinned xlb_bfd_echo (`<pinDir>/xlb_bfd_echo`). */
  mapPath: string;
  /** Network namespace of the sockets (tests); default the thread's. */
  netns?: string;
  /** SCHED_FIFO priority of the echo thread (0: normal). */
  rtPriority?: number;
  log: BfdRuntimeIo['log'];
}

interface Running {
  slot: number;
  discr: number;
  onFail: (agoMs: number) => void;
  /** Cancelled while the path was being resolved. */
  cancelled: boolean;
  /** The thread runs it. */
  started: boolean;
}

function u32key(i: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(i);
  return b;
}

/**
 * The echo of the BFD worker. Opens the map and the thread on the first
 * session that needs them.
 */
export function createBfdEchoIo(opts: BfdEchoIoOptions): BfdEchoIo & { close(): void } {
  const inNs = <T>(fn: () => T): T => (opts.netns === undefined ? fn() : inNetns(opts.netns, fn));
  let tx: NativeBfdEchoTx | undefined;
  let map: NativeBpfMap | undefined;
  let slots = 0;
  const byDiscr = new Map<number, Running>();
  const bySlot = new Map<number, Running>();

  const open = (): void => {
    if (tx !== undefined) return;
    map = native().BpfMap.fromPin(opts.mapPath);
    slots = map.maxEntries;
    tx = inNs(
      () =>
        new (native().BfdEchoTx)(
          {
            mapPath: opts.mapPath,
            slotSize: XLB_BFD_ECHO_SLOT_SIZE,
            lastNsOffset: offsetOf('last_ns'),
            countOffset: offsetOf('count'),
            ...(opts.rtPriority ? { rtPriority: opts.rtPriority } : {}),
          },
          (slot, agoNs) => {
            // a report queued just before the slot was stopped and given to a
            // new run is the old run's: the new one has not failed
            const r = bySlot.get(slot);
            if (r?.started && tx?.stats(slot)?.failed) r.onFail(agoNs / 1e6);
          },
        ),
    );
    if (opts.rtPriority) {
      const t = tx.threadInfo();
      if (t.rtErrno !== 0) opts.log('warn', { errno: t.rtErrno }, `bfd: echo thread not made SCHED_FIFO ${opts.rtPriority} (errno ${t.rtErrno}); echoes may be sent late under load`);
    }
  };

  const freeSlot = (): number => {
    for (let i = 0; i < slots; i++) if (!bySlot.has(i)) return i;
    return -1;
  };

  /** Route, addresses and MACs of a session's echo, in the namespace of the sockets. */
  const resolvePath = async (s: BfdEchoStart): Promise<{ ifindex: number; address: string; srcMac: string; dstMac: string }> => {
    const nl = inNs(() => {
      const c = new NetlinkClient({ events: false });
      c.start();
      return c;
    });
    try {
      const route = await nl.route(s.peer);
      if (route.oif === undefined) throw new Error(`no output interface towards ${s.peer}`);
      if (route.gateway !== undefined) throw new Error(`${s.peer} is not on-link (via ${route.gateway}); echo is single hop`);
      const prefsrc = route.unknown?.find((a) => a.type === RTA_PREFSRC);
      const address = s.local ?? (prefsrc ? formatIp(prefsrc.data, s.family) : undefined);
      if (address === undefined) throw new Error(`no source address towards ${s.peer}`);
      const link = await nl.link(route.oif);
      if (link.mac === undefined) throw new Error(`${link.name} has no MAC`);
      const n = (await nl.neighbours(s.family, route.oif)).find((e) => e.dst === s.peer && neighUsable(e));
      if (n === undefined) throw new Error(`no resolved neighbour entry for ${s.peer} on ${link.name}`);
      return { ifindex: route.oif, address, srcMac: link.mac, dstMac: n.lladdr! };
    } finally {
      nl.stop();
    }
  };

  return {
    start(s: BfdEchoStart, onFail: (agoMs: number) => void): void {
      this.stop(s.discr);
      try {
        open();
      } catch (err) {
        opts.log('error', { err, session: s.name }, `bfd: ${s.name}: echo not started (${opts.mapPath})`);
        return;
      }
      const slot = freeSlot();
      if (slot < 0) {
        opts.log('error', { session: s.name }, `bfd: ${s.name}: echo not started: all ${slots} echo slots in use`);
        return;
      }
      const r: Running = { slot, discr: s.discr, onFail, cancelled: false, started: false };
      byDiscr.set(s.discr, r);
      bySlot.set(slot, r);
      void resolvePath(s).then(
        (p) => {
          if (r.cancelled || tx === undefined || map === undefined) return;
          const family = s.family === 4 ? XlbFamily.XLB_AF_INET : XlbFamily.XLB_AF_INET6;
          map.update(u32key(slot), encodeXlbBfdEchoSlot({ lastNs: 0n, count: 0n, lastSeq: 0, discr: s.discr, family }));
          const f = encodeEchoFrame({ family: s.family, address: p.address, srcMac: p.srcMac, dstMac: p.dstMac, discr: s.discr, slot });
          tx.set(slot, { ifindex: p.ifindex, frame: f.frame, seqOffset: f.seqOffset, csumOffset: f.csumOffset, intervalUs: s.intervalUs, detectUs: s.detectUs });
          r.started = true;
          opts.log('info', { session: s.name, slot, ifindex: p.ifindex, address: p.address, peerMac: p.dstMac, intervalUs: s.intervalUs, detectUs: s.detectUs }, `bfd: ${s.name}: echo every ${s.intervalUs / 1000} ms, detection ${s.detectUs / 1000} ms`);
        },
        (err: unknown) => {
          if (r.cancelled) return;
          this.stop(s.discr);
          opts.log('warn', { err, session: s.name }, `bfd: ${s.name}: echo not started: ${(err as Error).message}`);
        },
      );
    },
    stop(discr: number): void {
      const r = byDiscr.get(discr);
      if (r === undefined) return;
      r.cancelled = true;
      byDiscr.delete(discr);
      bySlot.delete(r.slot);
      if (r.started && tx !== undefined && map !== undefined) {
        tx.remove(r.slot);
        try {
          map.update(u32key(r.slot), Buffer.alloc(XLB_BFD_ECHO_SLOT_SIZE));
        } catch (err) {
          opts.log('warn', { err, slot: r.slot }, 'bfd: echo slot not freed');
        }
      }
    },
    counters(discr: number): BfdEchoCounters | undefined {
      const r = byDiscr.get(discr);
      if (r === undefined) return undefined;
      if (!r.started || tx === undefined) return { running: false, sent: 0, returned: 0, sendErrors: 0, late: 0, slot: r.slot };
      const st = tx.stats(r.slot);
      return { running: st !== null && !st.failed, sent: st?.sent ?? 0, returned: st?.returned ?? 0, sendErrors: st?.sendErrors ?? 0, late: st?.late ?? 0, slot: r.slot };
    },
    close(): void {
      for (const d of [...byDiscr.keys()]) this.stop(d);
      tx?.close();
      map?.close();
      tx = undefined;
      map = undefined;
    },
  };
}

/** RTA_PREFSRC bytes as text (./addr.ts's canonical form, as the runtime's). */
function formatIp(b: Buffer, family: 4 | 6): string {
  const bytes = new Uint8Array(16);
  bytes.set(b.subarray(0, family === 4 ? 4 : 16));
  return formatAddr(family === 4 ? AF_INET : AF_INET6, bytes);
}
