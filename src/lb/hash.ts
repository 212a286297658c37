/**
 * @module lb/hash
 *
 * Layer: pure algorithm (src/lb). 64-bit hashing for the Maglev permutation,
 * done with 32-bit integer math only (no BigInt) so it is fast and exact.
 *
 * Pure: no I/O, no timers, no imports of node:fs / node:net or the addon. All
 * functions are deterministic and depend only on their arguments.
 *
 * A 64-bit value is carried as two unsigned 32-bit halves `hi` and `lo`
 * (value = hi·2^32 + lo). The functions here are part of the Maglev wire
 * contract (see `MAGLEV_HASH_VERSION` in ./maglev.ts): two xlb nodes must
 * compute bit-identical results, so none of them may change without bumping
 * that version.
 */

/** A 64-bit unsigned integer as two u32 halves: value = hi·2^32 + lo. */
export interface U64 {
  /** Upper 32 bits, 0 ≤ hi < 2^32. */
  hi: number;
  /** Lower 32 bits, 0 ≤ lo < 2^32. */
  lo: number;
}

/** FNV-1a 64-bit offset basis 0xcbf29ce484222325, upper half (FNV spec, draft-eastlake-fnv). */
const FNV64_OFFSET_HI = 0xcbf29ce4;
/** FNV-1a 64-bit offset basis, lower half. */
const FNV64_OFFSET_LO = 0x84222325;
/** FNV 64-bit prime 0x00000100000001b3, upper half. */
const FNV64_PRIME_HI = 0x00000100;
/** FNV 64-bit prime, lower half. */
const FNV64_PRIME_LO = 0x000001b3;

/** MurmurHash3 fmix64 first multiplier 0xff51afd7ed558ccd (upper, lower halves). */
const FMIX_C1_HI = 0xff51afd7;
const FMIX_C1_LO = 0xed558ccd;
/** MurmurHash3 fmix64 second multiplier 0xc4ceb9fe1a85ec53 (upper, lower halves). */
const FMIX_C2_HI = 0xc4ceb9fe;
const FMIX_C2_LO = 0x1a85ec53;

/** Shared encoder; TextEncoder is stateless, so sharing it keeps utf8() pure. */
const ENCODER = new TextEncoder();

/** 2^32 as a double; exact. */
const TWO_POW_32 = 4294967296;

/**
 * Largest modulus accepted by {@link mod64}: 2^26. Keeps the intermediate
 * product (hi mod m)·(2^32 mod m) below 2^52, i.e. exact in a double.
 */
export const MOD64_MAX_MODULUS = 67_108_864;

/**
 * Upper 32 bits of the 64-bit product of two u32 values, exact.
 *
 * @param a - unsigned 32-bit integer
 * @param b - unsigned 32-bit integer
 * @returns floor(a·b / 2^32) as an unsigned 32-bit integer
 */
export function mulHi32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  // Every partial product is < 2^32 and their sums stay < 2^34: exact doubles.
  const mid = a1 * b0 + a0 * b1 + Math.floor((a0 * b0) / 65536);
  return (a1 * b1 + Math.floor(mid / 65536)) >>> 0;
}

/**
 * Low 64 bits of the product of two 64-bit values (multiplication mod 2^64).
 *
 * @param ah - upper half of a
 * @param al - lower half of a
 * @param bh - upper half of b
 * @param bl - lower half of b
 * @returns a·b mod 2^64
 */
export function mul64(ah: number, al: number, bh: number, bl: number): U64 {
  const lo = Math.imul(al, bl) >>> 0;
  const hi = (mulHi32(al, bl) + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
  return { hi, lo };
}

/**
 * FNV-1a 64-bit hash of a byte string.
 *
 * For each byte: h ^= byte; h *= 0x100000001b3 (mod 2^64), starting from the
 * offset basis 0xcbf29ce484222325. Known values: "" → 0xcbf29ce484222325,
 * "a" → 0xaf63dc4c8601ec8c, "foobar" → 0x85944171f73967e8.
 *
 * @param bytes - input bytes
 * @returns the 64-bit hash
 */
export function fnv1a64(bytes: Uint8Array): U64 {
  let hi = FNV64_OFFSET_HI;
  let lo = FNV64_OFFSET_LO;
  for (let i = 0; i < bytes.length; i++) {
    lo = (lo ^ (bytes[i] ?? 0)) >>> 0;
    // (hi, lo) *= (PRIME_HI, PRIME_LO), inlined mul64 to avoid an allocation per byte.
    const nlo = Math.imul(lo, FNV64_PRIME_LO) >>> 0;
    hi = (mulHi32(lo, FNV64_PRIME_LO) + Math.imul(hi, FNV64_PRIME_LO) + Math.imul(lo, FNV64_PRIME_HI)) >>> 0;
    lo = nlo;
  }
  return { hi, lo };
}

/**
 * MurmurHash3 64-bit finalizer (fmix64): a bijection on 64-bit values with
 * full avalanche.
 *
 * k ^= k >> 33; k *= 0xff51afd7ed558ccd; k ^= k >> 33;
 * k *= 0xc4ceb9fe1a85ec53; k ^= k >> 33.
 *
 * @param hi - upper half of k
 * @param lo - lower half of k
 * @returns fmix64(k)
 */
export function fmix64(hi: number, lo: number): U64 {
  // k ^= k >>> 33 only touches the low word: (k >>> 33) = hi >>> 1.
  lo = (lo ^ (hi >>> 1)) >>> 0;
  let r = mul64(hi >>> 0, lo, FMIX_C1_HI, FMIX_C1_LO);
  lo = (r.lo ^ (r.hi >>> 1)) >>> 0;
  r = mul64(r.hi, lo, FMIX_C2_HI, FMIX_C2_LO);
  lo = (r.lo ^ (r.hi >>> 1)) >>> 0;
  return { hi: r.hi, lo };
}

/**
 * 64-bit value modulo a small integer, exact.
 *
 * @param v - the 64-bit value
 * @param m - modulus, integer in [1, {@link MOD64_MAX_MODULUS}]
 * @returns v mod m
 * @throws RangeError if m is out of range
 */
export function mod64(v: U64, m: number): number {
  if (!Number.isInteger(m) || m < 1 || m > MOD64_MAX_MODULUS) {
    throw new RangeError(`mod64: modulus must be an integer in [1, ${MOD64_MAX_MODULUS}], got ${m}`);
  }
  return ((v.hi % m) * (TWO_POW_32 % m) + (v.lo % m)) % m;
}

/**
 * UTF-8 encoding of a string (WHATWG encoder: lone surrogates become U+FFFD).
 *
 * @param s - the string
 * @returns its UTF-8 bytes
 */
export function utf8(s: string): Uint8Array {
  return ENCODER.encode(s);
}
