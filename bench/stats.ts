/**
 * Statistics shared by the benchmarks.
 */

/** The median: the middle value, or the mean of the two middle ones for an even count. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The p-quantile (0..1) by nearest rank. */
export function quantile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
}

/**
 * The rounds measured at the run's full speed: those whose `speed` is at least
 * `share` of the fastest seen (the others ran while the host slowed the
 * machine down). `fastest`: the fastest speed seen outside `rounds` too (in
 * rounds thrown away as unstable).
 */
export function atFullSpeed<T>(rounds: readonly T[], speed: (r: T) => number, share: number, fastest = 0): T[] {
  const best = Math.max(fastest, ...rounds.map(speed));
  return rounds.filter((r) => speed(r) >= share * best);
}
