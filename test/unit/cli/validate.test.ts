/**
 * `xlb validate` as a user runs it: every file in examples/ is valid (exit 0),
 * a broken file exits 1 with file:line:col errors on stderr. Spawns the built
 * CLI; needs no privileges.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');

function xlb(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? Number((err as { code?: unknown }).code ?? 99) : 0;
      done({ code, stdout, stderr });
    });
  });
}

describe('xlb validate', () => {
  it('every example config is valid', async () => {
    const files = readdirSync(join(ROOT, 'examples'))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => join(ROOT, 'examples', f));
    assert.ok(files.length >= 3);
    const r = await xlb(['validate', ...files]);
    assert.equal(r.code, 0, r.stderr);
    for (const f of files) assert.match(r.stdout, new RegExp(`${f.replace(/[.]/g, '\\.')}: ok`));
    // what each runs: a VRRP-only file is not "0 services" alone
    assert.match(r.stdout, /vrrp-only\.yaml: ok \(0 services, 1 VRRP instance\)/);
    assert.match(r.stdout, /minimal\.yaml: ok \(1 service\)/);
  });

  it('a broken config exits 1 and names every error with its location', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xlb-validate-'));
    try {
      const f = join(dir, 'bad.yaml');
      writeFileSync(f, 'interfaces:\n  - name: eth0\nservices:\n  - address: 10.9.0.1\n    port: 80\n    mode: direct\n    backend: []\n');
      const r = await xlb(['validate', f]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`${f}:6:11: services\\[0\\]\\.mode: expected one of dr, tunnel, nat, got "direct"`));
      assert.match(r.stderr, /services\[0\]\.backend: unknown key "backend" \(did you mean "backends"\?\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a bad command line exits 2', async () => {
    assert.equal((await xlb(['frobnicate'])).code, 2);
    assert.equal((await xlb(['validate'])).code, 2);
  });
});
