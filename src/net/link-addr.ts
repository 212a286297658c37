/**
 * What the rtnetlink client reads and writes, as values: links and addresses
 * as the client reports them ({@link LinkInfo}, {@link AddressInfo}) made
 * from decoded link and address messages, the address message of an add or
 * delete request made from a spec (with its range checks), and the
 * {@link SystemError} of a netlink error ack.
 *
 * Layer: pure (H-28). Bytes are net/rtnetlink.ts's; the client that sends
 * and receives them, with its sockets and timers, is io/netlink-client.ts.
 * This module must not import sockets, timers, the file system or the addon.
 *
 * @module net/link-addr
 */
import { isIPv4, isIPv6 } from 'node:net';
import { getSystemErrorMap, getSystemErrorName } from 'node:util';
import { SystemError, type SystemErrorCode } from '../errors.js';
import { linkNetnsid, nsidTypeName } from './netns-id.js';
import { routeTypeName } from './route-get.js';
import { AF, IFA_F, IFF, nlmsgTypeName, operStateName, RT_SCOPE, type IfAddrMsg, type IfInfoMsg } from './rtnetlink.js';

/** Longest interface name / label (IFNAMSIZ - 1). */
export const IFNAME_MAX = 15;

/** A link as the client (io/netlink-client.ts) reports it. */
export interface LinkInfo {
  /** Interface index. */
  ifindex: number;
  /** Interface name ('' if the message had none). */
  name: string;
  /** `ifi_flags` ({@link IFF}). */
  flags: number;
  /** IFF_UP: administratively up. */
  adminUp: boolean;
  /** IFF_RUNNING: operationally up (carrier, not dormant). */
  running: boolean;
  /** IFF_LOWER_UP: the driver reports L1 up. */
  lowerUp: boolean;
  /** adminUp && running: the link can carry VRRP (keepalived's test, IFF_UP && IFF_RUNNING). */
  up: boolean;
  /** RFC 2863 operational state name from IFLA_OPERSTATE (`'UP'`, `'DOWN'`, `'LOWERLAYERDOWN'`, ...), if sent. */
  operState?: string;
  /** ARPHRD_* link type (1: Ethernet). */
  type: number;
  /** Hardware address `aa:bb:cc:dd:ee:ff`, if any. */
  mac?: string;
  /** MTU, if sent. */
  mtu?: number;
  /** ifindex of the master device (bridge, bond, VRF), if any. */
  master?: number;
  /** ifindex of the lower device (veth peer, VLAN parent), if any; it may be in another namespace. */
  link?: number;
  /** IFLA_LINK_NETNSID: id (given by this namespace) of the namespace {@link LinkInfo.link} lives in, when it is another one. */
  linkNetnsid?: number;
}

/** An interface address as the client (io/netlink-client.ts) reports it. */
export interface AddressInfo {
  /** 4 or 6. */
  family: 4 | 6;
  /** Interface index. */
  ifindex: number;
  /** The local address (IFA_LOCAL, else IFA_ADDRESS). */
  address: string;
  /** Prefix length. */
  prefixLength: number;
  /** The peer (IFA_ADDRESS) on point-to-point addresses, when it differs from the local one. */
  peer?: string;
  /** IPv4 label (IFA_LABEL). */
  label?: string;
  /** All flags ({@link IFA_F}): IFA_FLAGS, else `ifa_flags`. */
  flags: number;
  /** Scope ({@link RT_SCOPE}). */
  scope: number;
}

/** What the client's `addAddress` adds. */
export interface AddressSpec {
  /** Interface index. */
  ifindex: number;
  /** IPv4 or IPv6 address, no prefix. */
  address: string;
  /** Prefix length: 0..32 (IPv4), 0..128 (IPv6). */
  prefixLength: number;
  /** IPv4 only: label, at most 15 characters (convention: `<ifname>:<suffix>`, as keepalived's `label IF:x`). */
  label?: string;
  /** IPv6 only: skip duplicate address detection (IFA_F_NODAD), so the address is usable at once. */
  nodad?: boolean;
  /** Do not add the prefix route (IFA_F_NOPREFIXROUTE). */
  noPrefixRoute?: boolean;
  /** IPv4 only: broadcast address. */
  broadcast?: string;
  /** Scope ({@link RT_SCOPE}); default universe. IPv6 derives it from the address. */
  scope?: number;
}

/** Which address the client's `deleteAddress` deletes. */
export interface AddressRef {
  /** Interface index. */
  ifindex: number;
  /** The address. */
  address: string;
  /** Its prefix length (the kernel matches it: another length is EADDRNOTAVAIL). */
  prefixLength: number;
}

/** The name of an rtnetlink message type the client sends: `NEWADDR`, `GETLINK`, `GETNSID`, `GETROUTE`, ..., or `UNKNOWN_<n>`. */
export function messageTypeName(type: number): string {
  return nsidTypeName(type) ?? routeTypeName(type) ?? nlmsgTypeName(type);
}

/**
 * A SystemError for a netlink error ack: `code` the errno name, `errno`
 * negative, `syscall` the request type (`'RTM_NEWADDR'`), message
 * `"RTM_NEWADDR failed: <description> (<detail>; <extack message>)"`.
 * @param errno the NEGATIVE errno from the ack
 * @param type the request's message type
 * @param detail what the request was about
 * @param extAckMessage the kernel's extended-ack message, if any
 */
export function netlinkError(errno: number, type: number, detail: string, extAckMessage?: string): SystemError {
  const syscall = `RTM_${messageTypeName(type)}`.replace(/^RTM_(NOOP|ERROR|DONE|OVERRUN)$/, 'NLMSG_$1');
  // libuv's names double as Linux errno names below 3000; its own codes
  // (UV_EAI_*, UV_EOF...) sit above and are no kernel errno.
  let name = '';
  if (errno < 0 && errno > -3000) {
    try {
      name = getSystemErrorName(errno);
    } catch {
      /* no name */
    }
  }
  if (errno === -524) name = 'ENOTSUPP'; // kernel-internal, no libc name (as native/src/errors.cc)
  const code: SystemErrorCode = /^E[A-Z0-9]+$/.test(name) ? (name as `E${string}`) : 'XLB_ERR_SYSTEM';
  const description = (name !== '' && getSystemErrorMap().get(errno)?.[1]) || `errno ${-errno}`;
  const notes = [detail, extAckMessage].filter((s): s is string => s !== undefined && s !== '');
  const message = `${syscall} failed: ${description}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
  return new SystemError(code, message, { errno, syscall });
}

/** A LinkInfo from a link message. */
export function toLinkInfo(v: IfInfoMsg): LinkInfo {
  const adminUp = (v.flags & IFF.UP) !== 0;
  const running = (v.flags & IFF.RUNNING) !== 0;
  const info: LinkInfo = {
    ifindex: v.index,
    name: v.attrs.ifname ?? '',
    flags: v.flags,
    adminUp,
    running,
    lowerUp: (v.flags & IFF.LOWER_UP) !== 0,
    up: adminUp && running,
    type: v.type,
  };
  if (v.attrs.operstate !== undefined) info.operState = operStateName(v.attrs.operstate);
  if (v.attrs.address !== undefined) info.mac = v.attrs.address;
  if (v.attrs.mtu !== undefined) info.mtu = v.attrs.mtu;
  if (v.attrs.master !== undefined && v.attrs.master !== 0) info.master = v.attrs.master;
  // The kernel sends IFLA_LINK only when it differs from the device itself
  // (rtnl_fill_ifinfo); across namespaces the two indexes may be equal.
  if (v.attrs.link !== undefined) info.link = v.attrs.link;
  const nsid = linkNetnsid(v.attrs.unknown);
  if (nsid !== undefined) info.linkNetnsid = nsid;
  return info;
}

/** An AddressInfo from an address message, or null for families other than IPv4/IPv6 or a message without address. */
export function toAddressInfo(v: IfAddrMsg): AddressInfo | null {
  if (v.family !== AF.INET && v.family !== AF.INET6) return null;
  const address = v.attrs.local ?? v.attrs.address;
  if (address === undefined) return null;
  const info: AddressInfo = {
    family: v.family === AF.INET ? 4 : 6,
    ifindex: v.index,
    address,
    prefixLength: v.prefixLength,
    flags: v.attrs.flags ?? v.flags,
    scope: v.scope,
  };
  if (v.attrs.local !== undefined && v.attrs.address !== undefined && v.attrs.address !== v.attrs.local) info.peer = v.attrs.address;
  if (v.attrs.label !== undefined) info.label = v.attrs.label;
  return info;
}

/** Throws a RangeError naming `what` unless `v` is an integer in [min, max]. */
export function checkInt(what: string, v: unknown, min: number, max: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new RangeError(`${what} must be an integer in [${min}, ${max}], got ${String(v)}`);
}

/** Family of an address text, or a TypeError. */
function familyOf(what: string, address: unknown): 4 | 6 {
  if (typeof address === 'string' && isIPv4(address)) return 4;
  if (typeof address === 'string' && isIPv6(address)) return 6;
  throw new TypeError(`${what} must be an IPv4 or IPv6 address (no prefix, no scope), got ${JSON.stringify(address)}`);
}

/**
 * The address message for `spec` (pure; exported for tests): IFA_LOCAL and
 * IFA_ADDRESS both carry the address (as `ip addr add` sends them: the
 * kernel takes IFA_LOCAL as the address on IPv4, IFA_ADDRESS as the prefix),
 * IFA_FLAGS carries the flags, IFA_LABEL / IFA_BROADCAST when given.
 * @throws TypeError / RangeError on a bad spec (H-25: ranges are checked here, not in C++)
 */
export function addressMessage(spec: AddressSpec | AddressRef, add: boolean): IfAddrMsg {
  const what = add ? 'addAddress' : 'deleteAddress';
  checkInt(`${what}: ifindex`, spec.ifindex, 1, 0x7fffffff);
  const family = familyOf(`${what}: address`, spec.address);
  checkInt(`${what}: prefixLength`, spec.prefixLength, 0, family === 4 ? 32 : 128);
  const s = spec as AddressSpec;
  let flags = 0;
  const v: IfAddrMsg = {
    family: family === 4 ? AF.INET : AF.INET6,
    prefixLength: spec.prefixLength,
    flags: 0,
    scope: RT_SCOPE.UNIVERSE,
    index: spec.ifindex,
    attrs: { address: spec.address, local: spec.address },
  };
  if (add) {
    if (s.label !== undefined) {
      // The kernel ignores IFA_LABEL for IPv6 (its ifa_ipv6_policy has no entry for it).
      if (family !== 4) throw new RangeError('addAddress: label is for IPv4 addresses only (the kernel ignores IPv6 labels)');
      if (typeof s.label !== 'string' || s.label.length === 0 || Buffer.byteLength(s.label) > IFNAME_MAX || s.label.includes('\0')) {
        throw new RangeError(`addAddress: label must be 1..${IFNAME_MAX} bytes without NUL, got ${JSON.stringify(s.label)}`);
      }
      v.attrs.label = s.label;
    }
    if (s.nodad === true) {
      if (family !== 6) throw new RangeError('addAddress: nodad is for IPv6 addresses only');
      flags |= IFA_F.NODAD;
    }
    if (s.noPrefixRoute === true) flags |= IFA_F.NOPREFIXROUTE;
    if (s.broadcast !== undefined) {
      if (family !== 4 || familyOf('addAddress: broadcast', s.broadcast) !== 4) throw new RangeError('addAddress: broadcast is for IPv4 addresses only');
      v.attrs.broadcast = s.broadcast;
    }
    if (s.scope !== undefined) {
      checkInt('addAddress: scope', s.scope, 0, 255);
      v.scope = s.scope;
    }
    if (flags !== 0) {
      v.flags = flags & 0xff;
      v.attrs.flags = flags;
    }
  }
  return v;
}
