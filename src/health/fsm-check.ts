/**
 * @module health/fsm-check
 * The state machine of one health check of one backend: when to probe next,
 * and whether the check is up, from the results the runner reports.
 *
 * Layer: control plane, pure (STYLE H-3, H-28). No I/O, no timers, no
 * sockets, no addon: time is the `now` (ms) the caller passes in, randomness
 * is an injected `rng`. The runner arms one timer at the returned `nextAt`,
 * runs the probe, and calls {@link CheckFsm.onResult}; a probe that runs out
 * of time is reported by the runner as `{ ok: false, reason: 'timeout' }`.
 *
 * Semantics (keepalived §3.1 plus rise/fall):
 * - a round is one attempt plus up to `retries` retries, each `retryDelayMs`
 *   after the failed attempt before it; the round succeeds at its first
 *   successful attempt and fails when every attempt failed;
 * - rounds start at a fixed rate, `intervalMs` after the previous round's
 *   start (no drift from probe durations); a round that overran its slot is
 *   followed at once;
 * - `rise` consecutive successful rounds bring a down check up, `fall`
 *   consecutive failed rounds bring an up check down; an opposite result
 *   resets the other counter;
 * - `alpha`: the check starts down and its first successful round brings it
 *   up whatever `rise` says (keepalived's alpha: "no traffic before the first
 *   success", and keepalived has no rise). Once it has been up, `rise` applies
 *   to every later recovery.
 */
import { XlbError } from '../errors.js';
import type { CheckTiming } from './spec.js';

/** Up or down. */
export type CheckState = 'up' | 'down';

/** Largest weight the data plane holds (u16). */
export const MAX_WEIGHT = 65535;

/** What a probe reports for one attempt. */
export interface CheckResult {
  /** The attempt succeeded. */
  ok: boolean;
  /**
   * Dynamic weight carried by a successful attempt (misc `dynamic`: exit - 2;
   * file: value x weight). Absent on success = the configured weight again.
   * Ignored on failure.
   */
  weight?: number;
  /** Short machine-friendly cause (`timeout`, `refused`, `status 503`). */
  reason?: string;
  /** Human detail for `xlb status` (first bytes of a body, stderr line, ...). */
  detail?: string;
}

/** What the runner does after an attempt: arm its timer at `nextAt`. */
export interface CheckStep {
  /** When the next attempt (retry or next round) is due, ms. */
  nextAt: number;
  /** The check went up or down with this result. */
  changed: boolean;
  /** The check's state after this result. */
  up: boolean;
  /** This result ended a round (success, or the last retry failed). */
  roundDone: boolean;
}

/** The last attempt's result, as recorded for status. */
export interface LastResult {
  /** When it was reported, ms. */
  readonly at: number;
  readonly ok: boolean;
  readonly weight?: number;
  readonly reason?: string;
  readonly detail?: string;
}

/** A read-only picture of a check, for `xlb status` and metrics. */
export interface CheckSnapshot {
  readonly state: CheckState;
  /** When the check entered its state (start time for the initial state); undefined before start. */
  readonly since: number | undefined;
  /** Why it is in its state. */
  readonly reason: string;
  /** Consecutive successful rounds (reset by a failed round). */
  readonly consecutiveOk: number;
  /** Consecutive failed rounds (reset by a successful round). */
  readonly consecutiveFail: number;
  /** Rounds completed since start. */
  readonly rounds: number;
  /** Attempts already made in the round in progress (0 = the next attempt opens a round). */
  readonly attempt: number;
  /** When the next attempt is due; undefined before start. */
  readonly nextAt: number | undefined;
  /** The last attempt's result; undefined before the first. */
  readonly lastResult: LastResult | undefined;
  /** The dynamic weight of the last successful attempt, if it carried one. */
  readonly weight: number | undefined;
}

/** Injected dependencies and labels of a {@link CheckFsm}. */
export interface CheckFsmOptions {
  /** Uniform in [0, 1); default Math.random. Injected so tests can pin the warmup. */
  rng?: () => number;
  /** Receives one line per transition (`"check 0 (tcp): up -> down (2 failed rounds: timeout)"`). */
  trace?: (line: string) => void;
  /** Prefix of trace lines and reasons; default `check`. */
  label?: string;
}

/** Throws the internal-invariant error: the loader should never let such input through. */
export function invariant(cond: boolean, what: string): asserts cond {
  if (!cond) throw new XlbError('XLB_ERR_INTERNAL', [`health: ${what}`]);
}

/**
 * Clamps a dynamic weight to what the data plane can hold: an integer in
 * 0..{@link MAX_WEIGHT}. Probes already clamp; this keeps a bad probe from
 * putting NaN or a fraction into a ring.
 * @returns the clamped weight, or undefined when `w` is absent or not a number
 */
export function clampWeight(w: number | undefined): number | undefined {
  if (w === undefined || Number.isNaN(w)) return undefined;
  return Math.min(MAX_WEIGHT, Math.max(0, Math.trunc(w)));
}

/** Refuses timings the loader should have rejected (a zero interval would spin). */
function checkTiming(t: CheckTiming): void {
  invariant(t.intervalMs > 0, `intervalMs must be > 0 (got ${t.intervalMs})`);
  invariant(Number.isInteger(t.retries) && t.retries >= 0, `retries must be an integer >= 0 (got ${t.retries})`);
  invariant(t.retryDelayMs >= 0, `retryDelayMs must be >= 0 (got ${t.retryDelayMs})`);
  invariant(Number.isInteger(t.rise) && t.rise >= 1, `rise must be an integer >= 1 (got ${t.rise})`);
  invariant(Number.isInteger(t.fall) && t.fall >= 1, `fall must be an integer >= 1 (got ${t.fall})`);
  invariant(t.warmupMs >= 0, `warmupMs must be >= 0 (got ${t.warmupMs})`);
}

/** `1 failed round` / `3 failed rounds`. */
function rounds(n: number, what: string): string {
  return `${n} ${what} round${n === 1 ? '' : 's'}`;
}

/**
 * One check of one backend. Pure: the runner owns the timer and the probe,
 * this owns the schedule and the verdict.
 */
export class CheckFsm {
  readonly #timing: Readonly<CheckTiming>;
  readonly #rng: () => number;
  readonly #trace: ((line: string) => void) | undefined;
  readonly #label: string;
  #state: CheckState;
  #since: number | undefined;
  #reason: string;
  /** Has been up at least once (alpha's one-off bypass of rise is spent). */
  #everUp: boolean;
  #started = false;
  #roundStart = 0;
  #attempt = 0;
  #nextAt: number | undefined;
  #okRounds = 0;
  #failRounds = 0;
  #rounds = 0;
  #last: LastResult | undefined;
  #weight: number | undefined;

  /**
   * @param timing the check's timing (validated by the loader)
   * @param options rng, trace, label
   * @throws XlbError XLB_ERR_INTERNAL when the timing is out of range
   */
  constructor(timing: Readonly<CheckTiming>, options: CheckFsmOptions = {}) {
    checkTiming(timing);
    this.#timing = timing;
    this.#rng = options.rng ?? Math.random;
    this.#trace = options.trace;
    this.#label = options.label ?? 'check';
    this.#state = timing.alpha ? 'down' : 'up';
    this.#everUp = !timing.alpha;
    this.#reason = timing.alpha ? 'alpha: down until the first successful round' : 'initial';
  }

  /** Whether the check is up now. */
  get up(): boolean {
    return this.#state === 'up';
  }

  /** The dynamic weight of the last successful attempt, if it carried one. */
  get weight(): number | undefined {
    return this.#weight;
  }

  /** The label given at construction (for reasons built by the owner). */
  get label(): string {
    return this.#label;
  }

  /** Why the check is in its state. */
  get reason(): string {
    return this.#reason;
  }

  /**
   * Starts the schedule. The first attempt is spread over the warmup so that
   * many checks started together (daemon start, reload) do not probe in one
   * burst (keepalived `warmup`).
   * @param now the current time, ms
   * @returns when the first attempt is due: now + rng() x warmupMs
   * @throws XlbError XLB_ERR_INTERNAL when already started
   */
  start(now: number): number {
    invariant(!this.#started, `${this.#label} started twice`);
    this.#started = true;
    this.#since = now;
    const first = now + this.#rng() * this.#timing.warmupMs;
    this.#roundStart = first;
    this.#nextAt = first;
    return first;
  }

  /**
   * Takes one attempt's result and says when the next attempt is due.
   * @param now when the result arrived, ms
   * @param result the probe's verdict
   * @returns the next attempt time, whether the state changed, the state, and whether a round ended
   * @throws XlbError XLB_ERR_INTERNAL before {@link start}
   */
  onResult(now: number, result: CheckResult): CheckStep {
    invariant(this.#started, `${this.#label}: result before start`);
    this.#attempt++;
    this.#last = Object.freeze({ at: now, ...result });
    if (result.ok) {
      this.#weight = clampWeight(result.weight);
      return this.#endRound(now, true, result);
    }
    if (this.#attempt <= this.#timing.retries) {
      this.#nextAt = now + this.#timing.retryDelayMs;
      return { nextAt: this.#nextAt, changed: false, up: this.up, roundDone: false };
    }
    return this.#endRound(now, false, result);
  }

  /** A read-only picture for status and metrics. */
  snapshot(): CheckSnapshot {
    return Object.freeze({
      state: this.#state,
      since: this.#since,
      reason: this.#reason,
      consecutiveOk: this.#okRounds,
      consecutiveFail: this.#failRounds,
      rounds: this.#rounds,
      attempt: this.#attempt,
      nextAt: this.#nextAt,
      lastResult: this.#last,
      weight: this.#weight,
    });
  }

  /** Counts the round, decides the state, and schedules the next round at the fixed rate. */
  #endRound(now: number, ok: boolean, result: CheckResult): CheckStep {
    this.#rounds++;
    this.#attempt = 0;
    const changed = ok ? this.#roundOk(now) : this.#roundFailed(now, result);
    const next = Math.max(this.#roundStart + this.#timing.intervalMs, now);
    this.#roundStart = next;
    this.#nextAt = next;
    return { nextAt: next, changed, up: this.up, roundDone: true };
  }

  #roundOk(now: number): boolean {
    this.#okRounds++;
    this.#failRounds = 0;
    if (!this.#everUp) return this.#transitionTo(['down'], 'up', 'first successful round (alpha)', now);
    if (this.#okRounds < this.#timing.rise) return false;
    return this.#transitionTo(['down'], 'up', rounds(this.#okRounds, 'successful'), now);
  }

  #roundFailed(now: number, result: CheckResult): boolean {
    this.#failRounds++;
    this.#okRounds = 0;
    if (this.#failRounds < this.#timing.fall) return false;
    return this.#transitionTo(['up'], 'down', `${rounds(this.#failRounds, 'failed')}: ${result.reason ?? 'failed'}`, now);
  }

  /**
   * The only place the state changes (H-28): refuses a transition from a
   * state not in `from`, so a repeated verdict never re-announces a state.
   */
  #transitionTo(from: readonly CheckState[], to: CheckState, reason: string, now: number): boolean {
    if (!from.includes(this.#state) || this.#state === to) return false;
    const was = this.#state;
    this.#state = to;
    this.#since = now;
    this.#reason = reason;
    if (to === 'up') this.#everUp = true;
    this.#trace?.(`${this.#label}: ${was} -> ${to} (${reason})`);
    return true;
  }
}
