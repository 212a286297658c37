/**
 * The arithmetic of the packet pump (bench/pump.ts), pure: from the rates at
 * which frames circulate over a veth pair, each program's own per-packet cost
 * and its rate alone on a core.
 *
 * With both ends' NAPI threads on one CPU, a frame's round trip costs the sum
 * of the two ends' per-packet costs (each end's program, its transmit and the
 * other end's receive), and the pump's rate R is the inverse: 1/R = a + h,
 * where a is the program under test's cost and h the reflector's. h comes
 * from the pump with the reflector at both ends, h = 1/(2 R_pair); then
 * a = 1/R - h, and the program alone on a core would forward 1/a frames a
 * second. Ratios of such rates are ratios of costs.
 *
 * No I/O here: the runner measures, this module derives (unit-tested in
 * test/unit/bench/pump-model.test.ts).
 */

/** The rates (frames a second, counted at the reflector) of one pump round. */
export interface PumpRound {
  /** The reflector at both ends, run before and after the others (two figures). */
  pair: readonly [number, number];
  /** The ceiling (MAC rewrite + XDP_TX) against the reflector. */
  ceiling: number;
  /** The live-frames bench's ceiling (MAC rewrite + bpf_redirect, here to the same veth) against the reflector. */
  ceilingRedirect: number;
  /** xlb (dr) against the reflector. */
  xlb: number;
  /** The kernel path (IP forwarding + nftables DNAT, a hairpin) against the reflector. */
  nft: number;
}

/** What one round gives: per-packet costs (ns), rates alone (pps) and their ratios. */
export interface PumpFigures {
  /** The reflector's share of a round trip, ns. */
  reflectorNs: number;
  ceilingNs: number;
  ceilingRedirectNs: number;
  xlbNs: number;
  nftNs: number;
  /** Rates alone on a core, pps: 1e9 / cost. */
  reflector: number;
  ceiling: number;
  ceilingRedirect: number;
  xlb: number;
  nft: number;
  /** xlb ÷ ceiling (rates alone). */
  xlbRatio: number;
  /** xlb ÷ nftables DNAT. */
  nftRatio: number;
  /** ceiling ÷ nftables DNAT, rates alone. */
  ceilingNftRatio: number;
  /** The redirect ceiling ÷ nftables DNAT, rates alone. */
  ceilingRedirectNftRatio: number;
  /**
   * The same three ratios of the pump's rates as measured, each program with
   * the reflector's share on its core: the analogue of the live-frames
   * method, whose figures carry the sink's share (bench/pps.ts).
   */
  pumpXlbRatio: number;
  pumpNftRatio: number;
  pumpCeilingNftRatio: number;
  pumpCeilingRedirectNftRatio: number;
}

function checkRate(what: string, rate: number): void {
  if (!Number.isFinite(rate) || rate <= 0) throw new RangeError(`pump: ${what} rate must be a positive number of frames a second, got ${rate}`);
}

/**
 * The reflector's share of a round trip, ns: half the pair's round trip,
 * averaged over the pair runs (as costs, not rates).
 */
export function reflectorShare(pairRates: readonly number[]): number {
  if (!pairRates.length) throw new RangeError('pump: no reflector-pair rate');
  for (const r of pairRates) checkRate('reflector pair', r);
  return pairRates.reduce((s, r) => s + 1e9 / (2 * r), 0) / pairRates.length;
}

/**
 * A program's own per-packet cost, ns: the pump's round trip at `rate`
 * less the reflector's share `h`. Throws when the round trip is not longer
 * than h (the program would cost nothing or less, which only noise gives:
 * the pump then ran faster than with nothing at all but a reflector).
 */
export function ownCost(what: string, rate: number, h: number): number {
  checkRate(what, rate);
  const a = 1e9 / rate - h;
  if (!(a > 0)) throw new RangeError(`pump: ${what} at ${(rate / 1e6).toFixed(3)} Mpps leaves no cost of its own beside the reflector's share of ${h.toFixed(1)} ns: the round is noise`);
  return a;
}

/** Every figure of one round. Throws (RangeError) when the round cannot give them. */
export function pumpFigures(r: PumpRound): PumpFigures {
  const h = reflectorShare(r.pair);
  const c = ownCost('ceiling', r.ceiling, h);
  const cr = ownCost('redirect ceiling', r.ceilingRedirect, h);
  const x = ownCost('xlb', r.xlb, h);
  const n = ownCost('nft', r.nft, h);
  return {
    reflectorNs: h,
    ceilingNs: c,
    ceilingRedirectNs: cr,
    xlbNs: x,
    nftNs: n,
    reflector: 1e9 / h,
    ceiling: 1e9 / c,
    ceilingRedirect: 1e9 / cr,
    xlb: 1e9 / x,
    nft: 1e9 / n,
    xlbRatio: c / x,
    nftRatio: n / x,
    ceilingNftRatio: n / c,
    ceilingRedirectNftRatio: n / cr,
    pumpXlbRatio: r.xlb / r.ceiling,
    pumpNftRatio: r.xlb / r.nft,
    pumpCeilingNftRatio: r.ceiling / r.nft,
    pumpCeilingRedirectNftRatio: r.ceilingRedirect / r.nft,
  };
}

/** Whether the round's two pair runs agree within `share` of the larger (the machine kept its speed). */
export function pairStable(r: Pick<PumpRound, 'pair'>, share: number): boolean {
  const [a, b] = r.pair;
  return Math.abs(a - b) <= share * Math.max(a, b);
}

/** The round's speed, for telling slowed periods apart: the mean of its pair runs. */
export function pairSpeed(r: Pick<PumpRound, 'pair'>): number {
  return (r.pair[0] + r.pair[1]) / 2;
}

/** A reading of the reflector's counter: frames so far, at time `ns` (monotonic). */
export interface CountSample {
  frames: bigint;
  ns: bigint;
}

/**
 * The rates (frames a second) between consecutive samples. Throws for fewer
 * than two samples, or samples out of order.
 */
export function windowRates(samples: readonly CountSample[]): number[] {
  if (samples.length < 2) throw new RangeError(`pump: ${samples.length} counter sample(s), 2 at least`);
  const out: number[] = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    if (b.ns <= a.ns || b.frames < a.frames) throw new RangeError(`pump: counter samples out of order at ${i}`);
    out.push(Number(b.frames - a.frames) / (Number(b.ns - a.ns) / 1e9));
  }
  return out;
}

/**
 * A run's rate: the fastest of its windows. The pump is steady, and other
 * work on its CPU (the machine is shared) only ever slows it down, so the
 * least disturbed window is the best measure; a VM slowed for minutes slows
 * every window alike, and is still seen.
 */
export function runRate(samples: readonly CountSample[]): number {
  return Math.max(...windowRates(samples));
}

/** The rates of one round of the BFD echo pump (bench/pump.ts benchEchoPump), frames a second. */
export interface EchoRound {
  /** The echo reflector at both ends, before and after. */
  pair: readonly [number, number];
  /** The ceiling (MAC rewrite + XDP_TX) against the echo reflector. */
  ceiling: number;
  /** xlb reflecting a peer's echo against the echo reflector. */
  echo: number;
}

/** What one echo round gives. */
export interface EchoFigures {
  /** Rates alone on a core, pps. */
  ceiling: number;
  echo: number;
  /** echo ÷ ceiling, the pump's rates as measured (each with the reflector's share, as lab_pps.xlb_ratio). */
  pumpRatio: number;
  /** echo ÷ ceiling, rates alone on a core. */
  aloneRatio: number;
}

/** Every figure of one echo round. Throws (RangeError) when the round cannot give them. */
export function echoFigures(r: EchoRound): EchoFigures {
  const h = reflectorShare(r.pair);
  const c = ownCost('ceiling', r.ceiling, h);
  const e = ownCost('echo', r.echo, h);
  return { ceiling: 1e9 / c, echo: 1e9 / e, pumpRatio: r.echo / r.ceiling, aloneRatio: c / e };
}
