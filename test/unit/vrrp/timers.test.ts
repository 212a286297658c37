/**
 * VRRP timer arithmetic: Skew_Time per version, Master_Down_Interval with
 * down_timer_adverts, the worked examples of keepalived.md §1.3, advert
 * interval rounding (AT-VRRP-03, AT-VRRP-04) and wire units.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  advertIntFromWire,
  advertIntToWire,
  isValidAdvertInt,
  masterDownIntervalMs,
  minSkewTimeMs,
  roundAdvertInt,
  skewTimeMs,
} from '../../../src/vrrp/timers.js';
import { XlbError } from '../../../src/errors.js';

const internal = (e: unknown) => e instanceof XlbError && e.code === 'XLB_ERR_INTERNAL';

describe('Skew_Time', () => {
  it('v2: (256 - prio) / 256 s, whatever the advert interval (RFC 3768 §6.1)', () => {
    assert.equal(skewTimeMs(2, 100, 1000), 609.375);
    assert.equal(skewTimeMs(2, 100, 5000), 609.375);
    assert.equal(skewTimeMs(2, 100, 255_000), 609.375);
    assert.equal(skewTimeMs(2, 200, 1000), 218.75);
    assert.equal(skewTimeMs(2, 1, 1000), 996.09375);
    assert.equal(skewTimeMs(2, 254, 1000), 7.8125);
  });

  it('v3: (256 - prio) x Master_Adver_Interval / 256 (RFC 5798 §6.1)', () => {
    assert.equal(skewTimeMs(3, 100, 10), 6.09375);
    assert.equal(skewTimeMs(3, 100, 1000), 609.375);
    assert.equal(skewTimeMs(3, 100, 100), 60.9375);
    assert.equal(skewTimeMs(3, 200, 40_950), (56 * 40_950) / 256);
  });

  it('the owner (255) has the smallest skew, the minimum skew', () => {
    assert.equal(skewTimeMs(2, 255, 1000), 3.90625);
    assert.equal(minSkewTimeMs(2, 7000), 3.90625);
    assert.equal(minSkewTimeMs(3, 1000), 3.90625);
    assert.equal(minSkewTimeMs(3, 10), 0.0390625);
  });

  it('refuses a priority outside 1..255, an unknown version, a bad interval', () => {
    assert.throws(() => skewTimeMs(2, 0, 1000), internal);
    assert.throws(() => skewTimeMs(2, 256, 1000), internal);
    assert.throws(() => skewTimeMs(2, 100.5, 1000), internal);
    assert.throws(() => skewTimeMs(4 as 2, 100, 1000), internal);
    assert.throws(() => skewTimeMs(3, 100, 0), internal);
    assert.throws(() => skewTimeMs(3, 100, Number.NaN), internal);
  });
});

describe('Master_Down_Interval', () => {
  it('worked example v2: advert 1 s, priority 100 -> 3.609375 s', () => {
    assert.equal(masterDownIntervalMs(2, 100, 1000), 3609.375);
  });

  it('worked example v3: advert 10 ms, priority 100 -> 36.09375 ms', () => {
    assert.equal(masterDownIntervalMs(3, 100, 10), 36.09375);
  });

  it('v2 with a longer interval keeps the 1 s based skew', () => {
    assert.equal(masterDownIntervalMs(2, 100, 5000), 15_609.375);
  });

  it('down_timer_adverts replaces the RFC factor 3', () => {
    assert.equal(masterDownIntervalMs(2, 100, 1000, 1), 1609.375);
    assert.equal(masterDownIntervalMs(2, 100, 1000, 5), 5609.375);
    assert.equal(masterDownIntervalMs(3, 100, 10, 100), 1006.09375);
  });

  it('refuses down_timer_adverts outside 1..100', () => {
    assert.throws(() => masterDownIntervalMs(2, 100, 1000, 0), internal);
    assert.throws(() => masterDownIntervalMs(2, 100, 1000, 101), internal);
    assert.throws(() => masterDownIntervalMs(2, 100, 1000, 2.5), internal);
  });
});

describe('advert_int rounding', () => {
  it('v2: whole seconds kept as they are', () => {
    assert.deepEqual(roundAdvertInt(2, 1000), { ms: 1000, adjusted: false });
    assert.deepEqual(roundAdvertInt(2, 255_000), { ms: 255_000, adjusted: false });
  });

  it('v2: 0.5 s becomes 1 s, with a warning (AT-VRRP-04)', () => {
    const r = roundAdvertInt(2, 500);
    assert.equal(r.ms, 1000);
    assert.equal(r.adjusted, true);
    assert.equal(r.warning, 'advert_int 500 ms changed to 1000 ms (VRRPv2 carries whole seconds, 1..255 s)');
  });

  it('v2: rounds to the nearest second, half up, within 1..255 s', () => {
    assert.equal(roundAdvertInt(2, 1499).ms, 1000);
    assert.equal(roundAdvertInt(2, 1500).ms, 2000);
    assert.equal(roundAdvertInt(2, 10).ms, 1000);
    assert.equal(roundAdvertInt(2, 300_000).ms, 255_000);
  });

  it('v3: 10 ms steps kept as they are', () => {
    assert.deepEqual(roundAdvertInt(3, 10), { ms: 10, adjusted: false });
    assert.deepEqual(roundAdvertInt(3, 40_950), { ms: 40_950, adjusted: false });
    assert.deepEqual(roundAdvertInt(3, 1000), { ms: 1000, adjusted: false });
  });

  it('v3: 15 ms becomes 20 ms, 41 s becomes 40.95 s (AT-VRRP-03)', () => {
    assert.equal(roundAdvertInt(3, 15).ms, 20);
    const r = roundAdvertInt(3, 41_000);
    assert.equal(r.ms, 40_950);
    assert.equal(r.warning, 'advert_int 41000 ms changed to 40950 ms (VRRPv3 carries centiseconds, 10 ms..40.95 s)');
  });

  it('v3: rounds to the nearest 10 ms, at least 10 ms', () => {
    assert.equal(roundAdvertInt(3, 1234).ms, 1230);
    assert.equal(roundAdvertInt(3, 1235).ms, 1240);
    assert.equal(roundAdvertInt(3, 4).ms, 10);
  });

  it('refuses zero, negative and non-finite intervals', () => {
    assert.throws(() => roundAdvertInt(2, 0), internal);
    assert.throws(() => roundAdvertInt(3, -10), internal);
    assert.throws(() => roundAdvertInt(3, Number.POSITIVE_INFINITY), internal);
  });

  it('isValidAdvertInt is true exactly for the unchanged values', () => {
    assert.equal(isValidAdvertInt(2, 3000), true);
    assert.equal(isValidAdvertInt(2, 3500), false);
    assert.equal(isValidAdvertInt(3, 3500), true);
    assert.equal(isValidAdvertInt(3, 15), false);
    assert.equal(isValidAdvertInt(3, 0), false);
    assert.equal(isValidAdvertInt(4 as 3, 1000), false);
  });
});

describe('advert interval wire units', () => {
  it('v2 seconds, v3 centiseconds', () => {
    assert.equal(advertIntToWire(2, 1000), 1);
    assert.equal(advertIntToWire(2, 255_000), 255);
    assert.equal(advertIntToWire(3, 10), 1);
    assert.equal(advertIntToWire(3, 40_950), 4095);
    assert.equal(advertIntFromWire(2, 3), 3000);
    assert.equal(advertIntFromWire(3, 1), 10);
    assert.equal(advertIntFromWire(3, 4095), 40_950);
  });

  it('refuses what the field cannot hold', () => {
    assert.throws(() => advertIntToWire(2, 1500), internal);
    assert.throws(() => advertIntToWire(3, 15), internal);
    assert.throws(() => advertIntFromWire(2, 256), internal);
    assert.throws(() => advertIntFromWire(3, 4096), internal);
  });
});
