/**
 * @module dataplane/xdp/addr-filter
 * The address filter of the data path (xlb_addr_filter): per plane a set of
 * 4096 bits, one per address hash, so that traffic not for xlb leaves the
 * XDP program after one array read. addrFilterBit() is the TS twin of
 * addr_filter_bit() in bpf/lib/vip.h: change both together. Pure; no I/O.
 */
import { endianness } from 'node:os';
import { XlbFilterConsts } from './abi.gen.js';

const LE = endianness() === 'LE';

/** Bits per plane. */
export const FILTER_BITS = XlbFilterConsts.XLB_FILTER_WORDS * 64;

function word(b: Uint8Array, o: number): number {
  return LE ? (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0 : ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/**
 * The bit of an address (16-byte key form) in a filter plane.
 * @param family 2 or 10
 */
export function addrFilterBit(family: number, addr: Uint8Array): number {
  const x = family === 2 ? word(addr, 0) : (word(addr, 0) ^ word(addr, 4) ^ word(addr, 8) ^ word(addr, 12)) >>> 0;
  return Math.imul(x, 0x9e3779b1) >>> 20;
}

/**
 * The words of one plane holding these addresses.
 * @returns XLB_FILTER_WORDS u64 values
 */
export function buildFilterPlane(addrs: Iterable<{ family: number; bytes: Uint8Array }>): BigUint64Array {
  const words = new BigUint64Array(XlbFilterConsts.XLB_FILTER_WORDS);
  for (const a of addrs) {
    const bit = addrFilterBit(a.family, a.bytes);
    words[bit >> 6]! |= 1n << BigInt(bit & 63);
  }
  return words;
}
