/**
 * The VRRP runner over a fake LAN: two runners (two "nodes") whose sockets
 * deliver each other's adverts as an IPv4 raw socket would (IP header first,
 * TTL 255), with mocked timers and a fake clock. Checks the election, the
 * addresses and GARP of the master, takeover when the master stops
 * gracefully (priority 0: after Skew_Time), link-down FAULT, reload without a
 * role change, drop counters, and the notify commands and FIFO lines.
 */
import { describe, it, beforeEach, afterEach, mock } from 'node:test';
import assert from 'node:assert/strict';
import { VrrpRunner, type VrrpInstanceSpec, type VrrpIo, type VrrpLink, type VrrpRx, type VrrpSpec } from '../../../src/vrrp/runner.js';
import { onesSum } from '../../../src/net/checksum.js';
import type { ResolvedCommand } from '../../../src/security/command.js';

let t = 0;

/** A LAN of fake nodes: adverts sent by one reach every other one's socket. */
class Lan {
  readonly nodes: FakeNode[] = [];
  deliver(from: FakeNode, vrrp: Buffer, dst: string): void {
    for (const n of this.nodes) {
      if (n === from || !n.linkUp || !from.linkUp) continue;
      for (const rx of n.rx) rx(ipv4(from.addr, dst, vrrp));
    }
  }
}

/** An IPv4 packet (protocol 112, TTL 255) around a VRRP message, as a raw socket delivers it. */
function ipv4(src: string, dst: string, payload: Buffer): VrrpRx {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h[1] = 0xc0;
  h.writeUInt16BE(20 + payload.length, 2);
  h[8] = 255;
  h[9] = 112;
  Buffer.from(src.split('.').map(Number)).copy(h, 12);
  Buffer.from(dst.split('.').map(Number)).copy(h, 16);
  h.writeUInt16BE(~onesSum(h, 0, 20) & 0xffff, 10);
  return { data: Buffer.concat([h, payload]), meta: { family: 4 } };
}

class FakeNode implements VrrpIo {
  readonly rx: ((rx: VrrpRx) => void)[] = [];
  readonly events: string[] = [];
  readonly addrs = new Set<string>();
  linkUp = true;
  #watch: ((ifname: string) => void) | undefined;
  scriptOk = true;
  readonly files = new Map<string, (v: number) => void>();
  watchFile(path: string, _init: unknown, cb: (v: number) => void): () => void {
    this.files.set(path, cb);
    cb(0);
    return () => this.files.delete(path);
  }
  constructor(
    readonly lan: Lan,
    readonly addr: string,
  ) {
    lan.nodes.push(this);
  }
  now(): number {
    return t;
  }
  openSocket(_family: 4 | 6, _ifname: string, _o: unknown, onRx: (rx: VrrpRx) => void) {
    this.rx.push(onRx);
    return {
      send: (data: Buffer, dst: string) => this.lan.deliver(this, data, dst),
      close: () => this.rx.splice(this.rx.indexOf(onRx), 1),
    };
  }
  link(): VrrpLink {
    return { ifindex: 2, up: this.linkUp, addresses: [{ family: 4, address: this.addr }] };
  }
  watchLinks(cb: (ifname: string) => void): () => void {
    this.#watch = cb;
    return () => (this.#watch = undefined);
  }
  #addrWatch: ((ifname: string, address: string) => void) | undefined;
  watchAddressRemovals(cb: (ifname: string, address: string) => void): () => void {
    this.#addrWatch = cb;
    return () => (this.#addrWatch = undefined);
  }
  /** Someone else deletes an address. */
  deleteBehindBack(address: string): void {
    this.addrs.delete(address);
    this.#addrWatch?.('eth0', address);
  }
  ensureVmac(): void {}
  removeVmac(): void {}
  setLink(up: boolean): void {
    this.linkUp = up;
    this.#watch?.('eth0');
  }
  async addAddress(_ifname: string, _f: 4 | 6, vip: { address: string }): Promise<void> {
    this.addrs.add(vip.address);
  }
  async removeAddress(_ifname: string, _f: 4 | 6, vip: { address: string }): Promise<void> {
    if (!this.addrs.delete(vip.address)) throw Object.assign(new Error('no such address'), { code: 'EADDRNOTAVAIL' });
    // the kernel's notification of the removal, a moment later
    setImmediate(() => this.#addrWatch?.('eth0', vip.address));
  }
  garp(_ifname: string, _f: 4 | 6, address: string, count: number, _intervalMs: number): void {
    this.events.push(`garp ${address} x${count}`);
  }
  async run(): Promise<boolean> {
    return this.scriptOk;
  }
  notify(cmd: ResolvedCommand): void {
    this.events.push(`notify ${cmd.argv.join(' ')}`);
  }
  fifo(_path: string, line: string): void {
    this.events.push(`fifo ${line.trimEnd()}`);
  }
  log(): void {}
}

const instance = (o: Partial<VrrpInstanceSpec> & { priority: number }): VrrpInstanceSpec => ({
  name: 'VI_1',
  family: 4,
  interface: 'eth0',
  fsm: { vrid: 51, version: 3, priority: o.priority, advertIntMs: 100, garp: { masterDelayMs: 0, masterRepeat: 2, lowerPrioDelayMs: 0, lowerPrioRepeat: 1 } },
  vips: [{ address: '10.0.0.100', prefixLength: 32 }],
  excluded: [],
  unicastPeers: [],
  checkUnicastSrc: false,
  checksum: 'pseudo-header',
  trackInterfaces: [],
  trackScripts: [],
  trackFiles: [],
  dontTrackPrimary: false,
  notify: { master: { argv: ['/bin/m'] }, generic: { argv: ['/bin/n'] } },
  ...o,
});
const spec = (i: VrrpInstanceSpec, o: Partial<VrrpSpec> = {}): VrrpSpec => ({ instances: [i], groups: [], scripts: [], files: [], notifyFifo: '/run/fifo', ...o });

async function advance(ms: number): Promise<void> {
  for (let i = 0; i < ms; i++) {
    t += 1;
    mock.timers.tick(1);
    await Promise.resolve();
  }
  await new Promise((r) => setImmediate(r));
}

describe('VrrpRunner on a fake LAN', () => {
  let lan: Lan;
  let a: FakeNode;
  let b: FakeNode;
  let ra: VrrpRunner;
  let rb: VrrpRunner;

  beforeEach(() => {
    mock.timers.enable({ apis: ['setTimeout'] });
    t = 0;
    lan = new Lan();
    a = new FakeNode(lan, '10.0.0.1');
    b = new FakeNode(lan, '10.0.0.2');
    ra = new VrrpRunner(a);
    rb = new VrrpRunner(b);
  });
  afterEach(async () => {
    await ra.stop();
    await rb.stop();
    mock.timers.reset();
  });

  const states = (): string[] => [ra.status()[0]?.state ?? '-', rb.status()[0]?.state ?? '-'];

  it('the higher priority becomes MASTER, adds the VIP, GARPs and notifies; the other stays BACKUP', async () => {
    ra.apply(spec(instance({ priority: 200 })));
    rb.apply(spec(instance({ priority: 100 })));
    // master down: 3 x 100 ms + skew (256-200)/256 x 100 ms = 321.875 ms
    await advance(321);
    assert.deepEqual(states(), ['BACKUP', 'BACKUP']);
    await advance(2);
    assert.deepEqual(states(), ['MASTER', 'BACKUP']);
    assert.deepEqual([...a.addrs], ['10.0.0.100']);
    assert.deepEqual([...b.addrs], []);
    assert.ok(a.events.includes('garp 10.0.0.100 x2'), a.events.join('\n'));
    assert.ok(a.events.includes('notify /bin/m'));
    assert.ok(a.events.includes('notify /bin/n INSTANCE VI_1 MASTER 200'));
    assert.ok(a.events.includes('fifo INSTANCE "VI_1" MASTER 200'));
    await advance(1000);
    assert.deepEqual(states(), ['MASTER', 'BACKUP'], 'adverts every 100 ms hold the backup');
    const sa = ra.status()[0]!;
    const sb = rb.status()[0]!;
    assert.ok(sa.advertsSent >= 10, String(sa.advertsSent));
    assert.ok(sb.advertsReceived >= 10);
    assert.deepEqual(sb.master, { address: '10.0.0.1', priority: 200 });
  });

  it('a graceful stop of the master hands over after Skew_Time, not the full down interval', async () => {
    ra.apply(spec(instance({ priority: 200 })));
    rb.apply(spec(instance({ priority: 100 })));
    await advance(400);
    assert.deepEqual(states(), ['MASTER', 'BACKUP']);
    await ra.stop();
    assert.deepEqual([...a.addrs], [], 'the stopping master removed its VIP');
    // v3 skew for priority 100 at 100 ms: (256-100)/256 x 100 = 60.9 ms
    await advance(62);
    assert.equal(rb.status()[0]!.state, 'MASTER');
    assert.deepEqual([...b.addrs], ['10.0.0.100']);
  });

  it('a master whose VIP is deleted behind its back resigns, and takes over again after Skew_Time with the VIP back', async () => {
    ra.apply(spec(instance({ priority: 200 })));
    await advance(400);
    assert.equal(ra.status()[0]!.state, 'MASTER');
    a.deleteBehindBack('10.0.0.100');
    assert.equal(ra.status()[0]!.state, 'BACKUP');
    await advance(100); // (256-200)/256 x 100 ms = 21.9 ms
    assert.equal(ra.status()[0]!.state, 'MASTER');
    assert.deepEqual([...a.addrs], ['10.0.0.100']);
  });

  it('stop() resolves only after every address of a master is removed', async () => {
    ra.apply(spec(instance({ priority: 200, vips: [{ address: '10.0.0.100', prefixLength: 32 }, { address: '10.0.0.101', prefixLength: 32 }, { address: '10.0.0.102', prefixLength: 32 }] })));
    await advance(400);
    assert.equal(a.addrs.size, 3);
    const slow = a.removeAddress.bind(a);
    a.removeAddress = async (ifname, f, vip) => {
      await new Promise((r) => setImmediate(r));
      return slow(ifname, f, vip);
    };
    await ra.stop();
    assert.deepEqual([...a.addrs], [], 'all three gone when stop() resolves');
  });

  it('the master losing its link goes to FAULT and gives the VIP up; the backup takes over', async () => {
    ra.apply(spec(instance({ priority: 200 })));
    rb.apply(spec(instance({ priority: 100 })));
    await advance(400);
    a.setLink(false);
    assert.equal(ra.status()[0]!.state, 'FAULT');
    await advance(1);
    assert.deepEqual([...a.addrs], []);
    await advance(400);
    assert.equal(rb.status()[0]!.state, 'MASTER');
    a.setLink(true);
    await advance(400);
    assert.deepEqual(states(), ['MASTER', 'BACKUP'], 'preempts back when its link returns');
  });

  it('a tracked script with weight lowers the priority and moves mastership', async () => {
    const script = { name: 'chk', argv: ['/bin/chk'], intervalMs: 50, timeoutMs: 50, rise: 1, fall: 1, initFail: false };
    ra.apply(spec(instance({ priority: 150, trackScripts: [{ name: 'chk', weight: -100 }] }), { scripts: [script] }));
    rb.apply(spec(instance({ priority: 100 })));
    await advance(500);
    assert.deepEqual(states(), ['MASTER', 'BACKUP']);
    a.scriptOk = false;
    await advance(500);
    assert.equal(ra.status()[0]!.effectivePriority, 50);
    assert.deepEqual(states(), ['BACKUP', 'MASTER']);
  });

  it('a tracked file moves the priority by value x weight, and a weight-0 file faults on non-zero', async () => {
    ra.apply(spec(instance({ priority: 150, trackFiles: [{ name: 'prio', weight: -10 }] }), { files: [{ name: 'prio', path: '/run/prio' }] }));
    rb.apply(spec(instance({ priority: 100 })));
    await advance(500);
    assert.deepEqual(states(), ['MASTER', 'BACKUP']);
    a.files.get('/run/prio')!(6); // 150 - 60 = 90 < 100
    await advance(500);
    assert.equal(ra.status()[0]!.effectivePriority, 90);
    assert.deepEqual(states(), ['BACKUP', 'MASTER']);
    ra.apply(spec(instance({ priority: 150, trackFiles: [{ name: 'stop', weight: 0 }] }), { files: [{ name: 'stop', path: '/run/stop' }] }));
    a.files.get('/run/stop')!(1);
    assert.equal(ra.status()[0]!.state, 'FAULT');
    a.files.get('/run/stop')!(0);
    assert.equal(ra.status()[0]!.state, 'BACKUP');
  });

  it('track_bfd: a weighted session moves mastership, weight 0 faults while down, reverse while up', async () => {
    ra.setBfdState('to-r1', true);
    ra.apply(spec(instance({ priority: 150, trackBfd: [{ name: 'to-r1', weight: -100 }] })));
    rb.apply(spec(instance({ priority: 100 })));
    await advance(500);
    assert.deepEqual(states(), ['MASTER', 'BACKUP']);
    ra.setBfdState('to-r1', false);
    await advance(500);
    assert.equal(ra.status()[0]!.effectivePriority, 50);
    assert.deepEqual(states(), ['BACKUP', 'MASTER']);
    ra.apply(spec(instance({ priority: 150, trackBfd: [{ name: 'to-r1', weight: 0 }] })));
    assert.equal(ra.status()[0]!.state, 'FAULT', 'weight 0, session down');
    ra.setBfdState('to-r1', true);
    assert.equal(ra.status()[0]!.state, 'BACKUP');
    ra.apply(spec(instance({ priority: 150, trackBfd: [{ name: 'to-r1', weight: 0, reverse: true }] })));
    assert.equal(ra.status()[0]!.state, 'FAULT', 'weight 0 reverse, session up');
    ra.setBfdState('to-r1', false);
    assert.equal(ra.status()[0]!.state, 'BACKUP');
  });

  describe('bfd_peer', () => {
    const LOST = 'control detection time expired';
    /** ra MASTER (200), rb BACKUP (100) whose bfd_peer is `to-a`, Up; then ra goes silent (a crash: no priority-0 advert). */
    async function pair(o: Partial<VrrpInstanceSpec> = {}): Promise<void> {
      rb.setBfdState('to-a', true, 'none');
      ra.apply(spec(instance({ priority: 200 })));
      rb.apply(spec(instance({ priority: 100, bfdPeer: 'to-a', ...o })));
      await advance(400);
      assert.deepEqual(states(), ['MASTER', 'BACKUP']);
      a.linkUp = false; // its adverts no longer reach b
    }

    it('the session to the master goes Down (detection time expired): the backup is MASTER at once', async () => {
      await pair();
      rb.setBfdState('to-a', false, LOST);
      assert.equal(rb.status()[0]!.state, 'MASTER', 'synchronously, no timer waited for');
      assert.equal(rb.status()[0]!.reason, `bfd_peer to-a down (${LOST})`);
      await advance(1); // the address queue
      assert.deepEqual([...b.addrs], ['10.0.0.100']);
      assert.ok(b.events.includes('notify /bin/n INSTANCE VI_1 MASTER 100'), b.events.join('\n'));
    });

    it('echo function failed takes over too', async () => {
      await pair();
      rb.setBfdState('to-a', false, 'echo function failed');
      assert.equal(rb.status()[0]!.state, 'MASTER');
    });

    it('a peer that signals AdminDown, a BFD worker that exited, a session of another name: the down timer decides', async () => {
      await pair();
      rb.setBfdState('to-a', false, 'neighbor signaled session down');
      rb.setBfdState('to-a', true, 'none');
      rb.setBfdState('to-a', false, 'none');
      rb.setBfdState('other', true, 'none');
      rb.setBfdState('other', false, LOST);
      assert.equal(rb.status()[0]!.state, 'BACKUP');
      await advance(330); // 3 x 100 ms + skew (60.9 ms) after the last advert
      assert.equal(rb.status()[0]!.state, 'MASTER', 'the master-down timer still runs');
    });

    it('a session that never came Up does nothing', async () => {
      ra.apply(spec(instance({ priority: 200 })));
      rb.apply(spec(instance({ priority: 100, bfdPeer: 'to-a' })));
      await advance(400);
      rb.setBfdState('to-a', false, LOST);
      assert.deepEqual(states(), ['MASTER', 'BACKUP']);
    });

    it('a MASTER whose bfd_peer goes Down stays MASTER', async () => {
      ra.setBfdState('to-b', true, 'none');
      ra.apply(spec(instance({ priority: 200, bfdPeer: 'to-b' })));
      rb.apply(spec(instance({ priority: 100 })));
      await advance(400);
      ra.setBfdState('to-b', false, LOST);
      assert.deepEqual(states(), ['MASTER', 'BACKUP']);
    });

    it('sync group members naming the session take over together; one that does not name it is waited for', async () => {
      const two = (prio: number, peer: [string | undefined, string | undefined]): VrrpSpec => ({
        instances: [
          instance({ name: 'VI_1', priority: prio, syncGroup: 'G', ...(peer[0] ? { bfdPeer: peer[0] } : {}) }),
          instance({ name: 'VI_2', priority: prio, syncGroup: 'G', fsm: { vrid: 52, version: 3, priority: prio, advertIntMs: 100 }, vips: [{ address: '10.0.0.101', prefixLength: 32 }], ...(peer[1] ? { bfdPeer: peer[1] } : {}) }),
        ],
        groups: [{ name: 'G', members: ['VI_1', 'VI_2'], notify: {} }],
        scripts: [],
        files: [],
      });
      const st = (r: VrrpRunner): string[] => r.status().map((x) => `${x.name}:${x.state}`);
      rb.setBfdState('to-a', true, 'none');
      ra.apply(two(200, [undefined, undefined]));
      rb.apply(two(100, ['to-a', 'to-a']));
      await advance(500);
      assert.deepEqual(st(rb), ['VI_1:BACKUP', 'VI_2:BACKUP']);
      a.linkUp = false;
      rb.setBfdState('to-a', false, LOST);
      assert.deepEqual(st(rb), ['VI_1:MASTER', 'VI_2:MASTER']);
      await rb.stop();
      rb = new VrrpRunner(b);
      a.linkUp = true;
      rb.setBfdState('to-a', true, 'none');
      rb.apply(two(100, ['to-a', undefined]));
      await advance(500);
      assert.deepEqual(st(rb), ['VI_1:BACKUP', 'VI_2:BACKUP']);
      a.linkUp = false;
      rb.setBfdState('to-a', false, LOST);
      assert.deepEqual(st(rb), ['VI_1:BACKUP', 'VI_2:BACKUP'], 'VI_1 wants MASTER, held until VI_2 is ready');
      await advance(330);
      assert.deepEqual(st(rb), ['VI_1:MASTER', 'VI_2:MASTER'], 'VI_2 down timer: both');
    });
  });

  it('track_bfd: a session not heard of is down', async () => {
    ra.apply(spec(instance({ priority: 150, trackBfd: [{ name: 'unknown', weight: 0 }] })));
    await advance(10);
    assert.equal(ra.status()[0]!.state, 'FAULT');
  });

  it('a reload that changes the VIPs and priority reconfigures in place: no role change, no advert gap', async () => {
    ra.apply(spec(instance({ priority: 200 })));
    rb.apply(spec(instance({ priority: 100 })));
    await advance(400);
    const sent = ra.status()[0]!.advertsSent;
    ra.apply(spec(instance({ priority: 210, vips: [{ address: '10.0.0.100', prefixLength: 32 }, { address: '10.0.0.101', prefixLength: 32 }] })));
    await advance(1000);
    assert.deepEqual(states(), ['MASTER', 'BACKUP']);
    assert.ok(ra.status()[0]!.advertsSent - sent >= 9, 'adverts kept flowing');
    assert.equal(ra.status()[0]!.basePriority, 210);
    assert.deepEqual([...a.addrs].sort(), ['10.0.0.100', '10.0.0.101'], 'the master added the new VIP');
    assert.ok(a.events.includes('garp 10.0.0.101 x2'), 'and announced it');
    ra.apply(spec(instance({ priority: 210, vips: [{ address: '10.0.0.101', prefixLength: 32 }] })));
    await advance(1);
    assert.deepEqual([...a.addrs], ['10.0.0.101'], 'and removed the dropped one');
    // a VRID change restarts the instance
    ra.apply(spec(instance({ priority: 210, fsm: { vrid: 52, version: 3, priority: 210, advertIntMs: 100 } })));
    assert.equal(ra.status()[0]!.vrid, 52);
  });

  it('a sync group moves together: one member faulted by its tracked interface takes the whole group out', async () => {
    const two = (prio: number, track: boolean): VrrpSpec => ({
      instances: [
        instance({ name: 'VI_1', priority: prio, syncGroup: 'G', ...(track ? { trackInterfaces: [{ name: 'eth1', weight: 0 }] } : {}) }),
        instance({ name: 'VI_2', priority: prio, syncGroup: 'G', fsm: { vrid: 52, version: 3, priority: prio, advertIntMs: 100 }, vips: [{ address: '10.0.0.101', prefixLength: 32 }] }),
      ],
      groups: [{ name: 'G', members: ['VI_1', 'VI_2'], notify: { generic: { argv: ['/bin/g'] } } }],
      scripts: [],
      files: [],
    });
    let eth1 = true;
    const link = a.link.bind(a);
    a.link = (ifname?: string) => (ifname === 'eth1' ? { ...link(), up: eth1 } : link());
    ra.apply(two(200, true));
    rb.apply(two(100, false));
    await advance(500);
    const st = (r: VrrpRunner): string[] => r.status().map((x) => `${x.name}:${x.state}`);
    assert.deepEqual(st(ra), ['VI_1:MASTER', 'VI_2:MASTER']);
    assert.deepEqual(st(rb), ['VI_1:BACKUP', 'VI_2:BACKUP']);
    assert.ok(a.events.includes('notify /bin/g GROUP G MASTER 0'), a.events.join('\n'));
    eth1 = false;
    a.setLink(false); // any link event re-evaluates the trackers
    a.linkUp = true;
    a.setLink(true);
    await advance(500);
    assert.deepEqual(st(ra), ['VI_1:FAULT', 'VI_2:FAULT']);
    assert.deepEqual(st(rb), ['VI_1:MASTER', 'VI_2:MASTER']);
    assert.deepEqual([...b.addrs].sort(), ['10.0.0.100', '10.0.0.101']);
    assert.deepEqual([...a.addrs], []);
  });

  it('an instance whose interface has no address yet starts when the interface gets one', async () => {
    const link = a.link.bind(a);
    let ready = false;
    a.link = () => (ready ? link() : { ...link(), addresses: [] });
    ra.apply(spec(instance({ priority: 200 })));
    assert.deepEqual(ra.status(), []);
    ready = true;
    a.setLink(true);
    assert.equal(ra.status()[0]?.state, 'BACKUP');
    await advance(400);
    assert.equal(ra.status()[0]?.state, 'MASTER');
  });

  it('two standalone instances start together; a state listener may read the status of all (worker regression)', async () => {
    const seen: string[] = [];
    ra.on('state', () => seen.push(ra.status().map((x) => `${x.name}:${x.state}`).join(',')));
    ra.apply({
      instances: [instance({ name: 'VI_1', priority: 200 }), instance({ name: 'VI_2', priority: 200, fsm: { vrid: 52, version: 3, priority: 200, advertIntMs: 100 } })],
      groups: [],
      scripts: [],
      files: [],
    });
    assert.deepEqual(seen, ['VI_1:BACKUP,VI_2:INIT', 'VI_1:BACKUP,VI_2:BACKUP']);
    await advance(400);
    assert.deepEqual(ra.status().map((x) => x.state), ['MASTER', 'MASTER']);
  });

  it('adverts that fail validation are counted per reason and ignored', async () => {
    rb.apply(spec(instance({ priority: 100 })));
    const good = Buffer.from([0x31, 51, 200, 1, 0, 10, 0, 0, 10, 0, 0, 100]);
    const rx = b.rx[0]!;
    const bad = ipv4('10.0.0.9', '224.0.0.18', good);
    bad.data[8] = 64; // TTL 64 on multicast
    rx(bad);
    rx(ipv4('10.0.0.9', '224.0.0.18', Buffer.from([0x21, 51, 200, 1, 1, 1, 0, 0, 10, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0]))); // v2 on a v3 instance
    rx(ipv4('10.0.0.9', '224.0.0.18', Buffer.from([0x31, 52, 200, 1, 0, 10, 0, 0, 10, 0, 0, 100]))); // another VRID: not ours, not counted
    assert.deepEqual(rb.status()[0]!.drops, { ip_ttl_err: 1, vers_err: 1 });
    assert.equal(rb.status()[0]!.advertsReceived, 0);
  });
});
