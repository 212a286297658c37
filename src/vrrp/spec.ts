/**
 * @module vrrp/spec
 * The VRRP protocol's constants and defaults, in one place that both sides
 * read: the config format (src/config/vrrp-model.ts, its ranges and the JSON
 * Schema) and the protocol code (./timers.ts, ./fsm.ts, ./track.ts,
 * ./sync-group.ts). As src/health/spec.ts is for the health checks.
 *
 * Layer: control plane, pure data. No I/O; imports nothing, so the config
 * can read it without pulling in the state machine or the runner
 * (test/unit/config/imports.test.ts).
 *
 * Sources: RFC 3768 (VRRPv2), RFC 5798 (VRRPv3), and keepalived's defaults
 * (shared/reference/keepalived.md §1.3, §1.11, §1.15).
 */

/** Priority of the address owner, RFC 5798 §5.2.4. */
export const VRRP_PRIO_OWNER = 255;
/** Priority a master sends when it resigns, RFC 5798 §5.2.4; never configured. */
export const VRRP_PRIO_STOP = 0;
/** Default priority of a backup (RFC 5798 §5.2.4, keepalived). */
export const VRRP_PRIO_DEFAULT = 100;

/** Master_Down_Interval multiplier of the RFCs (3 advert intervals), keepalived `down_timer_adverts`. */
export const DOWN_TIMER_ADVERTS_DEFAULT = 3;
/** Smallest `down_timer_adverts` keepalived accepts. */
export const DOWN_TIMER_ADVERTS_MIN = 1;
/** Largest `down_timer_adverts` keepalived accepts. */
export const DOWN_TIMER_ADVERTS_MAX = 100;

/** Default advert interval, ms (RFC 3768 §5.3.7: 1 s; RFC 5798 §5.2.7: 100 cs). */
export const ADVERT_INT_DEFAULT_MS = 1000;
/** VRRPv2 advert interval: whole seconds, ms per unit (RFC 3768 §5.3.7). */
export const V2_ADVERT_INT_UNIT_MS = 1000;
/** Smallest VRRPv2 advert interval, ms (1 s). */
export const V2_ADVERT_INT_MIN_MS = 1000;
/** Largest VRRPv2 advert interval, ms (the 8-bit field: 255 s). */
export const V2_ADVERT_INT_MAX_MS = 255_000;
/** VRRPv3 advert interval: centiseconds, ms per unit (RFC 5798 §5.2.7). */
export const V3_ADVERT_INT_UNIT_MS = 10;
/** Smallest VRRPv3 advert interval, ms (1 cs). */
export const V3_ADVERT_INT_MIN_MS = 10;
/** Largest VRRPv3 advert interval, ms (the 12-bit field: 4095 cs = 40.95 s). */
export const V3_ADVERT_INT_MAX_MS = 40_950;

/** GARP / unsolicited NA timing (keepalived.md §1.11, §1.15). */
export interface GarpConfig {
  /** Delay of the second burst after becoming MASTER, ms; 0 = none. keepalived: 5 s. */
  readonly masterDelayMs: number;
  /** GARPs per address in the first and second burst; 0 = none. keepalived: 5. */
  readonly masterRepeat: number;
  /** Refresh period while MASTER, ms, from the second burst; 0 = off (keepalived default). */
  readonly masterRefreshMs: number;
  /** GARPs per address in a refresh. keepalived: 1. */
  readonly masterRefreshRepeat: number;
  /** Delay of the second lower-priority burst, ms; 0 = none. keepalived: = masterDelayMs. */
  readonly lowerPrioDelayMs: number;
  /** GARPs per address after a lower-priority advert; 0 = none. keepalived: = masterRepeat. */
  readonly lowerPrioRepeat: number;
}

/** keepalived's GARP defaults: a burst of 5 on becoming master, another 5 s later; no refresh. */
export const GARP_DEFAULTS: Readonly<GarpConfig> = Object.freeze({
  masterDelayMs: 5000,
  masterRepeat: 5,
  masterRefreshMs: 0,
  masterRefreshRepeat: 1,
  lowerPrioDelayMs: 5000,
  lowerPrioRepeat: 5,
});
