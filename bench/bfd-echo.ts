/**
 * Bench part `bfd_echo`: detection by xlb's own BFD echo at 1 ms x 3
 * (issue 15, `bfd_detect_ms.echo_1ms_p99`, goal ≤ 5 ms).
 *
 * The lab is test/support/echo-lab.ts: `xlb load` in node a (XDP on eth0,
 * one IPv4 session to b at 10 ms x 3, `echo: { enabled: true, interval:
 * 1ms }`), and in node b xlb's BFD runtime as the control peer advertising a
 * Required Min Echo RX of 1 ms, b's kernel forwarding the echo back. FRR
 * 8.4's bfdd cannot be that peer: its least echo receive-interval is 10 ms,
 * and xlb never sends echo faster than the peer asks (RFC 5880 §6.8.9).
 *
 * One round: the session Up with its echo coming back, then forwarding in b
 * turned off (the sysctl written from this thread inside b's namespace;
 * Date.now() just before), then the time of the daemon's "Up -> Down" log
 * line with diag "echo function failed" (pino's ms clock), then forwarding
 * on again and the session back Up. A round without that Down within 5 s,
 * or with another diag, is a failed round: counted, not in the figure.
 * Rounds: XLB_BENCH_BFD_ECHO_ROUNDS (default 30). With 30 rounds the p99 is
 * the largest one. Resolution 1 ms (both clocks are ms).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createEchoLab } from '../test/support/echo-lab.js';
import { until } from '../test/support/e2e.js';
import { median, quantile } from './stats.js';
import type { BenchRow } from './xdp.js';

const ROUNDS = Math.max(1, Number(process.env.XLB_BENCH_BFD_ECHO_ROUNDS ?? 30));

/** How the part measures, for the notes. */
export const BFD_ECHO_METHOD = `echo 1 ms x 3, IPv4, peer: xlb's runtime advertising 1 ms (FRR 8.4 advertises 10 ms at the least), b's kernel forwarding; forwarding stopped (sysctl in b) -> daemon's Up -> Down log line, ${ROUNDS} rounds, ms resolution`;

export async function runBfdEcho(log: (s: string) => void): Promise<BenchRow[]> {
  const lab = await createEchoLab(`xbe${process.pid % 10000}`, { family: 4, echoMs: 1, peer: 'xlb', peerEchoRxMs: 1 });
  const times: number[] = [];
  const failed: string[] = [];
  try {
    for (let i = 0; i < ROUNDS; i++) {
      await lab.waitEchoing(20_000);
      await sleep(100);
      const t0 = lab.forwarding(false);
      try {
        const down = await until('Down', async () => lab.downAfter(t0), 5000, 2).catch(() => undefined);
        if (down === undefined) failed.push(`round ${i + 1}: no Down within 5 s`);
        else if (down.diag !== 'echo function failed') failed.push(`round ${i + 1}: Down with diag ${down.diag}`);
        else times.push(down.time - t0);
      } finally {
        lab.forwarding(true);
      }
    }
  } finally {
    await lab.down();
  }
  log(`bench: bfd echo 1 ms x 3: forwarding stopped -> Down, ms: ${times.join(' ')}${failed.length ? `; failed rounds: ${failed.join('; ')}` : ''}`);
  if (times.length === 0) throw new Error(`no round measured (${failed.join('; ')})`);
  return [
    { key: 'bfd_detect_ms.echo_1ms_p99', value: quantile(times, 0.99), label: `BFD own echo 1 ms x 3: detection p99, ms (${times.length} rounds, ${failed.length} failed)` },
    { key: 'bfd_detect_ms.echo_1ms_p50', value: median(times), label: 'BFD own echo 1 ms x 3: detection median, ms' },
  ];
}
