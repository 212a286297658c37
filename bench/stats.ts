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

/** The rounds a figure is taken from, by {@link pickRounds}. */
export interface PickedRounds<T> {
  /** The rounds the figures come from: those at full speed, or every round when none was. */
  use: T[];
  /** The rounds run while the machine was slowed, reported apart (all of them when none was at full speed). */
  slowed: T[];
  /** Whether `use` are the rounds at full speed (false: no round was, `use` are the slowed ones). */
  atFull: boolean;
}

/**
 * Splits `rounds` into those at the run's full speed ({@link atFullSpeed})
 * and the slowed ones. With no round at full speed, the slowed ones are all
 * there is: they are used, and said to be.
 */
export function pickRounds<T>(rounds: readonly T[], speed: (r: T) => number, share: number, fastest = 0): PickedRounds<T> {
  const full = atFullSpeed(rounds, speed, share, fastest);
  const slowed = rounds.filter((r) => !full.includes(r));
  return full.length ? { use: full, slowed, atFull: true } : { use: slowed, slowed, atFull: false };
}
