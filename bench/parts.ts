/**
 * The parts of `make bench` (bench/run.ts) and how each runs on its own: a
 * part that throws says why in the table's notes, its keys stay absent, and
 * the other parts run. XLB_BENCH_ONLY picks parts. No measurement here.
 */
import type { BenchRow } from './xdp.js';

/** The parts, in the order they run. */
export const PARTS = ['maglev', 'bpf_ns', 'apply', 'pps', 'echo_pps', 'restart', 'health', 'vrrp', 'bfd', 'bfd_echo'] as const;
export type Part = (typeof PARTS)[number];

/**
 * The parts to run: every one when `env` (XLB_BENCH_ONLY) is unset or empty,
 * else those of its comma-separated list.
 * @throws Error naming an unknown part and the known ones
 */
export function onlyParts(env: string | undefined): Set<Part> {
  if (!env?.trim()) return new Set(PARTS);
  const want = env.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = want.filter((w) => !(PARTS as readonly string[]).includes(w));
  if (bad.length) throw new Error(`XLB_BENCH_ONLY: unknown part ${bad.join(', ')} (parts: ${PARTS.join(', ')})`);
  return new Set(want as Part[]);
}

/** Where the parts' figures and notes go. */
export interface BenchOut {
  rows: BenchRow[];
  notes: string[];
}

/**
 * Runs one part: its rows go to `out` when it finishes; when it throws,
 * nothing of it does but a note `<name>: not measured: <why>` (the first line
 * of the error's message).
 * @returns whether the part ran to the end
 */
export async function runPart(name: string, fn: () => BenchRow[] | Promise<BenchRow[]>, out: BenchOut, log: (s: string) => void): Promise<boolean> {
  try {
    const rows = await fn();
    out.rows.push(...rows);
    return true;
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0]! : String(e);
    log(`bench: ${name} failed: ${why}`);
    out.notes.push(`${name}: not measured: ${why}`);
    return false;
  }
}

/** How the packet-rate part measures: live frames, or the packet pump and why. */
export interface PpsChoice {
  method: 'live' | 'pump';
  /** Why the pump: `asked for` or the probe's refusal. */
  why?: string;
}

/**
 * The packet-rate method: `want` (XLB_BENCH_PPS_METHOD) `live` or `pump`
 * decides; unset or empty, `probe()` does (it returns why live frames are
 * refused, or null when they work).
 * @throws Error for any other `want`
 */
export async function choosePpsMethod(want: string | undefined, probe: () => Promise<string | null>): Promise<PpsChoice> {
  const w = want?.trim() ?? '';
  if (w === 'live') return { method: 'live' };
  if (w === 'pump') return { method: 'pump', why: 'asked for (XLB_BENCH_PPS_METHOD=pump)' };
  if (w !== '') throw new Error(`XLB_BENCH_PPS_METHOD must be live, pump or empty (either, by a probe), got '${want}'`);
  const refused = await probe();
  return refused === null ? { method: 'live' } : { method: 'pump', why: `live frames refused here (${refused})` };
}
