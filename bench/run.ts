/**
 * `make bench`: every benchmark of the project, one table of figures and
 * ratios measured side by side in this run, and bench/out/results.json, a
 * flat JSON object of numbers under the keys the issues name. A figure that
 * was not measured is absent, never filled in.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchMaglev } from './maglev.js';
import { isRoot } from '../test/support/fib-lab.js';
import { benchXdp, XDP_BENCH_METHOD, type BenchRow } from './xdp.js';
import { median } from './stats.js';
import { benchRestart } from './restart.js';
import { benchPps, PPS_METHOD } from './pps.js';
import { benchHealth, HEALTH_METHOD } from './health.js';
import { benchVrrp, VRRP_METHOD } from './vrrp.js';

const log = (s: string): void => void process.stderr.write(`${s}\n`);

/** XLB_BENCH_ONLY=health,vrrp,...: run only these parts (maglev, xdp, apply, pps, restart, health, vrrp); all by default. */
const ONLY = process.env.XLB_BENCH_ONLY ? new Set(process.env.XLB_BENCH_ONLY.split(',').map((s) => s.trim())) : null;
const part = (name: string): boolean => !ONLY || ONLY.has(name);

const APPLY_RUNS = 3;
const APPLY_METHOD = `${APPLY_RUNS} runs, each in a new node process (bench/apply-run.ts) as the daemon is; apply_ms is their median, apply_max_loop_block_ms the largest block of any run`;

/**
 * The apply bench, APPLY_RUNS times in processes of their own, and its ratio
 * to the ring builds it holds (`ringMs`: maglev_build_ms.10x65537 of this run).
 */
function applyRuns(ringMs: BenchRow | undefined): BenchRow[] {
  const runs: BenchRow[][] = [];
  for (let i = 0; i < APPLY_RUNS; i++) {
    const out = execFileSync(process.execPath, [resolve(dirname(fileURLToPath(import.meta.url)), 'apply-run.js')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 120_000 });
    runs.push(JSON.parse(out) as BenchRow[]);
  }
  const pick = (key: string): BenchRow[] => runs.map((r) => r.find((x) => x.key === key)!);
  const total = pick('apply_ms.1000_vips');
  const block = pick('apply_max_loop_block_ms');
  log(`  apply: ${total.map((r) => r.value).join(' / ')} ms, longest loop block ${block.map((r) => r.value).join(' / ')} ms`);
  const applyMs = median(total.map((r) => r.value));
  const rows: BenchRow[] = [
    { ...total[0]!, value: applyMs },
    { ...block[0]!, value: Math.max(...block.map((r) => r.value)) },
  ];
  // the whole apply against its 1,000 rings built one after another on one core
  if (ringMs && ringMs.value > 0) {
    rows.push({
      key: 'apply_ratio.1000_vips',
      value: Math.round((applyMs / (1000 * ringMs.value)) * 100) / 100,
      label: `apply_ms.1000_vips / (1,000 x ${ringMs.key}), same run (goal <= 1.0)`,
    });
  }
  return rows;
}

async function main(): Promise<void> {
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  if (part('maglev') || part('apply')) {
    log('bench: maglev ring build');
    rows.push(...benchMaglev());
  }
  if (isRoot() && part('xdp')) {
    log('bench: XDP per-packet cost (BPF_PROG_TEST_RUN)');
    // BPF_PROG_TEST_RUN runs on the calling thread: keep it on one CPU (per-CPU
    // maps, caches), then give the thread all CPUs back for the rest
    const all = `0-${availableParallelism() - 1}`;
    execFileSync('taskset', ['-pc', String(availableParallelism() - 1), String(process.pid)], { stdio: 'ignore' });
    try {
      rows.push(...benchXdp(log));
    } finally {
      execFileSync('taskset', ['-pc', all, String(process.pid)], { stdio: 'ignore' });
    }
    notes.push(`bpf_ns: ${XDP_BENCH_METHOD}, main thread pinned to the last CPU`);
  }
  if (isRoot() && part('apply')) {
    log(`bench: applying a first config of 1000 VIPs x 10 backends (${APPLY_RUNS} runs, each in a new process)`);
    rows.push(...applyRuns(rows.find((r) => r.key === 'maglev_build_ms.10x65537')));
    notes.push(`apply: ${APPLY_METHOD}`);
  }
  if (isRoot() && part('pps')) {
    log('bench: packet rate through a forwarding node (live frames)');
    rows.push(...(await benchPps(log)));
    notes.push(`lab_pps: ${PPS_METHOD}`);
  }
  if (isRoot() && part('restart')) {
    log('bench: kill -9 and restart of the daemon under load, in the lab');
    rows.push(...(await benchRestart(log)));
  }
  if (isRoot() && part('health')) {
    log('bench: health checks (CPU at 1,000 and 10,000 checks/s; detection time)');
    rows.push(...(await benchHealth(log)));
    notes.push(`hc: ${HEALTH_METHOD}`);
  }
  if (isRoot() && part('vrrp')) {
    log('bench: VRRP failover (xlb vs keepalived) and advert jitter during a 1,000-VIP reload');
    rows.push(...(await benchVrrp(log)));
    notes.push(`vrrp: ${VRRP_METHOD}`);
  }
  if (!isRoot()) notes.push('bpf_ns: not measured (needs root)');

  const byKey = new Map(rows.map((r) => [r.key, r]));
  const w = Math.max(...rows.map((r) => r.label.length), 20);
  const lines = [`${'figure'.padEnd(w)}  ${'value'.padStart(10)}  ${'ratio'.padStart(8)}  key`, `${'-'.repeat(w)}  ${'-'.repeat(10)}  ${'-'.repeat(8)}  ---`];
  for (const r of rows) {
    const base = r.ratioTo ? byKey.get(r.ratioTo) : undefined;
    const ratio = base ? `${(r.value / base.value).toFixed(2)}x` : '';
    lines.push(`${r.label.padEnd(w)}  ${String(r.value).padStart(10)}  ${ratio.padStart(8)}  ${r.key}`);
  }
  process.stdout.write(`${lines.join('\n')}\n\n${notes.map((n) => `note: ${n}`).join('\n')}\n`);

  const out = resolve(dirname(fileURLToPath(import.meta.url)), '../../bench/out/results.json');
  mkdirSync(dirname(out), { recursive: true });
  const json: Record<string, number> = {};
  for (const r of rows) if (Number.isFinite(r.value)) json[r.key] = r.value;
  writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`wrote ${out}\n`);
}

await main();
