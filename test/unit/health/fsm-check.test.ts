/**
 * CheckFsm: warmup, fixed-rate rounds, retries, rise/fall, alpha, dynamic
 * weights, status snapshot. Driven by a fake clock: the test moves `now` to
 * each `nextAt` the machine returns, plus however long the probe "took".
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CheckFsm, clampWeight, type CheckResult, type CheckStep } from '../../../src/health/fsm.js';
import type { CheckTiming } from '../../../src/health/spec.js';
import { XlbError } from '../../../src/errors.js';

const timing = (o: Partial<CheckTiming> = {}): CheckTiming => ({
  intervalMs: 2000,
  timeoutMs: 1000,
  retries: 0,
  retryDelayMs: 1000,
  rise: 1,
  fall: 1,
  warmupMs: 0,
  alpha: false,
  ...o,
});
const OK: CheckResult = { ok: true };
const FAIL: CheckResult = { ok: false, reason: 'refused' };
const TIMEOUT: CheckResult = { ok: false, reason: 'timeout' };

/** A probe outcome and how long the probe took (the fake clock advances by it). */
type Attempt = CheckResult & { took?: number };
/** One attempt as the runner saw it: when it started, when it ended, the step. */
interface Seen {
  startedAt: number;
  at: number;
  step: CheckStep;
}

/** A fake clock driving one check: starts it at `t0`, then plays the attempts. */
class Driver {
  now: number;
  next: number;
  readonly seen: Seen[] = [];
  constructor(
    readonly fsm: CheckFsm,
    t0 = 0,
  ) {
    this.now = t0;
    this.next = fsm.start(t0);
  }
  /** Runs the next attempts at their due times. */
  play(...attempts: Attempt[]): Seen[] {
    const out: Seen[] = [];
    for (const { took = 0, ...result } of attempts) {
      const startedAt = this.next;
      this.now = startedAt + took;
      const step = this.fsm.onResult(this.now, result);
      this.next = step.nextAt;
      out.push({ startedAt, at: this.now, step });
    }
    this.seen.push(...out);
    return out;
  }
  /** Plays `n` rounds of one outcome (no retries left to use). */
  rounds(n: number, a: Attempt): Seen[] {
    return this.play(...Array.from({ length: n }, () => a));
  }
}

const errCode = (code: string) => (e: unknown) => e instanceof XlbError && e.code === code;

describe('CheckFsm warmup', () => {
  it('starts at now + rng() x warmupMs', () => {
    const fsm = new CheckFsm(timing({ warmupMs: 1000 }), { rng: () => 0.25 });
    assert.equal(fsm.start(5000), 5250);
    assert.equal(fsm.snapshot().nextAt, 5250);
  });

  it('spreads checks started together over the warmup', () => {
    const values = [0, 0.5, 0.999];
    const firsts = values.map((v) => new CheckFsm(timing({ warmupMs: 2000 }), { rng: () => v }).start(100));
    assert.deepEqual(firsts, [100, 1100, 2098]);
  });

  it('warmup 0 starts at once, whatever the rng says', () => {
    const fsm = new CheckFsm(timing({ warmupMs: 0 }), { rng: () => 0.9 });
    assert.equal(fsm.start(777), 777);
  });

  it('the first round starts at the warmup time, and the grid follows from it', () => {
    const d = new Driver(new CheckFsm(timing({ warmupMs: 1000 }), { rng: () => 0.5 }), 0);
    const s = d.play({ ...OK, took: 10 }, { ...OK, took: 10 });
    assert.deepEqual(
      s.map((x) => [x.startedAt, x.step.nextAt]),
      [
        [500, 2500],
        [2500, 4500],
      ],
    );
  });
});

describe('CheckFsm scheduling', () => {
  it('rounds start at a fixed rate from the previous start, not from the result', () => {
    const d = new Driver(new CheckFsm(timing({ intervalMs: 2000 })), 0);
    const s = d.play({ ...OK, took: 300 }, { ...OK, took: 1999 }, { ...OK, took: 0 });
    assert.deepEqual(
      s.map((x) => [x.startedAt, x.at, x.step.nextAt]),
      [
        [0, 300, 2000],
        [2000, 3999, 4000],
        [4000, 4000, 6000],
      ],
    );
    assert.ok(s.every((x) => x.step.roundDone));
  });

  it('a round that overran its slot is followed at once, and the grid moves there', () => {
    const d = new Driver(new CheckFsm(timing({ intervalMs: 2000 })), 0);
    const s = d.play({ ...TIMEOUT, took: 2500 }, { ...OK, took: 100 });
    assert.equal(s[0]!.step.nextAt, 2500);
    assert.equal(s[1]!.startedAt, 2500);
    assert.equal(s[1]!.step.nextAt, 4500);
  });

  it('a round ending exactly on the next slot keeps the grid', () => {
    const d = new Driver(new CheckFsm(timing({ intervalMs: 1000 })), 0);
    const [a] = d.play({ ...OK, took: 1000 });
    assert.equal(a!.step.nextAt, 1000);
  });

  it('fractional intervals stay exact on the grid', () => {
    const d = new Driver(new CheckFsm(timing({ intervalMs: 0.5 })), 0);
    const s = d.rounds(4, OK);
    assert.deepEqual(
      s.map((x) => x.step.nextAt),
      [0.5, 1, 1.5, 2],
    );
  });
});

describe('CheckFsm retries', () => {
  it('retries a failed attempt after retryDelayMs; the round fails only when all attempts fail', () => {
    const d = new Driver(new CheckFsm(timing({ intervalMs: 5000, retries: 2, retryDelayMs: 500 })), 0);
    const s = d.play({ ...FAIL, took: 100 }, { ...FAIL, took: 100 }, { ...FAIL, took: 100 });
    assert.deepEqual(
      s.map((x) => [x.startedAt, x.step.nextAt, x.step.roundDone, x.step.up]),
      [
        [0, 600, false, true],
        [600, 1200, false, true],
        [1200, 5000, true, false],
      ],
    );
    assert.equal(s[2]!.step.changed, true);
  });

  it('a successful retry ends the round as a success', () => {
    const fsm = new CheckFsm(timing({ intervalMs: 5000, retries: 3, retryDelayMs: 500 }));
    const d = new Driver(fsm, 0);
    const s = d.play(FAIL, OK);
    assert.deepEqual(
      s.map((x) => [x.step.nextAt, x.step.roundDone, x.step.changed]),
      [
        [500, false, false],
        [5000, true, false],
      ],
    );
    const snap = fsm.snapshot();
    assert.equal(snap.consecutiveOk, 1);
    assert.equal(snap.consecutiveFail, 0);
    assert.equal(snap.rounds, 1);
    assert.equal(snap.attempt, 0);
  });

  it('the retry delay counts from the failed attempt, which may be late', () => {
    const d = new Driver(new CheckFsm(timing({ intervalMs: 5000, retries: 1, retryDelayMs: 300 })), 0);
    const [a] = d.play({ ...TIMEOUT, took: 1000 });
    assert.equal(a!.step.nextAt, 1300);
  });

  it('retries that run past the interval make the next round start at once', () => {
    const d = new Driver(new CheckFsm(timing({ intervalMs: 2000, retries: 2, retryDelayMs: 1000 })), 0);
    const s = d.play({ ...TIMEOUT, took: 500 }, { ...TIMEOUT, took: 500 }, { ...TIMEOUT, took: 500 });
    assert.deepEqual(
      s.map((x) => x.step.nextAt),
      [1500, 3000, 3500],
    );
  });

  it('the attempt counter restarts with each round', () => {
    const fsm = new CheckFsm(timing({ retries: 2, fall: 2 }));
    const d = new Driver(fsm, 0);
    d.play(FAIL);
    assert.equal(fsm.snapshot().attempt, 1);
    d.play(FAIL, FAIL);
    assert.equal(fsm.snapshot().attempt, 0);
    assert.equal(fsm.snapshot().rounds, 1);
    d.play(FAIL);
    assert.equal(fsm.snapshot().attempt, 1);
  });
});

describe('CheckFsm rise and fall', () => {
  it('fall: an up check goes down at the fall-th consecutive failed round, not before', () => {
    const fsm = new CheckFsm(timing({ fall: 3 }));
    const s = new Driver(fsm, 0).rounds(4, FAIL);
    assert.deepEqual(
      s.map((x) => [x.step.up, x.step.changed]),
      [
        [true, false],
        [true, false],
        [false, true],
        [false, false],
      ],
    );
    assert.equal(fsm.snapshot().reason, '3 failed rounds: refused');
    assert.equal(fsm.snapshot().since, 4000);
    assert.equal(fsm.snapshot().consecutiveFail, 4);
  });

  it('fall counts rounds, not attempts: fall 2 with 1 retry needs 4 failed attempts', () => {
    const fsm = new CheckFsm(timing({ fall: 2, retries: 1, retryDelayMs: 100 }));
    const s = new Driver(fsm, 0).play(FAIL, FAIL, FAIL, FAIL);
    assert.deepEqual(
      s.map((x) => x.step.up),
      [true, true, true, false],
    );
    assert.equal(s.filter((x) => x.step.changed).length, 1);
  });

  it('rise: a down check comes up at the rise-th consecutive successful round', () => {
    const fsm = new CheckFsm(timing({ rise: 3 }));
    const d = new Driver(fsm, 0);
    d.play(FAIL);
    const s = d.rounds(3, OK);
    assert.deepEqual(
      s.map((x) => [x.step.up, x.step.changed]),
      [
        [false, false],
        [false, false],
        [true, true],
      ],
    );
    assert.equal(fsm.snapshot().reason, '3 successful rounds');
    assert.equal(fsm.snapshot().since, 6000);
  });

  it('a successful round resets the failure count', () => {
    const d = new Driver(new CheckFsm(timing({ fall: 3 })), 0);
    const s = d.play(FAIL, FAIL, OK, FAIL, FAIL);
    assert.ok(s.every((x) => x.step.up));
    const [last] = d.play(FAIL);
    assert.equal(last!.step.up, false);
    assert.equal(last!.step.changed, true);
  });

  it('a failed round resets the success count', () => {
    const fsm = new CheckFsm(timing({ rise: 3 }));
    const d = new Driver(fsm, 0);
    d.play(FAIL);
    const s = d.play(OK, OK, FAIL, OK, OK);
    assert.ok(s.every((x) => !x.step.up));
    assert.equal(fsm.snapshot().consecutiveOk, 2);
    const [last] = d.play(OK);
    assert.equal(last!.step.up, true);
    assert.equal(last!.step.changed, true);
  });

  it('counters keep counting in a steady state, without further changes', () => {
    const fsm = new CheckFsm(timing({ rise: 2, fall: 2 }));
    const s = new Driver(fsm, 0).rounds(5, OK);
    assert.ok(s.every((x) => x.step.up && !x.step.changed));
    assert.equal(fsm.snapshot().consecutiveOk, 5);
    assert.equal(fsm.snapshot().reason, 'initial');
  });
});

describe('CheckFsm alpha', () => {
  it('without alpha the check starts up', () => {
    const fsm = new CheckFsm(timing());
    assert.equal(fsm.up, true);
  });

  it('with alpha it starts down; the first successful round brings it up even with rise 3', () => {
    const fsm = new CheckFsm(timing({ alpha: true, rise: 3 }));
    assert.equal(fsm.up, false);
    assert.equal(fsm.reason, 'alpha: down until the first successful round');
    const [a] = new Driver(fsm, 0).play(OK);
    assert.deepEqual(a!.step, { nextAt: 2000, changed: true, up: true, roundDone: true });
    assert.equal(fsm.reason, 'first successful round (alpha)');
  });

  it('with alpha, failed rounds before the first success change nothing', () => {
    const fsm = new CheckFsm(timing({ alpha: true, fall: 1 }));
    const s = new Driver(fsm, 0).play(FAIL, FAIL, OK);
    assert.deepEqual(
      s.map((x) => [x.step.up, x.step.changed]),
      [
        [false, false],
        [false, false],
        [true, true],
      ],
    );
  });

  it('after alpha has been spent, rise applies to every later recovery', () => {
    const fsm = new CheckFsm(timing({ alpha: true, rise: 2, fall: 1 }));
    const d = new Driver(fsm, 0);
    d.play(OK, FAIL);
    assert.equal(fsm.up, false);
    const [first, second] = d.play(OK, OK);
    assert.equal(first!.step.up, false);
    assert.equal(second!.step.up, true);
  });
});

describe('CheckFsm results and status', () => {
  it('records the last result with its time, reason and detail', () => {
    const fsm = new CheckFsm(timing({ fall: 2 }));
    const d = new Driver(fsm, 0);
    d.play({ ok: false, reason: 'status 503', detail: 'Service Unavailable', took: 42 });
    assert.deepEqual(fsm.snapshot().lastResult, { at: 42, ok: false, reason: 'status 503', detail: 'Service Unavailable' });
  });

  it('a successful attempt carries the dynamic weight; a failure keeps it; a success without one clears it', () => {
    const fsm = new CheckFsm(timing({ fall: 2 }));
    const d = new Driver(fsm, 0);
    d.play({ ok: true, weight: 7 });
    assert.equal(fsm.weight, 7);
    d.play({ ok: false, weight: 99 });
    assert.equal(fsm.weight, 7);
    d.play(OK);
    assert.equal(fsm.weight, undefined);
  });

  it('clamps dynamic weights to integers in 0..65535', () => {
    assert.deepEqual(
      [70000, -3, 2.7, 0, Number.NaN, undefined].map(clampWeight),
      [65535, 0, 2, 0, undefined, undefined],
    );
    const fsm = new CheckFsm(timing());
    new Driver(fsm, 0).play({ ok: true, weight: 1e9 });
    assert.equal(fsm.weight, 65535);
  });

  it('a full snapshot after a few rounds', () => {
    const fsm = new CheckFsm(timing({ fall: 2, warmupMs: 100 }), { rng: () => 0.5 });
    const d = new Driver(fsm, 1000);
    d.play({ ...OK, weight: 3, took: 5 }, { ...TIMEOUT, took: 1000 });
    assert.deepEqual(fsm.snapshot(), {
      state: 'up',
      since: 1000,
      reason: 'initial',
      consecutiveOk: 0,
      consecutiveFail: 1,
      rounds: 2,
      attempt: 0,
      nextAt: 5050,
      lastResult: { at: 4050, ok: false, reason: 'timeout' },
      weight: 3,
    });
  });

  it('a failed round without a reason says "failed"', () => {
    const fsm = new CheckFsm(timing());
    new Driver(fsm, 0).play({ ok: false });
    assert.equal(fsm.reason, '1 failed round: failed');
  });

  it('traces each transition once, with its reason', () => {
    const lines: string[] = [];
    const fsm = new CheckFsm(timing({ fall: 2 }), { trace: (l) => lines.push(l), label: 'check 0 (tcp)' });
    new Driver(fsm, 0).play(TIMEOUT, TIMEOUT, TIMEOUT, OK, OK);
    assert.deepEqual(lines, ['check 0 (tcp): up -> down (2 failed rounds: timeout)', 'check 0 (tcp): down -> up (1 successful round)']);
  });
});

describe('CheckFsm misuse', () => {
  it('a result before start is an internal error', () => {
    const fsm = new CheckFsm(timing());
    assert.throws(() => fsm.onResult(0, OK), errCode('XLB_ERR_INTERNAL'));
  });

  it('starting twice is an internal error', () => {
    const fsm = new CheckFsm(timing());
    fsm.start(0);
    assert.throws(() => fsm.start(1), errCode('XLB_ERR_INTERNAL'));
  });

  it('timings the loader should have refused are internal errors', () => {
    for (const bad of [{ intervalMs: 0 }, { rise: 0 }, { fall: 1.5 }, { retries: -1 }, { retryDelayMs: -1 }, { warmupMs: -5 }]) {
      assert.throws(() => new CheckFsm(timing(bad)), errCode('XLB_ERR_INTERNAL'), JSON.stringify(bad));
    }
  });
});
