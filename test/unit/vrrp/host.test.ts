/**
 * VrrpHost with stand-in workers: a worker that dies is reported (`crashed`,
 * which makes the daemon start a new one); status requests to a dead worker
 * answer with the last known status instead of hanging; stop() of a worker
 * that exits on 'stop' resolves and is not a crash.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { VrrpHost } from '../../../src/vrrp/host.js';

const log = pino({ level: 'silent' });
const worker = (code: string): URL => new URL(`data:text/javascript,${encodeURIComponent(code)}`);

describe('VrrpHost', () => {
  it('reports a worker that exits on its own as crashed, and answers status without it', async () => {
    const host = new VrrpHost(log, worker('process.exit(3)'));
    const code = await new Promise((r) => host.once('crashed', r));
    assert.equal(code, 3);
    assert.deepEqual(await host.status(), []);
    await host.stop(); // already gone: resolves at once
  });

  it('stop() asks the worker to stop and waits for it; not a crash', async () => {
    const host = new VrrpHost(
      log,
      worker("import { parentPort } from 'node:worker_threads'; parentPort.on('message', (m) => { if (m.type === 'stop') parentPort.close(); if (m.type === 'status') parentPort.postMessage({ type: 'status', id: m.id, status: [] }); });"),
    );
    let crashed = false;
    host.on('crashed', () => (crashed = true));
    assert.deepEqual(await host.status(), []);
    await host.stop();
    assert.equal(crashed, false);
  });
});
