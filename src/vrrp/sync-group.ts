/**
 * @module vrrp/sync-group
 * A VRRP sync group (keepalived `vrrp_sync_group`): instances that change
 * role together, so that e.g. the outside and inside VIPs of a router are on
 * the same node.
 *
 * Layer: control plane, pure (STYLE H-3, H-28). A coordinator over several
 * {@link VrrpFsm}s: the runner sends every member input through the group
 * (not to the member directly), performs each member's actions, and arms one
 * timer at the group's `nextAt`.
 *
 * Rules (keepalived.md §1.9, keepalived `vrrp_sync.c`), re-applied after
 * every input until nothing changes:
 * - one member faulted (its own fault) puts every other member in FAULT
 *   (`setGroupFault`); when no member is faulted any more they all leave FAULT;
 * - a member is MASTER only if all members are eligible: every other member
 *   is MASTER or is a BACKUP whose down timer expired ({@link VrrpFsm.wantsMaster}).
 *   Otherwise it is held: at expiry it stays BACKUP and waits; when the last
 *   member expires they all become MASTER together;
 * - a member in BACKUP that is not eligible (it accepts a master's adverts)
 *   drags every MASTER member to BACKUP ({@link VrrpFsm.demote}): one member
 *   seeing a higher-priority master moves the whole group;
 * - a MASTER member that receives a lower-priority advert makes the other
 *   MASTER members send their lower-priority GARP bursts too;
 * - at start every member is held unless all members are address owners
 *   that want MASTER (then they all start MASTER); a held member that wants
 *   MASTER waits Master_Adver_Interval + min skew instead of a full interval;
 * - an address deleted behind a MASTER member's back sends every MASTER
 *   member to BACKUP with a priority-0 advert, to return after Skew_Time.
 *
 * The group's own state (for group notifies, keepalived `GROUP "SG" MASTER 0`)
 * is FAULT if a member is, MASTER if all are, STOP once stopped, BACKUP
 * otherwise; each change gives one notify with priority 0.
 *
 * Members' trackers (including the group's own trackers, added to each
 * member's list by the runner) go through {@link VrrpSyncGroup.setPriority}
 * and {@link VrrpSyncGroup.setFault}. Membership changes on reload rebuild the
 * group; member parameter changes go to `VrrpFsm.reconfigure` directly.
 */
import { XlbError } from '../errors.js';
import type { ReceivedAdvert, VrrpAction, VrrpFsm, VrrpFsmConfig, VrrpNotifyEvent, VrrpStep } from './fsm.js';
import { VRRP_PRIO_OWNER } from './spec.js';

/** State of the group as a whole. */
export type SyncGroupState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP';

/** A group-level action: the group notify, or a trace line. */
export type SyncGroupAction =
  | { readonly kind: 'notify'; readonly event: Extract<VrrpNotifyEvent, 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP'>; readonly priority: 0 }
  | { readonly kind: 'trace'; readonly line: string };

/** The outcome of one input to the group. */
export interface SyncGroupStep {
  /** The group's state after the input. */
  readonly state: SyncGroupState;
  /** Each member's actions, in order, by member name; members without actions are absent. */
  readonly members: Map<string, VrrpAction[]>;
  /** Group-level actions (after the members'). */
  readonly actions: SyncGroupAction[];
  /** The earliest member deadline: when to call {@link VrrpSyncGroup.onTimer}; undefined = none. */
  readonly nextAt: number | undefined;
}

function invariant(cond: boolean, what: string): asserts cond {
  if (!cond) throw new XlbError('XLB_ERR_INTERNAL', [`vrrp sync group: ${what}`]);
}

/** Eligible for MASTER: MASTER already, or a BACKUP whose down timer expired while held. */
function eligible(m: VrrpFsm): boolean {
  return m.state === 'MASTER' || (m.state === 'BACKUP' && m.wantsMaster);
}

/** One sync group over its member instances. */
export class VrrpSyncGroup {
  readonly #name: string;
  readonly #members: ReadonlyMap<string, VrrpFsm>;
  #state: SyncGroupState = 'INIT';
  /** The time of the input in progress. */
  #now = 0;
  /** Collected during one input. */
  #out = new Map<string, VrrpAction[]>();
  #groupOut: SyncGroupAction[] = [];

  /**
   * @param name the group's name (keepalived `vrrp_sync_group NAME`)
   * @param members the member instances, not started yet, keyed by their `name`
   * @throws XlbError XLB_ERR_INTERNAL on no members, duplicate names or a started member
   */
  constructor(name: string, members: Iterable<VrrpFsm>) {
    this.#name = name;
    const map = new Map<string, VrrpFsm>();
    for (const m of members) {
      invariant(!map.has(m.name), `${name}: member ${m.name} listed twice`);
      invariant(m.state === 'INIT', `${name}: member ${m.name} already started`);
      map.set(m.name, m);
    }
    invariant(map.size > 0, `${name}: no members`);
    this.#members = map;
  }

  /** The group's name. */
  get name(): string {
    return this.#name;
  }

  /** The group's state. */
  get state(): SyncGroupState {
    return this.#state;
  }

  /** A member by name. */
  member(name: string): VrrpFsm {
    const m = this.#members.get(name);
    invariant(m !== undefined, `${this.#name}: no member ${name}`);
    return m;
  }

  /** The earliest member deadline. */
  get nextAt(): number | undefined {
    let next: number | undefined;
    for (const m of this.#members.values()) {
      const d = m.nextAt;
      if (d !== undefined && (next === undefined || d < next)) next = d;
    }
    return next;
  }

  /**
   * Starts every member. All members start held (BACKUP, waiting for each
   * other), unless every member is an address owner that wants MASTER and
   * none is faulted: then they all start MASTER.
   * @param now the current time, ms
   */
  start(now: number): SyncGroupStep {
    return this.#step(now, () => {
      const all = [...this.#members.values()];
      const allOwners = all.every((m) => m.config.priority === VRRP_PRIO_OWNER && m.config.initialState === 'MASTER' && !m.ownFault);
      for (const m of all) {
        this.#collect(m, allOwners ? m.release(now, 'all members are address owners') : m.hold(now, `group ${this.#name} starting`));
      }
      // Group fault first, so that one faulted member starts them all in FAULT.
      this.#syncFaults(now);
      for (const m of all) this.#collect(m, m.start(now));
    });
  }

  /**
   * A validated advert for one member.
   * @param now when it arrived, ms
   * @param member the member's name
   * @param adv the advert
   */
  onAdvert(now: number, member: string, adv: ReceivedAdvert): SyncGroupStep {
    const m = this.member(member);
    return this.#step(now, () => this.#collect(m, m.onAdvert(now, adv)));
  }

  /**
   * Runs every member timer that is due at `now`.
   * @param now the current time, ms
   */
  onTimer(now: number): SyncGroupStep {
    return this.#step(now, () => {
      for (let guard = 0; ; guard++) {
        invariant(guard < 16 * this.#members.size, `${this.#name}: timers do not settle at ${now}`);
        let due: VrrpFsm | undefined;
        for (const m of this.#members.values()) {
          const at = m.nextAt;
          if (at !== undefined && at <= now && (due === undefined || at < due.nextAt!)) due = m;
        }
        if (due === undefined) return;
        this.#collect(due, due.onTimer(now));
        this.#settle(now);
      }
    });
  }

  /**
   * A member's effective priority changed.
   * @param now the current time, ms
   * @param member the member's name
   * @param priority see {@link VrrpFsm.setPriority}
   */
  setPriority(now: number, member: string, priority: number): SyncGroupStep {
    const m = this.member(member);
    return this.#step(now, () => this.#collect(m, m.setPriority(now, priority)));
  }

  /**
   * A member's own fault changed.
   * @param now the current time, ms
   * @param member the member's name
   * @param faulted see {@link VrrpFsm.setFault}
   * @param reason why
   */
  setFault(now: number, member: string, faulted: boolean, reason: string): SyncGroupStep {
    const m = this.member(member);
    return this.#step(now, () => this.#collect(m, m.setFault(now, faulted, reason)));
  }

  /**
   * An address of a member was deleted behind its back: that member and every
   * other MASTER member resign and return after Skew_Time (keepalived
   * `set_vrrp_backup`), together, as the group rules hold them until all are ready.
   * @param now the current time, ms
   * @param member the member that lost an address
   * @param reason what was deleted
   */
  addressDeleted(now: number, member: string, reason: string): SyncGroupStep {
    const m = this.member(member);
    return this.#step(now, () => {
      if (m.state !== 'MASTER') return;
      this.#collect(m, m.addressDeleted(now, reason));
      for (const o of this.#members.values()) {
        if (o !== m) this.#collect(o, o.addressDeleted(now, `sync group: ${m.name} lost an address`));
      }
    });
  }

  /**
   * The BFD session of a member's `bfd_peer` went Down (see
   * {@link VrrpFsm.peerDown}): that member acts as if its down timer fired;
   * the group rules then hold it until the others are ready.
   * @param now the current time, ms
   * @param member the member's name
   * @param reason why
   */
  peerDown(now: number, member: string, reason: string): SyncGroupStep {
    const m = this.member(member);
    return this.#step(now, () => this.#collect(m, m.peerDown(now, reason)));
  }

  /**
   * A reload changed a member's parameters (see {@link VrrpFsm.reconfigure};
   * membership changes rebuild the group instead).
   * @param now the current time, ms
   * @param member the member's name
   * @param cfg its new configuration
   * @param effectivePriority its effective priority under the new config
   * @throws XlbError XLB_ERR_INTERNAL when the change needs a restart
   */
  reconfigure(now: number, member: string, cfg: VrrpFsmConfig, effectivePriority?: number): SyncGroupStep {
    const m = this.member(member);
    invariant(cfg.name === undefined || cfg.name === m.name, `${this.#name}: reconfigure cannot rename ${m.name}`);
    return this.#step(now, () => this.#collect(m, m.reconfigure(now, { ...cfg, name: m.name }, effectivePriority)));
  }

  /**
   * Stops every member (priority-0 adverts from the MASTER ones).
   * @param now the current time, ms
   */
  stop(now: number): SyncGroupStep {
    return this.#step(now, () => {
      for (const m of this.#members.values()) this.#collect(m, m.stop(now));
    });
  }

  // --- coordination ----------------------------------------------------------

  /** Runs one input, settles the group, and derives the group state. */
  #step(now: number, body: () => void): SyncGroupStep {
    this.#now = now;
    this.#out = new Map();
    this.#groupOut = [];
    body();
    this.#settle(now);
    this.#updateState();
    const step: SyncGroupStep = { state: this.#state, members: this.#out, actions: this.#groupOut, nextAt: this.nextAt };
    this.#out = new Map();
    this.#groupOut = [];
    return step;
  }

  /** Applies the group rules until nothing changes. Stopped groups are left alone. */
  #settle(now: number): void {
    const members = [...this.#members.values()];
    if (members.some((m) => m.state === 'STOP')) return;
    for (let guard = 0; ; guard++) {
      invariant(guard < 8 * members.length, `${this.#name}: rules do not settle`);
      let changed = this.#syncFaults(now);
      // One member in BACKUP that is not eligible drags the MASTER members down.
      const follower = members.find((m) => m.state === 'BACKUP' && !m.wantsMaster);
      if (follower !== undefined) {
        for (const m of members) {
          if (m.state !== 'MASTER') continue;
          this.#collect(m, m.demote(now, `${follower.name} is BACKUP`));
          changed = true;
        }
      }
      // Hold a member while any other member is not eligible.
      for (const m of members) {
        const blocker = members.find((o) => o !== m && !eligible(o));
        if (blocker !== undefined && !m.held) {
          this.#collect(m, m.hold(now, `${blocker.name} is ${blocker.state}${blocker.state === 'BACKUP' ? ' and not ready' : ''}`));
          changed = true;
        } else if (blocker === undefined && m.held) {
          const was = m.state;
          this.#collect(m, m.release(now, 'all members ready'));
          changed ||= m.state !== was;
        }
      }
      if (!changed) return;
    }
  }

  /** Group fault: every member is faulted while another member has its own fault. @returns whether a member changed state */
  #syncFaults(now: number): boolean {
    let changed = false;
    for (const m of this.#members.values()) {
      const culprit = [...this.#members.values()].find((o) => o !== m && o.ownFault);
      const was = m.state;
      const wantFault = culprit !== undefined;
      if (wantFault === m.groupFaulted) continue;
      const reason = wantFault ? `sync group ${this.#name}: ${culprit.name} faulted` : `sync group ${this.#name}: no member faulted`;
      this.#collect(m, m.setGroupFault(now, wantFault, reason));
      changed ||= m.state !== was;
    }
    return changed;
  }

  /** Records a member's step, and reacts to its lower-priority advert notify. */
  #collect(m: VrrpFsm, step: VrrpStep): void {
    if (step.actions.length === 0) return;
    const list = this.#out.get(m.name) ?? [];
    list.push(...step.actions);
    this.#out.set(m.name, list);
    if (step.actions.some((a) => a.kind === 'notify' && a.event === 'MASTER_RX_LOWER_PRI')) {
      // keepalived: GARP for the other members too, their lower-priority twins are yielding.
      for (const o of this.#members.values()) if (o !== m) this.#collect(o, o.syncLowerPrioGarp(this.#now));
    }
  }

  /** Derives the group state from the members and notifies a change. */
  #updateState(): void {
    const states = [...this.#members.values()].map((m) => m.state);
    let next: SyncGroupState;
    if (states.every((s) => s === 'INIT')) next = 'INIT';
    else if (states.every((s) => s === 'STOP')) next = 'STOP';
    else if (states.includes('FAULT')) next = 'FAULT';
    else if (states.every((s) => s === 'MASTER')) next = 'MASTER';
    else next = 'BACKUP';
    if (next === this.#state) return;
    const was = this.#state;
    this.#state = next;
    this.#groupOut.push({ kind: 'trace', line: `group ${this.#name}: ${was} -> ${next}` });
    if (next !== 'INIT') this.#groupOut.push({ kind: 'notify', event: next, priority: 0 });
  }
}
