/**
 * @module daemon/daemon
 * `xlb load`: the long-running control plane of one instance. Loads the XDP
 * program (reusing the maps a previous run pinned, so forwarding carries on
 * across restarts), applies the config, attaches to the interfaces through
 * pinned links, serves /metrics and the control socket, and reloads on SIGHUP
 * or `xlb reload`: validate all, then apply only the difference; a rejected
 * config changes nothing. Edge module: wiring of I/O.
 *
 * The XDP side exists only while the config names interfaces (every config
 * with services does; a VRRP-only config, keepalived -P's floating address,
 * or a BFD-only one, standalone sessions, has neither): without, no program
 * is loaded and nothing is pinned (pins a previous run left are removed at
 * start). A reload that adds interfaces
 * (and services) loads, pins and attaches the program; one that removes them
 * first deletes every VIP (forwarding stops at once), then detaches the
 * program and removes its pins, connection table included: services added
 * later start with an empty table, as after `xlb unload`. (A reload to
 * `services: []` that keeps the interfaces keeps the program and its pins.)
 */
import { existsSync, readdirSync, rmdirSync, rmSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { isIP, SocketAddress, type Server as NetServer } from 'node:net';
import { execFileSync } from 'node:child_process';
import type { Logger } from 'pino';
import { needsDataplane, type XlbConfig } from '../config/model.js';
import { BFD_DEFAULTS } from '../config/bfd-model.js';
import { XdpDataplane } from '../dataplane/xdp/xdp-dataplane.js';
import { native } from '../native/binding.js';
import { createMetrics, type XlbMetrics } from '../metrics/metrics.js';
import { Applier, type ApplyFailure } from './apply.js';
import { controlPath, serveControl, type ControlRequest } from './control.js';
import { planReconcile, planReconcileAsync, PlanError, ringSets } from './plan.js';
import { RingBuilder } from '../lb/ring-builder.js';
import { HealthRunner } from '../health/runner.js';
import type { VrrpInstanceStatus } from '../vrrp/runner.js';
import { NeighbourKeeper } from './neigh-keeper.js';
import { servicesStatus } from './status.js';
import { loadConfigOffThread } from './config-load.js';
import { kernelHz } from './kernel-hz.js';
import { Steering } from './steering.js';
import { VrrpHost } from '../vrrp/host.js';
import { vrrpSpec } from '../vrrp/from-config.js';
import { BfdHost } from '../bfd/host.js';
import { BfdCounterCarry } from '../bfd/counters.js';
import { bfdReflectPeers, bfdSpec } from '../bfd/from-config.js';
import { BFD_DIAG, BFD_DIAG_NAMES, BFD_STATE, BFD_STATE_NAMES } from '../bfd/spec.js';
import { resolveSessionSpec, type BfdRuntimeStatus, type BfdStateEvent } from '../bfd/runtime.js';
import { XlbError } from '../errors.js';
import { probeInterfaces } from '../io/veth-probe.js';
import { vethFindings, type VethFinding } from './veth-check.js';

/** Pause before a new VRRP worker replaces one that died. */
const VRRP_RESPAWN_MS = 1000;
/** Pause before a new BFD worker replaces one that died (its sessions start Down). */
const BFD_RESPAWN_MS = 1000;
/**
 * How long a peer whose `echo.reflect` went away (session still running) is
 * still reflected: its session first advertises Required Min Echo RX 0, in a
 * Poll, and the peer stops its echo once it has that packet (one transmit
 * interval; 1 s in slow start at worst); deleting the entry at once would
 * fail the echo it still sends and take its session down.
 */
const BFD_UNREFLECT_GRACE_MS = 3000;

/** What the main thread knows of a BFD session between status reads: the last state event. */
export interface BfdSessionView {
  /** AdminDown, Down, Init or Up. */
  state: string;
  /** bfd.LocalDiag, named. */
  diag: string;
}

/** bpffs root of the pins; one directory per instance below it. */
export function pinRoot(): string {
  return process.env.XLB_PIN_ROOT ?? '/sys/fs/bpf/xlb';
}

/** The pid file of an instance. */
export function pidPath(instance: string, runDir = process.env.XLB_RUN_DIR ?? '/run/xlb'): string {
  return `${runDir}/${instance}.pid`;
}

const BPF_FS_MAGIC = 0xcafe4a11;

/** Limits that cannot change without reloading the program (and losing its maps). */
function loadShape(c: XlbConfig): string {
  const l = c.limits;
  return JSON.stringify([l.maxVips, l.maxBackends, l.maxConns, l.maxConns6, l.maxNat, l.ringSize, l.connRateLimit, l.flowCache, l.nextHopCacheMs]);
}

/** Result of a reload, as `xlb reload` prints it. */
export interface ReloadReply {
  ok: boolean;
  errors?: string[];
  summary?: { added: string[]; removed: string[]; changed: string[]; unchanged: number };
  failures?: string[];
  /** waves of ring flips the change took, when more than one (more rings changed than slots were free) */
  waves?: number;
}

/** The XDP side of an instance: present while its config has interfaces. */
interface Forwarding {
  dp: XdpDataplane;
  applier: Applier;
}

/** A running instance. */
export class Daemon {
  readonly log: Logger;
  config: XlbConfig;
  /** the XDP program, its maps and what was written to them; null without interfaces */
  #fwd: Forwarding | null = null;
  readonly metrics: XlbMetrics;
  readonly pinDir: string;
  #http: Server | null = null;
  #control: NetServer | null = null;
  /** the tail of the one queue reloads and health reconciles run in */
  #queue: Promise<unknown> = Promise.resolve();
  /** services whose health changed and are not reconciled yet */
  readonly #healthDirty = new Set<string>();
  readonly health: HealthRunner;
  readonly #steering: Steering;
  /** the VRRP worker, while the config has VRRP instances */
  #vrrp: VrrpHost | null = null;
  /** the BFD worker, while the config has BFD sessions */
  #bfd: BfdHost | null = null;
  /** What crashed BFD workers counted: /metrics counters must not go back when a new one starts. */
  readonly #bfdCarry = new BfdCounterCarry();
  /** every configured session's last known state, from the worker's state events (health checks and VRRP tracking read it) */
  readonly #bfdSessions = new Map<string, BfdSessionView>();
  /** reflect peers (`xlb_bfd_peers`) to delete once their grace is over, by canonical address */
  readonly #unreflect = new Map<string, NodeJS.Timeout>();
  #stopping = false;
  #attached = new Set<string>();
  readonly #neigh = new NeighbourKeeper();
  /** what the last veth check found (daemon/veth-check.ts), for `xlb status` */
  #veth: VethFinding[] = [];
  /** the veth check running or last run; checks never overlap */
  #vethCheck: Promise<void> = Promise.resolve();
  readonly startedAt = Date.now();

  private constructor(config: XlbConfig, log: Logger, pinDir: string) {
    this.config = config;
    this.log = log;
    this.pinDir = pinDir;
    this.metrics = createMetrics({ dp: () => this.dp, services: () => this.#fwd?.applier.services.values() ?? [], quorumUp: (k) => this.health.quorumUp(k), vrrp: () => this.vrrpStatus(), bfd: () => this.bfdStatus() });
    // steering is asked for only by checks of services, so only with a data plane
    const fwd = (): XdpDataplane => {
      if (!this.#fwd) throw new XlbError('XLB_ERR_DAEMON_APPLY', 'health-check steering needs the data plane, which is not loaded (no interfaces)');
      return this.#fwd.dp;
    };
    const steeringDp = {
      attachSteering: (path: string, ifindex: number) => fwd().attachSteering(path, ifindex),
      setSteering: (mark: number, t: { backend: string; mode: 'dr' | 'tunnel'; inIfindex: number }) => fwd().setSteering(mark, t),
      deleteSteering: (mark: number) => fwd().deleteSteering(mark),
    };
    this.#steering = new Steering(steeringDp, pinDir, log.child({ area: 'health' }), (n) => native().ifNameToIndex(n), detachPinnedLink);
    this.health = new HealthRunner({ log: log.child({ area: 'health' }), observer: this.metrics.health, steering: this.#steering, bfd: { bfdSession: (name) => this.bfdSession(name) } });
    this.health.on('change', (keys: string[]) => this.#healthChanged(keys));
  }

  /** The XDP data plane; null while the config has no interfaces. */
  get dp(): XdpDataplane | null {
    return this.#fwd?.dp ?? null;
  }

  /** What was written to the data plane; null while the config has no interfaces. */
  get applier(): Applier | null {
    return this.#fwd?.applier ?? null;
  }

  /** Run `fn` after everything queued before it (reloads and health reconciles never interleave). */
  #enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#queue.then(fn, fn);
    this.#queue = p.catch(() => undefined);
    return p;
  }

  /**
   * A health change: reconcile the services it touched, at once when nothing
   * else runs (the same event-loop turn), else right after what runs.
   */
  #healthChanged(keys: string[]): void {
    const idle = this.#healthDirty.size === 0;
    for (const k of keys) this.#healthDirty.add(k);
    if (!idle) return; // a reconcile is queued and will take these too
    void this.#enqueue(async () => {
      const only = new Set(this.#healthDirty);
      this.#healthDirty.clear();
      const fwd = this.#fwd;
      if (!fwd) return; // no data plane (any more): nothing to reconcile
      let res;
      try {
        // more rings than free slots (a backend shared by many services): in waves, later plans queue behind
        res = await fwd.applier.applyWaves((view, deferred) => planReconcile(view, this.config, fwd.dp.ringSize, this.#limits(fwd.dp, this.config), this.health, deferred ?? only));
      } catch (err) {
        this.log.error({ err, services: [...only] }, 'health change not applied');
        return;
      }
      this.#reportFailures(res.failures);
      this.#countWaves(res.waves, res.summary, 'health change');
      this.log.debug({ ...res.summary, steps: res.steps, waves: res.waves }, 'health change applied');
    });
  }

  /** Count and log (at info) a change that took more than one wave of ring flips. */
  #countWaves(waves: number, summary: ReloadReply['summary'], what: string): void {
    if (waves <= 1) return;
    this.metrics.ringWaves.inc(waves - 1);
    this.log.info({ waves, changed: (summary?.changed.length ?? 0) + (summary?.added.length ?? 0) }, `${what}: more rings than free ring slots, applied in ${waves} waves`);
  }

  /** Count and log data-plane writes that failed. */
  #reportFailures(failures: readonly ApplyFailure[]): void {
    this.metrics.updateFailures.inc(failures.length);
    for (const f of failures) this.log.warn({ err: f.err, step: f.step, what: f.what }, 'data-plane write failed');
  }

  #limits(dp: XdpDataplane, config: XlbConfig): { maxVips: number; maxBackends: number; maxRings: number } {
    return { maxVips: config.limits.maxVips, maxBackends: config.limits.maxBackends, maxRings: dp.maxRings };
  }

  /**
   * Start an instance from a validated config.
   * @throws XlbError (ABI mismatch, plan does not fit), SystemError (kernel)
   */
  static async start(config: XlbConfig, log: Logger): Promise<Daemon> {
    const pinDir = `${pinRoot()}/${config.instance}`;
    const d = new Daemon(config, log, pinDir);
    try {
      if (needsDataplane(config)) {
        await d.#loadDataplane(config);
      } else if (existsSync(pinDir)) {
        // a previous run's program, maps and links: this config forwards nothing
        const gone = unloadInstance(config.instance);
        log.info({ links: gone.links, maps: gone.maps.length }, 'no interfaces: the XDP program a previous run left is detached and its pins removed');
      }
      d.#neigh.start();
      // backends the pinned maps hold down stay down until their checks pass
      const down = new Set<string>();
      for (const s of d.#fwd?.applier.services.values() ?? []) for (const b of s.backends) if (!b.up) down.add(`${s.key} ${b.key}`);
      d.#steering.sync(config);
      d.health.sync(config, (svc, be) => down.has(`${svc} ${be}`));
      const reply = await d.#apply(config);
      if (!reply.ok) throw new XlbError('XLB_ERR_DAEMON_APPLY', `config not applied: ${[...(reply.errors ?? []), ...(reply.failures ?? [])].join('; ')}`);
      d.#attachAll(config);
      await d.#checkVeth(config);
      if (!d.#fwd) log.info('no interfaces: no XDP program loaded, nothing pinned');
      await d.#syncBfd(config);
      d.#syncVrrp(config);
      d.#startHttp();
      d.#control = serveControl(controlPath(config.instance), (req) => d.#handle(req));
      writeFileSync(pidPath(config.instance), `${process.pid}\n`);
      return d;
    } catch (err) {
      await d.stop();
      throw err;
    }
  }

  /**
   * Load the XDP program with a config's limits, reusing the maps a previous
   * run pinned (their services are then recovered).
   * @throws XlbError (no bpffs, ABI mismatch), SystemError (kernel)
   */
  async #loadDataplane(config: XlbConfig): Promise<void> {
    const root = pinRoot();
    const fsRoot = root.split('/').slice(0, 4).join('/'); // /sys/fs/bpf
    const isBpffs = (): boolean => {
      try {
        return statfsSync(fsRoot).type === BPF_FS_MAGIC;
      } catch {
        return false;
      }
    };
    if (!isBpffs() && existsSync(fsRoot)) {
      // a machine that never mounted it (systemd does; minimal images may not)
      try {
        execFileSync('mount', ['-t', 'bpf', 'bpf', fsRoot], { stdio: 'ignore' });
        this.log.info({ path: fsRoot }, 'mounted bpffs');
      } catch {
        /* reported below */
      }
    }
    if (!isBpffs()) {
      throw new XlbError('XLB_ERR_DAEMON_BPFFS', `${fsRoot} is not a mounted bpffs: mount it (mount -t bpf bpf ${fsRoot}); under \`ip netns exec\` use \`nsenter --net=/var/run/netns/NAME\` instead, which keeps the host's bpffs`);
    }
    const l = config.limits;
    // the config's rings are built while the kernel verifies the program
    // (half a second on one CPU): only their backend ids are put in later
    const rings = new RingBuilder();
    rings.prebuild(ringSets(config, this.health), l.ringSize);
    const dp = await XdpDataplane.loadAsync({
      maxVips: l.maxVips,
      maxBackends: l.maxBackends,
      maxConns: l.maxConns,
      maxConns6: l.maxConns6,
      maxNat: l.maxNat,
      ringSize: l.ringSize,
      connRateLimit: l.connRateLimit,
      flowCache: l.flowCache,
      nhCacheJiffies: Math.round((l.nextHopCacheMs * kernelHz()) / 1000),
      pinDir: this.pinDir,
    }).catch(async (err: unknown) => {
      await rings.close();
      throw err;
    });
    const applier = new Applier(dp, Date.now, rings);
    applier.onLateFailures = (fs) => this.#reportFailures(fs);
    if (dp.reusedMaps.length) {
      let ringsKept: number;
      try {
        applier.recover();
        // rings the config still asks for stay where they are (no rewrite in waves)
        ringsKept = await applier.adoptRecovered(config, this.health);
      } catch (err) {
        await applier.close();
        dp.close();
        throw err;
      }
      this.log.info({ maps: dp.reusedMaps.length, services: applier.services.size, ringsKept }, 'reusing pinned maps: forwarding state kept');
    }
    this.#fwd = { dp, applier };
    if (!dp.reusedMaps.length) {
      this.log.info({ pinDir: this.pinDir }, 'XDP program loaded');
    }
  }

  /**
   * Take the XDP side away (the config has no interfaces left): detach the
   * program from every interface, close it and remove every pin of the
   * instance, maps (connection table included) and links.
   */
  async #unloadDataplane(): Promise<void> {
    const fwd = this.#fwd;
    if (!fwd) return;
    this.#attachAll({ ...this.config, interfaces: [] });
    this.#fwd = null;
    await fwd.applier.close();
    fwd.dp.close();
    const gone = unloadInstance(this.config.instance);
    this.log.info({ links: gone.links, maps: gone.maps.length }, 'no interfaces: XDP program detached and unloaded, its pins removed');
  }

  /**
   * Attach to the configured interfaces not attached yet; detach the ones
   * that left.
   */
  #attachAll(config: XlbConfig): void {
    const want = new Set(config.interfaces.map((i) => i.name));
    for (const i of config.interfaces) {
      if (this.#attached.has(i.name)) continue;
      const dp = this.dp;
      if (!dp) throw new XlbError('XLB_ERR_DAEMON_APPLY', `cannot attach to ${i.name}: the XDP program is not loaded`);
      const ifindex = native().ifNameToIndex(i.name);
      const how = dp.attach(`${this.pinDir}/link_${i.name}`, ifindex, i.xdpMode);
      this.#attached.add(i.name);
      this.log.info({ ifname: i.name, ifindex, mode: i.xdpMode, how }, how === 'updated' ? 'XDP program replaced on a pinned link' : 'XDP program attached');
    }
    for (const name of [...this.#attached]) {
      if (want.has(name)) continue;
      detachPinnedLink(`${this.pinDir}/link_${name}`);
      this.#attached.delete(name);
      this.log.info({ ifname: name }, 'XDP program detached');
    }
  }

  /**
   * XDP on veth fails silently without GRO on the peer or with transmit
   * checksum offload on it: log each interface's findings once, with the
   * fix, and keep them for `xlb status`. A failed check is logged, never
   * fatal. `xlb load` waits for the first check; a reload replies first and
   * status shows the new findings once the check is done.
   */
  #checkVeth(config: XlbConfig): Promise<void> {
    this.#vethCheck = this.#vethCheck.then(() => this.#runVethCheck(config));
    return this.#vethCheck;
  }

  async #runVethCheck(config: XlbConfig): Promise<void> {
    if (this.#stopping) return;
    let found: VethFinding[];
    try {
      const backends = [...new Set(config.services.flatMap((svc) => svc.backends.map((b) => b.address)))];
      found = vethFindings(await probeInterfaces(config.interfaces.map((i) => i.name), { egressTo: backends }));
    } catch (err) {
      this.log.warn({ err }, 'veth check failed: GRO and checksum offload of the veth peers not checked');
      return;
    }
    const old = new Set(this.#veth.map((f) => JSON.stringify(f)));
    this.#veth = found;
    for (const f of found) {
      if (old.has(JSON.stringify(f))) continue; // said at start or an earlier reload
      const fields = { area: 'veth', ifname: f.interface, peer: f.peer, netns: f.netns, problems: f.problems, fix: f.fix };
      if (f.level === 'warning') this.log.warn(fields, f.message);
      else this.log.info(fields, f.message);
    }
  }

  #startHttp(): void {
    const { host, port } = this.config.metrics;
    this.#http = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url !== '/metrics' && !req.url?.startsWith('/metrics?'))) {
        res.writeHead(404).end('not found: try /metrics\n');
        return;
      }
      this.metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(`${err.message}\n`),
      );
    });
    this.#http.on('error', (err) => this.log.error({ err }, 'metrics listener failed'));
    this.#http.listen(port, host, () => this.log.info({ host, port }, 'metrics on /metrics'));
  }

  /** Plan and apply a config on the data plane; without one (no interfaces, so no services), nothing to do. */
  async #apply(config: XlbConfig): Promise<ReloadReply> {
    const fwd = this.#fwd;
    if (!fwd) {
      this.#neigh.set([]);
      return { ok: true, summary: { added: [], removed: [], changed: [], unchanged: 0 }, failures: [] };
    }
    const t0 = performance.now();
    let res;
    try {
      // the first wave's plan validates all (ids, a spare ring slot): a PlanError there changed nothing
      res = await fwd.applier.applyWaves((view, deferred) =>
        planReconcileAsync(view, config, fwd.dp.ringSize, this.#limits(fwd.dp, config), () => new Promise((resolve) => setImmediate(resolve)), 20, this.health, deferred),
      );
    } catch (err) {
      if (err instanceof PlanError) return { ok: false, errors: [err.message] };
      throw err;
    }
    this.#neigh.set([...fwd.applier.services.values()].flatMap((s) => s.backends.map((b) => b.address)));
    this.#reportFailures(res.failures);
    this.#countWaves(res.waves, res.summary, 'config');
    this.log.info({ ...res.summary, steps: res.steps, waves: res.waves, ms: Math.round(performance.now() - t0) }, 'config applied');
    return { ok: res.ok, summary: res.summary, failures: res.failures.map((f) => `${f.what}: ${f.err.message}`), ...(res.waves > 1 ? { waves: res.waves } : {}) };
  }

  /**
   * Reload from a file (the running one by default): validate everything,
   * then apply the difference. A rejected config changes nothing.
   */
  reload(path = this.config.file): Promise<ReloadReply> {
    const run = async (): Promise<ReloadReply> => {
      const res = await loadConfigOffThread(path); // a large file is parsed off the event loop
      if (!res.ok) {
        this.metrics.reloads.inc({ result: 'failure' });
        const errors = res.errors.map((e) => e.message);
        this.log.error({ errors }, 'reload rejected: the running config stays');
        return { ok: false, errors };
      }
      const next = res.config;
      const refuse = (why: string): ReloadReply => {
        this.metrics.reloads.inc({ result: 'failure' });
        this.log.error({ why }, 'reload rejected: the running config stays');
        return { ok: false, errors: [why] };
      };
      if (next.instance !== this.config.instance) return refuse(`instance changed (${this.config.instance} -> ${next.instance}): start a new daemon instead`);
      const wantDp = needsDataplane(next);
      // limits size the maps: they can change freely while there are none
      if (this.#fwd && wantDp && loadShape(next) !== loadShape(this.config)) return refuse('limits changed: they size the maps, so they need `xlb unload` and a new `xlb load` (which drops the connection table)');
      if (next.metrics.host !== this.config.metrics.host || next.metrics.port !== this.config.metrics.port) return refuse('metrics.listen changed: restart the daemon to move it');
      try {
        for (const i of next.interfaces) native().ifNameToIndex(i.name);
      } catch (err) {
        return refuse(`interface: ${(err as Error).message}`);
      }
      // the runtime's own checks, here, so that its refusal cannot come after the commit
      try {
        for (const s of next.bfd ? bfdSpec(next.bfd).sessions : []) resolveSessionSpec(s);
      } catch (err) {
        return refuse(`bfd: ${(err as Error).message}`);
      }
      // the first interfaces: load the program (attached below, once applied)
      const loaded = wantDp && !this.#fwd;
      if (loaded) {
        try {
          await this.#loadDataplane(next);
        } catch (err) {
          unloadInstance(next.instance); // what the failed load pinned
          return refuse(`XDP program: ${(err as Error).message}`);
        }
      }
      const undoLoad = async (): Promise<void> => {
        if (loaded) await this.#unloadDataplane();
      };
      try {
        this.#steering.sync(next);
      } catch (err) {
        this.#steering.sync(this.config);
        await undoLoad();
        return refuse(`health-check steering: ${(err as Error).message}`);
      }
      // the checks of the new config first: the plan asks them about new backends
      this.health.sync(next);
      this.#healthDirty.clear(); // this plan covers every service
      // with no interfaces (so no services) left this plan deletes every VIP: forwarding stops here
      const reply = await this.#apply(next);
      if (!reply.ok && reply.errors) {
        this.health.sync(this.config);
        this.#steering.sync(this.config);
        await undoLoad();
        this.metrics.reloads.inc({ result: 'failure' });
        return reply;
      }
      this.config = next;
      this.#attachAll(next);
      if (!wantDp) await this.#unloadDataplane();
      void this.#checkVeth(next); // after the reply: one route lookup per backend takes ~30 us
      await this.#syncBfd(next);
      this.#syncVrrp(next);
      this.metrics.reloads.inc({ result: reply.ok ? 'success' : 'failure' });
      return reply;
    };
    return this.#enqueue(run);
  }

  /** Start, reload or stop the VRRP worker for a config. */
  #syncVrrp(config: XlbConfig): void {
    const spec = config.vrrp && config.vrrp.instances.length > 0 ? vrrpSpec(config.vrrp) : undefined;
    if (!spec) {
      const host = this.#vrrp;
      this.#vrrp = null;
      if (host) void host.stop();
      return;
    }
    if (!this.#vrrp) {
      const host = new VrrpHost(this.log);
      host.on('state', (instance: string, state: string, reason: string) => this.log.warn({ area: 'vrrp', instance, state, reason }, `vrrp ${instance}: ${state}`));
      // as keepalived's parent respawns its VRRP child: a new worker after a
      // second (its instances start in BACKUP and drop leftover addresses)
      host.on('crashed', () => {
        if (this.#vrrp !== host) return;
        this.#vrrp = null;
        setTimeout(() => {
          if (!this.#vrrp && !this.#stopping) this.#syncVrrp(this.config);
        }, VRRP_RESPAWN_MS).unref();
      });
      this.#vrrp = host;
      // what the sessions are now, before the instances start (track_bfd)
      for (const [name, v] of this.#bfdSessions) host.bfdState(name, v.state === BFD_STATE_NAMES[BFD_STATE.UP]);
    }
    this.#vrrp.apply(spec);
  }

  /**
   * Start, reload or stop the BFD worker for a config. Sessions are matched
   * by name: the runtime leaves unchanged ones alone, renegotiates changed
   * timers with Poll/Final, and sends AdminDown on removed ones.
   */
  async #syncBfd(config: XlbConfig): Promise<void> {
    // the entries first, so that an advertised Required Min Echo RX is always reflected
    this.#syncBfdPeers(config);
    const spec = config.bfd && config.bfd.instances.length > 0 ? bfdSpec(config.bfd, this.#fwd !== null) : undefined;
    const names = new Set(spec?.sessions.map((s) => s.name) ?? []);
    for (const name of [...this.#bfdSessions.keys()]) if (!names.has(name)) this.#bfdSessions.delete(name);
    this.#bfdCarry.retain(names);
    // a new session starts Down (RFC 5880 §6.8.1)
    for (const name of names) if (!this.#bfdSessions.has(name)) this.#bfdSessions.set(name, { state: BFD_STATE_NAMES[BFD_STATE.DOWN], diag: BFD_DIAG_NAMES[BFD_DIAG.NONE] });
    if (!spec) {
      // not awaited: the sessions say AdminDown for a while (up to 5 s to a dead peer), the reload is done
      const host = this.#bfd;
      this.#bfd = null;
      if (host) {
        // the runtime-wide totals (drops, received) go on if sessions come back later
        this.#bfdCarry.absorb(host.lastStatus);
        this.#bfdCarry.retain(names);
        void host.stop();
      }
      return;
    }
    if (!this.#bfd) {
      // own echo needs the pinned slots XDP timestamps returning echoes in (the config refuses echo without interfaces)
      const host = new BfdHost(this.log, this.#fwd ? { echoMap: `${this.pinDir}/xlb_bfd_echo` } : {});
      host.on('state', (e: BfdStateEvent) => {
        if (this.#bfd === host) this.#bfdStateChanged(e);
      });
      host.on('crashed', () => {
        if (this.#bfd !== host) return;
        this.#bfd = null;
        this.#bfdCarry.absorb(host.lastStatus);
        for (const [name, v] of this.#bfdSessions) {
          const down = BFD_STATE_NAMES[BFD_STATE.DOWN];
          if (v.state !== down) this.#bfdStateChanged({ session: name, from: v.state, to: down, state: BFD_STATE.DOWN, diag: BFD_DIAG.NONE, diagName: BFD_DIAG_NAMES[BFD_DIAG.NONE], reason: 'bfd worker exited', at: 0 });
        }
        setTimeout(() => {
          if (!this.#bfd && !this.#stopping) void this.#syncBfd(this.config);
        }, BFD_RESPAWN_MS).unref();
      });
      this.#bfd = host;
    }
    try {
      await this.#bfd.apply(spec, config.bfd?.rtPriority ?? BFD_DEFAULTS.rtPriority);
    } catch (err) {
      // the reload checked the spec with the runtime's own checks: a worker that has gone or hangs
      this.log.error({ err, area: 'bfd' }, 'bfd sessions not applied');
    }
  }

  /**
   * `xlb_bfd_peers` as the config's `echo.reflect` says: the neighbour of
   * each such session reflected, every other entry (a previous run's pins
   * too) deleted after {@link BFD_UNREFLECT_GRACE_MS}. Nothing without a
   * data plane (the config refuses echo without interfaces; unloading
   * removes the map).
   */
  #syncBfdPeers(config: XlbConfig): void {
    const dp = this.#fwd?.dp;
    if (!dp) {
      for (const t of this.#unreflect.values()) clearTimeout(t);
      this.#unreflect.clear();
      return;
    }
    const want = new Set(bfdReflectPeers(config.bfd).map(canonicalAddr));
    const have = new Map(dp.bfdPeers().map((p) => [canonicalAddr(p.addr), p.reflect]));
    for (const addr of want) {
      const t = this.#unreflect.get(addr);
      if (t) clearTimeout(t);
      this.#unreflect.delete(addr);
      if (have.get(addr) === true) continue;
      dp.setBfdPeer(addr, { reflect: true });
      this.log.info({ area: 'bfd', peer: addr }, `bfd: echo of ${addr} reflected in XDP`);
    }
    for (const addr of have.keys()) {
      if (want.has(addr) || this.#unreflect.has(addr)) continue;
      const t = setTimeout(() => {
        this.#unreflect.delete(addr);
        if (this.#fwd?.dp !== dp) return;
        dp.deleteBfdPeer(addr);
        this.log.info({ area: 'bfd', peer: addr }, `bfd: echo of ${addr} no longer reflected`);
      }, BFD_UNREFLECT_GRACE_MS);
      t.unref();
      this.#unreflect.set(addr, t);
    }
  }

  /** A session changed state: remember it and tell who follows it. */
  #bfdStateChanged(e: BfdStateEvent): void {
    if (!this.#bfdSessions.has(e.session)) return; // removed by a reload, draining
    this.#bfdSessions.set(e.session, { state: e.to, diag: e.diagName });
    const level = e.to === 'Up' || e.from === 'Up' ? 'warn' : 'info';
    this.log[level]({ area: 'bfd', session: e.session, from: e.from, to: e.to, diag: e.diagName, reason: e.reason }, `bfd ${e.session}: ${e.from} -> ${e.to}`);
    this.health.bfdChanged(e.session);
    this.#vrrp?.bfdState(e.session, e.to === BFD_STATE_NAMES[BFD_STATE.UP], e.diagName);
  }

  /** A BFD session's last known state; undefined for a name the config does not define. */
  bfdSession(name: string): BfdSessionView | undefined {
    return this.#bfdSessions.get(name);
  }

  /** BFD sessions and counters for `xlb status` and metrics (empty without BFD). */
  async bfdStatus(): Promise<BfdRuntimeStatus | undefined> {
    return this.#bfdCarry.apply(this.#bfd ? await this.#bfd.status() : undefined);
  }

  /** VRRP instances for `xlb status` and metrics (empty without VRRP). */
  vrrpStatus(): Promise<VrrpInstanceStatus[]> {
    return this.#vrrp ? this.#vrrp.status() : Promise.resolve([]);
  }

  /** What `xlb status` shows. */
  async status(): Promise<Record<string, unknown>> {
    const vrrp = await this.vrrpStatus();
    const bfd = await this.bfdStatus();
    const fwd = this.#fwd;
    // in slices, the loop served in between (daemon/status.ts); services only with a data plane
    const services = fwd
      ? await servicesStatus({
          services: () => fwd.applier.services.values(),
          vipStats: (id) => fwd.dp.vipStats(id),
          backendStats: (id) => fwd.dp.backendStats(id),
          health: (key) => this.health.status(key),
          quorumUp: (key) => this.health.quorumUp(key),
          sorryActive: (key) => this.health.sorryActive(key),
        })
      : [];
    return {
      ...(vrrp.length ? { vrrp } : {}),
      ...(bfd ? { bfd } : {}),
      ok: true,
      instance: this.config.instance,
      pid: process.pid,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      config: this.config.file,
      // the XDP program: loaded and pinned while there are interfaces
      xdp: fwd ? { loaded: true, pins: this.pinDir } : { loaded: false },
      interfaces: [...this.#attached],
      veth: this.#veth,
      steering: this.#steering.devices,
      services,
    };
  }

  async #handle(req: ControlRequest): Promise<unknown> {
    if (req.cmd === 'status') return this.status();
    if (req.cmd === 'reload') return this.reload(req.config ?? this.config.file);
    return { ok: false, error: `unknown command ${JSON.stringify((req as { cmd: unknown }).cmd)}` };
  }

  /**
   * Stop the control plane. The XDP program stays attached through its pinned
   * links and keeps forwarding with the pinned maps; `xlb unload` removes them.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    // VRRP first: masters resign (priority 0) and give their addresses up
    await this.#vrrp?.stop();
    this.#vrrp = null;
    // then BFD: every session AdminDown, so peers do not count it as a failure (RFC 5880 §6.8.16)
    await this.#bfd?.stop();
    this.#bfd = null;
    this.health.stop();
    this.#neigh.stop();
    await this.#fwd?.applier.close();
    // reflection the config took away: gone now, not after the grace (the sessions said AdminDown)
    for (const [addr, t] of this.#unreflect) {
      clearTimeout(t);
      this.#fwd?.dp.deleteBfdPeer(addr);
    }
    this.#unreflect.clear();
    await new Promise<void>((resolve) => (this.#http ? this.#http.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (this.#control ? this.#control.close(() => resolve()) : resolve()));
    this.#http = null;
    this.#control = null;
    for (const p of [controlPath(this.config.instance), pidPath(this.config.instance)]) {
      try {
        unlinkSync(p);
      } catch {
        /* already gone */
      }
    }
    this.#fwd?.dp.close();
  }
}

/** Canonical text of an IP address (inet_pton then inet_ntop), to compare map keys with config addresses. */
function canonicalAddr(address: string): string {
  return new SocketAddress({ address, family: isIP(address) === 6 ? 'ipv6' : 'ipv4' }).address;
}

/** Detach the XDP program behind a pinned link and remove the pin. */
export function detachPinnedLink(path: string): void {
  const link = native().BpfLink.fromPin(path);
  try {
    link.detach();
    link.unpin();
  } finally {
    link.close();
  }
}

/**
 * `xlb unload`: detach every pinned link of an instance and remove its pins.
 * @returns what was removed
 */
export function unloadInstance(instance: string): { links: string[]; maps: string[] } {
  const dir = `${pinRoot()}/${instance}`;
  const out = { links: [] as string[], maps: [] as string[] };
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const path = `${dir}/${name}`;
    if (name.startsWith('link_')) {
      try {
        detachPinnedLink(path);
      } catch {
        rmSync(path, { force: true });
      }
      out.links.push(name.slice(5));
    } else {
      rmSync(path, { force: true });
      out.maps.push(name);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  try {
    rmdirSync(pinRoot()); // the last instance leaves no empty directory behind
  } catch {
    /* other instances remain */
  }
  return out;
}
