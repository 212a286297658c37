/**
 * @module bfd/codec
 * BFD control packets (RFC 5880 §4.1) with the optional authentication
 * section (§4.2-4.4): bytes <-> objects, and the reception checks of §6.8.6
 * in the RFC's order, each drop with a reason from one closed list
 * ({@link BFD_DROP_REASONS}, a metrics label).
 *
 * Layer: pure codec (H-28, H-32). No I/O, no timers, no sockets, no addon:
 * the runtime reads UDP payloads and hands them here. Unlike the VRRP
 * decoder, {@link decodeBfdControl} never throws for packet content: it
 * returns a drop reason, because what a BFD receiver does with a malformed
 * packet is count it and move on (issue 15: malformed packets never crash
 * the runtime). The encoder throws `CodecError` BAD_VALUE for a field out of
 * range: that is the program's own input, not the wire's.
 *
 * Authentication (the section's types, digests, passwords, sequence
 * numbers) is ./auth.ts; this module calls its verifier as the last of the
 * reception checks and its signer when asked to encode a signed packet.
 * The import runs one way, codec -> auth, so the two form no circle.
 *
 * Sources: RFC 5880 §4, §6.7, §6.8.6; RFC 5881 §5 and RFC 5883 §5 for the
 * TTL checks, whose reason is listed here but which the runtime applies
 * (the TTL is not in the payload).
 */
import { CodecError } from '../errors.js';
import {
  BFD_AUTH_LEN_PASSWORD_OVERHEAD,
  BFD_AUTH_MIN_PACKET_LEN,
  BFD_AUTH_TYPE,
  BFD_AUTH_TYPE_NAMES,
  BFD_DIAG_NAMES,
  BFD_FLAG,
  BFD_HEADER_LEN,
  BFD_PASSWORD_MAX,
  BFD_PASSWORD_MIN,
  BFD_STATE,
  BFD_STATE_NAMES,
  BFD_VERSION,
  type BfdAuthType,
  type BfdDiag,
  type BfdState,
} from './spec.js';
import {
  keyedAuthLen,
  keyedDigestLen,
  signBfdControl,
  verifyBfdAuth,
  type BfdAuthConfig,
  type BfdAuthKeyed,
  type BfdAuthRxState,
  type BfdAuthSection,
} from './auth.js';

export type { BfdAuthKeyed, BfdAuthPassword, BfdAuthRaw, BfdAuthSection } from './auth.js';

/** Largest value of the 8-bit Length field: no control packet is longer. */
const BFD_MAX_PACKET_LEN = 0xff;

// --- Types -------------------------------------------------------------------

/**
 * A BFD control packet (RFC 5880 §4.1). The A bit is not a field: it is set
 * iff `auth` is present, and Length is computed ({@link bfdControlLength}).
 * Intervals are microseconds, as on the wire.
 */
export interface BfdControl {
  /** Vers, 3 bits: {@link BFD_VERSION}. The encoder writes any 0..7 (tests craft bad ones). */
  version: number;
  /** Diag, 5 bits: a {@link BfdDiag}; other values are kept as received. */
  diag: number;
  /** Sta: the sender's session state. */
  state: BfdState;
  /** P: a Poll Sequence is in progress (§6.5). */
  poll: boolean;
  /** F: the response to a Poll. */
  final: boolean;
  /** C: the sender's BFD is independent of its control plane. */
  controlPlaneIndependent: boolean;
  /** D: the sender wishes to run Demand mode. */
  demand: boolean;
  /** M: reserved for multipoint; must be zero (§6.8.6 drops it). */
  multipoint: boolean;
  /** Detect Mult, 8 bits. */
  detectMult: number;
  /** My Discriminator, 32 bits, non-zero on a sane wire. */
  myDiscriminator: number;
  /** Your Discriminator, 32 bits; 0 while the sender does not know it. */
  yourDiscriminator: number;
  /** Desired Min TX Interval, µs. */
  desiredMinTxUs: number;
  /** Required Min RX Interval, µs; 0 = the sender wants no control packets. */
  requiredMinRxUs: number;
  /** Required Min Echo RX Interval, µs; 0 = the sender does not reflect echo. */
  requiredMinEchoRxUs: number;
  /** The authentication section; present iff the A bit is set. */
  auth?: BfdAuthSection;
}

// --- Drop reasons ---------------------------------------------------------------

/**
 * Every reason a received control packet is dropped, in the order the
 * checks run (RFC 5880 §6.8.6, the TTL check before it). One closed list,
 * the label set of the drop counter, whether the codec or the runtime
 * applies the check (see {@link BFD_DROP_REASON_INFO}).
 */
export const BFD_DROP_REASONS = [
  'bad_ttl',
  'bad_version',
  'bad_length',
  'zero_detect_mult',
  'multipoint',
  'zero_my_discr',
  'no_session',
  'zero_your_discr',
  'auth_unexpected',
  'auth_missing',
  'auth_type',
  'auth_key_id',
  'auth_length',
  'auth_sequence',
  'auth_password',
  'auth_digest',
] as const;

/** One of {@link BFD_DROP_REASONS}. */
export type BfdDropReason = (typeof BFD_DROP_REASONS)[number];

/** What a drop reason means and who checks it. */
export interface BfdDropReasonInfo {
  /** `'codec'`: this module (and ./auth.ts); `'runtime'`: the receive path, from what the socket reports. */
  by: 'codec' | 'runtime';
  /** Where the rule comes from. */
  rfc: string;
  /** One line, for the counter's help text. */
  help: string;
}

/** Meaning and owner of each {@link BfdDropReason}. */
export const BFD_DROP_REASON_INFO: Readonly<Record<BfdDropReason, BfdDropReasonInfo>> = {
  bad_ttl: { by: 'runtime', rfc: 'RFC 5881 §5, RFC 5883 §5', help: 'single hop: TTL/hop limit not 255; multihop: fewer than 256 - max_hops' },
  bad_version: { by: 'codec', rfc: 'RFC 5880 §6.8.6', help: 'version is not 1' },
  bad_length: { by: 'codec', rfc: 'RFC 5880 §6.8.6', help: 'Length below 24 (26 with the A bit), or beyond the payload' },
  zero_detect_mult: { by: 'codec', rfc: 'RFC 5880 §6.8.6', help: 'Detect Mult is zero' },
  multipoint: { by: 'codec', rfc: 'RFC 5880 §6.8.6', help: 'Multipoint (M) bit set' },
  zero_my_discr: { by: 'codec', rfc: 'RFC 5880 §6.8.6', help: 'My Discriminator is zero' },
  no_session: { by: 'runtime', rfc: 'RFC 5880 §6.8.6', help: 'no session has Your Discriminator, or (when it is zero) the addresses' },
  zero_your_discr: { by: 'codec', rfc: 'RFC 5880 §6.8.6', help: 'Your Discriminator is zero while the state is not Down or AdminDown' },
  auth_unexpected: { by: 'codec', rfc: 'RFC 5880 §6.8.6', help: 'A bit set on a session without authentication' },
  auth_missing: { by: 'codec', rfc: 'RFC 5880 §6.8.6', help: 'A bit clear on a session with authentication' },
  auth_type: { by: 'codec', rfc: 'RFC 5880 §6.7.2-6.7.4', help: 'Auth Type differs from the session\'s' },
  auth_key_id: { by: 'codec', rfc: 'RFC 5880 §6.7.2-6.7.4', help: 'Auth Key ID is not a configured key' },
  auth_length: { by: 'codec', rfc: 'RFC 5880 §6.7.2-6.7.4', help: 'Auth Len wrong for the type or key, or not the rest of the packet' },
  auth_sequence: { by: 'codec', rfc: 'RFC 5880 §6.7.3-6.7.4', help: 'sequence number outside the 3 x Detect Mult window (replay)' },
  auth_password: { by: 'codec', rfc: 'RFC 5880 §6.7.2', help: 'simple password differs' },
  auth_digest: { by: 'codec', rfc: 'RFC 5880 §6.7.3-6.7.4', help: 'MD5 digest or SHA1 hash differs' },
};

/** A dropped packet: nothing decoded is returned. */
export interface BfdDrop {
  ok: false;
  /** Stable reason name (a counter label). */
  reason: BfdDropReason;
  /** Human-readable: what was received and what was expected. */
  detail: string;
}

/** Result of {@link decodeBfdControl}: the packet and the bytes it took (H-32), or a drop. */
export type BfdDecodeResult = { ok: true; value: BfdControl; bytes: number } | BfdDrop;

const drop = (reason: BfdDropReason, detail: string): BfdDrop => ({ ok: false, reason, detail });

// --- Names (H-34) ------------------------------------------------------------------

/**
 * Name of a diagnostic code, `UNKNOWN_<n>` for 9..31.
 * @param diag 0..31
 */
export function bfdDiagName(diag: number): string {
  return BFD_DIAG_NAMES[diag as BfdDiag] ?? `UNKNOWN_${diag}`;
}

/**
 * Name of an authentication type (its config spelling), `UNKNOWN_<n>` for others.
 * @param type 0..255
 */
export function bfdAuthTypeName(type: number): string {
  return BFD_AUTH_TYPE_NAMES[type as BfdAuthType] ?? `UNKNOWN_${type}`;
}

/**
 * Name of a session state.
 * @param state 0..3
 */
export function bfdStateName(state: number): string {
  return BFD_STATE_NAMES[state as BfdState] ?? `UNKNOWN_${state}`;
}

// --- Length -------------------------------------------------------------------------

/** Bytes of an authentication section. */
function authBytes(a: BfdAuthSection): number {
  switch (a.kind) {
    case 'password':
      return BFD_AUTH_LEN_PASSWORD_OVERHEAD + a.password.length;
    case 'keyed':
      return keyedAuthLen(a.type);
    case 'raw':
      return 2 + a.data.length;
  }
}

/**
 * Wire length of a control packet: 24, plus the authentication section.
 * @param v the packet
 * @returns bytes (the Length field)
 */
export function bfdControlLength(v: BfdControl): number {
  return BFD_HEADER_LEN + (v.auth === undefined ? 0 : authBytes(v.auth));
}

// --- Encode -----------------------------------------------------------------------------

/** CodecError BAD_VALUE for an encoder input. */
function badValue(field: string, value: unknown): CodecError {
  return new CodecError('XLB_ERR_CODEC_BAD_VALUE', ['bfd', field, JSON.stringify(value) ?? String(value), 0], 0);
}

/** Integer range check of an encoder input. */
function checkField(field: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw badValue(field, v);
}

/** Check an authentication section before writing it. */
function checkAuth(a: BfdAuthSection): void {
  switch (a.kind) {
    case 'password':
      if ((a.type as number) !== BFD_AUTH_TYPE.SIMPLE_PASSWORD) throw badValue('auth.type', a.type);
      checkField('auth.keyId', a.keyId, 0xff);
      // RFC 5880 §4.2: 1 to 16 bytes.
      if (a.password.length < BFD_PASSWORD_MIN || a.password.length > BFD_PASSWORD_MAX) throw badValue('auth.password length', a.password.length);
      return;
    case 'keyed':
      if (a.type < BFD_AUTH_TYPE.KEYED_MD5 || a.type > BFD_AUTH_TYPE.METICULOUS_KEYED_SHA1) throw badValue('auth.type', a.type);
      checkField('auth.keyId', a.keyId, 0xff);
      checkField('auth.sequence', a.sequence, 0xffff_ffff);
      if (a.digest.length !== keyedDigestLen(a.type)) throw badValue('auth.digest length', a.digest.length);
      return;
    case 'raw':
      checkField('auth.type', a.type, 0xff);
      checkField('auth.authLen', a.authLen, 0xff);
      if (BFD_HEADER_LEN + 2 + a.data.length > BFD_MAX_PACKET_LEN) throw badValue('auth.data length', a.data.length);
      return;
    default:
      throw badValue('auth.kind', (a as { kind: unknown }).kind);
  }
}

/**
 * Encode a control packet. With `sign`, the digest of a keyed section is
 * computed over the written bytes (./auth.ts {@link signBfdControl}); the
 * section itself comes from ./auth.ts `nextAuthSection`.
 * @param v the packet; every field within its width (the values themselves
 *   are not judged: tests build bad packets with this)
 * @param buf where to write; allocated when absent
 * @param offset where in `buf`
 * @param sign the session's authentication, to sign a keyed section
 * @returns `buf` (or the new buffer), holding exactly {@link bfdControlLength} bytes at `offset`
 * @throws CodecError BAD_VALUE for a field out of range; BAD_LENGTH if `buf` has no room
 */
export function encodeBfdControl(v: BfdControl, buf?: Buffer, offset = 0, sign?: BfdAuthConfig): Buffer {
  checkField('version', v.version, 7);
  checkField('diag', v.diag, 0x1f);
  checkField('state', v.state, 3);
  checkField('detectMult', v.detectMult, 0xff);
  checkField('myDiscriminator', v.myDiscriminator, 0xffff_ffff);
  checkField('yourDiscriminator', v.yourDiscriminator, 0xffff_ffff);
  checkField('desiredMinTxUs', v.desiredMinTxUs, 0xffff_ffff);
  checkField('requiredMinRxUs', v.requiredMinRxUs, 0xffff_ffff);
  checkField('requiredMinEchoRxUs', v.requiredMinEchoRxUs, 0xffff_ffff);
  if (v.auth !== undefined) checkAuth(v.auth);
  const len = bfdControlLength(v);
  const out = buf ?? Buffer.alloc(len);
  if (offset < 0 || offset + len > out.length) throw new CodecError('XLB_ERR_CODEC_BAD_LENGTH', ['bfd', 'output buffer', out.length, offset], offset);

  // RFC 5880 §4.1: Vers|Diag, Sta|P|F|C|A|D|M, Detect Mult, Length.
  out[offset] = (v.version << 5) | v.diag;
  out[offset + 1] =
    (v.state << 6) |
    (v.poll ? BFD_FLAG.POLL : 0) |
    (v.final ? BFD_FLAG.FINAL : 0) |
    (v.controlPlaneIndependent ? BFD_FLAG.CONTROL_PLANE_INDEPENDENT : 0) |
    (v.auth !== undefined ? BFD_FLAG.AUTH_PRESENT : 0) |
    (v.demand ? BFD_FLAG.DEMAND : 0) |
    (v.multipoint ? BFD_FLAG.MULTIPOINT : 0);
  out[offset + 2] = v.detectMult;
  out[offset + 3] = len;
  out.writeUInt32BE(v.myDiscriminator, offset + 4);
  out.writeUInt32BE(v.yourDiscriminator, offset + 8);
  out.writeUInt32BE(v.desiredMinTxUs, offset + 12);
  out.writeUInt32BE(v.requiredMinRxUs, offset + 16);
  out.writeUInt32BE(v.requiredMinEchoRxUs, offset + 20);
  const a = v.auth;
  if (a !== undefined) {
    const at = offset + BFD_HEADER_LEN;
    out[at] = a.type;
    if (a.kind === 'raw') {
      out[at + 1] = a.authLen;
      out.set(a.data, at + 2);
    } else if (a.kind === 'password') {
      // RFC 5880 §4.2: Auth Type, Auth Len, Auth Key ID, Password.
      out[at + 1] = len - BFD_HEADER_LEN;
      out[at + 2] = a.keyId;
      out.set(a.password, at + 3);
    } else {
      // RFC 5880 §4.3/4.4: Auth Type, Auth Len, Auth Key ID, Reserved (0), Sequence Number, digest.
      out[at + 1] = len - BFD_HEADER_LEN;
      out[at + 2] = a.keyId;
      out[at + 3] = 0;
      out.writeUInt32BE(a.sequence, at + 4);
      out.set(a.digest, at + 8);
    }
  }
  if (sign !== undefined && a?.kind === 'keyed') signBfdControl(out, offset, sign);
  return out;
}

// --- Decode -------------------------------------------------------------------------------

/** Decode the authentication section: bytes [24, length) of the packet at `off`. */
function decodeAuth(buf: Uint8Array, off: number, length: number): BfdAuthSection {
  const at = off + BFD_HEADER_LEN;
  const type = buf[at]!;
  const authLen = buf[at + 1]!;
  const section = length - BFD_HEADER_LEN; // bytes of the section the Length field leaves
  const data = Buffer.from(buf.subarray(at + 2, off + length));
  // Typed only when Auth Len is right for the type and is exactly the rest of the packet.
  if (authLen === section) {
    if (type === BFD_AUTH_TYPE.SIMPLE_PASSWORD) {
      const pwLen = authLen - BFD_AUTH_LEN_PASSWORD_OVERHEAD;
      if (pwLen >= BFD_PASSWORD_MIN && pwLen <= BFD_PASSWORD_MAX) {
        return { kind: 'password', type, keyId: data[0]!, password: Buffer.from(data.subarray(1)) };
      }
    } else if (type >= BFD_AUTH_TYPE.KEYED_MD5 && type <= BFD_AUTH_TYPE.METICULOUS_KEYED_SHA1) {
      const t = type as BfdAuthKeyed['type'];
      if (authLen === keyedAuthLen(t)) {
        // data[1] is Reserved: ignored on receipt (RFC 5880 §4.3, §4.4).
        return { kind: 'keyed', type: t, keyId: data[0]!, sequence: data.readUInt32BE(2), digest: Buffer.from(data.subarray(6)) };
      }
    }
  }
  return { kind: 'raw', type, authLen, data };
}

/**
 * Decode a control packet: the first checks of RFC 5880 §6.8.6, in its
 * order, then the fields.
 *
 * 1. the version is 1 (`bad_version`);
 * 2. Length is at least 24, or 26 with the A bit (`bad_length`);
 * 3. Length is not beyond the payload (`bad_length`).
 *
 * Bytes after Length (padding) are ignored and not counted in `bytes`. The
 * authentication section is typed when it is well formed, kept raw
 * otherwise ({@link BfdAuthRaw}); judging it is left to the auth checks,
 * which the RFC places last. Never throws for the bytes' content.
 * @param buf the UDP payload
 * @param offset first byte of the packet
 * @param length bytes of payload from `offset` (default: the rest of `buf`)
 * @returns `{ ok: true, value, bytes }` or `{ ok: false, reason, detail }`
 */
export function decodeBfdControl(buf: Uint8Array, offset = 0, length = buf.length - offset): BfdDecodeResult {
  const avail = Math.max(0, Math.min(length, buf.length - offset));
  // The version sits in the first byte: check it first, as the RFC does.
  if (avail < 1) return drop('bad_length', 'empty payload');
  const version = buf[offset]! >> 5;
  if (version !== BFD_VERSION) return drop('bad_version', `version ${version}, expected ${BFD_VERSION}`);
  if (avail < 4) return drop('bad_length', `${avail}-byte payload, shorter than the ${BFD_HEADER_LEN}-byte header`);
  const b1 = buf[offset + 1]!;
  const a = (b1 & BFD_FLAG.AUTH_PRESENT) !== 0;
  const len = buf[offset + 3]!;
  const min = a ? BFD_AUTH_MIN_PACKET_LEN : BFD_HEADER_LEN;
  if (len < min) return drop('bad_length', `Length ${len}, less than ${min}${a ? ' with the A bit' : ''}`);
  if (len > avail) return drop('bad_length', `Length ${len}, beyond the ${avail}-byte payload`);

  const dv = new DataView(buf.buffer, buf.byteOffset + offset, len);
  const value: BfdControl = {
    version,
    diag: buf[offset]! & 0x1f,
    state: (b1 >> 6) as BfdState,
    poll: (b1 & BFD_FLAG.POLL) !== 0,
    final: (b1 & BFD_FLAG.FINAL) !== 0,
    controlPlaneIndependent: (b1 & BFD_FLAG.CONTROL_PLANE_INDEPENDENT) !== 0,
    demand: (b1 & BFD_FLAG.DEMAND) !== 0,
    multipoint: (b1 & BFD_FLAG.MULTIPOINT) !== 0,
    detectMult: buf[offset + 2]!,
    myDiscriminator: dv.getUint32(4),
    yourDiscriminator: dv.getUint32(8),
    desiredMinTxUs: dv.getUint32(12),
    requiredMinRxUs: dv.getUint32(16),
    requiredMinEchoRxUs: dv.getUint32(20),
  };
  if (a) value.auth = decodeAuth(buf, offset, len);
  return { ok: true, value, bytes: len };
}

// --- Reception checks (RFC 5880 §6.8.6) -------------------------------------------------

/**
 * The stateless header checks of RFC 5880 §6.8.6 that follow the length
 * checks of {@link decodeBfdControl}, in its order:
 *
 * 4. Detect Mult is not zero (`zero_detect_mult`);
 * 5. the M bit is clear (`multipoint`);
 * 6. My Discriminator is not zero (`zero_my_discr`);
 * 7. (the runtime: a non-zero Your Discriminator selects the session, `no_session`);
 * 8. a zero Your Discriminator only with state Down or AdminDown (`zero_your_discr`).
 *
 * Items 7 and 8 exclude each other, so running 8 before the runtime's
 * lookup keeps the RFC's order.
 * @param p a decoded packet
 * @returns the drop, or undefined when the packet passes
 */
export function checkBfdHeader(p: BfdControl): BfdDrop | undefined {
  if (p.detectMult === 0) return drop('zero_detect_mult', 'Detect Mult 0');
  if (p.multipoint) return drop('multipoint', 'M bit set');
  if (p.myDiscriminator === 0) return drop('zero_my_discr', 'My Discriminator 0');
  if (p.yourDiscriminator === 0 && p.state !== BFD_STATE.DOWN && p.state !== BFD_STATE.ADMIN_DOWN) {
    return drop('zero_your_discr', `Your Discriminator 0 in state ${bfdStateName(p.state)}`);
  }
  return undefined;
}

/** Result of {@link checkBfdAuth}: the session's new receive state, or a drop. */
export type BfdAuthCheck = { ok: true; authRx: BfdAuthRxState } | BfdDrop;

/**
 * The authentication checks of RFC 5880 §6.8.6, after the session is found:
 *
 * 10. the A bit set on a session without authentication (`auth_unexpected`);
 * 11. the A bit clear on a session with authentication (`auth_missing`);
 * 12. the section verified by §6.7 (./auth.ts {@link verifyBfdAuth}).
 * @param buf the payload the packet was decoded from
 * @param offset first byte of the packet
 * @param p the decoded packet
 * @param auth the session's authentication, undefined for none (bfd.AuthType 0)
 * @param authRx the session's receive state (bfd.AuthSeqKnown, bfd.RcvAuthSeq)
 * @returns `{ ok: true, authRx }` with the state to keep, or a drop
 */
export function checkBfdAuth(buf: Uint8Array, offset: number, p: BfdControl, auth: BfdAuthConfig | undefined, authRx: BfdAuthRxState): BfdAuthCheck {
  if (p.auth !== undefined && auth === undefined) return drop('auth_unexpected', `A bit set (${bfdAuthTypeName(p.auth.type)}), the session has no authentication`);
  if (p.auth === undefined && auth !== undefined) return drop('auth_missing', `A bit clear, the session uses ${bfdAuthTypeName(auth.type)}`);
  if (p.auth === undefined || auth === undefined) return { ok: true, authRx };
  return verifyBfdAuth(buf, offset, p.auth, p.detectMult, auth, authRx);
}

/** What the runtime's session lookup gives {@link receiveBfdControl}. */
export interface BfdRxSession {
  /** The session's authentication; undefined for none. */
  auth?: BfdAuthConfig;
  /** Its receive state of authentication. */
  authRx: BfdAuthRxState;
}

/** An accepted packet: the packet, its session, and the session's new auth receive state. */
export interface BfdAccepted<S> {
  ok: true;
  packet: BfdControl;
  session: S;
  /** To store in the session (changed only by keyed authentication). */
  authRx: BfdAuthRxState;
}

/**
 * All of RFC 5880 §6.8.6's checks on a received payload, in its order, with
 * the session lookup (item 7/9) injected: decode (version, length), the
 * header checks, the lookup, the authentication. Pure when `lookup` is.
 * The TTL check (`bad_ttl`) comes before this, in the runtime.
 * @param buf the UDP payload
 * @param lookup the session for a packet: by Your Discriminator when it is
 *   non-zero, else by the addresses it came from; undefined for none
 * @returns the accepted packet with its session, or a drop
 */
export function receiveBfdControl<S extends BfdRxSession>(buf: Uint8Array, lookup: (p: BfdControl) => S | undefined): BfdAccepted<S> | BfdDrop {
  const d = decodeBfdControl(buf);
  if (!d.ok) return d;
  const p = d.value;
  const h = checkBfdHeader(p);
  if (h !== undefined) return h;
  const session = lookup(p);
  if (session === undefined) {
    return drop('no_session', p.yourDiscriminator !== 0 ? `no session with discriminator ${p.yourDiscriminator}` : 'no session for the addresses');
  }
  const a = checkBfdAuth(buf, 0, p, session.auth, session.authRx);
  if (!a.ok) return a;
  return { ok: true, packet: p, session, authRx: a.authRx };
}
