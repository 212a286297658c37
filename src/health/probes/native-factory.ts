/**
 * @module health/probes/native-factory
 * The {@link SocketFactory} of checks that need what Node's sockets cannot
 * set: SO_MARK (`fwmark`, and the steering mark of `target: vip` checks),
 * SO_BINDTODEVICE (`bindInterface`), IP_RECVERR; and the default factory of
 * every check, for its lighter TCP socket. TCP connects go through the
 * addon. For the tcp probe and http without TLS they stay the addon's,
 * connections of its ProbeEngine ({@link SocketFactory.stream}: one epoll fd
 * for all of them, and one call into JS per turn of the loop with all their
 * events, where a `net.Socket` costs a stream's machinery per connection);
 * for https and smtp they come back as ordinary `net.Socket`s
 * (src/native/socket.ts connectSocket), which TLS needs. UDP
 * sockets are the addon's RawSocket (SOCK_DGRAM, protocol 17) behind the
 * part of Node's dgram API the udp and dns probes use ({@link ProbeDgram}).
 *
 * `target: vip`: the probe connects to the VIP from the address this node
 * would use towards the backend (unless `bindAddress` says otherwise). The
 * VIP is usually local to the node (the VRRP master holds it), and a
 * connection to a local address would otherwise take the VIP as its source
 * too, so the backend's answer would never leave the backend.
 *
 * Layer: control plane, I/O (the addon, a UDP socket for the source lookup).
 */
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { Socket as NetSocket } from 'node:net';
import {
  connectSocket,
  IPPROTO,
  probeEngine,
  RawSocket,
  SOCKOPT,
  TcpTarget,
  type ProbeConnectionHandlers,
  type ProbeEngine,
  type TcpConnectOptions,
} from '../../native/socket.js';
import type { NetCheckBase } from '../spec.js';
import type { ProbeDgram, ProbeSocket, ProbeTarget, SocketFactory } from './types.js';

/**
 * The source address the kernel picks towards `address`: a connected UDP
 * socket's local address (connect() on UDP sends nothing).
 * @param address the peer
 * @param family its family
 * @param signal aborts the lookup
 * @throws the socket's error (ENETUNREACH: no route)
 */
export function sourceToward(address: string, family: 4 | 6, signal: AbortSignal): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const s = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    const done = (): void => {
      signal.removeEventListener('abort', onAbort);
      s.close();
    };
    const onAbort = (): void => {
      done();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    s.once('error', (err) => {
      done();
      reject(err);
    });
    // the port only has to be valid; nothing is sent
    s.connect(9, address, (...args: unknown[]) => {
      if (args[0] instanceof Error) {
        done();
        reject(args[0]);
        return;
      }
      const local = s.address().address;
      done();
      resolve(local);
    });
  });
}

/** How long a looked-up source address is used before it is looked up again. */
export const SOURCE_TTL_MS = 5_000;

/**
 * Source addresses towards peers, each looked up again once SOURCE_TTL_MS
 * old: a `target: vip` check would otherwise open a UDP socket for every
 * attempt, and this node's route towards a backend rarely changes. Failed
 * lookups are not kept.
 */
export class SourceCache {
  readonly #entries = new Map<string, { address: string; expires: number }>();
  readonly #lookup: typeof sourceToward;
  readonly #now: () => number;
  readonly #ttlMs: number;

  /**
   * @param lookup the lookup (tests inject one)
   * @param now a monotonic clock, ms
   */
  constructor(lookup: typeof sourceToward = sourceToward, now: () => number = () => performance.now(), ttlMs = SOURCE_TTL_MS) {
    this.#lookup = lookup;
    this.#now = now;
    this.#ttlMs = ttlMs;
  }

  /** As sourceToward(), from the cache while the entry is fresh. */
  async get(address: string, family: 4 | 6, signal: AbortSignal): Promise<string> {
    const key = `${family} ${address}`;
    const hit = this.#entries.get(key);
    if (hit && hit.expires > this.#now()) return hit.address;
    const source = await this.#lookup(address, family, signal);
    this.#entries.set(key, { address: source, expires: this.#now() + this.#ttlMs });
    // one entry per backend with such checks; drop stale ones now and then
    if (this.#entries.size > 1024 && this.#entries.size % 1024 === 1) this.#prune();
    return source;
  }

  /** Entries held (tests). */
  get size(): number {
    return this.#entries.size;
  }

  #prune(): void {
    const now = this.#now();
    for (const [k, e] of this.#entries) if (e.expires <= now) this.#entries.delete(k);
  }
}

const sources = new SourceCache();

/**
 * A UDP socket of the addon's, as the udp and dns probes use one. Besides
 * SO_MARK and SO_BINDTODEVICE it sets IP_RECVERR / IPV6_RECVERR (as
 * keepalived does): ICMP host and net unreachable, and a neighbour (ARP/ND)
 * that never answers, come back as `'error'` events (EHOSTUNREACH, ...),
 * where Node's dgram reports only port unreachable and a dead host passes a
 * check that needs no reply. A `target: vip` socket is bound, before it
 * connects, to the address this node uses towards the backend (as the TCP
 * checks' sockets are).
 */
export class NativeUdpSocket extends EventEmitter implements ProbeDgram {
  readonly #sock: RawSocket;
  readonly #target: ProbeTarget;
  readonly #bound: boolean;
  readonly #ac = new AbortController();
  #closed = false;

  /**
   * @param target where the probe goes (family, `via`)
   * @param spec bind options and fwmark
   * @throws SystemError from the addon (ENODEV for a missing bindInterface, EPERM for a mark without CAP_NET_ADMIN)
   */
  constructor(target: ProbeTarget, spec: NetCheckBase) {
    super();
    this.#target = target;
    const sock = new RawSocket({ family: target.family, type: 'dgram', protocol: IPPROTO.UDP });
    try {
      if (target.family === 4) sock.setOption(SOCKOPT.SOL_IP, SOCKOPT.IP_RECVERR, 1);
      else sock.setOption(SOCKOPT.SOL_IPV6, SOCKOPT.IPV6_RECVERR, 1);
      const mark = target.via?.mark ?? spec.fwmark;
      if (mark !== 0) sock.setMark(mark);
      if (spec.bindInterface !== undefined) sock.bindToDevice(spec.bindInterface);
      if (spec.bindAddress !== undefined) sock.bind(spec.bindAddress);
    } catch (err) {
      sock.close();
      throw err;
    }
    this.#bound = spec.bindAddress !== undefined;
    sock.on('message', (m) => this.emit('message', m.data));
    sock.on('error', (err) => this.emit('error', err));
    this.#sock = sock;
  }

  connect(port: number, address: string, callback: (...args: unknown[]) => void): void {
    const via = this.#target.via;
    const connect = async (): Promise<void> => {
      if (via && !this.#bound) {
        const source = await sources.get(via.backend, this.#target.family, this.#ac.signal);
        if (this.#closed) return;
        this.#sock.bind(source);
      }
      this.#sock.connect(address, port);
      this.#sock.start();
    };
    connect().then(
      () => {
        if (!this.#closed) callback();
      },
      (err: unknown) => {
        if (!this.#closed) callback(err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  send(data: Uint8Array, callback: (err: Error | null) => void): void {
    let error: Error | null = null;
    try {
      this.#sock.send(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    } catch (err) {
      error = err instanceof Error ? err : new Error(String(err));
    }
    // as dgram's: never from inside send()
    queueMicrotask(() => callback(error));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ac.abort();
    this.#sock.close();
  }
}

/**
 * A connection of the addon's ProbeEngine behind {@link ProbeSocket}: what
 * the tcp and http probes use of a `net.Socket`, without the stream
 * machinery, and without an object or a poll handle of the addon's per
 * connection. It is its connection's handler object too, and holds one
 * listener per event (the probes add one each; a second is a bug and
 * throws), so that a connection costs no emitter and no closures beyond the
 * probe's own.
 */
class NativeProbeSocket implements ProbeSocket, ProbeConnectionHandlers {
  readonly #engine: ProbeEngine;
  readonly #id: number;
  #done: ((err: Error | null, sock?: ProbeSocket) => void) | undefined;
  #connected = false;
  #ended = false;
  #closed = false;
  #onData: ((chunk: Buffer) => void) | undefined;
  #onError: ((err: Error) => void) | undefined;
  #onEnd: (() => void) | undefined;

  /**
   * Starts the connect; `done` runs once, from the event loop, unless
   * cancel() runs first.
   * @throws SystemError as ProbeEngine.connect
   */
  constructor(engine: ProbeEngine, target: TcpTarget, done: (err: Error | null, sock?: ProbeSocket) => void) {
    this.#engine = engine;
    this.#done = done;
    this.#id = engine.connect(target, this);
  }

  /** Closes a connect still pending; `done` never runs after it. */
  readonly cancel = (): void => {
    if (this.#done === undefined) return;
    this.#done = undefined;
    this.destroy();
  };

  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'data' | 'error', listener: ((chunk: Buffer) => void) | ((err: Error) => void)): this {
    if (event === 'data') {
      if (this.#onData) throw new Error('NativeProbeSocket: a second data listener');
      this.#onData = listener as (chunk: Buffer) => void;
    } else {
      if (this.#onError) throw new Error('NativeProbeSocket: a second error listener');
      this.#onError = listener as (err: Error) => void;
    }
    return this;
  }

  once(_event: 'end', listener: () => void): this {
    if (this.#onEnd) throw new Error('NativeProbeSocket: a second end listener');
    this.#onEnd = listener;
    return this;
  }

  get pending(): boolean {
    return !this.#connected;
  }

  get destroyed(): boolean {
    return this.#closed;
  }

  get readableEnded(): boolean {
    return this.#ended;
  }

  /** As net.Socket's: a failure comes as an 'error' event, never from inside write(). */
  write(data: Buffer): boolean {
    try {
      if (this.#closed) throw new Error('probe socket: write after close');
      this.#engine.write(this.#id, data);
    } catch (err) {
      queueMicrotask(() => this.#emitError(err instanceof Error ? err : new Error(String(err))));
    }
    return true;
  }

  destroy(): void {
    this.#close(false);
  }

  resetAndDestroy(): void {
    this.#close(true);
  }

  #close(reset: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#engine.close(this.#id, reset);
  }

  /** ProbeConnectionHandlers: the handshake finished. */
  connected(): void {
    this.#connected = true;
    const done = this.#done;
    this.#done = undefined;
    done?.(null, this);
  }

  /** ProbeConnectionHandlers: bytes read (the engine's view: the probe copies what it keeps). */
  data(bytes: Buffer, last: boolean): void {
    // the peer's FIN is in already: a close after these bytes need not reset (dropConnection)
    if (last) this.#ended = true;
    this.#onData?.(bytes);
    if (last && !this.#closed) this.#end();
  }

  /** ProbeConnectionHandlers: the peer's FIN. */
  end(): void {
    this.#ended = true;
    this.#end();
  }

  /** ProbeConnectionHandlers: the connect or the connection failed. */
  error(err: Error): void {
    this.#closed = true;
    const done = this.#done;
    this.#done = undefined;
    if (done) done(err);
    else this.#emitError(err);
  }

  #end(): void {
    const fn = this.#onEnd;
    this.#onEnd = undefined; // once
    fn?.();
  }

  /** 'error', to the probe's listener if it has one (its failure handling is idempotent). */
  #emitError(err: Error): void {
    this.#onError?.(err);
  }
}

/**
 * The parsed connect options of a probe's target, made on its first
 * attempt and kept while the probe lives (keyed by its target object): an
 * attempt parses no address. `source` is the `target.via` source they were
 * made for, if any.
 */
const tcpTargets = new WeakMap<ProbeTarget, { spec: NetCheckBase; source: string | undefined; writesFirst: boolean; target: TcpTarget }>();

/** The TcpTarget of `target` and `spec` (bound to `source` for `target.via`; `delayAck` when the probe writes first). */
function tcpTargetFor(target: ProbeTarget, spec: NetCheckBase, writesFirst: boolean, source?: string): TcpTarget {
  const hit = tcpTargets.get(target);
  if (hit !== undefined && hit.spec === spec && hit.source === source && hit.writesFirst === writesFirst) return hit.target;
  const opts = tcpOptions(target, spec);
  if (source !== undefined) opts.bindAddress = source;
  if (writesFirst) opts.delayAck = true;
  const made = new TcpTarget(opts);
  tcpTargets.set(target, { spec, source, writesFirst, target: made });
  return made;
}

/** TcpConnect/TcpTarget options of a check towards `target`, without the `target.via` source. */
function tcpOptions(target: ProbeTarget, spec: NetCheckBase): TcpConnectOptions {
  const opts: TcpConnectOptions = { family: target.family, address: target.address, port: target.port };
  const mark = target.via?.mark ?? spec.fwmark;
  if (mark !== 0) opts.mark = mark;
  if (spec.bindInterface !== undefined) opts.device = spec.bindInterface;
  if (spec.bindAddress !== undefined) opts.bindAddress = spec.bindAddress;
  return opts;
}

/**
 * Connects with `open` once the source is known: at once, or after the
 * lookup of the `target.via` source. `done` is called once, never
 * synchronously and never after the returned cancel function ran. `open`
 * may throw (bad options, an immediate failure): `done` then gets that
 * error; its `finish` returns false for a socket that came too late, which
 * the caller then closes.
 */
function connectWith<S>(
  target: ProbeTarget,
  spec: NetCheckBase,
  open: (opts: TcpConnectOptions, finish: (err: Error | null, sock?: S) => boolean) => { close(): void },
  done: (err: Error | null, sock?: S) => void,
): () => void {
  // only a `target.via` lookup has anything to abort: no AbortController per attempt otherwise
  const ac = target.via && spec.bindAddress === undefined ? new AbortController() : undefined;
  let settled = false;
  let pending: { close(): void } | undefined;
  const finish = (err: Error | null, sock?: S): boolean => {
    if (settled) return false;
    settled = true;
    done(err, sock);
    return true;
  };
  const start = (opts: TcpConnectOptions): void => {
    try {
      pending = open(opts, finish);
    } catch (err) {
      // never from inside the factory call: the caller's cancel is set by then
      queueMicrotask(() => finish(err instanceof Error ? err : new Error(String(err))));
    }
  };
  const opts = tcpOptions(target, spec);
  if (ac) {
    sources.get(target.via!.backend, target.family, ac.signal).then(
      (source) => {
        if (settled) return;
        opts.bindAddress = source;
        start(opts);
      },
      (err: unknown) => finish(err instanceof Error ? err : new Error(String(err))),
    );
  } else {
    start(opts); // neither connect calls back synchronously
  }
  return () => {
    if (settled) return;
    settled = true;
    ac?.abort();
    pending?.close();
  };
}

/** The addon's sockets: SO_MARK, SO_BINDTODEVICE, `target.via`, and the lighter TCP socket. */
export const nativeSocketFactory: SocketFactory = {
  supportsDeviceAndMark: true,
  tcp(target: ProbeTarget, spec: NetCheckBase, done: (err: Error | null, sock?: NetSocket) => void): () => void {
    return connectWith<NetSocket>(
      target,
      spec,
      (opts, finish) => {
        const ac = new AbortController();
        connectSocket({ ...opts, signal: ac.signal }).then(
          (sock) => finish(null, sock) || sock.destroy(),
          (err: unknown) => finish(err instanceof Error ? err : new Error(String(err))),
        );
        return { close: () => ac.abort() };
      },
      done,
    );
  },
  stream(target: ProbeTarget, spec: NetCheckBase, done: (err: Error | null, sock?: ProbeSocket) => void, writesFirst = false): () => void {
    if (target.via && spec.bindAddress === undefined) {
      // the source is looked up first (SourceCache)
      return connectWith<ProbeSocket>(
        target,
        spec,
        (opts, finish) => ({ close: new NativeProbeSocket(probeEngine(), tcpTargetFor(target, spec, writesFirst, opts.bindAddress), (err, sock) => void finish(err, sock)).cancel }),
        done,
      );
    }
    // the common case, without connectWith's closures: done is never
    // called synchronously (the engine calls back from the loop)
    let sock: NativeProbeSocket;
    try {
      sock = new NativeProbeSocket(probeEngine(), tcpTargetFor(target, spec, writesFirst), done);
    } catch (err) {
      let cancelled = false;
      queueMicrotask(() => cancelled || done(err instanceof Error ? err : new Error(String(err))));
      return () => void (cancelled = true);
    }
    return sock.cancel;
  },
  udp(target: ProbeTarget, spec: NetCheckBase): ProbeDgram {
    return new NativeUdpSocket(target, spec);
  },
};
