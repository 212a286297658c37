/**
 * The lab of xlb's own BFD echo (test/e2e/bfd-echo-own.test.ts and
 * bench/bfd-echo.ts): `xlb load` in node a of test/support/vrrp-lab.ts (XDP
 * on eth0, one BFD session to node b with `echo.enabled`), and in node b the
 * peer: FRR 8.4's bfdd (its Required Min Echo RX is 10 ms at the least), or
 * xlb's own BFD runtime on this thread (it advertises any Required Min Echo
 * RX, e.g. 1 ms). Either way b's kernel forwards the echo back (ip_forward
 * / IPv6 forwarding on, redirects off), and {@link EchoLab.forwarding}
 * turns that off and on from this thread (the sysctl file opened inside b's
 * namespace), so the moment forwarding stops is known to the millisecond.
 *
 * Detection is read from the daemon's own log: the pino `time` (ms) of the
 * session's "Up -> Down" line, minus the Date.now() taken just before
 * forwarding was turned off.
 */
import { writeFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { run, stopChild } from '../../src/lab/exec.js';
import { controlPath, controlRequest, waitForDaemon } from '../../src/daemon/control.js';
import { pidPath, unloadInstance } from '../../src/daemon/daemon.js';
import { rmSync } from 'node:fs';
import { inNetns } from '../../src/native/binding.js';
import { BfdRuntime } from '../../src/bfd/runtime.js';
import { createBfdIo } from '../../src/bfd/sockets.js';
import type { BfdRuntimeStatus, BfdSessionStatus } from '../../src/bfd/runtime.js';
import { startBfdd, type Bfdd } from './frr.js';
import { until } from './e2e.js';
import { createVrrpLab, VLAB, type VrrpLab } from './vrrp-lab.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');

/** Options of {@link createEchoLab}. */
export interface EchoLabOptions {
  family: 4 | 6;
  /** xlb's echo.interval, ms. */
  echoMs: number;
  /** The peer: FRR's bfdd, or xlb's runtime advertising `peerEchoRxMs`. */
  peer: 'frr' | 'xlb';
  /** The peer's Required Min Echo RX, ms (FRR: ≥ 10). */
  peerEchoRxMs: number;
  /** Control packets, ms (both sides). Default 10. */
  controlMs?: number;
  multiplier?: number;
}

export interface EchoLab {
  readonly vlab: VrrpLab;
  /** The session as the daemon reports it. */
  session(): Promise<BfdSessionStatus | undefined>;
  /** Forwarding in b on (the echo comes back) or off. @returns Date.now() just before the write */
  forwarding(on: boolean): number;
  /** The time (ms) of the daemon's first "Up -> Down" log line of the session after `since`, and its diag. */
  downAfter(since: number): { time: number; diag: string } | undefined;
  /** Waits until the session is Up with its echo running and coming back. */
  waitEchoing(timeoutMs: number): Promise<BfdSessionStatus>;
  log(): string;
  vtysh?(cmd: string): Promise<string>;
  down(): Promise<void>;
}

/** Build the lab and start both sides. Root only. */
export async function createEchoLab(prefix: string, o: EchoLabOptions): Promise<EchoLab> {
  const controlMs = o.controlMs ?? 10;
  const mult = o.multiplier ?? 3;
  const addr = (n: 'a' | 'b'): string => (o.family === 4 ? VLAB[n].v4 : VLAB[n].v6);
  const vlab = await createVrrpLab(prefix, {});
  let bfdd: Bfdd | undefined;
  let peerRt: BfdRuntime | undefined;
  let daemon: ChildProcess | undefined;
  let text = '';
  const nsFile = `/var/run/netns/${vlab.ns('b')}`;
  const fwdPath = o.family === 4 ? '/proc/sys/net/ipv4/ip_forward' : '/proc/sys/net/ipv6/conf/all/forwarding';
  const writeSysctl = (path: string, v: string): void => inNetns(nsFile, () => writeFileSync(path, v));
  const lab: EchoLab = {
    vlab,
    async session() {
      const st = (await controlRequest(controlPath(prefix), { cmd: 'status' })) as unknown as { bfd?: BfdRuntimeStatus };
      return st.bfd?.sessions.find((s) => s.name === 'b' && !s.draining);
    },
    forwarding(on) {
      const t = Date.now();
      writeSysctl(fwdPath, on ? '1' : '0');
      return t;
    },
    downAfter(since) {
      for (const line of text.split('\n')) {
        if (!line.includes('Up -> Down') || !line.includes('"session":"b"')) continue;
        try {
          const j = JSON.parse(line) as { time: number; msg: string; diag?: string };
          if (j.time >= since && /^bfd: b: Up -> Down/.test(j.msg)) return { time: j.time, diag: j.diag ?? /\(([^)]*)\)$/.exec(j.msg)?.[1] ?? '' };
        } catch {
          /* not a JSON line */
        }
      }
      return undefined;
    },
    async waitEchoing(timeoutMs) {
      return until(
        'session Up with its echo coming back',
        async () => {
          const s = await lab.session();
          return s && s.state === 'Up' && s.echoState === 'running' && s.echoReturned > 0 ? s : undefined;
        },
        timeoutMs,
        20,
      );
    },
    log: () => text,
    async down() {
      if (daemon) await stopChild(daemon, 10_000);
      await peerRt?.stop();
      await bfdd?.stop();
      rmSync(controlPath(prefix), { force: true });
      rmSync(pidPath(prefix), { force: true });
      try {
        unloadInstance(prefix);
      } catch {
        /* nothing pinned */
      }
      await vlab.down();
    },
  };
  try {
    // b forwards the echo back; no redirect for a packet that leaves by the port it came in
    writeSysctl(fwdPath, '1');
    if (o.family === 4) {
      writeSysctl('/proc/sys/net/ipv4/conf/all/send_redirects', '0');
      writeSysctl('/proc/sys/net/ipv4/conf/eth0/send_redirects', '0');
    }
    if (o.peer === 'frr') {
      const conf = `bfd
 peer ${addr('a')} interface eth0
  detect-multiplier ${mult}
  receive-interval ${controlMs}
  transmit-interval ${controlMs}
  echo receive-interval ${o.peerEchoRxMs}
 !
!
`;
      bfdd = await startBfdd(vlab.ns('b'), prefix, conf, {});
      lab.vtysh = (cmd) => bfdd!.vtysh(cmd);
    } else {
      peerRt = new BfdRuntime(createBfdIo({ netns: nsFile, log: () => undefined }));
      peerRt.apply({
        sessions: [{ name: 'a', peer: addr('a'), local: addr('b'), desiredMinTxUs: controlMs * 1000, requiredMinRxUs: controlMs * 1000, detectMult: mult, requiredMinEchoRxUs: o.peerEchoRxMs * 1000 }],
      });
    }
    const file = join(vlab.dir, `${prefix}.yaml`);
    writeFileSync(
      file,
      `instance: ${prefix}
log: { level: info, format: json }
interfaces: [{ name: eth0 }]
bfd:
  instances:
    - { name: b, neighbor_ip: ${addr('b')}, source_ip: ${addr('a')}, min_rx: ${controlMs}ms, min_tx: ${controlMs}ms, multiplier: ${mult}, echo: { enabled: true, interval: ${o.echoMs}ms } }
services: []
`,
    );
    const d = vlab.spawn('a', process.execPath, [CLI, 'load', file]);
    d.stdout?.on('data', (b: Buffer) => (text += b.toString()));
    d.stderr?.on('data', (b: Buffer) => (text += b.toString()));
    daemon = d;
    await waitForDaemon(prefix, 15_000, () => text);
  } catch (err) {
    await lab.down().catch(() => undefined);
    throw err;
  }
  return lab;
}

/** Kills what is left in b (FRR's daemons) after a failed run. */
export async function killNs(ns: string): Promise<void> {
  const pids = (await run('ip', ['netns', 'pids', ns]).catch(() => ({ stdout: '' }))).stdout.split('\n').filter(Boolean);
  if (pids.length > 0) await run('kill', ['-KILL', ...pids]).catch(() => undefined);
}
