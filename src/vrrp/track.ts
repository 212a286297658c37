/**
 * @module vrrp/track
 * Tracker arithmetic of a VRRP instance: what each tracked object (interface,
 * script, process, BFD session, file) adds to the priority or whether it puts
 * the instance in FAULT, the effective priority that results, and the
 * rise/fall state of a tracked script.
 *
 * Layer: control plane, pure (STYLE H-3, H-28). No I/O, no clock: the runner
 * watches interfaces, runs scripts (interval, timeout, kill), reads files, and
 * feeds the results here; then it gives {@link evaluateTrackers}'s priority
 * to `VrrpFsm.setPriority` and its faults to `VrrpFsm.setFault`.
 *
 * Rules (keepalived.md §1.7, keepalived `vrrp_track.c`):
 * - a state tracker (interface, script, process, BFD, source address) with
 *   weight 0 puts the instance in FAULT while its object is down; `reverse`
 *   swaps up and down ("weight 0 reverse": FAULT while the object is up);
 * - weight w > 0 adds w while the object is up; weight w < 0 adds w (takes
 *   |w| away) while it is down; `reverse` negates the adjustment (w > 0
 *   reverse takes w away while up, w < 0 reverse adds |w| while down);
 * - a file tracker with weight 0 puts the instance in FAULT while the file's
 *   value is non-zero (reverse: while it is zero); with a weight it adds
 *   value x weight (negated by reverse), at most +253, and a product
 *   below -253 puts the instance in FAULT;
 * - effective priority = clamp(base + sum, 1, 254); a base of 255 (address
 *   owner) is never adjusted, although weight-0 trackers still fault it;
 * - a script that has not reported yet adds nothing; with weight 0 it holds
 *   the instance in INIT (keepalived `num_script_init`): the runner does not
 *   call `VrrpFsm.start` while {@link TrackerEvaluation.pending} is not empty.
 */
import { XlbError } from '../errors.js';
import { VRRP_PRIO_OWNER } from './spec.js';

/** Largest effective priority trackers can give a non-owner. */
export const TRACK_PRIO_MAX = VRRP_PRIO_OWNER - 1;
/** Smallest effective priority (0 is only ever sent, RFC 5798 §5.2.4). */
export const TRACK_PRIO_MIN = 1;
/** Largest amount one file tracker can add (keepalived caps value x weight at 253). */
export const FILE_TRACK_MAX_DELTA = 253;
/** A file tracker whose value x weight is below this faults the instance (keepalived: <= -254). */
export const FILE_TRACK_FAULT_BELOW = -253;

/** An object that is up or down: interface, script, process quorum, BFD session, source address. */
export interface StateTracker {
  readonly type: 'state';
  /** Names the object in fault reasons: `interface eth1`, `script chk_nginx`. */
  readonly name: string;
  /** -253..253 (processes -254..254); 0 = FAULT while down. */
  readonly weight: number;
  /** Swap up and down for weight 0; negate the adjustment otherwise. */
  readonly reverse?: boolean;
  /** The object's state; undefined = not known yet (a script that has not reported). */
  readonly up: boolean | undefined;
}

/** A file holding an integer (`track_file`). */
export interface FileTracker {
  readonly type: 'file';
  /** Names the file in fault reasons: `file /run/prio`. */
  readonly name: string;
  /** 0 = FAULT while the value is non-zero; otherwise the value's multiplier. */
  readonly weight: number;
  /** FAULT while zero (weight 0); negate value x weight otherwise. */
  readonly reverse?: boolean;
  /** The integer read from the file (the runner reads 0 for an empty or unparsable file, like keepalived). */
  readonly value: number;
}

/** Any tracked object. */
export type Tracker = StateTracker | FileTracker;

/** What one tracker does to its instance. */
export interface TrackerEffect {
  /** Amount added to the base priority (0 when it faults or is pending). */
  readonly delta: number;
  /** Why it faults the instance; undefined when it does not. */
  readonly fault?: string;
  /** Set when a weight-0 tracker has not reported yet: the instance must wait in INIT. */
  readonly pending?: string;
}

/** The instance's priority and fault state from all its trackers. */
export interface TrackerEvaluation {
  /** The effective priority: clamp(total, 1, 254), or 255 for an owner. */
  readonly priority: number;
  /** base + sum of the deltas, before the clamp (the base alone for an owner). */
  readonly total: number;
  /** The reasons of every tracker that faults the instance; empty = no fault. */
  readonly faults: readonly string[];
  /** Weight-0 trackers still without a state (scripts before their first result). */
  readonly pending: readonly string[];
}

function invariant(cond: boolean, what: string): asserts cond {
  if (!cond) throw new XlbError('XLB_ERR_INTERNAL', [`vrrp track: ${what}`]);
}

/**
 * What one tracker contributes, by keepalived's rules (see the module comment).
 * @param t the tracker and its object's current state
 * @returns the delta, or the fault or pending reason
 * @throws XlbError XLB_ERR_INTERNAL on a non-integer weight or file value
 */
export function trackerEffect(t: Tracker): TrackerEffect {
  invariant(Number.isInteger(t.weight), `${t.name}: weight must be an integer (got ${t.weight})`);
  const sign = t.reverse ? -1 : 1;
  if (t.type === 'file') {
    invariant(Number.isInteger(t.value), `${t.name}: value must be an integer (got ${t.value})`);
    if (t.weight === 0) {
      const faulted = t.reverse ? t.value === 0 : t.value !== 0;
      return faulted ? { delta: 0, fault: `${t.name} has value ${t.value}${t.reverse ? ' (reverse: 0 faults)' : ''}` } : { delta: 0 };
    }
    const product = t.value * t.weight * sign;
    if (product < FILE_TRACK_FAULT_BELOW) {
      return { delta: 0, fault: `${t.name}: value ${t.value} x weight ${t.weight * sign} = ${product} < ${FILE_TRACK_FAULT_BELOW}` };
    }
    return { delta: Math.min(product, FILE_TRACK_MAX_DELTA) };
  }
  if (t.up === undefined) {
    return t.weight === 0 ? { delta: 0, pending: `${t.name} has no result yet` } : { delta: 0 };
  }
  if (t.weight === 0) {
    const faulted = t.reverse ? t.up : !t.up;
    return faulted ? { delta: 0, fault: t.reverse ? `${t.name} up (reverse)` : `${t.name} down` } : { delta: 0 };
  }
  // w > 0 counts while up, w < 0 while down; reverse negates what counts.
  const counts = t.weight > 0 ? t.up : !t.up;
  return { delta: counts ? t.weight * sign : 0 };
}

/**
 * The effective priority from a base priority and the trackers' sum.
 * @param base the configured priority, 1..255
 * @param total base + the trackers' deltas
 * @returns 255 for an owner (never adjusted), otherwise clamp(total, 1, 254)
 */
export function effectivePriority(base: number, total: number): number {
  invariant(Number.isInteger(base) && base >= 1 && base <= VRRP_PRIO_OWNER, `base priority must be 1..255 (got ${base})`);
  if (base === VRRP_PRIO_OWNER) return VRRP_PRIO_OWNER;
  return Math.min(TRACK_PRIO_MAX, Math.max(TRACK_PRIO_MIN, total));
}

/**
 * The instance's effective priority, faults and pending trackers.
 * @param base the configured priority, 1..255
 * @param trackers the instance's trackers, with its sync group's trackers added by the caller
 * @returns see {@link TrackerEvaluation}
 * @throws XlbError XLB_ERR_INTERNAL on a base out of range or a bad tracker
 */
export function evaluateTrackers(base: number, trackers: Iterable<Tracker>): TrackerEvaluation {
  const owner = base === VRRP_PRIO_OWNER;
  let total = base;
  const faults: string[] = [];
  const pending: string[] = [];
  for (const t of trackers) {
    const e = trackerEffect(t);
    if (e.fault !== undefined) faults.push(e.fault);
    if (e.pending !== undefined) pending.push(e.pending);
    if (!owner) total += e.delta;
  }
  return { priority: effectivePriority(base, total), total, faults, pending };
}

/** Options of a {@link ScriptTrackerState}. */
export interface ScriptTrackerOptions {
  /** Consecutive successes that bring a failed script up (keepalived `rise`, default 1). */
  rise?: number;
  /** Consecutive failures that bring a good script down (keepalived `fall`, default 1). */
  fall?: number;
  /** Start failed instead of unknown (keepalived `init_fail`). */
  initFail?: boolean;
}

/** The outcome of one script result. */
export interface ScriptTrackerStep {
  /** The script's state changed with this result. */
  readonly changed: boolean;
  /** The script's state after this result. */
  readonly up: boolean;
}

/**
 * The rise/fall state of one tracked script (keepalived `vrrp_script`,
 * vrrp_scheduler.c). The runner runs the script every `interval`, kills it at
 * `timeout` and reports the exit status here (0 = success; timeout = failure).
 *
 * - It starts unknown (`up` undefined), and its first result decides at once:
 *   one success is up, one failure is down, whatever rise and fall say
 *   (keepalived: "one success is enough");
 * - with `initFail` it starts down, and needs `rise` successes;
 * - afterwards `fall` consecutive failures bring it down and `rise`
 *   consecutive successes bring it up; an opposite result restarts the count.
 */
export class ScriptTrackerState {
  readonly #rise: number;
  readonly #fall: number;
  #up: boolean | undefined;
  /** Consecutive results against the current state. */
  #streak = 0;

  /**
   * @param options rise, fall, initFail
   * @throws XlbError XLB_ERR_INTERNAL when rise or fall is not an integer >= 1
   */
  constructor(options: ScriptTrackerOptions = {}) {
    const { rise = 1, fall = 1, initFail = false } = options;
    invariant(Number.isInteger(rise) && rise >= 1, `rise must be an integer >= 1 (got ${rise})`);
    invariant(Number.isInteger(fall) && fall >= 1, `fall must be an integer >= 1 (got ${fall})`);
    this.#rise = rise;
    this.#fall = fall;
    this.#up = initFail ? false : undefined;
  }

  /** Up, down, or undefined before the first result (unless initFail). */
  get up(): boolean | undefined {
    return this.#up;
  }

  /**
   * Takes one run's result.
   * @param ok the script exited 0 in time
   * @returns whether the state changed, and the state
   */
  onResult(ok: boolean): ScriptTrackerStep {
    if (this.#up === undefined) {
      this.#up = ok;
      this.#streak = 0;
      return { changed: true, up: ok };
    }
    if (ok === this.#up) {
      this.#streak = 0;
      return { changed: false, up: this.#up };
    }
    this.#streak++;
    if (this.#streak < (ok ? this.#rise : this.#fall)) return { changed: false, up: this.#up };
    this.#up = ok;
    this.#streak = 0;
    return { changed: true, up: ok };
  }

  /**
   * This script as a {@link StateTracker}.
   * @param name e.g. `script chk_nginx`
   * @param weight the track_script weight (overrides the vrrp_script weight)
   * @param reverse the track_script reverse flag
   */
  tracker(name: string, weight: number, reverse = false): StateTracker {
    return { type: 'state', name, weight, reverse, up: this.#up };
  }
}
