import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hzFromConfig, hzFromTimerList } from '../../../src/daemon/kernel-hz.js';

/** The lines of /proc/timer_list that hzFromTimerList reads, jiffies as a kernel of `hz` would count them. */
const timerList = (nowNs: bigint, hz: number, driftJiffies = 0n): string => {
  const h = BigInt(hz);
  const jiffies = 2n ** 32n - 300n * h + (nowNs * h) / 1_000_000_000n + driftJiffies;
  return [
    'Timer List Version: v0.10',
    'HRTIMER_MAX_CLOCK_BASES: 8',
    `now at ${nowNs} nsecs`,
    '',
    'cpu: 0',
    ` .idle_jiffies   : ${jiffies - 5n}`,
    ` .last_jiffies   : ${jiffies - 3n}`,
    '',
    `jiffies: ${jiffies}`,
    '',
  ].join('\n');
};

describe('kernel HZ', () => {
  it('reads CONFIG_HZ from a kernel config', () => {
    assert.equal(hzFromConfig('# CONFIG_HZ_100 is not set\nCONFIG_HZ_250=y\nCONFIG_HZ=250\n'), 250);
    assert.equal(hzFromConfig('CONFIG_HZ_1000=y\nCONFIG_HZ=1000'), 1000);
    assert.equal(hzFromConfig('CONFIG_HZ_1000=y\n'), null);
  });

  it('fits HZ to the jiffies counter and the monotonic clock of /proc/timer_list', () => {
    // as read on the development VM (HZ 250, up 7 h 49 min)
    assert.equal(hzFromTimerList('now at 28176033804515 nsecs\n\njiffies: 4301936241\n'), 250);
    for (const hz of [100, 250, 300, 1000]) {
      for (const now of [1_000_000_000n, 1_000_000_000_000n, 86_400_000_000_000n * 400n]) {
        assert.equal(hzFromTimerList(timerList(now, hz)), hz, `HZ ${hz}, up ${now / 1_000_000_000n} s`);
        assert.equal(hzFromTimerList(timerList(now, hz, BigInt(hz))), hz, 'a second of ticks off the clock');
      }
    }
  });

  it('gives no answer when the text does not fit any HZ, or lacks a line', () => {
    assert.equal(hzFromTimerList(timerList(86_400_000_000_000n, 250, 10_000n)), null, '40 s of ticks off');
    assert.equal(hzFromTimerList('now at 28176033804515 nsecs\n'), null);
    assert.equal(hzFromTimerList('jiffies: 4301936241\n'), null);
    // 300 s after boot every HZ counts 2^32: ambiguous
    assert.equal(hzFromTimerList(timerList(300_000_000_000n, 250)), null);
    assert.equal(hzFromTimerList(''), null);
  });
});
