/**
 * @module daemon/plan
 * Desired data-plane state from a config, and the steps that take the data
 * plane from what it holds to that state. Pure: no I/O, no timers, no addon.
 *
 * Identities are stable across reloads and restarts: a service keeps its VIP
 * id and a backend (of a service) keeps its backend id for as long as it
 * stays in the config, so recorded flows keep their backend. Freed ids are
 * reused last (round-robin allocation), so a record of a removed backend is
 * not silently taken over by a newcomer. Rings are written beside the one in
 * use, into a free slot, and the VIP is then flipped to it (DESIGN §4).
 *
 * Ring slots are few (max_vips + 2): a change of more rings than there are
 * free slots is planned in waves. A plan flips as many services as there are
 * free slots and names the others in `deferred`, unchanged; the caller
 * applies it, waits for the released slots' grace period and plans the
 * deferred ones again (Applier.applyWaves). A change that no number of waves
 * can carry out (ids run out, or no slot would ever be spare) is still a
 * PlanError up front.
 */
import type { ServiceConfig, XlbConfig } from '../config/model.js';
import { backendKey, serviceKey } from '../config/model.js';
import { buildMaglevRing } from '../lb/maglev.js';

/** A backend as the data plane holds it. */
export interface PlannedBackend {
  /** backend id (1 .. maxBackends - 1) */
  id: number;
  /** `${address}:${port}` */
  key: string;
  address: string;
  port: number;
  /** the weight in the ring: 0 while draining, down, or replaced by the sorry server */
  weight: number;
  /**
   * false: failed its health checks (or set aside for the sorry server): out
   * of the ring and its recorded flows are rescheduled. A draining backend
   * (weight 0) stays up and keeps its flows.
   */
  up: boolean;
}

/**
 * What health checking says of backends (src/health/runner.ts). Without
 * one, every backend is up with its configured weight.
 */
export interface HealthSource {
  /**
   * The data-plane state of one backend of a service.
   * @param serviceKey serviceKey() of the service
   * @param backendKey backendKey() of the backend
   * @param weight its configured weight
   */
  backend(serviceKey: string, backendKey: string, weight: number): { up: boolean; weight: number };
  /** true while the service has lost its quorum and has a sorry server to use instead. */
  sorryActive(serviceKey: string): boolean;
}

/** A service as the data plane holds it. */
export interface PlannedService {
  /** serviceKey(): `${address}|${port}|${protocol}` */
  key: string;
  name: string;
  vipId: number;
  address: string;
  port: number;
  proto: 6 | 17;
  mode: 'dr' | 'tunnel' | 'nat';
  persistence: boolean;
  backends: PlannedBackend[];
  /** a digest of what the ring is built from: same digest, same ring */
  ringDigest: string;
}

/** What the data plane holds, as far as the planner needs to know. */
export interface DataplaneView {
  /** services by key */
  services: Map<string, PlannedService & { ring: number }>;
  /** backend ids in use (also those of services being removed) */
  usedBackendIds: Set<number>;
  /** ring slots in use or waiting out their grace period */
  usedRings: Set<number>;
  /** where the round-robin id allocation continues */
  nextVipId: number;
  nextBackendId: number;
}

/** One change to the data plane, applied in order. */
export type Step =
  | { op: 'put-backend'; id: number; address: string; port: number; vipId: number; up: boolean }
  | { op: 'write-ring'; slot: number; backends: PlannedBackend[]; m: number; vipKey: string }
  | { op: 'put-vip'; service: PlannedService; ring: number }
  | { op: 'free-ring'; slot: number }
  | { op: 'clear-backend'; id: number }
  | { op: 'delete-vip'; service: PlannedService; ring: number }
  | { op: 'globals'; tunSrc4?: string; tunSrc6?: string; sourceEntropy: boolean; wildcardVips: number; natSources: string[]; vipAddrs: string[] };

/** The result of planning. */
export interface Plan {
  steps: Step[];
  /** the services after the plan is applied */
  services: Map<string, PlannedService & { ring: number }>;
  nextVipId: number;
  nextBackendId: number;
  /** what changed, for logs and the reload reply (deferred services are in none of these) */
  summary: { added: string[]; removed: string[]; changed: string[]; unchanged: number };
  /**
   * services (by key) left as they are for want of a free ring slot: plan
   * them again (as `only`) once released slots are past their grace period
   */
  deferred: string[];
}

/** Thrown when the config does not fit the loaded maps (ids or ring slots run out). */
export class PlanError extends Error {
  override name = 'PlanError';
}

/** Take the first id of [lo, hi) not in `used` (searching round-robin from `cursor`) and mark it used. */
function allocate(used: Set<number>, cursor: number, lo: number, hi: number, what: string): number {
  const n = hi - lo;
  for (let i = 0; i < n; i++) {
    const id = lo + ((((cursor - lo + i) % n) + n) % n);
    if (used.has(id)) continue;
    used.add(id);
    return id;
  }
  throw new PlanError(`no free ${what} id (all ${n} in use)`);
}

/** The first ring slot not in `used`, or -1. */
function freeSlot(used: Set<number>, limit: number): number {
  for (let s = 0; s < limit; s++) if (!used.has(s)) return s;
  return -1;
}

const PROTO = { tcp: 6, udp: 17 } as const;

/** The digest of what a ring depends on (backend keys and weights). */
function ringDigest(backends: readonly { key: string; weight: number }[]): string {
  return backends
    .map((b) => `${b.key}=${b.weight}`)
    .sort()
    .join(',');
}

/**
 * Plan the steps from `view` to `config`.
 * @param ringSize M of the loaded program
 * @param limits the loaded map sizes: VIP ids < maxVips, backend ids < maxBackends, ring slots < maxRings
 * @param health what health checks say of the backends (none: all up)
 * @param only plan these services (by key) and keep the others as they are:
 *   a health change touches one service, not the thousand others
 * @returns the plan of one wave: services without a free ring slot are in `deferred`
 * @throws PlanError when the config needs more ids than the loaded maps have,
 *   or as many rings as there are slots while some must change (no slot to write beside)
 */
export function planReconcile(view: DataplaneView, config: XlbConfig, ringSize: number, limits: PlanLimits, health?: HealthSource, only?: ReadonlySet<string>): Plan {
  const gen = planSteps(view, config, ringSize, limits, health, only);
  for (;;) {
    const r = gen.next();
    if (r.done) return r.value;
  }
}

/**
 * As planReconcile(), pausing every `every` services with `pause()` (the
 * daemon passes a setImmediate), so planning a large config never holds the
 * event loop for long.
 */
export async function planReconcileAsync(
  view: DataplaneView,
  config: XlbConfig,
  ringSize: number,
  limits: PlanLimits,
  pause: () => Promise<void>,
  every = 20,
  health?: HealthSource,
  only?: ReadonlySet<string>,
): Promise<Plan> {
  const gen = planSteps(view, config, ringSize, limits, health, only);
  for (let n = 1; ; n++) {
    const r = gen.next();
    if (r.done) return r.value;
    if (n % every === 0) await pause();
  }
}

/** Map sizes of the loaded program that bound ids and ring slots. */
export interface PlanLimits {
  maxVips: number;
  maxBackends: number;
  maxRings: number;
}

/** The planner: yields once per service of the config, returns the plan. */
function* planSteps(
  view: DataplaneView,
  config: XlbConfig,
  ringSize: number,
  limits: PlanLimits,
  health?: HealthSource,
  only?: ReadonlySet<string>,
): Generator<void, Plan, void> {
  const steps: Step[] = [];
  const usedVip = new Set([...view.services.values()].map((s) => s.vipId));
  const usedBe = new Set(view.usedBackendIds);
  const usedRings = new Set(view.usedRings);
  let nextVipId = view.nextVipId;
  let nextBackendId = view.nextBackendId;
  const out = new Map<string, PlannedService & { ring: number }>();
  const summary: Plan['summary'] = { added: [], removed: [], changed: [], unchanged: 0 };
  const wanted = new Map(config.services.map((s) => [serviceKey(s), s] as const));
  const later: Step[] = []; // clear removed backends and free old rings after the flips
  const deferred: string[] = [];
  let full = false; // no ring slot left

  // services that leave: the VIP goes first, then its backends and ring
  for (const [key, cur] of view.services) {
    if (wanted.has(key) || only) continue;
    steps.push({ op: 'delete-vip', service: cur, ring: cur.ring });
    for (const b of cur.backends) later.push({ op: 'clear-backend', id: b.id });
    later.push({ op: 'free-ring', slot: cur.ring });
    summary.removed.push(cur.name);
  }

  for (const [key, svc] of wanted) {
    const cur = view.services.get(key);
    if (only && cur && !only.has(key)) {
      out.set(key, cur);
      summary.unchanged++;
      continue;
    }
    yield;
    const curBackends = new Map((cur?.backends ?? []).map((b) => [b.key, b] as const));
    // what the service wants, before any id is given out: the ring's digest decides whether it needs a slot
    const want = wantedBackends(svc, key, health);
    const digest = ringDigest(want.map((w) => ({ key: backendKey(w), weight: w.weight })));
    const sameRing = cur !== undefined && cur.ringDigest === digest;
    const slot = sameRing || full ? -1 : freeSlot(usedRings, limits.maxRings);
    if (!sameRing && slot < 0) full = true; // slots are only taken in a plan: none later either
    // no slot to write the ring beside the old one: a later wave. Its ids are
    // still taken here (and dropped), so a change that cannot fit is refused now
    const deferring = !sameRing && slot < 0;
    const mine: Step[] = deferring ? [] : steps;
    const myLater: Step[] = deferring ? [] : later;

    let vipId: number;
    if (cur) {
      vipId = cur.vipId;
    } else {
      vipId = allocate(usedVip, nextVipId, 0, limits.maxVips, 'VIP');
      if (!deferring) nextVipId = vipId + 1;
    }
    const backends: PlannedBackend[] = [];
    const downs: Step[] = []; // backends going down: after the flip, so no ring names a down backend
    for (const { address, port, up, weight } of want) {
      const bkey = backendKey({ address, port });
      const had = curBackends.get(bkey);
      let id: number;
      if (had) {
        id = had.id;
        if (had.up !== up) (up ? mine : downs).push({ op: 'put-backend', id, address, port, vipId, up });
      } else {
        id = allocate(usedBe, nextBackendId, 1, limits.maxBackends, 'backend');
        if (!deferring) nextBackendId = id + 1;
        mine.push({ op: 'put-backend', id, address, port, vipId, up });
      }
      backends.push({ id, key: bkey, address, port, weight, up });
    }
    const wantedKeys = new Set(backends.map((b) => b.key));
    for (const b of cur?.backends ?? []) if (!wantedKeys.has(b.key)) myLater.push({ op: 'clear-backend', id: b.id });
    if (deferring) {
      deferred.push(key);
      if (cur) out.set(key, cur);
      continue;
    }

    const planned: PlannedService = {
      key,
      name: svc.name,
      vipId,
      address: svc.address,
      port: svc.port,
      proto: PROTO[svc.protocol],
      mode: svc.mode,
      persistence: svc.persistence,
      backends,
      ringDigest: digest,
    };
    const sameVip = cur !== undefined && sameRing && cur.mode === planned.mode && cur.persistence === planned.persistence && cur.name === planned.name;
    if (sameVip && cur) {
      out.set(key, { ...planned, ring: cur.ring });
      steps.push(...downs);
      if (downs.length) summary.changed.push(planned.name);
      else summary.unchanged++;
      continue;
    }
    let ring = cur?.ring ?? -1;
    if (!sameRing) {
      ring = slot;
      usedRings.add(ring);
      steps.push({ op: 'write-ring', slot: ring, backends, m: ringSize, vipKey: key });
      if (cur) later.push({ op: 'free-ring', slot: cur.ring });
    }
    steps.push({ op: 'put-vip', service: planned, ring });
    steps.push(...downs);
    out.set(key, { ...planned, ring });
    (cur ? summary.changed : summary.added).push(planned.name);
  }
  // waves end only if, once the grace periods are over, a slot is spare: the
  // services of the config hold one ring each
  if (deferred.length && wanted.size >= limits.maxRings) {
    throw new PlanError(`no free ring slot: ${wanted.size} services hold all ${limits.maxRings} ring slots, and changing a ring needs one spare to write it beside the old one`);
  }
  steps.push(globalsStep(config, out));
  steps.push(...later);
  return { steps, services: out, nextVipId, nextBackendId, summary, deferred };
}

/** The backends a service wants in its ring, with health applied (sorry server included), before ids are given out. */
function wantedBackends(svc: ServiceConfig, key: string, health?: HealthSource): { address: string; port: number; up: boolean; weight: number }[] {
  const want: { address: string; port: number; up: boolean; weight: number }[] = [];
  const sorry = svc.sorryServer !== undefined && health?.sorryActive(key) === true;
  for (const b of svc.backends) {
    const h = sorry ? { up: false, weight: 0 } : (health?.backend(key, backendKey(b), b.weight) ?? { up: true, weight: b.weight });
    want.push({ address: b.address, port: b.port, up: h.up, weight: h.up ? h.weight : 0 });
  }
  if (sorry && svc.sorryServer) want.push({ address: svc.sorryServer.address, port: svc.sorryServer.port, up: true, weight: 1 });
  return want;
}

/**
 * What each service's ring is built from (backend keys and weights), in the
 * order a plan writes them: for RingBuilder.prebuild() while the program
 * loads, before a plan can give out ids. A generator: the builder reads
 * it a slice at a time.
 * @param health what health checks say of the backends (none: all up)
 */
export function* ringSets(config: XlbConfig, health?: HealthSource): Generator<{ key: string; weight: number }[], void, void> {
  for (const svc of config.services) yield wantedBackends(svc, serviceKey(svc), health).map((w) => ({ key: backendKey(w), weight: w.weight }));
}

/** The ring digest of a service rebuilt from pinned maps (Applier.recover()): its weights are not in the maps. */
export const RECOVERED_DIGEST = '(recovered)';

/**
 * The ring a service recovered from pinned maps holds if the config still
 * asks for the same: the config's backends (health applied) under their
 * recovered ids, and the digest a plan gives that ring. The caller builds it
 * and compares it with the pinned ring; when they match, the service takes
 * the digest and the plan leaves its ring alone.
 * @returns null when a wanted backend has no recovered id: the ring changes whatever it holds
 */
export function recoveredRing(svc: ServiceConfig, cur: Pick<PlannedService, 'key' | 'backends'>, health?: HealthSource): { digest: string; backends: { id: number; key: string; weight: number }[] } | null {
  const ids = new Map(cur.backends.map((b) => [b.key, b.id] as const));
  const backends: { id: number; key: string; weight: number }[] = [];
  for (const w of wantedBackends(svc, cur.key, health)) {
    const key = backendKey(w);
    const id = ids.get(key);
    if (id === undefined) return null;
    backends.push({ id, key, weight: w.weight });
  }
  return { digest: ringDigest(backends), backends };
}

/** The ring of a write-ring step (built by the applier, off the event loop when large). */
export function ringOf(step: { backends: readonly PlannedBackend[]; m: number }): Uint32Array {
  return buildMaglevRing(step.backends, step.m);
}

function globalsStep(config: XlbConfig, services: Map<string, PlannedService>): Step {
  const list = [...services.values()];
  return {
    op: 'globals',
    tunSrc4: config.tunnel.source4,
    tunSrc6: config.tunnel.source6,
    sourceEntropy: config.tunnel.sourceEntropy,
    wildcardVips: list.filter((s) => s.port === 0).length,
    natSources: [...new Set(list.filter((s) => s.mode === 'nat').flatMap((s) => s.backends.map((b) => b.address)))],
    vipAddrs: [...new Set(list.map((s) => s.address))],
  };
}

/** An empty view: a data plane that holds nothing yet. */
export function emptyView(): DataplaneView {
  return { services: new Map(), usedBackendIds: new Set(), usedRings: new Set(), nextVipId: 0, nextBackendId: 1 };
}

export type { ServiceConfig };
