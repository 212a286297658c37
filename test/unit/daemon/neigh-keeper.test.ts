import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NEIGH_BATCH, NeighbourKeeper } from '../../../src/daemon/neigh-keeper.js';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
const addrs = (n: number, prefix = '10.1'): string[] => Array.from({ length: n }, (_, i) => `${prefix}.${i >> 8}.${i & 255}`);

describe('NeighbourKeeper', () => {
  it('probes every address once per pass, at most NEIGH_BATCH in one turn of the loop', async () => {
    const sent: string[] = [];
    const k = new NeighbourKeeper(60_000, (a) => sent.push(a));
    const all = addrs(2 * NEIGH_BATCH + 7);
    k.set(all);
    assert.equal(sent.length, NEIGH_BATCH, 'the first batch at once, no more');
    await turn();
    assert.equal(sent.length, 2 * NEIGH_BATCH);
    await turn();
    await turn();
    assert.deepEqual(sent, all, 'each once, in order');
    k.stop();
  });

  it('a new set() during a pass starts over with the new addresses; stop() ends a pass', async () => {
    const sent: string[] = [];
    const k = new NeighbourKeeper(60_000, (a) => sent.push(a));
    k.set(addrs(3 * NEIGH_BATCH));
    const fresh = addrs(NEIGH_BATCH + 1, '10.2');
    k.set(fresh);
    for (let i = 0; i < 5; i++) await turn();
    assert.deepEqual(sent.slice(NEIGH_BATCH), fresh, 'the old pass stopped after its first batch');
    sent.length = 0;
    k.set(addrs(2 * NEIGH_BATCH));
    k.stop();
    for (let i = 0; i < 3; i++) await turn();
    assert.equal(sent.length, NEIGH_BATCH, 'nothing after stop()');
  });
});
