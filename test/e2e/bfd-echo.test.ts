/**
 * BFD echo reflected by XDP (issue 15, echo reflection): `xlb load` with a
 * session to FRR 8.4's bfdd in `echo-mode`.
 *
 * The lab is test/e2e/bfd-daemon.test.ts's (test/support/vrrp-lab.ts, one
 * backend): xlb in node a on eth0, zebra + bfdd in backend d1 with
 * ip_forward on (../shared/reference/lab-notes.md "FRR 8.4 bfdd"), a
 * single-hop IPv4 session a <-> d1 at 20 ms x 3, FRR's echo at 20 ms.
 * 1. Without `echo.reflect` the session advertises Required Min Echo RX 0:
 *    FRR sends no echo, and `tx_bfd_echo` stays 0.
 * 2. A reload that turns `reflect` on: the same session (no state change)
 *    advertises 20 ms, FRR's echo packets come back from XDP (`tx_bfd_echo`
 *    in /metrics grows at FRR's echo rate), and FRR counts its echo in and
 *    keeps the session Up (an echo that failed would take it Down).
 * 3. A reload that turns it off again: the session stays Up, and once the
 *    grace is over nothing is reflected any more.
 *
 * Root only, FRR installed; skipped otherwise. Everything is torn down even
 * on failure. XLB_E2E_LOG=1 prints the daemon's log.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { controlPath, controlRequest } from '../../src/daemon/control.js';
import { until } from '../support/e2e.js';
import { killNetnsProcesses, startTestDaemon, stopTestDaemon, xlbCli } from '../support/xlb-daemon.js';
import { BFDD_RT_PRIORITY, frrEchoCounters, haveFrr, startBfdd, type Bfdd } from '../support/frr.js';
import { backendV4, createVrrpLab, VLAB, type VrrpLab } from '../support/vrrp-lab.js';
import type { BfdRuntimeStatus } from '../../src/bfd/runtime.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const NAME = `xbe${process.pid % 100000}`;
const METRICS = 9914;
const D1 = backendV4(1);
const INTERVAL_MS = 20;
const ECHO_MS = 20;
const MULT = 3;
/** the daemon's grace before an entry no longer wanted is deleted (BFD_UNREFLECT_GRACE_MS), plus margin */
const GRACE_MS = 3000 + 500;

const config = (reflect: boolean): string => `instance: ${NAME}
metrics: { listen: 127.0.0.1:${METRICS} }
log: { level: info }
interfaces: [{ name: eth0 }]
bfd:
  instances:
    - { name: d1, neighbor_ip: ${D1}, source_ip: ${VLAB.a.v4}, min_rx: ${INTERVAL_MS}ms, min_tx: ${INTERVAL_MS}ms, multiplier: ${MULT}${reflect ? `, echo: { reflect: true, interval: ${ECHO_MS}ms }` : ''} }
services: []
`;

const bfddConf = `bfd
 peer ${VLAB.a.v4} interface eth0
  detect-multiplier ${MULT}
  receive-interval ${INTERVAL_MS}
  transmit-interval ${INTERVAL_MS}
  echo-mode
  echo transmit-interval ${ECHO_MS}
  echo receive-interval ${ECHO_MS}
 !
!
`;

const xlb = xlbCli;

type Status = { bfd?: BfdRuntimeStatus };

describe('BFD echo reflected by XDP, against FRR bfdd echo-mode', { skip: !isRoot ? 'needs root (netns, XDP)' : !haveFrr ? 'needs FRR (apt-get install frr)' : false, timeout: 120_000 }, () => {
  let lab: VrrpLab;
  let daemon: ChildProcess | undefined;
  let bfdd: Bfdd | undefined;
  let log = '';
  const file = (): string => join(lab.dir, `${NAME}.yaml`);
  const session = async (): Promise<BfdRuntimeStatus['sessions'][number] | undefined> =>
    ((await controlRequest(controlPath(NAME), { cmd: 'status' })) as unknown as Status).bfd?.sessions.find((s) => s.name === 'd1' && !s.draining);
  const reload = async (text: string): Promise<void> => {
    writeFileSync(file(), text);
    const r = await xlb(['reload', '-i', NAME]);
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}\n${log}`);
  };
  const metrics = (): Promise<string> => lab.exec('a', 'curl', ['-sf', '-m', '5', `http://127.0.0.1:${METRICS}/metrics`]);
  /** XDP's `tx_bfd_echo` packets (0 while the series is absent). */
  const reflected = async (): Promise<number> => Number(/^xlb_packets_total\{reason="tx_bfd_echo"\} (\d+)$/m.exec(await metrics())?.[1] ?? 0);
  const vtysh = (cmd: string): Promise<string> => bfdd!.vtysh(cmd);
  const frrEcho = (): Promise<{ in: number; out: number }> => frrEchoCounters(bfdd!);

  before(async () => {
    lab = await createVrrpLab(NAME, { backends: 1 });
    // FRR's echo needs forwarding on its side (lab-notes)
    bfdd = await startBfdd(lab.ns('d1'), NAME, bfddConf, { ipForward: true, rtPriority: BFDD_RT_PRIORITY });
    writeFileSync(file(), config(false));
    daemon = await startTestDaemon(lab, 'a', NAME, file(), (o) => (log += o));
  });

  after(async () => {
    await stopTestDaemon(NAME, daemon);
    await bfdd?.stop();
    await killNetnsProcesses(lab.ns('d1'));
    await lab?.down();
    if (process.env.XLB_E2E_LOG) process.stderr.write(`--- logs\n${log}\n`);
  });

  it('without reflect: Required Min Echo RX 0, FRR sends no echo, nothing reflected', async () => {
    const s = await until('session d1 Up', async () => ((await session())?.state === 'Up' ? session() : undefined), 20_000, 50);
    assert.equal(s!.requiredMinEchoRxUs, 0);
    await sleep(1000);
    assert.equal(await reflected(), 0);
    const e = await frrEcho();
    assert.equal(e.out, 0, 'FRR sends no echo to a peer that advertises 0');
    assert.doesNotMatch(log, /echo.*not (run|acted on)/, 'no echo warning without echo keys');
  });

  it('a reload turning reflect on: the same session advertises the interval, XDP reflects FRR\'s echo, FRR sees it come back', async () => {
    const before = (await session())!;
    await reload(config(true));
    const s = await until('advertising', async () => {
      const x = await session();
      return x && x.requiredMinEchoRxUs === ECHO_MS * 1000 && !x.polling ? x : undefined;
    }, 5000, 20);
    assert.equal(s.localDiscr, before.localDiscr, 'the same session');
    assert.equal(s.remoteMinEchoRxUs, ECHO_MS * 1000, 'FRR reflects too (its echo receive-interval)');
    await until('echo reflected', async () => ((await reflected()) > 0 ? true : undefined), 5000, 20);
    const r0 = await reflected();
    const f0 = await frrEcho();
    const t0 = performance.now();
    await sleep(2000);
    const r1 = await reflected();
    const f1 = await frrEcho();
    const secs = (performance.now() - t0) / 1000;
    const after = (await session())!;
    const peers = await vtysh('show bfd peers');
    console.log(`bfd echo e2e: XDP reflected ${((r1 - r0) / secs).toFixed(1)} echo/s (FRR echo at ${ECHO_MS} ms = ${1000 / ECHO_MS}/s); FRR echo in ${f1.in - f0.in} out ${f1.out - f0.out} in ${secs.toFixed(2)} s\n${peers}`);
    assert.ok(r1 - r0 >= 0.7 * secs * (1000 / ECHO_MS), `reflected ${r1 - r0} in ${secs.toFixed(2)} s`);
    assert.ok(f1.in - f0.in >= 0.9 * (f1.out - f0.out) && f1.out > f0.out, `FRR echo in ${f1.in - f0.in} out ${f1.out - f0.out}`);
    assert.match(peers, new RegExp(`Remote timers:[^]*Echo receive interval: ${ECHO_MS}ms`), 'FRR has our Required Min Echo RX');
    assert.match(peers, /RTT min\/avg\/max: [1-9]\d*\/\d+\/\d+ usec/, 'FRR timed its echo round trips');
    assert.equal(after.state, 'Up');
    assert.equal(after.stateChanges, before.stateChanges, 'no state change');
    assert.doesNotMatch(log, /echo is not run by this version/);
  });

  it('a reload turning reflect off: the session stays Up, and nothing is reflected after the grace', async () => {
    const before = (await session())!;
    await reload(config(false));
    const s = await until('advertising 0', async () => {
      const x = await session();
      return x && x.requiredMinEchoRxUs === 0 && !x.polling ? x : undefined;
    }, 5000, 20);
    assert.equal(s.localDiscr, before.localDiscr);
    await sleep(GRACE_MS);
    const r0 = await reflected();
    const f0 = await frrEcho();
    await sleep(1000);
    assert.equal(await reflected(), r0, 'nothing reflected');
    assert.equal((await frrEcho()).out, f0.out, 'FRR stopped its echo');
    const after = (await session())!;
    assert.equal(after.state, 'Up');
    assert.equal(after.stateChanges, before.stateChanges, 'no state change');
  });
});
