/**
 * @module cli/program
 * The `xlb` command line (commander): builds the program with its actions
 * injected, so tests can run it with fakes (H-46). Exit codes are decided in
 * one place (`exitCodeOf`) and documented in the README.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { XlbError } from '../errors.js';
import { SERVICE_MODES } from '../config/model.js';
import { CHECK_TYPES } from '../health/spec.js';

/** The one line under the usage in `xlb --help`. */
export const DESCRIPTION = 'eBPF/XDP L4 load balancer with high availability';

/**
 * What xlb runs, by the config sections that turn each part on: printed
 * after the commands in `xlb --help`, as written (lines under 80 columns).
 * Built from the lists the config accepts (modes, check types), so that a new
 * one shows up here by itself.
 */
export const FEATURES = [
  '',
  'What it runs, by config section (keepalived + IPVS, or Katran, in one tool):',
  `  services  XDP forwarding (${SERVICE_MODES.join(', ')}), Maglev consistent hashing,`,
  '            connection tracking, IPv4 and IPv6',
  "  health    keepalived's health checkers:",
  `            ${CHECK_TYPES.join(', ')};`,
  '            rise/fall, inhibit, quorum and sorry server, notify commands',
  '  vrrp      VRRP v2 and v3 (IPv4, IPv6), interoperable with keepalived:',
  '            preemption, unicast peers, sync groups, tracked interfaces and',
  '            scripts, notify scripts; alone too, for a floating IP',
  '  metrics   Prometheus /metrics; reloads (SIGHUP, xlb reload) and daemon',
  '            restarts keep every flow',
  '',
  'examples/full.yaml explains every key; the README has the rest.',
].join('\n');

/** Process exit codes of xlb. */
export const EXIT = {
  /** success */
  OK: 0,
  /** invalid config, rejected reload, failed operation */
  FAILED: 1,
  /** bad command line */
  USAGE: 2,
  /** no daemon runs for the instance */
  NOT_RUNNING: 3,
  /** a kernel or system call failed (permissions, BPF, netlink) */
  SYSTEM: 4,
} as const;

/** Which instance a command is about: by name, or by the config that names it. */
export interface InstanceOpts {
  instance?: string;
  config?: string;
}

/** What the commands do; src/cli/actions.ts has the real ones. */
export interface Actions {
  load(config: string): Promise<number>;
  validate(configs: string[]): Promise<number>;
  reload(opts: InstanceOpts & { file?: string }): Promise<number>;
  status(opts: InstanceOpts & { json?: boolean }): Promise<number>;
  unload(opts: InstanceOpts): Promise<number>;
  lab(action: 'up' | 'down', opts: { prefix: string }): Promise<number>;
}

function instanceName(v: string): string {
  if (!/^[a-z0-9][a-z0-9_-]{0,31}$/.test(v)) throw new InvalidArgumentError('expected an instance name: [a-z0-9][a-z0-9_-]{0,31}');
  return v;
}

/**
 * Build the program. `run(code)` receives each action's exit code.
 * @param actions the command implementations
 */
export function buildProgram(actions: Actions, run: (p: Promise<number>) => void): Command {
  const program = new Command('xlb')
    .description(DESCRIPTION)
    .addHelpText('after', FEATURES)
    .version('0.1.0')
    .showHelpAfterError('(xlb <command> --help for usage)')
    // errors become CommanderError (exit code decided by exitCodeOf); set
    // before the commands are added, so that they inherit it
    .exitOverride();
  program
    .command('load')
    .description('run the daemon in the foreground for a config (SIGHUP reloads it); the XDP program keeps forwarding when the daemon exits')
    .argument('<config>', 'config file (YAML)')
    .action((config: string) => run(actions.load(config)));
  program
    .command('validate')
    .description('check config files; exit 0 if all are valid, 1 with every error listed otherwise')
    .argument('<config...>', 'config files (YAML)')
    .action((configs: string[]) => run(actions.validate(configs)));
  const withInstance = (c: Command): Command =>
    c.option('-i, --instance <name>', 'instance name (default: "default", or the one the --config file names)', instanceName).option('-c, --config <file>', 'take the instance name from this config');
  withInstance(
    program
      .command('reload')
      .description('ask the running daemon to validate and apply its config file again (or --file); a rejected config changes nothing')
      .option('-f, --file <config>', 'apply this config file instead of the one the daemon was started with'),
  ).action((opts: InstanceOpts & { file?: string }) => run(actions.reload(opts)));
  withInstance(program.command('status').description('show the running daemon: services, backends, health, counters, VRRP instances').option('--json', 'print JSON')).action((opts: InstanceOpts & { json?: boolean }) =>
    run(actions.status(opts)),
  );
  withInstance(program.command('unload').description('stop the daemon if it runs, detach the XDP program and remove the pinned maps (drops the connection table)')).action((opts: InstanceOpts) =>
    run(actions.unload(opts)),
  );
  const lab = program
    .command('lab')
    .description('the test lab: network namespaces with a client, an xlb node and three HTTP backends (examples/lab.yaml fits it)');
  const prefixOpt = (c: Command): Command =>
    c.option('-p, --prefix <name>', 'name prefix of the namespaces', (v: string) => {
      if (!/^[a-z][a-z0-9]{0,14}$/.test(v)) throw new InvalidArgumentError('expected a prefix: [a-z][a-z0-9]{0,14}');
      return v;
    }, 'xlab');
  prefixOpt(lab.command('up').description('build the lab and keep it until interrupted (Ctrl-C tears it down)')).action((opts: { prefix: string }) => run(actions.lab('up', opts)));
  prefixOpt(lab.command('down').description('remove a lab left behind (namespaces and what runs in them)')).action((opts: { prefix: string }) => run(actions.lab('down', opts)));
  return program;
}

/** The exit code for an error that reached the top. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  if (err instanceof XlbError) {
    if (err.code === 'XLB_ERR_DAEMON_NOT_RUNNING') return EXIT.NOT_RUNNING;
    if (err.code.startsWith('XLB_ERR_CONFIG') || err.code === 'XLB_ERR_DAEMON_APPLY') return EXIT.FAILED;
    if (err.code === 'XLB_ERR_CLI_USAGE') return EXIT.USAGE;
    return EXIT.SYSTEM;
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return EXIT.SYSTEM;
  return EXIT.FAILED;
}
