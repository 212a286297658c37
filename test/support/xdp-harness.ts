/**
 * @module test/support/xdp-harness
 * Loads the real xlb.bpf.o inside a FibLab namespace and offers the small
 * vocabulary the data-path tests, the fuzzer and the benchmarks share:
 * service setup with real Maglev rings, BPF_PROG_TEST_RUN, counters.
 */
import { native } from '../../src/native/binding.js';
import { XdpDataplane, type XdpLoadOptions } from '../../src/dataplane/xdp/xdp-dataplane.js';
import { XlbMode, XlbReason, xlbReasonName } from '../../src/dataplane/xdp/abi.gen.js';
import { buildMaglevRing } from '../../src/lb/maglev.js';
import { flowHash } from '../../src/lb/flow-hash.js';
import { parseAddr } from '../../src/net/addr.js';
import { createFibLab, type FibLab } from './fib-lab.js';

export const XDP = { ABORTED: 0, DROP: 1, PASS: 2, TX: 3, REDIRECT: 4 } as const;
export type Verdict = keyof typeof XDP;
export const VERDICT_NAME: Record<number, Verdict> = { 0: 'ABORTED', 1: 'DROP', 2: 'PASS', 3: 'TX', 4: 'REDIRECT' };

export const TCP = 6;
export const UDP = 17;

/** A backend of a test service. */
export interface TestBackend {
  id: number;
  addr: string;
  port?: number;
  /** Maglev weight; 0 = draining (UP, out of the ring) */
  weight?: number;
  /** XlbBackendFlags; default UP */
  flags?: number;
}

/** A test service: VIP, its backends and its ring. */
export interface TestService {
  vipId: number;
  addr: string;
  port: number;
  proto: number;
  mode: 'dr' | 'tunnel' | 'nat';
  backends: TestBackend[];
  persist?: boolean;
}

const MODE = { dr: XlbMode.XLB_MODE_DR, tunnel: XlbMode.XLB_MODE_TUNNEL, nat: XlbMode.XLB_MODE_NAT } as const;

/** The loaded program in its namespace. */
export class XdpHarness {
  readonly dp: XdpDataplane;
  readonly lab: FibLab;
  #netnsFd: number;
  /** ring per VIP id, as last written */
  readonly rings = new Map<number, Uint32Array>();
  /** backend addresses of nat services, for the filter's reply plane */
  readonly #natSources = new Set<string>();

  private constructor(dp: XdpDataplane, lab: FibLab, fd: number) {
    this.dp = dp;
    this.lab = lab;
    this.#netnsFd = fd;
  }

  /** Build the lab, enter it on this thread, load the object. */
  static open(opts: Partial<XdpLoadOptions> = {}): XdpHarness {
    const lab = createFibLab();
    let fd = -1;
    try {
      fd = native().enterNetns(lab.path);
      const dp = XdpDataplane.load({ maxVips: 16, maxBackends: 64, maxConns: 4096, ringSize: 251, ...opts });
      return new XdpHarness(dp, lab, fd);
    } catch (err) {
      if (fd >= 0) native().restoreNetns(fd);
      lab.destroy();
      throw err;
    }
  }

  /** Write a service: VIP, VIP address, backends, Maglev ring (slot = vipId). */
  service(s: TestService): void {
    const ring = buildMaglevRing(
      s.backends.map((b) => ({ id: b.id, key: `${b.addr}:${b.port ?? 0}`, weight: b.weight ?? 1 })),
      this.dp.ringSize,
    );
    for (const b of s.backends) this.dp.putBackend(b.id, { addr: b.addr, port: b.port ?? 0, vipId: s.vipId, flags: b.flags ?? 1 });
    this.dp.writeRing(s.vipId, ring);
    this.rings.set(s.vipId, ring);
    this.dp.putVip({ addr: s.addr, port: s.port, proto: s.proto, vipId: s.vipId, ring: s.vipId, mode: MODE[s.mode], flags: s.persist ? 1 : 0 });
    this.dp.putVipAddr(s.addr);
    if (s.mode === 'nat') {
      for (const b of s.backends) this.#natSources.add(b.addr);
      this.dp.setNatSources(this.#natSources);
    }
  }

  /** The backend id the ring of `vipId` gives a flow (what a conn-table miss picks). */
  ringChoice(vipId: number, flow: { src: string; dst: string; sport: number; dport: number; proto: number }, srcOnly = false): number {
    const ring = this.rings.get(vipId);
    if (!ring) throw new Error(`no ring for vip ${vipId}`);
    const s = parseAddr(flow.src);
    const d = parseAddr(flow.dst);
    const h = flowHash({ family: s.family, src: s.bytes, dst: d.bytes, sport: flow.sport, dport: flow.dport, proto: flow.proto }, srcOnly);
    return ring[h % this.dp.ringSize]!;
  }

  /** Run one packet in through xa (or another ifindex). */
  run(data: Buffer, ingressIfindex = this.lab.ifA): { verdict: Verdict; data: Buffer; duration: number } {
    const r = this.dp.obj.testRun('xlb_xdp', { data, ingressIfindex });
    return { verdict: VERDICT_NAME[r.retval] ?? 'ABORTED', data: r.data, duration: r.duration };
  }

  /** Reason counters that are nonzero, as { name: packets }. */
  reasons(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.dp.reasonCounters())) if (v.packets) out[k] = Number(v.packets);
    return out;
  }

  /** Empty every map and the counters. */
  reset(): void {
    this.dp.clearAll();
    this.rings.clear();
    this.#natSources.clear();
  }

  close(): void {
    try {
      this.dp.close();
    } finally {
      native().restoreNetns(this.#netnsFd);
      this.lab.destroy();
    }
  }
}

export { XlbReason, xlbReasonName };
