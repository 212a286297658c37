/**
 * Script security with real files: the ownership and mode rules on the
 * command, its directories, symbolic links and #! interpreter; PATH lookup;
 * users (with a fake NSS lookup, and nobody through getent); a daemon that
 * is not root. The files live in a private directory under /run (root's,
 * 0755: /tmp itself is world-writable and would refuse everything), so the
 * cases that build them need root (chown); they are skipped otherwise.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  canSwitchUsers,
  checkExecutablePath,
  resolveExecutable,
  resolveUser,
  ScriptPathError,
  secureCommands,
  unsafeReason,
  type CommandSite,
  type NssLookup,
} from '../../../src/security/script-security.js';
import { spawnArgs } from '../../../src/security/command.js';
import { rootTestFor } from '../../support/root-tier.js';

const rootTest = rootTestFor('needs root (chown, files under /run)');
const NOBODY = 65534;
const ROOT_ONLY = new Set([0]);

/** A site for `argv`, annotating a fresh object. */
function site(argv: string[], user?: string): CommandSite & { resolved: { path?: string; runAs?: { uid: number; gid: number } } } {
  const s: CommandSite = { argv, at: { file: 'x.yaml', line: 3, col: 7 }, key: 'k', resolved: {} };
  if (user !== undefined) s.user = user;
  return s;
}

/** A fake NSS: nobody (65534:65534), web (1000:1000), group staff (50). */
const fakeNss: NssLookup = async (db, key) => {
  if (db === 'passwd') return { nobody: ['nobody', 'x', '65534', '65534'], '65534': ['nobody', 'x', '65534', '65534'], web: ['web', 'x', '1000', '1000'] }[key];
  return { staff: ['staff', 'x', '50', ''], '50': ['staff', 'x', '50', ''] }[key];
};

/** The message of the ScriptPathError `fn` throws. */
function refusal(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ScriptPathError, String(err));
    return err.message;
  }
  assert.fail('not refused');
}

describe('unsafeReason', () => {
  it('refuses another owner, group write and other write, and says which', () => {
    assert.equal(unsafeReason({ uid: 0, gid: 0, mode: 0o100755 }, ROOT_ONLY), undefined);
    assert.equal(unsafeReason({ uid: 0, gid: 0, mode: 0o100775 }, ROOT_ONLY), 'writable by group 0 (mode 0775)');
    assert.equal(unsafeReason({ uid: 0, gid: 0, mode: 0o41757 }, ROOT_ONLY), 'writable by others (mode 1757)');
    assert.equal(unsafeReason({ uid: 0, gid: 0, mode: 0o41777 }, ROOT_ONLY), 'writable by group 0, writable by others (mode 1777)');
    assert.equal(unsafeReason({ uid: 1000, gid: 50, mode: 0o100777 }, ROOT_ONLY), 'owned by uid 1000, writable by group 50, writable by others (mode 0777)');
    // a daemon that is not root trusts its own files
    assert.equal(unsafeReason({ uid: 1000, gid: 1000, mode: 0o100755 }, new Set([0, 1000])), undefined);
  });
});

describe('resolveExecutable', () => {
  it('takes an absolute path as it is, looks a bare name up in PATH, refuses relative paths', () => {
    assert.equal(resolveExecutable('/opt/x/check', '/usr/bin'), '/opt/x/check');
    assert.equal(resolveExecutable('sh', '/nonexistent:/usr/bin'), '/usr/bin/sh');
    assert.match(refusal(() => resolveExecutable('./check', '/usr/bin')), /^\.\/check: a relative path/);
    assert.match(refusal(() => resolveExecutable('bin/check', '/usr/bin')), /a relative path/);
    assert.match(refusal(() => resolveExecutable('xlb-no-such-command', '/usr/bin:/bin')), /^xlb-no-such-command: not found in PATH \(\/usr\/bin:\/bin\)$/);
  });

  it('skips empty and relative PATH entries (they would search the working directory)', () => {
    assert.match(refusal(() => resolveExecutable('sh', ':.:bin')), /not found in PATH \(\)/);
  });
});

describe('resolveUser', () => {
  it('a name or uid, with an optional group; unknown users and groups are errors', async () => {
    assert.deepEqual(await resolveUser('nobody', fakeNss), { uid: NOBODY, gid: NOBODY });
    assert.deepEqual(await resolveUser('65534', fakeNss), { uid: NOBODY, gid: NOBODY });
    assert.deepEqual(await resolveUser('web:staff', fakeNss), { uid: 1000, gid: 50 });
    assert.deepEqual(await resolveUser('web:50', fakeNss), { uid: 1000, gid: 50 });
    await assert.rejects(resolveUser('xlb-nope', fakeNss), /unknown user "xlb-nope"/);
    await assert.rejects(resolveUser('web:wheel', fakeNss), /unknown group "wheel"/);
  });

  it('through getent (NSS)', async () => {
    assert.deepEqual(await resolveUser('nobody'), { uid: NOBODY, gid: NOBODY });
    await assert.rejects(resolveUser('xlb-no-such-user-7'), /unknown user/);
  });
});

describe('spawnArgs', () => {
  it('execs the resolved path with argv[0] as written, as the resolved ids', () => {
    assert.deepEqual(spawnArgs({ argv: ['check', '-v'], path: '/usr/local/bin/check', runAs: { uid: 1, gid: 2 } }), {
      file: '/usr/local/bin/check',
      args: ['-v'],
      options: { argv0: 'check', uid: 1, gid: 2 },
    });
    assert.deepEqual(spawnArgs({ argv: ['/bin/true'] }), { file: '/bin/true', args: [], options: { argv0: '/bin/true' } });
  });
});

describe('the path check on real files', () => {
  let base = '';
  /** A root-owned 0755 executable script at `rel` (directories made 0755). */
  const script = (rel: string, body = '#!/bin/sh\nexit 0\n', mode = 0o755): string => {
    const p = join(base, rel);
    mkdirSync(join(p, '..'), { recursive: true, mode: 0o755 });
    writeFileSync(p, body);
    chmodSync(p, mode);
    return p;
  };
  before(() => {
    if (process.getuid?.() !== 0) return;
    base = mkdtempSync('/run/xlb-sec-');
    chmodSync(base, 0o755);
  });
  after(() => {
    if (base) rmSync(base, { recursive: true, force: true });
  });

  rootTest('a root-owned 0755 file in root-owned 0755 directories is accepted', () => {
    checkExecutablePath(script('ok/check'), ROOT_ONLY);
    checkExecutablePath('/usr/bin/sh', ROOT_ONLY); // a symbolic link to dash
  });

  rootTest('the file writable by group, by others, or owned by another user is refused', () => {
    assert.equal(refusal(() => checkExecutablePath(script('f/g', undefined, 0o775), ROOT_ONLY)), `${base}/f/g: writable by group 0 (mode 0775)`);
    assert.equal(refusal(() => checkExecutablePath(script('f/o', undefined, 0o757), ROOT_ONLY)), `${base}/f/o: writable by others (mode 0757)`);
    const owned = script('f/u');
    chownSync(owned, NOBODY, 0);
    assert.equal(refusal(() => checkExecutablePath(owned, ROOT_ONLY)), `${owned}: owned by uid ${NOBODY} (mode 0755)`);
  });

  rootTest('a directory on the path writable by group, by others, or owned by another user is refused', () => {
    const g = script('dg/sub/check');
    chmodSync(join(base, 'dg'), 0o775);
    assert.equal(refusal(() => checkExecutablePath(g, ROOT_ONLY)), `${base}/dg: writable by group 0 (mode 0775)`);
    const o = script('do/check');
    chmodSync(join(base, 'do'), 0o1757); // sticky, as /tmp: still refused
    assert.equal(refusal(() => checkExecutablePath(o, ROOT_ONLY)), `${base}/do: writable by others (mode 1757)`);
    const u = script('du/check');
    chownSync(join(base, 'du'), NOBODY, NOBODY);
    assert.equal(refusal(() => checkExecutablePath(u, ROOT_ONLY)), `${base}/du: owned by uid ${NOBODY} (mode 0755)`);
  });

  rootTest('symbolic links: the target in a writable directory is refused, and so is a link kept in one', () => {
    const target = script('wd/check');
    chmodSync(join(base, 'wd'), 0o777);
    mkdirSync(join(base, 'links'), { mode: 0o755 });
    symlinkSync(target, join(base, 'links/check'));
    assert.equal(refusal(() => checkExecutablePath(join(base, 'links/check'), ROOT_ONLY)), `${base}/wd: writable by group 0, writable by others (mode 0777)`);
    // a relative link to a safe target, kept in a writable directory
    const safe = script('safe/check');
    mkdirSync(join(base, 'wl'), { mode: 0o777 });
    chmodSync(join(base, 'wl'), 0o777);
    symlinkSync('../safe/check', join(base, 'wl/check'));
    assert.equal(refusal(() => checkExecutablePath(join(base, 'wl/check'), ROOT_ONLY)), `${base}/wl: writable by group 0, writable by others (mode 0777)`);
    // and a link to the safe target from a safe directory passes
    symlinkSync(safe, join(base, 'links/safe'));
    checkExecutablePath(join(base, 'links/safe'), ROOT_ONLY);
  });

  rootTest('a #! interpreter anybody can change is refused', () => {
    const interp = script('wi/interp');
    chmodSync(join(base, 'wi'), 0o777);
    const s = script('si/check', `#!${interp} -x\n`);
    assert.equal(refusal(() => checkExecutablePath(s, ROOT_ONLY)), `${base}/wi: writable by group 0, writable by others (mode 0777) (the #! interpreter of ${s})`);
    // #!/usr/bin/env NAME: NAME as env finds it in PATH
    const e = script('se/check', '#!/usr/bin/env interp\n');
    assert.equal(
      refusal(() => checkExecutablePath(e, ROOT_ONLY, `/nonexistent:${base}/wi`)),
      `${base}/wi: writable by group 0, writable by others (mode 0777) (the #! interpreter of ${e})`,
    );
    checkExecutablePath(script('se/ok', '#!/usr/bin/env sh\n'), ROOT_ONLY, '/usr/bin');
    assert.match(refusal(() => checkExecutablePath(e, ROOT_ONLY, '/usr/bin')), /^interp: not found in PATH \(\/usr\/bin\) \(the #! interpreter of /);
  });

  rootTest('a command under /tmp is refused for /tmp itself', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xlb-sec-'));
    try {
      writeFileSync(join(dir, 'check'), '#!/bin/sh\n');
      chmodSync(join(dir, 'check'), 0o755);
      assert.match(refusal(() => checkExecutablePath(join(dir, 'check'), ROOT_ONLY)), /^\/tmp: writable by group 0, writable by others \(mode 1777\)$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  rootTest('missing files, and directories that are not, are refused', () => {
    assert.equal(refusal(() => checkExecutablePath(join(base, 'nope/check'), ROOT_ONLY)), `${base}/nope: not found`);
    const f = script('nd/file');
    assert.equal(refusal(() => checkExecutablePath(join(f, 'x'), ROOT_ONLY)), `${f}: not a directory`);
    assert.equal(refusal(() => checkExecutablePath(base, ROOT_ONLY)), `${base}: not a regular file`);
  });

  rootTest('secureCommands: resolves path and ids, refuses with the site, allow-unsafe skips only the mode rules', async () => {
    const good = script('sc/good');
    const bad = script('sc/bad', undefined, 0o777);
    const a = site([good, 'x']);
    const b = site([bad]);
    const c = site(['sh', '-c', 'true'], 'nobody');
    const d = site(['xlb-no-such-command']);
    const e = site([good], 'xlb-nope');
    const refused = await secureCommands([a, b, c, d, e], { envPath: '/usr/bin', lookup: fakeNss, euid: 0 });
    assert.deepEqual(
      refused.map((r) => [r.site, r.message]),
      [
        [b, `command refused: ${bad}: writable by group 0, writable by others (mode 0777)`],
        [d, 'command refused: xlb-no-such-command: not found in PATH (/usr/bin)'],
        [e, 'unknown user "xlb-nope"'],
      ],
    );
    assert.deepEqual(a.resolved, { path: good });
    assert.deepEqual(c.resolved, { path: '/usr/bin/sh', runAs: { uid: NOBODY, gid: NOBODY } });

    const b2 = site([bad]);
    assert.deepEqual(await secureCommands([b2], { enforce: false }), []);
    assert.deepEqual(b2.resolved, { path: bad });
  });

  rootTest('secureCommands: script_user applies to commands without a user; the daemon\'s own user needs no switch', async () => {
    const good = script('su/good');
    const a = site([good]);
    const b = site([good], 'root');
    assert.deepEqual(await secureCommands([a, b], { defaultUser: 'nobody' }), []);
    assert.deepEqual(a.resolved.runAs, { uid: NOBODY, gid: NOBODY });
    assert.equal(b.resolved.runAs, undefined);
    const c = site([good]);
    assert.deepEqual((await secureCommands([c], { defaultUser: 'xlb-nope', lookup: fakeNss })).map((r) => r.message), ['unknown user "xlb-nope" (script_user)']);
  });
});

describe('a daemon that is not root', () => {
  it('cannot switch users: asking for another is an error; its own files are trusted', async () => {
    const s = site(['/usr/bin/true'], 'nobody');
    const refused = await secureCommands([s], { euid: 1000, lookup: fakeNss });
    assert.deepEqual(
      refused.map((r) => r.message),
      ['cannot run as "nobody" (uid 65534, gid 65534): the daemon runs as uid 1000; switching users needs root, or CAP_SETUID and CAP_SETGID'],
    );
    assert.deepEqual(await secureCommands([site(['/usr/bin/true'])], { euid: 1000 }), []);
    // with both capabilities it can (keepalived's non-root unit)
    const c = site(['/usr/bin/true'], 'nobody');
    assert.deepEqual(await secureCommands([c], { euid: 1000, canSwitch: true, lookup: fakeNss }), []);
    assert.deepEqual(c.resolved.runAs, { uid: NOBODY, gid: NOBODY });
  });

  it('canSwitchUsers: root, or CAP_SETUID and CAP_SETGID both effective', () => {
    assert.equal(canSwitchUsers(0, ''), true);
    assert.equal(canSwitchUsers(1000, 'Name:\tx\nCapEff:\t00000000000000c0\n'), true); // bits 6 and 7
    assert.equal(canSwitchUsers(1000, 'CapEff:\t0000000000000080\n'), false); // CAP_SETUID alone
    assert.equal(canSwitchUsers(1000, 'CapEff:\t0000000000000000\n'), false);
    assert.equal(canSwitchUsers(1000, 'no caps line'), false);
  });
});
