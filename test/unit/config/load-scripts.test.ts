/**
 * Commands in the config (script security): `script_user`,
 * `allow_unsafe_scripts`, per-command `user` (the `{ command, user }` form),
 * the errors of loadConfigFile for refused commands and unknown users (each
 * at its file:line:col, once even when several backends share the command),
 * and, with `script_user: nobody`, a misc check, a notify command and a VRRP
 * script that really run as nobody (they write `id -u` into a directory only
 * nobody can write). Files live in a private directory under /run; the
 * cases that need chown, /run or a user switch are skipped without root.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfigFile, parseConfig } from '../../../src/config/load.js';
import type { XlbConfig } from '../../../src/config/model.js';
import type { MiscCheckSpec } from '../../../src/health/spec.js';
import { createMiscProbe } from '../../../src/health/probes/misc.js';
import { HealthRunner } from '../../../src/health/runner.js';
import { spawnDetached } from '../../../src/spawn-detached.js';
import { vrrpSpec } from '../../../src/vrrp/from-config.js';
import { createVrrpIo } from '../../../src/vrrp/io.js';
import { rootTestFor } from '../../support/root-tier.js';
import { yaml } from './yaml-text.js';

const rootTest = rootTestFor('needs root (chown, files under /run, switching users)');
const NOBODY = 65534;
const HEAD = 'interfaces: [{ name: eth0 }]\n';

/** The messages of a config that must fail. */
async function errors(file: string): Promise<string[]> {
  const r = await loadConfigFile(file);
  assert.equal(r.ok, false, 'the config loaded');
  return r.ok ? [] : r.errors.map((e) => e.message);
}

/** A config that must load. */
async function loads(file: string): Promise<XlbConfig> {
  const r = await loadConfigFile(file);
  if (!r.ok) assert.fail(r.errors.map((e) => e.message).join('\n'));
  return r.config;
}

/** Waits (bounded) for a file to hold a line. */
async function readWhenWritten(path: string, ms = 5000): Promise<string> {
  for (let waited = 0; waited < ms; waited += 20) {
    if (existsSync(path)) {
      const text = readFileSync(path, 'utf8');
      if (text.endsWith('\n')) return text.trim();
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`${path} not written within ${ms} ms`);
}

describe('config: script_user and allow_unsafe_scripts (parse)', () => {
  it('are read into config.scripts; absent, the model has no scripts key', () => {
    const r = parseConfig(HEAD + 'script_user: nobody:nogroup\nallow_unsafe_scripts: true\nservices: []\n', 'x.yaml');
    assert.ok(r.ok);
    assert.deepEqual(r.config.scripts, { user: 'nobody:nogroup', allowUnsafe: true });
    const n = parseConfig(HEAD + 'script_user: 65534\nservices: []\n', 'x.yaml');
    assert.ok(n.ok);
    assert.deepEqual(n.config.scripts, { user: '65534', allowUnsafe: false });
    const d = parseConfig(HEAD + 'services: []\n', 'x.yaml');
    assert.ok(d.ok);
    assert.equal('scripts' in d.config, false);
  });

  it('bad values are errors at their place', () => {
    const r = parseConfig(HEAD + 'script_user: "web user"\nallow_unsafe_scripts: yes please\nservices: []\n', 'x.yaml');
    assert.ok(!r.ok);
    assert.deepEqual(
      r.errors.map((e) => e.message),
      [
        'x.yaml:2:14: script_user: expected a user name or uid, optionally with ":group" (nobody, 65534, nobody:nogroup), got "web user"',
        'x.yaml:3:23: allow_unsafe_scripts: expected true or false, got "yes please"',
      ],
    );
  });

  it('{ command, user } is a command with its own user; its keys are checked', () => {
    const r = parseConfig(
      yaml`
        interfaces: [{ name: eth0 }]
        services:
          - address: 10.9.0.1
            port: 80
            mode: dr
            health:
              quorum_up: { command: [/usr/bin/logger, up], user: "nobody:nogroup" }
              quorum_down: { command: /usr/bin/logger down, user: "bad user" }
            backends: [{ address: 10.0.0.10, health: { notify_up: { user: nobody } } }]
      `,
      'x.yaml',
    );
    assert.ok(!r.ok);
    assert.deepEqual(
      r.errors.map((e) => e.message),
      [
        'x.yaml:8:59: services[0].health.quorum_down.user: expected a user name or uid, optionally with ":group" (nobody, 65534, nobody:nogroup), got "bad user"',
        'x.yaml:9:59: services[0].backends[0].health.notify_up.command: missing required key',
      ],
    );
    const good = parseConfig(
      HEAD + 'services: [{ address: 10.9.0.1, port: 80, mode: dr, health: { quorum_up: { command: [/usr/bin/logger, up], user: "nobody:nogroup" } }, backends: [] }]\n',
      'x.yaml',
    );
    assert.ok(good.ok);
    assert.deepEqual(good.config.services[0]!.health.quorumUp, { argv: ['/usr/bin/logger', 'up'], user: 'nobody:nogroup' });
  });
});

describe('config: commands checked at load', () => {
  let base = '';
  let out = '';
  /** A root-owned script at `rel` with `mode`. */
  const script = (rel: string, mode = 0o755): string => {
    const p = join(base, rel);
    mkdirSync(join(p, '..'), { recursive: true, mode: 0o755 });
    writeFileSync(p, '#!/bin/sh\nexit 0\n');
    chmodSync(p, mode);
    return p;
  };
  /** Writes a config file; its path. */
  const config = (name: string, text: string): string => {
    const p = join(base, name);
    writeFileSync(p, text);
    return p;
  };
  before(() => {
    if (process.getuid?.() !== 0) return;
    base = mkdtempSync('/run/xlb-sec-cfg-');
    chmodSync(base, 0o755);
    out = join(base, 'out'); // only nobody can write here
    mkdirSync(out, { mode: 0o700 });
    chownSync(out, NOBODY, NOBODY);
  });
  after(() => {
    if (base) rmSync(base, { recursive: true, force: true });
  });

  rootTest('a refused command is an error at file:line:col with the path and the reason; one error for a command two backends share', async () => {
    const gw = script('gw/check', 0o775);
    const wd = script('wd/notify');
    chmodSync(join(base, 'wd'), 0o777);
    const owned = script('own/quorum');
    chownSync(owned, NOBODY, NOBODY);
    const f = config(
      'refused.yaml',
      yaml`
        interfaces: [{ name: eth0 }]
        services:
          - address: 10.9.0.1
            port: 80
            mode: dr
            health:
              quorum_up: ${owned}
              checks: [{ type: misc, command: [${gw}, --deep] }]
            backends:
              - { address: 10.0.0.10 }
              - { address: 10.0.0.11, health: { notify_down: { command: ${wd}, user: nobody } } }
      `,
    );
    assert.deepEqual(await errors(f), [
      `${f}:7:18: services[0].health.quorum_up: command refused: ${owned}: owned by uid ${NOBODY} (mode 0755)`,
      `${f}:8:39: services[0].health.checks[0].command: command refused: ${gw}: writable by group 0 (mode 0775)`,
      `${f}:11:65: services[0].backends[1].health.notify_down.command: command refused: ${base}/wd: writable by group 0, writable by others (mode 0777)`,
    ]);
  });

  rootTest('VRRP scripts and notify commands are checked too; unknown users are errors', async () => {
    const wd = script('vw/chk');
    chmodSync(join(base, 'vw'), 0o757);
    const f = config(
      'vrrp.yaml',
      yaml`
        interfaces: [{ name: eth0 }]
        services: []
        vrrp:
          scripts:
            - { name: chk, script: ${wd} }
            - { name: chk2, script: /usr/bin/true, user: xlb-no-such-user }
          instances:
            - name: VI_1
              interface: eth0
              virtual_router_id: 51
              virtual_ipaddress: [192.0.2.10/24]
              notify_master: { command: /usr/bin/logger master, user: "nobody:xlb-no-such-group" }
              notify: xlb-no-such-command
      `,
    );
    assert.deepEqual(await errors(f), [
      `${f}:5:28: vrrp.scripts[0].script: command refused: ${base}/vw: writable by others (mode 0757)`,
      `${f}:6:29: vrrp.scripts[1].script: unknown user "xlb-no-such-user"`,
      `${f}:12:33: vrrp.instances[0].notify_master.command: unknown group "xlb-no-such-group"`,
      `${f}:13:15: vrrp.instances[0].notify: command refused: xlb-no-such-command: not found in PATH (${(process.env.PATH ?? '').split(':').filter((d) => d.startsWith('/')).join(':')})`,
    ]);
  });

  rootTest('allow_unsafe_scripts: true loads a command others can write; a missing one is still an error', async () => {
    const ww = script('ww/check', 0o777);
    const f = config('unsafe.yaml', HEAD + `allow_unsafe_scripts: true\nservices:\n  - { address: 10.9.0.1, port: 80, mode: dr, health: { quorum_up: ${ww} }, backends: [] }\n`);
    const c = await loads(f);
    assert.deepEqual(c.services[0]!.health.quorumUp, { argv: [ww], path: ww });
    const g = config('unsafe2.yaml', HEAD + `allow_unsafe_scripts: true\nservices:\n  - { address: 10.9.0.1, port: 80, mode: dr, health: { quorum_up: ${base}/nope }, backends: [] }\n`);
    assert.deepEqual(await errors(g), [`${g}:4:67: services[0].health.quorum_up: command refused: ${base}/nope: not found`]);
  });

  rootTest('script_user: nobody: a misc check, a notify command and a VRRP script run as nobody; a command with user: root does not switch', async () => {
    const idTo = (name: string): string => `[/bin/sh, -c, 'id -u > "$1"', sh, ${join(out, name)}]`;
    const f = config(
      'nobody.yaml',
      yaml`
        interfaces: [{ name: eth0 }]
        script_user: nobody
        services:
          - address: 10.9.0.1
            port: 80
            mode: dr
            backends:
              - address: 10.0.0.10
                health:
                  notify_up: ${idTo('notify')}
                  notify_down: { command: /usr/bin/true, user: root }
                  checks: [{ type: misc, command: ${idTo('misc')} }]
        vrrp:
          scripts: [{ name: chk, script: ${idTo('vrrp')} }]
          instances: [{ name: VI_1, interface: eth0, virtual_router_id: 51, virtual_ipaddress: [192.0.2.10/24], track_scripts: [chk] }]
      `,
    );
    const c = await loads(f);
    const health = c.services[0]!.backends[0]!.health;
    const misc = health.checks[0] as MiscCheckSpec;
    assert.deepEqual([misc.path, misc.runAs], ['/bin/sh', { uid: NOBODY, gid: NOBODY }]);
    assert.deepEqual(health.notifyDown, { argv: ['/usr/bin/true'], user: 'root', path: '/usr/bin/true' });

    // misc: the probe spawns as nobody
    const r = await createMiscProbe(misc).run();
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(await readWhenWritten(join(out, 'misc')), String(NOBODY));

    // notify: the health runner's default spawner, detached
    spawnDetached(health.notifyUp!, {}, (level, obj, msg) => assert.fail(`${level} ${msg} ${JSON.stringify(obj)}`));
    assert.equal(await readWhenWritten(join(out, 'notify')), String(NOBODY));

    // VRRP: the worker's io runs the script of the runner's spec
    const spec = vrrpSpec(c.vrrp!).scripts[0]!;
    assert.deepEqual([spec.path, spec.runAs], ['/bin/sh', { uid: NOBODY, gid: NOBODY }]);
    const io = await createVrrpIo({ log: () => {} });
    try {
      assert.equal(await io.run(spec, 5000), true);
    } finally {
      io.close();
    }
    assert.equal(await readWhenWritten(join(out, 'vrrp')), String(NOBODY));
  });

  rootTest('the health runner hands notify commands their resolved path and ids', async () => {
    const f = config(
      'runner.yaml',
      HEAD +
        'script_user: nobody\nservices:\n  - { address: 10.9.0.1, port: 80, mode: dr, health: { quorum: 2, quorum_down: /usr/bin/true, interval: 100ms, warmup: 0s, checks: [{ type: tcp }] }, backends: [{ address: 10.0.0.10 }, { address: 10.0.0.11 }] }\n',
    );
    const c = await loads(f);
    const seen: unknown[] = [];
    const runner = new HealthRunner({
      log: pino({ level: 'silent' }),
      createProbe: () => ({ run: async () => ({ ok: false, reason: 'refused', detail: 'x', durationMs: 0 }) }),
      runCommand: (cmd) => seen.push(cmd),
    });
    try {
      runner.sync(c);
      for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    } finally {
      runner.stop();
    }
    assert.deepEqual(seen[0], { argv: ['/usr/bin/true'], path: '/usr/bin/true', runAs: { uid: NOBODY, gid: NOBODY } });
  });
});
