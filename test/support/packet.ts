/**
 * The one packet builder, parser and validator for xlb tests, fuzzing and
 * benchmarks (STYLE H-47). Data-path fixtures are written as
 *
 *   pkt().eth(CLIENT_MAC, NODE_MAC).ipv4(CLIENT, VIP).tcp(40000, 80, { syn: true }).payload('xlb').build()
 *
 * Lengths, protocol numbers, ethertypes and checksums are filled in by
 * default (checksums via the production src/net/checksum.ts) and every one of
 * them can be overridden to build broken packets on purpose.
 *
 * Layer: test support; pure (no I/O). Exceptions are thrown only for misuse of
 * the builder API (bad address strings, impossible options); parsePacket and
 * validatePacket never throw on any input bytes.
 *
 * @module test/support/packet
 */
import { inetChecksum, ipv4HeaderChecksum, l4Checksum, onesSum } from '../../src/net/checksum.js';
import { AF_INET, AF_INET6, formatAddr, parseAddr } from '../../src/net/addr.js';

// ---------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------

/** Ethertypes used by the builder and parser (IEEE 802 numbers). */
export const ETHERTYPE = {
  IPV4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100, // IEEE 802.1Q C-tag
  IPV6: 0x86dd,
  QINQ: 0x88a8, // IEEE 802.1ad S-tag
  QINQ_OLD: 0x9100, // pre-standard QinQ, still seen in the wild
  EXPERIMENTAL: 0x88b5, // IEEE 802 local experimental 1: default when nothing follows
} as const;

/** IP protocol / IPv6 next-header numbers (IANA). */
export const IPPROTO = {
  HOPOPTS: 0,
  ICMP: 1,
  IPIP: 4,
  TCP: 6,
  UDP: 17,
  IPV6: 41,
  ROUTING: 43,
  FRAGMENT: 44,
  AH: 51,
  ICMPV6: 58,
  NONE: 59,
  DSTOPTS: 60,
  MH: 135,
  RAW: 255, // "Reserved": builder default for an IPv4 header followed by raw bytes
} as const;

/** TCP flag bits (RFC 9293 §3.1, RFC 3168). */
export const TCP_FLAGS = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

/** Bound on 802.1Q tags walked by parser/validator (xlb's BPF uses a similar bound). */
export const VLAN_MAX_DEPTH = 4;
/** Bound on IPv6 extension headers walked by parser/validator. */
export const IPV6_EXT_MAX = 8;
/** Bound on IPIP / IP6IP6 / ICMP-quote nesting walked by parser/validator. */
export const INNER_MAX_DEPTH = 4;

// ---------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------

/**
 * Parse a MAC address ('aa:bb:cc:dd:ee:01', '-' separators also accepted).
 * @throws TypeError on anything else
 */
export function mac(s: string): Buffer {
  const parts = s.split(/[:-]/);
  const out = Buffer.alloc(6);
  if (parts.length !== 6) throw new TypeError(`mac: bad MAC address '${s}'`);
  for (let i = 0; i < 6; i++) {
    const p = parts[i]!;
    if (!/^[0-9a-fA-F]{1,2}$/.test(p)) throw new TypeError(`mac: bad MAC address '${s}'`);
    out[i] = parseInt(p, 16);
  }
  return out;
}

/**
 * Parse an IPv4 (4 bytes) or IPv6 (16 bytes) address, with the production
 * parser (src/net/addr.ts). A zone suffix ('fe80::1%eth0') is ignored.
 * @throws TypeError if `s` is neither
 */
export function ip(s: string): Buffer {
  const pct = s.indexOf('%');
  const a = parseAddr(pct >= 0 ? s.slice(0, pct) : s);
  return Buffer.from(a.family === AF_INET ? a.bytes.subarray(0, 4) : a.bytes);
}

/**
 * 16-byte map key form of an address, as xlb's BPF maps store it: IPv4 in
 * the first 4 bytes followed by 12 zero bytes; IPv6 as is.
 */
export function ipKey16(s: string): Buffer {
  return Buffer.from(parseAddr(s).bytes);
}

/** Format 4 bytes at `off` as dotted IPv4. */
export function formatIPv4(buf: Uint8Array, off = 0): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

/** Format 16 bytes at `off` as IPv6 in RFC 5952 canonical form. */
export function formatIPv6(buf: Uint8Array, off = 0): string {
  return formatAddr(AF_INET6, buf.subarray(off, off + 16));
}

function formatMac(buf: Uint8Array, off: number): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += (i ? ':' : '') + buf[off + i]!.toString(16).padStart(2, '0');
  return s;
}

const hex2 = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;
const hex4 = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;

function addr(family: 4 | 6, a: string | Uint8Array, what: string): Buffer {
  const b = typeof a === 'string' ? ip(a) : Buffer.from(a);
  if (b.length !== (family === 4 ? 4 : 16)) throw new TypeError(`${what}: '${String(a)}' is not an IPv${family} address`);
  return b;
}

// ---------------------------------------------------------------------------
// Builder
// ---------------------------------------------------------------------------

/** Options of {@link PacketBuilder.eth}. */
export interface EthOpts {
  /** Ethertype override (default: from the next layer; 0x88b5 when nothing follows). */
  type?: number;
}

/** Options of {@link PacketBuilder.vlan}. */
export interface VlanOpts {
  /** Priority code point, 0..7 (default 0). */
  pcp?: number;
  /** Drop eligible indicator (default false). */
  dei?: boolean;
  /** TPID written in the previous layer's type field (default 0x8100; 0x88a8 for an 802.1ad S-tag). */
  tpid?: number;
  /** Override of this tag's inner ethertype (default: from the next layer). */
  type?: number;
}

/** Options of {@link PacketBuilder.ipv4}. */
export interface Ipv4Opts {
  /** Time to live (default 64). */
  ttl?: number;
  /** Identification (default 0). */
  id?: number;
  /** Type of service / DSCP+ECN byte (default 0). */
  tos?: number;
  /** Don't Fragment flag (default false). */
  df?: boolean;
  /** More Fragments flag (default false). */
  mf?: boolean;
  /** Fragment offset in 8-byte units (default 0). */
  fragOffset?: number;
  /** IP options; zero-padded (EOL) to a multiple of 4 bytes. */
  options?: Buffer;
  /** Protocol override (default: from the next layer; 255 for raw payload). */
  proto?: number;
  /** Total length override (default: header + everything after it). */
  totalLength?: number;
  /** IHL override in 4-byte words (default: real header length / 4). The header bytes written do not change. */
  ihl?: number;
  /** Header checksum override (default: computed). */
  checksum?: number;
}

/** One IPv6 extension header for {@link Ipv6Opts.ext}. */
export interface Ipv6Ext {
  /** 0 hop-by-hop, 60 destination options, 43 routing, 44 fragment, 51 AH, other: generic 8-octet-unit header. */
  type: number;
  /**
   * Bytes after the 2-byte (Next Header, Hdr Ext Len) prefix. Default: PadN for
   * 0/60, 6 zero bytes (type 0, segments left 0) for 43. Padded to the header's
   * unit (PadN/Pad1 for 0/60, zeros otherwise). For 44 it replaces bytes 2..7
   * and must be exactly 6 bytes.
   */
  data?: Buffer;
  /** Override of this header's Next Header field (default: the next header in the chain). */
  nextHeader?: number;
  /** Fragment header (44): fragment offset in 8-byte units (default 0). */
  fragOffset?: number;
  /** Fragment header (44): M flag (default false). */
  mf?: boolean;
  /** Fragment header (44): identification (default 0). */
  id?: number;
}

/**
 * A routing header (43) for {@link Ipv6Opts.ext}: Routing Type, Segments Left,
 * 4 type-specific bytes, then the addresses (RFC 8200 §4.4). The 4 bytes are
 * zero (type 0: reserved, RFC 5095; type 2: reserved, RFC 6275; type 3: CmprI
 * = CmprE = 0, no pad, RFC 6554) except for type 4 (RFC 8754): Last Entry =
 * addresses - 1, then flags and tag 0. Hdr Ext Len follows from the length.
 */
export function routingHeader(routingType: number, segmentsLeft: number, addresses: string[] = []): Ipv6Ext {
  const head = Buffer.from([routingType & 0xff, segmentsLeft & 0xff, 0, 0, 0, 0]);
  if (routingType === 4 && addresses.length) head[2] = addresses.length - 1;
  return { type: IPPROTO.ROUTING, data: Buffer.concat([head, ...addresses.map((a) => addr(6, a, 'routing header address'))]) };
}

/** Options of {@link PacketBuilder.ipv6}. */
export interface Ipv6Opts {
  /** Hop limit (default 64). */
  hopLimit?: number;
  /** Flow label, 20 bits (default 0). */
  flowLabel?: number;
  /** Traffic class (default 0). */
  tc?: number;
  /** Override of the fixed header's Next Header field (default: first ext header, or the next layer; 59 if nothing). */
  nextHeader?: number;
  /** Payload length override (default: ext headers + everything after). */
  payloadLength?: number;
  /** Extension headers, in wire order. */
  ext?: Ipv6Ext[];
}

/** TCP flags as an object. `ack` here is the ACK flag. */
export interface TcpFlagSet {
  fin?: boolean;
  syn?: boolean;
  rst?: boolean;
  psh?: boolean;
  ack?: boolean;
  urg?: boolean;
  ece?: boolean;
  cwr?: boolean;
}

/**
 * Options of {@link PacketBuilder.tcp}. Flags may be given as `flags` (object
 * or number) or directly as `{ syn: true }` (H-47 style). A boolean `ack` is
 * the ACK flag; a number `ack` is the acknowledgment number. With no flag at
 * all the segment is a SYN (as in scapy).
 */
export interface TcpOpts {
  /** Sequence number (default 1). */
  seq?: number;
  /** Acknowledgment number (number, default 0), or the ACK flag (boolean). */
  ack?: number | boolean;
  /** Flags as bits or an object. */
  flags?: TcpFlagSet | number;
  syn?: boolean;
  fin?: boolean;
  rst?: boolean;
  psh?: boolean;
  urg?: boolean;
  /** Receive window (default 65535). */
  window?: number;
  /** Urgent pointer (default 0). */
  urgent?: number;
  /** TCP options; zero-padded (EOL) to a multiple of 4 bytes. */
  options?: Buffer;
  /** Data offset override in 4-byte words (header bytes written do not change). */
  dataOffset?: number;
  /** Checksum override (default: computed with the pseudo-header). */
  checksum?: number;
}

/** Options of {@link PacketBuilder.udp}. */
export interface UdpOpts {
  /** Checksum override; 'none' writes 0 ("no checksum", IPv4 only per RFC 768). */
  checksum?: number | 'none';
  /** Length field override (default 8 + payload). */
  length?: number;
}

/** Options of {@link PacketBuilder.icmp}. */
export interface IcmpOpts {
  /** Identifier (echo), bytes 4-5. */
  id?: number;
  /** Sequence number (echo), bytes 6-7. */
  seq?: number;
  /** Next-hop MTU for type 3 code 4 (RFC 1191), bytes 6-7. */
  mtu?: number;
  /** Raw bytes 4-7 (wins over id/seq/mtu); must be 4 bytes. */
  rest?: Buffer;
  /** Checksum override. */
  checksum?: number;
}

/** Options of {@link PacketBuilder.icmp6}. */
export interface Icmp6Opts {
  /** Identifier (echo, types 128/129), bytes 4-5. */
  id?: number;
  /** Sequence number (echo), bytes 6-7. */
  seq?: number;
  /** 32-bit MTU for type 2 Packet Too Big (RFC 4443 §3.2), bytes 4-7. */
  mtu?: number;
  /** Raw bytes 4-7 (wins over id/seq/mtu); must be 4 bytes. */
  rest?: Buffer;
  /** Checksum override. */
  checksum?: number;
}

type Layer =
  | { kind: 'eth'; src: Buffer; dst: Buffer; o: EthOpts }
  | { kind: 'vlan'; vid: number; o: VlanOpts }
  | { kind: 'ipv4'; src: Buffer; dst: Buffer; o: Ipv4Opts }
  | { kind: 'ipv6'; src: Buffer; dst: Buffer; o: Ipv6Opts }
  | { kind: 'tcp'; sport: number; dport: number; o: TcpOpts }
  | { kind: 'udp'; sport: number; dport: number; o: UdpOpts }
  | { kind: 'icmp'; type: number; code: number; o: IcmpOpts }
  | { kind: 'icmp6'; type: number; code: number; o: Icmp6Opts }
  | { kind: 'inner'; p: PacketBuilder }
  | { kind: 'payload'; data: Buffer };

const EMPTY = Buffer.alloc(0);

function pad4(b: Buffer | undefined): Buffer {
  if (!b || b.length === 0) return EMPTY;
  const n = (b.length + 3) & ~3;
  if (n === b.length) return b;
  const out = Buffer.alloc(n);
  b.copy(out);
  return out;
}

/**
 * Fluent packet builder. Layers are encoded from the last to the first, so
 * every length, protocol number and checksum sees the final bytes after it.
 * Obtain one with {@link pkt}.
 */
export class PacketBuilder {
  readonly #layers: Layer[] = [];
  #truncate: number | undefined;

  /** Ethernet II header. Note the argument order: source first. */
  eth(srcMac: string, dstMac: string, opts: EthOpts = {}): this {
    this.#layers.push({ kind: 'eth', src: mac(srcMac), dst: mac(dstMac), o: opts });
    return this;
  }

  /** 802.1Q tag (call twice for QinQ; set `tpid: 0x88a8` on the outer one). */
  vlan(vid: number, opts: VlanOpts = {}): this {
    this.#layers.push({ kind: 'vlan', vid, o: opts });
    return this;
  }

  /** IPv4 header (RFC 791). */
  ipv4(src: string | Uint8Array, dst: string | Uint8Array, opts: Ipv4Opts = {}): this {
    this.#layers.push({ kind: 'ipv4', src: addr(4, src, 'ipv4 src'), dst: addr(4, dst, 'ipv4 dst'), o: opts });
    return this;
  }

  /** IPv6 header (RFC 8200) with optional extension headers. */
  ipv6(src: string | Uint8Array, dst: string | Uint8Array, opts: Ipv6Opts = {}): this {
    this.#layers.push({ kind: 'ipv6', src: addr(6, src, 'ipv6 src'), dst: addr(6, dst, 'ipv6 dst'), o: opts });
    return this;
  }

  /** TCP header (RFC 9293). */
  tcp(sport: number, dport: number, opts: TcpOpts = {}): this {
    this.#layers.push({ kind: 'tcp', sport, dport, o: opts });
    return this;
  }

  /** UDP header (RFC 768). */
  udp(sport: number, dport: number, opts: UdpOpts = {}): this {
    this.#layers.push({ kind: 'udp', sport, dport, o: opts });
    return this;
  }

  /** ICMPv4 header (RFC 792). Put the quoted packet of an error in {@link inner}. */
  icmp(type: number, code: number, opts: IcmpOpts = {}): this {
    this.#layers.push({ kind: 'icmp', type, code, o: opts });
    return this;
  }

  /** ICMPv6 header (RFC 4443); checksum uses the IPv6 pseudo-header. */
  icmp6(type: number, code: number, opts: Icmp6Opts = {}): this {
    this.#layers.push({ kind: 'icmp6', type, code, o: opts });
    return this;
  }

  /**
   * Embed another builder's bytes without its Ethernet/VLAN headers: the
   * quoted packet of an ICMP error, or the inner packet of IPIP / IP6IP6.
   * The inner builder's own `truncate` applies to its build() output.
   */
  inner(p: PacketBuilder): this {
    this.#layers.push({ kind: 'inner', p });
    return this;
  }

  /** Raw bytes; a string is UTF-8 encoded. */
  payload(data: Buffer | string): this {
    this.#layers.push({ kind: 'payload', data: typeof data === 'string' ? Buffer.from(data, 'utf8') : data });
    return this;
  }

  /** Cut the built bytes to `n` in total, after every length and checksum was computed. */
  truncate(n: number): this {
    this.#truncate = n;
    return this;
  }

  /** Encode. Every call returns a fresh Buffer. */
  build(): Buffer {
    const L = this.#layers;
    let tail: Buffer = EMPTY;
    for (let i = L.length - 1; i >= 0; i--) tail = this.#encode(i, tail);
    if (this.#truncate !== undefined && this.#truncate < tail.length) tail = Buffer.from(tail.subarray(0, Math.max(0, this.#truncate)));
    return tail === EMPTY ? Buffer.alloc(0) : tail;
  }

  /** The bytes from the first L3 layer on (what {@link inner} embeds). */
  buildL3(): Buffer {
    let l2 = 0;
    for (const l of this.#layers) {
      if (l.kind === 'eth') l2 += 14;
      else if (l.kind === 'vlan') l2 += 4;
      else break;
    }
    const b = this.build();
    return l2 === 0 ? b : Buffer.from(b.subarray(Math.min(l2, b.length)));
  }

  /** Kind of the first L3 layer ('ipv4' | 'ipv6'), if any. */
  l3Kind(): 'ipv4' | 'ipv6' | undefined {
    for (const l of this.#layers) if (l.kind === 'ipv4' || l.kind === 'ipv6') return l.kind;
    return undefined;
  }

  #ethTypeOf(i: number): number | undefined {
    const n = this.#layers[i];
    if (!n) return undefined;
    switch (n.kind) {
      case 'vlan':
        return n.o.tpid ?? ETHERTYPE.VLAN;
      case 'ipv4':
        return ETHERTYPE.IPV4;
      case 'ipv6':
        return ETHERTYPE.IPV6;
      case 'inner': {
        const k = n.p.l3Kind();
        return k === 'ipv4' ? ETHERTYPE.IPV4 : k === 'ipv6' ? ETHERTYPE.IPV6 : undefined;
      }
      default:
        return undefined;
    }
  }

  #protoOf(i: number): number | undefined {
    const n = this.#layers[i];
    if (!n) return undefined;
    switch (n.kind) {
      case 'tcp':
        return IPPROTO.TCP;
      case 'udp':
        return IPPROTO.UDP;
      case 'icmp':
        return IPPROTO.ICMP;
      case 'icmp6':
        return IPPROTO.ICMPV6;
      case 'ipv4':
        return IPPROTO.IPIP;
      case 'ipv6':
        return IPPROTO.IPV6;
      case 'inner': {
        const k = n.p.l3Kind();
        return k === 'ipv4' ? IPPROTO.IPIP : k === 'ipv6' ? IPPROTO.IPV6 : undefined;
      }
      default:
        return undefined;
    }
  }

  /** Nearest IP layer before layer i (for the pseudo-header). */
  #ipBefore(i: number): { family: 4 | 6; src: Buffer; dst: Buffer } | undefined {
    for (let j = i - 1; j >= 0; j--) {
      const l = this.#layers[j]!;
      if (l.kind === 'ipv4') return { family: 4, src: l.src, dst: l.dst };
      if (l.kind === 'ipv6') return { family: 6, src: l.src, dst: l.dst };
    }
    return undefined;
  }

  #l4sum(i: number, proto: number, seg: Buffer): number {
    const ipl = this.#ipBefore(i);
    if (!ipl) return proto === IPPROTO.ICMP ? inetChecksum(seg) : 0;
    return l4Checksum(ipl.family, ipl.src, ipl.dst, proto, seg);
  }

  #encode(i: number, tail: Buffer): Buffer {
    const l = this.#layers[i]!;
    switch (l.kind) {
      case 'eth': {
        const b = Buffer.alloc(14 + tail.length);
        l.dst.copy(b, 0);
        l.src.copy(b, 6);
        b.writeUInt16BE((l.o.type ?? this.#ethTypeOf(i + 1) ?? ETHERTYPE.EXPERIMENTAL) & 0xffff, 12);
        tail.copy(b, 14);
        return b;
      }
      case 'vlan': {
        const b = Buffer.alloc(4 + tail.length);
        const tci = (((l.o.pcp ?? 0) & 7) << 13) | (l.o.dei ? 0x1000 : 0) | (l.vid & 0x0fff);
        b.writeUInt16BE(tci, 0);
        b.writeUInt16BE((l.o.type ?? this.#ethTypeOf(i + 1) ?? ETHERTYPE.EXPERIMENTAL) & 0xffff, 2);
        tail.copy(b, 4);
        return b;
      }
      case 'ipv4': {
        const o = l.o;
        const opt = pad4(o.options);
        const hl = 20 + opt.length;
        if (hl > 60) throw new RangeError(`ipv4: options of ${opt.length} bytes exceed the 40-byte maximum`);
        const b = Buffer.alloc(hl + tail.length);
        b[0] = 0x40 | ((o.ihl ?? hl / 4) & 0x0f);
        b[1] = (o.tos ?? 0) & 0xff;
        b.writeUInt16BE((o.totalLength ?? hl + tail.length) & 0xffff, 2);
        b.writeUInt16BE((o.id ?? 0) & 0xffff, 4);
        b.writeUInt16BE((o.df ? 0x4000 : 0) | (o.mf ? 0x2000 : 0) | ((o.fragOffset ?? 0) & 0x1fff), 6);
        b[8] = (o.ttl ?? 64) & 0xff;
        b[9] = (o.proto ?? this.#protoOf(i + 1) ?? IPPROTO.RAW) & 0xff;
        l.src.copy(b, 12);
        l.dst.copy(b, 16);
        opt.copy(b, 20);
        b.writeUInt16BE((o.checksum ?? ipv4HeaderChecksum(b, 0, hl)) & 0xffff, 10);
        tail.copy(b, hl);
        return b;
      }
      case 'ipv6': {
        const o = l.o;
        const ext = o.ext ?? [];
        const upper = this.#protoOf(i + 1) ?? IPPROTO.NONE;
        const parts: Buffer[] = [];
        for (let k = 0; k < ext.length; k++) {
          const e = ext[k]!;
          const nh = e.nextHeader ?? ext[k + 1]?.type ?? upper;
          parts.push(encodeIpv6Ext(e, nh));
        }
        const extBytes = parts.length ? Buffer.concat(parts) : EMPTY;
        const b = Buffer.alloc(40 + extBytes.length + tail.length);
        const w0 = (6 << 28) | (((o.tc ?? 0) & 0xff) << 20) | ((o.flowLabel ?? 0) & 0xfffff);
        b.writeUInt32BE(w0 >>> 0, 0);
        b.writeUInt16BE((o.payloadLength ?? extBytes.length + tail.length) & 0xffff, 4);
        b[6] = (o.nextHeader ?? ext[0]?.type ?? upper) & 0xff;
        b[7] = (o.hopLimit ?? 64) & 0xff;
        l.src.copy(b, 8);
        l.dst.copy(b, 24);
        extBytes.copy(b, 40);
        tail.copy(b, 40 + extBytes.length);
        return b;
      }
      case 'tcp': {
        const o = l.o;
        const opt = pad4(o.options);
        const hl = 20 + opt.length;
        if (hl > 60) throw new RangeError(`tcp: options of ${opt.length} bytes exceed the 40-byte maximum`);
        const b = Buffer.alloc(hl + tail.length);
        b.writeUInt16BE(l.sport & 0xffff, 0);
        b.writeUInt16BE(l.dport & 0xffff, 2);
        b.writeUInt32BE((o.seq ?? 1) >>> 0, 4);
        b.writeUInt32BE(typeof o.ack === 'number' ? o.ack >>> 0 : 0, 8);
        b[12] = ((o.dataOffset ?? hl / 4) & 0x0f) << 4;
        b[13] = tcpFlags(o);
        b.writeUInt16BE((o.window ?? 65535) & 0xffff, 14);
        b.writeUInt16BE((o.urgent ?? 0) & 0xffff, 18);
        opt.copy(b, 20);
        tail.copy(b, hl);
        b.writeUInt16BE((o.checksum ?? this.#l4sum(i, IPPROTO.TCP, b)) & 0xffff, 16);
        return b;
      }
      case 'udp': {
        const o = l.o;
        const b = Buffer.alloc(8 + tail.length);
        b.writeUInt16BE(l.sport & 0xffff, 0);
        b.writeUInt16BE(l.dport & 0xffff, 2);
        b.writeUInt16BE((o.length ?? b.length) & 0xffff, 4);
        tail.copy(b, 8);
        const c = o.checksum === 'none' ? 0 : o.checksum ?? this.#l4sum(i, IPPROTO.UDP, b);
        b.writeUInt16BE(c & 0xffff, 6);
        return b;
      }
      case 'icmp': {
        const o = l.o;
        const b = Buffer.alloc(8 + tail.length);
        b[0] = l.type & 0xff;
        b[1] = l.code & 0xff;
        if (o.rest) {
          if (o.rest.length !== 4) throw new RangeError('icmp: rest must be 4 bytes');
          o.rest.copy(b, 4);
        } else {
          b.writeUInt16BE((o.id ?? 0) & 0xffff, 4);
          b.writeUInt16BE((o.mtu ?? o.seq ?? 0) & 0xffff, 6);
        }
        tail.copy(b, 8);
        b.writeUInt16BE((o.checksum ?? inetChecksum(b)) & 0xffff, 2);
        return b;
      }
      case 'icmp6': {
        const o = l.o;
        const b = Buffer.alloc(8 + tail.length);
        b[0] = l.type & 0xff;
        b[1] = l.code & 0xff;
        if (o.rest) {
          if (o.rest.length !== 4) throw new RangeError('icmp6: rest must be 4 bytes');
          o.rest.copy(b, 4);
        } else if (o.mtu !== undefined) {
          b.writeUInt32BE(o.mtu >>> 0, 4);
        } else {
          b.writeUInt16BE((o.id ?? 0) & 0xffff, 4);
          b.writeUInt16BE((o.seq ?? 0) & 0xffff, 6);
        }
        tail.copy(b, 8);
        b.writeUInt16BE((o.checksum ?? this.#l4sum(i, IPPROTO.ICMPV6, b)) & 0xffff, 2);
        return b;
      }
      case 'inner':
        return tail.length ? Buffer.concat([l.p.buildL3(), tail]) : l.p.buildL3();
      case 'payload':
        return tail.length ? Buffer.concat([l.data, tail]) : Buffer.from(l.data);
    }
  }
}

function tcpFlags(o: TcpOpts): number {
  if (typeof o.flags === 'number') return o.flags & 0xff;
  let f = 0;
  const s = o.flags;
  if (s) {
    if (s.fin) f |= TCP_FLAGS.FIN;
    if (s.syn) f |= TCP_FLAGS.SYN;
    if (s.rst) f |= TCP_FLAGS.RST;
    if (s.psh) f |= TCP_FLAGS.PSH;
    if (s.ack) f |= TCP_FLAGS.ACK;
    if (s.urg) f |= TCP_FLAGS.URG;
    if (s.ece) f |= TCP_FLAGS.ECE;
    if (s.cwr) f |= TCP_FLAGS.CWR;
  }
  if (o.fin) f |= TCP_FLAGS.FIN;
  if (o.syn) f |= TCP_FLAGS.SYN;
  if (o.rst) f |= TCP_FLAGS.RST;
  if (o.psh) f |= TCP_FLAGS.PSH;
  if (o.urg) f |= TCP_FLAGS.URG;
  if (o.ack === true) f |= TCP_FLAGS.ACK;
  if (!s && f === 0 && o.ack !== false) f = TCP_FLAGS.SYN; // scapy's default
  return f;
}

function encodeIpv6Ext(e: Ipv6Ext, nh: number): Buffer {
  if (e.type === IPPROTO.FRAGMENT) {
    // RFC 8200 §4.5: NH(1) Reserved(1) FragmentOffset(13)|Res(2)|M(1) Identification(4)
    const b = Buffer.alloc(8);
    b[0] = nh & 0xff;
    if (e.data) {
      if (e.data.length !== 6) throw new RangeError('ipv6 fragment ext: data must be 6 bytes');
      e.data.copy(b, 2);
    } else {
      b.writeUInt16BE((((e.fragOffset ?? 0) & 0x1fff) << 3) | (e.mf ? 1 : 0), 2);
      b.writeUInt32BE((e.id ?? 0) >>> 0, 4);
    }
    return b;
  }
  const isOpts = e.type === IPPROTO.HOPOPTS || e.type === IPPROTO.DSTOPTS;
  const body = e.data ?? (e.type === IPPROTO.ROUTING ? Buffer.alloc(6) : EMPTY);
  const unit = e.type === IPPROTO.AH ? 4 : 8;
  let total = 2 + body.length;
  total = Math.max(8, Math.ceil(total / unit) * unit);
  const b = Buffer.alloc(total);
  b[0] = nh & 0xff;
  // RFC 8200 §4.3 (8-octet units, not counting the first 8); RFC 4302 §2.2 for AH (4-octet units minus 2).
  b[1] = unit === 4 ? total / 4 - 2 : total / 8 - 1;
  body.copy(b, 2);
  const padLen = total - 2 - body.length;
  if (isOpts && padLen > 0) {
    const p = 2 + body.length;
    if (padLen === 1) b[p] = 0; // Pad1
    else {
      b[p] = 1; // PadN (RFC 8200 §4.2)
      b[p + 1] = padLen - 2;
    }
  }
  return b;
}

/** Start a new packet. */
export function pkt(): PacketBuilder {
  return new PacketBuilder();
}

// ---------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------

/** Ethernet II header. */
export interface ParsedEth {
  offset: number;
  dst: string;
  src: string;
  /** The type field at bytes 12-13 (a TPID when a VLAN tag follows). */
  type: number;
}

/** One 802.1Q / 802.1ad tag. */
export interface ParsedVlan {
  offset: number;
  /** TPID that announced this tag (from the previous type field). */
  tpid: number;
  pcp: number;
  dei: boolean;
  vid: number;
  /** Ethertype after this tag. */
  type: number;
}

/** IPv4 header. */
export interface ParsedIPv4 {
  version: 4;
  offset: number;
  ihl: number;
  headerLength: number;
  tos: number;
  totalLength: number;
  id: number;
  df: boolean;
  mf: boolean;
  /** In 8-byte units. */
  fragOffset: number;
  ttl: number;
  proto: number;
  checksum: number;
  /** Header checksum verifies. */
  checksumOk: boolean;
  src: string;
  dst: string;
  options: Buffer;
}

/** One IPv6 extension header. */
export interface ParsedIPv6Ext {
  type: number;
  offset: number;
  length: number;
  nextHeader: number;
}

/** IPv6 header plus its extension-header chain. */
export interface ParsedIPv6 {
  version: 6;
  offset: number;
  tc: number;
  flowLabel: number;
  payloadLength: number;
  nextHeader: number;
  hopLimit: number;
  src: string;
  dst: string;
  ext: ParsedIPv6Ext[];
  /** Present when a fragment header was found. */
  fragment?: { fragOffset: number; mf: boolean; id: number };
  /** Present when a routing header was found (the first one). */
  routing?: { type: number; segmentsLeft: number };
  /** Upper-layer protocol after the extension headers. */
  proto: number;
  /** 40 + extension headers. */
  headerLength: number;
}

export type ParsedIp = ParsedIPv4 | ParsedIPv6;

/** TCP header. Fields not present in a truncated header read 0 with `truncated`. */
export interface ParsedTcp {
  proto: 'tcp';
  offset: number;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  dataOffset: number;
  headerLength: number;
  flags: number;
  window: number;
  checksum: number;
  urgent: number;
  truncated: boolean;
}

/** UDP header. */
export interface ParsedUdp {
  proto: 'udp';
  offset: number;
  sport: number;
  dport: number;
  length: number;
  checksum: number;
  truncated: boolean;
}

/** ICMPv4 header. */
export interface ParsedIcmp {
  proto: 'icmp';
  offset: number;
  type: number;
  code: number;
  checksum: number;
  id: number;
  seq: number;
  /** Next-hop MTU, type 3 code 4 only. */
  mtu?: number;
  truncated: boolean;
}

/** ICMPv6 header. */
export interface ParsedIcmp6 {
  proto: 'icmp6';
  offset: number;
  type: number;
  code: number;
  checksum: number;
  id: number;
  seq: number;
  /** MTU, type 2 (Packet Too Big) only. */
  mtu?: number;
  truncated: boolean;
}

export type ParsedL4 = ParsedTcp | ParsedUdp | ParsedIcmp | ParsedIcmp6;

/** Result of {@link parsePacket}. Offsets are absolute in the parsed buffer. */
export interface ParsedPacket {
  eth?: ParsedEth;
  vlans: ParsedVlan[];
  ip?: ParsedIp;
  l4?: ParsedL4;
  /** IPIP / IP6IP6 inner packet, or the quoted packet of an ICMP error. */
  inner?: ParsedPacket;
  /** True for the quoted packet of an ICMP error. */
  quoted: boolean;
  /** First byte after the last header parsed at this level. */
  payloadOffset: number;
  /** Bytes from payloadOffset to the end of the IP datagram (bounded by the buffer). */
  payloadLength: number;
  /** What could not be parsed; inner errors are repeated here prefixed 'inner.'. */
  errors: string[];
}

function newParsed(quoted: boolean, at: number): ParsedPacket {
  return { vlans: [], quoted, payloadOffset: at, payloadLength: 0, errors: [] };
}

const u16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
const u32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

/**
 * Layered decode of an Ethernet frame. Never throws: parses what it can and
 * lists the rest in `errors`.
 */
export function parsePacket(buf: Buffer): ParsedPacket {
  const out = newParsed(false, 0);
  const n = buf.length;
  if (n < 14) {
    out.errors.push(`eth: truncated: ${n} bytes < 14`);
    out.payloadOffset = 0;
    out.payloadLength = n;
    return out;
  }
  let type = u16(buf, 12);
  out.eth = { offset: 0, dst: formatMac(buf, 0), src: formatMac(buf, 6), type };
  let off = 14;
  while (type === ETHERTYPE.VLAN || type === ETHERTYPE.QINQ || type === ETHERTYPE.QINQ_OLD) {
    if (out.vlans.length >= VLAN_MAX_DEPTH) {
      out.errors.push(`vlan: more than ${VLAN_MAX_DEPTH} tags`);
      break;
    }
    if (off + 4 > n) {
      out.errors.push(`vlan[${out.vlans.length}]: truncated tag at offset ${off}`);
      out.payloadOffset = off;
      out.payloadLength = n - off;
      return out;
    }
    const tci = u16(buf, off);
    const next = u16(buf, off + 2);
    out.vlans.push({ offset: off, tpid: type, pcp: tci >> 13, dei: (tci & 0x1000) !== 0, vid: tci & 0x0fff, type: next });
    type = next;
    off += 4;
  }
  out.payloadOffset = off;
  out.payloadLength = n - off;
  if (type === ETHERTYPE.IPV4) parseIPv4(buf, off, n, out, 0);
  else if (type === ETHERTYPE.IPV6) parseIPv6(buf, off, n, out, 0);
  return out;
}

function parseL3At(buf: Buffer, off: number, end: number, quoted: boolean, depth: number, parent: ParsedPacket, v: 4 | 6): void {
  const inner = newParsed(quoted, off);
  inner.payloadLength = Math.max(0, end - off);
  parent.inner = inner;
  if (depth >= INNER_MAX_DEPTH) {
    inner.errors.push(`inner: nesting deeper than ${INNER_MAX_DEPTH}`);
  } else if (v === 4) parseIPv4(buf, off, end, inner, depth + 1);
  else parseIPv6(buf, off, end, inner, depth + 1);
  for (const e of inner.errors) parent.errors.push(`inner.${e}`);
}

function parseIPv4(buf: Buffer, off: number, end: number, out: ParsedPacket, depth: number): void {
  const avail = end - off;
  if (avail < 20) {
    out.errors.push(`ipv4: truncated header: ${avail} bytes < 20`);
    return;
  }
  const vihl = buf[off]!;
  if (vihl >> 4 !== 4) {
    out.errors.push(`ipv4.version: ${vihl >> 4} != 4`);
    return;
  }
  const ihl = vihl & 0x0f;
  const hl = ihl * 4;
  if (ihl < 5) {
    out.errors.push(`ipv4.ihl: ${ihl} < 5`);
    return;
  }
  if (hl > avail) {
    out.errors.push(`ipv4: truncated header: ${avail} bytes < ihl*4 = ${hl}`);
    return;
  }
  const totalLength = u16(buf, off + 2);
  const ff = u16(buf, off + 6);
  const ip: ParsedIPv4 = {
    version: 4,
    offset: off,
    ihl,
    headerLength: hl,
    tos: buf[off + 1]!,
    totalLength,
    id: u16(buf, off + 4),
    df: (ff & 0x4000) !== 0,
    mf: (ff & 0x2000) !== 0,
    fragOffset: ff & 0x1fff,
    ttl: buf[off + 8]!,
    proto: buf[off + 9]!,
    checksum: u16(buf, off + 10),
    checksumOk: onesSum(buf, off, hl) === 0xffff,
    src: formatIPv4(buf, off + 12),
    dst: formatIPv4(buf, off + 16),
    options: Buffer.from(buf.subarray(off + 20, off + hl)),
  };
  out.ip = ip;
  let dEnd = end;
  if (totalLength < hl) {
    out.errors.push(`ipv4.totalLength: ${totalLength} < header length ${hl}`);
  } else if (totalLength > avail) {
    if (!out.quoted) out.errors.push(`ipv4: truncated: totalLength ${totalLength} > ${avail} bytes present`);
  } else dEnd = off + totalLength;
  out.payloadOffset = off + hl;
  out.payloadLength = Math.max(0, dEnd - off - hl);
  if (ip.fragOffset !== 0) return; // non-first fragment: no L4 header here
  parseL4(buf, off + hl, dEnd, ip.proto, out, depth);
}

const isIPv6ExtType = (t: number): boolean =>
  t === IPPROTO.HOPOPTS || t === IPPROTO.ROUTING || t === IPPROTO.FRAGMENT || t === IPPROTO.DSTOPTS || t === IPPROTO.AH || t === IPPROTO.MH;

function parseIPv6(buf: Buffer, off: number, end: number, out: ParsedPacket, depth: number): void {
  const avail = end - off;
  if (avail < 40) {
    out.errors.push(`ipv6: truncated header: ${avail} bytes < 40`);
    return;
  }
  const w0 = u32(buf, off);
  if (w0 >>> 28 !== 6) {
    out.errors.push(`ipv6.version: ${w0 >>> 28} != 6`);
    return;
  }
  const payloadLength = u16(buf, off + 4);
  const ip: ParsedIPv6 = {
    version: 6,
    offset: off,
    tc: (w0 >>> 20) & 0xff,
    flowLabel: w0 & 0xfffff,
    payloadLength,
    nextHeader: buf[off + 6]!,
    hopLimit: buf[off + 7]!,
    src: formatIPv6(buf, off + 8),
    dst: formatIPv6(buf, off + 24),
    ext: [],
    proto: buf[off + 6]!,
    headerLength: 40,
  };
  out.ip = ip;
  let dEnd = end;
  if (40 + payloadLength > avail) {
    if (!out.quoted) out.errors.push(`ipv6: truncated: payloadLength ${payloadLength} > ${avail - 40} bytes present`);
  } else dEnd = off + 40 + payloadLength;
  let p = off + 40;
  let nh = ip.nextHeader;
  let nonFirstFragment = false;
  while (isIPv6ExtType(nh)) {
    if (ip.ext.length >= IPV6_EXT_MAX) {
      out.errors.push(`ipv6: more than ${IPV6_EXT_MAX} extension headers`);
      break;
    }
    if (p + 8 > dEnd) {
      out.errors.push(`ipv6.ext[${ip.ext.length}]: truncated header (type ${nh}) at offset ${p}`);
      out.payloadOffset = p;
      out.payloadLength = Math.max(0, dEnd - p);
      return;
    }
    const len = nh === IPPROTO.FRAGMENT ? 8 : nh === IPPROTO.AH ? (buf[p + 1]! + 2) * 4 : (buf[p + 1]! + 1) * 8;
    if (p + len > dEnd) {
      out.errors.push(`ipv6.ext[${ip.ext.length}]: truncated: length ${len} > ${dEnd - p} bytes present`);
      out.payloadOffset = p;
      out.payloadLength = Math.max(0, dEnd - p);
      return;
    }
    const next = buf[p]!;
    ip.ext.push({ type: nh, offset: p, length: len, nextHeader: next });
    if (nh === IPPROTO.FRAGMENT) {
      const fo = u16(buf, p + 2);
      ip.fragment = { fragOffset: fo >> 3, mf: (fo & 1) !== 0, id: u32(buf, p + 4) };
      if (fo >> 3 !== 0) nonFirstFragment = true;
    }
    if (nh === IPPROTO.ROUTING && !ip.routing) ip.routing = { type: buf[p + 2]!, segmentsLeft: buf[p + 3]! };
    nh = next;
    p += len;
  }
  ip.proto = nh;
  ip.headerLength = p - off;
  out.payloadOffset = p;
  out.payloadLength = Math.max(0, dEnd - p);
  if (nonFirstFragment) return;
  parseL4(buf, p, dEnd, nh, out, depth);
}

const isIcmp4Error = (t: number): boolean => t === 3 || t === 4 || t === 5 || t === 11 || t === 12;

function parseL4(buf: Buffer, off: number, end: number, proto: number, out: ParsedPacket, depth: number): void {
  const avail = end - off;
  const q = out.quoted;
  switch (proto) {
    case IPPROTO.TCP: {
      const need = q ? 8 : 20;
      if (avail < need) {
        out.errors.push(`tcp: truncated header: ${avail} bytes < ${need}`);
        return;
      }
      const full = avail >= 20;
      const doff = full ? buf[off + 12]! >> 4 : 0;
      const t: ParsedTcp = {
        proto: 'tcp',
        offset: off,
        sport: u16(buf, off),
        dport: u16(buf, off + 2),
        seq: u32(buf, off + 4),
        ack: full ? u32(buf, off + 8) : 0,
        dataOffset: doff,
        headerLength: doff * 4,
        flags: full ? buf[off + 13]! : 0,
        window: full ? u16(buf, off + 14) : 0,
        checksum: full ? u16(buf, off + 16) : 0,
        urgent: full ? u16(buf, off + 18) : 0,
        truncated: !full,
      };
      out.l4 = t;
      if (full && (doff < 5 || doff * 4 > avail)) {
        if (!q || doff < 5) out.errors.push(`tcp.dataOffset: ${doff} words (${doff * 4} bytes) outside 20..${avail}`);
        out.payloadOffset = off + Math.min(avail, 20);
      } else out.payloadOffset = off + Math.min(avail, full ? doff * 4 : 8);
      out.payloadLength = end - out.payloadOffset;
      return;
    }
    case IPPROTO.UDP: {
      if (avail < 8) {
        out.errors.push(`udp: truncated header: ${avail} bytes < 8`);
        return;
      }
      out.l4 = { proto: 'udp', offset: off, sport: u16(buf, off), dport: u16(buf, off + 2), length: u16(buf, off + 4), checksum: u16(buf, off + 6), truncated: false };
      out.payloadOffset = off + 8;
      out.payloadLength = end - off - 8;
      return;
    }
    case IPPROTO.ICMP:
    case IPPROTO.ICMPV6: {
      const v6 = proto === IPPROTO.ICMPV6;
      const name = v6 ? ('icmp6' as const) : ('icmp' as const);
      if (avail < 4 || (!q && avail < 8)) {
        out.errors.push(`${name}: truncated header: ${avail} bytes < 8`);
        return;
      }
      const full = avail >= 8;
      const type = buf[off]!;
      const code = buf[off + 1]!;
      const m: ParsedIcmp | ParsedIcmp6 = {
        proto: name,
        offset: off,
        type,
        code,
        checksum: u16(buf, off + 2),
        id: full ? u16(buf, off + 4) : 0,
        seq: full ? u16(buf, off + 6) : 0,
        truncated: !full,
      } as ParsedIcmp | ParsedIcmp6;
      if (full && !v6 && type === 3 && code === 4) m.mtu = u16(buf, off + 6);
      if (full && v6 && type === 2) m.mtu = u32(buf, off + 4);
      out.l4 = m;
      out.payloadOffset = off + Math.min(avail, 8);
      out.payloadLength = end - out.payloadOffset;
      const isErr = v6 ? type >= 1 && type <= 4 : isIcmp4Error(type);
      // RFC 792 / RFC 4443 §2.4(e): an error quotes the offending packet; errors about
      // errors are not sent, so a quote is never parsed for another quote.
      if (isErr && full && !q && avail > 8) parseL3At(buf, off + 8, end, true, depth, out, v6 ? 6 : 4);
      return;
    }
    case IPPROTO.IPIP:
    case IPPROTO.IPV6:
      if (q) return; // a quote carries only the first 8 bytes of the inner header
      parseL3At(buf, off, end, false, depth, out, proto === IPPROTO.IPIP ? 4 : 6);
      return;
    default:
      return;
  }
}

// ---------------------------------------------------------------------------
// Validator (hot path: a 1e6-packet fuzz loop calls it)
// ---------------------------------------------------------------------------

/** Options of {@link validatePacket}. */
export interface ValidateOpts {
  /** Accept ICMP error quotes shorter than the IP header + 8 bytes of L4. */
  allowTruncatedQuote?: boolean;
  /** Accept bytes after the outermost IP datagram (Ethernet padding of short frames). */
  allowTrailer?: boolean;
}

function fail(errs: string[], depth: number, msg: string): void {
  errs.push(depth === 0 ? msg : 'inner.'.repeat(depth) + msg);
}

/**
 * Problems with a frame that claims to be well-formed; [] means valid.
 *
 * Checks: Ethernet present; VLAN tags complete; the ethertype is IPv4 or
 * IPv6; IPv4 version, IHL, total length == bytes present, header checksum;
 * IPv6 payload length == bytes present, extension chain complete; TCP, UDP,
 * ICMP and ICMPv6 checksums over the real bytes (UDP checksum 0 accepted over
 * IPv4 only, RFC 768 / RFC 8200 §8.1), UDP length, TCP data offset; IPIP /
 * IP6IP6 inner packets recursively with the same rules; ICMP error quotes for
 * sanity only (version, header length, IP header + 8 bytes present unless
 * `allowTruncatedQuote`). L4 checks are skipped for IP fragments.
 *
 * No allocation beyond the result array on the happy path; strings are only
 * built for problems found.
 */
export function validatePacket(buf: Buffer, opts?: ValidateOpts): string[] {
  const errs: string[] = [];
  const n = buf.length;
  const allowTQ = opts?.allowTruncatedQuote === true;
  if (n < 14) {
    errs.push(`eth: truncated: ${n} bytes < 14`);
    return errs;
  }
  let type = (buf[12]! << 8) | buf[13]!;
  let off = 14;
  let tags = 0;
  while (type === ETHERTYPE.VLAN || type === ETHERTYPE.QINQ || type === ETHERTYPE.QINQ_OLD) {
    if (++tags > VLAN_MAX_DEPTH) {
      errs.push(`vlan: more than ${VLAN_MAX_DEPTH} tags`);
      return errs;
    }
    if (off + 4 > n) {
      errs.push(`vlan[${tags - 1}]: truncated tag at offset ${off}`);
      return errs;
    }
    type = (buf[off + 2]! << 8) | buf[off + 3]!;
    off += 4;
  }
  let end = n;
  if (opts?.allowTrailer && n - off >= 6) {
    // trailing bytes beyond the datagram are link-layer padding: validate up to its end
    const dl = type === ETHERTYPE.IPV4 ? (buf[off + 2]! << 8) | buf[off + 3]! : type === ETHERTYPE.IPV6 ? 40 + ((buf[off + 4]! << 8) | buf[off + 5]!) : n - off;
    if (dl <= n - off && dl >= 20) end = off + dl;
  }
  if (type === ETHERTYPE.IPV4) vIPv4(buf, off, end, errs, allowTQ, 0);
  else if (type === ETHERTYPE.IPV6) vIPv6(buf, off, end, errs, allowTQ, 0);
  else errs.push(`eth.type: ${hex4(type)} is neither IPv4 nor IPv6`);
  return errs;
}

function vIPv4(buf: Buffer, off: number, end: number, errs: string[], allowTQ: boolean, depth: number): void {
  const avail = end - off;
  if (avail < 20) return fail(errs, depth, `ipv4: truncated header: ${avail} bytes < 20`);
  const vihl = buf[off]!;
  if (vihl >> 4 !== 4) return fail(errs, depth, `ipv4.version: ${vihl >> 4} != 4`);
  const hl = (vihl & 0x0f) * 4;
  if (hl < 20) return fail(errs, depth, `ipv4.ihl: ${vihl & 0x0f} < 5`);
  if (hl > avail) return fail(errs, depth, `ipv4: truncated header: ${avail} bytes < ihl*4 = ${hl}`);
  const tl = (buf[off + 2]! << 8) | buf[off + 3]!;
  if (tl !== avail) fail(errs, depth, `ipv4.totalLength: ${tl} != ${avail} bytes present`);
  if (onesSum(buf, off, hl) !== 0xffff) {
    fail(errs, depth, `ipv4.checksum: ${hex4((buf[off + 10]! << 8) | buf[off + 11]!)} != ${hex4(ipv4HeaderChecksum(buf, off, hl))}`);
  }
  if (tl < hl) return;
  const ff = (buf[off + 6]! << 8) | buf[off + 7]!;
  if ((ff & 0x3fff) !== 0) return; // fragment: the L4 checksum covers the reassembled datagram
  vL4(buf, off + hl, off + (tl < avail ? tl : avail), buf[off + 9]!, 4, off + 12, errs, allowTQ, depth);
}

function vIPv6(buf: Buffer, off: number, end: number, errs: string[], allowTQ: boolean, depth: number): void {
  const avail = end - off;
  if (avail < 40) return fail(errs, depth, `ipv6: truncated header: ${avail} bytes < 40`);
  if (buf[off]! >> 4 !== 6) return fail(errs, depth, `ipv6.version: ${buf[off]! >> 4} != 6`);
  const pl = (buf[off + 4]! << 8) | buf[off + 5]!;
  if (pl !== avail - 40) fail(errs, depth, `ipv6.payloadLength: ${pl} != ${avail - 40} bytes present`);
  const dEnd = off + 40 + (pl < avail - 40 ? pl : avail - 40);
  let nh = buf[off + 6]!;
  let p = off + 40;
  let count = 0;
  let fragmented = false;
  while (isIPv6ExtType(nh)) {
    if (nh === IPPROTO.HOPOPTS && count !== 0) fail(errs, depth, `ipv6.ext[${count}]: hop-by-hop header not first (RFC 8200 §4.1)`);
    if (++count > IPV6_EXT_MAX) return fail(errs, depth, `ipv6: more than ${IPV6_EXT_MAX} extension headers`);
    if (p + 8 > dEnd) return fail(errs, depth, `ipv6.ext[${count - 1}]: truncated header (type ${nh})`);
    const len = nh === IPPROTO.FRAGMENT ? 8 : nh === IPPROTO.AH ? (buf[p + 1]! + 2) * 4 : (buf[p + 1]! + 1) * 8;
    if (p + len > dEnd) return fail(errs, depth, `ipv6.ext[${count - 1}]: length ${len} > ${dEnd - p} bytes present`);
    if (nh === IPPROTO.FRAGMENT && (((buf[p + 2]! << 8) | buf[p + 3]!) & 0xfff9) !== 0) fragmented = true;
    nh = buf[p]!;
    p += len;
  }
  if (fragmented) return;
  vL4(buf, p, dEnd, nh, 6, off + 8, errs, allowTQ, depth);
}

function l4Expected(buf: Buffer, off: number, end: number, proto: number, family: 4 | 6, addrOff: number, csumAt: number): number {
  // Error path only: recompute what the checksum field should hold.
  const seg = Buffer.from(buf.subarray(off, end));
  seg[csumAt] = 0;
  seg[csumAt + 1] = 0;
  const alen = family === 4 ? 4 : 16;
  return l4Checksum(family, buf.subarray(addrOff, addrOff + alen), buf.subarray(addrOff + alen, addrOff + 2 * alen), proto, seg);
}

function vL4(buf: Buffer, off: number, end: number, proto: number, family: 4 | 6, addrOff: number, errs: string[], allowTQ: boolean, depth: number): void {
  const len = end - off;
  const alen = family === 4 ? 8 : 32;
  switch (proto) {
    case IPPROTO.TCP: {
      if (len < 20) return fail(errs, depth, `tcp: truncated header: ${len} bytes < 20`);
      const doff = buf[off + 12]! >> 4;
      if (doff < 5 || doff * 4 > len) fail(errs, depth, `tcp.dataOffset: ${doff} words (${doff * 4} bytes) outside 20..${len}`);
      const ph = onesSum(buf, addrOff, alen, IPPROTO.TCP + len);
      if (onesSum(buf, off, len, ph) !== 0xffff) {
        fail(errs, depth, `tcp.checksum: ${hex4((buf[off + 16]! << 8) | buf[off + 17]!)} != ${hex4(l4Expected(buf, off, end, proto, family, addrOff, 16))}`);
      }
      return;
    }
    case IPPROTO.UDP: {
      if (len < 8) return fail(errs, depth, `udp: truncated header: ${len} bytes < 8`);
      const ulen = (buf[off + 4]! << 8) | buf[off + 5]!;
      if (ulen !== len) fail(errs, depth, `udp.length: ${ulen} != ${len} bytes present`);
      const ck = (buf[off + 6]! << 8) | buf[off + 7]!;
      if (ck === 0) {
        if (family === 6) fail(errs, depth, 'udp.checksum: 0 (none) is not allowed over IPv6 (RFC 8200 §8.1)');
        return;
      }
      const ph = onesSum(buf, addrOff, alen, IPPROTO.UDP + len);
      if (onesSum(buf, off, len, ph) !== 0xffff) {
        fail(errs, depth, `udp.checksum: ${hex4(ck)} != ${hex4(l4Expected(buf, off, end, proto, family, addrOff, 6))}`);
      }
      return;
    }
    case IPPROTO.ICMP: {
      if (len < 8) return fail(errs, depth, `icmp: truncated header: ${len} bytes < 8`);
      if (onesSum(buf, off, len) !== 0xffff) {
        const seg = Buffer.from(buf.subarray(off, end));
        seg[2] = 0;
        seg[3] = 0;
        fail(errs, depth, `icmp.checksum: ${hex4((buf[off + 2]! << 8) | buf[off + 3]!)} != ${hex4(inetChecksum(seg))}`);
      }
      if (isIcmp4Error(buf[off]!)) vQuote(buf, off + 8, end, 4, errs, allowTQ, depth);
      return;
    }
    case IPPROTO.ICMPV6: {
      if (len < 8) return fail(errs, depth, `icmp6: truncated header: ${len} bytes < 8`);
      if (family !== 6) return fail(errs, depth, 'icmp6: carried over IPv4');
      const ph = onesSum(buf, addrOff, alen, IPPROTO.ICMPV6 + len);
      if (onesSum(buf, off, len, ph) !== 0xffff) {
        fail(errs, depth, `icmp6.checksum: ${hex4((buf[off + 2]! << 8) | buf[off + 3]!)} != ${hex4(l4Expected(buf, off, end, proto, family, addrOff, 2))}`);
      }
      const t = buf[off]!;
      if (t >= 1 && t <= 4) vQuote(buf, off + 8, end, 6, errs, allowTQ, depth);
      return;
    }
    case IPPROTO.IPIP:
      if (depth + 1 >= INNER_MAX_DEPTH) return fail(errs, depth, `inner: nesting deeper than ${INNER_MAX_DEPTH}`);
      return vIPv4(buf, off, end, errs, allowTQ, depth + 1);
    case IPPROTO.IPV6:
      if (depth + 1 >= INNER_MAX_DEPTH) return fail(errs, depth, `inner: nesting deeper than ${INNER_MAX_DEPTH}`);
      return vIPv6(buf, off, end, errs, allowTQ, depth + 1);
    default:
      return;
  }
}

function vQuote(buf: Buffer, off: number, end: number, family: 4 | 6, errs: string[], allowTQ: boolean, depth: number): void {
  const avail = end - off;
  const name = family === 4 ? 'icmp.quote' : 'icmp6.quote';
  if (avail <= 0) return fail(errs, depth, `${name}: missing quoted packet`);
  if (buf[off]! >> 4 !== family) return fail(errs, depth, `${name}.version: ${buf[off]! >> 4} != ${family}`);
  if (family === 4) {
    if (avail < 20) {
      if (!allowTQ) fail(errs, depth, `${name}: ${avail} bytes < IPv4 header`);
      return;
    }
    const hl = (buf[off]! & 0x0f) * 4;
    if (hl < 20) return fail(errs, depth, `${name}.ihl: ${hl / 4} < 5`);
    const tl = (buf[off + 2]! << 8) | buf[off + 3]!;
    if (tl < hl) fail(errs, depth, `${name}.totalLength: ${tl} < header length ${hl}`);
    // RFC 792: "Internet Header + 64 bits of Original Data Datagram"
    if (!allowTQ && avail < hl + 8) fail(errs, depth, `${name}: ${avail} bytes < IP header + 8 (${hl + 8}) (RFC 792)`);
    return;
  }
  // RFC 4443 §3.x: "As much of invoking packet as possible"; xlb needs the ports.
  if (!allowTQ && avail < 48) fail(errs, depth, `${name}: ${avail} bytes < IPv6 header + 8 (48)`);
}

// ---------------------------------------------------------------------------
// hexDiff
// ---------------------------------------------------------------------------

type Field = [key: string, value: string];

function fmtVal(k: string, v: unknown): string {
  if (typeof v === 'number') {
    const leaf = k.slice(k.lastIndexOf('.') + 1);
    const layer = k.slice(0, k.lastIndexOf('.'));
    if (leaf === 'checksum' || leaf === 'tpid' || leaf === 'id') return hex4(v);
    if (leaf === 'type' && (layer.endsWith('eth') || layer.includes('vlan['))) return hex4(v);
    if (leaf === 'flags' || leaf === 'tos' || leaf === 'tc') return hex2(v);
    if (leaf === 'flowLabel') return `0x${v.toString(16).padStart(5, '0')}`;
    return String(v);
  }
  if (Buffer.isBuffer(v)) return v.length ? v.toString('hex') : '-';
  return String(v);
}

function flatten(p: ParsedPacket, pre: string, out: Field[]): void {
  const push = (k: string, v: unknown): void => {
    out.push([pre + k, fmtVal(pre + k, v)]);
  };
  if (p.eth) {
    push('eth.dst', p.eth.dst);
    push('eth.src', p.eth.src);
    push('eth.type', p.eth.type);
  }
  p.vlans.forEach((v, i) => {
    for (const k of ['tpid', 'pcp', 'dei', 'vid', 'type'] as const) push(`vlan[${i}].${k}`, v[k]);
  });
  const ipl = p.ip;
  if (ipl?.version === 4) {
    for (const k of ['ihl', 'tos', 'totalLength', 'id', 'df', 'mf', 'fragOffset', 'ttl', 'proto', 'checksum', 'src', 'dst', 'options'] as const) {
      push(`ipv4.${k}`, ipl[k]);
    }
  } else if (ipl?.version === 6) {
    for (const k of ['tc', 'flowLabel', 'payloadLength', 'nextHeader', 'hopLimit', 'src', 'dst'] as const) push(`ipv6.${k}`, ipl[k]);
    ipl.ext.forEach((e, i) => {
      push(`ipv6.ext[${i}].type`, e.type);
      push(`ipv6.ext[${i}].length`, e.length);
      push(`ipv6.ext[${i}].nextHeader`, e.nextHeader);
    });
    if (ipl.fragment) {
      push('ipv6.frag.fragOffset', ipl.fragment.fragOffset);
      push('ipv6.frag.mf', ipl.fragment.mf);
      push('ipv6.frag.id', ipl.fragment.id);
    }
  }
  const l4 = p.l4;
  if (l4?.proto === 'tcp') {
    for (const k of ['sport', 'dport', 'seq', 'ack', 'dataOffset', 'flags', 'window', 'checksum', 'urgent'] as const) push(`tcp.${k}`, l4[k]);
  } else if (l4?.proto === 'udp') {
    for (const k of ['sport', 'dport', 'length', 'checksum'] as const) push(`udp.${k}`, l4[k]);
  } else if (l4) {
    push(`${l4.proto}.type`, l4.type);
    push(`${l4.proto}.code`, l4.code);
    push(`${l4.proto}.checksum`, l4.checksum);
    push(`${l4.proto}.id`, l4.id);
    push(`${l4.proto}.seq`, l4.seq);
    if (l4.mtu !== undefined) push(`${l4.proto}.mtu`, l4.mtu);
  }
  if (p.inner) flatten(p.inner, `${pre}${p.inner.quoted ? 'quote.' : 'inner.'}`, out);
  else push('payload.length', p.payloadLength);
}

function regions(p: ParsedPacket, out: Array<[number, string]>, pre: string): void {
  if (p.eth) out.push([0, 'eth']);
  p.vlans.forEach((v, i) => out.push([v.offset, `vlan[${i}]`]));
  if (p.ip) out.push([p.ip.offset, `${pre}ipv${p.ip.version}`]);
  if (p.l4) out.push([p.l4.offset, `${pre}${p.l4.proto}`]);
  if (p.inner) regions(p.inner, out, `${pre}${p.inner.quoted ? 'quote.' : 'inner.'}`);
  else if (p.payloadLength > 0 && (p.l4 || p.ip)) out.push([p.payloadOffset, `${pre}payload`]);
}

/**
 * Human-readable difference of two frames: first per-field lines by layer
 * (`ipv4.checksum: 0x1234 != 0x5678`, actual first), then the raw byte
 * offsets that differ (at most 32, labelled with the layer of `expected`).
 *
 * @returns '' when the buffers are identical
 */
export function hexDiff(actual: Buffer, expected: Buffer): string {
  if (actual.equals(expected)) return '';
  const pa = parsePacket(actual);
  const pe = parsePacket(expected);
  const fa: Field[] = [];
  const fe: Field[] = [];
  flatten(pa, '', fa);
  flatten(pe, '', fe);
  const ma = new Map(fa);
  const me = new Map(fe);
  const keys = new Set<string>();
  for (const [k] of fe) keys.add(k);
  for (const [k] of fa) keys.add(k);
  const lines: string[] = [`actual ${actual.length} bytes, expected ${expected.length} bytes`];
  for (const k of keys) {
    const a = ma.get(k) ?? '(absent)';
    const e = me.get(k) ?? '(absent)';
    if (a !== e) lines.push(`${k}: ${a} != ${e}`);
  }
  const reg: Array<[number, string]> = [];
  regions(pe.ip || pe.eth ? pe : pa, reg, '');
  reg.sort((x, y) => x[0] - y[0]);
  const label = (o: number): string => {
    let name = '?';
    for (const [start, nm] of reg) if (start <= o) name = nm;
    return name;
  };
  const max = Math.max(actual.length, expected.length);
  let shown = 0;
  let more = 0;
  for (let o = 0; o < max; o++) {
    const a = actual[o];
    const e = expected[o];
    if (a === e) continue;
    if (shown >= 32) {
      more++;
      continue;
    }
    shown++;
    const fa2 = a === undefined ? '--' : a.toString(16).padStart(2, '0');
    const fe2 = e === undefined ? '--' : e.toString(16).padStart(2, '0');
    lines.push(`@${o.toString().padStart(4)} (0x${o.toString(16).padStart(4, '0')}, ${label(o)}+${o - labelStart(reg, o)}): ${fa2} != ${fe2}`);
  }
  if (more) lines.push(`... ${more} more differing bytes`);
  return lines.join('\n');
}

function labelStart(reg: Array<[number, string]>, o: number): number {
  let s = 0;
  for (const [start] of reg) if (start <= o) s = start;
  return s;
}

// ---------------------------------------------------------------------------
// Fuzzing helpers
// ---------------------------------------------------------------------------

/** xorshift32 PRNG (Marsaglia 2003) returning floats in [0, 1). Seed 0 is replaced. */
export function xorshift32(seed: number): () => number {
  let x = seed | 0 || 0x2545f491;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** mulberry32 PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rint = (rng: () => number, n: number): number => Math.floor(rng() * n);

const ETHERTYPE_CHOICES = [ETHERTYPE.IPV4, ETHERTYPE.IPV6, ETHERTYPE.VLAN, ETHERTYPE.QINQ, ETHERTYPE.ARP, 0x0000, 0xffff];
const PROTO_CHOICES = [0, 1, 4, 6, 17, 41, 43, 44, 51, 58, 59, 60, 135, 255];

/** Offset of the last ethertype field and of L3, following VLAN tags. */
function findL3(b: Buffer): { typeAt: number; l3: number; type: number } {
  if (b.length < 14) return { typeAt: -1, l3: -1, type: -1 };
  let typeAt = 12;
  let off = 14;
  let type = u16(b, 12);
  for (let k = 0; k < VLAN_MAX_DEPTH && (type === ETHERTYPE.VLAN || type === ETHERTYPE.QINQ || type === ETHERTYPE.QINQ_OLD); k++) {
    if (off + 4 > b.length) return { typeAt, l3: -1, type };
    typeAt = off + 2;
    type = u16(b, off + 2);
    off += 4;
  }
  return { typeAt, l3: off, type };
}

function corruptValue(rng: () => number, real: number, max: number): number {
  switch (rint(rng, 6)) {
    case 0:
      return 0;
    case 1:
      return (real + 1) % (max + 1);
    case 2:
      return real > 0 ? real - 1 : max;
    case 3:
      return max;
    case 4:
      return (real + 1 + rint(rng, 64)) % (max + 1);
    default:
      return rint(rng, max + 1);
  }
}

/**
 * Return a mutated copy of `buf` (1-3 mutations): random byte flips,
 * truncation at a random offset, corruption of a length field (IPv4 total
 * length / IHL, IPv6 payload length, UDP length), or a swap of the ethertype
 * / IP protocol / IPv6 next header to another plausible value.
 */
export function mutate(buf: Buffer, rng: () => number): Buffer {
  let out = Buffer.from(buf);
  const k = 1 + rint(rng, 3);
  for (let m = 0; m < k; m++) {
    const n = out.length;
    if (n === 0) break;
    switch (rint(rng, 5)) {
      case 0: {
        const flips = 1 + rint(rng, 4);
        for (let f = 0; f < flips; f++) {
          const at = rint(rng, n);
          out[at] = out[at]! ^ (1 + rint(rng, 255));
        }
        break;
      }
      case 1: {
        // bias toward header-sized cuts, where parsers break
        const at = rng() < 0.5 ? rint(rng, Math.min(n, 96) + 1) : rint(rng, n + 1);
        out = out.subarray(0, at);
        break;
      }
      case 2: {
        const { l3, type } = findL3(out);
        if (l3 < 0) break;
        if (type === ETHERTYPE.IPV4 && l3 + 20 <= n) {
          const hl = (out[l3]! & 0x0f) * 4;
          const r = rint(rng, 3);
          if (r === 0) out.writeUInt16BE(corruptValue(rng, u16(out, l3 + 2), 0xffff), l3 + 2);
          else if (r === 1) out[l3] = (out[l3]! & 0xf0) | corruptValue(rng, hl / 4, 15);
          else if (out[l3 + 9] === IPPROTO.UDP && l3 + hl + 8 <= n) out.writeUInt16BE(corruptValue(rng, u16(out, l3 + hl + 4), 0xffff), l3 + hl + 4);
          else out.writeUInt16BE(corruptValue(rng, u16(out, l3 + 2), 0xffff), l3 + 2);
        } else if (type === ETHERTYPE.IPV6 && l3 + 40 <= n) {
          if (out[l3 + 6] === IPPROTO.UDP && l3 + 48 <= n && rng() < 0.5) out.writeUInt16BE(corruptValue(rng, u16(out, l3 + 44), 0xffff), l3 + 44);
          else out.writeUInt16BE(corruptValue(rng, u16(out, l3 + 4), 0xffff), l3 + 4);
        }
        break;
      }
      case 3: {
        const { typeAt, l3, type } = findL3(out);
        if (typeAt < 0) break;
        const r = rng();
        if (r < 0.4 || l3 < 0) out.writeUInt16BE(ETHERTYPE_CHOICES[rint(rng, ETHERTYPE_CHOICES.length)]!, typeAt);
        else if (type === ETHERTYPE.IPV4 && l3 + 10 <= n) out[l3 + 9] = PROTO_CHOICES[rint(rng, PROTO_CHOICES.length)]!;
        else if (type === ETHERTYPE.IPV6 && l3 + 7 <= n) out[l3 + 6] = PROTO_CHOICES[rint(rng, PROTO_CHOICES.length)]!;
        else out.writeUInt16BE(ETHERTYPE_CHOICES[rint(rng, ETHERTYPE_CHOICES.length)]!, typeAt);
        break;
      }
      default: {
        // flip inside the headers (first 80 bytes)
        const at = rint(rng, Math.min(n, 80));
        out[at] = out[at]! ^ (1 << rint(rng, 8));
        break;
      }
    }
  }
  return out; // a private copy (or a view of it), never aliasing `buf`
}

function randBytes(rng: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n); // fully written below
  let i = 0;
  for (; i + 4 <= n; i += 4) b.writeUInt32BE(Math.floor(rng() * 4294967296) >>> 0, i);
  for (; i < n; i++) b[i] = rint(rng, 256);
  return b;
}

function randAddr(rng: () => number, family: 4 | 6): Buffer {
  return randBytes(rng, family === 4 ? 4 : 16);
}

function randMac(rng: () => number): string {
  const b = randBytes(rng, 6);
  b[0] = (b[0]! & 0xfe) | 0x02; // unicast, locally administered
  return formatMac(b, 0);
}

/** Payload size so that the frame stays within `max` bytes, biased to small sizes. */
function randLen(rng: () => number, room: number): number {
  if (room <= 0) return 0;
  return rng() < 0.6 ? rint(rng, Math.min(room, 64) + 1) : rint(rng, room + 1);
}

/**
 * A random but plausible, valid Ethernet frame (validatePacket() returns []),
 * at most 1500 bytes: IPv4 or IPv6, 0-2 VLAN tags, TCP / UDP / ICMP / another
 * protocol, sometimes IPv4 options, IPv6 extension headers, IP fragments,
 * ICMP errors quoting a packet, or IPIP / IP6IP6. Use {@link mutate} for
 * broken ones.
 */
export function randomPacket(rng: () => number): Buffer {
  const MAX = 1500;
  const b = pkt().eth(randMac(rng), randMac(rng));
  let hdr = 14;
  const tags = rng() < 0.7 ? 0 : rng() < 0.66 ? 1 : 2;
  for (let t = 0; t < tags; t++) {
    b.vlan(rint(rng, 4096), { pcp: rint(rng, 8), tpid: tags === 2 && t === 0 && rng() < 0.5 ? ETHERTYPE.QINQ : ETHERTYPE.VLAN });
    hdr += 4;
  }
  const family: 4 | 6 = rng() < 0.5 ? 4 : 6;
  const kind = rint(rng, 100);
  let frag = false;
  if (family === 4) {
    const options = rng() < 0.1 ? Buffer.from([1, 1, 1, 0, 1, 1, 1, 0].slice(0, 4 * (1 + rint(rng, 2)))) : undefined;
    frag = kind >= 90;
    b.ipv4(randAddr(rng, 4), randAddr(rng, 4), {
      ttl: 1 + rint(rng, 255),
      id: rint(rng, 65536),
      tos: rint(rng, 256),
      df: !frag && rng() < 0.5,
      mf: frag && rng() < 0.5,
      fragOffset: frag ? rint(rng, 100) : 0,
      options,
      ...(kind >= 85 && kind < 90 ? { proto: rint(rng, 2) ? 47 : 132 } : {}),
    });
    hdr += 20 + (options?.length ?? 0);
  } else {
    const ext: Ipv6Ext[] = [];
    if (rng() < 0.15) {
      if (rng() < 0.5) ext.push({ type: IPPROTO.HOPOPTS });
      if (rng() < 0.5) ext.push({ type: IPPROTO.DSTOPTS });
      if (rng() < 0.3) ext.push({ type: IPPROTO.ROUTING });
    }
    frag = kind >= 90;
    if (frag) ext.push({ type: IPPROTO.FRAGMENT, fragOffset: rint(rng, 100), mf: rng() < 0.5, id: rint(rng, 0xffffffff) });
    b.ipv6(randAddr(rng, 6), randAddr(rng, 6), {
      hopLimit: 1 + rint(rng, 255),
      flowLabel: rint(rng, 0x100000),
      tc: rint(rng, 256),
      ext,
      ...(kind >= 85 && kind < 90 ? { nextHeader: ext.length ? undefined : rint(rng, 2) ? 47 : 132 } : {}),
    });
    hdr += 40 + ext.length * 8;
  }
  if (frag || (kind >= 85 && kind < 90)) {
    // raw payload: another protocol, or a fragment (for v6 the L4 layer is the raw bytes)
    return b.payload(randBytes(rng, randLen(rng, MAX - hdr))).build();
  }
  if (kind < 35) {
    const opt = rng() < 0.3 ? Buffer.from([2, 4, 5, 0xb4]) : undefined;
    b.tcp(rint(rng, 65536), rint(rng, 65536), { seq: rint(rng, 0xffffffff), ack: rint(rng, 0xffffffff), flags: rint(rng, 256), window: rint(rng, 65536), options: opt });
    hdr += 20 + (opt?.length ?? 0);
  } else if (kind < 65) {
    b.udp(rint(rng, 65536), rint(rng, 65536), family === 4 && rng() < 0.1 ? { checksum: 'none' } : {});
    hdr += 8;
  } else if (kind < 75) {
    if (family === 4) b.icmp(rng() < 0.5 ? 8 : 0, 0, { id: rint(rng, 65536), seq: rint(rng, 65536) });
    else b.icmp6(rng() < 0.5 ? 128 : 129, 0, { id: rint(rng, 65536), seq: rint(rng, 65536) });
    hdr += 8;
  } else if (kind < 80) {
    // ICMP error quoting a packet of the same family
    const q = pkt();
    if (family === 4) {
      b.icmp(3, 4, { mtu: 576 + rint(rng, 1000) });
      q.ipv4(randAddr(rng, 4), randAddr(rng, 4), { df: true });
    } else {
      b.icmp6(2, 0, { mtu: 1280 + rint(rng, 200) });
      q.ipv6(randAddr(rng, 6), randAddr(rng, 6));
    }
    if (rng() < 0.5) q.tcp(rint(rng, 65536), rint(rng, 65536));
    else q.udp(rint(rng, 65536), rint(rng, 65536));
    hdr += 8;
    const qhl = family === 4 ? 28 : 48;
    const room = MAX - hdr;
    q.payload(randBytes(rng, rint(rng, 1400)));
    q.truncate(qhl + rint(rng, Math.max(1, Math.min(room - qhl, 200))));
    return b.inner(q).build();
  } else {
    // IPIP / IP6IP6
    const q = pkt();
    if (family === 4) q.ipv4(randAddr(rng, 4), randAddr(rng, 4));
    else q.ipv6(randAddr(rng, 6), randAddr(rng, 6));
    q.udp(rint(rng, 65536), rint(rng, 65536));
    hdr += family === 4 ? 28 : 48;
    q.payload(randBytes(rng, randLen(rng, MAX - hdr)));
    return b.inner(q).build();
  }
  return b.payload(randBytes(rng, randLen(rng, MAX - hdr))).build();
}
