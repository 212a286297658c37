/**
 * `make bench`: every benchmark of the project, one table of figures and
 * ratios measured side by side in this run, and bench/out/results.json, a
 * flat JSON object of numbers under the keys the issues name. A figure that
 * was not measured is absent, never filled in.
 *
 * Each part runs on its own: one that cannot run (a refused syscall, a
 * missing tool, a timeout) says why in the notes, its keys stay absent, and
 * the other parts run. XLB_BENCH_ONLY=pps (a comma-separated list of
 * bench/parts.ts's PARTS) runs only those, and writes bench/out/results.<parts>.json
 * instead, so that the full run's file is left as it was.
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
import { benchPps } from './pps.js';
import { benchEchoPump, ECHO_PUMP_METHOD } from './pump.js';
import { onlyParts, runPart, type BenchOut, type Part } from './parts.js';
import { benchHealth, HEALTH_METHOD } from './health.js';
import { benchVrrp, VRRP_METHOD } from './vrrp.js';
import { benchBfd, BFD_METHOD } from './bfd.js';
import { BFD_ECHO_METHOD, runBfdEcho } from './bfd-echo.js';

const log = (s: string): void => void process.stderr.write(`${s}\n`);

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
  const out: BenchOut = { rows: [], notes: [] };
  const { rows, notes } = out;
  const only = onlyParts(process.env.XLB_BENCH_ONLY);
  const part = async (name: Part, fn: () => BenchRow[] | Promise<BenchRow[]>): Promise<void> => {
    if (only.has(name)) await runPart(name, fn, out, log);
  };
  // the apply ratio rests on this run's ring build time: apply brings maglev along
  if (!only.has('maglev') && only.has('apply')) only.add('maglev');
  await part('maglev', () => {
    log('bench: maglev ring build');
    return benchMaglev();
  });
  if (isRoot()) {
    await part('bpf_ns', () => {
      log('bench: XDP per-packet cost (BPF_PROG_TEST_RUN)');
      // BPF_PROG_TEST_RUN runs on the calling thread: keep it on one CPU (per-CPU
      // maps, caches), then give the thread all CPUs back for the rest
      const all = `0-${availableParallelism() - 1}`;
      execFileSync('taskset', ['-pc', String(availableParallelism() - 1), String(process.pid)], { stdio: 'ignore' });
      try {
        const r = benchXdp(log);
        notes.push(`bpf_ns: ${XDP_BENCH_METHOD}, main thread pinned to the last CPU`);
        return r;
      } finally {
        execFileSync('taskset', ['-pc', all, String(process.pid)], { stdio: 'ignore' });
      }
    });
    await part('apply', () => {
      log(`bench: applying a first config of 1000 VIPs x 10 backends (${APPLY_RUNS} runs, each in a new process)`);
      const r = applyRuns(rows.find((x) => x.key === 'maglev_build_ms.10x65537'));
      notes.push(`apply: ${APPLY_METHOD}`);
      return r;
    });
    await part('pps', async () => {
      log('bench: packet rate through a forwarding node (live frames, or the packet pump where they are refused)');
      const pps = await benchPps(log);
      notes.push(`lab_pps: ${pps.method}`);
      return pps.rows;
    });
    await part('echo_pps', async () => {
      log('bench: BFD echo reflected by XDP, against the XDP_TX ceiling (packet pump)');
      const r = await benchEchoPump(log);
      notes.push(`bfd_echo: ${ECHO_PUMP_METHOD}`);
      return r;
    });
    await part('restart', async () => {
      log('bench: kill -9 and restart of the daemon under load, in the lab');
      return benchRestart(log);
    });
    await part('health', async () => {
      log('bench: health checks (CPU at 1,000 and 10,000 checks/s; detection time)');
      const r = await benchHealth(log);
      notes.push(`hc: ${HEALTH_METHOD}`);
      return r;
    });
    await part('vrrp', async () => {
      log('bench: VRRP failover (xlb vs keepalived) and advert jitter during a 1,000-VIP reload');
      const r = await benchVrrp(log);
      notes.push(`vrrp: ${VRRP_METHOD}`);
      return r;
    });
    await part('bfd', async () => {
      log('bench: BFD detection at 10 ms x 3 (xlb vs FRR bfdd, idle and under a 1,000-VIP reload + 10,000 checks/s), tx jitter, failover with BFD peering');
      const r = await benchBfd(log, notes);
      notes.push(`bfd: ${BFD_METHOD}`);
      // failover_xlb_bfd_1s is read against keepalived's 1 s failover of the vrrp part
      if (r.some((x) => x.key === 'failover_ms.xlb_bfd_1s') && !rows.some((x) => x.key === 'failover_ms.keepalived_1s')) notes.push('bfd: failover_ms.xlb_bfd_1s has no ratio: failover_ms.keepalived_1s comes from the vrrp part, not run (or not measured) here');
      return r;
    });
    await part('bfd_echo', async () => {
      log('bench: BFD own echo at 1 ms x 3, forwarding stopped -> Down');
      const r = await runBfdEcho(log);
      notes.push(`bfd_echo: ${BFD_ECHO_METHOD}`);
      return r;
    });
  } else {
    notes.push('bpf_ns, apply, pps, echo_pps, restart, health, vrrp, bfd, bfd_echo: not measured (need root)');
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

  const file = process.env.XLB_BENCH_ONLY ? `results.${[...only].join('+')}.json` : 'results.json';
  const path = resolve(dirname(fileURLToPath(import.meta.url)), `../../bench/out/${file}`);
  mkdirSync(dirname(path), { recursive: true });
  const json: Record<string, number> = {};
  for (const r of rows) if (Number.isFinite(r.value)) json[r.key] = r.value;
  writeFileSync(path, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`wrote ${path}\n`);
}

await main();
