/**
 * Requests lost while the daemon is killed (-9) and restarted under load:
 * the lab, `xlb load examples/lab.yaml` on the node, a client looping over
 * the IPv4 and IPv6 services for 6 s with new connections, a SIGKILL of the
 * daemon 1.5 s in, a new daemon a second later (it reuses the pinned maps and
 * replaces the program on the pinned links). The XDP program forwards on its
 * own meanwhile, so the figure should be 0.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { createLab, destroyLab, type Lab } from '../src/lab/lab.js';
import { runClient, stopChild } from '../src/lab/exec.js';
import { waitForDaemon } from '../src/daemon/control.js';
import { unloadInstance } from '../src/daemon/daemon.js';
import type { BenchRow } from './xdp.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const PREFIX = 'xbench';
const INSTANCE = 'benchrestart';

/** Run the restart benchmark (root). */
export async function benchRestart(log: (s: string) => void): Promise<BenchRow[]> {
  await destroyLab(PREFIX);
  unloadInstance(INSTANCE);
  const dir = mkdtempSync(join(tmpdir(), 'xlb-bench-'));
  const cfg = join(dir, 'lab.yaml');
  writeFileSync(cfg, readFileSync(join(ROOT, 'examples/lab.yaml'), 'utf8').replace(/^instance: .*$/m, `instance: ${INSTANCE}`));
  let lab: Lab | null = null;
  const children: ChildProcess[] = [];
  try {
    lab = await createLab({ prefix: PREFIX });
    const start = async (): Promise<ChildProcess> => {
      const c = lab!.spawn(lab!.ns.node, process.execPath, [CLI, 'load', cfg], { stdio: 'ignore' });
      children.push(c);
      await waitForDaemon(INSTANCE);
      return c;
    };
    const first = await start();
    const loop = runClient(lab, {
      url: ['http://10.99.0.10:80/', 'http://10.99.0.10:8080/', 'http://10.99.0.10:8081/', 'http://[fd99::10]:80/', 'http://[fd99::10]:8080/', 'http://[fd99::10]:8081/'],
      count: 1_000_000,
      concurrency: 4,
      durationMs: 6000,
    });
    await new Promise((r) => setTimeout(r, 1500));
    first.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 1000));
    await start();
    const r = await loop;
    log(`  restart: ${r.ok} requests answered, ${r.failed} lost${r.failed ? ` (${r.errors.slice(0, 3).join('; ')})` : ''}`);
    return [
      { key: 'restart_lost_requests', value: r.failed, label: `requests lost across kill -9 + restart of the daemon (of ${r.ok + r.failed}, 6 s, 4 in flight)` },
    ];
  } finally {
    for (const c of children) await stopChild(c);
    unloadInstance(INSTANCE);
    await lab?.down();
    rmSync(dir, { recursive: true, force: true });
  }
}
