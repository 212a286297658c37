import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DueQueue } from '../../../src/health/due-queue.js';

describe('DueQueue', () => {
  it('pops only what is due, earliest first', () => {
    const q = new DueQueue<{ dueAt: number; id: string }>();
    for (const [id, dueAt] of [['c', 30], ['a', 10], ['d', 40], ['b', 20]] as const) q.push({ id, dueAt });
    assert.equal(q.size, 4);
    assert.equal(q.nextDueAt, 10);
    assert.equal(q.popDue(9), undefined, 'nothing is due before 10');
    assert.equal(q.popDue(25)?.id, 'a');
    assert.equal(q.popDue(25)?.id, 'b');
    assert.equal(q.popDue(25), undefined);
    assert.equal(q.nextDueAt, 30);
    q.clear();
    assert.equal(q.size, 0);
    assert.equal(q.nextDueAt, undefined);
  });

  it('orders many random items like a sort does, with duplicates and re-pushes', () => {
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 1000;
    const q = new DueQueue<{ dueAt: number }>();
    const all: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const dueAt = Math.floor(rnd());
      all.push(dueAt);
      q.push({ dueAt });
    }
    const out: number[] = [];
    // pop half, re-push them later (the runner re-arms a slot after its attempt)
    for (let i = 0; i < 1000; i++) out.push(q.popDue(Infinity)!.dueAt);
    for (const d of out.splice(0, 500)) q.push({ dueAt: d + 1000 });
    const expect = [...all.slice().sort((a, b) => a - b).slice(500), ...all.slice().sort((a, b) => a - b).slice(0, 500).map((d) => d + 1000)].sort((a, b) => a - b);
    const got = [...out];
    for (let item = q.popDue(Infinity); item; item = q.popDue(Infinity)) got.push(item.dueAt);
    assert.deepEqual(got, expect);
  });
});
