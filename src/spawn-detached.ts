/**
 * @module spawn-detached
 * Starting a notify command and forgetting it, as the health runner
 * (notify_up/notify_down, quorum_up/quorum_down) and the VRRP worker
 * (notify_master, ..., the generic notify) both do: no shell, output
 * ignored, detached and unreferenced so it never holds the daemon; a failure
 * to start, or a non-zero exit, is logged.
 *
 * The command runs from the path the load-time check resolved and as the
 * user it resolved (src/security/script-security.ts), never from a second
 * PATH lookup.
 *
 * Layer: process edge. It decides nothing about safety: the config load did.
 */
import { spawn } from 'node:child_process';
import { spawnArgs, type ResolvedCommand } from './security/command.js';

/** Where the failures go. */
export type DetachedLog = (level: 'warn' | 'error', obj: Record<string, unknown>, msg: string) => void;

/**
 * Start a command detached.
 * @param cmd argv, with the path and ids resolved at load (without a path, argv[0] is looked up in PATH)
 * @param env variables added to the daemon's environment
 * @param log failure reporter
 * @param what names the command in log lines (`notify command`)
 */
export function spawnDetached(cmd: ResolvedCommand, env: Record<string, string>, log: DetachedLog, what = 'notify command'): void {
  const argv = cmd.argv;
  try {
    const { file, args, options } = spawnArgs(cmd);
    const child = spawn(file, args, { ...options, stdio: 'ignore', detached: true, env: { ...process.env, ...env } });
    child.on('error', (err) => log('error', { err, argv }, `${what} failed to start`));
    child.on('exit', (code, signal) => {
      if (code !== 0) log('warn', { argv, code, signal }, `${what} failed`);
    });
    child.unref();
  } catch (err) {
    log('error', { err, argv }, `${what} failed to start`);
  }
}
