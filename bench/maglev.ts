/**
 * Maglev benchmarks (DESIGN §"Benchmarks": ring build time and disruption
 * when one of N backends leaves). Called by the bench runner, which owns
 * output and process handling; this file only measures and returns figures.
 */
import { performance } from 'node:perf_hooks';

import { buildMaglevRing, type MaglevBackend } from '../src/lb/maglev.js';
import { median } from './stats.js';

/** Ring size measured, entries: xlb's default M. */
const RING_SIZE = 65537;
/** Backends in the build-time measurement. */
const BUILD_BACKENDS = 1000;
/** Backends of one VIP of the apply bench (bench/apply.ts): its rings are built from this many. */
const VIP_BACKENDS = 10;
/** Untimed builds before measuring, so the JIT has compiled the hot loop. */
const WARMUP_RUNS = 2;
/** Timed builds; the median is reported (≥ 7 to damp GC and scheduler noise). */
const TIMED_RUNS = 9;

/** n equal-weight backends keyed like real ones ("10.0.1.7:80"), ids 1..n. */
function backends(n: number): MaglevBackend[] {
  return Array.from({ length: n }, (_, i) => ({ id: i + 1, key: `10.0.${i >> 8}.${i & 255}:80`, weight: 1 }));
}

/**
 * Percent of ring entries that move when the backend in the middle (by key)
 * of n equal-weight backends is removed, not counting that backend's own
 * entries (which must move).
 */
function disruptionPct(n: number): number {
  const bs = backends(n);
  const gone = bs.slice().sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))[n >> 1]!;
  const before = buildMaglevRing(bs, RING_SIZE);
  const after = buildMaglevRing(bs.filter((b) => b !== gone), RING_SIZE);
  let moved = 0;
  for (let i = 0; i < RING_SIZE; i++) {
    if (before[i] !== after[i] && before[i] !== gone.id) moved++;
  }
  return (100 * moved) / RING_SIZE;
}

/** Median time of TIMED_RUNS builds of one ring of `bs` (after WARMUP_RUNS), ms. */
function buildMs(bs: readonly MaglevBackend[]): number {
  const out = new Uint32Array(RING_SIZE);
  for (let i = 0; i < WARMUP_RUNS; i++) buildMaglevRing(bs, RING_SIZE, out);
  const times: number[] = [];
  for (let i = 0; i < TIMED_RUNS; i++) {
    const t0 = performance.now();
    buildMaglevRing(bs, RING_SIZE, out);
    times.push(performance.now() - t0);
  }
  return median(times);
}

/**
 * Measures Maglev ring build time (1000 backends, and 10 as one VIP of the
 * apply bench has, M = 65537, median of TIMED_RUNS after WARMUP_RUNS, on the
 * calling thread) and the disruption of removing one of 100 and of 1000
 * backends.
 *
 * @returns one record per figure: stable `key`, `value`, human `label`
 */
export function benchMaglev(): { key: string; value: number; label: string }[] {
  return [
    {
      key: 'maglev_build_ms.1000x65537',
      value: Math.round(buildMs(backends(BUILD_BACKENDS)) * 100) / 100,
      label: `Maglev ring build, 1000 backends, M=65537 (ms, median of ${TIMED_RUNS})`,
    },
    {
      // not rounded to 0.01: apply_ratio.1000_vips is 1,000 times it
      key: `maglev_build_ms.${VIP_BACKENDS}x65537`,
      value: Math.round(buildMs(backends(VIP_BACKENDS)) * 1000) / 1000,
      label: `Maglev ring build, ${VIP_BACKENDS} backends, M=65537 (ms, median of ${TIMED_RUNS})`,
    },
    {
      key: 'maglev_disruption_pct.100',
      value: Math.round(disruptionPct(100) * 1000) / 1000,
      label: 'Maglev disruption, remove 1 of 100 backends, M=65537 (% of ring moved beyond its own entries)',
    },
    {
      key: 'maglev_disruption_pct.1000',
      value: Math.round(disruptionPct(1000) * 1000) / 1000,
      label: 'Maglev disruption, remove 1 of 1000 backends, M=65537 (% of ring moved beyond its own entries)',
    },
  ];
}
