/**
 * rtnetlink messages: bytes <-> objects. The netlink header and stream
 * (netlink(7), linux/netlink.h), attributes (TLVs), error acks with extended
 * ack TLVs, and the two rtnetlink families VRRP needs to move virtual
 * addresses: interface addresses (`struct ifaddrmsg` + IFA_*,
 * linux/if_addr.h) and links (`struct ifinfomsg` + IFLA_*, linux/if_link.h,
 * linux/rtnetlink.h, linux/if.h). rtnetlink(7) describes all of them.
 *
 * Layer: pure codec (H-28, H-32). No I/O, no sockets, no addon: the runner
 * is io/netlink-client.ts. Decoders check the length before every read and
 * throw {@link CodecError} (`XLB_ERR_CODEC_TRUNCATED`, `…_BAD_LENGTH`,
 * `…_BAD_VALUE`) naming the field and its byte offset.
 *
 * Byte order: netlink headers and attribute payloads are in HOST order (the
 * kernel and the process share it), decided once ({@link HOST_LE}); IP
 * addresses inside attributes are in network order as always.
 *
 * Attributes: the ones xlb reads are typed fields; every other attribute is
 * kept, raw, in `unknown` (H-34), so a decoded message re-encodes without
 * loss. Encoding writes the typed attributes first, then the unknown ones in
 * the order they were received. Address messages put the typed ones in the
 * order the kernel emits them for the family (net/ipv4/devinet.c
 * inet_fill_ifaddr, net/ipv6/addrconf.c inet6_fill_ifaddr), so a kernel
 * notification re-encodes byte for byte; link messages and extended acks
 * use ascending type order (a kernel RTM_NEWLINK, with its dozens of
 * attributes, re-encodes to the same attributes in another order).
 *
 * @module net/rtnetlink
 */
import { endianness } from 'node:os';
import { CodecError } from '../errors.js';
import { AF_INET, AF_INET6, formatAddr, parseAddr } from './addr.js';

/** A decoded value and the bytes it took (H-32). */
export interface Decoded<T> {
  /** The decoded value. */
  value: T;
  /** Bytes it took in the input. */
  bytes: number;
}

/** Whether this host is little-endian: netlink integers are in host order. */
export const HOST_LE = endianness() === 'LE';

// --- Constants ---------------------------------------------------------------

/** `struct nlmsghdr` length, bytes (linux/netlink.h NLMSG_HDRLEN). */
export const NLMSG_HDRLEN = 16;
/** Alignment of messages and attributes (NLMSG_ALIGNTO, NLA_ALIGNTO), bytes. */
export const NL_ALIGNTO = 4;
/** `struct nlattr` length, bytes (NLA_HDRLEN). */
export const NLA_HDRLEN = 4;
/** `struct ifaddrmsg` length, bytes (linux/if_addr.h). */
export const IFADDRMSG_LEN = 8;
/** `struct ifinfomsg` length, bytes (linux/rtnetlink.h). */
export const IFINFOMSG_LEN = 16;
/** `struct nlmsgerr` without the echoed request: the int error, bytes. */
const NLMSGERR_ERROR_LEN = 4;
/** `struct ifa_cacheinfo` length, bytes (linux/if_addr.h). */
const IFA_CACHEINFO_LEN = 16;

/** Rounds `n` up to the netlink alignment (NLMSG_ALIGN / NLA_ALIGN). */
export function nlAlign(n: number): number {
  return (n + NL_ALIGNTO - 1) & ~(NL_ALIGNTO - 1);
}

/** Address families (linux/socket.h) in rtnetlink headers. */
export const AF = {
  UNSPEC: 0,
  INET: AF_INET,
  INET6: AF_INET6,
} as const;

/** Control message types (linux/netlink.h); below NLMSG_MIN_TYPE (0x10). */
export const NLMSG = {
  NOOP: 1,
  /** An error or, with error 0, an ACK (`struct nlmsgerr`). */
  ERROR: 2,
  /** End of a multipart (dump) reply; payload: int error. */
  DONE: 3,
  OVERRUN: 4,
} as const;

/** rtnetlink message types (linux/rtnetlink.h) xlb sends or receives. */
export const RTM = {
  NEWLINK: 16,
  DELLINK: 17,
  GETLINK: 18,
  SETLINK: 19,
  NEWADDR: 20,
  DELADDR: 21,
  GETADDR: 22,
} as const;

/** `nlmsg_flags` (linux/netlink.h). Several values mean different things for GET, NEW, DELETE and ACK requests. */
export const NLM_F = {
  /** It is a request message. */
  REQUEST: 0x01,
  /** Part of a multipart reply, ended by NLMSG_DONE. */
  MULTI: 0x02,
  /** Reply with an ack (NLMSG_ERROR, error 0) on success. */
  ACK: 0x04,
  /** Echo this request to the sender's multicast listeners. */
  ECHO: 0x08,
  /** The dump was inconsistent (changed while being dumped): dump again. */
  DUMP_INTR: 0x10,
  /** The dump was filtered as requested. */
  DUMP_FILTERED: 0x20,
  // GET requests
  /** Return the whole table. */
  ROOT: 0x100,
  /** Return all matching entries. */
  MATCH: 0x200,
  ATOMIC: 0x400,
  /** ROOT | MATCH: a dump. */
  DUMP: 0x300,
  // NEW requests
  /** Replace an existing object. */
  REPLACE: 0x100,
  /** Fail (EEXIST) if the object exists. */
  EXCL: 0x200,
  /** Create the object if it does not exist. */
  CREATE: 0x400,
  /** Add to the end of the list. */
  APPEND: 0x800,
  // ACK messages (NLMSG_ERROR)
  /** The echoed request was cut to its header. */
  CAPPED: 0x100,
  /** Extended-ack TLVs follow the echoed request. */
  ACK_TLVS: 0x200,
} as const;

/** Legacy multicast group masks for `bind()` (linux/rtnetlink.h RTMGRP_*). */
export const RTMGRP = {
  LINK: 0x1,
  NOTIFY: 0x2,
  NEIGH: 0x4,
  IPV4_IFADDR: 0x10,
  IPV4_ROUTE: 0x40,
  IPV6_IFADDR: 0x100,
  IPV6_ROUTE: 0x400,
} as const;

/** Interface address attributes (linux/if_addr.h `enum` IFA_*). */
export const IFA = {
  UNSPEC: 0,
  /** Prefix address (the peer on point-to-point links). */
  ADDRESS: 1,
  /** Local address. */
  LOCAL: 2,
  /** Label (IPv4 only: the kernel ignores it for IPv6), NUL-terminated, at most 15 characters. */
  LABEL: 3,
  BROADCAST: 4,
  ANYCAST: 5,
  /** `struct ifa_cacheinfo`. */
  CACHEINFO: 6,
  MULTICAST: 7,
  /** u32 flags; supersedes `ifa_flags` (u8). */
  FLAGS: 8,
  RT_PRIORITY: 9,
  TARGET_NETNSID: 10,
  /** u8 originator of the address (IFAPROT_*). */
  PROTO: 11,
} as const;

/** Interface address flags (linux/if_addr.h IFA_F_*). */
export const IFA_F = {
  SECONDARY: 0x01,
  /** Skip duplicate address detection (IPv6). */
  NODAD: 0x02,
  OPTIMISTIC: 0x04,
  DADFAILED: 0x08,
  HOMEADDRESS: 0x10,
  DEPRECATED: 0x20,
  /** DAD still running (IPv6): the address is not usable yet. */
  TENTATIVE: 0x40,
  PERMANENT: 0x80,
  MANAGETEMPADDR: 0x100,
  NOPREFIXROUTE: 0x200,
  MCAUTOJOIN: 0x400,
  STABLE_PRIVACY: 0x800,
} as const;

/** Address scopes (linux/rtnetlink.h `enum rt_scope_t`). */
export const RT_SCOPE = {
  UNIVERSE: 0,
  SITE: 200,
  LINK: 253,
  HOST: 254,
  NOWHERE: 255,
} as const;

/** Link attributes (linux/if_link.h IFLA_*) that xlb reads. */
export const IFLA = {
  UNSPEC: 0,
  /** Hardware address. */
  ADDRESS: 1,
  /** Hardware broadcast address. */
  BROADCAST: 2,
  /** Interface name, NUL-terminated. */
  IFNAME: 3,
  /** u32. */
  MTU: 4,
  /** u32 ifindex of the lower device (veth peer, VLAN parent...). */
  LINK: 5,
  /** u32 ifindex of the master (bridge, bond, VRF). */
  MASTER: 10,
  /** u32. */
  TXQLEN: 13,
  /** u8 RFC 2863 operational state, {@link IF_OPER}. */
  OPERSTATE: 16,
  /** u8. */
  LINKMODE: 17,
  /** Nested: IFLA_INFO_KIND... */
  LINKINFO: 18,
  /** u8: carrier on. */
  CARRIER: 33,
} as const;

/** Device flags (linux/if.h `enum net_device_flags` IFF_*). */
export const IFF = {
  /** Administratively up. */
  UP: 0x1,
  BROADCAST: 0x2,
  DEBUG: 0x4,
  LOOPBACK: 0x8,
  POINTOPOINT: 0x10,
  NOTRAILERS: 0x20,
  /** Operationally up (RFC 2863 "up"); the kernel's "RUNNING". */
  RUNNING: 0x40,
  NOARP: 0x80,
  PROMISC: 0x100,
  ALLMULTI: 0x200,
  MASTER: 0x400,
  SLAVE: 0x800,
  MULTICAST: 0x1000,
  PORTSEL: 0x2000,
  AUTOMEDIA: 0x4000,
  DYNAMIC: 0x8000,
  /** The driver signals L1 up (carrier). */
  LOWER_UP: 0x10000,
  DORMANT: 0x20000,
  ECHO: 0x40000,
} as const;

/** RFC 2863 operational states (linux/if.h IF_OPER_*). */
export const IF_OPER = {
  UNKNOWN: 0,
  NOTPRESENT: 1,
  DOWN: 2,
  LOWERLAYERDOWN: 3,
  TESTING: 4,
  DORMANT: 5,
  UP: 6,
} as const;

/** Extended-ack TLVs after an echoed request (linux/netlink.h NLMSGERR_ATTR_*). */
export const NLMSGERR_ATTR = {
  UNUSED: 0,
  /** NUL-terminated error message. */
  MSG: 1,
  /** u32 offset of the offending attribute in the request. */
  OFFS: 2,
  COOKIE: 3,
  POLICY: 4,
  /** u32 type of a missing attribute. */
  MISS_TYPE: 5,
  /** u32 offset of the nest the missing attribute belongs in. */
  MISS_NEST: 6,
} as const;

/** Attribute type flags (linux/netlink.h); the type proper is the low 14 bits. */
export const NLA_F = {
  NESTED: 0x8000,
  NET_BYTEORDER: 0x4000,
  TYPE_MASK: 0x3fff,
} as const;

/** Name of `n` in `table`, or `UNKNOWN_<n>` (H-34). */
function nameIn(table: Readonly<Record<string, number>>, n: number): string {
  for (const [k, v] of Object.entries(table)) if (v === n) return k;
  return `UNKNOWN_${n}`;
}

/** `NOOP`, `ERROR`, `DONE`, `OVERRUN`, `NEWLINK`, `NEWADDR`, ..., or `UNKNOWN_<n>`. */
export function nlmsgTypeName(type: number): string {
  return type < 0x10 ? nameIn(NLMSG, type) : nameIn(RTM, type);
}

/** `UP`, `DOWN`, ..., or `UNKNOWN_<n>` (note: `UNKNOWN` is state 0 itself). */
export function operStateName(state: number): string {
  return nameIn(IF_OPER, state);
}

/** Names of the bits set in `flags` per `table` (IFF or IFA_F); unknown bits as `0x<hex>`. */
export function flagNames(table: Readonly<Record<string, number>>, flags: number): string[] {
  const names: string[] = [];
  let rest = flags >>> 0;
  for (const [k, v] of Object.entries(table)) {
    if ((rest & v) !== 0 && (v & (v - 1)) === 0) {
      names.push(k);
      rest &= ~v;
    }
  }
  if (rest !== 0) names.push(`0x${(rest >>> 0).toString(16)}`);
  return names;
}

// --- Host-order integers -------------------------------------------------------

function rd16(b: Buffer, o: number): number {
  return HOST_LE ? b.readUInt16LE(o) : b.readUInt16BE(o);
}
function rd32(b: Buffer, o: number): number {
  return HOST_LE ? b.readUInt32LE(o) : b.readUInt32BE(o);
}
function rdI32(b: Buffer, o: number): number {
  return HOST_LE ? b.readInt32LE(o) : b.readInt32BE(o);
}
function wr16(b: Buffer, v: number, o: number): void {
  if (HOST_LE) b.writeUInt16LE(v, o);
  else b.writeUInt16BE(v, o);
}
function wr32(b: Buffer, v: number, o: number): void {
  if (HOST_LE) b.writeUInt32LE(v >>> 0, o);
  else b.writeUInt32BE(v >>> 0, o);
}
function wrI32(b: Buffer, v: number, o: number): void {
  if (HOST_LE) b.writeInt32LE(v, o);
  else b.writeInt32BE(v, o);
}

/** A host-order u32 as a 4-byte Buffer (for u32 attributes). */
export function u32Bytes(v: number): Buffer {
  const b = Buffer.alloc(4);
  wr32(b, v, 0);
  return b;
}

/** Throws XLB_ERR_CODEC_TRUNCATED unless `need` bytes are left at `off` (of `end`). */
function need(proto: string, field: string, off: number, n: number, end: number): void {
  if (off + n > end) throw new CodecError('XLB_ERR_CODEC_TRUNCATED', [proto, field, off], off);
}

/** The buffer to encode into: `buf` (checked for room) or a new zeroed one. */
function target(what: string, len: number, buf: Buffer | undefined, offset: number): Buffer {
  if (buf === undefined) return Buffer.alloc(offset + len);
  if (offset < 0 || offset + len > buf.length) throw new RangeError(`${what}: ${len} bytes do not fit at offset ${offset} of a ${buf.length}-byte buffer`);
  return buf;
}

// --- nlmsghdr ------------------------------------------------------------------

/** One netlink message: `struct nlmsghdr` (16 bytes) and its payload. */
export interface NlMsg {
  /** `nlmsg_type`: {@link NLMSG} or {@link RTM}. */
  type: number;
  /** `nlmsg_flags`: {@link NLM_F}. */
  flags: number;
  /** `nlmsg_seq`: echoed in replies. */
  seq: number;
  /** `nlmsg_pid`: the sender's port id (0: the kernel); replies carry the requester's. */
  pid: number;
  /** Everything after the header, `nlmsg_len - 16` bytes (no trailing padding). */
  payload: Buffer;
}

/** Bytes {@link encodeNlMsg} writes: header + payload, padded to 4. */
export function nlMsgLength(m: NlMsg): number {
  return nlAlign(NLMSG_HDRLEN + m.payload.length);
}

/**
 * Encodes one message; `nlmsg_len` is 16 + payload (the padding after it is
 * not counted, as NLMSG_LENGTH does) and the padding is zeroed.
 */
export function encodeNlMsg(m: NlMsg, buf?: Buffer, offset = 0): Buffer {
  const len = nlMsgLength(m);
  const b = target('encodeNlMsg', len, buf, offset);
  wr32(b, NLMSG_HDRLEN + m.payload.length, offset);
  wr16(b, m.type, offset + 4);
  wr16(b, m.flags, offset + 6);
  wr32(b, m.seq, offset + 8);
  wr32(b, m.pid, offset + 12);
  m.payload.copy(b, offset + NLMSG_HDRLEN);
  b.fill(0, offset + NLMSG_HDRLEN + m.payload.length, offset + len);
  return b;
}

/**
 * Decodes the message at `offset`. `bytes` includes the alignment padding
 * (NLMSG_NEXT), or stops at the end of the buffer for an unpadded last one.
 * @throws CodecError TRUNCATED (header or body beyond the data), BAD_LENGTH (`nlmsg_len` < 16)
 */
export function decodeNlMsg(buf: Buffer, offset = 0): Decoded<NlMsg> {
  need('netlink', 'nlmsghdr', offset, NLMSG_HDRLEN, buf.length);
  const len = rd32(buf, offset);
  if (len < NLMSG_HDRLEN) throw new CodecError('XLB_ERR_CODEC_BAD_LENGTH', ['netlink', 'nlmsg_len', len, offset], offset);
  need('netlink', 'message body', offset, len, buf.length);
  const value: NlMsg = {
    type: rd16(buf, offset + 4),
    flags: rd16(buf, offset + 6),
    seq: rd32(buf, offset + 8),
    pid: rd32(buf, offset + 12),
    payload: Buffer.from(buf.subarray(offset + NLMSG_HDRLEN, offset + len)),
  };
  return { value, bytes: Math.min(nlAlign(len), buf.length - offset) };
}

/**
 * Every message of one datagram (NLMSG_OK / NLMSG_NEXT).
 * @throws CodecError as {@link decodeNlMsg}, with the offset in the datagram
 */
export function decodeNlMsgs(buf: Buffer): NlMsg[] {
  const out: NlMsg[] = [];
  for (let off = 0; off < buf.length; ) {
    const d = decodeNlMsg(buf, off);
    out.push(d.value);
    off += d.bytes;
  }
  return out;
}

// --- Attributes ----------------------------------------------------------------

/** One attribute (`struct nlattr` + payload), kept raw. */
export interface NlAttr {
  /** `nla_type`, flags included (NLA_F_NESTED, NLA_F_NET_BYTEORDER). */
  type: number;
  /** The payload (`nla_len - 4` bytes, no padding). */
  data: Buffer;
}

/** Bytes {@link encodeNlAttrs} writes: each attribute padded to 4. */
export function nlAttrsLength(attrs: readonly NlAttr[]): number {
  let n = 0;
  for (const a of attrs) n += nlAlign(NLA_HDRLEN + a.data.length);
  return n;
}

/** Encodes attributes back to back, each padded with zeros to 4 bytes. */
export function encodeNlAttrs(attrs: readonly NlAttr[], buf?: Buffer, offset = 0): Buffer {
  const b = target('encodeNlAttrs', nlAttrsLength(attrs), buf, offset);
  let off = offset;
  for (const a of attrs) {
    const len = NLA_HDRLEN + a.data.length;
    if (len > 0xffff) throw new RangeError(`encodeNlAttrs: attribute ${a.type} of ${a.data.length} bytes exceeds nla_len`);
    wr16(b, len, off);
    wr16(b, a.type, off + 2);
    a.data.copy(b, off + NLA_HDRLEN);
    b.fill(0, off + len, off + nlAlign(len));
    off += nlAlign(len);
  }
  return b;
}

/**
 * Decodes the attributes in `[offset, offset + length)`.
 * @param proto protocol name for errors (`'ifaddrmsg'`, ...)
 * @throws CodecError TRUNCATED (a header or payload past the end), BAD_LENGTH (`nla_len` < 4)
 */
export function decodeNlAttrs(buf: Buffer, offset = 0, length = buf.length - offset, proto = 'netlink'): Decoded<NlAttr[]> {
  const end = offset + length;
  if (end > buf.length) throw new CodecError('XLB_ERR_CODEC_TRUNCATED', [proto, 'attributes', offset], offset);
  const out: NlAttr[] = [];
  let off = offset;
  // A tail shorter than an attribute header is padding (nla_ok()).
  while (end - off >= NLA_HDRLEN) {
    const len = rd16(buf, off);
    const type = rd16(buf, off + 2);
    if (len < NLA_HDRLEN) throw new CodecError('XLB_ERR_CODEC_BAD_LENGTH', [proto, `attribute ${type & NLA_F.TYPE_MASK} nla_len`, len, off], off);
    need(proto, `attribute ${type & NLA_F.TYPE_MASK}`, off, len, end);
    out.push({ type, data: Buffer.from(buf.subarray(off + NLA_HDRLEN, off + len)) });
    off += Math.min(nlAlign(len), end - off);
  }
  return { value: out, bytes: length };
}

/** The typed attributes in `order` (types absent from `order` last, ascending), then `unknown` as received. */
function orderAttrs(known: NlAttr[], unknown: readonly NlAttr[] | undefined, order: readonly number[] = []): NlAttr[] {
  const rank = (t: number): number => {
    const i = order.indexOf(t);
    return i < 0 ? order.length + t : i;
  };
  return [...[...known].sort((x, y) => rank(x.type) - rank(y.type)), ...(unknown ?? [])];
}

/** A NUL-terminated string attribute payload. */
export function strAttr(s: string): Buffer {
  return Buffer.concat([Buffer.from(s, 'utf8'), Buffer.alloc(1)]);
}

/** Reads a string attribute: up to the first NUL (the kernel always sends one). */
function readStr(a: NlAttr): string {
  const nul = a.data.indexOf(0);
  return a.data.toString('utf8', 0, nul < 0 ? a.data.length : nul);
}

function readU32(proto: string, field: string, a: NlAttr, at: number): number {
  if (a.data.length !== 4) throw new CodecError('XLB_ERR_CODEC_BAD_LENGTH', [proto, field, a.data.length, at], at);
  return rd32(a.data, 0);
}

function readU8(proto: string, field: string, a: NlAttr, at: number): number {
  if (a.data.length !== 1) throw new CodecError('XLB_ERR_CODEC_BAD_LENGTH', [proto, field, a.data.length, at], at);
  return a.data[0]!;
}

/** A u8 attribute payload. */
function u8Bytes(v: number): Buffer {
  return Buffer.from([v]);
}

/** Offsets of each attribute's header in the region decodeNlAttrs read, for error offsets. */
function attrOffsets(attrs: readonly NlAttr[], start: number): number[] {
  const offs: number[] = [];
  let off = start;
  for (const a of attrs) {
    offs.push(off);
    off += nlAlign(NLA_HDRLEN + a.data.length);
  }
  return offs;
}

/** Hardware address bytes as `aa:bb:cc:dd:ee:ff` (any length). */
export function formatHwAddr(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}

/** `aa:bb:cc:dd:ee:ff` (any number of octets, `:` or `-`) as bytes. */
export function parseHwAddr(text: string): Buffer {
  if (!/^[0-9a-f]{2}([:-][0-9a-f]{2})*$/i.test(text)) throw new TypeError(`not a hardware address: ${JSON.stringify(text)}`);
  return Buffer.from(text.split(/[:-]/).map((x) => parseInt(x, 16)));
}

// --- ifaddrmsg -----------------------------------------------------------------

/** `struct ifa_cacheinfo` (linux/if_addr.h): lifetimes in seconds (0xffffffff: forever), stamps in 1/100 s since boot. */
export interface IfaCacheInfo {
  /** Preferred lifetime left, s. */
  preferred: number;
  /** Valid lifetime left, s. */
  valid: number;
  /** Created, centiseconds since boot. */
  created: number;
  /** Last updated, centiseconds since boot. */
  updated: number;
}

/** The attributes of an address message that xlb reads; the rest is in `unknown`. */
export interface IfAddrAttrs {
  /** IFA_ADDRESS: the prefix address (the peer on point-to-point links). */
  address?: string;
  /** IFA_LOCAL: the local address (IPv4 sends it; IPv6 only with a peer). */
  local?: string;
  /** IFA_LABEL (IPv4). */
  label?: string;
  /** IFA_BROADCAST (IPv4). */
  broadcast?: string;
  /** IFA_FLAGS: the full 32-bit flags ({@link IFA_F}). */
  flags?: number;
  /** IFA_CACHEINFO. */
  cacheInfo?: IfaCacheInfo;
  /** IFA_PROTO: who added the address (u8). */
  proto?: number;
  /** Other attributes, raw, in the order received. */
  unknown?: NlAttr[];
}

/** `struct ifaddrmsg` (8 bytes) and its attributes: RTM_NEWADDR / DELADDR / GETADDR. */
export interface IfAddrMsg {
  /** `ifa_family`: AF_INET (2), AF_INET6 (10), or AF_UNSPEC (0) in dump requests. */
  family: number;
  /** `ifa_prefixlen`. */
  prefixLength: number;
  /** `ifa_flags`: the low 8 bits of the flags (IFA_FLAGS has all of them). */
  flags: number;
  /** `ifa_scope`: {@link RT_SCOPE}. */
  scope: number;
  /** `ifa_index`: the interface. */
  index: number;
  /** Attributes. */
  attrs: IfAddrAttrs;
}

/** Address byte length of `family` (4, 16), or 0 when addresses of it are kept raw. */
function addrLen(family: number): number {
  return family === AF_INET ? 4 : family === AF_INET6 ? 16 : 0;
}

function addrBytes(what: string, family: number, text: string): Buffer {
  const n = addrLen(family);
  if (n === 0) throw new TypeError(`${what}: addresses of family ${family} are not supported; pass them in unknown`);
  let a;
  try {
    a = parseAddr(text);
  } catch {
    throw new TypeError(`${what}: not an IP address: ${JSON.stringify(text)}`);
  }
  if (a.family !== family) throw new TypeError(`${what}: ${text} is not of family ${family}`);
  return Buffer.from(a.bytes.subarray(0, n));
}

/** The kernel's attribute order for IPv4 addresses (net/ipv4/devinet.c inet_fill_ifaddr). */
const IFA_ORDER_INET = [IFA.ADDRESS, IFA.LOCAL, IFA.BROADCAST, IFA.LABEL, IFA.PROTO, IFA.FLAGS, IFA.CACHEINFO];
/** The kernel's attribute order for IPv6 addresses (net/ipv6/addrconf.c inet6_fill_ifaddr; IFA_LOCAL comes first only with a peer). */
const IFA_ORDER_INET6 = [IFA.LOCAL, IFA.ADDRESS, IFA.LABEL, IFA.BROADCAST, IFA.CACHEINFO, IFA.FLAGS, IFA.PROTO];

function ifAddrAttrList(v: IfAddrMsg): NlAttr[] {
  const a = v.attrs;
  const list: NlAttr[] = [];
  if (a.address !== undefined) list.push({ type: IFA.ADDRESS, data: addrBytes('ifaddrmsg.address', v.family, a.address) });
  if (a.local !== undefined) list.push({ type: IFA.LOCAL, data: addrBytes('ifaddrmsg.local', v.family, a.local) });
  if (a.label !== undefined) list.push({ type: IFA.LABEL, data: strAttr(a.label) });
  if (a.broadcast !== undefined) list.push({ type: IFA.BROADCAST, data: addrBytes('ifaddrmsg.broadcast', v.family, a.broadcast) });
  if (a.cacheInfo !== undefined) {
    const c = Buffer.alloc(IFA_CACHEINFO_LEN);
    wr32(c, a.cacheInfo.preferred, 0);
    wr32(c, a.cacheInfo.valid, 4);
    wr32(c, a.cacheInfo.created, 8);
    wr32(c, a.cacheInfo.updated, 12);
    list.push({ type: IFA.CACHEINFO, data: c });
  }
  if (a.flags !== undefined) list.push({ type: IFA.FLAGS, data: u32Bytes(a.flags) });
  if (a.proto !== undefined) list.push({ type: IFA.PROTO, data: u8Bytes(a.proto) });
  return orderAttrs(list, a.unknown, v.family === AF_INET ? IFA_ORDER_INET : v.family === AF_INET6 ? IFA_ORDER_INET6 : []);
}

/** Bytes {@link encodeIfAddrMsg} writes. */
export function ifAddrMsgLength(v: IfAddrMsg): number {
  return IFADDRMSG_LEN + nlAttrsLength(ifAddrAttrList(v));
}

/**
 * Encodes an address message payload (what follows the nlmsghdr).
 * @throws TypeError for an address that is not of `family`; RangeError for out-of-range header fields
 */
export function encodeIfAddrMsg(v: IfAddrMsg, buf?: Buffer, offset = 0): Buffer {
  const attrs = ifAddrAttrList(v);
  const b = target('encodeIfAddrMsg', IFADDRMSG_LEN + nlAttrsLength(attrs), buf, offset);
  b.writeUInt8(v.family, offset);
  b.writeUInt8(v.prefixLength, offset + 1);
  b.writeUInt8(v.flags, offset + 2);
  b.writeUInt8(v.scope, offset + 3);
  wr32(b, v.index, offset + 4);
  encodeNlAttrs(attrs, b, offset + IFADDRMSG_LEN);
  return b;
}

/**
 * Decodes an address message payload of `length` bytes.
 * @throws CodecError TRUNCATED, BAD_LENGTH (an attribute of the wrong size for its type)
 */
export function decodeIfAddrMsg(buf: Buffer, offset = 0, length = buf.length - offset): Decoded<IfAddrMsg> {
  const end = offset + length;
  need('ifaddrmsg', 'header', offset, IFADDRMSG_LEN, Math.min(end, buf.length));
  const family = buf[offset]!;
  const value: IfAddrMsg = {
    family,
    prefixLength: buf[offset + 1]!,
    flags: buf[offset + 2]!,
    scope: buf[offset + 3]!,
    index: rd32(buf, offset + 4),
    attrs: {},
  };
  const start = offset + IFADDRMSG_LEN;
  const list = decodeNlAttrs(buf, start, end - start, 'ifaddrmsg').value;
  const offs = attrOffsets(list, start);
  const alen = addrLen(family);
  const attrs = value.attrs;
  const unknown: NlAttr[] = [];
  list.forEach((a, i) => {
    const at = offs[i]!;
    const addr = (field: string): string => {
      if (a.data.length !== alen) throw new CodecError('XLB_ERR_CODEC_BAD_LENGTH', ['ifaddrmsg', field, a.data.length, at], at);
      const bytes = new Uint8Array(16);
      bytes.set(a.data);
      return formatAddr(family, bytes);
    };
    const isAddr = alen !== 0;
    switch (a.type) {
      case IFA.ADDRESS:
        if (isAddr) attrs.address = addr('IFA_ADDRESS');
        else unknown.push(a);
        break;
      case IFA.LOCAL:
        if (isAddr) attrs.local = addr('IFA_LOCAL');
        else unknown.push(a);
        break;
      case IFA.BROADCAST:
        if (isAddr) attrs.broadcast = addr('IFA_BROADCAST');
        else unknown.push(a);
        break;
      case IFA.LABEL:
        attrs.label = readStr(a);
        break;
      case IFA.FLAGS:
        attrs.flags = readU32('ifaddrmsg', 'IFA_FLAGS', a, at);
        break;
      case IFA.PROTO:
        attrs.proto = readU8('ifaddrmsg', 'IFA_PROTO', a, at);
        break;
      case IFA.CACHEINFO:
        if (a.data.length !== IFA_CACHEINFO_LEN) throw new CodecError('XLB_ERR_CODEC_BAD_LENGTH', ['ifaddrmsg', 'IFA_CACHEINFO', a.data.length, at], at);
        attrs.cacheInfo = { preferred: rd32(a.data, 0), valid: rd32(a.data, 4), created: rd32(a.data, 8), updated: rd32(a.data, 12) };
        break;
      default:
        unknown.push(a);
    }
  });
  if (unknown.length > 0) attrs.unknown = unknown;
  return { value, bytes: length };
}

// --- ifinfomsg -----------------------------------------------------------------

/** The attributes of a link message that xlb reads; the rest is in `unknown`. */
export interface IfInfoAttrs {
  /** IFLA_ADDRESS: hardware address, `aa:bb:...`. */
  address?: string;
  /** IFLA_BROADCAST: hardware broadcast address. */
  broadcast?: string;
  /** IFLA_IFNAME. */
  ifname?: string;
  /** IFLA_MTU. */
  mtu?: number;
  /** IFLA_LINK: ifindex of the lower device. */
  link?: number;
  /** IFLA_MASTER: ifindex of the master. */
  master?: number;
  /** IFLA_OPERSTATE: {@link IF_OPER}. */
  operstate?: number;
  /** IFLA_CARRIER: 1 when the carrier is on. */
  carrier?: number;
  /** Other attributes, raw, in the order received. */
  unknown?: NlAttr[];
}

/** `struct ifinfomsg` (16 bytes) and its attributes: RTM_NEWLINK / DELLINK / GETLINK. */
export interface IfInfoMsg {
  /** `ifi_family`: AF_UNSPEC (0) for links. */
  family: number;
  /** `ifi_type`: ARPHRD_* (1: Ethernet, 772: loopback). */
  type: number;
  /** `ifi_index`. */
  index: number;
  /** `ifi_flags`: {@link IFF}. */
  flags: number;
  /** `ifi_change`: which flags changed (0xffffffff in requests, by convention). */
  change: number;
  /** Attributes. */
  attrs: IfInfoAttrs;
}

function ifInfoAttrList(v: IfInfoMsg): NlAttr[] {
  const a = v.attrs;
  const list: NlAttr[] = [];
  if (a.address !== undefined) list.push({ type: IFLA.ADDRESS, data: parseHwAddr(a.address) });
  if (a.broadcast !== undefined) list.push({ type: IFLA.BROADCAST, data: parseHwAddr(a.broadcast) });
  if (a.ifname !== undefined) list.push({ type: IFLA.IFNAME, data: strAttr(a.ifname) });
  if (a.mtu !== undefined) list.push({ type: IFLA.MTU, data: u32Bytes(a.mtu) });
  if (a.link !== undefined) list.push({ type: IFLA.LINK, data: u32Bytes(a.link) });
  if (a.master !== undefined) list.push({ type: IFLA.MASTER, data: u32Bytes(a.master) });
  if (a.operstate !== undefined) list.push({ type: IFLA.OPERSTATE, data: u8Bytes(a.operstate) });
  if (a.carrier !== undefined) list.push({ type: IFLA.CARRIER, data: u8Bytes(a.carrier) });
  return orderAttrs(list, a.unknown);
}

/** Bytes {@link encodeIfInfoMsg} writes. */
export function ifInfoMsgLength(v: IfInfoMsg): number {
  return IFINFOMSG_LEN + nlAttrsLength(ifInfoAttrList(v));
}

/** Encodes a link message payload (what follows the nlmsghdr). */
export function encodeIfInfoMsg(v: IfInfoMsg, buf?: Buffer, offset = 0): Buffer {
  const attrs = ifInfoAttrList(v);
  const b = target('encodeIfInfoMsg', IFINFOMSG_LEN + nlAttrsLength(attrs), buf, offset);
  b.writeUInt8(v.family, offset);
  b.writeUInt8(0, offset + 1); // __ifi_pad
  wr16(b, v.type, offset + 2);
  wrI32(b, v.index, offset + 4);
  wr32(b, v.flags, offset + 8);
  wr32(b, v.change, offset + 12);
  encodeNlAttrs(attrs, b, offset + IFINFOMSG_LEN);
  return b;
}

/**
 * Decodes a link message payload of `length` bytes.
 * @throws CodecError TRUNCATED, BAD_LENGTH (an attribute of the wrong size for its type)
 */
export function decodeIfInfoMsg(buf: Buffer, offset = 0, length = buf.length - offset): Decoded<IfInfoMsg> {
  const end = offset + length;
  need('ifinfomsg', 'header', offset, IFINFOMSG_LEN, Math.min(end, buf.length));
  const value: IfInfoMsg = {
    family: buf[offset]!,
    type: rd16(buf, offset + 2),
    index: rdI32(buf, offset + 4),
    flags: rd32(buf, offset + 8),
    change: rd32(buf, offset + 12),
    attrs: {},
  };
  const start = offset + IFINFOMSG_LEN;
  const list = decodeNlAttrs(buf, start, end - start, 'ifinfomsg').value;
  const offs = attrOffsets(list, start);
  const attrs = value.attrs;
  const unknown: NlAttr[] = [];
  list.forEach((a, i) => {
    const at = offs[i]!;
    switch (a.type) {
      case IFLA.ADDRESS:
        attrs.address = formatHwAddr(a.data);
        break;
      case IFLA.BROADCAST:
        attrs.broadcast = formatHwAddr(a.data);
        break;
      case IFLA.IFNAME:
        attrs.ifname = readStr(a);
        break;
      case IFLA.MTU:
        attrs.mtu = readU32('ifinfomsg', 'IFLA_MTU', a, at);
        break;
      case IFLA.LINK:
        attrs.link = readU32('ifinfomsg', 'IFLA_LINK', a, at);
        break;
      case IFLA.MASTER:
        attrs.master = readU32('ifinfomsg', 'IFLA_MASTER', a, at);
        break;
      case IFLA.OPERSTATE:
        attrs.operstate = readU8('ifinfomsg', 'IFLA_OPERSTATE', a, at);
        break;
      case IFLA.CARRIER:
        attrs.carrier = readU8('ifinfomsg', 'IFLA_CARRIER', a, at);
        break;
      default:
        unknown.push(a);
    }
  });
  if (unknown.length > 0) attrs.unknown = unknown;
  return { value, bytes: length };
}

// --- nlmsgerr ------------------------------------------------------------------

/** Extended ack (NLM_F_ACK_TLVS, with NETLINK_EXT_ACK on): why the kernel refused. */
export interface ExtAck {
  /** NLMSGERR_ATTR_MSG, e.g. `'ipv4: Address already assigned'`. */
  message?: string;
  /** NLMSGERR_ATTR_OFFS: offset of the offending attribute in the request. */
  offset?: number;
  /** NLMSGERR_ATTR_MISS_TYPE: a required attribute that was missing. */
  missingType?: number;
  /** NLMSGERR_ATTR_MISS_NEST: offset of the nest it was missing from. */
  missingNest?: number;
  /** Other TLVs (cookie, policy), raw. */
  unknown?: NlAttr[];
}

/** The echoed request header inside an error/ack. */
export interface NlMsgHeader {
  /** `nlmsg_len` of the ORIGINAL request (even when only its header is echoed). */
  len: number;
  type: number;
  flags: number;
  seq: number;
  pid: number;
}

/** `struct nlmsgerr`: the payload of an NLMSG_ERROR message. */
export interface NlMsgErr {
  /** 0 for an ACK, else a NEGATIVE errno (-17 EEXIST, -99 EADDRNOTAVAIL, ...). */
  error: number;
  /** The request's header. */
  request: NlMsgHeader;
  /**
   * The request's payload, echoed when the message is not NLM_F_CAPPED
   * (errors on a socket without NETLINK_CAP_ACK); absent when capped.
   */
  requestPayload?: Buffer;
  /** Extended-ack TLVs (NLM_F_ACK_TLVS). */
  extAck?: ExtAck;
}

/** The NLMSG_ERROR header flags that go with `v`: CAPPED unless the payload is echoed, ACK_TLVS with extAck. */
export function nlMsgErrFlags(v: NlMsgErr): number {
  return (v.requestPayload === undefined ? NLM_F.CAPPED : 0) | (v.extAck !== undefined ? NLM_F.ACK_TLVS : 0);
}

function extAckList(e: ExtAck): NlAttr[] {
  const list: NlAttr[] = [];
  if (e.message !== undefined) list.push({ type: NLMSGERR_ATTR.MSG, data: strAttr(e.message) });
  if (e.offset !== undefined) list.push({ type: NLMSGERR_ATTR.OFFS, data: u32Bytes(e.offset) });
  if (e.missingType !== undefined) list.push({ type: NLMSGERR_ATTR.MISS_TYPE, data: u32Bytes(e.missingType) });
  if (e.missingNest !== undefined) list.push({ type: NLMSGERR_ATTR.MISS_NEST, data: u32Bytes(e.missingNest) });
  return orderAttrs(list, e.unknown);
}

/** Bytes {@link encodeNlMsgErr} writes. */
export function nlMsgErrLength(v: NlMsgErr): number {
  const echoed = NLMSG_HDRLEN + (v.requestPayload === undefined ? 0 : nlAlign(v.requestPayload.length));
  return NLMSGERR_ERROR_LEN + echoed + (v.extAck === undefined ? 0 : nlAttrsLength(extAckList(v.extAck)));
}

/**
 * Encodes an NLMSG_ERROR payload; put {@link nlMsgErrFlags}(v) in the
 * message header's flags so a decoder knows its shape.
 */
export function encodeNlMsgErr(v: NlMsgErr, buf?: Buffer, offset = 0): Buffer {
  const len = nlMsgErrLength(v);
  const b = target('encodeNlMsgErr', len, buf, offset);
  b.fill(0, offset, offset + len);
  wrI32(b, v.error, offset);
  let off = offset + NLMSGERR_ERROR_LEN;
  wr32(b, v.request.len, off);
  wr16(b, v.request.type, off + 4);
  wr16(b, v.request.flags, off + 6);
  wr32(b, v.request.seq, off + 8);
  wr32(b, v.request.pid, off + 12);
  off += NLMSG_HDRLEN;
  if (v.requestPayload !== undefined) {
    v.requestPayload.copy(b, off);
    off += nlAlign(v.requestPayload.length);
  }
  if (v.extAck !== undefined) encodeNlAttrs(extAckList(v.extAck), b, off);
  return b;
}

/**
 * Decodes an NLMSG_ERROR payload (`struct nlmsgerr`, then the TLVs).
 * @param flags the NLMSG_ERROR message's own `nlmsg_flags` (NLM_F_CAPPED, NLM_F_ACK_TLVS)
 * @throws CodecError TRUNCATED, BAD_LENGTH (an echoed `nlmsg_len` below 16 in an uncapped error)
 */
export function decodeNlMsgErr(buf: Buffer, flags: number, offset = 0, length = buf.length - offset): Decoded<NlMsgErr> {
  const end = Math.min(offset + length, buf.length);
  need('nlmsgerr', 'error', offset, NLMSGERR_ERROR_LEN, end);
  const error = rdI32(buf, offset);
  let off = offset + NLMSGERR_ERROR_LEN;
  need('nlmsgerr', 'msg', off, NLMSG_HDRLEN, end);
  const request: NlMsgHeader = {
    len: rd32(buf, off),
    type: rd16(buf, off + 4),
    flags: rd16(buf, off + 6),
    seq: rd32(buf, off + 8),
    pid: rd32(buf, off + 12),
  };
  const value: NlMsgErr = { error, request };
  const hdrAt = off;
  off += NLMSG_HDRLEN;
  if ((flags & NLM_F.CAPPED) === 0) {
    if (request.len < NLMSG_HDRLEN) throw new CodecError('XLB_ERR_CODEC_BAD_LENGTH', ['nlmsgerr', 'msg.nlmsg_len', request.len, hdrAt], hdrAt);
    const plen = request.len - NLMSG_HDRLEN;
    need('nlmsgerr', 'echoed request', off, plen, end);
    value.requestPayload = Buffer.from(buf.subarray(off, off + plen));
    off += Math.min(nlAlign(plen), end - off);
  }
  if ((flags & NLM_F.ACK_TLVS) !== 0) {
    const list = decodeNlAttrs(buf, off, end - off, 'nlmsgerr').value;
    const offs = attrOffsets(list, off);
    const e: ExtAck = {};
    const unknown: NlAttr[] = [];
    list.forEach((a, i) => {
      const at = offs[i]!;
      switch (a.type) {
        case NLMSGERR_ATTR.MSG:
          e.message = readStr(a);
          break;
        case NLMSGERR_ATTR.OFFS:
          e.offset = readU32('nlmsgerr', 'NLMSGERR_ATTR_OFFS', a, at);
          break;
        case NLMSGERR_ATTR.MISS_TYPE:
          e.missingType = readU32('nlmsgerr', 'NLMSGERR_ATTR_MISS_TYPE', a, at);
          break;
        case NLMSGERR_ATTR.MISS_NEST:
          e.missingNest = readU32('nlmsgerr', 'NLMSGERR_ATTR_MISS_NEST', a, at);
          break;
        default:
          unknown.push(a);
      }
    });
    if (unknown.length > 0) e.unknown = unknown;
    value.extAck = e;
  }
  return { value, bytes: end - offset };
}

// --- Whole rtnetlink messages --------------------------------------------------

/** The header fields of a decoded message (everything but the payload). */
export type RtHeader = Omit<NlMsg, 'payload'>;

/** A decoded rtnetlink message, by kind. */
export type RtMessage =
  /** NLMSG_ERROR: an ack (error 0) or an error. */
  | { kind: 'error'; header: RtHeader; value: NlMsgErr }
  /** NLMSG_DONE: end of a dump; `error` is the dump's result (0 or -errno). */
  | { kind: 'done'; header: RtHeader; error: number }
  /** RTM_NEWLINK / DELLINK / GETLINK. */
  | { kind: 'link'; header: RtHeader; value: IfInfoMsg }
  /** RTM_NEWADDR / DELADDR / GETADDR. */
  | { kind: 'addr'; header: RtHeader; value: IfAddrMsg }
  /** Anything else (NOOP, OVERRUN, routes, neighbours...), payload raw. */
  | { kind: 'other'; header: RtHeader; payload: Buffer };

/**
 * Decodes the payload of one message by its type.
 * @throws CodecError from the payload decoder, naming the field
 */
export function decodeRtMessage(m: NlMsg): RtMessage {
  const header: RtHeader = { type: m.type, flags: m.flags, seq: m.seq, pid: m.pid };
  switch (m.type) {
    case NLMSG.ERROR:
      return { kind: 'error', header, value: decodeNlMsgErr(m.payload, m.flags).value };
    case NLMSG.DONE:
      // The kernel always sends the int; a bare DONE (some userspace senders) means 0.
      return { kind: 'done', header, error: m.payload.length >= 4 ? rdI32(m.payload, 0) : 0 };
    case RTM.NEWLINK:
    case RTM.DELLINK:
    case RTM.GETLINK:
    case RTM.SETLINK:
      return { kind: 'link', header, value: decodeIfInfoMsg(m.payload).value };
    case RTM.NEWADDR:
    case RTM.DELADDR:
    case RTM.GETADDR:
      return { kind: 'addr', header, value: decodeIfAddrMsg(m.payload).value };
    default:
      return { kind: 'other', header, payload: m.payload };
  }
}

/** An NlMsg whose payload is an address message. */
export function addrMessage(type: number, flags: number, seq: number, v: IfAddrMsg, pid = 0): NlMsg {
  return { type, flags, seq, pid, payload: encodeIfAddrMsg(v) };
}

/** An NlMsg whose payload is a link message. */
export function linkMessage(type: number, flags: number, seq: number, v: IfInfoMsg, pid = 0): NlMsg {
  return { type, flags, seq, pid, payload: encodeIfInfoMsg(v) };
}
