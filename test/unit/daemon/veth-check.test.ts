// Tests for src/daemon/veth-check.ts: the findings about XDP on veth from
// the features read of each interface's peer (no kernel: the facts are
// written here as io/veth-probe.ts would report them).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { findingLine, vethFindings, type InterfaceFacts, type PeerFacts } from '../../../src/daemon/veth-check.js';

/** A peer in namespace `lab-c` with the settings xlb needs (GRO on, tx off). */
function peer(over: Partial<PeerFacts> = {}): PeerFacts {
  return { ifindex: 2, ifname: 'c0', netns: { kind: 'named', name: 'lab-c' }, gro: true, txChecksum: false, xdpNative: false, ...over };
}
const veth = (p: PeerFacts | undefined, extra: Partial<InterfaceFacts> = {}): InterfaceFacts => ({ ifname: 'xlb0', driver: 'veth', ...(p ? { peer: p } : {}), ...extra });

describe('vethFindings', () => {
  test('a peer with GRO on and tx off: nothing to say', () => {
    assert.deepEqual(vethFindings([veth(peer())]), []);
  });

  test('GRO off and no XDP program at the peer: one warning with the command, in the peer\'s namespace', () => {
    const [f, ...rest] = vethFindings([veth(peer({ gro: false }))]);
    assert.deepEqual(rest, []);
    assert.equal(f?.level, 'warning');
    assert.deepEqual(f?.problems, ['napi']);
    assert.equal(f?.interface, 'xlb0');
    assert.equal(f?.peer, 'c0');
    assert.equal(f?.netns, 'lab-c');
    assert.equal(f?.fix, 'ip netns exec lab-c ethtool -K c0 gro on');
    assert.match(f!.message, /^XDP on veth xlb0: its peer c0 \(netns lab-c\) has GRO off and no XDP program/);
  });

  test('a native XDP program at the peer gives it NAPI: GRO off is fine then', () => {
    assert.deepEqual(vethFindings([veth(peer({ gro: false, xdpNative: true }))]), []);
  });

  test('transmit checksum offload on at a peer that is the sender: a warning, tx off', () => {
    const [f] = vethFindings([veth(peer({ txChecksum: true }))]);
    assert.equal(f?.level, 'warning');
    assert.deepEqual(f?.problems, ['tx-checksum']);
    assert.equal(f?.fix, 'ip netns exec lab-c ethtool -K c0 tx off');
  });

  test('both at once: ONE warning for the interface, one command with both settings', () => {
    const found = vethFindings([veth(peer({ gro: false, txChecksum: true, netns: { kind: 'same' } }))]);
    assert.equal(found.length, 1);
    assert.deepEqual(found[0]?.problems, ['napi', 'tx-checksum']);
    assert.equal(found[0]?.fix, 'ethtool -K c0 gro on tx off');
    assert.equal(found[0]?.netns, undefined);
    assert.doesNotMatch(found[0]!.message, /netns/);
  });

  test('a peer found through a process: nsenter into /proc/PID/ns/net', () => {
    const [f] = vethFindings([veth(peer({ gro: false, netns: { kind: 'pid', pid: 4321 } }))]);
    assert.equal(f?.fix, 'nsenter --net=/proc/4321/ns/net ethtool -K c0 gro on');
    assert.equal(f?.netns, 'pid 4321');
  });

  test('a bridge port with tx on: only a note (the senders behind the bridge decide, and xlb cannot see them)', () => {
    const found = vethFindings([veth(peer({ ifname: 's0', txChecksum: true, master: 'br0' }))]);
    assert.equal(found.length, 1);
    assert.equal(found[0]?.level, 'note');
    assert.deepEqual(found[0]?.problems, ['tx-checksum']);
    assert.equal(found[0]?.fix, 'ip netns exec lab-c ethtool -K s0 tx off');
    // GRO off at a bridge port is still a warning: its NAPI is what matters
    const both = vethFindings([veth(peer({ ifname: 's0', gro: false, txChecksum: true, master: 'br0' }))]);
    assert.deepEqual(
      both.map((f) => [f.level, f.problems, f.fix]),
      [
        ['warning', ['napi'], 'ip netns exec lab-c ethtool -K s0 gro on'],
        ['note', ['tx-checksum'], 'ip netns exec lab-c ethtool -K s0 tx off'],
      ],
    );
  });

  test('features the driver does not report: notes, never warnings', () => {
    const found = vethFindings([veth(peer({ gro: null, txChecksum: null }))]);
    assert.deepEqual(
      found.map((f) => [f.level, f.problems, f.fix]),
      [['note', ['napi', 'tx-checksum'], 'ip netns exec lab-c ethtool -K c0 gro on tx off']],
    );
  });

  test('a peer xlb could not examine: a note that says why', () => {
    const [f, ...rest] = vethFindings([veth(undefined, { peerUnknown: 'the peer is in the namespace of id 3, which is neither under /run/netns nor the namespace of a process' })]);
    assert.deepEqual(rest, []);
    assert.equal(f?.level, 'note');
    assert.deepEqual(f?.problems, ['unchecked']);
    assert.match(f!.message, /namespace of id 3/);
  });

  test('other drivers are not checked; interfaces keep their order', () => {
    const found = vethFindings([
      { ifname: 'eth0', driver: 'virtio_net' },
      { ifname: 'lo', driver: '' },
      veth(peer({ gro: false }), { ifname: 'xlb1' }),
      veth(peer({ txChecksum: true }), { ifname: 'xlb0' }),
    ]);
    assert.deepEqual(
      found.map((f) => f.interface),
      ['xlb1', 'xlb0'],
    );
  });

  test('a device xlb only redirects into (route to a backend): the peer\'s NAPI counts, transmit checksumming does not', () => {
    const egress = (p: PeerFacts): InterfaceFacts => ({ ifname: 'be0', driver: 'veth', role: 'egress', backends: ['10.0.0.2', '10.0.0.3'], peer: p });
    assert.deepEqual(vethFindings([egress(peer({ txChecksum: true }))]), []);
    const [f, ...rest] = vethFindings([egress(peer({ gro: false, txChecksum: true }))]);
    assert.deepEqual(rest, []);
    assert.deepEqual([f?.level, f?.problems, f?.interface, f?.fix], ['warning', ['napi'], 'be0', 'ip netns exec lab-c ethtool -K c0 gro on']);
    assert.match(f!.message, /^XDP redirects into veth be0 \(the route to 10\.0\.0\.2, 10\.0\.0\.3; xlb is not attached to it\): its peer c0/);
  });

  test('findingLine(): level, message and fix on one line', () => {
    const [f] = vethFindings([veth(peer({ gro: false, netns: { kind: 'same' } }))]);
    assert.equal(findingLine(f!), `warning: ${f!.message}. Fix: ethtool -K c0 gro on`);
  });
});
