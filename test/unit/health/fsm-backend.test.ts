/**
 * BackendFsm: all checks up = up, inhibit = drain, dynamic weights (lowest
 * wins), slow-start ramp values, step count and nextChangeAt, events exactly
 * once per transition. The clock is the `now` passed to each call.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BackendFsm,
  SLOW_START_MAX_STEPS,
  slowStartSteps,
  slowStartWeight,
  type BackendEvent,
  type BackendFsmOptions,
  type CheckResult,
} from '../../../src/health/fsm.js';
import type { BackendHealthSpec, CheckTiming, MiscCheckSpec, TcpCheckSpec } from '../../../src/health/spec.js';
import { XlbError } from '../../../src/errors.js';

const timing = (o: Partial<CheckTiming> = {}): CheckTiming => ({
  intervalMs: 1000,
  timeoutMs: 500,
  retries: 0,
  retryDelayMs: 100,
  rise: 1,
  fall: 1,
  warmupMs: 0,
  alpha: false,
  ...o,
});
const tcp = (o: Partial<CheckTiming> = {}): TcpCheckSpec => ({ type: 'tcp', ...timing(o), fwmark: 0, target: 'backend' });
const misc = (o: Partial<CheckTiming> = {}): MiscCheckSpec => ({ type: 'misc', ...timing(o), command: ['/bin/true'], dynamic: true });
const spec = (o: Partial<BackendHealthSpec> = {}): BackendHealthSpec => ({ checks: [tcp()], inhibitOnFailure: false, slowStartMs: 0, ...o });
const OK: CheckResult = { ok: true };
const FAIL: CheckResult = { ok: false, reason: 'refused' };
const errCode = (code: string) => (e: unknown) => e instanceof XlbError && e.code === code;

/** A started backend. */
function started(s: BackendHealthSpec, weight = 10, opts: BackendFsmOptions = {}, t0 = 0): BackendFsm {
  const b = new BackendFsm(s, weight, opts);
  b.start(t0);
  return b;
}

/** Brings an up backend down with check 0, then up again at `upAt`; returns the up step's events. */
function bounce(b: BackendFsm, downAt: number, upAt: number): BackendEvent[] {
  b.onResult(downAt, 0, FAIL);
  return b.onResult(upAt, 0, OK).events;
}

describe('BackendFsm adopting running checks (reload)', () => {
  it('an adopted check keeps its state and schedule; start() starts only the new ones', () => {
    const old = started(spec({ checks: [tcp(), tcp({ intervalMs: 500 })] }), 10);
    old.onResult(10, 1, FAIL);
    assert.equal(old.up, false);
    const kept = old.checks[1]!;
    const b = new BackendFsm(spec({ checks: [tcp({ intervalMs: 300 }), tcp({ intervalMs: 500 })] }), 20, { adopt: [undefined, kept] });
    assert.equal(b.checks[1], kept);
    assert.equal(b.up, false, 'down: the adopted check is down');
    const first = b.start(100);
    assert.equal(first[0], 100);
    assert.ok(Number.isNaN(first[1]!), 'the adopted check is not restarted');
    assert.deepEqual(b.onResult(120, 1, OK).events.map((e) => e.kind), ['backend-up']);
    assert.deepEqual(b.desire(120), { state: 'up', weight: 20 });
  });
});

describe('BackendFsm up and down', () => {
  it('no checks: always up with the configured weight', () => {
    const b = new BackendFsm(spec({ checks: [] }), 7);
    assert.deepEqual(b.start(0), []);
    assert.equal(b.up, true);
    assert.deepEqual(b.desire(0), { state: 'up', weight: 7 });
    assert.equal(b.snapshot(0).reason, 'no checks');
    assert.throws(() => b.onResult(1, 0, OK), errCode('XLB_ERR_INTERNAL'));
  });

  it('start returns each check first attempt time', () => {
    let i = 0;
    const rolls = [0.1, 0.7];
    const b = new BackendFsm(spec({ checks: [tcp({ warmupMs: 1000 }), tcp({ warmupMs: 1000 })] }), 1, { rng: () => rolls[i++]! });
    assert.deepEqual(b.start(50), [150, 750]);
    assert.deepEqual(
      b.checks.map((c) => [c.label, c.snapshot().nextAt]),
      [
        ['check 0 (tcp)', 150],
        ['check 1 (tcp)', 750],
      ],
    );
  });

  it('a failing check takes the backend down: one event, desire down, flows rescheduled', () => {
    const b = started(spec());
    const step = b.onResult(1000, 0, FAIL);
    assert.deepEqual(step.events, [{ kind: 'backend-down', reason: 'check 0 (tcp) down (1 failed round: refused)', at: 1000 }]);
    assert.deepEqual(step.desire, { state: 'down', weight: 0 });
    assert.equal(step.desireChanged, true);
    assert.equal(step.check.nextAt, 1000);
    assert.equal(step.nextChangeAt, undefined);
  });

  it('inhibitOnFailure: a down backend is drained (weight 0, existing flows stay)', () => {
    const b = started(spec({ inhibitOnFailure: true }));
    const step = b.onResult(1000, 0, FAIL);
    assert.deepEqual(step.desire, { state: 'drain', weight: 0 });
    assert.equal(step.events.length, 1);
  });

  it('recovery: one backend-up event and the configured weight back', () => {
    const b = started(spec(), 10);
    b.onResult(1000, 0, FAIL);
    const step = b.onResult(2000, 0, OK);
    assert.deepEqual(step.events, [{ kind: 'backend-up', reason: 'check 0 (tcp) up (1 successful round)', at: 2000 }]);
    assert.deepEqual(step.desire, { state: 'up', weight: 10 });
    assert.equal(step.desireChanged, true);
  });

  it('repeated verdicts emit nothing and change nothing', () => {
    const b = started(spec());
    const results = [OK, OK, FAIL, FAIL, FAIL, OK, OK];
    const steps = results.map((r, i) => b.onResult(1000 * (i + 1), 0, r));
    assert.deepEqual(
      steps.map((s) => s.events.map((e) => e.kind)),
      [[], [], ['backend-down'], [], [], ['backend-up'], []],
    );
    assert.deepEqual(
      steps.map((s) => s.desireChanged),
      [false, false, true, false, false, true, false],
    );
  });
});

describe('BackendFsm several checks', () => {
  const two = () => spec({ checks: [tcp(), tcp({ fall: 2 })] });

  it('down as soon as any check is down', () => {
    const b = started(two());
    const s = b.onResult(1000, 0, FAIL);
    assert.equal(b.up, false);
    assert.equal(s.events.length, 1);
  });

  it('a second check failing while down emits no second event', () => {
    const b = started(two());
    b.onResult(1000, 0, FAIL);
    const a = b.onResult(1100, 1, FAIL);
    const c = b.onResult(2100, 1, FAIL);
    assert.deepEqual(a.events, []);
    assert.equal(c.check.changed, true);
    assert.deepEqual(c.events, []);
  });

  it('up only when every check is up again', () => {
    const b = started(two());
    b.onResult(1000, 1, FAIL);
    b.onResult(2000, 1, FAIL);
    b.onResult(2100, 0, FAIL);
    const first = b.onResult(3000, 1, OK);
    assert.equal(first.check.changed, true);
    assert.deepEqual(first.events, []);
    assert.equal(b.up, false);
    assert.equal(b.snapshot(3000).reason, 'check 1 (tcp) down (2 failed rounds: refused)');
    const second = b.onResult(3100, 0, OK);
    assert.deepEqual(second.events, [{ kind: 'backend-up', reason: 'check 0 (tcp) up (1 successful round)', at: 3100 }]);
  });

  it('an alpha check keeps the backend out until its first success', () => {
    const b = started(spec({ checks: [tcp(), tcp({ alpha: true, rise: 3 })], inhibitOnFailure: true }));
    assert.equal(b.up, false);
    assert.deepEqual(b.desire(0), { state: 'drain', weight: 0 });
    assert.equal(b.snapshot(0).reason, 'check 1 (tcp) down (alpha: down until the first successful round)');
    assert.deepEqual(b.onResult(10, 0, OK).events, []);
    const up = b.onResult(20, 1, OK);
    assert.deepEqual(
      up.events.map((e) => e.kind),
      ['backend-up'],
    );
    assert.deepEqual(up.desire, { state: 'up', weight: 10 });
  });
});

describe('BackendFsm dynamic weights', () => {
  it('a dynamic weight replaces the configured one; the same weight again is no change', () => {
    const b = started(spec({ checks: [misc()] }), 10);
    const a = b.onResult(1000, 0, { ok: true, weight: 7 });
    assert.deepEqual([a.desire, a.desireChanged], [{ state: 'up', weight: 7 }, true]);
    const c = b.onResult(2000, 0, { ok: true, weight: 7 });
    assert.equal(c.desireChanged, false);
    assert.deepEqual(c.events, []);
  });

  it('a success without a weight restores the configured weight', () => {
    const b = started(spec({ checks: [misc()] }), 10);
    b.onResult(1000, 0, { ok: true, weight: 3 });
    const s = b.onResult(2000, 0, OK);
    assert.deepEqual([s.desire, s.desireChanged], [{ state: 'up', weight: 10 }, true]);
  });

  it('with two dynamic checks the lowest weight wins, whichever reported last', () => {
    const b = started(spec({ checks: [misc(), misc()] }), 10);
    b.onResult(1000, 0, { ok: true, weight: 40 });
    b.onResult(1001, 1, { ok: true, weight: 25 });
    assert.equal(b.desire(1001).weight, 25);
    b.onResult(2000, 0, { ok: true, weight: 30 });
    assert.equal(b.desire(2000).weight, 25);
    b.onResult(2001, 1, { ok: true, weight: 90 });
    assert.equal(b.desire(2001).weight, 30);
  });

  it('a dynamic weight may exceed the configured one; 0 keeps it up with no new flows', () => {
    const b = started(spec({ checks: [misc()] }), 10);
    assert.equal(b.onResult(1000, 0, { ok: true, weight: 253 }).desire.weight, 253);
    assert.deepEqual(b.onResult(2000, 0, { ok: true, weight: 0 }).desire, { state: 'up', weight: 0 });
    assert.equal(b.up, true);
  });

  it('liveWeight is the full weight while up and 0 while down', () => {
    const b = started(spec({ checks: [misc()] }), 10);
    b.onResult(1000, 0, { ok: true, weight: 4 });
    assert.equal(b.liveWeight, 4);
    b.onResult(2000, 0, FAIL);
    assert.equal(b.liveWeight, 0);
  });

  it('a reload that changes the configured weight shows on the next tick', () => {
    const b = started(spec(), 10);
    b.setConfiguredWeight(20);
    assert.deepEqual(b.tick(5), { desire: { state: 'up', weight: 20 }, desireChanged: true, nextChangeAt: undefined });
    assert.equal(b.tick(6).desireChanged, false);
    assert.throws(() => b.setConfiguredWeight(65536), errCode('XLB_ERR_INTERNAL'));
  });

  it('configured weights out of 0..65535 or fractional are internal errors', () => {
    for (const w of [-1, 65536, 1.5]) assert.throws(() => new BackendFsm(spec(), w), errCode('XLB_ERR_INTERNAL'), String(w));
  });
});

describe('slow start', () => {
  it('steps: at most 20, at least 100 ms apart, at least 1', () => {
    assert.deepEqual(
      [0, 50, 100, 250, 1000, 2000, 2099, 10_000, 600_000].map(slowStartSteps),
      [1, 1, 1, 2, 10, 20, 20, 20, SLOW_START_MAX_STEPS],
    );
  });

  it('weights: 1 at step 0, the straight line rounded down, full at the last step', () => {
    assert.deepEqual(
      [0, 1, 2, 10, 19, 20].map((k) => slowStartWeight(k, 20, 100)),
      [1, 5, 10, 50, 95, 100],
    );
    assert.equal(slowStartWeight(0, 20, 1), 1);
    assert.equal(slowStartWeight(3, 20, 0), 0);
  });

  it('a recovered backend ramps from 1 to full in 20 steps of 500 ms over 10 s', () => {
    const b = started(spec({ slowStartMs: 10_000 }), 100);
    b.onResult(1000, 0, FAIL);
    const up = b.onResult(2000, 0, OK);
    assert.deepEqual(up.desire, { state: 'up', weight: 1 });
    assert.equal(up.nextChangeAt, 2500);
    const at = (t: number) => b.desire(t).weight;
    assert.deepEqual(
      [2000, 2499, 2500, 2999, 3000, 7000, 11_499, 11_500, 11_999, 12_000, 50_000].map(at),
      [1, 1, 5, 5, 10, 50, 90, 95, 95, 100, 100],
    );
  });

  it('a runner following nextChangeAt applies exactly 20 changes, then has nothing pending', () => {
    const b = started(spec({ slowStartMs: 10_000 }), 100);
    b.onResult(1000, 0, FAIL);
    let next = b.onResult(2000, 0, OK).nextChangeAt;
    const applied: [number, number][] = [];
    while (next !== undefined) {
      const t = b.tick(next);
      assert.equal(t.desireChanged, true);
      applied.push([next, t.desire.weight]);
      next = t.nextChangeAt;
    }
    assert.equal(applied.length, 20);
    assert.deepEqual(applied[0], [2500, 5]);
    assert.deepEqual(applied[9], [7000, 50]);
    assert.deepEqual(applied[19], [12_000, 100]);
    for (let i = 1; i < applied.length; i++) assert.ok(applied[i]![0] - applied[i - 1]![0] >= 100);
    assert.equal(b.nextChangeAt(12_000), undefined);
    assert.equal(b.snapshot(12_000).slowStartUntil, undefined);
  });

  it('a short ramp: 1 s gives 10 steps of 100 ms', () => {
    const b = started(spec({ slowStartMs: 1000 }), 1000);
    bounce(b, 100, 200);
    assert.equal(b.nextChangeAt(200), 300);
    assert.deepEqual(
      [200, 300, 700, 1199, 1200].map((t) => b.desire(t).weight),
      [1, 100, 500, 900, 1000],
    );
  });

  it('a ramp shorter than a step is one step: 1, then full', () => {
    const b = started(spec({ slowStartMs: 50 }), 8);
    bounce(b, 100, 200);
    assert.equal(b.desire(249).weight, 1);
    assert.equal(b.nextChangeAt(200), 250);
    assert.equal(b.desire(250).weight, 8);
  });

  it('nextChangeAt skips steps where the rounded weight does not move', () => {
    const b = started(spec({ slowStartMs: 2000 }), 3);
    bounce(b, 100, 1000);
    assert.equal(b.nextChangeAt(1000), 2000);
    assert.equal(b.desire(1999).weight, 1);
    assert.equal(b.tick(2000).desire.weight, 2);
    assert.equal(b.nextChangeAt(2000), 3000);
    assert.equal(b.tick(3000).desire.weight, 3);
    assert.equal(b.nextChangeAt(3000), undefined);
  });

  it('step boundaries hold to the last ulp with fractional times', () => {
    // 1100.1 - 1000.1 rounds below 100: the division alone would say step 0.
    const a = started(spec({ slowStartMs: 300 }), 4);
    bounce(a, 0, 1000.1);
    assert.equal(a.nextChangeAt(1000.1), 1100.1);
    assert.equal(a.desire(1100.1).weight, 2);
    // Here the division says step 19 one ulp before step 19 begins.
    const b = started(spec({ slowStartMs: 2054.5 }), 21);
    bounce(b, 0, 51.9);
    assert.equal(b.desire(2003.675).weight, 19);
    assert.equal(b.nextChangeAt(2003.675), 2003.6750000000002);
    assert.equal(b.desire(2003.6750000000002).weight, 20);
  });

  it('a weight of 1 has nothing to ramp', () => {
    const b = started(spec({ slowStartMs: 5000 }), 1);
    b.onResult(100, 0, FAIL);
    const up = b.onResult(200, 0, OK);
    assert.deepEqual([up.desire.weight, up.nextChangeAt], [1, undefined]);
  });

  it('a backend up at start does not ramp', () => {
    const b = new BackendFsm(spec({ slowStartMs: 10_000 }), 100);
    b.start(0);
    assert.deepEqual(b.desire(0), { state: 'up', weight: 100 });
    assert.equal(b.nextChangeAt(0), undefined);
  });

  it('slowStartOnStart ramps a backend up at start (added to a running service)', () => {
    const b = started(spec({ slowStartMs: 10_000 }), 100, { slowStartOnStart: true }, 5000);
    assert.deepEqual(b.desire(5000), { state: 'up', weight: 1 });
    assert.equal(b.nextChangeAt(5000), 5500);
    assert.equal(b.snapshot(5000).slowStartUntil, 15_000);
  });

  it('an alpha backend coming up for the first time ramps', () => {
    const b = started(spec({ checks: [tcp({ alpha: true })], slowStartMs: 2000 }), 40);
    const up = b.onResult(300, 0, OK);
    assert.deepEqual([up.desire.weight, up.nextChangeAt], [1, 400]);
  });

  it('going down mid-ramp cancels it; the next recovery ramps again from 1', () => {
    const b = started(spec({ slowStartMs: 10_000 }), 100);
    bounce(b, 0, 1000);
    assert.equal(b.desire(6000).weight, 50);
    const down = b.onResult(6000, 0, FAIL);
    assert.deepEqual([down.desire, down.nextChangeAt], [{ state: 'down', weight: 0 }, undefined]);
    const up = b.onResult(7000, 0, OK);
    assert.deepEqual([up.desire.weight, up.nextChangeAt], [1, 7500]);
  });

  it('a dynamic weight change mid-ramp rescales the ramp to the new full weight', () => {
    const b = started(spec({ checks: [misc()], slowStartMs: 10_000 }), 100);
    bounce(b, 0, 1000);
    assert.equal(b.desire(6000).weight, 50);
    const s = b.onResult(6000, 0, { ok: true, weight: 21 });
    assert.deepEqual([s.desire.weight, s.desireChanged], [11, true]);
    assert.equal(b.desire(11_000).weight, 21);
  });

  it('the ramp does not lower the live weight the quorum counts', () => {
    const b = started(spec({ slowStartMs: 10_000 }), 100);
    bounce(b, 0, 1000);
    assert.equal(b.desire(1000).weight, 1);
    assert.equal(b.liveWeight, 100);
  });
});

describe('BackendFsm status and traces', () => {
  it('snapshot: state, since, reason, desire, weights, ramp end, checks', () => {
    const b = started(spec({ checks: [tcp(), misc()], slowStartMs: 4000 }), 12, {}, 100);
    b.onResult(1000, 1, { ok: true, weight: 9 });
    bounce(b, 2000, 3000);
    const s = b.snapshot(3000);
    assert.equal(s.state, 'up');
    assert.equal(s.since, 3000);
    assert.equal(s.reason, 'check 0 (tcp) up (1 successful round)');
    assert.deepEqual(s.desire, { state: 'up', weight: 1 });
    assert.equal(s.configuredWeight, 12);
    assert.equal(s.fullWeight, 9);
    assert.equal(s.slowStartUntil, 7000);
    assert.equal(s.checks.length, 2);
    assert.equal(s.checks[0]!.consecutiveOk, 1);
    assert.equal(s.checks[1]!.weight, 9);
  });

  it('traces backend and check transitions once each, in order', () => {
    const lines: string[] = [];
    const b = started(spec(), 10, { trace: (l) => lines.push(l), label: 'backend 10.0.0.1:80' });
    b.onResult(1000, 0, { ok: false, reason: 'timeout' });
    b.onResult(2000, 0, { ok: false, reason: 'timeout' });
    b.onResult(3000, 0, OK);
    assert.deepEqual(lines, [
      'backend 10.0.0.1:80: check 0 (tcp): up -> down (1 failed round: timeout)',
      'backend 10.0.0.1:80: up -> down (check 0 (tcp) down (1 failed round: timeout))',
      'backend 10.0.0.1:80: check 0 (tcp): down -> up (1 successful round)',
      'backend 10.0.0.1:80: down -> up (check 0 (tcp) up (1 successful round))',
    ]);
  });

  it('starting twice and unknown check indexes are internal errors', () => {
    const b = started(spec());
    assert.throws(() => b.start(1), errCode('XLB_ERR_INTERNAL'));
    assert.throws(() => b.onResult(1, 1, OK), errCode('XLB_ERR_INTERNAL'));
  });
});
