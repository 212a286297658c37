import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { echoFigures, ownCost, pairSpeed, pairStable, pumpFigures, reflectorShare, runRate, windowRates, type PumpRound } from '../../../bench/pump-model.js';

const close = (a: number, b: number, eps = 1e-9): void => assert.ok(Math.abs(a - b) <= eps * Math.max(1, Math.abs(b)), `${a} != ${b}`);

describe('packet pump arithmetic', () => {
  it('reflectorShare: half the pair round trip, averaged as costs', () => {
    // 5 Mpps with the reflector at both ends: 200 ns a round trip, 100 each
    close(reflectorShare([5e6]), 100);
    // 4 and 5 Mpps: (125 + 100) / 2, not half of 1/4.5 Mpps (111.1)
    close(reflectorShare([4e6, 5e6]), 112.5);
    assert.throws(() => reflectorShare([]), /no reflector-pair rate/);
    assert.throws(() => reflectorShare([5e6, 0]), /reflector pair rate must be a positive/);
    assert.throws(() => reflectorShare([NaN]), /positive/);
  });

  it('ownCost: the round trip less the reflector share; refuses a round trip no longer than the reflector share', () => {
    // 4 Mpps against a 100 ns reflector: 250 - 100
    close(ownCost('xlb', 4e6, 100), 150);
    // a round trip of 100 ns or less leaves nothing beside a 100 ns reflector
    assert.throws(() => ownCost('ceiling', 10e6, 100), /ceiling at 10\.000 Mpps leaves no cost of its own beside the reflector's share of 100\.0 ns/);
    assert.throws(() => ownCost('ceiling', 12e6, 100), /no cost of its own/);
    close(ownCost('ceiling', 9e6, 100), 1e9 / 9e6 - 100);
    assert.throws(() => ownCost('nft', -1, 100), /nft rate must be a positive/);
  });

  it('pumpFigures: rates alone are the inverse costs, ratios are ratios of costs', () => {
    // h = 80 ns; ceiling 1/5.5M - 80 = 101.8 ns; xlb 1/5M - 80 = 120 ns; nft 1/0.7M - 80 = 1348.6 ns
    const r: PumpRound = { pair: [6.25e6, 6.25e6], ceiling: 5.5e6, ceilingRedirect: 5.2e6, xlb: 5e6, nft: 0.7e6 };
    const f = pumpFigures(r);
    close(f.reflectorNs, 80);
    close(f.ceilingNs, 1e9 / 5.5e6 - 80);
    close(f.xlbNs, 120);
    close(f.nftNs, 1e9 / 0.7e6 - 80);
    close(f.reflector, 12.5e6);
    close(f.xlb, 1e9 / 120);
    close(f.ceiling, 1e9 / f.ceilingNs);
    close(f.ceilingRedirectNs, 1e9 / 5.2e6 - 80);
    close(f.ceilingRedirect, 1e9 / f.ceilingRedirectNs);
    close(f.ceilingRedirectNftRatio, f.ceilingRedirect / f.nft);
    close(f.pumpCeilingRedirectNftRatio, 5.2 / 0.7);
    close(f.nft, 1e9 / f.nftNs);
    close(f.xlbRatio, f.xlb / f.ceiling);
    close(f.nftRatio, f.xlb / f.nft);
    close(f.ceilingNftRatio, f.ceiling / f.nft);
    // removing the reflector's share widens the gaps: the measured rates are closer
    assert.ok(f.xlbRatio < f.pumpXlbRatio && f.ceilingNftRatio > f.pumpCeilingNftRatio);
    close(f.pumpXlbRatio, 5 / 5.5);
    close(f.pumpNftRatio, 5 / 0.7);
    close(f.pumpCeilingNftRatio, 5.5 / 0.7);
  });

  it('pumpFigures: a program the reflector share leaves no cost throws', () => {
    assert.throws(() => pumpFigures({ pair: [5e6, 5e6], ceiling: 4e6, ceilingRedirect: 11e6, xlb: 4e6, nft: 1e6 }), /redirect ceiling at 11\.000 Mpps leaves no cost/);
    // h = 100 ns: a ceiling at 10.5 Mpps (95 ns a round trip) is noise
    assert.throws(() => pumpFigures({ pair: [5e6, 5e6], ceiling: 10.5e6, ceilingRedirect: 4e6, xlb: 4e6, nft: 1e6 }), /ceiling at 10\.500 Mpps leaves no cost/);
  });

  it('pairStable and pairSpeed: the round agrees with itself within the share', () => {
    const r = (a: number, b: number): PumpRound => ({ pair: [a, b], ceiling: 1, ceilingRedirect: 1, xlb: 1, nft: 1 });
    assert.equal(pairStable(r(6e6, 5.5e6), 0.1), true);
    assert.equal(pairStable(r(6e6, 5.3e6), 0.1), false);
    assert.equal(pairStable(r(5.3e6, 6e6), 0.1), false);
    close(pairSpeed(r(6e6, 5e6)), 5.5e6);
  });

  it('windowRates and runRate: rates between samples, the fastest window counts', () => {
    const ms = (n: number): bigint => BigInt(n) * 1_000_000n;
    // 1,000,000 frames in 200 ms, then 1,100,000 (the fastest), then 600,000 (disturbed)
    const samples = [
      { frames: 5_000n, ns: ms(1000) },
      { frames: 1_005_000n, ns: ms(1200) },
      { frames: 2_105_000n, ns: ms(1400) },
      { frames: 2_705_000n, ns: ms(1600) },
    ];
    const r = windowRates(samples);
    assert.equal(r.length, 3);
    close(r[0]!, 5e6);
    close(r[1]!, 5.5e6);
    close(r[2]!, 3e6);
    close(runRate(samples), 5.5e6);
    assert.throws(() => windowRates(samples.slice(0, 1)), /1 counter sample\(s\), 2 at least/);
    assert.throws(() => windowRates([samples[1]!, samples[0]!]), /out of order at 1/);
    assert.throws(() => windowRates([samples[0]!, { frames: 0n, ns: ms(1100) }]), /out of order/);
  });

  it('echoFigures: the echo and ceiling rates alone, and their ratio measured and alone', () => {
    // h = 80 ns; ceiling 1/5.5M - 80 = 101.8 ns; echo 1/5M - 80 = 120 ns
    const f = echoFigures({ pair: [6.25e6, 6.25e6], ceiling: 5.5e6, echo: 5e6 });
    close(f.echo, 1e9 / 120);
    close(f.ceiling, 1e9 / (1e9 / 5.5e6 - 80));
    close(f.pumpRatio, 5e6 / 5.5e6);
    close(f.aloneRatio, (1e9 / 5.5e6 - 80) / 120);
    // an echo round trip no longer than the reflector share is noise
    assert.throws(() => echoFigures({ pair: [6.25e6, 6.25e6], ceiling: 5.5e6, echo: 12.5e6 }), /echo at 12\.500 Mpps leaves no cost/);
  });
});
