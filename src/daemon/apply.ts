/**
 * @module daemon/apply
 * Carries a plan (daemon/plan.ts) out on the XDP data plane, and reads back
 * what the data plane holds (after a restart, from the pinned maps). Edge
 * module: every write goes through XdpDataplane; a failed write is a result,
 * counted and returned, never an exception that stops the apply halfway
 * (H-38).
 *
 * Order matters for "no lookup sees a half-written state": new backends are
 * written before any ring names them, a ring is written into a free slot
 * before a VIP points at it, and removed backends and old ring slots are
 * released only after a grace period, when no packet can still be reading
 * them. A change of more rings than there are free slots goes in waves
 * (applyWaves): each VIP still flips whole, and each wave waits for the slots
 * the previous one released; it never sleeps on the thread.
 */
import { decodeXlbBackendVal, decodeXlbVipKey, XlbBackendFlags, decodeXlbVipRef, decodeXlbVipVal, XlbGlobalFlags, XlbMode, XlbVipFlags } from '../dataplane/xdp/abi.gen.js';
import type { XdpDataplane } from '../dataplane/xdp/xdp-dataplane.js';
import { formatAddr, parseAddr } from '../net/addr.js';
import type { DataplaneView, HealthSource, Plan, PlannedService, Step } from './plan.js';
import { PlanError, RECOVERED_DIGEST, recoveredRing } from './plan.js';
import { serviceKey, type ServiceConfig, type XlbConfig } from '../config/model.js';
import { RingBuilder } from '../lb/ring-builder.js';

/** Ring builds requested ahead of the ring being written. */
const RINGS_AHEAD = 8;

/** Longest stretch of work before the apply yields to the event loop, ms. */
const YIELD_EVERY_MS = 2;

/** Plans with at most this many rings build them in the event loop's thread (1-3 ms each). */
const INLINE_RINGS = 2;

/** Time a released ring slot or backend id waits before reuse: XDP runs take microseconds. */
export const GRACE_MS = 50;
/** Recovered rings built and compared at once by adoptRecovered(): enough to keep the ring workers busy. */
const ADOPT_BATCH = 8;

/** A write that failed. */
export interface ApplyFailure {
  step: Step['op'];
  what: string;
  err: Error;
}

/** The result of applying a plan. */
export interface ApplyResult {
  ok: boolean;
  failures: ApplyFailure[];
  steps: number;
}

/** The result of applying a change in waves. */
export interface WavesResult extends ApplyResult {
  /** plans applied: 1 when every ring had a free slot */
  waves: number;
  /** what changed over all the waves */
  summary: Plan['summary'];
}

/**
 * Plans one wave from what the data plane holds.
 * @param only undefined for the first wave; then the services a previous wave deferred
 */
export type WavePlanner = (view: DataplaneView, only: ReadonlySet<string> | undefined) => Plan | Promise<Plan>;

const MODE = { dr: XlbMode.XLB_MODE_DR, tunnel: XlbMode.XLB_MODE_TUNNEL, nat: XlbMode.XLB_MODE_NAT } as const;
const MODE_NAME: Record<number, PlannedService['mode']> = { [XlbMode.XLB_MODE_DR]: 'dr', [XlbMode.XLB_MODE_TUNNEL]: 'tunnel', [XlbMode.XLB_MODE_NAT]: 'nat' };

function u32key(i: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(i);
  return b;
}

/**
 * Applies plans to one data plane and keeps what the planner needs to know:
 * ring slots and backend ids in their grace period stay "used".
 */
export class Applier {
  readonly dp: XdpDataplane;
  services = new Map<string, PlannedService & { ring: number }>();
  nextVipId = 0;
  nextBackendId = 1;
  /** slot or id -> time it becomes free */
  readonly #ringGrace = new Map<number, number>();
  readonly #backendGrace = new Map<number, number>();
  readonly #now: () => number;
  #vipAddrs = new Set<string>();
  /** failed writes since start */
  failures = 0;

  readonly #rings: RingBuilder;
  /** releases waiting out their grace period, by timer */
  readonly #late = new Map<NodeJS.Timeout, () => void>();
  /** the grace period of released slots and ids, ms */
  readonly #graceMs: number;

  constructor(dp: XdpDataplane, now: () => number = Date.now, rings: RingBuilder = new RingBuilder(), graceMs = GRACE_MS) {
    this.dp = dp;
    this.#now = now;
    this.#rings = rings;
    this.#graceMs = graceMs;
  }

  /** Carry out the releases still waiting, and stop the ring workers. */
  close(): Promise<void> {
    for (const run of [...this.#late.values()]) run(); // releases due: done now, not lost
    return this.#rings.close();
  }

  /** What the planner sees: the services, and every id and slot not free yet. */
  view(): DataplaneView {
    const t = this.#now();
    for (const [k, until] of this.#ringGrace) if (until <= t) this.#ringGrace.delete(k);
    for (const [k, until] of this.#backendGrace) if (until <= t) this.#backendGrace.delete(k);
    const usedRings = new Set<number>(this.#ringGrace.keys());
    const usedBackendIds = new Set<number>(this.#backendGrace.keys());
    for (const s of this.services.values()) {
      usedRings.add(s.ring);
      for (const b of s.backends) usedBackendIds.add(b.id);
    }
    return { services: new Map(this.services), usedBackendIds, usedRings, nextVipId: this.nextVipId, nextBackendId: this.nextBackendId };
  }

  /** Called with the writes that failed after a plan's promise resolved (the releases after the grace period). */
  onLateFailures: (failures: ApplyFailure[]) => void = () => undefined;

  /**
   * Carry out a plan. The promise resolves once every VIP points at its new
   * ring; the releases (old ring slots, removed backends) follow GRACE_MS
   * later, and the planner sees them as used until then. A plan's deferred
   * services are left as they are: see applyWaves().
   */
  async apply(plan: Plan): Promise<ApplyResult> {
    const failures: ApplyFailure[] = [];
    const releases: Step[] = [];
    const attempt = (step: Step, what: string, fn: () => void): boolean => {
      try {
        fn();
        return true;
      } catch (err) {
        failures.push({ step: step.op, what, err: err as Error });
        return false;
      }
    };
    // rings are requested a few ahead of the one being written: the workers
    // build while this thread writes (asking for all at once would spend a
    // long stretch of this thread on messages)
    const ringSteps = plan.steps.filter((x): x is Extract<Step, { op: 'write-ring' }> => x.op === 'write-ring');
    const rings = new Map<Step, Promise<Uint32Array>>();
    let asked = 0;
    const askUpTo = (n: number): void => {
      for (; asked < Math.min(n, ringSteps.length); asked++) {
        const st = ringSteps[asked]!;
        // a change of one or two services (a health change) is built here, at once
        const p = this.#rings.build(st.backends, st.m, ringSteps.length <= INLINE_RINGS);
        p.catch(() => undefined);
        rings.set(st, p);
      }
    };
    askUpTo(RINGS_AHEAD);
    let ringIndex = 0;
    const noRing = new Set<string>(); // VIPs whose ring could not be written keep their old one
    await new Promise((resolve) => setImmediate(resolve)); // the planning was a stretch of its own
    let slice = performance.now();
    for (const step of plan.steps) {
      // never hold the event loop for long: timers (VRRP, BFD, health) run in between
      if (performance.now() - slice > YIELD_EVERY_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        slice = performance.now();
      }
      switch (step.op) {
        case 'put-backend':
          attempt(step, `backend ${step.id} ${step.address}`, () =>
            this.dp.putBackend(step.id, { addr: step.address, port: step.port, vipId: step.vipId, flags: step.up ? XlbBackendFlags.XLB_BE_F_UP : 0 }),
          );
          break;
        case 'write-ring': {
          askUpTo(++ringIndex + RINGS_AHEAD);
          let ring: Uint32Array | null = null;
          try {
            ring = await rings.get(step)!;
          } catch (err) {
            failures.push({ step: step.op, what: `ring of ${step.vipKey}`, err: err as Error });
          }
          // no new slice here: a ring built ahead (RingBuilder.prebuild) is
          // ready, and awaiting it does not let the event loop run
          if (!ring || !attempt(step, `ring slot ${step.slot}`, () => this.dp.writeRing(step.slot, ring))) noRing.add(step.vipKey);
          if (ring) this.#rings.recycle(ring); // copied into the map: the buffer serves the next build
          break;
        }
        case 'put-vip': {
          const s = step.service;
          if (noRing.has(s.key)) break;
          attempt(step, `vip ${s.name}`, () =>
            this.dp.putVip({ addr: s.address, port: s.port, proto: s.proto, vipId: s.vipId, ring: step.ring, mode: MODE[s.mode], flags: s.persistence ? XlbVipFlags.XLB_VIP_F_PERSIST : 0 }),
          );
          break;
        }
        case 'delete-vip': {
          const s = step.service;
          attempt(step, `vip ${s.name}`, () => void this.dp.deleteVip(s.address, s.port, s.proto));
          break;
        }
        case 'globals':
          attempt(step, 'globals', () => {
            this.dp.setGlobals({
              tunSrc4: step.tunSrc4 ? Buffer.from(parseAddr(step.tunSrc4).bytes).readUInt32BE(0) : 0,
              tunSrc6: step.tunSrc6 ? parseAddr(step.tunSrc6).bytes : new Uint8Array(16),
              flags: step.sourceEntropy ? XlbGlobalFlags.XLB_G_TUN_SRC_ENTROPY : 0,
              wildcardVips: step.wildcardVips,
            });
            this.dp.setNatSources(step.natSources);
            const want = new Set(step.vipAddrs);
            for (const a of want) if (!this.#vipAddrs.has(a)) this.dp.putVipAddr(a);
            for (const a of this.#vipAddrs) if (!want.has(a)) this.dp.deleteVipAddr(a);
            this.#vipAddrs = want;
          });
          break;
        case 'free-ring':
        case 'clear-backend':
          releases.push(step);
          break;
      }
    }
    // rings built ahead for this plan were taken; any left over are not wanted
    this.#rings.dropPrebuilt();
    this.services = plan.services;
    this.nextVipId = plan.nextVipId;
    this.nextBackendId = plan.nextBackendId;
    const until = this.#now() + this.#graceMs;
    for (const r of releases) {
      if (r.op === 'free-ring') this.#ringGrace.set(r.slot, until);
      else if (r.op === 'clear-backend') this.#backendGrace.set(r.id, until);
    }
    const clears = releases.filter((r): r is Extract<Step, { op: 'clear-backend' }> => r.op === 'clear-backend');
    if (clears.length) {
      const run = (): void => {
        this.#late.delete(t);
        clearTimeout(t);
        const late: ApplyFailure[] = [];
        for (const r of clears) {
          try {
            this.dp.clearBackend(r.id);
          } catch (err) {
            late.push({ step: r.op, what: `backend ${r.id}`, err: err as Error });
          }
        }
        this.failures += late.length;
        if (late.length) this.onLateFailures(late);
      };
      const t = setTimeout(run, this.#graceMs);
      this.#late.set(t, run);
    }
    this.failures += failures.length;
    return { ok: failures.length === 0, failures, steps: plan.steps.length };
  }

  /**
   * Carry out a change that may need more ring slots than are free: apply
   * the first plan, then, while services are deferred, wait until released
   * slots are past their grace period (a timer, never a sleep) and apply a
   * plan of the deferred ones. The caller serializes this with every other
   * plan (the daemon's queue): a wave's view must be the previous wave's result.
   * @param plan plans a wave; a PlanError of the first wave is thrown (nothing
   *   was applied), one of a later wave is a failure in the result
   */
  async applyWaves(plan: WavePlanner): Promise<WavesResult> {
    const first = await plan(this.view(), undefined);
    const failures: ApplyFailure[] = [];
    const summary: Plan['summary'] = { added: [], removed: [...first.summary.removed], changed: [], unchanged: 0 };
    let steps = 0;
    let waves = 0;
    for (let p: Plan | null = first; p; ) {
      const res = await this.apply(p);
      waves++;
      steps += res.steps;
      failures.push(...res.failures);
      summary.added.push(...p.summary.added);
      summary.changed.push(...p.summary.changed);
      if (!p.deferred.length) break;
      const only = new Set(p.deferred);
      const wrote = p.steps.some((s) => s.op === 'write-ring');
      // wait for a slot: the earliest release in grace (none: the plan had every slot it could get)
      const t = this.#now();
      let wait = Infinity;
      for (const until of this.#ringGrace.values()) if (until > t) wait = Math.min(wait, until - t);
      if (wait === Infinity && !wrote) {
        failures.push({ step: 'write-ring', what: `wave ${waves + 1}`, err: new PlanError(`no free ring slot for ${only.size} services`) });
        break;
      }
      if (wait !== Infinity) await new Promise((resolve) => setTimeout(resolve, wait + 1));
      try {
        p = await plan(this.view(), only);
      } catch (err) {
        failures.push({ step: 'write-ring', what: `wave ${waves + 1}`, err: err as Error });
        p = null;
      }
    }
    const changed = new Set([...summary.added, ...summary.changed]).size;
    summary.unchanged = Math.max(0, this.services.size - changed);
    return { ok: failures.length === 0, failures, steps, waves, summary };
  }

  /**
   * Rebuild what the data plane holds from its maps (pinned by a previous
   * run): services, their backends, ring slots, ids. Weights are not in the
   * maps, so every ring is rewritten by the first plan (with the same
   * content when the config is the same: Maglev is deterministic).
   */
  recover(): void {
    const dp = this.dp;
    const backendsByVip = new Map<number, { id: number; address: string; port: number; up: boolean }[]>();
    const bm = dp.maps.xlb_backends;
    for (let id = 1; id < bm.maxEntries; id++) {
      const v = bm.lookup(u32key(id));
      if (!v) continue;
      const b = decodeXlbBackendVal(v);
      if (!b.family) continue; // cleared
      const list = backendsByVip.get(b.vipId) ?? [];
      list.push({ id, address: formatAddr(b.family, b.addr), port: b.port, up: (b.flags & XlbBackendFlags.XLB_BE_F_UP) !== 0 });
      backendsByVip.set(b.vipId, list);
    }
    const services = new Map<string, PlannedService & { ring: number }>();
    const vm = dp.maps.xlb_vips;
    let maxVip = -1;
    let maxBe = 0;
    for (let k = vm.nextKey(null); k; k = vm.nextKey(k)) {
      const ref = vm.lookup(k);
      if (!ref) continue;
      const key = decodeXlbVipKey(k);
      const vipId = decodeXlbVipRef(ref).vipId;
      const slotBuf = dp.maps.xlb_vip_table.lookup(u32key(vipId));
      if (!slotBuf) continue;
      const slot = decodeXlbVipVal(slotBuf);
      if (!(slot.flags & XlbVipFlags.XLB_VIP_F_ACTIVE)) continue;
      const address = formatAddr(key.family, key.addr);
      const protocol = key.proto === 17 ? 'udp' : 'tcp';
      const skey = `${address}|${key.port}|${protocol}`;
      const backends = (backendsByVip.get(vipId) ?? []).map((b) => ({ id: b.id, key: `${b.address}:${b.port}`, address: b.address, port: b.port, weight: -1, up: b.up }));
      services.set(skey, {
        key: skey,
        name: '',
        vipId,
        address,
        port: key.port,
        proto: key.proto === 17 ? 17 : 6,
        mode: MODE_NAME[slot.mode] ?? 'dr',
        persistence: (slot.flags & XlbVipFlags.XLB_VIP_F_PERSIST) !== 0,
        backends,
        ringDigest: RECOVERED_DIGEST,
        ring: slot.ring,
      });
      maxVip = Math.max(maxVip, vipId);
      for (const b of backends) maxBe = Math.max(maxBe, b.id);
      this.#vipAddrs.add(address);
    }
    this.services = services;
    this.nextVipId = maxVip + 1;
    this.nextBackendId = maxBe + 1;
  }

  /**
   * After recover(): a service whose pinned ring is the ring `config` asks
   * for now (the same backends, ids and weights; Maglev is deterministic)
   * keeps it, and the first plan writes only the rings that changed. Without
   * this a restart over pins wrote every ring again, in waves of the spare
   * slots a grace period apart: about 34 s for 1,000 services. The rings are
   * built by the ring builder (the daemon built the config's ahead while the
   * program loaded) and compared in place with the pinned ones.
   * @param health what health checks say now (none: all up), as the plan will ask
   * @returns how many services kept their ring
   */
  async adoptRecovered(config: XlbConfig, health?: HealthSource): Promise<number> {
    const todo: { key: string; svc: ServiceConfig; cur: PlannedService & { ring: number } }[] = [];
    for (const svc of config.services) {
      const key = serviceKey(svc);
      const cur = this.services.get(key);
      if (cur && cur.ringDigest === RECOVERED_DIGEST) todo.push({ key, svc, cur });
    }
    let kept = 0;
    for (let i = 0; i < todo.length; i += ADOPT_BATCH) {
      const batch = todo.slice(i, i + ADOPT_BATCH).map(({ key, svc, cur }) => {
        const want = recoveredRing(svc, cur, health);
        return { key, cur, want, ring: want ? this.#rings.build(want.backends, this.dp.ringSize).catch(() => null) : Promise.resolve(null) };
      });
      for (const { key, cur, want, ring } of batch) {
        const r = await ring;
        if (!want || !r) continue;
        const same = this.dp.ringEquals(cur.ring, r);
        this.#rings.recycle(r);
        if (!same) continue;
        const weight = new Map(want.backends.map((b) => [b.key, b.weight] as const));
        this.services.set(key, { ...cur, ringDigest: want.digest, backends: cur.backends.map((b) => ({ ...b, weight: weight.get(b.key) ?? b.weight })) });
        kept++;
      }
    }
    return kept;
  }
}
