/**
 * Sockets the Node runtime does not give (DESIGN §3): raw and datagram IP
 * sockets of any protocol ({@link RawSocket}: VRRP, ICMP echo), TCP
 * connects with SO_MARK / SO_BINDTODEVICE / a bind address
 * ({@link tcpConnectFd}, {@link connectSocket}), TCP connections without a
 * net.Socket ({@link ProbeEngine}, which holds the health checker's
 * connections on one epoll fd), netlink sockets
 * ({@link NetlinkSocket}: rtnetlink) and packet sockets ({@link PacketSocket}:
 * gratuitous ARP, unsolicited neighbour advertisements).
 *
 * Layer: the TS face of the addon's RawSocket, TcpConnect and LinkSocket
 * classes (native/src/raw_socket.cc, link_socket.cc). It checks ranges and
 * spelling (H-25), turns addon errors into {@link SystemError}s, and turns
 * readiness into events. No protocol logic: packets are Buffers in and out.
 *
 * Namespaces: a socket belongs to the network namespace of the thread that
 * created it, for its whole life. To open one in another netns, call the
 * constructor between `enterNetns()` and `restoreNetns()` (binding.ts).
 *
 * @module native/socket
 */
import { EventEmitter } from 'node:events';
import { closeSync } from 'node:fs';
import { isIPv4, isIPv6, Socket } from 'node:net';
import type { SystemError } from '../errors.js';
import {
  native,
  type NativeLinkSocket,
  type NativeLinkSocketCtor,
  type NativeRawSocket,
  type NativeRawSocketCtor,
  type NativeTcpConnectCtor,
  type NativeProbeEngine,
  type NativeProbeEngineCtor,
  type NativeTcpTarget,
  type NativeTcpTargetCtor,
  PROBE_EVENT,
  type NetlinkDatagram,
  type PacketAddress,
  type PacketFrame,
  type RawMessage,
  type RawSocketOptions,
  type TcpConnectOptions,
} from './binding.js';
import { callNative, toSystemError } from './errors.js';

export type { NetlinkDatagram, PacketAddress, PacketFrame, RawMessage, RawSocketOptions, TcpConnectOptions } from './binding.js';

/**
 * Socket option levels and names for {@link RawSocket.setOption} /
 * {@link RawSocket.getOption} (Linux values: asm-generic/socket.h,
 * linux/in.h, linux/in6.h, linux/icmp.h, linux/icmpv6.h).
 */
export const SOCKOPT = {
  SOL_SOCKET: 1,
  /** int, bytes. */
  SO_RCVBUF: 8,
  /** int, bytes. */
  SO_SNDBUF: 7,
  /** int (read only): the pending socket error, cleared by reading. */
  SO_ERROR: 4,
  /** int (read only): SOCK_RAW 3, SOCK_DGRAM 2. */
  SO_TYPE: 3,
  /** uint32. */
  SO_MARK: 36,
  SOL_IP: 0,
  /** int. */
  IP_TTL: 2,
  /** int: queue ICMP errors for the error queue (reported as 'error' events). */
  IP_RECVERR: 11,
  SOL_IPV6: 41,
  /** int. */
  IPV6_UNICAST_HOPS: 16,
  /** int: queue ICMPv6 errors for the error queue. */
  IPV6_RECVERR: 25,
  /** int: offset of the checksum the kernel fills in on IPv6 raw sockets (-1: off). VRRP over IPv6 uses 6. */
  IPV6_CHECKSUM: 7,
  SOL_RAW: 255,
  /** struct icmp_filter { u32 data } (as an int): a set bit (1 << type) BLOCKS that ICMP type on an IPv4 raw ICMP socket. */
  ICMP_FILTER: 1,
  SOL_ICMPV6: 58,
  /** struct icmp6_filter (32-byte Buffer, host-order u32 words): a set bit BLOCKS that ICMPv6 type. */
  ICMP6_FILTER: 1,
} as const;

/** IANA protocol numbers the sockets are used with. */
export const IPPROTO = {
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  ICMPV6: 58,
  VRRP: 112,
} as const;

/** Longest interface name (IFNAMSIZ - 1). */
const IFNAME_MAX = 15;
/** Datagrams handed out per readiness event; the level-triggered poll calls again for the rest. */
const MAX_BATCH = 64;

function checkInt(what: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${what} must be an integer in [${min}, ${max}], got ${v}`);
}

/**
 * Checks an address of `family`; an IPv6 one may carry a `%<scope>` suffix
 * (interface name or index).
 */
function checkAddress(what: string, family: 4 | 6, address: string): void {
  if (typeof address !== 'string') throw new TypeError(`${what} must be a string`);
  if (family === 4) {
    if (!isIPv4(address)) throw new TypeError(`${what} must be an IPv4 address, got ${JSON.stringify(address)}`);
    return;
  }
  const pct = address.indexOf('%');
  const bare = pct < 0 ? address : address.slice(0, pct);
  if (!isIPv6(bare) || pct === address.length - 1) throw new TypeError(`${what} must be an IPv6 address, got ${JSON.stringify(address)}`);
}

function checkIfName(what: string, name: string): void {
  if (typeof name !== 'string' || name.length > IFNAME_MAX || name.includes('\0') || name.includes('/')) {
    throw new RangeError(`${what} must be an interface name of at most ${IFNAME_MAX} characters, got ${JSON.stringify(name)}`);
  }
}

/** Whether `address` (of `family`, no scope) is a multicast group: 224.0.0.0/4 or ff00::/8. */
function isMulticast(family: 4 | 6, address: string): boolean {
  if (family === 4) {
    const first = Number(address.split('.')[0]);
    return first >= 224 && first <= 239;
  }
  return /^ff[0-9a-f]{2}:/i.test(address);
}

/** Events of the polled sockets ({@link RawSocket}, {@link NetlinkSocket}, {@link PacketSocket}). */
export interface PolledSocketEvents<M> {
  /** A datagram, after `start()`. */
  message: [msg: M];
  /**
   * An asynchronous failure: a socket error the kernel reported (polling
   * goes on; e.g. EHOSTUNREACH on a connected socket, one IP_RECVERR queue
   * entry; netlink: ENOBUFS, messages were lost), a failed recv, or libuv
   * ending the poll (polling stops).
   */
  error: [err: SystemError | Error];
  /** After `close()`, once. */
  close: [];
}

/** Events of a {@link RawSocket}. */
export type RawSocketEvents = PolledSocketEvents<RawMessage>;
/** Events of a {@link NetlinkSocket} / {@link PacketSocket}. */
export type LinkSocketEvents<M> = PolledSocketEvents<M>;

/** What the addon's polled sockets (RawSocket, LinkSocket) have in common. */
interface NativePolledSocket {
  readonly fd: number;
  setOption(level: number, name: number, value: number | Buffer): void;
  getOption(level: number, name: number): number;
  recv(): unknown;
  start(callback: (err: Error | null, events: number) => void): void;
  stop(): void;
  close(): void;
}

/**
 * The lifetime, options and polling that {@link RawSocket}, {@link
 * NetlinkSocket} and {@link PacketSocket} share (as PolledSocket<T> in the
 * addon): M is what recv() returns, S the addon's object.
 */
abstract class PolledSocket<M, S extends NativePolledSocket> extends EventEmitter<PolledSocketEvents<M>> {
  protected readonly s: S;
  /** The prefix of argument errors: `rawSocket`, `linkSocket`. */
  readonly #what: string;
  #started = false;
  #closed = false;

  protected constructor(s: S, what: string) {
    super();
    this.s = s;
    this.#what = what;
  }

  /** The fd; -1 once closed. */
  get fd(): number {
    return this.s.fd;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** setsockopt with an int (int32) or a struct given as bytes. */
  setOption(level: number, name: number, value: number | Buffer): void {
    const w = this.#what;
    checkInt(`${w}.setOption: level`, level, 0, 0x7fffffff);
    checkInt(`${w}.setOption: name`, name, 0, 0x7fffffff);
    if (typeof value === 'number') checkInt(`${w}.setOption: value`, value, -0x80000000, 0xffffffff);
    else if (!Buffer.isBuffer(value)) throw new TypeError(`${w}.setOption: value must be a number or a Buffer`);
    // Values above 2^31 are passed as their int32 bit pattern (masks, marks).
    const v = typeof value === 'number' ? value | 0 : value;
    callNative(() => this.s.setOption(level, name, v));
  }

  /** getsockopt of an int option. */
  getOption(level: number, name: number): number {
    checkInt(`${this.#what}.getOption: level`, level, 0, 0x7fffffff);
    checkInt(`${this.#what}.getOption: name`, name, 0, 0x7fffffff);
    return callNative(() => this.s.getOption(level, name));
  }

  /** One queued datagram, or null (EAGAIN). For use without start(). */
  recv(): M | null {
    return callNative(() => this.s.recv()) as M | null;
  }

  /** Starts delivering `'message'` (and `'error'`) events; keeps the event loop alive meanwhile. Idempotent. */
  start(): void {
    if (this.#started) return;
    callNative(() => this.s.start((err, events) => this.#onPoll(err, events)));
    this.#started = true;
  }

  /** Stops the events; datagrams queue in the kernel meanwhile. Idempotent. */
  stop(): void {
    if (!this.#started) return;
    this.#started = false;
    if (!this.#closed) this.s.stop();
  }

  /** Closes the socket; emits `'close'` the first time. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#started = false;
    this.s.close();
    this.emit('close');
  }

  #onPoll(err: Error | null, events: number): void {
    if (err !== null) {
      // Polling ended for good unless this was a socket error (it goes on).
      if ((err as { syscall?: string }).syscall === 'uv_poll') this.#started = false;
      this.emit('error', toSystemError(err) as Error);
      return;
    }
    if (events === 0) return;
    for (let i = 0; i < MAX_BATCH && this.#started; i++) {
      let msg: M | null;
      try {
        msg = this.s.recv() as M | null;
      } catch (e) {
        this.emit('error', toSystemError(e) as Error);
        return;
      }
      if (msg === null) return;
      this.emit('message', msg);
    }
  }
}

/**
 * A raw (SOCK_RAW) or datagram (SOCK_DGRAM) IP socket: VRRP (protocol 112,
 * raw, multicast), ICMP echo (ping sockets: dgram + protocol 1/58), test
 * protocols. Non-blocking; received datagrams arrive as `'message'` events
 * between `start()` and `stop()`, read with recvmsg on the event loop.
 *
 * What a datagram holds: on an IPv4 raw socket the IP header and what follows;
 * on IPv6 raw sockets and on datagram sockets only the payload after the IP
 * header(s). On an IPv6 raw ICMPv6 socket the kernel computes the ICMPv6
 * checksum; for other IPv6 raw protocols set {@link SOCKOPT}.IPV6_CHECKSUM.
 *
 * Every method throws {@link SystemError} on a kernel failure (`code`
 * EPERM, ENODEV, EAGAIN, ...), TypeError / RangeError on bad arguments, and
 * `Error('rawSocket.<method>: socket is closed')` after close().
 */
export class RawSocket extends PolledSocket<RawMessage, NativeRawSocket> {
  /** The socket family. */
  readonly family: 4 | 6;
  /** `'raw'` or `'dgram'`. */
  readonly type: 'raw' | 'dgram';
  /** IP protocol number. */
  readonly protocol: number;

  /**
   * Opens the socket (in the calling thread's network namespace).
   * @param options family 4|6, type 'raw'|'dgram', protocol 0..255
   * @param Native the addon class (injectable for tests)
   * @throws SystemError EPERM/EACCES without the privilege (raw needs
   *   CAP_NET_RAW; ICMP dgram needs net.ipv4.ping_group_range to hold the gid)
   */
  constructor(options: RawSocketOptions, Native: NativeRawSocketCtor = native().RawSocket) {
    if (options.family !== 4 && options.family !== 6) throw new TypeError(`RawSocket: family must be 4 or 6, got ${String(options.family)}`);
    if (options.type !== 'raw' && options.type !== 'dgram') throw new TypeError(`RawSocket: type must be 'raw' or 'dgram', got ${String(options.type)}`);
    checkInt('RawSocket: protocol', options.protocol, 0, 255);
    super(
      callNative(() => new Native({ family: options.family, type: options.type, protocol: options.protocol })),
      'rawSocket',
    );
    this.family = options.family;
    this.type = options.type;
    this.protocol = options.protocol;
  }

  /**
   * SO_BINDTODEVICE: send and receive only through `name` (in the socket's
   * netns); `''` unbinds.
   * @throws SystemError ENODEV when there is no such device
   */
  bindToDevice(name: string): void {
    checkIfName('rawSocket.bindToDevice: name', name);
    callNative(() => this.s.bindToDevice(name));
  }

  /** SO_MARK (uint32) on what this socket sends; needs CAP_NET_ADMIN. */
  setMark(mark: number): void {
    checkInt('rawSocket.setMark: mark', mark, 0, 0xffffffff);
    callNative(() => this.s.setMark(mark));
  }

  /** Binds the local address (and port, for datagram protocols that have ports). */
  bind(address: string, port = 0): void {
    checkAddress('rawSocket.bind: address', this.family, address);
    checkInt('rawSocket.bind: port', port, 0, 65535);
    callNative(() => this.s.bind(address, port));
  }

  /**
   * Fixes the peer: send() may omit the address, only the peer's datagrams
   * are received, and (ping and UDP sockets) ICMP errors about what was sent
   * come back as `'error'` events (EHOSTUNREACH, ECONNREFUSED, ...).
   */
  connect(address: string, port = 0): void {
    checkAddress('rawSocket.connect: address', this.family, address);
    checkInt('rawSocket.connect: port', port, 0, 65535);
    callNative(() => this.s.connect(address, port));
  }

  /** getsockname: for an ICMP ping socket `port` is the echo identifier the kernel puts in requests. */
  localAddress(): { address: string; port: number } {
    return callNative(() => this.s.localAddress());
  }

  /** Joins `group` (224.0.0.0/4 or ff00::/8) on interface `ifindex` (0: by route). */
  joinMulticast(group: string, ifindex: number): void {
    this.#checkGroup('joinMulticast', group, ifindex);
    callNative(() => this.s.joinMulticast(group, ifindex));
  }

  /** Leaves a group joined with joinMulticast(). */
  leaveMulticast(group: string, ifindex: number): void {
    this.#checkGroup('leaveMulticast', group, ifindex);
    callNative(() => this.s.leaveMulticast(group, ifindex));
  }

  /** The interface multicast is sent from (0: by route). */
  setMulticastInterface(ifindex: number): void {
    checkInt('rawSocket.setMulticastInterface: ifindex', ifindex, 0, 0x7fffffff);
    callNative(() => this.s.setMulticastInterface(ifindex));
  }

  /** Whether this host's own multicast is looped back to its sockets (Linux default: on). */
  setMulticastLoop(on: boolean): void {
    if (typeof on !== 'boolean') throw new TypeError('rawSocket.setMulticastLoop: on must be a boolean');
    callNative(() => this.s.setMulticastLoop(on));
  }

  /** TTL (IPv4) or hop limit (IPv6) of what is sent, unicast and multicast; 1..255 (VRRP: 255). */
  setTtl(ttl: number): void {
    checkInt('rawSocket.setTtl: ttl', ttl, 1, 255);
    callNative(() => this.s.setTtl(ttl));
  }

  /** The IPv6 name of {@link setTtl}. */
  setHopLimit(hops: number): void {
    this.setTtl(hops);
  }

  /** Received messages carry `ttl` (IPv4 TTL / IPv6 hop limit as received). */
  enableRecvTtl(on = true): void {
    callNative(() => this.s.enableRecvTtl(on));
  }

  /** The IPv6 name of {@link enableRecvTtl}. */
  enableRecvHopLimit(on = true): void {
    this.enableRecvTtl(on);
  }

  /** Received messages carry `ifindex` and `destination`. */
  enableRecvPktInfo(on = true): void {
    callNative(() => this.s.enableRecvPktInfo(on));
  }

  /**
   * Sends one datagram now (never blocks, never queues).
   * @param address destination; omit on a connected socket
   * @param port destination port (datagram protocols with ports; 0 otherwise)
   * @returns bytes sent
   * @throws SystemError EAGAIN when the send buffer is full, ENETUNREACH, ...
   */
  send(data: Buffer, address?: string, port = 0): number {
    if (!Buffer.isBuffer(data)) throw new TypeError('rawSocket.send: data must be a Buffer');
    if (address === undefined) return callNative(() => this.s.send(data));
    checkAddress('rawSocket.send: address', this.family, address);
    checkInt('rawSocket.send: port', port, 0, 65535);
    return callNative(() => this.s.send(data, address, port));
  }

  #checkGroup(method: string, group: string, ifindex: number): void {
    checkAddress(`rawSocket.${method}: group`, this.family, group);
    if (!isMulticast(this.family, group.split('%')[0]!)) throw new RangeError(`rawSocket.${method}: ${group} is not a multicast group`);
    checkInt(`rawSocket.${method}: ifindex`, ifindex, 0, 0x7fffffff);
  }
}

/** Options of {@link tcpConnectFd}. */
export interface TcpConnectFdOptions extends TcpConnectOptions {
  /**
   * Aborts the connect (the fd is closed; the promise rejects with the
   * signal's reason). Timeouts are the caller's: `AbortSignal.timeout(ms)`.
   */
  signal?: AbortSignal;
}

function checkTcpOptions(o: TcpConnectOptions): void {
  if (o.family !== 4 && o.family !== 6) throw new TypeError(`tcpConnect: family must be 4 or 6, got ${String(o.family)}`);
  checkAddress('tcpConnect: address', o.family, o.address);
  checkInt('tcpConnect: port', o.port, 1, 65535);
  if (o.mark !== undefined) checkInt('tcpConnect: mark', o.mark, 0, 0xffffffff);
  if (o.device !== undefined) checkIfName('tcpConnect: device', o.device);
  if (o.bindAddress !== undefined) checkAddress('tcpConnect: bindAddress', o.family, o.bindAddress);
  if (o.bindPort !== undefined) {
    if (o.bindAddress === undefined) throw new TypeError('tcpConnect: bindPort needs bindAddress');
    checkInt('tcpConnect: bindPort', o.bindPort, 0, 65535);
  }
}

/**
 * Connects a TCP socket with what `net.connect()` cannot set first: SO_MARK
 * (`mark`), SO_BINDTODEVICE (`device`), and a bind address (with
 * IP_BIND_ADDRESS_NO_PORT, so probes bound to one address do not use up
 * ephemeral ports). Non-blocking: completion comes from uv_poll (writable)
 * and SO_ERROR, on the event loop.
 *
 * The fd is the caller's: close it with `fs.closeSync(fd)`, or hand it to
 * `new net.Socket({ fd, readable: true, writable: true })` (see
 * {@link connectSocket}), which then owns and closes it.
 *
 * @param options peer, mark, device, bind address; `signal` to abort
 * @param Native the addon class (injectable for tests)
 * @returns the connected fd (non-blocking, close-on-exec)
 * @throws SystemError ECONNREFUSED, ETIMEDOUT (kernel SYN retries, minutes),
 *   EHOSTUNREACH, ENETUNREACH, ENODEV (device), EADDRNOTAVAIL (bindAddress),
 *   EPERM (mark without CAP_NET_ADMIN), ...; the signal's reason on abort;
 *   TypeError / RangeError on bad options
 */
export function tcpConnectFd(options: TcpConnectFdOptions, Native: NativeTcpConnectCtor = native().TcpConnect): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const { signal } = options;
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const opts: TcpConnectOptions = { family: options.family, address: options.address, port: options.port };
    if (options.mark !== undefined) opts.mark = options.mark;
    if (options.device !== undefined) opts.device = options.device;
    if (options.bindAddress !== undefined) opts.bindAddress = options.bindAddress;
    if (options.bindPort !== undefined) opts.bindPort = options.bindPort;
    let onAbort: (() => void) | undefined;
    try {
      checkTcpOptions(opts);
      const pending = new Native(opts, (err, fd) => {
        if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
        if (err !== null) reject(toSystemError(err));
        else resolve(fd!);
      });
      if (signal !== undefined) {
        onAbort = (): void => {
          pending.cancel();
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }
    } catch (e) {
      reject(toSystemError(e));
    }
  });
}

/**
 * {@link tcpConnectFd}, wrapped in a `net.Socket` that owns the fd.
 *
 * Verified on Node 20 (test/bpf/socket.test.ts): `new net.Socket({ fd,
 * readable: true, writable: true })` on the connected fd reads and writes
 * like a `net.connect()` socket, reports remoteAddress/remotePort, and closes
 * the fd on `destroy()`/`end()`. Both flags are needed: with an fd, Node
 * makes the socket neither readable nor writable by default. The socket never
 * emits `'connect'` (it is connected already).
 *
 * @param options as tcpConnectFd
 * @param Native the addon class (injectable for tests)
 * @returns a connected socket
 */
export async function connectSocket(options: TcpConnectFdOptions, Native: NativeTcpConnectCtor = native().TcpConnect): Promise<Socket> {
  const fd = await tcpConnectFd(options, Native);
  try {
    return new Socket({ fd, readable: true, writable: true });
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/**
 * One check's connect options (as {@link tcpConnectFd}'s), checked and
 * parsed once: each {@link ProbeEngine.connect} of it parses no address.
 */
export class TcpTarget {
  /** The addon's object, for the engine. */
  readonly native: NativeTcpTarget;

  /** @throws TypeError / RangeError on bad options */
  constructor(options: TcpConnectOptions, Native: NativeTcpTargetCtor = native().TcpTarget) {
    checkTcpOptions(options);
    this.native = callNative(() => new Native(options));
  }
}

/** What a {@link ProbeEngine} connection reports, each from the event loop. */
export interface ProbeConnectionHandlers {
  /** The handshake finished: writes may start. */
  connected(): void;
  /**
   * Bytes read: a view into the engine's batch buffer, valid during this
   * call only (copy what is kept). `last`: the peer's FIN came after them
   * (no `end()` follows).
   */
  data(bytes: Buffer, last: boolean): void;
  /** The peer's FIN: nothing more will be read. */
  end(): void;
  /** The connect or the connection failed (a SystemError); the connection is closed already. */
  error(err: Error): void;
}

/**
 * The health checker's TCP connections (tcp checks, http without TLS) on
 * the addon's ProbeEngine: one epoll fd for all of them and one call into JS
 * per turn of the event loop with every event it found, where an object
 * per connection (the TcpStream it replaced) cost an object, a poll handle
 * and a call into JS per connection and event. A connection is a number;
 * no handler of it runs after close() or error().
 */
export class ProbeEngine {
  readonly #e: NativeProbeEngine;
  readonly #handlers = new Map<number, ProbeConnectionHandlers>();

  constructor(Native: NativeProbeEngineCtor = native().ProbeEngine) {
    this.#e = callNative(() => new Native(this.#onBatch));
  }

  /** Connections open (the addon's count). */
  get open(): number {
    return this.#e.open;
  }

  /**
   * Starts a connect to `target`; `handlers` get its events.
   * @returns the connection's id
   * @throws SystemError for an immediate failure (ENETUNREACH, ENODEV,
   *   EADDRNOTAVAIL, EPERM for a mark...)
   */
  connect(target: TcpTarget, handlers: ProbeConnectionHandlers): number {
    let id: number;
    try {
      id = this.#e.connect(target.native);
    } catch (e) {
      throw toSystemError(e);
    }
    this.#handlers.set(id, handlers);
    return id;
  }

  /**
   * Sends `data`: what the socket takes now, the rest when it is writable.
   * @throws SystemError EPIPE, ECONNRESET...; Error when not connected or closed
   */
  write(id: number, data: Buffer): void {
    try {
      this.#e.write(id, data);
    } catch (e) {
      throw toSystemError(e);
    }
  }

  /**
   * Closes the connection; no handler runs after this. Unknown ids are ignored.
   * @param reset send RST rather than FIN (SO_LINGER 0): no TIME_WAIT is
   *   left on this host. Ignored while the connect is pending.
   */
  close(id: number, reset = false): void {
    if (!this.#handlers.delete(id)) return;
    this.#e.close(id, reset);
  }

  readonly #onBatch = (count: number, errors: unknown[] | undefined): void => {
    const ev = this.#e.events;
    const data = this.#e.data;
    for (let i = 0; i < count; i++) {
      const id = ev[i * 4]!;
      const h = this.#handlers.get(id);
      if (h === undefined) continue; // closed earlier in this batch
      try {
        this.#dispatch(h, id, ev[i * 4 + 1]!, ev[i * 4 + 2]!, ev[i * 4 + 3]!, data, errors);
      } catch (err) {
        // as a callback of its own would: uncaught, and the rest of the batch still runs
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  };

  #dispatch(h: ProbeConnectionHandlers, id: number, kind: number, a: number, b: number, data: Buffer, errors: unknown[] | undefined): void {
    switch (kind) {
      case PROBE_EVENT.CONNECTED:
        h.connected();
        break;
      case PROBE_EVENT.DATA:
        h.data(data.subarray(a, a + b), false);
        break;
      case PROBE_EVENT.DATA_END:
        h.data(data.subarray(a, a + b), true);
        break;
      case PROBE_EVENT.END:
        h.end();
        break;
      default:
        this.#handlers.delete(id);
        h.error(toSystemError(errors![a]) as Error);
    }
  }
}

let engine: ProbeEngine | undefined;

/** The thread's ProbeEngine, made on first use (it holds nothing while idle). */
export function probeEngine(): ProbeEngine {
  engine ??= new ProbeEngine();
  return engine;
}

// ------------------------------------------------------------ link sockets

/** Netlink protocols (linux/netlink.h) and the SOL_NETLINK options xlb uses. */
export const NETLINK = {
  /** Routing and link configuration (rtnetlink(7)). */
  ROUTE: 0,
  /** Option level of the options below. */
  SOL_NETLINK: 270,
  /** int: join multicast group n (1-based group number, any n; RTMGRP_* masks cover only 1..32). */
  ADD_MEMBERSHIP: 1,
  /** int: leave multicast group n. */
  DROP_MEMBERSHIP: 2,
  /** int: do not report receive-queue overruns (ENOBUFS). xlb leaves this off: a lost event must be seen. */
  NO_ENOBUFS: 5,
  /** int: error acks carry only the request's header, not its payload (NLM_F_CAPPED). */
  CAP_ACK: 10,
  /** int: error acks carry extended-ack TLVs: a message, the offending attribute's offset (NLM_F_ACK_TLVS). */
  EXT_ACK: 11,
  /** int: strict checking of dump requests (kernel-side filters). */
  GET_STRICT_CHK: 12,
} as const;

/** Ethertypes (linux/if_ether.h), host order. */
export const ETH_P = {
  /** Every protocol (receive only). */
  ALL: 0x0003,
  IP: 0x0800,
  ARP: 0x0806,
  IPV6: 0x86dd,
} as const;

/** `pktType` of a received frame (linux/if_packet.h). */
export const PACKET_TYPE = {
  /** To this host. */
  HOST: 0,
  /** To the link-layer broadcast address. */
  BROADCAST: 1,
  /** To a link-layer multicast address. */
  MULTICAST: 2,
  /** To another host (promiscuous). */
  OTHERHOST: 3,
  /** Sent by this host (seen on the way out). */
  OUTGOING: 4,
} as const;

/** Largest link-layer address a sockaddr_ll holds (sll_addr), bytes. */
const LINK_ADDR_MAX = 8;

/** The addon's LinkSocket class (binding.ts checks at load that the addon has it). */
export function nativeLinkSocket(): NativeLinkSocketCtor {
  return native().LinkSocket;
}

/** Options of {@link NetlinkSocket}. */
export interface NetlinkSocketOptions {
  /** Netlink protocol; default {@link NETLINK}.ROUTE. */
  protocol?: number;
  /** Legacy multicast group mask to bind with (RTMGRP_* in src/net/rtnetlink.ts); default 0 (none). */
  groups?: number;
}

/**
 * An AF_NETLINK socket, bound at construction (the kernel assigns the port
 * id, {@link NetlinkSocket.pid}) to `groups`. Messages are built and parsed by
 * src/net/rtnetlink.ts; this class only moves datagrams. It belongs to the
 * network namespace of the thread that constructed it: everything it asks
 * the kernel, it asks about that namespace.
 *
 * Every method throws {@link SystemError} on a kernel failure, TypeError /
 * RangeError on bad arguments, and `Error('linkSocket.<method>: socket is
 * closed')` after close().
 */
export class NetlinkSocket extends PolledSocket<NetlinkDatagram, NativeLinkSocket> {
  /** The netlink protocol. */
  readonly protocol: number;
  /** The port id the kernel assigned (the `nlmsg_pid` of replies to this socket). */
  readonly pid: number;

  /**
   * Opens and binds the socket.
   * @param options protocol (default NETLINK_ROUTE) and group mask (default 0)
   * @param Native the addon class (injectable for tests)
   * @throws SystemError EPERM when binding to groups that need CAP_NET_ADMIN, EPROTONOSUPPORT
   */
  constructor(options: NetlinkSocketOptions = {}, Native?: NativeLinkSocketCtor) {
    const protocol = options.protocol ?? NETLINK.ROUTE;
    const groups = options.groups ?? 0;
    checkInt('NetlinkSocket: protocol', protocol, 0, 31);
    checkInt('NetlinkSocket: groups', groups, 0, 0xffffffff);
    const Ctor = Native ?? nativeLinkSocket();
    const s = callNative(() => new Ctor({ domain: 'netlink', protocol }));
    try {
      callNative(() => s.bindNetlink(0, groups));
    } catch (e) {
      s.close();
      throw e;
    }
    super(s, 'linkSocket');
    this.protocol = protocol;
    this.pid = (callNative(() => s.localAddress()) as { pid: number }).pid;
  }

  /** Joins multicast group number `group` (1-based; NETLINK_ADD_MEMBERSHIP), e.g. RTNLGRP_LINK = 1. */
  addMembership(group: number): void {
    checkInt('netlinkSocket.addMembership: group', group, 1, 0xffffffff);
    this.setOption(NETLINK.SOL_NETLINK, NETLINK.ADD_MEMBERSHIP, group);
  }

  /** Leaves multicast group number `group` (NETLINK_DROP_MEMBERSHIP). */
  dropMembership(group: number): void {
    checkInt('netlinkSocket.dropMembership: group', group, 1, 0xffffffff);
    this.setOption(NETLINK.SOL_NETLINK, NETLINK.DROP_MEMBERSHIP, group);
  }

  /**
   * Sends one datagram (one or more netlink messages) to the kernel, or to
   * port id `pid` / multicast `groups` (sending to groups needs privilege).
   * Never blocks.
   * @returns bytes sent
   * @throws SystemError EAGAIN, ENOBUFS, ECONNREFUSED (no such port), ...
   */
  send(data: Buffer, pid = 0, groups = 0): number {
    if (!Buffer.isBuffer(data)) throw new TypeError('netlinkSocket.send: data must be a Buffer');
    checkInt('netlinkSocket.send: pid', pid, 0, 0xffffffff);
    checkInt('netlinkSocket.send: groups', groups, 0, 0xffffffff);
    return callNative(() => this.s.sendNetlink(data, pid, groups));
  }
}

/** Options of {@link PacketSocket}. */
export interface PacketSocketOptions {
  /** `'dgram'` (default): the kernel adds/strips the link-layer header; `'raw'`: whole frames. */
  type?: 'dgram' | 'raw';
  /**
   * Ethertype to RECEIVE (host order, e.g. {@link ETH_P}.ARP); default 0:
   * receive nothing, the right choice for a send-only socket (nothing queues
   * up unread). Sending takes its ethertype per call.
   */
  protocol?: number;
  /** Receive only frames of this interface (bind); default: any interface. */
  ifindex?: number;
}

/** Where {@link PacketSocket.send} sends a frame. */
export interface PacketDestination {
  /** Outgoing interface (in the socket's netns). */
  ifindex: number;
  /** Destination link-layer address (6 bytes on Ethernet); unused on a raw socket. */
  destination: Buffer;
  /** Ethertype, host order (e.g. {@link ETH_P}.ARP, {@link ETH_P}.IPV6). */
  protocol: number;
}

/**
 * An AF_PACKET socket: frames to and from an interface by index, below IP.
 * On a `'dgram'` socket the kernel builds the Ethernet header from the
 * destination address, the interface's own MAC and the ethertype; received
 * frames come without it (the source MAC is in `address`). The socket is
 * opened with protocol 0 and then bound (when `protocol` or `ifindex` is
 * given), so it never receives frames of other interfaces in between.
 * Needs CAP_NET_RAW. Belongs to the netns of the constructing thread.
 */
export class PacketSocket extends PolledSocket<PacketFrame, NativeLinkSocket> {
  /** `'dgram'` or `'raw'`. */
  readonly type: 'dgram' | 'raw';
  /** Ethertype received (0: none). */
  readonly protocol: number;

  /**
   * @param options type, receive ethertype, interface
   * @param Native the addon class (injectable for tests)
   * @throws SystemError EPERM without CAP_NET_RAW; ENODEV for a missing ifindex
   */
  constructor(options: PacketSocketOptions = {}, Native?: NativeLinkSocketCtor) {
    const type = options.type ?? 'dgram';
    const protocol = options.protocol ?? 0;
    if (type !== 'dgram' && type !== 'raw') throw new TypeError(`PacketSocket: type must be 'dgram' or 'raw', got ${String(type)}`);
    checkInt('PacketSocket: protocol', protocol, 0, 0xffff);
    if (options.ifindex !== undefined) checkInt('PacketSocket: ifindex', options.ifindex, 1, 0x7fffffff);
    const Ctor = Native ?? nativeLinkSocket();
    const s = callNative(() => new Ctor({ domain: 'packet', type, protocol: 0 }));
    if (protocol !== 0 || options.ifindex !== undefined) {
      try {
        callNative(() => s.bindPacket(options.ifindex ?? 0, protocol));
      } catch (e) {
        s.close();
        throw e;
      }
    }
    super(s, 'linkSocket');
    this.type = type;
    this.protocol = protocol;
  }

  /** getsockname: the bound interface and ethertype (and the interface's address). */
  localAddress(): PacketAddress {
    return callNative(() => this.s.localAddress()) as PacketAddress;
  }

  /**
   * Sends one frame now (never blocks, never queues).
   * @param data dgram: the payload after the link-layer header (e.g. an ARP
   *   packet, an IPv6 packet); raw: the whole frame
   * @param to interface, destination address, ethertype
   * @returns bytes sent
   * @throws SystemError ENXIO / ENODEV (no such interface), ENETDOWN (down),
   *   EMSGSIZE (above the MTU), EAGAIN, ...
   */
  send(data: Buffer, to: PacketDestination): number {
    if (!Buffer.isBuffer(data)) throw new TypeError('packetSocket.send: data must be a Buffer');
    checkInt('packetSocket.send: ifindex', to.ifindex, 1, 0x7fffffff);
    if (!Buffer.isBuffer(to.destination) || to.destination.length > LINK_ADDR_MAX) {
      throw new TypeError(`packetSocket.send: destination must be a Buffer of at most ${LINK_ADDR_MAX} bytes`);
    }
    checkInt('packetSocket.send: protocol', to.protocol, 1, 0xffff);
    return callNative(() => this.s.sendPacket(data, to.ifindex, to.destination, to.protocol));
  }
}
