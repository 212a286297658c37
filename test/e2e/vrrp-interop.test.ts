/**
 * VRRP interoperability with keepalived 2.2.7 (Debian's package), end to end,
 * beyond the basics of vrrp.test.ts: xlb and keepalived in two namespaces of
 * one bridge (test/support/vrrp-lab.ts), a client in a third. Each test
 * starts its own daemons and leaves nothing behind (afterEach):
 * 1. equal priority: the higher primary address wins, in both directions
 *    (xlb on node a = 10.98.0.1 loses to keepalived on b = 10.98.0.2; then
 *    xlb on b beats keepalived on a);
 * 2. preemption, nopreempt (`preempt: false`), `preempt_delay`;
 * 3. an address owner (255) is MASTER at once;
 * 4. VRRPv2 PASS authentication: the same password elects, different
 *    passwords make both sides drop each other's adverts (both MASTER);
 *    two standalone instances in one daemon;
 * 5. unicast peers: election and takeover with no multicast advert on the wire;
 * 6. VRRPv3 over IPv6: election both ways, the VIP answers ping -6;
 * 7. a tracked interface: weight 0 (FAULT) and a negative weight;
 * 8. a sync group: one member's fault takes the whole group to keepalived;
 * 9. split brain healed: one MASTER again within a few adverts, and the
 *    client's neighbour entry follows the lower-priority GARP.
 *
 * "Cutting" a node off is done on its bridge port with the port state
 * (`bridge link set dev sX state 0`, disabled): the node keeps its carrier.
 * Setting the port down (`ip link set sX down`) would take the carrier of
 * the node's eth0 away, and both xlb and keepalived would go to FAULT (their
 * interface is down) instead of MASTER: that is not a split brain.
 *
 * Root only; skipped otherwise. XLB_E2E_LOG=1 prints every daemon's log.
 */
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, stopChild } from '../../src/lab/exec.js';
import { controlPath, controlRequest, waitForDaemon } from '../../src/daemon/control.js';
import { pidPath, unloadInstance } from '../../src/daemon/daemon.js';
import { until } from '../support/e2e.js';
import { createVrrpLab, VLAB, type VrrpLab, type VrrpNode } from '../support/vrrp-lab.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const PFX = `xw${process.pid % 100000}`;
const VIP2 = '10.98.0.101';
const SHOW_LOG = Boolean(process.env.XLB_E2E_LOG);

/** One instance of `xlb status`'s `vrrp: [...]`. */
interface VrrpStatus {
  name: string;
  vrid: number;
  state: string;
  reason: string;
  basePriority: number;
  effectivePriority: number;
  advertsSent: number;
  advertsReceived: number;
  becameMaster: number;
  drops: Record<string, number>;
  master?: { address: string; priority: number };
  syncGroup?: string;
}

/** A running xlb daemon. */
interface Xlb {
  name: string;
  node: VrrpNode;
  child: ChildProcess;
  log: string;
  /** Date.now() when waitForDaemon returned. */
  readyAt: number;
}

/** A running keepalived. */
interface Ka {
  node: VrrpNode;
  child: ChildProcess;
  log: string;
}

/** A state transition from the daemon's log (`VI_1: BACKUP -> MASTER (why)`), with its log time. */
interface Transition {
  t: number;
  from: string;
  to: string;
  reason: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const indent = (text: string, n: number): string =>
  text
    .trim()
    .split('\n')
    .map((l) => ' '.repeat(n) + l)
    .join('\n');

/** xlb `vrrp:` defaults: VRRPv3, short second GARP burst. */
const V3_DEFAULTS = 'defaults: { version: 3, garp_master_delay: 1s, garp_master_repeat: 2 }';
/** keepalived global_defs to match (vrrp_version 2 is keepalived's default). */
const kaGlobal = (version: 2 | 3): string => `vrrp_version ${version}\n  vrrp_garp_master_delay 1\n  vrrp_garp_master_repeat 2`;

/** One xlb VRRP instance (YAML list item). */
function xInst(o: { name?: string; vrid?: number; priority: number; advert?: string; vips?: string[]; extra?: string }): string {
  return `
- name: ${o.name ?? 'VI_1'}
  interface: eth0
  virtual_router_id: ${o.vrid ?? 51}
  priority: ${o.priority}
  advert_int: ${o.advert ?? '100ms'}
  virtual_ipaddress: [${(o.vips ?? [`${VLAB.vip4}/24`]).join(', ')}]
${o.extra ? indent(o.extra, 2) : ''}`;
}

/** One keepalived vrrp_instance block. */
function kInst(o: { name?: string; vrid?: number; priority: number; advert?: string; vips?: string[]; extra?: string }): string {
  return `
vrrp_instance ${o.name ?? 'VI_1'} {
  state BACKUP
  interface eth0
  virtual_router_id ${o.vrid ?? 51}
  priority ${o.priority}
  advert_int ${o.advert ?? '0.1'}
  virtual_ipaddress {
${(o.vips ?? [`${VLAB.vip4}/24`]).map((v) => `    ${v}`).join('\n')}
  }
${o.extra ? indent(o.extra, 2) : ''}
}`;
}

describe('VRRP interoperability with keepalived 2.2.7', { skip: !isRoot && 'needs root (netns)' }, () => {
  let lab: VrrpLab;
  let seq = 0;
  const xlbs: Xlb[] = [];
  const kas: Ka[] = [];
  const names: string[] = [];
  const logs: string[] = [];
  const cutPorts = new Set<VrrpNode>();
  const captures = new Set<ChildProcess>();

  const ip = (node: VrrpNode | 'sw', args: string[]): Promise<unknown> => run('ip', ['-n', lab.ns(node), ...args]);

  /** Start xlb in `node` with this `vrrp:` body (defaults, instances, sync_groups...). */
  const startXlb = async (node: VrrpNode, vrrp: string): Promise<Xlb> => {
    const name = `${PFX}x${++seq}`;
    names.push(name);
    const file = join(lab.dir, `${name}.yaml`);
    writeFileSync(
      file,
      `instance: ${name}
interfaces: [{ name: eth0 }]
metrics: { listen: 127.0.0.1:${node === 'a' ? 9906 : 9907} }
log: { level: info }
services: []
vrrp:
${indent(vrrp, 2)}
`,
    );
    const child = lab.spawn(node, process.execPath, [CLI, 'load', file]);
    const x: Xlb = { name, node, child, log: '', readyAt: 0 };
    child.stdout?.on('data', (b: Buffer) => (x.log += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (x.log += b.toString()));
    xlbs.push(x);
    await waitForDaemon(name, 15_000, () => x.log);
    x.readyAt = Date.now();
    return x;
  };

  const stopXlb = async (x: Xlb, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> => {
    const i = xlbs.indexOf(x);
    if (i < 0) return;
    xlbs.splice(i, 1);
    if (x.child.exitCode === null && x.child.signalCode === null) {
      const exited = new Promise((r) => x.child.once('exit', r));
      x.child.kill(signal);
      await Promise.race([exited, sleep(5000).then(() => x.child.kill('SIGKILL'))]);
      await exited;
    }
    // a killed daemon leaves its socket and pid file behind
    rmSync(controlPath(x.name), { force: true });
    rmSync(pidPath(x.name), { force: true });
    // the XDP program stays attached after the daemon (by design): detach it so
    // that the next daemon on this eth0 starts from scratch
    try {
      unloadInstance(x.name);
    } catch {
      /* nothing pinned */
    }
    logs.push(`--- xlb ${x.name} (node ${x.node})\n${x.log}`);
  };

  const startKa = (node: VrrpNode, body: string, version: 2 | 3 = 3): Ka => {
    const conf = `
global_defs {
  router_id ka-${lab.prefix}-${node}
  ${kaGlobal(version)}
}
${body}
`;
    const child = lab.keepalived(node, conf);
    const k: Ka = { node, child, log: '' };
    child.stdout?.on('data', (b: Buffer) => (k.log += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (k.log += b.toString()));
    kas.push(k);
    return k;
  };

  const stopKa = async (k: Ka): Promise<void> => {
    const i = kas.indexOf(k);
    if (i < 0) return;
    kas.splice(i, 1);
    await stopChild(k.child, 3000);
    logs.push(`--- keepalived (node ${k.node})\n${k.log}`);
  };

  const status = async (x: Xlb, inst = 'VI_1'): Promise<VrrpStatus> => {
    const dead = /.*"vrrp worker exited".*/.exec(x.log);
    if (dead) throw Object.assign(new Error(`xlb's VRRP worker exited: ${/"err":\{[^}]*\}/.exec(x.log)?.[0] ?? dead[0]}`), { fatal: true });
    const r = await controlRequest(controlPath(x.name), { cmd: 'status' });
    const v = (r.vrrp as VrrpStatus[] | undefined)?.find((s) => s.name === inst);
    if (!v) throw new Error(`no vrrp instance ${inst} in status: ${JSON.stringify(r.vrrp)}`);
    return v;
  };
  /** Poll the status until the instance is in one of `state`; fails at once when the VRRP worker died. */
  const waitState = async (x: Xlb, state: string | string[], ms = 5000, inst = 'VI_1', every = 20): Promise<VrrpStatus> => {
    const want = Array.isArray(state) ? state : [state];
    const end = Date.now() + ms;
    let last: unknown;
    for (;;) {
      try {
        const s = await status(x, inst);
        if (want.includes(s.state)) return s;
        last = `state ${s.state} (${s.reason})`;
      } catch (err) {
        if ((err as { fatal?: boolean }).fatal) throw err;
        last = (err as Error).message;
      }
      if (Date.now() > end) throw new Error(`timed out waiting for xlb ${inst} ${want.join('|')}: ${String(last)}`);
      await sleep(every);
    }
  };
  const holds = (node: VrrpNode, address: string): Promise<boolean> => lab.hasAddress(node, address);
  const waitHolds = (node: VrrpNode, address: string, want: boolean, ms = 5000, every = 20): Promise<true> =>
    until(`${node} ${want ? 'holds' : 'does not hold'} ${address}`, async () => ((await holds(node, address)) === want ? true : undefined), ms, every);
  const ping = async (address: string): Promise<boolean> => {
    try {
      await lab.exec('c', 'ping', [address.includes(':') ? '-6' : '-4', '-c', '1', '-W', '1', address]);
      return true;
    } catch {
      return false;
    }
  };
  /** The client reaches `address` and its neighbour entry is `mac`. */
  const waitClient = (address: string, mac: string, ms = 5000): Promise<true> =>
    until(`client reaches ${address} at ${mac}`, async () => ((await ping(address)) && (await lab.clientNeighbour(address)) === mac ? true : undefined), ms);
  const waitNeighbour = (address: string, mac: string, ms: number): Promise<true> =>
    until(`client neighbour ${address} -> ${mac}`, async () => ((await lab.clientNeighbour(address)) === mac ? true : undefined), ms, 20);

  /** Cut a node off the segment (its bridge port stops forwarding; the carrier stays up). */
  const cut = async (node: VrrpNode): Promise<void> => {
    cutPorts.add(node);
    await run('bridge', ['-n', lab.ns('sw'), 'link', 'set', 'dev', `s${node}`, 'state', '0']);
  };
  const heal = async (node: VrrpNode): Promise<void> => {
    await run('bridge', ['-n', lab.ns('sw'), 'link', 'set', 'dev', `s${node}`, 'state', '3']);
    cutPorts.delete(node);
  };

  /** An interface in node a to track: one end of a veth pair (no dummy module here). */
  const addTrackLink = async (): Promise<void> => {
    await ip('a', ['link', 'add', 'trk0', 'type', 'veth', 'peer', 'name', 'trk1']);
    await ip('a', ['link', 'set', 'trk1', 'up']);
    await ip('a', ['link', 'set', 'trk0', 'up']);
  };

  /** State transitions of an instance in an xlb daemon's log. */
  const transitions = (x: Xlb, inst = 'VI_1'): Transition[] => {
    const out: Transition[] = [];
    for (const line of x.log.split('\n')) {
      if (!line.startsWith('{')) continue;
      let j: { time?: number; msg?: string };
      try {
        j = JSON.parse(line) as typeof j;
      } catch {
        continue;
      }
      const m = /^(\S+): (\w+) -> (\w+) \((.*)\)$/.exec(j.msg ?? '');
      if (m && m[1] === inst && typeof j.time === 'number') out.push({ t: j.time, from: m[2]!, to: m[3]!, reason: m[4]! });
    }
    return out;
  };

  /** Capture VRRP on node b's eth0 (sees everything a sends to b or the group, and everything b sends). */
  const capture = async (): Promise<{ stop: () => Promise<string[]> }> => {
    const child = lab.spawn('b', 'tcpdump', ['-i', 'eth0', '-nn', '-l', '-p', 'ip proto 112']);
    captures.add(child);
    let out = '';
    let err = '';
    child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
    await until('tcpdump listening', async () => (/listening on/.test(err) ? true : undefined), 5000, 20);
    return {
      stop: async () => {
        await sleep(200); // the last advert reaches the capture
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGINT');
        await Promise.race([exited, sleep(3000)]);
        await stopChild(child, 1000);
        captures.delete(child);
        return out.split('\n').filter((l) => l.includes('VRRP'));
      },
    };
  };

  before(async () => {
    lab = await createVrrpLab(PFX);
  });

  afterEach(async () => {
    for (const c of [...captures]) await stopChild(c, 1000);
    captures.clear();
    for (const x of [...xlbs]) await stopXlb(x);
    for (const k of [...kas]) await stopKa(k);
    for (const n of [...cutPorts]) await heal(n).catch(() => {});
    await ip('a', ['link', 'del', 'trk0']).catch(() => {});
    // addresses a killed daemon left behind, the client's neighbour entries
    for (const node of ['a', 'b'] as const) {
      for (const a of [`${VLAB.vip4}/24`, `${VIP2}/24`, 'fd98::100/64']) await ip(node, ['addr', 'del', a, 'dev', 'eth0']).catch(() => {});
    }
    await ip('c', ['neigh', 'flush', 'dev', 'eth0']).catch(() => {});
  });

  after(async () => {
    for (const x of [...xlbs]) await stopXlb(x).catch(() => {});
    for (const k of [...kas]) await stopKa(k).catch(() => {});
    for (const n of names) {
      try {
        unloadInstance(n);
      } catch {
        /* nothing pinned */
      }
    }
    await lab?.down();
    if (SHOW_LOG) process.stderr.write(`${logs.join('\n')}\n`);
  });

  // --- 1. equal priority ---------------------------------------------------------

  it('equal priority: keepalived (10.98.0.2) beats xlb (10.98.0.1), the higher primary address wins', async (t) => {
    // Both MASTER first (b cut off), then joined: a BACKUP never preempts an
    // equal priority (it accepts adverts of priority >= its own), so the
    // tie-break only shows between two masters. xlb's
    // higher_prio_send_advert makes keepalived see one advert of the loser
    // and re-GARP, so the client's neighbour entry moves deterministically.
    await cut('b');
    startKa('b', kInst({ priority: 100 }));
    const x = await startXlb('a', `${V3_DEFAULTS}\ninstances:${xInst({ priority: 100, extra: 'higher_prio_send_advert: true' })}`);
    await waitState(x, 'MASTER');
    await waitHolds('b', VLAB.vip4, true);
    await waitClient(VLAB.vip4, VLAB.a.mac);
    await heal('b');
    const t0 = performance.now();
    const s = await waitState(x, 'BACKUP', 3000, 'VI_1', 10);
    const took = Math.round(performance.now() - t0);
    t.diagnostic(`xlb yielded ${took} ms after the link came back`);
    assert.ok(took < 1000, `xlb yielded after ${took} ms`);
    assert.deepEqual(s.master, { address: VLAB.b.v4, priority: 100 });
    assert.match(s.reason, /equal priority 100 from higher address 10\.98\.0\.2/);
    await waitHolds('a', VLAB.vip4, false, 2000);
    await waitNeighbour(VLAB.vip4, VLAB.b.mac, 2000);
    await sleep(500);
    assert.equal((await status(x)).state, 'BACKUP');
    assert.equal(await holds('b', VLAB.vip4), true, 'keepalived stays MASTER');
    assert.equal(await ping(VLAB.vip4), true);
  });

  it('equal priority, roles swapped: xlb on node b (10.98.0.2) beats keepalived on node a (10.98.0.1)', async () => {
    // The addresses are the lab's, so the roles move instead: xlb runs in b.
    // keepalived's higher_prio_send_advert gives xlb a lower-priority advert
    // to answer with its GARP burst.
    await cut('b');
    startKa('a', kInst({ priority: 100, extra: 'higher_prio_send_advert' }));
    const x = await startXlb('b', `${V3_DEFAULTS}\ninstances:${xInst({ priority: 100 })}`);
    await waitState(x, 'MASTER');
    await waitHolds('a', VLAB.vip4, true);
    await waitClient(VLAB.vip4, VLAB.a.mac);
    const before = await status(x);
    await heal('b');
    await waitHolds('a', VLAB.vip4, false, 2000);
    await waitNeighbour(VLAB.vip4, VLAB.b.mac, 2000);
    await sleep(500);
    const s = await status(x);
    assert.equal(s.state, 'MASTER');
    assert.equal(s.becameMaster, before.becameMaster, 'xlb stayed MASTER');
    assert.ok(s.advertsReceived > before.advertsReceived, 'xlb saw keepalived\'s adverts');
    assert.equal(await holds('b', VLAB.vip4), true);
    assert.equal(await ping(VLAB.vip4), true);
  });

  // --- 2. preemption -----------------------------------------------------------------

  it('preemption: xlb 150 started after keepalived 100 became MASTER takes over at its master-down timer', async (t) => {
    startKa('b', kInst({ priority: 100 }));
    await waitHolds('b', VLAB.vip4, true);
    const x = await startXlb('a', `${V3_DEFAULTS}\ninstances:${xInst({ priority: 150 })}`);
    await waitState(x, 'MASTER', 3000);
    await waitHolds('b', VLAB.vip4, false, 2000);
    await waitClient(VLAB.vip4, VLAB.a.mac);
    const tr = transitions(x);
    const init = tr.find((t) => t.to === 'BACKUP');
    const master = tr.find((t) => t.to === 'MASTER');
    assert.ok(init && master, JSON.stringify(tr));
    assert.equal(master.from, 'BACKUP');
    // Master_Down_Interval 3 x 100 + (256-150) x 100 / 256 = 341 ms: keepalived's lower adverts are discarded
    const took = master.t - init.t;
    t.diagnostic(`xlb MASTER ${took} ms after its start`);
    assert.ok(took >= 300 && took <= 800, `MASTER ${took} ms after start`);
    const s = await status(x);
    assert.ok(s.advertsReceived >= 1, 'keepalived\'s adverts were seen (and discarded)');
  });

  it('preempt: false (nopreempt, state BACKUP): xlb 150 stays BACKUP under keepalived 100', async () => {
    startKa('b', kInst({ priority: 100 }));
    await waitHolds('b', VLAB.vip4, true);
    await waitClient(VLAB.vip4, VLAB.b.mac);
    const x = await startXlb('a', `${V3_DEFAULTS}\ninstances:${xInst({ priority: 150, extra: 'state: BACKUP\npreempt: false' })}`);
    await sleep(2000);
    const s = await status(x);
    assert.equal(s.state, 'BACKUP');
    assert.deepEqual(s.master, { address: VLAB.b.v4, priority: 100 });
    assert.ok(s.advertsReceived >= 10, JSON.stringify(s));
    assert.equal(s.becameMaster, 0);
    assert.equal(await holds('a', VLAB.vip4), false);
    assert.equal(await holds('b', VLAB.vip4), true);
    assert.equal(await lab.clientNeighbour(VLAB.vip4), VLAB.b.mac);
  });

  it('preempt_delay 2s: xlb 150 takes over from keepalived 100 only after the delay', async (t) => {
    startKa('b', kInst({ priority: 100 }));
    await waitHolds('b', VLAB.vip4, true);
    const x = await startXlb('a', `${V3_DEFAULTS}\ninstances:${xInst({ priority: 150, extra: 'preempt_delay: 2s' })}`);
    await sleep(1500);
    assert.equal((await status(x)).state, 'BACKUP', 'still BACKUP 1.5 s after start');
    assert.equal(await holds('b', VLAB.vip4), true);
    await waitState(x, 'MASTER', 4000);
    await waitHolds('b', VLAB.vip4, false, 2000);
    const tr = transitions(x);
    const init = tr.find((t) => t.to === 'BACKUP');
    const master = tr.find((t) => t.to === 'MASTER');
    assert.ok(init && master, JSON.stringify(tr));
    // the delay runs from the first lower-priority advert (within ~100 ms of
    // start), then the down timer (341 ms) from the last accepted advert
    const took = master.t - init.t;
    t.diagnostic(`xlb MASTER ${took} ms after its start`);
    assert.ok(took >= 2000 && took <= 3000, `MASTER ${took} ms after start`);
  });

  // --- 3. address owner ---------------------------------------------------------------

  it('owner: xlb with priority 255 is MASTER at once, while keepalived 100 is MASTER', async (t) => {
    startKa('b', kInst({ priority: 100 }));
    await waitHolds('b', VLAB.vip4, true);
    const x = await startXlb('a', `${V3_DEFAULTS}\ninstances:${xInst({ priority: 255 })}`);
    const s = await waitState(x, 'MASTER', 1000, 'VI_1', 5);
    t.diagnostic(`xlb MASTER ${Date.now() - x.readyAt} ms after the daemon answered`);
    assert.ok(Date.now() - x.readyAt < 300, `MASTER ${Date.now() - x.readyAt} ms after the daemon answered (master-down interval: 300 ms)`);
    const tr = transitions(x);
    assert.equal(tr[0]?.from, 'INIT');
    assert.equal(tr[0]?.to, 'MASTER', `went through BACKUP: ${JSON.stringify(tr)}`);
    assert.match(tr[0]!.reason, /address owner/);
    assert.equal(s.effectivePriority, 255);
    await waitHolds('b', VLAB.vip4, false, 1000);
    await waitClient(VLAB.vip4, VLAB.a.mac);
    await sleep(300);
    assert.equal((await status(x)).state, 'MASTER');
  });

  // --- 4. VRRPv2 authentication --------------------------------------------------------

  const V2_DEFAULTS = 'defaults: { version: 2, garp_master_delay: 1s, garp_master_repeat: 2 }';
  const xAuth = (pass: string): string => `authentication: { auth_type: PASS, auth_pass: "${pass}" }`;
  const kAuth = (pass: string): string => `authentication {\n  auth_type PASS\n  auth_pass ${pass}\n}`;

  it('VRRPv2 PASS, same password: xlb 150 preempts keepalived 100 (each accepts the other\'s adverts)', async () => {
    // keepalived first, until MASTER (v2, 1 s: 3.61 s), so that it advertises
    // to xlb; xlb (3.41 s) then takes over, which keepalived only allows if it
    // accepts xlb's adverts (a rejected advert would leave it MASTER).
    startKa('b', kInst({ priority: 100, advert: '1', extra: kAuth('s3cret') }), 2);
    await waitHolds('b', VLAB.vip4, true, 6000, 50);
    const x = await startXlb('a', `${V2_DEFAULTS}\ninstances:${xInst({ priority: 150, advert: '1s', extra: xAuth('s3cret') })}`);
    await waitState(x, 'MASTER', 6000, 'VI_1', 50);
    await waitHolds('b', VLAB.vip4, false, 3000);
    await waitClient(VLAB.vip4, VLAB.a.mac);
    await sleep(1200);
    const s = await status(x);
    assert.equal(s.state, 'MASTER');
    assert.ok(s.advertsReceived >= 2, `keepalived's adverts passed validation: ${JSON.stringify(s)}`);
    assert.deepEqual(s.drops, {});
    assert.equal(await holds('b', VLAB.vip4), false, 'keepalived accepted xlb\'s adverts');
  });

  it('VRRPv2 PASS, different passwords: each side drops the other\'s adverts (auth_failure), both are MASTER', async () => {
    const k = startKa('b', kInst({ priority: 100, advert: '1', extra: kAuth('kapass') }), 2);
    await waitHolds('b', VLAB.vip4, true, 6000, 50);
    const x = await startXlb('a', `${V2_DEFAULTS}\ninstances:${xInst({ priority: 150, advert: '1s', extra: xAuth('xlbpass') })}`);
    await waitState(x, 'MASTER', 6000, 'VI_1', 50);
    await sleep(2500); // keepalived hears two or more of xlb's adverts
    const s = await status(x);
    assert.equal(s.state, 'MASTER');
    assert.ok((s.drops.auth_failure ?? 0) >= 3, JSON.stringify(s));
    assert.equal(s.advertsReceived, 0);
    assert.equal(await holds('a', VLAB.vip4), true);
    assert.equal(await holds('b', VLAB.vip4), true, 'keepalived rejected xlb\'s adverts and stays MASTER');
    assert.match(k.log, /\(VI_1\) received an invalid passwd/, 'keepalived logs the rejected adverts');
  });

  it(
    'two standalone instances in one daemon (VRRPv2 PASS): one master per VRID, no drops',
    async () => {
      // VRID 61: xlb the master; VRID 62: keepalived the master. Each side
      // has to accept the other's adverts for the two to end up one master each.
      startKa(
        'b',
        `${kInst({ name: 'VI_61', vrid: 61, priority: 100, advert: '1', extra: kAuth('s3cret') })}
${kInst({ name: 'VI_62', vrid: 62, priority: 150, advert: '1', vips: [`${VIP2}/24`], extra: kAuth('s3cret') })}`,
        2,
      );
      const x = await startXlb(
        'a',
        `${V2_DEFAULTS}
instances:${xInst({ name: 'VI_61', vrid: 61, priority: 150, advert: '1s', extra: xAuth('s3cret') })}${xInst({ name: 'VI_62', vrid: 62, priority: 100, advert: '1s', vips: [`${VIP2}/24`], extra: xAuth('s3cret') })}`,
      );
      await waitState(x, 'MASTER', 8000, 'VI_61', 50);
      await waitHolds('b', VIP2, true, 8000, 50);
      await waitHolds('b', VLAB.vip4, false, 3000);
      await sleep(2500); // two more adverts: nobody changes its mind
      const s61 = await status(x, 'VI_61');
      const s62 = await status(x, 'VI_62');
      assert.equal(s61.state, 'MASTER');
      assert.equal(s62.state, 'BACKUP');
      assert.deepEqual(s62.master, { address: VLAB.b.v4, priority: 150 });
      assert.ok(s62.advertsReceived >= 2, JSON.stringify(s62));
      assert.deepEqual(s61.drops, {});
      assert.deepEqual(s62.drops, {});
      assert.equal(await holds('a', VLAB.vip4), true);
      assert.equal(await holds('a', VIP2), false);
    },
  );

  // --- 5. unicast ---------------------------------------------------------------------

  it('unicast peers: election and takeover, no multicast advert on the wire', async (t) => {
    const cap = await capture();
    startKa('b', kInst({ priority: 100, extra: `unicast_src_ip ${VLAB.b.v4}\nunicast_peer {\n  ${VLAB.a.v4}\n}` }));
    const xYaml = `${V3_DEFAULTS}\ninstances:${xInst({ priority: 150, extra: `unicast_src_ip: ${VLAB.a.v4}\nunicast_peers: [${VLAB.b.v4}]` })}`;
    const x = await startXlb('a', xYaml);
    await waitState(x, 'MASTER', 3000);
    await waitHolds('b', VLAB.vip4, false, 2000);
    await waitClient(VLAB.vip4, VLAB.a.mac);
    await sleep(1000);
    assert.equal((await status(x)).state, 'MASTER', 'keepalived accepts xlb\'s unicast adverts');
    await stopXlb(x, 'SIGKILL');
    const t0 = performance.now();
    await waitHolds('b', VLAB.vip4, true, 3000, 10);
    t.diagnostic(`keepalived took over ${Math.round(performance.now() - t0)} ms after kill -9`);
    assert.ok(performance.now() - t0 < 1000, `takeover after ${Math.round(performance.now() - t0)} ms`);
    await waitClient(VLAB.vip4, VLAB.b.mac);
    // xlb back: it hears keepalived's unicast adverts and preempts
    const x2 = await startXlb('a', xYaml);
    await waitState(x2, 'MASTER', 3000);
    await waitHolds('b', VLAB.vip4, false, 2000);
    const s = await status(x2);
    assert.ok(s.advertsReceived >= 1, `xlb received keepalived's unicast adverts: ${JSON.stringify(s)}`);
    assert.deepEqual(s.drops, {});
    const lines = await cap.stop();
    const multicast = lines.filter((l) => l.includes('224.0.0.18'));
    const fromXlb = lines.filter((l) => l.includes(`${VLAB.a.v4} > ${VLAB.b.v4}:`));
    const fromKa = lines.filter((l) => l.includes(`${VLAB.b.v4} > ${VLAB.a.v4}:`));
    assert.deepEqual(multicast, [], 'no multicast advert');
    assert.ok(fromXlb.length >= 10, `xlb's unicast adverts: ${fromXlb.length}`);
    assert.ok(fromKa.length >= 1, `keepalived's unicast adverts: ${fromKa.length}`);
  });

  // --- 6. IPv6 --------------------------------------------------------------------------

  it('VRRPv3 over IPv6: xlb and keepalived elect each other, the VIP answers ping -6', async () => {
    // A global /64 alone: keepalived only warns ("the first IPv6 VIP address
    // should be link local"); both require it in strict mode only.
    const vips = ['fd98::100/64'];
    startKa('b', kInst({ priority: 100, vips }));
    const x = await startXlb('a', `${V3_DEFAULTS}\ninstances:${xInst({ priority: 150, vips })}`);
    await waitState(x, 'MASTER', 3000);
    await waitHolds('b', VLAB.vip6, false, 2000);
    await waitHolds('a', VLAB.vip6, true, 2000);
    await waitClient(VLAB.vip6, VLAB.a.mac);
    await sleep(500);
    assert.equal((await status(x)).state, 'MASTER', 'keepalived accepts xlb\'s IPv6 adverts');
    // keepalived with the higher priority now: xlb yields
    await stopKa(kas[0]!);
    startKa('b', kInst({ priority: 200, vips }));
    const s = await waitState(x, 'BACKUP', 5000);
    assert.deepEqual(s.master, { address: 'fe80::98:ff:fe00:b', priority: 200 });
    await waitHolds('a', VLAB.vip6, false, 2000);
    await waitHolds('b', VLAB.vip6, true, 2000);
    await waitClient(VLAB.vip6, VLAB.b.mac);
    await sleep(500);
    const s2 = await status(x);
    assert.equal(s2.state, 'BACKUP');
    assert.deepEqual(s2.drops, {});
  });

  // --- 7. tracked interface -------------------------------------------------------------

  it('tracked interface, weight 0: down puts xlb in FAULT and keepalived takes over; up, xlb preempts back', async (t) => {
    await addTrackLink();
    startKa('b', kInst({ priority: 100 }));
    const x = await startXlb('a', `${V3_DEFAULTS}\ninstances:${xInst({ priority: 150, extra: 'track_interfaces: [trk0]' })}`);
    await waitState(x, 'MASTER', 3000);
    await waitClient(VLAB.vip4, VLAB.a.mac);
    await ip('a', ['link', 'set', 'trk0', 'down']);
    const t0 = performance.now();
    const f = await waitState(x, 'FAULT', 2000);
    assert.match(f.reason, /trk0/);
    await waitHolds('b', VLAB.vip4, true, 2000, 10);
    // xlb resigned with priority 0: keepalived waits Skew_Time (61 ms), not 361 ms
    t.diagnostic(`keepalived took over ${Math.round(performance.now() - t0)} ms after trk0 went down`);
    assert.ok(performance.now() - t0 < 600, `takeover after ${Math.round(performance.now() - t0)} ms`);
    assert.equal(await holds('a', VLAB.vip4), false);
    await waitNeighbour(VLAB.vip4, VLAB.b.mac, 2000);
    await ip('a', ['link', 'set', 'trk0', 'up']);
    await waitState(x, 'MASTER', 3000);
    await waitHolds('b', VLAB.vip4, false, 2000);
    await waitClient(VLAB.vip4, VLAB.a.mac);
    assert.deepEqual(transitions(x).map((t) => t.to), ['BACKUP', 'MASTER', 'FAULT', 'BACKUP', 'MASTER']);
  });

  it('tracked interface, weight -60: down lowers xlb to 90 and keepalived 100 takes over; up, xlb preempts back', async () => {
    await addTrackLink();
    startKa('b', kInst({ priority: 100 }));
    const x = await startXlb('a', `${V3_DEFAULTS}\ninstances:${xInst({ priority: 150, extra: 'track_interfaces: [{ name: trk0, weight: -60 }]' })}`);
    await waitState(x, 'MASTER', 3000);
    await waitClient(VLAB.vip4, VLAB.a.mac);
    await ip('a', ['link', 'set', 'trk0', 'down']);
    await until('effective priority 90', async () => ((await status(x)).effectivePriority === 90 ? true : undefined), 2000, 20);
    const s = await waitState(x, 'BACKUP', 3000);
    assert.deepEqual(s.master, { address: VLAB.b.v4, priority: 100 });
    assert.equal(s.effectivePriority, 90);
    await waitHolds('b', VLAB.vip4, true, 2000);
    await waitHolds('a', VLAB.vip4, false, 2000);
    await waitNeighbour(VLAB.vip4, VLAB.b.mac, 2000);
    await ip('a', ['link', 'set', 'trk0', 'up']);
    const m = await waitState(x, 'MASTER', 3000);
    assert.equal(m.effectivePriority, 150);
    await waitHolds('b', VLAB.vip4, false, 2000);
    await waitClient(VLAB.vip4, VLAB.a.mac);
  });

  // --- 8. sync group ----------------------------------------------------------------------

  it('sync group: one member\'s tracked interface down takes both xlb instances out; keepalived holds both VIPs', async () => {
    await addTrackLink();
    startKa(
      'b',
      `vrrp_sync_group G1 {
  group {
    VI_A
    VI_B
  }
}
${kInst({ name: 'VI_A', vrid: 51, priority: 100 })}
${kInst({ name: 'VI_B', vrid: 52, priority: 100, vips: [`${VIP2}/24`] })}`,
    );
    const x = await startXlb(
      'a',
      `${V3_DEFAULTS}
instances:${xInst({ name: 'VI_A', vrid: 51, priority: 150, extra: 'track_interfaces: [trk0]' })}${xInst({ name: 'VI_B', vrid: 52, priority: 150, vips: [`${VIP2}/24`] })}
sync_groups:
  - { name: G1, group: [VI_A, VI_B] }`,
    );
    await waitState(x, 'MASTER', 3000, 'VI_A');
    await waitState(x, 'MASTER', 3000, 'VI_B');
    await waitHolds('b', VLAB.vip4, false, 2000);
    await waitHolds('b', VIP2, false, 2000);
    assert.equal((await status(x, 'VI_A')).syncGroup, 'G1');
    await ip('a', ['link', 'set', 'trk0', 'down']);
    const a = await waitState(x, 'FAULT', 2000, 'VI_A');
    assert.match(a.reason, /trk0/);
    const b = await waitState(x, ['FAULT', 'BACKUP'], 2000, 'VI_B');
    assert.notEqual(b.state, 'MASTER');
    await waitHolds('b', VLAB.vip4, true, 2000);
    await waitHolds('b', VIP2, true, 2000);
    await sleep(500);
    assert.equal(await holds('a', VLAB.vip4), false);
    assert.equal(await holds('a', VIP2), false);
    assert.notEqual((await status(x, 'VI_B')).state, 'MASTER', 'VI_B stays out with its group');
    await waitClient(VIP2, VLAB.b.mac);
    // and back together
    await ip('a', ['link', 'set', 'trk0', 'up']);
    await waitState(x, 'MASTER', 3000, 'VI_A');
    await waitState(x, 'MASTER', 3000, 'VI_B');
    await waitHolds('b', VLAB.vip4, false, 2000);
    await waitHolds('b', VIP2, false, 2000);
  });

  // --- 9. split brain ---------------------------------------------------------------------

  it('split brain healed: one MASTER again within a few adverts, the client follows the higher priority\'s GARP', async (t) => {
    // keepalived (the lower priority) with higher_prio_send_advert: it sends
    // one advert before it yields, which xlb answers with its lower-priority
    // GARP burst. Without it, whether the winner ever sees a lower-priority
    // advert is a race (the loser may hear the winner first and go quiet).
    startKa('b', kInst({ priority: 100, extra: 'higher_prio_send_advert' }));
    const x = await startXlb('a', `${V3_DEFAULTS}\ninstances:${xInst({ priority: 150 })}`);
    await waitState(x, 'MASTER', 3000);
    await waitHolds('b', VLAB.vip4, false, 2000);
    await waitClient(VLAB.vip4, VLAB.a.mac);
    await sleep(1200); // past xlb's second GARP burst (garp_master_delay 1s)
    await cut('a');
    await waitHolds('b', VLAB.vip4, true, 2000);
    await waitClient(VLAB.vip4, VLAB.b.mac); // keepalived's GARP reached the client
    const split = await status(x);
    assert.equal(split.state, 'MASTER', 'both MASTER');
    assert.equal(await holds('a', VLAB.vip4), true);
    await heal('a');
    const t0 = performance.now();
    await waitHolds('b', VLAB.vip4, false, 3000, 10);
    const took = performance.now() - t0;
    t.diagnostic(`one MASTER again ${Math.round(took)} ms after the link came back`);
    assert.ok(took < 1000, `one MASTER again after ${Math.round(took)} ms`);
    await waitNeighbour(VLAB.vip4, VLAB.a.mac, 1000);
    t.diagnostic(`client neighbour back at xlb ${Math.round(performance.now() - t0)} ms after the link came back`);
    const s = await status(x);
    assert.equal(s.state, 'MASTER');
    assert.equal(s.becameMaster, split.becameMaster, 'xlb never left MASTER');
    assert.ok(s.advertsReceived > split.advertsReceived, 'xlb saw keepalived\'s adverts');
    assert.match(x.log, /VI_1: lower priority advert from 10\.98\.0\.2 \(100, ours 150\)/, 'the advert xlb answered with its GARP burst');
    assert.equal(await ping(VLAB.vip4), true);
  });
});
