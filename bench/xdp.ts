/**
 * ns per packet of xlb_xdp through BPF_PROG_TEST_RUN, beside the floor (a
 * program that only swaps MACs and returns XDP_TX), measured the same way in
 * the same run.
 *
 * Method: repeat = 1 per call (with repeat > 1 the kernel reruns the program
 * on its own output, so a tunnel or NAT program would time its pass path),
 * averaging the kernel-reported duration over CALLS calls and checking every
 * call's verdict; ROUNDS rounds interleave all paths, the median round is
 * reported. The per-call figure includes a fixed timer/cache overhead that
 * the floor carries too: compare ratios, not ns across methods.
 */
import { native } from '../src/native/binding.js';
import { pkt } from '../test/support/packet.js';
import { LAB_MAC } from '../test/support/fib-lab.js';
import { XdpHarness, XDP, TCP, type TestService } from '../test/support/xdp-harness.js';
import { dirname, resolve } from 'node:path';
import { defaultObjectPath } from '../src/dataplane/xdp/xdp-dataplane.js';

export interface BenchRow {
  key: string;
  value: number;
  label: string;
  /** key of the row this one is a ratio to */
  ratioTo?: string;
}

const CALLS = Number(process.env.XLB_BENCH_CALLS ?? 200_000);
const ROUNDS = Number(process.env.XLB_BENCH_ROUNDS ?? 5);

const SERVICES: Record<'dr' | 'tunnel' | 'nat', TestService> = {
  dr: { vipId: 1, addr: '10.9.0.1', port: 80, proto: TCP, mode: 'dr', backends: [{ id: 1, addr: '10.0.0.10' }, { id: 2, addr: '10.0.0.11' }, { id: 3, addr: '10.0.0.12' }] },
  tunnel: { vipId: 2, addr: '10.9.0.2', port: 80, proto: TCP, mode: 'tunnel', backends: [{ id: 4, addr: '10.0.0.10' }, { id: 5, addr: '10.0.0.11' }, { id: 6, addr: '10.0.0.12' }] },
  nat: { vipId: 3, addr: '10.9.0.3', port: 80, proto: TCP, mode: 'nat', backends: [{ id: 7, addr: '10.0.0.10', port: 8080 }, { id: 8, addr: '10.0.0.11', port: 8080 }, { id: 9, addr: '10.0.0.12', port: 8080 }] },
};

/** A 64-byte-class TCP packet from the client to `dst`. */
function packet(dst: string): Buffer {
  return pkt().eth(LAB_MAC.client, LAB_MAC.xa).ipv4('10.0.0.2', dst).tcp(40000, 80, { flags: { ack: true } }).payload(Buffer.alloc(6)).build();
}

type Runner = () => number; // returns the average ns of one measurement

/** Time `calls` runs; `prep(i, buf)` may change the packet before each. */
function measure(run: (data: Buffer) => { retval: number; duration: number }, data: Buffer, want: number[], calls: number, prep?: (i: number, b: Buffer) => void): number {
  let total = 0;
  for (let i = 0; i < calls; i++) {
    if (prep) prep(i, data);
    const r = run(data);
    if (!want.includes(r.retval)) throw new Error(`bench: verdict ${r.retval}, expected ${want.join('/')} (call ${i})`);
    total += r.duration;
  }
  return total / calls;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Run the XDP micro-benchmarks; returns the rows for the table and results.json. */
export function benchXdp(log: (s: string) => void): BenchRow[] {
  const h = XdpHarness.open({ maxConns: Number(process.env.XLB_BENCH_CONNS ?? 1 << 20), maxVips: 16, maxBackends: 64, ringSize: 65537 });
  const floorObj = new (native().BpfObject)(resolve(dirname(defaultObjectPath()), 'floor.bpf.o'));
  try {
    floorObj.load();
    for (const s of Object.values(SERVICES)) h.service(s);
    h.dp.setGlobals({ tunSrc4: 0x0a000001, natVips: 1 });
    const ifA = h.lab.ifA;
    const xlb = (data: Buffer): { retval: number; duration: number } => h.dp.obj.testRun('xlb_xdp', { data, ingressIfindex: ifA });
    const floor = (data: Buffer): { retval: number; duration: number } => floorObj.testRun('xlb_floor', { data, ingressIfindex: ifA });

    const runners: Record<string, Runner> = {};
    runners['bpf_ns.floor'] = () => measure(floor, packet('10.9.0.1'), [XDP.TX], CALLS);
    runners['bpf_ns.pass'] = () => measure(xlb, packet('10.0.0.1'), [XDP.PASS], CALLS);
    let flowSeq = 0;
    for (const mode of ['dr', 'tunnel', 'nat'] as const) {
      const vip = SERVICES[mode].addr;
      // hit: one flow, its conn entry made by a first packet
      runners[`bpf_ns.${mode}.hit`] = () => {
        const p = packet(vip);
        xlb(Buffer.from(p));
        return measure(xlb, p, [XDP.TX], CALLS);
      };
      // new flow: a different source address and port on every packet
      runners[`bpf_ns.${mode}.new_flow`] = () =>
        measure(xlb, packet(vip), [XDP.TX, XDP.PASS], CALLS, (_i, b) => {
          const n = ++flowSeq;
          b.writeUInt16BE(0x0a00 | ((n >>> 24) & 0xff), 26); // source 10.x.y.z ...
          b.writeUInt16BE((n >>> 8) & 0xffff, 28);
          b.writeUInt16BE(1024 + (n & 0xff) * 200, 34); // ... and port
        });
    }
    const samples: Record<string, number[]> = {};
    for (let r = 0; r < ROUNDS; r++) {
      for (const [k, run] of Object.entries(runners)) (samples[k] ??= []).push(run());
      log(`  xdp round ${r + 1}/${ROUNDS} done`);
    }
    const rows: BenchRow[] = [];
    const label = (k: string): string => {
      if (k === 'bpf_ns.floor') return 'XDP floor (MAC swap + XDP_TX)';
      if (k === 'bpf_ns.pass') return 'xlb, non-VIP packet passed';
      const [, mode, path] = k.split('.');
      return `xlb ${mode}, ${path === 'hit' ? 'conn-table hit' : 'new flow (new src addr+port each packet)'}`;
    };
    for (const [k, xs] of Object.entries(samples)) rows.push({ key: k, value: Math.round(median(xs) * 10) / 10, label: `${label(k)}, ns/packet`, ratioTo: k === 'bpf_ns.floor' ? undefined : 'bpf_ns.floor' });
    return rows;
  } finally {
    floorObj.close();
    h.close();
  }
}

export const XDP_BENCH_METHOD = `BPF_PROG_TEST_RUN, repeat=1 per call, kernel-reported duration averaged over ${CALLS} calls (every verdict checked), median of ${ROUNDS} interleaved rounds`;
