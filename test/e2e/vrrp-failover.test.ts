/**
 * xlb-to-xlb failover with traffic: two xlb nodes (a: priority 200, b: 100)
 * share a VIP by VRRP and both forward it with XDP to two backends (d1, d2)
 * on the same segment, in dr mode (port 80) and tunnel mode (port 8080).
 * Long-lived TCP connections through the VIP are open when node a drops off
 * the network (its link goes down); b takes the VIP over, and the flows go on
 * to the same backends: both nodes build the same Maglev rings from the same
 * config, so b's ring sends each flow where a's did, without a connection
 * table entry. Root only; everything is torn down even when a test fails.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopChild } from '../../src/lab/exec.js';
import { controlPath, controlRequest, waitForDaemon } from '../../src/daemon/control.js';
import { unloadInstance } from '../../src/daemon/daemon.js';
import { until } from '../support/e2e.js';
import { backendV4, createVrrpLab, VLAB, type VrrpLab } from '../support/vrrp-lab.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

describe('xlb-to-xlb VRRP failover keeps established flows', { skip: !isRoot && 'needs root (netns, XDP)' }, () => {
  let lab: VrrpLab;
  const daemons: ChildProcess[] = [];
  const logs: Record<string, string> = { a: '', b: '' };
  const inst = (node: 'a' | 'b'): string => `vf${node}${process.pid % 100000}`;

  const config = (node: 'a' | 'b', priority: number): string => `
instance: ${inst(node)}
interfaces: [{ name: eth0 }]
metrics: { listen: 127.0.0.1:${node === 'a' ? 9907 : 9908} }
log: { level: info }
services:
  - name: web-dr
    address: ${VLAB.vip4}
    port: 80
    mode: dr
    backends:
      - { address: ${backendV4(1)}, interface: eth0 }
      - { address: ${backendV4(2)}, interface: eth0 }
  - name: web-tunnel
    address: ${VLAB.vip4}
    port: 8080
    mode: tunnel
    backends:
      - { address: ${backendV4(1)} }
      - { address: ${backendV4(2)} }
vrrp:
  defaults: { version: 3, garp_master_delay: 1s, garp_master_repeat: 2 }
  instances:
    - name: VI_1
      interface: eth0
      virtual_router_id: 61
      priority: ${priority}
      advert_int: 100ms
      virtual_ipaddress: [${VLAB.vip4}/24]
`;
  const state = async (node: 'a' | 'b'): Promise<string | undefined> => {
    const r = await controlRequest(controlPath(inst(node)), { cmd: 'status' });
    return (r.vrrp as { state: string }[] | undefined)?.[0]?.state;
  };
  /** A GET of /stream?secs=N from the client: `B <backend>`, then `LINES <n>` or `ERR ...`. */
  const stream = (port: number, secs: number): { output: () => string } => {
    const url = `http://${VLAB.vip4}:${port}/stream?secs=${secs}`;
    const child = lab.spawn('c', process.execPath, [
      '-e',
      `const h=require('http');h.get('${url}',{agent:false},r=>{process.stdout.write('B '+r.headers['x-backend']+'\\n');let n=0;r.on('data',d=>{n+=String(d).split('\\n').length-1});r.on('end',()=>{process.stdout.write('LINES '+n+'\\n')})}).on('error',e=>{process.stdout.write('ERR '+e.message+'\\n')})`,
    ]);
    let out = '';
    child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    return { output: () => out };
  };

  before(async () => {
    lab = await createVrrpLab(`xf${process.pid % 100000}`, { backends: 2 });
    for (const [node, prio] of [['a', 200], ['b', 100]] as const) {
      writeFileSync(join(lab.dir, `${node}.yaml`), config(node, prio));
      const d = lab.spawn(node, process.execPath, [CLI, 'load', join(lab.dir, `${node}.yaml`)]);
      d.stderr?.on('data', (b: Buffer) => (logs[node] += b.toString()));
      daemons.push(d);
      await waitForDaemon(inst(node), 15_000, () => logs[node]!);
    }
  });

  after(async () => {
    await Promise.all(daemons.map((d) => stopChild(d)));
    for (const node of ['a', 'b'] as const) {
      try {
        unloadInstance(inst(node));
      } catch {
        /* nothing pinned */
      }
    }
    await lab?.down();
    if (process.env.XLB_E2E_LOG) process.stderr.write(`--- a\n${logs.a}\n--- b\n${logs.b}\n`);
  });

  it('a drops off the network: b takes the VIP, and dr and tunnel streams go on to their backends', async () => {
    await until('a MASTER, b BACKUP', async () => ((await state('a')) === 'MASTER' && (await state('b')) === 'BACKUP' ? true : undefined), 10_000);
    await until('a holds the VIP', async () => ((await lab.hasAddress('a', VLAB.vip4)) ? true : undefined), 5000);
    const dr = stream(80, 6);
    const tun = stream(8080, 6);
    await until('both streams answered', async () => (/B d\d/.test(dr.output()) && /B d\d/.test(tun.output()) ? true : undefined), 5000);
    await new Promise((r) => setTimeout(r, 1500));
    await lab.exec('a', 'ip', ['link', 'set', 'eth0', 'down']);
    await until('b MASTER', async () => ((await state('b')) === 'MASTER' ? true : undefined), 5000, 20);
    await until('the client follows b', async () => ((await lab.clientNeighbour(VLAB.vip4)) === VLAB.b.mac ? true : undefined), 5000);
    await until('both streams ended', async () => (/LINES|ERR/.test(dr.output()) && /LINES|ERR/.test(tun.output()) ? true : undefined), 15_000);
    for (const [what, s] of [['dr', dr], ['tunnel', tun]] as const) {
      assert.doesNotMatch(s.output(), /ERR/, `${what}: ${s.output()}`);
      // one line a second for 6 s, through the failover
      assert.ok(Number(/LINES (\d+)/.exec(s.output())?.[1]) >= 6, `${what} stream cut short: ${s.output()}`);
    }
    // a new connection goes through b
    const fresh = stream(80, 1);
    await until('a new stream through b', async () => (/LINES|ERR/.test(fresh.output()) ? true : undefined), 5000);
    assert.match(fresh.output(), /B d\d\nLINES [12]/);
  });
});
