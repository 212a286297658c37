/**
 * Every command that prints writes everything to a pipe, however slowly the
 * reader takes it, and exits with its own code (issue 14, item 1: `xlb status
 * --json | python3 -m json.tool` read a JSON cut at 65,536 bytes, because the
 * process exited before stdout drained). The built CLI talks to a fake daemon
 * on a control socket in a temp XLB_RUN_DIR; needs no privileges.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { controlPath, serveControl, type ControlRequest } from '../../../src/daemon/control.js';
import { exitWhenFlushed } from '../../../src/cli/exit.js';
import { PassThrough } from 'node:stream';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const SERVICES = 1000;
const BACKENDS = 10;
const ERRORS = 5000;

/** A status reply of SERVICES services with BACKENDS backends each, as the daemon sends it. */
function bigStatus(): Record<string, unknown> {
  const services = Array.from({ length: SERVICES }, (_, i) => ({
    name: `svc-${i}`,
    vip: `10.${i >> 8}.${i & 255}.1:80/tcp`,
    mode: 'dr',
    quorum: 'ok',
    packets: i,
    newFlows: i,
    backends: Array.from({ length: BACKENDS }, (_, j) => ({ backend: `10.200.${i & 255}.${j + 1}`, state: 'up', weight: 1, packets: j })),
  }));
  return { ok: true, instance: 'pipe', pid: 1, uptimeSeconds: 1, config: '/etc/xlb/pipe.yaml', interfaces: ['eth0'], services, vrrp: [] };
}

/**
 * Run the CLI with stdout and stderr on pipes that nobody reads for `stallMs`,
 * then read them in small bites with pauses: a slow reader.
 */
function runSlowReader(args: string[], runDir: string, stallMs = 300): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, XLB_RUN_DIR: runDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`xlb ${args.join(' ')} did not end within 60 s`));
    }, 60_000);
    const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    for (const name of ['stdout', 'stderr'] as const) {
      const s = child[name];
      s.pause();
      setTimeout(() => {
        s.on('data', (b: Buffer) => {
          chunks[name].push(b);
          // take a bite, then stall again
          s.pause();
          setTimeout(() => s.resume(), 2);
        });
        s.resume();
      }, stallMs);
    }
    let ended = 0;
    let code: number | null = null;
    const finish = (): void => {
      if (++ended < 3) return;
      clearTimeout(timer);
      done({ code, stdout: Buffer.concat(chunks.stdout).toString('utf8'), stderr: Buffer.concat(chunks.stderr).toString('utf8') });
    };
    child.stdout.on('end', finish);
    child.stderr.on('end', finish);
    child.on('exit', (c) => {
      code = c;
      finish();
    });
  });
}

describe('CLI output into a pipe with a slow reader', () => {
  let dir: string;
  let server: Server;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xlb-pipe-'));
    server = serveControl(controlPath('pipe', dir), async (req: ControlRequest) => {
      if (req.cmd === 'status') return bigStatus();
      return { ok: false, errors: Array.from({ length: ERRORS }, (_, i) => `new.yaml:${i + 1}:3: services[${i}].port: expected a port, 1 to 65535`) };
    });
    await new Promise((r) => server.once('listening', r));
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('xlb status --json of 1,000 services: the whole JSON, exit 0', async () => {
    const r = await runSlowReader(['status', '-i', 'pipe', '--json'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.length > 131_072, `only ${r.stdout.length} bytes`);
    const parsed = JSON.parse(r.stdout) as { services: unknown[] };
    assert.equal(parsed.services.length, SERVICES);
  });

  it('xlb status of 1,000 services x 10 backends: every line, exit 0', async () => {
    const r = await runSlowReader(['status', '-i', 'pipe'], dir);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').filter(Boolean);
    assert.equal(lines.length, 1 + SERVICES * (1 + BACKENDS));
    assert.match(lines.at(-1)!, /^ {4}10\.200\.231\.10 {2}up/);
  });

  it('a rejected reload writes all its errors to a slow stderr and still exits 1', async () => {
    const r = await runSlowReader(['reload', '-i', 'pipe'], dir);
    assert.equal(r.code, 1);
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, ERRORS + 1);
    assert.match(lines.at(-1)!, /reload rejected/);
  });

  it('no daemon: exit 3, the message whole', async () => {
    const r = await runSlowReader(['status', '-i', 'nobody-here'], dir, 50);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /nobody-here/);
  });
});

describe('exitWhenFlushed', () => {
  it('exits only after every stream has flushed what was written before', async () => {
    const slow = new PassThrough({ highWaterMark: 16 });
    const fast = new PassThrough();
    slow.write('x'.repeat(1000));
    const exits: number[] = [];
    exitWhenFlushed(7, [slow, fast], (c) => exits.push(c));
    fast.resume();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(exits, [], 'exited while the slow stream still held data');
    slow.resume();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(exits, [7]);
    assert.equal(process.exitCode, 7);
    process.exitCode = 0;
  });

  it('a stream whose reader went away (error) does not hold the exit', () => {
    const broken = new PassThrough();
    const exits: number[] = [];
    broken.write('x'.repeat(100_000));
    exitWhenFlushed(2, [broken], (c) => exits.push(c));
    broken.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    assert.deepEqual(exits, [2]);
    process.exitCode = 0;
  });
});
