/**
 * @module vrrp/timers
 * VRRP timer arithmetic: Skew_Time, Master_Down_Interval, the advert
 * interval's rounding per protocol version, and its wire units.
 *
 * Layer: control plane, pure (STYLE H-3, H-28). No I/O, no clock, no timers:
 * every function maps numbers to numbers.
 *
 * Units: milliseconds as JavaScript numbers, fractions allowed. Skew times
 * are multiples of 1/256 of an integer number of ms, so they are exact in a
 * double (3.609375 s, 36.09375 ms), and tests can compare deadlines with `===`.
 * The runner rounds a deadline up to its timer resolution when it arms it.
 *
 * Sources: RFC 3768 §5.3.7, §6.1 (VRRPv2), RFC 5798 §5.2.7, §6.1 (VRRPv3),
 * and keepalived's `VRRP_TIMER_SKEW` / `VRRP_MS_DOWN_TIMER` (vrrp.h) and
 * `advert_int` parsing (vrrp_parser.c, vrrp.c), see
 * shared/reference/keepalived.md §1.3.
 */
import { XlbError } from '../errors.js';
import {
  DOWN_TIMER_ADVERTS_DEFAULT,
  DOWN_TIMER_ADVERTS_MAX,
  DOWN_TIMER_ADVERTS_MIN,
  V2_ADVERT_INT_MAX_MS,
  V2_ADVERT_INT_MIN_MS,
  V2_ADVERT_INT_UNIT_MS,
  V3_ADVERT_INT_MAX_MS,
  V3_ADVERT_INT_MIN_MS,
  V3_ADVERT_INT_UNIT_MS,
  VRRP_PRIO_OWNER,
} from './spec.js';

/** VRRP protocol version: 2 (RFC 3768) or 3 (RFC 5798). */
export type VrrpVersion = 2 | 3;

/** Throws the internal-invariant error: callers validate their input first. */
function invariant(cond: boolean, what: string): asserts cond {
  if (!cond) throw new XlbError('XLB_ERR_INTERNAL', [`vrrp: ${what}`]);
}

function checkVersion(version: number): void {
  invariant(version === 2 || version === 3, `version must be 2 or 3 (got ${version})`);
}

function checkInterval(ms: number, what: string): void {
  invariant(Number.isFinite(ms) && ms > 0, `${what} must be a finite number of ms > 0 (got ${ms})`);
}

/**
 * Skew_Time: how much longer a lower-priority backup waits before it claims
 * mastership, so that the highest-priority backup wins.
 * - v2 (RFC 3768 §6.1): `(256 - Priority) / 256` s, independent of the advert
 *   interval (keepalived `VRRP_TIMER_SKEW`, v2 branch);
 * - v3 (RFC 5798 §6.1): `((256 - Priority) * Master_Adver_Interval) / 256`.
 * @param version 2 or 3
 * @param priority the local (effective) priority, 1..255
 * @param masterAdverIntMs Master_Adver_Interval, ms (used by v3 only)
 * @returns Skew_Time, ms (exact: a multiple of 1/256 ms)
 * @throws XlbError XLB_ERR_INTERNAL on a priority or interval out of range
 */
export function skewTimeMs(version: VrrpVersion, priority: number, masterAdverIntMs: number): number {
  checkVersion(version);
  invariant(Number.isInteger(priority) && priority >= 1 && priority <= VRRP_PRIO_OWNER, `priority must be 1..255 (got ${priority})`);
  checkInterval(masterAdverIntMs, 'Master_Adver_Interval');
  const scale = version === 2 ? V2_ADVERT_INT_UNIT_MS : masterAdverIntMs;
  return ((256 - priority) * scale) / 256;
}

/**
 * The smallest Skew_Time, that of priority 255: keepalived's
 * `VRRP_TIMER_SKEW_MIN`, used when an instance that wants MASTER is held in
 * BACKUP at start (it waits `Master_Adver_Interval + min skew`).
 * @param version 2 or 3
 * @param masterAdverIntMs Master_Adver_Interval, ms (used by v3 only)
 * @returns ms: 1000/256 for v2, masterAdverIntMs/256 for v3
 */
export function minSkewTimeMs(version: VrrpVersion, masterAdverIntMs: number): number {
  return skewTimeMs(version, VRRP_PRIO_OWNER, masterAdverIntMs);
}

/**
 * Master_Down_Interval: how long a backup waits without an accepted advert
 * before it becomes master (RFC 3768 §6.1, RFC 5798 §6.1), with keepalived's
 * `down_timer_adverts` in place of the RFC's fixed 3:
 * `down_timer_adverts * Master_Adver_Interval + Skew_Time`.
 *
 * Worked examples (keepalived.md §1.3): v2, 1 s, priority 100:
 * 3000 + 609.375 = 3609.375 ms; v3, 10 ms, priority 100: 30 + 6.09375 = 36.09375 ms.
 * @param version 2 or 3
 * @param priority the local (effective) priority, 1..255
 * @param masterAdverIntMs Master_Adver_Interval, ms (v2: the own interval; v3: the master's)
 * @param downTimerAdverts multiplier, 1..100, default 3
 * @returns Master_Down_Interval, ms
 * @throws XlbError XLB_ERR_INTERNAL on an argument out of range
 */
export function masterDownIntervalMs(
  version: VrrpVersion,
  priority: number,
  masterAdverIntMs: number,
  downTimerAdverts: number = DOWN_TIMER_ADVERTS_DEFAULT,
): number {
  invariant(
    Number.isInteger(downTimerAdverts) && downTimerAdverts >= DOWN_TIMER_ADVERTS_MIN && downTimerAdverts <= DOWN_TIMER_ADVERTS_MAX,
    `down_timer_adverts must be an integer 1..100 (got ${downTimerAdverts})`,
  );
  return downTimerAdverts * masterAdverIntMs + skewTimeMs(version, priority, masterAdverIntMs);
}

/** An advert interval after the version's rounding. */
export interface RoundedAdvertInt {
  /** The interval the instance will use, ms. */
  readonly ms: number;
  /** The configured value was changed (the loader warns). */
  readonly adjusted: boolean;
  /** What was changed and why, when `adjusted`. */
  readonly warning?: string;
}

/**
 * Rounds a configured advert interval to what the version can carry
 * (keepalived `vrrp_adv_handler` + `vrrp_complete_instance`, keepalived.md §1.3):
 * - v2: whole seconds (RFC 3768 §5.3.7), rounded to the nearest second
 *   (half up), then clamped to 1..255 s; so 0.5 s becomes 1 s (AT-VRRP-04);
 * - v3: centiseconds (RFC 5798 §5.2.7), rounded to the nearest 10 ms (half
 *   up), then clamped to 10 ms..40.95 s; so 15 ms becomes 20 ms and 41 s
 *   becomes 40.95 s (AT-VRRP-03).
 * @param version 2 or 3
 * @param ms the configured interval, ms (> 0)
 * @returns the interval to use, and a warning when it differs from `ms`
 * @throws XlbError XLB_ERR_INTERNAL when `ms` is not a finite number > 0
 */
export function roundAdvertInt(version: VrrpVersion, ms: number): RoundedAdvertInt {
  checkVersion(version);
  checkInterval(ms, 'advert_int');
  const [unit, min, max, what] =
    version === 2
      ? [V2_ADVERT_INT_UNIT_MS, V2_ADVERT_INT_MIN_MS, V2_ADVERT_INT_MAX_MS, 'VRRPv2 carries whole seconds, 1..255 s']
      : [V3_ADVERT_INT_UNIT_MS, V3_ADVERT_INT_MIN_MS, V3_ADVERT_INT_MAX_MS, 'VRRPv3 carries centiseconds, 10 ms..40.95 s'];
  const rounded = Math.min(max, Math.max(min, Math.round(ms / unit) * unit));
  if (rounded === ms) return { ms, adjusted: false };
  return { ms: rounded, adjusted: true, warning: `advert_int ${ms} ms changed to ${rounded} ms (${what})` };
}

/**
 * Whether `ms` is an advert interval the version can carry exactly (what
 * {@link roundAdvertInt} returns unchanged).
 */
export function isValidAdvertInt(version: VrrpVersion, ms: number): boolean {
  if (version !== 2 && version !== 3) return false;
  if (!Number.isFinite(ms) || ms <= 0) return false;
  return !roundAdvertInt(version, ms).adjusted;
}

/**
 * The advert interval field of an advert: v2 seconds (RFC 3768 §5.3.7),
 * v3 centiseconds (RFC 5798 §5.2.7).
 * @param version 2 or 3
 * @param ms an interval the version can carry (see {@link isValidAdvertInt})
 * @returns the field value
 * @throws XlbError XLB_ERR_INTERNAL when `ms` is not such an interval
 */
export function advertIntToWire(version: VrrpVersion, ms: number): number {
  invariant(isValidAdvertInt(version, ms), `advert interval ${ms} ms cannot be carried by VRRPv${version}`);
  return ms / (version === 2 ? V2_ADVERT_INT_UNIT_MS : V3_ADVERT_INT_UNIT_MS);
}

/**
 * The interval an advert's field stands for, ms.
 * @param version 2 or 3
 * @param field v2: seconds (8 bits); v3: centiseconds (12 bits)
 * @returns ms (0 when the field is 0, which the receive checks reject)
 */
export function advertIntFromWire(version: VrrpVersion, field: number): number {
  checkVersion(version);
  invariant(Number.isInteger(field) && field >= 0 && field <= (version === 2 ? 0xff : 0xfff), `advert interval field out of range: ${field}`);
  return field * (version === 2 ? V2_ADVERT_INT_UNIT_MS : V3_ADVERT_INT_UNIT_MS);
}
