/**
 * An `xlb load` that an e2e test runs in a lab node, and the cleanup that
 * leaves nothing behind whatever the test did: the daemon stopped, its
 * control socket, pid file and pins removed, and whatever a peer (FRR,
 * keepalived) left running in a namespace killed before it is deleted.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, stopChild } from '../../src/lab/exec.js';
import { controlPath, waitForDaemon } from '../../src/daemon/control.js';
import { pidPath, unloadInstance } from '../../src/daemon/daemon.js';

/** The CLI the tests run (dist/src/cli/main.js). */
export const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

/**
 * Start `xlb load <file>` in `node` of the lab and wait until its control
 * socket answers.
 * @param output gets the daemon's stdout and stderr as they come (for messages and XLB_E2E_LOG)
 */
export async function startTestDaemon(
  lab: { spawn(node: string, cmd: string, args: readonly string[]): ChildProcess },
  node: string,
  instance: string,
  file: string,
  output: (s: string) => void,
): Promise<ChildProcess> {
  let log = '';
  const d = lab.spawn(node, process.execPath, [CLI, 'load', file]);
  const take = (b: Buffer): void => {
    const s = b.toString();
    log += s;
    output(s);
  };
  d.stdout?.on('data', take);
  d.stderr?.on('data', take);
  await waitForDaemon(instance, 15_000, () => log);
  return d;
}

/** Remove what a daemon of `instance` leaves once stopped or killed: control socket, pid file, pins. */
export function removeDaemonLeftovers(instance: string): void {
  rmSync(controlPath(instance), { force: true });
  rmSync(pidPath(instance), { force: true });
  try {
    unloadInstance(instance);
  } catch {
    /* nothing pinned */
  }
}

/** Stop a test's daemon (if it ran) and remove its leftovers. */
export async function stopTestDaemon(instance: string, child: ChildProcess | undefined, ms = 10_000): Promise<void> {
  if (child) await stopChild(child, ms);
  removeDaemonLeftovers(instance);
}

/** SIGKILL every process still in the named namespace (a peer daemon), before the namespace goes. */
export async function killNetnsProcesses(ns: string): Promise<void> {
  const pids = (await run('ip', ['netns', 'pids', ns]).catch(() => ({ stdout: '' }))).stdout.split('\n').filter(Boolean);
  if (pids.length > 0) await run('kill', ['-KILL', ...pids]).catch(() => undefined);
}

/** Run the CLI (`xlb <args>`) in this process's namespace: its exit code and output, never a throw. */
export function xlbCli(args: readonly string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      done({ code: err ? Number((err as { code?: unknown }).code ?? 99) : 0, stdout, stderr });
    });
  });
}
