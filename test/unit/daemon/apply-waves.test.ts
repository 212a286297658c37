/**
 * Changes of more rings than there are free ring slots (max_vips + 2), applied
 * in waves by Applier.applyWaves() on a fake data plane that checks, at every
 * write, that no ring is written into a slot a VIP points at or that was left
 * less than the grace period ago, and that no backend goes down while a VIP's
 * ring still names it. No kernel.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultBackendHealth, defaultServiceHealth, serviceKey, backendKey, type BackendConfig, type ServiceConfig, type XlbConfig } from '../../../src/config/model.js';
import { planReconcile, PlanError, RECOVERED_DIGEST, type HealthSource, type PlanLimits } from '../../../src/daemon/plan.js';
import { Applier, GRACE_MS } from '../../../src/daemon/apply.js';
import type { XdpDataplane } from '../../../src/dataplane/xdp/xdp-dataplane.js';
import { RingBuilder } from '../../../src/lb/ring-builder.js';

const loc = { file: 't.yaml', line: 1, col: 1 };
const be = (address: string, weight = 1): BackendConfig => ({ address, port: 0, weight, health: defaultBackendHealth(), loc });
const svc = (i: number, backends: BackendConfig[]): ServiceConfig => ({
  name: `s${i}`,
  address: `10.${9 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`,
  family: 4,
  port: 80,
  protocol: 'tcp',
  mode: 'dr',
  persistence: false,
  backends,
  health: defaultServiceHealth(),
  loc,
});
const config = (services: ServiceConfig[], maxVips: number): XlbConfig => ({
  file: 't.yaml',
  instance: 't',
  interfaces: [{ name: 'eth0', xdpMode: 'native', loc }],
  metrics: { host: '127.0.0.1', port: 9901 },
  log: { level: 'info', format: 'json' },
  limits: { maxVips, maxBackends: 8192, maxConns: 1024, maxConns6: 1024, maxNat: 1024, ringSize: 13, connRateLimit: 0, flowCache: 16384, nextHopCacheMs: 100 },
  tunnel: { sourceEntropy: false },
  services,
});
const limitsOf = (maxVips: number): PlanLimits => ({ maxVips, maxBackends: 8192, maxRings: maxVips + 2 });

/** A data plane in memory that refuses every write breaking the apply's guarantees. */
class FakeDp {
  readonly rings = new Map<number, Uint32Array>();
  /** VIP address -> ring slot */
  readonly vips = new Map<string, number>();
  /** ring slot -> when the last VIP left it */
  readonly left = new Map<number, number>();
  readonly up = new Map<number, boolean>();
  writes = 0;
  ringWrites = 0;
  readonly ringSize = 13;
  constructor(readonly graceMs: number) {}
  ringEquals(slot: number, ring: Uint32Array): boolean {
    const r = this.rings.get(slot);
    return r !== undefined && r.length === ring.length && r.every((v, i) => v === ring[i]);
  }
  writeRing(slot: number, ring: Uint32Array): void {
    for (const [vip, s] of this.vips) assert.notEqual(s, slot, `ring slot ${slot} written while VIP ${vip} reads it`);
    const gone = this.left.get(slot);
    if (gone !== undefined) assert.ok(performance.now() - gone >= this.graceMs, `ring slot ${slot} reused ${performance.now() - gone} ms after its VIP left`);
    this.rings.set(slot, Uint32Array.from(ring));
    this.writes++;
    this.ringWrites++;
  }
  putVip(v: { addr: string; ring: number }): void {
    const old = this.vips.get(v.addr);
    for (const id of this.rings.get(v.ring) ?? []) assert.equal(this.up.get(id), true, `VIP ${v.addr} flipped to a ring that names backend ${id}, which is not up`);
    this.vips.set(v.addr, v.ring);
    if (old !== undefined && old !== v.ring && ![...this.vips.values()].includes(old)) this.left.set(old, performance.now());
    this.writes++;
  }
  deleteVip(addr: string): boolean {
    const old = this.vips.get(addr);
    this.vips.delete(addr);
    if (old !== undefined) this.left.set(old, performance.now());
    return true;
  }
  putBackend(id: number, b: { flags: number }): void {
    const up = b.flags !== 0;
    if (!up) for (const [vip, s] of this.vips) assert.ok(!this.rings.get(s)!.includes(id), `backend ${id} down while VIP ${vip}'s ring names it`);
    this.up.set(id, up);
    this.writes++;
  }
  clearBackend(id: number): void {
    this.up.delete(id);
  }
  setGlobals(): void {}
  setNatSources(): void {}
  putVipAddr(): void {}
  deleteVipAddr(): boolean {
    return true;
  }
  /** backend ids the ring of a VIP names */
  named(addr: string): Set<number> {
    return new Set(this.rings.get(this.vips.get(addr)!)!);
  }
}

function setup(graceMs: number): { dp: FakeDp; applier: Applier } {
  const dp = new FakeDp(graceMs);
  const applier = new Applier(dp as unknown as XdpDataplane, Date.now, new RingBuilder(1), graceMs);
  return { dp, applier };
}

/** 400 services at max_vips 512: the first 200 share backend 10.0.0.1. */
function shared(): ServiceConfig[] {
  return Array.from({ length: 400 }, (_, i) => svc(i, i < 200 ? [be('10.0.0.1'), be(`10.1.${i >> 8}.${i & 255}`)] : [be(`10.2.${i >> 8}.${i & 255}`)]));
}

describe('ring changes beyond the free slots', () => {
  it('a health change taking a backend shared by 200 services down (114 free slots) is applied in 2 waves', async () => {
    const { dp, applier } = setup(GRACE_MS);
    try {
      const c = config(shared(), 512);
      const first = await applier.applyWaves((view, only) => planReconcile(view, c, 13, limitsOf(512), undefined, only));
      assert.equal(first.waves, 1);
      // each service has a backend entry of its own for 10.0.0.1
      const ids = new Set(c.services.slice(0, 200).map((s) => applier.services.get(serviceKey(s))!.backends[0]!.id));
      let down = false;
      const health: HealthSource = {
        backend: (_s, b, weight) => (down && b === '10.0.0.1:0' ? { up: false, weight: 0 } : { up: true, weight }),
        sorryActive: () => false,
      };
      down = true;
      const touched = new Set(c.services.slice(0, 200).map((s) => serviceKey(s)));
      const res = await applier.applyWaves((view, only) => planReconcile(view, c, 13, limitsOf(512), health, only ?? touched));
      assert.equal(res.ok, true, res.failures.map((f) => f.err.message).join('; '));
      assert.equal(res.waves, 2);
      assert.equal(res.summary.changed.length, 200);
      for (const s of c.services.slice(0, 200)) {
        const id = applier.services.get(serviceKey(s))!.backends[0]!.id;
        assert.ok(!dp.named(s.address).has(id), `${s.name}'s ring still names the down backend`);
        assert.equal(dp.up.get(id), false, `${s.name}: the backend is marked down`);
      }
      for (const [bid, up] of dp.up) assert.equal(up, !ids.has(bid));
    } finally {
      await applier.close();
    }
  });

  it('a reload removing a backend shared by 200 services is applied in 2 waves, the backend cleared after the last', async () => {
    const { dp, applier } = setup(GRACE_MS);
    try {
      const c1 = config(shared(), 512);
      await applier.applyWaves((view, only) => planReconcile(view, c1, 13, limitsOf(512), undefined, only));
      const ids = new Map([...applier.services.values()].map((s) => [s.key, s.backends.map((b) => b.id)] as const));
      const c2 = config(
        c1.services.map((s) => ({ ...s, backends: s.backends.filter((b) => backendKey(b) !== '10.0.0.1:0') })),
        512,
      );
      const res = await applier.applyWaves((view, only) => planReconcile(view, c2, 13, limitsOf(512), undefined, only));
      assert.equal(res.ok, true, res.failures.map((f) => f.err.message).join('; '));
      assert.equal(res.waves, 2);
      assert.deepEqual([res.summary.changed.length, res.summary.added.length, res.summary.unchanged], [200, 0, 200]);
      for (const s of applier.services.values()) {
        assert.equal(s.backends.length, 1);
        assert.ok(ids.get(s.key)!.includes(s.backends[0]!.id), 'backend ids stay');
        assert.deepEqual(dp.named(s.address), new Set([s.backends[0]!.id]));
      }
      await applier.close(); // the releases still waiting are carried out
      assert.equal([...dp.up.keys()].length, 400, 'the shared backend is cleared');
    } finally {
      await applier.close();
    }
  });

  it('a reload of 1,000 services at max_vips 1,000 changing every ring succeeds (500 waves of 2)', async () => {
    const { dp, applier } = setup(2); // a short grace: the waves, not the wait, are under test
    try {
      const mk = (w: number): XlbConfig => config(Array.from({ length: 1000 }, (_, i) => svc(i, [be(`10.1.${i >> 8}.${i & 255}`, w), be(`10.2.${i >> 8}.${i & 255}`)])), 1000);
      const c1 = mk(1);
      await applier.applyWaves((view, only) => planReconcile(view, c1, 13, limitsOf(1000), undefined, only));
      const c2 = mk(0); // drain one backend of every service: every ring changes
      const res = await applier.applyWaves((view, only) => planReconcile(view, c2, 13, limitsOf(1000), undefined, only));
      assert.equal(res.ok, true, res.failures.map((f) => f.err.message).join('; '));
      assert.equal(res.waves, 500);
      assert.equal(res.summary.changed.length, 1000);
      for (const s of applier.services.values()) assert.deepEqual(dp.named(s.address), new Set([s.backends[1]!.id]));
    } finally {
      await applier.close();
    }
  });

  it('a change that no waves can carry out is refused up front, nothing written', async () => {
    const { dp, applier } = setup(GRACE_MS);
    try {
      const limits = { maxVips: 8, maxBackends: 64, maxRings: 8 }; // no spare slot
      const c1 = config(Array.from({ length: 8 }, (_, i) => svc(i, [be(`10.1.0.${i + 1}`)])), 8);
      await applier.applyWaves((view, only) => planReconcile(view, c1, 13, limits, undefined, only));
      const writes = dp.writes;
      const c2 = config(Array.from({ length: 8 }, (_, i) => svc(i, [be(`10.1.0.${i + 1}`), be(`10.2.0.${i + 1}`)])), 8);
      await assert.rejects(
        applier.applyWaves((view, only) => planReconcile(view, c2, 13, limits, undefined, only)),
        (err: Error) => err instanceof PlanError && /no free ring slot: 8 services hold all 8 ring slots/.test(err.message),
      );
      // backend ids that run out only in a later wave: refused now too (8 in use, 8 more wanted, 11 in all)
      assert.throws(() => planReconcile(applier.view(), c2, 13, { ...limits, maxRings: 10, maxBackends: 12 }), /no free backend id \(all 11 in use\)/);
      assert.equal(dp.writes, writes);
    } finally {
      await applier.close();
    }
  });
});

describe('a restart over pinned maps', () => {
  /** `a`'s services as Applier.recover() rebuilds them from the maps: no names, no weights, no digest. */
  const recovered = (a: Applier, b: Applier): void => {
    b.services = new Map([...a.services].map(([k, s]) => [k, { ...s, name: '', ringDigest: RECOVERED_DIGEST, backends: s.backends.map((x) => ({ ...x, weight: -1 })) }]));
    b.nextVipId = a.nextVipId;
    b.nextBackendId = a.nextBackendId;
  };
  const mk = (n: number, w: (i: number) => number = () => 1): XlbConfig =>
    config(Array.from({ length: n }, (_, i) => svc(i, [be(`10.1.${i >> 8}.${i & 255}`, w(i)), be(`10.2.${i >> 8}.${i & 255}`)])), n);

  it('keeps every pinned ring the config still asks for: 1,000 services at max_vips 1,000 in one wave, no ring written', async () => {
    const dp = new FakeDp(2);
    const a = new Applier(dp as unknown as XdpDataplane, Date.now, new RingBuilder(1), 2);
    const b = new Applier(dp as unknown as XdpDataplane, Date.now, new RingBuilder(1), 2);
    try {
      const c = mk(1000);
      await a.applyWaves((view, only) => planReconcile(view, c, 13, limitsOf(1000), undefined, only));
      recovered(a, b);
      const rings = dp.ringWrites;
      assert.equal(await b.adoptRecovered(c), 1000);
      const res = await b.applyWaves((view, only) => planReconcile(view, c, 13, limitsOf(1000), undefined, only));
      assert.equal(res.ok, true, res.failures.map((f) => f.err.message).join('; '));
      assert.equal(res.waves, 1);
      assert.equal(dp.ringWrites, rings, 'no ring written');
      for (const s of b.services.values()) assert.notEqual(s.ringDigest, RECOVERED_DIGEST);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('rewrites only the rings that differ: a weight changed while down, a backend added, health taking one out', async () => {
    const dp = new FakeDp(2);
    const a = new Applier(dp as unknown as XdpDataplane, Date.now, new RingBuilder(1), 2);
    const b = new Applier(dp as unknown as XdpDataplane, Date.now, new RingBuilder(1), 2);
    try {
      await a.applyWaves((view, only) => planReconcile(view, mk(20), 13, limitsOf(20), undefined, only));
      recovered(a, b);
      const c = mk(20, (i) => (i === 3 ? 0 : 1));
      c.services[5] = { ...c.services[5]!, backends: [...c.services[5]!.backends, be('10.3.0.5')] };
      const health: HealthSource = { backend: (sk, bk, weight) => (sk === serviceKey(c.services[7]!) && bk === '10.2.0.7:0' ? { up: false, weight: 0 } : { up: true, weight }), sorryActive: () => false };
      const rings = dp.ringWrites;
      assert.equal(await b.adoptRecovered(c, health), 17);
      const res = await b.applyWaves((view, only) => planReconcile(view, c, 13, limitsOf(20), health, only));
      assert.equal(res.ok, true, res.failures.map((f) => f.err.message).join('; '));
      assert.equal(dp.ringWrites - rings, 3);
      assert.deepEqual(dp.named(c.services[3]!.address), new Set([b.services.get(serviceKey(c.services[3]!))!.backends[1]!.id]));
      assert.equal(dp.named(c.services[5]!.address).size, 3);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
