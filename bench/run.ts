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

const APPLY_RUNS = 3;
const APPLY_METHOD = `${APPLY_RUNS} runs, each in a new node process (bench/apply-run.ts) as the daemon is; apply_ms is their median, apply_max_loop_block_ms the largest block of any run`;

/** The apply bench, APPLY_RUNS times in processes of their own. */
function applyRuns(): BenchRow[] {
  const runs: BenchRow[][] = [];
  for (let i = 0; i < APPLY_RUNS; i++) {
    const out = execFileSync(process.execPath, [resolve(dirname(fileURLToPath(import.meta.url)), 'apply-run.js')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 120_000 });
    runs.push(JSON.parse(out) as BenchRow[]);
  }
  const pick = (key: string): BenchRow[] => runs.map((r) => r.find((x) => x.key === key)!);
  const total = pick('apply_ms.1000_vips');
  const block = pick('apply_max_loop_block_ms');
  log(`  apply: ${total.map((r) => r.value).join(' / ')} ms, longest loop block ${block.map((r) => r.value).join(' / ')} ms`);
  return [
    { ...total[0]!, value: median(total.map((r) => r.value)) },
    { ...block[0]!, value: Math.max(...block.map((r) => r.value)) },
  ];
}

async function main(): Promise<void> {
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  log('bench: maglev ring build');
  rows.push(...benchMaglev());
  if (isRoot()) {
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
    log(`bench: applying a first config of 1000 VIPs x 10 backends (${APPLY_RUNS} runs, each in a new process)`);
    rows.push(...applyRuns());
    notes.push(`apply: ${APPLY_METHOD}`);
    log('bench: packet rate through a forwarding node (live frames)');
    rows.push(...(await benchPps(log)));
    notes.push(`lab_pps: ${PPS_METHOD}`);
    log('bench: kill -9 and restart of the daemon under load, in the lab');
    rows.push(...(await benchRestart(log)));
    log('bench: health checks (CPU at 1,000 and 10,000 checks/s; detection time)');
    rows.push(...(await benchHealth(log)));
    notes.push(`hc: ${HEALTH_METHOD}`);
    log('bench: VRRP failover (xlb vs keepalived) and advert jitter during a 1,000-VIP reload');
    rows.push(...(await benchVrrp(log)));
    notes.push(`vrrp: ${VRRP_METHOD}`);
  } else {
    notes.push('bpf_ns: not measured (needs root)');
  }

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
