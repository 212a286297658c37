/**
 * @module security/script-security
 * Script security: who may change a command xlb runs, and who it runs as
 * (keepalived's `enable_script_security` and `script_user`, stricter).
 *
 * Every command of a config (misc checks, notify_up/notify_down,
 * quorum_up/quorum_down, VRRP scripts and notify commands) is checked when a
 * config is loaded or reloaded:
 * - argv[0] is resolved as execvp would: a path with a slash must be
 *   absolute; a bare name is looked up in the daemon's PATH (absolute entries
 *   only; the first regular file with an execute bit wins). The command then
 *   always runs from that path, never from a second lookup;
 * - the executable, every directory on its path, every symbolic link on the
 *   way (the directory holding it, then the link's target and its
 *   directories), and a `#!` interpreter the same way (with `#!/usr/bin/env
 *   NAME`, NAME as env finds it in PATH too), must be owned by root
 *   (or by the daemon's own user when it is not root) and writable by
 *   neither group nor others, sticky bit or not: anyone who can change any of
 *   them could run code as the command's user, root by default;
 * - the user (`user`, `user:group`, numeric ids too) is resolved through NSS
 *   (`getent`); an unknown user or group is an error. A daemon that cannot
 *   switch users (not root, and without both CAP_SETUID and CAP_SETGID, as
 *   keepalived's non-root unit has) refuses a command of another user: an
 *   error, never a silent run as itself.
 *
 * A refusal is a config error at the command's file:line:col naming the path
 * and the reason (`/opt/x/check: writable by group 100 (mode 0775)`). With
 * the check off (`allow_unsafe_scripts: true`), paths and users are still
 * resolved, only the ownership and mode rules are skipped.
 *
 * Where: its own room, because it serves three others: config (the errors at
 * load), health and VRRP (the resolved path and ids they spawn with). It is
 * not config/ (pure parsing, no file system) and not health/ (VRRP uses it).
 *
 * Layer: control-plane edge: reads the file system (lstat, readlink, a few
 * bytes of a script) and runs `getent`. {@link unsafeReason} is pure. It
 * never spawns a command itself and never changes a file.
 */
import { execFile } from 'node:child_process';
import { accessSync, closeSync, constants as fsConstants, lstatSync, openSync, readFileSync, readlinkSync, readSync, statSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import type { RunAs } from './command.js';

export type { ResolvedCommand, RunAs, ScriptCommand } from './command.js';

/** PATH used when the daemon has none (execvp's default, with the sbin directories first). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Symbolic links followed before giving up (the kernel's limit, ELOOP). */
const MAX_SYMLINKS = 40;
/** Bytes read to find a `#!` line (the kernel reads 256 in Linux 5.1+). */
const SHEBANG_BYTES = 256;
/** Time allowed for one `getent` lookup, ms. */
const GETENT_TIMEOUT_MS = 5000;

/** The ownership and mode of one file system object. */
export interface Owned {
  uid: number;
  gid: number;
  /** st_mode (permission bits and type). */
  mode: number;
}

/**
 * Why an object on a command's path makes it unsafe, or undefined when it
 * is safe: owned by a user outside `trusted`, or writable by group or others
 * (the ACL mask shows in the group bits, so ACL grants are caught too).
 * @param st the object's owner, group and mode
 * @param trusted uids that may own it: root, and the daemon's user
 */
export function unsafeReason(st: Owned, trusted: ReadonlySet<number>): string | undefined {
  const why: string[] = [];
  if (!trusted.has(st.uid)) why.push(`owned by uid ${st.uid}`);
  if (st.mode & 0o020) why.push(`writable by group ${st.gid}`);
  if (st.mode & 0o002) why.push('writable by others');
  return why.length === 0 ? undefined : `${why.join(', ')} (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')})`;
}

/** A command's path refused, or not found. */
export class ScriptPathError extends Error {
  /**
   * @param path the offending file or directory
   * @param reason why: `writable by others (mode 0777)`, `not found`
   */
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

function errnoText(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === 'ENOENT') return 'not found';
  if (code === 'ENOTDIR') return 'a component is not a directory';
  if (code === 'EACCES') return 'permission denied';
  return code ?? String(err);
}

/**
 * Walk an absolute path as the kernel resolves it, one component at a time,
 * following every symbolic link; each directory passed through and the
 * final object, with their stats.
 * @param abs an absolute path
 * @returns the objects in the order met; the last is the final object
 * @throws ScriptPathError when a component is missing, not a directory, or links loop
 */
export function walkPath(abs: string): { path: string; st: Stats }[] {
  const out: { path: string; st: Stats }[] = [];
  const seen = new Set<string>();
  const record = (p: string, st: Stats): void => {
    if (seen.has(p)) return;
    seen.add(p);
    out.push({ path: p, st });
  };
  record('/', lstatSync('/'));
  let cur = '/';
  let todo = abs.split('/').filter((s) => s !== '');
  let links = 0;
  while (todo.length > 0) {
    const name = todo.shift()!;
    if (name === '.') continue;
    if (name === '..') {
      cur = posix.dirname(cur);
      continue;
    }
    const next = posix.join(cur, name);
    let st: Stats;
    try {
      st = lstatSync(next);
    } catch (err) {
      throw new ScriptPathError(next, errnoText(err));
    }
    if (st.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) throw new ScriptPathError(abs, `more than ${MAX_SYMLINKS} symbolic links`);
      const target = readlinkSync(next);
      // the link's own directory (cur) is recorded already; go on from its target
      if (target.startsWith('/')) cur = '/';
      todo = [...target.split('/').filter((s) => s !== ''), ...todo];
      continue;
    }
    if (todo.length > 0 && !st.isDirectory()) throw new ScriptPathError(next, 'not a directory');
    record(next, st);
    cur = next;
  }
  return out;
}

/**
 * Resolve argv[0] as execvp would, with the stricter rules of the module
 * comment.
 * @param argv0 the command's first word
 * @param envPath the PATH to search (default: the daemon's, else {@link DEFAULT_PATH})
 * @returns the absolute path to exec
 * @throws ScriptPathError for a relative path, or nothing found
 */
export function resolveExecutable(argv0: string, envPath: string | undefined = process.env.PATH): string {
  if (argv0.includes('/')) {
    if (!argv0.startsWith('/')) throw new ScriptPathError(argv0, 'a relative path: write an absolute path, or a bare name looked up in PATH');
    return argv0;
  }
  const dirs = (envPath || DEFAULT_PATH).split(':').filter((d) => d.startsWith('/')); // "" and relative entries would search the cwd
  for (const d of dirs) {
    const p = posix.join(d, argv0);
    try {
      if (!statSync(p).isFile()) continue;
      accessSync(p, fsConstants.X_OK);
      return p;
    } catch {
      // not here (or not executable): go on, as execvp does
    }
  }
  throw new ScriptPathError(argv0, `not found in PATH (${dirs.join(':')})`);
}

/**
 * The interpreter of a `#!` script and its first argument, or undefined (a
 * binary, or no `#!` with an absolute path).
 */
function interpreterOf(file: string): { interp: string; arg?: string } | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined; // not readable by the daemon: exec will say so at run time
  }
  try {
    const buf = Buffer.alloc(SHEBANG_BYTES);
    const n = readSync(fd, buf, 0, SHEBANG_BYTES, 0);
    if (n < 2 || buf[0] !== 0x23 || buf[1] !== 0x21) return undefined;
    const line = buf.subarray(2, n).toString('latin1').split('\n')[0]!.trim();
    const [interp, arg] = line.split(/[ \t]+/);
    if (!interp || !interp.startsWith('/')) return undefined;
    return arg ? { interp, arg } : { interp };
  } finally {
    closeSync(fd);
  }
}

/**
 * Check that nobody but root (or the daemon's user) can change what `path`
 * runs: the file, every directory and link on the way, and its `#!`
 * interpreter; for `#!/usr/bin/env NAME`, also NAME as env finds it in PATH.
 * @param path an absolute path to an executable
 * @param trusted uids allowed to own them
 * @param envPath the PATH `env` would search (default the daemon's)
 * @throws ScriptPathError on the first refusal (the path named is the offending object)
 */
export function checkExecutablePath(path: string, trusted: ReadonlySet<number>, envPath?: string, depth = 0): void {
  const chain = walkPath(path);
  const last = chain[chain.length - 1]!;
  if (!last.st.isFile()) throw new ScriptPathError(last.path, 'not a regular file');
  for (const { path: p, st } of chain) {
    const why = unsafeReason(st, trusted);
    if (why) throw new ScriptPathError(p, why);
  }
  const shebang = depth === 0 ? interpreterOf(last.path) : undefined;
  if (shebang === undefined) return;
  const { interp, arg } = shebang;
  try {
    checkExecutablePath(interp, trusted, envPath, depth + 1);
    // env runs its first non-option argument from PATH
    if (posix.basename(interp) === 'env' && arg !== undefined && !arg.startsWith('-') && !arg.includes('=')) {
      checkExecutablePath(resolveExecutable(arg, envPath), trusted, envPath, depth + 1);
    }
  } catch (err) {
    if (err instanceof ScriptPathError) throw new ScriptPathError(err.path, `${err.reason} (the #! interpreter of ${path})`);
    throw err;
  }
}

/** Looks a user or group up: the passwd or group entry's fields, or undefined when unknown. */
export type NssLookup = (db: 'passwd' | 'group', key: string) => Promise<string[] | undefined>;

/** `getent <db> <key>` (NSS: files, LDAP, systemd dynamic users...). */
export const getent: NssLookup = (db, key) =>
  new Promise((resolve, reject) => {
    execFile('getent', [db, key], { timeout: GETENT_TIMEOUT_MS }, (err, stdout) => {
      // exit 2: key not found
      if (err && (err as { code?: unknown }).code === 2) return resolve(undefined);
      if (err) return reject(new Error(`getent ${db} ${key}: ${err.message}`));
      const line = stdout.split('\n')[0] ?? '';
      resolve(line === '' ? undefined : line.split(':'));
    });
  });

/** CAP_SETGID and CAP_SETUID (linux/capability.h). */
const CAP_SETGID = 6n;
const CAP_SETUID = 7n;

/**
 * Whether this process can switch to another user: root, or both
 * CAP_SETUID and CAP_SETGID effective (/proc/self/status CapEff).
 * @param euid the effective uid
 * @param status the text of /proc/self/status (default: read it)
 */
export function canSwitchUsers(euid: number, status?: string): boolean {
  if (euid === 0) return true;
  let text = status;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/status', 'utf8');
    } catch {
      return false;
    }
  }
  const m = /^CapEff:\s*([0-9a-f]+)$/im.exec(text);
  if (!m) return false;
  const caps = BigInt(`0x${m[1]}`);
  return ((caps >> CAP_SETUID) & 1n) === 1n && ((caps >> CAP_SETGID) & 1n) === 1n;
}

/** A `user` value that does not resolve. */
export class ScriptUserError extends Error {}

/**
 * Resolve `user`, `uid`, `user:group` or `uid:gid` to ids.
 * @param spec the value as written
 * @param lookup NSS lookup (default getent)
 * @throws ScriptUserError for an unknown user or group
 */
export async function resolveUser(spec: string, lookup: NssLookup = getent): Promise<RunAs> {
  const colon = spec.indexOf(':');
  const user = colon < 0 ? spec : spec.slice(0, colon);
  const group = colon < 0 ? undefined : spec.slice(colon + 1);
  const pw = await lookup('passwd', user);
  const uid = Number(pw?.[2]);
  const pgid = Number(pw?.[3]);
  if (!pw || !Number.isInteger(uid) || !Number.isInteger(pgid)) throw new ScriptUserError(`unknown user ${JSON.stringify(user)}`);
  if (group === undefined || group === '') return { uid, gid: pgid };
  const gr = await lookup('group', group);
  const gid = Number(gr?.[2]);
  if (!gr || !Number.isInteger(gid)) throw new ScriptUserError(`unknown group ${JSON.stringify(group)}`);
  return { uid, gid };
}

/** One command of a config, where it was written, and the object the check annotates. */
export interface CommandSite {
  /** argv as written. */
  argv: readonly string[];
  /** The command's own `user`, if any. */
  user?: string;
  /** Where the command was written (its value). */
  at: { file: string; line: number; col: number };
  /** Dotted key of the command. */
  key: string;
  /** Gets `path` (always) and `runAs` (when the command switches users) when the check passes. */
  resolved: { path?: string; runAs?: RunAs };
}

/** Options of {@link secureCommands}. */
export interface SecureOptions {
  /** Enforce ownership and mode (default true); false = `allow_unsafe_scripts`. */
  enforce?: boolean;
  /** The global `script_user`, for commands without a `user`. */
  defaultUser?: string;
  /** PATH for bare names (default the daemon's). */
  envPath?: string;
  /** The daemon's effective uid (default process.geteuid()); `xlb validate` passes 0: it checks as a root daemon would. */
  euid?: number;
  /** Whether the daemon can switch users (default {@link canSwitchUsers}). */
  canSwitch?: boolean;
  /** NSS lookup (default getent). */
  lookup?: NssLookup;
}

/** A refused command: where, and why. */
export interface CommandRefusal {
  site: CommandSite;
  message: string;
}

/**
 * Check and resolve every command of a config (see the module comment).
 * Sites that pass get `resolved.path` and, when they switch users,
 * `resolved.runAs`.
 * @param sites the config's commands
 * @param opts see {@link SecureOptions}
 * @returns one refusal per refused command; empty = all passed
 */
export async function secureCommands(sites: readonly CommandSite[], opts: SecureOptions = {}): Promise<CommandRefusal[]> {
  const enforce = opts.enforce ?? true;
  const euid = opts.euid ?? process.geteuid?.() ?? 0;
  const egid = process.getegid?.() ?? 0;
  const trusted = new Set([0, euid]);
  const canSwitch = opts.canSwitch ?? (opts.euid === undefined ? canSwitchUsers(euid) : euid === 0);
  const lookup = opts.lookup ?? getent;
  const users = new Map<string, Promise<RunAs>>();
  // one walk of the file system per command name: a service's misc check is a site of every backend
  const paths = new Map<string, { path: string } | { refused: string }>();
  const checkPath = (name: string): { path: string } | { refused: string } => {
    try {
      const path = resolveExecutable(name, opts.envPath);
      if (enforce) checkExecutablePath(path, trusted, opts.envPath);
      else if (!statSync(path).isFile()) throw new ScriptPathError(path, 'not a regular file');
      return { path };
    } catch (err) {
      if (err instanceof ScriptPathError) return { refused: `command refused: ${err.path}: ${err.reason}` };
      return { refused: `command refused: ${name}: ${errnoText(err)}` };
    }
  };
  const out: CommandRefusal[] = [];
  await Promise.all(
    sites.map(async (site) => {
      const refuse = (message: string): void => void out.push({ site, message });
      const name = site.argv[0] ?? '';
      let checked = paths.get(name);
      if (!checked) paths.set(name, (checked = checkPath(name)));
      if ('refused' in checked) return refuse(checked.refused);
      const { path } = checked;
      const user = site.user ?? opts.defaultUser;
      let runAs: RunAs | undefined;
      if (user !== undefined) {
        let p = users.get(user);
        if (!p) users.set(user, (p = resolveUser(user, lookup)));
        try {
          runAs = await p;
        } catch (err) {
          refuse(`${err instanceof ScriptUserError ? err.message : String(err)}${site.user === undefined ? ' (script_user)' : ''}`);
          return;
        }
        if (runAs.uid === euid && runAs.gid === egid) runAs = undefined;
        else if (!canSwitch) {
          refuse(`cannot run as ${JSON.stringify(user)} (uid ${runAs.uid}, gid ${runAs.gid}): the daemon runs as uid ${euid}; switching users needs root, or CAP_SETUID and CAP_SETGID`);
          return;
        }
      }
      site.resolved.path = path;
      if (runAs) site.resolved.runAs = runAs;
      else delete site.resolved.runAs;
    }),
  );
  out.sort((a, b) => a.site.at.line - b.site.at.line || a.site.at.col - b.site.at.col);
  return out;
}
