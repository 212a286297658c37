/**
 * BFD authentication, xlb to xlb (issue 15, "Authentication matches and
 * mismatches, xlb to xlb"). FRR 8.4's bfdd has no BFD authentication, so
 * both ends are xlb daemons: Debian's 8.4.4 bfdd has not one string with
 * "auth" in it (`strings /usr/lib/frr/bfdd | grep -i auth` prints nothing),
 * and FRRouting/frr issue 13085 (2023, after 8.4) reports that bfdd ignores
 * the Authentication Section; authentication came to bfdd later, through
 * key chains.
 *
 * The lab (test/support/vrrp-lab.ts): xlb in nodes a and b, BFD-only configs
 * (standalone sessions, no services, no VRRP, no XDP program). Each session
 * has its own pair of addresses (secondary addresses on a's and b's eth0),
 * since (neighbor, source) tells sessions apart; single hop IPv4 at
 * 50 ms x 3.
 * 1. Each authentication type once, with the same key on both ends: simple,
 *    keyed MD5, meticulous keyed MD5, keyed SHA1, meticulous keyed SHA1 ->
 *    all Up.
 * 2. A wrong secret (meticulous keyed SHA1, and simple), a wrong key id
 *    (keyed MD5): never Up (no state change, no packet accepted, in the
 *    whole run: the good sessions are Up and 3 s more), and the drops are
 *    counted under their auth reason, per session in `xlb status` and in
 *    /metrics `xlb_bfd_drops_total{reason}`.
 *
 * Root only; skipped otherwise. Everything is torn down even on failure.
 * XLB_E2E_LOG=1 prints the daemons' logs.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { stopChild } from '../../src/lab/exec.js';
import { controlPath, controlRequest, waitForDaemon } from '../../src/daemon/control.js';
import { pidPath, unloadInstance } from '../../src/daemon/daemon.js';
import { until } from '../support/e2e.js';
import { createVrrpLab, type VrrpLab } from '../support/vrrp-lab.js';
import type { BfdRuntimeStatus } from '../../src/bfd/runtime.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const PFX = `xba${process.pid % 100000}`;
const INTERVAL_MS = 50;
const MULT = 3;

type Node = 'a' | 'b';
interface Auth {
  type: string;
  keyId: number;
  secret: string;
}
/** One session: its name, a's and b's auth, and whether it must come Up (else the drop reason both ends count). */
interface Case {
  name: string;
  a: Auth;
  b: Auth;
  drop?: string;
}

const SHA1_KEY = 'twenty-byte-sha1-key';
const CASES: Case[] = [
  { name: 'simple', a: { type: 'simple', keyId: 1, secret: 'xlb-pass' }, b: { type: 'simple', keyId: 1, secret: 'xlb-pass' } },
  { name: 'keyed-md5', a: { type: 'keyed-md5', keyId: 2, secret: 'md5-key' }, b: { type: 'keyed-md5', keyId: 2, secret: 'md5-key' } },
  { name: 'met-md5', a: { type: 'meticulous-keyed-md5', keyId: 3, secret: 'md5-key-2' }, b: { type: 'meticulous-keyed-md5', keyId: 3, secret: 'md5-key-2' } },
  { name: 'keyed-sha1', a: { type: 'keyed-sha1', keyId: 4, secret: SHA1_KEY }, b: { type: 'keyed-sha1', keyId: 4, secret: SHA1_KEY } },
  { name: 'met-sha1', a: { type: 'meticulous-keyed-sha1', keyId: 5, secret: SHA1_KEY }, b: { type: 'meticulous-keyed-sha1', keyId: 5, secret: SHA1_KEY } },
  {
    name: 'bad-secret',
    a: { type: 'meticulous-keyed-sha1', keyId: 6, secret: SHA1_KEY },
    b: { type: 'meticulous-keyed-sha1', keyId: 6, secret: 'another-sha1-key' },
    drop: 'auth_digest',
  },
  { name: 'bad-password', a: { type: 'simple', keyId: 7, secret: 'xlb-pass' }, b: { type: 'simple', keyId: 7, secret: 'xlb-pasS' }, drop: 'auth_password' },
  { name: 'bad-key-id', a: { type: 'keyed-md5', keyId: 8, secret: 'md5-key' }, b: { type: 'keyed-md5', keyId: 9, secret: 'md5-key' }, drop: 'auth_key_id' },
];
/** Session i's address on a node (secondary addresses of eth0, beside VLAB's). */
const addr = (node: Node, i: number): string => `10.98.0.${(node === 'a' ? 20 : 40) + i}`;

type Session = BfdRuntimeStatus['sessions'][number];

describe('BFD authentication, xlb to xlb', { skip: !isRoot && 'needs root (netns)', timeout: 120_000 }, () => {
  let lab: VrrpLab;
  const daemons: Partial<Record<Node, ChildProcess>> = {};
  const logs: Record<Node, string> = { a: '', b: '' };
  const inst = (node: Node): string => `${PFX}${node}`;
  const metricsPort = (node: Node): number => (node === 'a' ? 9919 : 9920);

  const config = (node: Node): string => {
    const other: Node = node === 'a' ? 'b' : 'a';
    const lines = CASES.map((c, i) => {
      const au = c[node];
      return `    - { name: ${c.name}, neighbor_ip: ${addr(other, i + 1)}, source_ip: ${addr(node, i + 1)}, min_rx: ${INTERVAL_MS}ms, min_tx: ${INTERVAL_MS}ms, multiplier: ${MULT}, auth: { type: ${au.type}, key_id: ${au.keyId}, secret: "${au.secret}" } }`;
    });
    return `instance: ${inst(node)}\nmetrics: { listen: 127.0.0.1:${metricsPort(node)} }\nlog: { level: info }\nbfd:\n  instances:\n${lines.join('\n')}\n`;
  };
  const sessions = async (node: Node): Promise<Map<string, Session>> => {
    const st = (await controlRequest(controlPath(inst(node)), { cmd: 'status' })) as unknown as { bfd?: BfdRuntimeStatus };
    return new Map((st.bfd?.sessions ?? []).filter((s) => !s.draining).map((s) => [s.name, s]));
  };
  const metrics = (node: Node): Promise<string> => lab.exec(node, 'curl', ['-sf', '-m', '5', `http://127.0.0.1:${metricsPort(node)}/metrics`]);

  before(async () => {
    lab = await createVrrpLab(PFX);
    for (const node of ['a', 'b'] as const) {
      for (let i = 1; i <= CASES.length; i++) await lab.exec(node, 'ip', ['addr', 'add', `${addr(node, i)}/24`, 'dev', 'eth0']);
      writeFileSync(join(lab.dir, `${node}.yaml`), config(node));
    }
    for (const node of ['a', 'b'] as const) {
      const d = lab.spawn(node, process.execPath, [CLI, 'load', join(lab.dir, `${node}.yaml`)]);
      d.stdout?.on('data', (b: Buffer) => (logs[node] += b.toString()));
      d.stderr?.on('data', (b: Buffer) => (logs[node] += b.toString()));
      daemons[node] = d;
      await waitForDaemon(inst(node), 15_000, () => logs[node]);
    }
  });

  after(async () => {
    await Promise.all(Object.values(daemons).map((d) => stopChild(d, 10_000)));
    for (const node of ['a', 'b'] as const) {
      rmSync(controlPath(inst(node)), { force: true });
      rmSync(pidPath(inst(node)), { force: true });
      try {
        unloadInstance(inst(node));
      } catch {
        /* nothing pinned */
      }
    }
    await lab?.down();
    if (process.env.XLB_E2E_LOG) process.stderr.write(`--- a\n${logs.a}\n--- b\n${logs.b}\n`);
  });

  it('each type with matching keys comes Up; a wrong secret, password or key id never does, and its drops are counted under the auth reason', async () => {
    const good = CASES.filter((c) => !c.drop).map((c) => c.name);
    const bad = CASES.filter((c) => c.drop);
    const t0 = performance.now();
    for (const node of ['a', 'b'] as const) {
      await until(`${node}: ${good.join(', ')} Up`, async () => {
        const s = await sessions(node);
        return good.every((n) => s.get(n)?.state === 'Up') ? true : undefined;
      }, 20_000, 50);
    }
    const upMs = performance.now() - t0;
    await sleep(3000); // the mismatched sessions get every chance meanwhile
    for (const node of ['a', 'b'] as const) {
      const s = await sessions(node);
      for (const n of good) {
        const x = s.get(n)!;
        assert.equal(x.state, 'Up', `${node} ${n}`);
        assert.deepEqual(x.drops, {}, `${node} ${n}: nothing dropped`);
      }
      const m = await metrics(node);
      for (const c of bad) {
        const x = s.get(c.name)!;
        assert.equal(x.state, 'Down', `${node} ${c.name}`);
        assert.equal(x.stateChanges, 0, `${node} ${c.name}: never left Down`);
        assert.equal(x.packetsIn, 0, `${node} ${c.name}: no packet accepted`);
        assert.ok((x.drops[c.drop as keyof Session['drops']] ?? 0) > 0, `${node} ${c.name}: drops ${JSON.stringify(x.drops)}, want ${c.drop}`);
        assert.deepEqual(Object.keys(x.drops), [c.drop], `${node} ${c.name}: only ${c.drop}`);
        const v = new RegExp(`^xlb_bfd_drops_total\\{reason="${c.drop}"\\} (\\d+)$`, 'm').exec(m);
        assert.ok(v && Number(v[1]) >= (x.drops[c.drop as keyof Session['drops']] ?? 0), `${node}: /metrics counts ${c.drop}: ${v?.[0]}`);
      }
      assert.match(m, /^xlb_bfd_session_state\{session="met-sha1"\} 3$/m);
      assert.match(m, /^xlb_bfd_session_state\{session="bad-secret"\} 1$/m);
      assert.match(m, /^xlb_xdp_loaded 0$/m, 'a BFD-only config loads no XDP program');
    }
    const m = await metrics('a');
    const drops = [...m.matchAll(/^xlb_bfd_drops_total\{reason="(auth_\w+)"\} (\d+)$/gm)].map((x) => `${x[1]} ${x[2]}`);
    console.log(`bfd auth e2e: ${good.length} types Up on both ends ${upMs.toFixed(0)} ms after start; mismatches never Up; a's drops: ${drops.join(', ')}`);
  });
});
