/**
 * @module vrrp/fsm
 * The state machine of one VRRP instance (virtual router): INIT, BACKUP,
 * MASTER, FAULT, and STOP after shutdown.
 *
 * Layer: control plane, pure (STYLE H-3, H-28). No sockets, no timers, no
 * clock, no addon: every input takes `now` (ms, any monotonic origin) and
 * returns a {@link VrrpStep}: the state, the actions the runner performs in
 * order (send an advert, add or remove the addresses, GARP bursts, notifies,
 * trace lines), and the one deadline `nextAt` at which the runner calls
 * {@link VrrpFsm.onTimer}. The runner validates received adverts first (TTL,
 * version, checksum, auth, VRID, v2 interval: keepalived.md §1.4) and hands
 * over priority, source address and (v3) advertised interval.
 *
 * Behaviour (RFC 3768 §6.4, RFC 5798 §6.4, keepalived as in keepalived.md §1.2):
 * - start: an address owner (base priority 255) that wants MASTER becomes
 *   MASTER at once; anything else enters BACKUP with a full
 *   Master_Down_Interval (a non-owner that wants MASTER too); a faulted
 *   instance enters FAULT;
 * - BACKUP: an advert of priority 0 sets the down timer to Skew_Time; an
 *   advert of priority >= ours, or any advert under `nopreempt` or during a
 *   preempt delay, is accepted (down timer restarted, v3: its interval
 *   adopted); a lower-priority advert otherwise is discarded and the timer
 *   keeps running from the last accepted advert; at expiry: MASTER;
 * - MASTER: adverts every advert_int; priority 0 received: advert at once;
 *   lower priority (or equal with a lower primary address): stay, answer with
 *   an advert (unless `lowerPrioNoAdvert`), a lower-priority GARP burst and
 *   MASTER_RX_LOWER_PRI; higher priority (or equal with a higher primary
 *   address): an advert first with `higherPrioSendAdvert`, then BACKUP;
 * - becoming MASTER: advert first (so the old master drops the addresses),
 *   then add the addresses, a GARP burst, a second burst after
 *   garp_master_delay, and refresh bursts every garp_master_refresh;
 * - FAULT: a MASTER resigns with a priority-0 advert and removes the
 *   addresses; when every fault clears: BACKUP with a fresh down timer (an
 *   owner that wants MASTER: MASTER);
 * - an address deleted behind the MASTER's back: priority-0 advert, BACKUP,
 *   back to MASTER after Skew_Time unless a peer takes over;
 * - stop: a MASTER resigns with a priority-0 advert and removes the addresses;
 *   every started instance notifies STOP;
 * - effective priority changes (trackers) recompute the running down timer;
 * - bfd_peer ({@link VrrpFsm.peerDown}): the BFD session to the master went
 *   Down; a BACKUP acts as if its down timer fired now.
 *
 * Sync groups (src/vrrp/sync-group.ts) drive four more inputs: {@link VrrpFsm.hold}
 * / {@link VrrpFsm.release} (may this member become MASTER), {@link VrrpFsm.demote}
 * (a member saw a higher master: leave MASTER) and {@link VrrpFsm.setGroupFault}.
 *
 * Not modelled: keepalived's rogue-owner back-off (two owners both at 255:
 * here the lower primary address yields by the ordinary equal-priority rule
 * and stays BACKUP while the other advertises; keepalived instead drops to
 * 254 and restores 255 later); `timer_expired_backup`; accept mode, VMAC,
 * virtual routes/rules and the LVS sync daemon (runner's business: they
 * follow addAddresses / removeAddresses); `vrrp_startup_delay` (the runner
 * delays {@link VrrpFsm.start}).
 */
import { XlbError } from '../errors.js';
import { parseAddr } from '../net/addr.js';
import { isValidAdvertInt, masterDownIntervalMs, minSkewTimeMs, skewTimeMs, type VrrpVersion } from './timers.js';
import { DOWN_TIMER_ADVERTS_DEFAULT, DOWN_TIMER_ADVERTS_MAX, DOWN_TIMER_ADVERTS_MIN, GARP_DEFAULTS, VRRP_PRIO_OWNER, VRRP_PRIO_STOP, type GarpConfig } from './spec.js';

/** Tracer name (H-40). */
export const TRACER = 'vrrp';

/** The states of an instance (keepalived INIT 0, BACKUP 1, MASTER 2, FAULT 3, STOP 98). */
export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP';

/** The state an instance wants at start (keepalived `state`). */
export type WantedState = 'MASTER' | 'BACKUP';

/** Notify events, as keepalived's FIFO spells them (keepalived.md §1.10). */
export type VrrpNotifyEvent = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP' | 'MASTER_RX_LOWER_PRI' | 'MASTER_PRIORITY' | 'BACKUP_PRIORITY';

/**
 * Which GARP / unsolicited NA burst (keepalived.md §1.15):
 * - `master`: on becoming MASTER (garp_master_repeat);
 * - `master-delayed`: the second burst, garp_master_delay later (garp_master_repeat);
 * - `master-refresh`: every garp_master_refresh while MASTER (garp_master_refresh_repeat);
 * - `lower-prio`: on a lower-priority advert while MASTER (garp_lower_prio_repeat);
 * - `lower-prio-delayed`: garp_lower_prio_delay after that (garp_lower_prio_repeat).
 */
export type GarpBurst = 'master' | 'master-delayed' | 'master-refresh' | 'lower-prio' | 'lower-prio-delayed';

/** Something the runner does, in the order given. */
export type VrrpAction =
  /** Send one advert with this priority (0 = resign); the interval field is the own advert_int. */
  | { readonly kind: 'sendAdvert'; readonly priority: number }
  /** Add the VIPs and eVIPs (and accept-mode rules, routes, rules). */
  | { readonly kind: 'addAddresses' }
  /** Remove the VIPs and eVIPs (and what came with them). */
  | { readonly kind: 'removeAddresses' }
  /** Send `count` GARP / unsolicited NA per VIP and eVIP. */
  | { readonly kind: 'garpBurst'; readonly burst: GarpBurst; readonly count: number }
  /** Run the notify scripts / write the FIFO line for this event, with this priority. */
  | { readonly kind: 'notify'; readonly event: VrrpNotifyEvent; readonly priority: number }
  /** A log line (transitions: `VI_1: BACKUP -> MASTER (master down timer expired)`). */
  | { readonly kind: 'trace'; readonly line: string };

/** The outcome of one input. */
export interface VrrpStep {
  /** The state after the input. */
  readonly state: VrrpState;
  /** What to do, in order. */
  readonly actions: VrrpAction[];
  /**
   * When to call {@link VrrpFsm.onTimer}, ms; undefined = no timer (INIT,
   * FAULT, STOP). It may be <= now (an input moved a deadline into the
   * past): arm max(0, nextAt - now).
   */
  readonly nextAt: number | undefined;
}

/** A received advert, already validated by the runner. */
export interface ReceivedAdvert {
  /** 0..255. */
  readonly priority: number;
  /** The sender's primary address (the IP source), IPv4 or IPv6 text. */
  readonly source: string;
  /** v3 only: the advertised Max Adver Int, ms (centiseconds x 10). Ignored for v2. */
  readonly advertIntMs?: number;
}

/** The configuration of one instance (the loader has validated and rounded it). */
export interface VrrpFsmConfig {
  /** Instance name in traces (`VI_1`); default `vrid <vrid>`. Sync groups key members by it. */
  readonly name?: string;
  /** Virtual router id, 1..255. */
  readonly vrid: number;
  /** 2 or 3. */
  readonly version: VrrpVersion;
  /** Base priority, 1..255 (255 = address owner). */
  readonly priority: number;
  /** Own advert interval, ms, already rounded (v2: whole seconds 1..255 s; v3: 10 ms steps up to 40.95 s). */
  readonly advertIntMs: number;
  /** Preempt a lower-priority master (default true; false = keepalived `nopreempt`). */
  readonly preempt?: boolean;
  /** keepalived `preempt_delay`, ms, 0..1 000 000 (default 0). */
  readonly preemptDelayMs?: number;
  /** Master_Down_Interval multiplier, 1..100 (default 3). */
  readonly downTimerAdverts?: number;
  /** Own primary (source) address, for the equal-priority tie-break. */
  readonly primaryAddress: string;
  /** Do not answer a lower-priority advert while MASTER (default false). */
  readonly lowerPrioNoAdvert?: boolean;
  /** Send one advert before yielding to a higher-priority master (default false). */
  readonly higherPrioSendAdvert?: boolean;
  /** An owner drops every received advert (default false; strict mode sets it). */
  readonly ownerIgnoreAdverts?: boolean;
  /** Wanted state at start (default MASTER for priority 255, else BACKUP). */
  readonly initialState?: WantedState;
  /** Emit MASTER_PRIORITY / BACKUP_PRIORITY on effective priority changes (default false). */
  readonly notifyPriorityChanges?: boolean;
  /** GARP timing; missing fields take {@link GARP_DEFAULTS}. */
  readonly garp?: Partial<GarpConfig>;
}

/** A config with every default filled in. */
export interface ResolvedVrrpConfig {
  readonly name: string;
  readonly vrid: number;
  readonly version: VrrpVersion;
  readonly priority: number;
  readonly advertIntMs: number;
  readonly preempt: boolean;
  readonly preemptDelayMs: number;
  readonly downTimerAdverts: number;
  readonly primaryAddress: string;
  readonly lowerPrioNoAdvert: boolean;
  readonly higherPrioSendAdvert: boolean;
  readonly ownerIgnoreAdverts: boolean;
  readonly initialState: WantedState;
  readonly notifyPriorityChanges: boolean;
  readonly garp: Readonly<GarpConfig>;
}

/** The master a BACKUP last accepted an advert from. */
export interface KnownMaster {
  readonly address: string;
  readonly priority: number;
}

/** A read-only picture of an instance, for `xlb status` and metrics. */
export interface VrrpSnapshot {
  readonly name: string;
  readonly state: VrrpState;
  /** When the instance entered its state; undefined before start. */
  readonly since: number | undefined;
  /** Why it is in its state. */
  readonly reason: string;
  readonly basePriority: number;
  readonly effectivePriority: number;
  /** Master_Adver_Interval: the own interval, or (v3 BACKUP) the master's. */
  readonly masterAdverIntMs: number;
  /** The master last accepted (BACKUP), if any. */
  readonly master: KnownMaster | undefined;
  /** Fault reasons: own (setFault) and sync group (setGroupFault). */
  readonly fault: string | undefined;
  readonly groupFault: string | undefined;
  /** Held in BACKUP by a sync group. */
  readonly held: boolean;
  /** BACKUP whose down timer expired while held: would be MASTER if released. */
  readonly wantsMaster: boolean;
  /** Deadlines, ms (undefined = not armed). */
  readonly masterDownAt: number | undefined;
  readonly advertAt: number | undefined;
  readonly garpMasterAt: number | undefined;
  readonly garpRefreshAt: number | undefined;
  readonly garpLowerPrioAt: number | undefined;
  /** While BACKUP with a preempt delay running: lower-priority adverts are accepted until then. */
  readonly preemptDelayUntil: number | undefined;
  readonly nextAt: number | undefined;
}

/** How the running master-down deadline was computed, so a priority change can recompute it. */
type DownKind =
  /** down_timer_adverts x Master_Adver_Interval + Skew_Time (RFC). */
  | 'full'
  /** Skew_Time after a priority-0 advert (RFC 5798 §6.4.2). */
  | 'skew'
  /** Master_Adver_Interval + min skew: wants MASTER but held by a sync group at start (keepalived). */
  | 'held-start';

/** The internal timers, in the order they run when due together. */
const TIMERS = ['down', 'advert', 'garpMaster', 'garpRefresh', 'garpLower'] as const;
type TimerName = (typeof TIMERS)[number];

/** Throws the internal-invariant error: the loader and the runner should never let such input through. */
function invariant(cond: boolean, what: string): asserts cond {
  if (!cond) throw new XlbError('XLB_ERR_INTERNAL', [`vrrp: ${what}`]);
}

/** An address as (family, 16 bytes), for comparisons. */
function addrKey(s: string, what: string): { family: number; bytes: Uint8Array } {
  try {
    return parseAddr(s);
  } catch (err) {
    throw new XlbError('XLB_ERR_INTERNAL', [`vrrp: ${what} is not an IP address: ${JSON.stringify(s)}`], { cause: err });
  }
}

/**
 * Compares two primary addresses as unsigned numbers (RFC 5798 §6.4.3: "the
 * primary IPvX Address of the sender is greater than the local primary IPvX
 * Address"): IPv4 by its 4 bytes, IPv6 by its 16 bytes, most significant
 * first. Mixed families (which a validated advert never has) order IPv4 first.
 * @returns -1, 0 or 1 as `a` is lower than, equal to or greater than `b`
 * @throws XlbError XLB_ERR_INTERNAL when either is not an IP address
 */
export function compareAddresses(a: string, b: string): -1 | 0 | 1 {
  const x = addrKey(a, 'address');
  const y = addrKey(b, 'address');
  if (x.family !== y.family) return x.family < y.family ? -1 : 1;
  for (let i = 0; i < 16; i++) {
    const d = x.bytes[i]! - y.bytes[i]!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/**
 * Fills the defaults in and checks ranges.
 * @throws XlbError XLB_ERR_INTERNAL on a value the loader should have refused
 */
export function resolveVrrpConfig(cfg: VrrpFsmConfig): ResolvedVrrpConfig {
  invariant(Number.isInteger(cfg.vrid) && cfg.vrid >= 1 && cfg.vrid <= 255, `vrid must be 1..255 (got ${cfg.vrid})`);
  invariant(cfg.version === 2 || cfg.version === 3, `version must be 2 or 3 (got ${String(cfg.version)})`);
  invariant(Number.isInteger(cfg.priority) && cfg.priority >= 1 && cfg.priority <= VRRP_PRIO_OWNER, `priority must be 1..255 (got ${cfg.priority})`);
  invariant(
    isValidAdvertInt(cfg.version, cfg.advertIntMs),
    `advertIntMs ${cfg.advertIntMs} is not a VRRPv${cfg.version} interval (round it with roundAdvertInt)`,
  );
  const downTimerAdverts = cfg.downTimerAdverts ?? DOWN_TIMER_ADVERTS_DEFAULT;
  invariant(
    Number.isInteger(downTimerAdverts) && downTimerAdverts >= DOWN_TIMER_ADVERTS_MIN && downTimerAdverts <= DOWN_TIMER_ADVERTS_MAX,
    `downTimerAdverts must be an integer 1..100 (got ${downTimerAdverts})`,
  );
  const preemptDelayMs = cfg.preemptDelayMs ?? 0;
  invariant(Number.isFinite(preemptDelayMs) && preemptDelayMs >= 0 && preemptDelayMs <= 1_000_000, `preemptDelayMs must be 0..1000000 (got ${preemptDelayMs})`);
  addrKey(cfg.primaryAddress, 'primaryAddress');
  const initialState = cfg.initialState ?? (cfg.priority === VRRP_PRIO_OWNER ? 'MASTER' : 'BACKUP');
  invariant(initialState === 'MASTER' || initialState === 'BACKUP', `initialState must be MASTER or BACKUP (got ${String(initialState)})`);
  const masterDelayMs = cfg.garp?.masterDelayMs ?? GARP_DEFAULTS.masterDelayMs;
  const masterRepeat = cfg.garp?.masterRepeat ?? GARP_DEFAULTS.masterRepeat;
  const garp: GarpConfig = {
    masterDelayMs,
    masterRepeat,
    masterRefreshMs: cfg.garp?.masterRefreshMs ?? GARP_DEFAULTS.masterRefreshMs,
    masterRefreshRepeat: cfg.garp?.masterRefreshRepeat ?? GARP_DEFAULTS.masterRefreshRepeat,
    lowerPrioDelayMs: cfg.garp?.lowerPrioDelayMs ?? masterDelayMs,
    lowerPrioRepeat: cfg.garp?.lowerPrioRepeat ?? masterRepeat,
  };
  for (const [k, v] of Object.entries(garp)) {
    const isCount = k.endsWith('Repeat');
    invariant(
      Number.isFinite(v) && v >= 0 && (!isCount || Number.isInteger(v)),
      `garp.${k} must be ${isCount ? 'an integer' : 'a number of ms'} >= 0 (got ${v})`,
    );
  }
  return Object.freeze({
    name: cfg.name ?? `vrid ${cfg.vrid}`,
    vrid: cfg.vrid,
    version: cfg.version,
    priority: cfg.priority,
    advertIntMs: cfg.advertIntMs,
    preempt: cfg.preempt ?? true,
    preemptDelayMs,
    downTimerAdverts,
    primaryAddress: cfg.primaryAddress,
    lowerPrioNoAdvert: cfg.lowerPrioNoAdvert ?? false,
    higherPrioSendAdvert: cfg.higherPrioSendAdvert ?? false,
    ownerIgnoreAdverts: cfg.ownerIgnoreAdverts ?? false,
    initialState,
    notifyPriorityChanges: cfg.notifyPriorityChanges ?? false,
    garp: Object.freeze(garp),
  });
}

/**
 * The changes between two configs that {@link VrrpFsm.reconfigure} cannot
 * apply to a running instance: the runner stops the old instance (priority-0
 * advert if MASTER) and starts a new one instead.
 * - `vrid`, `version`: another virtual router on the wire;
 * - `primaryAddress`: the runner's socket and the tie-break change;
 * - becoming or ceasing to be the address owner (255): the start rules,
 *   tracker arithmetic and advert handling differ.
 * @returns one line per such change; empty = reconfigure applies
 */
export function restartReasons(from: VrrpFsmConfig, to: VrrpFsmConfig): string[] {
  const out: string[] = [];
  if (from.vrid !== to.vrid) out.push(`vrid ${from.vrid} -> ${to.vrid}`);
  if (from.version !== to.version) out.push(`version ${from.version} -> ${to.version}`);
  if (from.primaryAddress !== to.primaryAddress && compareAddresses(from.primaryAddress, to.primaryAddress) !== 0) {
    out.push(`primary address ${from.primaryAddress} -> ${to.primaryAddress}`);
  }
  if ((from.priority === VRRP_PRIO_OWNER) !== (to.priority === VRRP_PRIO_OWNER)) {
    out.push(`address owner ${from.priority === VRRP_PRIO_OWNER ? 'no longer' : 'now'} (priority ${from.priority} -> ${to.priority})`);
  }
  return out;
}

/**
 * One VRRP instance. Pure: the runner owns the socket, the timer, the
 * addresses and the notify scripts; this owns the role and the schedule.
 *
 * Every input returns a {@link VrrpStep}. Inputs given before {@link start}
 * (priority, fault, hold) are recorded and return no actions; inputs after
 * {@link stop} return no actions.
 */
export class VrrpFsm {
  #cfg: ResolvedVrrpConfig;
  #state: VrrpState = 'INIT';
  #since: number | undefined;
  #reason = 'not started';
  #eff: number;
  #masterAdverIntMs: number;
  /** Master_Adver_Interval was learned from a v3 master's advert (not the own advert_int). */
  #learnedInt = false;
  #master: KnownMaster | undefined;
  #fault: string | undefined;
  #groupFault: string | undefined;
  #held = false;
  #wantsMaster = false;
  /** Master-down timer: deadline, when its interval started, how it was computed. */
  #downBase = 0;
  #downKind: DownKind = 'full';
  #deadlines: Record<TimerName, number | undefined> = {
    down: undefined,
    advert: undefined,
    garpMaster: undefined,
    garpRefresh: undefined,
    garpLower: undefined,
  };
  #preemptUntil: number | undefined;
  /** Actions of the step in progress. */
  #out: VrrpAction[] = [];

  /**
   * @param cfg the instance's configuration (validated and rounded by the loader)
   * @throws XlbError XLB_ERR_INTERNAL on a value out of range
   */
  constructor(cfg: VrrpFsmConfig) {
    this.#cfg = resolveVrrpConfig(cfg);
    this.#eff = this.#cfg.priority;
    this.#masterAdverIntMs = this.#cfg.advertIntMs;
  }

  /** The current state. */
  get state(): VrrpState {
    return this.#state;
  }

  /** The instance name (traces, sync group member key). */
  get name(): string {
    return this.#cfg.name;
  }

  /** The resolved configuration in force. */
  get config(): ResolvedVrrpConfig {
    return this.#cfg;
  }

  /** The effective priority (what adverts carry). */
  get priority(): number {
    return this.#eff;
  }

  /** Whether the instance itself is faulted (setFault), not counting its sync group. */
  get ownFault(): boolean {
    return this.#fault !== undefined;
  }

  /** Whether the sync group has faulted this instance (setGroupFault). */
  get groupFaulted(): boolean {
    return this.#groupFault !== undefined;
  }

  /** BACKUP whose down timer expired while held by its sync group. */
  get wantsMaster(): boolean {
    return this.#wantsMaster;
  }

  /** Whether a sync group holds this instance in BACKUP. */
  get held(): boolean {
    return this.#held;
  }

  /** The one deadline the runner must arm; undefined = none. */
  get nextAt(): number | undefined {
    let next: number | undefined;
    for (const t of TIMERS) {
      const d = this.#deadlines[t];
      if (d !== undefined && (next === undefined || d < next)) next = d;
    }
    return next;
  }

  /** A read-only picture for status and metrics. */
  snapshot(): VrrpSnapshot {
    return Object.freeze({
      name: this.#cfg.name,
      state: this.#state,
      since: this.#since,
      reason: this.#reason,
      basePriority: this.#cfg.priority,
      effectivePriority: this.#eff,
      masterAdverIntMs: this.#masterAdverIntMs,
      master: this.#master,
      fault: this.#fault,
      groupFault: this.#groupFault,
      held: this.#held,
      wantsMaster: this.#wantsMaster,
      masterDownAt: this.#deadlines.down,
      advertAt: this.#deadlines.advert,
      garpMasterAt: this.#deadlines.garpMaster,
      garpRefreshAt: this.#deadlines.garpRefresh,
      garpLowerPrioAt: this.#deadlines.garpLower,
      preemptDelayUntil: this.#preemptUntil,
      nextAt: this.nextAt,
    });
  }

  /**
   * Starts the instance (keepalived `vrrp_init_state`, RFC 5798 §6.4.1):
   * - faulted (setFault / setGroupFault before start): FAULT;
   * - address owner wanting MASTER: MASTER at once;
   * - wanting MASTER (owner or not) while a sync group holds it: BACKUP for
   *   Master_Adver_Interval + min skew, "to ensure there is no other master";
   * - otherwise (a non-owner wanting MASTER too): BACKUP with a full
   *   Master_Down_Interval.
   * @param now the current time, ms
   * @throws XlbError XLB_ERR_INTERNAL when already started
   */
  start(now: number): VrrpStep {
    invariant(this.#state === 'INIT' && this.#since === undefined, `${this.#cfg.name}: start after start or stop`);
    return this.#step(() => {
      const fault = this.#faultReason();
      if (fault !== undefined) this.#enterFault(now, `init: ${fault}`);
      else if (this.#ownerWantsMaster() && !this.#held) this.#enterMaster(now, 'init: address owner');
      else if (this.#cfg.initialState === 'MASTER' && this.#held) this.#enterBackup(now, 'init: wants MASTER, held by sync group', 'held-start');
      else this.#enterBackup(now, 'init', 'full');
    });
  }

  /**
   * Takes a received advert (validated by the runner).
   * @param now when it arrived, ms
   * @param adv its priority, source address and (v3) interval
   * @throws XlbError XLB_ERR_INTERNAL on a priority outside 0..255, a bad source or a non-finite interval
   */
  onAdvert(now: number, adv: ReceivedAdvert): VrrpStep {
    invariant(Number.isInteger(adv.priority) && adv.priority >= 0 && adv.priority <= 255, `advert priority must be 0..255 (got ${adv.priority})`);
    invariant(
      adv.advertIntMs === undefined || (Number.isFinite(adv.advertIntMs) && adv.advertIntMs >= 0),
      `advert interval must be a finite number of ms (got ${adv.advertIntMs})`,
    );
    const cmp = compareAddresses(adv.source, this.#cfg.primaryAddress);
    return this.#step(() => {
      if (this.#state !== 'BACKUP' && this.#state !== 'MASTER') return;
      if (this.#cfg.priority === VRRP_PRIO_OWNER && this.#cfg.ownerIgnoreAdverts) {
        // keepalived `owner_ignore_adverts` (RFC 9568: an owner does not process adverts).
        this.#trace(`owner ignores advert from ${adv.source} priority ${adv.priority}`);
        return;
      }
      if (this.#state === 'BACKUP') this.#backupRx(now, adv);
      else this.#masterRx(now, adv, cmp);
    });
  }

  /**
   * Runs every internal timer that is due at `now` (master-down, advert,
   * GARP bursts), earliest first. A call before any deadline does nothing.
   * @param now the current time, ms
   */
  onTimer(now: number): VrrpStep {
    return this.#step(() => {
      for (let guard = 0; ; guard++) {
        invariant(guard < 64, `${this.#cfg.name}: timers do not settle at ${now}`);
        let due: TimerName | undefined;
        for (const t of TIMERS) {
          const d = this.#deadlines[t];
          if (d !== undefined && d <= now && (due === undefined || d < this.#deadlines[due]!)) due = t;
        }
        if (due === undefined) return;
        this.#fire(now, due);
      }
    });
  }

  /**
   * Sets the effective priority from the trackers (see track.ts). In BACKUP
   * the running down timer is recomputed with the new Skew_Time, from the
   * same start (keepalived `vrrp_set_effective_priority`); a MASTER simply
   * advertises the new value from its next advert.
   * @param now the current time, ms
   * @param priority 1..254, or 255 for an owner (whose priority never changes)
   * @throws XlbError XLB_ERR_INTERNAL on a priority out of range
   */
  setPriority(now: number, priority: number): VrrpStep {
    const owner = this.#cfg.priority === VRRP_PRIO_OWNER;
    invariant(
      Number.isInteger(priority) && (owner ? priority === VRRP_PRIO_OWNER : priority >= 1 && priority <= VRRP_PRIO_OWNER - 1),
      owner ? `an address owner's priority stays 255 (got ${priority})` : `effective priority must be 1..254 (got ${priority})`,
    );
    return this.#step(() => {
      if (priority === this.#eff) return;
      const was = this.#eff;
      this.#eff = priority;
      if (this.#state === 'STOP' || this.#state === 'INIT') return;
      if (this.#state === 'BACKUP') this.#armDown(this.#downBase, this.#downKind);
      this.#trace(`effective priority ${was} -> ${priority}`);
      if (this.#cfg.notifyPriorityChanges && (this.#state === 'MASTER' || this.#state === 'BACKUP')) {
        this.#notify(this.#state === 'MASTER' ? 'MASTER_PRIORITY' : 'BACKUP_PRIORITY');
      }
    });
  }

  /**
   * Sets or clears the instance's own fault: interface down, weight-0
   * tracker down, source address missing... The runner passes the aggregate
   * (faulted while any cause remains) and a reason for the log.
   * @param now the current time, ms
   * @param faulted whether any fault cause remains
   * @param reason why (e.g. `interface eth1 down`); on clear, what cleared
   */
  setFault(now: number, faulted: boolean, reason: string): VrrpStep {
    return this.#step(() => {
      this.#fault = faulted ? reason : undefined;
      this.#applyFault(now, reason);
    });
  }

  /**
   * Sets or clears the sync group's fault (another member is faulted). Kept
   * apart from the own fault so that members never hold each other in FAULT.
   * @param now the current time, ms
   * @param faulted whether another member of the group is faulted
   * @param reason why
   */
  setGroupFault(now: number, faulted: boolean, reason: string): VrrpStep {
    return this.#step(() => {
      this.#groupFault = faulted ? reason : undefined;
      this.#applyFault(now, reason);
    });
  }

  /**
   * The sync group forbids MASTER (another member is not ready). A BACKUP
   * whose down timer expires while held stays BACKUP, sets
   * {@link wantsMaster} and re-arms its down timer (keepalived
   * `vrrp_sync_can_goto_master`). A MASTER is not affected (see {@link demote}).
   * @param now the current time, ms
   * @param reason why, for the log
   */
  hold(now: number, reason: string): VrrpStep {
    return this.#step(() => {
      if (this.#held || this.#state === 'STOP') return;
      this.#held = true;
      if (this.#state !== 'INIT') this.#trace(`held by sync group (${reason})`);
    });
  }

  /**
   * The sync group allows MASTER again. A BACKUP that {@link wantsMaster}
   * becomes MASTER at once (keepalived `vrrp_sync_master`).
   * @param now the current time, ms
   * @param reason why, for the log
   */
  release(now: number, reason: string): VrrpStep {
    return this.#step(() => {
      if (!this.#held || this.#state === 'STOP') return;
      this.#held = false;
      if (this.#state === 'BACKUP' && this.#wantsMaster) this.#enterMaster(now, `sync group: ${reason}`);
      else if (this.#state !== 'INIT') this.#trace(`released by sync group (${reason})`);
    });
  }

  /**
   * Leaves MASTER for BACKUP because another member of the sync group saw a
   * higher-priority master (keepalived `vrrp_sync_backup`): removes the
   * addresses (no priority-0 advert), fresh down timer. No-op in other states.
   * @param now the current time, ms
   * @param reason why
   */
  demote(now: number, reason: string): VrrpStep {
    return this.#step(() => {
      if (this.#state !== 'MASTER') return;
      this.#useOwnInterval();
      this.#enterBackup(now, `sync group: ${reason}`, 'full');
    });
  }

  /**
   * Another member of the sync group received a lower-priority advert while
   * MASTER: send this member's lower-priority GARP burst too, since the lower
   * node's members are about to yield (keepalived `vrrp_state_master_rx`).
   * No-op unless MASTER with garp lowerPrioRepeat > 0.
   * @param now the current time, ms
   */
  syncLowerPrioGarp(now: number): VrrpStep {
    return this.#step(() => {
      if (this.#state === 'MASTER') this.#lowerPrioGarp(now);
    });
  }

  /**
   * One of the instance's addresses was deleted behind its back while MASTER
   * (keepalived `set_vrrp_backup`, keepalived_netlink.c; not for addresses
   * marked `no_track`, which the runner filters): resign with a priority-0
   * advert, remove the remaining addresses, and enter BACKUP with a down timer
   * of Skew_Time only, so that the instance comes back quickly (and re-adds
   * everything) unless a peer takes over first. No-op in other states.
   * @param now the current time, ms
   * @param reason what was deleted, e.g. `VIP 192.0.2.10/32 deleted`
   */
  addressDeleted(now: number, reason: string): VrrpStep {
    return this.#step(() => {
      if (this.#state !== 'MASTER') return;
      this.#out.push({ kind: 'sendAdvert', priority: VRRP_PRIO_STOP });
      this.#enterBackup(now, reason, 'skew');
    });
  }

  /**
   * The BFD session to the other VRRP node (xlb `bfd_peer`, beyond keepalived)
   * went from Up to Down: the master is taken as gone at once. A BACKUP acts
   * exactly as if its master-down timer fired now (RFC 5798 §6.4.2): MASTER,
   * or, held by its sync group, {@link wantsMaster} with the timer re-armed.
   * No-op in INIT, MASTER, FAULT and STOP. The runner calls it only on a
   * transition Up -> Down, so a peer that never came Up changes nothing.
   * @param now the current time, ms
   * @param reason why, e.g. `bfd_peer to-lb2 down (control detection time expired)`
   */
  peerDown(now: number, reason: string): VrrpStep {
    return this.#step(() => {
      if (this.#state !== 'BACKUP') return;
      this.#masterDown(now, reason);
    });
  }

  /**
   * Graceful stop: a MASTER sends a priority-0 advert so a backup takes over
   * after Skew_Time, and removes the addresses; every started instance
   * notifies STOP. Later inputs return no actions.
   * @param now the current time, ms
   */
  stop(now: number): VrrpStep {
    return this.#step(() => {
      const was = this.#state;
      if (!this.#transitionTo(['INIT', 'BACKUP', 'MASTER', 'FAULT'], 'STOP', 'stopped', now)) return;
      if (was === 'MASTER') this.#resign();
      this.#clearTimers();
      if (was !== 'INIT') this.#notify('STOP');
    });
  }

  /**
   * Applies a reloaded configuration without a role change. Throws when
   * {@link restartReasons} is not empty. Effects:
   * - base priority: the effective priority becomes `effectivePriority`
   *   (the runner re-evaluates its trackers), or the new base when omitted
   *   and the base changed;
   * - advert interval: a MASTER's next advert is due at most one new interval
   *   from now; a BACKUP's down timer is recomputed (v3: unless it follows a
   *   master's interval);
   * - down_timer_adverts, priority: the running down timer is recomputed;
   * - preempt off or preempt delay changed: a running preempt delay is dropped;
   * - garp refresh: rescheduled (or cancelled) from now when it changed;
   * - everything else applies from its next use.
   * @param now the current time, ms
   * @param cfg the new configuration
   * @param effectivePriority the effective priority under the new config
   * @throws XlbError XLB_ERR_INTERNAL when a restart is needed or a value is out of range
   */
  reconfigure(now: number, cfg: VrrpFsmConfig, effectivePriority?: number): VrrpStep {
    const reasons = restartReasons(this.#cfg, cfg);
    invariant(reasons.length === 0, `${this.#cfg.name}: reload needs a restart (${reasons.join('; ')})`);
    const next = resolveVrrpConfig(cfg);
    const eff = effectivePriority ?? (next.priority !== this.#cfg.priority ? next.priority : this.#eff);
    const owner = next.priority === VRRP_PRIO_OWNER;
    invariant(Number.isInteger(eff) && (owner ? eff === VRRP_PRIO_OWNER : eff >= 1 && eff <= VRRP_PRIO_OWNER - 1), `effective priority out of range: ${eff}`);
    return this.#step(() => {
      const prev = this.#cfg;
      this.#cfg = next;
      if (!this.#learnedInt) this.#masterAdverIntMs = next.advertIntMs;
      const priorityChanged = eff !== this.#eff;
      this.#eff = eff;
      if (!next.preempt || next.preemptDelayMs !== prev.preemptDelayMs) this.#preemptUntil = undefined;
      if (this.#state === 'BACKUP') this.#armDown(this.#downBase, this.#downKind);
      if (this.#state === 'MASTER') {
        const advert = this.#deadlines.advert;
        if (advert !== undefined) this.#deadlines.advert = Math.min(advert, now + next.advertIntMs);
        if (next.garp.masterRefreshMs !== prev.garp.masterRefreshMs) {
          this.#deadlines.garpRefresh = next.garp.masterRefreshMs > 0 ? now + next.garp.masterRefreshMs : undefined;
        }
        if (next.garp.masterDelayMs === 0 || next.garp.masterRepeat === 0) this.#deadlines.garpMaster = undefined;
        if (next.garp.lowerPrioDelayMs === 0 || next.garp.lowerPrioRepeat === 0) this.#deadlines.garpLower = undefined;
      }
      this.#trace(`reconfigured${priorityChanged ? ` (effective priority ${eff})` : ''}`);
      if (priorityChanged && next.notifyPriorityChanges && (this.#state === 'MASTER' || this.#state === 'BACKUP')) {
        this.#notify(this.#state === 'MASTER' ? 'MASTER_PRIORITY' : 'BACKUP_PRIORITY');
      }
    });
  }

  // --- input handlers --------------------------------------------------------

  /** BACKUP receives an advert: RFC 3768 §6.4.2, RFC 5798 §6.4.2, keepalived `vrrp_state_backup`. */
  #backupRx(now: number, adv: ReceivedAdvert): void {
    if (adv.priority === VRRP_PRIO_STOP) {
      // The master resigned: take over after Skew_Time only (fast takeover).
      this.#armDown(now, 'skew');
      this.#trace(`priority 0 advert from ${adv.source}: master down in Skew_Time`);
      return;
    }
    const delaying = this.#preemptDelayRunning(now);
    if (!this.#cfg.preempt || adv.priority >= this.#eff || delaying) {
      this.#adoptInterval(adv);
      this.#master = { address: adv.source, priority: adv.priority };
      this.#wantsMaster = false;
      this.#armDown(now, 'full');
      if (this.#cfg.preemptDelayMs > 0 && this.#cfg.preempt) {
        if (adv.priority >= this.#eff) this.#preemptUntil = undefined;
        else if (this.#preemptUntil === undefined) {
          // keepalived: the delay runs from the first lower-priority master seen in BACKUP.
          this.#preemptUntil = now + this.#cfg.preemptDelayMs;
          this.#trace(`lower priority master ${adv.source} (${adv.priority}): preempt delay until ${this.#preemptUntil}`);
        }
      }
      return;
    }
    // Preempt: discard, the down timer keeps running from the last accepted advert.
    this.#trace(`lower priority advert from ${adv.source} (${adv.priority} < ${this.#eff}) discarded`);
  }

  /** MASTER receives an advert: RFC 3768 §6.4.3, RFC 5798 §6.4.3, keepalived `vrrp_state_master_rx`. */
  #masterRx(now: number, adv: ReceivedAdvert, cmp: -1 | 0 | 1): void {
    if (adv.priority === VRRP_PRIO_STOP) {
      // RFC 5798 §6.4.3: send an advert and reset the advert timer.
      this.#advertise(now);
      return;
    }
    const higher = adv.priority > this.#eff || (adv.priority === this.#eff && cmp > 0);
    const lower = adv.priority < this.#eff || (adv.priority === this.#eff && cmp < 0);
    if (lower) {
      // RFC 9568 / keepalived: answer so that the lower node yields at once, and re-GARP.
      this.#trace(`lower priority advert from ${adv.source} (${adv.priority}, ours ${this.#eff})`);
      if (!this.#cfg.lowerPrioNoAdvert) this.#advertise(now);
      this.#lowerPrioGarp(now);
      this.#notify('MASTER_RX_LOWER_PRI');
      return;
    }
    if (!higher) {
      this.#trace(`equal priority advert from our own address ${adv.source}: ignored`);
      return;
    }
    if (this.#cfg.higherPrioSendAdvert) this.#advertise(now);
    this.#adoptInterval(adv);
    this.#master = { address: adv.source, priority: adv.priority };
    const why =
      adv.priority > this.#eff
        ? `higher priority ${adv.priority} from ${adv.source}`
        : `equal priority ${adv.priority} from higher address ${adv.source}`;
    this.#enterBackup(now, why, 'full');
  }

  /** Runs one due timer. */
  #fire(now: number, t: TimerName): void {
    const g = this.#cfg.garp;
    switch (t) {
      case 'down':
        this.#masterDown(now, this.#downKind === 'skew' ? 'priority 0 advert, Skew_Time expired' : 'master down timer expired');
        return;
      case 'advert': {
        // periodic adverts keep their cadence: the next one is due an interval
        // after this one was due, not after the (late) moment the timer ran,
        // so timer latency does not accumulate (unless a whole interval late)
        const due = this.#deadlines.advert;
        this.#advertise(now);
        if (due !== undefined && now - due < this.#cfg.advertIntMs) this.#deadlines.advert = due + this.#cfg.advertIntMs;
        return;
      }
      case 'garpMaster':
        this.#deadlines.garpMaster = undefined;
        this.#garp('master-delayed', g.masterRepeat);
        return;
      case 'garpRefresh':
        this.#deadlines.garpRefresh = now + g.masterRefreshMs;
        this.#garp('master-refresh', g.masterRefreshRepeat);
        return;
      case 'garpLower':
        this.#deadlines.garpLower = undefined;
        this.#garp('lower-prio-delayed', g.lowerPrioRepeat);
        return;
    }
  }

  /** The master is gone (down timer expired, or bfd_peer down): MASTER unless a sync group holds it. */
  #masterDown(now: number, reason: string): void {
    if (this.#held) {
      // keepalived `vrrp_sync_can_goto_master`: wait for the other members.
      this.#wantsMaster = true;
      this.#armDown(now, 'full');
      this.#trace(`${reason}, held by sync group`);
      return;
    }
    this.#enterMaster(now, reason);
  }

  /** Enters or leaves FAULT after a change of the own or group fault. */
  #applyFault(now: number, reason: string): void {
    const fault = this.#faultReason();
    if (this.#state === 'INIT' || this.#state === 'STOP') return;
    if (fault !== undefined) {
      if (this.#state !== 'FAULT') this.#enterFault(now, fault);
      else this.#reason = fault;
      return;
    }
    if (this.#state !== 'FAULT') return;
    // keepalived `vrrp_state_leave_fault` / `try_up_instance`.
    if (this.#ownerWantsMaster() && !this.#held) this.#enterMaster(now, `fault cleared (${reason}): address owner`);
    else if (this.#ownerWantsMaster()) this.#enterBackup(now, `fault cleared (${reason}): address owner held by sync group`, 'held-start');
    else this.#enterBackup(now, `fault cleared (${reason})`, 'full');
  }

  // --- state entries ---------------------------------------------------------

  /** Becomes MASTER: advert first, then the addresses, GARPs and notify (keepalived `vrrp_state_master_tx`, `vrrp_state_become_master`). */
  #enterMaster(now: number, reason: string): void {
    if (!this.#transitionTo(['INIT', 'BACKUP', 'FAULT'], 'MASTER', reason, now)) return;
    const g = this.#cfg.garp;
    this.#clearTimers();
    this.#useOwnInterval();
    this.#wantsMaster = false;
    this.#preemptUntil = undefined;
    this.#master = undefined;
    this.#advertise(now);
    this.#out.push({ kind: 'addAddresses' });
    this.#garp('master', g.masterRepeat);
    if (g.masterDelayMs > 0 && g.masterRepeat > 0) this.#deadlines.garpMaster = now + g.masterDelayMs;
    if (g.masterRefreshMs > 0) this.#deadlines.garpRefresh = now + g.masterDelayMs + g.masterRefreshMs;
    this.#notify('MASTER');
  }

  /** Enters BACKUP with a new down timer; from MASTER removes the addresses (keepalived `vrrp_state_leave_master`). */
  #enterBackup(now: number, reason: string, kind: DownKind): void {
    const was = this.#state;
    if (!this.#transitionTo(['INIT', 'MASTER', 'FAULT'], 'BACKUP', reason, now)) return;
    this.#clearTimers();
    if (was !== 'MASTER') this.#useOwnInterval();
    this.#wantsMaster = false;
    this.#preemptUntil = undefined;
    if (was === 'MASTER') this.#out.push({ kind: 'removeAddresses' });
    this.#armDown(now, kind);
    this.#notify('BACKUP');
  }

  /** Enters FAULT; a MASTER resigns first (keepalived `vrrp_state_leave_master` with wantstate FAULT). */
  #enterFault(now: number, reason: string): void {
    const was = this.#state;
    if (!this.#transitionTo(['INIT', 'BACKUP', 'MASTER'], 'FAULT', reason, now)) return;
    if (was === 'MASTER') this.#resign();
    this.#clearTimers();
    this.#useOwnInterval();
    this.#wantsMaster = false;
    this.#preemptUntil = undefined;
    this.#master = undefined;
    this.#notify('FAULT');
  }

  /**
   * The only place the state changes (H-28): refuses a transition from a
   * state not in `from`, and traces `NAME: FROM -> TO (reason)`.
   */
  #transitionTo(from: readonly VrrpState[], to: VrrpState, reason: string, now: number): boolean {
    if (!from.includes(this.#state) || this.#state === to) return false;
    const was = this.#state;
    this.#state = to;
    this.#since = now;
    this.#reason = reason;
    this.#trace(`${was} -> ${to} (${reason})`);
    return true;
  }

  // --- helpers ---------------------------------------------------------------

  /** Runs one input and collects its actions. */
  #step(body: () => void): VrrpStep {
    this.#out = [];
    body();
    const actions = this.#out;
    this.#out = [];
    return { state: this.#state, actions, nextAt: this.nextAt };
  }

  /** Master_Adver_Interval := the own advert_int (v2 always; v3 as MASTER, in FAULT, after start). */
  #useOwnInterval(): void {
    this.#masterAdverIntMs = this.#cfg.advertIntMs;
    this.#learnedInt = false;
  }

  /** v3: Master_Adver_Interval := the accepted advert's interval (RFC 5798 §6.4.2, §6.4.3). */
  #adoptInterval(adv: ReceivedAdvert): void {
    if (this.#cfg.version !== 3 || adv.advertIntMs === undefined || !(adv.advertIntMs > 0)) return;
    this.#masterAdverIntMs = adv.advertIntMs;
    this.#learnedInt = true;
  }

  #faultReason(): string | undefined {
    return this.#fault ?? this.#groupFault;
  }

  #ownerWantsMaster(): boolean {
    return this.#cfg.priority === VRRP_PRIO_OWNER && this.#cfg.initialState === 'MASTER';
  }

  /** keepalived: lower-priority adverts are accepted until the delay, which starts at the first one, has run. */
  #preemptDelayRunning(now: number): boolean {
    if (this.#cfg.preemptDelayMs === 0) return false;
    return this.#preemptUntil === undefined || now < this.#preemptUntil;
  }

  /** Arms the master-down timer from `base` with the current priority and Master_Adver_Interval. */
  #armDown(base: number, kind: DownKind): void {
    const { version, downTimerAdverts } = this.#cfg;
    const mai = this.#masterAdverIntMs;
    const interval =
      kind === 'full'
        ? masterDownIntervalMs(version, this.#eff, mai, downTimerAdverts)
        : kind === 'skew'
          ? skewTimeMs(version, this.#eff, mai)
          : mai + minSkewTimeMs(version, mai);
    this.#downBase = base;
    this.#downKind = kind;
    this.#deadlines.down = base + interval;
  }

  /** Sends an advert with the effective priority and restarts the advert timer. */
  #advertise(now: number): void {
    this.#out.push({ kind: 'sendAdvert', priority: this.#eff });
    this.#deadlines.advert = now + this.#cfg.advertIntMs;
  }

  /** Priority-0 advert and address removal (RFC 5798 §6.4.3 Shutdown). */
  #resign(): void {
    this.#out.push({ kind: 'sendAdvert', priority: VRRP_PRIO_STOP });
    this.#out.push({ kind: 'removeAddresses' });
  }

  /** The lower-priority GARP burst, and its delayed repeat unless one is pending already. */
  #lowerPrioGarp(now: number): void {
    const g = this.#cfg.garp;
    if (g.lowerPrioRepeat === 0) return;
    this.#garp('lower-prio', g.lowerPrioRepeat);
    if (g.lowerPrioDelayMs > 0 && this.#deadlines.garpLower === undefined) this.#deadlines.garpLower = now + g.lowerPrioDelayMs;
  }

  #garp(burst: GarpBurst, count: number): void {
    if (count > 0) this.#out.push({ kind: 'garpBurst', burst, count });
  }

  #notify(event: VrrpNotifyEvent): void {
    this.#out.push({ kind: 'notify', event, priority: this.#eff });
  }

  #trace(line: string): void {
    this.#out.push({ kind: 'trace', line: `${this.#cfg.name}: ${line}` });
  }

  #clearTimers(): void {
    for (const t of TIMERS) this.#deadlines[t] = undefined;
  }
}
