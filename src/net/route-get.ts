/**
 * Route lookups over rtnetlink (rtnetlink(7), linux/rtnetlink.h): the
 * RTM_GETROUTE request "which route does a packet to this address take"
 * (not a dump: the kernel runs its FIB lookup and answers with one
 * RTM_NEWROUTE), and that answer's output interface and gateway. xlb asks it
 * for every backend, to find the devices its XDP program redirects into
 * (bpf_fib_lookup takes the same routes).
 *
 * Layer: pure codec (H-28, H-32): `struct rtmsg` (12 bytes) then RTA_*
 * attributes in host byte order, addresses in network order. No I/O:
 * io/netlink-client.ts sends it. Decoders check lengths and throw
 * {@link CodecError} naming the field.
 *
 * @module net/route-get
 */
import { CodecError } from '../errors.js';
import { AF_INET, AF_INET6, formatAddr, parseAddr } from './addr.js';
import { decodeNlAttrs, encodeNlAttrs, HOST_LE, nlAttrsLength, type Decoded, type NlAttr } from './rtnetlink.js';

/** rtnetlink message types of routes (linux/rtnetlink.h). */
export const RTM_ROUTE = {
  NEWROUTE: 24,
  DELROUTE: 25,
  GETROUTE: 26,
} as const;

/** Route attributes xlb reads (linux/rtnetlink.h `enum rtattr_type_t`). */
export const RTA = {
  /** Destination address. */
  DST: 1,
  /** u32 output interface index. */
  OIF: 4,
  /** Next-hop address. */
  GATEWAY: 5,
  /** u32 routing table id (beyond 255). */
  TABLE: 15,
} as const;

/** `struct rtmsg`, bytes. */
const RTMSG_LEN = 12;

/** `NEWROUTE`, `DELROUTE`, `GETROUTE`, or undefined for another type. */
export function routeTypeName(type: number): string | undefined {
  for (const [k, v] of Object.entries(RTM_ROUTE)) if (v === type) return k;
  return undefined;
}

/** A route message: the request's destination, the answer's output interface and gateway. */
export interface RouteMsg {
  /** `rtm_family`: AF_INET (2) or AF_INET6 (10). */
  family: number;
  /** `rtm_dst_len`: prefix length of the destination (32 / 128 in a lookup). */
  dstLen: number;
  /** `rtm_table` (RT_TABLE_MAIN 254; beyond 255 in RTA_TABLE). */
  table: number;
  /** `rtm_protocol`. */
  protocol: number;
  /** `rtm_scope`. */
  scope: number;
  /** `rtm_type` (RTN_UNICAST 1, RTN_LOCAL 2...). */
  type: number;
  /** `rtm_flags`. */
  flags: number;
  /** RTA_DST. */
  dst?: string;
  /** RTA_OIF. */
  oif?: number;
  /** RTA_GATEWAY. */
  gateway?: string;
  /** Other attributes, raw, in the order received (rtm_src_len and rtm_tos are 0 here: xlb never sets them). */
  unknown?: NlAttr[];
}

function addrBytes(family: number, text: string, what: string): Buffer {
  let a;
  try {
    a = parseAddr(text);
  } catch {
    throw new TypeError(`route: ${what} must be an IP address, got ${JSON.stringify(text)}`);
  }
  if (a.family !== family) throw new TypeError(`route: ${what} ${text} is not of family ${family}`);
  return Buffer.from(a.bytes.subarray(0, family === AF_INET ? 4 : 16));
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  HOST_LE ? b.writeUInt32LE(v >>> 0) : b.writeUInt32BE(v >>> 0);
  return b;
}

function attrList(v: RouteMsg): NlAttr[] {
  const list: NlAttr[] = [];
  if (v.dst !== undefined) list.push({ type: RTA.DST, data: addrBytes(v.family, v.dst, 'dst') });
  if (v.oif !== undefined) list.push({ type: RTA.OIF, data: u32(v.oif) });
  if (v.gateway !== undefined) list.push({ type: RTA.GATEWAY, data: addrBytes(v.family, v.gateway, 'gateway') });
  return [...list, ...(v.unknown ?? [])];
}

/** Bytes {@link encodeRouteMsg} writes. */
export function routeMsgLength(v: RouteMsg): number {
  return RTMSG_LEN + nlAttrsLength(attrList(v));
}

/**
 * Encodes the payload of a route message.
 * @throws TypeError on an address of another family; RangeError on a field out of range
 */
export function encodeRouteMsg(v: RouteMsg, buf?: Buffer, offset = 0): Buffer {
  if (v.family !== AF_INET && v.family !== AF_INET6) throw new RangeError(`route: family must be ${AF_INET} or ${AF_INET6}, got ${v.family}`);
  for (const [k, max] of [['dstLen', v.family === AF_INET ? 32 : 128], ['table', 255], ['protocol', 255], ['scope', 255], ['type', 255], ['flags', 0xffffffff]] as const) {
    const x = v[k];
    if (!Number.isInteger(x) || x < 0 || x > max) throw new RangeError(`route: ${k} must be an integer in [0, ${max}], got ${x}`);
  }
  const n = routeMsgLength(v);
  const out = buf ?? Buffer.alloc(n);
  if (offset + n > out.length) throw new RangeError(`route: ${n} bytes do not fit at offset ${offset} of ${out.length}`);
  out[offset] = v.family;
  out[offset + 1] = v.dstLen;
  out[offset + 2] = 0; // rtm_src_len
  out[offset + 3] = 0; // rtm_tos
  out[offset + 4] = v.table;
  out[offset + 5] = v.protocol;
  out[offset + 6] = v.scope;
  out[offset + 7] = v.type;
  HOST_LE ? out.writeUInt32LE(v.flags >>> 0, offset + 8) : out.writeUInt32BE(v.flags >>> 0, offset + 8);
  encodeNlAttrs(attrList(v), out, offset + RTMSG_LEN);
  return out;
}

/**
 * Decodes the payload of a route message (RTM_NEWROUTE answer).
 * @throws CodecError XLB_ERR_CODEC_TRUNCATED / _BAD_LENGTH
 */
export function decodeRouteMsg(buf: Buffer, offset = 0, length = buf.length - offset): Decoded<RouteMsg> {
  if (length < RTMSG_LEN || offset + length > buf.length) throw new CodecError('XLB_ERR_CODEC_TRUNCATED', ['route', 'rtmsg', offset], offset);
  const family = buf[offset]!;
  const v: RouteMsg = {
    family,
    dstLen: buf[offset + 1]!,
    table: buf[offset + 4]!,
    protocol: buf[offset + 5]!,
    scope: buf[offset + 6]!,
    type: buf[offset + 7]!,
    flags: HOST_LE ? buf.readUInt32LE(offset + 8) : buf.readUInt32BE(offset + 8),
  };
  const alen = family === AF_INET ? 4 : family === AF_INET6 ? 16 : 0;
  const unknown: NlAttr[] = [];
  let off = offset + RTMSG_LEN;
  for (const a of decodeNlAttrs(buf, off, length - RTMSG_LEN, 'route').value) {
    if ((a.type === RTA.DST || a.type === RTA.GATEWAY) && alen > 0) {
      if (a.data.length !== alen) throw new CodecError('XLB_ERR_CODEC_BAD_LENGTH', ['route', a.type === RTA.DST ? 'RTA_DST' : 'RTA_GATEWAY', a.data.length, off], off);
      const b = new Uint8Array(16);
      b.set(a.data);
      if (a.type === RTA.DST) v.dst = formatAddr(family, b);
      else v.gateway = formatAddr(family, b);
    } else if (a.type === RTA.OIF) {
      if (a.data.length < 4) throw new CodecError('XLB_ERR_CODEC_BAD_LENGTH', ['route', 'RTA_OIF', a.data.length, off], off);
      v.oif = HOST_LE ? a.data.readUInt32LE(0) : a.data.readUInt32BE(0);
    } else unknown.push(a);
    off += (4 + a.data.length + 3) & ~3;
  }
  if (unknown.length > 0) v.unknown = unknown;
  return { value: v, bytes: length };
}

/** The RTM_GETROUTE request for the route a packet to `address` takes. */
export function routeQuery(address: string): RouteMsg {
  const family = parseAddrFamily(address);
  return { family, dstLen: family === AF_INET ? 32 : 128, table: 0, protocol: 0, scope: 0, type: 0, flags: 0, dst: address };
}

function parseAddrFamily(address: string): number {
  try {
    return parseAddr(address).family;
  } catch {
    throw new TypeError(`route: address must be an IPv4 or IPv6 address, got ${JSON.stringify(address)}`);
  }
}
