/**
 * xlb's own BFD echo (issue 15, "Own echo"), end to end: `xlb load` in node
 * a with `echo.enabled`, the peer in node b whose kernel forwards the echo
 * back (test/support/echo-lab.ts).
 * - Against FRR 8.4's bfdd (echo receive-interval 10 ms, its least): the
 *   session comes Up, xlb's echo runs at max(10 ms, FRR's 10 ms) and comes
 *   back (counted by XDP); with echo.interval 1 ms it still runs at 10 ms
 *   (RFC 5880 §6.8.9: never faster than the peer's Required Min Echo RX).
 *   Forwarding stopped in b while the control packets flow: Down with diag
 *   "echo function failed"; turned on again, the session comes back Up.
 * - Against xlb's runtime as the peer (it advertises 1 ms): echo at 1 ms x 3,
 *   forwarding stopped: Down with the echo diag; the kill -> Down times are
 *   printed. IPv4 and IPv6.
 *
 * Root only, FRR installed for the FRR part; skipped otherwise. Everything
 * is torn down even on failure. XLB_E2E_LOG=1 prints the daemon's log.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { haveFrr } from '../support/frr.js';
import { until } from '../support/e2e.js';
import { createEchoLab, killNs, type EchoLab } from '../support/echo-lab.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const ROUNDS = 5;

/** Stops forwarding in b, waits for Down, turns it on again and waits for the echo to run again. */
async function killRound(lab: EchoLab): Promise<{ ms: number; diag: string }> {
  await lab.waitEchoing(20_000);
  await sleep(200);
  const t0 = lab.forwarding(false);
  let down;
  try {
    down = await until('Down', async () => lab.downAfter(t0), 5000, 5);
  } finally {
    lab.forwarding(true);
  }
  return { ms: down.time - t0, diag: down.diag };
}

for (const family of [4, 6] as const) {
  describe(`own BFD echo against FRR 8.4 bfdd, IPv${family}`, { skip: !isRoot ? 'needs root (netns, XDP)' : !haveFrr ? 'needs FRR (apt-get install frr)' : false, timeout: 180_000 }, () => {
    const prefix = `xeo${family}${process.pid % 10000}`;
    let lab: EchoLab | undefined;
    after(async () => {
      if (process.env.XLB_E2E_LOG && lab) process.stderr.write(`--- logs\n${lab.log()}\n`);
      await lab?.down();
      await killNs(`${prefix}-b`);
    });

    it('echo at 10 ms x 3 comes back through FRR\'s forwarding; forwarding stopped: Down, diag echo function failed; on again: Up', async () => {
      lab = await createEchoLab(prefix, { family, echoMs: 1, peer: 'frr', peerEchoRxMs: 10 });
      const s = await lab.waitEchoing(20_000);
      assert.equal(s.remoteMinEchoRxUs, 10_000);
      assert.equal(s.echoIntervalUs, 10_000, 'echo.interval 1 ms, FRR asks for 10 ms: 10 ms');
      const r0 = s.echoReturned;
      await sleep(1000);
      const s1 = (await lab.session())!;
      const rate = s1.echoReturned - r0;
      console.log(`own echo IPv${family} vs FRR: ${rate} back in 1 s (sent ${s1.echoSent}, back ${s1.echoReturned})`);
      assert.ok(rate >= 80 && rate <= 110, `about 100 echoes back per second at 10 ms (got ${rate})`);
      assert.equal(s1.state, 'Up');
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await killRound(lab);
        assert.equal(r.diag, 'echo function failed');
        times.push(r.ms);
      }
      console.log(`own echo IPv${family} vs FRR, 10 ms x 3: forwarding stopped -> Down ${times.map((t) => `${t} ms`).join(', ')}`);
      // the last echo back came at most one interval before the kill: 20 ms at the least (1 ms for the two ms clocks)
      for (const t of times) assert.ok(t >= 19 && t < 200, `detection ${t} ms for 30 ms`);
      const after = await lab.waitEchoing(20_000);
      assert.equal(after.echoFailures, 3);
      assert.match(await lab.vtysh!('show bfd peers'), /Status: up/);
    });
  });

  describe(`own BFD echo at 1 ms x 3 against xlb's runtime, IPv${family}`, { skip: !isRoot ? 'needs root (netns, XDP)' : false, timeout: 180_000 }, () => {
    const prefix = `xeq${family}${process.pid % 10000}`;
    let lab: EchoLab | undefined;
    after(async () => {
      if (process.env.XLB_E2E_LOG && lab) process.stderr.write(`--- logs\n${lab.log()}\n`);
      await lab?.down();
    });

    it('runs at 1 ms, and forwarding stopped takes the session Down with the echo diag within a few ms', async () => {
      lab = await createEchoLab(prefix, { family, echoMs: 1, peer: 'xlb', peerEchoRxMs: 1 });
      const s = await lab.waitEchoing(20_000);
      assert.equal(s.echoIntervalUs, 1000);
      const r0 = s.echoReturned;
      await sleep(1000);
      const rate = (await lab.session())!.echoReturned - r0;
      console.log(`own echo IPv${family} at 1 ms: ${rate} back in 1 s`);
      assert.ok(rate >= 800, `about 1000 echoes back per second (got ${rate})`);
      const times: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const r = await killRound(lab);
        assert.equal(r.diag, 'echo function failed');
        times.push(r.ms);
      }
      const late = (await lab.session())?.echoLate;
      console.log(`own echo IPv${family} 1 ms x 3: forwarding stopped -> Down ${times.map((t) => `${t} ms`).join(', ')}; echo sends a whole interval late over the test: ${late}`);
      for (const t of times) assert.ok(t < 50, `detection ${t} ms for 3 ms`);
    });
  });
}
