/**
 * @module spawn-detached
 * Starting a notify command and forgetting it, as the health runner
 * (notify_up/notify_down, quorum_up/quorum_down) and the VRRP worker
 * (notify_master, ..., the generic notify) both do: no shell, output
 * ignored, detached and unreferenced so it never holds the daemon; a failure
 * to start, or a non-zero exit, is logged.
 *
 * Layer: process edge.
 */
import { spawn } from 'node:child_process';

/** Where the failures go. */
export type DetachedLog = (level: 'warn' | 'error', obj: Record<string, unknown>, msg: string) => void;

/**
 * Start `argv` detached.
 * @param argv the command and its arguments (argv[0] looked up in PATH)
 * @param env variables added to the daemon's environment
 * @param log failure reporter
 * @param what names the command in log lines (`notify command`)
 */
export function spawnDetached(argv: readonly string[], env: Record<string, string>, log: DetachedLog, what = 'notify command'): void {
  try {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore', detached: true, env: { ...process.env, ...env } });
    child.on('error', (err) => log('error', { err, argv }, `${what} failed to start`));
    child.on('exit', (code, signal) => {
      if (code !== 0) log('warn', { argv, code, signal }, `${what} failed`);
    });
    child.unref();
  } catch (err) {
    log('error', { err, argv }, `${what} failed to start`);
  }
}
