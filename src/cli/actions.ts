/**
 * @module cli/actions
 * What the `xlb` commands do: the daemon for `load`, the control socket for
 * `reload` and `status`, the pins for `unload`. Edge module (files, sockets,
 * signals, stdout).
 */
import { existsSync, readFileSync } from 'node:fs';
import { pino, destination, type Logger } from 'pino';
import { loadConfigFile } from '../config/load.js';
import type { XlbConfig } from '../config/model.js';
import { Daemon, pidPath, unloadInstance } from '../daemon/daemon.js';
import { controlPath, controlRequest } from '../daemon/control.js';
import { XlbError } from '../errors.js';
import { EXIT, exitCodeOf, type Actions, type InstanceOpts } from './program.js';
import { createLab, destroyLab } from '../lab/lab.js';
import { findingLine, type VethFinding } from '../daemon/veth-check.js';
import type { BfdRuntimeStatus } from '../bfd/runtime.js';

const out = (s: string): void => void process.stdout.write(`${s}\n`);
const err = (s: string): void => void process.stderr.write(`${s}\n`);

async function instanceOf(opts: InstanceOpts): Promise<string | null> {
  if (opts.instance) return opts.instance;
  if (!opts.config) return 'default';
  // only the instance name is needed: the daemon checks the commands
  const res = await loadConfigFile(opts.config, false);
  if (!res.ok) {
    for (const e of res.errors) err(e.message);
    return null;
  }
  return res.config.instance;
}

function makeLogger(level: string, format: 'json' | 'pretty'): Logger {
  if (format === 'pretty') return pino({ level, transport: { target: 'pino-pretty', options: { destination: 2 } } });
  return pino({ level }, destination(2));
}

async function ask(instance: string, req: Parameters<typeof controlRequest>[1]): Promise<Record<string, unknown>> {
  const path = controlPath(instance);
  try {
    return await controlRequest(path, req);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') throw new XlbError('XLB_ERR_DAEMON_NOT_RUNNING', [path, code]);
    throw e;
  }
}

function pidAlive(instance: string): number | null {
  const p = pidPath(instance);
  if (!existsSync(p)) return null;
  const pid = Number(readFileSync(p, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

/** An interval in µs as `xlb status` prints it: `10ms`, `1.5ms`, `800us`, `2s`. */
function interval(us: number): string {
  if (us < 1000) return `${us}us`;
  if (us < 1_000_000 || us % 1_000_000 !== 0) return `${Math.round(us / 10) / 100}ms`;
  return `${us / 1_000_000}s`;
}

/**
 * The `bfd` part of `xlb status`: one line per session (name, peer, state
 * and diag, negotiated TX interval and detection time, packets, drops), under
 * a heading with the drops no session was found for.
 * @param st the daemon's BFD status
 * @returns the lines, none without sessions
 */
export function bfdStatusLines(st: BfdRuntimeStatus): string[] {
  if (st.sessions.length === 0) return [];
  const dropText = (d: Partial<Record<string, number>>): string =>
    Object.entries(d)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  const drops = dropText(st.drops);
  const lines = [`bfd  received ${st.received}${drops ? `  dropped: ${drops}` : ''}`];
  for (const s of st.sessions) {
    const peer = `${s.peer}${s.local ? ` from ${s.local}` : ''} ${s.multihop ? 'multihop' : 'single hop'}`;
    const detect = s.detectTimeUs === undefined ? 'detect -' : `detect ${interval(s.detectTimeUs)}`;
    const own = dropText(s.drops);
    const tail = `${s.draining ? '  (removed, draining)' : ''}${s.sendErrors ? `  send errors ${s.sendErrors}` : ''}${own ? `  dropped: ${own}` : ''}`;
    const echo =
      s.echoState === undefined || s.echoState === 'off'
        ? ''
        : `  echo ${s.echoState}${s.echoIntervalUs ? ` ${interval(s.echoIntervalUs)}` : ''} out ${s.echoSent} back ${s.echoReturned}${s.echoFailures ? ` failures ${s.echoFailures}` : ''}${s.echoLate ? ` late ${s.echoLate}` : ''}`;
    lines.push(`  ${s.name}  ${peer}  ${s.state} (diag ${s.diag})  tx ${interval(s.txIntervalUs)}  ${detect}  packets in ${s.packetsIn} out ${s.packetsOut}${echo}${tail}`);
  }
  return lines;
}

/** What a valid config runs, for `xlb validate`: "2 services, 1 VRRP instance, 3 BFD sessions". */
export function summary(config: XlbConfig): string {
  const n = (k: number, one: string): string => `${k} ${one}${k === 1 ? '' : 's'}`;
  const parts = [n(config.services.length, 'service')];
  const vrrp = config.vrrp?.instances.length ?? 0;
  if (vrrp) parts.push(n(vrrp, 'VRRP instance'));
  const bfd = config.bfd?.instances.length ?? 0;
  if (bfd) parts.push(n(bfd, 'BFD session'));
  return parts.join(', ');
}

/** The real actions. */
export const realActions: Actions = {
  async load(config) {
    const res = await loadConfigFile(config);
    if (!res.ok) {
      for (const e of res.errors) err(e.message);
      return EXIT.FAILED;
    }
    const log = makeLogger(res.config.log.level, res.config.log.format);
    let daemon: Daemon;
    try {
      daemon = await Daemon.start(res.config, log);
    } catch (e) {
      log.fatal({ err: e }, 'xlb could not start');
      await new Promise((r) => setTimeout(r, 50));
      return exitCodeOf(e);
    }
    log.info({ instance: res.config.instance, pid: process.pid }, 'xlb running');
    return new Promise<number>((resolve) => {
      process.on('SIGHUP', () => {
        log.info('SIGHUP: reloading');
        void daemon.reload();
      });
      const stop = (sig: string): void => {
        log.info({ sig }, 'stopping the control plane; the XDP program keeps forwarding (xlb unload removes it)');
        void daemon.stop().then(() => resolve(EXIT.OK));
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
  },

  async validate(configs) {
    let code: number = EXIT.OK;
    for (const c of configs) {
      // commands are checked as a root daemon would run them, whoever validates
      const res = await loadConfigFile(c, { euid: 0 });
      if (res.ok) out(`${c}: ok (${summary(res.config)})`);
      else {
        for (const e of res.errors) err(e.message);
        code = EXIT.FAILED;
      }
    }
    return code;
  },

  async reload(opts) {
    const instance = await instanceOf(opts);
    if (!instance) return EXIT.FAILED;
    const reply = await ask(instance, opts.file ? { cmd: 'reload', config: opts.file } : { cmd: 'reload' });
    if (reply.ok) {
      const s = reply.summary as { added: string[]; removed: string[]; changed: string[]; unchanged: number } | undefined;
      out(`reloaded: ${s ? `${s.added.length} added, ${s.removed.length} removed, ${s.changed.length} changed, ${s.unchanged} unchanged` : 'ok'}`);
      return EXIT.OK;
    }
    for (const e of [...((reply.errors as string[]) ?? []), ...((reply.failures as string[]) ?? [])]) err(e);
    if (reply.error) err(String(reply.error));
    err('reload rejected: the running config stays in force');
    return EXIT.FAILED;
  },

  async status(opts) {
    const instance = await instanceOf(opts);
    if (!instance) return EXIT.FAILED;
    const reply = await ask(instance, { cmd: 'status' });
    if (opts.json) {
      out(JSON.stringify(reply, null, 2));
      return EXIT.OK;
    }
    const xdp = reply.xdp as { loaded: boolean } | undefined;
    const where = xdp && !xdp.loaded ? 'no XDP program (no interfaces)' : `interfaces ${(reply.interfaces as string[]).join(', ')}`;
    out(`instance ${reply.instance} (pid ${reply.pid}, up ${reply.uptimeSeconds}s), config ${reply.config}, ${where}`);
    for (const f of (reply.veth as VethFinding[] | undefined) ?? []) out(`  ${findingLine(f)}`);
    type Backend = { backend: string; state: string; weight: number; packets: number; reason?: string };
    for (const s of reply.services as { name: string; vip: string; mode: string; quorum: string; packets: number; newFlows: number; backends: Backend[] }[]) {
      out(`  ${s.name}  ${s.vip}  ${s.mode}  packets ${s.packets}  new flows ${s.newFlows}${s.quorum !== 'ok' ? `  quorum ${s.quorum}` : ''}`);
      for (const b of s.backends) out(`    ${b.backend}  ${b.state}  weight ${b.weight}  packets ${b.packets}${b.reason ? `  (${b.reason})` : ''}`);
    }
    type Vrrp = { name: string; vrid: number; interface: string; family: number; state: string; reason: string; basePriority: number; effectivePriority: number; master?: { address: string; priority: number }; advertsSent: number; advertsReceived: number; drops: Record<string, number> };
    const vrrp = (reply.vrrp as Vrrp[] | undefined) ?? [];
    if (vrrp.length) out('vrrp');
    for (const v of vrrp) {
      const master = v.state === 'BACKUP' && v.master ? `  master ${v.master.address} (${v.master.priority})` : '';
      const drops = Object.entries(v.drops).map(([k, n]) => `${k} ${n}`).join(', ');
      out(`  ${v.name}  vrid ${v.vrid} on ${v.interface} IPv${v.family}  ${v.state} (${v.reason})  priority ${v.effectivePriority}/${v.basePriority}${master}  adverts sent ${v.advertsSent} received ${v.advertsReceived}${drops ? `  dropped: ${drops}` : ''}`);
    }
    if (reply.bfd) for (const line of bfdStatusLines(reply.bfd as BfdRuntimeStatus)) out(line);
    return EXIT.OK;
  },

  async lab(action, opts) {
    if (action === 'down') {
      await destroyLab(opts.prefix);
      out(`lab ${opts.prefix} removed`);
      return EXIT.OK;
    }
    const lab = await createLab({ prefix: opts.prefix });
    out(`lab ${opts.prefix} up in ${Math.round(lab.timings.upMs)} ms (tunnel decapsulation: ${lab.decap})`);
    out(`  client   ${lab.ns.client}: ${lab.client.v4}, ${lab.client.v6}`);
    out(`  xlb node ${lab.ns.node}: xlb0 (clients) ${lab.node.clientV4}, xlb1 (backends) ${lab.node.backendV4}; VIPs ${lab.vip4}, ${lab.vip6}`);
    for (const b of lab.backends) out(`  backend  ${b.ns}: ${b.v4}, ${b.v6} (HTTP on ${lab.backendPorts.join(', ')})`);
    out(`run xlb in it:   nsenter --net=/var/run/netns/${lab.ns.node} xlb load examples/lab.yaml`);
    out(`send a request:  nsenter --net=/var/run/netns/${lab.ns.client} node -e "fetch('http://${lab.vip4}/').then(r=>r.text()).then(console.log)"`);
    out('Ctrl-C tears the lab down.');
    // handlers stay installed while tearing down: a second Ctrl-C must not cut it short
    await new Promise<void>((resolve) => {
      process.on('SIGINT', () => resolve());
      process.on('SIGTERM', () => resolve());
    });
    await lab.down();
    out(`lab ${opts.prefix} torn down`);
    return EXIT.OK;
  },

  async unload(opts) {
    const instance = await instanceOf(opts);
    if (!instance) return EXIT.FAILED;
    const pid = pidAlive(instance);
    if (pid) {
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 100 && pidAlive(instance); i++) await new Promise((r) => setTimeout(r, 50));
    }
    const gone = unloadInstance(instance);
    out(`unloaded ${instance}: ${gone.links.length ? `detached from ${gone.links.join(', ')}` : 'no XDP links'}, ${gone.maps.length} pinned maps removed`);
    return EXIT.OK;
  },
};
