/**
 * VRRP: failover time, xlb against keepalived, and the regularity of xlb's
 * adverts while the daemon reloads a 1,000-VIP config.
 *
 * Everything runs in a VRRP lab of its own (test/support/vrrp-lab.ts: nodes
 * a, b, c on one bridge, namespaces `xb<pid>-*`), torn down in `finally`.
 *
 * Failover: a pair of the same implementation, a (priority 200, master) and
 * b (priority 100), VRRPv3 over IPv4, one VIP, the same advert interval on
 * both; an HTTP server on a and on b answering with its node's name
 * (src/lab/http-backend.ts); a client in c (bench/vrrp-client.ts) opening a
 * fresh connection to the VIP every 2 ms. Once a is master and the client is
 * answered by a, right after one of a's adverts has left a (seen by tcpdump
 * on a; a random phase without tcpdump), a's VRRP process is killed with
 * SIGKILL (xlb: the daemon; keepalived: its parent and its
 * VRRP child, found by their pid files and checked against the config path,
 * both SIGSTOPped first: killed alone, the parent would make the child
 * resign with a priority-0 advert, a graceful handover and not a crash). The
 * figure is the time from the kill to the first answer from b. a's VIP stays
 * on a's interface after a kill -9 and a's server keeps answering the client
 * until b's gratuitous ARP moves the client's neighbour entry: that is the
 * real behaviour and part of the figure. Between rounds a is restarted
 * (after the VIP it left is removed) and preempts; the next round starts
 * once a holds the VIP, b does not, the client's neighbour entry is a's MAC,
 * and 2 intervals + 1.5 s more have passed (b's and a's delayed GARP bursts
 * are over). Median over the rounds. With tcpdump installed, a's adverts
 * are captured as they leave a, and `failover_excess_ms` is the time from
 * a's last advert to the first answer from b, minus b's master-down interval:
 * what the backup adds to the interval (a random kill phase would dominate
 * the spread of medians of 5-7 rounds; killing after an advert gives both
 * implementations the same, worst-case, phase).
 *
 * Jitter: xlb alone as master on a (advert_int 100 ms, the interval the
 * failover figures compare and a common keepalived setting, where the 2 ms
 * goal is 2% of the interval; 10 ms as extra `_10ms` keys), |gap - interval|
 * of successive adverts over 10 s idle, then over windows that each run from
 * a `reload` request (VRRP-only config -> the same plus bench/apply.ts's
 * 1,000 VIPs x 10 backends, same limits, so the reload is allowed) until 1 s
 * after its reply; the windows of several reloads are pooled (the daemon is
 * reloaded back to VRRP-only in between, unmeasured). Two instruments:
 * tcpdump -Q out on a's eth0 (the kernel's timestamp as each advert leaves
 * a: the figures, when tcpdump is installed) and a raw socket in c
 * (bench/vrrp-rx.ts, SCHED_FIFO, performance.now() at the read: the
 * `advert_jitter_rx_ms` keys). The second adds the receiver's own wake-up
 * delays: on a shared 2-CPU VM, while other jobs loaded it, it read bursts
 * of adverts after stalls of 100-300 ms that the egress stamps of the same
 * adverts do not show; on a quiet machine the two agree. The
 * same instruments on keepalived alone (idle) give a reference measured on
 * the same machine at the same time. The machine's CPU use in each window is
 * logged: other load on the machine shows up in these figures.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopChild } from '../src/lab/exec.js';
import { controlPath, controlRequest, waitForDaemon } from '../src/daemon/control.js';
import { pidPath, unloadInstance } from '../src/daemon/daemon.js';
import { parseConfig } from '../src/config/load.js';
import { until } from '../test/support/e2e.js';
import { createVrrpLab, keepalivedConf, VLAB, type VrrpLab, type VrrpNode } from '../test/support/vrrp-lab.js';
import { config as applyConfig } from './apply.js';
import { median, quantile } from './stats.js';
import type { BenchRow } from './xdp.js';

/** <out>/bench: the CLI, the lab's HTTP backend and the scripts are compiled beside it. */
const HERE = dirname(fileURLToPath(import.meta.url));
const CLI = resolve(HERE, '../src/cli/main.js');
const HTTP_BACKEND = resolve(HERE, '../src/lab/http-backend.js');
const CLIENT = join(HERE, 'vrrp-client.js');
const RX = join(HERE, 'vrrp-rx.js');

export const ROUNDS_1S = Number(process.env.XLB_BENCH_VRRP_ROUNDS_1S ?? 5);
const ROUNDS_FAST = Number(process.env.XLB_BENCH_VRRP_ROUNDS ?? 7);
const IDLE_MS = Number(process.env.XLB_BENCH_VRRP_IDLE_MS ?? 10_000);
const RELOADS = Number(process.env.XLB_BENCH_VRRP_RELOADS ?? 5);
/** `failover` or `jitter`: run that part only (default: both). */
const ONLY = process.env.XLB_BENCH_VRRP_ONLY;
/** The client opens a connection this often, ms. */
const CLIENT_EVERY_MS = 2;
const VIP = VLAB.vip4;
const VRID = 51;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const wallNow = (): number => performance.timeOrigin + performance.now();
const r1 = (x: number): number => Math.round(x * 10) / 10;

/** Jiffies of the whole machine from /proc/stat: [busy, total]. */
function cpuTicks(): [number, number] {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return [total - f[3]! - (f[4] ?? 0), total];
}

/** The machine's CPU use between two cpuTicks() readings, % of all CPUs. */
const busyPct = (a: [number, number], b: [number, number]): number => (b[1] > a[1] ? (100 * (b[0] - a[0])) / (b[1] - a[1]) : 0);

/** Keep the last 16 kB a child wrote, for error messages. */
function tail(child: ChildProcess): () => string {
  let s = '';
  const add = (b: Buffer): void => {
    s = (s + b.toString()).slice(-16_384);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return () => s;
}

/** Call `onLine` for each line the child prints on stdout. */
function onLines(child: ChildProcess, onLine: (line: string) => void): void {
  let buf = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line) onLine(line);
    }
  });
}

/** One implementation run as a pair in nodes a and b. */
export interface Pair {
  readonly name: 'xlb' | 'keepalived';
  /** Start the VRRP speaker of `node`; resolves once it runs. */
  start(node: 'a' | 'b', priority: number): Promise<void>;
  /** SIGKILL the node's VRRP speaker; Date.now() just before the signal. Resolves once it is gone. */
  kill(node: 'a' | 'b'): Promise<number>;
  /** Whether the node's speaker says it is MASTER (keepalived: it holds the VIP). */
  isMaster(node: 'a' | 'b'): Promise<boolean>;
  /** Stop both nodes gracefully and remove what they left. */
  stop(): Promise<void>;
  /** Recent output, for errors. */
  logs(): string;
}

/** BFD peering of an xlb pair (bench/bfd.ts): a session a <-> b at this interval x multiplier, the instance's `bfd_peer`. */
export interface PairBfd {
  intervalMs: number;
  mult: number;
}

function xlbPairYaml(instance: string, priority: number, advertMs: number, node: 'a' | 'b', bfd?: PairBfd): string {
  const other = node === 'a' ? 'b' : 'a';
  const session = bfd
    ? `bfd:
  instances:
    - { name: to-${other}, neighbor_ip: ${VLAB[other].v4}, source_ip: ${VLAB[node].v4}, min_rx: ${bfd.intervalMs}ms, min_tx: ${bfd.intervalMs}ms, multiplier: ${bfd.mult} }
`
    : '';
  return `
instance: ${instance}
interfaces: [{ name: eth0 }]
metrics: { listen: 127.0.0.1:9905 }
log: { level: info }
limits: { max_vips: 4, max_backends: 8, max_conns: 1024, ring_size: 13 }
services: []
${session}vrrp:
  defaults: { version: 3, garp_master_delay: 1s, garp_master_repeat: 2 }
  instances:
    - name: VI_1
      interface: eth0
      virtual_router_id: ${VRID}
      priority: ${priority}
      advert_int: ${advertMs}ms
      virtual_ipaddress: [${VIP}/24]
${bfd ? `      bfd_peer: to-${other}\n` : ''}`;
}

/** Status requests wait as long as `xlb status` does (controlRequest's default, 30 s): a bench waits for the daemon as a user would. */
export async function vrrpState(instance: string): Promise<string | undefined> {
  const r = await controlRequest(controlPath(instance), { cmd: 'status' });
  return (r.vrrp as { state: string }[] | undefined)?.[0]?.state;
}

/** Remove a daemon's control socket and pid file once it is dead (a kill -9 leaves them). */
function removeRunFiles(instance: string): void {
  for (const p of [controlPath(instance), pidPath(instance)]) rmSync(p, { force: true });
}

/** An xlb pair in a and b (instances `<prefix>a`, `<prefix>b`), with BFD peering when `bfd` is given. */
export function xlbPair(lab: VrrpLab, advertMs: number, bfd?: PairBfd): Pair {
  const inst = { a: `${lab.prefix}a`, b: `${lab.prefix}b` };
  const procs: Partial<Record<'a' | 'b', ChildProcess>> = {};
  const logs: Partial<Record<'a' | 'b', () => string>> = {};
  for (const n of ['a', 'b'] as const) unloadInstance(inst[n]);
  return {
    name: 'xlb',
    async start(node, priority) {
      const file = join(lab.dir, `xlb-${node}.yaml`);
      writeFileSync(file, xlbPairYaml(inst[node], priority, advertMs, node, bfd));
      const c = lab.spawn(node, process.execPath, [CLI, 'load', file]);
      procs[node] = c;
      const log = tail(c);
      logs[node] = log;
      await waitForDaemon(inst[node], 30_000, log);
    },
    async kill(node) {
      const c = procs[node];
      if (!c || c.exitCode !== null || c.signalCode !== null) throw new Error(`xlb on ${node} is not running`);
      const exited = new Promise((r) => c.once('exit', r));
      const t = Date.now();
      c.kill('SIGKILL');
      await exited;
      return t;
    },
    async isMaster(node) {
      try {
        return (await vrrpState(inst[node])) === 'MASTER';
      } catch {
        return false;
      }
    },
    async stop() {
      for (const n of ['a', 'b'] as const) {
        const c = procs[n];
        if (c) await stopChild(c, 6000);
        unloadInstance(inst[n]);
        removeRunFiles(inst[n]);
      }
    },
    logs: () => `--- xlb a\n${logs.a?.() ?? ''}\n--- xlb b\n${logs.b?.() ?? ''}`,
  };
}

/** Pids of the keepalived processes (parent, VRRP child) that run `conf`. */
function keepalivedPids(dir: string, conf: string): number[] {
  const pids = new Set<number>();
  for (const f of ['k.pid', 'v.pid']) {
    try {
      pids.add(Number(readFileSync(join(dir, f), 'utf8').trim()));
    } catch {
      /* not written (yet) */
    }
  }
  try {
    for (const l of execFileSync('pgrep', ['-f', conf], { encoding: 'utf8' }).split('\n')) if (l.trim()) pids.add(Number(l.trim()));
  } catch {
    /* none */
  }
  // only live processes whose command line names this lab's config
  return [...pids].filter((pid) => Number.isInteger(pid) && pid > 1 && alive(pid) && readCmdline(pid).includes(conf));
}

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** Exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function keepalivedPair(lab: VrrpLab, advertMs: number): Pair {
  // the layout of lab.keepalived(): <dir>/keepalived-<node>/{keepalived.conf,k.pid,v.pid,c.pid}
  const dir = (n: 'a' | 'b'): string => join(lab.dir, `keepalived-${n}`);
  const conf = (n: 'a' | 'b'): string => join(dir(n), 'keepalived.conf');
  const procs: Partial<Record<'a' | 'b', ChildProcess>> = {};
  const logs: Partial<Record<'a' | 'b', () => string>> = {};
  const sweep = async (n: 'a' | 'b'): Promise<void> => {
    for (const pid of keepalivedPids(dir(n), conf(n))) process.kill(pid, 'SIGKILL');
    await until(`keepalived on ${n} gone`, async () => (keepalivedPids(dir(n), conf(n)).length === 0 ? true : undefined), 3000, 5);
    for (const f of ['k.pid', 'v.pid', 'c.pid']) rmSync(join(dir(n), f), { force: true });
  };
  return {
    name: 'keepalived',
    async start(node, priority) {
      if (existsSync(dir(node))) await sweep(node);
      const c = lab.keepalived(node, keepalivedConf(lab.prefix, priority, advertMs));
      procs[node] = c;
      logs[node] = tail(c);
      // running once its VRRP child wrote its pid file
      await until(`keepalived on ${node} started`, async () => (existsSync(join(dir(node), 'v.pid')) && keepalivedPids(dir(node), conf(node)).length >= 2 ? true : undefined), 10_000, 20);
    },
    async kill(node) {
      const pids = keepalivedPids(dir(node), conf(node));
      if (pids.length < 2) throw new Error(`keepalived on ${node}: expected a parent and a VRRP child, found ${pids.join(',') || 'none'}`);
      // stop both, then kill both: neither runs again in between. A parent
      // killed alone makes its VRRP child (PR_SET_PDEATHSIG: SIGTERM) resign
      // with a priority-0 advert, a graceful stop and not a crash
      const t = Date.now();
      for (const pid of pids) process.kill(pid, 'SIGSTOP');
      for (const pid of pids) process.kill(pid, 'SIGKILL');
      await sweep(node);
      return t;
    },
    async isMaster(node) {
      return lab.hasAddress(node, VIP);
    },
    async stop() {
      for (const n of ['a', 'b'] as const) {
        const c = procs[n];
        if (c) await stopChild(c, 3000);
        if (existsSync(dir(n))) await sweep(n);
      }
    },
    logs: () => `--- keepalived a\n${logs.a?.() ?? ''}\n--- keepalived b\n${logs.b?.() ?? ''}`,
  };
}

async function dropVip(lab: VrrpLab, node: VrrpNode): Promise<void> {
  if (await lab.hasAddress(node, VIP)) await lab.exec(node, 'ip', ['addr', 'del', `${VIP}/24`, 'dev', 'eth0']);
}

/** Wait until a is master, b is not, and the client's neighbour entry for the VIP is a's. */
async function waitAMaster(lab: VrrpLab, pair: Pair, advertMs: number): Promise<void> {
  const timeout = 10 * advertMs + 15_000;
  try {
    await until(
      'a master, b backup, client on a',
      async () => {
        if (!(await pair.isMaster('a')) || !(await lab.hasAddress('a', VIP)) || (await lab.hasAddress('b', VIP))) return undefined;
        if (pair.name === 'xlb' && (await pair.isMaster('b'))) return undefined;
        const mac = await lab.clientNeighbour(VIP);
        if (mac === undefined) {
          // no entry yet: resolve it (only a holds the VIP now)
          await lab.exec('c', 'ping', ['-c', '1', '-W', '1', VIP]).catch(() => undefined);
          return undefined;
        }
        return mac === VLAB.a.mac ? true : undefined;
      },
      timeout,
      20,
    );
  } catch (err) {
    throw new Error(`${pair.name} ${advertMs} ms: ${(err as Error).message}\n${pair.logs()}`);
  }
}

/** One failover: the client runs, a is killed just after one of its adverts (random phase without tcpdump), time to the first answer from b. */
async function failoverRound(lab: VrrpLab, pair: Pair, advertMs: number, log: (s: string) => void, label: string): Promise<{ ms: number; excess?: number }> {
  const masterDown = 3 * advertMs + ((256 - 100) * advertMs) / 256;
  const client = lab.spawn('c', process.execPath, [CLIENT, '--addr', VIP, '--port', '80', '--every', String(CLIENT_EVERY_MS), '--timeout', '200', '--duration', String(Math.round(masterDown + advertMs + 20_000))]);
  const answers: { t: number; node: string }[] = [];
  let wake: (() => void) | undefined;
  onLines(client, (line) => {
    try {
      answers.push(JSON.parse(line) as { t: number; node: string });
      wake?.();
    } catch {
      /* not ours */
    }
  });
  const next = (): Promise<void> => new Promise((r) => (wake = r));
  // a's adverts as they leave a (kernel stamps, wall-clock ms): when the last one went out
  const sent: number[] = [];
  const td = hasTool('tcpdump', ['--version'])
    ? lab.spawn('a', 'timeout', [String(Math.ceil((masterDown + advertMs) / 1000) + 30), 'tcpdump', '--immediate-mode', '-i', 'eth0', '-Q', 'out', '-n', '-l', '-tt', '--time-stamp-precision=micro', `ip proto 112 and src ${VLAB.a.v4}`])
    : null;
  if (td) {
    onLines(td, (line) => {
      const m = /^(\d+\.\d+) .*vrid (\d+)/.exec(line);
      if (m && Number(m[2]) === VRID) sent.push(Number(m[1]) * 1000);
    });
  }
  try {
    if (td) await until(`${label}: adverts of a captured`, async () => (sent.length >= 2 ? true : undefined), 2 * advertMs + 10_000, 10);
    // the client is answered by a, several times in a row
    const startBy = Date.now() + 5000;
    while (answers.filter((x) => x.node === 'a').length < 5) {
      if (Date.now() > startBy) throw new Error(`${label}: the client got no answers from a (${JSON.stringify(answers.slice(-3))})`);
      await Promise.race([next(), sleep(100)]);
    }
    if (answers.some((x) => x.node !== 'a')) throw new Error(`${label}: answers from ${answers.find((x) => x.node !== 'a')!.node} before the kill`);
    if (td) {
      // the kill follows one of a's adverts (as it left a): the same phase
      // for both implementations, the worst case (a whole master-down
      // interval); a random phase would add up to an interval of noise
      const n = sent.length;
      await until(`${label}: a fresh advert of a`, async () => (sent.length > n ? true : undefined), 2 * advertMs + 5000, 1);
    } else {
      await sleep(Math.random() * advertMs);
    }
    const t0 = await pair.kill('a');
    const deadline = Date.now() + masterDown + 10_000;
    for (;;) {
      const b = answers.find((x) => x.node === 'b' && x.t >= t0);
      if (b) {
        const lastA = answers.filter((x) => x.node === 'a').reduce((m, x) => Math.max(m, x.t), 0);
        const lastAdvert = sent.length ? sent[sent.length - 1]! : undefined;
        const excess = lastAdvert === undefined ? undefined : b.t - lastAdvert - masterDown;
        log(`  ${label}: ${b.t - t0} ms (a's last advert ${lastAdvert === undefined ? '?' : `${r1(t0 - lastAdvert)} ms before the kill`}; over master-down ${r1(masterDown)} ms after it: ${excess === undefined ? '?' : r1(excess)} ms; last answer from a at +${lastA - t0} ms)`);
        // with a's adverts captured, the master is silent from its last
        // advert on (the kill follows it within a few ms, by a path that
        // differs between the implementations: pid files for keepalived)
        const from = lastAdvert ?? t0;
        return { ms: b.t - from, ...(excess === undefined ? {} : { excess }) };
      }
      if (Date.now() > deadline) throw new Error(`${label}: no answer from b within ${Math.round(masterDown + 10_000)} ms of the kill\n${pair.logs()}`);
      await Promise.race([next(), sleep(50)]);
    }
  } finally {
    await stopChild(client, 1000);
    if (td) await stopChild(td, 1000);
  }
}

/**
 * `rounds` failovers of a pair at `advertMs`; the times, ms. `ready`, when
 * given, is awaited before each kill, once a is master (bench/bfd.ts: the
 * BFD session between the nodes is Up).
 */
export async function failover(lab: VrrpLab, pair: Pair, advertMs: number, rounds: number, log: (s: string) => void, ready?: () => Promise<void>): Promise<{ ms: number; excess?: number }[]> {
  const times: { ms: number; excess?: number }[] = [];
  const name = `${pair.name} ${advertMs} ms`;
  try {
    await pair.start('b', 100);
    await pair.start('a', 200);
    for (let i = 0; i < rounds; i++) {
      if (i > 0) {
        await dropVip(lab, 'a'); // what the kill -9 left
        await pair.start('a', 200);
      }
      await waitAMaster(lab, pair, advertMs);
      await sleep(2 * advertMs + 1500);
      await ready?.();
      times.push(await failoverRound(lab, pair, advertMs, log, `failover ${name}, round ${i + 1}/${rounds}`));
    }
    return times;
  } finally {
    await pair.stop();
    for (const n of ['a', 'b'] as const) await dropVip(lab, n).catch(() => undefined);
  }
}

// --- jitter ------------------------------------------------------------------

/** limits: of bench/apply.ts's config, in YAML; the same in both configs, so the reload may change services. */
function limitsYaml(l: ReturnType<typeof applyConfig>['limits']): string {
  return `limits: { max_vips: ${l.maxVips}, max_backends: ${l.maxBackends}, max_conns: ${l.maxConns}, max_conns6: ${l.maxConns6}, max_nat: ${l.maxNat}, ring_size: ${l.ringSize}, conn_rate_limit: ${l.connRateLimit}, next_hop_cache: ${l.nextHopCacheMs}ms }`;
}

/** The `services:` entries (YAML, no header) of bench/apply.ts's 1,000 VIPs x 10 backends (bench/bfd.ts reloads a daemon to them too). */
export function applyServicesYaml(): string {
  return applyConfig()
    .services.map((s) => `  - { name: ${s.name}, address: ${s.address}, port: ${s.port}, protocol: ${s.protocol}, mode: ${s.mode}, backends: [${s.backends.map((b) => `{ address: ${b.address} }`).join(', ')}] }`)
    .join('\n');
}

function jitterYaml(instance: string, advertMs: number, withServices: boolean): string {
  const cfg = applyConfig();
  const services = withServices ? `services:\n${applyServicesYaml()}` : 'services: []';
  const text = `instance: ${instance}
interfaces: [{ name: eth0 }]
metrics: { listen: 127.0.0.1:9906 }
log: { level: info }
${limitsYaml(cfg.limits)}
${services}
vrrp:
  defaults: { version: 3 }
  instances:
    - name: VI_1
      interface: eth0
      virtual_router_id: ${VRID}
      priority: 200
      advert_int: ${advertMs}ms
      virtual_ipaddress: [${VIP}/24]
`;
  const r = parseConfig(text, `bench-vrrp-${withServices ? 'vips' : 'vrrp'}.yaml`);
  if (!r.ok) throw new Error(`bench: jitter config invalid: ${r.errors.map((e) => e.message).join('; ')}`);
  if (withServices && r.config.services.length !== cfg.services.length) throw new Error('bench: jitter config lost services');
  return text;
}

/** One advert as seen by an instrument: `t` for gaps (ms, one clock), `w` wall-clock ms for windows. */
interface Advert {
  t: number;
  w: number;
}

/** The two instruments: the raw-socket receiver in c, and (when tcpdump exists) a's egress capture. */
interface Capture {
  /** bench/vrrp-rx.ts in c: performance.now() at the read, in user space. */
  rx: Advert[];
  /** tcpdump -Q out on a's eth0: the kernel's timestamp of each advert leaving a (null: no tcpdump). */
  tx: Advert[] | null;
  stop(): Promise<void>;
}

function hasTool(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Start both instruments; resolves once each has seen 5 adverts from a. */
async function capture(lab: VrrpLab, budgetMs: number): Promise<Capture> {
  const rxA: Advert[] = [];
  const rx = lab.spawn('c', 'chrt', ['-f', '20', process.execPath, RX, '--ifname', 'eth0', '--vrid', String(VRID), '--duration', String(budgetMs)]);
  const rxLog = tail(rx);
  onLines(rx, (line) => {
    try {
      const a = JSON.parse(line) as { t: number; w: number; src: string };
      if (a.src === VLAB.a.v4) rxA.push({ t: a.t, w: a.w });
    } catch {
      /* not ours */
    }
  });
  let txA: Advert[] | null = null;
  let td: ChildProcess | null = null;
  if (hasTool('tcpdump', ['--version'])) {
    const tx: Advert[] = [];
    txA = tx;
    // -tt: epoch seconds with microseconds, the kernel's stamp as the frame leaves eth0
    td = lab.spawn('a', 'timeout', [String(Math.ceil(budgetMs / 1000)), 'tcpdump', '--immediate-mode', '-i', 'eth0', '-Q', 'out', '-n', '-l', '-tt', '--time-stamp-precision=micro', `ip proto 112 and src ${VLAB.a.v4}`]);
    onLines(td, (line) => {
      const m = /^(\d+\.\d+) .*vrid (\d+)/.exec(line);
      if (m && Number(m[2]) === VRID) {
        const ms = Number(m[1]) * 1000;
        tx.push({ t: ms, w: ms });
      }
    });
  }
  const tdLog = td ? tail(td) : () => '';
  const stop = async (): Promise<void> => {
    for (const c of [rx, td]) {
      if (!c) continue;
      const out = new Promise((r) => (c.stdout ? c.stdout.once('close', r) : r(undefined)));
      await stopChild(c, 1000);
      await Promise.race([out, sleep(1000)]);
    }
  };
  try {
    await until('adverts at both instruments', async () => (rxA.length >= 5 && (!txA || txA.length >= 5) ? true : undefined), 10_000, 20);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message} (rx ${rxA.length}, tx ${txA?.length})\n--- rx\n${rxLog()}\n--- tcpdump\n${tdLog()}`);
  }
  return { rx: rxA, tx: txA, stop };
}

/** |gap - interval| of the adverts that arrived in one of the windows (wall ms), each against the one before it. */
function deviations(adverts: readonly Advert[], windows: readonly [number, number][], intervalMs: number): number[] {
  const out: number[] = [];
  for (let i = 1; i < adverts.length; i++) {
    const w = adverts[i]!.w;
    if (windows.some(([from, to]) => w >= from && w <= to)) out.push(Math.abs(adverts[i]!.t - adverts[i - 1]!.t - intervalMs));
  }
  return out;
}

/** The three worst deviations, where they were. */
function worst(adverts: readonly Advert[], windows: readonly [number, number][], intervalMs: number): string {
  const xs: { dev: number; at: string }[] = [];
  for (let i = 1; i < adverts.length; i++) {
    const k = windows.findIndex(([f, t]) => adverts[i]!.w >= f && adverts[i]!.w <= t);
    if (k < 0) continue;
    xs.push({ dev: Math.abs(adverts[i]!.t - adverts[i - 1]!.t - intervalMs), at: `+${Math.round(adverts[i]!.w - windows[k]![0])} ms${windows.length > 1 ? ` of window ${k + 1}` : ''}` });
  }
  return xs
    .sort((x, y) => y.dev - x.dev)
    .slice(0, 3)
    .map((x) => `${x.dev.toFixed(1)} at ${x.at}`)
    .join(', ');
}

/** Deviations of one run, per instrument and window kind. */
interface Jitter {
  rx: { idle: number[]; reload: number[] };
  tx: { idle: number[]; reload: number[] } | null;
  reloadMs: number[];
  /** `status` of the 1,000 services asked every STATUS_EVERY_MS during the reloads back to VRRP only (request -> reply), ms */
  statusMs: number[];
}

/** How often status is asked during a reload from 1,000 VIPs. */
const STATUS_EVERY_MS = 100;

function summary(xs: readonly number[]): string {
  return xs.length ? `p50 ${quantile(xs, 0.5).toFixed(2)} p99 ${quantile(xs, 0.99).toFixed(2)} max ${Math.max(...xs).toFixed(2)} ms (${xs.length} gaps)` : 'no gaps';
}

/** xlb alone as master on a: idle, then RELOADS reloads to the 1,000-VIP config (and back, unmeasured). */
async function jitterXlb(lab: VrrpLab, advertMs: number, log: (s: string) => void): Promise<Jitter> {
  const instance = `${lab.prefix}j`;
  const small = join(lab.dir, `jitter-${advertMs}-vrrp.yaml`);
  const big = join(lab.dir, `jitter-${advertMs}-vips.yaml`);
  writeFileSync(small, jitterYaml(instance, advertMs, false));
  writeFileSync(big, jitterYaml(instance, advertMs, true));
  unloadInstance(instance);
  let daemon: ChildProcess | null = null;
  let cap: Capture | null = null;
  try {
    daemon = lab.spawn('a', process.execPath, [CLI, 'load', small]);
    const dlog = tail(daemon);
    await waitForDaemon(instance, 60_000, dlog);
    await until('xlb MASTER', async () => ((await vrrpState(instance)) === 'MASTER' ? true : undefined), 10_000, 20);
    cap = await capture(lab, IDLE_MS + RELOADS * 130_000 + 30_000);

    const idle: [number, number] = [wallNow(), 0];
    const c0 = cpuTicks();
    await sleep(IDLE_MS);
    idle[1] = wallNow();
    const idleBusy = busyPct(c0, cpuTicks());

    const windows: [number, number][] = [];
    const reloadMs: number[] = [];
    const statusMs: number[] = [];
    let reloadTicks: [number, number] = [0, 0];
    const reload = async (file: string): Promise<[number, number]> => {
      const s = wallNow();
      const reply = await controlRequest(controlPath(instance), { cmd: 'reload', config: file }, 120_000);
      const e = wallNow();
      if (reply.ok !== true) throw new Error(`bench: reload to ${file} failed: ${JSON.stringify(reply).slice(0, 500)}`);
      return [s, e];
    };
    for (let i = 0; i < RELOADS; i++) {
      const c1 = cpuTicks();
      const [s, e] = await reload(big);
      reloadMs.push(e - s);
      await sleep(1000);
      const c2 = cpuTicks();
      reloadTicks = [reloadTicks[0] + c2[0] - c1[0], reloadTicks[1] + c2[1] - c1[1]];
      windows.push([s, e + 1000]);
      await sleep(2 * advertMs); // the adverts of the window's end have arrived
      const st = await vrrpState(instance);
      if (st !== 'MASTER') throw new Error(`bench: xlb ${st} after the reload`);
      // unmeasured for the jitter, back to VRRP only; status of the 1,000 services meanwhile
      let reloading = true;
      const asking = (async (): Promise<void> => {
        while (reloading) {
          const t = wallNow();
          await controlRequest(controlPath(instance), { cmd: 'status' });
          statusMs.push(wallNow() - t);
          await sleep(STATUS_EVERY_MS);
        }
      })();
      try {
        await reload(small);
      } finally {
        reloading = false;
        await asking;
      }
      await sleep(1000);
    }
    await cap.stop();
    log(`  jitter xlb ${advertMs} ms: status of 1,000 services during the reloads back to VRRP only, every ${STATUS_EVERY_MS} ms: ${statusMs.length} asked, max ${Math.round(Math.max(...statusMs))} ms`);
    const status = await controlRequest(controlPath(instance), { cmd: 'status' });
    const v = (status.vrrp as { becameMaster: number; state: string }[] | undefined)?.[0];
    if (v?.becameMaster !== 1) log(`  jitter xlb ${advertMs} ms: the instance became master ${v?.becameMaster} times (state ${v?.state})`);
    if (process.env.XLB_BENCH_VRRP_DUMP) writeFileSync(join(process.env.XLB_BENCH_VRRP_DUMP, `vrrp-jitter-${advertMs}.json`), JSON.stringify({ advertMs, idle, windows, rx: cap.rx, tx: cap.tx, daemonLog: dlog() }));

    const out: Jitter = {
      rx: { idle: deviations(cap.rx, [idle], advertMs), reload: deviations(cap.rx, windows, advertMs) },
      tx: cap.tx ? { idle: deviations(cap.tx, [idle], advertMs), reload: deviations(cap.tx, windows, advertMs) } : null,
      reloadMs,
      statusMs,
    };
    log(`  jitter xlb ${advertMs} ms: machine CPU busy ${idleBusy.toFixed(0)}% while idle, ${busyPct([0, 0], reloadTicks).toFixed(0)}% in the reload windows (${availableParallelism()} CPUs, all processes)`);
    log(`  jitter xlb ${advertMs} ms, receiver in c: idle ${summary(out.rx.idle)}; reloads (${reloadMs.map((x) => Math.round(x)).join(', ')} ms) ${summary(out.rx.reload)}`);
    log(`    worst idle ${worst(cap.rx, [idle], advertMs)}; worst in reloads ${worst(cap.rx, windows, advertMs)}`);
    if (out.tx && cap.tx) {
      log(`  jitter xlb ${advertMs} ms, a's egress (kernel stamps): idle ${summary(out.tx.idle)}; reloads ${summary(out.tx.reload)}`);
      log(`    worst idle ${worst(cap.tx, [idle], advertMs)}; worst in reloads ${worst(cap.tx, windows, advertMs)}`);
    }
    return out;
  } finally {
    await cap?.stop();
    if (daemon) await stopChild(daemon, 15_000);
    unloadInstance(instance);
    removeRunFiles(instance);
  }
}

/** keepalived alone as master on a, idle: the same instruments on the same machine, for reference. */
async function jitterKeepalived(lab: VrrpLab, advertMs: number, log: (s: string) => void): Promise<Omit<Jitter, 'reloadMs' | 'statusMs'>> {
  const pair = keepalivedPair(lab, advertMs);
  let cap: Capture | null = null;
  try {
    await pair.start('a', 200);
    await until('keepalived MASTER', async () => ((await pair.isMaster('a')) ? true : undefined), 10_000, 20);
    cap = await capture(lab, IDLE_MS + 30_000);
    const idle: [number, number] = [wallNow(), 0];
    const c0 = cpuTicks();
    await sleep(IDLE_MS);
    idle[1] = wallNow();
    const busy = busyPct(c0, cpuTicks());
    await sleep(2 * advertMs);
    await cap.stop();
    const out = { rx: { idle: deviations(cap.rx, [idle], advertMs), reload: [] }, tx: cap.tx ? { idle: deviations(cap.tx, [idle], advertMs), reload: [] } : null };
    log(`  jitter keepalived ${advertMs} ms idle (machine CPU busy ${busy.toFixed(0)}%): receiver ${summary(out.rx.idle)}${out.tx ? `; egress ${summary(out.tx.idle)}` : ''}`);
    return out;
  } finally {
    await cap?.stop();
    await pair.stop();
    await dropVip(lab, 'a').catch(() => undefined);
  }
}

// --- the bench ---------------------------------------------------------------

/** The HTTP servers of the failover client, on a and b, each answering with its node's name; the lab's down() stops them too. */
export async function startHttpBackends(lab: VrrpLab): Promise<ChildProcess[]> {
  const servers: ChildProcess[] = [];
  for (const n of ['a', 'b'] as const) {
    const s = lab.spawn(n, process.execPath, [HTTP_BACKEND, '--name', n, '--port', '80']);
    servers.push(s);
    await new Promise<void>((done, fail) => {
      const t = setTimeout(() => fail(new Error(`http-backend on ${n} did not start`)), 10_000);
      s.stdout!.once('data', () => {
        clearTimeout(t);
        done();
      });
      s.once('exit', (code) => fail(new Error(`http-backend on ${n} exited ${code}`)));
    });
  }
  return servers;
}

/** Run the VRRP benchmarks (root: namespaces, raw sockets, XDP). */
export async function benchVrrp(log: (s: string) => void): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const lab = await createVrrpLab(`xb${process.pid % 100000}`);
  const servers: ChildProcess[] = [];
  try {
    servers.push(...(await startHttpBackends(lab)));

    const ka = hasTool('keepalived', ['--version']);
    if (!ka) log('  keepalived not installed: its failover figures are not measured');
    const cases: { impl: 'xlb' | 'keepalived'; ms: number; tag: string; rounds: number }[] = [
      { impl: 'keepalived', ms: 1000, tag: '1s', rounds: ROUNDS_1S },
      { impl: 'xlb', ms: 1000, tag: '1s', rounds: ROUNDS_1S },
      { impl: 'keepalived', ms: 100, tag: '100ms', rounds: ROUNDS_FAST },
      { impl: 'xlb', ms: 100, tag: '100ms', rounds: ROUNDS_FAST },
      { impl: 'xlb', ms: 10, tag: '10ms', rounds: ROUNDS_FAST },
    ];
    for (const c of ONLY === 'jitter' ? [] : cases) {
      if (c.impl === 'keepalived' && !ka) continue;
      const pair = c.impl === 'xlb' ? xlbPair(lab, c.ms) : keepalivedPair(lab, c.ms);
      const res = await failover(lab, pair, c.ms, c.rounds, log);
      const times = res.map((x) => x.ms);
      const excess = res.flatMap((x) => (x.excess === undefined ? [] : [x.excess]));
      const vsKa = c.impl === 'xlb' && c.ms !== 10 && ka;
      const interval = c.ms >= 1000 ? `${c.ms / 1000} s` : `${c.ms} ms`;
      rows.push({ key: `failover_ms.${c.impl}_${c.tag}`, value: r1(median(times)), label: `VRRP failover, ${c.impl} pair, advert ${interval}: kill -9 -> first answer from the new master, ms, median of ${times.length}`, ...(vsKa ? { ratioTo: `failover_ms.keepalived_${c.tag}` } : {}) });
      rows.push({ key: `failover_max_ms.${c.impl}_${c.tag}`, value: r1(Math.max(...times)), label: `  the same, slowest of ${times.length}, ms` });
      rows.push({ key: `failover_min_ms.${c.impl}_${c.tag}`, value: r1(Math.min(...times)), label: `  the same, fastest of ${times.length}, ms` });
      if (excess.length === times.length) {
        rows.push({ key: `failover_excess_ms.${c.impl}_${c.tag}`, value: r1(median(excess)), label: `  the same, from a's last advert, minus the master-down interval (the phase taken out), ms, median`, ...(vsKa ? { ratioTo: `failover_excess_ms.keepalived_${c.tag}` } : {}) });
      }
    }

    for (const ms of ONLY === 'failover' ? [] : [100, 10]) {
      const j = await jitterXlb(lab, ms, log);
      const k = ka ? await jitterKeepalived(lab, ms, log) : null;
      const sfx = ms === 100 ? '' : `_${ms}ms`;
      const stat = (s: 'p50' | 'p99' | 'max', xs: number[]): number => r1(s === 'max' ? Math.max(...xs) : quantile(xs, s === 'p50' ? 0.5 : 0.99));
      const what = (when: 'idle' | 'reload', n: number): string => `${when === 'idle' ? `idle ${IDLE_MS / 1000} s` : `${RELOADS} reloads to 1,000 VIPs x 10 backends`}, ${n} gaps`;
      // the figures: a's egress (kernel stamps) when tcpdump is there, else the receiver in c
      const tx = j.tx !== null;
      const main = j.tx ?? j.rx;
      const kmain = k ? (k.tx ?? k.rx) : null;
      const how = tx ? "a's egress, kernel stamps" : 'receiver in c';
      for (const when of ['idle', 'reload'] as const) {
        for (const s of ['p50', 'p99', 'max'] as const) {
          const base = when === 'idle' && s !== 'p50' && kmain ? `advert_jitter_ms.keepalived_${s}_idle${sfx}` : undefined;
          rows.push({ key: `advert_jitter_ms.${s}_${when}${sfx}`, value: stat(s, main[when]), label: `xlb advert ${ms} ms, |gap - interval| ${s} (${how}; ${what(when, main[when].length)}), ms`, ...(base ? { ratioTo: base } : {}) });
        }
      }
      if (kmain) for (const s of ['p99', 'max'] as const) rows.push({ key: `advert_jitter_ms.keepalived_${s}_idle${sfx}`, value: stat(s, kmain.idle), label: `  keepalived advert ${ms} ms, the same ${s} (${how}; ${what('idle', kmain.idle.length)}), ms` });
      if (tx) {
        // the receiver in c as well: its user-space read times add its own wake-up stalls
        for (const when of ['idle', 'reload'] as const) for (const s of ['p99', 'max'] as const) rows.push({ key: `advert_jitter_rx_ms.${s}_${when}${sfx}`, value: stat(s, j.rx[when]), label: `  xlb advert ${ms} ms, ${s} ${when}, as the receiver in c read them (${j.rx[when].length} gaps), ms` });
        if (k) rows.push({ key: `advert_jitter_rx_ms.keepalived_p99_idle${sfx}`, value: stat('p99', k.rx.idle), label: `  keepalived advert ${ms} ms, p99 idle, as the receiver in c read them (${k.rx.idle.length} gaps), ms` });
      }
      rows.push({ key: `vrrp_reload_ms.1000_vips${sfx}`, value: Math.round(median(j.reloadMs)), label: `  xlb reload VRRP-only -> 1,000 VIPs x 10 backends (request -> reply), ms, median of ${j.reloadMs.length}` });
      if (j.statusMs.length) rows.push({ key: `status_ms.1000_vips_during_apply${sfx}`, value: Math.round(Math.max(...j.statusMs)), label: `  xlb status of 1,000 services asked every ${STATUS_EVERY_MS} ms during reloads from them to VRRP only (request -> reply), ms, worst of ${j.statusMs.length} (goal < 1,000)` });
    }
    return rows;
  } finally {
    for (const s of servers) await stopChild(s, 1000);
    await lab.down();
  }
}

export const VRRP_METHOD = `failover: a pair of one implementation in lab namespaces (a priority 200 master, b priority 100; VRRPv3, IPv4, one VIP, garp_master_delay 1 s x 2), HTTP servers on a and b answering with their node, a client in c opening a new connection to the VIP every ${CLIENT_EVERY_MS} ms; a's VRRP process SIGKILLed just after one of its adverts left a (tcpdump on a; the same phase for both implementations, the worst case: without tcpdump, a random phase) (xlb: the daemon; keepalived: its parent and VRRP child, both SIGSTOPped then SIGKILLed, since a parent killed alone makes the child resign with a priority-0 advert), time to the first answer from b, counted from a's last advert when tcpdump saw it (else from the kill): b's master-down interval (3 x interval + skew) less the phase, its gratuitous ARP, and up to ${CLIENT_EVERY_MS} ms of client granularity; a's VIP stays on a after kill -9 and a keeps answering until the ARP moves the client; failover_excess_ms: the same time counted from a's last advert (tcpdump stamp as it left a) minus the master-down interval. Median of ${ROUNDS_1S} rounds at 1 s and ${ROUNDS_FAST} at 100/10 ms, a restarted and preempting between rounds. Jitter: xlb alone as master on a, |gap - interval| of its adverts over ${IDLE_MS / 1000} s idle and over ${RELOADS} pooled windows from a reload request (VRRP-only -> + 1,000 VIPs x 10 backends, same limits) to 1 s after its reply; timestamps: the kernel's as each advert leaves a (tcpdump -Q out; advert_jitter_ms) and a raw-socket receiver in c at SCHED_FIFO (advert_jitter_rx_ms, includes the receiver's wake-up stalls); 100 ms is the main interval (the failover comparison's; 2 ms is 2% of it), 10 ms as _10ms keys; keepalived alone, idle, with the same instruments for reference. percentiles by nearest rank (over about 100 gaps, p99 is the largest or the second largest)`;
