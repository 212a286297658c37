/**
 * BfdHost and the real BFD worker over the worker protocol, without
 * sockets: a spec the runtime refuses comes back as a rejected apply (and
 * nothing runs); status of an empty runtime; stop() ends the worker and is
 * not a crash. With stand-in workers: a worker that dies is reported
 * (`crashed`) and requests to it answer at once instead of hanging.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BfdHost, type BfdHostLog } from '../../../src/bfd/host.js';

const lines: string[] = [];
const log: BfdHostLog = {
  debug: (_o, m) => lines.push(m),
  info: (_o, m) => lines.push(m),
  warn: (_o, m) => lines.push(m),
  error: (_o, m) => lines.push(m),
};
const worker = (code: string): URL => new URL(`data:text/javascript,${encodeURIComponent(code)}`);
const session = { name: 'b1', peer: '192.0.2.2', local: '192.0.2.1', desiredMinTxUs: 10_000, requiredMinRxUs: 10_000, detectMult: 3 };

describe('BfdHost', () => {
  it('the real worker refuses a bad spec (nothing runs), reports an empty status, and stops', async () => {
    const host = new BfdHost(log);
    let crashed = false;
    host.on('crashed', () => (crashed = true));
    await assert.rejects(host.apply({ sessions: [session, session] }), /defined twice/);
    await assert.rejects(host.apply({ sessions: [{ ...session, peer: 'not-an-address' }] }), /not an IP address/);
    const st = await host.status();
    assert.deepEqual(st.sessions, []);
    assert.deepEqual(st.drops, {});
    await host.stop();
    assert.equal(crashed, false);
    assert.deepEqual(await host.status(), st, 'after stop: the last known status');
  });

  it('reports a worker that exits on its own as crashed; requests to it answer at once', async () => {
    const host = new BfdHost(log, {}, worker('process.exit(3)'));
    const code = await new Promise((r) => host.once('crashed', r));
    assert.equal(code, 3);
    assert.deepEqual((await host.status()).sessions, []);
    await assert.rejects(host.apply({ sessions: [] }), /has exited/);
    await host.stop();
  });
});
