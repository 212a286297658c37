/**
 * RingBuilder: rings built in worker threads equal the ones built inline, and
 * a recycled buffer (a ring already written) is built into again without its
 * old entries showing through.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { RingBuilder } from '../../../src/lb/ring-builder.js';
import { buildMaglevRing } from '../../../src/lb/maglev.js';

const M = 65537;
const backends = (n: number, base = 0): { id: number; key: string; weight: number }[] =>
  Array.from({ length: n }, (_, i) => ({ id: base + i + 1, key: `10.0.${base}.${i + 1}:80`, weight: 1 + (i % 3) }));

describe('RingBuilder', () => {
  const rb = new RingBuilder(2);
  after(() => rb.close());

  it('worker-built rings equal inline ones; recycled buffers are rebuilt whole', async () => {
    const a = await rb.build(backends(10), M);
    assert.deepEqual(a, buildMaglevRing(backends(10), M));
    rb.recycle(a);
    // the next build gets a's buffer (transferred to a worker): a is detached here
    const b = await rb.build(backends(3, 50), M);
    assert.equal(a.length, 0, 'the recycled buffer went to the worker');
    assert.deepEqual(b, buildMaglevRing(backends(3, 50), M));
    rb.recycle(b);
    const c = await rb.build(backends(7, 90), M, true); // inline, into b's buffer
    assert.deepEqual(c, buildMaglevRing(backends(7, 90), M));
  });
});
