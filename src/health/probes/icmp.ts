/**
 * @module health/probes/icmp
 * ICMP_CHECK (keepalived §3.2): one ICMP / ICMPv6 echo request per attempt;
 * success = the target's echo reply with this attempt's sequence within
 * timeoutMs.
 *
 * Sockets, one per attempt (opened synchronously inside run(), so in the
 * network namespace of the calling thread, and closed when it settles):
 * - `dgram`: a ping socket (SOCK_DGRAM, IPPROTO_ICMP / IPPROTO_ICMPV6). The
 *   kernel sets the echo identifier to the socket's port, fills the checksum,
 *   and hands this socket only the replies to its identifier. The socket is
 *   connected to the target with IP_RECVERR / IPV6_RECVERR on, so an ICMP
 *   error about the request (host or network unreachable, time exceeded)
 *   comes back as a socket error: `unreachable`.
 *   Needs the gid in net.ipv4.ping_group_range, which is per netns and is
 *   `1 0` (nobody, root included) unless the distribution widens it.
 * - `raw`: SOCK_RAW (CAP_NET_RAW), with ICMP_FILTER / ICMP6_FILTER letting
 *   only echo replies and errors through. xlb picks the identifier; replies
 *   are matched by source, identifier, sequence and a per-probe token in the
 *   payload; ICMP destination-unreachable and time-exceeded messages quoting
 *   this request give `unreachable`.
 * `auto` (the default) tries dgram and falls back to raw for good when the
 * kernel refuses it (EACCES / EPERM).
 *
 * `bindInterface` (SO_BINDTODEVICE), `fwmark` (SO_MARK) and `bindAddress`
 * apply to the socket; a link-local IPv6 target is scoped to bindInterface.
 *
 * Layer: control plane, I/O (one native socket and one timer per attempt).
 * The echo codec ({@link encodeEcho}, {@link classifyIcmp}) is pure.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { IcmpCheckSpec } from '../spec.js';
import { inetChecksum } from '../../net/checksum.js';
import { parseAddr } from '../../net/addr.js';
import type { NativeRawSocketCtor } from '../../native/binding.js';
import { IPPROTO, RawSocket, SOCKOPT, type RawMessage } from '../../native/socket.js';
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
  type ProbeResult,
  type ProbeTarget,
} from './types.js';

/** ICMPv4 types used here (RFC 792). */
export const ICMP_TYPE = { ECHO_REPLY: 0, DEST_UNREACH: 3, ECHO_REQUEST: 8, TIME_EXCEEDED: 11 } as const;
/** ICMPv6 types used here (RFC 4443 §2.1). */
export const ICMPV6_TYPE = { DEST_UNREACH: 1, TIME_EXCEEDED: 3, ECHO_REQUEST: 128, ECHO_REPLY: 129 } as const;

/** Echo header: type, code, checksum, identifier, sequence (RFC 792, RFC 4443 §4.1), bytes. */
const ECHO_HEADER_BYTES = 8;
/** Per-probe random token at the start of the echo data, bytes. */
export const ICMP_TOKEN_BYTES = 8;
/** Echo data: the token, then this marker. */
const MARKER = Buffer.from('xlb-icmp', 'latin1');
/** Fixed IPv6 header, bytes (RFC 8200 §3). */
const IPV6_HEADER_BYTES = 40;

/** How the probe opens its socket; see the module comment. */
export type IcmpSocketMode = 'auto' | 'dgram' | 'raw';

/** Options of {@link createIcmpProbe}. */
export interface IcmpProbeOptions {
  /** Socket kind; default `auto`. */
  mode?: IcmpSocketMode;
  /** The addon's RawSocket class (tests inject fakes); default the addon's. */
  Native?: NativeRawSocketCtor;
}

/**
 * An echo request: header + token + marker. The IPv4 checksum is computed
 * here (RFC 792: over the ICMP message, no pseudo-header); the ICMPv6 one is
 * left 0 because the kernel fills it on both ping and raw ICMPv6 sockets
 * (RFC 3542 §3.1), and the ping socket recomputes the IPv4 one anyway after
 * setting the identifier.
 * @param family 4 or 6
 * @param id identifier (16 bits)
 * @param seq sequence number (16 bits)
 * @param token per-probe random bytes ({@link ICMP_TOKEN_BYTES})
 */
export function encodeEcho(family: 4 | 6, id: number, seq: number, token: Uint8Array): Buffer {
  const b = Buffer.alloc(ECHO_HEADER_BYTES + token.length + MARKER.length);
  b[0] = family === 4 ? ICMP_TYPE.ECHO_REQUEST : ICMPV6_TYPE.ECHO_REQUEST;
  b.writeUInt16BE(id & 0xffff, 4);
  b.writeUInt16BE(seq & 0xffff, 6);
  b.set(token, ECHO_HEADER_BYTES);
  b.set(MARKER, ECHO_HEADER_BYTES + token.length);
  if (family === 4) b.writeUInt16BE(inetChecksum(b), 2);
  return b;
}

/** What one echo attempt waits for. */
export interface EchoExpectation {
  family: 4 | 6;
  /** Target address bytes (4 or 16). */
  target: Uint8Array;
  /** Identifier to match; undefined on ping sockets (the kernel demultiplexes by it). */
  id: number | undefined;
  seq: number;
  token: Uint8Array;
  /** Whether datagrams start with the IPv4 header (IPv4 raw sockets). */
  ipHeader: boolean;
}

/** How a received datagram relates to an attempt. */
export type IcmpVerdict = { kind: 'reply' } | { kind: 'error'; detail: string } | undefined;

function bytesEqual(a: Uint8Array, aOff: number, b: Uint8Array): boolean {
  if (aOff + b.length > a.length) return false;
  for (let i = 0; i < b.length; i++) if (a[aOff + i] !== b[i]) return false;
  return true;
}

/**
 * Whether an echo header at `off` in `buf` is the request or reply `e`
 * describes (identifier and sequence; the token too when `withData`).
 */
function echoMatches(buf: Uint8Array, off: number, e: EchoExpectation, withData: boolean): boolean {
  if (off + ECHO_HEADER_BYTES > buf.length) return false;
  const id = (buf[off + 4]! << 8) | buf[off + 5]!;
  const seq = (buf[off + 6]! << 8) | buf[off + 7]!;
  if (e.id !== undefined && id !== e.id) return false;
  if (seq !== e.seq) return false;
  return !withData || bytesEqual(buf, off + ECHO_HEADER_BYTES, e.token);
}

/**
 * Classifies a received datagram against an attempt: the echo reply from the
 * target (RFC 792 "Echo or Echo Reply Message", RFC 4443 §4.2), or an ICMP
 * error (RFC 792 destination unreachable / time exceeded, RFC 4443 §3.1,
 * §3.3) quoting this attempt's request to the target, or unrelated
 * (undefined). Pure; tolerant of any input.
 * @param data the datagram (from the IPv4 header on when `e.ipHeader`)
 * @param source the datagram's source address bytes
 * @param e what the attempt sent
 */
export function classifyIcmp(data: Uint8Array, source: Uint8Array, e: EchoExpectation): IcmpVerdict {
  let off = 0;
  if (e.ipHeader) {
    if (data.length < 20) return undefined;
    off = (data[0]! & 0x0f) * 4;
  }
  if (off + ECHO_HEADER_BYTES > data.length) return undefined;
  const type = data[off]!;
  const code = data[off + 1]!;
  const v4 = e.family === 4;
  if (type === (v4 ? ICMP_TYPE.ECHO_REPLY : ICMPV6_TYPE.ECHO_REPLY)) {
    if (code !== 0 || !bytesEqual(source, 0, e.target) || source.length !== e.target.length) return undefined;
    // Raw IPv4 sockets see the message before icmp_rcv() checks the checksum.
    if (v4 && inetChecksum(data, off, data.length - off) !== 0) return undefined;
    return echoMatches(data, off, e, true) ? { kind: 'reply' } : undefined;
  }
  const isError = v4
    ? type === ICMP_TYPE.DEST_UNREACH || type === ICMP_TYPE.TIME_EXCEEDED
    : type === ICMPV6_TYPE.DEST_UNREACH || type === ICMPV6_TYPE.TIME_EXCEEDED;
  if (!isError) return undefined;
  // The quoted packet: IP header + at least the 8 bytes of the echo header.
  const inner = off + ECHO_HEADER_BYTES;
  let quoted: number;
  if (v4) {
    if (inner + 20 > data.length || data[inner]! >> 4 !== 4 || data[inner + 9] !== IPPROTO.ICMP) return undefined;
    if (!bytesEqual(data, inner + 16, e.target)) return undefined;
    quoted = inner + (data[inner]! & 0x0f) * 4;
    if (data[quoted] !== ICMP_TYPE.ECHO_REQUEST) return undefined;
  } else {
    // Only a request without extension headers is recognised: what we send.
    if (inner + IPV6_HEADER_BYTES > data.length || data[inner]! >> 4 !== 6 || data[inner + 6] !== IPPROTO.ICMPV6) return undefined;
    if (!bytesEqual(data, inner + 24, e.target)) return undefined;
    quoted = inner + IPV6_HEADER_BYTES;
    if (data[quoted] !== ICMPV6_TYPE.ECHO_REQUEST) return undefined;
  }
  if (!echoMatches(data, quoted, e, false)) return undefined;
  const what = (v4 ? type === ICMP_TYPE.DEST_UNREACH : type === ICMPV6_TYPE.DEST_UNREACH) ? 'destination unreachable' : 'time exceeded';
  return { kind: 'error', detail: `ICMP${v4 ? '' : 'v6'} ${what} (code ${code})` };
}

/** A probe socket and what its datagrams look like. */
interface OpenSocket {
  sock: RawSocket;
  raw: boolean;
}

/** Whether a failed ping-socket creation means "not permitted here" (fall back to raw). */
function pingNotPermitted(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'EACCES' || code === 'EPERM' || code === 'EPROTONOSUPPORT' || code === 'ESOCKTNOSUPPORT';
}

/** ICMP_FILTER value: a set bit blocks the type; let echo replies and errors through. */
const ICMP_FILTER_V4 = ~((1 << ICMP_TYPE.ECHO_REPLY) | (1 << ICMP_TYPE.DEST_UNREACH) | (1 << ICMP_TYPE.TIME_EXCEEDED));

/** struct icmp6_filter (256 bits, host-order u32 words, set bit = block) passing echo replies and errors. */
function icmp6Filter(): Buffer {
  const words = new Uint32Array(8).fill(0xffffffff);
  for (const t of [ICMPV6_TYPE.ECHO_REPLY, ICMPV6_TYPE.DEST_UNREACH, ICMPV6_TYPE.TIME_EXCEEDED]) {
    words[t >> 5] = words[t >> 5]! & ~(1 << (t & 31));
  }
  return Buffer.from(words.buffer);
}

/** ICMP echo probe. */
class IcmpProbe implements Probe {
  readonly #attempts = new AttemptSet();
  readonly #token = randomBytes(ICMP_TOKEN_BYTES);
  /** Identifier of raw-socket requests (ping sockets use their port). */
  readonly #id = randomInt(0x10000);
  readonly #targetBytes: Uint8Array;
  /** Where requests go: the target, scoped to bindInterface when link-local. */
  readonly #dest: string;
  #seq = randomInt(0x10000);
  #mode: IcmpSocketMode;

  constructor(
    private readonly spec: IcmpCheckSpec,
    private readonly target: ProbeTarget,
    private readonly Native: NativeRawSocketCtor | undefined,
    mode: IcmpSocketMode,
  ) {
    this.#mode = mode;
    const key = parseAddr(target.address);
    this.#targetBytes = key.bytes.subarray(0, target.family === 4 ? 4 : 16);
    const linkLocal = target.family === 6 && key.bytes[0] === 0xfe && (key.bytes[1]! & 0xc0) === 0x80;
    this.#dest = linkLocal && spec.bindInterface !== undefined ? `${target.address}%${spec.bindInterface}` : target.address;
  }

  run(): Promise<ProbeResult> {
    const t0 = performance.now();
    if (this.#attempts.closed) return Promise.resolve(failResult(t0, 'io', CLOSED_DETAIL));
    const { spec, target } = this;
    let open: OpenSocket;
    try {
      open = this.#open();
    } catch (err) {
      // connect() of a ping socket fails at once without a route.
      const reason = errnoReason(errorCode(err)) === 'unreachable' ? 'unreachable' : 'io';
      return Promise.resolve(failResult(t0, reason, `icmp socket to ${target.address}: ${errorText(err)}`));
    }
    const { sock, raw } = open;
    this.#seq = (this.#seq + 1) & 0xffff;
    const expect: EchoExpectation = {
      family: target.family,
      target: this.#targetBytes,
      id: raw ? this.#id : undefined,
      seq: this.#seq,
      token: this.#token,
      ipHeader: raw && target.family === 4,
    };
    const request = encodeEcho(target.family, this.#id, this.#seq, this.#token);
    return new Promise<ProbeResult>((resolve) => {
      let done = false;
      const finish = (r: ProbeResult): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.#attempts.delete(abort);
        sock.close();
        resolve(r);
      };
      const abort = (): void => finish(failResult(t0, 'io', CLOSED_DETAIL));
      const timer = setTimeout(
        afterPendingIo(() => finish(failResult(t0, 'timeout', `no echo reply from ${target.address} within ${spec.timeoutMs} ms`))),
        spec.timeoutMs,
      );
      this.#attempts.add(abort);
      sock.on('error', (err) => finish(failResult(t0, errnoReason(errorCode(err)), `${target.address}: ${errorText(err)}`)));
      sock.on('message', (msg: RawMessage) => {
        let source: Uint8Array;
        try {
          source = parseAddr(msg.address).bytes.subarray(0, target.family === 4 ? 4 : 16);
        } catch {
          return;
        }
        const v = classifyIcmp(msg.data, source, expect);
        if (v === undefined) return;
        if (v.kind === 'reply') finish(okResult(t0, undefined, `echo reply seq ${expect.seq}`));
        else finish(failResult(t0, 'unreachable', `${target.address}: ${v.detail} from ${msg.address}`));
      });
      try {
        sock.start();
        if (raw) sock.send(request, this.#dest);
        else sock.send(request);
      } catch (err) {
        const reason = errnoReason(errorCode(err));
        finish(failResult(t0, reason === 'refused' ? 'unreachable' : reason, `echo request to ${target.address}: ${errorText(err)}`));
      }
    });
  }

  close(): void {
    this.#attempts.close();
  }

  /** Opens and configures this attempt's socket (in the calling thread's netns). */
  #open(): OpenSocket {
    const { family } = this.target;
    const protocol = family === 4 ? IPPROTO.ICMP : IPPROTO.ICMPV6;
    let sock: RawSocket | undefined;
    if (this.#mode !== 'raw') {
      try {
        sock = new RawSocket({ family, type: 'dgram', protocol }, this.Native);
      } catch (err) {
        if (this.#mode !== 'auto' || !pingNotPermitted(err)) throw err;
        this.#mode = 'raw';
      }
    }
    const raw = sock === undefined;
    sock ??= new RawSocket({ family, type: 'raw', protocol }, this.Native);
    try {
      const { spec } = this;
      if (raw) {
        if (family === 4) sock.setOption(SOCKOPT.SOL_RAW, SOCKOPT.ICMP_FILTER, ICMP_FILTER_V4);
        else sock.setOption(SOCKOPT.SOL_ICMPV6, SOCKOPT.ICMP6_FILTER, icmp6Filter());
      }
      if (spec.bindInterface !== undefined) sock.bindToDevice(spec.bindInterface);
      if (spec.fwmark !== 0) sock.setMark(spec.fwmark);
      if (spec.bindAddress !== undefined) sock.bind(spec.bindAddress);
      if (!raw) {
        // ICMP errors about the request come back as 'error' events: soft
        // ones (host/net unreachable, time exceeded) only with IP_RECVERR,
        // hard ones on any connected socket. Raw sockets read the error
        // messages themselves.
        if (family === 4) sock.setOption(SOCKOPT.SOL_IP, SOCKOPT.IP_RECVERR, 1);
        else sock.setOption(SOCKOPT.SOL_IPV6, SOCKOPT.IPV6_RECVERR, 1);
        sock.connect(this.#dest);
      }
      return { sock, raw };
    } catch (err) {
      sock.close();
      throw err;
    }
  }
}

/**
 * An ICMP_CHECK probe: ICMP (IPv4) or ICMPv6 echo to `target.address`
 * (`target.port` is unused). Each run() sends one request with the next
 * sequence number and settles with the first matching echo reply (`ok`), an
 * ICMP error about it or a local routing failure (`unreachable`), or nothing
 * within spec.timeoutMs (`timeout`); socket setup failures (ENODEV for
 * bindInterface, EPERM, ...) are `io`. Never rejects.
 * @param spec the check (timeoutMs, bindInterface, fwmark, bindAddress)
 * @param target resolved address and family
 * @param options socket mode and the addon class
 */
export function createIcmpProbe(spec: IcmpCheckSpec, target: ProbeTarget, options: IcmpProbeOptions = {}): Probe {
  return new IcmpProbe(spec, target, options.Native, options.mode ?? 'auto');
}
