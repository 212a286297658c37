/**
 * A VRRP-only config (issue 14 item 2) against keepalived 2.2.7: xlb runs a
 * floating address alone, as `keepalived -P` does for an HAProxy or nginx
 * pair, with no services and no interfaces, then gains a service by a
 * reload and loses it again.
 *
 * The lab (test/support/vrrp-lab.ts): xlb in node a (priority 150),
 * keepalived in node b (priority 100), VRRPv3 on eth0, virtual router 51,
 * VIP 10.98.0.100; a client in c and one backend d1 (the VIP on its lo).
 * 1. VRRP only: they elect (xlb MASTER), no XDP program is attached and
 *    nothing is pinned, `xlb status` (text, --json) and /metrics show the VRRP
 *    side; `xlb unload` stops xlb (keepalived takes the VIP) and finds nothing
 *    to remove; xlb started again takes the VIP back.
 * 2. A reload adds interfaces and a dr service on the VIP: the program is
 *    attached to eth0 and pinned, and the client's request is answered by d1
 *    through it.
 * 3. A reload back to the VRRP-only file: the program is detached, the pins
 *    are gone, the VIP no longer forwards (a's kernel refuses the
 *    connection), and VRRP goes on as MASTER.
 *
 * Root only; skipped otherwise. Everything is torn down even on failure.
 * XLB_E2E_LOG=1 prints the daemons' logs.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopChild } from '../../src/lab/exec.js';
import { controlPath, controlRequest, waitForDaemon } from '../../src/daemon/control.js';
import { pidPath, pinRoot, unloadInstance } from '../../src/daemon/daemon.js';
import { until } from '../support/e2e.js';
import { xlbCli } from '../support/xlb-daemon.js';
import { backendV4, createVrrpLab, keepalivedConf, VLAB, type VrrpLab } from '../support/vrrp-lab.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const NAME = `xo${process.pid % 100000}`;
const METRICS = 9911;

/** The VRRP-only file: instance, metrics and vrrp alone. */
const VRRP_ONLY = `instance: ${NAME}
metrics: { listen: 127.0.0.1:${METRICS} }
log: { level: info }
vrrp:
  defaults: { version: 3, garp_master_delay: 1s, garp_master_repeat: 2 }
  instances:
    - name: VI_1
      interface: eth0
      virtual_router_id: 51
      priority: 150
      advert_int: 100ms
      virtual_ipaddress: [${VLAB.vip4}/24]
`;

/** The same with an interface and a dr service on the VIP. */
const WITH_SERVICE = `${VRRP_ONLY}interfaces: [{ name: eth0 }]
services:
  - name: web
    address: ${VLAB.vip4}
    port: 80
    mode: dr
    backends:
      - { address: ${backendV4(1)}, interface: eth0 }
`;

/** Run the built CLI (from the root namespace: the control socket is a file). */
const xlb = xlbCli;

describe('a VRRP-only config against keepalived', { skip: !isRoot && 'needs root (netns, XDP)' }, () => {
  let lab: VrrpLab;
  let daemon: ChildProcess | undefined;
  let ka: ChildProcess | undefined;
  let log = '';
  const file = (): string => join(lab.dir, `${NAME}.yaml`);
  const pins = (): string => `${pinRoot()}/${NAME}`;

  const start = async (): Promise<void> => {
    const d = lab.spawn('a', process.execPath, [CLI, 'load', file()]);
    d.stdout?.on('data', (b: Buffer) => (log += b.toString()));
    d.stderr?.on('data', (b: Buffer) => (log += b.toString()));
    daemon = d;
    await waitForDaemon(NAME, 15_000, () => log);
  };
  const status = (): Promise<Record<string, unknown>> => controlRequest(controlPath(NAME), { cmd: 'status' });
  const vrrpState = async (): Promise<string | undefined> => ((await status()).vrrp as { state: string }[] | undefined)?.[0]?.state;
  const reload = async (text: string): Promise<void> => {
    writeFileSync(file(), text);
    const r = await xlb(['reload', '-i', NAME]);
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}\n${log}`);
  };
  /** The XDP program on node a's eth0, as `ip -j link` shows it (undefined: none). */
  const xdpOnEth0 = async (): Promise<unknown> => {
    const [l] = JSON.parse(await lab.exec('a', 'ip', ['-j', 'link', 'show', 'dev', 'eth0'])) as { xdp?: unknown }[];
    return l?.xdp;
  };
  /** The client pings `address` and its neighbour entry for it is `mac`. */
  const clientReaches = async (address: string, mac: string): Promise<true | undefined> => {
    try {
      await lab.exec('c', 'ping', ['-4', '-c', '1', '-W', '1', address]);
    } catch {
      return undefined;
    }
    return (await lab.clientNeighbour(address)) === mac ? true : undefined;
  };
  const metrics = (): Promise<string> => lab.exec('a', 'curl', ['-sf', '-m', '5', `http://127.0.0.1:${METRICS}/metrics`]);
  /** A GET of the VIP from the client: the backend that answered, or the error. */
  const get = async (): Promise<string> => {
    try {
      const out = await lab.exec('c', 'curl', ['-s', '-m', '3', '-D', '-', '-o', '/dev/null', `http://${VLAB.vip4}/`]);
      return /x-backend: (\S+)/i.exec(out)?.[1] ?? `no x-backend in ${JSON.stringify(out)}`;
    } catch (err) {
      return `error: ${(err as Error).message.split('\n')[0]}`;
    }
  };

  before(async () => {
    lab = await createVrrpLab(`xo${process.pid % 100000}`, { backends: 1 });
    writeFileSync(file(), VRRP_ONLY);
    ka = lab.keepalived('b', keepalivedConf(lab.prefix, 100, 100));
    ka.stderr?.on('data', (b: Buffer) => (log += `[keepalived] ${b.toString()}`));
    await start();
  });

  after(async () => {
    if (daemon) await stopChild(daemon, 5000);
    if (ka) await stopChild(ka, 3000);
    rmSync(controlPath(NAME), { force: true });
    rmSync(pidPath(NAME), { force: true });
    try {
      unloadInstance(NAME);
    } catch {
      /* nothing pinned */
    }
    await lab?.down();
    if (process.env.XLB_E2E_LOG) process.stderr.write(`--- logs\n${log}\n`);
  });

  it('elects with keepalived, pins nothing, shows VRRP in status and /metrics; the VIP moves on failover and back', async () => {
    await until('xlb MASTER', async () => ((await vrrpState()) === 'MASTER' ? true : undefined), 10_000, 50);
    await until('a holds the VIP, b does not', async () => ((await lab.hasAddress('a', VLAB.vip4)) && !(await lab.hasAddress('b', VLAB.vip4)) ? true : undefined), 5000, 50);
    await until('the client reaches it at a', () => clientReaches(VLAB.vip4, VLAB.a.mac), 5000, 50);

    // nothing of XDP
    assert.equal(existsSync(pins()), false, `pinned: ${existsSync(pins()) ? readdirSync(pins()).join(', ') : ''}`);
    assert.equal(await xdpOnEth0(), undefined);

    // status, as JSON and as text
    const json = await xlb(['status', '-i', NAME, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const s = JSON.parse(json.stdout) as { xdp: { loaded: boolean }; interfaces: string[]; services: unknown[]; vrrp: { name: string; vrid: number; state: string; basePriority: number }[] };
    assert.deepEqual(s.xdp, { loaded: false });
    assert.deepEqual([s.interfaces, s.services], [[], []]);
    assert.deepEqual(s.vrrp.map((v) => [v.name, v.vrid, v.state, v.basePriority]), [['VI_1', 51, 'MASTER', 150]]);
    const text = await xlb(['status', '-i', NAME]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /no XDP program \(no interfaces\)/);
    assert.match(text.stdout, /^ {2}VI_1 {2}vrid 51 on eth0 IPv4 {2}MASTER /m);

    // /metrics
    const m = await metrics();
    assert.match(m, /^xlb_xdp_loaded 0$/m);
    assert.match(m, /^xlb_vrrp_state\{instance="VI_1",state="MASTER"\} 1$/m);
    assert.match(m, /^xlb_vrrp_priority\{instance="VI_1"\} 150$/m);

    // failover: `xlb unload` stops the daemon (it resigns) and has no pins to remove
    const un = await xlb(['unload', '-i', NAME]);
    assert.equal(un.code, 0, un.stderr);
    assert.match(un.stdout, new RegExp(`unloaded ${NAME}: no XDP links, 0 pinned maps removed`));
    await until('xlb exited', async () => (daemon?.exitCode !== null ? true : undefined), 10_000, 50);
    await until('the VIP moves to keepalived', async () => ((await lab.hasAddress('b', VLAB.vip4)) && !(await lab.hasAddress('a', VLAB.vip4)) ? true : undefined), 5000, 50);
    await until('the client reaches it at b', () => clientReaches(VLAB.vip4, VLAB.b.mac), 5000, 50);

    // back: xlb started again preempts keepalived
    await start();
    await until('xlb MASTER again', async () => ((await vrrpState()) === 'MASTER' ? true : undefined), 10_000, 50);
    await until('the VIP moves back to a', async () => ((await lab.hasAddress('a', VLAB.vip4)) && !(await lab.hasAddress('b', VLAB.vip4)) ? true : undefined), 5000, 50);
    await until('the client reaches it at a', () => clientReaches(VLAB.vip4, VLAB.a.mac), 5000, 50);
    assert.equal(existsSync(pins()), false);
  });

  it('a reload adds an interface and a service: the program is attached and pinned, and the VIP forwards to the backend', async () => {
    assert.match(await get(), /^error/, 'before the reload, a has no service on port 80');
    await reload(WITH_SERVICE);
    assert.ok(await xdpOnEth0(), 'XDP program on eth0');
    const pinned = readdirSync(pins());
    assert.ok(pinned.includes('link_eth0'), pinned.join(', '));
    assert.ok(pinned.some((p) => p.startsWith('xlb_')), pinned.join(', '));
    const s = await status();
    assert.deepEqual(s.xdp, { loaded: true, pins: pins() });
    assert.deepEqual(s.interfaces, ['eth0']);
    assert.deepEqual((s.services as { name: string }[]).map((x) => x.name), ['web']);
    assert.equal(await until('the VIP answers from d1', async () => ((await get()) === 'd1' ? 'd1' : undefined), 10_000, 200), 'd1');
    const m = await metrics();
    assert.match(m, /^xlb_xdp_loaded 1$/m);
    assert.match(m, /^xlb_vip_packets_total\{vip="10\.98\.0\.100:80\/tcp",service="web"\} [1-9]/m);
    assert.equal(await vrrpState(), 'MASTER');
  });

  it('a reload removes them: the program is detached, its pins removed, forwarding stops, VRRP goes on', async () => {
    await reload(VRRP_ONLY);
    assert.equal(existsSync(pins()), false, `still pinned: ${existsSync(pins()) ? readdirSync(pins()).join(', ') : ''}`);
    assert.equal(await xdpOnEth0(), undefined);
    const s = await status();
    assert.deepEqual([s.xdp, s.interfaces, s.services], [{ loaded: false }, [], []]);
    assert.match(await get(), /^error/, 'the VIP no longer forwards');
    assert.match(await metrics(), /^xlb_xdp_loaded 0$/m);
    assert.equal(await vrrpState(), 'MASTER');
    assert.ok(await lab.hasAddress('a', VLAB.vip4));
  });
});
