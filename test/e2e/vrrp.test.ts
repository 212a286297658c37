/**
 * VRRP interoperability with keepalived 2.2.7 (Debian's package), end to end:
 * xlb in one namespace, keepalived in another, a client in a third, on one
 * bridge (test/support/vrrp-lab.ts). VRRPv3 over IPv4, 100 ms adverts.
 * - xlb with the higher priority is MASTER, holds the VIP and answers for it;
 * - master killed (-9): keepalived takes over and the VIP answers from it;
 * - xlb restarted: it removes the address it left behind, preempts, and the
 *   client's neighbour entry moves back (xlb's gratuitous ARP);
 * - graceful stop: xlb resigns (priority 0) and keepalived takes over within
 *   Skew_Time, well before the master-down interval;
 * - keepalived with the higher priority: xlb stays BACKUP without the VIP.
 * Root only; the lab is torn down even when a test fails.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopChild } from '../../src/lab/exec.js';
import { controlPath, controlRequest, waitForDaemon } from '../../src/daemon/control.js';
import { unloadInstance } from '../../src/daemon/daemon.js';
import { until } from '../support/e2e.js';
import { createVrrpLab, keepalivedConf, VLAB, type VrrpLab } from '../support/vrrp-lab.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

interface VrrpStatus {
  name: string;
  state: string;
  effectivePriority: number;
  advertsSent: number;
  advertsReceived: number;
  master?: { address: string; priority: number };
}

describe('VRRP with keepalived as the peer', { skip: !isRoot && 'needs root (netns)' }, () => {
  let lab: VrrpLab;
  let xlb: ChildProcess | null = null;
  let ka: ChildProcess | null = null;
  let log = '';
  let kaLog = '';
  const instance = `vr${process.pid % 100000}`;

  const xlbConfig = (priority: number, extra = ''): string => `
instance: ${instance}
interfaces: [{ name: eth0 }]
metrics: { listen: 127.0.0.1:9904 }
log: { level: info }
services: []
vrrp:
  defaults: { version: 3, garp_master_delay: 1s, garp_master_repeat: 2 }
  instances:
    - name: VI_1
      interface: eth0
      virtual_router_id: 51
      priority: ${priority}
      advert_int: 100ms
      virtual_ipaddress: [${VLAB.vip4}/24]
${extra}`;
  const startXlb = async (priority: number): Promise<void> => {
    writeFileSync(join(lab.dir, 'xlb.yaml'), xlbConfig(priority));
    log = '';
    xlb = lab.spawn('a', process.execPath, [CLI, 'load', join(lab.dir, 'xlb.yaml')]);
    xlb.stderr?.on('data', (b: Buffer) => (log += b.toString()));
    await waitForDaemon(instance, 15_000, () => log);
  };
  const startKa = (priority: number): void => {
    kaLog = '';
    ka = lab.keepalived('b', keepalivedConf(lab.prefix, priority, 100));
    ka.stdout?.on('data', (b: Buffer) => (kaLog += b.toString()));
    ka.stderr?.on('data', (b: Buffer) => (kaLog += b.toString()));
  };
  const vrrpStatus = async (name = 'VI_1'): Promise<VrrpStatus> => {
    const r = await controlRequest(controlPath(instance), { cmd: 'status' });
    const v = (r.vrrp as VrrpStatus[] | undefined)?.find((x) => x.name === name);
    if (!v) throw new Error(`no vrrp ${name} in status: ${JSON.stringify(r)}`);
    return v;
  };
  const ping = async (): Promise<boolean> => {
    try {
      await lab.exec('c', 'ping', ['-c', '1', '-W', '1', VLAB.vip4]);
      return true;
    } catch {
      return false;
    }
  };
  const stopXlb = async (signal: 'SIGTERM' | 'SIGKILL'): Promise<void> => {
    if (!xlb) return;
    const x = xlb;
    xlb = null;
    const exited = new Promise((r) => x.once('exit', r));
    x.kill(signal);
    await exited;
  };

  before(async () => {
    lab = await createVrrpLab(`xv${process.pid % 100000}`);
  });

  after(async () => {
    if (xlb) await stopChild(xlb);
    if (ka) await stopChild(ka);
    try {
      unloadInstance(instance);
    } catch {
      /* nothing pinned */
    }
    await lab?.down();
    if (process.env.XLB_E2E_LOG) process.stderr.write(`${log}\n--- keepalived\n${kaLog}\n`);
  });

  it('xlb with the higher priority is MASTER: it holds the VIP and answers for it; keepalived is BACKUP', async () => {
    startKa(100);
    await startXlb(200);
    await until('xlb MASTER', async () => ((await vrrpStatus()).state === 'MASTER' ? true : undefined), 10_000);
    await until('keepalived without the VIP', async () => (!(await lab.hasAddress('b', VLAB.vip4)) ? true : undefined), 5000);
    await until('xlb holds the VIP', async () => ((await lab.hasAddress('a', VLAB.vip4)) ? true : undefined), 5000);
    assert.equal(await ping(), true);
    assert.equal(await lab.clientNeighbour(VLAB.vip4), VLAB.a.mac);
    await new Promise((r) => setTimeout(r, 500));
    const s = await vrrpStatus();
    assert.equal(s.state, 'MASTER', 'keepalived accepts our adverts (checksum, version, interval): no preemption');
    assert.ok(s.advertsSent >= 4, JSON.stringify(s));
    const metrics = await lab.exec('a', process.execPath, ['-e', "fetch('http://127.0.0.1:9904/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))"]);
    assert.match(metrics, /^xlb_vrrp_state\{instance="VI_1",state="MASTER"\} 1$/m);
    assert.match(metrics, /^xlb_vrrp_priority\{instance="VI_1"\} 200$/m);
    assert.match(metrics, /^xlb_vrrp_adverts_sent_total\{instance="VI_1"\} [1-9]\d*$/m);
    const text = execFileSync(process.execPath, [CLI, 'status', '--instance', instance], { encoding: 'utf8' });
    assert.match(text, /^ {2}VI_1 {2}vrid 51 on eth0 IPv4 {2}MASTER \(master down timer expired\) {2}priority 200\/200 {2}adverts sent \d+ received \d+/m);
  });

  it('master killed (-9): keepalived takes over and the VIP answers from it', async () => {
    await stopXlb('SIGKILL');
    const t0 = performance.now();
    await until('keepalived holds the VIP', async () => ((await lab.hasAddress('b', VLAB.vip4)) ? true : undefined), 5000, 10);
    const took = performance.now() - t0;
    // master down interval of a priority-100 backup at 100 ms: 3 x 100 + 60.9 ms
    assert.ok(took < 1000, `takeover after ${Math.round(took)} ms`);
    await until('the client reaches the VIP at keepalived', async () => ((await ping()) && (await lab.clientNeighbour(VLAB.vip4)) === VLAB.b.mac ? true : undefined), 5000);
  });

  it('xlb restarted: it drops the address it left behind, preempts, and the client follows its gratuitous ARP', async () => {
    await startXlb(200);
    await until('xlb MASTER again', async () => ((await vrrpStatus()).state === 'MASTER' ? true : undefined), 10_000);
    await until('keepalived gave the VIP up', async () => (!(await lab.hasAddress('b', VLAB.vip4)) ? true : undefined), 5000);
    await until('the client neighbour moved back to xlb', async () => ((await lab.clientNeighbour(VLAB.vip4)) === VLAB.a.mac ? true : undefined), 5000);
    assert.equal(await ping(), true);
  });

  it('graceful stop: xlb resigns with priority 0 and keepalived takes over within Skew_Time', async () => {
    await until('keepalived BACKUP, settled', async () => ((await vrrpStatus()).advertsSent > 20 ? true : undefined));
    const t0 = performance.now();
    const stopped = stopXlb('SIGTERM');
    await until('keepalived holds the VIP', async () => ((await lab.hasAddress('b', VLAB.vip4)) ? true : undefined), 5000, 5);
    const took = performance.now() - t0;
    await stopped;
    assert.equal(await lab.hasAddress('a', VLAB.vip4), false, 'xlb removed its VIP on the way out');
    // Skew_Time of priority 100 at 100 ms is 61 ms; the master-down interval would be 361 ms
    assert.ok(took < 300, `takeover after ${Math.round(took)} ms`);
  });

  it('keepalived with the higher priority stays MASTER; xlb is BACKUP and learns the master', async () => {
    await stopChild(ka!);
    ka = null;
    startKa(250);
    await until('keepalived holds the VIP', async () => ((await lab.hasAddress('b', VLAB.vip4)) ? true : undefined), 5000);
    await startXlb(100);
    await new Promise((r) => setTimeout(r, 1000));
    const s = await vrrpStatus();
    assert.equal(s.state, 'BACKUP');
    assert.deepEqual(s.master, { address: VLAB.b.v4, priority: 250 });
    assert.ok(s.advertsReceived >= 5);
    assert.equal(await lab.hasAddress('a', VLAB.vip4), false);
    assert.equal(await lab.hasAddress('b', VLAB.vip4), true);
  });

  it('reloads add an instance and change another in place: no role change, no advert gap; a bad one changes nothing', async () => {
    // from the previous test: keepalived MASTER (250), xlb BACKUP (100) on VI_1
    const vi2 = `
    - name: VI_2
      interface: eth0
      virtual_router_id: 52
      priority: 200
      advert_int: 100ms
      virtual_ipaddress: [10.98.0.101/24]
`;
    const reload = async (text: string): Promise<{ ok: boolean; errors?: string[] }> => {
      writeFileSync(join(lab.dir, 'xlb.yaml'), text);
      return (await controlRequest(controlPath(instance), { cmd: 'reload' })) as { ok: boolean; errors?: string[] };
    };
    const before1 = await vrrpStatus('VI_1');
    assert.equal((await reload(xlbConfig(100, vi2))).ok, true);
    await until('VI_2 MASTER', async () => ((await vrrpStatus('VI_2')).state === 'MASTER' ? true : undefined), 5000);
    await until('VI_2 holds its VIP', async () => ((await lab.hasAddress('a', '10.98.0.101')) ? true : undefined), 5000);
    const after1 = await vrrpStatus('VI_1');
    assert.equal(after1.state, 'BACKUP', 'VI_1 untouched');
    assert.ok(after1.advertsReceived > before1.advertsReceived, 'VI_1 kept its state machine (counters go on)');
    // change VI_1's priority (still below keepalived's) and measure VI_2's adverts across the reload
    const sent0 = (await vrrpStatus('VI_2')).advertsSent;
    const t0 = performance.now();
    assert.equal((await reload(xlbConfig(120, vi2))).ok, true);
    await new Promise((r) => setTimeout(r, 1000));
    const sent1 = (await vrrpStatus('VI_2')).advertsSent;
    const expected = (performance.now() - t0) / 100;
    assert.ok(sent1 - sent0 >= expected - 2, `VI_2 sent ${sent1 - sent0} adverts in ${Math.round(performance.now() - t0)} ms`);
    const s1 = await vrrpStatus('VI_1');
    assert.deepEqual([s1.state, s1.effectivePriority], ['BACKUP', 120]);
    assert.equal((await vrrpStatus('VI_2')).state, 'MASTER');
    // an invalid VRRP section is refused and nothing changes
    const bad = await reload(xlbConfig(120, vi2.replace('virtual_router_id: 52', 'virtual_router_id: 300')));
    assert.equal(bad.ok, false);
    assert.match(bad.errors?.join('\n') ?? '', /virtual_router_id/);
    assert.equal((await vrrpStatus('VI_2')).state, 'MASTER');
    // removing VI_2 makes it resign and give its address up
    assert.equal((await reload(xlbConfig(120))).ok, true);
    await until('VI_2 address removed', async () => (!(await lab.hasAddress('a', '10.98.0.101')) ? true : undefined), 5000);
    assert.equal((await vrrpStatus('VI_1')).state, 'BACKUP');
  });

  it('use_vmac: the master holds the VIP on vrrp.<vrid> and the client reaches it at 00:00:5e:00:01:<vrid>', async () => {
    // keepalived (250) is MASTER; xlb at 254 with a VMAC preempts it
    writeFileSync(join(lab.dir, 'xlb.yaml'), xlbConfig(254).replace('      advert_int: 100ms\n', '      advert_int: 100ms\n      use_vmac: true\n'));
    const r = (await controlRequest(controlPath(instance), { cmd: 'reload' })) as { ok: boolean; errors?: string[] };
    assert.equal(r.ok, true, JSON.stringify(r));
    await until('xlb MASTER with the VMAC', async () => ((await vrrpStatus()).state === 'MASTER' ? true : undefined), 5000);
    const vmac = JSON.parse(await lab.exec('a', 'ip', ['-j', 'addr', 'show', 'dev', 'vrrp.51'])) as { address: string; addr_info: { local: string }[] }[];
    assert.equal(vmac[0]?.address, '00:00:5e:00:01:33');
    assert.ok(vmac[0]?.addr_info.some((x) => x.local === VLAB.vip4), JSON.stringify(vmac));
    await until('keepalived gave the VIP up', async () => (!(await lab.hasAddress('b', VLAB.vip4)) ? true : undefined), 5000);
    await until('the client reaches the VIP at the virtual MAC', async () => ((await ping()) && (await lab.clientNeighbour(VLAB.vip4)) === '00:00:5e:00:01:33' ? true : undefined), 5000);
    // back without the VMAC: the macvlan goes away
    writeFileSync(join(lab.dir, 'xlb.yaml'), xlbConfig(254));
    assert.equal(((await controlRequest(controlPath(instance), { cmd: 'reload' })) as { ok: boolean }).ok, true);
    await until('vrrp.51 removed', async () => ((await lab.exec('a', 'ip', ['-j', 'link'])).includes('"vrrp.51"') ? undefined : true), 5000);
  });
});
