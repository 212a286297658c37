/**
 * @module lab/demo
 * `make demo`: builds the lab (client, xlb node, three HTTP backends in
 * network namespaces), runs `xlb load examples/lab.yaml` on the node, sends
 * HTTP requests from the client to every service (dr, tunnel, nat over IPv4
 * and IPv6), prints which backend answered them and the /metrics counters,
 * and tears everything down. Needs root. Test tooling wired as a program.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLab, destroyLab, type Lab } from './lab.js';
import { nsExec, runClient, stopChild } from './exec.js';
import { waitForDaemon } from '../daemon/control.js';
import { unloadInstance } from '../daemon/daemon.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const PREFIX = 'xdemo';
const INSTANCE = 'demo';

const SERVICES = [
  ['web4-dr', 'http://10.99.0.10:80/'],
  ['web4-tunnel', 'http://10.99.0.10:8080/'],
  ['web4-nat', 'http://10.99.0.10:8081/'],
  ['web6-dr', 'http://[fd99::10]:80/'],
  ['web6-tunnel', 'http://[fd99::10]:8080/'],
  ['web6-nat', 'http://[fd99::10]:8081/'],
] as const;

const say = (s = ''): void => void process.stdout.write(`${s}\n`);

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    say('make demo needs root: it builds network namespaces and attaches an XDP program');
    return 1;
  }
  await destroyLab(PREFIX); // leftovers of an interrupted run
  unloadInstance(INSTANCE);
  const dir = mkdtempSync(join(tmpdir(), 'xlb-demo-'));
  const cfg = join(dir, 'lab.yaml');
  writeFileSync(cfg, readFileSync(join(ROOT, 'examples/lab.yaml'), 'utf8').replace(/^instance: .*$/m, `instance: ${INSTANCE}`));
  let lab: Lab | null = null;
  try {
    say('building the lab: client, xlb node, backends be1..be3 (network namespaces)...');
    lab = await createLab({ prefix: PREFIX });
    say(`  up in ${Math.round(lab.timings.upMs)} ms; tunnel decapsulation on the backends: ${lab.decap}`);
    say(`starting: xlb load examples/lab.yaml (instance "${INSTANCE}") in ${lab.ns.node}`);
    const daemon = lab.spawn(lab.ns.node, process.execPath, [CLI, 'load', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    daemon.stderr?.on('data', (b: Buffer) => (log += b.toString()));
    await waitForDaemon(INSTANCE, 15_000, () => log);
    say('\n30 requests per service from the client (a new TCP connection each):');
    for (const [name, url] of SERVICES) {
      const r = await runClient(lab, { url, count: 30, concurrency: 3 });
      const by = Object.entries(r.byBackend)
        .sort()
        .map(([b, n]) => `${b} ${n}`)
        .join(', ');
      say(`  ${name.padEnd(12)} ${url.padEnd(26)} ok ${r.ok}/30  ${by}${r.failed ? `  FAILED ${r.failed}: ${r.errors[0]}` : ''}`);
    }
    say('\n/metrics (selected lines):');
    const m = await nsExec(lab.ns.node, process.execPath, ['-e', "fetch('http://127.0.0.1:9901/metrics').then(r=>r.text()).then(t=>process.stdout.write(t))"]);
    for (const line of m.stdout.split('\n')) {
      if (/^xlb_(vip_new_flows_total|backend_new_flows_total\{[^}]*web4-dr|packets_total)/.test(line) && !line.endsWith(' 0')) say(`  ${line}`);
    }
    say('\nstatus:');
    const st = await nsExec(lab.ns.node, process.execPath, [CLI, 'status', '-i', INSTANCE]);
    for (const line of st.stdout.trimEnd().split('\n')) say(`  ${line}`);
    await stopChild(daemon);
  } finally {
    unloadInstance(INSTANCE);
    await lab?.down();
    rmSync(dir, { recursive: true, force: true });
  }
  say('\nlab torn down, XDP program unloaded.');
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (err: Error) => {
    process.stderr.write(`demo failed: ${err.message}\n`);
    process.exitCode = 1;
  },
);
