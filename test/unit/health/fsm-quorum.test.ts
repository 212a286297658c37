/**
 * QuorumFsm and serviceDesire: transitions exactly at quorum ± hysteresis,
 * the quorum cap and hysteresis clamps, W == 0, the sorry server in and out,
 * events exactly once per transition. The clock is the `now` passed in.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BackendFsm,
  QuorumFsm,
  quorumThresholds,
  serviceDesire,
  sumLiveWeight,
  type BackendDesire,
  type QuorumFsmInit,
} from '../../../src/health/fsm.js';
import type { BackendHealthSpec, ServiceHealthSpec, SorryServerSpec, TcpCheckSpec } from '../../../src/health/spec.js';

const svc = (quorum: number, hysteresis = 0): ServiceHealthSpec => ({ quorum, hysteresis });
const SORRY: SorryServerSpec = { address: '10.0.0.99', port: 0 };
/** A quorum over backends weighing `weights` (sum 10 by default), starting at `liveWeight`. */
const fsm = (o: Partial<QuorumFsmInit> & { spec: ServiceHealthSpec; liveWeight: number }): QuorumFsm =>
  new QuorumFsm({ configuredWeights: [5, 3, 2], now: 0, ...o });
const kinds = (f: QuorumFsm, ws: number[]): string[][] => ws.map((w, i) => f.update(1000 * (i + 1), w).events.map((e) => e.kind));

describe('quorum thresholds', () => {
  it('the quorum is capped to the sum of the configured weights', () => {
    assert.deepEqual(quorumThresholds(svc(50), [5, 3, 2]), { quorum: 10, hysteresis: 0 });
    assert.deepEqual(quorumThresholds(svc(4), [5, 3, 2]), { quorum: 4, hysteresis: 0 });
  });

  it('hysteresis is clamped to quorum - 1', () => {
    assert.deepEqual(quorumThresholds(svc(3, 5), [10, 10]), { quorum: 3, hysteresis: 2 });
    assert.deepEqual(quorumThresholds(svc(1, 5), [10, 10]), { quorum: 1, hysteresis: 0 });
  });

  it('hysteresis is also clamped so that quorum + hysteresis stays reachable', () => {
    assert.deepEqual(quorumThresholds(svc(8, 5), [5, 3, 2]), { quorum: 8, hysteresis: 2 });
    assert.deepEqual(quorumThresholds(svc(50, 5), [5, 3, 2]), { quorum: 10, hysteresis: 0 });
  });

  it('all-zero weights: quorum 1, never met by the configured weights', () => {
    assert.deepEqual(quorumThresholds(svc(1, 0), [0, 0]), { quorum: 1, hysteresis: 0 });
    const f = fsm({ spec: svc(1), configuredWeights: [0, 0], liveWeight: 0 });
    assert.equal(f.up, false);
    assert.deepEqual(kinds(f, [0, 0]), [[], []]);
  });
});

describe('QuorumFsm transitions', () => {
  it('starts up iff W >= quorum + hysteresis, without an event', () => {
    const up = fsm({ spec: svc(5, 2), liveWeight: 7 });
    const down = fsm({ spec: svc(5, 2), liveWeight: 6 });
    assert.deepEqual([up.up, down.up], [true, false]);
    assert.equal(up.snapshot().reason, 'initial: live weight 7 >= quorum 5 + hysteresis 2');
    assert.equal(down.snapshot().reason, 'initial: live weight 6 < quorum 5 + hysteresis 2');
    assert.equal(down.snapshot().since, 0);
  });

  it('down -> up exactly at quorum + hysteresis', () => {
    const f = fsm({ spec: svc(5, 2), liveWeight: 0 });
    assert.deepEqual(kinds(f, [5, 6, 7]), [[], [], ['quorum-up']]);
  });

  it('up -> down exactly below quorum - hysteresis', () => {
    const f = fsm({ spec: svc(5, 2), liveWeight: 10 });
    assert.deepEqual(kinds(f, [4, 3, 2]), [[], [], ['quorum-down']]);
    assert.equal(f.snapshot().reason, 'live weight 2 < quorum 5 - hysteresis 2');
  });

  it('inside the hysteresis band the state holds, either way', () => {
    const f = fsm({ spec: svc(5, 2), liveWeight: 10 });
    assert.deepEqual(kinds(f, [3, 6, 3, 2, 3, 6, 7, 3]), [[], [], [], ['quorum-down'], [], [], ['quorum-up'], []]);
  });

  it('without hysteresis both edges are the quorum itself', () => {
    const f = fsm({ spec: svc(5), liveWeight: 5 });
    assert.deepEqual(kinds(f, [5, 4, 4, 5, 5]), [[], ['quorum-down'], [], ['quorum-up'], []]);
  });

  it('W == 0 loses the quorum, with its own reason', () => {
    const f = fsm({ spec: svc(1), liveWeight: 3 });
    const s = f.update(500, 0);
    assert.deepEqual(s.events, [{ kind: 'quorum-down', reason: 'live weight 0', at: 500, liveWeight: 0 }]);
    assert.deepEqual([s.changed, s.up], [true, false]);
  });

  it('events carry the time, the reason and W; each transition emits exactly one', () => {
    const f = fsm({ spec: svc(4, 1), liveWeight: 10 });
    const events = [10, 2, 2, 1, 5, 5, 10].flatMap((w, i) => f.update(100 * i, w).events);
    assert.deepEqual(events, [
      { kind: 'quorum-down', reason: 'live weight 2 < quorum 4 - hysteresis 1', at: 100, liveWeight: 2 },
      { kind: 'quorum-up', reason: 'live weight 5 >= quorum 4 + hysteresis 1', at: 400, liveWeight: 5 },
    ]);
  });

  it('a capped quorum: with quorum 50 over weights summing to 10, every backend must be up', () => {
    const f = fsm({ spec: svc(50), liveWeight: 10 });
    assert.equal(f.up, true);
    assert.deepEqual(kinds(f, [8, 10]), [['quorum-down'], ['quorum-up']]);
  });

  it('the clamped hysteresis is what applies', () => {
    const f = fsm({ spec: svc(2, 9), configuredWeights: [5, 5], liveWeight: 3 });
    assert.deepEqual(f.thresholds, { quorum: 2, hysteresis: 1 });
    assert.equal(f.up, true);
    assert.deepEqual(kinds(f, [1, 0, 2, 3]), [[], ['quorum-down'], [], ['quorum-up']]);
  });

  it('reconfigure keeps the state and re-evaluates against the new thresholds', () => {
    const f = fsm({ spec: svc(3), liveWeight: 5 });
    const s = f.reconfigure(2000, svc(8), [5, 3, 2], 5, SORRY);
    assert.deepEqual(
      s.events.map((e) => e.kind),
      ['quorum-down'],
    );
    assert.equal(s.sorryActive, true);
    assert.deepEqual(f.reconfigure(3000, svc(8), [5, 3, 2], 5, SORRY).events, []);
  });

  it('snapshot and trace', () => {
    const lines: string[] = [];
    const f = fsm({ spec: svc(5, 1), liveWeight: 10, sorry: SORRY, trace: (l) => lines.push(l), label: 'quorum 10.9.0.1:80/tcp' });
    f.update(1234, 3);
    assert.deepEqual(f.snapshot(), {
      state: 'down',
      since: 1234,
      reason: 'live weight 3 < quorum 5 - hysteresis 1',
      liveWeight: 3,
      quorum: 5,
      hysteresis: 1,
      sorryActive: true,
    });
    assert.deepEqual(lines, ['quorum 10.9.0.1:80/tcp: up -> down (live weight 3 < quorum 5 - hysteresis 1)']);
  });
});

describe('serviceDesire and the sorry server', () => {
  const backends: { key: string; desire: BackendDesire }[] = [
    { key: '10.0.0.1:80', desire: { state: 'up', weight: 5 } },
    { key: '10.0.0.2:80', desire: { state: 'drain', weight: 0 } },
    { key: '10.0.0.3:80', desire: { state: 'down', weight: 0 } },
  ];

  it('quorum up: the backends as they are, no sorry server', () => {
    assert.deepEqual(serviceDesire(backends, true, SORRY), [
      { key: '10.0.0.1:80', state: 'up', weight: 5 },
      { key: '10.0.0.2:80', state: 'drain', weight: 0 },
      { key: '10.0.0.3:80', state: 'down', weight: 0 },
    ]);
  });

  it('quorum lost with a sorry server: the sorry server alone in the ring', () => {
    assert.deepEqual(serviceDesire(backends, false, SORRY), [
      { key: '10.0.0.1:80', state: 'down', weight: 0 },
      { key: '10.0.0.2:80', state: 'drain', weight: 0 },
      { key: '10.0.0.3:80', state: 'down', weight: 0 },
      { key: '10.0.0.99:0', state: 'up', weight: 1, sorry: true },
    ]);
  });

  it('quorum lost without a sorry server: only events, the backends stay as they are', () => {
    assert.deepEqual(serviceDesire(backends, false), serviceDesire(backends, true));
    const f = fsm({ spec: svc(5), liveWeight: 10 });
    const s = f.update(1, 1);
    assert.deepEqual([s.changed, s.sorryActive, f.sorryActive], [true, false, false]);
  });

  it('a service through loss and recovery: sorry in, then out with the up backends back', () => {
    const tcp: TcpCheckSpec = {
      type: 'tcp',
      intervalMs: 1000,
      timeoutMs: 500,
      retries: 0,
      retryDelayMs: 100,
      rise: 1,
      fall: 1,
      warmupMs: 0,
      alpha: false,
      fwmark: 0,
      target: 'backend',
    };
    const hs: BackendHealthSpec = { checks: [tcp], inhibitOnFailure: false, slowStartMs: 0 };
    const bs = [
      { key: '10.0.0.1:80', fsm: new BackendFsm(hs, 2) },
      { key: '10.0.0.2:80', fsm: new BackendFsm(hs, 2) },
    ];
    for (const b of bs) b.fsm.start(0);
    const q = new QuorumFsm({ spec: svc(3), configuredWeights: [2, 2], liveWeight: sumLiveWeight(bs.map((b) => b.fsm)), now: 0, sorry: SORRY });
    const view = (t: number) => serviceDesire(bs.map((b) => ({ key: b.key, desire: b.fsm.desire(t) })), q.up, SORRY);
    assert.equal(q.up, true);

    bs[0]!.fsm.onResult(1000, 0, { ok: false, reason: 'refused' });
    const lost = q.update(1000, sumLiveWeight(bs.map((b) => b.fsm)));
    assert.deepEqual(
      lost.events.map((e) => [e.kind, e.liveWeight]),
      [['quorum-down', 2]],
    );
    assert.deepEqual(view(1000), [
      { key: '10.0.0.1:80', state: 'down', weight: 0 },
      { key: '10.0.0.2:80', state: 'down', weight: 0 },
      { key: '10.0.0.99:0', state: 'up', weight: 1, sorry: true },
    ]);

    bs[0]!.fsm.onResult(2000, 0, { ok: true });
    const regained = q.update(2000, sumLiveWeight(bs.map((b) => b.fsm)));
    assert.deepEqual(
      regained.events.map((e) => [e.kind, e.liveWeight]),
      [['quorum-up', 4]],
    );
    assert.deepEqual(view(2000), [
      { key: '10.0.0.1:80', state: 'up', weight: 2 },
      { key: '10.0.0.2:80', state: 'up', weight: 2 },
    ]);
  });

  it('W counts full weights: a slow-starting backend counts at once', () => {
    const hs: BackendHealthSpec = { checks: [], inhibitOnFailure: false, slowStartMs: 10_000 };
    const b = new BackendFsm(hs, 6, { slowStartOnStart: true });
    b.start(0);
    assert.equal(b.desire(0).weight, 1);
    assert.equal(sumLiveWeight([b, { liveWeight: 4 }]), 10);
  });
});
