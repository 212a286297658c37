/**
 * BFD peering between two xlb VRRP nodes (issue 15, `bfd_peer`): the backup
 * takes a crashed master's place as soon as its BFD session to it goes
 * Down, not Master_Down_Interval (3 x 1 s + skew) later.
 *
 * The lab (test/support/vrrp-lab.ts): xlb in a (priority 200) and b (100),
 * VRRP-only configs (no services), VRRPv3 with 1 s adverts on eth0, virtual
 * router 62, VIP 10.98.0.100; a single-hop IPv4 BFD session a <-> b at
 * 20 ms x 3 (detection time 60 ms), named as each instance's `bfd_peer`.
 * Three rounds: a MASTER, b BACKUP, session Up; a's daemon killed with
 * SIGKILL (no priority-0 advert, no BFD AdminDown); b is MASTER, for the
 * reason `bfd_peer ... down`, within a second (printed: the measured time,
 * status polled every 5 ms); a started again takes the VIP back (preempt).
 * Then the master's link cut, daemon alive, two ways, twice each: its eth0
 * set down in its namespace (a goes FAULT: the interface is down), and its
 * bridge port blocked (the carrier stays, a hears nothing and stays MASTER
 * until the link returns); b is MASTER by `bfd_peer` within a second;
 * restored, there is one master again (a, the higher priority), and only it
 * holds the VIP.
 *
 * Root only; skipped otherwise. Everything is torn down even on failure.
 * XLB_E2E_LOG=1 prints the daemons' logs.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, stopChild } from '../../src/lab/exec.js';
import { controlPath, controlRequest, waitForDaemon } from '../../src/daemon/control.js';
import { pidPath, unloadInstance } from '../../src/daemon/daemon.js';
import { until } from '../support/e2e.js';
import { createVrrpLab, VLAB, type VrrpLab } from '../support/vrrp-lab.js';
import type { BfdRuntimeStatus } from '../../src/bfd/runtime.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const INTERVAL_MS = 20;
const MULT = 3;
const ROUNDS = 3;

type Node = 'a' | 'b';
type Status = { bfd?: BfdRuntimeStatus; vrrp?: { state: string; reason: string }[] };

describe('BFD peering between two xlb VRRP nodes', { skip: !isRoot && 'needs root (netns)', timeout: 300_000 }, () => {
  let lab: VrrpLab;
  const daemons: Partial<Record<Node, ChildProcess>> = {};
  const logs: Record<Node, string> = { a: '', b: '' };
  const inst = (node: Node): string => `xp${node}${process.pid % 100000}`;
  const other = (node: Node): Node => (node === 'a' ? 'b' : 'a');

  const config = (node: Node, priority: number): string => `instance: ${inst(node)}
metrics: { listen: 127.0.0.1:${node === 'a' ? 9915 : 9916} }
log: { level: info }
bfd:
  instances:
    - { name: to-${other(node)}, neighbor_ip: ${VLAB[other(node)].v4}, source_ip: ${VLAB[node].v4}, min_rx: ${INTERVAL_MS}ms, min_tx: ${INTERVAL_MS}ms, multiplier: ${MULT} }
vrrp:
  defaults: { version: 3, garp_master_delay: 1s, garp_master_repeat: 2 }
  instances:
    - name: VI_1
      interface: eth0
      virtual_router_id: 62
      priority: ${priority}
      advert_int: 1s
      virtual_ipaddress: [${VLAB.vip4}/24]
      bfd_peer: to-${other(node)}
`;
  const status = async (node: Node): Promise<Status> => (await controlRequest(controlPath(inst(node)), { cmd: 'status' })) as unknown as Status;
  const vrrp = async (node: Node): Promise<{ state: string; reason: string } | undefined> => (await status(node)).vrrp?.[0];
  const session = async (node: Node): Promise<string | undefined> => (await status(node)).bfd?.sessions.find((s) => !s.draining)?.state;

  const start = async (node: Node): Promise<void> => {
    const d = lab.spawn(node, process.execPath, [CLI, 'load', join(lab.dir, `${node}.yaml`)]);
    d.stdout?.on('data', (b: Buffer) => (logs[node] += b.toString()));
    d.stderr?.on('data', (b: Buffer) => (logs[node] += b.toString()));
    daemons[node] = d;
    await waitForDaemon(inst(node), 15_000, () => logs[node]);
  };

  before(async () => {
    lab = await createVrrpLab(`xp${process.pid % 100000}`);
    writeFileSync(join(lab.dir, 'a.yaml'), config('a', 200));
    writeFileSync(join(lab.dir, 'b.yaml'), config('b', 100));
    await start('a');
    await start('b');
  });

  after(async () => {
    await Promise.all(Object.values(daemons).map((d) => stopChild(d, 5000)));
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

  it(`the master's daemon killed (SIGKILL): the backup is MASTER within BFD detection time, not 3 x advert_int (${ROUNDS} rounds)`, async () => {
    const times: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      await until(`round ${round}: a MASTER, b BACKUP`, async () => ((await vrrp('a'))?.state === 'MASTER' && (await vrrp('b'))?.state === 'BACKUP' ? true : undefined), 20_000);
      await until(`round ${round}: session Up on both`, async () => ((await session('a')) === 'Up' && (await session('b')) === 'Up' ? true : undefined), 10_000, 50);
      const pid = readFileSync(pidPath(inst('a')), 'utf8').trim();
      const exited = new Promise((r) => daemons.a!.once('exit', r));
      const t0 = performance.now();
      await run('kill', ['-KILL', pid]);
      const v = await until(`round ${round}: b MASTER`, async () => {
        const s = await vrrp('b');
        return s?.state === 'MASTER' ? s : undefined;
      }, 5000, 5);
      const ms = performance.now() - t0;
      times.push(ms);
      assert.match(v.reason, /^bfd_peer to-a down \(control detection time expired\)$/, 'by bfd_peer, not the down timer');
      assert.ok(ms < 1000, `b MASTER ${ms.toFixed(0)} ms after the kill`);
      await until(`round ${round}: b holds the VIP`, async () => ((await lab.hasAddress('b', VLAB.vip4)) ? true : undefined), 2000, 10);
      await exited;
      rmSync(controlPath(inst('a')), { force: true });
      rmSync(pidPath(inst('a')), { force: true });
      await start('a'); // it preempts back: the next round starts from a MASTER
    }
    console.log(`vrrp bfd_peer e2e: b MASTER ${times.map((t) => t.toFixed(0)).join(', ')} ms after SIGKILL of a's daemon (BFD ${INTERVAL_MS} ms x ${MULT}, detection ${INTERVAL_MS * MULT} ms; adverts 1 s, Master_Down_Interval ~3.6 s; status polled every 5 ms)`);
  });

  /** Ways to cut a's link with its daemon running, and to restore it. */
  const cuts: { name: string; cut: () => Promise<unknown>; heal: () => Promise<unknown> }[] = [
    { name: "a's eth0 down", cut: () => lab.exec('a', 'ip', ['link', 'set', 'eth0', 'down']), heal: () => lab.exec('a', 'ip', ['link', 'set', 'eth0', 'up']) },
    {
      name: "a's bridge port blocked",
      cut: () => run('bridge', ['-n', lab.ns('sw'), 'link', 'set', 'dev', 'sa', 'state', '0']),
      heal: () => run('bridge', ['-n', lab.ns('sw'), 'link', 'set', 'dev', 'sa', 'state', '3']),
    },
  ];

  it("the master's link cut (daemon alive): the backup is MASTER within BFD detection time; restored, one master again", async () => {
    const results: string[] = [];
    for (const c of cuts) {
      const times: number[] = [];
      for (let round = 1; round <= 2; round++) {
        const what = `${c.name}, round ${round}`;
        await until(`${what}: a MASTER, b BACKUP`, async () => ((await vrrp('a'))?.state === 'MASTER' && (await vrrp('b'))?.state === 'BACKUP' ? true : undefined), 20_000);
        await until(`${what}: session Up on both`, async () => ((await session('a')) === 'Up' && (await session('b')) === 'Up' ? true : undefined), 10_000, 50);
        const t0 = performance.now();
        try {
          await c.cut();
          const v = await until(`${what}: b MASTER`, async () => {
            const s = await vrrp('b');
            return s?.state === 'MASTER' ? s : undefined;
          }, 5000, 5);
          const ms = performance.now() - t0;
          times.push(ms);
          assert.match(v.reason, /^bfd_peer to-a down \(control detection time expired\)$/, 'by bfd_peer, not the down timer');
          assert.ok(ms < 1000, `b MASTER ${ms.toFixed(0)} ms after the cut`);
          await until(`${what}: b holds the VIP`, async () => ((await lab.hasAddress('b', VLAB.vip4)) ? true : undefined), 2000, 10);
        } finally {
          await c.heal();
        }
        // one master again: a (200) preempts, b (100) yields to its adverts
        await until(`${what}, restored: a MASTER, b BACKUP`, async () => ((await vrrp('a'))?.state === 'MASTER' && (await vrrp('b'))?.state === 'BACKUP' ? true : undefined), 20_000, 20);
        await until(`${what}, restored: only a holds the VIP`, async () => ((await lab.hasAddress('a', VLAB.vip4)) && !(await lab.hasAddress('b', VLAB.vip4)) ? true : undefined), 5000, 20);
      }
      results.push(`${c.name}: ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
    }
    console.log(`vrrp bfd_peer e2e: b MASTER after the master's link was cut (BFD ${INTERVAL_MS} ms x ${MULT}, detection ${INTERVAL_MS * MULT} ms; adverts 1 s; status polled every 5 ms): ${results.join('; ')}`);
  });
});
