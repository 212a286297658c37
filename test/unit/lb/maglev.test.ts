/**
 * Unit tests for src/lb/maglev.ts and src/lb/hash.ts: the 32-bit hash math
 * against a BigInt reference, input validation, weighted shares, minimal
 * disruption, order independence and golden vectors (wire contract).
 * No timing assertions (DESIGN §6).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { fmix64, fnv1a64, mod64, mul64, mulHi32, utf8 } from '../../../src/lb/hash.js';
import {
  DEFAULT_RING_SIZE,
  MAGLEV_HASH_VERSION,
  MAX_RING_SIZE,
  MAX_WEIGHT,
  buildMaglevRing,
  isPrime,
  maglevPermutation,
  ringDiff,
  ringShares,
  type MaglevBackend,
} from '../../../src/lb/maglev.js';

const M = DEFAULT_RING_SIZE;
const SIZES = [3, 10, 100, 1000] as const;

/** n backends with keys like "10.0.1.7:80", ids 1..n, weights from `w`. */
function backends(n: number, w: (i: number) => number = () => 1): MaglevBackend[] {
  return Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    key: `10.0.${i >> 8}.${i & 255}:80`,
    weight: w(i),
  }));
}

/** Percent of ring slots that changed, not counting slots where `except` is involved. */
function movedPct(a: Uint32Array, b: Uint32Array, except: number): number {
  let moved = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i] && a[i] !== except && b[i] !== except) moved++;
  }
  return (100 * moved) / a.length;
}

/** Asserts every backend's entry count is within max(1% of expected, 1) of M·w/W. */
function assertShares(ring: Uint32Array, bs: readonly MaglevBackend[]): number {
  const shares = ringShares(ring);
  const total = bs.reduce((s, b) => s + b.weight, 0);
  let worst = 0;
  for (const b of bs) {
    const expected = (ring.length * b.weight) / total;
    const got = shares.get(b.id) ?? 0;
    const err = Math.abs(got - expected);
    worst = Math.max(worst, err);
    assert.ok(err <= Math.max(0.01 * expected, 1), `${b.key} w=${b.weight}: ${got} entries, expected ${expected}`);
  }
  assert.equal(shares.get(0), undefined, 'ring has empty slots');
  return worst;
}

/** Deterministic shuffle (LCG-driven Fisher–Yates) so tests never depend on Math.random. */
function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const a = xs.slice();
  let s = seed >>> 0;
  for (let i = a.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

// ---- BigInt reference of the documented hash (MAGLEV_HASH_VERSION 1) ----
const MASK64 = (1n << 64n) - 1n;
const big = (v: { hi: number; lo: number }): bigint => (BigInt(v.hi) << 32n) | BigInt(v.lo);
function refFnv1a64(bytes: Uint8Array): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & MASK64;
  return h;
}
function refFmix64(k: bigint): bigint {
  k ^= k >> 33n;
  k = (k * 0xff51afd7ed558ccdn) & MASK64;
  k ^= k >> 33n;
  k = (k * 0xc4ceb9fe1a85ec53n) & MASK64;
  return k ^ (k >> 33n);
}
function refPermutation(key: string, m: number): { offset: number; skip: number } {
  const h = refFnv1a64(utf8(key));
  const h1 = refFmix64(h ^ 0x9e3779b97f4a7c15n);
  const h2 = refFmix64(h ^ 0xc2b2ae3d27d4eb4fn);
  return { offset: Number(h1 % BigInt(m)), skip: Number(h2 % BigInt(m - 1)) + 1 };
}

describe('hash (32-bit math vs BigInt reference)', () => {
  test('FNV-1a-64 known vectors', () => {
    assert.equal(big(fnv1a64(utf8(''))), 0xcbf29ce484222325n);
    assert.equal(big(fnv1a64(utf8('a'))), 0xaf63dc4c8601ec8cn);
    assert.equal(big(fnv1a64(utf8('foobar'))), 0x85944171f73967e8n);
  });

  test('mulHi32, mul64, fmix64, mod64 match BigInt on pseudo-random inputs', () => {
    let s = 12345;
    const next = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
    const edge = [0, 1, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];
    for (let n = 0; n < 2000; n++) {
      const ah = n < 49 ? edge[n % 7]! : next();
      const al = n < 49 ? edge[Math.floor(n / 7)]! : next();
      const bh = next();
      const bl = next();
      assert.equal(BigInt(mulHi32(al, bl)), (BigInt(al) * BigInt(bl)) >> 32n);
      const a = (BigInt(ah) << 32n) | BigInt(al);
      const b = (BigInt(bh) << 32n) | BigInt(bl);
      assert.equal(big(mul64(ah, al, bh, bl)), (a * b) & MASK64);
      assert.equal(big(fmix64(ah, al)), refFmix64(a));
      for (const m of [3, 13, 65536, 65537, MAX_RING_SIZE - 3]) {
        assert.equal(BigInt(mod64({ hi: ah, lo: al }, m)), a % BigInt(m));
      }
    }
    assert.throws(() => mod64({ hi: 0, lo: 0 }, 0), RangeError);
  });

  test('maglevPermutation follows the documented hash', () => {
    for (const key of ['a', 'b', 'c', '10.0.0.2:80', '[2001:db8::1]:443', 'ünïcødé']) {
      for (const m of [3, 13, 65537, 16777213]) {
        assert.deepEqual(maglevPermutation(key, m), refPermutation(key, m));
      }
    }
  });
});

describe('isPrime', () => {
  test('small and large values', () => {
    const primes = [2, 3, 5, 7, 11, 13, 65521, 65537, 131071, 16777213, 2147483647];
    const composites = [0, 1, 4, 9, 15, 25, 49, 65535, 65536, 65541, 16777215, 4294967297];
    for (const p of primes) assert.equal(isPrime(p), true, String(p));
    for (const c of composites) assert.equal(isPrime(c), false, String(c));
    for (const x of [-7, 2.5, NaN, Infinity, 2 ** 60]) assert.equal(isPrime(x), false, String(x));
  });
});

describe('buildMaglevRing validation', () => {
  const ok = backends(3);

  test('rejects non-prime, too small, too large or non-integer M', () => {
    for (const m of [0, 1, 2, 4, 65536, 65541, 13.5, -13, NaN, MAX_RING_SIZE + 1]) {
      assert.throws(() => buildMaglevRing(ok, m), RangeError, String(m));
    }
  });

  test('rejects an out buffer of the wrong length', () => {
    assert.throws(() => buildMaglevRing(ok, 13, new Uint32Array(12)), RangeError);
    assert.throws(() => buildMaglevRing(ok, 13, new Uint32Array(14)), RangeError);
  });

  test('rejects bad weights', () => {
    for (const weight of [-1, 1.5, NaN, MAX_WEIGHT + 1]) {
      assert.throws(() => buildMaglevRing([{ id: 1, key: 'a', weight }], 13), RangeError, String(weight));
    }
  });

  test('rejects bad ids, including 0', () => {
    for (const id of [0, -1, 1.5, 2 ** 32]) {
      assert.throws(() => buildMaglevRing([{ id, key: 'a', weight: 1 }], 13), RangeError, String(id));
    }
  });

  test('rejects empty keys', () => {
    assert.throws(() => buildMaglevRing([{ id: 1, key: '', weight: 1 }], 13), TypeError);
  });

  test('rejects duplicate keys and ids (weight 0 ones too)', () => {
    const dupKey = [{ id: 1, key: 'a', weight: 1 }, { id: 2, key: 'a', weight: 0 }];
    const dupId = [{ id: 1, key: 'a', weight: 1 }, { id: 1, key: 'b', weight: 0 }];
    assert.throws(() => buildMaglevRing(dupKey, 13), /duplicate key "a"/);
    assert.throws(() => buildMaglevRing(dupId, 13), /duplicate id 1/);
  });

  test('accepts any prime M ≥ 3', () => {
    for (const m of [3, 5, 13, 251, 65521]) {
      assert.equal(buildMaglevRing(ok, m).length, m);
    }
  });
});

describe('shares', () => {
  const cases: [string, (i: number) => number][] = [
    ['equal', () => 1],
    ['weights 1..5 cycling', (i) => 1 + (i % 5)],
    ['one heavy at 10x', (i) => (i === 0 ? 10 : 1)],
  ];
  for (const [name, w] of cases) {
    for (const n of SIZES) {
      test(`${name}, N=${n}: within max(1%, 1 entry) of M·w/W`, (t) => {
        const worst = assertShares(buildMaglevRing(backends(n, w), M), backends(n, w));
        t.diagnostic(`worst deviation ${worst.toFixed(3)} entries`);
      });
    }
  }

  test('more backends than slots: quotas still exact', () => {
    const bs = backends(20, (i) => 1 + (i % 3));
    const shares = ringShares(buildMaglevRing(bs, 13));
    assert.equal([...shares.values()].reduce((a, b) => a + b, 0), 13);
    assert.equal(shares.get(0), undefined);
  });

  test('weight 0 backends get no entries', () => {
    const bs = backends(10, (i) => (i % 3 === 0 ? 0 : 2));
    const ring = buildMaglevRing(bs, M);
    const shares = ringShares(ring);
    for (const b of bs.filter((x) => x.weight === 0)) assert.equal(shares.get(b.id), undefined);
    assertShares(ring, bs);
    // Draining a backend is the same as removing it.
    assert.deepEqual(ring, buildMaglevRing(bs.filter((b) => b.weight > 0), M));
  });

  test('no backend with weight > 0 gives an all-zero ring', () => {
    const out = new Uint32Array(13).fill(7);
    assert.deepEqual(buildMaglevRing(backends(3, () => 0), 13, out), new Uint32Array(13));
    assert.deepEqual(buildMaglevRing([], 13), new Uint32Array(13));
    assert.deepEqual(ringShares(out), new Map([[0, 13]]));
  });
});

describe('minimal disruption (M = 65537)', () => {
  for (const n of SIZES) {
    test(`removing one of ${n} moves ≤ 1% beyond its own entries`, (t) => {
      const bs = backends(n);
      const before = buildMaglevRing(bs, M);
      for (const idx of [0, n >> 1, n - 1]) {
        const gone = bs[idx]!;
        const after = buildMaglevRing(bs.filter((b) => b !== gone), M);
        const pct = movedPct(before, after, gone.id);
        t.diagnostic(`N=${n} remove index ${idx}: ${pct.toFixed(3)}% moved`);
        assert.ok(pct <= 1.0, `${pct}%`);
      }
    });

    test(`adding one to ${n} moves ≤ 1% beyond the entries it takes`, (t) => {
      const bs = backends(n + 1);
      const added = bs[n]!;
      const pct = movedPct(buildMaglevRing(bs.slice(0, n), M), buildMaglevRing(bs, M), added.id);
      t.diagnostic(`N=${n} add: ${pct.toFixed(3)}% moved`);
      assert.ok(pct <= 1.0, `${pct}%`);
    });

    test(`removing one of ${n} with mixed weights moves ≤ 1%`, (t) => {
      const bs = backends(n, (i) => 1 + (i % 5));
      const gone = bs[n >> 1]!;
      const pct = movedPct(buildMaglevRing(bs, M), buildMaglevRing(bs.filter((b) => b !== gone), M), gone.id);
      t.diagnostic(`N=${n} weighted remove: ${pct.toFixed(3)}% moved`);
      assert.ok(pct <= 1.0, `${pct}%`);
    });
  }

  for (const n of [10, 100]) {
    for (const factor of [2, 0.5, 1.1]) {
      test(`changing one of ${n} weights by x${factor} moves ≈ only the share change`, (t) => {
        const bs = backends(n, () => 10);
        const bs2 = bs.map((b, i) => (i === 3 ? { ...b, weight: Math.round(10 * factor) } : b));
        const a = buildMaglevRing(bs, M);
        const b = buildMaglevRing(bs2, M);
        // The least any ring could move: the entries gained by the backends that grew.
        const sa = ringShares(a);
        const sb = ringShares(b);
        let least = 0;
        for (const x of bs) least += Math.max(0, (sb.get(x.id) ?? 0) - (sa.get(x.id) ?? 0));
        const pct = (100 * ringDiff(a, b)) / M;
        const leastPct = (100 * least) / M;
        t.diagnostic(`N=${n} x${factor}: ${pct.toFixed(3)}% moved, ${leastPct.toFixed(3)}% necessary`);
        assert.ok(least > 0);
        assert.ok(pct <= leastPct + 1.0, `${pct}% vs necessary ${leastPct}%`);
      });
    }
  }
});

describe('determinism', () => {
  test('order independence: shuffled input gives the identical ring', () => {
    for (const n of [3, 100, 1000]) {
      const bs = backends(n, (i) => 1 + (i % 7));
      const ring = buildMaglevRing(bs, M);
      for (const seed of [1, 2, 3]) assert.deepEqual(buildMaglevRing(shuffled(bs, seed), M), ring);
    }
  });

  test('repeated calls and out reuse give identical rings', () => {
    const bs = backends(100, (i) => 1 + (i % 3));
    const a = buildMaglevRing(bs, M);
    const out = new Uint32Array(M).fill(0xdead);
    const b = buildMaglevRing(bs, M, out);
    assert.equal(b, out);
    assert.deepEqual(b, a);
    assert.deepEqual(buildMaglevRing(bs, M), a);
  });

  test('ids do not affect placement, only what is written', () => {
    const bs = backends(10);
    const renum = bs.map((b) => ({ ...b, id: b.id + 1000 }));
    const a = buildMaglevRing(bs, 251);
    const b = buildMaglevRing(renum, 251);
    assert.deepEqual(b, a.map((x) => x + 1000));
  });

  // Golden vectors. These pin the wire contract (MAGLEV_HASH_VERSION 1): every
  // xlb node in a cluster must build the same ring, so if this test fails the
  // change breaks mixed-version clusters (flows move on failover). Only update
  // these values together with a bump of MAGLEV_HASH_VERSION.
  test('golden vectors (hash version 1)', () => {
    assert.equal(MAGLEV_HASH_VERSION, 1);
    assert.deepEqual(maglevPermutation('a', 13), { offset: 7, skip: 3 });
    assert.deepEqual(maglevPermutation('b', 13), { offset: 6, skip: 6 });
    assert.deepEqual(maglevPermutation('c', 13), { offset: 9, skip: 3 });
    assert.deepEqual(maglevPermutation('10.0.0.2:80', 65537), { offset: 28142, skip: 28711 });
    const abc = (w: [number, number, number]): MaglevBackend[] => [
      { id: 1, key: 'a', weight: w[0] },
      { id: 2, key: 'b', weight: w[1] },
      { id: 3, key: 'c', weight: w[2] },
    ];
    assert.deepEqual([...buildMaglevRing(abc([1, 1, 1]), 13)], [1, 3, 3, 1, 1, 2, 2, 1, 3, 3, 1, 2, 2]);
    assert.deepEqual([...buildMaglevRing(abc([1, 2, 3]), 13)], [3, 3, 3, 3, 2, 2, 2, 1, 3, 3, 1, 2, 3]);
  });
});

describe('helpers', () => {
  test('ringShares and ringDiff', () => {
    const a = Uint32Array.from([1, 2, 2, 3]);
    const b = Uint32Array.from([1, 3, 2, 1]);
    assert.deepEqual(ringShares(a), new Map([[1, 1], [2, 2], [3, 1]]));
    assert.equal(ringDiff(a, b), 2);
    assert.equal(ringDiff(a, a), 0);
    assert.throws(() => ringDiff(a, new Uint32Array(3)), RangeError);
  });
});
