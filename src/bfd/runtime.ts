/**
 * @module bfd/runtime
 * Runs the BFD sessions of a spec: one state machine per session
 * (./fsm.ts), fed by the control packets the listeners receive (checked
 * by ./codec.ts `receiveBfdControl`, demultiplexed here) and by one timer
 * for all sessions; the packets the machines return are encoded (signed
 * when the session authenticates) and sent from the session's own socket.
 *
 * Every effect goes through the injected {@link BfdRuntimeIo} (sockets,
 * the clock, the one timer, random numbers), so the runtime is tested with
 * fakes (test/unit/bfd/runtime.test.ts) and runs for real in the BFD worker
 * (./worker.ts, sockets from ./sockets.ts), away from the daemon's main
 * event loop.
 *
 * Sockets (RFC 5881 §4, RFC 5883 §5): one listener per family and kind,
 * UDP 3784 (single hop) and 4784 (multihop), opened while a session needs
 * it; one sending socket per session, bound to its source address and a
 * port in 49152..65535, TTL / hop limit 255 (or the session's `ttl`).
 *
 * Demultiplexing (RFC 5880 §6.3, §6.8.6): by Your Discriminator when it is
 * non-zero (the session must also be of the listener's kind: a single-hop
 * session's packet on the multihop port is `no_session`); while it is zero,
 * by (peer address, local address, multihop), where a session without a
 * source address matches any local address.
 *
 * TTL (RFC 5881 §5 GTSM, keepalived `max_hops`): a packet is dropped as
 * `bad_ttl` when rx_ttl + max_hops < 255; max_hops 255 turns the check off.
 * max_hops is the session's, so the check runs once the session is found
 * (inside the lookup, before authentication): a packet with a bad TTL and
 * a bad header is counted under the header's reason.
 *
 * Timers: each session has one deadline, the machine's `nextAt`; the
 * deadlines sit in a min-heap (src/health/due-queue.ts) and one timer is
 * armed for the earliest. A deadline that moves leaves its old heap entry
 * behind, stale (its generation no longer matches) and skipped when popped.
 *
 * Reload ({@link BfdRuntime.apply}): sessions are matched by name. A
 * session whose addresses, kind or TTL changed is replaced (the old one goes
 * AdminDown, the new one gets a new discriminator); timer, passive,
 * max_hops and authentication changes are applied in place, timers through
 * the machine's Poll Sequence, so an Up session stays Up. Removed sessions
 * send AdminDown (diag 7) for one Detection Time, then close.
 *
 * Authentication (RFC 5880 §6.7, ./auth.ts): packets are signed with the
 * session's transmit sequence; the receive state (bfd.AuthSeqKnown,
 * bfd.RcvAuthSeq) is kept per session and forgotten after two Detection
 * Times without a packet (§6.8.1).
 *
 * Layer: runner (H-29). Never throws from a timer or a socket callback:
 * failures are logged and counted.
 */
import { EventEmitter } from 'node:events';
import { isIP, SocketAddress } from 'node:net';
import { XlbError } from '../errors.js';
import { BFD_AUTH_RX_INITIAL, initialAuthTxState, nextAuthSection, type BfdAuthConfig, type BfdAuthRxState, type BfdAuthTxState } from './auth.js';
import { BFD_DROP_REASONS, bfdDiagName, bfdStateName, encodeBfdControl, receiveBfdControl, type BfdControl } from './codec.js';
import { BfdSession, type BfdDiscard, type BfdSessionConfig, type BfdStep, type SessionPacket } from './fsm.js';
import {
  BFD_DIAG,
  BFD_MAX_HOPS_MAX,
  BFD_MULTIPLIER_MAX,
  BFD_MULTIPLIER_MIN,
  BFD_NAME_MAX,
  BFD_PORT_MULTIHOP,
  BFD_PORT_SINGLE_HOP,
  BFD_SLOW_TX_US,
  BFD_TTL,
  BFD_VERSION,
  type BfdDiag,
  type BfdState,
} from './spec.js';
import { DueQueue } from '../health/due-queue.js';

/** Longest time a removed session sends AdminDown before its socket closes, ms (a bound on the peer's Detection Time). */
export const BFD_DRAIN_MAX_MS = 5000;
/** Attempts at a random discriminator not in use before giving up (2^32 values, a few thousand sessions at most). */
const DISCR_ATTEMPTS = 64;
/** Timer callbacks that pop more than this many deadlines yield to the event loop (a bound, not a tuning knob). */
const MAX_POPS_PER_FIRE = 100_000;

// --- Spec ---------------------------------------------------------------------

/**
 * One session as the runtime takes it: keepalived's `bfd_instance`, in wire
 * units (µs), defaults already filled by the config (src/config/ maps its
 * `bfd:` section onto this).
 */
export interface BfdRuntimeSessionSpec {
  /** Instance name, 1..31 characters, unique. */
  readonly name: string;
  /** keepalived `neighbor_ip`: the peer's address, IPv4 or IPv6 (no scope). */
  readonly peer: string;
  /** keepalived `source_ip`: the local address to send from and to match on; absent: any (the kernel picks the source). */
  readonly local?: string;
  /** RFC 5883 multihop: UDP 4784 (default false: single hop, 3784). */
  readonly multihop?: boolean;
  /** keepalived `min_tx`, µs. */
  readonly desiredMinTxUs: number;
  /** keepalived `min_rx`, µs. */
  readonly requiredMinRxUs: number;
  /** keepalived `idle_tx`, µs (default 1 s). */
  readonly idleTxUs?: number;
  /** keepalived `multiplier`. */
  readonly detectMult: number;
  /** keepalived `passive`. */
  readonly passive?: boolean;
  /**
   * keepalived `max_hops`, 0..255: drop when rx_ttl + max_hops < 255; 255
   * turns the check off. Default 0 single hop (RFC 5881 GTSM), 255 multihop.
   */
  readonly maxHops?: number;
  /** Outgoing TTL / hop limit, 1..255 (default 255, which single hop requires). */
  readonly ttl?: number;
  /** RFC 5880 §6.7 authentication; absent: none. */
  readonly auth?: BfdAuthConfig;
  /**
   * Required Min Echo RX Interval to advertise, µs (RFC 5880 §6.8.1
   * bfd.RequiredMinEchoRxInterval): non-zero only while XDP reflects this
   * peer's echo packets. Default 0 (do not send me echo). A change on a
   * running session goes out in a Poll.
   */
  readonly requiredMinEchoRxUs?: number;
  /**
   * Own echo (`echo.enabled`): the interval to send it at, µs; absent or 0:
   * none. It runs while the session is Up and the peer advertises a
   * non-zero Required Min Echo RX, at the larger of the two (RFC 5880
   * §6.8.9), with a detection time of `detectMult` intervals.
   */
  readonly echoIntervalUs?: number;
}

/** Everything the runtime runs. */
export interface BfdRuntimeSpec {
  readonly sessions: readonly BfdRuntimeSessionSpec[];
}

// --- I/O ------------------------------------------------------------------------

/** One datagram a listener received. */
export interface BfdRx {
  /** The UDP payload. */
  readonly data: Buffer;
  /** Source address (canonical text, no scope). */
  readonly source: string;
  /** Destination address the packet was sent to (canonical), when the socket reports it. */
  readonly destination: string | undefined;
  /** Received TTL / hop limit, when the socket reports it. */
  readonly ttl: number | undefined;
}

/** A session's sending socket. */
export interface BfdTxSocket {
  /** The source port it is bound to, 49152..65535. */
  readonly port: number;
  /** Send one datagram now. @throws on a kernel failure (counted by the runtime) */
  send(data: Buffer, address: string, port: number): void;
  close(): void;
}

/** What the echo of a session is started with. */
export interface BfdEchoStart {
  name: string;
  /** The session's My Discriminator (names it in the echo payload). */
  discr: number;
  peer: string;
  local: string | undefined;
  family: 4 | 6;
  /** Transmit interval, µs. */
  intervalUs: number;
  /** The last echo back older than this fails the echo, µs. */
  detectUs: number;
}

/** A session's echo counters. */
export interface BfdEchoCounters {
  /** Sending, and the last echo back within the detection time. */
  running: boolean;
  sent: number;
  returned: number;
  sendErrors: number;
  /** Sends more than one interval late. */
  late: number;
  slot: number;
}

/**
 * Own echo (./echo.ts in the worker): sends a session's echo and reports,
 * once, an echo that stopped coming back.
 */
export interface BfdEchoIo {
  /** Start (or restart) a session's echo; `onFail(agoMs)` at most once per start. Never throws: failures are logged. */
  start(s: BfdEchoStart, onFail: (agoMs: number) => void): void;
  /** Stop it (no-op when not running). */
  stop(discr: number): void;
  counters(discr: number): BfdEchoCounters | undefined;
}

/** A listener: closes with {@link close}. */
export interface BfdListener {
  close(): void;
}

/** Every effect of the runtime. */
export interface BfdRuntimeIo {
  /** Monotonic ms. */
  now(): number;
  /** Arm the one timer: `cb` after `delayMs` (replaces the armed one). */
  setTimer(delayMs: number, cb: () => void): void;
  /** Disarm it. */
  clearTimer(): void;
  /** A uniform random u32 (discriminators; node:crypto in the worker). */
  random32(): number;
  /** Uniform draws in [0, 1) for the transmit jitter (default Math.random). */
  rng?: () => number;
  /**
   * Open the listener of a family and kind (UDP 3784 / 4784 on the
   * wildcard address, receiving TTL and destination).
   * @throws when it cannot be opened
   */
  openListener(family: 4 | 6, multihop: boolean, onRx: (rx: BfdRx) => void): BfdListener;
  /**
   * Open a session's sending socket: bound to `local` (or the wildcard) and
   * a free port in 49152..65535, with TTL / hop limit `ttl`.
   * @throws when it cannot be opened
   */
  openSender(family: 4 | 6, local: string | undefined, ttl: number): BfdTxSocket;
  /** Own echo; absent: sessions with `echoIntervalUs` send none (logged once per session). */
  echo?: BfdEchoIo;
  log(level: 'debug' | 'info' | 'warn' | 'error', obj: Record<string, unknown>, msg: string): void;
}

// --- Status ----------------------------------------------------------------------

/** A drop reason: the codec's list, or the state machine's discard reasons with underscores. */
export type BfdRuntimeDropReason = (typeof BFD_DROP_REASONS)[number] | 'not_started' | 'invalid' | 'your_discr_mismatch' | 'your_discr_zero' | 'admin_down';

/** One session for `xlb status` and metrics; intervals in µs. */
export interface BfdSessionStatus {
  name: string;
  peer: string;
  local: string | undefined;
  family: 4 | 6;
  multihop: boolean;
  /** Source port of its packets. */
  sourcePort: number;
  state: string;
  /** bfd.LocalDiag, named. */
  diag: string;
  remoteState: string;
  remoteDiag: string;
  localDiscr: number;
  remoteDiscr: number;
  /** Negotiated transmit interval before jitter. */
  txIntervalUs: number;
  /** Detection Time; undefined until the peer has spoken. */
  detectTimeUs: number | undefined;
  desiredMinTxUs: number;
  requiredMinRxUs: number;
  detectMult: number;
  remoteDesiredMinTxUs: number;
  remoteMinRxUs: number;
  remoteDetectMult: number;
  /** Required Min Echo RX advertised, µs (non-zero while XDP reflects the peer's echo). */
  requiredMinEchoRxUs: number;
  /** The peer's Required Min Echo RX, µs (0: it reflects none). */
  remoteMinEchoRxUs: number;
  /**
   * Own echo: `off` (not enabled), `idle` (enabled, not allowed now: the
   * session is not Up or the peer reflects none), `running`, `failed`
   * (reported, the session went Down), `unavailable` (enabled, but this
   * runtime cannot send echo, or its start failed: see the log).
   */
  echoState: 'off' | 'idle' | 'running' | 'failed' | 'unavailable';
  /** Interval the own echo is sent at, µs (0: not running). */
  echoIntervalUs: number;
  /** Own echo packets sent and come back (this run of the echo thread's slot). */
  echoSent: number;
  echoReturned: number;
  /** Times the own echo failed (each took the session Down, diag 2). */
  echoFailures: number;
  /** Own echo packets sent a whole interval late (the echo thread was not scheduled; each restarts the detection time). */
  echoLate: number;
  polling: boolean;
  /** ms in the current state (undefined before start). */
  inStateMs: number | undefined;
  /** Removed, sending AdminDown before it closes. */
  draining: boolean;
  packetsIn: number;
  packetsOut: number;
  sendErrors: number;
  stateChanges: number;
  /** Drops attributed to this session, by reason (reasons with a count only). */
  drops: Partial<Record<BfdRuntimeDropReason, number>>;
}

/** The whole runtime. */
export interface BfdRuntimeStatus {
  sessions: BfdSessionStatus[];
  /** Every drop, by reason, whether a session was found or not. */
  drops: Partial<Record<BfdRuntimeDropReason, number>>;
  /** Datagrams the listeners received. */
  received: number;
  /**
   * How late the one timer ran the deadlines (periodic packets, Detection
   * Times) it fired: the largest lateness seen, ms, and how many deadlines
   * ran more than 1 ms late, out of how many.
   */
  timer: { lateMaxMs: number; lateOver1ms: number; fired: number };
}

/** A state change, as the runtime reports it. */
export interface BfdStateEvent {
  session: string;
  from: string;
  to: string;
  /** Numeric state after the change. */
  state: BfdState;
  diag: BfdDiag;
  diagName: string;
  reason: string;
  /** io.now() of the change. */
  at: number;
}

/** Events of {@link BfdRuntime}. */
export interface BfdRuntimeEvents {
  state: [event: BfdStateEvent];
}

// --- Internals -------------------------------------------------------------------

/** The spec with its defaults filled and addresses canonical. */
interface Resolved {
  name: string;
  peer: string;
  local: string | undefined;
  family: 4 | 6;
  multihop: boolean;
  fsm: BfdSessionConfig;
  maxHops: number;
  ttl: number;
  auth: BfdAuthConfig | undefined;
  /** Required Min Echo RX advertised, µs (0: none). */
  echoRxUs: number;
  /** Own echo interval wanted, µs (0: none). */
  echoTxUs: number;
}

interface Sess {
  r: Resolved;
  readonly fsm: BfdSession;
  readonly tx: BfdTxSocket;
  readonly discr: number;
  authRx: BfdAuthRxState;
  authTx: BfdAuthTxState;
  /** io.now() of the last accepted packet. */
  lastRxAt: number | undefined;
  /** The last Detection Time the machine reported, ms (0 before any). */
  detectMs: number;
  /** The deadline queued, and the generation of its heap entry. */
  dueAt: number | undefined;
  gen: number;
  draining: boolean;
  drainUntil: number;
  packetsIn: number;
  packetsOut: number;
  sendErrors: number;
  stateChanges: number;
  drops: Partial<Record<BfdRuntimeDropReason, number>>;
  /** Sends failed since the last log line about it (logs the first of a run, not every one). */
  failing: boolean;
  /** The peer's Required Min Echo RX while Up, from the machine's `echo` events (0: echo must not run). */
  echoMinUs: number;
  /** What the echo runs with now, `interval/detect` µs ('' : not running). */
  echoRunning: string;
  echoFailures: number;
  /** The last echo stopped by a failure (until it runs again). */
  echoFailed: boolean;
  /** Counters of echo runs that ended (the echo I/O forgets a stopped one). */
  echoSentBefore: number;
  echoReturnedBefore: number;
  echoLateBefore: number;
}

interface Entry {
  dueAt: number;
  s: Sess;
  gen: number;
}

const discardReason: Readonly<Record<BfdDiscard, BfdRuntimeDropReason>> = {
  'not-started': 'not_started',
  invalid: 'invalid',
  'your-discr-mismatch': 'your_discr_mismatch',
  'your-discr-zero': 'your_discr_zero',
  'admin-down': 'admin_down',
};

function bad(what: string): XlbError {
  return new XlbError('XLB_ERR_INTERNAL', [`bfd runtime: ${what}`]);
}

/** Canonical text of an address (inet_pton then inet_ntop: what the sockets report). */
function canonical(address: string): string {
  const family = isIP(address);
  if (family === 0) throw bad(`${JSON.stringify(address)} is not an IP address`);
  return new SocketAddress({ address, family: family === 4 ? 'ipv4' : 'ipv6' }).address;
}

const isInt = (v: number, min: number, max: number): boolean => Number.isInteger(v) && v >= min && v <= max;

/**
 * Checks a session spec and fills its defaults.
 * @throws XlbError XLB_ERR_INTERNAL on a value the config should have refused
 */
export function resolveSessionSpec(s: BfdRuntimeSessionSpec): Omit<Resolved, 'fsm'> & { fsm: Omit<BfdSessionConfig, 'localDiscr'> } {
  if (typeof s.name !== 'string' || s.name.length < 1 || s.name.length > BFD_NAME_MAX) throw bad(`session name must be 1..${BFD_NAME_MAX} characters (got ${JSON.stringify(s.name)})`);
  const peer = canonical(s.peer);
  const family = isIP(peer) as 4 | 6;
  const local = s.local === undefined ? undefined : canonical(s.local);
  if (local !== undefined && isIP(local) !== family) throw bad(`${s.name}: local ${local} and peer ${peer} are of different families`);
  const multihop = s.multihop ?? false;
  const maxHops = s.maxHops ?? (multihop ? BFD_MAX_HOPS_MAX : 0);
  if (!isInt(maxHops, 0, BFD_MAX_HOPS_MAX)) throw bad(`${s.name}: maxHops must be 0..${BFD_MAX_HOPS_MAX} (got ${maxHops})`);
  const ttl = s.ttl ?? BFD_TTL;
  if (!isInt(ttl, 1, 255)) throw bad(`${s.name}: ttl must be 1..255 (got ${ttl})`);
  if (!isInt(s.detectMult, BFD_MULTIPLIER_MIN, BFD_MULTIPLIER_MAX)) throw bad(`${s.name}: detectMult must be 1..255 (got ${s.detectMult})`);
  if (!isInt(s.desiredMinTxUs, 1, 0xffff_ffff)) throw bad(`${s.name}: desiredMinTxUs must be 1..2^32-1 (got ${s.desiredMinTxUs})`);
  if (!isInt(s.requiredMinRxUs, 0, 0xffff_ffff)) throw bad(`${s.name}: requiredMinRxUs must be 0..2^32-1 (got ${s.requiredMinRxUs})`);
  if (s.idleTxUs !== undefined && !isInt(s.idleTxUs, BFD_SLOW_TX_US, 0xffff_ffff)) throw bad(`${s.name}: idleTxUs must be 1 s..2^32-1 µs (got ${s.idleTxUs})`);
  const echoRxUs = s.requiredMinEchoRxUs ?? 0;
  if (!isInt(echoRxUs, 0, 0xffff_ffff)) throw bad(`${s.name}: requiredMinEchoRxUs must be 0..2^32-1 (got ${echoRxUs})`);
  const echoTxUs = s.echoIntervalUs ?? 0;
  if (!isInt(echoTxUs, 0, 0xffff_ffff)) throw bad(`${s.name}: echoIntervalUs must be 0..2^32-1 (got ${echoTxUs})`);
  if (echoTxUs > 0 && multihop) throw bad(`${s.name}: echo is single hop only (RFC 5883)`);
  return {
    name: s.name,
    peer,
    local,
    family,
    multihop,
    maxHops,
    ttl,
    auth: s.auth,
    echoRxUs,
    echoTxUs,
    fsm: {
      name: s.name,
      desiredMinTxUs: s.desiredMinTxUs,
      requiredMinRxUs: s.requiredMinRxUs,
      ...(s.idleTxUs !== undefined ? { idleTxUs: s.idleTxUs } : {}),
      detectMult: s.detectMult,
      passive: s.passive ?? false,
    },
  };
}

/** Why a running session cannot take `to` in place (a new socket or a new session to the peer). */
function replaceReasons(from: Resolved, to: Omit<Resolved, 'fsm'>): string[] {
  const out: string[] = [];
  if (from.peer !== to.peer) out.push(`peer ${from.peer} -> ${to.peer}`);
  if (from.local !== to.local) out.push(`local ${from.local ?? 'any'} -> ${to.local ?? 'any'}`);
  if (from.multihop !== to.multihop) out.push(`multihop ${from.multihop} -> ${to.multihop}`);
  if (from.ttl !== to.ttl) out.push(`ttl ${from.ttl} -> ${to.ttl}`);
  return out;
}

const addrKey = (multihop: boolean, peer: string, local: string | undefined): string => `${multihop ? 'm' : 's'}|${peer}|${local ?? '*'}`;
const listenerKey = (family: 4 | 6, multihop: boolean): string => `${family}${multihop ? 'm' : 's'}`;

function count(drops: Partial<Record<BfdRuntimeDropReason, number>>, reason: BfdRuntimeDropReason): void {
  drops[reason] = (drops[reason] ?? 0) + 1;
}

/**
 * The BFD sessions of one daemon. Events: `state` ({@link BfdStateEvent}).
 */
export class BfdRuntime extends EventEmitter<BfdRuntimeEvents> {
  readonly #io: BfdRuntimeIo;
  /** Configured sessions by name (not the draining ones). */
  readonly #byName = new Map<string, Sess>();
  /** Every live session (draining ones too) by local discriminator. */
  readonly #byDiscr = new Map<number, Sess>();
  /** Configured sessions by {@link addrKey}. */
  readonly #byAddr = new Map<string, Sess>();
  readonly #listeners = new Map<string, BfdListener>();
  readonly #queue = new DueQueue<Entry>();
  /** When the armed timer fires (undefined: disarmed). */
  #armedAt: number | undefined;
  readonly #drops: Partial<Record<BfdRuntimeDropReason, number>> = {};
  #received = 0;
  readonly #timerStats = { lateMaxMs: 0, lateOver1ms: 0, fired: 0 };
  #stopped = false;
  /** stop() callers waiting for the last session to close. */
  readonly #onDrained: (() => void)[] = [];
  /** A session closed since the listeners were last synced. */
  #listenersDirty = false;

  constructor(io: BfdRuntimeIo) {
    super();
    this.#io = io;
  }

  /**
   * Runs `spec`: the first call starts the sessions, later ones reload
   * (see the module comment). All-or-nothing for the checks: a spec the
   * config should have refused throws before anything changes. A socket
   * that cannot be opened leaves its session out (logged) and the others run.
   * @throws XlbError XLB_ERR_INTERNAL on a bad spec
   */
  apply(spec: BfdRuntimeSpec): void {
    if (this.#stopped) return;
    const next = new Map<string, ReturnType<typeof resolveSessionSpec>>();
    const keys = new Set<string>();
    for (const s of spec.sessions) {
      const r = resolveSessionSpec(s);
      if (next.has(r.name)) throw bad(`session ${r.name} is defined twice`);
      const k = addrKey(r.multihop, r.peer, r.local);
      if (keys.has(k)) throw bad(`session ${r.name}: another session has the same peer, local address and kind`);
      keys.add(k);
      next.set(r.name, r);
    }
    const now = this.#io.now();
    // Removed or replaced first, so a new session may take the addresses over.
    for (const [name, s] of [...this.#byName]) {
      const r = next.get(name);
      const why = r === undefined ? ['removed'] : replaceReasons(s.r, r);
      if (why.length > 0) this.#retire(now, s, why.join('; '));
    }
    for (const r of next.values()) {
      const s = this.#byName.get(r.name);
      if (s === undefined) {
        this.#add(now, r);
        continue;
      }
      const changedFsm = JSON.stringify({ ...s.r.fsm, localDiscr: undefined }) !== JSON.stringify({ ...r.fsm, localDiscr: undefined });
      if (s.r.auth !== r.auth && JSON.stringify(s.r.auth) !== JSON.stringify(r.auth)) {
        s.authRx = { ...BFD_AUTH_RX_INITIAL };
        this.#io.log('info', { session: r.name }, `bfd: ${r.name}: authentication changed`);
      }
      s.r = { ...r, fsm: { ...r.fsm, localDiscr: s.discr } };
      if (changedFsm) this.#handle(s, s.fsm.reconfigure(now, s.r.fsm));
      if (s.fsm.snapshot().requiredMinEchoRxUs !== r.echoRxUs) this.#handle(s, s.fsm.setRequiredMinEchoRx(now, r.echoRxUs));
      this.#syncEcho(s);
    }
    this.#syncListeners();
    this.#arm();
  }

  /** Every session's state and counters. */
  status(): BfdRuntimeStatus {
    const now = this.#io.now();
    const sessions: BfdSessionStatus[] = [];
    for (const s of this.#byDiscr.values()) {
      const n = s.fsm.snapshot();
      sessions.push({
        name: s.r.name,
        peer: s.r.peer,
        local: s.r.local,
        family: s.r.family,
        multihop: s.r.multihop,
        sourcePort: s.tx.port,
        state: bfdStateName(n.state),
        diag: bfdDiagName(n.localDiag),
        remoteState: bfdStateName(n.remoteState),
        remoteDiag: bfdDiagName(n.remoteDiag),
        localDiscr: n.localDiscr,
        remoteDiscr: n.remoteDiscr,
        txIntervalUs: n.txIntervalUs,
        detectTimeUs: n.detectTimeUs,
        desiredMinTxUs: n.desiredMinTxUs,
        requiredMinRxUs: n.requiredMinRxUs,
        detectMult: n.detectMult,
        remoteDesiredMinTxUs: n.remoteDesiredMinTxUs,
        remoteMinRxUs: n.remoteMinRxUs,
        remoteDetectMult: n.remoteDetectMult,
        requiredMinEchoRxUs: n.requiredMinEchoRxUs,
        remoteMinEchoRxUs: n.remoteMinEchoRxUs,
        ...this.#echoStatus(s),
        polling: n.polling,
        inStateMs: n.since === undefined ? undefined : now - n.since,
        draining: s.draining,
        packetsIn: s.packetsIn,
        packetsOut: s.packetsOut,
        sendErrors: s.sendErrors,
        stateChanges: s.stateChanges,
        drops: { ...s.drops },
      });
    }
    return { sessions, drops: { ...this.#drops }, received: this.#received, timer: { ...this.#timerStats } };
  }

  /**
   * Takes every session AdminDown (diag 7: the peer sees neighbor signaled
   * down, not a failure) and resolves once they have told their peers (one
   * Detection Time, at most {@link BFD_DRAIN_MAX_MS}; the runtime's own
   * timer keeps running meanwhile) and every socket is closed. Idempotent.
   */
  stop(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      const now = this.#io.now();
      for (const s of [...this.#byName.values()]) this.#retire(now, s, 'stopping');
      this.#arm();
    }
    // Each draining session closes by its own deadline (#schedule caps it at drainUntil): no polling here.
    return new Promise((resolve) => {
      this.#onDrained.push(resolve);
      this.#checkDrained();
    });
  }

  /** Once stopped and every session closed: listeners closed, timer off, stop() resolved. */
  #checkDrained(): void {
    if (!this.#stopped || this.#byDiscr.size > 0) return;
    this.#syncListeners();
    this.#io.clearTimer();
    this.#armedAt = undefined;
    this.#queue.clear();
    for (const r of this.#onDrained.splice(0)) r();
  }

  // --- sessions -----------------------------------------------------------------

  #add(now: number, r: ReturnType<typeof resolveSessionSpec>): void {
    let discr = 0;
    for (let i = 0; i < DISCR_ATTEMPTS && discr === 0; i++) {
      const d = this.#io.random32() >>> 0;
      if (d !== 0 && !this.#byDiscr.has(d)) discr = d;
    }
    if (discr === 0) {
      this.#io.log('error', { session: r.name }, `bfd: ${r.name}: no free discriminator found; session not started`);
      return;
    }
    let tx: BfdTxSocket;
    try {
      tx = this.#io.openSender(r.family, r.local, r.ttl);
    } catch (err) {
      this.#io.log('error', { err, session: r.name }, `bfd: ${r.name}: sending socket not opened; session not started`);
      return;
    }
    const resolved: Resolved = { ...r, fsm: { ...r.fsm, localDiscr: discr } };
    const fsm = new BfdSession(resolved.fsm, this.#io.rng ? { rng: this.#io.rng } : {});
    fsm.setRequiredMinEchoRx(now, r.echoRxUs); // before start: in the first packet
    const s: Sess = {
      r: resolved,
      fsm,
      tx,
      discr,
      authRx: { ...BFD_AUTH_RX_INITIAL },
      authTx: initialAuthTxState(() => this.#io.random32()),
      lastRxAt: undefined,
      detectMs: 0,
      dueAt: undefined,
      gen: 0,
      draining: false,
      drainUntil: 0,
      packetsIn: 0,
      packetsOut: 0,
      sendErrors: 0,
      stateChanges: 0,
      drops: {},
      failing: false,
      echoMinUs: 0,
      echoRunning: '',
      echoFailures: 0,
      echoFailed: false,
      echoSentBefore: 0,
      echoReturnedBefore: 0,
      echoLateBefore: 0,
    };
    this.#byName.set(r.name, s);
    this.#byDiscr.set(discr, s);
    this.#byAddr.set(addrKey(r.multihop, r.peer, r.local), s);
    this.#io.log('info', { session: r.name, peer: r.peer, local: r.local, multihop: r.multihop, discr, port: tx.port }, `bfd: ${r.name}: started`);
    this.#handle(s, fsm.start(now));
  }

  /** Takes a session out of the config: AdminDown for one Detection Time (bounded), then closed. */
  #retire(now: number, s: Sess, why: string): void {
    this.#byName.delete(s.r.name);
    const k = addrKey(s.r.multihop, s.r.peer, s.r.local);
    if (this.#byAddr.get(k) === s) this.#byAddr.delete(k);
    s.draining = true;
    s.drainUntil = now + BFD_DRAIN_MAX_MS;
    this.#io.log('info', { session: s.r.name, why }, `bfd: ${s.r.name}: going AdminDown (${why})`);
    this.#handle(s, s.fsm.adminDown(now, BFD_DIAG.ADMINISTRATIVELY_DOWN, why));
  }

  #close(s: Sess): void {
    s.echoMinUs = 0;
    this.#syncEcho(s);
    if (this.#byDiscr.get(s.discr) === s) this.#byDiscr.delete(s.discr);
    s.gen++;
    s.dueAt = undefined;
    this.#listenersDirty = true;
    try {
      s.tx.close();
    } catch (err) {
      this.#io.log('warn', { err, session: s.r.name }, `bfd: ${s.r.name}: closing the socket failed`);
    }
    this.#checkDrained();
  }

  /** Opens the listeners the sessions need and closes the others. */
  #syncListeners(): void {
    this.#listenersDirty = false;
    const need = new Set<string>();
    for (const s of this.#byDiscr.values()) need.add(listenerKey(s.r.family, s.r.multihop));
    for (const [k, l] of [...this.#listeners]) {
      if (need.has(k)) continue;
      l.close();
      this.#listeners.delete(k);
    }
    for (const k of need) {
      if (this.#listeners.has(k)) continue;
      const family = Number(k[0]) as 4 | 6;
      const multihop = k[1] === 'm';
      try {
        this.#listeners.set(k, this.#io.openListener(family, multihop, (rx) => this.#onRx(multihop, rx)));
      } catch (err) {
        const port = multihop ? BFD_PORT_MULTIHOP : BFD_PORT_SINGLE_HOP;
        this.#io.log('error', { err, family, port }, `bfd: listener on UDP ${port} (IPv${family}) not opened; its sessions receive nothing`);
      }
    }
  }

  // --- receive -------------------------------------------------------------------

  #lookup(multihop: boolean, p: BfdControl, rx: BfdRx): Sess | undefined {
    if (p.yourDiscriminator !== 0) {
      const s = this.#byDiscr.get(p.yourDiscriminator);
      return s !== undefined && s.r.multihop === multihop ? s : undefined;
    }
    if (rx.destination !== undefined) {
      const s = this.#byAddr.get(addrKey(multihop, rx.source, rx.destination));
      if (s !== undefined) return s;
    }
    return this.#byAddr.get(addrKey(multihop, rx.source, undefined));
  }

  #onRx(multihop: boolean, rx: BfdRx): void {
    if (this.#stopped && this.#byDiscr.size === 0) return;
    this.#received++;
    try {
      const now = this.#io.now();
      let found: Sess | undefined;
      let badTtl = false;
      const r = receiveBfdControl(rx.data, (p) => {
        const s = this.#lookup(multihop, p, rx);
        if (s === undefined) return undefined;
        found = s;
        // GTSM (RFC 5881 §5, keepalived max_hops): an unknown TTL fails the check too.
        if (s.r.maxHops < BFD_MAX_HOPS_MAX && (rx.ttl === undefined || rx.ttl + s.r.maxHops < BFD_TTL)) {
          badTtl = true;
          return undefined;
        }
        // RFC 5880 §6.8.1: bfd.AuthSeqKnown goes back to 0 after two Detection Times
        // without a packet, so a peer that restarted (a new random sequence) is heard again.
        if (s.authRx.seqKnown && s.lastRxAt !== undefined && now - s.lastRxAt > 2 * s.detectMs) s.authRx = { ...BFD_AUTH_RX_INITIAL };
        return { auth: s.r.auth, authRx: s.authRx, s };
      });
      if (!r.ok) {
        const reason = badTtl ? 'bad_ttl' : r.reason;
        count(this.#drops, reason);
        if (found !== undefined) count(found.drops, reason);
        return;
      }
      const s = r.session.s;
      s.authRx = r.authRx;
      s.lastRxAt = now;
      s.packetsIn++;
      this.#handle(s, s.fsm.onPacket(now, r.packet));
      this.#arm();
    } catch (err) {
      // The codec never throws for content; this is a bug, counted and logged, not a crash.
      this.#io.log('error', { err, source: rx.source }, 'bfd: receiving a packet failed');
    }
  }

  // --- steps, timers ------------------------------------------------------------

  /** Carries out one step of a session's machine: packets, events, counters, its deadline. */
  #handle(s: Sess, step: BfdStep): void {
    if (step.discarded !== undefined) {
      const reason = discardReason[step.discarded];
      count(this.#drops, reason);
      count(s.drops, reason);
    }
    for (const p of step.send) this.#send(s, p);
    for (const e of step.events) {
      if (e.kind === 'state') {
        s.stateChanges++;
        const ev: BfdStateEvent = {
          session: s.r.name,
          from: bfdStateName(e.from),
          to: bfdStateName(e.to),
          state: e.to,
          diag: e.diag,
          diagName: bfdDiagName(e.diag),
          reason: e.reason,
          at: this.#io.now(),
        };
        this.#io.log('info', { session: s.r.name, from: ev.from, to: ev.to, diag: ev.diagName }, `bfd: ${s.r.name}: ${ev.from} -> ${ev.to} (${e.reason})`);
        this.emit('state', ev);
      } else if (e.kind === 'timers') {
        if (e.detectTimeUs !== undefined) s.detectMs = e.detectTimeUs / 1000;
      } else if (e.kind === 'echo') {
        s.echoMinUs = e.minTxUs;
        this.#syncEcho(s);
      } else if (e.kind === 'trace') {
        this.#io.log('debug', { session: s.r.name }, e.line);
      }
    }
    this.#schedule(s);
  }

  // --- own echo -----------------------------------------------------------------

  /**
   * Starts, restarts or stops a session's own echo as its config and the
   * machine allow: while Up with the peer's Required Min Echo RX non-zero,
   * at max(echo interval, the peer's value) (RFC 5880 §6.8.9: never faster
   * than the peer asks), detection `detectMult` intervals. The control
   * packets keep their configured rate meanwhile, as FRR 8.4's bfdd does
   * (RFC 5880 §6.8.3 allows slowing them; a slower rate would also slow the
   * detection of a dead control plane, which echo does not see).
   */
  #syncEcho(s: Sess): void {
    const echo = this.#io.echo;
    const allowed = !s.draining && s.r.echoTxUs > 0 && s.echoMinUs > 0;
    const intervalUs = allowed ? Math.max(s.r.echoTxUs, s.echoMinUs) : 0;
    const detectUs = intervalUs * s.r.fsm.detectMult;
    const want = allowed ? `${intervalUs}/${detectUs}` : '';
    if (want === s.echoRunning) return;
    if (s.echoRunning !== '') {
      const c = echo?.counters(s.discr);
      s.echoSentBefore += c?.sent ?? 0;
      s.echoReturnedBefore += c?.returned ?? 0;
      s.echoLateBefore += c?.late ?? 0;
      echo?.stop(s.discr);
    }
    s.echoRunning = want;
    if (!allowed) return;
    s.echoFailed = false;
    if (echo === undefined) {
      this.#io.log('warn', { session: s.r.name }, `bfd: ${s.r.name}: echo enabled, but this runtime has no echo (no XDP program loaded)`);
      return;
    }
    const run = want;
    echo.start({ name: s.r.name, discr: s.discr, peer: s.r.peer, local: s.r.local, family: s.r.family, intervalUs, detectUs }, (agoMs) => {
      if (s.echoRunning !== run || this.#byDiscr.get(s.discr) !== s) return; // stopped or restarted since
      s.echoFailures++;
      s.echoFailed = true;
      this.#io.log('info', { session: s.r.name, agoMs }, `bfd: ${s.r.name}: echo failed (the last came back ${agoMs.toFixed(2)} ms ago, detection ${detectUs / 1000} ms)`);
      try {
        this.#handle(s, s.fsm.echoFailed(this.#io.now()));
      } catch (err) {
        this.#io.log('error', { err, session: s.r.name }, 'bfd: handling an echo failure failed');
      }
      this.#arm();
    });
  }

  #echoStatus(s: Sess): Pick<BfdSessionStatus, 'echoState' | 'echoIntervalUs' | 'echoSent' | 'echoReturned' | 'echoFailures' | 'echoLate'> {
    const c = s.echoRunning !== '' ? this.#io.echo?.counters(s.discr) : undefined;
    const echoState = s.r.echoTxUs === 0 ? 'off' : s.echoFailed ? 'failed' : s.echoRunning === '' ? 'idle' : c?.running ? 'running' : 'unavailable';
    return {
      echoState,
      echoIntervalUs: s.echoRunning === '' ? 0 : Number(s.echoRunning.split('/')[0]),
      echoSent: s.echoSentBefore + (c?.sent ?? 0),
      echoReturned: s.echoReturnedBefore + (c?.returned ?? 0),
      echoFailures: s.echoFailures,
      echoLate: s.echoLateBefore + (c?.late ?? 0),
    };
  }

  #send(s: Sess, p: SessionPacket): void {
    try {
      let auth;
      if (s.r.auth !== undefined) {
        const n = nextAuthSection(s.r.auth, s.authTx);
        auth = n.auth;
        s.authTx = n.tx;
      }
      const pkt: BfdControl = { ...p, version: BFD_VERSION, controlPlaneIndependent: false, multipoint: false, ...(auth ? { auth } : {}) };
      const buf = encodeBfdControl(pkt, undefined, 0, s.r.auth);
      s.tx.send(buf, s.r.peer, s.r.multihop ? BFD_PORT_MULTIHOP : BFD_PORT_SINGLE_HOP);
      s.packetsOut++;
      if (s.failing) {
        s.failing = false;
        this.#io.log('info', { session: s.r.name }, `bfd: ${s.r.name}: sending works again`);
      }
    } catch (err) {
      s.sendErrors++;
      if (!s.failing) {
        s.failing = true;
        this.#io.log('warn', { err, session: s.r.name }, `bfd: ${s.r.name}: send failed (further failures counted, not logged)`);
      }
    }
  }

  /** Queues the session's deadline when it moved; closes a drained session. */
  #schedule(s: Sess): void {
    let at = s.fsm.nextAt;
    if (s.draining) {
      if (at === undefined || this.#io.now() >= s.drainUntil) {
        this.#close(s);
        return;
      }
      at = Math.min(at, s.drainUntil);
    }
    if (at === s.dueAt) return;
    s.dueAt = at;
    s.gen++;
    if (at !== undefined) this.#queue.push({ dueAt: at, s, gen: s.gen });
  }

  /** Arms the one timer for the earliest deadline. */
  #arm(): void {
    const next = this.#queue.nextDueAt;
    if (next === this.#armedAt) return;
    this.#armedAt = next;
    if (next === undefined) {
      this.#io.clearTimer();
      return;
    }
    this.#io.setTimer(Math.max(0, next - this.#io.now()), () => this.#fire());
  }

  #fire(): void {
    this.#armedAt = undefined;
    const now = this.#io.now();
    try {
      for (let i = 0; i < MAX_POPS_PER_FIRE; i++) {
        const e = this.#queue.popDue(now);
        if (e === undefined) break;
        const s = e.s;
        if (e.gen !== s.gen) continue; // stale: the deadline moved since
        s.dueAt = undefined;
        const late = now - e.dueAt;
        const ts = this.#timerStats;
        ts.fired++;
        if (late > ts.lateMaxMs) ts.lateMaxMs = late;
        if (late > 1) ts.lateOver1ms++;
        if (s.draining && now >= s.drainUntil) {
          this.#close(s);
          continue;
        }
        this.#handle(s, s.fsm.onTimer(now));
      }
      if (this.#listenersDirty) this.#syncListeners();
    } catch (err) {
      this.#io.log('error', { err }, 'bfd: timer handling failed');
    }
    this.#arm();
  }
}
