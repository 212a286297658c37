/**
 * The native socket factory's source lookup (the part that needs no
 * privileges): the address the kernel would use towards a peer, and aborts.
 * Marked connects run in the e2e tier (test/e2e/health.test.ts, target: vip).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SourceCache, SOURCE_TTL_MS, sourceToward } from '../../../../src/health/probes/native-factory.js';

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

describe('SourceCache', () => {
  /** A lookup that counts its calls and answers from `answers`. */
  const counting = (answers: Record<string, string | Error>): { lookup: typeof sourceToward; calls: string[] } => {
    const calls: string[] = [];
    const lookup: typeof sourceToward = (address, family) => {
      calls.push(`${family} ${address}`);
      const a = answers[address];
      return a instanceof Error ? Promise.reject(a) : Promise.resolve(a ?? '0.0.0.0');
    };
    return { lookup, calls };
  };
  const signal = new AbortController().signal;

  it('looks a peer up once per lifetime, and again after it', async () => {
    let now = 0;
    const { lookup, calls } = counting({ '10.0.0.10': '10.0.0.1', 'fd00::10': 'fd00::1' });
    const c = new SourceCache(lookup, () => now);
    assert.equal(await c.get('10.0.0.10', 4, signal), '10.0.0.1');
    assert.equal(await c.get('10.0.0.10', 4, signal), '10.0.0.1');
    assert.equal(await c.get('fd00::10', 6, signal), 'fd00::1');
    assert.deepEqual(calls, ['4 10.0.0.10', '6 fd00::10']);
    now += SOURCE_TTL_MS - 1;
    await c.get('10.0.0.10', 4, signal);
    assert.equal(calls.length, 2, 'still fresh');
    now += 1;
    await c.get('10.0.0.10', 4, signal);
    assert.deepEqual(calls, ['4 10.0.0.10', '6 fd00::10', '4 10.0.0.10'], 'expired: looked up again');
  });

  it('keeps no failed lookup', async () => {
    const { lookup, calls } = counting({ '10.9.9.9': new Error('ENETUNREACH') });
    const c = new SourceCache(lookup, () => 0);
    await assert.rejects(c.get('10.9.9.9', 4, signal), /ENETUNREACH/);
    await assert.rejects(c.get('10.9.9.9', 4, signal), /ENETUNREACH/);
    assert.equal(calls.length, 2);
    assert.equal(c.size, 0);
  });

  it('drops stale entries as it grows', async () => {
    let now = 0;
    const { lookup } = counting({});
    const c = new SourceCache(lookup, () => now, 10);
    for (let i = 0; i < 1024; i++) await c.get(`10.1.${i >> 8}.${i & 255}`, 4, signal);
    now = 100; // all stale
    await c.get('10.2.0.1', 4, signal);
    assert.equal(c.size, 1);
  });
});
