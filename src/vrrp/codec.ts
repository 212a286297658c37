/**
 * @module vrrp/codec
 * VRRP advertisements, versions 2 (RFC 3768 §5) and 3 (RFC 5798 §5, as
 * updated by RFC 9568), over IPv4 and IPv6: bytes <-> objects, the VRRP
 * checksums (with and without the pseudo-header), the IPv4 / IPv6 header
 * fields a receiver needs, and the receive checks of a VRRP instance in the
 * order keepalived applies them (reference: keepalived.md §1.4).
 *
 * Layer: pure codec (H-28, H-32). No I/O, no timers, no sockets, no addon:
 * the runner (H-3 `vrrp/runner.ts`) reads datagrams and hands them here.
 * Decoders check the length before every read and throw {@link CodecError}
 * (`XLB_ERR_CODEC_*`); {@link validateAdvert} never throws for packet
 * content and returns a drop reason instead. Address text <-> bytes comes
 * from net/addr (which uses node:net's pure isIPv4/isIPv6 checks).
 *
 * What a raw socket delivers (Linux): on an IPv4 raw socket of protocol 112
 * the IPv4 header followed by the VRRP message ({@link decodeIpv4Header}); on
 * an IPv6 raw socket only the VRRP message, the addresses and the hop limit
 * coming from the socket address and ancillary data (IPV6_RECVHOPLIMIT,
 * IPV6_RECVPKTINFO). On IPv6 the kernel computes and checks the checksum when
 * IPV6_CHECKSUM is 6; the codec still computes and checks it, so that tests
 * and captures can be verified without a kernel.
 *
 * Not supported: IPsec AH authentication (RFC 2338 auth type 2, IP protocol
 * 51) and keepalived's `auth_hmac` trailer; AH packets are recognised and
 * rejected with their own reason.
 */
import { CodecError } from '../errors.js';
import { foldSum, onesSum, pseudoHeaderSum } from '../net/checksum.js';
import { AF_INET, AF_INET6, formatAddr, parseAddr } from '../net/addr.js';

/** A decoded value and the bytes it took (H-32). */
export interface Decoded<T> {
  /** The decoded value. */
  value: T;
  /** Bytes it took in the input. */
  bytes: number;
}

// --- Protocol constants ------------------------------------------------------

/** IP protocol number of VRRP (RFC 3768 §5.1.1.4, RFC 5798 §5.1.1.4). */
export const VRRP_PROTO = 112;
/** IP protocol number of IPsec AH (RFC 4302), which RFC 2338 auth type 2 wraps VRRP in. */
export const IPPROTO_AH = 51;
/** TTL / hop limit of every advert, and the only one a multicast receiver accepts (RFC 3768 §5.1.1.3, RFC 5798 §5.1.1.3). */
export const VRRP_TTL = 255;
/** IPv4 multicast group of VRRP (RFC 3768 §5.1.1.2, RFC 5798 §5.1.1.2). */
export const VRRP_GROUP_V4 = '224.0.0.18';
/** IPv6 multicast group of VRRP (RFC 5798 §5.1.2.2). */
export const VRRP_GROUP_V6 = 'ff02::12';
/** Fixed part of the VRRP header (version ... checksum), bytes. */
export const VRRP_HEADER_BYTES = 8;
/** VRRPv2 Authentication Data, bytes (RFC 3768 §5.3.10). */
export const VRRP_AUTH_DATA_BYTES = 8;
/** Largest address count (8-bit Count IP Addrs, RFC 3768 §5.3.5, RFC 5798 §5.2.5). */
export const VRRP_MAX_ADDRS = 255;
/** Largest v2 Advertisement Interval, seconds (8-bit field, RFC 3768 §5.3.7). */
export const VRRP_V2_MAX_ADVERT_INT_S = 255;
/** Largest v3 Max Advertise Interval, centiseconds (12-bit field, RFC 5798 §5.2.7). */
export const VRRP_V3_MAX_ADVERT_INT_CS = 4095;
/** Byte offset of the checksum in the VRRP header (RFC 3768 §5.1, RFC 5798 §5.1). */
const CHECKSUM_AT = 6;
/** Fixed IPv4 header without options, bytes (RFC 791 §3.1). */
const IPV4_MIN_HEADER_BYTES = 20;

/** VRRP packet types (RFC 3768 §5.3.2, RFC 5798 §5.2.2): 1 is the only one defined. */
export const VRRP_TYPE = {
  ADVERTISEMENT: 1,
} as const;

/** VRRPv2 authentication types (RFC 3768 §5.3.6; 1 and 2 are RFC 2338's, kept by keepalived). */
export const VRRP_AUTH = {
  /** No Authentication. */
  NONE: 0,
  /** Simple Text Password: up to 8 bytes in the clear, zero padded (RFC 2338 §5.3.6.1). */
  PASS: 1,
  /** IP Authentication Header (RFC 2338 §5.3.6.2); not supported. */
  AH: 2,
} as const;

/**
 * Name of a VRRP packet type, `UNKNOWN_<n>` for others (H-34).
 * @param type 0..15
 */
export function vrrpTypeName(type: number): string {
  return type === VRRP_TYPE.ADVERTISEMENT ? 'ADVERTISEMENT' : `UNKNOWN_${type}`;
}

/**
 * Name of a VRRPv2 auth type, `UNKNOWN_<n>` for others (H-34).
 * @param authType 0..255
 */
export function vrrpAuthTypeName(authType: number): string {
  for (const [name, code] of Object.entries(VRRP_AUTH)) if (code === authType) return name;
  return `UNKNOWN_${authType}`;
}

// --- Types -------------------------------------------------------------------

/** Fields of both versions. */
interface VrrpAdvertCommon {
  /** Packet type; {@link VRRP_TYPE}.ADVERTISEMENT, other values are kept as received. */
  type: number;
  /** Virtual Router ID, 1..255 on a sane wire (0 is kept as received). */
  vrid: number;
  /** 0..255: 255 = address owner, 0 = the master resigns (RFC 3768 §5.3.4, RFC 5798 §5.2.4). */
  priority: number;
  /**
   * The addresses of the virtual router, canonical text (IPv6 in RFC 5952
   * form). Their number is the Count field. RFC 5798 §5.2.9: on IPv6 the
   * first one should be the link-local address.
   */
  addresses: string[];
}

/** A VRRPv2 advertisement (RFC 3768 §5.1); IPv4 only. */
export interface VrrpAdvertV2 extends VrrpAdvertCommon {
  version: 2;
  family: 4;
  /** Auth Type, {@link VRRP_AUTH}; other values are kept as received. */
  authType: number;
  /** Authentication Data, exactly 8 bytes (RFC 3768 §5.3.10: zero unless auth type 1). */
  authData: Buffer;
  /** Advertisement Interval, whole seconds (RFC 3768 §5.3.7). */
  advertIntS: number;
}

/** A VRRPv3 advertisement (RFC 5798 §5.1), IPv4 or IPv6. */
export interface VrrpAdvertV3 extends VrrpAdvertCommon {
  version: 3;
  family: 4 | 6;
  /**
   * Max Advertise Interval, centiseconds, 12 bits (RFC 5798 §5.2.7). The 4
   * reserved bits before it are sent as zero and ignored on receipt
   * (RFC 5798 §5.2.6).
   */
  maxAdvertIntCs: number;
}

/** Either version. */
export type VrrpAdvert = VrrpAdvertV2 | VrrpAdvertV3;

/**
 * What the VRRPv3 IPv4 checksum covers.
 * - `'pseudo-header'`: the IPv4 pseudo-header (src, dst, 0, 112, VRRP length)
 *   and the VRRP message. keepalived's default, and what tcpdump and
 *   Wireshark verify.
 * - `'vrrp-only'`: the VRRP message alone, as in v2. keepalived's
 *   `v3_checksum_as_v2` (2.2.8+), needed for some vendors and for RFC 9568
 *   as keepalived reads it.
 *
 * v2 never uses the pseudo-header and IPv6 always does (RFC 5798 §5.2.8);
 * the mode only matters for v3 over IPv4.
 */
export type VrrpChecksumMode = 'pseudo-header' | 'vrrp-only';

/** Addresses and mode the checksum is computed with. */
export interface VrrpChecksumContext {
  /** Source address of the IP packet (an IPv6 `%scope` suffix is ignored). */
  src: string;
  /** Destination: the group, or the unicast peer (RFC 5798 §5.1.1.2). */
  dst: string;
  /** v3 over IPv4 only; default `'pseudo-header'` (keepalived's default). */
  checksum?: VrrpChecksumMode;
}

/** Options of {@link decodeVrrp}. */
export interface VrrpDecodeOptions {
  /** IP family the message came over; decides the address size. Default 4. */
  family?: 4 | 6;
  /** When given, verify the checksum and throw `XLB_ERR_CODEC_BAD_CHECKSUM` on mismatch. */
  verify?: VrrpChecksumContext;
}

// --- Helpers -------------------------------------------------------------------

/** Throw TRUNCATED when `n` bytes are not there at `off`. */
function need(buf: Uint8Array, off: number, n: number, field: string, proto = 'vrrp'): void {
  if (off + n > buf.length) throw new CodecError('XLB_ERR_CODEC_TRUNCATED', [proto, field, off], off);
}

/** CodecError BAD_VALUE for an encoder input. */
function badValue(field: string, value: unknown, offset = 0): CodecError {
  return new CodecError('XLB_ERR_CODEC_BAD_VALUE', ['vrrp', field, JSON.stringify(value) ?? String(value), offset], offset);
}

/** Integer range check of an encoder input. */
function checkField(field: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw badValue(field, v);
}

/** Address bytes (4 or 16) of `text` in `family`, `%scope` ignored; undefined if not such an address. */
function addrBytes(family: 4 | 6, text: string): Uint8Array | undefined {
  const pct = text.indexOf('%');
  const bare = pct < 0 ? text : text.slice(0, pct);
  let a;
  try {
    a = parseAddr(bare);
  } catch {
    return undefined;
  }
  if (a.family !== (family === 4 ? AF_INET : AF_INET6)) return undefined;
  return family === 4 ? a.bytes.subarray(0, 4) : a.bytes;
}

/** Canonical text of 4 or 16 address bytes. */
function addrText(family: 4 | 6, bytes: Uint8Array): string {
  if (family === 6) return formatAddr(AF_INET6, bytes);
  return formatAddr(AF_INET, bytes);
}

/** Canonical text of an address given as text, or undefined if it is not one of `family`. */
function canonical(family: 4 | 6, text: string): string | undefined {
  const b = addrBytes(family, text);
  return b === undefined ? undefined : addrText(family, b);
}

/** Bytes per address of `family`. */
function addrSize(family: 4 | 6): number {
  return family === 4 ? 4 : 16;
}

/** Whether the address bytes of `family` are multicast: 224.0.0.0/4 or ff00::/8. */
function isMulticast(family: 4 | 6, bytes: Uint8Array): boolean {
  return family === 4 ? (bytes[0]! & 0xf0) === 0xe0 : bytes[0] === 0xff;
}

// --- Intervals -----------------------------------------------------------------

/**
 * The advertisement interval of an advert, in milliseconds.
 * @param v a v2 advert (whole seconds) or a v3 advert (centiseconds)
 * @returns milliseconds
 */
export function advertIntervalMs(v: VrrpAdvert): number {
  return v.version === 2 ? v.advertIntS * 1000 : v.maxAdvertIntCs * 10;
}

/**
 * The wire value of an advertisement interval: v2 whole seconds (rounded, as
 * keepalived rounds `advert_int`), v3 centiseconds (rounded to 10 ms).
 * @param version 2 or 3
 * @param ms interval, milliseconds
 * @returns seconds (v2, 1..255) or centiseconds (v3, 1..4095)
 * @throws RangeError when the rounded value does not fit the field or is 0
 */
export function advertIntervalToWire(version: 2 | 3, ms: number): number {
  const v = version === 2 ? Math.round(ms / 1000) : Math.round(ms / 10);
  const max = version === 2 ? VRRP_V2_MAX_ADVERT_INT_S : VRRP_V3_MAX_ADVERT_INT_CS;
  if (!Number.isFinite(ms) || v < 1 || v > max) {
    throw new RangeError(`VRRPv${version} advert interval ${ms} ms does not fit ${version === 2 ? '1..255 s' : '10..40950 ms'}`);
  }
  return v;
}

/**
 * Authentication Data of auth type PASS: the password's bytes, truncated to
 * 8 and zero padded (RFC 2338 §5.3.6.1; keepalived truncates longer ones).
 * @param pass the password (UTF-8) or its bytes
 * @returns a new 8-byte Buffer
 */
export function vrrpAuthPass(pass: string | Uint8Array): Buffer {
  const out = Buffer.alloc(VRRP_AUTH_DATA_BYTES);
  const b = typeof pass === 'string' ? Buffer.from(pass, 'utf8') : pass;
  out.set(b.subarray(0, VRRP_AUTH_DATA_BYTES));
  return out;
}

// --- Length, checksum ------------------------------------------------------------

/**
 * Wire length of an advert: 8 + count × (4 or 16), plus 8 bytes of
 * Authentication Data in v2.
 * @param v the advert
 * @returns bytes
 */
export function vrrpLength(v: VrrpAdvert): number {
  return VRRP_HEADER_BYTES + v.addresses.length * addrSize(v.family) + (v.version === 2 ? VRRP_AUTH_DATA_BYTES : 0);
}

/** Whether a message of `version` over `family` is checksummed with the pseudo-header. */
function usesPseudoHeader(version: number, family: 4 | 6, mode: VrrpChecksumMode | undefined): boolean {
  if (family === 6) return true; // RFC 5798 §5.2.8
  if (version === 2) return false; // RFC 3768 §5.3.8
  return (mode ?? 'pseudo-header') === 'pseudo-header';
}

/**
 * The checksum a VRRP message should carry, computed as if its checksum
 * field were zero (the field's current content is ignored).
 *
 * - v2: RFC 1071 over the VRRP message, Authentication Data included
 *   (RFC 3768 §5.3.8).
 * - v3 IPv4: with the IPv4 pseudo-header (src, dst, 0, 112, VRRP length) by
 *   default, or without it for `checksum: 'vrrp-only'` (RFC 5798 §5.2.8,
 *   RFC 9568; see {@link VrrpChecksumMode}).
 * - v3 IPv6: with the IPv6 pseudo-header (RFC 8200 §8.1).
 *
 * The version is read from the message's first byte.
 * @param buf buffer holding the message
 * @param offset first byte of the message
 * @param length message length (the length in the pseudo-header)
 * @param family IP family it travels over
 * @param ctx source and destination address, mode
 * @returns the checksum, 0..0xffff
 * @throws CodecError BAD_LENGTH if `length` < 8; TRUNCATED if the message is
 *   not in `buf`; BAD_VALUE if an address in `ctx` is not of `family` and the
 *   pseudo-header is needed
 */
export function vrrpChecksum(buf: Buffer, offset: number, length: number, family: 4 | 6, ctx: VrrpChecksumContext): number {
  if (length < VRRP_HEADER_BYTES) throw new CodecError('XLB_ERR_CODEC_BAD_LENGTH', ['vrrp', 'checksummed length', length, offset], offset);
  need(buf, offset, length, 'checksum');
  const version = buf[offset]! >> 4;
  let ph = 0;
  if (usesPseudoHeader(version, family, ctx.checksum)) {
    const src = addrBytes(family, ctx.src);
    const dst = addrBytes(family, ctx.dst);
    if (src === undefined) throw badValue('checksum source address', ctx.src, offset);
    if (dst === undefined) throw badValue('checksum destination address', ctx.dst, offset);
    ph = pseudoHeaderSum(family, src, dst, VRRP_PROTO, length);
  }
  // Sum around the checksum field; the first piece has an even length, so the sums compose (RFC 1071 §2(B)).
  const s = onesSum(buf, offset + CHECKSUM_AT + 2, length - CHECKSUM_AT - 2, onesSum(buf, offset, CHECKSUM_AT, ph));
  return ~foldSum(s) & 0xffff;
}

/** Result of {@link checkVrrpChecksum}. */
export interface VrrpChecksumCheck {
  /** Whether the received checksum is right (0x0000 and 0xffff are the same ones' complement zero). */
  ok: boolean;
  /** The checksum field as received. */
  got: number;
  /** What it should be. */
  expected: number;
}

/**
 * Receiver-side checksum check of a VRRP message (see {@link vrrpChecksum}
 * for what is covered).
 * @param buf buffer holding the message
 * @param offset first byte of the message
 * @param length message length
 * @param family IP family it came over
 * @param ctx source and destination address as received, mode
 * @returns whether it is right, the received and the expected value
 * @throws CodecError as {@link vrrpChecksum}
 */
export function checkVrrpChecksum(buf: Buffer, offset: number, length: number, family: 4 | 6, ctx: VrrpChecksumContext): VrrpChecksumCheck {
  const expected = vrrpChecksum(buf, offset, length, family, ctx);
  const got = buf.readUInt16BE(offset + CHECKSUM_AT);
  // RFC 1071 §1 (3): the sum over everything, field included, is all ones.
  const ok = foldSum(got + (~expected & 0xffff)) === 0xffff;
  return { ok, got, expected };
}

// --- Encode / decode ------------------------------------------------------------------

/**
 * Encode an advert, checksum included.
 *
 * On an IPv6 raw socket with IPV6_CHECKSUM = 6 the kernel rewrites the
 * checksum anyway (it ignores the field's content), so the value written
 * here is harmless there and right everywhere else.
 * @param v the advert; v2 only with family 4; at most 255 addresses
 * @param ctx source and destination address of the IP packet (for the
 *   pseudo-header; v2 does not use them but they are still required, to
 *   keep one call shape), and the v3 IPv4 checksum mode
 * @param buf where to write; allocated when absent
 * @param offset where in `buf`
 * @returns `buf` (or the new buffer), holding exactly {@link vrrpLength} bytes at `offset`
 * @throws CodecError BAD_VALUE for a field out of range or an address of the
 *   wrong family; BAD_LENGTH if `buf` has no room
 */
export function encodeVrrp(v: VrrpAdvert, ctx: VrrpChecksumContext, buf?: Buffer, offset = 0): Buffer {
  if (v.version !== 2 && v.version !== 3) throw badValue('version', (v as { version: unknown }).version);
  if (v.family !== 4 && v.family !== 6) throw badValue('family', (v as { family: unknown }).family);
  if (v.version === 2 && v.family !== 4) throw badValue('family', `VRRPv2 is IPv4 only (RFC 3768), got IPv${String((v as { family: unknown }).family)}`);
  checkField('type', v.type, 0x0f);
  checkField('vrid', v.vrid, 0xff);
  checkField('priority', v.priority, 0xff);
  if (v.addresses.length > VRRP_MAX_ADDRS) throw badValue('count', v.addresses.length);
  const addrs = v.addresses.map((a, i) => {
    const b = addrBytes(v.family, a);
    if (b === undefined || a.includes('%')) throw badValue(`ip_addrs[${i}]`, a);
    return b;
  });
  if (v.version === 2) {
    checkField('auth_type', v.authType, 0xff);
    checkField('advert_int', v.advertIntS, VRRP_V2_MAX_ADVERT_INT_S);
    if (!Buffer.isBuffer(v.authData) || v.authData.length !== VRRP_AUTH_DATA_BYTES) {
      throw badValue('auth_data', `${Buffer.isBuffer(v.authData) ? v.authData.length : typeof v.authData} bytes, must be ${VRRP_AUTH_DATA_BYTES}`);
    }
  } else {
    checkField('max_advert_int', v.maxAdvertIntCs, VRRP_V3_MAX_ADVERT_INT_CS);
  }
  const len = vrrpLength(v);
  const out = buf ?? Buffer.alloc(len);
  if (offset < 0 || offset + len > out.length) throw new CodecError('XLB_ERR_CODEC_BAD_LENGTH', ['vrrp', 'output buffer', out.length, offset], offset);

  // RFC 3768 §5.1 / RFC 5798 §5.1: version|type, VRID, priority, count.
  let off = offset;
  out[off++] = (v.version << 4) | v.type;
  out[off++] = v.vrid;
  out[off++] = v.priority;
  out[off++] = addrs.length;
  if (v.version === 2) {
    out[off++] = v.authType; // RFC 3768 §5.3.6
    out[off++] = v.advertIntS; // RFC 3768 §5.3.7
  } else {
    off = out.writeUInt16BE(v.maxAdvertIntCs, off); // rsvd (4 bits) = 0, RFC 5798 §5.2.6-7
  }
  off = out.writeUInt16BE(0, off); // checksum, filled below
  for (const a of addrs) {
    out.set(a, off);
    off += a.length;
  }
  if (v.version === 2) {
    out.set(v.authData, off); // RFC 3768 §5.3.10
    off += VRRP_AUTH_DATA_BYTES;
  }
  out.writeUInt16BE(vrrpChecksum(out, offset, len, v.family, ctx), offset + CHECKSUM_AT);
  return out;
}

/**
 * Decode a VRRP message. Reads exactly {@link vrrpLength} bytes (from the
 * Count field); anything after them (Ethernet padding, trailers) is left
 * alone and not counted in `bytes`. Unknown types and auth types are kept.
 * The checksum is verified only when `opts.verify` is given.
 * @param buf the bytes
 * @param offset first byte of the VRRP message
 * @param opts `family` (default 4), `verify` (checksum context)
 * @returns the advert and the bytes it took
 * @throws CodecError TRUNCATED (header, `ip_addrs[i]`, `auth_data`),
 *   BAD_VERSION (not 2 or 3, or 2 over IPv6), BAD_CHECKSUM (with `verify`)
 */
export function decodeVrrp(buf: Buffer, offset = 0, opts: VrrpDecodeOptions = {}): Decoded<VrrpAdvert> {
  const family = opts.family ?? 4;
  need(buf, offset, 1, 'version');
  const version = buf[offset]! >> 4;
  // RFC 3768 §5.3.1, RFC 5798 §5.2.1; v2 has no IPv6 form.
  if ((version !== 2 && version !== 3) || (version === 2 && family === 6)) {
    throw new CodecError('XLB_ERR_CODEC_BAD_VERSION', ['vrrp', version, offset], offset);
  }
  need(buf, offset, VRRP_HEADER_BYTES, 'header');
  const type = buf[offset]! & 0x0f;
  const vrid = buf[offset + 1]!;
  const priority = buf[offset + 2]!;
  const count = buf[offset + 3]!;
  const size = addrSize(family);
  let off = offset + VRRP_HEADER_BYTES;
  const addresses: string[] = [];
  for (let i = 0; i < count; i++) {
    need(buf, off, size, `ip_addrs[${i}]`);
    addresses.push(addrText(family, buf.subarray(off, off + size)));
    off += size;
  }
  let value: VrrpAdvert;
  if (version === 2) {
    need(buf, off, VRRP_AUTH_DATA_BYTES, 'auth_data');
    const authData = Buffer.from(buf.subarray(off, off + VRRP_AUTH_DATA_BYTES));
    off += VRRP_AUTH_DATA_BYTES;
    value = { version: 2, type, vrid, priority, family: 4, addresses, authType: buf[offset + 4]!, authData, advertIntS: buf[offset + 5]! };
  } else {
    // RFC 5798 §5.2.6: the 4 reserved bits are ignored on receipt.
    value = { version: 3, type, vrid, priority, family, addresses, maxAdvertIntCs: buf.readUInt16BE(offset + 4) & 0x0fff };
  }
  const bytes = off - offset;
  if (opts.verify) {
    const c = checkVrrpChecksum(buf, offset, bytes, family, opts.verify);
    if (!c.ok) {
      const hex = (n: number): string => n.toString(16).padStart(4, '0');
      throw new CodecError('XLB_ERR_CODEC_BAD_CHECKSUM', ['vrrp', hex(c.got), hex(c.expected), offset + CHECKSUM_AT], offset + CHECKSUM_AT);
    }
  }
  return { value, bytes };
}

/**
 * The VRID of a datagram as a raw socket delivers it, without decoding the
 * rest: the runner demultiplexes by VRID before {@link validateAdvert}.
 * @param packet IPv4: the datagram from its IPv4 header; IPv6: the VRRP message
 * @param family 4 or 6
 * @param offset first byte of `packet`
 * @returns the VRID, or undefined when the datagram is too short (or, for 4, not IPv4)
 */
export function peekVrrpVrid(packet: Buffer, family: 4 | 6, offset = 0): number | undefined {
  let at = offset;
  if (family === 4) {
    const b0 = packet[offset];
    if (b0 === undefined || b0 >> 4 !== 4) return undefined;
    at += (b0 & 0x0f) * 4;
  }
  return packet[at + 1];
}

// --- IP headers --------------------------------------------------------------------

/** The fields of an IPv4 header (RFC 791 §3.1) a VRRP receiver uses. */
export interface Ipv4Header {
  /** IHL × 4, bytes; the VRRP message starts this far from the header. */
  headerLength: number;
  /** Type of Service / DSCP+ECN byte (VRRP sends 0xc0, keepalived.md §1.1). */
  tos: number;
  /** Total Length: header + payload, bytes. Anything received beyond it is link padding. */
  totalLength: number;
  /** Identification. */
  id: number;
  /** The 3 flag bits (bit 1 = DF, bit 0 = MF). */
  flags: number;
  /** Fragment Offset, 8-byte units. */
  fragmentOffset: number;
  /** Time to Live as received. */
  ttl: number;
  /** Protocol: 112 for VRRP, 51 for AH. */
  protocol: number;
  /** Header Checksum as received (the kernel has verified it). */
  checksum: number;
  /** Source address. */
  src: string;
  /** Destination address. */
  dst: string;
}

/**
 * Decode an IPv4 header (RFC 791 §3.1), as an IPv4 raw socket delivers it in
 * front of the payload. The header checksum is not verified (the kernel did).
 * @param buf the bytes
 * @param offset first byte of the header
 * @returns the header; `bytes` = IHL × 4 = where the payload starts
 * @throws CodecError TRUNCATED, BAD_VERSION (not 4), BAD_LENGTH (IHL < 5,
 *   total length shorter than the header)
 */
export function decodeIpv4Header(buf: Buffer, offset = 0): Decoded<Ipv4Header> {
  need(buf, offset, 1, 'version', 'ipv4');
  const version = buf[offset]! >> 4;
  if (version !== 4) throw new CodecError('XLB_ERR_CODEC_BAD_VERSION', ['ipv4', version, offset], offset);
  const headerLength = (buf[offset]! & 0x0f) * 4;
  if (headerLength < IPV4_MIN_HEADER_BYTES) throw new CodecError('XLB_ERR_CODEC_BAD_LENGTH', ['ipv4', 'ihl', headerLength, offset], offset);
  need(buf, offset, IPV4_MIN_HEADER_BYTES, 'header', 'ipv4');
  need(buf, offset, headerLength, 'options', 'ipv4');
  const totalLength = buf.readUInt16BE(offset + 2);
  if (totalLength < headerLength) throw new CodecError('XLB_ERR_CODEC_BAD_LENGTH', ['ipv4', 'total_length', totalLength, offset + 2], offset + 2);
  const frag = buf.readUInt16BE(offset + 6);
  return {
    value: {
      headerLength,
      tos: buf[offset + 1]!,
      totalLength,
      id: buf.readUInt16BE(offset + 4),
      flags: frag >> 13,
      fragmentOffset: frag & 0x1fff,
      ttl: buf[offset + 8]!,
      protocol: buf[offset + 9]!,
      checksum: buf.readUInt16BE(offset + 10),
      src: addrText(4, buf.subarray(offset + 12, offset + 16)),
      dst: addrText(4, buf.subarray(offset + 16, offset + 20)),
    },
    bytes: headerLength,
  };
}

// --- Receive validation ----------------------------------------------------------------

/**
 * Why a received advert was dropped, in the order the checks run (after
 * keepalived's `vrrp_check_packet`, keepalived.md §1.4). Names are stable
 * (one Prometheus counter each); where keepalived has a counter of the same
 * meaning (`vrrp_stats`), the name is keepalived's.
 */
export const VRRP_DROP_REASONS = [
  'proto_err',
  'ah_unsupported',
  'packet_len_err',
  'vrid_err',
  'ip_ttl_err',
  'vers_err',
  'invalid_authtype',
  'authtype_mismatch',
  'auth_failure',
  'advert_interval_err',
  'invalid_type_rcvd',
  'chk_err',
  'dst_mismatch',
  'unknown_peer',
] as const;

/** One of {@link VRRP_DROP_REASONS}. */
export type VrrpDropReason = (typeof VRRP_DROP_REASONS)[number];

/** What a drop reason means and whom it is counted against. */
export interface VrrpDropReasonInfo {
  /**
   * `'instance'`: an error of this instance's peer or config (count per
   * instance). `'socket'`: the datagram is not for this instance at all
   * (another VRID or protocol on the shared socket); count per interface,
   * not as an error of the instance.
   */
  scope: 'instance' | 'socket';
  /** keepalived's `vrrp_stats` counter of the same meaning, or null when it has none. */
  keepalived: string | null;
  /** One line, for the counter's help text. */
  help: string;
}

/** Meaning and scope of each {@link VrrpDropReason}. */
export const VRRP_DROP_REASON_INFO: Readonly<Record<VrrpDropReason, VrrpDropReasonInfo>> = {
  proto_err: { scope: 'socket', keepalived: null, help: 'IP protocol is not VRRP (112)' },
  ah_unsupported: { scope: 'instance', keepalived: null, help: 'IPsec AH (IP protocol 51, or VRRPv2 auth type 2): not supported' },
  packet_len_err: { scope: 'instance', keepalived: 'packet_len_err', help: 'shorter than its header and address count, or than the IPv4 total length' },
  vrid_err: { scope: 'socket', keepalived: 'vrid_err', help: 'VRID of another virtual router' },
  ip_ttl_err: { scope: 'instance', keepalived: 'ip_ttl_err', help: 'TTL/hop limit not 255 (multicast), or outside the unicast peer\'s min_ttl..max_ttl' },
  vers_err: { scope: 'instance', keepalived: 'vers_err', help: 'VRRP version differs from the configured one' },
  invalid_authtype: { scope: 'instance', keepalived: 'invalid_authtype', help: 'VRRPv2 auth type unknown' },
  authtype_mismatch: { scope: 'instance', keepalived: 'authtype_mismatch', help: 'VRRPv2 auth type differs from the configured one' },
  auth_failure: { scope: 'instance', keepalived: 'auth_failure', help: 'VRRPv2 password differs' },
  advert_interval_err: { scope: 'instance', keepalived: 'advert_interval_err', help: 'VRRPv2 advert interval differs from the configured one' },
  invalid_type_rcvd: { scope: 'instance', keepalived: 'invalid_type_rcvd', help: 'VRRP type is not ADVERTISEMENT (1)' },
  chk_err: { scope: 'instance', keepalived: 'chk_err', help: 'bad VRRP checksum' },
  dst_mismatch: { scope: 'instance', keepalived: null, help: 'destination is multicast on a unicast instance, or unicast on a multicast one' },
  unknown_peer: { scope: 'instance', keepalived: null, help: 'unicast source is not a configured peer' },
};

/** Things worth a log line and a counter that do not drop the advert. */
export const VRRP_WARNINGS = [
  /** v3 Max Advertise Interval differs from ours: the backup learns it (RFC 5798 §6.4.2). */
  'advert_interval_mismatch',
  /** Address count or list differs from the configured one (keepalived 2.3.3+: not a drop). */
  'addr_list_err',
] as const;

/** One of {@link VRRP_WARNINGS}. */
export type VrrpWarningKind = (typeof VRRP_WARNINGS)[number];

/** A warning about an accepted advert. */
export interface VrrpWarning {
  kind: VrrpWarningKind;
  /** Human-readable: what was received and what was expected. */
  detail: string;
}

/**
 * How a datagram was received.
 * - `{ family: 4 }`: `packet` is what an IPv4 raw socket delivers, the IPv4
 *   header first; source, destination, TTL and protocol are read from it.
 * - `{ family: 6, ... }`: `packet` is the VRRP message (an IPv6 raw socket
 *   strips the header); the rest comes from recvmsg.
 */
export type VrrpRxMeta =
  | { family: 4 }
  | {
      family: 6;
      /** Source address (the sender's link-local address, RFC 5798 §5.1.2.1); a `%scope` suffix is ignored. */
      src: string;
      /** Destination address (IPV6_PKTINFO). */
      dst: string;
      /** Hop limit as received (IPV6_HOPLIMIT). */
      hopLimit: number;
    };

/** A unicast peer (keepalived `unicast_peer { ADDR [min_ttl N] [max_ttl N] }`). */
export interface VrrpPeer {
  /** The peer's address. */
  address: string;
  /** Lowest TTL accepted from it (default 0). */
  minTtl?: number;
  /** Highest TTL accepted from it (default 255). */
  maxTtl?: number;
}

/** The receiving instance's view: what an acceptable advert looks like. */
export interface VrrpExpect {
  /** Our VRID. */
  vrid: number;
  /** Our version. */
  version: 2 | 3;
  /** v2: our auth type, {@link VRRP_AUTH} NONE (default) or PASS. Ignored for v3. */
  authType?: number;
  /** v2 PASS: the password, ≤ 8 bytes, zero padded (see {@link vrrpAuthPass}); compared in constant time. */
  authPass?: Uint8Array;
  /** Our advert interval, ms (compared as the wire value: v2 seconds, v3 centiseconds). */
  advertIntMs: number;
  /** Unicast instance: the destination must not be multicast and any TTL is fine (unless a peer limits it). */
  unicast: boolean;
  /** Unicast peers. */
  peers?: readonly VrrpPeer[];
  /** Unicast: drop adverts whose source is not in `peers` (keepalived `check_unicast_src`); implied when a peer has min/max TTL. */
  checkUnicastSrc?: boolean;
  /** v3 IPv4 checksum mode (default `'pseudo-header'`). */
  checksum?: VrrpChecksumMode;
  /** Our virtual addresses; when given, a different list in the advert is a warning (never a drop). */
  addresses?: readonly string[];
}

/** An accepted advert. */
export interface VrrpAccepted {
  ok: true;
  /** The decoded advert. */
  advert: VrrpAdvert;
  /** Source address of the packet (the master's primary address, for RFC 5798 §6.4.3 ties). */
  src: string;
  /** Destination address. */
  dst: string;
  /** TTL / hop limit as received. */
  ttl: number;
  /** Non-fatal findings, in check order. */
  warnings: VrrpWarning[];
}

/** A dropped advert: no advert is returned. */
export interface VrrpDropped {
  ok: false;
  /** Stable reason name (a counter label). */
  reason: VrrpDropReason;
  /** Human-readable: what was received and what was expected. */
  detail: string;
}

/** Result of {@link validateAdvert}. */
export type VrrpCheckResult = VrrpAccepted | VrrpDropped;

/**
 * Compare the 8 bytes of Authentication Data with the configured password in
 * constant time: always 8 iterations, no early exit, no branch on the bytes.
 * The password is zero padded to 8 bytes, and bytes after the 8th are
 * ignored (keepalived truncates longer passwords).
 */
function authDataEqual(buf: Buffer, off: number, pass: Uint8Array | undefined): boolean {
  let diff = 0;
  for (let i = 0; i < VRRP_AUTH_DATA_BYTES; i++) diff |= buf[off + i]! ^ (pass?.[i] ?? 0);
  return diff === 0;
}

/**
 * Check a received datagram the way a VRRP instance must before its state
 * machine sees it (RFC 3768 §7.1, RFC 5798 §7.1), in keepalived's order
 * (keepalived.md §1.4):
 *
 * 1. IP protocol is 112 (AH → `ah_unsupported`, other → `proto_err`);
 * 2. the VRID is ours (`vrid_err`, a socket-level reason);
 * 3. the message holds its header, addresses and (v2) auth data, within the
 *    IPv4 total length (`packet_len_err`); bytes after them are tolerated;
 * 4. TTL / hop limit is 255 unless unicast (`ip_ttl_err`);
 * 5. the version is ours (`vers_err`);
 * 6. v2: auth type known, not AH, ours; PASS data equal; advert interval
 *    equal (`invalid_authtype`, `ah_unsupported`, `authtype_mismatch`,
 *    `auth_failure`, `advert_interval_err`);
 * 7. type is ADVERTISEMENT (`invalid_type_rcvd`);
 * 8. IPv4: the datagram is not shorter than its total length (Ethernet
 *    padding after it is fine, keepalived 2.3.2+) (`packet_len_err`);
 * 9. v3: advert interval differs → warning only (the backup learns it);
 * 10. checksum (`chk_err`; v3 IPv4 per `expect.checksum`);
 * 11. destination is multicast iff the instance is not unicast (`dst_mismatch`);
 * 12. address list differs from `expect.addresses` → warning only
 *     (keepalived 2.3.3+; 2.2.7's drop caused dual masters);
 * 13. unicast with `checkUnicastSrc` or a peer TTL range: the source is a
 *     peer (`unknown_peer`) and the TTL within its range (`ip_ttl_err`).
 *
 * Not checked here: AH and `auth_hmac` (unsupported), keepalived's
 * `owner_ignore_adverts`.
 * @param packet IPv4: the datagram from its IPv4 header (as an IPv4 raw
 *   socket delivers it); IPv6: the VRRP message
 * @param meta how it was received (see {@link VrrpRxMeta})
 * @param expect the instance's configuration
 * @returns `{ ok: true, advert, src, dst, ttl, warnings }` or `{ ok: false, reason, detail }`
 * @throws RangeError / TypeError only for a bad `expect` or `meta` (an
 *   advert interval that does not fit the version, an IPv6 meta address that
 *   is not one): never for the packet's content
 */
export function validateAdvert(packet: Buffer, meta: VrrpRxMeta, expect: VrrpExpect): VrrpCheckResult {
  const drop = (reason: VrrpDropReason, detail: string): VrrpDropped => ({ ok: false, reason, detail });
  const family = meta.family;
  let off = 0; // first byte of the VRRP message
  let avail: number; // bytes of the VRRP message available (within the IPv4 total length)
  const received = packet.length; // what the socket delivered
  let totalLength = 0; // IPv4 total length
  let src: string;
  let dst: string;
  let ttl: number;
  if (family === 4) {
    let ip: Ipv4Header;
    try {
      const d = decodeIpv4Header(packet);
      ip = d.value;
    } catch (e) {
      // The kernel only delivers well-formed IPv4 headers; this is for fed-in bytes.
      if (!(e instanceof CodecError)) throw e;
      return drop(e.code === 'XLB_ERR_CODEC_BAD_VERSION' ? 'proto_err' : 'packet_len_err', `IPv4 header: ${e.message}`);
    }
    // 1. keepalived.md §1.4 item 1: AH must match auth_type AH, which is unsupported here.
    if (ip.protocol === IPPROTO_AH) return drop('ah_unsupported', 'IPsec AH (IP protocol 51) is not supported');
    if (ip.protocol !== VRRP_PROTO) return drop('proto_err', `IP protocol ${ip.protocol}, expected ${VRRP_PROTO}`);
    off = ip.headerLength;
    totalLength = ip.totalLength;
    avail = Math.min(received, totalLength) - off;
    ({ src, dst, ttl } = ip);
  } else {
    off = 0;
    avail = received;
    const s = canonical(6, meta.src);
    const d = canonical(6, meta.dst);
    if (s === undefined || d === undefined) throw new TypeError(`validateAdvert: bad IPv6 address in meta: ${meta.src} -> ${meta.dst}`);
    src = s;
    dst = d;
    ttl = meta.hopLimit;
  }

  // 2. The VRID (the runner demuxes on it first, so this is a socket-level reason).
  if (avail < VRRP_HEADER_BYTES) return drop('packet_len_err', `${avail} bytes, less than the ${VRRP_HEADER_BYTES}-byte VRRP header`);
  const vrid = packet[off + 1]!;
  if (vrid !== expect.vrid) return drop('vrid_err', `VRID ${vrid}, ours is ${expect.vrid}`);

  // 3. keepalived.md §1.4 item 2: length from the count field (RFC 3768 §7.1, RFC 5798 §7.1).
  const b0 = packet[off]!;
  const version = b0 >> 4;
  const count = packet[off + 3]!;
  const layoutVersion = version === 2 || version === 3 ? version : expect.version;
  const msgLen = VRRP_HEADER_BYTES + count * addrSize(family) + (layoutVersion === 2 ? VRRP_AUTH_DATA_BYTES : 0);
  if (avail < msgLen) return drop('packet_len_err', `${avail} bytes, the header with ${count} addresses needs ${msgLen}`);

  // 4. item 3: TTL / hop limit 255 (RFC 3768 §7.1, RFC 5798 §7.1), not for unicast.
  if (!expect.unicast && ttl !== VRRP_TTL) return drop('ip_ttl_err', `${family === 4 ? 'TTL' : 'hop limit'} ${ttl}, expected ${VRRP_TTL}`);

  // 5. item 4: version.
  if (version !== expect.version || (version === 2 && family === 6)) {
    return drop('vers_err', `version ${version}${family === 6 ? ' over IPv6' : ''}, expected ${expect.version}`);
  }

  // 6. item 6: v2 authentication and interval (RFC 3768 §7.1; RFC 2338 §5.3.6).
  if (version === 2) {
    const authType = packet[off + 4]!;
    const wantAuth = expect.authType ?? VRRP_AUTH.NONE;
    if (authType === VRRP_AUTH.AH) return drop('ah_unsupported', 'VRRPv2 auth type 2 (IPsec AH) is not supported');
    if (authType !== VRRP_AUTH.NONE && authType !== VRRP_AUTH.PASS) return drop('invalid_authtype', `auth type ${authType}`);
    if (authType !== wantAuth) return drop('authtype_mismatch', `auth type ${vrrpAuthTypeName(authType)}, expected ${vrrpAuthTypeName(wantAuth)}`);
    if (authType === VRRP_AUTH.PASS && !authDataEqual(packet, off + msgLen - VRRP_AUTH_DATA_BYTES, expect.authPass)) {
      return drop('auth_failure', 'password differs');
    }
    const wantInt = advertIntervalToWire(2, expect.advertIntMs);
    const gotInt = packet[off + 5]!;
    if (gotInt !== wantInt) return drop('advert_interval_err', `advert interval ${gotInt} s, expected ${wantInt} s`);
  }

  // 7. item 7: type (RFC 3768 §5.3.2, RFC 5798 §5.2.2).
  const type = b0 & 0x0f;
  if (type !== VRRP_TYPE.ADVERTISEMENT) return drop('invalid_type_rcvd', `type ${type} (${vrrpTypeName(type)})`);

  // 8. item 8: the IPv4 datagram is complete; link padding after it is tolerated.
  if (family === 4 && received < totalLength) return drop('packet_len_err', `received ${received} bytes, IPv4 total length ${totalLength}`);

  const { value: advert } = decodeVrrp(packet, off, { family });
  const warnings: VrrpWarning[] = [];

  // 9. item 9: v3 interval mismatch is only a warning (RFC 5798 §6.4.2 learns it).
  if (advert.version === 3) {
    const wantCs = advertIntervalToWire(3, expect.advertIntMs);
    if (advert.maxAdvertIntCs !== wantCs) {
      warnings.push({ kind: 'advert_interval_mismatch', detail: `advert interval ${advert.maxAdvertIntCs * 10} ms, ours is ${wantCs * 10} ms` });
    }
  }

  // 10. item 10: checksum (RFC 3768 §5.3.8, RFC 5798 §5.2.8).
  const c = checkVrrpChecksum(packet, off, msgLen, family, { src, dst, checksum: expect.checksum });
  if (!c.ok) {
    const hex = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;
    const mode = usesPseudoHeader(version, family, expect.checksum) ? 'with pseudo-header' : 'without pseudo-header';
    return drop('chk_err', `checksum ${hex(c.got)}, expected ${hex(c.expected)} (${mode})`);
  }

  // 11. item 11: multicast iff not unicast.
  const dstMulticast = isMulticast(family, addrBytes(family, dst)!);
  if (dstMulticast === expect.unicast) {
    return drop('dst_mismatch', `destination ${dst} is ${dstMulticast ? 'multicast' : 'unicast'} on a ${expect.unicast ? 'unicast' : 'multicast'} instance`);
  }

  // 12. item 13: the address list (keepalived 2.3.3+, RFC 9568: log, do not drop).
  if (expect.addresses !== undefined) {
    const ours = new Set(expect.addresses.map((a) => canonical(family, a) ?? a));
    const theirs = new Set(advert.addresses);
    const same = ours.size === theirs.size && advert.addresses.length === expect.addresses.length && [...theirs].every((a) => ours.has(a));
    if (!same) {
      warnings.push({ kind: 'addr_list_err', detail: `addresses [${advert.addresses.join(', ')}], ours are [${[...ours].join(', ')}]` });
    }
  }

  // 13. item 14: unicast source and per-peer TTL range.
  if (expect.unicast) {
    const peers = expect.peers ?? [];
    const ttlLimited = peers.some((p) => p.minTtl !== undefined || p.maxTtl !== undefined);
    if (expect.checkUnicastSrc || ttlLimited) {
      const peer = peers.find((p) => canonical(family, p.address) === src);
      if (peer === undefined) return drop('unknown_peer', `source ${src} is not a unicast peer`);
      const lo = peer.minTtl ?? 0;
      const hi = peer.maxTtl ?? 255;
      if (ttl < lo || ttl > hi) return drop('ip_ttl_err', `TTL ${ttl} from ${src}, outside ${lo}..${hi}`);
    }
  }

  return { ok: true, advert, src, dst, ttl, warnings };
}
