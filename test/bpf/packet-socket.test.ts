// Root-tier tests of the addon's packet sockets (native/src/link_socket.cc,
// src/native/socket.ts PacketSocket) sending what src/net/arp-nd.ts builds:
// a gratuitous ARP and an unsolicited neighbour advertisement go out of one
// namespace and are captured, and acted on, in the other.
//
// Needs root (CAP_NET_RAW, CAP_SYS_ADMIN for setns): every test is skipped
// otherwise. Two network namespaces made here, xlbnl-<pid>-pa (sender) and
// xlbnl-<pid>-pb (receiver), removed in after() even when a test fails;
// nothing is added to the root namespace and every frame stays on the veth
// pair. Lab:
//   A  a0 02:00:00:fb:02:01 10.253.0.1/24 fd53::1/64  <-->  b0 02:00:00:fb:02:02 10.253.0.2/24 fd53::2/64  B
// The VIPs announced are 10.253.0.100 and fd53::100 (in the link's subnets,
// not configured anywhere: only announced). Every wait is bounded.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe } from 'node:test';
import { SystemError } from '../../src/errors.js';
import { inNetns, native, type NativeAddon } from '../../src/native/binding.js';
import { ETH_P, PACKET_TYPE, PacketSocket } from '../../src/native/socket.js';
import {
  ALL_NODES,
  decodeArp,
  decodeEthernetHeader,
  decodeNaPacket,
  encodeArp,
  gratuitousArp,
  gratuitousArpFrame,
  isGratuitousArp,
  parseMac,
  unsolicitedNa,
  unsolicitedNaFrame,
  type LinkFrame,
} from '../../src/net/arp-nd.js';
import { rootTestFor, sh, waitMessage } from '../support/root-tier.js';

const IS_ROOT = process.getuid?.() === 0;
const PID = process.pid;
const NS_A = `xlbnl-${PID}-pa`;
const NS_B = `xlbnl-${PID}-pb`;
const MAC_A = '02:00:00:fb:02:01';
const MAC_B = '02:00:00:fb:02:02';
const VIP4 = '10.253.0.100';
const VIP6 = 'fd53::100';

const rootTest = rootTestFor('needs root (CAP_NET_RAW, CAP_SYS_ADMIN)');

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function ifindex(ns: string, dev: string): number {
  return Number((JSON.parse(sh('ip', '-n', ns, '-j', 'link', 'show', dev)) as { ifindex: number }[])[0]!.ifindex);
}

/** B's neighbour entry for `address` on b0: `{ lladdr, state }`, or null. */
function neighbour(address: string): { lladdr?: string; state?: string[] } | null {
  const j = JSON.parse(sh('ip', '-n', NS_B, '-j', 'neigh', 'show', address, 'dev', 'b0')) as { lladdr?: string; state?: string[] }[];
  return j[0] ?? null;
}

/** Whether `buf` (an IPv6 packet) is an NA for `target`; false for anything else. */
function isNaFor(buf: Buffer, target: string): boolean {
  try {
    return decodeNaPacket(buf).value.na.target === target;
  } catch {
    return false;
  }
}

/**
 * Frames of `tcpdump -xx` text output: a header line (no indent) starts a
 * frame, its `0x0000:` lines hold the bytes; other indented lines (-v
 * decodes) are skipped.
 */
function parseTcpdumpHex(text: string): Buffer[] {
  const frames: string[][] = [];
  for (const line of text.split('\n')) {
    const m = /^\s+0x[0-9a-f]+:\s+((?:[0-9a-f]{2,4} ?)+)/.exec(line);
    if (m) frames[frames.length - 1]?.push(m[1]!.replace(/\s+/g, ''));
    else if (/^\S/.test(line)) frames.push([]);
  }
  return frames.filter((f) => f.length > 0).map((f) => Buffer.from(f.join(''), 'hex'));
}

describe('packet sockets: gratuitous ARP and unsolicited NA between two namespaces (root)', () => {
  let addon: NativeAddon;
  let a0 = 0;
  let b0 = 0;
  const sockets: PacketSocket[] = [];

  /** Runs fn with the main thread in namespace ns (sockets opened there stay there). */
  const inNs = <T>(ns: string, fn: () => T): T => inNetns(`/var/run/netns/${ns}`, fn, addon);

  function open(ns: string, options: ConstructorParameters<typeof PacketSocket>[0]): PacketSocket {
    const s = inNs(ns, () => new PacketSocket(options));
    sockets.push(s);
    return s;
  }

  /** Sends `f` out of a0 from a send-only dgram socket in A. */
  function sendFromA(f: LinkFrame): number {
    const tx = open(NS_A, {});
    return tx.send(f.payload, { ifindex: a0, destination: f.destination, protocol: f.ethertype });
  }

  before(async () => {
    if (!IS_ROOT) return;
    addon = native();
    for (const ns of [NS_A, NS_B]) {
      sh('ip', 'netns', 'add', ns);
      sh('ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0');
      sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    }
    sh('ip', '-n', NS_A, 'link', 'add', 'a0', 'address', MAC_A, 'type', 'veth', 'peer', 'name', 'b0', 'address', MAC_B, 'netns', NS_B);
    sh('ip', '-n', NS_A, 'addr', 'add', '10.253.0.1/24', 'dev', 'a0');
    sh('ip', '-n', NS_A, 'addr', 'add', 'fd53::1/64', 'dev', 'a0', 'nodad');
    sh('ip', '-n', NS_B, 'addr', 'add', '10.253.0.2/24', 'dev', 'b0');
    sh('ip', '-n', NS_B, 'addr', 'add', 'fd53::2/64', 'dev', 'b0', 'nodad');
    sh('ip', '-n', NS_A, 'link', 'set', 'a0', 'up');
    sh('ip', '-n', NS_B, 'link', 'set', 'b0', 'up');
    a0 = ifindex(NS_A, 'a0');
    b0 = ifindex(NS_B, 'b0');
    for (let i = 0; ; i++) {
      const up = sh('ip', '-n', NS_A, '-br', 'link', 'show', 'a0').includes(' UP ') && sh('ip', '-n', NS_B, '-br', 'link', 'show', 'b0').includes(' UP ');
      if (up) break;
      if (i >= 50) throw new Error('lab links did not come up within 5 s');
      await sleep(100);
    }
  });

  after(() => {
    if (!IS_ROOT) return;
    for (const s of sockets) s.close();
    for (const ns of [NS_A, NS_B]) {
      try {
        sh('ip', 'netns', 'del', ns);
      } catch {
        /* not created */
      }
    }
  });

  rootTest('GARP: sent on a dgram socket in A, received whole on a raw socket bound to b0, decoded field by field', async () => {
    const rx = open(NS_B, { type: 'raw', protocol: ETH_P.ARP, ifindex: b0 });
    assert.deepEqual({ ...rx.localAddress(), address: undefined }, { ifindex: b0, protocol: ETH_P.ARP, hatype: 1, pktType: 0, address: undefined });
    const frame = gratuitousArpFrame(VIP4, MAC_A);
    const got = waitMessage(rx, 3000, (f) => f.data.length >= 42 && f.data.readUInt16BE(12) === ETH_P.ARP && isGratuitousArp(decodeArp(f.data, 14).value, VIP4));
    assert.equal(sendFromA(frame), 28, 'the ARP packet; the kernel added the Ethernet header');
    const f = await got;
    assert.ok(f, 'GARP arrived in B');
    // Where it came from (sockaddr_ll).
    assert.equal(f.ifindex, b0);
    assert.equal(f.protocol, ETH_P.ARP);
    assert.equal(f.hatype, 1, 'ARPHRD_ETHER');
    assert.equal(f.pktType, PACKET_TYPE.BROADCAST);
    assert.deepEqual(f.address, parseMac(MAC_A), 'source MAC');
    // The whole frame: the Ethernet header the kernel built, then ours.
    assert.deepEqual(decodeEthernetHeader(f.data).value, { destination: 'ff:ff:ff:ff:ff:ff', source: MAC_A, ethertype: 0x0806 });
    assert.deepEqual(decodeArp(f.data, 14).value, { op: 1, senderMac: MAC_A, senderIp: VIP4, targetMac: 'ff:ff:ff:ff:ff:ff', targetIp: VIP4 });
    assert.deepEqual(f.data.subarray(14, 42), encodeArp(gratuitousArp(VIP4, MAC_A)));
  });

  rootTest('unsolicited NA: the IPv6 packet sent on a dgram socket, received on a dgram socket (ETH_P_IPV6) in B, decoded', async () => {
    const rx = open(NS_B, { type: 'dgram', protocol: ETH_P.IPV6, ifindex: b0 });
    const frame = unsolicitedNaFrame({ address: VIP6, mac: MAC_A });
    const got = waitMessage(rx, 3000, (f) => isNaFor(f.data, VIP6));
    assert.equal(sendFromA(frame), 72, 'IPv6 header + NA + TLLA option');
    const f = await got;
    assert.ok(f, 'NA arrived in B');
    assert.deepEqual([f.ifindex, f.protocol, f.pktType], [b0, ETH_P.IPV6, PACKET_TYPE.MULTICAST]);
    assert.deepEqual(f.address, parseMac(MAC_A));
    assert.deepEqual(f.data, unsolicitedNa({ address: VIP6, mac: MAC_A }), 'byte for byte what was sent');
    const { ip, na } = decodeNaPacket(f.data).value; // checks hop limit, checksum, S to multicast
    assert.deepEqual(ip, { trafficClass: 0, flowLabel: 0, payloadLength: 32, nextHeader: 58, hopLimit: 255, source: VIP6, destination: ALL_NODES });
    assert.deepEqual(na, { router: false, solicited: false, override: true, target: VIP6, targetLinkLayerAddress: MAC_A });
  });

  rootTest("tcpdump -xx in B sees both announcements on the wire (an independent decoder's view)", async () => {
    const td = spawn('ip', ['netns', 'exec', NS_B, 'timeout', '10', 'tcpdump', '-i', 'b0', '-n', '-l', '-v', '-xx', '-c', '2', 'arp or (icmp6 and ip6[40] = 136)'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    td.stdout.on('data', (d: Buffer) => (out += d.toString()));
    td.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => td.on('exit', (code) => resolve(code)));
    try {
      for (let i = 0; !err.includes('listening on'); i++) {
        if (i >= 50) throw new Error(`tcpdump did not start: ${err}`);
        await sleep(100);
      }
      sendFromA(gratuitousArpFrame(VIP4, MAC_A));
      sendFromA(unsolicitedNaFrame({ address: VIP6, mac: MAC_A }));
      assert.equal(await exited, 0, `tcpdump: ${err}`);
    } finally {
      if (td.exitCode === null) td.kill('SIGKILL');
    }
    const frames = parseTcpdumpHex(out);
    assert.equal(frames.length, 2, out);
    const [arp, na] = frames as [Buffer, Buffer];
    assert.deepEqual(arp, Buffer.concat([Buffer.from('ffffffffffff020000fb02010806', 'hex'), encodeArp(gratuitousArp(VIP4, MAC_A))]));
    assert.deepEqual(na, Buffer.concat([Buffer.from('333300000001020000fb020186dd', 'hex'), unsolicitedNa({ address: VIP6, mac: MAC_A })]));
    // tcpdump's own decode: the ICMPv6 checksum, the flags and the option.
    assert.match(out, /\(hlim 255, next-header ICMPv6 \(58\) payload length: 32\) fd53::100 > ff02::1: \[icmp6 sum ok\] ICMP6, neighbor advertisement, length 32, tgt is fd53::100, Flags \[override\]/);
    assert.match(out, /destination link-address option \(2\), length 8 \(1\): 02:00:00:fb:02:01/);
    assert.match(out, /Request who-has 10\.253\.0\.100 \(ff:ff:ff:ff:ff:ff\) tell 10\.253\.0\.100, length 28/);
  });

  rootTest("B's kernel acts on them: its neighbour entries for the VIPs move to A's MAC (Override)", async () => {
    // Stale entries pointing elsewhere, as after a failover from another router.
    sh('ip', '-n', NS_B, 'neigh', 'replace', VIP4, 'lladdr', '02:00:00:00:00:99', 'dev', 'b0', 'nud', 'stale');
    sh('ip', '-n', NS_B, 'neigh', 'replace', VIP6, 'lladdr', '02:00:00:00:00:99', 'dev', 'b0', 'nud', 'stale');
    assert.equal(neighbour(VIP4)?.lladdr, '02:00:00:00:00:99');
    sendFromA(gratuitousArpFrame(VIP4, MAC_A));
    sendFromA(unsolicitedNaFrame({ address: VIP6, mac: MAC_A }));
    for (let i = 0; neighbour(VIP4)?.lladdr !== MAC_A || neighbour(VIP6)?.lladdr !== MAC_A; i++) {
      if (i >= 30) break;
      await sleep(100);
    }
    assert.equal(neighbour(VIP4)?.lladdr, MAC_A, 'ARP cache updated by the GARP');
    assert.equal(neighbour(VIP6)?.lladdr, MAC_A, 'neighbour cache updated by the NA (O flag)');
  });

  rootTest('send errors: ENXIO for a missing ifindex, ENETDOWN for a down link; argument checks; closed socket', async () => {
    const tx = open(NS_A, {});
    const f = gratuitousArpFrame(VIP4, MAC_A);
    assert.throws(
      () => tx.send(f.payload, { ifindex: 9999, destination: f.destination, protocol: f.ethertype }),
      (e: unknown) => e instanceof SystemError && e.code === 'ENXIO' && e.syscall === 'sendto',
    );
    sh('ip', '-n', NS_A, 'link', 'set', 'a0', 'down');
    try {
      assert.throws(() => tx.send(f.payload, { ifindex: a0, destination: f.destination, protocol: f.ethertype }), (e: unknown) => e instanceof SystemError && e.code === 'ENETDOWN');
    } finally {
      sh('ip', '-n', NS_A, 'link', 'set', 'a0', 'up');
    }
    assert.throws(() => tx.send(f.payload, { ifindex: a0, destination: Buffer.alloc(9), protocol: f.ethertype }), TypeError);
    assert.throws(() => tx.send(f.payload, { ifindex: 0, destination: f.destination, protocol: f.ethertype }), RangeError);
    assert.throws(() => tx.send(f.payload, { ifindex: a0, destination: f.destination, protocol: 0x10000 }), RangeError);
    assert.throws(() => open(NS_A, { ifindex: 9999, protocol: ETH_P.ARP }), (e: unknown) => e instanceof SystemError && e.code === 'ENODEV' && e.syscall === 'bind');
    assert.equal(tx.recv(), null, 'a send-only socket (protocol 0) receives nothing');
    tx.close();
    tx.close();
    assert.equal(tx.fd, -1);
    assert.throws(() => tx.send(f.payload, { ifindex: a0, destination: f.destination, protocol: f.ethertype }), /linkSocket\.sendPacket: socket is closed/);
  });

  rootTest('the native class refuses methods of the other domain', () => {
    const Native = native().LinkSocket!;
    const s = inNs(NS_A, () => new Native({ domain: 'packet', type: 'dgram', protocol: 0 }));
    try {
      assert.throws(() => s.bindNetlink(0, 0), /linkSocket\.bindNetlink: not a netlink socket/);
      assert.throws(() => s.sendPacket(Buffer.alloc(1), a0, Buffer.alloc(9), 1), /must be a Buffer of at most 8 bytes/);
      assert.throws(() => new Native({ domain: 'bogus' } as never), /options.domain must be 'netlink' or 'packet'/);
    } finally {
      s.close();
    }
  });
});
