/** parseDuration / formatDuration. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DurationError, formatDuration, parseDuration } from '../../../src/config/duration.js';

describe('parseDuration', () => {
  const good: [string, number][] = [
    ['150ms', 150],
    ['2s', 2000],
    ['1m', 60_000],
    ['1h', 3_600_000],
    ['500us', 0.5],
    ['500µs', 0.5],
    ['0s', 0],
    ['1.5s', 1500],
    ['1.1s', 1100],
    ['1m30s', 90_000],
    ['1h1m1s1ms1us', 3_661_001.001],
  ];
  for (const [text, ms] of good) it(`${text} = ${ms} ms`, () => assert.equal(parseDuration(text), ms));

  const bad: [string, string][] = [
    ['100', 'expected a duration such as 150ms or 2s, got "100" (a number needs a unit: us, ms, s, m, h)'],
    ['1.5', 'expected a duration such as 150ms or 2s, got "1.5" (a number needs a unit: us, ms, s, m, h)'],
    ['', 'expected a duration such as 150ms or 2s, got ""'],
    ['fast', 'expected a duration such as 150ms or 2s, got "fast"'],
    ['ms', 'expected a duration such as 150ms or 2s, got "ms"'],
    ['2sec', 'unknown unit "sec" in duration "2sec" (use us, ms, s, m, h)'],
    ['2 s', 'unknown unit " s" in duration "2 s" (use us, ms, s, m, h)'],
    ['1d', 'unknown unit "d" in duration "1d" (use us, ms, s, m, h)'],
    ['-1s', 'a duration cannot be negative, got "-1s"'],
    ['1s2', 'expected a duration such as 150ms or 2s, got "1s2" (a number needs a unit: us, ms, s, m, h)'],
    ['1.2.3s', 'expected a duration such as 150ms or 2s, got "1.2.3s"'],
    ['.5s', 'expected a duration such as 150ms or 2s, got ".5s"'],
    ['1e3ms', 'unknown unit "e" in duration "1e3ms" (use us, ms, s, m, h)'],
  ];
  for (const [text, msg] of bad) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseDuration(text), (e: unknown) => e instanceof DurationError && e.message === msg && e.name === 'DurationError');
    });
  }
});

describe('formatDuration', () => {
  for (const [ms, text] of [[0, '0s'], [100, '100ms'], [2000, '2s'], [90_000, '90s'], [120_000, '2m'], [3_600_000, '1h'], [0.5, '500us']] as const) {
    it(`${ms} ms = ${text}`, () => {
      assert.equal(formatDuration(ms), text);
      assert.equal(parseDuration(text), ms);
    });
  }
});
