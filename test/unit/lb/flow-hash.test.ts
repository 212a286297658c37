/**
 * The TS flow hash mirrors bpf/lib/hash.h. The data-path fixtures check the
 * two agree on real packets (flow labels, Maglev choices); these vectors pin
 * the function so that a change to it is a conscious one.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { flowHash } from '../../../src/lb/flow-hash.js';
import { parseAddr } from '../../../src/net/addr.js';

const flow = (src: string, dst: string, sport: number, dport: number, proto: number) => ({
  family: parseAddr(src).family,
  src: parseAddr(src).bytes,
  dst: parseAddr(dst).bytes,
  sport,
  dport,
  proto,
});

describe('flowHash', () => {
  it('is a pure function of the tuple', () => {
    const a = flowHash(flow('10.0.0.2', '10.9.0.1', 40000, 80, 6));
    assert.equal(a, flowHash(flow('10.0.0.2', '10.9.0.1', 40000, 80, 6)));
    assert.ok(a >= 0 && a <= 0xffffffff);
  });

  it('depends on every field of the tuple, but only the source when srcOnly', () => {
    const base = flow('10.0.0.2', '10.9.0.1', 40000, 80, 6);
    const h = flowHash(base);
    for (const v of [{ sport: 40001 }, { dport: 81 }, { proto: 17 }, { src: parseAddr('10.0.0.3').bytes }, { dst: parseAddr('10.9.0.2').bytes }]) {
      assert.notEqual(flowHash({ ...base, ...v }), h, JSON.stringify(v));
    }
    assert.equal(flowHash({ ...base, sport: 1, dport: 2 }, true), flowHash(base, true));
    assert.notEqual(flowHash(base, true), h);
  });

  it('spreads sequential ports evenly over a small ring', () => {
    const m = 251;
    const counts = new Array<number>(m).fill(0);
    for (let p = 0; p < 251 * 200; p++) counts[flowHash(flow('10.0.0.2', '10.9.0.1', p & 0xffff, 80, 6)) % m]!++;
    assert.ok(Math.max(...counts) < 300 && Math.min(...counts) > 110, `${Math.min(...counts)}..${Math.max(...counts)}`);
  });

  it('IPv6 uses all 16 bytes of each address', () => {
    const a = flowHash(flow('fd00::2', 'fd09::1', 1, 2, 17));
    assert.notEqual(a, flowHash(flow('fd00::1:2', 'fd09::1', 1, 2, 17)));
  });
});
