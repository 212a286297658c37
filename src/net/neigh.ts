/**
 * @module net/neigh
 * Neighbour messages of rtnetlink (linux/neighbour.h): the RTM_GETNEIGH dump
 * request and the RTM_NEWNEIGH entries it returns, as values. The BFD own
 * echo reads the peer's link-layer address from the kernel's neighbour
 * table (src/bfd/echo.ts).
 *
 * Layer: pure (H-28); the client that sends and receives is
 * io/netlink-client.ts.
 */
import { formatAddr, AF_INET, AF_INET6 } from './addr.js';
import { decodeNlAttrs, formatHwAddr, HOST_LE, type Decoded } from './rtnetlink.js';

/** Message types (linux/rtnetlink.h). */
export const RTM_NEIGH = {
  NEWNEIGH: 28,
  DELNEIGH: 29,
  GETNEIGH: 30,
} as const;

/** Attributes (linux/neighbour.h). */
export const NDA = {
  DST: 1,
  LLADDR: 2,
} as const;

/** `ndm_state` bits (linux/neighbour.h). */
export const NUD = {
  INCOMPLETE: 0x01,
  REACHABLE: 0x02,
  STALE: 0x04,
  DELAY: 0x08,
  PROBE: 0x10,
  FAILED: 0x20,
  NOARP: 0x40,
  PERMANENT: 0x80,
} as const;

/** struct ndmsg: family u8, 3 pad, ifindex s32, state u16, flags u8, type u8. */
export const NDMSG_LEN = 12;

/** One neighbour entry. */
export interface NeighMsg {
  /** AF_INET (2) or AF_INET6 (10). */
  family: number;
  ifindex: number;
  /** `ndm_state` ({@link NUD}). */
  state: number;
  flags: number;
  type: number;
  /** NDA_DST. */
  dst?: string;
  /** NDA_LLADDR, `aa:bb:cc:dd:ee:ff`. */
  lladdr?: string;
}

/** The RTM_GETNEIGH dump request of a family (the kernel filters by family only). */
export function encodeNeighDumpRequest(family: 4 | 6): Buffer {
  const b = Buffer.alloc(NDMSG_LEN);
  b[0] = family === 4 ? AF_INET : AF_INET6;
  return b;
}

/**
 * Decodes an RTM_NEWNEIGH payload.
 * @throws RangeError when shorter than struct ndmsg
 */
export function decodeNeighMsg(buf: Buffer, offset = 0, length = buf.length - offset): Decoded<NeighMsg> {
  if (length < NDMSG_LEN) throw new RangeError(`neigh: truncated ndmsg (${length} < ${NDMSG_LEN} bytes)`);
  const family = buf[offset]!;
  const v: NeighMsg = {
    family,
    ifindex: HOST_LE ? buf.readInt32LE(offset + 4) : buf.readInt32BE(offset + 4),
    state: HOST_LE ? buf.readUInt16LE(offset + 8) : buf.readUInt16BE(offset + 8),
    flags: buf[offset + 10]!,
    type: buf[offset + 11]!,
  };
  const attrs = decodeNlAttrs(buf, offset + NDMSG_LEN, length - NDMSG_LEN, 'neigh').value;
  for (const a of attrs) {
    if (a.type === NDA.DST && (a.data.length === 4 || a.data.length === 16)) {
      const b = new Uint8Array(16);
      b.set(a.data);
      v.dst = formatAddr(a.data.length === 4 ? AF_INET : AF_INET6, b);
    } else if (a.type === NDA.LLADDR && a.data.length === 6) {
      v.lladdr = formatHwAddr(a.data);
    }
  }
  return { value: v, bytes: length };
}

/** Whether an entry's link-layer address can be used (not INCOMPLETE / FAILED, has one). */
export function neighUsable(n: NeighMsg): boolean {
  return n.lladdr !== undefined && (n.state & (NUD.INCOMPLETE | NUD.FAILED)) === 0 && n.state !== 0;
}
