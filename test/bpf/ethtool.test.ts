// Root-tier tests of the addon's ethtoolQuery (native/src/ethtool.cc) and of
// io/veth-probe.ts, which finds a veth's peer across namespaces and reads
// what daemon/veth-check.ts decides on. Against the real kernel:
//   A  a0 <-- veth --> b0  B      (b0 later a port of bridge br0 in B)
//   A  a1 <-- veth --> a2  A      (a1 10.200.0.1/24, a0 10.202.0.1/24: routes inside A)
// Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN for setns): skipped otherwise.
// Both namespaces, xlbet-<pid>-a and -b, are made here and removed in
// after() even when a test fails; nothing touches the root namespace.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inNetns, native, type NativeAddon } from '../../src/native/binding.js';
import type { InterfaceFacts } from '../../src/daemon/veth-check.js';
import { rootTestFor, sh } from '../support/root-tier.js';

const IS_ROOT = process.getuid?.() === 0;
const NS_A = `xlbet-${process.pid}-a`;
const NS_B = `xlbet-${process.pid}-b`;
const rootTest = rootTestFor('needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN)');
const PROBE = fileURLToPath(new URL('../../src/io/veth-probe.js', import.meta.url));
const XDP_PASS_OBJ = fileURLToPath(new URL('../../../bpf/.output/floor.bpf.o', import.meta.url));

/** What `ethtool -k` says of dev in ns: GRO and tx checksumming, as the second opinion. */
function ethtoolK(ns: string, dev: string): { gro: boolean; tx: boolean } {
  const text = sh('ip', 'netns', 'exec', ns, 'ethtool', '-k', dev);
  const on = (key: string): boolean => new RegExp(`^${key}: on`, 'm').test(text);
  return { gro: on('generic-receive-offload'), tx: on('tx-checksumming') };
}

/** io/veth-probe.ts run by a node process inside ns (the probe works in its caller's namespace). */
function probeIn(ns: string, names: string[], options: { egressTo?: string[]; netnsDir?: string; procDir?: string } = {}): InterfaceFacts[] {
  const script = `import(${JSON.stringify(PROBE)}).then(async (m) => process.stdout.write(JSON.stringify(await m.probeInterfaces(${JSON.stringify(names)}, ${JSON.stringify(options)}))))`;
  return JSON.parse(sh('ip', 'netns', 'exec', ns, process.execPath, '-e', script)) as InterfaceFacts[];
}

describe('ethtool query and veth probe (root)', () => {
  let addon: NativeAddon;

  /** Runs fn with the main thread in namespace ns (sockets opened there stay there). */
  const inNs = <T>(ns: string, fn: () => T): T => inNetns(`/var/run/netns/${ns}`, fn, addon);
  const query = (ns: string, dev: string): ReturnType<NativeAddon['ethtoolQuery']> => inNs(ns, () => addon.ethtoolQuery(addon.ifNameToIndex(dev)));

  before(() => {
    if (!IS_ROOT) return;
    addon = native();
    for (const ns of [NS_A, NS_B]) sh('ip', 'netns', 'add', ns);
    sh('ip', '-n', NS_A, 'link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'b0', 'netns', NS_B);
    sh('ip', '-n', NS_A, 'link', 'add', 'a1', 'type', 'veth', 'peer', 'name', 'a2');
    sh('ip', '-n', NS_B, 'link', 'add', 'br0', 'type', 'bridge');
  });

  after(() => {
    if (!IS_ROOT) return;
    for (const ns of [NS_A, NS_B]) {
      try {
        sh('ip', 'netns', 'del', ns);
      } catch {
        /* not created */
      }
    }
  });

  rootTest('ethtoolQuery reads GRO and tx checksumming back as ethtool -K set them', () => {
    const settings: [string, string][] = [
      ['off', 'on'],
      ['on', 'on'],
      ['on', 'off'],
      ['off', 'off'],
    ];
    for (const [gro, tx] of settings) {
      sh('ip', 'netns', 'exec', NS_B, 'ethtool', '-K', 'b0', 'gro', gro, 'tx', tx);
      const q = query(NS_B, 'b0');
      assert.deepEqual(q, { ifname: 'b0', driver: 'veth', busInfo: '', gro: gro === 'on', txChecksum: tx === 'on' }, `gro ${gro} tx ${tx}`);
      const k = ethtoolK(NS_B, 'b0');
      assert.deepEqual([q.gro, q.txChecksum], [k.gro, k.tx], 'as ethtool -k says');
    }
  });

  rootTest('ethtoolQuery: the calling thread\'s namespace decides; lo has no driver; a missing ifindex is ENXIO', () => {
    // a0 and b0 may share an index; each namespace answers for its own device
    assert.equal(query(NS_A, 'a0').ifname, 'a0');
    assert.equal(query(NS_B, 'b0').ifname, 'b0');
    assert.equal(inNs(NS_A, () => addon.ethtoolQuery(1)).driver, ''); // lo
    assert.throws(() => inNs(NS_A, () => addon.ethtoolQuery(99999)), { code: 'ENXIO', syscall: 'if_indextoname' });
    assert.throws(() => addon.ethtoolQuery('a0' as unknown as number), /ethtoolQuery: ifindex must be a number/);
  });

  rootTest('probe: a peer in a named namespace is found by its id and read there; a peer in the same one too', () => {
    sh('ip', 'netns', 'exec', NS_B, 'ethtool', '-K', 'b0', 'gro', 'off', 'tx', 'on');
    sh('ip', 'netns', 'exec', NS_A, 'ethtool', '-K', 'a2', 'gro', 'on', 'tx', 'off');
    const b0 = inNs(NS_B, () => addon.ifNameToIndex('b0'));
    const a2 = inNs(NS_A, () => addon.ifNameToIndex('a2'));
    assert.deepEqual(probeIn(NS_A, ['a0', 'a1', 'lo']), [
      { ifname: 'a0', driver: 'veth', peer: { ifindex: b0, ifname: 'b0', netns: { kind: 'named', name: NS_B }, gro: false, txChecksum: true, xdpNative: false } },
      { ifname: 'a1', driver: 'veth', peer: { ifindex: a2, ifname: 'a2', netns: { kind: 'same' }, gro: true, txChecksum: false, xdpNative: false } },
      { ifname: 'lo', driver: '' },
    ]);
  });

  rootTest('probe: a device only the route to a backend leaves through is read as egress; attached ones and unroutable backends are not', () => {
    sh('ip', '-n', NS_A, 'addr', 'add', '10.200.0.1/24', 'dev', 'a1');
    sh('ip', '-n', NS_A, 'addr', 'add', '10.202.0.1/24', 'dev', 'a0');
    for (const dev of ['a0', 'a1', 'a2']) sh('ip', '-n', NS_A, 'link', 'set', dev, 'up');
    sh('ip', 'netns', 'exec', NS_A, 'ethtool', '-K', 'a2', 'gro', 'off', 'tx', 'on');
    const a2 = inNs(NS_A, () => addon.ifNameToIndex('a2'));
    const facts = probeIn(NS_A, ['a0'], { egressTo: ['10.200.0.5', '10.202.0.7', '10.201.0.1', '10.200.0.6'] });
    assert.equal(facts.length, 2, JSON.stringify(facts));
    assert.equal(facts[0]?.ifname, 'a0');
    assert.deepEqual(facts[1], {
      ifname: 'a1',
      driver: 'veth',
      role: 'egress',
      backends: ['10.200.0.5', '10.200.0.6'],
      peer: { ifindex: a2, ifname: 'a2', netns: { kind: 'same' }, gro: false, txChecksum: true, xdpNative: false },
    });
  });

  rootTest('probe: a peer in an unnamed namespace is found through a process in it; with nowhere to look, the peer is reported unknown', async () => {
    // a namespace only a process holds (as a container's): unshare's sleep, bounded, killed by its pid
    const holder = spawn('unshare', ['--net', 'sleep', '30'], { stdio: 'ignore' });
    try {
      let linked = false;
      for (let i = 0; i < 50 && !linked; i++) {
        try {
          sh('ip', '-n', NS_A, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'q0', 'netns', String(holder.pid));
          linked = true;
        } catch {
          await new Promise((r) => setTimeout(r, 100)); // unshare not in its namespace yet
        }
      }
      assert.ok(linked, 'no veth into the unshared namespace within 5 s');
      const [p0] = probeIn(NS_A, ['p0']);
      assert.equal(p0?.peer?.ifname, 'q0');
      assert.equal(p0?.peer?.netns.kind, 'pid');
      // the pid found holds that namespace: unshare's own or its sleep child's
      const pid = (p0?.peer?.netns as { pid: number }).pid;
      assert.equal(sh('readlink', `/proc/${pid}/ns/net`), sh('readlink', `/proc/${holder.pid}/ns/net`));
      const [blind] = probeIn(NS_A, ['a0'], { netnsDir: '/nonexistent-xlbet', procDir: '/nonexistent-xlbet' });
      assert.equal(blind?.peer, undefined);
      assert.match(blind?.peerUnknown ?? '', /^the peer, ifindex \d+, is in the namespace of id \d+, which is neither under \/nonexistent-xlbet nor the namespace of a process$/);
    } finally {
      holder.kill('SIGKILL');
      try {
        sh('ip', '-n', NS_A, 'link', 'del', 'p0');
      } catch {
        /* gone with the namespace */
      }
    }
  });

  rootTest('probe: the peer\'s bridge and a native XDP program at the peer are seen', () => {
    sh('ip', '-n', NS_B, 'link', 'set', 'b0', 'master', 'br0');
    sh('ip', '-n', NS_B, 'link', 'set', 'dev', 'b0', 'xdpdrv', 'obj', XDP_PASS_OBJ, 'sec', 'xdp');
    try {
      const [a0] = probeIn(NS_A, ['a0']);
      assert.equal(a0?.peer?.master, 'br0');
      assert.equal(a0?.peer?.xdpNative, true);
    } finally {
      sh('ip', '-n', NS_B, 'link', 'set', 'dev', 'b0', 'xdpdrv', 'off');
      sh('ip', '-n', NS_B, 'link', 'set', 'b0', 'nomaster');
    }
  });
});
