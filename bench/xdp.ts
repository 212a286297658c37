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
 *
 * New flows are measured in two regimes, each with its own load of the
 * object: every new flow recorded in the connection table (conn_rate_limit
 * 0), and new flows beyond the per-CPU recording budget (conn_rate_limit 1,
 * Katran's flood behaviour: not recorded, still sent where the ring says).
 * `lru_insert` is the bare cost of a lookup miss + insert in a per-CPU-LRU
 * map like xlb_conns4, by a program that does nothing else.
 */
import { dirname, resolve } from 'node:path';
import { native } from '../src/native/binding.js';
import { defaultObjectPath } from '../src/dataplane/xdp/xdp-dataplane.js';
import { pkt } from '../test/support/packet.js';
import { LAB_MAC } from '../test/support/fib-lab.js';
import { XdpHarness, XDP, TCP, type TestService } from '../test/support/xdp-harness.js';
import { median } from './stats.js';

export interface BenchRow {
  key: string;
  value: number;
  label: string;
  /** key of the row this one is a ratio to */
  ratioTo?: string;
}

const CALLS = Number(process.env.XLB_BENCH_CALLS ?? 200_000);
const ROUNDS = Number(process.env.XLB_BENCH_ROUNDS ?? 5);
const CONNS = Number(process.env.XLB_BENCH_CONNS ?? 1 << 20);

const MODES = ['dr', 'tunnel', 'nat'] as const;
const SERVICES: Record<(typeof MODES)[number], TestService> = {
  dr: { vipId: 1, addr: '10.9.0.1', port: 80, proto: TCP, mode: 'dr', backends: [{ id: 1, addr: '10.0.0.10' }, { id: 2, addr: '10.0.0.11' }, { id: 3, addr: '10.0.0.12' }] },
  tunnel: { vipId: 2, addr: '10.9.0.2', port: 80, proto: TCP, mode: 'tunnel', backends: [{ id: 4, addr: '10.0.0.10' }, { id: 5, addr: '10.0.0.11' }, { id: 6, addr: '10.0.0.12' }] },
  nat: { vipId: 3, addr: '10.9.0.3', port: 80, proto: TCP, mode: 'nat', backends: [{ id: 7, addr: '10.0.0.10', port: 8080 }, { id: 8, addr: '10.0.0.11', port: 8080 }, { id: 9, addr: '10.0.0.12', port: 8080 }] },
};

/** A 64-byte-class TCP packet from the client to `dst`. */
function packet(dst: string): Buffer {
  return pkt().eth(LAB_MAC.client, LAB_MAC.xa).ipv4('10.0.0.2', dst).tcp(40000, 80, { flags: { ack: true } }).payload(Buffer.alloc(6)).build();
}

/** A BFD peer (reflect on in the harness) and its 64-byte-class echo packet. */
const ECHO_PEER = '10.0.0.3';
const ECHO = pkt().eth(LAB_MAC.client, LAB_MAC.xa).ipv4(ECHO_PEER, ECHO_PEER, { ttl: 255 }).udp(49152, 3785).payload(Buffer.alloc(18)).build();
const echoPacket = (): Buffer => Buffer.from(ECHO);

type Run = (data: Buffer) => { retval: number; duration: number };

/** Time `calls` runs; `prep(buf)` may change the packet before each. */
function measure(run: Run, data: Buffer, want: number[], prep?: (b: Buffer) => void): number {
  let total = 0;
  for (let i = 0; i < CALLS; i++) {
    if (prep) prep(data);
    const r = run(data);
    if (!want.includes(r.retval)) throw new Error(`bench: verdict ${r.retval}, expected ${want.join('/')} (call ${i})`);
    total += r.duration;
  }
  return total / CALLS;
}


let flowSeq = 0;
/** A source address and port never used before in this process (10.64.0.0/10). */
function nextFlow(b: Buffer): void {
  const n = ++flowSeq;
  b.writeUInt32BE(0x0a400000 + (n >>> 6), 26);
  b.writeUInt16BE(1024 + (n & 63), 34);
}

function openHarness(connRateLimit: number): XdpHarness {
  const h = XdpHarness.open({ maxConns: CONNS, maxVips: 16, maxBackends: 64, ringSize: 65537, connRateLimit });
  for (const s of Object.values(SERVICES)) h.service(s);
  h.dp.setGlobals({ tunSrc4: 0x0a000001 });
  h.dp.setBfdPeer(ECHO_PEER, { reflect: true });
  return h;
}

const LABELS: Record<string, string> = {
  'bpf_ns.floor': 'XDP floor (MAC swap + XDP_TX)',
  'bpf_ns.pass': 'xlb, non-VIP packet passed',
  'bpf_ns.lru_insert': 'bare LRU lookup miss + insert (16-byte key)',
  'bpf_ns.bfd_echo': "xlb, a BFD peer's echo reflected",
};
function label(k: string): string {
  if (LABELS[k]) return LABELS[k]!;
  const [, mode, path] = k.split('.');
  const what = path === 'hit' ? 'conn-table hit' : path === 'new_flow' ? 'new flow, recorded' : 'new flow above the rate budget (flood)';
  return `xlb ${mode}, ${what}`;
}

/** Run the XDP micro-benchmarks; returns the rows for the table and results.json. */
export function benchXdp(log: (s: string) => void): BenchRow[] {
  const h = openHarness(0);
  const flood = openHarness(1);
  const outDir = dirname(defaultObjectPath());
  const floorObj = new (native().BpfObject)(resolve(outDir, 'floor.bpf.o'));
  const lruObj = new (native().BpfObject)(resolve(outDir, 'lru_insert.bpf.o'));
  try {
    floorObj.load();
    lruObj.setMapMaxEntries('lru_bench', CONNS);
    lruObj.load();
    const ifA = h.lab.ifA;
    const prog = (obj: { testRun: (p: string, o: { data: Buffer; ingressIfindex: number }) => { retval: number; duration: number } }, name: string): Run => (data) => obj.testRun(name, { data, ingressIfindex: ifA });
    const xlb = prog(h.dp.obj, 'xlb_xdp');
    const xlbFlood = prog(flood.dp.obj, 'xlb_xdp');
    // exhaust the flood instance's budget of one recorded flow per second
    xlbFlood(Buffer.from(packet(SERVICES.dr.addr)));

    const runners: Record<string, () => number> = {
      'bpf_ns.floor': () => measure(prog(floorObj, 'xlb_floor'), packet('10.9.0.1'), [XDP.TX]),
      'bpf_ns.pass': () => measure(xlb, packet('10.0.0.1'), [XDP.PASS]),
      'bpf_ns.lru_insert': () => measure(prog(lruObj, 'xlb_lru_insert'), packet('10.9.0.1'), [XDP.TX], nextFlow),
      // the peer's echo, to its own address at TTL 255: reflection turns it
      // to TTL 254, so each run starts from a fresh copy
      'bpf_ns.bfd_echo': () => measure(xlb, echoPacket(), [XDP.TX], (b) => b.set(ECHO, 0)),
    };
    for (const mode of MODES) {
      const vip = SERVICES[mode].addr;
      runners[`bpf_ns.${mode}.hit`] = () => {
        const p = packet(vip);
        xlb(Buffer.from(p)); // the first packet records the flow
        return measure(xlb, p, [XDP.TX]);
      };
      runners[`bpf_ns.${mode}.new_flow`] = () => measure(xlb, packet(vip), [XDP.TX], nextFlow);
      runners[`bpf_ns.${mode}.new_flow_flood`] = () => measure(mode === 'nat' ? xlb : xlbFlood, packet(vip), [XDP.TX], nextFlow);
    }
    // nat flows are always recorded (their replies need the reverse entry): no flood figure
    delete runners['bpf_ns.nat.new_flow_flood'];

    const samples: Record<string, number[]> = {};
    for (let r = 0; r < ROUNDS; r++) {
      for (const [k, run] of Object.entries(runners)) (samples[k] ??= []).push(run());
      log(`  xdp round ${r + 1}/${ROUNDS} done`);
    }
    const events = flood.dp.eventCounters();
    if (events.XLB_EV_CONN_FLOOD_SKIP === 0n) throw new Error('bench: the flood regime recorded every flow');
    return Object.entries(samples).map(([k, xs]) => ({
      key: k,
      value: Math.round(median(xs) * 10) / 10,
      label: `${label(k)}, ns/packet`,
      ratioTo: k === 'bpf_ns.floor' ? undefined : 'bpf_ns.floor',
    }));
  } finally {
    lruObj.close();
    floorObj.close();
    flood.close();
    h.close();
  }
}

export const XDP_BENCH_METHOD = `BPF_PROG_TEST_RUN, repeat=1 per call, kernel-reported duration averaged over ${CALLS} calls (every verdict checked), median of ${ROUNDS} interleaved rounds; conn tables of ${CONNS} entries`;
