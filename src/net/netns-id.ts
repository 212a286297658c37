/**
 * Network namespace ids (linux/net_namespace.h, rtnetlink(7)): the messages
 * RTM_GETNSID (ask which id this namespace gave another one, named by an
 * open fd of it) and RTM_NEWNSID (the answer), and the link attribute
 * IFLA_LINK_NETNSID, by which a link says that its peer (the other end of a
 * veth, for one) lives in another namespace. An id only means something in
 * the namespace that gave it: -1 is "none assigned".
 *
 * Layer: pure codec (H-28, H-32): `struct rtgenmsg` (one byte, padded to 4)
 * then NETNSA_* attributes, in host byte order like all of netlink. No I/O:
 * io/netlink-client.ts sends and receives them. Decoders check lengths and
 * throw {@link CodecError} naming the field.
 *
 * @module net/netns-id
 */
import { CodecError } from '../errors.js';
import { decodeNlAttrs, encodeNlAttrs, HOST_LE, nlAlign, nlAttrsLength, type Decoded, type NlAttr } from './rtnetlink.js';

/** rtnetlink message types of namespace ids (linux/rtnetlink.h). */
export const RTM_NSID = {
  NEWNSID: 88,
  DELNSID: 89,
  GETNSID: 90,
} as const;

/** `NEWNSID`, `DELNSID`, `GETNSID`, or undefined for another type. */
export function nsidTypeName(type: number): string | undefined {
  for (const [k, v] of Object.entries(RTM_NSID)) if (v === type) return k;
  return undefined;
}

/** `enum` NETNSA_* (linux/net_namespace.h). */
export const NETNSA = {
  NONE: 0,
  /** s32: the id. */
  NSID: 1,
  /** u32: name the namespace by a process in it. */
  PID: 2,
  /** u32: name the namespace by an open fd of it (/proc/PID/ns/net, /run/netns/NAME). */
  FD: 3,
  /** s32: ask in the namespace with this id instead of the socket's. */
  TARGET_NSID: 4,
  /** s32: the id the target namespace gave the socket's one. */
  CURRENT_NSID: 5,
} as const;

/** NETNSA_NSID_NOT_ASSIGNED: the namespace gave the other one no id. */
export const NSID_NOT_ASSIGNED = -1;

/** IFLA_LINK_NETNSID (linux/if_link.h): s32 id of the namespace IFLA_LINK's ifindex lives in. */
export const IFLA_LINK_NETNSID = 37;

/** `struct rtgenmsg` padded to NLMSG_ALIGNTO. */
const RTGENMSG_LEN = nlAlign(1);

/** An RTM_GETNSID request or RTM_NEWNSID answer. */
export interface NsIdMsg {
  /** `rtgen_family`: AF_UNSPEC (0). */
  family: number;
  /** NETNSA_NSID. */
  nsid?: number;
  /** NETNSA_PID. */
  pid?: number;
  /** NETNSA_FD. */
  fd?: number;
  /** Other attributes, raw, in the order received. */
  unknown?: NlAttr[];
}

function i32Bytes(v: number, signed: boolean): Buffer {
  const b = Buffer.alloc(4);
  if (signed) HOST_LE ? b.writeInt32LE(v) : b.writeInt32BE(v);
  else HOST_LE ? b.writeUInt32LE(v >>> 0) : b.writeUInt32BE(v >>> 0);
  return b;
}

function attrList(v: NsIdMsg): NlAttr[] {
  const list: NlAttr[] = [];
  if (v.nsid !== undefined) list.push({ type: NETNSA.NSID, data: i32Bytes(v.nsid, true) });
  if (v.pid !== undefined) list.push({ type: NETNSA.PID, data: i32Bytes(v.pid, false) });
  if (v.fd !== undefined) list.push({ type: NETNSA.FD, data: i32Bytes(v.fd, false) });
  return [...list, ...(v.unknown ?? [])];
}

/** Bytes {@link encodeNsIdMsg} writes. */
export function nsIdMsgLength(v: NsIdMsg): number {
  return RTGENMSG_LEN + nlAttrsLength(attrList(v));
}

/**
 * Encodes the payload of an RTM_GETNSID / RTM_NEWNSID message.
 * @throws RangeError when nsid is not an s32, or pid / fd not a u32
 */
export function encodeNsIdMsg(v: NsIdMsg, buf?: Buffer, offset = 0): Buffer {
  const int = (what: string, x: number | undefined, min: number, max: number): void => {
    if (x !== undefined && (!Number.isInteger(x) || x < min || x > max)) throw new RangeError(`netns id: ${what} must be an integer in [${min}, ${max}], got ${x}`);
  };
  int('family', v.family, 0, 255);
  int('nsid', v.nsid, -0x80000000, 0x7fffffff);
  int('pid', v.pid, 0, 0xffffffff);
  int('fd', v.fd, 0, 0xffffffff);
  const n = nsIdMsgLength(v);
  const out = buf ?? Buffer.alloc(n);
  if (offset + n > out.length) throw new RangeError(`netns id: ${n} bytes do not fit at offset ${offset} of ${out.length}`);
  out.fill(0, offset, offset + RTGENMSG_LEN);
  out[offset] = v.family;
  encodeNlAttrs(attrList(v), out, offset + RTGENMSG_LEN);
  return out;
}

/**
 * Decodes the payload of an RTM_NEWNSID (or GETNSID) message.
 * @throws CodecError XLB_ERR_CODEC_TRUNCATED / _BAD_LENGTH
 */
export function decodeNsIdMsg(buf: Buffer, offset = 0, length = buf.length - offset): Decoded<NsIdMsg> {
  if (length < 1 || offset + length > buf.length) throw new CodecError('XLB_ERR_CODEC_TRUNCATED', ['netns id', 'rtgen_family', offset], offset);
  const v: NsIdMsg = { family: buf[offset]! };
  const attrs = length > RTGENMSG_LEN ? decodeNlAttrs(buf, offset + RTGENMSG_LEN, length - RTGENMSG_LEN, 'netns id').value : [];
  const unknown: NlAttr[] = [];
  for (const a of attrs) {
    const key = a.type === NETNSA.NSID ? 'nsid' : a.type === NETNSA.PID ? 'pid' : a.type === NETNSA.FD ? 'fd' : undefined;
    if (key === undefined) {
      unknown.push(a);
      continue;
    }
    if (a.data.length < 4) throw new CodecError('XLB_ERR_CODEC_BAD_LENGTH', ['netns id', `NETNSA_${key.toUpperCase()}`, a.data.length, offset], offset);
    v[key] = key === 'nsid' ? (HOST_LE ? a.data.readInt32LE(0) : a.data.readInt32BE(0)) : HOST_LE ? a.data.readUInt32LE(0) : a.data.readUInt32BE(0);
  }
  if (unknown.length > 0) v.unknown = unknown;
  return { value: v, bytes: length };
}

/**
 * IFLA_LINK_NETNSID of a link message's raw attributes: the id of the
 * namespace its IFLA_LINK lives in, or undefined when it is this one.
 * @param unknown the link message's unrecognised attributes (`IfInfoAttrs.unknown`)
 */
export function linkNetnsid(unknown: readonly NlAttr[] | undefined): number | undefined {
  const a = unknown?.find((x) => x.type === IFLA_LINK_NETNSID);
  if (a === undefined || a.data.length < 4) return undefined;
  return HOST_LE ? a.data.readInt32LE(0) : a.data.readInt32BE(0);
}
