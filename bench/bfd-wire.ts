/**
 * What bench/bfd.ts reads from its capture: a pcap stream (tcpdump -w -)
 * turned into BFD control packets, and the figures of a round taken from
 * them (when a session was steady, when a detector said Down, the gaps
 * between a sender's packets). Pure: no I/O, no clock; tested in
 * test/unit/bench/bfd-wire.test.ts.
 */
import { decodeBfdControl, type BfdControl } from '../src/bfd/codec.js';
import { BFD_STATE } from '../src/bfd/spec.js';

/** One BFD control packet seen on the capture's interface. */
export interface Seen {
  /** kernel stamp, wall-clock ms */
  t: number;
  src: string;
  dst: string;
  ctl: BfdControl;
}

/** The session timers a bench round expects on the wire. */
export interface WireTimers {
  /** Desired Min TX and Required Min RX both ways, ms */
  intervalMs: number;
  /** Detect Mult both ways */
  mult: number;
}

/**
 * A reader of a pcap stream (classic format, microsecond stamps, either byte
 * order, Ethernet) fed in chunks as they come: `push` returns the BFD
 * control packets (IPv4, UDP to 3784) completed by the chunk. Other frames,
 * and datagrams that do not decode, are skipped.
 */
export class PcapBfdReader {
  #buf: Buffer = Buffer.alloc(0);
  #header = false;
  #le = true;

  push(chunk: Buffer): Seen[] {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    const out: Seen[] = [];
    if (!this.#header) {
      if (this.#buf.length < 24) return out;
      // the magic says the byte order
      this.#le = this.#buf.readUInt32LE(0) === 0xa1b2c3d4;
      this.#header = true;
      this.#buf = this.#buf.subarray(24);
    }
    for (;;) {
      const b = this.#buf;
      if (b.length < 16) return out;
      const u32 = (o: number): number => (this.#le ? b.readUInt32LE(o) : b.readUInt32BE(o));
      const incl = u32(8);
      if (b.length < 16 + incl) return out;
      const seen = bfdFromFrame(u32(0) * 1000 + u32(4) / 1000, b.subarray(16, 16 + incl));
      this.#buf = b.subarray(16 + incl);
      if (seen) out.push(seen);
    }
  }
}

/** The BFD control packet of an Ethernet frame (IPv4, UDP to 3784) stamped `t`, or undefined. */
export function bfdFromFrame(t: number, f: Buffer): Seen | undefined {
  if (f.length < 14 + 20 + 8 || f.readUInt16BE(12) !== 0x0800) return undefined;
  const ihl = (f[14]! & 0x0f) * 4;
  if (f[14 + 9] !== 17 || ihl < 20 || f.length < 14 + ihl + 8) return undefined;
  const udp = 14 + ihl;
  if (f.readUInt16BE(udp + 2) !== 3784) return undefined;
  const end = Math.min(f.length, udp + f.readUInt16BE(udp + 4));
  if (end < udp + 8) return undefined;
  const d = decodeBfdControl(f, udp + 8, end - udp - 8);
  if (!d.ok) return undefined;
  return { t, src: [...f.subarray(26, 30)].join('.'), dst: [...f.subarray(30, 34)].join('.'), ctl: d.value };
}

/** A steady packet: Up, no Poll or Final, the expected timers. */
export const steady = (c: BfdControl, w: WireTimers): boolean =>
  c.state === BFD_STATE.UP && !c.poll && !c.final && c.detectMult === w.mult && c.desiredMinTxUs === w.intervalMs * 1000 && c.requiredMinRxUs === w.intervalMs * 1000;

/**
 * Whether the session `peer` <-> `node` has been steady for the `ms` before
 * `now`: packets both ways in that time (at least ms / interval - 2 each:
 * with §6.8.7 jitter, an interval holds 1 to 1.33 packets), every one steady.
 */
export function steadyFor(seen: readonly Seen[], w: WireTimers, peer: string, node: string, ms: number, now: number): boolean {
  let out = 0;
  let back = 0;
  for (let i = seen.length - 1; i >= 0 && seen[i]!.t >= now - ms; i--) {
    const s = seen[i]!;
    if (s.t > now) continue;
    const fwd = s.src === peer && s.dst === node;
    const rev = s.src === node && s.dst === peer;
    if (!fwd && !rev) continue;
    if (!steady(s.ctl, w)) return false;
    if (fwd) out++;
    else back++;
  }
  return out >= ms / w.intervalMs - 2 && back >= ms / w.intervalMs - 2;
}

/** One detector's detection of a kill. */
export interface Detection {
  /** the peer's last packet to the detector before `down`, wall ms */
  lastRx: number;
  /** the detector's first packet not Up at or after the kill, wall ms */
  down: number;
  /** that packet's diag */
  diag: number;
}

/**
 * How `node` detected the kill of `peer` at `kill` (wall ms), from the
 * packets at or after `from`: its first packet not Up at or after the kill,
 * and the peer's last packet to it before that one. Undefined until both
 * are there.
 */
export function detection(seen: readonly Seen[], peer: string, node: string, from: number, kill: number): Detection | undefined {
  let lastRx: number | undefined;
  for (const s of seen) {
    if (s.t < from) continue;
    if (s.src === peer && s.dst === node) lastRx = s.t;
    else if (s.src === node && s.dst === peer && s.ctl.state !== BFD_STATE.UP && s.t >= kill && lastRx !== undefined) return { lastRx, down: s.t, diag: s.ctl.diag };
  }
  return undefined;
}

/**
 * Whether the session `peer` <-> `node` left Up other than by the kill at
 * `kill`, from `from` on: `node` sent a packet not Up before the kill, or
 * the peer sent it one not Up (the peer saw `node` silent for its Detection
 * Time: `node`'s packets were late).
 */
export const flapped = (seen: readonly Seen[], peer: string, node: string, from: number, kill: number): boolean =>
  seen.some((s) => s.t >= from && s.ctl.state !== BFD_STATE.UP && ((s.src === node && s.dst === peer && s.t < kill) || (s.src === peer && s.dst === node)));

/** Gaps (ms) between successive steady packets of `node` to `peer` in [from, to]; a packet not steady breaks the sequence. */
export function txGaps(seen: readonly Seen[], w: WireTimers, peer: string, node: string, from: number, to: number): number[] {
  const out: number[] = [];
  let prev: Seen | undefined;
  for (const s of seen) {
    if (s.t < from || s.t > to || s.src !== node || s.dst !== peer) continue;
    if (!steady(s.ctl, w)) {
      prev = undefined;
      continue;
    }
    if (prev) out.push(s.t - prev.t);
    prev = s;
  }
  return out;
}

/**
 * A gap's distance outside what RFC 5880 §6.8.7 allows between periodic
 * packets, 75-100 % of the interval (75-90 % with Detect Mult 1), ms; 0 inside.
 */
export const outsideJitter = (gapMs: number, intervalMs: number, mult: number): number => Math.max(0, 0.75 * intervalMs - gapMs, gapMs - (mult === 1 ? 0.9 : 1) * intervalMs);
