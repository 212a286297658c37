/**
 * The command line: arguments reach the actions, bad arguments are usage
 * errors (exit 2), error classes map to the documented exit codes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CommanderError } from 'commander';
import { buildProgram, EXIT, exitCodeOf, type Actions } from '../../../src/cli/program.js';
import { XlbError } from '../../../src/errors.js';
import { SERVICE_MODES } from '../../../src/config/model.js';
import { CHECK_TYPES } from '../../../src/health/spec.js';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

function fake(): { actions: Actions; calls: unknown[][] } {
  const calls: unknown[][] = [];
  const rec =
    (name: string) =>
    async (...args: unknown[]): Promise<number> => {
      calls.push([name, ...args]);
      return 0;
    };
  return { actions: { load: rec('load'), validate: rec('validate'), reload: rec('reload'), status: rec('status'), unload: rec('unload'), lab: rec('lab') }, calls };
}

async function run(argv: string[]): Promise<{ calls: unknown[][]; out: string; err: string; thrown?: CommanderError }> {
  const { actions, calls } = fake();
  let out = '';
  let err = '';
  const pending: Promise<number>[] = [];
  const program = buildProgram(actions, (p) => pending.push(p));
  program.exitOverride().configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) });
  for (const c of program.commands) c.exitOverride().configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) });
  try {
    await program.parseAsync(['node', 'xlb', ...argv]);
  } catch (e) {
    return { calls, out, err, thrown: e as CommanderError };
  }
  await Promise.all(pending);
  return { calls, out, err };
}

describe('xlb command line', () => {
  it('load and validate take config paths', async () => {
    assert.deepEqual((await run(['load', 'lab.yaml'])).calls, [['load', 'lab.yaml']]);
    assert.deepEqual((await run(['validate', 'a.yaml', 'b.yaml'])).calls, [['validate', ['a.yaml', 'b.yaml']]]);
  });

  it('reload, status and unload take an instance or a config', async () => {
    const r = await run(['reload', '-i', 'lab', '--file', 'new.yaml']);
    assert.deepEqual(r.calls, [['reload', { instance: 'lab', file: 'new.yaml' }]]);
    const s = await run(['status', '--config', 'lab.yaml', '--json']);
    assert.deepEqual(s.calls, [['status', { config: 'lab.yaml', json: true }]]);
    assert.deepEqual((await run(['unload', '-i', 'edge-1'])).calls, [['unload', { instance: 'edge-1' }]]);
  });

  it('lab up and down take a prefix', async () => {
    assert.deepEqual((await run(['lab', 'up'])).calls, [['lab', 'up', { prefix: 'xlab' }]]);
    assert.deepEqual((await run(['lab', 'down', '-p', 'mylab'])).calls, [['lab', 'down', { prefix: 'mylab' }]]);
    assert.equal(exitCodeOf((await run(['lab', 'up', '-p', 'Bad!'])).thrown), EXIT.USAGE);
  });

  it('bad arguments are usage errors and reach no action', async () => {
    for (const argv of [['load'], ['frobnicate'], ['status', '-i', 'Bad Name'], ['reload', '--nope']]) {
      const r = await run(argv);
      assert.ok(r.thrown instanceof CommanderError, argv.join(' '));
      assert.equal(exitCodeOf(r.thrown), EXIT.USAGE, argv.join(' '));
      assert.deepEqual(r.calls, []);
    }
    const r = await run(['status', '-i', 'Bad Name']);
    assert.match(r.err, /expected an instance name/);
  });

  it('--help exits 0 and documents every command', async () => {
    const r = await run(['--help']);
    assert.equal(r.thrown?.exitCode, 0);
    for (const c of ['load', 'validate', 'reload', 'status', 'unload']) assert.match(r.out, new RegExp(`\\b${c}\\b`));
    assert.equal(exitCodeOf(r.thrown), EXIT.OK);
  });

  it('--help names every part of xlb by its config section, every mode and check type (issue 14, item 5)', async () => {
    const r = await run(['--help']);
    for (const part of ['services', 'health', 'vrrp', 'metrics']) assert.match(r.out, new RegExp(`^  ${part} `, 'm'), part);
    for (const word of [...SERVICE_MODES, ...CHECK_TYPES, 'Maglev', 'VRRP', 'keepalived', 'quorum', 'reload']) assert.ok(r.out.includes(word), word);
    const status = await run(['status', '--help']);
    assert.match(status.out, /VRRP/);
  });

  it('--version is the package version', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await run(['--version']);
    assert.equal(r.out.trim(), pkg.version);
  });

  it('errors map to the documented exit codes', () => {
    assert.equal(exitCodeOf(new XlbError('XLB_ERR_DAEMON_NOT_RUNNING', ['/run/xlb/x.sock', 'ENOENT'])), EXIT.NOT_RUNNING);
    assert.equal(exitCodeOf(new XlbError('XLB_ERR_DAEMON_APPLY', 'no')), EXIT.FAILED);
    assert.equal(exitCodeOf(new XlbError('XLB_ERR_ABI_MISMATCH', 'x')), EXIT.SYSTEM);
    assert.equal(exitCodeOf(Object.assign(new Error('x'), { code: 'EPERM' })), EXIT.SYSTEM);
    assert.equal(exitCodeOf(new Error('x')), EXIT.FAILED);
  });
});
