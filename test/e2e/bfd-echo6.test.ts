/**
 * BFD echo over IPv6 reflected by XDP (issue 15, echo reflection; the IPv4
 * case is test/e2e/bfd-echo.test.ts): `xlb load` with an IPv6 session to
 * FRR 8.4's bfdd in `echo-mode`.
 *
 * FRR 8.4 sends IPv6 echo from user space: a UDP socket on port 3785
 * (`bp_echov6_socket()`), the packet addressed to us with hop limit 255, and
 * it takes back on that socket what comes with a hop limit other than 255
 * (bfdd/bfd_packet.c). xlb's XDP swaps the addresses and sends it back with
 * 254 (bpf/lib/bfd.h bfd_reflect).
 *
 * The lab is test/support/vrrp-lab.ts with one backend (for the
 * pass-through program on the bridge side of a's veth, which takes XDP_TX
 * frames, and the client's checksum offload off): xlb in node a on eth0,
 * zebra + bfdd in node c, a single-hop IPv6 session fd98::1 <-> fd98::3 at
 * 20 ms x 3 with `echo: { reflect: true }`, FRR's echo at 20 ms.
 * 1. The session comes Up advertising Required Min Echo RX 20 ms; FRR's
 *    IPv6 echo packets come back from XDP (`tx_bfd_echo` in /metrics grows
 *    at FRR's echo rate), FRR counts them in as they go out, and the
 *    session stays Up with no state change. FRR shows no round-trip time:
 *    8.4 times only its IPv4 echo.
 * 2. A reload turning `reflect` off: after the grace nothing is reflected,
 *    FRR stops its echo, the session stays Up.
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
import { createVrrpLab, VLAB, type VrrpLab } from '../support/vrrp-lab.js';
import type { BfdRuntimeStatus } from '../../src/bfd/runtime.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const NAME = `xb6${process.pid % 100000}`;
const METRICS = 9922;
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
    - { name: c6, neighbor_ip: "${VLAB.c.v6}", source_ip: "${VLAB.a.v6}", min_rx: ${INTERVAL_MS}ms, min_tx: ${INTERVAL_MS}ms, multiplier: ${MULT}${reflect ? `, echo: { reflect: true, interval: ${ECHO_MS}ms }` : ''} }
services: []
`;

const bfddConf = `bfd
 peer ${VLAB.a.v6} local-address ${VLAB.c.v6} interface eth0
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
    ((await controlRequest(controlPath(NAME), { cmd: 'status' })) as unknown as Status).bfd?.sessions.find((s) => s.name === 'c6' && !s.draining);
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
    bfdd = await startBfdd(lab.ns('c'), NAME, bfddConf, { rtPriority: BFDD_RT_PRIORITY });
    writeFileSync(file(), config(true));
    daemon = await startTestDaemon(lab, 'a', NAME, file(), (o) => (log += o));
  });

  after(async () => {
    await stopTestDaemon(NAME, daemon);
    await bfdd?.stop();
    await killNetnsProcesses(lab.ns('c'));
    await lab?.down();
    if (process.env.XLB_E2E_LOG) process.stderr.write(`--- logs\n${log}\n`);
  });

  it("reflect on from the start: the session advertises the interval, XDP reflects FRR's IPv6 echo, FRR sees it come back", async () => {
    const s = await until('session c6 Up, advertising', async () => {
      const x = await session();
      return x?.state === 'Up' && x.requiredMinEchoRxUs === ECHO_MS * 1000 && !x.polling ? x : undefined;
    }, 20_000, 50);
    assert.equal(s.family, 6);
    assert.equal(s.remoteMinEchoRxUs, ECHO_MS * 1000, 'FRR reflects too (its echo receive-interval)');
    await until('echo reflected', async () => ((await reflected()) > 0 ? true : undefined), 10_000, 20);
    const before = (await session())!;
    const r0 = await reflected();
    const f0 = await frrEcho();
    const t0 = performance.now();
    await sleep(2000);
    const r1 = await reflected();
    const f1 = await frrEcho();
    const secs = (performance.now() - t0) / 1000;
    const after = (await session())!;
    const peers = await vtysh('show bfd peers');
    console.log(`bfd echo6 e2e: XDP reflected ${((r1 - r0) / secs).toFixed(1)} IPv6 echo/s (FRR echo at ${ECHO_MS} ms = ${1000 / ECHO_MS}/s); FRR echo in ${f1.in - f0.in} out ${f1.out - f0.out} in ${secs.toFixed(2)} s\n${peers}`);
    assert.ok(r1 - r0 >= 0.7 * secs * (1000 / ECHO_MS), `reflected ${r1 - r0} in ${secs.toFixed(2)} s`);
    assert.ok(f1.in - f0.in >= 0.9 * (f1.out - f0.out) && f1.out > f0.out, `FRR echo in ${f1.in - f0.in} out ${f1.out - f0.out}`);
    // no RTT here: FRR 8.4 times only its IPv4 echo (sent from a packet socket with a timestamp in
    // it); its IPv6 echo is a plain UDP datagram (ptm_bfd_echo_snd) that carries none
    assert.match(peers, /RTT min\/avg\/max: 0\/0\/0 usec/);
    assert.equal(after.state, 'Up');
    assert.equal(after.stateChanges, before.stateChanges, 'no state change');
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
    assert.equal(after.stateChanges, before.stateChanges, `no state change; FRR: ${await vtysh('show bfd peers')}`);
  });
});
