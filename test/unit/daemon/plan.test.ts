/**
 * The reconcile planner: stable ids across reloads, rings written beside the
 * one in use and flipped, releases after the flips, errors when the maps are
 * too small. Pure: no kernel.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultBackendHealth, defaultServiceHealth, type BackendConfig, type ServiceConfig, type XlbConfig } from '../../../src/config/model.js';
import { emptyView, planReconcile, PlanError, ringOf, ringSets, type DataplaneView, type HealthSource, type Plan } from '../../../src/daemon/plan.js';

const loc = { file: 't.yaml', line: 1, col: 1 };
const be = (address: string, weight = 1, port = 0): BackendConfig => ({ address, port, weight, health: defaultBackendHealth(), loc });
const svc = (address: string, port: number, backends: BackendConfig[], mode: ServiceConfig['mode'] = 'dr'): ServiceConfig => ({
  name: `${address}:${port}/tcp`,
  address,
  family: address.includes(':') ? 6 : 4,
  port,
  protocol: 'tcp',
  mode,
  persistence: false,
  backends,
  health: defaultServiceHealth(),
  loc,
});
const config = (services: ServiceConfig[]): XlbConfig => ({
  file: 't.yaml',
  instance: 't',
  interfaces: [{ name: 'eth0', xdpMode: 'native', loc }],
  metrics: { host: '127.0.0.1', port: 9901 },
  log: { level: 'info', format: 'json' },
  limits: { maxVips: 8, maxBackends: 16, maxConns: 1024, maxConns6: 1024, maxNat: 1024, ringSize: 13, connRateLimit: 0, flowCache: 16384, nextHopCacheMs: 100 },
  tunnel: { sourceEntropy: false },
  services,
});
const LIMITS = { maxVips: 8, maxBackends: 16, maxRings: 10 };

/** The view after applying a plan, with releases done (as after the grace period). */
function after(plan: Plan): DataplaneView {
  const usedRings = new Set<number>();
  const usedBackendIds = new Set<number>();
  for (const s of plan.services.values()) {
    usedRings.add(s.ring);
    for (const b of s.backends) usedBackendIds.add(b.id);
  }
  return { services: plan.services, usedRings, usedBackendIds, nextVipId: plan.nextVipId, nextBackendId: plan.nextBackendId };
}
const ops = (p: Plan): string[] => p.steps.map((s) => s.op);

describe('planReconcile', () => {
  it('a first config: backends, then the ring, then the VIP, then the globals', () => {
    const p = planReconcile(emptyView(), config([svc('10.9.0.1', 80, [be('10.0.0.1'), be('10.0.0.2')])]), 13, LIMITS);
    assert.deepEqual(ops(p), ['put-backend', 'put-backend', 'write-ring', 'put-vip', 'globals']);
    const s = p.services.get('10.9.0.1|80|tcp')!;
    assert.equal(s.vipId, 0);
    assert.deepEqual(
      s.backends.map((b) => b.id),
      [1, 2],
    );
    const ring = p.steps.find((x) => x.op === 'write-ring');
    assert.ok(ring && ring.op === 'write-ring' && ring.m === 13);
    const built = ringOf(ring);
    assert.equal(built.length, 13);
    assert.deepEqual(new Set(built), new Set([1, 2]));
    assert.deepEqual(p.summary, { added: ['10.9.0.1:80/tcp'], removed: [], changed: [], unchanged: 0 });
  });

  it('the same config again changes nothing but the globals', () => {
    const c = config([svc('10.9.0.1', 80, [be('10.0.0.1')])]);
    const p1 = planReconcile(emptyView(), c, 13, LIMITS);
    const p2 = planReconcile(after(p1), c, 13, LIMITS);
    assert.deepEqual(ops(p2), ['globals']);
    assert.equal(p2.summary.unchanged, 1);
  });

  it('adding a backend keeps the ids of the others, writes the ring beside, flips, frees the old slot last', () => {
    const p1 = planReconcile(emptyView(), config([svc('10.9.0.1', 80, [be('10.0.0.1'), be('10.0.0.2')])]), 13, LIMITS);
    const p2 = planReconcile(after(p1), config([svc('10.9.0.1', 80, [be('10.0.0.1'), be('10.0.0.2'), be('10.0.0.3')])]), 13, LIMITS);
    assert.deepEqual(ops(p2), ['put-backend', 'write-ring', 'put-vip', 'globals', 'free-ring']);
    const before = p1.services.get('10.9.0.1|80|tcp')!;
    const now = p2.services.get('10.9.0.1|80|tcp')!;
    assert.equal(now.vipId, before.vipId);
    assert.deepEqual(
      now.backends.map((b) => b.id),
      [1, 2, 3],
    );
    assert.notEqual(now.ring, before.ring, 'the new ring is written beside the old one');
    const free = p2.steps.at(-1);
    assert.ok(free && free.op === 'free-ring' && free.slot === before.ring);
  });

  it('a weight change rebuilds the ring without touching backend entries (drain)', () => {
    const p1 = planReconcile(emptyView(), config([svc('10.9.0.1', 80, [be('10.0.0.1'), be('10.0.0.2')])]), 13, LIMITS);
    const p2 = planReconcile(after(p1), config([svc('10.9.0.1', 80, [be('10.0.0.1'), be('10.0.0.2', 0)])]), 13, LIMITS);
    assert.deepEqual(ops(p2), ['write-ring', 'put-vip', 'globals', 'free-ring']);
    const ring = p2.steps[0];
    assert.ok(ring && ring.op === 'write-ring' && [...ringOf(ring)].every((id) => id === 1));
  });

  it('removing a backend clears it after the flip; its id is not reused at once', () => {
    const p1 = planReconcile(emptyView(), config([svc('10.9.0.1', 80, [be('10.0.0.1'), be('10.0.0.2')])]), 13, LIMITS);
    const p2 = planReconcile(after(p1), config([svc('10.9.0.1', 80, [be('10.0.0.1')])]), 13, LIMITS);
    assert.deepEqual(ops(p2), ['write-ring', 'put-vip', 'globals', 'clear-backend', 'free-ring']);
    const p3 = planReconcile(after(p2), config([svc('10.9.0.1', 80, [be('10.0.0.1'), be('10.0.0.9')])]), 13, LIMITS);
    const put = p3.steps.find((s) => s.op === 'put-backend');
    assert.ok(put && put.op === 'put-backend' && put.id === 3, 'round-robin: id 2 is not given out again at once');
  });

  it('removing a service: the VIP first, then its backends and its ring', () => {
    const p1 = planReconcile(emptyView(), config([svc('10.9.0.1', 80, [be('10.0.0.1')]), svc('10.9.0.2', 80, [be('10.0.0.1')])]), 13, LIMITS);
    const p2 = planReconcile(after(p1), config([svc('10.9.0.2', 80, [be('10.0.0.1')])]), 13, LIMITS);
    assert.deepEqual(ops(p2), ['delete-vip', 'globals', 'clear-backend', 'free-ring']);
    assert.deepEqual(p2.summary.removed, ['10.9.0.1:80/tcp']);
    assert.equal(p2.services.get('10.9.0.2|80|tcp')!.vipId, 1, 'the other service keeps its id');
  });

  it('globals: all-ports VIPs, nat backend sources and VIP addresses', () => {
    const p = planReconcile(
      emptyView(),
      config([svc('10.9.0.1', 0, [be('10.0.0.1')]), svc('10.9.0.1', 80, [be('10.0.0.7', 1, 8080)], 'nat'), svc('fd09::1', 80, [be('fd00::1')])]),
      13,
      LIMITS,
    );
    const g = p.steps.find((s) => s.op === 'globals');
    assert.ok(g && g.op === 'globals');
    assert.equal(g.wildcardVips, 1);
    assert.deepEqual(g.natSources, ['10.0.0.7']);
    assert.deepEqual(g.vipAddrs.sort(), ['10.9.0.1', 'fd09::1']);
  });

  it('too many services for the VIP ids, or backends for the backend ids: PlanError', () => {
    const many = Array.from({ length: 9 }, (_, i) => svc(`10.9.0.${i + 1}`, 80, []));
    assert.throws(() => planReconcile(emptyView(), config(many), 13, LIMITS), PlanError);
    const fat = [svc('10.9.0.1', 80, Array.from({ length: 16 }, (_, i) => be(`10.0.1.${i + 1}`)))];
    assert.throws(() => planReconcile(emptyView(), config(fat), 13, LIMITS), /no free backend id \(all 15 in use\)/);
  });

  it('ring slots in their grace period are not reused', () => {
    const p1 = planReconcile(emptyView(), config([svc('10.9.0.1', 80, [be('10.0.0.1')])]), 13, LIMITS);
    const v = after(p1);
    v.usedRings.add(1); // the previous ring, still in grace
    const p2 = planReconcile(v, config([svc('10.9.0.1', 80, [be('10.0.0.1'), be('10.0.0.2')])]), 13, LIMITS);
    const w = p2.steps.find((s) => s.op === 'write-ring');
    assert.ok(w && w.op === 'write-ring' && w.slot === 2);
  });
});

describe('planReconcile: more ring changes than free slots', () => {
  const L = { ...LIMITS, maxBackends: 64 }; // 10 ring slots, 8 services
  const eight = (extra: boolean): XlbConfig => config(Array.from({ length: 8 }, (_, i) => svc(`10.9.0.${i + 1}`, 80, extra ? [be('10.0.0.1'), be('10.0.0.2')] : [be('10.0.0.1')])));

  it('flips as many services as there are free slots and defers the others, unchanged', () => {
    const p1 = planReconcile(emptyView(), eight(false), 13, L);
    const p2 = planReconcile(after(p1), eight(true), 13, L); // every ring changes, 2 slots free
    assert.equal(p2.summary.changed.length, 2);
    assert.equal(p2.deferred.length, 6);
    assert.deepEqual(p2.steps.filter((s) => s.op === 'write-ring').length, 2);
    assert.deepEqual(p2.steps.filter((s) => s.op === 'put-vip').length, 2);
    assert.deepEqual(p2.steps.filter((s) => s.op === 'free-ring').length, 2);
    for (const key of p2.deferred) assert.deepEqual(p2.services.get(key), p1.services.get(key), 'a deferred service stays as it is');
    // once the released slots are free: the next wave takes the next two, with the same ids
    const p3 = planReconcile(after(p2), eight(true), 13, L, undefined, new Set(p2.deferred));
    assert.equal(p3.summary.changed.length, 2);
    assert.equal(p3.deferred.length, 4);
    for (const key of p2.deferred) assert.equal(p3.services.get(key)!.vipId, p1.services.get(key)!.vipId);
  });

  it('a deferred service going down keeps its backend up until its own wave (no ring names a down backend)', () => {
    const p1 = planReconcile(emptyView(), eight(true), 13, L);
    const down: HealthSource = { backend: (_s, b, w) => (b === '10.0.0.1:0' ? { up: false, weight: 0 } : { up: true, weight: w }), sorryActive: () => false };
    const p2 = planReconcile(after(p1), eight(true), 13, L, down);
    assert.equal(p2.deferred.length, 6);
    const downs = p2.steps.filter((s) => s.op === 'put-backend' && !s.up);
    assert.equal(downs.length, 2, 'only the two services flipped mark it down');
  });

  it('ringSets: the keys and weights of the rings a plan writes, in its order', () => {
    const cfg = config([svc('10.9.0.1', 80, [be('10.0.0.2', 3), be('10.0.0.1')]), svc('10.9.0.2', 80, [be('10.0.0.3'), be('10.0.0.4', 2)])]);
    const down: HealthSource = { backend: (_s, b, w) => (b === '10.0.0.4:0' ? { up: false, weight: 0 } : { up: true, weight: w }), sorryActive: () => false };
    const p = planReconcile(emptyView(), cfg, 13, LIMITS, down);
    const written = p.steps.flatMap((st) => (st.op === 'write-ring' ? [st.backends.map((b) => ({ key: b.key, weight: b.weight }))] : []));
    assert.deepEqual([...ringSets(cfg, down)], written);
    assert.deepEqual(written[1], [
      { key: '10.0.0.3:0', weight: 1 },
      { key: '10.0.0.4:0', weight: 0 },
    ]);
  });
});
