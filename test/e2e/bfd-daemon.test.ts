/**
 * BFD through the daemon (issue 15): `xlb load` of a config with a `bfd:`
 * session to FRR 8.4's bfdd and a backend under a `type: bfd` check.
 *
 * The lab (test/support/vrrp-lab.ts, two backends): xlb in node a on eth0,
 * zebra + bfdd in backend d1 (as test/e2e/bfd.test.ts starts them), a
 * single-hop IPv4 session a <-> d1 at 20 ms x 3; backend d2 has no check.
 * The client c reaches the VIP through a (a static neighbour entry: no VRRP
 * here announces it); d1 and d2 answer it directly (DR).
 * 1. The session comes Up and shows in `xlb status` (text and --json) and
 *    /metrics; the backend, whose check names the session, is up; new
 *    connections through the VIP reach both backends.
 * 2. A reload that changes the service but not the session leaves the
 *    session alone (same discriminator, no state change).
 * 3. bfdd is killed: the session goes Down and the check takes the backend
 *    down at once (no rise/fall, no interval to wait for); every new
 *    connection after that succeeds, on d2.
 * 4. A reload without `bfd:` stops the BFD worker: status has no bfd part.
 *
 * Root only, FRR installed; skipped otherwise. Everything is torn down even
 * on failure. XLB_E2E_LOG=1 prints the daemon's log.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../src/lab/exec.js';
import { controlPath, controlRequest } from '../../src/daemon/control.js';
import { until } from '../support/e2e.js';
import { killNetnsProcesses, startTestDaemon, stopTestDaemon, xlbCli } from '../support/xlb-daemon.js';
import { BFDD_RT_PRIORITY, haveFrr, startBfdd, type Bfdd } from '../support/frr.js';
import { backendV4, createVrrpLab, VLAB, type VrrpLab } from '../support/vrrp-lab.js';
import type { BfdRuntimeStatus } from '../../src/bfd/runtime.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const NAME = `xbd${process.pid % 100000}`;
const METRICS = 9913;
const D1 = backendV4(1);
const D2 = backendV4(2);
/** New connections through the VIP per check of where they go. */
const CONNS = 40;
const INTERVAL_MS = 20;
const MULT = 3;

const config = (o: { bfd: boolean; port: number }): string => `instance: ${NAME}
metrics: { listen: 127.0.0.1:${METRICS} }
log: { level: info }
interfaces: [{ name: eth0 }]
${
  o.bfd
    ? `bfd:
  instances:
    - { name: d1, neighbor_ip: ${D1}, source_ip: ${VLAB.a.v4}, min_rx: ${INTERVAL_MS}ms, min_tx: ${INTERVAL_MS}ms, multiplier: ${MULT} }
`
    : ''
}services:
  - name: web
    address: ${VLAB.vip4}
    port: ${o.port}
    mode: dr
    backends:
      - address: ${D1}
        interface: eth0
${o.bfd ? '        health: { checks: [{ type: bfd, name: d1 }] }\n' : ''}      - address: ${D2}
        interface: eth0
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

type Status = { bfd?: BfdRuntimeStatus; services: { name: string; backends: { backend: string; state: string; reason?: string }[] }[] };

describe('BFD through the daemon, against FRR bfdd', { skip: !isRoot ? 'needs root (netns, XDP)' : !haveFrr ? 'needs FRR (apt-get install frr)' : false, timeout: 120_000 }, () => {
  let lab: VrrpLab;
  let daemon: ChildProcess | undefined;
  let bfdd: Bfdd | undefined;
  let log = '';
  const file = (): string => join(lab.dir, `${NAME}.yaml`);
  const status = async (): Promise<Status> => (await controlRequest(controlPath(NAME), { cmd: 'status' })) as unknown as Status;
  const session = async (): Promise<BfdRuntimeStatus['sessions'][number] | undefined> => (await status()).bfd?.sessions.find((s) => s.name === 'd1' && !s.draining);
  const backendState = async (): Promise<string | undefined> => (await status()).services[0]?.backends[0]?.state;
  const reload = async (text: string): Promise<void> => {
    writeFileSync(file(), text);
    const r = await xlb(['reload', '-i', NAME]);
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}\n${log}`);
  };
  const metrics = (): Promise<string> => lab.exec('a', 'curl', ['-sf', '-m', '5', `http://127.0.0.1:${METRICS}/metrics`]);
  /** `n` new connections (GETs, one each) from the client through the VIP, one after another: who answered, or the error. */
  const gets = async (n: number, port: number): Promise<Record<string, number>> => {
    const out: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      let who: string;
      try {
        const r = await lab.exec('c', 'curl', ['-s', '-m', '2', '-D', '-', '-o', '/dev/null', `http://${VLAB.vip4}:${port}/`]);
        who = /x-backend: (\S+)/i.exec(r)?.[1] ?? 'no x-backend';
      } catch (err) {
        who = `error: ${(err as Error).message.split('\n')[0]}`;
      }
      out[who] = (out[who] ?? 0) + 1;
    }
    return out;
  };

  before(async () => {
    lab = await createVrrpLab(NAME, { backends: 2 });
    // the client sends to the VIP through a (a holds no address for it, nothing answers ARP)
    await lab.exec('c', 'ip', ['neigh', 'replace', VLAB.vip4, 'lladdr', VLAB.a.mac, 'dev', 'eth0', 'nud', 'permanent']);
    bfdd = await startBfdd(lab.ns('d1'), NAME, bfddConf, { rtPriority: BFDD_RT_PRIORITY });
    writeFileSync(file(), config({ bfd: true, port: 80 }));
    daemon = await startTestDaemon(lab, 'a', NAME, file(), (o) => (log += o));
  });

  after(async () => {
    await stopTestDaemon(NAME, daemon);
    await bfdd?.stop();
    // anything left in d1 is FRR's: the lab's down() deletes the namespace
    await killNetnsProcesses(lab.ns('d1'));
    await lab?.down();
    if (process.env.XLB_E2E_LOG) process.stderr.write(`--- logs\n${log}\n`);
  });

  it('the session comes Up and shows in xlb status and /metrics; the backend its check names is up', async () => {
    const s = await until('session d1 Up', async () => ((await session())?.state === 'Up' ? session() : undefined), 20_000, 50);
    assert.equal(s!.txIntervalUs, INTERVAL_MS * 1000);
    assert.equal(s!.detectTimeUs, MULT * INTERVAL_MS * 1000);
    await until('backend up', async () => ((await backendState()) === 'up' ? true : undefined), 5000, 20);
    const spread = await gets(CONNS, 80);
    assert.deepEqual(Object.keys(spread).sort(), ['d1', 'd2'], `both backends take new connections: ${JSON.stringify(spread)}`);
    const json = await xlb(['status', '-i', NAME, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const j = JSON.parse(json.stdout) as Status;
    assert.deepEqual(
      j.bfd?.sessions.map((x) => [x.name, x.peer, x.state]),
      [['d1', D1, 'Up']],
    );
    const text = await xlb(['status', '-i', NAME]);
    assert.match(text.stdout, new RegExp(`^  d1  ${D1.replace(/\./g, '\\.')} from ${VLAB.a.v4.replace(/\./g, '\\.')} single hop  Up \\(diag none\\)  tx ${INTERVAL_MS}ms  detect ${MULT * INTERVAL_MS}ms  packets in \\d+ out \\d+$`, 'm'), text.stdout);
    const m = await metrics();
    assert.match(m, /^xlb_bfd_session_state\{session="d1"\} 3$/m);
    assert.match(m, /^xlb_bfd_packets_total\{session="d1",direction="in"\} [1-9]\d*$/m);
    assert.match(m, /^xlb_bfd_state_changes_total\{session="d1"\} [1-9]\d*$/m);
  });

  it('a reload that leaves the session as it is does not touch it', async () => {
    const before = (await session())!;
    await reload(config({ bfd: true, port: 8080 }));
    const after = (await session())!;
    assert.equal(after.state, 'Up');
    assert.equal(after.localDiscr, before.localDiscr, 'the same session');
    assert.equal(after.stateChanges, before.stateChanges, 'no state change');
    assert.equal(await backendState(), 'up');
  });

  it('bfdd killed: the session goes Down and the check takes the backend down at once', async () => {
    const pid = readFileSync(join(bfdd!.dir, 'bfdd.pid'), 'utf8').trim();
    const t0 = performance.now();
    await run('kill', ['-KILL', pid]);
    await until('backend down', async () => ((await backendState()) === 'down' ? true : undefined), 5000, 5);
    const ms = performance.now() - t0;
    const s = (await session())!;
    assert.equal(s.state, 'Down');
    assert.equal(s.diag, 'control detection time expired');
    console.log(`bfd daemon e2e: backend down ${ms.toFixed(0)} ms after bfdd's kill (detection time ${MULT * INTERVAL_MS} ms, status polled every 5 ms)`);
    assert.ok(ms < 1000, `backend down after ${ms.toFixed(0)} ms`);
    assert.match(await metrics(), /^xlb_bfd_session_state\{session="d1"\} 1$/m);
    // the ring without d1: every new connection after the detection succeeds, on d2
    const after = await gets(CONNS, 8080);
    assert.deepEqual(after, { d2: CONNS }, `new connections after detection: ${JSON.stringify(after)}`);
    console.log(`bfd daemon e2e: ${CONNS} new connections after detection: ${JSON.stringify(after)}`);
  });

  it('a reload without bfd: stops the BFD worker', async () => {
    const t0 = performance.now();
    await reload(config({ bfd: false, port: 80 }));
    assert.ok(performance.now() - t0 < 2000, 'the reload does not wait for the sessions to drain');
    const st = await status();
    assert.equal(st.bfd, undefined);
    assert.doesNotMatch(await metrics(), /^xlb_bfd_session_state\{/m);
  });
});
