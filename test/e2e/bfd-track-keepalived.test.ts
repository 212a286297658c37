/**
 * `track_bfd` moves a VRRP instance, and keepalived takes over (issue 15,
 * "How it is checked": `track_bfd` moves a VRRP instance, and a keepalived
 * peer takes over).
 *
 * The lab (test/support/vrrp-lab.ts): xlb in node a, VRRPv3 instance VI_1
 * (virtual router 51, priority 150, 100 ms adverts, VIP 10.98.0.100) with
 * `track_bfd` on a single-hop IPv4 session to FRR 8.4's bfdd in node c
 * (20 ms x 3); keepalived 2.2.7 in node b, BACKUP on the same virtual router
 * at priority 100 (keepalivedConf). keepalived's state is read from its log
 * (`(VI_1) Entering MASTER STATE`) and from the VIP on b's eth0.
 * 1. weight -100: bfdd stopped -> the session goes Down, xlb's priority
 *    drops to 50, below keepalived's 100 -> keepalived becomes MASTER and
 *    holds the VIP, xlb BACKUP; bfdd started again -> session Up, xlb back
 *    at 150 -> xlb MASTER again, keepalived BACKUP.
 * 2. weight 0 (a reload): the same with xlb in FAULT while the session is
 *    down.
 * bfdd is killed with SIGKILL (no AdminDown: the session times out). The
 * times from the kill to keepalived MASTER are printed (its log polled every
 * 10 ms).
 *
 * Root only, FRR and keepalived installed; skipped otherwise. Everything is
 * torn down even on failure. XLB_E2E_LOG=1 prints the logs.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, stopChild } from '../../src/lab/exec.js';
import { controlPath, controlRequest } from '../../src/daemon/control.js';
import { until } from '../support/e2e.js';
import { killNetnsProcesses, startTestDaemon, stopTestDaemon, xlbCli } from '../support/xlb-daemon.js';
import { BFDD_RT_PRIORITY, haveFrr, startBfdd, type Bfdd } from '../support/frr.js';
import { createVrrpLab, keepalivedConf, VLAB, type VrrpLab } from '../support/vrrp-lab.js';
import type { BfdRuntimeStatus } from '../../src/bfd/runtime.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const haveKeepalived = ['/usr/sbin/keepalived', '/sbin/keepalived'].some((p) => existsSync(p));
const NAME = `xbk${process.pid % 100000}`;
const METRICS = 9918;
const INTERVAL_MS = 20;
const MULT = 3;
const PRIORITY = 150;
const KA_PRIORITY = 100;

const config = (weight: number): string => `instance: ${NAME}
metrics: { listen: 127.0.0.1:${METRICS} }
log: { level: info }
bfd:
  instances:
    - { name: to-c, neighbor_ip: ${VLAB.c.v4}, source_ip: ${VLAB.a.v4}, min_rx: ${INTERVAL_MS}ms, min_tx: ${INTERVAL_MS}ms, multiplier: ${MULT} }
vrrp:
  defaults: { version: 3, garp_master_delay: 1s, garp_master_repeat: 2 }
  instances:
    - name: VI_1
      interface: eth0
      virtual_router_id: 51
      priority: ${PRIORITY}
      advert_int: 100ms
      virtual_ipaddress: [${VLAB.vip4}/24]
      track_bfd: [{ name: to-c, weight: ${weight} }]
`;

const bfddConf = `bfd
 peer ${VLAB.a.v4} interface eth0
  detect-multiplier ${MULT}
  receive-interval ${INTERVAL_MS}
  transmit-interval ${INTERVAL_MS}
 !
!
`;

type Vrrp = { name: string; state: string; reason: string; effectivePriority: number };
type Status = { bfd?: BfdRuntimeStatus; vrrp?: Vrrp[] };

const xlb = xlbCli;

describe('track_bfd moves a VRRP instance and keepalived takes over', {
  skip: !isRoot ? 'needs root (netns)' : !haveFrr ? 'needs FRR (apt-get install frr)' : !haveKeepalived ? 'needs keepalived' : false,
  timeout: 180_000,
}, () => {
  let lab: VrrpLab;
  let daemon: ChildProcess | undefined;
  let ka: ChildProcess | undefined;
  let bfdd: Bfdd | undefined;
  let log = '';
  let kaLog = '';
  const file = (): string => join(lab.dir, `${NAME}.yaml`);
  const status = async (): Promise<Status> => (await controlRequest(controlPath(NAME), { cmd: 'status' })) as unknown as Status;
  const vrrp = async (): Promise<Vrrp | undefined> => (await status()).vrrp?.[0];
  const session = async (): Promise<string | undefined> => (await status()).bfd?.sessions.find((s) => s.name === 'to-c' && !s.draining)?.state;
  /** keepalived's last state, from its log. */
  const kaState = (): string | undefined => [...kaLog.matchAll(/\(VI_1\) Entering (\w+) STATE/g)].at(-1)?.[1];

  /** xlb MASTER with the VIP, the session Up, keepalived BACKUP without it. */
  const settled = async (what: string): Promise<void> => {
    await until(`${what}: session Up`, async () => ((await session()) === 'Up' ? true : undefined), 20_000, 50);
    await until(`${what}: xlb MASTER at ${PRIORITY}`, async () => {
      const v = await vrrp();
      return v?.state === 'MASTER' && v.effectivePriority === PRIORITY ? true : undefined;
    }, 10_000, 20);
    await until(`${what}: keepalived BACKUP`, async () => (kaState() === 'BACKUP' ? true : undefined), 10_000, 20);
    await until(`${what}: a holds the VIP, b not`, async () => ((await lab.hasAddress('a', VLAB.vip4)) && !(await lab.hasAddress('b', VLAB.vip4)) ? true : undefined), 5000, 20);
  };

  /**
   * Kill bfdd (SIGKILL: no AdminDown, the session times out); keepalived
   * takes over; xlb in `xlbState` (at `priority`, when given).
   * @returns ms from the kill to keepalived MASTER
   */
  const peerGone = async (xlbState: string, priority?: number): Promise<number> => {
    const pid = readFileSync(join(bfdd!.dir, 'bfdd.pid'), 'utf8').trim();
    const t0 = performance.now();
    await run('kill', ['-KILL', pid]);
    await until('keepalived MASTER', async () => (kaState() === 'MASTER' ? true : undefined), 10_000, 10);
    const ms = performance.now() - t0;
    await until('b holds the VIP', async () => ((await lab.hasAddress('b', VLAB.vip4)) ? true : undefined), 5000, 20);
    const v = await until(`xlb ${xlbState}`, async () => {
      const s = await vrrp();
      return s?.state === xlbState ? s : undefined;
    }, 5000, 20);
    assert.equal(await session(), 'Down');
    if (priority !== undefined) assert.equal(v.effectivePriority, priority);
    // FAULT names the session; BACKUP names keepalived's advert, which now wins
    assert.match(v.reason, xlbState === 'FAULT' ? /^bfd to-c down$/ : new RegExp(`^higher priority ${KA_PRIORITY} from ${VLAB.b.v4.replace(/\./g, '\\.')}$`), `xlb's reason: ${v.reason}`);
    assert.equal(await lab.hasAddress('a', VLAB.vip4), false, 'a gave the VIP up');
    await bfdd!.stop(); // zebra, and the directory
    bfdd = undefined;
    return ms;
  };

  before(async () => {
    lab = await createVrrpLab(NAME);
    bfdd = await startBfdd(lab.ns('c'), NAME, bfddConf, { rtPriority: BFDD_RT_PRIORITY });
    writeFileSync(file(), config(-(PRIORITY - 50)));
    daemon = await startTestDaemon(lab, 'a', NAME, file(), (o) => (log += o));
    await until('session Up', async () => ((await session()) === 'Up' ? true : undefined), 20_000, 50);
    await until('xlb MASTER', async () => ((await vrrp())?.state === 'MASTER' ? true : undefined), 10_000, 20);
    ka = lab.keepalived('b', keepalivedConf(lab.prefix, KA_PRIORITY, 100));
    ka.stdout?.on('data', (b: Buffer) => (kaLog += b.toString()));
    ka.stderr?.on('data', (b: Buffer) => (kaLog += b.toString()));
  });

  after(async () => {
    await stopTestDaemon(NAME, daemon);
    if (ka) await stopChild(ka, 3000);
    await bfdd?.stop();
    // anything left in c is FRR's: the lab's down() deletes the namespace
    await killNetnsProcesses(lab.ns('c'));
    await lab?.down();
    if (process.env.XLB_E2E_LOG) process.stderr.write(`--- xlb\n${log}\n--- keepalived\n${kaLog}\n`);
  });

  it(`weight -${PRIORITY - 50}: the session down takes xlb to ${50}, keepalived (${KA_PRIORITY}) becomes MASTER; back when BFD returns`, async () => {
    await settled('start');
    const ms = await peerGone('BACKUP', 50);
    bfdd = await startBfdd(lab.ns('c'), NAME, bfddConf, { rtPriority: BFDD_RT_PRIORITY });
    await settled('bfdd back');
    console.log(`bfd track_bfd e2e: keepalived MASTER ${ms.toFixed(0)} ms after bfdd killed (weight -${PRIORITY - 50}: xlb 150 -> 50; BFD ${INTERVAL_MS} ms x ${MULT}, adverts 100 ms)`);
  });

  it('weight 0 (a reload): the session down puts xlb in FAULT, keepalived becomes MASTER; back when BFD returns', async () => {
    writeFileSync(file(), config(0));
    const r = await xlb(['reload', '-i', NAME]);
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
    await settled('after the reload');
    const ms = await peerGone('FAULT');
    bfdd = await startBfdd(lab.ns('c'), NAME, bfddConf, { rtPriority: BFDD_RT_PRIORITY });
    await settled('bfdd back');
    console.log(`bfd track_bfd e2e: keepalived MASTER ${ms.toFixed(0)} ms after bfdd killed (weight 0: xlb FAULT; BFD ${INTERVAL_MS} ms x ${MULT}, adverts 100 ms)`);
  });
});
