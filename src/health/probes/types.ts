/**
 * @module health/probes/types
 * What every health-check probe shares: the target it is sent to, the
 * {@link Probe} interface, the {@link ProbeResult} of one attempt and the
 * closed set of failure reasons (a Prometheus label, so it never grows by
 * accident).
 *
 * A probe performs ONE attempt of a check (keepalived's checker thread for one
 * connect). Retries, rise/fall, intervals and warmup belong to the state
 * machine in src/health/, not here.
 *
 * Layer: control plane, types plus small pure helpers. No I/O.
 */
import type { Socket as NetSocket } from 'node:net';
import type { NetCheckBase } from '../spec.js';

/**
 * Where a network probe is sent, already resolved by the caller:
 * `connectAddress`/`connectPort` of the check, else the backend's.
 */
export interface ProbeTarget {
  /** Canonical IP address text (no brackets, no zone handling here). */
  address: string;
  /** 1..65535; unused by icmp. */
  port: number;
  /** Address family of `address`. */
  family: 4 | 6;
  /**
   * `target: vip` checks: `address`/`port` are the VIP's, and the probe's
   * packets carry SO_MARK `mark`, which the data plane's steering sends to
   * `backend` the way the VIP's traffic goes to it (src/dataplane: the
   * xlb_hc_egress program). Needs the native socket factory.
   */
  via?: { mark: number; backend: string };
}

/**
 * Why an attempt failed. Closed on purpose: it is the `reason` label of the
 * health metrics, so every value must stay low-cardinality and meaningful
 * across probe types. The free-form explanation goes in `detail`.
 */
export const PROBE_FAIL_REASONS = Object.freeze([
  /** The attempt did not finish within timeoutMs (any phase; for misc: the command was killed). */
  'timeout',
  /** TCP RST to the SYN, or ICMP port unreachable for UDP (ECONNREFUSED). */
  'refused',
  /** No route, host or network unreachable (EHOSTUNREACH, ENETUNREACH, ...). */
  'unreachable',
  /** The peer reset or closed an established connection in the middle of the exchange. */
  'reset',
  /** HTTP status outside the accepted ranges, or an SMTP reply that is not 2xx. */
  'status',
  /** HTTP body MD5 differs from the configured digest. */
  'digest',
  /** HTTP body did not match `regex` (or matched it, with regexNoMatch). */
  'regex',
  /** TLS handshake or certificate verification failed. */
  'tls',
  /** The peer spoke, but not the protocol (malformed HTTP, DNS, SMTP; wrong DNS id). */
  'protocol',
  /** misc: the command exited with a failing code. */
  'exit',
  /** misc: the command died of a signal xlb did not send. */
  'killed',
  /** file: the value read marks the backend down (non-zero with weight 0, or a negative weight). */
  'value',
  /** Local I/O failed: a file could not be read, a command not spawned, a socket not created. */
  'io',
  /** dns: the response RCODE is not NOERROR. */
  'dns_rcode',
  /** dns: an expected answer is missing. */
  'dns_answer',
  /** udp: the reply was too short or too long, or did not match `expect` (no reply at all is `timeout`). */
  'reply',
  /** A bug in the probe itself (an exception it did not expect). */
  'internal',
] as const);

/** One of {@link PROBE_FAIL_REASONS}. */
export type ProbeFailReason = (typeof PROBE_FAIL_REASONS)[number];

/** A successful attempt. */
export interface ProbeOk {
  ok: true;
  /** misc (dynamic) and file checks only: the weight the backend should get. */
  weight?: number;
  /** Optional human-readable note (e.g. `HTTP 204`). */
  detail?: string;
  /** Wall time the attempt took, milliseconds. */
  durationMs: number;
}

/** A failed attempt. */
export interface ProbeFail {
  ok: false;
  /** Low-cardinality cause, usable as a metric label. */
  reason: ProbeFailReason;
  /** Human-readable explanation for logs (`connect ECONNREFUSED 10.0.0.1:80`, `HTTP 503`). */
  detail: string;
  /** Wall time the attempt took, milliseconds. */
  durationMs: number;
}

/** The outcome of one attempt. */
export type ProbeResult = ProbeOk | ProbeFail;

/**
 * One check, ready to run. Created once per check (compiled regexes, CA
 * bundles, prebuilt requests live here) and run once per attempt.
 */
export interface Probe {
  /**
   * Perform one attempt. Never rejects; settles within the spec's timeoutMs
   * (plus a few ms), and has released every socket, process and timer it
   * opened by the time it settles (a killed command may be reaped a moment
   * later).
   */
  run(): Promise<ProbeResult>;
  /**
   * Abort the attempt in flight (it settles at once as a failure, reason
   * `io`, detail `probe closed`) and make later runs fail the same way.
   * Idempotent. Probes that hold nothing between attempts may omit it.
   */
  close?(): void;
}

/**
 * What the udp and dns probes use of a UDP socket: the part of Node's
 * `dgram.Socket` that the native factory's socket (native-factory.ts) also
 * has. Errors carry the errno name in `code`.
 */
export interface ProbeDgram {
  /** Fix the peer; `callback` gets the error when that fails (no route). */
  connect(port: number, address: string, callback: (...args: unknown[]) => void): void;
  /** Send one datagram to the peer. */
  send(data: Uint8Array, callback: (err: Error | null) => void): void;
  /** A datagram from the peer. */
  on(event: 'message', listener: (msg: Buffer) => void): this;
  /** An asynchronous socket error (an ICMP error about what was sent). */
  on(event: 'error', listener: (err: Error) => void): this;
  close(): void;
}

/**
 * What the tcp and http probes use of a connected TCP connection: the part
 * of `net.Socket` that the native factory's lighter socket
 * (native-factory.ts, over the addon's ProbeEngine) also has. Errors carry the
 * errno name in `code`.
 */
export interface ProbeSocket {
  /**
   * Bytes read. The chunk may be a view into a buffer the socket reuses
   * (the native factory's is): valid during the listener only, so a probe
   * copies what it keeps.
   */
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  /** The connection failed. */
  on(event: 'error', listener: (err: Error) => void): this;
  /** The peer's FIN. */
  once(event: 'end', listener: () => void): this;
  write(data: Buffer): unknown;
  /** Close with a FIN. */
  destroy(): void;
  /** Close with a RST (SO_LINGER 0). */
  resetAndDestroy(): unknown;
  readonly destroyed: boolean;
  /** The connect has not finished yet. */
  readonly pending: boolean;
  /** The peer's FIN was read. */
  readonly readableEnded: boolean;
}

/**
 * Creates the sockets of network probes. The default creates plain Node
 * sockets and honours `bindAddress` only; the native one (native-factory.ts)
 * adds SO_BINDTODEVICE for `bindInterface`, SO_MARK for `fwmark`, and
 * `target.via`.
 */
export interface SocketFactory {
  /**
   * Start a TCP connect to `target`, bound as the spec says. `done` is called
   * once: with the connected socket, or with the socket error (its `code` is
   * the errno name); never after the returned cancel function ran, which
   * closes whatever is pending. Callbacks rather than a promise and an
   * AbortSignal: this runs up to 10,000 times a second, and EventTarget
   * listeners cost more than the connect's own bookkeeping.
   */
  tcp(target: ProbeTarget, spec: NetCheckBase, done: (err: Error | null, sock?: NetSocket) => void): () => void;
  /**
   * As {@link SocketFactory.tcp}, for probes that read and write the bytes
   * themselves and need no stream (tcp, http without TLS): a lighter socket
   * where the factory has one. Factories without it serve `tcp()` for both.
   * `writesFirst`: the probe writes as soon as it is connected (http), so
   * the native factory lets the handshake's last ACK go with those bytes
   * (one packet fewer); never for a probe that waits for the server to
   * speak (its ACK would wait for the delayed-ACK timer).
   */
  stream?(target: ProbeTarget, spec: NetCheckBase, done: (err: Error | null, sock?: ProbeSocket) => void, writesFirst?: boolean): () => void;
  /**
   * A UDP socket of the target's family, bound as the spec says (or unbound:
   * the probe's `connect()` binds it implicitly). The probe connects it.
   * A native factory also sets IP_RECVERR / IPV6_RECVERR, so that ICMP
   * host/net unreachable and neighbour failures reach the probe as socket
   * errors (Linux reports only port unreachable without it; see udp.ts).
   */
  udp(target: ProbeTarget, spec: NetCheckBase): ProbeDgram;
  /** Whether this factory applies `bindInterface`, `fwmark` and `target.via`. */
  readonly supportsDeviceAndMark: boolean;
}

/** Options of {@link createProbe} (src/health/probes/index.ts) and the per-type constructors. */
export interface ProbeOptions {
  /** Socket source for network probes; default native-factory.ts's. */
  socketFactory?: SocketFactory;
}

/**
 * Map a Node/libuv error code to a failure reason. Unknown codes are `io`.
 * @param code `err.code` of a socket error
 */
export function errnoReason(code: string | undefined): ProbeFailReason {
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
    case 'EADDRNOTAVAIL':
    case 'ENONET':
      return 'unreachable';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
      return 'reset';
    case 'ETIMEDOUT':
      return 'timeout';
    default:
      return 'io';
  }
}

/**
 * The message of any thrown value, for `detail`.
 * @param err a thrown value
 */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** `code` of a Node system error, if it has one. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const c = (err as { code: unknown }).code;
    if (typeof c === 'string') return c;
  }
  return undefined;
}

/** Detail of attempts cut short by {@link Probe.close}. */
export const CLOSED_DETAIL = 'probe closed';

/**
 * Milliseconds since `t0` (a `performance.now()` reading), rounded to the
 * microsecond so logs and histograms do not carry float noise.
 */
export function since(t0: number): number {
  return Math.round((performance.now() - t0) * 1000) / 1000;
}

/**
 * A successful result.
 * @param t0 `performance.now()` when the attempt started
 * @param weight misc/file weight, if any
 * @param detail optional note
 */
export function okResult(t0: number, weight?: number, detail?: string): ProbeOk {
  const r: ProbeOk = { ok: true, durationMs: since(t0) };
  if (weight !== undefined) r.weight = weight;
  if (detail !== undefined) r.detail = detail;
  return r;
}

/**
 * A failed result.
 * @param t0 `performance.now()` when the attempt started
 * @param reason metric label
 * @param detail log text
 */
export function failResult(t0: number, reason: ProbeFailReason, detail: string): ProbeFail {
  return { ok: false, reason, detail, durationMs: since(t0) };
}

/**
 * Wraps a probe's timeout callback so that it runs only after the event loop
 * has read the I/O that was waiting when the timer fired. A loop that is
 * behind (a busy machine, thousands of checks a second) runs its expired
 * timers before it polls the sockets: without this, an answer that arrived
 * in time but was not read yet failed the attempt as a timeout, the checker's
 * own lateness counted against a healthy server (at 10,000 checks/s on a
 * loaded 2-CPU VM, 23,844 of 41,476 attempts). `setImmediate` runs after the
 * poll phase that follows the timers, so the answer is read first and the
 * attempt's finish (idempotent in every probe) makes the late callback a no-op.
 * @param onTimeout the probe's timeout verdict
 * @returns the callback to give setTimeout
 */
export function afterPendingIo(onTimeout: () => void): () => void {
  return () => void setImmediate(onTimeout);
}

/**
 * The attempts of one probe that are in flight, so {@link Probe.close} can cut
 * them short. Pure bookkeeping: each attempt registers an abort function while
 * it runs and removes it when it settles.
 */
export class AttemptSet {
  /** Set by close(); later attempts fail at once. */
  #closed = false;
  /** Abort functions of the attempts in flight (usually zero or one). */
  readonly #aborts = new Set<() => void>();

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Register an attempt's abort function. */
  add(abort: () => void): void {
    this.#aborts.add(abort);
  }

  /** Forget a settled attempt. */
  delete(abort: () => void): void {
    this.#aborts.delete(abort);
  }

  /** Abort every attempt in flight and refuse new ones. Idempotent. */
  close(): void {
    this.#closed = true;
    const aborts = [...this.#aborts];
    this.#aborts.clear();
    for (const a of aborts) a();
  }
}
