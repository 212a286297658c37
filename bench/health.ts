/**
 * Health-check cost and detection time.
 *
 * CPU: the health runner of the daemon (state machines, timers, the HTTP
 * probe: one TCP connection and one GET per check) checking N backends
 * every second, against HTTP servers in a namespace of their own (processes
 * of their own, not counted): the CPU time of this process over a measured
 * window, as a percentage of one core, after a warm-up of two intervals.
 * The attempts actually made are counted, so a figure at a lower rate than
 * asked is not reported as if it were.
 *
 * Detection: one backend with an HTTP check (interval 100 ms, fall 2,
 * timeout 50 ms) against a server process; the server is killed (SIGKILL) at
 * a random phase of the interval, and the time runs until the reconcile has
 * written the backend out of the ring on a loaded XDP object (maps only, not
 * attached). The excess is that time minus interval x fall + timeout: the
 * worst case the configuration allows. Median over ROUNDS.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pino from 'pino';
import { parseConfig } from '../src/config/load.js';
import type { XlbConfig } from '../src/config/model.js';
import { HealthRunner } from '../src/health/runner.js';
import { native } from '../src/native/binding.js';
import { XdpDataplane } from '../src/dataplane/xdp/xdp-dataplane.js';
import { Applier } from '../src/daemon/apply.js';
import { emptyView, planReconcile } from '../src/daemon/plan.js';
import { median } from './stats.js';
import type { BenchRow } from './xdp.js';

const P = 'xhc';
const NS = { cli: `${P}-cli`, srv: `${P}-srv` };
const SRV = ['10.78.0.2', '10.78.0.3'];
const ROUNDS = Number(process.env.XLB_BENCH_HC_ROUNDS ?? 9);
const WINDOW_MS = Number(process.env.XLB_BENCH_HC_WINDOW_MS ?? 5000);

/** A minimal HTTP server: reads the request head, answers 200, closes (`node -e SERVER addr port`; bench/bfd.ts runs it too). */
export const SERVER = `
const net = require('net');
const [addr, port] = process.argv.slice(1);
const res = Buffer.from('HTTP/1.0 200 OK\\r\\ncontent-length: 3\\r\\n\\r\\nok\\n');
net.createServer((s) => {
  s.on('error', () => s.destroy());
  let head = '';
  s.on('data', (d) => { head += d; if (head.includes('\\r\\n\\r\\n')) s.end(res); });
}).listen(Number(port), addr, 1024, () => process.stdout.write('listening\\n'));
`;

/** CPU time of a process so far (utime + stime from /proc), ms. */
function procCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return ((Number(rest[11]) + Number(rest[12])) * 1000) / CLK_TCK;
  } catch {
    return 0;
  }
}
/** USER_HZ: the unit of /proc/<pid>/stat times (100 on every Linux architecture node runs on). */
const CLK_TCK = 100;

const ip = (...args: string[]): void => void execFileSync('ip', args, { stdio: 'ignore' });

function teardown(): void {
  for (const ns of Object.values(NS)) {
    try {
      ip('netns', 'del', ns);
    } catch {
      /* not there */
    }
  }
}

function setup(): void {
  teardown();
  for (const ns of Object.values(NS)) {
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
  ip('-n', NS.cli, 'link', 'add', 'xhcc', 'type', 'veth', 'peer', 'name', 'xhcs', 'netns', NS.srv);
  ip('-n', NS.cli, 'addr', 'add', '10.78.0.1/24', 'dev', 'xhcc');
  for (const a of SRV) ip('-n', NS.srv, 'addr', 'add', `${a}/24`, 'dev', 'xhcs');
  ip('-n', NS.cli, 'link', 'set', 'xhcc', 'up');
  ip('-n', NS.srv, 'link', 'set', 'xhcs', 'up');
  // many short connections from one address: reuse TIME_WAIT ports
  execFileSync('ip', ['netns', 'exec', NS.cli, 'sysctl', '-qw', 'net.ipv4.tcp_tw_reuse=1', 'net.ipv4.ip_local_port_range=10000 65000']);
}

function startServer(addr: string, port: number): Promise<ChildProcess> {
  const child = spawn('nsenter', [`--net=/var/run/netns/${NS.srv}`, process.execPath, '-e', SERVER, addr, String(port)], { stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((done, fail) => {
    const t = setTimeout(() => fail(new Error('bench server did not start')), 10_000);
    child.stdout!.once('data', () => {
      clearTimeout(t);
      done(child);
    });
    child.once('exit', (code) => fail(new Error(`bench server exited ${code}`)));
  });
}

/**
 * The `services:` entries (YAML, no header) of N backends, one HTTP check
 * each, every second, spread over the servers `srv` (port 8000): 100
 * backends per service, VIPs 10.9.x.y. bench/bfd.ts loads them into a daemon.
 */
export function checksServicesYaml(n: number, srv: readonly string[] = SRV): string {
  const per = 100;
  const services: string[] = [];
  for (let s = 0; s * per < n; s++) {
    const backends: string[] = [];
    for (let b = 0; b < Math.min(per, n - s * per); b++) {
      const i = s * per + b;
      backends.push(`      - { address: 10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}, health: { checks: [{ type: http, connect_address: ${srv[i % srv.length]}, connect_port: 8000 }] } }`);
    }
    services.push(`  - address: 10.9.${s >> 8}.${s & 255}\n    port: 80\n    mode: dr\n    health: { interval: 1s, timeout: 500ms }\n    backends:\n${backends.join('\n')}`);
  }
  return services.join('\n');
}

/** N backends, one HTTP check each, every second, spread over the servers. */
function cpuConfig(n: number): XlbConfig {
  const r = parseConfig(`instance: bench\ninterfaces: [{ name: eth0 }]\nlimits: { max_vips: 1000, max_backends: 20000 }\nservices:\n${checksServicesYaml(n)}\n`, 'bench-hc.yaml');
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.config;
}

/** What one window of checks at a rate cost and made. */
interface CpuFigures {
  /** CPU of this process, % of one core */
  pct: number;
  /** attempts finished per second */
  rate: number;
  /** attempts finished in the window */
  made: number;
  /** of them, failed (the servers are healthy: every failure is the bench's or the checker's) */
  failed: number;
  /** event-loop delay p99, ms */
  p99: number;
  /** failures by reason and detail, most frequent first */
  why: string[];
}

async function cpuAt(n: number, servers: readonly ChildProcess[], log: (s: string) => void): Promise<CpuFigures> {
  let attempts = 0;
  let failed = 0;
  let counting = false;
  const why = new Map<string, number>();
  const runner = new HealthRunner({
    log: pino({ level: 'silent' }),
    observer: {
      attempt: (_t, r) => {
        attempts++;
        if (r.ok) return;
        failed++;
        if (!counting) return;
        // details carry addresses and ports: keep the words
        const k = `${r.reason}: ${(r.detail ?? '').replace(/[0-9.:]+/g, '#').slice(0, 80)}`;
        why.set(k, (why.get(k) ?? 0) + 1);
      },
    },
  });
  const delay = monitorEventLoopDelay({ resolution: 1 });
  try {
    runner.sync(cpuConfig(n));
    await new Promise((r) => setTimeout(r, 2000)); // warmup spreads the first rounds over an interval
    const a0 = attempts;
    const f0 = failed;
    const c0 = process.cpuUsage();
    const s0 = servers.map((x) => procCpuMs(x.pid));
    const t0 = performance.now();
    counting = true;
    delay.enable();
    await new Promise((r) => setTimeout(r, WINDOW_MS));
    delay.disable();
    counting = false;
    const c = process.cpuUsage(c0);
    const ms = performance.now() - t0;
    const srv = servers.map((x, i) => (((procCpuMs(x.pid) - s0[i]!) / ms) * 100).toFixed(0));
    log(`  hc ${n}: checker user ${((c.user / 1000 / ms) * 100).toFixed(1)} % + system ${((c.system / 1000 / ms) * 100).toFixed(1)} % of a core; the bench's servers ${srv.join(' + ')} %`);
    const made = attempts - a0;
    const rate = (made * 1000) / ms;
    const top = [...why].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${v} x ${k}`);
    if (failed - f0 > 0) log(`  hc ${n}: ${failed - f0} of ${made} attempts failed: ${top.slice(0, 4).join('; ')}`);
    return { pct: ((c.user + c.system) / 1000 / ms) * 100, rate, made, failed: failed - f0, p99: delay.percentile(99) / 1e6, why: top };
  } finally {
    runner.stop();
  }
}

async function detectOnce(dp: XdpDataplane): Promise<number> {
  const server = await startServer(SRV[0]!, 8001);
  const cfgR = parseConfig(
    `instance: bench\ninterfaces: [{ name: eth0 }]\nservices:\n  - address: 10.9.0.1\n    port: 80\n    mode: dr\n    health: { interval: 100ms, timeout: 50ms, fall: 2, warmup: 0s }\n    backends:\n      - { address: 10.100.0.1, health: { checks: [{ type: http, connect_address: ${SRV[0]}, connect_port: 8001 }] } }\n      - { address: 10.100.0.2 }\n`,
    'bench-detect.yaml',
  );
  if (!cfgR.ok) throw new Error(cfgR.errors.map((e) => e.message).join('\n'));
  const config = cfgR.config;
  const applier = new Applier(dp);
  const runner = new HealthRunner({ log: pino({ level: 'silent' }) });
  const limits = { maxVips: 4, maxBackends: 8, maxRings: dp.maxRings };
  try {
    runner.sync(config);
    await applier.apply(planReconcile(emptyView(), config, dp.ringSize, limits, runner));
    const out = new Promise<number>((done) => {
      runner.on('change', (keys: string[]) => {
        const plan = planReconcile(applier.view(), config, dp.ringSize, limits, runner, new Set(keys));
        void applier.apply(plan).then(() => {
          const svc = applier.services.get('10.9.0.1|80|tcp');
          if (svc?.backends.find((b) => b.key === '10.100.0.1:0')?.up === false) done(performance.now());
        });
      });
    });
    // let a few rounds pass, then kill at a random phase of the interval
    await new Promise((r) => setTimeout(r, 300 + Math.random() * 100));
    const t0 = performance.now();
    server.kill('SIGKILL');
    const t1 = await out;
    return t1 - t0 - (100 * 2 + 50);
  } finally {
    runner.stop();
    server.kill('SIGKILL');
    await applier.close();
  }
}

/** Run the health-check benchmarks (root: namespaces, the XDP object). */
export async function benchHealth(log: (s: string) => void): Promise<BenchRow[]> {
  setup();
  const servers: ChildProcess[] = [];
  const nsFd = native().enterNetns(`/var/run/netns/${NS.cli}`);
  let dp: XdpDataplane | null = null;
  try {
    for (const a of SRV) servers.push(await startServer(a, 8000));
    const rows: BenchRow[] = [];
    for (const n of [1000, 10000]) {
      const r = await cpuAt(n, servers, log);
      log(`  hc ${n} checks/s asked: ${Math.round(r.rate)} made, ${r.pct.toFixed(1)}% of a core, event-loop delay p99 ${r.p99.toFixed(1)} ms`);
      rows.push({ key: `hc_cpu_pct.${n}`, value: Math.round(r.pct * 10) / 10, label: `health checks, ${n} HTTP checks/s (made ${Math.round(r.rate)}/s), % of one core` });
      // what the CPU figure rests on: the checks made of those asked, and the failed ones (healthy servers: goal 0)
      rows.push({ key: `hc_made_ratio.${n}`, value: Math.round((r.rate / n) * 1000) / 1000, label: `  checks made / asked at ${n} checks/s (goal 1)` });
      rows.push({ key: `hc_failed.${n}`, value: r.failed, label: `  failed attempts of ${r.made} in ${WINDOW_MS / 1000} s at ${n} checks/s (healthy servers: goal 0)` });
      rows.push({ key: `hc_loop_delay_p99_ms.${n}`, value: Math.round(r.p99 * 10) / 10, label: `event-loop delay p99 during ${n} checks/s, ms` });
    }
    dp = XdpDataplane.load({ maxVips: 4, maxBackends: 8, maxConns: 1024, ringSize: 65537 });
    const excess: number[] = [];
    for (let i = 0; i < ROUNDS; i++) excess.push(await detectOnce(dp));
    log(`  hc detection excess over interval x fall + timeout (ms): ${excess.map((x) => x.toFixed(1)).join(' ')}`);
    rows.push({ key: 'hc_detect_excess_ms.median', value: Math.round(median(excess) * 10) / 10, label: `health: detection (kill -> out of the ring) minus interval x fall + timeout, ms, median of ${ROUNDS}` });
    rows.push({ key: 'hc_detect_excess_ms.max', value: Math.round(Math.max(...excess) * 10) / 10, label: `health: the same, worst of ${ROUNDS}, ms` });
    return rows;
  } finally {
    native().restoreNetns(nsFd);
    dp?.close();
    for (const s of servers) s.kill('SIGKILL');
    teardown();
  }
}

export const HEALTH_METHOD = `HTTP checks (one connection + GET each) from the daemon's health runner against servers in another namespace, CPU of the checking process over ${WINDOW_MS / 1000} s after 2 s of warm-up; detection: server SIGKILLed at a random phase, time until the ring without it is written, ${ROUNDS} rounds`;
