/**
 * The services part of `xlb status` (src/daemon/status.ts): what it shows,
 * that a large status lets the event loop run while it is built (timers, an
 * apply in progress), and that it is built from one snapshot of the services.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { servicesStatus, type StatusSource } from '../../../src/daemon/status.js';
import type { PlannedService } from '../../../src/daemon/plan.js';
import type { BackendHealthStatus } from '../../../src/health/runner.js';

function service(i: number, backends = 10): PlannedService {
  return {
    key: `10.0.${i >> 8}.${i & 255}|80|tcp`,
    name: `svc${i}`,
    vipId: i,
    address: `10.0.${i >> 8}.${i & 255}`,
    port: 80,
    proto: 6,
    mode: 'dr',
    persistence: false,
    backends: Array.from({ length: backends }, (_, b) => ({ id: i * backends + b + 1, key: `10.1.${i & 255}.${b}:0`, address: `10.1.${i & 255}.${b}`, port: 0, weight: 1, up: b !== 1 })),
    ringDigest: '',
  };
}

/** A source over `services`, whose counter reads advance `clock` by `costMs` (the map lookups' syscalls). */
function source(services: () => Iterable<PlannedService>, clock: { t: number }, costMs = 0, health: (key: string) => BackendHealthStatus[] = () => []): StatusSource {
  return {
    services,
    vipStats: (id) => ((clock.t += costMs), { packets: BigInt(id * 2), newFlows: BigInt(id) }),
    backendStats: (id) => ((clock.t += costMs), { packets: BigInt(id) }),
    health,
    quorumUp: (key) => (key.startsWith('10.0.0.1|') ? false : true),
    sorryActive: (key) => key === '10.0.0.1|80|tcp',
  };
}

describe('servicesStatus', () => {
  it('shows counters, health and quorum as xlb status did', async () => {
    const clock = { t: 0 };
    const health = (key: string): BackendHealthStatus[] =>
      key === '10.0.0.0|80|tcp'
        ? [
            { backend: '10.1.0.0:0', state: 'drain', weight: 0, reason: 'weight 0', checks: [{ type: 'tcp', state: 'up', reason: 'ok' }] },
            { backend: '10.1.0.1:0', state: 'down', weight: 0, reason: 'tcp refused', checks: [] },
          ]
        : [];
    const st = await servicesStatus(source(() => [service(0, 3), { ...service(1, 1), port: 0, proto: 17 }], clock, 0, health), undefined, () => clock.t);
    assert.deepEqual(st, [
      {
        name: 'svc0',
        vip: '10.0.0.0:80/tcp',
        mode: 'dr',
        packets: 0,
        newFlows: 0,
        quorum: 'ok',
        backends: [
          { backend: '10.1.0.0:0', state: 'drain', weight: 1, packets: 1, reason: 'weight 0', checks: [{ type: 'tcp', state: 'up', reason: 'ok' }] },
          { backend: '10.1.0.1:0', state: 'down', weight: 1, packets: 2 },
          { backend: '10.1.0.2:0', state: 'up', weight: 1, packets: 3 },
        ],
      },
      { name: 'svc1', vip: '10.0.0.1:all/udp', mode: 'dr', packets: 2, newFlows: 1, quorum: 'lost (sorry server in use)', backends: [{ backend: '10.1.1.0:0', state: 'up', weight: 1, packets: 2 }] },
    ]);
  });

  it('a 1,000-service status lets the event loop run while it is built', async () => {
    // each counter read costs 0.05 ms (a map lookup): 1,000 x 11 reads = 550 ms of work
    const clock = { t: 0 };
    const services = Array.from({ length: 1000 }, (_, i) => service(i));
    let building = true;
    let turns = 0;
    const other = (): void => {
      if (!building) return;
      turns++;
      setImmediate(other);
    };
    setImmediate(other); // other work of the daemon: an apply's slices, timers
    const st = await servicesStatus(source(() => services, clock, 0.05), undefined, () => clock.t);
    building = false;
    assert.equal(st.length, 1000);
    // one slice per 2 ms of work: the other work ran about 275 times in between
    assert.ok(turns >= 200, `the event loop ran ${turns} times while the status was built`);
  });

  it('is built from one snapshot: an apply that ends meanwhile does not mix two service sets', async () => {
    const clock = { t: 0 };
    let applied = new Map(Array.from({ length: 100 }, (_, i) => [String(i), service(i)] as const));
    const src = source(() => applied.values(), clock, 0.5);
    const pending = servicesStatus(src, undefined, () => clock.t);
    // the apply ends while the status is being built: the services map is replaced
    await new Promise((resolve) => setImmediate(resolve));
    applied = new Map([['x', service(500)]]);
    const st = await pending;
    assert.deepEqual(
      st.map((s) => s.name),
      Array.from({ length: 100 }, (_, i) => `svc${i}`),
    );
  });
});
