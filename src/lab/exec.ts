/**
 * @module lab/exec
 * Process helpers of the e2e lab: run a command inside a lab network
 * namespace, spawn a long-lived one there, compile a small BPF object for the
 * lab, and run the HTTP client script (src/lab/client.ts) in the client
 * namespace and parse its JSON report.
 *
 * Layer: test tooling (lab), I/O only; used by src/lab/lab.ts and the e2e tests.
 * Never starts anything outside a lab namespace except `ip`, `tc` and `clang`.
 *
 * How a namespace is entered: `nsenter --net=/var/run/netns/<ns> -- cmd ...`,
 * not `ip netns exec`. `ip netns exec` also unshares the mount namespace and
 * remounts /sys for the target namespace, so /sys/fs/bpf is not mounted in
 * the child: an xlb daemon started that way cannot pin its maps where the
 * host (and a restarted daemon) finds them. nsenter switches only the network
 * namespace: /sys/fs/bpf stays the host's, pins persist. The cost: /sys/class/net
 * still lists the root namespace's devices, so tools run this way must use
 * netlink or ioctl (ip, ethtool, sysctl via /proc/sys, if_nametoindex), never
 * sysfs. nsenter execs the command, so a spawned child's pid is the command's
 * own pid and signals reach it directly.
 */
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Default time limit of one command, ms. Lab commands take milliseconds. */
export const CMD_TIMEOUT_MS = 20_000;

/** Error of a lab command or lab operation; `code` is stable for tests. */
export class LabError extends Error {
  /** `XLB_LAB_CMD` a command failed, `XLB_LAB_IN_USE` the prefix is taken, `XLB_LAB_TIMEOUT`, `XLB_LAB_INVALID` bad option. */
  readonly code: 'XLB_LAB_CMD' | 'XLB_LAB_IN_USE' | 'XLB_LAB_TIMEOUT' | 'XLB_LAB_INVALID';
  /** stderr of the failed command, if any */
  readonly stderr: string;

  constructor(code: LabError['code'], message: string, opts: { cause?: unknown; stderr?: string } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.stderr = opts.stderr ?? '';
  }
}
Object.defineProperty(LabError.prototype, 'name', { value: 'LabError', writable: true, configurable: true });

/** Output of a finished command. */
export interface CmdResult {
  /** standard output */
  stdout: string;
  /** standard error */
  stderr: string;
}

/** Options of {@link run} and {@link nsExec}. */
export interface RunOptions {
  /** kill the command after this many ms; default {@link CMD_TIMEOUT_MS} */
  timeoutMs?: number;
  /** written to the command's stdin (then closed) */
  input?: string;
}

/** /var/run/netns/<ns>: the bind mount `ip netns add` makes. */
export function nsPath(ns: string): string {
  return `/var/run/netns/${ns}`;
}

/**
 * Run a command (no shell) and collect its output.
 * @throws LabError XLB_LAB_CMD on a non-zero exit, a signal or the time limit
 */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<CmdResult> {
  const timeout = opts.timeoutMs ?? CMD_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { encoding: 'utf8', timeout, killSignal: 'SIGKILL', maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        if (err) {
          const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; code?: unknown };
          const why = e.killed ? `timed out after ${timeout} ms` : typeof e.code === 'number' ? `exit ${e.code}` : e.signal ? `signal ${e.signal}` : String(e.code ?? e.message);
          const tail = stderr.trim().split('\n').slice(-3).join(' | ');
          reject(new LabError('XLB_LAB_CMD', `${cmd} ${args.join(' ')}: ${why}${tail ? `: ${tail}` : ''}`, { cause: err, stderr }));
          return;
        }
        resolve({ stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/**
 * Run a command inside network namespace `ns` (via nsenter, see the module comment).
 * @throws LabError XLB_LAB_CMD
 */
export function nsExec(ns: string, cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<CmdResult> {
  return run('nsenter', [`--net=${nsPath(ns)}`, '--', cmd, ...args], opts);
}

/**
 * Start a long-lived command inside network namespace `ns` (via nsenter).
 * The caller owns the child: kill it (or let Lab.down() do it when it was
 * started with Lab.spawn). stdio defaults to ['ignore', 'pipe', 'pipe'].
 */
export function nsSpawn(ns: string, cmd: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
  return spawn('nsenter', [`--net=${nsPath(ns)}`, '--', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

/**
 * Stop a child: SIGTERM, then SIGKILL after `graceMs`; resolves once it exited.
 * Safe on a child that already exited.
 */
export function stopChild(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    // last resort: never hang a teardown on a process that ignores SIGKILL (D state)
    const giveUp = setTimeout(done, graceMs + 3000);
    function done(): void {
      clearTimeout(kill);
      clearTimeout(giveUp);
      resolve();
    }
    child.once('exit', done);
    if (!child.kill('SIGTERM')) done();
  });
}

/** Directory of this module (dist/src/lab when compiled). */
const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * Compile a small BPF C source (one self-contained translation unit) with
 * clang, once per content: the object is cached as
 * `<dist/src/lab>/.bpf/<name>-<sha256[0:12]>.o`, written atomically so
 * concurrent labs do not race.
 * @returns the object's path
 * @throws LabError XLB_LAB_CMD when clang fails or is missing
 */
export async function buildBpfObject(name: string, source: string): Promise<string> {
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 12);
  const dir = join(HERE, '.bpf');
  const obj = join(dir, `${name}-${hash}.o`);
  try {
    if (statSync(obj).size > 0) return obj;
  } catch {
    /* not built yet */
  }
  mkdirSync(dir, { recursive: true });
  const tag = `${process.pid}-${Math.random().toString(36).slice(2)}`;
  const src = join(dir, `${name}-${hash}.${tag}.c`);
  const tmp = join(dir, `${name}-${hash}.${tag}.o`);
  writeFileSync(src, source);
  try {
    const multiarch = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
    await run('clang', ['-g', '-O2', '-target', 'bpf', `-I/usr/include/${multiarch}`, '-Wall', '-c', src, '-o', tmp]);
    renameSync(tmp, obj);
  } finally {
    rmSync(src, { force: true });
    rmSync(tmp, { force: true });
  }
  return obj;
}

/** What {@link runClient} asks of client.js. */
export interface ClientOptions {
  /** URL to GET, e.g. `http://10.99.0.10/` or `http://[fd99::10]/`; several: request i goes to url[i mod n] */
  url: string | readonly string[];
  /** number of requests (the maximum in duration mode); default 100 */
  count?: number;
  /** requests in flight at once; default 4 */
  concurrency?: number;
  /** per-request timeout, ms; default 2000 */
  timeoutMs?: number;
  /** loop until this many ms have passed (bounded by `count`) */
  durationMs?: number;
  /** overall deadline of the client, ms; default: computed by client.js */
  deadlineMs?: number;
  /** namespace to run in; default the lab's client namespace */
  ns?: string;
}

/** The JSON line client.js prints. */
export interface ClientReport {
  /** requests answered 2xx with an X-Backend header */
  ok: number;
  /** requests that failed (error, timeout, status, no X-Backend) */
  failed: number;
  /** successful answers per backend name */
  byBackend: Record<string, number>;
  /** the first 10 errors, as short strings */
  errors: string[];
  /** requests started */
  started: number;
  /** wall time of the run, ms */
  elapsedMs: number;
}

/** Path of the compiled client script (next to this module). */
export const CLIENT_SCRIPT = join(HERE, 'client.js');

/**
 * Run client.js in the lab's client namespace (or `opts.ns`) and parse its report.
 * The child is killed if it outlives its own deadline by 10 s.
 * @param lab anything with `ns.client` (a Lab)
 * @throws LabError XLB_LAB_CMD when the client fails or prints no report
 */
export async function runClient(lab: { ns: { client: string } }, opts: ClientOptions): Promise<ClientReport> {
  const count = opts.count ?? 100;
  const concurrency = opts.concurrency ?? 4;
  const timeoutMs = opts.timeoutMs ?? 2000;
  const urls = typeof opts.url === 'string' ? [opts.url] : opts.url;
  const args = [CLIENT_SCRIPT, ...urls.flatMap((u) => ['--url', u]), '--count', String(count), '--concurrency', String(concurrency), '--timeout', String(timeoutMs)];
  if (opts.durationMs !== undefined) args.push('--duration-ms', String(opts.durationMs));
  if (opts.deadlineMs !== undefined) args.push('--deadline-ms', String(opts.deadlineMs));
  // the client's own deadline (see client.ts) plus slack for node's start
  const own = opts.deadlineMs ?? (opts.durationMs !== undefined ? opts.durationMs + timeoutMs : Math.ceil(count / concurrency) * timeoutMs + timeoutMs);
  const { stdout } = await nsExec(opts.ns ?? lab.ns.client, process.execPath, args, { timeoutMs: Math.min(own, 600_000) + 10_000 });
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as ClientReport;
  } catch (err) {
    throw new LabError('XLB_LAB_CMD', `client printed no report: ${JSON.stringify(stdout.slice(-200))}`, { cause: err });
  }
}
