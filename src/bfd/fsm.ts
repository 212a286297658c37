/**
 * @module bfd/fsm
 * The state machine of one BFD session in asynchronous mode: AdminDown,
 * Down, Init, Up, its diagnostics, the negotiated timers with slow start and
 * Poll/Final, passive mode and transmit jitter.
 *
 * Layer: control plane, pure (STYLE H-3, H-28). No sockets, no timers, no
 * clock, no addon, no Math.random: every input takes `now` (ms, any monotonic
 * origin, fractions allowed) and returns a {@link BfdStep}: the control
 * packets to send now (as {@link SessionPacket} values for the codec), the events
 * (state changes with their diagnostic, negotiated timers, echo permission,
 * trace lines), and the two deadlines `txAt` (next periodic packet) and
 * `detectAt` (Detection Time expiry) at which the runtime calls
 * {@link BfdSession.onTimer}. The jitter draws come from an injected rng.
 *
 * The runtime does the stateless reception checks of RFC 5880 §6.8.6 first
 * (version, length, Detect Mult, Multipoint, My Discriminator, the session
 * lookup by Your Discriminator or by addresses, authentication: ./codec.ts,
 * ./auth.ts) and hands the decoded packet to {@link BfdSession.onPacket}, which
 * does the stateful rest. It re-checks the few rules that need the session
 * (Your Discriminator, AdminDown) and reports a discard reason to count.
 *
 * Behaviour (RFC 5880 §6.2, §6.8):
 * - state variables of §6.8.1; bfd.RemoteMinRxInterval starts at 1 µs; after
 *   a Detection Time without packets (in any state but AdminDown) the peer
 *   is forgotten: bfd.RemoteDiscr 0, bfd.RemoteMinRxInterval 1, remote state
 *   Down, no Detection Time until it speaks again (§6.8.1, §6.8.18);
 * - reception (§6.8.6): remote variables first, then a Final ends our Poll
 *   Sequence, then (not AdminDown) the transitions Down + Down -> Init,
 *   Down + Init -> Up, Init + Init/Up -> Up, Up + Down -> Down (diag 3),
 *   Init/Up + AdminDown -> Down (diag 3); a Poll is answered at once with a
 *   Final; the packet restarts the Detection Time;
 * - Detection Time (§6.8.4): remote Detect Mult x max(own Required Min RX in
 *   force, remote Desired Min TX); expiry in Init or Up -> Down, diag 1;
 * - transmit interval (§6.8.7): max(Desired Min TX in force, remote Required
 *   Min RX), jittered to 75-100 % (75-90 % with Detect Mult 1); nothing is sent
 *   while passive and bfd.RemoteDiscr is 0 (§6.1); no periodic packets while
 *   the remote Required Min RX is 0 or remote demand mode is active;
 * - slow start (§6.8.3): while not Up, bfd.DesiredMinTxInterval is
 *   max(min_tx, idle_tx, 1 s) (keepalived `idle_tx`);
 * - timer changes (§6.8.2, §6.8.3): any change of the advertised Desired Min
 *   TX, Required Min RX or Detect Mult (a reload, slow start ending or
 *   starting) starts a Poll Sequence on the periodic packets (§6.5); while Up,
 *   a larger Desired Min TX is used only after the Final, and a smaller
 *   Required Min RX counts for the Detection Time only after the Final; every
 *   other change applies at once. A smaller transmit interval is honoured at
 *   once: the next packet goes at most one new interval after the last;
 * - administrative control (§6.8.16): {@link BfdSession.adminDown} -> AdminDown
 *   with diag 7 (or 5, path down), AdminDown packets for one Detection Time as
 *   the peer computes it, then silence; {@link BfdSession.adminUp} -> Down;
 * - echo (§6.4, §6.8.5): the own Required Min Echo RX is what the runtime
 *   sets ({@link BfdSession.setRequiredMinEchoRx}: non-zero only while XDP
 *   reflects; a change once started goes out in a Poll); the peer's is exposed, and an `echo` event says when the
 *   runtime may run its own echo (session Up, peer's value non-zero) and at
 *   what minimum interval; the runtime reports an echo failure with
 *   {@link BfdSession.echoFailed}: Up -> Down, diag 2;
 * - concatenated paths (§6.8.17): {@link BfdSession.setConcatenatedPathDiag}
 *   sets diag 6 or 8 while Up without taking the session down.
 *
 * Choices where the RFC leaves room (documented for the README):
 * - a state change sends a packet at once and restarts the transmit timer,
 *   so the three-way handshake does not wait up to a slow-start second per
 *   step (the packet replaces the next periodic one, Poll bit included);
 * - entering Up clears bfd.LocalDiag to 0 (no failure to report any more);
 *   Init keeps it;
 * - Demand mode: never asked for (bfd.DemandMode 0, the D bit is never
 *   sent), a peer's demand request is honoured as keepalived does: periodic
 *   packets stop while both are Up and the peer sets D, except during a Poll
 *   Sequence; Polls are still answered, and the own Detection Time keeps
 *   running on the peer's packets (the peer does not stop sending, since we
 *   do not ask it to);
 * - a Final ends the Poll Sequence only once a Poll carrying the current
 *   values has gone out (a Final answering an older Poll does not settle a
 *   newer change);
 * - Diag 4 (forwarding plane reset) is never set: it goes with the C bit, and
 *   xlb's control packets are not independent of its control plane (C = 0).
 */
import { XlbError } from '../errors.js';
import type { BfdControl } from './codec.js';
import { detectionTimeUs, jitteredIntervalMs, slowTxUs, txIntervalUs } from './timers.js';
import {
  BFD_DIAG,
  BFD_DIAG_NAMES,
  BFD_IDLE_TX_DEFAULT_MS,
  BFD_MULTIPLIER_MAX,
  BFD_MULTIPLIER_MIN,
  BFD_REMOTE_MIN_RX_INITIAL_US,
  BFD_SLOW_TX_US,
  BFD_STATE,
  BFD_STATE_NAMES,
  type BfdDiag,
  type BfdState,
} from './spec.js';

/** Tracer name (H-40). */
export const TRACER = 'bfd';

/** Largest value of a 32-bit wire field (discriminators, intervals in µs). */
const U32_MAX = 0xffff_ffff;

/**
 * The fields of a control packet that the state machine reads and writes
 * (RFC 5880 §4.1): the codec's decoded packet ({@link BfdControl}) without
 * what the runtime checks or fills in (version, C, M, authentication). P and
 * F are never both set in what the machine sends.
 */
export type SessionPacket = Readonly<
  Pick<BfdControl, 'state' | 'diag' | 'poll' | 'final' | 'demand' | 'detectMult' | 'myDiscriminator' | 'yourDiscriminator' | 'desiredMinTxUs' | 'requiredMinRxUs' | 'requiredMinEchoRxUs'>
>;

/** The configuration of one session (keepalived `bfd_instance`, in wire units). */
export interface BfdSessionConfig {
  /** Instance name in traces; default `discr <localDiscr>`. */
  readonly name?: string;
  /** bfd.LocalDiscr: non-zero and unique on this system (the runtime allocates it). */
  readonly localDiscr: number;
  /** keepalived `min_tx`: Desired Min TX while Up, µs, 1..2^32-1. */
  readonly desiredMinTxUs: number;
  /** keepalived `min_rx`: Required Min RX, µs, 0..2^32-1 (0: the peer sends no periodic packets). */
  readonly requiredMinRxUs: number;
  /** keepalived `idle_tx`: Desired Min TX while not Up, µs, >= 1 s (default 1 s). */
  readonly idleTxUs?: number;
  /** keepalived `multiplier`: bfd.DetectMult, 1..255. */
  readonly detectMult: number;
  /** keepalived `passive`: send nothing until the peer has spoken (default false). */
  readonly passive?: boolean;
}

/** A config with every default filled in. */
export interface ResolvedBfdSessionConfig {
  readonly name: string;
  readonly localDiscr: number;
  readonly desiredMinTxUs: number;
  readonly requiredMinRxUs: number;
  readonly idleTxUs: number;
  readonly detectMult: number;
  readonly passive: boolean;
}

/** Why {@link BfdSession.onPacket} dropped a packet: each is counted under its own reason. */
export type BfdDiscard =
  /** The session has not been started. */
  | 'not-started'
  /** Detect Mult 0 or above 255, My Discriminator 0 or not 32 bits, an interval not 32 bits, P and F both set (the codec should have refused it). */
  | 'invalid'
  /** Your Discriminator is non-zero and not ours (§6.8.6: the runtime picked the wrong session). */
  | 'your-discr-mismatch'
  /** Your Discriminator is zero while the peer says Init or Up (§6.8.6). */
  | 'your-discr-zero'
  /** The session is AdminDown (§6.8.6: the remote variables are still updated). */
  | 'admin-down';

/** Something that happened, for logs, metrics, notify and the consumers (VRRP, checks). */
export type BfdEvent =
  /** The session changed state; `diag` is bfd.LocalDiag after the change. */
  | { readonly kind: 'state'; readonly from: BfdState; readonly to: BfdState; readonly diag: BfdDiag; readonly reason: string }
  /**
   * The negotiated timers changed: the transmit interval before jitter and
   * the Detection Time (undefined until the peer has spoken), µs.
   */
  | { readonly kind: 'timers'; readonly txIntervalUs: number; readonly detectTimeUs: number | undefined }
  /**
   * What the runtime's own echo may do changed: the minimum interval at which
   * echo packets may be sent to the peer, µs, or 0: no echo (session not Up,
   * or the peer's Required Min Echo RX is 0; §6.4, §6.8.6: echo MUST cease).
   */
  | { readonly kind: 'echo'; readonly minTxUs: number }
  /** A log line (`bfd1: Down -> Init (neighbor Down)`). */
  | { readonly kind: 'trace'; readonly line: string };

/** The outcome of one input. */
export interface BfdStep {
  /** The state after the input. */
  readonly state: BfdState;
  /** Control packets to send now, in order. */
  readonly send: SessionPacket[];
  /** What happened, in order. */
  readonly events: BfdEvent[];
  /** Set when {@link BfdSession.onPacket} dropped the packet. */
  readonly discarded: BfdDiscard | undefined;
  /** When the next periodic packet is due, ms; undefined: none (passive and silent, AdminDown done, remote demand...). */
  readonly txAt: number | undefined;
  /** When the Detection Time expires, ms; undefined: no packet to time out. */
  readonly detectAt: number | undefined;
  /**
   * The earlier of the two, when to call {@link BfdSession.onTimer}. It may
   * be <= now: arm max(0, nextAt - now).
   */
  readonly nextAt: number | undefined;
}

/** A read-only picture of a session, for `xlb status` and metrics; intervals in µs. */
export interface BfdSnapshot {
  readonly name: string;
  readonly state: BfdState;
  /** When the session entered its state; undefined before start. */
  readonly since: number | undefined;
  readonly localDiag: BfdDiag;
  readonly localDiscr: number;
  readonly remoteDiscr: number;
  readonly remoteState: BfdState;
  /** Diag of the peer's last packet (values past 8 are reserved: kept as received). */
  readonly remoteDiag: number;
  readonly detectMult: number;
  /** Detect Mult of the peer's last packet (0 before any). */
  readonly remoteDetectMult: number;
  /** bfd.DesiredMinTxInterval: what packets advertise. */
  readonly desiredMinTxUs: number;
  /** bfd.RequiredMinRxInterval: what packets advertise. */
  readonly requiredMinRxUs: number;
  /** The Desired Min TX the transmit interval uses (lags the advertised one during a Poll Sequence, §6.8.3). */
  readonly effectiveMinTxUs: number;
  /** The Required Min RX the Detection Time uses (lags the advertised one during a Poll Sequence, §6.8.3). */
  readonly effectiveMinRxUs: number;
  readonly remoteMinRxUs: number;
  /** Desired Min TX of the peer's last packet (0 before any). */
  readonly remoteDesiredMinTxUs: number;
  readonly requiredMinEchoRxUs: number;
  readonly remoteMinEchoRxUs: number;
  /** bfd.DemandMode: always false (xlb never asks for demand mode). */
  readonly demandMode: boolean;
  readonly remoteDemandMode: boolean;
  /** A Poll Sequence is running. */
  readonly polling: boolean;
  readonly passive: boolean;
  /** Negotiated transmit interval before jitter. */
  readonly txIntervalUs: number;
  /** Detection Time; undefined until the peer has spoken. */
  readonly detectTimeUs: number | undefined;
  readonly txAt: number | undefined;
  readonly detectAt: number | undefined;
}

/** Options that are not configuration. */
export interface BfdSessionOptions {
  /** Uniform draws in [0, 1) for the transmit jitter; default Math.random. */
  readonly rng?: () => number;
}

/** Throws the internal-invariant error: the loader and the runtime should never let such input through. */
function invariant(cond: boolean, what: string): asserts cond {
  if (!cond) throw new XlbError('XLB_ERR_INTERNAL', [`bfd: ${what}`]);
}

function isU32(n: number, min = 0): boolean {
  return Number.isInteger(n) && n >= min && n <= U32_MAX;
}

const stateName = (s: BfdState): string => BFD_STATE_NAMES[s];

/**
 * Fills the defaults in and checks ranges.
 * @throws XlbError XLB_ERR_INTERNAL on a value the loader should have refused
 */
export function resolveBfdSessionConfig(cfg: BfdSessionConfig): ResolvedBfdSessionConfig {
  invariant(isU32(cfg.localDiscr, 1), `localDiscr must be 1..2^32-1 (got ${cfg.localDiscr})`);
  invariant(isU32(cfg.desiredMinTxUs, 1), `desiredMinTxUs must be 1..2^32-1 µs (got ${cfg.desiredMinTxUs})`);
  invariant(isU32(cfg.requiredMinRxUs), `requiredMinRxUs must be 0..2^32-1 µs (got ${cfg.requiredMinRxUs})`);
  const idleTxUs = cfg.idleTxUs ?? BFD_IDLE_TX_DEFAULT_MS * 1000;
  invariant(isU32(idleTxUs, BFD_SLOW_TX_US), `idleTxUs must be ${BFD_SLOW_TX_US}..2^32-1 µs (got ${idleTxUs})`);
  invariant(
    Number.isInteger(cfg.detectMult) && cfg.detectMult >= BFD_MULTIPLIER_MIN && cfg.detectMult <= BFD_MULTIPLIER_MAX,
    `detectMult must be ${BFD_MULTIPLIER_MIN}..${BFD_MULTIPLIER_MAX} (got ${cfg.detectMult})`,
  );
  return Object.freeze({
    name: cfg.name ?? `discr ${cfg.localDiscr}`,
    localDiscr: cfg.localDiscr,
    desiredMinTxUs: cfg.desiredMinTxUs,
    requiredMinRxUs: cfg.requiredMinRxUs,
    idleTxUs,
    detectMult: cfg.detectMult,
    passive: cfg.passive ?? false,
  });
}

/**
 * The changes between two configs that {@link BfdSession.reconfigure} cannot
 * apply to a running session: a new bfd.LocalDiscr is another session to the
 * peer, so the runtime takes the old one AdminDown and starts a new one.
 * @returns one line per such change; empty = reconfigure applies
 */
export function restartReasons(from: BfdSessionConfig, to: BfdSessionConfig): string[] {
  return from.localDiscr !== to.localDiscr ? [`local discriminator ${from.localDiscr} -> ${to.localDiscr}`] : [];
}

/**
 * One BFD session. Pure: the runtime owns the socket, the timer and the
 * codec; this owns the state, the negotiation and the schedule.
 *
 * Every input returns a {@link BfdStep}. Inputs before {@link start} return
 * no packets (a packet is discarded as `not-started`); settings made before
 * start ({@link setRequiredMinEchoRx}) are kept.
 */
export class BfdSession {
  #cfg: ResolvedBfdSessionConfig;
  readonly #rng: () => number;
  #started = false;
  #since: number | undefined;

  // --- RFC 5880 §6.8.1 state variables ---------------------------------------
  #state: BfdState = BFD_STATE.DOWN;
  #remoteState: BfdState = BFD_STATE.DOWN;
  #remoteDiscr = 0;
  #localDiag: BfdDiag = BFD_DIAG.NONE;
  /** bfd.DesiredMinTxInterval: advertised. */
  #desiredMinTxUs: number;
  /** bfd.RequiredMinRxInterval: advertised. */
  #requiredMinRxUs: number;
  #remoteMinRxUs = BFD_REMOTE_MIN_RX_INITIAL_US;
  #remoteDemand = false;
  /** bfd.DetectMult: advertised. */
  #detectMult: number;

  // --- what the peer said last (not §6.8.1 variables, but needed for §6.8.4) --
  #remoteDesiredMinTxUs = 0;
  #remoteDetectMult = 0;
  #remoteDiag: number = BFD_DIAG.NONE;
  #remoteMinEchoRxUs = 0;

  // --- own echo and timer bookkeeping ----------------------------------------
  #requiredMinEchoRxUs = 0;
  /** Desired Min TX that the transmit interval uses (§6.8.3: lags during a Poll Sequence). */
  #effMinTxUs: number;
  /** Required Min RX that the Detection Time uses (§6.8.3: lags during a Poll Sequence). */
  #effMinRxUs: number;
  #polling = false;
  /** A Poll carrying the current values has gone out since the last change. */
  #pollSent = false;
  #lastTxAt: number | undefined;
  #lastRxAt: number | undefined;
  #txAt: number | undefined;
  #detectAt: number | undefined;
  /** The transmit interval `#txAt` was computed with (a re-arm only happens when it changes). */
  #txArmedIntervalUs: number | undefined;
  /** AdminDown: AdminDown packets go out until then (§6.8.16: at least a Detection Time). */
  #adminTxUntil: number | undefined;
  /** Last values reported by `timers` and `echo` events. */
  #reportedTimers: string | undefined;
  #reportedEcho = 0;

  // --- output of the step in progress ----------------------------------------
  #send: SessionPacket[] = [];
  #events: BfdEvent[] = [];
  #discarded: BfdDiscard | undefined;

  /**
   * @param cfg the session's configuration (validated by the loader)
   * @param opts the jitter's rng
   * @throws XlbError XLB_ERR_INTERNAL on a value out of range
   */
  constructor(cfg: BfdSessionConfig, opts: BfdSessionOptions = {}) {
    this.#cfg = resolveBfdSessionConfig(cfg);
    this.#rng = opts.rng ?? Math.random;
    this.#detectMult = this.#cfg.detectMult;
    this.#desiredMinTxUs = this.#advertisedMinTxUs();
    this.#requiredMinRxUs = this.#cfg.requiredMinRxUs;
    this.#effMinTxUs = this.#desiredMinTxUs;
    this.#effMinRxUs = this.#requiredMinRxUs;
  }

  /** The current state. */
  get state(): BfdState {
    return this.#state;
  }

  /** The session name (traces). */
  get name(): string {
    return this.#cfg.name;
  }

  /** The resolved configuration in force. */
  get config(): ResolvedBfdSessionConfig {
    return this.#cfg;
  }

  /** The peer's Required Min Echo RX from its last packet, µs (0: none, or no packet yet). */
  get remoteMinEchoRxUs(): number {
    return this.#remoteMinEchoRxUs;
  }

  /** The earlier deadline; undefined = none. */
  get nextAt(): number | undefined {
    if (this.#txAt === undefined) return this.#detectAt;
    if (this.#detectAt === undefined) return this.#txAt;
    return Math.min(this.#txAt, this.#detectAt);
  }

  /** A read-only picture for status and metrics. */
  snapshot(): BfdSnapshot {
    return Object.freeze({
      name: this.#cfg.name,
      state: this.#state,
      since: this.#since,
      localDiag: this.#localDiag,
      localDiscr: this.#cfg.localDiscr,
      remoteDiscr: this.#remoteDiscr,
      remoteState: this.#remoteState,
      remoteDiag: this.#remoteDiag,
      detectMult: this.#detectMult,
      remoteDetectMult: this.#remoteDetectMult,
      desiredMinTxUs: this.#desiredMinTxUs,
      requiredMinRxUs: this.#requiredMinRxUs,
      effectiveMinTxUs: this.#effMinTxUs,
      effectiveMinRxUs: this.#effMinRxUs,
      remoteMinRxUs: this.#remoteMinRxUs,
      remoteDesiredMinTxUs: this.#remoteDesiredMinTxUs,
      requiredMinEchoRxUs: this.#requiredMinEchoRxUs,
      remoteMinEchoRxUs: this.#remoteMinEchoRxUs,
      demandMode: false,
      remoteDemandMode: this.#remoteDemand,
      polling: this.#polling,
      passive: this.#cfg.passive,
      txIntervalUs: this.#txIntervalUs(),
      detectTimeUs: this.#detectTimeUs(),
      txAt: this.#txAt,
      detectAt: this.#detectAt,
    });
  }

  /**
   * Starts the session in Down (§6.8.1). An active session sends its first
   * packet at once (slow start, Your Discriminator 0); a passive one waits
   * for the peer (§6.1).
   * @param now the current time, ms
   * @throws XlbError XLB_ERR_INTERNAL when already started
   */
  start(now: number): BfdStep {
    invariant(!this.#started, `${this.#cfg.name}: start after start`);
    return this.#step(undefined, () => {
      this.#started = true;
      this.#since = now;
      this.#trace(`start in Down (${this.#cfg.passive ? 'passive' : 'active'})`);
      if (this.#canSend()) this.#sendPeriodic(now);
      else this.#armTx(now);
    });
  }

  /**
   * Takes a received control packet that passed the codec's and the
   * authentication's checks and was matched to this session (RFC 5880
   * §6.8.6, the part after "the packet MUST be authenticated").
   * @param now when it arrived, ms
   * @param pkt the decoded packet
   */
  onPacket(now: number, pkt: SessionPacket): BfdStep {
    const discard = this.#check(pkt);
    if (discard !== undefined) return this.#step(discard, () => this.#trace(`packet discarded: ${discard}`));
    return this.#step(undefined, () => this.#receive(now, pkt));
  }

  /**
   * Runs what is due at `now`: the Detection Time first (so a packet sent in
   * the same call says Down), then the periodic packet. A call before both
   * deadlines does nothing.
   * @param now the current time, ms
   */
  onTimer(now: number): BfdStep {
    return this.#step(undefined, () => {
      if (this.#detectAt !== undefined && this.#detectAt <= now) this.#detectionExpired(now);
      if (this.#txAt !== undefined && this.#txAt <= now) this.#periodic(now);
    });
  }

  /**
   * Takes the session administratively down (RFC 5880 §6.8.16): AdminDown
   * with `diag`, echo stops, an AdminDown packet goes out at once and then
   * periodically for one Detection Time as the peer computes it (Detect Mult
   * x the transmit interval), after which the session is silent and the
   * runtime may delete it. No-op when already AdminDown.
   * @param now the current time, ms
   * @param diag 7 (administratively down, the default) or 5 (path down: the
   *   underlying path failed, signalled from outside BFD)
   * @param reason why, for the log
   */
  adminDown(now: number, diag: typeof BFD_DIAG.ADMINISTRATIVELY_DOWN | typeof BFD_DIAG.PATH_DOWN = BFD_DIAG.ADMINISTRATIVELY_DOWN, reason = 'admin down'): BfdStep {
    invariant(diag === BFD_DIAG.ADMINISTRATIVELY_DOWN || diag === BFD_DIAG.PATH_DOWN, `adminDown diag must be 5 or 7 (got ${String(diag)})`);
    return this.#step(undefined, () => {
      if (!this.#started || this.#state === BFD_STATE.ADMIN_DOWN) return;
      this.#transition(now, BFD_STATE.ADMIN_DOWN, diag, reason);
      this.#adminTxUntil = now + (this.#detectMult * this.#txIntervalUs()) / 1000;
      this.#detectAt = undefined;
      this.#lastRxAt = undefined;
      if (this.#canSend()) this.#sendPeriodic(now);
      else this.#armTx(now);
    });
  }

  /**
   * Enables an AdminDown session again (RFC 5880 §6.8.16): Down, periodic
   * packets resume (at once unless passive and the peer is unknown).
   * bfd.LocalDiag keeps its value until the next change. No-op unless AdminDown.
   * @param now the current time, ms
   * @param reason why, for the log
   */
  adminUp(now: number, reason = 'admin up'): BfdStep {
    return this.#step(undefined, () => {
      if (this.#state !== BFD_STATE.ADMIN_DOWN) return;
      this.#adminTxUntil = undefined;
      this.#transition(now, BFD_STATE.DOWN, this.#localDiag, reason);
    });
  }

  /**
   * The runtime's own echo function failed (RFC 5880 §6.8.5): Up -> Down
   * with diag 2. No-op in other states (echo runs only while Up).
   * @param now the current time, ms
   */
  echoFailed(now: number): BfdStep {
    return this.#step(undefined, () => {
      if (this.#state !== BFD_STATE.UP) return;
      this.#transition(now, BFD_STATE.DOWN, BFD_DIAG.ECHO_FUNCTION_FAILED, 'echo function failed');
    });
  }

  /**
   * Signals a concatenated path failure (RFC 5880 §6.8.17) while Up: sets
   * bfd.LocalDiag to 6 (concatenated path down) or 8 (reverse concatenated
   * path down), or clears it with 0, without taking the session down. With
   * remote demand mode active a Poll Sequence carries the diag to the peer.
   * No-op unless Up (the interworking agent repeats it after the session
   * comes back Up, as the RFC says).
   * @param now the current time, ms
   * @param diag 6, 8, or 0 to clear
   */
  setConcatenatedPathDiag(
    now: number,
    diag: typeof BFD_DIAG.NONE | typeof BFD_DIAG.CONCATENATED_PATH_DOWN | typeof BFD_DIAG.REVERSE_CONCATENATED_PATH_DOWN,
  ): BfdStep {
    invariant(
      diag === BFD_DIAG.NONE || diag === BFD_DIAG.CONCATENATED_PATH_DOWN || diag === BFD_DIAG.REVERSE_CONCATENATED_PATH_DOWN,
      `concatenated path diag must be 0, 6 or 8 (got ${String(diag)})`,
    );
    return this.#step(undefined, () => {
      if (this.#state !== BFD_STATE.UP || diag === this.#localDiag) return;
      this.#localDiag = diag;
      this.#trace(`diag ${diag} (${BFD_DIAG_NAMES[diag]})`);
      if (this.#remoteDemandActive()) this.#startPoll(now);
    });
  }

  /**
   * Sets the Required Min Echo RX Interval to advertise (the runtime: non-zero
   * only while XDP reflects the peer's echo packets). Once started, a change
   * starts a Poll Sequence (not AdminDown): §6.8.3 asks for one only for
   * the control intervals, but the peer's Final then confirms it has the new
   * value (FRR's bfdd starts or stops its echo on any packet that carries
   * it), and the Poll makes the next packet go out now. May be called before
   * start (it then goes out with the first packet).
   * @param now the current time, ms
   * @param us µs, 0..2^32-1 (0: do not send me echo packets)
   * @throws XlbError XLB_ERR_INTERNAL on a value out of range
   */
  setRequiredMinEchoRx(now: number, us: number): BfdStep {
    invariant(isU32(us), `requiredMinEchoRxUs must be 0..2^32-1 µs (got ${us})`);
    return this.#step(undefined, () => {
      if (us === this.#requiredMinEchoRxUs) return;
      this.#requiredMinEchoRxUs = us;
      if (!this.#started) return;
      this.#trace(`required min echo rx ${us} µs`);
      if (this.#state !== BFD_STATE.ADMIN_DOWN) this.#startPoll(now);
    });
  }

  /**
   * Applies a reloaded configuration without dropping the session. Throws
   * when {@link restartReasons} is not empty. A change of min_tx, min_rx or
   * multiplier starts a Poll Sequence (§6.8.3); while Up a larger min_tx is
   * used and a smaller min_rx counts only after the peer's Final, so an Up
   * session stays Up. `idle_tx` applies from now while not Up; `passive`
   * from now (a session that becomes passive before the peer spoke goes
   * silent).
   * @param now the current time, ms
   * @param cfg the new configuration
   * @throws XlbError XLB_ERR_INTERNAL when a restart is needed or a value is out of range
   */
  reconfigure(now: number, cfg: BfdSessionConfig): BfdStep {
    const reasons = restartReasons(this.#cfg, cfg);
    invariant(reasons.length === 0, `${this.#cfg.name}: reload needs a restart (${reasons.join('; ')})`);
    const next = resolveBfdSessionConfig(cfg);
    return this.#step(undefined, () => {
      this.#cfg = next;
      if (!this.#started) {
        this.#detectMult = next.detectMult;
        this.#desiredMinTxUs = this.#advertisedMinTxUs();
        this.#requiredMinRxUs = next.requiredMinRxUs;
        this.#settle();
        return;
      }
      this.#trace('reconfigured');
      this.#updateAdvertised(now);
      this.#armTx(now);
    });
  }

  // --- reception ---------------------------------------------------------------

  /** The stateful discard rules of §6.8.6 and the codec's rules the session depends on. */
  #check(pkt: SessionPacket): BfdDiscard | undefined {
    if (!this.#started) return 'not-started';
    const intervals = [pkt.desiredMinTxUs, pkt.requiredMinRxUs, pkt.requiredMinEchoRxUs];
    if (
      !Number.isInteger(pkt.detectMult) ||
      pkt.detectMult < 1 ||
      pkt.detectMult > BFD_MULTIPLIER_MAX ||
      !isU32(pkt.myDiscriminator, 1) ||
      !isU32(pkt.yourDiscriminator) ||
      !intervals.every((v) => isU32(v)) ||
      (pkt.poll && pkt.final) ||
      BFD_STATE_NAMES[pkt.state] === undefined
    ) {
      return 'invalid';
    }
    if (pkt.yourDiscriminator !== 0 && pkt.yourDiscriminator !== this.#cfg.localDiscr) return 'your-discr-mismatch';
    if (pkt.yourDiscriminator === 0 && pkt.state !== BFD_STATE.DOWN && pkt.state !== BFD_STATE.ADMIN_DOWN) return 'your-discr-zero';
    return undefined;
  }

  /** RFC 5880 §6.8.6 from "Set bfd.RemoteDiscr" on, in its order. */
  #receive(now: number, pkt: SessionPacket): void {
    this.#remoteDiscr = pkt.myDiscriminator;
    this.#remoteState = pkt.state;
    this.#remoteDemand = pkt.demand;
    this.#remoteMinRxUs = pkt.requiredMinRxUs;
    this.#remoteDesiredMinTxUs = pkt.desiredMinTxUs;
    this.#remoteDetectMult = pkt.detectMult;
    this.#remoteDiag = pkt.diag;
    this.#remoteMinEchoRxUs = pkt.requiredMinEchoRxUs;

    // A Final ends our Poll Sequence and releases the timer values held back (§6.5, §6.8.3).
    if (pkt.final && this.#polling && this.#pollSent) {
      this.#polling = false;
      this.#trace('poll sequence done (final received)');
      this.#settle();
    }

    if (this.#state === BFD_STATE.ADMIN_DOWN) {
      // Discarded after the remote variables (§6.8.6): no state change, no Final, no detection.
      this.#armTx(now);
      this.#trace('packet discarded: admin-down');
      this.#discarded = 'admin-down';
      return;
    }

    const before = this.#state;
    const peer = pkt.state;
    if (peer === BFD_STATE.ADMIN_DOWN) {
      if (before !== BFD_STATE.DOWN) this.#transition(now, BFD_STATE.DOWN, BFD_DIAG.NEIGHBOR_SIGNALED_DOWN, 'neighbor AdminDown', false);
    } else if (before === BFD_STATE.DOWN) {
      if (peer === BFD_STATE.DOWN) this.#transition(now, BFD_STATE.INIT, this.#localDiag, 'neighbor Down', false);
      else if (peer === BFD_STATE.INIT) this.#transition(now, BFD_STATE.UP, BFD_DIAG.NONE, 'neighbor Init', false);
    } else if (before === BFD_STATE.INIT) {
      if (peer === BFD_STATE.INIT || peer === BFD_STATE.UP) this.#transition(now, BFD_STATE.UP, BFD_DIAG.NONE, `neighbor ${stateName(peer)}`, false);
    } else if (peer === BFD_STATE.DOWN) {
      this.#transition(now, BFD_STATE.DOWN, BFD_DIAG.NEIGHBOR_SIGNALED_DOWN, 'neighbor Down', false);
    }
    const changed = this.#state !== before;

    // The packet counts for the Detection Time (§6.8.4): restart it with the values just learned.
    this.#lastRxAt = now;
    this.#armDetect();

    if (pkt.poll) {
      // §6.8.6: answer a Poll at once with a Final, outside the periodic schedule;
      // after a state change it also announces the new state, in place of the next periodic packet.
      this.#emit(now, { poll: false, final: true });
      if (changed) this.#restartTx(now);
    } else if (changed && this.#canSend()) {
      this.#sendPeriodic(now);
    }
    // Transmit interval and demand permission may have changed with the peer's values (§6.8.3, §6.8.7).
    this.#armTx(now);
  }

  // --- timers ------------------------------------------------------------------

  /** The Detection Time passed without a packet (§6.8.4, §6.8.1, §6.8.18). */
  #detectionExpired(now: number): void {
    const detect = this.#detectTimeUs();
    this.#detectAt = undefined;
    this.#lastRxAt = undefined;
    // The peer's session state need not be kept any longer (§6.8.18).
    this.#remoteDiscr = 0;
    this.#remoteMinRxUs = BFD_REMOTE_MIN_RX_INITIAL_US;
    this.#remoteState = BFD_STATE.DOWN;
    this.#remoteDemand = false;
    this.#remoteMinEchoRxUs = 0;
    this.#remoteDetectMult = 0;
    this.#remoteDesiredMinTxUs = 0;
    if (this.#state === BFD_STATE.INIT || this.#state === BFD_STATE.UP) {
      this.#transition(now, BFD_STATE.DOWN, BFD_DIAG.CONTROL_DETECTION_TIME_EXPIRED, `no packet for the detection time (${detect} µs)`);
    } else {
      this.#trace(`no packet for the detection time (${detect} µs): peer forgotten`);
    }
    this.#armTx(now);
  }

  /** The periodic timer fired. */
  #periodic(now: number): void {
    this.#txAt = undefined;
    this.#txArmedIntervalUs = undefined;
    if (!this.#periodicAllowed(now)) return;
    this.#sendPeriodic(now);
  }

  /** Sends a periodic packet now (Poll bit during a Poll Sequence) and arms the next one. */
  #sendPeriodic(now: number): void {
    this.#emit(now, { poll: this.#polling, final: false });
    if (this.#polling) this.#pollSent = true;
    this.#restartTx(now);
  }

  /** Arms the next periodic packet one jittered interval after `now`, if periodic packets are allowed. */
  #restartTx(now: number): void {
    this.#txAt = undefined;
    this.#txArmedIntervalUs = undefined;
    if (!this.#periodicAllowed(now)) return;
    const interval = this.#txIntervalUs();
    this.#txAt = now + jitteredIntervalMs(interval, this.#detectMult, this.#rng);
    this.#txArmedIntervalUs = interval;
  }

  /**
   * Re-arms the periodic timer after its inputs changed. Stops it when
   * periodic packets are no longer allowed; starts it when they become
   * allowed (at once if an interval has passed since the last packet); with a
   * smaller interval, the next packet goes no later than one new interval
   * after the last (§6.8.3: honoured at once). An unchanged interval keeps
   * the armed deadline, so that repeated calls do not bias the jitter.
   */
  #armTx(now: number): void {
    if (!this.#periodicAllowed(now)) {
      this.#txAt = undefined;
      this.#txArmedIntervalUs = undefined;
      return;
    }
    const interval = this.#txIntervalUs();
    if (this.#txAt !== undefined && interval === this.#txArmedIntervalUs) return;
    const soonest = this.#lastTxAt === undefined ? now : Math.max(now, this.#lastTxAt + jitteredIntervalMs(interval, this.#detectMult, this.#rng));
    this.#txAt = this.#txAt === undefined ? soonest : Math.min(this.#txAt, soonest);
    this.#txArmedIntervalUs = interval;
  }

  /** Re-arms the Detection Time from the last packet with the values in force. */
  #armDetect(): void {
    const detect = this.#detectTimeUs();
    this.#detectAt = this.#lastRxAt === undefined || detect === undefined ? undefined : this.#lastRxAt + detect / 1000;
  }

  // --- negotiation -------------------------------------------------------------

  /** bfd.DesiredMinTxInterval for the current state: min_tx while Up, slow start otherwise (§6.8.3). */
  #advertisedMinTxUs(): number {
    return this.#state === BFD_STATE.UP ? this.#cfg.desiredMinTxUs : slowTxUs(this.#cfg.desiredMinTxUs, this.#cfg.idleTxUs);
  }

  /** Recomputes what packets advertise; a change starts a Poll Sequence (§6.8.2, §6.8.3). */
  #updateAdvertised(now: number): void {
    const tx = this.#advertisedMinTxUs();
    const rx = this.#cfg.requiredMinRxUs;
    const mult = this.#cfg.detectMult;
    const changed = tx !== this.#desiredMinTxUs || rx !== this.#requiredMinRxUs || mult !== this.#detectMult;
    this.#desiredMinTxUs = tx;
    this.#requiredMinRxUs = rx;
    this.#detectMult = mult;
    if (changed && this.#state !== BFD_STATE.ADMIN_DOWN) this.#startPoll(now);
    this.#settle();
  }

  /** Starts (or restarts, with the current values) a Poll Sequence on the periodic packets (§6.5). */
  #startPoll(now: number): void {
    if (!this.#polling) this.#trace('poll sequence started');
    this.#polling = true;
    this.#pollSent = false;
    // With remote demand active there are no periodic packets to carry the Poll: start them now.
    this.#armTx(now);
  }

  /**
   * The timer values in force (§6.8.3): while Up and polling, a larger
   * Desired Min TX and a smaller Required Min RX wait for the Final; every
   * other value applies at once. Re-arms the Detection Time.
   */
  #settle(): void {
    const hold = this.#state === BFD_STATE.UP && this.#polling;
    this.#effMinTxUs = hold && this.#desiredMinTxUs > this.#effMinTxUs ? this.#effMinTxUs : this.#desiredMinTxUs;
    this.#effMinRxUs = hold && this.#requiredMinRxUs < this.#effMinRxUs ? this.#effMinRxUs : this.#requiredMinRxUs;
    this.#armDetect();
  }

  #txIntervalUs(): number {
    return txIntervalUs(this.#effMinTxUs, this.#remoteMinRxUs);
  }

  #detectTimeUs(): number | undefined {
    if (this.#remoteDetectMult === 0) return undefined;
    return detectionTimeUs(this.#remoteDetectMult, this.#effMinRxUs, this.#remoteDesiredMinTxUs);
  }

  /** §6.8.7 and §6.1: a passive session says nothing until it knows the peer's discriminator. */
  #canSend(): boolean {
    return this.#started && !(this.#cfg.passive && this.#remoteDiscr === 0);
  }

  /** Demand mode is active on the remote system (§6.8.6). */
  #remoteDemandActive(): boolean {
    return this.#remoteDemand && this.#state === BFD_STATE.UP && this.#remoteState === BFD_STATE.UP;
  }

  /** §6.8.7, §6.8.16: may periodic packets go out? */
  #periodicAllowed(now: number): boolean {
    if (!this.#canSend()) return false;
    if (this.#remoteMinRxUs === 0) return false;
    if (this.#remoteDemandActive() && !this.#polling) return false;
    if (this.#state === BFD_STATE.ADMIN_DOWN) return this.#adminTxUntil !== undefined && now < this.#adminTxUntil;
    return true;
  }

  // --- state changes -----------------------------------------------------------

  /**
   * The only place the state changes (H-28): sets bfd.LocalDiag, records the
   * event, recomputes slow start (which may start a Poll Sequence), and
   * (with `announce`) sends a packet at once so the peer need not wait for the
   * periodic timer; reception announces the change itself, with its Final
   * when the packet was a Poll.
   */
  #transition(now: number, to: BfdState, diag: BfdDiag, reason: string, announce = true): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.#since = now;
    this.#localDiag = diag;
    this.#events.push({ kind: 'state', from, to, diag, reason });
    this.#trace(`${stateName(from)} -> ${stateName(to)} (${reason}; diag ${diag}: ${BFD_DIAG_NAMES[diag]})`);
    if (to === BFD_STATE.ADMIN_DOWN) {
      // No Poll Sequence can finish while packets are discarded.
      this.#polling = false;
      this.#pollSent = false;
    }
    this.#updateAdvertised(now);
    if (announce && to !== BFD_STATE.ADMIN_DOWN && this.#canSend()) this.#sendPeriodic(now);
    else this.#armTx(now);
  }

  // --- output ------------------------------------------------------------------

  /** Builds one control packet from the state variables (§6.8.7). */
  #emit(now: number, flags: { poll: boolean; final: boolean }): void {
    this.#send.push({
      state: this.#state,
      diag: this.#localDiag,
      poll: flags.poll,
      final: flags.final,
      demand: false,
      detectMult: this.#detectMult,
      myDiscriminator: this.#cfg.localDiscr,
      yourDiscriminator: this.#remoteDiscr,
      desiredMinTxUs: this.#desiredMinTxUs,
      requiredMinRxUs: this.#requiredMinRxUs,
      requiredMinEchoRxUs: this.#requiredMinEchoRxUs,
    });
    this.#lastTxAt = now;
  }

  /** Runs one input and collects its packets and events. */
  #step(discard: BfdDiscard | undefined, body: () => void): BfdStep {
    this.#send = [];
    this.#events = [];
    this.#discarded = discard;
    body();
    this.#report();
    const step: BfdStep = {
      state: this.#state,
      send: this.#send,
      events: this.#events,
      discarded: this.#discarded,
      txAt: this.#txAt,
      detectAt: this.#detectAt,
      nextAt: this.nextAt,
    };
    this.#send = [];
    this.#events = [];
    this.#discarded = undefined;
    return step;
  }

  /** Adds `timers` and `echo` events when what they report changed during the step. */
  #report(): void {
    if (!this.#started) return;
    const tx = this.#txIntervalUs();
    const detect = this.#detectTimeUs();
    const key = `${tx}/${detect}`;
    if (key !== this.#reportedTimers) {
      this.#reportedTimers = key;
      this.#events.push({ kind: 'timers', txIntervalUs: tx, detectTimeUs: detect });
    }
    const echo = this.#state === BFD_STATE.UP ? this.#remoteMinEchoRxUs : 0;
    if (echo !== this.#reportedEcho) {
      this.#reportedEcho = echo;
      this.#events.push({ kind: 'echo', minTxUs: echo });
    }
  }

  #trace(line: string): void {
    this.#events.push({ kind: 'trace', line: `${this.#cfg.name}: ${line}` });
  }
}
