// Root-tier tests of the rtnetlink client (src/io/netlink-client.ts) over
// the addon's netlink sockets (native/src/link_socket.cc,
// src/native/socket.ts NetlinkSocket), against the real kernel.
//
// Needs root (CAP_NET_ADMIN to change addresses, CAP_SYS_ADMIN for setns):
// every test is skipped otherwise. Everything happens in two network
// namespaces made here, xlbnl-<pid>-a and xlbnl-<pid>-b, removed in after()
// even when a test fails; the root namespace's addresses and routes are
// never touched (the client is started inside A with enterNetns and then
// only ever talks to A). Lab:
//   A  a0 02:00:00:fb:01:01  <-- veth -->  b0 02:00:00:fb:01:02  B
// Every wait is bounded by a timer.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { SystemError } from '../../src/errors.js';
import { inNetns, native, type NativeAddon } from '../../src/native/binding.js';
import { NetlinkSocket } from '../../src/native/socket.js';
import { NetlinkClient, type AddressEvent, type LinkEvent } from '../../src/io/netlink-client.js';
import { IFA_F } from '../../src/net/rtnetlink.js';
import { rootTestFor, sh } from '../support/root-tier.js';

const IS_ROOT = process.getuid?.() === 0;
const PID = process.pid;
const NS_A = `xlbnl-${PID}-a`;
const NS_B = `xlbnl-${PID}-b`;
const MAC_A = '02:00:00:fb:01:01';

const rootTest = rootTestFor('needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN)');

/** `ip -j addr show dev <dev>` in namespace ns: the addr_info entries. */
function ipAddrs(ns: string, dev: string): Record<string, unknown>[] {
  const j = JSON.parse(sh('ip', '-n', ns, '-j', 'addr', 'show', 'dev', dev)) as { addr_info: Record<string, unknown>[] }[];
  return j[0]!.addr_info;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves with the first event of `name` that `match` accepts, or null after `ms`. */
function waitEvent<K extends 'link' | 'address'>(
  nl: NetlinkClient,
  name: K,
  ms: number,
  match: (e: K extends 'link' ? LinkEvent : AddressEvent) => boolean,
): Promise<(K extends 'link' ? LinkEvent : AddressEvent) | null> {
  type E = K extends 'link' ? LinkEvent : AddressEvent;
  return new Promise((resolve) => {
    const on = (e: E): void => {
      if (!match(e)) return;
      clearTimeout(timer);
      nl.off(name, on as never);
      resolve(e);
    };
    const timer = setTimeout(() => {
      nl.off(name, on as never);
      resolve(null);
    }, ms);
    nl.on(name, on as never);
  });
}

describe('rtnetlink client in a network namespace (root)', () => {
  let addon: NativeAddon;
  let nl: NetlinkClient;
  let a0 = 0;
  const errors: Error[] = [];

  /** Runs fn with the main thread in namespace ns (sockets opened there stay there). */
  const inNs = <T>(ns: string, fn: () => T): T => inNetns(`/var/run/netns/${ns}`, fn, addon);

  before(async () => {
    if (!IS_ROOT) return;
    addon = native();
    for (const ns of [NS_A, NS_B]) {
      sh('ip', 'netns', 'add', ns);
      sh('ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0');
      sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    }
    sh('ip', '-n', NS_A, 'link', 'add', 'a0', 'address', MAC_A, 'type', 'veth', 'peer', 'name', 'b0', 'address', '02:00:00:fb:01:02', 'netns', NS_B);
    sh('ip', '-n', NS_A, 'link', 'set', 'a0', 'up');
    sh('ip', '-n', NS_B, 'link', 'set', 'b0', 'up');
    nl = new NetlinkClient();
    nl.on('error', (e) => errors.push(e));
    inNs(NS_A, () => nl.start());
    a0 = Number(JSON.parse(sh('ip', '-n', NS_A, '-j', 'link', 'show', 'a0'))[0].ifindex);
    // The veth carrier comes up through linkwatch, up to ~1 s later.
    for (let i = 0; !sh('ip', '-n', NS_A, '-br', 'link', 'show', 'a0').includes(' UP '); i++) {
      if (i >= 50) throw new Error('a0 did not come up within 5 s');
      await sleep(100);
    }
  });

  after(() => {
    if (!IS_ROOT) return;
    nl?.stop();
    for (const ns of [NS_A, NS_B]) {
      try {
        sh('ip', 'netns', 'del', ns);
      } catch {
        /* not created */
      }
    }
  });

  rootTest('the client talks to the namespace it was started in: links() and link() see A only', async () => {
    const links = await nl.links();
    assert.deepEqual(links.map((l) => l.name).sort(), ['a0', 'lo'], "A's links, not the root namespace's");
    const byName = await nl.link('a0');
    assert.equal(byName.ifindex, a0);
    assert.equal(byName.mac, MAC_A);
    assert.equal(byName.type, 1, 'ARPHRD_ETHER');
    assert.equal(byName.mtu, 1500);
    assert.ok(byName.link !== undefined && byName.link > 0, 'the veth peer (an ifindex in B)');
    assert.deepEqual(await nl.link(a0), byName);
    assert.ok(byName.up && byName.adminUp && byName.running && byName.lowerUp);
    assert.equal(byName.operState, 'UP');
    await assert.rejects(nl.link('b0'), (e: unknown) => e instanceof SystemError && e.code === 'ENODEV' && e.errno === -19, "B's interface is not visible from A");
  });

  rootTest('a raw NetlinkSocket: the kernel assigns a port id; replies come from pid 0', () => {
    const s = inNs(NS_A, () => new NetlinkSocket());
    try {
      assert.ok(s.pid > 0);
      assert.ok(s.fd >= 0);
      assert.equal(s.recv(), null, 'nothing queued');
    } finally {
      s.close();
    }
    assert.equal(s.fd, -1);
    assert.throws(() => s.send(Buffer.alloc(16)), /socket is closed/);
  });

  rootTest('add IPv4 (with label) and IPv6 (nodad) addresses; ip -j addr and addresses() show them; delete them', async () => {
    await nl.addAddress({ ifindex: a0, address: '10.252.0.1', prefixLength: 24, label: 'a0:vip' });
    await nl.addAddress({ ifindex: a0, address: '10.252.1.1', prefixLength: 32 });
    await nl.addAddress({ ifindex: a0, address: 'fd52::1', prefixLength: 64, nodad: true });
    await nl.addAddress({ ifindex: a0, address: 'fe80::52', prefixLength: 64, nodad: true });

    const info = ipAddrs(NS_A, 'a0');
    const find = (local: string): Record<string, unknown> | undefined => info.find((x) => x['local'] === local);
    assert.deepEqual(
      { family: find('10.252.0.1')?.['family'], prefixlen: find('10.252.0.1')?.['prefixlen'], label: find('10.252.0.1')?.['label'], scope: find('10.252.0.1')?.['scope'] },
      { family: 'inet', prefixlen: 24, label: 'a0:vip', scope: 'global' },
    );
    assert.equal(find('10.252.1.1')?.['label'], 'a0', 'no label given: the interface name');
    assert.equal(find('fd52::1')?.['nodad'], true);
    assert.equal(find('fd52::1')?.['tentative'], undefined, 'usable at once');
    assert.equal(find('fe80::52')?.['scope'], 'link', 'IPv6 derives the scope');

    const mine = await nl.addresses({ ifindex: a0 });
    const v4 = mine.find((x) => x.address === '10.252.0.1');
    assert.deepEqual(v4, { family: 4, ifindex: a0, address: '10.252.0.1', prefixLength: 24, flags: IFA_F.PERMANENT, scope: 0, label: 'a0:vip' });
    const v6 = mine.find((x) => x.address === 'fd52::1');
    assert.equal(v6?.flags, IFA_F.PERMANENT | IFA_F.NODAD);
    assert.deepEqual((await nl.addresses({ ifindex: a0, family: 4 })).map((x) => x.address).sort(), ['10.252.0.1', '10.252.1.1']);

    await nl.deleteAddress({ ifindex: a0, address: '10.252.0.1', prefixLength: 24 });
    await nl.deleteAddress({ ifindex: a0, address: '10.252.1.1', prefixLength: 32 });
    await nl.deleteAddress({ ifindex: a0, address: 'fd52::1', prefixLength: 64 });
    await nl.deleteAddress({ ifindex: a0, address: 'fe80::52', prefixLength: 64 });
    const left = ipAddrs(NS_A, 'a0').map((x) => x['local']);
    for (const gone of ['10.252.0.1', '10.252.1.1', 'fd52::1', 'fe80::52']) assert.ok(!left.includes(gone), `${gone} deleted`);
  });

  rootTest('kernel errors: EEXIST on a duplicate add, EADDRNOTAVAIL on deleting what is not there, ENODEV', async () => {
    await nl.addAddress({ ifindex: a0, address: '10.252.2.1', prefixLength: 24, label: 'a0:dup' });
    try {
      await assert.rejects(nl.addAddress({ ifindex: a0, address: '10.252.2.1', prefixLength: 24 }), (e: unknown) => {
        assert.ok(e instanceof SystemError);
        assert.equal(e.code, 'EEXIST');
        assert.equal(e.errno, -17);
        assert.equal(e.syscall, 'RTM_NEWADDR');
        assert.match(e.message, /^RTM_NEWADDR failed: file already exists \(10\.252\.2\.1\/24 on ifindex \d+; ipv4: Address already assigned\)$/);
        return true;
      });
      await nl.addAddress({ ifindex: a0, address: 'fd52::2', prefixLength: 64, nodad: true });
      await assert.rejects(nl.addAddress({ ifindex: a0, address: 'fd52::2', prefixLength: 64, nodad: true }), { code: 'EEXIST' });
      await assert.rejects(nl.deleteAddress({ ifindex: a0, address: '10.252.2.1', prefixLength: 16 }), { code: 'EADDRNOTAVAIL' }, 'another prefix length');
      await assert.rejects(nl.deleteAddress({ ifindex: a0, address: '10.252.9.9', prefixLength: 24 }), { code: 'EADDRNOTAVAIL' });
      await assert.rejects(nl.deleteAddress({ ifindex: a0, address: 'fd52::9', prefixLength: 64 }), { code: 'EADDRNOTAVAIL' });
      await assert.rejects(nl.addAddress({ ifindex: 9999, address: '10.252.3.1', prefixLength: 24 }), { code: 'ENODEV' });
    } finally {
      await nl.deleteAddress({ ifindex: a0, address: '10.252.2.1', prefixLength: 24 }).catch(() => undefined);
      await nl.deleteAddress({ ifindex: a0, address: 'fd52::2', prefixLength: 64 }).catch(() => undefined);
    }
  });

  rootTest("'address' events: added and removed, by this client and by ip(8), both families", async () => {
    const isV4 = (action: string) => (e: AddressEvent) => e.action === action && e.address.address === '10.252.4.1';
    const added = waitEvent(nl, 'address', 3000, isV4('new'));
    await nl.addAddress({ ifindex: a0, address: '10.252.4.1', prefixLength: 24, label: 'a0:ev' });
    const ev = await added;
    assert.ok(ev, 'RTM_NEWADDR notification');
    assert.deepEqual(ev.address, { family: 4, ifindex: a0, address: '10.252.4.1', prefixLength: 24, flags: IFA_F.PERMANENT, scope: 0, label: 'a0:ev' });
    const removed = waitEvent(nl, 'address', 3000, isV4('del'));
    await nl.deleteAddress({ ifindex: a0, address: '10.252.4.1', prefixLength: 24 });
    assert.ok(await removed, 'RTM_DELADDR notification');

    const is6 = (action: string) => (e: AddressEvent) => e.action === action && e.address.address === 'fd52::4';
    const added6 = waitEvent(nl, 'address', 3000, is6('new'));
    sh('ip', '-n', NS_A, 'addr', 'add', 'fd52::4/80', 'dev', 'a0', 'nodad');
    const ev6 = await added6;
    assert.ok(ev6, 'a change made by another tool is seen too');
    assert.equal(ev6.address.prefixLength, 80);
    assert.equal(ev6.address.family, 6);
    assert.ok((ev6.address.flags & IFA_F.NODAD) !== 0);
    const removed6 = waitEvent(nl, 'address', 3000, is6('del'));
    sh('ip', '-n', NS_A, 'addr', 'del', 'fd52::4/80', 'dev', 'a0');
    assert.ok(await removed6);
    assert.deepEqual(errors, []);
  });

  rootTest("'link' events: a0 down, then up again (admin and carrier)", async () => {
    const down = waitEvent(nl, 'link', 3000, (e) => e.link.ifindex === a0 && !e.link.adminUp);
    sh('ip', '-n', NS_A, 'link', 'set', 'a0', 'down');
    const d = await down;
    assert.ok(d, 'RTM_NEWLINK without IFF_UP');
    assert.deepEqual([d.action, d.link.name, d.link.up, d.link.running, d.link.operState], ['new', 'a0', false, false, 'DOWN']);

    const up = waitEvent(nl, 'link', 5000, (e) => e.link.ifindex === a0 && e.link.up);
    sh('ip', '-n', NS_A, 'link', 'set', 'a0', 'up');
    const u = await up;
    assert.ok(u, 'RTM_NEWLINK with IFF_UP and IFF_RUNNING once the carrier is back');
    assert.deepEqual([u.action, u.link.name, u.link.adminUp, u.link.running, u.link.lowerUp, u.link.operState], ['new', 'a0', true, true, true, 'UP']);

    // The peer going down takes a0's carrier (IFF_RUNNING) but not IFF_UP.
    const lower = waitEvent(nl, 'link', 3000, (e) => e.link.ifindex === a0 && e.link.adminUp && !e.link.running);
    sh('ip', '-n', NS_B, 'link', 'set', 'b0', 'down');
    const l = await lower;
    assert.ok(l, 'carrier loss');
    assert.deepEqual([l.link.up, l.link.lowerUp], [false, false]);
    // RFC 2863 state: LOWERLAYERDOWN once linkwatch has run, DOWN in a first notification.
    assert.ok(l.link.operState === 'LOWERLAYERDOWN' || l.link.operState === 'DOWN', String(l.link.operState));
    const back = waitEvent(nl, 'link', 5000, (e) => e.link.ifindex === a0 && e.link.up);
    sh('ip', '-n', NS_B, 'link', 'set', 'b0', 'up');
    assert.ok(await back, 'carrier back');
    assert.deepEqual(errors, []);
  });

  rootTest("'link' event 'del' when an interface goes away", async () => {
    sh('ip', '-n', NS_A, 'link', 'add', 'tmp0', 'type', 'veth', 'peer', 'name', 'tmp1');
    const idx = (await nl.link('tmp0')).ifindex;
    const gone = waitEvent(nl, 'link', 3000, (e) => e.action === 'del' && e.link.ifindex === idx);
    sh('ip', '-n', NS_A, 'link', 'del', 'tmp0');
    const g = await gone;
    assert.ok(g, 'RTM_DELLINK');
    assert.equal(g.link.name, 'tmp0');
  });
});
