/**
 * Time to apply a first config of 1,000 VIPs x 10 backends at ring size
 * 65,537 (about 260 MB of ring entries): program load (verifier on a worker
 * thread), plan, backend and VIP writes, rings built in worker threads (from
 * the start of the load, with stand-in ids, as the daemon does: see
 * RingBuilder.prebuild) and copied into the mmap'ed ring map. Also the longest the event loop was held
 * meanwhile (perf_hooks.monitorEventLoopDelay, 1 ms resolution), which is
 * what a VRRP or BFD timer in the same process would have waited.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { defaultBackendHealth, defaultServiceHealth, type XlbConfig, type ServiceConfig } from '../src/config/model.js';
import { XdpDataplane } from '../src/dataplane/xdp/xdp-dataplane.js';
import { Applier } from '../src/daemon/apply.js';
import { planReconcileAsync, ringSets } from '../src/daemon/plan.js';
import { RingBuilder } from '../src/lb/ring-builder.js';
import type { BenchRow } from './xdp.js';

const VIPS = 1000;
const BACKENDS = 10;
const M = 65537;

export function config(): XlbConfig {
  const loc = { file: 'bench', line: 1, col: 1 };
  const services: ServiceConfig[] = [];
  for (let v = 0; v < VIPS; v++) {
    const address = `10.${100 + (v >> 8)}.${v & 255}.1`;
    services.push({
      name: `vip${v}`,
      address,
      family: 4,
      port: 80,
      protocol: 'tcp',
      mode: 'dr',
      persistence: false,
      loc,
      health: defaultServiceHealth(),
      backends: Array.from({ length: BACKENDS }, (_, b) => ({ address: `10.200.${v & 255}.${(v >> 8) * BACKENDS + b + 1}`, port: 0, weight: 1, loc, health: defaultBackendHealth() })),
    });
  }
  return {
    file: 'bench',
    instance: 'bench',
    interfaces: [],
    metrics: { host: '127.0.0.1', port: 9901 },
    log: { level: 'info', format: 'json' },
    limits: { maxVips: VIPS, maxBackends: VIPS * BACKENDS + 1, maxConns: 65536, maxConns6: 65536, maxNat: 65536, ringSize: M, connRateLimit: 0, flowCache: 16384, nextHopCacheMs: 100 },
    tunnel: { sourceEntropy: false },
    services,
  };
}

/** Run the apply benchmark (root: it loads the BPF object). */
export async function benchApply(log: (s: string) => void): Promise<BenchRow[]> {
  const cfg = config();
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  // the same, phase by phase (load, plan, apply), for the log
  const phases: number[] = [];
  let phase = monitorEventLoopDelay({ resolution: 1 });
  phase.enable();
  const nextPhase = (): void => {
    phase.disable();
    phases.push(Math.round(phase.max / 1e5) / 10);
    phase = monitorEventLoopDelay({ resolution: 1 });
    phase.enable();
  };
  const t0 = performance.now();
  // as the daemon does: the rings are built while the kernel verifies the program
  const rings = new RingBuilder();
  rings.prebuild(ringSets(cfg), M);
  const dp = await XdpDataplane.loadAsync({ maxVips: VIPS, maxBackends: VIPS * BACKENDS + 1, maxConns: 65536, ringSize: M }).catch(async (err: unknown) => {
    await rings.close();
    throw err;
  });
  const applier = new Applier(dp, Date.now, rings);
  try {
    const tLoaded = performance.now();
    nextPhase();
    const cpu0 = process.cpuUsage();
    const elu0 = performance.eventLoopUtilization();
    const plan = await planReconcileAsync(applier.view(), cfg, M, { maxVips: VIPS, maxBackends: VIPS * BACKENDS + 1, maxRings: dp.maxRings }, () => new Promise((resolve) => setImmediate(resolve)));
    const tPlanned = performance.now();
    nextPhase();
    const res = await applier.apply(plan);
    const t1 = performance.now();
    // where the time went: CPU of every thread (the ring workers too) and how busy the main thread was
    const cpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0);
    loop.disable();
    nextPhase();
    if (!res.ok) throw new Error(`bench: apply failed: ${res.failures[0]?.what}: ${res.failures[0]?.err.message}`);
    // spot check: the last VIP's ring holds its own backends only
    const last = plan.services.get(`10.${100 + ((VIPS - 1) >> 8)}.${(VIPS - 1) & 255}.1|80|tcp`)!;
    const ring = dp.readRing(last.ring);
    const ids = new Set(last.backends.map((b) => b.id));
    if (!ring.every((id) => ids.has(id))) throw new Error('bench: ring content wrong');
    log(
      `  apply: load ${Math.round(tLoaded - t0)} ms, plan ${Math.round(tPlanned - tLoaded)} ms, apply ${Math.round(t1 - tPlanned)} ms, ${plan.steps.length} steps; meanwhile CPU ${Math.round((cpu.user + cpu.system) / 1000)} ms (${Math.round(((cpu.user + cpu.system) / 10 / (t1 - tLoaded)))}% of one core, all threads), main thread busy ${Math.round(elu.utilization * 100)}%; longest loop block in load ${phases[0]}, plan ${phases[1]}, apply ${phases[2]} ms`,
    );
    return [
      { key: 'apply_ms.1000_vips', value: Math.round(t1 - t0), label: `first config applied, ${VIPS} VIPs x ${BACKENDS} backends, M=${M} (ms, load + plan + apply)` },
      { key: 'apply_max_loop_block_ms', value: Math.round((loop.max / 1e6) * 10) / 10, label: 'longest event-loop block during that apply (ms)' },
    ];
  } finally {
    await applier.close();
    dp.close();
  }
}
