/**
 * FRR 8.4's zebra + bfdd as a BFD peer inside a test's network namespace
 * (../shared/reference/lab-notes.md "FRR 8.4 bfdd"): no systemd, every file
 * (config, pid files, vty socket, logs) in a directory of its own, which
 * stop() removes. Test tooling (root).
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/lab/exec.js';

/** Where Debian's frr package puts its daemons. */
export const FRR_DIR = '/usr/lib/frr';
/**
 * SCHED_FIFO priority for bfdd in tests at 20 ms x 3 (as test/e2e/bfd.test.ts
 * runs it): at normal priority, on a loaded 2-CPU machine, bfdd was seen to
 * stall for more than the detection time (a reload's CLI process starting
 * is enough), so both ends timed out together and the session flapped: a
 * failure of the peer, not of what is tested.
 */
export const BFDD_RT_PRIORITY = 10;
/** Whether zebra and bfdd are installed. */
export const haveFrr = existsSync(`${FRR_DIR}/bfdd`) && existsSync(`${FRR_DIR}/zebra`);

/** A running zebra + bfdd. */
export interface Bfdd {
  /** The directory of its files (vty socket, pid files, logs). */
  readonly dir: string;
  /** Runs one vtysh command against it; its output. */
  vtysh(cmd: string): Promise<string>;
  /** TERMs both daemons (those still running) and removes the directory. Idempotent. */
  stop(): Promise<void>;
}

/**
 * FRR's echo packet counters of its (one) peer, from 8.4's `show bfd peers
 * counters` ("Echo packet input: N packets", "... output: N packets").
 * @throws when the output has neither (no peer, or another FRR version)
 */
export async function frrEchoCounters(bfdd: Bfdd): Promise<{ in: number; out: number }> {
  const out = await bfdd.vtysh('show bfd peers counters');
  const i = /Echo packet input: (\d+) packets/.exec(out);
  const o = /Echo packet output: (\d+) packets/.exec(out);
  if (!i || !o) throw new Error(`no echo counters in FRR's output:\n${out}`);
  return { in: Number(i[1]), out: Number(o[1]) };
}

/**
 * Starts zebra and bfdd in namespace `ns` with `conf` as bfdd's config.
 * @param name the FRR instance name (`-N`) and the directory's prefix
 * @param options `ipForward`: forwarding on in `ns` first (FRR's echo needs
 *   it); `rtPriority`: bfdd runs SCHED_FIFO at this priority (chrt)
 */
export async function startBfdd(ns: string, name: string, conf: string, options: { ipForward?: boolean; rtPriority?: number } = {}): Promise<Bfdd> {
  const dir = mkdtempSync(join(tmpdir(), `${name}-frr-`));
  const stop = async (): Promise<void> => {
    for (const f of ['bfdd.pid', 'zebra.pid']) {
      const p = join(dir, f);
      if (existsSync(p)) await run('kill', ['-TERM', readFileSync(p, 'utf8').trim()]).catch(() => undefined);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'zebra.conf'), `hostname ${name}\n`);
    writeFileSync(join(dir, 'bfdd.conf'), conf);
    await run('chown', ['-R', 'frr:frr', dir]);
    if (options.ipForward) await run('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    await run('ip', ['netns', 'exec', ns, `${FRR_DIR}/zebra`, '-d', '-N', name, '-f', join(dir, 'zebra.conf'), '-i', join(dir, 'zebra.pid'), '--vty_socket', dir, '-z', join(dir, 'zserv.api'), '--log', `file:${join(dir, 'zebra.log')}`]);
    const rt = options.rtPriority ? ['chrt', '-f', String(options.rtPriority)] : [];
    await run('ip', ['netns', 'exec', ns, ...rt, `${FRR_DIR}/bfdd`, '-d', '-N', name, '-f', join(dir, 'bfdd.conf'), '-i', join(dir, 'bfdd.pid'), '--vty_socket', dir, '-z', join(dir, 'zserv.api'), '--bfdctl', join(dir, 'bfdd.sock'), '--log', `file:${join(dir, 'bfdd.log')}`]);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    dir,
    vtysh: async (cmd) => (await run('vtysh', ['--vty_socket', dir, '-c', cmd], { timeoutMs: 10_000 })).stdout,
    stop,
  };
}
