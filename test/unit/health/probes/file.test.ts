/**
 * FILE_CHECK with temp files: the first line's integer times the weight
 * (clamped, negative = down), weight 0 (non-zero = down), reverse, and
 * missing, unreadable or endless files.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FileCheckSpec } from '../../../../src/health/spec.js';
import { createFileProbe, fileValueOutcome, parseFileValue } from '../../../../src/health/probes/file.js';
import type { ProbeResult } from '../../../../src/health/probes/types.js';
import { TEST_TIMING } from '../../../support/check-spec.js';

const spec = (path: string, over: Partial<FileCheckSpec> = {}): FileCheckSpec => ({
  type: 'file',
  ...TEST_TIMING,
  path,
  weight: 0,
  reverse: false,
  ...over,
});
const summary = (r: ProbeResult): [string, number | undefined] => (r.ok ? ['ok', r.weight] : [r.reason, undefined]);

describe('file value rules (pure)', () => {
  it('parseFileValue reads the first line', () => {
    assert.equal(parseFileValue('42\n'), 42);
    assert.equal(parseFileValue('  -7  \r\nignored\n'), -7);
    assert.equal(parseFileValue('+3'), 3);
    assert.match(String(parseFileValue('')), /not an integer/);
    assert.match(String(parseFileValue('4x\n')), /"4x" is not an integer/);
    assert.match(String(parseFileValue('\n5\n')), /not an integer/);
    assert.match(String(parseFileValue('1.5')), /not an integer/);
  });

  it('fileValueOutcome: weight x value clamped to 0..65535, negative = down; weight 0: non-zero = down', () => {
    const o = (v: number, weight: number, reverse = false): [boolean, number | undefined] => {
      const r = fileValueOutcome(v, { weight, reverse });
      return [r.ok, r.ok ? r.weight : undefined];
    };
    assert.deepEqual(o(3, 10), [true, 30]);
    assert.deepEqual(o(0, 10), [true, 0]);
    assert.deepEqual(o(1_000_000, 10), [true, 65535]);
    assert.deepEqual(o(-1, 10), [false, undefined]);
    assert.deepEqual(o(2, -5), [false, undefined]);
    assert.deepEqual(o(-2, -5), [true, 10]);
    assert.deepEqual(o(2, -5, true), [true, 10]);
    assert.deepEqual(o(0, 0), [true, undefined]);
    assert.deepEqual(o(1, 0), [false, undefined]);
    assert.deepEqual(o(-1, 0, true), [false, undefined]);
  });
});

describe('file probe', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'xlb-file-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the file on every attempt: writing N changes the weight to N x weight', async () => {
    const path = join(dir, 'weight');
    const probe = createFileProbe(spec(path, { weight: 10 }));
    writeFileSync(path, '5\n');
    assert.deepEqual(summary(await probe.run()), ['ok', 50]);
    writeFileSync(path, '7\n');
    const r = await probe.run();
    assert.deepEqual(summary(r), ['ok', 70]);
    assert.equal(r.ok && r.detail, 'value 7 x weight 10 = 70');
    writeFileSync(path, '-1\n');
    assert.deepEqual(summary(await probe.run()), ['value', undefined]);
  });

  it('weight 0: zero is up without a weight, anything else is down; reverse negates', async () => {
    const path = join(dir, 'flag');
    writeFileSync(path, '0\n');
    assert.deepEqual(summary(await createFileProbe(spec(path)).run()), ['ok', undefined]);
    writeFileSync(path, '1\n');
    const r = await createFileProbe(spec(path)).run();
    assert.deepEqual([summary(r), !r.ok && r.detail], [['value', undefined], 'value 1']);
    writeFileSync(path, '-3\n');
    assert.deepEqual(summary(await createFileProbe(spec(path, { weight: 2, reverse: true })).run()), ['ok', 6]);
  });

  it('a missing, unparsable or endless file fails as io', async () => {
    const missing = await createFileProbe(spec(join(dir, 'nope'))).run();
    assert.equal(missing.ok ? 'ok' : missing.reason, 'io');
    assert.match(!missing.ok ? missing.detail : '', /ENOENT/);
    const junk = join(dir, 'junk');
    writeFileSync(junk, 'drain\n');
    assert.deepEqual(summary(await createFileProbe(spec(junk)).run()), ['io', undefined]);
    // Only the start is read: /dev/zero is a line of NULs, not a hang.
    assert.deepEqual(summary(await createFileProbe(spec('/dev/zero')).run()), ['io', undefined]);
    // A directory cannot be read.
    assert.deepEqual(summary(await createFileProbe(spec(dir)).run()), ['io', undefined]);
  });
});
