/** editDistance / didYouMean / unknownKeyMessage. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { didYouMean, editDistance, unknownKeyMessage } from '../../../src/config/did-you-mean.js';

describe('editDistance', () => {
  for (const [a, b, d] of [
    ['', '', 0],
    ['', 'abc', 3],
    ['abc', '', 3],
    ['backend', 'backends', 1],
    ['wieght', 'weight', 1], // transposition counts 1
    ['kitten', 'sitting', 3],
    ['ca', 'abc', 3], // optimal string alignment, not unrestricted Damerau (2)
    ['mode', 'mode', 0],
  ] as const) {
    it(`${JSON.stringify(a)} -> ${JSON.stringify(b)} = ${d}`, () => {
      assert.equal(editDistance(a, b), d);
      assert.equal(editDistance(b, a), d);
    });
  }
});

describe('didYouMean', () => {
  const keys = ['name', 'address', 'port', 'protocol', 'mode', 'persistence', 'backends'];
  it('one edit away', () => assert.equal(didYouMean('backend', keys), 'backends'));
  it('two edits away', () => assert.equal(didYouMean('adress', keys), 'address'));
  it('transposition', () => assert.equal(didYouMean('prot', keys), 'port'));
  it('three edits away: nothing', () => assert.equal(didYouMean('xyzmode', keys), undefined));
  it('case-insensitive', () => assert.equal(didYouMean('BACKENDS', keys), 'backends'));
  it('underscore- and case-insensitive beats distance', () => {
    assert.equal(didYouMean('xdpMode', ['name', 'xdp_mode']), 'xdp_mode');
    assert.equal(didYouMean('sourceentropy', ['source4', 'source6', 'source_entropy']), 'source_entropy');
    assert.equal(didYouMean('max-vips', ['max_vips', 'max_nat']), 'max_vips');
  });
  it('closest wins, ties go to the earlier candidate', () => {
    assert.equal(didYouMean('source', ['source4', 'source6']), 'source4');
    assert.equal(didYouMean('max_conn', ['max_conns', 'max_conns6']), 'max_conns');
  });
  it('no suggestion for a word shorter than the distance', () => {
    assert.equal(didYouMean('x', ['ab']), undefined);
    assert.equal(didYouMean('po', ['port']), undefined);
  });
  it('no candidates, no suggestion', () => assert.equal(didYouMean('zzz', []), undefined));
});

describe('unknownKeyMessage', () => {
  it('with a suggestion', () => {
    assert.equal(unknownKeyMessage('backend', ['address', 'backends']), 'unknown key "backend" (did you mean "backends"?)');
  });
  it('without one, lists what is allowed', () => {
    assert.equal(unknownKeyMessage('colour', ['level', 'format']), 'unknown key "colour" (allowed: level, format)');
  });
});
