/**
 * The native socket factory's source lookup (the part that needs no
 * privileges): the address the kernel would use towards a peer, and aborts.
 * Marked connects run in the e2e tier (test/e2e/health.test.ts, target: vip).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sourceToward } from '../../../../src/health/probes/native-factory.js';

describe('sourceToward', () => {
  it('is the local address the kernel picks towards the peer', async () => {
    assert.equal(await sourceToward('127.0.0.1', 4, new AbortController().signal), '127.0.0.1');
    assert.equal(await sourceToward('::1', 6, new AbortController().signal), '::1');
  });

  it('rejects with the abort reason, before or during the lookup', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await assert.rejects(sourceToward('127.0.0.1', 4, ac.signal), /stop/);
    const ac2 = new AbortController();
    const p = sourceToward('127.0.0.1', 4, ac2.signal);
    ac2.abort(new Error('late'));
    await assert.rejects(p, /late/);
  });
});
