/**
 * MISC_CHECK with real commands (sh scripts, no shell added by xlb): exit
 * codes with and without `dynamic`, death by a signal, spawn failures, the
 * timeout killing the whole process group (checked in /proc afterwards), the
 * `user` switch, and close().
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { MiscCheckSpec } from '../../../../src/health/spec.js';
import { createMiscProbe, miscExitOutcome, resolveRunAs } from '../../../../src/health/probes/misc.js';
import type { ProbeResult } from '../../../../src/health/probes/types.js';
import { TEST_TIMING } from '../../../support/check-spec.js';

const spec = (command: string[], over: Partial<MiscCheckSpec> = {}): MiscCheckSpec => ({
  type: 'misc',
  ...TEST_TIMING,
  timeoutMs: 2000,
  command,
  dynamic: false,
  ...over,
});
const reason = (r: ProbeResult): string => (r.ok ? 'ok' : r.reason);
const sh = (script: string, over: Partial<MiscCheckSpec> = {}): MiscCheckSpec => spec(['sh', '-c', script], over);
const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

/** Whether a process is gone: no /proc entry, or a zombie waiting for a reaper (it cannot run). */
function dead(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

describe('miscExitOutcome', () => {
  it('maps exit codes as keepalived does', () => {
    assert.deepEqual(miscExitOutcome(0, null, false), { ok: true, detail: 'exit 0' });
    assert.deepEqual(miscExitOutcome(1, null, false), { ok: false, reason: 'exit', detail: 'exit 1' });
    assert.deepEqual(miscExitOutcome(2, null, false), { ok: false, reason: 'exit', detail: 'exit 2' });
    assert.deepEqual(miscExitOutcome(0, null, true), { ok: true, detail: 'exit 0' });
    assert.deepEqual(miscExitOutcome(1, null, true), { ok: false, reason: 'exit', detail: 'exit 1' });
    assert.deepEqual(miscExitOutcome(2, null, true), { ok: true, weight: 0, detail: 'exit 2: weight 0' });
    assert.deepEqual(miscExitOutcome(102, null, true), { ok: true, weight: 100, detail: 'exit 102: weight 100' });
    assert.deepEqual(miscExitOutcome(255, null, true), { ok: true, weight: 253, detail: 'exit 255: weight 253' });
    assert.deepEqual(miscExitOutcome(null, 'SIGSEGV', true), { ok: false, reason: 'killed', detail: 'killed by SIGSEGV' });
  });
});

describe('misc probe', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'xlb-misc-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('exit 0 is up, 1 is down; argv is passed without a shell', async () => {
    assert.equal(reason(await createMiscProbe(spec(['true'])).run()), 'ok');
    const r = await createMiscProbe(spec(['false'])).run();
    assert.deepEqual([reason(r), !r.ok && r.detail], ['exit', 'exit 1']);
    // The argument reaches the command as one word, with its $ and spaces intact.
    assert.equal(reason(await createMiscProbe(spec(['test', 'a $HOME b', '=', 'a $HOME b'])).run()), 'ok');
  });

  it('dynamic: exit 2..255 is up with weight exit - 2; without it, down', async () => {
    const r = await createMiscProbe(sh('exit 12', { dynamic: true })).run();
    assert.deepEqual([r.ok, r.ok && r.weight], [true, 10]);
    assert.equal(reason(await createMiscProbe(sh('exit 12')).run()), 'exit');
    assert.equal(reason(await createMiscProbe(sh('exit 1', { dynamic: true })).run()), 'exit');
    const zero = await createMiscProbe(sh('exit 0', { dynamic: true })).run();
    assert.deepEqual([zero.ok, zero.ok && zero.weight], [true, undefined]);
  });

  it('death by a signal xlb did not send is killed', async () => {
    const r = await createMiscProbe(sh('kill -TERM $$')).run();
    assert.deepEqual([reason(r), !r.ok && r.detail], ['killed', 'killed by SIGTERM']);
  });

  it('a command that cannot be spawned fails as io', async () => {
    const r = await createMiscProbe(spec([join(dir, 'no-such-command')])).run();
    assert.equal(reason(r), 'io');
    assert.match(!r.ok ? r.detail : '', /ENOENT/);
  });

  it('the timeout SIGKILLs the whole process group, grandchildren included', async () => {
    const pids = join(dir, 'pids');
    // sh starts a background sleep (a grandchild of xlb), records both pids, and waits.
    const r = await createMiscProbe(sh(`sleep 30 & echo "$$ $!" > ${pids}; wait`, { timeoutMs: 300 })).run();
    assert.equal(reason(r), 'timeout');
    assert.match(!r.ok ? r.detail : '', /^sh killed after 300 ms$/);
    assert.ok(r.durationMs >= 295 && r.durationMs < 600, String(r.durationMs));
    const [shPid, sleepPid] = readFileSync(pids, 'utf8').trim().split(' ').map(Number) as [number, number];
    assert.ok(dead(shPid), `sh ${shPid} still alive`);
    // The grandchild gets the same SIGKILL; give init a moment to reap it.
    for (let i = 0; i < 50 && !dead(sleepPid); i++) await sleep(10);
    assert.ok(dead(sleepPid), `sleep ${sleepPid} still alive`);
  });

  it('close() kills the command in flight', async () => {
    const pidFile = join(dir, 'close-pid');
    const probe = createMiscProbe(sh(`echo $$ > ${pidFile}; exec sleep 30`, { timeoutMs: 10_000 }));
    const p = probe.run();
    for (let i = 0; i < 100 && !existsSync(pidFile); i++) await sleep(10);
    probe.close?.();
    const r = await p;
    assert.deepEqual([reason(r), !r.ok && r.detail], ['io', 'probe closed']);
    assert.ok(dead(Number(readFileSync(pidFile, 'utf8'))));
    assert.equal(reason(await probe.run()), 'io');
  });

  it('user: runs as that user; the daemon user needs no switch; unknown users fail as io', async (t) => {
    const me = userInfo();
    assert.equal(await resolveRunAs(me.username), undefined);
    assert.equal(await resolveRunAs(String(me.uid)), undefined);
    const unknown = await createMiscProbe(spec(['true'], { user: 'xlb-no-such-user' })).run();
    assert.equal(reason(unknown), 'io');
    assert.match(!unknown.ok ? unknown.detail : '', /unknown user "xlb-no-such-user"/);
    assert.equal(reason(await createMiscProbe(spec(['true'], { user: me.username })).run()), 'ok');
    if (me.uid !== 0) {
      t.skip('switching users needs root');
      return;
    }
    assert.deepEqual(await resolveRunAs('nobody'), { uid: 65534, gid: 65534 });
    assert.equal(reason(await createMiscProbe(sh('test "$(id -u):$(id -g)" = 65534:65534', { user: 'nobody' })).run()), 'ok');
    assert.equal(reason(await createMiscProbe(sh('test "$(id -u):$(id -g)" = 65534:65534', { user: '65534' })).run()), 'ok');
    assert.equal(reason(await createMiscProbe(sh('test "$(id -u)" = 65534')).run()), 'exit');
  });

  it('an empty command is a config error', () => {
    assert.throws(() => createMiscProbe(spec([])), /empty command/);
    assert.throws(() => createMiscProbe(spec([''])), /empty command/);
  });
});
