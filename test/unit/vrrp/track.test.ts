/**
 * Tracker arithmetic (keepalived.md §1.7): every row of the table (weight 0,
 * positive, negative, reverse, for state and file trackers), the clamp to
 * 1..254, the untouchable owner, pending scripts; and the rise/fall state of
 * a tracked script with init_fail.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ScriptTrackerState,
  effectivePriority,
  evaluateTrackers,
  trackerEffect,
  type FileTracker,
  type StateTracker,
} from '../../../src/vrrp/track.js';
import { XlbError } from '../../../src/errors.js';

const internal = (e: unknown) => e instanceof XlbError && e.code === 'XLB_ERR_INTERNAL';
const st = (weight: number, up: boolean | undefined, reverse = false, name = 'interface eth1'): StateTracker => ({
  type: 'state',
  name,
  weight,
  reverse,
  up,
});
const file = (weight: number, value: number, reverse = false): FileTracker => ({ type: 'file', name: 'file /run/prio', weight, reverse, value });

describe('state trackers (interface, script, process, bfd)', () => {
  it('weight 0: down faults, up does nothing', () => {
    assert.deepEqual(trackerEffect(st(0, true)), { delta: 0 });
    assert.deepEqual(trackerEffect(st(0, false)), { delta: 0, fault: 'interface eth1 down' });
  });

  it('weight 0 reverse: up faults, down does nothing', () => {
    assert.deepEqual(trackerEffect(st(0, true, true)), { delta: 0, fault: 'interface eth1 up (reverse)' });
    assert.deepEqual(trackerEffect(st(0, false, true)), { delta: 0 });
  });

  it('weight > 0: +w while up, nothing while down', () => {
    assert.deepEqual(trackerEffect(st(10, true)), { delta: 10 });
    assert.deepEqual(trackerEffect(st(10, false)), { delta: 0 });
  });

  it('weight < 0: nothing while up, -|w| while down', () => {
    assert.deepEqual(trackerEffect(st(-20, true)), { delta: 0 });
    assert.deepEqual(trackerEffect(st(-20, false)), { delta: -20 });
  });

  it('weight > 0 reverse: -w while up, nothing while down', () => {
    assert.deepEqual(trackerEffect(st(10, true, true)), { delta: -10 });
    assert.deepEqual(trackerEffect(st(10, false, true)), { delta: 0 });
  });

  it('weight < 0 reverse: nothing while up, +|w| while down', () => {
    assert.deepEqual(trackerEffect(st(-20, true, true)), { delta: 0 });
    assert.deepEqual(trackerEffect(st(-20, false, true)), { delta: 20 });
  });

  it('a script without a result yet: weight 0 is pending, a weight adds nothing', () => {
    assert.deepEqual(trackerEffect(st(0, undefined, false, 'script chk')), { delta: 0, pending: 'script chk has no result yet' });
    assert.deepEqual(trackerEffect(st(0, undefined, true, 'script chk')), { delta: 0, pending: 'script chk has no result yet' });
    assert.deepEqual(trackerEffect(st(30, undefined)), { delta: 0 });
    assert.deepEqual(trackerEffect(st(-30, undefined)), { delta: 0 });
  });

  it('refuses a fractional weight', () => {
    assert.throws(() => trackerEffect(st(1.5, true)), internal);
  });
});

describe('file trackers', () => {
  it('weight 0: a non-zero value faults, 0 does nothing', () => {
    assert.deepEqual(trackerEffect(file(0, 0)), { delta: 0 });
    assert.deepEqual(trackerEffect(file(0, 3)), { delta: 0, fault: 'file /run/prio has value 3' });
    assert.deepEqual(trackerEffect(file(0, -1)), { delta: 0, fault: 'file /run/prio has value -1' });
  });

  it('weight 0 reverse: 0 faults, a non-zero value does nothing', () => {
    assert.deepEqual(trackerEffect(file(0, 0, true)), { delta: 0, fault: 'file /run/prio has value 0 (reverse: 0 faults)' });
    assert.deepEqual(trackerEffect(file(0, 7, true)), { delta: 0 });
  });

  it('weighted: value x weight is added', () => {
    assert.deepEqual(trackerEffect(file(10, 2)), { delta: 20 });
    assert.deepEqual(trackerEffect(file(-5, 4)), { delta: -20 });
    assert.deepEqual(trackerEffect(file(10, 0)), { delta: 0 });
  });

  it('reverse negates value x weight', () => {
    assert.deepEqual(trackerEffect(file(10, 2, true)), { delta: -20 });
    assert.deepEqual(trackerEffect(file(-5, 4, true)), { delta: 20 });
  });

  it('a product below -253 faults; -253 itself is a delta', () => {
    assert.deepEqual(trackerEffect(file(1, -253)), { delta: -253 });
    assert.deepEqual(trackerEffect(file(1, -254)), { delta: 0, fault: 'file /run/prio: value -254 x weight 1 = -254 < -253' });
    assert.deepEqual(trackerEffect(file(100, -3)), { delta: 0, fault: 'file /run/prio: value -3 x weight 100 = -300 < -253' });
    assert.deepEqual(trackerEffect(file(100, 3, true)), { delta: 0, fault: 'file /run/prio: value 3 x weight -100 = -300 < -253' });
  });

  it('a product above 253 adds 253', () => {
    assert.deepEqual(trackerEffect(file(10, 100)), { delta: 253 });
  });

  it('refuses a fractional value', () => {
    assert.throws(() => trackerEffect(file(1, 0.5)), internal);
  });
});

describe('effective priority', () => {
  it('base + sum, clamped to 1..254', () => {
    assert.equal(effectivePriority(100, 130), 130);
    assert.equal(effectivePriority(100, 300), 254);
    assert.equal(effectivePriority(100, 255), 254);
    assert.equal(effectivePriority(100, 0), 1);
    assert.equal(effectivePriority(100, -50), 1);
  });

  it('a base of 255 is never adjusted', () => {
    assert.equal(effectivePriority(255, 100), 255);
    assert.equal(effectivePriority(255, 400), 255);
  });

  it('refuses a base outside 1..255', () => {
    assert.throws(() => effectivePriority(0, 0), internal);
    assert.throws(() => effectivePriority(256, 256), internal);
  });

  it('sums every tracker', () => {
    const ev = evaluateTrackers(100, [st(10, true, false, 'interface eth1'), st(-30, false, false, 'script chk'), file(5, 2), st(25, false, true, 'bfd peer')]);
    assert.deepEqual(ev, { priority: 90, total: 90, faults: [], pending: [] });
  });

  it('clamps the sum: 100 + 200 -> 254, 100 - 150 -> 1', () => {
    assert.deepEqual(evaluateTrackers(100, [st(200, true)]), { priority: 254, total: 300, faults: [], pending: [] });
    assert.deepEqual(evaluateTrackers(100, [st(-150, false)]), { priority: 1, total: -50, faults: [], pending: [] });
  });

  it('an owner keeps 255 whatever the weights, but weight-0 trackers still fault it', () => {
    assert.deepEqual(evaluateTrackers(255, [st(-100, false), file(10, 2)]), { priority: 255, total: 255, faults: [], pending: [] });
    assert.deepEqual(evaluateTrackers(255, [st(0, false, false, 'interface eth0')]), {
      priority: 255,
      total: 255,
      faults: ['interface eth0 down'],
      pending: [],
    });
  });

  it('collects every fault and every pending tracker, and still computes the priority', () => {
    const ev = evaluateTrackers(100, [st(0, false, false, 'interface eth0'), file(0, 1), st(0, undefined, false, 'script chk'), st(20, true)]);
    assert.deepEqual(ev, {
      priority: 120,
      total: 120,
      faults: ['interface eth0 down', 'file /run/prio has value 1'],
      pending: ['script chk has no result yet'],
    });
  });

  it('no trackers: the base priority', () => {
    assert.deepEqual(evaluateTrackers(150, []), { priority: 150, total: 150, faults: [], pending: [] });
  });
});

describe('ScriptTrackerState (rise/fall)', () => {
  it('starts unknown; one success is up, whatever rise says', () => {
    const s = new ScriptTrackerState({ rise: 3, fall: 3 });
    assert.equal(s.up, undefined);
    assert.deepEqual(s.onResult(true), { changed: true, up: true });
  });

  it('starts unknown; one failure is down, whatever fall says', () => {
    const s = new ScriptTrackerState({ rise: 3, fall: 3 });
    assert.deepEqual(s.onResult(false), { changed: true, up: false });
  });

  it('init_fail starts down and needs rise successes', () => {
    const s = new ScriptTrackerState({ rise: 2, fall: 1, initFail: true });
    assert.equal(s.up, false);
    assert.deepEqual(s.onResult(true), { changed: false, up: false });
    assert.deepEqual(s.onResult(true), { changed: true, up: true });
  });

  it('up goes down after fall consecutive failures', () => {
    const s = new ScriptTrackerState({ rise: 1, fall: 3 });
    s.onResult(true);
    assert.deepEqual(
      [false, false, false].map((r) => s.onResult(r)),
      [
        { changed: false, up: true },
        { changed: false, up: true },
        { changed: true, up: false },
      ],
    );
  });

  it('a success between failures restarts the fall count', () => {
    const s = new ScriptTrackerState({ rise: 1, fall: 2 });
    s.onResult(true);
    assert.deepEqual(
      [false, true, false, false].map((r) => s.onResult(r).changed),
      [false, false, false, true],
    );
    assert.equal(s.up, false);
  });

  it('down comes up after rise consecutive successes; a failure restarts the count', () => {
    const s = new ScriptTrackerState({ rise: 3, fall: 1 });
    s.onResult(false);
    assert.deepEqual(
      [true, true, false, true, true, true].map((r) => s.onResult(r).changed),
      [false, false, false, false, false, true],
    );
    assert.equal(s.up, true);
  });

  it('repeated results in the current state change nothing', () => {
    const s = new ScriptTrackerState();
    s.onResult(true);
    assert.deepEqual(s.onResult(true), { changed: false, up: true });
    assert.deepEqual(s.onResult(true), { changed: false, up: true });
  });

  it('gives its state as a tracker, weight and reverse from track_script', () => {
    const s = new ScriptTrackerState();
    assert.deepEqual(s.tracker('script chk', 0), { type: 'state', name: 'script chk', weight: 0, reverse: false, up: undefined });
    s.onResult(false);
    assert.deepEqual(trackerEffect(s.tracker('script chk', -40)), { delta: -40 });
    assert.deepEqual(trackerEffect(s.tracker('script chk', 0, true)), { delta: 0 });
  });

  it('refuses rise or fall below 1', () => {
    assert.throws(() => new ScriptTrackerState({ rise: 0 }), internal);
    assert.throws(() => new ScriptTrackerState({ fall: 1.5 }), internal);
  });
});
