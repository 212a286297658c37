// Root-tier tests of the native sockets (native/src/raw_socket.cc,
// src/native/socket.ts), the ICMP probe (src/health/probes/icmp.ts) and the
// udp probe on the native factory's socket (src/health/probes/native-factory.ts).
//
// Needs root (CAP_NET_RAW, CAP_NET_ADMIN, CAP_SYS_ADMIN for setns): every
// test is skipped otherwise. Traffic stays on loopback and inside two network
// namespaces the test makes, named xlbt-sock-<pid>-a and xlbt-sock-<pid>-b and
// removed in after() even when a test fails; nothing is added to the root
// namespace. Lab (a0 in A <-> b0 in B):
//   A  a0 10.251.0.1/24 fd51::1/64    ping_group_range 0..2^31-1 (ping sockets allowed)
//      10.251.9.0/24, fd59::/64  via B   (B blackholes them: silent)
//      10.251.7.0/24, fd57::/64  via B   (B: unreachable routes -> ICMP(v6) unreachable)
//      10.251.6.0/24             via B in table 7 only, used for fwmark 7
//   B  b0 10.251.0.2/24 fd51::2/64, lo 10.251.6.6/32; IPv4 and IPv6 forwarding on,
//      no ICMP rate limit;
//      ping_group_range default (1 0: ping sockets refused, even to root)
// Every wait is bounded by a timer; every send loop by a count.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SystemError } from '../../src/errors.js';
import { classifyIcmp, createIcmpProbe, encodeEcho, type EchoExpectation, type IcmpProbeOptions } from '../../src/health/probes/icmp.js';
import { inetChecksum } from '../../src/net/checksum.js';
import type { ProbeResult, ProbeTarget } from '../../src/health/probes/types.js';
import { createUdpProbe } from '../../src/health/probes/udp.js';
import type { IcmpCheckSpec, UdpCheckSpec } from '../../src/health/spec.js';
import { inNetns, native, type NativeAddon } from '../../src/native/binding.js';
import { connectSocket, IPPROTO, RawSocket, SOCKOPT, tcpConnectFd } from '../../src/native/socket.js';
import { TEST_NET } from '../support/check-spec.js';
import { rootTestFor, sh, waitMessage } from '../support/root-tier.js';

const IS_ROOT = process.getuid?.() === 0;
const PID = process.pid;
const NS_A = `xlbt-sock-${PID}-a`;
const NS_B = `xlbt-sock-${PID}-b`;
/** SO_BINDTOIFINDEX (asm-generic/socket.h): getsockopt reads the bound ifindex. */
const SO_BINDTOIFINDEX = 62;

const rootTest = rootTestFor('needs root (CAP_NET_RAW, CAP_NET_ADMIN)');

/** The IP header's payload of a raw IPv4 datagram. */
function ipv4Payload(data: Buffer): Buffer {
  return data.subarray((data[0]! & 0x0f) * 4);
}

/** Identity of the open file behind fd ("socket:[inode]"), or null when fd is closed. */
function fdTarget(fd: number): string | null {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return null;
  }
}

function icmpSpec(over: Partial<IcmpCheckSpec> = {}): IcmpCheckSpec {
  return {
    type: 'icmp',
    ...TEST_NET,
    ...over,
  };
}

function udpSpec(over: Partial<UdpCheckSpec> = {}): UdpCheckSpec {
  return { type: 'udp', ...TEST_NET, requireReply: false, minReplyLength: 0, maxReplyLength: 255, ...over };
}

function target(address: string): ProbeTarget {
  return { address, port: 0, family: net.isIPv6(address) ? 6 : 4 };
}

// Pure parts of the ICMP probe (no privileges): the echo codec and the matcher.
describe('icmp echo codec', () => {
  const token = Buffer.from('0123456789abcdef', 'hex');
  const v4 = (s: string): Buffer => Buffer.from(s.split('.').map(Number));
  const T4 = v4('10.0.0.2');
  const T6 = Buffer.from('fd000000000000000000000000000002', 'hex');

  /** A 20-byte IPv4 header (no options, checksum not needed by the matcher). */
  function ip4(src: Buffer, dst: Buffer, proto: number, payloadLength: number): Buffer {
    const h = Buffer.alloc(20);
    h[0] = 0x45;
    h.writeUInt16BE(20 + payloadLength, 2);
    h[8] = 64;
    h[9] = proto;
    src.copy(h, 12);
    dst.copy(h, 16);
    return h;
  }

  test('encodeEcho: IPv4 request with a valid checksum; IPv6 checksum left to the kernel', () => {
    const r4 = encodeEcho(4, 0x1234, 0xfffe, token);
    assert.equal(r4.length, 8 + 8 + 8);
    assert.deepEqual([r4[0], r4[1], r4.readUInt16BE(4), r4.readUInt16BE(6)], [8, 0, 0x1234, 0xfffe]);
    assert.equal(inetChecksum(r4), 0, 'checksum verifies');
    assert.ok(r4.subarray(8, 16).equals(token));
    const r6 = encodeEcho(6, 1, 2, token);
    assert.deepEqual([r6[0], r6[1], r6.readUInt16BE(2)], [128, 0, 0]);
  });

  test('classifyIcmp: IPv4 raw echo reply matches only with the right source, id, seq, token, checksum', () => {
    const e: EchoExpectation = { family: 4, target: T4, id: 0x1234, seq: 7, token, ipHeader: true };
    const reply = encodeEcho(4, 0x1234, 7, token);
    reply[0] = 0;
    reply.writeUInt16BE(0, 2);
    reply.writeUInt16BE(inetChecksum(reply), 2);
    const pkt = Buffer.concat([ip4(T4, v4('10.0.0.1'), 1, reply.length), reply]);
    assert.deepEqual(classifyIcmp(pkt, T4, e), { kind: 'reply' });
    assert.equal(classifyIcmp(pkt, v4('10.0.0.3'), e), undefined, 'other source');
    assert.equal(classifyIcmp(pkt, T4, { ...e, seq: 8 }), undefined, 'other seq');
    assert.equal(classifyIcmp(pkt, T4, { ...e, id: 1 }), undefined, 'other id');
    assert.equal(classifyIcmp(pkt, T4, { ...e, token: Buffer.alloc(8) }), undefined, 'other token');
    const bad = Buffer.from(pkt);
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 1;
    assert.equal(classifyIcmp(bad, T4, e), undefined, 'bad checksum');
    assert.equal(classifyIcmp(pkt.subarray(0, 25), T4, e), undefined, 'truncated');
    assert.equal(classifyIcmp(Buffer.alloc(3), T4, e), undefined, 'tiny');
    // A ping socket hands over the ICMP message only, id rewritten by the kernel.
    assert.deepEqual(classifyIcmp(reply, T4, { ...e, ipHeader: false, id: undefined }), { kind: 'reply' });
  });

  test('classifyIcmp: ICMP errors quoting the request are errors; others are ignored', () => {
    const e: EchoExpectation = { family: 4, target: T4, id: 0x1234, seq: 7, token, ipHeader: true };
    const request = encodeEcho(4, 0x1234, 7, token);
    const quoted = Buffer.concat([ip4(v4('10.0.0.1'), T4, 1, request.length), request.subarray(0, 8)]);
    const err = Buffer.concat([Buffer.from([3, 1, 0, 0, 0, 0, 0, 0]), quoted]);
    const pkt = Buffer.concat([ip4(v4('10.0.0.9'), v4('10.0.0.1'), 1, err.length), err]);
    assert.deepEqual(classifyIcmp(pkt, v4('10.0.0.9'), e), { kind: 'error', detail: 'ICMP destination unreachable (code 1)' });
    const te = Buffer.from(pkt);
    te[20] = 11;
    te[21] = 0;
    assert.deepEqual(classifyIcmp(te, v4('10.0.0.9'), e), { kind: 'error', detail: 'ICMP time exceeded (code 0)' });
    assert.equal(classifyIcmp(pkt, v4('10.0.0.9'), { ...e, seq: 6 }), undefined, 'about another request');
    assert.equal(classifyIcmp(pkt, v4('10.0.0.9'), { ...e, target: v4('10.0.0.3') }), undefined, 'about another target');

    const e6: EchoExpectation = { family: 6, target: T6, id: 9, seq: 0xffff, token, ipHeader: false };
    const req6 = encodeEcho(6, 9, 0xffff, token);
    const hdr6 = Buffer.alloc(40);
    hdr6[0] = 0x60;
    hdr6.writeUInt16BE(req6.length, 4);
    hdr6[6] = 58;
    hdr6[7] = 64;
    T6.copy(hdr6, 24);
    const err6 = Buffer.concat([Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]), hdr6, req6]);
    assert.deepEqual(classifyIcmp(err6, Buffer.alloc(16, 1), e6), { kind: 'error', detail: 'ICMPv6 destination unreachable (code 0)' });
    const reply6 = Buffer.from(req6);
    reply6[0] = 129;
    assert.deepEqual(classifyIcmp(reply6, T6, e6), { kind: 'reply' });
    assert.equal(classifyIcmp(reply6, T4, e6), undefined, 'source of another length');
  });
});

describe('native sockets and the ICMP probe (root)', () => {
  let addon: NativeAddon;
  const sockets: RawSocket[] = [];

  /** Runs fn with the main thread in namespace ns (sockets opened there stay there). */
  const inNs = <T>(ns: string, fn: () => T): T => inNetns(`/var/run/netns/${ns}`, fn, addon);

  function open(options: ConstructorParameters<typeof RawSocket>[0], ns?: string): RawSocket {
    const s = ns === undefined ? new RawSocket(options) : inNs(ns, () => new RawSocket(options));
    sockets.push(s);
    return s;
  }

  before(async () => {
    if (!IS_ROOT) return;
    addon = native();
    for (const ns of [NS_A, NS_B]) {
      sh('ip', 'netns', 'add', ns);
      sh('ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0');
      sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    }
    sh('ip', 'netns', 'exec', NS_A, 'sysctl', '-qw', 'net.ipv4.ping_group_range=0 2147483647');
    // no ICMP rate limit: several tests draw unreachables from B within a second
    sh('ip', 'netns', 'exec', NS_B, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1', 'net.ipv4.icmp_ratelimit=0', 'net.ipv6.icmp.ratelimit=0');
    sh('ip', '-n', NS_A, 'link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'b0', 'netns', NS_B);
    sh('ip', '-n', NS_A, 'addr', 'add', '10.251.0.1/24', 'dev', 'a0');
    sh('ip', '-n', NS_A, 'addr', 'add', 'fd51::1/64', 'dev', 'a0', 'nodad');
    sh('ip', '-n', NS_B, 'addr', 'add', '10.251.0.2/24', 'dev', 'b0');
    sh('ip', '-n', NS_B, 'addr', 'add', 'fd51::2/64', 'dev', 'b0', 'nodad');
    sh('ip', '-n', NS_B, 'addr', 'add', '10.251.6.6/32', 'dev', 'lo');
    sh('ip', '-n', NS_A, 'link', 'set', 'a0', 'up');
    sh('ip', '-n', NS_B, 'link', 'set', 'b0', 'up');
    sh('ip', '-n', NS_A, 'route', 'add', '10.251.9.0/24', 'via', '10.251.0.2');
    sh('ip', '-n', NS_A, 'route', 'add', '10.251.7.0/24', 'via', '10.251.0.2');
    sh('ip', '-n', NS_A, '-6', 'route', 'add', 'fd59::/64', 'via', 'fd51::2');
    sh('ip', '-n', NS_A, '-6', 'route', 'add', 'fd57::/64', 'via', 'fd51::2');
    sh('ip', '-n', NS_A, 'route', 'add', '10.251.6.0/24', 'via', '10.251.0.2', 'table', '7');
    sh('ip', '-n', NS_A, 'rule', 'add', 'fwmark', '7', 'lookup', '7');
    sh('ip', '-n', NS_B, 'route', 'add', 'blackhole', '10.251.9.0/24');
    sh('ip', '-n', NS_B, '-6', 'route', 'add', 'blackhole', 'fd59::/64');
    sh('ip', '-n', NS_B, 'route', 'add', 'unreachable', '10.251.7.0/24');
    sh('ip', '-n', NS_B, '-6', 'route', 'add', 'unreachable', 'fd57::/64');
    // veth carrier comes up through linkwatch, up to ~1 s later; IPv6 link-local
    // addresses (and the multicast routes) only then.
    for (let i = 0; ; i++) {
      const ready = [
        [NS_A, 'a0'],
        [NS_B, 'b0'],
      ].every(([ns, dev]) => execFileSync('ip', ['-n', ns!, '-6', '-br', 'addr', 'show', 'dev', dev!]).toString().includes(' UP ') && execFileSync('ip', ['-n', ns!, '-6', 'addr', 'show', 'dev', dev!, 'scope', 'link']).toString().includes('fe80:'));
      if (ready) break;
      if (i >= 50) throw new Error('lab links did not come up within 5 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
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

  // ------------------------------------------------------------- RawSocket

  rootTest('raw IPv4 protocol 253 over loopback: send, recv with TTL and pktinfo', async () => {
    const rx = open({ family: 4, type: 'raw', protocol: 253 });
    const tx = open({ family: 4, type: 'raw', protocol: 253 });
    rx.bind('127.0.0.1');
    rx.enableRecvTtl();
    rx.enableRecvPktInfo();
    assert.equal(rx.recv(), null, 'nothing queued: recv() is null (EAGAIN)');
    tx.setTtl(33);
    const token = randomBytes(12);
    assert.equal(tx.send(token, '127.0.0.1'), token.length);
    const m = await waitMessage(rx, 2000, (msg) => ipv4Payload(msg.data).equals(token));
    assert.ok(m, 'datagram received');
    assert.equal(m.address, '127.0.0.1');
    assert.equal(m.port, undefined, 'raw sockets have no port');
    assert.equal(m.ttl, 33);
    assert.equal(m.data[8], 33, 'TTL in the IP header');
    assert.equal(m.data[9], 253, 'protocol in the IP header');
    assert.equal(m.ifindex, 1);
    assert.equal(m.destination, '127.0.0.1');
  });

  rootTest('raw IPv6 protocol 253 on ::1: hop limit, pktinfo, payload without header', async () => {
    const rx = open({ family: 6, type: 'raw', protocol: 253 });
    const tx = open({ family: 6, type: 'raw', protocol: 253 });
    rx.enableRecvHopLimit();
    rx.enableRecvPktInfo();
    tx.setHopLimit(9);
    const token = randomBytes(12);
    assert.equal(tx.send(token, '::1'), token.length);
    const m = await waitMessage(rx, 2000, (msg) => msg.data.equals(token));
    assert.ok(m);
    assert.equal(m.address, '::1');
    assert.equal(m.ttl, 9);
    assert.equal(m.destination, '::1');
    assert.equal(m.ifindex, 1);
  });

  rootTest('dgram (UDP) sockets: bind, localAddress, ports on recv, connect + send without address', async () => {
    const rx = open({ family: 4, type: 'dgram', protocol: IPPROTO.UDP });
    const tx = open({ family: 4, type: 'dgram', protocol: IPPROTO.UDP });
    rx.bind('127.0.0.1');
    tx.bind('127.0.0.1');
    const rxPort = rx.localAddress().port;
    const txPort = tx.localAddress().port;
    assert.ok(rxPort > 0 && txPort > 0);
    tx.send(Buffer.from('one'), '127.0.0.1', rxPort);
    const m1 = await waitMessage(rx, 2000);
    assert.deepEqual({ ...m1, data: m1?.data.toString() }, { data: 'one', address: '127.0.0.1', port: txPort });
    tx.connect('127.0.0.1', rxPort);
    assert.equal(tx.send(Buffer.from('two')), 3);
    const m2 = await waitMessage(rx, 2000);
    assert.equal(m2?.data.toString(), 'two');
  });

  rootTest('options: SO_MARK read back, bindToDevice (ENODEV when missing), generic setOption/getOption', () => {
    const s = open({ family: 4, type: 'raw', protocol: 253 });
    s.setMark(0x1234abcd);
    assert.equal(s.getOption(SOCKOPT.SOL_SOCKET, SOCKOPT.SO_MARK), 0x1234abcd);
    s.bindToDevice('lo');
    assert.equal(s.getOption(SOCKOPT.SOL_SOCKET, SO_BINDTOIFINDEX), 1);
    s.bindToDevice('');
    assert.equal(s.getOption(SOCKOPT.SOL_SOCKET, SO_BINDTOIFINDEX), 0);
    assert.throws(
      () => s.bindToDevice(`xlbt-nodev${PID % 1000}`),
      (e: unknown) => e instanceof SystemError && e.code === 'ENODEV' && e.syscall === 'setsockopt' && e.errno === -19,
    );
    s.setOption(SOCKOPT.SOL_SOCKET, SOCKOPT.SO_RCVBUF, 65536);
    assert.ok(s.getOption(SOCKOPT.SOL_SOCKET, SOCKOPT.SO_RCVBUF) >= 65536);
    assert.equal(s.getOption(SOCKOPT.SOL_SOCKET, SOCKOPT.SO_TYPE), 3, 'SOCK_RAW');
    s.setOption(SOCKOPT.SOL_IP, SOCKOPT.IP_TTL, 77);
    assert.equal(s.getOption(SOCKOPT.SOL_IP, SOCKOPT.IP_TTL), 77);
    assert.throws(() => s.setOption(SOCKOPT.SOL_IP, 9999, 1), (e: unknown) => e instanceof SystemError && e.syscall === 'setsockopt');
  });

  rootTest('argument checks: TypeError/RangeError in TS, TypeError in C++', () => {
    const s = open({ family: 4, type: 'raw', protocol: 253 });
    assert.throws(() => s.setTtl(0), RangeError);
    assert.throws(() => s.bind('::1'), TypeError);
    assert.throws(() => s.joinMulticast('10.0.0.1', 0), RangeError);
    assert.throws(() => s.bindToDevice('x'.repeat(16)), RangeError);
    assert.throws(() => new RawSocket({ family: 4, type: 'raw', protocol: 256 }), RangeError);
    assert.throws(() => new addon.RawSocket({ family: 5 as 4, type: 'raw', protocol: 1 }), {
      name: 'TypeError',
      message: 'RawSocket: options.family must be 4 or 6',
    });
    const n = new addon.RawSocket({ family: 4, type: 'raw', protocol: 253 });
    assert.throws(() => n.send('x' as unknown as Buffer), { name: 'TypeError', message: 'rawSocket.send: data must be a Buffer' });
    assert.throws(() => n.bind('not an address'), { name: 'TypeError', message: 'rawSocket.bind: address must be an IPv4 address' });
    n.close();
  });

  rootTest('close: idempotent, emits close once, fd -1, methods throw after', () => {
    const s = open({ family: 4, type: 'raw', protocol: 253 });
    s.start();
    assert.ok(s.fd >= 0);
    let closes = 0;
    s.on('close', () => closes++);
    s.close();
    s.close();
    assert.equal(closes, 1);
    assert.equal(s.fd, -1);
    assert.equal(s.closed, true);
    assert.throws(() => s.send(Buffer.from('x'), '127.0.0.1'), { message: 'rawSocket.send: socket is closed' });
    assert.throws(() => s.recv(), { message: 'rawSocket.recv: socket is closed' });
    s.stop(); // harmless after close
  });

  rootTest('socket creation fails with a system error (EPROTONOSUPPORT)', () => {
    assert.throws(
      () => new RawSocket({ family: 4, type: 'dgram', protocol: 253 }),
      (e: unknown) => e instanceof SystemError && e.syscall === 'socket' && e.code === 'EPROTONOSUPPORT',
    );
  });

  rootTest('IPv4 multicast across two namespaces: only after joinMulticast, not after leave; TTL, pktinfo', async () => {
    const bIdx = inNs(NS_B, () => addon.ifNameToIndex('b0'));
    const aIdx = inNs(NS_A, () => addon.ifNameToIndex('a0'));
    const rx = open({ family: 4, type: 'raw', protocol: IPPROTO.VRRP }, NS_B);
    const tx = open({ family: 4, type: 'raw', protocol: IPPROTO.VRRP }, NS_A);
    rx.enableRecvPktInfo();
    rx.enableRecvTtl();
    tx.setMulticastInterface(aIdx);
    tx.setTtl(255);
    tx.setMulticastLoop(false);
    const group = '224.0.0.18';
    const payload = (n: number): Buffer => Buffer.concat([Buffer.from(`xlb-mc-${n}-`), randomBytes(8)]);

    const p0 = payload(0);
    tx.send(p0, group);
    assert.equal(await waitMessage(rx, 300, (m) => ipv4Payload(m.data).equals(p0)), null, 'not delivered before the join');

    rx.joinMulticast(group, bIdx);
    const p1 = payload(1);
    tx.send(p1, group);
    const m = await waitMessage(rx, 2000, (msg) => ipv4Payload(msg.data).equals(p1));
    assert.ok(m, 'delivered after the join');
    assert.equal(m.address, '10.251.0.1');
    assert.equal(m.destination, group);
    assert.equal(m.ifindex, bIdx);
    assert.equal(m.ttl, 255);
    assert.equal(m.data[9], IPPROTO.VRRP);

    rx.leaveMulticast(group, bIdx);
    const p2 = payload(2);
    tx.send(p2, group);
    assert.equal(await waitMessage(rx, 300, (msg) => ipv4Payload(msg.data).equals(p2)), null, 'not delivered after leaving');
  });

  rootTest('IPv6 multicast ff02::12 across two namespaces: hop limit, pktinfo, link-local source', async () => {
    const bIdx = inNs(NS_B, () => addon.ifNameToIndex('b0'));
    const aIdx = inNs(NS_A, () => addon.ifNameToIndex('a0'));
    const rx = open({ family: 6, type: 'raw', protocol: IPPROTO.VRRP }, NS_B);
    const tx = open({ family: 6, type: 'raw', protocol: IPPROTO.VRRP }, NS_A);
    rx.enableRecvPktInfo();
    rx.enableRecvHopLimit();
    rx.joinMulticast('ff02::12', bIdx);
    tx.setMulticastInterface(aIdx);
    tx.setHopLimit(255);
    const p = Buffer.concat([Buffer.from('xlb-mc6-'), randomBytes(8)]);
    tx.send(p, 'ff02::12');
    const m = await waitMessage(rx, 2000, (msg) => msg.data.equals(p));
    assert.ok(m);
    assert.match(m.address, /^fe80:/);
    assert.equal(m.destination, 'ff02::12');
    assert.equal(m.ifindex, bIdx);
    assert.equal(m.ttl, 255);
    // A scoped destination works too. A scope NAME resolves in the calling
    // thread's netns, so from here (root netns) a0 is only known by index.
    tx.setMulticastInterface(0);
    const p2 = Buffer.concat([Buffer.from('xlb-mc6-scoped-'), randomBytes(8)]);
    tx.send(p2, `ff02::12%${aIdx}`);
    assert.ok(await waitMessage(rx, 2000, (msg) => msg.data.equals(p2)));
    assert.throws(() => tx.send(p2, 'ff02::12%a0'), (e: unknown) => e instanceof SystemError && e.code === 'ENODEV');
    const p3 = Buffer.concat([Buffer.from('xlb-mc6-named-'), randomBytes(8)]);
    inNs(NS_A, () => tx.send(p3, 'ff02::12%a0'));
    assert.ok(await waitMessage(rx, 2000, (msg) => msg.data.equals(p3)));
  });

  rootTest('connected ping socket with IP_RECVERR: an ICMP host unreachable arrives as one error event, polling goes on', async () => {
    const s = open({ family: 4, type: 'dgram', protocol: IPPROTO.ICMP }, NS_A);
    s.setOption(SOCKOPT.SOL_IP, SOCKOPT.IP_RECVERR, 1); // host unreachable is a soft error
    s.connect('10.251.7.7');
    const err = new Promise<Error>((resolve) => s.once('error', resolve));
    s.start();
    const echo = Buffer.from([8, 0, 0, 0, 0, 0, 0, 1]);
    s.send(echo);
    const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), 3000).unref());
    const e = await Promise.race([err, timeout]);
    assert.ok(e instanceof SystemError, 'error event');
    assert.equal(e.code, 'EHOSTUNREACH');
    assert.equal((e as SystemError).syscall, 'recvmsg');
    assert.match(e.message, /ICMP type 3 code 1 from 10\.251\.0\.2/);
    // Still polling after the error: an echo to B itself is answered.
    s.stop();
    s.connect('10.251.0.2');
    s.send(echo);
    const reply = await waitMessage(s, 2000);
    assert.ok(reply);
    assert.equal(reply.data[0], 0, 'echo reply');
    assert.equal(reply.address, '10.251.0.2');
  });

  // ------------------------------------------------------------ TcpConnect

  rootTest('tcpConnectFd + new net.Socket({ fd }): request and reply, mark, device, bindAddress; the socket owns the fd', async () => {
    const server = net.createServer((c) => {
      c.once('data', (d) => c.end(`pong ${c.remoteAddress} ${d.toString()}`));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const fd = await tcpConnectFd({ family: 4, address: '127.0.0.1', port, mark: 5, device: 'lo', bindAddress: '127.0.0.2' });
      assert.ok(Number.isInteger(fd) && fd > 2);
      const identity = fdTarget(fd);
      assert.match(identity ?? '', /^socket:\[\d+\]$/);
      const sock = new net.Socket({ fd, readable: true, writable: true });
      assert.equal(sock.remoteAddress, '127.0.0.1');
      assert.equal(sock.remotePort, port);
      assert.equal(sock.localAddress, '127.0.0.2');
      const chunks: Buffer[] = [];
      sock.on('data', (d: Buffer) => chunks.push(d));
      const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
      sock.write('ping');
      await closed;
      assert.equal(Buffer.concat(chunks).toString(), 'pong 127.0.0.2 ping');
      assert.notEqual(fdTarget(fd), identity, 'net.Socket closed the fd');

      // connectSocket: the same in one call, IPv4 and a second request.
      const s2 = await connectSocket({ family: 4, address: '127.0.0.1', port });
      const reply = await new Promise<string>((resolve, reject) => {
        let text = '';
        s2.on('data', (d: Buffer) => (text += d.toString()));
        s2.on('end', () => resolve(text));
        s2.on('error', reject);
        s2.write('again');
      });
      assert.equal(reply, 'pong 127.0.0.1 again');
      s2.destroy();
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  rootTest('tcpConnectFd over IPv6 ::1', async () => {
    const server = net.createServer((c) => c.end('v6'));
    await new Promise<void>((resolve) => server.listen(0, '::1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const sock = await connectSocket({ family: 6, address: '::1', port });
      const text = await new Promise<string>((resolve) => {
        let t = '';
        sock.on('data', (d: Buffer) => (t += d.toString()));
        sock.on('end', () => resolve(t));
      });
      assert.equal(text, 'v6');
      sock.destroy();
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  rootTest('tcpConnectFd errors: ECONNREFUSED, ENODEV, bad options', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await assert.rejects(
      tcpConnectFd({ family: 4, address: '127.0.0.1', port }),
      (e: unknown) => e instanceof SystemError && e.code === 'ECONNREFUSED' && e.syscall === 'connect',
    );
    await assert.rejects(
      tcpConnectFd({ family: 4, address: '127.0.0.1', port, device: `xlbt-nodev${PID % 1000}` }),
      (e: unknown) => e instanceof SystemError && e.code === 'ENODEV' && e.syscall === 'setsockopt',
    );
    await assert.rejects(tcpConnectFd({ family: 4, address: '127.0.0.1', port: 0 }), RangeError);
    await assert.rejects(tcpConnectFd({ family: 4, address: '::1', port: 80 }), TypeError);
    await assert.rejects(tcpConnectFd({ family: 4, address: '127.0.0.1', port: 80, bindPort: 1 }), TypeError);
  });

  rootTest('tcpConnectFd timeout is the caller’s: AbortSignal.timeout against a silent address; cancel closes the fd', async () => {
    const started = performance.now();
    const pending = inNs(NS_A, () => tcpConnectFd({ family: 4, address: '10.251.9.9', port: 80, signal: AbortSignal.timeout(200) }));
    await assert.rejects(pending, { name: 'TimeoutError' });
    assert.ok(performance.now() - started < 5000);
    const aborted = new AbortController();
    aborted.abort(new Error('stop'));
    await assert.rejects(tcpConnectFd({ family: 4, address: '127.0.0.1', port: 80, signal: aborted.signal }), { message: 'stop' });

    // The native class: fd while pending, -1 after cancel, callback never runs.
    let called = false;
    const c = inNs(NS_A, () => new addon.TcpConnect({ family: 4, address: '10.251.9.9', port: 80 }, () => (called = true)));
    const fd = c.fd;
    assert.ok(fd > 2);
    const identity = fdTarget(fd);
    c.cancel();
    c.cancel();
    assert.equal(c.fd, -1);
    assert.notEqual(fdTarget(fd), identity);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(called, false);
  });

  // ------------------------------------------------------------ ICMP probe

  async function runIn(ns: string | undefined, spec: IcmpCheckSpec, address: string, options: IcmpProbeOptions = {}): Promise<ProbeResult> {
    const probe = createIcmpProbe(spec, target(address), options);
    try {
      return await (ns === undefined ? probe.run() : inNs(ns, () => probe.run()));
    } finally {
      probe.close?.();
    }
  }

  rootTest('icmp probe: 127.0.0.1 and ::1 answer (auto mode), several attempts in a row', async () => {
    const probe = createIcmpProbe(icmpSpec(), target('127.0.0.1'));
    for (let i = 0; i < 3; i++) {
      const r = await probe.run();
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.ok(r.durationMs >= 0 && r.durationMs < 1000);
    }
    probe.close?.();
    const r6 = await runIn(undefined, icmpSpec(), '::1');
    assert.equal(r6.ok, true, JSON.stringify(r6));
  });

  for (const mode of ['dgram', 'raw'] as const) {
    rootTest(`icmp probe (${mode} socket, from namespace A): B answers; a blackholed address times out; an unreachable route is 'unreachable'`, async () => {
      const ok4 = await runIn(NS_A, icmpSpec(), '10.251.0.2', { mode });
      assert.equal(ok4.ok, true, JSON.stringify(ok4));
      const ok6 = await runIn(NS_A, icmpSpec(), 'fd51::2', { mode });
      assert.equal(ok6.ok, true, JSON.stringify(ok6));

      const silent = await runIn(NS_A, icmpSpec({ timeoutMs: 300 }), '10.251.9.9', { mode });
      assert.equal(silent.ok, false);
      assert.equal(silent.ok === false && silent.reason, 'timeout', JSON.stringify(silent));
      assert.ok(silent.durationMs >= 290 && silent.durationMs < 2000, String(silent.durationMs));
      const silent6 = await runIn(NS_A, icmpSpec({ timeoutMs: 300 }), 'fd59::9', { mode });
      assert.equal(silent6.ok === false && silent6.reason, 'timeout', JSON.stringify(silent6));

      const unreach = await runIn(NS_A, icmpSpec({ timeoutMs: 2000 }), '10.251.7.7', { mode });
      assert.equal(unreach.ok === false && unreach.reason, 'unreachable', JSON.stringify(unreach));
      assert.ok(unreach.durationMs < 1900, 'settled by the ICMP error, not the timeout');
      const unreach6 = await runIn(NS_A, icmpSpec({ timeoutMs: 2000 }), 'fd57::7', { mode });
      assert.equal(unreach6.ok === false && unreach6.reason, 'unreachable', JSON.stringify(unreach6));
      assert.match(unreach6.ok === false ? unreach6.detail : '', /fd51::2/, 'names the router');
    });
  }

  rootTest('icmp probe: fwmark selects the policy route; no route without it; bindInterface', async () => {
    const marked = await runIn(NS_A, icmpSpec({ fwmark: 7 }), '10.251.6.6');
    assert.equal(marked.ok, true, JSON.stringify(marked));
    const unmarked = await runIn(NS_A, icmpSpec({ timeoutMs: 300 }), '10.251.6.6');
    assert.equal(unmarked.ok === false && unmarked.reason, 'unreachable', JSON.stringify(unmarked));
    assert.match(unmarked.ok === false ? unmarked.detail : '', /ENETUNREACH|unreachable/i);

    const bound = await runIn(NS_A, icmpSpec({ bindInterface: 'a0', bindAddress: '10.251.0.1' }), '10.251.0.2');
    assert.equal(bound.ok, true, JSON.stringify(bound));
    const noDev = await runIn(NS_A, icmpSpec({ bindInterface: `xlbt-nodev${PID % 1000}` }), '10.251.0.2');
    assert.equal(noDev.ok === false && noDev.reason, 'io', JSON.stringify(noDev));
    assert.match(noDev.ok === false ? noDev.detail : '', /No such device/);
  });

  rootTest('icmp probe: auto falls back to raw where ping sockets are refused; dgram alone fails there', async () => {
    const auto = await runIn(NS_B, icmpSpec(), '10.251.0.1');
    assert.equal(auto.ok, true, JSON.stringify(auto));
    const dgram = await runIn(NS_B, icmpSpec(), '10.251.0.1', { mode: 'dgram' });
    assert.equal(dgram.ok === false && dgram.reason, 'io', JSON.stringify(dgram));
    assert.match(dgram.ok === false ? dgram.detail : '', /EACCES|Permission denied/);
  });

  // ------------------------------------------------------ UDP probe, native socket

  /** A UDP echo server on B's 10.251.6.6 (reachable from A only with fwmark 7); its port. */
  function echoOnB(): number {
    const srv = open({ family: 4, type: 'dgram', protocol: IPPROTO.UDP }, NS_B);
    srv.bind('10.251.6.6');
    srv.on('message', (m) => srv.send(m.data, m.address, m.port!));
    srv.start();
    return srv.localAddress().port;
  }

  async function udpIn(ns: string, spec: UdpCheckSpec, address: string, port: number): Promise<ProbeResult> {
    const probe = createUdpProbe(spec, { address, port, family: net.isIPv6(address) ? 6 : 4 });
    try {
      return await inNs(ns, () => probe.run());
    } finally {
      probe.close?.();
    }
  }

  // (Node's dgram socket is not compared here: it makes its fd lazily, on a
  // later tick, so it would not be made in namespace A.)
  rootTest('udp probe: an ICMP host unreachable (a soft error) fails the check: IP_RECVERR, as keepalived', async () => {
    for (const address of ['10.251.7.7', 'fd57::7']) {
      const r = await udpIn(NS_A, udpSpec({ timeoutMs: 2000 }), address, 9);
      assert.equal(r.ok === false && r.reason, 'unreachable', JSON.stringify(r));
      assert.ok(r.durationMs < 1900, 'settled by the ICMP error, not the timeout');
      assert.match(r.ok === false ? r.detail : '', /from (10\.251\.0\.2|fd51::2)/, 'names the router');
    }
  });

  rootTest('udp probe: fwmark selects the policy route (a reply); no route without it; bindInterface', async () => {
    const port = echoOnB();
    const marked = await udpIn(NS_A, udpSpec({ fwmark: 7, requireReply: true }), '10.251.6.6', port);
    assert.equal(marked.ok, true, JSON.stringify(marked));
    const unmarked = await udpIn(NS_A, udpSpec({ requireReply: true }), '10.251.6.6', port);
    assert.equal(unmarked.ok === false && unmarked.reason, 'unreachable', JSON.stringify(unmarked));
    assert.match(unmarked.ok === false ? unmarked.detail : '', /connect to 10\.251\.6\.6:\d+: .*unreachable/i);
    const noDev = await udpIn(NS_A, udpSpec({ bindInterface: `xlbt-nodev${PID % 1000}` }), '10.251.0.2', 9);
    assert.equal(noDev.ok === false && noDev.reason, 'io', JSON.stringify(noDev));
    assert.match(noDev.ok === false ? noDev.detail : '', /No such device/);
    // bound to a0 with fwmark 7: still the policy route, out of a0
    const both = await udpIn(NS_A, udpSpec({ fwmark: 7, bindInterface: 'a0', requireReply: true }), '10.251.6.6', port);
    assert.equal(both.ok, true, JSON.stringify(both));
  });

  rootTest('icmp probe: close() ends an attempt in flight at once; later runs fail', async () => {
    const probe = createIcmpProbe(icmpSpec({ timeoutMs: 5000 }), target('10.251.9.9'));
    const started = performance.now();
    const pending = inNs(NS_A, () => probe.run());
    setTimeout(() => probe.close?.(), 50);
    const r = await pending;
    assert.equal(r.ok === false && r.reason, 'io');
    assert.ok(performance.now() - started < 2000);
    const again = await probe.run();
    assert.equal(again.ok === false && again.detail, 'probe closed');
  });
});
