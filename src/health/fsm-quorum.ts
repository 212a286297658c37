/**
 * @module health/fsm-quorum
 * The quorum of one service, and the backend list the data plane should hold
 * for it (keepalived §2.4: quorum, hysteresis, sorry server).
 *
 * Layer: control plane, pure (STYLE H-3, H-28). No I/O, no timers: time is
 * the `now` (ms) the caller passes in; the live weight is computed by the
 * caller from its {@link BackendFsm}s (see {@link sumLiveWeight}).
 *
 * Rules: live weight W = sum of the live weights of the up backends.
 * Down -> up when W >= quorum + hysteresis; up -> down when W == 0 or
 * W < quorum - hysteresis; the initial state is W >= quorum + hysteresis, with
 * no event (as keepalived, which only runs notifiers on changes; the owner
 * reads {@link QuorumFsm.up} at start if it wants to announce a down start).
 * Lost with a sorry server: the ring holds the sorry server alone; regained:
 * the sorry server leaves and the up backends return. Without a sorry server
 * the quorum only produces events.
 */
import { backendKey } from '../config/model.js';
import type { BackendDesire } from './fsm-backend.js';
import type { ServiceHealthSpec, SorryServerSpec } from './spec.js';

/** Quorum met or not. */
export type QuorumState = 'up' | 'down';

/** A quorum transition, for quorum_up/quorum_down commands and metrics. Emitted once per transition. */
export interface QuorumEvent {
  readonly kind: 'quorum-up' | 'quorum-down';
  readonly reason: string;
  /** When it happened, ms. */
  readonly at: number;
  /** W at the transition. */
  readonly liveWeight: number;
}

/** The outcome of one evaluation. */
export interface QuorumStep {
  /** The quorum state changed (then `events` holds one event). */
  changed: boolean;
  up: boolean;
  /** The sorry server alone should be in the ring. */
  sorryActive: boolean;
  events: QuorumEvent[];
}

/** A read-only picture of a service's quorum, for `xlb status` and metrics. */
export interface QuorumSnapshot {
  readonly state: QuorumState;
  readonly since: number;
  readonly reason: string;
  /** W at the last evaluation. */
  readonly liveWeight: number;
  /** Effective quorum, after the cap. */
  readonly quorum: number;
  /** Effective hysteresis, after the clamps. */
  readonly hysteresis: number;
  readonly sorryActive: boolean;
}

/** Effective quorum and hysteresis after the caps. */
export interface QuorumThresholds {
  readonly quorum: number;
  readonly hysteresis: number;
}

/** What a {@link QuorumFsm} starts from. */
export interface QuorumFsmInit {
  spec: Readonly<ServiceHealthSpec>;
  /** The configured weights of the service's backends: the quorum is capped to their sum. */
  configuredWeights: readonly number[];
  /** W on the initial backend states. */
  liveWeight: number;
  /** The current time, ms. */
  now: number;
  /** The service's sorry server, if configured. */
  sorry?: Readonly<SorryServerSpec>;
  /** Receives one line per transition. */
  trace?: (line: string) => void;
  /** Prefix of trace lines; default `quorum`. */
  label?: string;
}

/** One entry of a service's desired backend list. */
export interface ServiceBackendDesire {
  /** backendKey(): `${address}:${port}` (the sorry server's port may be 0 = the VIP's). */
  readonly key: string;
  readonly state: BackendDesire['state'];
  readonly weight: number;
  /** Set on the sorry server's entry. */
  readonly sorry?: true;
}

/** Weight of the sorry server: it is alone in the ring, any weight > 0 does. */
export const SORRY_WEIGHT = 1;

/**
 * The quorum and hysteresis that apply. Quorum is capped to the sum of the
 * configured weights, or the service could never come up (keepalived), and
 * is at least 1, so all-zero weights do not give a quorum of 0 that W == 0
 * would both meet and lose. Hysteresis is clamped to quorum - 1 (keepalived),
 * and, beyond keepalived, to sum - quorum, so that quorum + hysteresis stays
 * reachable with every backend up (keepalived leaves it unreachable and the
 * service stuck on its sorry server).
 */
export function quorumThresholds(spec: Readonly<ServiceHealthSpec>, configuredWeights: readonly number[]): QuorumThresholds {
  const sum = configuredWeights.reduce((a, w) => a + w, 0);
  const quorum = Math.max(1, Math.min(spec.quorum, sum));
  const hysteresis = Math.max(0, Math.min(spec.hysteresis, quorum - 1, sum - quorum));
  return { quorum, hysteresis };
}

/** W: the sum of the backends' live weights (0 for a down backend, the full weight for an up one). */
export function sumLiveWeight(backends: Iterable<{ readonly liveWeight: number }>): number {
  let w = 0;
  for (const b of backends) w += b.liveWeight;
  return w;
}

/**
 * The backend list the data plane should hold for a service. While the sorry
 * server is active (quorum down and a sorry server configured) every up
 * backend is removed (`down`, its flows go to the sorry server, as keepalived
 * deletes the alive real servers) and the sorry server is added; drained and
 * down backends keep their desire (keepalived leaves inhibited ones at weight
 * 0). Otherwise the backends' own desires, and no sorry server.
 * @param backends every backend of the service with its key and desire
 * @param quorumUp the service's quorum state
 * @param sorry the sorry server, if configured
 */
export function serviceDesire(
  backends: Iterable<{ readonly key: string; readonly desire: BackendDesire }>,
  quorumUp: boolean,
  sorry?: Readonly<SorryServerSpec>,
): ServiceBackendDesire[] {
  const sorryActive = !quorumUp && sorry !== undefined;
  const out: ServiceBackendDesire[] = [];
  for (const b of backends) {
    const removed = sorryActive && b.desire.state === 'up';
    out.push(removed ? { key: b.key, state: 'down', weight: 0 } : { key: b.key, state: b.desire.state, weight: b.desire.weight });
  }
  if (sorryActive) out.push({ key: backendKey(sorry), state: 'up', weight: SORRY_WEIGHT, sorry: true });
  return out;
}

/** One service's quorum. */
export class QuorumFsm {
  readonly #trace: ((line: string) => void) | undefined;
  readonly #label: string;
  #hasSorry: boolean;
  #t: QuorumThresholds;
  #state: QuorumState;
  #since: number;
  #reason: string;
  #liveWeight: number;

  /** Starts in the state W >= quorum + hysteresis gives, without an event. */
  constructor(init: QuorumFsmInit) {
    this.#trace = init.trace;
    this.#label = init.label ?? 'quorum';
    this.#hasSorry = init.sorry !== undefined;
    this.#t = quorumThresholds(init.spec, init.configuredWeights);
    this.#liveWeight = init.liveWeight;
    const up = init.liveWeight >= this.#upThreshold();
    this.#state = up ? 'up' : 'down';
    this.#since = init.now;
    this.#reason = `initial: ${up ? this.#upReason() : this.#belowUpReason()}`;
  }

  /** Whether the quorum is met. */
  get up(): boolean {
    return this.#state === 'up';
  }

  /** Whether the sorry server alone should be in the ring. */
  get sorryActive(): boolean {
    return !this.up && this.#hasSorry;
  }

  /** The effective quorum and hysteresis. */
  get thresholds(): QuorumThresholds {
    return this.#t;
  }

  /**
   * Re-evaluates with a new live weight (after any backend desire change).
   * @param now the current time, ms
   * @param liveWeight W, see {@link sumLiveWeight}
   */
  update(now: number, liveWeight: number): QuorumStep {
    this.#liveWeight = liveWeight;
    const to: QuorumState = (this.up ? !this.#lost() : liveWeight >= this.#upThreshold()) ? 'up' : 'down';
    const reason = to === 'up' ? this.#upReason() : this.#lostReason();
    const changed = this.#transitionTo([to === 'up' ? 'down' : 'up'], to, reason, now);
    const events = changed ? [this.#event(to === 'up' ? 'quorum-up' : 'quorum-down', now)] : [];
    return { changed, up: this.up, sorryActive: this.sorryActive, events };
  }

  /**
   * Applies a reloaded service (new quorum options, backends, sorry server)
   * without forgetting the state, then re-evaluates like {@link update}.
   */
  reconfigure(
    now: number,
    spec: Readonly<ServiceHealthSpec>,
    configuredWeights: readonly number[],
    liveWeight: number,
    sorry?: Readonly<SorryServerSpec>,
  ): QuorumStep {
    this.#t = quorumThresholds(spec, configuredWeights);
    this.#hasSorry = sorry !== undefined;
    return this.update(now, liveWeight);
  }

  /** A read-only picture for status and metrics. */
  snapshot(): QuorumSnapshot {
    return Object.freeze({
      state: this.#state,
      since: this.#since,
      reason: this.#reason,
      liveWeight: this.#liveWeight,
      quorum: this.#t.quorum,
      hysteresis: this.#t.hysteresis,
      sorryActive: this.sorryActive,
    });
  }

  #upThreshold(): number {
    return this.#t.quorum + this.#t.hysteresis;
  }

  #lost(): boolean {
    return this.#liveWeight === 0 || this.#liveWeight < this.#t.quorum - this.#t.hysteresis;
  }

  #upReason(): string {
    return `live weight ${this.#liveWeight} >= quorum ${this.#t.quorum} + hysteresis ${this.#t.hysteresis}`;
  }

  #belowUpReason(): string {
    return `live weight ${this.#liveWeight} < quorum ${this.#t.quorum} + hysteresis ${this.#t.hysteresis}`;
  }

  #lostReason(): string {
    if (this.#liveWeight === 0) return 'live weight 0';
    return `live weight ${this.#liveWeight} < quorum ${this.#t.quorum} - hysteresis ${this.#t.hysteresis}`;
  }

  #event(kind: QuorumEvent['kind'], now: number): QuorumEvent {
    return { kind, reason: this.#reason, at: now, liveWeight: this.#liveWeight };
  }

  /** The only place the quorum state changes (H-28): returns false for a transition not allowed from here. */
  #transitionTo(from: readonly QuorumState[], to: QuorumState, reason: string, now: number): boolean {
    if (!from.includes(this.#state) || this.#state === to) return false;
    const was = this.#state;
    this.#state = to;
    this.#since = now;
    this.#reason = reason;
    this.#trace?.(`${this.#label}: ${was} -> ${to} (${reason})`);
    return true;
  }
}
