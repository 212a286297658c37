/**
 * Gratuitous ARP and unsolicited IPv6 neighbour advertisements: what a new
 * VRRP master sends so that switches and neighbours learn that a virtual
 * address moved (keepalived.md §1.15). Codecs for ARP (RFC 826), the
 * Ethernet header, the fixed IPv6 header (RFC 8200 §3) and ICMPv6 Neighbor
 * Advertisements (RFC 4861 §4.4) with their options, builders for the two
 * announcements, and decoders with the receive checks, used by tests.
 *
 * Layer: pure codec (H-28, H-32). No I/O: the frames go out through
 * native/socket.ts's PacketSocket (AF_PACKET, SOCK_DGRAM), which adds the
 * Ethernet header from {@link LinkFrame}'s destination and ethertype. The
 * ICMPv6 checksum comes from net/checksum.ts. Decoders check the length
 * before every read and throw {@link CodecError} naming the field.
 *
 * What keepalived sends, and so what this builds:
 * - GARP (`vrrp_arp.c`): an ARP REQUEST (op 1) to ff:ff:ff:ff:ff:ff with
 *   SHA = the interface (or VMAC) MAC, SPA = TPA = the VIP, THA =
 *   ff:ff:ff:ff:ff:ff. (RFC 5227 §3 prefers THA zero for ARP
 *   announcements; keepalived's broadcast THA is kept for compatibility with
 *   what deployed peers and switches have seen for years.)
 * - Unsolicited NA (`vrrp_ndisc.c`): from the VIP to ff02::1
 *   (33:33:00:00:00:01), hop limit 255, Override set, Solicited clear
 *   (RFC 4861 §7.2.6), Router set when the interface forwards, with a
 *   Target Link-Layer Address option carrying the MAC.
 *
 * @module net/arp-nd
 */
import { CodecError } from '../errors.js';
import { AF_INET, AF_INET6, formatAddr, parseAddr } from './addr.js';
import { l4Checksum, l4ChecksumValid, IPPROTO_ICMPV6 } from './checksum.js';

/** A decoded value and the bytes it took (H-32). */
export interface Decoded<T> {
  /** The decoded value. */
  value: T;
  /** Bytes it took in the input. */
  bytes: number;
}

// --- Constants ---------------------------------------------------------------

/** Ethertypes (IEEE 802 numbers; linux/if_ether.h). */
export const ETHERTYPE = {
  IPV4: 0x0800,
  ARP: 0x0806,
  IPV6: 0x86dd,
} as const;

/** Ethernet header length, bytes (dst 6, src 6, type 2). */
export const ETH_HLEN = 14;
/** Ethernet/IPv4 ARP packet length, bytes (RFC 826: 8 + 2 * (6 + 4)). */
export const ARP_LEN = 28;
/** Fixed IPv6 header length, bytes (RFC 8200 §3). */
export const IPV6_HEADER_LEN = 40;
/** Neighbor Advertisement without options, bytes (RFC 4861 §4.4). */
export const NA_MIN_LEN = 24;
/** Hop limit of every Neighbor Discovery message; receivers drop others (RFC 4861 §7.1.2). */
export const ND_HOP_LIMIT = 255;
/** All-nodes link-local multicast group (RFC 4291 §2.7.1), where unsolicited NAs go (RFC 4861 §7.2.6). */
export const ALL_NODES = 'ff02::1';
/** Ethernet broadcast. */
export const MAC_BROADCAST = 'ff:ff:ff:ff:ff:ff';

/** ARP hardware types (RFC 826 ar$hrd; IANA "Hardware Types"). */
export const ARP_HRD = {
  ETHERNET: 1,
} as const;

/** ARP opcodes (RFC 826 ar$op). */
export const ARP_OP = {
  REQUEST: 1,
  REPLY: 2,
} as const;

/** ICMPv6 Neighbor Discovery message types (RFC 4861 §4). */
export const ND_TYPE = {
  ROUTER_SOLICITATION: 133,
  ROUTER_ADVERTISEMENT: 134,
  NEIGHBOR_SOLICITATION: 135,
  NEIGHBOR_ADVERTISEMENT: 136,
  REDIRECT: 137,
} as const;

/** Neighbor Discovery option types (RFC 4861 §4.6). */
export const ND_OPT = {
  SOURCE_LINK_LAYER_ADDRESS: 1,
  TARGET_LINK_LAYER_ADDRESS: 2,
  PREFIX_INFORMATION: 3,
  REDIRECTED_HEADER: 4,
  MTU: 5,
} as const;

/** Neighbor Advertisement flag bits in the first byte after the checksum (RFC 4861 §4.4). */
const NA_FLAG_ROUTER = 0x80;
const NA_FLAG_SOLICITED = 0x40;
const NA_FLAG_OVERRIDE = 0x20;

// --- MAC addresses -----------------------------------------------------------

/**
 * `aa:bb:cc:dd:ee:ff` (or with `-`) as 6 bytes.
 * @throws TypeError when it is not a 48-bit MAC
 */
export function parseMac(text: string): Buffer {
  if (typeof text !== 'string' || !/^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i.test(text)) throw new TypeError(`not a MAC address: ${JSON.stringify(text)}`);
  return Buffer.from(text.split(/[:-]/).map((x) => parseInt(x, 16)));
}

/** 6 bytes at `offset` as `aa:bb:cc:dd:ee:ff`. */
export function formatMac(b: Uint8Array, offset = 0): string {
  return Array.from(b.subarray(offset, offset + 6), (x) => x.toString(16).padStart(2, '0')).join(':');
}

/**
 * The Ethernet multicast MAC of an IPv6 multicast group: 33:33 and the
 * group's last 32 bits (RFC 2464 §7).
 * @throws TypeError when `group` is not an IPv6 multicast address (ff00::/8)
 */
export function ipv6MulticastMac(group: string): string {
  const b = ipv6Bytes('ipv6MulticastMac', group);
  if (b[0] !== 0xff) throw new TypeError(`ipv6MulticastMac: ${group} is not a multicast address`);
  return formatMac(Buffer.from([0x33, 0x33, b[12]!, b[13]!, b[14]!, b[15]!]));
}

function ipv4Bytes(what: string, text: string): Buffer {
  let a;
  try {
    a = parseAddr(text);
  } catch {
    a = undefined;
  }
  if (a === undefined || a.family !== AF_INET) throw new TypeError(`${what}: not an IPv4 address: ${JSON.stringify(text)}`);
  return Buffer.from(a.bytes.subarray(0, 4));
}

function ipv6Bytes(what: string, text: string): Buffer {
  let a;
  try {
    a = parseAddr(text);
  } catch {
    a = undefined;
  }
  if (a === undefined || a.family !== AF_INET6) throw new TypeError(`${what}: not an IPv6 address: ${JSON.stringify(text)}`);
  return Buffer.from(a.bytes);
}

function fmt4(b: Buffer, off: number): string {
  const bytes = new Uint8Array(16);
  bytes.set(b.subarray(off, off + 4));
  return formatAddr(AF_INET, bytes);
}

function fmt6(b: Buffer, off: number): string {
  return formatAddr(AF_INET6, b.subarray(off, off + 16));
}

function need(proto: string, field: string, off: number, n: number, end: number): void {
  if (off + n > end) throw new CodecError('XLB_ERR_CODEC_TRUNCATED', [proto, field, off], off);
}

function bad(proto: string, field: string, value: string | number, off: number): never {
  throw new CodecError('XLB_ERR_CODEC_BAD_VALUE', [proto, field, String(value), off], off);
}

function target(what: string, len: number, buf: Buffer | undefined, offset: number): Buffer {
  if (buf === undefined) return Buffer.alloc(offset + len);
  if (offset < 0 || offset + len > buf.length) throw new RangeError(`${what}: ${len} bytes do not fit at offset ${offset} of a ${buf.length}-byte buffer`);
  return buf;
}

// --- Ethernet header ---------------------------------------------------------

/** An Ethernet II header (what a raw packet socket or tcpdump -xx shows). */
export interface EthernetHeader {
  /** Destination MAC. */
  destination: string;
  /** Source MAC. */
  source: string;
  /** Ethertype ({@link ETHERTYPE}). */
  ethertype: number;
}

/** Bytes {@link encodeEthernetHeader} writes: 14. */
export function ethernetHeaderLength(): number {
  return ETH_HLEN;
}

/** Encodes an Ethernet II header. */
export function encodeEthernetHeader(v: EthernetHeader, buf?: Buffer, offset = 0): Buffer {
  const b = target('encodeEthernetHeader', ETH_HLEN, buf, offset);
  parseMac(v.destination).copy(b, offset);
  parseMac(v.source).copy(b, offset + 6);
  b.writeUInt16BE(v.ethertype, offset + 12);
  return b;
}

/** @throws CodecError TRUNCATED */
export function decodeEthernetHeader(buf: Buffer, offset = 0): Decoded<EthernetHeader> {
  need('ethernet', 'header', offset, ETH_HLEN, buf.length);
  return { value: { destination: formatMac(buf, offset), source: formatMac(buf, offset + 6), ethertype: buf.readUInt16BE(offset + 12) }, bytes: ETH_HLEN };
}

// --- ARP (RFC 826), Ethernet / IPv4 only ---------------------------------------

/** An Ethernet/IPv4 ARP packet (RFC 826). */
export interface ArpPacket {
  /** {@link ARP_OP}: 1 request, 2 reply. */
  op: number;
  /** Sender hardware address (ar$sha). */
  senderMac: string;
  /** Sender protocol address (ar$spa). */
  senderIp: string;
  /** Target hardware address (ar$tha). */
  targetMac: string;
  /** Target protocol address (ar$tpa). */
  targetIp: string;
}

/** Bytes {@link encodeArp} writes: 28. */
export function arpLength(): number {
  return ARP_LEN;
}

/** Encodes an Ethernet/IPv4 ARP packet (hrd 1, pro 0x0800, hln 6, pln 4). */
export function encodeArp(v: ArpPacket, buf?: Buffer, offset = 0): Buffer {
  const b = target('encodeArp', ARP_LEN, buf, offset);
  b.writeUInt16BE(ARP_HRD.ETHERNET, offset); // ar$hrd
  b.writeUInt16BE(ETHERTYPE.IPV4, offset + 2); // ar$pro
  b[offset + 4] = 6; // ar$hln
  b[offset + 5] = 4; // ar$pln
  b.writeUInt16BE(v.op, offset + 6); // ar$op
  parseMac(v.senderMac).copy(b, offset + 8);
  ipv4Bytes('encodeArp: senderIp', v.senderIp).copy(b, offset + 14);
  parseMac(v.targetMac).copy(b, offset + 18);
  ipv4Bytes('encodeArp: targetIp', v.targetIp).copy(b, offset + 24);
  return b;
}

/**
 * Decodes an Ethernet/IPv4 ARP packet. Bytes after the 28 (Ethernet
 * padding to the 60-byte minimum frame) are not part of it.
 * @throws CodecError TRUNCATED; BAD_VALUE for another hardware/protocol type or address length
 */
export function decodeArp(buf: Buffer, offset = 0): Decoded<ArpPacket> {
  need('arp', 'header', offset, 8, buf.length);
  const hrd = buf.readUInt16BE(offset);
  if (hrd !== ARP_HRD.ETHERNET) bad('arp', 'ar$hrd', hrd, offset);
  const pro = buf.readUInt16BE(offset + 2);
  if (pro !== ETHERTYPE.IPV4) bad('arp', 'ar$pro', `0x${pro.toString(16)}`, offset + 2);
  if (buf[offset + 4] !== 6) bad('arp', 'ar$hln', buf[offset + 4]!, offset + 4);
  if (buf[offset + 5] !== 4) bad('arp', 'ar$pln', buf[offset + 5]!, offset + 5);
  need('arp', 'addresses', offset + 8, 20, buf.length);
  return {
    value: {
      op: buf.readUInt16BE(offset + 6),
      senderMac: formatMac(buf, offset + 8),
      senderIp: fmt4(buf, offset + 14),
      targetMac: formatMac(buf, offset + 18),
      targetIp: fmt4(buf, offset + 24),
    },
    bytes: ARP_LEN,
  };
}

/** What a PacketSocket (dgram) needs to send a frame: the payload, where to, and its ethertype. */
export interface LinkFrame {
  /** What follows the Ethernet header. */
  payload: Buffer;
  /** Destination MAC, 6 bytes. */
  destination: Buffer;
  /** Ethertype ({@link ETHERTYPE}). */
  ethertype: number;
}

/**
 * The gratuitous ARP keepalived sends for an IPv4 VIP: a request with
 * SPA = TPA = the VIP, SHA = `mac`, THA = broadcast (module comment).
 * @param address the VIP
 * @param mac the sending interface's (or VMAC's) MAC
 */
export function gratuitousArp(address: string, mac: string): ArpPacket {
  return { op: ARP_OP.REQUEST, senderMac: mac, senderIp: address, targetMac: MAC_BROADCAST, targetIp: address };
}

/** {@link gratuitousArp} as a frame to ff:ff:ff:ff:ff:ff, ethertype ARP. */
export function gratuitousArpFrame(address: string, mac: string): LinkFrame {
  return { payload: encodeArp(gratuitousArp(address, mac)), destination: parseMac(MAC_BROADCAST), ethertype: ETHERTYPE.ARP };
}

/** Whether `p` is a gratuitous ARP announcing `address` (request or reply, SPA = TPA = address). */
export function isGratuitousArp(p: ArpPacket, address?: string): boolean {
  return p.senderIp === p.targetIp && (address === undefined || p.senderIp === address);
}

// --- IPv6 header (RFC 8200 §3) -----------------------------------------------

/** The fixed IPv6 header. */
export interface Ipv6Header {
  /** Traffic class (8 bits). */
  trafficClass: number;
  /** Flow label (20 bits). */
  flowLabel: number;
  /** Payload length: bytes after this header. */
  payloadLength: number;
  /** Next header (58: ICMPv6). */
  nextHeader: number;
  /** Hop limit. */
  hopLimit: number;
  /** Source address. */
  source: string;
  /** Destination address. */
  destination: string;
}

/** Bytes {@link encodeIpv6Header} writes: 40. */
export function ipv6HeaderLength(): number {
  return IPV6_HEADER_LEN;
}

/** Encodes the fixed IPv6 header (version 6). */
export function encodeIpv6Header(v: Ipv6Header, buf?: Buffer, offset = 0): Buffer {
  const b = target('encodeIpv6Header', IPV6_HEADER_LEN, buf, offset);
  if (!Number.isInteger(v.flowLabel) || v.flowLabel < 0 || v.flowLabel > 0xfffff) throw new RangeError(`encodeIpv6Header: flowLabel must be 20 bits, got ${v.flowLabel}`);
  if (!Number.isInteger(v.trafficClass) || v.trafficClass < 0 || v.trafficClass > 0xff) throw new RangeError(`encodeIpv6Header: trafficClass must be 8 bits, got ${v.trafficClass}`);
  b.writeUInt32BE(((6 << 28) | (v.trafficClass << 20) | v.flowLabel) >>> 0, offset);
  b.writeUInt16BE(v.payloadLength, offset + 4);
  b[offset + 6] = v.nextHeader;
  b.writeUInt8(v.hopLimit, offset + 7);
  ipv6Bytes('encodeIpv6Header: source', v.source).copy(b, offset + 8);
  ipv6Bytes('encodeIpv6Header: destination', v.destination).copy(b, offset + 24);
  return b;
}

/** @throws CodecError TRUNCATED; BAD_VERSION when the version is not 6 */
export function decodeIpv6Header(buf: Buffer, offset = 0): Decoded<Ipv6Header> {
  need('ipv6', 'header', offset, IPV6_HEADER_LEN, buf.length);
  const w = buf.readUInt32BE(offset);
  const version = w >>> 28;
  if (version !== 6) throw new CodecError('XLB_ERR_CODEC_BAD_VERSION', ['ipv6', version, offset], offset);
  return {
    value: {
      trafficClass: (w >>> 20) & 0xff,
      flowLabel: w & 0xfffff,
      payloadLength: buf.readUInt16BE(offset + 4),
      nextHeader: buf[offset + 6]!,
      hopLimit: buf[offset + 7]!,
      source: fmt6(buf, offset + 8),
      destination: fmt6(buf, offset + 24),
    },
    bytes: IPV6_HEADER_LEN,
  };
}

// --- Neighbor Advertisement (RFC 4861 §4.4) ----------------------------------

/** A Neighbor Discovery option other than the Target Link-Layer Address, kept raw (H-34). */
export interface NdOption {
  /** Option type ({@link ND_OPT}). */
  type: number;
  /** What follows type and length; 2 + data.length must be a multiple of 8 (RFC 4861 §4.6). */
  data: Buffer;
}

/** An ICMPv6 Neighbor Advertisement (type 136, code 0). */
export interface NeighborAdvert {
  /** R: the sender is a router. */
  router: boolean;
  /** S: sent in response to a solicitation (clear in unsolicited adverts). */
  solicited: boolean;
  /** O: override existing cache entries. */
  override: boolean;
  /** Target Address: the address whose link-layer address is advertised. */
  target: string;
  /** Target Link-Layer Address option (type 2), a 6-byte MAC, written first. */
  targetLinkLayerAddress?: string;
  /** Other options, in order, after it. */
  options?: NdOption[];
}

/** Source and destination of the IPv6 header: the ICMPv6 checksum covers them (RFC 4443 §2.3, RFC 8200 §8.1). */
export interface Icmpv6Context {
  /** IPv6 source address. */
  source: string;
  /** IPv6 destination address. */
  destination: string;
}

/** Bytes {@link encodeNeighborAdvert} writes: 24 + 8 for the TLLA option + the other options. */
export function neighborAdvertLength(v: NeighborAdvert): number {
  let n = NA_MIN_LEN + (v.targetLinkLayerAddress !== undefined ? 8 : 0);
  for (const o of v.options ?? []) n += 2 + o.data.length;
  return n;
}

/**
 * Encodes the ICMPv6 message with its checksum over the IPv6 pseudo-header
 * of `ctx` (RFC 4443 §2.3).
 * @throws RangeError for an option whose length is not a multiple of 8
 */
export function encodeNeighborAdvert(v: NeighborAdvert, ctx: Icmpv6Context, buf?: Buffer, offset = 0): Buffer {
  const len = neighborAdvertLength(v);
  const b = target('encodeNeighborAdvert', len, buf, offset);
  b.fill(0, offset, offset + len);
  b[offset] = ND_TYPE.NEIGHBOR_ADVERTISEMENT;
  b[offset + 1] = 0; // code
  b[offset + 4] = (v.router ? NA_FLAG_ROUTER : 0) | (v.solicited ? NA_FLAG_SOLICITED : 0) | (v.override ? NA_FLAG_OVERRIDE : 0);
  ipv6Bytes('encodeNeighborAdvert: target', v.target).copy(b, offset + 8);
  let off = offset + NA_MIN_LEN;
  if (v.targetLinkLayerAddress !== undefined) {
    // RFC 4861 §4.6.1 with RFC 2464 §8: type 2, length 1 (x 8 bytes), the 6-byte MAC.
    b[off] = ND_OPT.TARGET_LINK_LAYER_ADDRESS;
    b[off + 1] = 1;
    parseMac(v.targetLinkLayerAddress).copy(b, off + 2);
    off += 8;
  }
  for (const o of v.options ?? []) {
    const olen = 2 + o.data.length;
    if (olen % 8 !== 0 || olen > 255 * 8) throw new RangeError(`encodeNeighborAdvert: option ${o.type} is ${olen} bytes, not a multiple of 8 up to 2040`);
    b[off] = o.type;
    b[off + 1] = olen / 8;
    o.data.copy(b, off + 2);
    off += olen;
  }
  const src = ipv6Bytes('encodeNeighborAdvert: ctx.source', ctx.source);
  const dst = ipv6Bytes('encodeNeighborAdvert: ctx.destination', ctx.destination);
  b.writeUInt16BE(l4Checksum(6, src, dst, IPPROTO_ICMPV6, b.subarray(offset, offset + len)), offset + 2);
  return b;
}

/** Options of {@link decodeNeighborAdvert}. */
export interface NaDecodeOptions {
  /** Verify the checksum against this pseudo-header (BAD_CHECKSUM on mismatch). */
  verify?: Icmpv6Context;
}

/**
 * Decodes an ICMPv6 Neighbor Advertisement of `length` bytes with the
 * checks of RFC 4861 §7.1.2 that need only the message: type 136, code 0,
 * at least 24 bytes, target not multicast, every option length non-zero
 * (and the checksum, with `opts.verify`).
 * @throws CodecError TRUNCATED, BAD_VALUE (type, code, multicast target),
 *   BAD_LENGTH (option length 0 or past the end), BAD_CHECKSUM
 */
export function decodeNeighborAdvert(buf: Buffer, offset = 0, length = buf.length - offset, opts: NaDecodeOptions = {}): Decoded<NeighborAdvert> {
  const end = offset + length;
  if (end > buf.length) throw new CodecError('XLB_ERR_CODEC_TRUNCATED', ['icmpv6', 'message', offset], offset);
  need('icmpv6', 'type', offset, 4, end);
  if (buf[offset] !== ND_TYPE.NEIGHBOR_ADVERTISEMENT) bad('icmpv6', 'type', buf[offset]!, offset);
  if (buf[offset + 1] !== 0) bad('icmpv6', 'code', buf[offset + 1]!, offset + 1);
  need('icmpv6', 'target', offset + 4, NA_MIN_LEN - 4, end);
  if (opts.verify !== undefined) {
    const src = ipv6Bytes('decodeNeighborAdvert: verify.source', opts.verify.source);
    const dst = ipv6Bytes('decodeNeighborAdvert: verify.destination', opts.verify.destination);
    if (!l4ChecksumValid(6, src, dst, IPPROTO_ICMPV6, buf, offset, length)) {
      const copy = Buffer.from(buf.subarray(offset, end));
      copy.writeUInt16BE(0, 2);
      const expected = l4Checksum(6, src, dst, IPPROTO_ICMPV6, copy);
      throw new CodecError(
        'XLB_ERR_CODEC_BAD_CHECKSUM',
        ['icmpv6', buf.readUInt16BE(offset + 2).toString(16).padStart(4, '0'), expected.toString(16).padStart(4, '0'), offset + 2],
        offset + 2,
      );
    }
  }
  const flags = buf[offset + 4]!;
  if (buf[offset + 8] === 0xff) bad('icmpv6', 'target (multicast)', fmt6(buf, offset + 8), offset + 8);
  const value: NeighborAdvert = {
    router: (flags & NA_FLAG_ROUTER) !== 0,
    solicited: (flags & NA_FLAG_SOLICITED) !== 0,
    override: (flags & NA_FLAG_OVERRIDE) !== 0,
    target: fmt6(buf, offset + 8),
  };
  const options: NdOption[] = [];
  let off = offset + NA_MIN_LEN;
  while (off < end) {
    need('icmpv6', 'option header', off, 2, end);
    const type = buf[off]!;
    const olen = buf[off + 1]! * 8;
    if (olen === 0) throw new CodecError('XLB_ERR_CODEC_BAD_LENGTH', ['icmpv6', `option ${type} length`, 0, off + 1], off + 1);
    need('icmpv6', `option ${type}`, off, olen, end);
    if (type === ND_OPT.TARGET_LINK_LAYER_ADDRESS && olen === 8 && value.targetLinkLayerAddress === undefined && options.length === 0) {
      value.targetLinkLayerAddress = formatMac(buf, off + 2);
    } else {
      options.push({ type, data: Buffer.from(buf.subarray(off + 2, off + olen)) });
    }
    off += olen;
  }
  if (options.length > 0) value.options = options;
  return { value, bytes: length };
}

/** Options of {@link unsolicitedNa}. */
export interface UnsolicitedNaOptions {
  /** The VIP: source address and target. */
  address: string;
  /** The sending interface's (or VMAC's) MAC: the Target Link-Layer Address. */
  mac: string;
  /** Set R (keepalived: when IPv6 forwarding is on for the interface). Default false. */
  router?: boolean;
}

/** The unsolicited NA keepalived sends for an IPv6 VIP (module comment): S clear, O set, TLLA = mac. */
export function unsolicitedNeighborAdvert(o: UnsolicitedNaOptions): NeighborAdvert {
  return { router: o.router ?? false, solicited: false, override: true, target: o.address, targetLinkLayerAddress: o.mac };
}

/**
 * The whole IPv6 packet of an unsolicited NA: the fixed header (source the
 * VIP, destination ff02::1, hop limit 255 per RFC 4861 §7.1.2, next header
 * 58) and the ICMPv6 message with its checksum. A packet socket sends it as
 * is; the kernel adds no IP header there.
 */
export function unsolicitedNa(o: UnsolicitedNaOptions): Buffer {
  const na = unsolicitedNeighborAdvert(o);
  const len = neighborAdvertLength(na);
  const b = Buffer.alloc(IPV6_HEADER_LEN + len);
  encodeIpv6Header({ trafficClass: 0, flowLabel: 0, payloadLength: len, nextHeader: IPPROTO_ICMPV6, hopLimit: ND_HOP_LIMIT, source: o.address, destination: ALL_NODES }, b, 0);
  encodeNeighborAdvert(na, { source: o.address, destination: ALL_NODES }, b, IPV6_HEADER_LEN);
  return b;
}

/** {@link unsolicitedNa} as a frame to 33:33:00:00:00:01 (RFC 2464 §7), ethertype IPv6. */
export function unsolicitedNaFrame(o: UnsolicitedNaOptions): LinkFrame {
  return { payload: unsolicitedNa(o), destination: parseMac(ipv6MulticastMac(ALL_NODES)), ethertype: ETHERTYPE.IPV6 };
}

/** An IPv6 packet carrying a Neighbor Advertisement. */
export interface NaPacket {
  /** The IPv6 header. */
  ip: Ipv6Header;
  /** The advert. */
  na: NeighborAdvert;
}

/**
 * Decodes an IPv6 packet (from the IPv6 header on, as a dgram packet socket
 * delivers it) carrying a Neighbor Advertisement directly after the fixed
 * header, with the checks of RFC 4861 §7.1.2: hop limit 255, next header
 * 58, valid checksum, and S clear when sent to a multicast address.
 * @throws CodecError TRUNCATED, BAD_VERSION, BAD_LENGTH (payload length past
 *   the data), BAD_VALUE (hop limit, next header, S to multicast, or as
 *   {@link decodeNeighborAdvert}), BAD_CHECKSUM
 */
export function decodeNaPacket(buf: Buffer, offset = 0): Decoded<NaPacket> {
  const ip = decodeIpv6Header(buf, offset).value;
  if (ip.nextHeader !== IPPROTO_ICMPV6) bad('ipv6', 'next header', ip.nextHeader, offset + 6);
  if (ip.hopLimit !== ND_HOP_LIMIT) bad('ipv6', 'hop limit', ip.hopLimit, offset + 7);
  const start = offset + IPV6_HEADER_LEN;
  if (start + ip.payloadLength > buf.length) throw new CodecError('XLB_ERR_CODEC_BAD_LENGTH', ['ipv6', 'payload length', ip.payloadLength, offset + 4], offset + 4);
  const na = decodeNeighborAdvert(buf, start, ip.payloadLength, { verify: { source: ip.source, destination: ip.destination } }).value;
  if (na.solicited && ip.destination.startsWith('ff')) bad('icmpv6', 'solicited flag to a multicast destination', 1, start + 4);
  return { value: { ip, na }, bytes: IPV6_HEADER_LEN + ip.payloadLength };
}
