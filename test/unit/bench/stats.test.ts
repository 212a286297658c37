import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { atFullSpeed, median, pickRounds } from '../../../bench/stats.js';

describe('bench statistics', () => {
  it('median: the middle value, or the mean of the two middle ones', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
  });

  it('atFullSpeed keeps the rounds within the share of the fastest', () => {
    const rounds = [{ c: 4.3 }, { c: 2.3 }, { c: 4.1 }, { c: 3.5 }, { c: 3.4 }];
    assert.deepEqual(atFullSpeed(rounds, (r) => r.c, 0.8), [{ c: 4.3 }, { c: 4.1 }, { c: 3.5 }]);
    // a run made entirely at one speed keeps every round
    assert.deepEqual(atFullSpeed([{ c: 2.3 }, { c: 2.4 }], (r) => r.c, 0.8), [{ c: 2.3 }, { c: 2.4 }]);
    assert.deepEqual(atFullSpeed([], (r: { c: number }) => r.c, 0.8), []);
    // a faster speed seen elsewhere (a round thrown away) counts
    assert.deepEqual(atFullSpeed([{ c: 2.3 }, { c: 4.0 }], (r) => r.c, 0.8, 4.2), [{ c: 4.0 }]);
    assert.deepEqual(atFullSpeed([{ c: 2.3 }, { c: 2.4 }], (r) => r.c, 0.8, 4.2), []);
  });

  it('pickRounds: the rounds at full speed, the slowed ones apart; with none at full speed, the slowed ones, said so', () => {
    const rounds = [{ c: 4.3 }, { c: 2.3 }, { c: 4.1 }];
    assert.deepEqual(pickRounds(rounds, (r) => r.c, 0.8), { use: [{ c: 4.3 }, { c: 4.1 }], slowed: [{ c: 2.3 }], atFull: true });
    assert.deepEqual(pickRounds(rounds.slice(0, 1), (r) => r.c, 0.8), { use: [{ c: 4.3 }], slowed: [], atFull: true });
    // the fastest seen was in a round thrown away: every kept round is slowed
    const slowed = [{ c: 2.3 }, { c: 2.4 }];
    assert.deepEqual(pickRounds(slowed, (r) => r.c, 0.8, 4.2), { use: slowed, slowed, atFull: false });
    assert.deepEqual(pickRounds([], (r: { c: number }) => r.c, 0.8), { use: [], slowed: [], atFull: false });
  });
});
