/**
 * BFD (issue 15): detection time of xlb's sessions at 10 ms x 3, idle and
 * while the same daemon reloads 1,000 VIPs and runs 10,000 checks/s, FRR
 * 8.4's bfdd measured in the same rounds as the reference; the regularity
 * of xlb's control packets under that load; and the VRRP failover of an
 * xlb pair with BFD peering, measured as bench/vrrp.ts measures failover.
 *
 * Detection lab (test/support/vrrp-lab.ts, namespaces `xbf<pid>-*`): xlb in
 * a, FRR's bfdd in d1 (the peer, killed each round) and in d2 (the FRR
 * detector), all on one bridge. d1's bfdd has two sessions, to a (xlb) and
 * to d2 (FRR), both at 10 ms x 3, so each kill of d1's bfdd (SIGKILL) is
 * detected by xlb and by FRR at once, under the same machine load. The
 * instrument is one capture on d1's eth0 (tcpdump, pcap to a pipe, the
 * kernel's stamps): a detector's detection time is the time from the last
 * packet d1 sent it to the first packet it sent with a state other than Up
 * (both implementations send one at once when the Detection Time expires:
 * RFC 5880 §6.8.4 makes that a state change, and a state change is sent
 * without waiting for the next interval, xlb's fsm.ts #transition; seen in
 * FRR 8.4 too, or the round fails). That is the quantity the negotiated
 * Detection Time bounds (Detect Mult x agreed interval: 3 x 10 = 30 ms
 * here), from the wire, with no control-socket request in the path.
 * A round starts once both sessions have been steady for 200 ms (every
 * packet both ways Up, 10 ms, multiplier 3, no Poll or Final); after the
 * kill, d1's bfdd is started again for the next round.
 *
 * Load: after the idle rounds, the daemon is reloaded to a config with
 * bench/health.ts's 10,000 backends checked over HTTP every second (its
 * servers in c, at 10.78.0.2-3 routed through c), then reloaded over and
 * over between that and the same plus bench/apply.ts's 1,000 VIPs x 10
 * backends (same limits, so each reload is allowed); each load round kills
 * at a random point inside a reload to the 1,000 VIPs (within 80% of the
 * last such reload's length). The checks made (xlb_health_checks_total),
 * the failed ones, the reloads done and the rounds whose detection overlapped
 * a reload are reported.
 *
 * Transmit jitter: over each round's steady stretch up to the kill, the
 * gaps between successive control packets of a detector (d1's ingress
 * stamps), both packets Up without Poll or Final. §6.8.7 lets an interval
 * be 75-100% of the agreed one (7.5-10 ms here), so the figure is each
 * gap's distance outside [7.5, 10] ms (0 inside), p99 over the gaps.
 *
 * The daemon runs its BFD worker as configured by default: the threads'
 * scheduling classes are logged. Everything is torn down in `finally`.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BFD_DIAG } from '../src/bfd/spec.js';
import { parseConfig } from '../src/config/load.js';
import { controlPath, controlRequest, waitForDaemon } from '../src/daemon/control.js';
import { pidPath, unloadInstance } from '../src/daemon/daemon.js';
import { run, stopChild } from '../src/lab/exec.js';
import type { BfdRuntimeStatus } from '../src/bfd/runtime.js';
import { until } from '../test/support/e2e.js';
import { haveFrr, startBfdd, type Bfdd } from '../test/support/frr.js';
import { backendV4, createVrrpLab, VLAB, type VrrpLab } from '../test/support/vrrp-lab.js';
import { detection, flapped, outsideJitter, PcapBfdReader, steadyFor, txGaps, type Detection, type Seen, type WireTimers } from './bfd-wire.js';
import { checksServicesYaml, SERVER } from './health.js';
import { median, quantile } from './stats.js';
import { applyServicesYaml, failover, ROUNDS_1S, startHttpBackends, xlbPair } from './vrrp.js';
import type { BenchRow } from './xdp.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const CLI = resolve(HERE, '../src/cli/main.js');

const ROUNDS = Number(process.env.XLB_BENCH_BFD_ROUNDS ?? 20);
/** `detect` or `failover`: run that part only (default: both). */
const ONLY = process.env.XLB_BENCH_BFD_ONLY;
const INTERVAL_MS = 10;
const MULT = 3;
const DETECT_MS = INTERVAL_MS * MULT;
/** Health checks per second under load (bench/health.ts's generator: one HTTP check per backend per second). */
const CHECKS = 10_000;
const HC_SRV = ['10.78.0.2', '10.78.0.3'];
const PEER = backendV4(1);
const FRR_DET = backendV4(2);
const METRICS = 9917;
/**
 * An experiment, not the figures: XLB_BENCH_BFD_RT=<1..99> makes the bench
 * put the daemon's BFD worker thread on SCHED_FIFO at that priority (chrt)
 * before the rounds. The thread is told apart by its wake-ups: in the idle
 * daemon, only the BFD worker wakes about 200 times a second (a packet out
 * and one in every 10 ms).
 */
const RT = Number(process.env.XLB_BENCH_BFD_RT ?? 0);
/** Load rounds go on (up to 3 x ROUNDS) until this many reloads to the 1,000 VIPs have finished. */
const MIN_RELOADS = 2;
/** How long both sessions must have been steady before a kill, ms. */
const STEADY_MS = 200;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const wallNow = (): number => performance.timeOrigin + performance.now();
const r2 = (x: number): number => Math.round(x * 100) / 100;
const r1 = (x: number): number => Math.round(x * 10) / 10;

// --- the capture ---------------------------------------------------------------

/**
 * tcpdump on d1's eth0 writing pcap to a pipe, read as it comes
 * (./bfd-wire.ts): every BFD control packet to UDP 3784, both ways.
 */
function capture(lab: VrrpLab): { seen: Seen[]; stop(): Promise<void>; log(): string } {
  const seen: Seen[] = [];
  const td = lab.spawn('d1', 'tcpdump', ['-i', 'eth0', '-U', '--immediate-mode', '-s', '200', '-w', '-', 'udp dst port 3784']);
  let err = '';
  td.stderr?.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
  const reader = new PcapBfdReader();
  td.stdout!.on('data', (chunk: Buffer) => {
    for (const x of reader.push(chunk)) seen.push(x);
  });
  return {
    seen,
    log: () => err,
    stop: () => stopChild(td, 1000),
  };
}

/** The sessions' timers on the wire. */
const WIRE: WireTimers = { intervalMs: INTERVAL_MS, mult: MULT };
/** A gap's distance outside §6.8.7's window, ms. */
const outside = (gap: number): number => outsideJitter(gap, INTERVAL_MS, MULT);

// --- the daemon ---------------------------------------------------------------

type Load = 'idle' | 'checks' | 'vips';

function daemonYaml(instance: string, load: Load): string {
  const services = [load !== 'idle' ? checksServicesYaml(CHECKS, HC_SRV) : '', load === 'vips' ? applyServicesYaml() : ''].filter(Boolean).join('\n');
  const text = `instance: ${instance}
interfaces: [{ name: eth0 }]
metrics: { listen: 127.0.0.1:${METRICS} }
log: { level: info }
limits: { max_vips: 1100, max_backends: 20001, ring_size: 65537 }
bfd:
  instances:
    - { name: peer, neighbor_ip: ${PEER}, source_ip: ${VLAB.a.v4}, min_rx: ${INTERVAL_MS}ms, min_tx: ${INTERVAL_MS}ms, multiplier: ${MULT} }
${services ? `services:\n${services}` : 'services: []'}
`;
  const r = parseConfig(text, `bench-bfd-${load}.yaml`);
  if (!r.ok) throw new Error(`bench: bfd ${load} config invalid: ${r.errors.map((e) => e.message).join('; ')}`);
  return text;
}

const peerConf = `bfd
${[VLAB.a.v4, FRR_DET].map((p) => ` peer ${p} interface eth0\n  detect-multiplier ${MULT}\n  receive-interval ${INTERVAL_MS}\n  transmit-interval ${INTERVAL_MS}\n !\n`).join('')}!
`;
const detectorConf = `bfd
 peer ${PEER} interface eth0
  detect-multiplier ${MULT}
  receive-interval ${INTERVAL_MS}
  transmit-interval ${INTERVAL_MS}
 !
!
`;

/** Sum of a counter's samples in a /metrics text, those whose labels pass `pick`. */
function counterSum(text: string, name: string, pick: (labels: string) => boolean = () => true): number {
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'))) if (pick(m[1]!)) sum += Number(m[2]);
  return sum;
}

/** Health-check attempts by result between two /metrics texts: `ok 9000, timeout 12`. */
function results(now: string, before: string): string {
  const by = (text: string): Map<string, number> => {
    const m = new Map<string, number>();
    for (const x of text.matchAll(/^xlb_health_checks_total\{([^}]*)\} (\S+)$/gm)) {
      const r = /result="([^"]*)"/.exec(x[1]!)?.[1] ?? '?';
      m.set(r, (m.get(r) ?? 0) + Number(x[2]));
    }
    return m;
  };
  const a = by(now);
  const b = by(before);
  return [...a].map(([k, v]) => `${k} ${v - (b.get(k) ?? 0)}`).filter((x) => !x.endsWith(' 0')).join(', ');
}

/** The scheduling class of each thread of `pid` (`ps -L`): `TS` normal, `FF` SCHED_FIFO. */
function threadClasses(pid: number): string {
  try {
    const out = execFileSync('ps', ['-L', '-o', 'cls=,rtprio=,comm=', '-p', String(pid)], { encoding: 'utf8' });
    const n = new Map<string, number>();
    for (const l of out.split('\n')) if (l.trim()) n.set(l.trim().replace(/\s+/g, ' '), (n.get(l.trim().replace(/\s+/g, ' ')) ?? 0) + 1);
    return [...n].map(([k, v]) => `${v} x ${k}`).join(', ');
  } catch {
    return '?';
  }
}

/** CPU time of a process so far (utime + stime, USER_HZ 100), ms. */
function procCpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) * 10;
}

/** Jiffies of the whole machine from /proc/stat: busy, total. */
function cpuTicks(): [number, number] {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return [total - f[3]! - (f[4] ?? 0), total];
}

/** Voluntary context switches of each thread of `pid`. */
function wakeups(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of execFileSync('ls', [`/proc/${pid}/task`], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
      const m = /^voluntary_ctxt_switches:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'));
      if (m) out.set(tid, Number(m[1]));
    }
  } catch {
    /* the process or a thread went away */
  }
  return out;
}

/** The thread of `pid` that woke most often over one second (idle daemon: the BFD worker), and how often. */
async function busiestWaker(pid: number): Promise<[string, number]> {
  const a = wakeups(pid);
  await sleep(1000);
  const b = wakeups(pid);
  let best: [string, number] = ['', 0];
  for (const [tid, n] of b) if (n - (a.get(tid) ?? n) > best[1]) best = [tid, n - (a.get(tid) ?? n)];
  return best;
}

/** Rounds of one phase: both detectors' times and the transmit gaps. */
interface Phase {
  xlb: number[];
  frr: number[];
  /** rounds without a detection of either (peer not steady in time, no Down seen) */
  failed: number;
  /** rounds in which a session left Up between the steady check and the kill, by detector */
  flaps: { xlb: number; FRR: number };
  why: string[];
  xlbGaps: number[];
  frrGaps: number[];
  /** [kill, down] of xlb's detections (wall ms), for the overlap with reloads */
  spans: [number, number][];
}

/** The detection bench. */
async function benchDetect(log: (s: string) => void, notes: string[]): Promise<BenchRow[]> {
  if (!haveFrr) throw new Error('FRR not installed (apt-get install frr): no peer to kill and no reference');
  const lab = await createVrrpLab(`xbf${process.pid % 100000}`, { backends: 2 });
  const instance = `${lab.prefix}x`;
  let cap: ReturnType<typeof capture> | null = null;
  let peer: Bfdd | null = null;
  let detector: Bfdd | null = null;
  let daemon: ChildProcess | null = null;
  const hcServers: ChildProcess[] = [];
  let dlog = '';
  let reloading = false;
  let reloader: Promise<void> = Promise.resolve();
  try {
    // the health checks' servers in c, routed from a
    for (const s of HC_SRV) await lab.exec('c', 'ip', ['addr', 'add', `${s}/32`, 'dev', 'lo']);
    await lab.exec('a', 'ip', ['route', 'add', '10.78.0.0/24', 'via', VLAB.c.v4]);
    await lab.exec('a', 'sysctl', ['-qw', 'net.ipv4.tcp_tw_reuse=1', 'net.ipv4.ip_local_port_range=10000 65000']);
    for (const s of HC_SRV) {
      const c = lab.spawn('c', process.execPath, ['-e', SERVER, s, '8000']);
      hcServers.push(c);
      await new Promise<void>((done, fail) => {
        const t = setTimeout(() => fail(new Error('bench: health server did not start')), 10_000);
        c.stdout!.once('data', () => {
          clearTimeout(t);
          done();
        });
      });
    }

    cap = capture(lab);
    const seen = cap.seen;
    detector = await startBfdd(lab.ns('d2'), `${lab.prefix}r`, detectorConf);
    peer = await startBfdd(lab.ns('d1'), `${lab.prefix}p`, peerConf);
    const files = { idle: join(lab.dir, 'idle.yaml'), checks: join(lab.dir, 'checks.yaml'), vips: join(lab.dir, 'vips.yaml') };
    for (const k of ['idle', 'checks', 'vips'] as const) writeFileSync(files[k], daemonYaml(instance, k));
    unloadInstance(instance);
    daemon = lab.spawn('a', process.execPath, [CLI, 'load', files.idle]);
    const d = daemon;
    d.stdout?.on('data', (b: Buffer) => (dlog = (dlog + b.toString()).slice(-20_000)));
    d.stderr?.on('data', (b: Buffer) => (dlog = (dlog + b.toString()).slice(-20_000)));
    await waitForDaemon(instance, 60_000, () => dlog);

    const reload = async (file: string): Promise<[number, number]> => {
      const s = wallNow();
      const reply = await controlRequest(controlPath(instance), { cmd: 'reload', config: file }, 180_000);
      if (reply.ok !== true) throw new Error(`bench: reload to ${file} failed: ${JSON.stringify(reply).slice(0, 500)}`);
      return [s, wallNow()];
    };
    /** Reloads to the 1,000 VIPs: [start, end]; the one in flight has end Infinity. */
    const vipReloads: [number, number][] = [];
    const backReloads: [number, number][] = [];

    const round = async (ph: Phase, label: string, gate?: () => Promise<void>): Promise<void> => {
      const t0 = wallNow();
      try {
        await until(`${label}: both sessions steady at ${INTERVAL_MS} ms`, async () => (steadyFor(seen, WIRE, PEER, VLAB.a.v4, STEADY_MS, wallNow()) && steadyFor(seen, WIRE, PEER, FRR_DET, STEADY_MS, wallNow()) ? true : undefined), 30_000, 10);
      } catch (err) {
        ph.failed++;
        ph.why.push((err as Error).message);
        return;
      }
      const from = wallNow() - STEADY_MS;
      await gate?.();
      const pid = readFileSync(join(peer!.dir, 'bfdd.pid'), 'utf8').trim();
      const tKill = wallNow();
      await run('kill', ['-KILL', pid]);
      let x: Detection | undefined;
      let f: Detection | undefined;
      try {
        await until(`${label}: Down from xlb and FRR`, async () => {
          x = detection(seen, PEER, VLAB.a.v4, from, tKill);
          f = detection(seen, PEER, FRR_DET, from, tKill);
          return x && f ? true : undefined;
        }, 3000, 5);
      } catch (err) {
        ph.why.push(`${(err as Error).message} (xlb ${x ? 'seen' : 'not seen'}, FRR ${f ? 'seen' : 'not seen'})`);
      }
      // a detection counts when it is one: Down for the Detection Time
      // (diag 1), the session steady until the kill on both sides
      const counts = { xlb: false, FRR: false };
      for (const [who, node, det] of [['xlb', VLAB.a.v4, x], ['FRR', FRR_DET, f]] as const) {
        if (flapped(seen, PEER, node, from, tKill)) {
          ph.flaps[who]++;
          ph.why.push(`${label}: ${who}'s session left Up other than by the kill (${who === 'xlb' ? "d1 saw xlb's packets late" : 'FRR'}; diag ${det?.diag ?? '-'})`);
        } else if (det && det.diag !== BFD_DIAG.CONTROL_DETECTION_TIME_EXPIRED) {
          ph.why.push(`${label}: ${who} went Down with diag ${det.diag}`);
        } else if (det) {
          counts[who] = true;
        }
      }
      if (counts.xlb && x) {
        ph.xlb.push(x.down - x.lastRx);
        ph.spans.push([tKill, x.down]);
      }
      if (counts.FRR && f) ph.frr.push(f.down - f.lastRx);
      if (!counts.xlb || !counts.FRR) ph.failed++;
      ph.xlbGaps.push(...txGaps(seen, WIRE, PEER, VLAB.a.v4, from, x?.lastRx ?? tKill));
      ph.frrGaps.push(...txGaps(seen, WIRE, PEER, FRR_DET, from, f?.lastRx ?? tKill));
      log(`  ${label}: xlb ${x ? (x.down - x.lastRx).toFixed(1) : '-'} ms (diag ${x?.diag ?? '-'}), FRR ${f ? (f.down - f.lastRx).toFixed(1) : '-'} ms (diag ${f?.diag ?? '-'}); round ${Math.round(wallNow() - t0)} ms`);
      await peer!.stop();
      peer = await startBfdd(lab.ns('d1'), `${lab.prefix}p`, peerConf);
      // the capture holds only what the rounds to come need
      const keep = seen.findIndex((s) => s.t >= tKill);
      if (keep > 0) seen.splice(0, keep);
    };
    const newPhase = (): Phase => ({ xlb: [], frr: [], failed: 0, flaps: { xlb: 0, FRR: 0 }, why: [], xlbGaps: [], frrGaps: [], spans: [] });

    if (RT > 0) {
      // wait for the session (the worker's packets) before telling the thread apart
      await until('session Up before chrt', async () => (steadyFor(seen, WIRE, PEER, VLAB.a.v4, STEADY_MS, wallNow()) ? true : undefined), 30_000, 10);
      const [tid, n] = await busiestWaker(d.pid!);
      const all = await busiestWaker(d.pid!);
      if (!tid || n < 150 || all[0] !== tid) throw new Error(`XLB_BENCH_BFD_RT: the BFD worker not told apart (thread ${tid} woke ${n}/s, then ${all[0]} ${all[1]}/s)`);
      await run('chrt', ['-f', '-p', String(RT), tid]);
      log(`  bfd: EXPERIMENT: thread ${tid} (${n} wake-ups/s, the BFD worker) set SCHED_FIFO ${RT} by the bench`);
    }
    log(`  bfd: daemon threads' scheduling (idle): ${threadClasses(d.pid!)}`);
    const idle = newPhase();
    for (let i = 0; i < ROUNDS; i++) await round(idle, `bfd idle, round ${i + 1}/${ROUNDS}`);

    // load: 10,000 checks/s, then reloads to and from the 1,000 VIPs meanwhile
    await reload(files.checks);
    await sleep(3000);
    const metrics = (): Promise<string> => lab.exec('a', 'curl', ['-sf', '-m', '30', `http://127.0.0.1:${METRICS}/metrics`]);
    // the checks alone first: what the daemon makes of 10,000/s on this machine without reloads
    const mc = await metrics();
    const tmc = wallNow();
    await sleep(5000);
    const m0 = await metrics();
    const tm0 = wallNow();
    const cpu0 = [procCpuMs(d.pid!), ...cpuTicks()];
    const aloneRate = ((counterSum(m0, 'xlb_health_checks_total') - counterSum(mc, 'xlb_health_checks_total')) * 1000) / (tm0 - tmc);
    log(`  bfd: ${Math.round(aloneRate)} checks/s made with no reload (5 s, after 3 s of warm-up); results ${results(m0, mc)}`);
    let reloadError: Error | undefined;
    reloading = true;
    reloader = (async (): Promise<void> => {
      try {
        while (reloading) {
          const w: [number, number] = [wallNow(), Infinity];
          vipReloads.push(w);
          w[1] = (await reload(files.vips))[1];
          const b: [number, number] = [wallNow(), Infinity];
          backReloads.push(b);
          b[1] = (await reload(files.checks))[1];
        }
      } catch (err) {
        reloadError = err as Error;
      }
    })();
    /** A random point inside a reload to the 1,000 VIPs: within 80% of the last finished one's length. */
    const inVipReload = async (): Promise<void> => {
      for (let tries = 0; tries < 20; tries++) {
        if (reloadError) throw reloadError;
        const done = vipReloads.filter((w) => w[1] !== Infinity);
        const len = done.length ? done[done.length - 1]![1] - done[done.length - 1]![0] : 1000;
        const at = Math.random() * 0.8 * len;
        await until('a reload to the 1,000 VIPs in flight', async () => (vipReloads.at(-1)?.[1] === Infinity ? true : reloadError ? true : undefined), 300_000, 2);
        const cur = vipReloads.at(-1)!;
        const wait = cur[0] + at - wallNow();
        if (wait > 0) await sleep(wait);
        if (cur[1] === Infinity) return;
      }
      throw new Error('bench: no kill point inside a reload in 20 tries');
    };
    log(`  bfd: daemon threads' scheduling (loaded): ${threadClasses(d.pid!)}`);
    const load = newPhase();
    // ROUNDS at least, and on until MIN_RELOADS reloads to the 1,000 VIPs have
    // finished (one takes many rounds' time under the checks): the kills then
    // fall early, midway and late in more than one reload
    const finished = (): number => vipReloads.filter((w) => w[1] !== Infinity).length;
    for (let i = 0; i < 3 * ROUNDS && (i < ROUNDS || finished() < MIN_RELOADS); i++) await round(load, `bfd load, round ${i + 1} (${ROUNDS} at least)`, inVipReload);
    const m1 = await metrics();
    const tm1 = wallNow();
    const cpu1 = [procCpuMs(d.pid!), ...cpuTicks()];
    const daemonPct = ((cpu1[0]! - cpu0[0]!) / (tm1 - tm0)) * 100;
    const machinePct = (100 * (cpu1[1]! - cpu0[1]!)) / (cpu1[2]! - cpu0[2]!);
    log(`  bfd load: the daemon used ${daemonPct.toFixed(0)}% of a core (all threads), the machine was ${machinePct.toFixed(0)}% busy (${availableParallelism()} CPUs)`);
    reloading = false;
    await reloader;
    if (reloadError) throw reloadError;
    log(`  bfd: daemon threads' scheduling (after load): ${threadClasses(d.pid!)}`);

    const checksMade = counterSum(m1, 'xlb_health_checks_total') - counterSum(m0, 'xlb_health_checks_total');
    const okPick = (l: string): boolean => /result="ok"/.test(l);
    const checksFailed = checksMade - (counterSum(m1, 'xlb_health_checks_total', okPick) - counterSum(m0, 'xlb_health_checks_total', okPick));
    const checksRate = (checksMade * 1000) / (tm1 - tm0);
    const fullVip = vipReloads.filter((w) => w[1] !== Infinity && w[1] <= tm1);
    const reloadMedian = fullVip.length ? `median ${Math.round(median(fullVip.map((w) => w[1] - w[0])))} ms` : `none finished; the first ran ${Math.round(tm1 - vipReloads[0]![0])} ms and more`;
    const inReload = load.spans.filter(([k, dn]) => vipReloads.some(([s, e]) => k >= s && dn <= e)).length;
    log(`  bfd load: results ${results(m1, m0)}`);
    log(`  bfd load: ${checksMade} checks in ${((tm1 - tm0) / 1000).toFixed(1)} s (${Math.round(checksRate)}/s, ${checksFailed} failed); reloads to 1,000 VIPs ${vipReloads.length} started, ${fullVip.length} done${fullVip.length ? ` (${fullVip.map((w) => Math.round(w[1] - w[0])).join(', ')} ms)` : ''}, back ${backReloads.length} started; ${inReload} of ${load.spans.length} detections inside a reload to the 1,000 VIPs`);
    for (const [name, ph] of [['idle', idle], ['load', load]] as const) {
      log(`  bfd ${name}: xlb ${ph.xlb.map((x) => x.toFixed(1)).join(' ')} ms`);
      log(`  bfd ${name}: FRR ${ph.frr.map((x) => x.toFixed(1)).join(' ')} ms`);
      log(`  bfd ${name}: tx gaps xlb p50 ${quantile(ph.xlbGaps, 0.5).toFixed(2)} p99 ${quantile(ph.xlbGaps, 0.99).toFixed(2)} max ${Math.max(...ph.xlbGaps).toFixed(2)} ms (${ph.xlbGaps.length}); FRR p50 ${quantile(ph.frrGaps, 0.5).toFixed(2)} p99 ${quantile(ph.frrGaps, 0.99).toFixed(2)} max ${Math.max(...ph.frrGaps).toFixed(2)} ms (${ph.frrGaps.length})`);
      if (ph.failed) log(`  bfd ${name}: ${ph.failed} failed rounds, sessions dropped before the kill: xlb ${ph.flaps.xlb}, FRR ${ph.flaps.FRR}: ${ph.why.slice(0, 3).join('; ')}`);
    }
    if (RT > 0) notes.push(`bfd: EXPERIMENT: the BFD worker thread was put on SCHED_FIFO ${RT} by the bench (XLB_BENCH_BFD_RT), not by the daemon`);
    if (!idle.xlb.length || !load.xlb.length || !idle.frr.length) throw new Error(`no detections measured (idle ${idle.xlb.length}, load ${load.xlb.length}): ${[...idle.why, ...load.why][0] ?? ''}`);

    const p99 = (xs: number[]): number => quantile(xs, 0.99);
    const rows: BenchRow[] = [
      { key: 'bfd_detect_ms.frr_10ms', value: r1(p99(idle.frr)), label: `BFD detection, FRR bfdd at ${INTERVAL_MS} ms x ${MULT}, idle: peer's last packet -> its Down, ms, p99 of ${idle.frr.length} (the reference)` },
      { key: 'bfd_detect_ms.frr_10ms_median', value: r1(median(idle.frr)), label: `  the same, median, ms` },
      { key: 'bfd_detect_ms.xlb_10ms_idle', value: r1(p99(idle.xlb)), label: `  xlb, the same rounds, p99 of ${idle.xlb.length}, ms`, ratioTo: 'bfd_detect_ms.frr_10ms' },
      { key: 'bfd_detect_ms.xlb_10ms_load', value: r1(p99(load.xlb)), label: `  xlb under load (${Math.round(checksRate)} checks/s, kill inside a 1,000-VIP reload), p99 of ${load.xlb.length}, ms`, ratioTo: 'bfd_detect_ms.frr_10ms' },
      { key: 'bfd_detect_ms.frr_10ms_load', value: r1(p99(load.frr)), label: `  FRR bfdd, the same load rounds (the machine's load, not its own), p99 of ${load.frr.length}, ms`, ratioTo: 'bfd_detect_ms.frr_10ms' },
      { key: 'bfd_detect_ratio.p99_10ms', value: r2(p99(load.xlb) / DETECT_MS), label: `BFD detection p99 / negotiated ${DETECT_MS} ms, xlb at ${INTERVAL_MS} ms x ${MULT} under load (goal <= 1.2)` },
      { key: 'bfd_detect_ratio.p99_10ms_idle', value: r2(p99(idle.xlb) / DETECT_MS), label: `  the same idle` },
      { key: 'bfd_detect_ratio.frr_p99_10ms', value: r2(p99(idle.frr) / DETECT_MS), label: `  FRR bfdd idle, the same ratio` },
      { key: 'bfd_detect_ratio.frr_p99_10ms_load', value: r2(p99(load.frr) / DETECT_MS), label: `  FRR bfdd in the load rounds, the same ratio` },
      { key: 'bfd_detect_rounds_failed', value: idle.failed + load.failed, label: `  detection rounds without a figure (idle + load, of ${2 * ROUNDS})` },
      { key: 'bfd_detect_flaps.xlb', value: idle.flaps.xlb + load.flaps.xlb, label: `  rounds in which xlb's session dropped with no kill (d1 saw its packets late), idle ${idle.flaps.xlb} + load ${load.flaps.xlb}` },
      { key: 'bfd_detect_flaps.frr', value: idle.flaps.FRR + load.flaps.FRR, label: `  the same for FRR's session d2 <-> d1, idle ${idle.flaps.FRR} + load ${load.flaps.FRR}` },
      { key: 'bfd_load_checks_per_s', value: Math.round(checksRate), label: `  load: health checks made per second during the load rounds (asked ${CHECKS}; ${Math.round(aloneRate)}/s with no reload), ${checksFailed} of ${checksMade} failed; daemon ${daemonPct.toFixed(0)}% of a core, machine ${machinePct.toFixed(0)}% busy` },
      { key: 'bfd_load_reloads', value: fullVip.length, label: `  load: reloads to 1,000 VIPs x 10 backends finished by the end of the load rounds (${reloadMedian}; ${vipReloads.length} started, ${backReloads.length} back)` },
      { key: 'bfd_load_detections_in_reload', value: inReload, label: `  load: detections (kill -> Down) inside a reload to the 1,000 VIPs, of ${load.spans.length}` },
      { key: 'bfd_tx_jitter_ms.p99_load', value: r2(p99(load.xlbGaps.map(outside))), label: `xlb control packets at ${INTERVAL_MS} ms under load: each gap's distance outside 75-100% of ${INTERVAL_MS} ms (RFC 5880 §6.8.7), p99 of ${load.xlbGaps.length} gaps, ms` },
      { key: 'bfd_tx_jitter_ms.max_load', value: r2(Math.max(...load.xlbGaps.map(outside))), label: `  the same, largest, ms` },
      { key: 'bfd_tx_jitter_ms.p99_idle', value: r2(p99(idle.xlbGaps.map(outside))), label: `  the same idle (${idle.xlbGaps.length} gaps), ms` },
      { key: 'bfd_tx_jitter_ms.frr_p99_load', value: r2(p99(load.frrGaps.map(outside))), label: `  FRR bfdd's packets in the same load rounds (${load.frrGaps.length} gaps), ms` },
      { key: 'bfd_tx_gap_ms.p99_load', value: r2(p99(load.xlbGaps)), label: `  xlb's gaps themselves under load, p99, ms (FRR ${r2(p99(load.frrGaps))})` },
    ];
    return rows;
  } finally {
    reloading = false;
    await reloader.catch(() => undefined);
    if (daemon) await stopChild(daemon, 30_000);
    unloadInstance(instance);
    for (const p of [controlPath(instance), pidPath(instance)]) rmSync(p, { force: true });
    await peer?.stop();
    await detector?.stop();
    await cap?.stop();
    for (const s of hcServers) await stopChild(s, 1000);
    // anything left in d1 and d2 is FRR's: the lab's down() deletes the namespaces
    for (const n of ['d1', 'd2'] as const) {
      const pids = (await run('ip', ['netns', 'pids', lab.ns(n)]).catch(() => ({ stdout: '' }))).stdout.split('\n').filter(Boolean);
      if (pids.length > 0) await run('kill', ['-KILL', ...pids]).catch(() => undefined);
    }
    await lab.down();
  }
}

/** An xlb pair with BFD peering, failover as bench/vrrp.ts measures it. */
async function benchFailover(log: (s: string) => void): Promise<BenchRow[]> {
  const lab = await createVrrpLab(`xbf${process.pid % 100000}f`);
  try {
    await startHttpBackends(lab);
    const pair = xlbPair(lab, 1000, { intervalMs: INTERVAL_MS, mult: MULT });
    const session = async (node: 'a' | 'b'): Promise<string | undefined> => {
      const r = (await controlRequest(controlPath(`${lab.prefix}${node}`), { cmd: 'status' })) as { bfd?: BfdRuntimeStatus };
      return r.bfd?.sessions.find((s) => !s.draining)?.state;
    };
    // the kill must find b's session to a Up, or b waits for its down timer
    const ready = async (): Promise<void> => {
      await until('BFD a <-> b Up on both', async () => ((await session('a')) === 'Up' && (await session('b')) === 'Up' ? true : undefined), 20_000, 20);
    };
    const res = await failover(lab, pair, 1000, ROUNDS_1S, log, ready);
    const times = res.map((x) => x.ms);
    return [
      { key: 'failover_ms.xlb_bfd_1s', value: r1(median(times)), label: `VRRP failover, xlb pair, advert 1 s, BFD peering at ${INTERVAL_MS} ms x ${MULT}: as failover_ms.*, ms, median of ${times.length} (goal <= 100)`, ratioTo: 'failover_ms.keepalived_1s' },
      { key: 'failover_max_ms.xlb_bfd_1s', value: r1(Math.max(...times)), label: `  the same, slowest of ${times.length}, ms` },
      { key: 'failover_min_ms.xlb_bfd_1s', value: r1(Math.min(...times)), label: `  the same, fastest of ${times.length}, ms` },
    ];
  } finally {
    await lab.down();
  }
}

/** Run the BFD benchmarks (root: namespaces, XDP, FRR). Each half runs on its own: one that fails leaves a note and the other's rows. */
export async function benchBfd(log: (s: string) => void, notes: string[]): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const half = async (name: string, fn: () => Promise<BenchRow[]>): Promise<void> => {
    try {
      rows.push(...(await fn()));
    } catch (err) {
      const why = err instanceof Error ? err.message.split('\n')[0]! : String(err);
      log(`bench: bfd ${name} failed: ${why}`);
      notes.push(`bfd ${name}: not measured: ${why}`);
    }
  };
  if (ONLY !== 'failover') await half('detection', () => benchDetect(log, notes));
  if (ONLY !== 'detect') await half('failover', () => benchFailover(log));
  return rows;
}

export const BFD_METHOD = `detection: xlb (a) and FRR 8.4 bfdd (d2) each with a single-hop IPv4 session at ${INTERVAL_MS} ms x ${MULT} to FRR bfdd in d1, which is SIGKILLed once both sessions have been steady for ${STEADY_MS} ms (then started again); one capture on d1's eth0 (kernel stamps) times each detector from d1's last packet to it to its first packet not Up; ${ROUNDS} rounds idle (BFD-only config), then ${ROUNDS} or more (until ${MIN_RELOADS} reloads to the 1,000 VIPs have finished, at most ${3 * ROUNDS}) with ${CHECKS} HTTP checks/s asked (bench/health.ts's generator, servers in c) and reloads to and from bench/apply.ts's 1,000 VIPs x 10 backends back to back, each kill at a random point inside a reload to the 1,000 VIPs; the BFD worker at the daemon's default scheduling; p99 by nearest rank (of fewer than 100 rounds: the largest). tx jitter: gaps between a detector's successive steady packets at d1, distance outside 75-100% of the interval. failover: bench/vrrp.ts's failover rounds (${ROUNDS_1S}) on an xlb pair with 1 s adverts and bfd_peer sessions a <-> b at ${INTERVAL_MS} ms x ${MULT}, each kill once both sessions are Up`;
