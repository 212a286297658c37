/**
 * RingBuilder: rings built in worker threads equal the ones built inline, and
 * a recycled buffer (a ring already written) is built into again without its
 * old entries showing through. Rings built ahead (prebuild, before the ids
 * are known) come out with the ids build() is given, the same as built then.
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

  it('prebuilt rings carry the ids build() is given, whether built already or still queued', async () => {
    const rb2 = new RingBuilder(1);
    try {
      // 40 sets: the first ones are built by the time they are asked for, the
      // last ones not read yet (asked first: build() builds them itself)
      const sets = Array.from({ length: 40 }, (_, v) => backends(3 + (v % 5), v));
      rb2.prebuild(
        sets.map((s) => s.map((b) => ({ key: b.key, weight: b.weight }))),
        M,
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      for (const [v, set] of sets.entries()) {
        // other ids than any stand-in, in another order than the keys'
        const real = set.map((b) => ({ ...b, id: 1000 + v * 10 + ((b.id * 7) % 10) })).reverse();
        const ring = await rb2.build(real, M);
        assert.deepEqual(ring, buildMaglevRing(real, M), `set ${v}`);
        rb2.recycle(ring);
      }
    } finally {
      await rb2.close();
    }
  });

  it('a prebuild that fails fails as build() would; after dropPrebuilt(), builds are as before', async () => {
    const rb2 = new RingBuilder(1);
    try {
      const dup = [
        { id: 1, key: '10.0.0.1:80', weight: 1 },
        { id: 2, key: '10.0.0.1:80', weight: 1 },
      ];
      const empty = [{ id: 1, key: '10.0.0.9:80', weight: 0 }];
      rb2.prebuild([dup, empty, backends(4)], M);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await assert.rejects(rb2.build(dup, M), /duplicate key/);
      assert.deepEqual(await rb2.build(empty, M), new Uint32Array(M), 'no backend with weight: an empty ring');
      rb2.dropPrebuilt();
      const real = backends(4, 7);
      assert.deepEqual(await rb2.build(real, M), buildMaglevRing(real, M));
    } finally {
      await rb2.close();
    }
  });
});
