/**
 * @module security/command
 * What a command xlb runs is, as data: argv (never a shell), the user it
 * runs as, and what the load-time check (./script-security.ts) resolved:
 * the executable's path and the ids. Shared by the config model, the health
 * and VRRP specs, and the spawners.
 *
 * Layer: pure data and one pure mapping ({@link spawnArgs}); no I/O.
 */

/** Credentials a command runs with. */
export interface RunAs {
  /** User id passed to spawn. */
  uid: number;
  /** Primary group id passed to spawn (libuv drops supplementary groups when it switches). */
  gid: number;
}

/**
 * A command xlb runs: argv (never through a shell), who runs it, and what
 * the load-time check found for it.
 */
export interface ScriptCommand {
  /** argv as written; argv[0] a path or a name looked up in PATH. */
  argv: string[];
  /** Run as: `name`, `uid`, `name:group` or `uid:gid`; absent = `script_user`, else the daemon's user. */
  user?: string;
  /** The absolute path argv[0] resolved to at load; spawned instead of a new lookup. */
  path?: string;
  /** The ids to switch to, resolved at load; absent = the daemon's own. */
  runAs?: RunAs;
}

/** What a spawner needs of a command: argv, and what the check resolved. */
export interface ResolvedCommand {
  readonly argv: readonly string[];
  readonly path?: string;
  readonly runAs?: RunAs;
}

/** The file to exec, its arguments, and the argv0/uid/gid spawn options of a command. */
export function spawnArgs(cmd: ResolvedCommand): { file: string; args: string[]; options: { argv0: string; uid?: number; gid?: number } } {
  const options: { argv0: string; uid?: number; gid?: number } = { argv0: cmd.argv[0]! };
  if (cmd.runAs) {
    options.uid = cmd.runAs.uid;
    options.gid = cmd.runAs.gid;
  }
  return { file: cmd.path ?? cmd.argv[0]!, args: cmd.argv.slice(1), options };
}
