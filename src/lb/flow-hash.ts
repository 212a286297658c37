/**
 * @module lb/flow-hash
 * The flow hash of the XDP program (bpf/lib/hash.h), in TypeScript: which
 * ring entry a flow lands on. Used by tests to predict the backend and by
 * tools that explain a flow's placement. Pure; no I/O.
 *
 * Changing it changes where every flow goes: bump XLB_FLOW_HASH_VERSION and
 * change bpf/lib/hash.h in the same commit.
 */
import { endianness } from 'node:os';

/** Version of the flow hash shared with bpf/lib/hash.h. */
export const XLB_FLOW_HASH_VERSION = 1;

/** Seed of the hash ("xlb1"), as XLB_HASH_SEED in bpf/lib/hash.h. */
const SEED = 0x786c6231;
const LE = endianness() === 'LE';

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = rotl(k, 15);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = rotl(h, 13);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function final(h: number, len: number): number {
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A host-order 32-bit word of bytes, as the BPF program loads it. */
function word(b: Uint8Array, o: number): number {
  const v = LE ? b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24) : (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
  return v | 0;
}

/** The fields of struct xlb_flow that the hash reads. */
export interface FlowTuple {
  /** 2 (IPv4) or 10 (IPv6) */
  family: number;
  /** client address: 4 or 16 bytes */
  src: Uint8Array;
  /** VIP address: 4 or 16 bytes */
  dst: Uint8Array;
  /** client port */
  sport: number;
  /** VIP port */
  dport: number;
  /** IPPROTO_* */
  proto: number;
}

/**
 * The hash bpf/lib/hash.h computes for a flow.
 * @param srcOnly persistence: hash the source address only
 * @returns unsigned 32-bit hash
 */
export function flowHash(f: FlowTuple, srcOnly = false): number {
  const ports = new Uint8Array([f.sport >> 8, f.sport & 0xff, f.dport >> 8, f.dport & 0xff]);
  let h = SEED;
  if (f.family === 2) {
    h = mix(h, word(f.src, 0));
    if (srcOnly) return final(h, 4);
    h = mix(h, word(f.dst, 0));
    h = mix(h, word(ports, 0));
    h = mix(h, f.proto);
    return final(h, 16);
  }
  for (let i = 0; i < 16; i += 4) h = mix(h, word(f.src, i));
  if (srcOnly) return final(h, 16);
  for (let i = 0; i < 16; i += 4) h = mix(h, word(f.dst, i));
  h = mix(h, word(ports, 0));
  h = mix(h, f.proto);
  return final(h, 40);
}
