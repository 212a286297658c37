/**
 * @module health/probes/tcp
 * TCP_CHECK (keepalived §3.2): success = the connect completes within the
 * timeout. Also home of the default {@link SocketFactory}, which the http,
 * smtp, udp and dns probes share.
 *
 * Layer: control plane, I/O (sockets, one timer per attempt).
 */
import net from 'node:net';
import dgram from 'node:dgram';
import type { NetCheckBase, TcpCheckSpec } from '../spec.js';
import {
  afterPendingIo,
  AttemptSet,
  CLOSED_DETAIL,
  errnoReason,
  errorCode,
  errorText,
  failResult,
  okResult,
  type Probe,
  type ProbeFailReason,
  type ProbeOptions,
  type ProbeResult,
  type ProbeSocket,
  type ProbeTarget,
  type SocketFactory,
} from './types.js';
import { nativeSocketFactory } from './native-factory.js';

/**
 * Plain Node sockets. Honours `bindAddress` (the source address, keepalived
 * `bindto`); `bindInterface` and `fwmark` need a native factory
 * ({@link SocketFactory.supportsDeviceAndMark}). Not the default (that is
 * the native factory, for its lighter TCP socket): for tests, and for
 * callers that want Node's sockets.
 */
export const nodeSocketFactory: SocketFactory = {
  supportsDeviceAndMark: false,
  tcp(target: ProbeTarget, spec: NetCheckBase, done: (err: Error | null, sock?: net.Socket) => void): () => void {
    const opts: net.TcpNetConnectOpts = { host: target.address, port: target.port, family: target.family };
    if (spec.bindAddress !== undefined) opts.localAddress = spec.bindAddress;
    const sock = net.connect(opts);
    let settled = false;
    const onError = (err: Error): void => {
      if (settled) return;
      settled = true;
      sock.destroy();
      done(err);
    };
    sock.once('error', onError);
    sock.once('connect', () => {
      if (settled) return;
      settled = true;
      sock.removeListener('error', onError);
      done(null, sock); // the caller listens for errors from here on
    });
    return () => {
      if (settled) return;
      settled = true;
      sock.destroy();
    };
  },
  udp(target: ProbeTarget, spec: NetCheckBase): dgram.Socket {
    const s = dgram.createSocket(target.family === 6 ? 'udp6' : 'udp4');
    // connect() waits for this bind (dgram queues it), and a bind error is
    // emitted as 'error' on a later tick, after the probe listens.
    if (spec.bindAddress !== undefined) s.bind({ address: spec.bindAddress, port: 0, exclusive: true });
    return s;
  },
};

/**
 * Build a network probe on its socket factory, or a probe that fails every
 * attempt (`io`) when the spec asks for `bindInterface` or `fwmark` and the
 * factory cannot apply them, rather than silently probing another path.
 * The default is the native factory: its TCP socket costs a fraction of a
 * `net.Socket` (10,000 checks a second), and its UDP socket has IP_RECVERR
 * (a dead host fails a udp or dns check, as in keepalived).
 * @param spec the check
 * @param options the probe options
 * @param make builds the probe on the factory
 */
export function withSocketFactory(spec: NetCheckBase, target: ProbeTarget, options: ProbeOptions, make: (factory: SocketFactory) => Probe): Probe {
  const f = options.socketFactory ?? nativeSocketFactory;
  if (!f.supportsDeviceAndMark) {
    if (spec.bindInterface !== undefined) return new FailingProbe('io', `bindInterface ${spec.bindInterface} needs the native socket factory`);
    if (spec.fwmark !== 0) return new FailingProbe('io', `fwmark ${spec.fwmark} needs the native socket factory`);
    if (target.via !== undefined) return new FailingProbe('io', 'target: vip needs the native socket factory');
  }
  return make(f);
}

/**
 * `address:port` as logs show it (`[v6]:port`).
 * @param target the probe target
 */
export function targetText(target: ProbeTarget): string {
  return target.family === 6 ? `[${target.address}]:${target.port}` : `${target.address}:${target.port}`;
}

/**
 * Log text of a failed connect, the same for Node's sockets and the addon's:
 * `connect ECONNREFUSED 10.0.0.1:80` (what operators grep for), or the
 * error's message when it has no errno name.
 * @param err the connect's error
 * @param target where it went
 */
export function connectFailText(err: Error, target: ProbeTarget): string {
  const code = errorCode(err);
  return code !== undefined && /^E[A-Z0-9]+$/.test(code) ? `connect ${code} ${targetText(target)}` : `connect: ${errorText(err).trim()}`;
}

/**
 * Close a probe's TCP connection without leaving TIME_WAIT behind, here or
 * on the server. An established connection is reset (SO_LINGER 0, as
 * haproxy's health checks do), also when the server has closed its side
 * already: closing normally would park a TIME_WAIT socket for 60 s per
 * attempt on whichever side closed first (here, 10,000 checks a second
 * would exhaust the ephemeral ports), and after the server's FIN a FIN back
 * costs a packet each way where the RST costs one and frees the server's
 * socket at once (health bench: 6 us less system time per check). The
 * server has sent everything by then; only its socket's teardown differs.
 * A connection still being set up is closed normally (that sends nothing).
 * @param raw the TCP socket
 */
export function dropConnection(raw: ProbeSocket): void {
  if (raw.destroyed) return;
  if (raw.pending) {
    raw.destroy();
    return;
  }
  try {
    raw.resetAndDestroy();
  } catch {
    raw.destroy(); // not a TCP handle (a custom factory's socket)
  }
}

/**
 * `factory.tcp()`, with a factory that throws at once (bad options) turned
 * into a `done(err)` on the next tick, so that every failure reaches the
 * probe the same way.
 * @param factory the socket factory
 * @param target where to connect
 * @param spec the check
 * @param done as SocketFactory.tcp
 * @returns cancels the connect
 */
export function connectVia(factory: SocketFactory, target: ProbeTarget, spec: NetCheckBase, done: (err: Error | null, sock?: net.Socket) => void): () => void;
/**
 * {@link connectVia} for a probe that needs no stream (tcp, http without
 * TLS): the factory's lighter socket where it has one. `writesFirst`: see
 * {@link SocketFactory.stream}.
 */
export function connectVia(
  factory: SocketFactory,
  target: ProbeTarget,
  spec: NetCheckBase,
  done: (err: Error | null, sock?: ProbeSocket) => void,
  light: true,
  writesFirst?: boolean,
): () => void;
export function connectVia(factory: SocketFactory, target: ProbeTarget, spec: NetCheckBase, done: (err: Error | null, sock?: net.Socket) => void, light = false, writesFirst = false): () => void {
  try {
    if (light && factory.stream) return factory.stream(target, spec, done as (err: Error | null, sock?: ProbeSocket) => void, writesFirst);
    return factory.tcp(target, spec, done);
  } catch (err) {
    let cancelled = false;
    process.nextTick(() => cancelled || done(err instanceof Error ? err : new Error(String(err))));
    return () => void (cancelled = true);
  }
}

/** A probe whose every attempt fails the same way (an unusable setup). */
export class FailingProbe implements Probe {
  /**
   * @param reason the failure reason
   * @param detail the failure detail
   */
  constructor(
    private readonly reason: ProbeFailReason,
    private readonly detail: string,
  ) {}

  /** Fails at once. */
  run(): Promise<ProbeResult> {
    return Promise.resolve(failResult(performance.now(), this.reason, this.detail));
  }
}

/** TCP connect probe. */
class TcpProbe implements Probe {
  readonly #attempts = new AttemptSet();

  constructor(
    private readonly spec: TcpCheckSpec,
    private readonly target: ProbeTarget,
    private readonly factory: SocketFactory,
  ) {}

  run(): Promise<ProbeResult> {
    const t0 = performance.now();
    if (this.#attempts.closed) return Promise.resolve(failResult(t0, 'io', CLOSED_DETAIL));
    return new Promise<ProbeResult>((resolve) => {
      let done = false;
      const finish = (r: ProbeResult): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.#attempts.delete(abort);
        cancel(); // a connect still pending is closed
        resolve(r);
      };
      const abort = (): void => finish(failResult(t0, 'io', CLOSED_DETAIL));
      const timer = setTimeout(
        afterPendingIo(() => finish(failResult(t0, 'timeout', `connect to ${targetText(this.target)} timed out after ${this.spec.timeoutMs} ms`))),
        this.spec.timeoutMs,
      );
      this.#attempts.add(abort);
      const cancel = connectVia(this.factory, this.target, this.spec, (err, sock) => {
        if (err) {
          finish(failResult(t0, errnoReason(errorCode(err)), connectFailText(err, this.target)));
          return;
        }
        dropConnection(sock!);
        finish(okResult(t0));
      }, true);
    });
  }

  close(): void {
    this.#attempts.close();
  }
}

/**
 * A TCP_CHECK probe: connect within `timeoutMs`; refused, unreachable and
 * timed-out connects fail. The connection is reset as soon as it is up
 * ({@link dropConnection}).
 * @param spec the check
 * @param target resolved address and port
 * @param options socket factory
 */
export function createTcpProbe(spec: TcpCheckSpec, target: ProbeTarget, options: ProbeOptions = {}): Probe {
  return withSocketFactory(spec, target, options, (f) => new TcpProbe(spec, target, f));
}
