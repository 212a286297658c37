/**
 * An rtnetlink client: add and delete interface addresses, list links and
 * addresses, and watch link and address changes. What VRRP needs to move
 * virtual addresses (keepalived.md §1.6, §1.18).
 *
 * Layer: runner (H-29). It owns two netlink sockets and the request timers,
 * and reports through typed events; the bytes are net/rtnetlink.ts's, the
 * values it reports and the request messages it sends net/link-addr.ts's.
 * - Requests go out one at a time on a socket bound to no group, each with
 *   its own sequence number, NLM_F_ACK, and a timeout; a request settles on
 *   its ACK (NLMSG_ERROR with error 0), an error (rejecting with a
 *   {@link SystemError} whose `code` is the errno name: EEXIST,
 *   EADDRNOTAVAIL, ENODEV, ...), or for dumps (NLM_F_DUMP) on NLMSG_DONE.
 *   One at a time because the kernel runs one dump per socket (EBUSY
 *   otherwise), and because address changes are few.
 * - Events come from a second socket bound to RTMGRP_LINK,
 *   RTMGRP_IPV4_IFADDR and RTMGRP_IPV6_IFADDR, so a burst of notifications
 *   can never delay or drop a reply. An overrun there (ENOBUFS: events were
 *   lost) is emitted as `'error'` with that code; resynchronise with
 *   {@link NetlinkClient.links} / {@link NetlinkClient.addresses}.
 * - Only datagrams from the kernel (port id 0) are read.
 *
 * Namespaces: both sockets are opened by {@link NetlinkClient.start} in the
 * network namespace of the calling thread, and keep talking to it: start()
 * inside `enterNetns()` ... `restoreNetns()` to manage another namespace (the
 * daemon simply runs inside its own).
 *
 * @module io/netlink-client
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { SystemError } from '../errors.js';
import { NETLINK, NetlinkSocket, type NetlinkDatagram, type NetlinkSocketOptions } from '../native/socket.js';
import { addressMessage, checkInt, messageTypeName, IFNAME_MAX, netlinkError, toAddressInfo, toLinkInfo, type AddressInfo, type AddressRef, type AddressSpec, type LinkInfo } from '../net/link-addr.js';
import { decodeNsIdMsg, encodeNsIdMsg, NSID_NOT_ASSIGNED, RTM_NSID } from '../net/netns-id.js';
import { decodeRouteMsg, encodeRouteMsg, routeQuery, RTM_ROUTE, type RouteMsg } from '../net/route-get.js';
import { decodeNeighMsg, encodeNeighDumpRequest, RTM_NEIGH, type NeighMsg } from '../net/neigh.js';
import {
  AF,
  decodeNlMsgs,
  decodeRtMessage,
  encodeIfAddrMsg,
  encodeIfInfoMsg,
  encodeNlMsg,
  NLM_F,
  RTM,
  RTMGRP,
  type IfAddrMsg,
  type IfInfoMsg,
  type NlMsg,
  type NlMsgErr,
  type RtMessage,
} from '../net/rtnetlink.js';

export type { AddressInfo, AddressRef, AddressSpec, LinkInfo } from '../net/link-addr.js';

/** Tracer name (H-40). */
export const TRACER = 'netlink';

/** Default time a request may take before it rejects with ETIMEDOUT, ms. The kernel answers rtnetlink requests synchronously, so this only fires if a reply was lost. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5000;
/** Times a dump is restarted when the kernel flags it inconsistent (NLM_F_DUMP_INTR). */
const DUMP_RETRIES = 5;
/** Receive buffer of the event socket, bytes: room for a burst of notifications (the kernel doubles it). */
const EVENT_RCVBUF = 1 << 20;

/**
 * A `'link'` event: every RTM_NEWLINK / RTM_DELLINK of a device (family
 * AF_UNSPEC), whatever changed; compare `link.up` with the last value seen
 * to act on up/down transitions only.
 */
export interface LinkEvent {
  /** RTM_NEWLINK (created or changed: flags, state, name...) or RTM_DELLINK (gone). */
  action: 'new' | 'del';
  /** The link as the message describes it. */
  link: LinkInfo;
}

/** An `'address'` event. */
export interface AddressEvent {
  /** RTM_NEWADDR (added or changed, e.g. DAD finished) or RTM_DELADDR. */
  action: 'new' | 'del';
  /** The address. */
  address: AddressInfo;
}

/** Events of a {@link NetlinkClient}. */
export interface NetlinkClientEvents {
  /** A link changed (after start(), with events on). */
  link: [event: LinkEvent];
  /** An address was added, changed or removed. */
  address: [event: AddressEvent];
  /** An asynchronous failure: an event-socket overrun (code ENOBUFS: resynchronise), an undecodable notification, a socket failure. */
  error: [err: Error];
}

/** The socket surface the client uses; {@link NetlinkSocket} implements it (tests pass fakes). */
export interface NetlinkTransport {
  /** Port id the kernel assigned. */
  readonly pid: number;
  /** Sends one datagram to the kernel. */
  send(data: Buffer): number;
  setOption(level: number, name: number, value: number | Buffer): void;
  start(): void;
  stop(): void;
  close(): void;
  on(event: 'message', fn: (msg: NetlinkDatagram) => void): unknown;
  on(event: 'error', fn: (err: Error) => void): unknown;
}

/** Opens a transport; `groups` is the RTMGRP_* mask (0 for the request socket). */
export type NetlinkTransportFactory = (options: Required<Pick<NetlinkSocketOptions, 'groups'>>) => NetlinkTransport;

/** Options of {@link NetlinkClient}. */
export interface NetlinkClientOptions {
  /** Listen for link and address changes (a second socket). Default true. */
  events?: boolean;
  /** Groups the event socket joins. Default RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR. */
  groups?: number;
  /** Request timeout, ms. Default {@link DEFAULT_REQUEST_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Opens the sockets (tests inject fakes). Default: {@link NetlinkSocket} on NETLINK_ROUTE. */
  transport?: NetlinkTransportFactory;
  /** Debug traces of requests, replies and restarted dumps (H-39); failures go to the promise or `'error'`, not here. */
  log?: Pick<Logger, 'debug'>;
}

/** One request in the queue. */
interface Pending {
  type: number;
  flags: number;
  payload: Buffer;
  dump: boolean;
  /** What the request was about, for error messages ("10.0.0.1/24 on ifindex 5"). */
  detail: string;
  resolve: (msgs: RtMessage[]) => void;
  reject: (err: Error) => void;
  seq?: number;
  replies?: RtMessage[];
  timer?: ReturnType<typeof setTimeout>;
  retries?: number;
}

const defaultTransport: NetlinkTransportFactory = ({ groups }) => new NetlinkSocket({ protocol: NETLINK.ROUTE, groups });


/**
 * rtnetlink client (see the module comment). Like any EventEmitter it
 * throws an `'error'` event nobody listens to: attach a listener when events
 * are on. Typical use:
 * ```ts
 * const nl = new NetlinkClient();
 * nl.on('link', (e) => ...); nl.on('address', (e) => ...); nl.on('error', ...);
 * nl.start();
 * await nl.addAddress({ ifindex, address: '192.0.2.10', prefixLength: 24, label: 'eth0:vip' });
 * nl.stop();
 * ```
 */
export class NetlinkClient extends EventEmitter<NetlinkClientEvents> {
  readonly #events: boolean;
  readonly #groups: number;
  readonly #timeoutMs: number;
  readonly #open: NetlinkTransportFactory;
  readonly #log: Pick<Logger, 'debug'> | undefined;
  #req: NetlinkTransport | undefined;
  #ev: NetlinkTransport | undefined;
  #seq = Math.floor(Math.random() * 0x7fffffff) >>> 0;
  readonly #queue: Pending[] = [];
  #current: Pending | undefined;

  /**
   * @param options events on/off, groups, timeout, transport factory
   */
  constructor(options: NetlinkClientOptions = {}) {
    super();
    this.#events = options.events ?? true;
    this.#groups = options.groups ?? RTMGRP.LINK | RTMGRP.IPV4_IFADDR | RTMGRP.IPV6_IFADDR;
    checkInt('NetlinkClient: groups', this.#groups, 0, 0xffffffff);
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    checkInt('NetlinkClient: timeoutMs', this.#timeoutMs, 1, 0x7fffffff);
    this.#open = options.transport ?? defaultTransport;
    this.#log = options.log;
  }

  /** Whether start() ran and stop() did not. */
  get started(): boolean {
    return this.#req !== undefined;
  }

  /**
   * Opens the sockets in the CALLING thread's network namespace and starts
   * the events. Idempotent.
   * @throws SystemError when a socket cannot be opened or bound
   */
  start(): void {
    if (this.#req !== undefined) return;
    const req = this.#open({ groups: 0 });
    try {
      // Best effort: error acks with the kernel's reason and without the echoed request.
      for (const opt of [NETLINK.EXT_ACK, NETLINK.CAP_ACK]) {
        try {
          req.setOption(NETLINK.SOL_NETLINK, opt, 1);
        } catch {
          /* older kernel: plain acks */
        }
      }
      req.on('message', (m) => this.#onReply(m));
      req.on('error', (err) => this.#onRequestSocketError(err));
      if (this.#events) {
        const ev = this.#open({ groups: this.#groups });
        try {
          ev.setOption(1 /* SOL_SOCKET */, 8 /* SO_RCVBUF */, EVENT_RCVBUF);
        } catch {
          /* keep the default */
        }
        ev.on('message', (m) => this.#onEvent(m));
        ev.on('error', (err) => this.emit('error', err));
        ev.start();
        this.#ev = ev;
      }
    } catch (e) {
      req.close();
      throw e;
    }
    this.#req = req;
  }

  /**
   * Closes the sockets; pending and queued requests reject with
   * `Error('netlink: client stopped')`. Idempotent.
   */
  stop(): void {
    const req = this.#req;
    if (req === undefined) return;
    this.#req = undefined;
    this.#ev?.close();
    this.#ev = undefined;
    req.close();
    const all = [...(this.#current ? [this.#current] : []), ...this.#queue.splice(0)];
    this.#current = undefined;
    for (const p of all) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(new Error('netlink: client stopped'));
    }
  }

  /**
   * Adds an address (RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL).
   * @throws SystemError EEXIST (already there), ENODEV (no such ifindex), EPERM, EINVAL...
   * @throws TypeError / RangeError on a bad spec (label or broadcast on IPv6, nodad on IPv4, ranges)
   */
  async addAddress(spec: AddressSpec): Promise<void> {
    const v = addressMessage(spec, true);
    await this.#request(RTM.NEWADDR, NLM_F.CREATE | NLM_F.EXCL, encodeIfAddrMsg(v), false, `${spec.address}/${spec.prefixLength} on ifindex ${spec.ifindex}`);
  }

  /**
   * Deletes an address (RTM_DELADDR).
   * @throws SystemError EADDRNOTAVAIL (not there, or another prefix length), ENODEV...
   */
  async deleteAddress(ref: AddressRef): Promise<void> {
    const v = addressMessage(ref, false);
    await this.#request(RTM.DELADDR, 0, encodeIfAddrMsg(v), false, `${ref.address}/${ref.prefixLength} on ifindex ${ref.ifindex}`);
  }

  /** Every link (RTM_GETLINK dump). */
  async links(): Promise<LinkInfo[]> {
    const v: IfInfoMsg = { family: AF.UNSPEC, type: 0, index: 0, flags: 0, change: 0, attrs: {} };
    const msgs = await this.#request(RTM.GETLINK, NLM_F.DUMP, encodeIfInfoMsg(v), true, 'links');
    return msgs.flatMap((m) => (m.kind === 'link' && m.header.type === RTM.NEWLINK && m.value.family === AF.UNSPEC ? [toLinkInfo(m.value)] : []));
  }

  /**
   * One link by index or name (RTM_GETLINK).
   * @throws SystemError ENODEV when there is no such link
   */
  async link(ifindexOrName: number | string): Promise<LinkInfo> {
    const v: IfInfoMsg = { family: AF.UNSPEC, type: 0, index: 0, flags: 0, change: 0, attrs: {} };
    if (typeof ifindexOrName === 'number') {
      checkInt('link: ifindex', ifindexOrName, 1, 0x7fffffff);
      v.index = ifindexOrName;
    } else {
      if (typeof ifindexOrName !== 'string' || ifindexOrName.length === 0 || Buffer.byteLength(ifindexOrName) > IFNAME_MAX) {
        throw new RangeError(`link: name must be 1..${IFNAME_MAX} bytes, got ${JSON.stringify(ifindexOrName)}`);
      }
      v.attrs.ifname = ifindexOrName;
    }
    const msgs = await this.#request(RTM.GETLINK, 0, encodeIfInfoMsg(v), false, `link ${ifindexOrName}`);
    const found = msgs.find((m): m is Extract<RtMessage, { kind: 'link' }> => m.kind === 'link');
    if (found === undefined) throw netlinkError(-19 /* ENODEV */, RTM.GETLINK, `link ${ifindexOrName}`);
    return toLinkInfo(found.value);
  }

  /**
   * Every IPv4 and IPv6 address (RTM_GETADDR dump), optionally of one
   * interface and/or one family (filtered here: the kernel filters only with
   * strict checking).
   */
  async addresses(filter: { ifindex?: number; family?: 4 | 6 } = {}): Promise<AddressInfo[]> {
    if (filter.ifindex !== undefined) checkInt('addresses: ifindex', filter.ifindex, 1, 0x7fffffff);
    if (filter.family !== undefined && filter.family !== 4 && filter.family !== 6) throw new TypeError('addresses: family must be 4 or 6');
    const family = filter.family === 4 ? AF.INET : filter.family === 6 ? AF.INET6 : AF.UNSPEC;
    const v: IfAddrMsg = { family, prefixLength: 0, flags: 0, scope: 0, index: 0, attrs: {} };
    const msgs = await this.#request(RTM.GETADDR, NLM_F.DUMP, encodeIfAddrMsg(v), true, 'addresses');
    const out: AddressInfo[] = [];
    for (const m of msgs) {
      if (m.kind !== 'addr' || m.header.type !== RTM.NEWADDR) continue;
      const a = toAddressInfo(m.value);
      if (a === null) continue;
      if (filter.ifindex !== undefined && a.ifindex !== filter.ifindex) continue;
      if (filter.family !== undefined && a.family !== filter.family) continue;
      out.push(a);
    }
    return out;
  }

  /**
   * The id this client's namespace gave the namespace behind `fd` (an open
   * /run/netns/NAME or /proc/PID/ns/net), as links report it in
   * IFLA_LINK_NETNSID (RTM_GETNSID with NETNSA_FD). Asking assigns nothing.
   * @returns the id, or null when none is assigned
   * @throws SystemError EBADF / EINVAL (fd is no namespace)...
   */
  async netnsId(fd: number): Promise<number | null> {
    checkInt('netnsId: fd', fd, 0, 0x7fffffff);
    const msgs = await this.#request(RTM_NSID.GETNSID, 0, encodeNsIdMsg({ family: AF.UNSPEC, fd }), false, `netns of fd ${fd}`);
    for (const m of msgs) {
      if (m.kind !== 'other' || m.header.type !== RTM_NSID.NEWNSID) continue;
      const nsid = decodeNsIdMsg(m.payload).value.nsid;
      return nsid === undefined || nsid === NSID_NOT_ASSIGNED ? null : nsid;
    }
    return null;
  }

  /**
   * The route a packet to `address` takes (RTM_GETROUTE without NLM_F_DUMP:
   * the kernel's own FIB lookup, as bpf_fib_lookup does it).
   * @returns the answer: `oif` the output interface, `gateway` the next hop if not on-link
   * @throws SystemError ENETUNREACH (no route), EHOSTUNREACH...; TypeError on a bad address
   */
  async route(address: string): Promise<RouteMsg> {
    const msgs = await this.#request(RTM_ROUTE.GETROUTE, 0, encodeRouteMsg(routeQuery(address)), false, `route to ${address}`);
    for (const m of msgs) if (m.kind === 'other' && m.header.type === RTM_ROUTE.NEWROUTE) return decodeRouteMsg(m.payload).value;
    throw netlinkError(-101 /* ENETUNREACH */, RTM_ROUTE.GETROUTE, `route to ${address}: no answer`);
  }

  /**
   * The neighbour entries of a family (RTM_GETNEIGH dump), optionally of one
   * interface (filtered here).
   */
  async neighbours(family: 4 | 6, ifindex?: number): Promise<NeighMsg[]> {
    const msgs = await this.#request(RTM_NEIGH.GETNEIGH, NLM_F.DUMP, encodeNeighDumpRequest(family), true, `IPv${family} neighbours`);
    const out: NeighMsg[] = [];
    for (const m of msgs) {
      if (m.kind !== 'other' || m.header.type !== RTM_NEIGH.NEWNEIGH) continue;
      const n = decodeNeighMsg(m.payload).value;
      if (ifindex === undefined || n.ifindex === ifindex) out.push(n);
    }
    return out;
  }

  // --- requests ----------------------------------------------------------------

  #request(type: number, flags: number, payload: Buffer, dump: boolean, detail: string): Promise<RtMessage[]> {
    return new Promise<RtMessage[]>((resolve, reject) => {
      if (this.#req === undefined) {
        reject(new Error('netlink: client not started'));
        return;
      }
      this.#queue.push({ type, flags, payload, dump, detail, resolve, reject });
      this.#next();
    });
  }

  /** Sends the next queued request if none is in flight. */
  #next(): void {
    const req = this.#req;
    if (this.#current !== undefined || req === undefined) return;
    const p = this.#queue.shift();
    if (p === undefined) {
      req.stop(); // idle: the request socket does not keep the event loop alive
      return;
    }
    this.#current = p;
    this.#seq = (this.#seq + 1) >>> 0;
    p.seq = this.#seq;
    p.replies = [];
    const msg: NlMsg = { type: p.type, flags: NLM_F.REQUEST | NLM_F.ACK | p.flags, seq: p.seq, pid: 0, payload: p.payload };
    this.#log?.debug({ tracer: TRACER, seq: p.seq, type: messageTypeName(p.type), detail: p.detail }, 'netlink request');
    try {
      req.start();
      req.send(encodeNlMsg(msg));
    } catch (e) {
      this.#settle(p, e as Error);
      return;
    }
    p.timer = setTimeout(() => {
      this.#settle(p, new SystemError('ETIMEDOUT', `${`RTM_${messageTypeName(p.type)}`} failed: no reply within ${this.#timeoutMs} ms (${p.detail})`, { errno: -110, syscall: `RTM_${messageTypeName(p.type)}` }));
    }, this.#timeoutMs);
  }

  /** Ends the current request with `err` or its replies, and moves on. */
  #settle(p: Pending, err: Error | null): void {
    if (this.#current !== p) return;
    this.#current = undefined;
    if (p.timer) clearTimeout(p.timer);
    this.#log?.debug({ tracer: TRACER, seq: p.seq, type: messageTypeName(p.type), ok: err === null, code: (err as { code?: string } | null)?.code }, 'netlink reply');
    if (err !== null) p.reject(err);
    else p.resolve(p.replies ?? []);
    this.#next();
  }

  #onRequestSocketError(err: Error): void {
    // ENOBUFS here means a reply may be lost: fail the request in flight
    // rather than wait for its timeout.
    const p = this.#current;
    if (p !== undefined) this.#settle(p, err);
    else this.emit('error', err);
  }

  #onReply(dg: NetlinkDatagram): void {
    if (dg.pid !== 0) return; // only the kernel answers requests
    const p = this.#current;
    let msgs: NlMsg[];
    try {
      msgs = decodeNlMsgs(dg.data);
    } catch (e) {
      if (p !== undefined) this.#settle(p, e as Error);
      else this.emit('error', e as Error);
      return;
    }
    for (const m of msgs) {
      if (p === undefined || this.#current !== p || m.seq !== p.seq) {
        this.#log?.debug({ tracer: TRACER, seq: m.seq, type: messageTypeName(m.type) }, 'netlink reply to no pending request ignored');
        continue; // e.g. late reply of a timed-out request, rest of an interrupted dump
      }
      let rt: RtMessage;
      try {
        rt = decodeRtMessage(m);
      } catch (e) {
        this.#settle(p, e as Error);
        return;
      }
      if ((m.flags & NLM_F.DUMP_INTR) !== 0 && p.dump) {
        // The table changed during the dump (NLM_F_DUMP_INTR): the result may be inconsistent; dump again.
        this.#restartDump(p);
        return;
      }
      if (rt.kind === 'error') {
        this.#onAck(p, rt.value);
        return;
      }
      if (rt.kind === 'done') {
        if (rt.error < 0) this.#settle(p, netlinkError(rt.error, p.type, p.detail));
        else this.#settle(p, null);
        return;
      }
      p.replies!.push(rt);
    }
  }

  #onAck(p: Pending, e: NlMsgErr): void {
    if (e.error !== 0) {
      this.#settle(p, netlinkError(e.error, p.type, p.detail, e.extAck?.message));
      return;
    }
    // A dump ends with NLMSG_DONE, never an ACK-only reply, but a
    // non-dump request (and a dump the kernel refused up front) ends here.
    this.#settle(p, null);
  }

  #restartDump(p: Pending): void {
    p.retries = (p.retries ?? 0) + 1;
    this.#log?.debug({ tracer: TRACER, seq: p.seq, type: messageTypeName(p.type), retry: p.retries }, 'netlink dump interrupted (NLM_F_DUMP_INTR), restarting');
    if (p.retries > DUMP_RETRIES) {
      this.#settle(p, new SystemError('EINTR', `RTM_${messageTypeName(p.type)} failed: dump interrupted ${DUMP_RETRIES} times (${p.detail})`, { errno: -4, syscall: `RTM_${messageTypeName(p.type)}` }));
      return;
    }
    if (p.timer) clearTimeout(p.timer);
    this.#current = undefined;
    // The rest of the interrupted dump still arrives; its old seq is ignored.
    this.#queue.unshift(p);
    this.#next();
  }

  // --- events ------------------------------------------------------------------

  #onEvent(dg: NetlinkDatagram): void {
    if (dg.pid !== 0) return; // only the kernel's notifications
    let msgs: NlMsg[];
    try {
      msgs = decodeNlMsgs(dg.data);
    } catch (e) {
      this.emit('error', e as Error);
      return;
    }
    for (const m of msgs) {
      let rt: RtMessage;
      try {
        rt = decodeRtMessage(m);
      } catch (e) {
        this.emit('error', e as Error);
        continue;
      }
      // Bridge port notifications share the group with ifi_family AF_BRIDGE;
      // their RTM_DELLINK means "left the bridge", not "gone": skipped.
      if (rt.kind === 'link' && (m.type === RTM.NEWLINK || m.type === RTM.DELLINK) && rt.value.family === AF.UNSPEC) {
        this.emit('link', { action: m.type === RTM.NEWLINK ? 'new' : 'del', link: toLinkInfo(rt.value) });
      } else if (rt.kind === 'addr' && (m.type === RTM.NEWADDR || m.type === RTM.DELADDR)) {
        const a = toAddressInfo(rt.value);
        if (a !== null) this.emit('address', { action: m.type === RTM.NEWADDR ? 'new' : 'del', address: a });
      }
    }
  }
}
