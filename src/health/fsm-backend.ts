/**
 * @module health/fsm-backend
 * The state machine of one backend: its checks together, its weight (the
 * configured one, dynamic weights, the slow-start ramp), and what the data
 * plane should hold for it.
 *
 * Layer: control plane, pure (STYLE H-3, H-28). No I/O, no timers: time is
 * the `now` (ms) the caller passes in. The runner arms one timer per check at
 * the `nextAt` the checks return, plus one at {@link BackendFsm.nextChangeAt}
 * while a slow-start ramp is running, and calls {@link BackendFsm.tick} when
 * it fires.
 *
 * Rules (keepalived §2.4, plus xlb's slow start):
 * - the backend is up iff every check is up; no checks = always up;
 * - a down backend with `inhibitOnFailure` is drained (weight 0, existing
 *   flows stay); without it, it is removed (flows rescheduled);
 * - a backend that goes down -> up with `slowStartMs` > 0 ramps from weight 1
 *   to its full weight in at most {@link SLOW_START_MAX_STEPS} steps, each at
 *   least {@link SLOW_START_MIN_STEP_MS} apart, so the ring is rebuilt a
 *   bounded number of times; a backend up at start does not ramp (unless the
 *   owner asks, for a backend added to a running service).
 */
import { CheckFsm, invariant, MAX_WEIGHT, type CheckResult, type CheckSnapshot, type CheckStep } from './fsm-check.js';
import type { BackendHealthSpec } from './spec.js';

/** Up or down, from the checks. */
export type BackendState = 'up' | 'down';

/**
 * What the data plane should hold for a backend:
 * `up`: in the ring with `weight` (weight 0 = no new flows, e.g. a dynamic 0);
 * `drain`: out of the ring, existing flows stay (inhibitOnFailure), weight 0;
 * `down`: removed, its flows are rescheduled, weight 0.
 */
export interface BackendDesire {
  readonly state: 'up' | 'drain' | 'down';
  readonly weight: number;
}

/** A backend transition, for notify_up/notify_down and metrics. Emitted once per transition. */
export interface BackendEvent {
  readonly kind: 'backend-up' | 'backend-down';
  readonly reason: string;
  /** When it happened, ms. */
  readonly at: number;
}

/** The outcome of re-evaluating the backend (ramp timer, weight change). */
export interface BackendTick {
  /** What the data plane should hold now. */
  desire: BackendDesire;
  /** `desire` differs from the one last returned by onResult/tick. */
  desireChanged: boolean;
  /** When the ramp next changes the weight; undefined when nothing is pending. */
  nextChangeAt: number | undefined;
}

/** The outcome of one check result. */
export interface BackendStep extends BackendTick {
  /** The check's own step: arm that check's timer at `check.nextAt`. */
  check: CheckStep;
  /** Zero or one backend transition. */
  events: BackendEvent[];
}

/** A read-only picture of a backend, for `xlb status` and metrics. */
export interface BackendSnapshot {
  readonly state: BackendState;
  /** When it entered its state (start time for the initial state); undefined before start. */
  readonly since: number | undefined;
  readonly reason: string;
  readonly desire: BackendDesire;
  /** The weight from the config. */
  readonly configuredWeight: number;
  /** The weight once any ramp is over: the lowest dynamic weight, else the configured one. */
  readonly fullWeight: number;
  /** When the running slow-start ramp ends; undefined when none runs. */
  readonly slowStartUntil: number | undefined;
  readonly checks: readonly CheckSnapshot[];
}

/** Injected dependencies and labels of a {@link BackendFsm}. */
export interface BackendFsmOptions {
  /** Uniform in [0, 1), for the checks' warmup; default Math.random. */
  rng?: () => number;
  /** Receives one line per transition, of the backend and of its checks, prefixed with `label`. */
  trace?: (line: string) => void;
  /** Prefix of the backend's trace lines; default `backend`. */
  label?: string;
  /**
   * Ramp from start() when the backend starts up (a backend added to a
   * running service is as cold as a recovered one). Default false: at daemon
   * start every backend takes its share at once.
   */
  slowStartOnStart?: boolean;
  /**
   * Running checks to take over, by index (a reload that left these checks
   * unchanged): they keep their state and schedule, and start() leaves them
   * alone. Each must have been made for the same spec as `spec.checks[i]`.
   */
  adopt?: readonly (CheckFsm | undefined)[];
}

/** At most this many weight changes per ramp, so a ramp rebuilds the ring a bounded number of times. */
export const SLOW_START_MAX_STEPS = 20;
/** Ramp steps are at least this far apart, ms, for the same reason. */
export const SLOW_START_MIN_STEP_MS = 100;

/**
 * How many steps a ramp of `slowStartMs` takes: as many as fit at
 * {@link SLOW_START_MIN_STEP_MS} apart, at most {@link SLOW_START_MAX_STEPS},
 * at least 1 (a ramp shorter than a step is one step: weight 1, then full).
 */
export function slowStartSteps(slowStartMs: number): number {
  return Math.max(1, Math.min(SLOW_START_MAX_STEPS, Math.floor(slowStartMs / SLOW_START_MIN_STEP_MS)));
}

/**
 * The weight at step `k` of an `n`-step ramp to `full`: 1 + (full - 1) x k / n,
 * rounded down so the ramp never runs ahead of the straight line; `full` from
 * step n on. A full weight of 0 or 1 has nothing to ramp.
 */
export function slowStartWeight(k: number, n: number, full: number): number {
  if (full <= 1 || k >= n) return full;
  return Math.floor(1 + ((full - 1) * Math.max(0, k)) / n);
}

/** The same desire (data-plane content), field by field. */
export function sameDesire(a: BackendDesire, b: BackendDesire): boolean {
  return a.state === b.state && a.weight === b.weight;
}

/** When step `j` of an `n`-step ramp of `slowStartMs` begun at `start` takes effect. */
function rampStepAt(start: number, slowStartMs: number, n: number, j: number): number {
  return start + (j * slowStartMs) / n;
}

/**
 * The step in effect at `now`: the largest k in 0..n with rampStepAt(k) <= now.
 * The division gives it up to rounding; the loops settle the last ulp so that
 * a timer armed at nextChangeAt() always sees the new step.
 */
function rampStep(start: number, slowStartMs: number, n: number, now: number): number {
  let k = Math.min(n, Math.max(0, Math.floor(((now - start) * n) / slowStartMs)));
  while (k < n && rampStepAt(start, slowStartMs, n, k + 1) <= now) k++;
  while (k > 0 && rampStepAt(start, slowStartMs, n, k) > now) k--;
  return k;
}

function checkWeight(weight: number): void {
  invariant(Number.isInteger(weight) && weight >= 0 && weight <= MAX_WEIGHT, `backend weight must be an integer in 0..${MAX_WEIGHT} (got ${weight})`);
}

/**
 * One backend and its checks. Owns one {@link CheckFsm} per configured check,
 * in the order of `spec.checks` (the index is the check's id for onResult).
 */
export class BackendFsm {
  readonly #spec: Readonly<BackendHealthSpec>;
  readonly #checks: readonly CheckFsm[];
  /** checks taken over running (options.adopt): start() does not start them */
  readonly #adopted: ReadonlySet<CheckFsm>;
  readonly #trace: ((line: string) => void) | undefined;
  readonly #label: string;
  readonly #slowStartOnStart: boolean;
  readonly #steps: number;
  #configuredWeight: number;
  #state: BackendState;
  #since: number | undefined;
  #reason: string;
  #started = false;
  /** Start of the running slow-start ramp. */
  #rampStart: number | undefined;
  #lastDesire: BackendDesire;

  /**
   * @param spec the backend's health options (checks, inhibit, slow start)
   * @param weight the configured weight, 0..65535
   * @param options rng, trace, label, slowStartOnStart
   * @throws XlbError XLB_ERR_INTERNAL on a weight or timing out of range
   */
  constructor(spec: Readonly<BackendHealthSpec>, weight: number, options: BackendFsmOptions = {}) {
    checkWeight(weight);
    invariant(spec.slowStartMs >= 0, `slowStartMs must be >= 0 (got ${spec.slowStartMs})`);
    this.#spec = spec;
    this.#configuredWeight = weight;
    this.#trace = options.trace;
    this.#label = options.label ?? 'backend';
    this.#slowStartOnStart = options.slowStartOnStart ?? false;
    this.#steps = slowStartSteps(spec.slowStartMs);
    const trace = options.trace;
    const checkTrace = trace && ((line: string) => trace(`${this.#label}: ${line}`));
    this.#checks = spec.checks.map((c, i) => options.adopt?.[i] ?? new CheckFsm(c, { rng: options.rng, trace: checkTrace, label: `check ${i} (${c.type})` }));
    this.#adopted = new Set(options.adopt?.filter((c): c is CheckFsm => c !== undefined));
    this.#state = this.#allChecksUp() ? 'up' : 'down';
    this.#reason = this.#initialReason();
    this.#lastDesire = this.desire(0); // no ramp before start: the time does not matter
  }

  /** Whether the backend is up (every check up). */
  get up(): boolean {
    return this.#state === 'up';
  }

  /** The backend's checks, for scheduling and status; index = check id. */
  get checks(): readonly CheckFsm[] {
    return this.#checks;
  }

  /**
   * The weight once any ramp is over. With several dynamic weights the lowest
   * wins: any one check (a file switch set to 0, a load script reporting
   * pressure) can hold traffic back, and the result does not depend on which
   * probe happened to report last, which would flip the weight (and rebuild
   * the ring) between two values every interval.
   */
  get fullWeight(): number {
    let w: number | undefined;
    for (const c of this.#checks) if (c.weight !== undefined) w = w === undefined ? c.weight : Math.min(w, c.weight);
    return w ?? this.#configuredWeight;
  }

  /**
   * What this backend counts for in its service's quorum: the full weight
   * while up (the slow-start ramp is ignored, so a ramp neither delays nor
   * flaps the quorum), 0 while down.
   */
  get liveWeight(): number {
    return this.up ? this.fullWeight : 0;
  }

  /**
   * Starts every check's schedule (but adopted ones, which run already).
   * @param now the current time, ms
   * @returns each check's first attempt time, by check index; NaN for an
   *   adopted check (its owner keeps the schedule it had)
   * @throws XlbError XLB_ERR_INTERNAL when already started
   */
  start(now: number): number[] {
    invariant(!this.#started, `${this.#label} started twice`);
    this.#started = true;
    this.#since = now;
    if (this.#slowStartOnStart && this.up) this.#startRamp(now);
    this.#lastDesire = this.desire(now);
    return this.#checks.map((c) => (this.#adopted.has(c) ? NaN : c.start(now)));
  }

  /**
   * Takes one attempt's result of check `index`.
   * @param now when the result arrived, ms
   * @param index the check's index in `spec.checks`
   * @param result the probe's verdict
   * @returns the check's step, the backend's transition event if any, and the desire
   * @throws XlbError XLB_ERR_INTERNAL on a bad index or before start
   */
  onResult(now: number, index: number, result: CheckResult): BackendStep {
    const check = this.#checks[index];
    invariant(check !== undefined, `${this.#label}: no check ${index}`);
    const step = check.onResult(now, result);
    const events = step.changed ? this.#evaluate(now, check) : [];
    return { check: step, events, ...this.tick(now) };
  }

  /**
   * Re-evaluates the desire at `now`: call it when the ramp timer fires, or
   * after {@link setConfiguredWeight}.
   * @param now the current time, ms
   */
  tick(now: number): BackendTick {
    if (this.#rampStart !== undefined && now >= this.#rampStart + this.#spec.slowStartMs) this.#rampStart = undefined;
    const desire = this.desire(now);
    const desireChanged = !sameDesire(desire, this.#lastDesire);
    this.#lastDesire = desire;
    return { desire, desireChanged, nextChangeAt: this.nextChangeAt(now) };
  }

  /**
   * What the data plane should hold at `now`. Read-only: does not mark the
   * desire as reported (onResult/tick do).
   */
  desire(now: number): BackendDesire {
    if (!this.up) return this.#spec.inhibitOnFailure ? { state: 'drain', weight: 0 } : { state: 'down', weight: 0 };
    const full = this.fullWeight;
    if (this.#rampStart === undefined) return { state: 'up', weight: full };
    return { state: 'up', weight: slowStartWeight(this.#rampStep(this.#rampStart, now), this.#steps, full) };
  }

  /**
   * When the slow-start ramp next changes the weight, so the runner arms one
   * timer; steps at which the rounded weight would not change are skipped.
   * @returns a time > now, or undefined when no change is pending
   */
  nextChangeAt(now: number): number | undefined {
    const start = this.#rampStart;
    if (start === undefined || !this.up) return undefined;
    const full = this.fullWeight;
    const n = this.#steps;
    const k = this.#rampStep(start, now);
    const w = slowStartWeight(k, n, full);
    for (let j = k + 1; j <= n; j++) if (slowStartWeight(j, n, full) !== w) return rampStepAt(start, this.#spec.slowStartMs, n, j);
    return undefined;
  }

  /**
   * Changes the configured weight (a reload that keeps the backend), keeping
   * the checks' state. Call {@link tick} afterwards to get the new desire.
   * @throws XlbError XLB_ERR_INTERNAL when out of 0..65535
   */
  setConfiguredWeight(weight: number): void {
    checkWeight(weight);
    this.#configuredWeight = weight;
  }

  /** A read-only picture for status and metrics. */
  snapshot(now: number): BackendSnapshot {
    const end = this.#rampStart === undefined ? undefined : this.#rampStart + this.#spec.slowStartMs;
    return Object.freeze({
      state: this.#state,
      since: this.#since,
      reason: this.#reason,
      desire: this.desire(now),
      configuredWeight: this.#configuredWeight,
      fullWeight: this.fullWeight,
      slowStartUntil: end !== undefined && this.up && now < end ? end : undefined,
      checks: Object.freeze(this.#checks.map((c) => c.snapshot())),
    });
  }

  #allChecksUp(): boolean {
    return this.#checks.every((c) => c.up);
  }

  #initialReason(): string {
    if (this.#checks.length === 0) return 'no checks';
    const down = this.#checks.find((c) => !c.up);
    return down ? `${down.label} down (${down.reason})` : 'initial';
  }

  /** A check changed state: the backend is up when every check is, down when one is not. */
  #evaluate(now: number, check: CheckFsm): BackendEvent[] {
    const to: BackendState = this.#allChecksUp() ? 'up' : 'down';
    const reason = `${check.label} ${check.up ? 'up' : 'down'} (${check.reason})`;
    if (!this.#transitionTo([to === 'up' ? 'down' : 'up'], to, reason, now)) return [];
    if (to === 'up') this.#startRamp(now);
    else this.#rampStart = undefined;
    return [{ kind: to === 'up' ? 'backend-up' : 'backend-down', reason, at: now }];
  }

  /** Begins a ramp when slow start is on. */
  #startRamp(now: number): void {
    if (this.#spec.slowStartMs > 0) this.#rampStart = now;
  }

  /** The ramp step in effect at `now` of a ramp begun at `start`. */
  #rampStep(start: number, now: number): number {
    return rampStep(start, this.#spec.slowStartMs, this.#steps, now);
  }

  /** The only place the backend's state changes (H-28); see CheckFsm. */
  #transitionTo(from: readonly BackendState[], to: BackendState, reason: string, now: number): boolean {
    if (!from.includes(this.#state) || this.#state === to) return false;
    const was = this.#state;
    this.#state = to;
    this.#since = now;
    this.#reason = reason;
    this.#trace?.(`${this.#label}: ${was} -> ${to} (${reason})`);
    return true;
  }
}
