/**
 * @module health/probes/misc
 * MISC_CHECK (keepalived §3.2): run a command; exit 0 = up, 1 = down; with
 * `dynamic` (keepalived misc_dynamic) exit 2..255 = up with weight exit - 2.
 *
 * The command is spawned without a shell, with stdio ignored, as the leader
 * of its own process group: on timeout the whole group gets SIGKILL, so a
 * script's children die with it (keepalived kills the group too). It runs
 * from the path and as the ids the config load resolved and checked
 * (src/security/script-security.ts: `path`, `runAs`); a spec that was not
 * through that check (argv[0] then looked up in PATH) has its `user`
 * resolved to uid/gid once, when the probe is created (`id -u` / `id -g`).
 *
 * Layer: control plane, I/O (child processes, one timer per attempt). The
 * exit-code mapping {@link miscExitOutcome} is pure.
 */
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { userInfo } from 'node:os';
import { XlbError } from '../../errors.js';
import { spawnArgs, type RunAs } from '../../security/command.js';
import type { MiscCheckSpec } from '../spec.js';
import { AttemptSet, CLOSED_DETAIL, errorText, failResult, okResult, type Probe, type ProbeResult } from './types.js';

/** After SIGKILL, how long an attempt waits for the exit to be reaped before it settles anyway, ms. */
export const MISC_REAP_GRACE_MS = 50;
/** Time allowed for `id` to resolve a user name, ms. */
const ID_TIMEOUT_MS = 5000;

/** What an exit status means for the check. */
export type MiscOutcome = { ok: true; weight?: number; detail: string } | { ok: false; reason: 'exit' | 'killed'; detail: string };

/**
 * Map a command's exit to the check result (keepalived check_misc.c):
 * 0 = up; 1 = down; 2..255 = up with weight code - 2 when `dynamic`, down
 * otherwise; death by a signal = down (`killed`).
 * @param code exit code, or null when killed
 * @param signal the signal that killed it, or null
 * @param dynamic the check's `dynamic`
 */
export function miscExitOutcome(code: number | null, signal: NodeJS.Signals | string | null, dynamic: boolean): MiscOutcome {
  if (code === null) return { ok: false, reason: 'killed', detail: `killed by ${signal ?? 'a signal'}` };
  if (code === 0) return { ok: true, detail: 'exit 0' };
  if (dynamic && code >= 2 && code <= 255) return { ok: true, weight: code - 2, detail: `exit ${code}: weight ${code - 2}` };
  return { ok: false, reason: 'exit', detail: `exit ${code}` };
}

export type { RunAs } from '../../security/command.js';

/** Run `id <flag> <user>` and parse the number. */
function idOf(flag: '-u' | '-g', user: string): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile('id', [flag, user], { timeout: ID_TIMEOUT_MS }, (err, stdout) => {
      const n = Number(stdout.trim());
      if (err || stdout.trim() === '' || !Number.isInteger(n)) reject(new Error(`unknown user ${JSON.stringify(user)}${err ? `: ${errorText(err).trim()}` : ''}`));
      else resolve(n);
    });
  });
}

/**
 * Resolve a check's `user` (name or uid) to uid/gid with `id`.
 * @param user the user
 * @returns undefined when it is the daemon's own user (nothing to switch), else uid and gid
 * @throws Error when `id` does not know the user
 */
export async function resolveRunAs(user: string): Promise<RunAs | undefined> {
  const me = userInfo();
  if (user === me.username || user === String(me.uid)) return undefined;
  const [uid, gid] = await Promise.all([idOf('-u', user), idOf('-g', user)]);
  if (uid === me.uid && gid === me.gid) return undefined;
  return { uid, gid };
}

/** SIGKILL a process group, ignoring "no such process". */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** MISC probe. */
class MiscProbe implements Probe {
  readonly #attempts = new AttemptSet();
  /** uid/gid, resolved at creation; rejected = every attempt fails. */
  readonly #runAs: Promise<RunAs | undefined>;

  constructor(private readonly spec: MiscCheckSpec) {
    // resolved at load; else (a spec not through the load) by name here
    this.#runAs = spec.runAs || spec.path !== undefined || spec.user === undefined ? Promise.resolve(spec.runAs) : resolveRunAs(spec.user);
    // Handled in run(); this keeps an early rejection from being reported as unhandled.
    this.#runAs.catch(() => undefined);
  }

  async run(): Promise<ProbeResult> {
    const t0 = performance.now();
    if (this.#attempts.closed) return failResult(t0, 'io', CLOSED_DETAIL);
    let runAs: RunAs | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      // Normally settled long before; the first attempt may not wait past its timeout for `id`.
      const timedOut = new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), this.spec.timeoutMs)));
      const r = await Promise.race([this.#runAs, timedOut]);
      if (r === 'timeout') return failResult(t0, 'timeout', `resolving user ${JSON.stringify(this.spec.user)} took more than ${this.spec.timeoutMs} ms`);
      runAs = r;
    } catch (err) {
      return failResult(t0, 'io', errorText(err));
    } finally {
      clearTimeout(timer);
    }
    return this.#spawn(t0, runAs);
  }

  #spawn(t0: number, runAs: RunAs | undefined): Promise<ProbeResult> {
    const { spec } = this;
    if (this.#attempts.closed) return Promise.resolve(failResult(t0, 'io', CLOSED_DETAIL));
    const remaining = Math.max(spec.timeoutMs - (performance.now() - t0), 0);
    return new Promise<ProbeResult>((resolve) => {
      const { file, args, options } = spawnArgs({ argv: spec.command, path: spec.path, runAs });
      const opts: SpawnOptions = { ...options, detached: true, stdio: 'ignore' };
      let child: ChildProcess;
      try {
        child = spawn(file, args, opts);
      } catch (err) {
        resolve(failResult(t0, 'io', `spawn ${spec.command[0]}: ${errorText(err)}`));
        return;
      }
      let done = false;
      /** Set when xlb killed the group: the result it should report once the exit is seen. */
      let killedAs: ProbeResult | undefined;
      let grace: NodeJS.Timeout | undefined;
      const finish = (r: ProbeResult): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearTimeout(grace);
        this.#attempts.delete(abort);
        resolve(r);
      };
      const kill = (r: ProbeResult): void => {
        if (done || killedAs) return;
        killedAs = r;
        if (child.pid !== undefined) killGroup(child.pid);
        // Normally the exit event comes within a millisecond; do not wait on it forever.
        grace = setTimeout(() => finish(r), MISC_REAP_GRACE_MS);
      };
      const abort = (): void => kill(failResult(t0, 'io', CLOSED_DETAIL));
      const timer = setTimeout(
        () => kill(failResult(t0, 'timeout', `${spec.command[0]} killed after ${spec.timeoutMs} ms`)),
        remaining,
      );
      this.#attempts.add(abort);
      child.once('error', (err) => finish(failResult(t0, 'io', `spawn ${spec.command[0]}: ${errorText(err)}`)));
      child.once('exit', (code, signal) => {
        if (killedAs) {
          finish(killedAs);
          return;
        }
        const o = miscExitOutcome(code, signal, spec.dynamic);
        finish(o.ok ? okResult(t0, o.weight, o.detail) : failResult(t0, o.reason, o.detail));
      });
    });
  }

  close(): void {
    this.#attempts.close();
  }
}

/**
 * A MISC_CHECK probe. `user` starts resolving here; an unknown user makes
 * every attempt fail (`io`).
 * @param spec the check
 * @throws XlbError `XLB_ERR_CONFIG_INVALID` for an empty command
 */
export function createMiscProbe(spec: MiscCheckSpec): Probe {
  if (spec.command.length === 0 || spec.command[0] === '') throw new XlbError('XLB_ERR_CONFIG_INVALID', 'misc check with an empty command');
  return new MiscProbe(spec);
}
