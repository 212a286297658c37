/**
 * A reload's config is read and validated in a worker thread
 * (src/daemon/config-load.ts): the same result as loadConfigFile, errors
 * with their file:line:col, and the event loop keeps running while a large
 * file is parsed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile } from '../../../src/config/load.js';
import { loadConfigOffThread } from '../../../src/daemon/config-load.js';

/** A config of `n` services x 10 backends, each backend with an HTTP check. */
function bigYaml(n: number): string {
  const services: string[] = [];
  for (let v = 0; v < n; v++) {
    const backends = Array.from({ length: 10 }, (_, b) => `{ address: 10.200.${v & 255}.${(v >> 8) * 10 + b + 1}, health: { checks: [{ type: http, path: /h }] } }`);
    services.push(`  - { name: vip${v}, address: 10.${100 + (v >> 8)}.${v & 255}.1, port: 80, mode: dr, backends: [${backends.join(', ')}] }`);
  }
  return `instance: cfgload\ninterfaces: [{ name: eth0 }]\nlimits: { max_vips: ${n}, max_backends: ${n * 10 + 1} }\nservices:\n${services.join('\n')}\n`;
}

describe('loadConfigOffThread', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'xlb-cfgload-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the config loadConfigFile gives', async () => {
    const f = join(dir, 'small.yaml');
    writeFileSync(f, bigYaml(3));
    const here = await loadConfigFile(f);
    const there = await loadConfigOffThread(f);
    assert.equal(there.ok, true);
    assert.deepEqual(there, here);
  });

  it('gives the errors with their file:line:col, and a missing file as an error', async () => {
    const f = join(dir, 'bad.yaml');
    writeFileSync(f, 'instance: bad\ninterfaces: [{ name: eth0 }]\nservices:\n  - { address: 10.0.0.1, port: 80, mode: bogus, backends: [{ address: 10.0.0.2 }] }\n');
    const here = await loadConfigFile(f);
    const there = await loadConfigOffThread(f);
    assert.equal(here.ok, false);
    assert.equal(there.ok, false);
    if (here.ok || there.ok) return;
    assert.deepEqual(
      there.errors.map((e) => e.message),
      here.errors.map((e) => e.message),
    );
    assert.match(there.errors[0]!.message, /bad\.yaml:4:/);
    const missing = await loadConfigOffThread(join(dir, 'none.yaml'));
    assert.equal(missing.ok, false);
    if (!missing.ok) assert.match(missing.errors[0]!.message, /ENOENT|no such file/);
  });

  it('the event loop keeps running while a 500-service file is parsed', async () => {
    const f = join(dir, 'big.yaml');
    writeFileSync(f, bigYaml(500));
    let loading = true;
    let turns = 0;
    const other = (): void => {
      if (!loading) return;
      turns++;
      setTimeout(other, 1);
    };
    setTimeout(other, 1); // other work of the daemon: status requests, health timers
    const r = await loadConfigOffThread(f);
    loading = false;
    assert.equal(r.ok, true);
    if (r.ok) assert.equal(r.config.services.length, 500);
    // parsed in one block on this thread, the loop would not turn until it is done
    assert.ok(turns >= 10, `the event loop turned ${turns} times while the config was loaded`);
  });
});
