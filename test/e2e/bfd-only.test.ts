/**
 * A BFD-only config through the daemon (issue 15, standalone sessions, for
 * monitoring): `instance`, `metrics`, `log` and `bfd:` alone, against FRR
 * 8.4's bfdd, as test/e2e/vrrp-only.test.ts does for VRRP alone.
 *
 * The lab (test/support/vrrp-lab.ts, one backend): xlb in node a, zebra +
 * bfdd in backend d1 (test/support/frr.ts), a single-hop IPv4 session
 * a <-> d1 at 20 ms x 3; `bfd.rt_priority: 3`.
 * 1. The config loads: no XDP program on eth0 and nothing pinned; the
 *    session comes Up and shows in `xlb status` (text and --json) and in
 *    /metrics beside `xlb_xdp_loaded 0`; the BFD worker thread runs
 *    SCHED_FIFO at 3 (read from /proc), and the daemon logged it.
 * 2. A reload that adds interfaces and a service (its backend checked by
 *    the session): the program is loaded and attached, the session is not
 *    touched (same discriminator, no state change), and a client's new
 *    connection through the VIP reaches the backend.
 *
 * Root only, FRR installed; skipped otherwise. Everything is torn down even
 * on failure. XLB_E2E_LOG=1 prints the daemon's log.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { controlPath, controlRequest } from '../../src/daemon/control.js';
import { pidPath, pinRoot } from '../../src/daemon/daemon.js';
import { until } from '../support/e2e.js';
import { killNetnsProcesses, startTestDaemon, stopTestDaemon, xlbCli } from '../support/xlb-daemon.js';
import { BFDD_RT_PRIORITY, haveFrr, startBfdd, type Bfdd } from '../support/frr.js';
import { backendV4, createVrrpLab, VLAB, type VrrpLab } from '../support/vrrp-lab.js';
import type { BfdRuntimeStatus } from '../../src/bfd/runtime.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const NAME = `xbo${process.pid % 100000}`;
const METRICS = 9921;
const D1 = backendV4(1);
const INTERVAL_MS = 20;
const MULT = 3;
const RT_PRIORITY = 3;

const BFD = `bfd:
  rt_priority: ${RT_PRIORITY}
  instances:
    - { name: d1, neighbor_ip: ${D1}, source_ip: ${VLAB.a.v4}, min_rx: ${INTERVAL_MS}ms, min_tx: ${INTERVAL_MS}ms, multiplier: ${MULT} }
`;
const HEAD = `instance: ${NAME}\nmetrics: { listen: 127.0.0.1:${METRICS} }\nlog: { level: info }\n`;
const BFD_ONLY = `${HEAD}${BFD}`;
const WITH_SERVICE = `${HEAD}${BFD}interfaces: [{ name: eth0 }]
services:
  - name: web
    address: ${VLAB.vip4}
    port: 80
    mode: dr
    backends:
      - { address: ${D1}, interface: eth0, health: { checks: [{ type: bfd, name: d1 }] } }
`;

const bfddConf = `bfd
 peer ${VLAB.a.v4} interface eth0
  detect-multiplier ${MULT}
  receive-interval ${INTERVAL_MS}
  transmit-interval ${INTERVAL_MS}
 !
!
`;

const xlb = xlbCli;

/** (rt_priority, policy) of each thread of `pid` (proc(5) stat fields 40 and 41; policy 1 = SCHED_FIFO). */
function threadScheduling(pid: number): [number, number][] {
  return readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // field 3 onwards
      return [[Number(f[40 - 3]), Number(f[41 - 3])] as [number, number]];
    } catch {
      return []; // the thread ended meanwhile
    }
  });
}

type Status = { bfd?: BfdRuntimeStatus; services: { name: string; backends: { backend: string; state: string }[] }[] };

describe('a BFD-only config through the daemon, against FRR bfdd', { skip: !isRoot ? 'needs root (netns)' : !haveFrr ? 'needs FRR (apt-get install frr)' : false, timeout: 120_000 }, () => {
  let lab: VrrpLab;
  let daemon: ChildProcess | undefined;
  let bfdd: Bfdd | undefined;
  let log = '';
  const file = (): string => join(lab.dir, `${NAME}.yaml`);
  const status = async (): Promise<Status> => (await controlRequest(controlPath(NAME), { cmd: 'status' })) as unknown as Status;
  const session = async (): Promise<BfdRuntimeStatus['sessions'][number] | undefined> => (await status()).bfd?.sessions.find((s) => s.name === 'd1' && !s.draining);
  const metrics = (): Promise<string> => lab.exec('a', 'curl', ['-sf', '-m', '5', `http://127.0.0.1:${METRICS}/metrics`]);
  const xdpOnEth0 = async (): Promise<unknown> => {
    const [l] = JSON.parse(await lab.exec('a', 'ip', ['-j', 'link', 'show', 'dev', 'eth0'])) as { xdp?: unknown }[];
    return l?.xdp;
  };

  before(async () => {
    lab = await createVrrpLab(NAME, { backends: 1 });
    // the client sends to the VIP through a (nothing answers ARP for it here)
    await lab.exec('c', 'ip', ['neigh', 'replace', VLAB.vip4, 'lladdr', VLAB.a.mac, 'dev', 'eth0', 'nud', 'permanent']);
    bfdd = await startBfdd(lab.ns('d1'), NAME, bfddConf, { rtPriority: BFDD_RT_PRIORITY });
    writeFileSync(file(), BFD_ONLY);
    daemon = await startTestDaemon(lab, 'a', NAME, file(), (o) => (log += o));
  });

  after(async () => {
    await stopTestDaemon(NAME, daemon);
    await bfdd?.stop();
    await killNetnsProcesses(lab.ns('d1'));
    await lab?.down();
    if (process.env.XLB_E2E_LOG) process.stderr.write(`--- logs\n${log}\n`);
  });

  it('bfd alone: no XDP program, the session Up in status and /metrics, the worker SCHED_FIFO at rt_priority', async () => {
    assert.equal(await xdpOnEth0(), undefined, 'no XDP program on eth0');
    assert.equal(existsSync(`${pinRoot()}/${NAME}`), false, 'nothing pinned');
    const s = await until('session d1 Up', async () => ((await session())?.state === 'Up' ? session() : undefined), 20_000, 50);
    assert.equal(s!.detectTimeUs, MULT * INTERVAL_MS * 1000);
    const text = await xlb(['status', '-i', NAME]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /no XDP program \(no interfaces\)/);
    assert.match(text.stdout, new RegExp(`^  d1  ${D1.replace(/\./g, '\\.')} from ${VLAB.a.v4.replace(/\./g, '\\.')} single hop  Up `, 'm'), text.stdout);
    const json = JSON.parse((await xlb(['status', '-i', NAME, '--json'])).stdout) as Status & { xdp?: { loaded: boolean } };
    assert.equal(json.xdp?.loaded, false);
    assert.deepEqual(json.services, []);
    assert.deepEqual(json.bfd?.sessions.map((x) => [x.name, x.state]), [['d1', 'Up']]);
    const m = await metrics();
    assert.match(m, /^xlb_xdp_loaded 0$/m);
    assert.match(m, /^xlb_bfd_session_state\{session="d1"\} 3$/m);
    assert.match(m, /^xlb_bfd_packets_total\{session="d1",direction="in"\} [1-9]\d*$/m);
    // bfd.rt_priority: one thread of the daemon (the BFD worker) is SCHED_FIFO at 3, and the daemon said so
    const pid = Number(readFileSync(pidPath(NAME), 'utf8').trim());
    const sched = threadScheduling(pid);
    assert.equal(sched.filter(([prio, policy]) => policy === 1 && prio === RT_PRIORITY).length, 1, `threads (rt_priority, policy): ${JSON.stringify(sched)}`);
    assert.match(log, new RegExp(`"area":"bfd","priority":${RT_PRIORITY},"msg":"bfd: thread scheduled SCHED_FIFO"`));
  });

  it('a reload adding interfaces and a service: the program is loaded, the session untouched, the VIP forwards', async () => {
    const before = (await session())!;
    writeFileSync(file(), WITH_SERVICE);
    const r = await xlb(['reload', '-i', NAME]);
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
    assert.notEqual(await xdpOnEth0(), undefined, 'XDP program attached to eth0');
    assert.match(await metrics(), /^xlb_xdp_loaded 1$/m);
    const after = (await session())!;
    assert.equal(after.localDiscr, before.localDiscr, 'the same session');
    assert.equal(after.stateChanges, before.stateChanges, 'no state change');
    await until('backend up', async () => ((await status()).services[0]?.backends[0]?.state === 'up' ? true : undefined), 5000, 20);
    const out = await until('a GET through the VIP', async () => {
      try {
        return await lab.exec('c', 'curl', ['-s', '-m', '2', '-D', '-', '-o', '/dev/null', `http://${VLAB.vip4}/`]);
      } catch {
        return undefined;
      }
    }, 10_000, 200);
    assert.match(out, /x-backend: d1/i);
  });
});
