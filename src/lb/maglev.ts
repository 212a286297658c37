/**
 * @module lb/maglev
 *
 * Layer: pure algorithm (src/lb). Builds weighted Maglev lookup tables
 * ("rings") that the XDP program indexes as `ring[hash % M]` to pick a
 * backend id (DESIGN §"Maglev lookup"). The daemon writes the returned
 * Uint32Array into the rings map; this module never touches the kernel.
 *
 * Pure: no I/O, no timers, no imports of node:fs / node:net or the addon.
 * The result depends only on the backend *set* and M, never on input order,
 * so every xlb node given the same set builds a bit-identical ring.
 *
 * Algorithm (Eisenbud et al., "Maglev", NSDI'16, §3.4, with weights):
 *
 * 1. Backends are sorted by `key` (UTF-16 code-unit order, not locale order).
 *    Backends with weight 0 are validated but take no entries.
 * 2. Each backend i gets a permutation of the M slots from its key only:
 *    offset_i = h1(key) mod M, skip_i = h2(key) mod (M − 1) + 1, and its j-th
 *    preferred slot is (offset_i + j·skip_i) mod M (computed incrementally).
 *    Since M is prime, every skip is coprime with M and the walk visits every
 *    slot exactly once.
 * 3. Quotas: M is apportioned by weight with the largest-remainder (Hamilton)
 *    method: q_i = ⌊M·w_i/W⌋, and the M − Σq_i leftover entries go to the
 *    largest remainders M·w_i mod W, ties to the smaller key. So every backend
 *    gets exactly ⌊M·w_i/W⌋ or ⌈M·w_i/W⌉ entries.
 * 4. Turns: backends take turns claiming their next preferred free slot, like
 *    the paper's round-robin, but weighted: backend i's k-th turn (k = 0, 1, …)
 *    happens at virtual time (2k + 1) / (2·w_i), i.e. credit accrues at a rate
 *    proportional to its weight (stride scheduling). Turns at the same time go
 *    to the heavier backend first, then to the smaller key. A backend stops
 *    once it has taken its quota. With equal weights this is exactly the
 *    paper's algorithm (rounds in key order, the table fills in the last
 *    round). A backend's turn times depend only on its own weight, so
 *    adding, removing or re-weighting one backend does not reshuffle the order
 *    of the others' turns: that is what keeps disruption minimal.
 *
 * Hash (wire contract, {@link MAGLEV_HASH_VERSION} = 1):
 *   h     = FNV-1a-64(UTF-8(key))
 *   h1    = fmix64(h XOR 0x9e3779b97f4a7c15)   (MurmurHash3 finalizer)
 *   h2    = fmix64(h XOR 0xc2b2ae3d27d4eb4f)
 * all mod 2^64, computed with 32-bit math in ./hash.ts. Changing the hash,
 * the seeds, the sort order, the quota tie-break or the turn schedule changes
 * rings, and two nodes on different versions would send the same flow to
 * different backends after a failover: bump MAGLEV_HASH_VERSION if you do.
 */

import { fmix64, fnv1a64, mod64, utf8 } from './hash.js';

/**
 * Version of the ring construction (hash, seeds, ordering, quota and turn
 * rules). Part of the wire contract between xlb nodes: nodes must agree on it
 * to build identical rings. Bump on any change that alters any ring.
 */
export const MAGLEV_HASH_VERSION = 1;

/**
 * Default ring size M, entries. Prime; the paper recommends M ≫ 100·N for
 * < 1% imbalance, and 65537 is what Katran and Cilium default to.
 */
export const DEFAULT_RING_SIZE = 65537;

/** Smallest ring size accepted, entries: the smallest prime with M − 1 ≥ 2 distinct skips. */
export const MIN_RING_SIZE = 3;

/**
 * Largest ring size accepted, entries (2^24). Bounds one ring to 64 MiB and
 * keeps every intermediate (M·w, (2k+1)·w, 64-bit mod M) exact in a double.
 */
export const MAX_RING_SIZE = 16_777_216;

/**
 * Largest backend weight accepted. Matches ipvsadm's 0..65535 weight range
 * (so keepalived-style configs carry over) and keeps M·w < 2^41, exact.
 */
export const MAX_WEIGHT = 65535;

/** Largest backend id: ids are u32 in the ring map. */
const MAX_BACKEND_ID = 0xffff_ffff;

/** h1 seed, 0x9e3779b97f4a7c15 (2^64/φ), upper and lower halves. */
const SEED_OFFSET_HI = 0x9e3779b9;
const SEED_OFFSET_LO = 0x7f4a7c15;
/** h2 seed, 0xc2b2ae3d27d4eb4f (a MurmurHash3 constant), upper and lower halves. */
const SEED_SKIP_HI = 0xc2b2ae3d;
const SEED_SKIP_LO = 0x27d4eb4f;

/** One backend of a VIP, as the ring builder sees it. */
export interface MaglevBackend {
  /** Backend id written into the ring: u32, never 0 (0 marks an empty ring). */
  id: number;
  /** Stable identity, e.g. "10.0.0.2:80". The permutation is derived only from this. */
  key: string;
  /** Integer in [0, MAX_WEIGHT]; 0 = draining, gets no entries. */
  weight: number;
}

/** A backend's Maglev permutation: slot j is (offset + j·skip) mod M. */
export interface MaglevPermutation {
  /** First preferred slot, in [0, M). */
  offset: number;
  /** Step between preferred slots, in [1, M). */
  skip: number;
}

/**
 * Primality test by trial division (6k ± 1), O(√n).
 *
 * @param n - any number
 * @returns true iff n is a safe integer and prime
 */
export function isPrime(n: number): boolean {
  if (!Number.isSafeInteger(n) || n < 2) return false;
  if (n < 4) return true;
  if (n % 2 === 0 || n % 3 === 0) return false;
  for (let d = 5; d * d <= n; d += 6) {
    if (n % d === 0 || n % (d + 2) === 0) return false;
  }
  return true;
}

/**
 * Checks a ring size.
 *
 * @throws RangeError unless m is a prime in [MIN_RING_SIZE, MAX_RING_SIZE]
 */
function checkRingSize(m: number): void {
  if (!Number.isInteger(m) || m < MIN_RING_SIZE || m > MAX_RING_SIZE || !isPrime(m)) {
    throw new RangeError(
      `Maglev ring size must be a prime in [${MIN_RING_SIZE}, ${MAX_RING_SIZE}], got ${m}`,
    );
  }
}

/**
 * The permutation of a backend key for ring size m (hash version
 * {@link MAGLEV_HASH_VERSION}). Exposed so other implementations and tests
 * can check the wire contract.
 *
 * @param key - backend key
 * @param m - ring size, prime in [MIN_RING_SIZE, MAX_RING_SIZE]
 * @returns offset and skip
 * @throws RangeError if m is not an accepted ring size
 */
export function maglevPermutation(key: string, m: number): MaglevPermutation {
  checkRingSize(m);
  return permutationUnchecked(key, m);
}

function permutationUnchecked(key: string, m: number): MaglevPermutation {
  const h = fnv1a64(utf8(key));
  const h1 = fmix64((h.hi ^ SEED_OFFSET_HI) >>> 0, (h.lo ^ SEED_OFFSET_LO) >>> 0);
  const h2 = fmix64((h.hi ^ SEED_SKIP_HI) >>> 0, (h.lo ^ SEED_SKIP_LO) >>> 0);
  return { offset: mod64(h1, m), skip: mod64(h2, m - 1) + 1 };
}

/** Code-unit string order; locale-independent so every node sorts alike. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Validates backends and returns them sorted by key.
 *
 * @throws RangeError on a bad id or weight, TypeError on a non-string key,
 *   Error on duplicate keys or ids
 */
function validateAndSort(backends: readonly MaglevBackend[]): MaglevBackend[] {
  const ids = new Set<number>();
  for (const b of backends) {
    if (typeof b.key !== 'string' || b.key.length === 0) {
      throw new TypeError(`Maglev backend key must be a non-empty string, got ${JSON.stringify(b.key)}`);
    }
    if (!Number.isInteger(b.id) || b.id < 1 || b.id > MAX_BACKEND_ID) {
      throw new RangeError(`Maglev backend "${b.key}": id must be an integer in [1, 2^32-1], got ${b.id}`);
    }
    if (!Number.isInteger(b.weight) || b.weight < 0 || b.weight > MAX_WEIGHT) {
      throw new RangeError(
        `Maglev backend "${b.key}": weight must be an integer in [0, ${MAX_WEIGHT}], got ${b.weight}`,
      );
    }
    if (ids.has(b.id)) throw new Error(`Maglev backends: duplicate id ${b.id}`);
    ids.add(b.id);
  }
  const sorted = backends.slice().sort((a, b) => compareKeys(a.key, b.key));
  for (let i = 1; i < sorted.length; i++) {
    const k = sorted[i]!.key;
    if (k === sorted[i - 1]!.key) throw new Error(`Maglev backends: duplicate key "${k}"`);
  }
  return sorted;
}

/**
 * Builds a weighted Maglev ring (see the module comment for the algorithm).
 *
 * Deterministic and independent of the order of `backends`. Every backend
 * with weight w gets ⌊M·w/W⌋ or ⌈M·w/W⌉ entries (W = sum of weights).
 * Allocates O(N) scratch, nothing per ring entry.
 *
 * @param backends - the VIP's backends, any order; weight-0 ones get no entries
 * @param m - ring size M, a prime in [MIN_RING_SIZE, MAX_RING_SIZE]
 * @param out - optional ring to fill in place; must have length m
 * @returns the ring (`out` if given): m backend ids, all 0 if no backend has weight > 0
 * @throws RangeError if m is not an accepted prime, `out` has the wrong length,
 *   or an id/weight is out of range
 * @throws TypeError if a key is not a non-empty string
 * @throws Error on duplicate keys or ids
 */
export function buildMaglevRing(
  backends: readonly MaglevBackend[],
  m: number,
  out?: Uint32Array,
): Uint32Array {
  checkRingSize(m);
  if (out !== undefined && out.length !== m) {
    throw new RangeError(`Maglev ring: out.length must be ${m}, got ${out.length}`);
  }
  const sorted = validateAndSort(backends);
  const ring = out ?? new Uint32Array(m);
  ring.fill(0);

  const active = sorted.filter((b) => b.weight > 0);
  const n = active.length;
  if (n === 0) return ring;

  const id = new Uint32Array(n);
  const weight = new Int32Array(n);
  const pos = new Int32Array(n); // next preferred slot to try
  const skip = new Int32Array(n);
  const quota = new Int32Array(n);
  let totalWeight = 0;
  for (let i = 0; i < n; i++) {
    const b = active[i]!;
    const p = permutationUnchecked(b.key, m);
    id[i] = b.id;
    weight[i] = b.weight;
    pos[i] = p.offset;
    skip[i] = p.skip;
    totalWeight += b.weight;
  }

  apportion(weight, totalWeight, m, quota);

  // Backends of equal weight turn in lockstep, so the schedule is kept per
  // weight class: class g (heaviest first) plays round k at virtual time
  // (2k + 1) / (2·w_g), its members taking one turn each in key order.
  const classWeights = Array.from(new Set(weight)).sort((a, b) => b - a);
  const g = classWeights.length;
  const classW = Int32Array.from(classWeights);
  const classOf = new Map<number, number>(classWeights.map((w, c) => [w, c]));
  const classStart = new Int32Array(g + 1);
  for (let i = 0; i < n; i++) classStart[classOf.get(weight[i]!)! + 1]!++;
  for (let c = 0; c < g; c++) classStart[c + 1]! += classStart[c]!;
  const members = new Int32Array(n);
  const fillAt = classStart.slice(0, g);
  for (let i = 0; i < n; i++) {
    const c = classOf.get(weight[i]!)!;
    members[fillAt[c]!] = i;
    fillAt[c]!++;
  }
  const rounds = new Int32Array(g); // rounds a class plays = its largest quota
  for (let c = 0; c < g; c++) {
    for (let j = classStart[c]!; j < classStart[c + 1]!; j++) {
      rounds[c] = Math.max(rounds[c]!, quota[members[j]!]!);
    }
  }
  const round = new Int32Array(g); // next round per class

  // Min-heap of classes by next round time, ties to the heavier class.
  // Cross-multiplied: (2k+1)·w < 2^25 · 2^16, exact.
  const heap = new Int32Array(g);
  let size = 0;
  for (let c = 0; c < g; c++) if (rounds[c]! > 0) heap[size++] = c;
  const before = (a: number, b: number): boolean => {
    const ta = (2 * round[a]! + 1) * classW[b]!;
    const tb = (2 * round[b]! + 1) * classW[a]!;
    return ta < tb || (ta === tb && a < b);
  };
  const siftDown = (start: number): void => {
    let i = start;
    const x = heap[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= size) break;
      const r = c + 1;
      if (r < size && before(heap[r]!, heap[c]!)) c = r;
      if (!before(heap[c]!, x)) break;
      heap[i] = heap[c]!;
      i = c;
    }
    heap[i] = x;
  };
  for (let i = (size >> 1) - 1; i >= 0; i--) siftDown(i);

  // Σ quota = m and every permutation covers all m slots, so each turn finds
  // a free slot and the loop ends with the ring full.
  while (size > 0) {
    const c = heap[0]!;
    const k = round[c]!;
    for (let j = classStart[c]!, end = classStart[c + 1]!; j < end; j++) {
      const i = members[j]!;
      if (k >= quota[i]!) continue;
      const s = skip[i]!;
      let p = pos[i]!;
      while (ring[p] !== 0) {
        p += s;
        if (p >= m) p -= m;
      }
      ring[p] = id[i]!;
      p += s;
      if (p >= m) p -= m;
      pos[i] = p;
    }
    round[c] = k + 1;
    if (k + 1 === rounds[c]) {
      size--;
      if (size === 0) break;
      heap[0] = heap[size]!;
    }
    siftDown(0);
  }
  return ring;
}

/**
 * Largest-remainder (Hamilton) apportionment of m seats by weight.
 * Leftover seats go to the largest remainders, ties to the smaller index.
 *
 * @param weight - positive weights, in key order
 * @param total - sum of weights
 * @param m - seats to apportion
 * @param quota - output, quota[i] for each weight
 */
function apportion(weight: Int32Array, total: number, m: number, quota: Int32Array): void {
  const n = weight.length;
  const rem = new Float64Array(n);
  let assigned = 0;
  for (let i = 0; i < n; i++) {
    const num = m * weight[i]!; // < 2^24 · 2^16: exact
    const q = Math.floor(num / total);
    quota[i] = q;
    rem[i] = num - q * total;
    assigned += q;
  }
  const left = m - assigned; // 0 ≤ left < n
  if (left === 0) return;
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => rem[b]! - rem[a]! || a - b);
  for (let k = 0; k < left; k++) {
    const i = order[k]!;
    quota[i] = quota[i]! + 1;
  }
}

/**
 * Entries per backend id in a ring.
 *
 * @param ring - a ring from {@link buildMaglevRing}
 * @returns id → number of entries (an empty ring maps 0 → ring.length)
 */
export function ringShares(ring: Uint32Array): Map<number, number> {
  const shares = new Map<number, number>();
  for (let i = 0; i < ring.length; i++) {
    const v = ring[i]!;
    shares.set(v, (shares.get(v) ?? 0) + 1);
  }
  return shares;
}

/**
 * Number of slots whose backend differs between two rings of the same size.
 *
 * @param a - a ring
 * @param b - another ring of the same length
 * @returns count of i with a[i] !== b[i]
 * @throws RangeError if the lengths differ
 */
export function ringDiff(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length) {
    throw new RangeError(`ringDiff: rings differ in length (${a.length} vs ${b.length})`);
  }
  let d = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) d++;
  return d;
}
