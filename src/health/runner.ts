/**
 * @module health/runner
 * Runs the health checks of a config: one timer per check, its probe, and the
 * state machines (health/fsm.ts) that turn results into what the data plane
 * should hold. The daemon reads that through {@link HealthRunner.backend} and
 * {@link HealthRunner.sorryActive} (the planner's HealthSource) and is told of
 * every change with a `change` event, emitted synchronously from the result
 * that caused it, so the reconcile starts in the same event-loop turn.
 *
 * Reload: {@link HealthRunner.sync} keeps the state, timers and probes of every
 * check whose spec and target did not change, also when the backend's other
 * checks or its weight changed (the check's slot moves to the backend's new
 * entry); a new or changed check starts afresh, and on a down backend it
 * starts down, up after its first successful round (keepalived's alpha).
 *
 * Layer: runner (H-29): owns timers, probes and child processes; never throws
 * from a timer; reports through events and the injected log.
 */
import { EventEmitter } from 'node:events';
import { spawnDetached } from '../spawn-detached.js';
import type { ResolvedCommand } from '../security/command.js';
import type { Logger } from 'pino';
import type { ServiceConfig, XlbConfig } from '../config/model.js';
import { backendKey, serviceKey } from '../config/model.js';
import type { HealthSource } from '../daemon/plan.js';
import { BackendFsm, QuorumFsm, sumLiveWeight, type BackendDesire, type BackendEvent, type CheckFsm, type QuorumEvent } from './fsm.js';
import type { BackendHealthSpec, CheckSpec, SorryServerSpec } from './spec.js';
import type { Probe, ProbeResult, ProbeTarget } from './probes/types.js';
import { createProbe, type BfdSessionSource } from './probes/index.js';
import { FailingProbe } from './probes/tcp.js';
import { DueQueue } from './due-queue.js';

/** Well-known ports of checks on an all-ports service with no port of their own. */
/**
 * Most attempts started in one turn of the event loop. At 10,000 checks a
 * second about 10 are due per millisecond; a larger backlog means the loop
 * fell behind, and reading the answers of the attempts in flight comes first.
 */
const WAKE_BATCH = 256;

const DEFAULT_PORTS: Partial<Record<CheckSpec['type'], number>> = { http: 80, https: 443, dns: 53, smtp: 25 };

/** What the runner reports per attempt and transition (the daemon's metrics). */
export interface HealthObserver {
  /** One attempt finished. */
  attempt?(type: CheckSpec['type'], result: ProbeResult): void;
  /** A backend went up or down. */
  backend?(service: string, backend: string, up: boolean, reason: string): void;
  /** A service's quorum was gained or lost. */
  quorum?(service: string, up: boolean): void;
}

/**
 * Marks for checks with `target: vip`: the data plane steers packets with the
 * mark to the backend the way the VIP's traffic goes (the daemon's
 * implementation writes xlb_hc_targets).
 */
export interface HealthSteering {
  /**
   * A mark steering to `backend` as a service of `mode` does.
   * @throws when no mark is free or the data plane refused
   */
  acquire(backend: string, mode: 'dr' | 'tunnel'): number;
  /** The mark is no longer used. */
  release(mark: number): void;
}

/** Injected dependencies of a {@link HealthRunner}. */
export interface HealthRunnerOptions {
  log: Logger;
  /** Monotonic ms; default performance.now. */
  now?: () => number;
  /** [0, 1), for warmups; default Math.random. */
  rng?: () => number;
  /** Where `type: bfd` checks read their session's state (the daemon); passed to the default createProbe. */
  bfd?: BfdSessionSource;
  /** Builds the probe of one check; default probes/index.ts createProbe. */
  createProbe?: (spec: CheckSpec, target: ProbeTarget) => Probe;
  /** Runs a notify / quorum command without waiting for it; default spawn, detached, output ignored, from the path and as the user the load resolved. */
  runCommand?: (cmd: ResolvedCommand, env: Record<string, string>) => void;
  observer?: HealthObserver;
  /** Steering of `target: vip` checks; without it they fail every attempt (io). */
  steering?: HealthSteering;
}

/** One backend of one service under checks. */
interface BackendEntry {
  readonly service: string;
  readonly key: string;
  /** digest of the health spec, weight and targets: same digest, same entry on reload */
  readonly digest: string;
  readonly spec: BackendHealthSpec;
  readonly fsm: BackendFsm;
  /** one per check, in the order of spec.checks */
  readonly slots: CheckSlot[];
  ramp: NodeJS.Timeout | undefined;
  desire: BackendDesire;
}

/**
 * One running check: its state machine, probe and timer. A slot outlives its
 * backend entry when a reload changes the backend's other checks but not this
 * one: it moves to the new entry (owner, index) with its state and schedule.
 */
interface CheckSlot {
  /** digest of the check's spec and target: equal digests, same slot on reload */
  readonly digest: string;
  readonly check: CheckFsm;
  readonly probe: Probe;
  /** the steering mark of a `target: vip` check */
  readonly mark: number | undefined;
  owner: BackendEntry;
  index: number;
  /** when the next attempt is due (in the runner's queue while `queued`) */
  dueAt: number;
  queued: boolean;
  busy: boolean;
  /** stopped: results and timers are ignored */
  dead: boolean;
}

/** One service's backends and quorum. */
interface ServiceEntry {
  readonly key: string;
  name: string;
  quorum: QuorumFsm;
  quorumUp?: ResolvedCommand;
  quorumDown?: ResolvedCommand;
  sorry?: SorryServerSpec;
  readonly backends: Map<string, BackendEntry>;
}

/** A backend's health as `xlb status` shows it. */
export interface BackendHealthStatus {
  backend: string;
  state: 'up' | 'drain' | 'down';
  weight: number;
  reason: string;
  checks: { type: string; state: string; reason: string; last?: { ok: boolean; reason?: string; detail?: string; ageMs: number } }[];
}

const digestReplacer = (_k: string, v: unknown): unknown => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v);

/**
 * The health checks of one daemon.
 * Events: `change` (serviceKeys: string[]) when what the data plane should
 * hold changed for those services.
 */
export class HealthRunner extends EventEmitter implements HealthSource {
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #rng: () => number;
  readonly #createProbe: (spec: CheckSpec, target: ProbeTarget) => Probe;
  readonly #runCommand: (cmd: ResolvedCommand, env: Record<string, string>) => void;
  readonly #observer: HealthObserver;
  readonly #steering: HealthSteering | undefined;
  readonly #services = new Map<string, ServiceEntry>();
  /** every check's next attempt: one timer for all of them (due-queue.ts says why) */
  readonly #due = new DueQueue<CheckSlot>();
  /** the timer of the earliest due attempt, and when it fires */
  #wake: NodeJS.Timeout | undefined;
  #wakeAt = Infinity;
  #stopped = false;

  constructor(opts: HealthRunnerOptions) {
    super();
    this.#log = opts.log;
    this.#now = opts.now ?? (() => performance.now());
    this.#rng = opts.rng ?? Math.random;
    const bfd = opts.bfd;
    this.#createProbe = opts.createProbe ?? ((spec, target) => createProbe(spec, target, bfd ? { bfd } : {}));
    this.#runCommand = opts.runCommand ?? defaultRunCommand(opts.log);
    this.#observer = opts.observer ?? {};
    this.#steering = opts.steering;
  }

  /** Number of checks running. */
  get checkCount(): number {
    let n = 0;
    for (const s of this.#services.values()) for (const b of s.backends.values()) n += b.slots.length;
    return n;
  }

  /**
   * Bring the checks in line with a config: start new ones, stop removed
   * ones, keep unchanged ones as they are.
   * @param config the validated config
   * @param wasDown backends the data plane held down (after a restart): they start down
   */
  sync(config: XlbConfig, wasDown: (service: string, backend: string) => boolean = () => false): void {
    const now = this.#now();
    const wanted = new Set<string>();
    for (const svc of config.services) {
      const skey = serviceKey(svc);
      wanted.add(skey);
      const old = this.#services.get(skey);
      const backends = new Map<string, BackendEntry>();
      const keep = new Set<string>();
      for (const b of svc.backends) {
        const bkey = backendKey(b);
        const targetPort = b.port || svc.port;
        const digest = JSON.stringify([b.health, b.weight, b.address, targetPort, svc.address, svc.mode], digestReplacer);
        const prev = old?.backends.get(bkey);
        if (prev && prev.digest === digest) {
          backends.set(bkey, prev);
          keep.add(bkey);
          continue;
        }
        const startDown = prev ? !prev.fsm.up : wasDown(skey, bkey);
        backends.set(bkey, this.#startBackend(svc, skey, bkey, b.address, targetPort, b.health, b.weight, digest, startDown, now, prev));
      }
      for (const [bkey, prev] of old?.backends ?? []) if (!keep.has(bkey)) this.#stopBackend(prev);
      const weights = svc.backends.map((b) => b.weight);
      const live = sumLiveWeight([...backends.values()].map((e) => e.fsm));
      let quorum: QuorumFsm;
      if (old) {
        quorum = old.quorum;
        quorum.reconfigure(now, svc.health, weights, live, svc.sorryServer);
      } else {
        quorum = new QuorumFsm({ spec: svc.health, configuredWeights: weights, liveWeight: live, now, sorry: svc.sorryServer, label: `${svc.name} quorum`, trace: (l) => this.#log.info(l) });
      }
      this.#services.set(skey, { key: skey, name: svc.name, quorum, quorumUp: svc.health.quorumUp, quorumDown: svc.health.quorumDown, sorry: svc.sorryServer, backends });
    }
    for (const [skey, s] of this.#services) {
      if (wanted.has(skey)) continue;
      for (const b of s.backends.values()) this.#stopBackend(b);
      this.#services.delete(skey);
    }
  }

  /** HealthSource: the data-plane state of a backend. */
  backend(service: string, backend: string, weight: number): { up: boolean; weight: number } {
    const e = this.#services.get(service)?.backends.get(backend);
    if (!e) return { up: true, weight };
    return { up: e.desire.state !== 'down', weight: e.desire.state === 'up' ? e.desire.weight : 0 };
  }

  /** HealthSource: whether the sorry server replaces the backends. */
  sorryActive(service: string): boolean {
    return this.#services.get(service)?.quorum.sorryActive ?? false;
  }

  /** Quorum state of a service (undefined: unknown service). */
  quorumUp(service: string): boolean | undefined {
    return this.#services.get(service)?.quorum.up;
  }

  /** Health of a service's backends, for `xlb status`. */
  status(service: string): BackendHealthStatus[] {
    const s = this.#services.get(service);
    if (!s) return [];
    const now = this.#now();
    return [...s.backends.values()].map((e) => ({
      backend: e.key,
      state: e.desire.state,
      weight: e.desire.weight,
      reason: e.fsm.snapshot(now).reason,
      checks: e.fsm.checks.map((c, i) => {
        const snap = c.snapshot();
        const last = snap.lastResult;
        return {
          type: e.spec.checks[i]!.type,
          state: snap.state,
          reason: snap.reason,
          last: last && { ok: last.ok, reason: last.reason, detail: last.detail, ageMs: Math.round(now - last.at) },
        };
      }),
    }));
  }

  /** Stop every check (idempotent). */
  stop(): void {
    this.#stopped = true;
    if (this.#wake) clearTimeout(this.#wake);
    this.#wake = undefined;
    this.#due.clear();
    for (const s of this.#services.values()) for (const b of s.backends.values()) this.#stopBackend(b);
    this.#services.clear();
  }

  /**
   * Start a backend's checks. With `prev` (the same backend before a reload
   * changed its health spec or weight), each check whose spec and target did
   * not change keeps its slot: its state, counters, schedule and probe.
   */
  #startBackend(
    svc: ServiceConfig,
    service: string,
    key: string,
    address: string,
    port: number,
    spec: BackendHealthSpec,
    weight: number,
    digest: string,
    startDown: boolean,
    now: number,
    prev?: BackendEntry,
  ): BackendEntry {
    const spare = new Map<string, CheckSlot[]>();
    for (const sl of prev?.slots ?? []) spare.set(sl.digest, [...(spare.get(sl.digest) ?? []), sl]);
    const digests = spec.checks.map((c) => JSON.stringify([c, address, port, svc.address, svc.port, svc.mode], digestReplacer));
    const adopted = digests.map((d) => spare.get(d)?.shift());
    for (const rest of spare.values()) for (const sl of rest) this.#stopSlot(sl);
    // a backend known to be down starts down, up after its first good round
    // (alpha); kept checks carry their own state
    // a bfd check follows its session: rise 1, fall 1, no retries (the session's detection time is the delay)
    const timed: BackendHealthSpec = spec.checks.some((c) => c.type === 'bfd') ? { ...spec, checks: spec.checks.map((c) => (c.type === 'bfd' ? { ...c, retries: 0, rise: 1, fall: 1 } : c)) } : spec;
    const seeded: BackendHealthSpec = startDown && timed.checks.length > 0 ? { ...timed, checks: timed.checks.map((c) => ({ ...c, alpha: true })) } : timed;
    const fsm = new BackendFsm(seeded, weight, {
      rng: this.#rng,
      label: `${service} ${key}`,
      trace: (l) => this.#log.info(l),
      adopt: adopted.map((sl) => sl?.check),
    });
    const e: BackendEntry = { service, key, digest, spec, fsm, slots: [], ramp: undefined, desire: fsm.desire(now) };
    const first = fsm.start(now);
    spec.checks.forEach((c, i) => {
      const kept = adopted[i];
      if (kept) {
        kept.owner = e;
        kept.index = i;
        e.slots.push(kept);
        return;
      }
      const { probe, mark } = this.#makeProbe(c, svc, address, port);
      const sl: CheckSlot = { digest: digests[i]!, check: fsm.checks[i]!, probe, mark, owner: e, index: i, dueAt: 0, queued: false, busy: false, dead: false };
      e.slots.push(sl);
      this.#arm(sl, first[i]!);
    });
    return e;
  }

  /** The probe of one check, and the steering mark it holds (target: vip). */
  #makeProbe(c: CheckSpec, svc: ServiceConfig, address: string, port: number): { probe: Probe; mark: number | undefined } {
    const connectPort = 'connectPort' in c && c.connectPort ? c.connectPort : undefined;
    if ('target' in c && c.target === 'vip') return this.#steeredProbe(c, svc, address, connectPort);
    const target: ProbeTarget = {
      address: 'connectAddress' in c && c.connectAddress ? c.connectAddress : address,
      port: connectPort ?? (port || DEFAULT_PORTS[c.type] || 0),
      family: 'connectAddress' in c && c.connectAddress ? (c.connectAddress.includes(':') ? 6 : 4) : svc.family,
    };
    return { probe: this.#createProbe(c, target), mark: undefined };
  }

  /**
   * A BFD session changed state: the `type: bfd` checks that name it run
   * now rather than at their next interval (their probe reads the state the
   * daemon holds, so an extra attempt costs nothing).
   * @param session the session's name
   */
  bfdChanged(session: string): void {
    if (this.#stopped) return;
    for (const svc of this.#services.values())
      for (const e of svc.backends.values())
        for (const sl of e.slots) {
          const c = e.spec.checks[sl.index];
          if (c?.type === 'bfd' && c.name === session) this.#attempt(sl);
        }
  }

  #stopBackend(e: BackendEntry): void {
    for (const sl of e.slots) if (sl.owner === e) this.#stopSlot(sl); // not the slots a new entry took over
    if (e.ramp) clearTimeout(e.ramp);
    e.ramp = undefined;
  }

  #stopSlot(sl: CheckSlot): void {
    if (sl.dead) return;
    sl.dead = true; // the queue drops it when it comes due
    sl.probe.close?.();
    if (sl.mark !== undefined) this.#steering?.release(sl.mark);
  }

  /**
   * The probe of a `target: vip` check: to the VIP and port, its packets
   * steered to `backend` by a mark (kept in `marks`).
   */
  #steeredProbe(c: CheckSpec, svc: ServiceConfig, backend: string, connectPort: number | undefined): { probe: Probe; mark: number | undefined } {
    const failing = (detail: string): { probe: Probe; mark: undefined } => ({ probe: new FailingProbe('io', detail), mark: undefined });
    if (svc.mode === 'nat') return failing('target: vip is only for dr and tunnel services');
    if (!this.#steering) return failing('target: vip needs the data plane (no steering here)');
    let mark: number;
    try {
      mark = this.#steering.acquire(backend, svc.mode);
    } catch (err) {
      this.#log.error({ err, service: serviceKey(svc), backend }, 'no steering for a target: vip check');
      return failing(`no steering: ${(err as Error).message}`);
    }
    const port = connectPort ?? (svc.port || DEFAULT_PORTS[c.type] || 0);
    return { probe: this.#createProbe(c, { address: svc.address, port, family: svc.family, via: { mark, backend } }), mark };
  }

  #arm(sl: CheckSlot, at: number): void {
    if (this.#stopped || sl.dead || sl.queued) return;
    sl.dueAt = at;
    sl.queued = true;
    this.#due.push(sl);
    if (at < this.#wakeAt) this.#schedule(at);
  }

  /** (Re)sets the one timer to fire at `at`. */
  #schedule(at: number): void {
    if (this.#wake) clearTimeout(this.#wake);
    this.#wakeAt = at;
    this.#wake = setTimeout(this.#onWake, Math.max(0, at - this.#now()));
  }

  /**
   * Starts the attempts that are due, at most {@link WAKE_BATCH} in one
   * turn of the loop: a backlog (a loop that fell behind) then goes out a
   * batch per turn, with socket events read in between, as separate timers
   * let it.
   */
  readonly #onWake = (): void => {
    this.#wake = undefined;
    this.#wakeAt = Infinity;
    if (this.#stopped) return;
    const now = this.#now();
    for (let n = 0; n < WAKE_BATCH; n++) {
      const sl = this.#due.popDue(now);
      if (!sl) break;
      sl.queued = false;
      this.#attempt(sl);
    }
    const next = this.#due.nextDueAt;
    if (next === undefined) return;
    if (next <= now) {
      // more are due: the next batch after this turn's I/O
      this.#wakeAt = now;
      this.#wake = setTimeout(this.#onWake, 0);
    } else {
      this.#schedule(next);
    }
  };

  #attempt(sl: CheckSlot): void {
    if (sl.busy || sl.dead) return;
    sl.busy = true;
    sl.probe.run().then(
      (r) => this.#result(sl, r),
      (err: unknown) => this.#result(sl, { ok: false, reason: 'internal', detail: String(err), durationMs: 0 }),
    );
  }

  #result(sl: CheckSlot, r: ProbeResult): void {
    sl.busy = false;
    const e = sl.owner;
    const svc = this.#services.get(e.service);
    if (this.#stopped || sl.dead || svc?.backends.get(e.key) !== e) return; // stopped or replaced meanwhile
    try {
      this.#observer.attempt?.(e.spec.checks[sl.index]!.type, r);
      const now = this.#now();
      const step = e.fsm.onResult(now, sl.index, r.ok ? { ok: true, weight: r.weight, detail: r.detail } : { ok: false, reason: r.reason, detail: r.detail });
      this.#arm(sl, step.check.nextAt);
      this.#afterStep(svc, e, now, step.desire, step.events, step.nextChangeAt);
    } catch (err) {
      this.#log.error({ err, service: e.service, backend: e.key }, 'health check result not handled');
    }
  }

  #rampTick(svc: ServiceEntry, e: BackendEntry): void {
    e.ramp = undefined;
    if (this.#stopped || svc.backends.get(e.key) !== e) return;
    const now = this.#now();
    const t = e.fsm.tick(now);
    this.#afterStep(svc, e, now, t.desire, [], t.nextChangeAt);
  }

  #afterStep(svc: ServiceEntry, e: BackendEntry, now: number, desire: BackendDesire, events: BackendEvent[], nextChangeAt: number | undefined): void {
    if (e.ramp) clearTimeout(e.ramp);
    e.ramp = nextChangeAt === undefined ? undefined : setTimeout(() => this.#rampTick(svc, e), Math.max(0, nextChangeAt - now));
    for (const ev of events) this.#backendEvent(svc, e, ev);
    const changed = desire.state !== e.desire.state || desire.weight !== e.desire.weight;
    e.desire = desire;
    if (!changed && events.length === 0) return;
    const q = svc.quorum.update(now, sumLiveWeight([...svc.backends.values()].map((b) => b.fsm)));
    for (const ev of q.events) this.#quorumEvent(svc, ev);
    if (changed || q.changed) this.emit('change', [svc.key]);
  }

  #backendEvent(svc: ServiceEntry, e: BackendEntry, ev: BackendEvent): void {
    const up = ev.kind === 'backend-up';
    this.#log.warn({ service: svc.name, backend: e.key, reason: ev.reason }, up ? 'backend up' : 'backend down');
    this.#observer.backend?.(svc.name, e.key, up, ev.reason);
    const cmd = up ? e.spec.notifyUp : e.spec.notifyDown;
    if (cmd) this.#runCommand(cmd, { XLB_SERVICE: svc.name, XLB_BACKEND: e.key, XLB_STATE: up ? 'UP' : 'DOWN', XLB_REASON: ev.reason });
  }

  #quorumEvent(svc: ServiceEntry, ev: QuorumEvent): void {
    const up = ev.kind === 'quorum-up';
    this.#log.warn({ service: svc.name, liveWeight: ev.liveWeight, sorry: svc.sorry && !up ? backendKey(svc.sorry) : undefined }, up ? 'quorum gained' : 'quorum lost');
    this.#observer.quorum?.(svc.name, up);
    const cmd = up ? svc.quorumUp : svc.quorumDown;
    if (cmd) this.#runCommand(cmd, { XLB_SERVICE: svc.name, XLB_STATE: up ? 'UP' : 'DOWN', XLB_LIVE_WEIGHT: String(ev.liveWeight) });
  }
}

/** Runs a command detached, without a shell, its output ignored; failures are logged. */
function defaultRunCommand(log: Logger): (cmd: ResolvedCommand, env: Record<string, string>) => void {
  return (cmd, env) => spawnDetached(cmd, env, (level, obj, msg) => log[level](obj, msg));
}
