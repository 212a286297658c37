/**
 * xlb end to end: the lab (client, xlb node, three HTTP backends, each in its
 * own namespace), `xlb load` of examples/lab.yaml on the node, real HTTP
 * requests from the client. Covers every mode over IPv4 and IPv6, drain and
 * removal by reload, a rejected reload, a kill -9 of the daemon under load,
 * and /metrics. Root only; everything is torn down even when a test fails.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile, type ChildProcess } from 'node:child_process';
import { createLab, type Lab } from '../../src/lab/lab.js';
import { nsExec, nsPath, runClient, stopChild, type ClientReport } from '../../src/lab/exec.js';
import { waitForDaemon } from '../../src/daemon/control.js';
import { unloadInstance } from '../../src/daemon/daemon.js';
import { openStream, until } from '../support/e2e.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

const URLS = {
  dr4: 'http://10.99.0.10:80/',
  tunnel4: 'http://10.99.0.10:8080/',
  nat4: 'http://10.99.0.10:8081/',
  dr6: 'http://[fd99::10]:80/',
  tunnel6: 'http://[fd99::10]:8080/',
  nat6: 'http://[fd99::10]:8081/',
} as const;

function shares(r: ClientReport): Record<string, number> {
  const total = Object.values(r.byBackend).reduce((a, b) => a + b, 0);
  return Object.fromEntries(Object.entries(r.byBackend).map(([k, v]) => [k, v / total]));
}

describe('xlb in the lab', { skip: !isRoot && 'needs root (netns, XDP)' }, () => {
  let lab: Lab;
  let dir: string;
  let cfg: string;
  let daemon: ChildProcess | null = null;
  let log = '';
  const instance = `e2e${process.pid % 100000}`;
  const baseYaml = readFileSync(join(ROOT, 'examples/lab.yaml'), 'utf8').replace(/^instance: .*$/m, `instance: ${instance}`);

  const writeConfig = (yaml: string): void => writeFileSync(cfg, yaml);
  const startDaemon = async (): Promise<void> => {
    daemon = lab.spawn(lab.ns.node, process.execPath, [CLI, 'load', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    daemon.stderr?.on('data', (b: Buffer) => (log += b.toString()));
    await waitForDaemon(instance, 15_000, () => log);
  };
  const cli = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((done) => {
      execFile('nsenter', [`--net=${nsPath(lab.ns.node)}`, process.execPath, CLI, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 99) : 0;
        done({ code, stdout, stderr });
      });
    });
  const metric = async (name: string, labels: string): Promise<number> => {
    const r = await nsExec(lab.ns.node, process.execPath, ['-e', "fetch('http://127.0.0.1:9901/metrics').then(r=>r.text()).then(t=>process.stdout.write(t))"]);
    const line = r.stdout.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
    return line ? Number(line.split(' ').pop()) : NaN;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xlb-e2e-'));
    cfg = join(dir, 'lab.yaml');
    writeConfig(baseYaml);
    lab = await createLab({ prefix: `xe${process.pid % 100000}`, primeNeighbours: false });
    await startDaemon();
  });

  after(async () => {
    if (daemon) await stopChild(daemon);
    try {
      unloadInstance(instance);
    } catch {
      /* nothing pinned */
    }
    await lab?.down();
    rmSync(dir, { recursive: true, force: true });
    if (process.env.XLB_E2E_LOG) process.stderr.write(log);
  });

  for (const [name, url] of Object.entries(URLS)) {
    it(`${name}: 300 requests all answered, each backend 20-46%`, async () => {
      const r = await runClient(lab, { url, count: 300, concurrency: 4 });
      assert.equal(r.failed, 0, `failures: ${r.errors.join('; ')}`);
      assert.equal(r.ok, 300);
      const s = shares(r);
      assert.deepEqual(Object.keys(s).sort(), ['be1', 'be2', 'be3']);
      for (const [b, f] of Object.entries(s)) assert.ok(f >= 0.2 && f <= 0.46, `${b} served ${(f * 100).toFixed(1)}%`);
    });
  }

  it('/metrics: new flows of a VIP match the connections made', async () => {
    const labels = 'vip="10.99.0.10:80/tcp"';
    const before = await metric('xlb_vip_new_flows_total', labels);
    const r = await runClient(lab, { url: URLS.dr4, count: 120, concurrency: 4 });
    assert.equal(r.ok, 120);
    const after = await metric('xlb_vip_new_flows_total', labels);
    assert.equal(after - before, 120);
    assert.ok((await metric('xlb_reloads_total', 'result="success"')) >= 0);
  });

  it('a reload that sets a backend\'s weight to 0: no new connections to it, an open one keeps working', async () => {
    // a long-lived connection; find the backend it landed on
    const stream = openStream(lab, URLS.dr4, 6);
    const victim = await until('the stream to start', async () => /B (be\d)/.exec(stream.output())?.[1]);
    const idx = Number(victim.slice(2));
    writeConfig(baseYaml.replace(`- { address: 10.99.1.1${idx}, interface: xlb1 }`, `- { address: 10.99.1.1${idx}, interface: xlb1, weight: 0 }`));
    const rl = await cli(['reload', '-i', instance]);
    assert.equal(rl.code, 0, rl.stderr);
    const r = await runClient(lab, { url: URLS.dr4, count: 150, concurrency: 4 });
    assert.equal(r.failed, 0);
    assert.equal(r.byBackend[victim] ?? 0, 0, `${victim} got new connections while draining`);
    await until('the stream to end', async () => (/LINES (\d+)/.exec(stream.output()) ? true : undefined), 15000);
    assert.ok(!/ERR/.test(stream.output()), stream.output());
    assert.ok(Number(/LINES (\d+)/.exec(stream.output())?.[1]) >= 5, `the drained connection was cut: ${stream.output()}`);
    await stopChild(stream.child);
    writeConfig(baseYaml);
    assert.equal((await cli(['reload', '-i', instance])).code, 0);
  });

  it('a backend removed by a reload gets no traffic', async () => {
    writeConfig(baseYaml.replace(/ {6}- \{ address: 10\.99\.1\.13, port: 80 \}\n/, ''));
    const rl = await cli(['reload', '-i', instance]);
    assert.equal(rl.code, 0, rl.stderr);
    const r = await runClient(lab, { url: URLS.nat4, count: 150, concurrency: 4 });
    assert.equal(r.failed, 0);
    assert.equal(r.byBackend.be3 ?? 0, 0);
    writeConfig(baseYaml);
    assert.equal((await cli(['reload', '-i', instance])).code, 0);
  });

  it('an invalid reload is rejected with its location, and traffic keeps flowing', async () => {
    writeConfig(baseYaml.replace('    mode: nat\n', '    mode: natt\n'));
    const rl = await cli(['reload', '-i', instance]);
    assert.equal(rl.code, 1);
    assert.match(rl.stderr, /lab\.yaml:\d+:\d+: services\[2\]\.mode: expected one of dr, tunnel, nat, got "natt"/);
    assert.match(rl.stderr, /the running config stays in force/);
    const r = await runClient(lab, { url: [URLS.dr4, URLS.nat4, URLS.tunnel6], count: 90, concurrency: 3 });
    assert.equal(r.failed, 0);
    writeConfig(baseYaml);
  });

  it('kill -9 of the daemon under load loses no request; a restarted daemon picks the maps up', async () => {
    const loop = runClient(lab, { url: [URLS.dr4, URLS.tunnel4, URLS.nat4, URLS.dr6], count: 100000, concurrency: 2, durationMs: 5000 });
    await new Promise((r) => setTimeout(r, 1500));
    daemon?.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 1000));
    await startDaemon();
    const r = await loop;
    assert.ok(r.ok > 100, `only ${r.ok} requests`);
    assert.equal(r.failed, 0, `lost ${r.failed}: ${r.errors.join('; ')}`);
    const reuse = log.split('\n').find((l) => l.includes('reusing pinned maps'));
    assert.ok(reuse, 'the restarted daemon took the pinned maps');
    // every ring the config still asks for stays in its slot: none rewritten
    const { services, ringsKept } = JSON.parse(reuse) as { services: number; ringsKept: number };
    assert.ok(services > 0);
    assert.equal(ringsKept, services, reuse);
  });
});
