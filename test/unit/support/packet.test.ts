// Tests for test/support/packet.ts: builder bytes against scapy, parser,
// validator, hexDiff and the fuzzing helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatIPv6,
  hexDiff,
  ip,
  ipKey16,
  mac,
  mulberry32,
  mutate,
  parsePacket,
  pkt,
  randomPacket,
  validatePacket,
  xorshift32,
  type PacketBuilder,
} from '../../support/packet.js';

const A = 'aa:bb:cc:dd:ee:01'; // source MAC in every fixture
const B = 'aa:bb:cc:dd:ee:02'; // destination MAC
const C4 = '10.0.0.1';
const V4 = '192.0.2.10';
const C6 = '2001:db8::1';
const V6 = '2001:db8:0:1::10';

/**
 * Scapy fixtures. Provenance: generated offline with /usr/bin/python3 and
 * scapy 2.5.0 (Debian bookworm python3-scapy) as `raw(<expr>).hex()`, where
 * every <expr> starts with E = Ether(src='aa:bb:cc:dd:ee:01', dst='aa:bb:cc:dd:ee:02')
 * and is quoted verbatim in `scapy` below.
 */
interface Fixture {
  scapy: string;
  hex: string;
  build: () => PacketBuilder;
}

const FIXTURES: Record<string, Fixture> = {
  v4TcpSyn: {
    scapy: "E/IP(src='10.0.0.1', dst='192.0.2.10', id=0)/TCP(sport=40000, dport=80, flags='S', seq=1, window=65535)/b'xlb'",
    hex: 'aabbccddee02aabbccddee0108004500002b000000004006aec20a000001c000020a9c40005000000001000000005002ffff6cd60000786c62',
    build: () => pkt().eth(A, B).ipv4(C4, V4).tcp(40000, 80, { syn: true }).payload('xlb'),
  },
  v4Udp: {
    scapy: "E/IP(src='10.0.0.1', dst='192.0.2.10', id=0)/UDP(sport=5353, dport=53)/b'hello'",
    hex: 'aabbccddee02aabbccddee01080045000021000000004011aec10a000001c000020a14e90035000ddad868656c6c6f',
    build: () => pkt().eth(A, B).ipv4(C4, V4).udp(5353, 53).payload('hello'),
  },
  v6Tcp: {
    scapy: "E/IPv6(src='2001:db8::1', dst='2001:db8:0:1::10')/TCP(sport=40000, dport=443, flags='SA', seq=1000, ack=2000, window=65535, options=[('MSS', 1440)])",
    hex: 'aabbccddee02aabbccddee0186dd600000000018064020010db800000000000000000000000120010db80000000100000000000000109c4001bb000003e8000007d06012ffff92f30000020405a0',
    build: () =>
      pkt().eth(A, B).ipv6(C6, V6).tcp(40000, 443, { seq: 1000, ack: 2000, flags: { syn: true, ack: true }, options: Buffer.from('020405a0', 'hex') }),
  },
  v6Udp: {
    scapy: "E/IPv6(src='2001:db8::1', dst='2001:db8:0:1::10')/UDP(sport=1234, dport=53)/b'q'",
    hex: 'aabbccddee02aabbccddee0186dd600000000009114020010db800000000000000000000000120010db800000001000000000000001004d2003500092e5171',
    build: () => pkt().eth(A, B).ipv6(C6, V6).udp(1234, 53).payload('q'),
  },
  vlanV4: {
    scapy: "E/Dot1Q(vlan=100, prio=3)/IP(src='10.0.0.1', dst='192.0.2.10', id=0)/UDP(sport=1000, dport=2000)/b'abc'",
    hex: 'aabbccddee02aabbccddee018100606408004500001f000000004011aec30a000001c000020a03e807d0000b63b2616263',
    build: () => pkt().eth(A, B).vlan(100, { pcp: 3 }).ipv4(C4, V4).udp(1000, 2000).payload('abc'),
  },
  qinqV4: {
    scapy: "E/Dot1AD(vlan=10)/Dot1Q(vlan=20)/IP(src='10.0.0.1', dst='192.0.2.10', id=0)/TCP(sport=40000, dport=80, flags='S', seq=1, window=65535)",
    hex: 'aabbccddee02aabbccddee0188a8000a81000014080045000028000000004006aec50a000001c000020a9c40005000000001000000005002ffff47460000',
    build: () => pkt().eth(A, B).vlan(10, { tpid: 0x88a8 }).vlan(20).ipv4(C4, V4).tcp(40000, 80, { syn: true }),
  },
  v4Options: {
    scapy: "E/IP(src='10.0.0.1', dst='192.0.2.10', id=0, options=[IPOption_NOP(), IPOption_NOP(), IPOption_NOP(), IPOption_EOL()])/TCP(sport=40000, dport=80, flags='S', seq=1, window=65535)",
    hex: 'aabbccddee02aabbccddee0108004600002c000000004006abc00a000001c000020a010101009c40005000000001000000005002ffff47460000',
    build: () => pkt().eth(A, B).ipv4(C4, V4, { options: Buffer.from([1, 1, 1, 0]) }).tcp(40000, 80, { syn: true }),
  },
  v4FragFirst: {
    scapy: "E/IP(src='10.0.0.1', dst='192.0.2.10', id=0x1234, flags='MF', frag=0)/UDP(sport=1000, dport=2000)/(b'A'*16)",
    hex: 'aabbccddee02aabbccddee0108004500002c1234200040117c820a000001c000020a03e807d000181df141414141414141414141414141414141',
    build: () => pkt().eth(A, B).ipv4(C4, V4, { id: 0x1234, mf: true }).udp(1000, 2000).payload('A'.repeat(16)),
  },
  v4FragLater: {
    scapy: "E/IP(src='10.0.0.1', dst='192.0.2.10', id=0x1234, frag=3, proto=17)/(b'B'*8)",
    hex: 'aabbccddee02aabbccddee0108004500001c1234000340119c8f0a000001c000020a4242424242424242',
    build: () => pkt().eth(A, B).ipv4(C4, V4, { id: 0x1234, fragOffset: 3, proto: 17 }).payload('B'.repeat(8)),
  },
  v6Frag: {
    scapy: "E/IPv6(src='2001:db8::1', dst='2001:db8:0:1::10')/IPv6ExtHdrFragment(id=0xdeadbeef, offset=0, m=1)/UDP(sport=1000, dport=2000)/(b'C'*16)",
    hex: 'aabbccddee02aabbccddee0186dd6000000000202c4020010db800000000000000000000000120010db800000001000000000000001011000001deadbeef03e807d000187e6843434343434343434343434343434343',
    build: () => pkt().eth(A, B).ipv6(C6, V6, { ext: [{ type: 44, id: 0xdeadbeef, mf: true }] }).udp(1000, 2000).payload('C'.repeat(16)),
  },
  v6HbhDst: {
    scapy: "E/IPv6(src='2001:db8::1', dst='2001:db8:0:1::10')/IPv6ExtHdrHopByHop()/IPv6ExtHdrDestOpt()/TCP(sport=40000, dport=80, flags='S', seq=1, window=65535)",
    hex: 'aabbccddee02aabbccddee0186dd600000000024004020010db800000000000000000000000120010db80000000100000000000000103c0001040000000006000104000000009c40005000000001000000005002ffffb7cd0000',
    build: () => pkt().eth(A, B).ipv6(C6, V6, { ext: [{ type: 0 }, { type: 60 }] }).tcp(40000, 80, { syn: true }),
  },
  icmp4Echo: {
    scapy: "E/IP(src='10.0.0.1', dst='192.0.2.10', id=0)/ICMP(type=8, id=0x4242, seq=1)/b'ping'",
    hex: 'aabbccddee02aabbccddee01080045000020000000004001aed20a000001c000020a0800d6eb4242000170696e67',
    build: () => pkt().eth(A, B).ipv4(C4, V4).icmp(8, 0, { id: 0x4242, seq: 1 }).payload('ping'),
  },
  icmp6Echo: {
    scapy: "E/IPv6(src='2001:db8::1', dst='2001:db8:0:1::10')/ICMPv6EchoRequest(id=0x4242, seq=1, data=b'ping')",
    hex: 'aabbccddee02aabbccddee0186dd60000000000c3a4020010db800000000000000000000000120010db8000000010000000000000010800003214242000170696e67',
    build: () => pkt().eth(A, B).ipv6(C6, V6).icmp6(128, 0, { id: 0x4242, seq: 1 }).payload('ping'),
  },
  icmp4FragNeeded: {
    scapy:
      "E/IP(src='192.0.2.254', dst='10.0.0.1', id=0)/ICMP(type=3, code=4, nexthopmtu=1400)/raw(IP(src='10.0.0.1', dst='192.0.2.10', id=0, flags='DF')/TCP(sport=40000, dport=80, flags='PA', seq=1, ack=1, window=65535)/(b'x'*1400))[:28]",
    hex: 'aabbccddee02aabbccddee01080045000038000000004001adc6c00002fe0a00000103045af200000578450005a0000040004006694d0a000001c000020a9c40005000000001',
    build: () =>
      pkt()
        .eth(A, B)
        .ipv4('192.0.2.254', C4)
        .icmp(3, 4, { mtu: 1400 })
        .inner(pkt().ipv4(C4, V4, { df: true }).tcp(40000, 80, { flags: { psh: true, ack: true }, ack: 1 }).payload('x'.repeat(1400)).truncate(28)),
  },
  icmp6Ptb: {
    scapy:
      "E/IPv6(src='2001:db8:ffff::1', dst='2001:db8::1')/ICMPv6PacketTooBig(mtu=1280)/raw(IPv6(src='2001:db8::1', dst='2001:db8:0:1::10')/UDP(sport=5000, dport=53)/(b'y'*64))[:96]",
    hex: 'aabbccddee02aabbccddee0186dd6000000000683a4020010db8ffff0000000000000000000120010db80000000000000000000000010200f78500000500600000000048114020010db800000000000000000000000120010db800000001000000000000001013880035004860ee797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979',
    build: () =>
      pkt()
        .eth(A, B)
        .ipv6('2001:db8:ffff::1', C6)
        .icmp6(2, 0, { mtu: 1280 })
        .inner(pkt().ipv6(C6, V6).udp(5000, 53).payload('y'.repeat(64)).truncate(96)),
  },
  ipip: {
    scapy: "E/IP(src='192.0.2.1', dst='198.51.100.7', id=0)/IP(src='10.0.0.1', dst='192.0.2.10', id=0)/TCP(sport=40000, dport=80, flags='S', seq=1, window=65535)/b'xlb'",
    hex: 'aabbccddee02aabbccddee0108004500003f0000000040048e7fc0000201c63364074500002b000000004006aec20a000001c000020a9c40005000000001000000005002ffff6cd60000786c62',
    build: () => pkt().eth(A, B).ipv4('192.0.2.1', '198.51.100.7').inner(pkt().ipv4(C4, V4).tcp(40000, 80, { syn: true }).payload('xlb')),
  },
  ip6ip6: {
    scapy: "E/IPv6(src='2001:db8:ffff::1', dst='2001:db8:1::7')/IPv6(src='2001:db8::1', dst='2001:db8:0:1::10')/TCP(sport=40000, dport=80, flags='S', seq=1, window=65535)/b'xlb'",
    hex: 'aabbccddee02aabbccddee0186dd60000000003f294020010db8ffff0000000000000000000120010db8000100000000000000000007600000000017064020010db800000000000000000000000120010db80000000100000000000000109c40005000000001000000005002ffffdd5d0000786c62',
    build: () => pkt().eth(A, B).ipv6('2001:db8:ffff::1', '2001:db8:1::7').inner(pkt().ipv6(C6, V6).tcp(40000, 80, { syn: true }).payload('xlb')),
  },
};

const fx = (name: string): Buffer => Buffer.from(FIXTURES[name]!.hex, 'hex');

for (const [name, f] of Object.entries(FIXTURES)) {
  test(`builder matches scapy: ${name}`, () => {
    const got = f.build().build();
    const want = Buffer.from(f.hex, 'hex');
    assert.ok(got.equals(want), `${f.scapy}\n${hexDiff(got, want)}`);
  });
  test(`validator accepts scapy fixture: ${name}`, () => {
    assert.deepEqual(validatePacket(Buffer.from(f.hex, 'hex')), []);
  });
  test(`parser reads scapy fixture without errors: ${name}`, () => {
    assert.deepEqual(parsePacket(Buffer.from(f.hex, 'hex')).errors, []);
  });
}

test('addresses: mac, ip (with :: compression and embedded IPv4), ipKey16', () => {
  assert.equal(mac(A).toString('hex'), 'aabbccddee01');
  assert.equal(mac('AA-BB-CC-DD-EE-0F').toString('hex'), 'aabbccddee0f');
  assert.throws(() => mac('aa:bb:cc'), TypeError);
  assert.equal(ip('192.0.2.1').toString('hex'), 'c0000201');
  assert.equal(ip('::').toString('hex'), '0'.repeat(32));
  assert.equal(ip('::1').toString('hex'), '0'.repeat(31) + '1');
  assert.equal(ip('2001:db8::').toString('hex'), '20010db8' + '0'.repeat(24));
  assert.equal(ip('2001:db8:0:1::10').toString('hex'), '20010db8000000010000000000000010');
  assert.equal(ip('1:2:3:4:5:6:7:8').toString('hex'), '00010002000300040005000600070008');
  assert.equal(ip('::ffff:192.0.2.1').toString('hex'), '00000000000000000000ffffc0000201');
  assert.equal(ip('64:ff9b::1.2.3.4').toString('hex'), '0064ff9b000000000000000001020304');
  assert.equal(ip('fe80::1%eth0').toString('hex'), 'fe80' + '0'.repeat(26) + '01');
  assert.throws(() => ip('10.0.0.256'), TypeError);
  assert.throws(() => ip('2001:db8::1::2'), TypeError);
  assert.equal(ipKey16('10.0.0.1').toString('hex'), '0a000001' + '0'.repeat(24));
  assert.equal(ipKey16(C6).toString('hex'), ip(C6).toString('hex'));
  for (const s of ['::', '::1', '2001:db8::1', '2001:db8:0:1::10', '1:0:0:2::', '1:2:3:4:5:6:7:8', '2001:0:0:1::1']) {
    assert.equal(formatIPv6(ip(s)), s);
  }
  assert.equal(formatIPv6(ip('2001:0db8:0000:0000:0001:0000:0000:0001')), '2001:db8::1:0:0:1');
  assert.throws(() => pkt().ipv4(C6, V4), TypeError);
});

test('parser: layered decode of fixtures', () => {
  const p = parsePacket(fx('v4TcpSyn'));
  assert.deepEqual(p.eth, { offset: 0, dst: B, src: A, type: 0x0800 });
  assert.equal(p.ip?.version, 4);
  assert.equal(p.ip?.src, C4);
  assert.equal(p.ip?.dst, V4);
  assert.equal(p.l4?.proto, 'tcp');
  if (p.l4?.proto !== 'tcp') return;
  assert.equal(p.l4.sport, 40000);
  assert.equal(p.l4.dport, 80);
  assert.equal(p.l4.flags, 0x02);
  assert.equal(p.payloadOffset, 14 + 20 + 20);
  assert.equal(p.payloadLength, 3);

  const q = parsePacket(fx('qinqV4'));
  assert.deepEqual(
    q.vlans.map((v) => [v.tpid, v.vid, v.type]),
    [
      [0x88a8, 10, 0x8100],
      [0x8100, 20, 0x0800],
    ],
  );

  const v = parsePacket(fx('vlanV4'));
  assert.equal(v.vlans[0]?.pcp, 3);
  assert.equal(v.l4?.proto, 'udp');

  const o = parsePacket(fx('v4Options'));
  assert.equal(o.ip?.version === 4 && o.ip.options.toString('hex'), '01010100');

  const f4 = parsePacket(fx('v4FragLater'));
  assert.equal(f4.ip?.version === 4 && f4.ip.fragOffset, 3);
  assert.equal(f4.l4, undefined, 'no L4 in a non-first fragment');

  const f6 = parsePacket(fx('v6Frag'));
  assert.equal(f6.ip?.version, 6);
  if (f6.ip?.version !== 6) return;
  assert.deepEqual(f6.ip.fragment, { fragOffset: 0, mf: true, id: 0xdeadbeef });
  assert.equal(f6.ip.proto, 17);
  assert.equal(f6.l4?.proto, 'udp');

  const h = parsePacket(fx('v6HbhDst'));
  assert.deepEqual(h.ip?.version === 6 && h.ip.ext.map((e) => [e.type, e.length]), [
    [0, 8],
    [60, 8],
  ]);
  assert.equal(h.ip?.version === 6 && h.ip.headerLength, 56);

  const icmp = parsePacket(fx('icmp4FragNeeded'));
  assert.equal(icmp.l4?.proto === 'icmp' && icmp.l4.mtu, 1400);
  assert.equal(icmp.inner?.quoted, true);
  assert.equal(icmp.inner?.ip?.src, C4);
  assert.equal(icmp.inner?.ip?.version === 4 && icmp.inner.ip.totalLength, 1440);
  assert.equal(icmp.inner?.l4?.proto === 'tcp' && icmp.inner.l4.dport, 80);
  assert.equal(icmp.inner?.l4?.truncated, true);

  const ptb = parsePacket(fx('icmp6Ptb'));
  assert.equal(ptb.l4?.proto === 'icmp6' && ptb.l4.mtu, 1280);
  assert.equal(ptb.inner?.ip?.dst, V6);
  assert.equal(ptb.inner?.l4?.proto === 'udp' && ptb.inner.l4.sport, 5000);

  const ipip = parsePacket(fx('ipip'));
  assert.equal(ipip.ip?.version === 4 && ipip.ip.proto, 4);
  assert.equal(ipip.inner?.quoted, false);
  assert.equal(ipip.inner?.ip?.dst, V4);
  assert.equal(ipip.inner?.l4?.proto, 'tcp');

  const six = parsePacket(fx('ip6ip6'));
  assert.equal(six.inner?.ip?.version, 6);
  assert.equal(six.inner?.l4?.proto === 'tcp' && six.inner.l4.dport, 80);
});

test('builder: overrides produce the broken fields asked for', () => {
  const b = pkt().eth(A, B).ipv4(C4, V4, { ttl: 1, tos: 0xb8, totalLength: 999, checksum: 0xbeef, ihl: 6 }).udp(1, 2, { checksum: 'none', length: 77 }).build();
  const p = parsePacket(b);
  assert.equal(p.ip?.version === 4 && p.ip.ttl, 1);
  assert.equal(b.readUInt16BE(14 + 2), 999);
  assert.equal(b.readUInt16BE(14 + 10), 0xbeef);
  assert.equal(b[14]! & 0x0f, 6);
  assert.equal(b.readUInt16BE(14 + 20 + 4), 77);
  assert.equal(b.readUInt16BE(14 + 20 + 6), 0);
  // truncate after checksums: the leading bytes equal the untruncated packet's
  const full = FIXTURES.v4TcpSyn!.build().build();
  const cut = FIXTURES.v4TcpSyn!.build().truncate(40).build();
  assert.equal(cut.length, 40);
  assert.ok(cut.equals(full.subarray(0, 40)));
  // tcp flags: number, object, top-level; boolean ack is the flag
  const flags = (x: Parameters<PacketBuilder['tcp']>[2]): number => pkt().ipv4(C4, V4).tcp(1, 2, x).build()[20 + 13]!;
  assert.equal(flags({ flags: 0x29 }), 0x29);
  assert.equal(flags({ fin: true, ack: true }), 0x11);
  assert.equal(flags({ ack: 5 }), 0x02);
  assert.equal(flags({ flags: {} }), 0x00);
  // ipv6 payloadLength/nextHeader overrides and flow label
  const v6 = pkt().ipv6(C6, V6, { flowLabel: 0xabcde, tc: 0x12, payloadLength: 3, nextHeader: 253 }).payload('xyz').build();
  assert.equal(v6.readUInt32BE(0), 0x612abcde);
  assert.equal(v6.readUInt16BE(4), 3);
  assert.equal(v6[6], 253);
  // raw payload after ipv4 gets protocol 255; after ipv6, 59 (No Next Header)
  assert.equal(pkt().ipv4(C4, V4).payload('x').build()[9], 255);
  assert.equal(pkt().ipv6(C6, V6).build()[6], 59);
  // UDP over IPv6 never writes 0
  const u = pkt().ipv6(C6, V6).udp(1, 2).build();
  assert.notEqual(u.readUInt16BE(46), 0);
});

test('validator flags each kind of breakage', () => {
  const has = (errs: string[], prefix: string): boolean => errs.some((e) => e.startsWith(prefix));
  const mod = (name: string, f: (b: Buffer) => void): Buffer => {
    const b = fx(name);
    f(b);
    return b;
  };
  // wrong IPv4 header checksum
  let e = validatePacket(mod('v4TcpSyn', (b) => b.writeUInt16BE(0x1234, 24)));
  assert.ok(has(e, 'ipv4.checksum: 0x1234 != 0xaec2'), e.join('\n'));
  // wrong L4 checksums
  e = validatePacket(mod('v4TcpSyn', (b) => (b[b.length - 1] = 0)));
  assert.ok(has(e, 'tcp.checksum:'), e.join('\n'));
  assert.equal(e.length, 1);
  e = validatePacket(pkt().eth(A, B).ipv4(C4, V4).udp(1, 2, { checksum: 0x1111 }).payload('x').build());
  assert.ok(has(e, 'udp.checksum: 0x1111 != '), e.join('\n'));
  e = validatePacket(mod('icmp4Echo', (b) => (b[b.length - 1] = 0)));
  assert.ok(has(e, 'icmp.checksum:'), e.join('\n'));
  e = validatePacket(mod('icmp6Echo', (b) => (b[b.length - 1] = 0)));
  assert.ok(has(e, 'icmp6.checksum:'), e.join('\n'));
  // the pseudo-header is covered: change the IPv6 destination only
  e = validatePacket(mod('v6Tcp', (b) => (b[14 + 39] = 0x11)));
  assert.deepEqual(e, ['tcp.checksum: 0x92f3 != 0x92f2']);
  // wrong total length (too long, too short) and wrong IPv6 payload length
  e = validatePacket(pkt().eth(A, B).ipv4(C4, V4, { totalLength: 100 }).udp(1, 2).build());
  assert.ok(has(e, 'ipv4.totalLength: 100 != 28 bytes present'), e.join('\n'));
  e = validatePacket(Buffer.concat([fx('v4Udp'), Buffer.alloc(4)]));
  assert.ok(has(e, 'ipv4.totalLength: 33 != 37'), e.join('\n'));
  e = validatePacket(pkt().eth(A, B).ipv6(C6, V6, { payloadLength: 7 }).udp(1, 2).build());
  assert.ok(has(e, 'ipv6.payloadLength: 7 != 8'), e.join('\n'));
  // UDP length and zero checksum rules
  e = validatePacket(pkt().eth(A, B).ipv4(C4, V4).udp(1, 2, { length: 9 }).build());
  assert.ok(has(e, 'udp.length: 9 != 8'), e.join('\n'));
  assert.deepEqual(validatePacket(pkt().eth(A, B).ipv4(C4, V4).udp(1, 2, { checksum: 'none' }).payload('x').build()), []);
  e = validatePacket(pkt().eth(A, B).ipv6(C6, V6).udp(1, 2, { checksum: 'none' }).build());
  assert.ok(has(e, 'udp.checksum: 0 (none) is not allowed over IPv6'), e.join('\n'));
  // wrong inner checksums in IPIP / IP6IP6: the outer header is fine
  e = validatePacket(pkt().eth(A, B).ipv4('192.0.2.1', '198.51.100.7').inner(pkt().ipv4(C4, V4, { checksum: 0xdead }).tcp(1, 2)).build());
  assert.deepEqual(e, ['inner.ipv4.checksum: 0xdead != 0xaec5']);
  e = validatePacket(pkt().eth(A, B).ipv4('192.0.2.1', '198.51.100.7').inner(pkt().ipv4(C4, V4).tcp(1, 2, { checksum: 0x0bad })).build());
  assert.ok(has(e, 'inner.tcp.checksum: 0x0bad != '), e.join('\n'));
  e = validatePacket(pkt().eth(A, B).ipv6('2001:db8:ffff::1', '2001:db8:1::7').inner(pkt().ipv6(C6, V6, { payloadLength: 1 }).tcp(1, 2)).build());
  assert.ok(has(e, 'inner.ipv6.payloadLength: 1 != 20'), e.join('\n'));
  // IPIP whose inner is truncated
  e = validatePacket(pkt().eth(A, B).ipv4('192.0.2.1', '198.51.100.7').inner(pkt().ipv4(C4, V4).tcp(1, 2).truncate(30)).build());
  assert.ok(has(e, 'inner.ipv4.totalLength: 40 != 30'), e.join('\n'));
  // truncated frames
  assert.ok(has(validatePacket(fx('v4TcpSyn').subarray(0, 10)), 'eth: truncated'));
  assert.ok(has(validatePacket(fx('v4TcpSyn').subarray(0, 30)), 'ipv4: truncated header'));
  assert.ok(has(validatePacket(fx('v6Tcp').subarray(0, 50)), 'ipv6: truncated header'));
  assert.ok(has(validatePacket(fx('v6Tcp').subarray(0, 60)), 'ipv6.payloadLength: 24 != 6'));
  assert.ok(has(validatePacket(fx('v6HbhDst').subarray(0, 60)), 'ipv6.ext[0]: truncated'));
  assert.ok(has(validatePacket(fx('vlanV4').subarray(0, 16)), 'vlan[0]: truncated'));
  // IHL / version / data offset / not IP
  assert.ok(has(validatePacket(mod('v4TcpSyn', (b) => (b[14] = 0x44))), 'ipv4.ihl: 4 < 5'));
  assert.ok(has(validatePacket(mod('v4TcpSyn', (b) => (b[14] = 0x65))), 'ipv4.version: 6 != 4'));
  assert.ok(has(validatePacket(pkt().eth(A, B).ipv4(C4, V4).tcp(1, 2, { dataOffset: 15 }).build()), 'tcp.dataOffset'));
  assert.ok(has(validatePacket(pkt().eth(A, B, { type: 0x0806 }).payload(Buffer.alloc(28)).build()), 'eth.type: 0x0806'));
  // ICMP error quotes: sanity only, truncation tolerated on request
  const shortQuote = pkt().eth(A, B).ipv4('192.0.2.254', C4).icmp(3, 4, { mtu: 1400 }).inner(pkt().ipv4(C4, V4).tcp(1, 2).truncate(24)).build();
  assert.ok(has(validatePacket(shortQuote), 'icmp.quote: 24 bytes < IP header + 8'));
  assert.deepEqual(validatePacket(shortQuote, { allowTruncatedQuote: true }), []);
  const badQuoteChecksum = pkt().eth(A, B).ipv4('192.0.2.254', C4).icmp(3, 4).inner(pkt().ipv4(C4, V4, { checksum: 1 }).tcp(1, 2).truncate(28)).build();
  assert.deepEqual(validatePacket(badQuoteChecksum), [], 'quoted header checksum is not checked');
  const wrongFamilyQuote = pkt().eth(A, B).ipv6('2001:db8:ffff::1', C6).icmp6(2, 0, { mtu: 1280 }).inner(pkt().ipv4(C4, V4).udp(1, 2)).build();
  assert.ok(has(validatePacket(wrongFamilyQuote), 'icmp6.quote.version: 4 != 6'));
  const v6short = pkt().eth(A, B).ipv6('2001:db8:ffff::1', C6).icmp6(1, 4).inner(pkt().ipv6(C6, V6).udp(1, 2).truncate(44)).build();
  assert.ok(has(validatePacket(v6short), 'icmp6.quote: 44 bytes'));
  assert.deepEqual(validatePacket(v6short, { allowTruncatedQuote: true }), []);
  // fragments: L4 not checked, header still is
  assert.deepEqual(validatePacket(mod('v4FragFirst', (b) => (b[b.length - 1] = 0))), []);
  assert.ok(has(validatePacket(mod('v4FragLater', (b) => b.writeUInt16BE(0, 24))), 'ipv4.checksum'));
  // hop-by-hop must come first
  const hbhLate = pkt().eth(A, B).ipv6(C6, V6, { ext: [{ type: 60 }, { type: 0 }] }).tcp(1, 2).build();
  assert.ok(has(validatePacket(hbhLate), 'ipv6.ext[1]: hop-by-hop header not first'));
});

test('validator: a checksum of 0xffff/0x0000 for a zero sum is accepted both ways (TCP)', () => {
  // Incremental updates (RFC 1624) may leave -0 instead of +0; receivers accept both.
  const b = pkt().eth(A, B).ipv4(C4, V4).tcp(1, 2).build();
  const ck = b.readUInt16BE(14 + 20 + 16);
  // Put the checksum into the urgent pointer: the sum then becomes 0xffff, so the
  // correct checksum is 0x0000 and its other encoding is 0xffff.
  const c = pkt().eth(A, B).ipv4(C4, V4).tcp(1, 2, { urgent: ck }).build();
  assert.equal(c.readUInt16BE(14 + 20 + 16), 0);
  assert.deepEqual(validatePacket(c), []);
  c.writeUInt16BE(0xffff, 14 + 20 + 16);
  assert.deepEqual(validatePacket(c), []);
});

test('hexDiff names the differing fields by layer, then raw offsets', () => {
  const want = fx('v4TcpSyn');
  assert.equal(hexDiff(want, Buffer.from(want)), '');
  const got = pkt().eth(A, 'aa:bb:cc:dd:ee:09').ipv4(C4, V4, { ttl: 63 }).tcp(40000, 81, { syn: true }).payload('xlb').build();
  const d = hexDiff(got, want);
  assert.match(d, /^eth\.dst: aa:bb:cc:dd:ee:09 != aa:bb:cc:dd:ee:02$/m);
  assert.match(d, /^ipv4\.ttl: 63 != 64$/m);
  assert.match(d, /^ipv4\.checksum: 0x[0-9a-f]{4} != 0xaec2$/m);
  assert.match(d, /^tcp\.dport: 81 != 80$/m);
  assert.match(d, /^tcp\.checksum: /m);
  assert.match(d, /^@\s+5 \(0x0005, eth\+5\): 09 != 02$/m);
  assert.match(d, /ipv4\+8\): 3f != 40$/m);
  const d2 = hexDiff(fx('ipip').subarray(0, 60), fx('ipip'));
  assert.match(d2, /actual 60 bytes, expected 77 bytes/);
  assert.match(d2, /!= --|-- !=/);
  const d3 = hexDiff(fx('v6Udp'), fx('v4Udp'));
  assert.match(d3, /^eth\.type: 0x86dd != 0x0800$/m);
  assert.match(d3, /^ipv4\.src: \(absent\) != 10\.0\.0\.1$/m);
});

test('PRNGs are deterministic and in [0,1)', () => {
  for (const make of [xorshift32, mulberry32]) {
    const a = make(42);
    const b = make(42);
    const c = make(43);
    let diff = 0;
    for (let i = 0; i < 1000; i++) {
      const x = a();
      assert.equal(x, b());
      assert.ok(x >= 0 && x < 1);
      if (x !== c()) diff++;
    }
    assert.ok(diff > 990);
  }
  assert.notEqual(xorshift32(0)(), 0, 'seed 0 does not get stuck');
});

test('randomPacket builds valid, parseable frames of at most 1500 bytes', () => {
  const rng = mulberry32(1);
  const kinds = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const b = randomPacket(rng);
    assert.ok(b.length >= 14 && b.length <= 1500, `length ${b.length}`);
    const errs = validatePacket(b);
    assert.deepEqual(errs, [], `packet ${i}: ${b.toString('hex')}`);
    const p = parsePacket(b);
    assert.deepEqual(p.errors, [], `packet ${i}: ${b.toString('hex')}`);
    kinds.add(`${p.vlans.length}/${p.ip?.version}/${p.l4?.proto ?? 'none'}/${p.inner ? (p.inner.quoted ? 'quote' : 'tunnel') : '-'}`);
  }
  for (const k of ['0/4/tcp/-', '0/6/udp/-', '1/4/icmp/-', '0/6/icmp6/quote', '0/4/none/tunnel', '2/6/tcp/-']) assert.ok(kinds.has(k), `missing ${k}`);
});

test('mutate returns a new buffer and leaves the input alone', () => {
  const rng = xorshift32(7);
  const src = fx('ipip');
  const copy = Buffer.from(src);
  let changed = 0;
  for (let i = 0; i < 1000; i++) {
    const m = mutate(src, rng);
    assert.notEqual(m, src);
    if (!m.equals(src)) changed++;
  }
  assert.ok(src.equals(copy));
  assert.ok(changed > 900, `only ${changed} of 1000 mutated`);
  assert.equal(mutate(Buffer.alloc(0), rng).length, 0);
});

test('parsePacket and validatePacket never throw on 10,000 mutated inputs; mutations are caught', () => {
  const rng = mulberry32(0xc0ffee);
  const seeds = Object.keys(FIXTURES).map(fx);
  let flagged = 0;
  for (let i = 0; i < 10000; i++) {
    const base = i % 2 === 0 ? seeds[i % seeds.length]! : randomPacket(rng);
    const m = mutate(base, rng);
    const p = parsePacket(m);
    assert.ok(Array.isArray(p.errors));
    const e = validatePacket(m);
    if (e.length) flagged++;
    hexDiff(m, base); // must not throw either
  }
  assert.ok(flagged > 7000, `validator flagged only ${flagged} of 10000 mutants`);
});
