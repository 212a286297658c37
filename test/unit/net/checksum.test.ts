// Tests for src/net/checksum.ts: RFC 1071 vectors, odd lengths, a captured
// IPv4 header, and TCP/UDP vectors cross-checked with scapy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  foldSum,
  inetChecksum,
  ipv4HeaderChecksum,
  l4Checksum,
  l4ChecksumValid,
  onesSum,
  pseudoHeaderSum,
} from '../../../src/net/checksum.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('RFC 1071 §3 numerical example', () => {
  // RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7, ones' complement sum ddf2.
  const b = hex('00 01 f2 03 f4 f5 f6 f7');
  assert.equal(onesSum(b), 0xddf2);
  assert.equal(inetChecksum(b), 0x220d);
  // "the sum may be calculated in either byte order" (§2(B)): swapped bytes give swapped sum.
  const swapped = hex('01 00 03 f2 f5 f4 f7 f6');
  assert.equal(onesSum(swapped), 0xf2dd);
  // Verifying data with its checksum appended yields 0 (§1 (3)).
  assert.equal(inetChecksum(Buffer.concat([b, hex('220d')])), 0);
});

test('odd lengths pad the last byte with a zero low byte', () => {
  assert.equal(onesSum(hex('01')), 0x0100);
  assert.equal(onesSum(hex('00 01 f2')), 0xf201);
  assert.equal(inetChecksum(hex('00 01 f2')), 0x0dfe);
  assert.equal(onesSum(hex('ff')), 0xff00);
  assert.equal(onesSum(Buffer.alloc(0)), 0);
  assert.equal(inetChecksum(Buffer.alloc(0)), 0xffff);
});

test('offset, length and initial compose (even-length pieces first)', () => {
  const b = hex('00 01 f2 03 f4 f5 f6 f7');
  assert.equal(onesSum(b, 2, 4), foldSum(0xf203 + 0xf4f5));
  assert.equal(onesSum(b, 4, 4, onesSum(b, 0, 4)), 0xddf2);
  assert.equal(inetChecksum(b, 6, 2, onesSum(b, 0, 6)), 0x220d);
  // odd final piece
  const c = hex('12 34 56');
  assert.equal(onesSum(c, 2, 1, onesSum(c, 0, 2)), onesSum(c));
  assert.throws(() => onesSum(b, 6, 4), RangeError);
});

test('foldSum handles carries beyond 32 bits', () => {
  assert.equal(foldSum(0x1ffff), 0x0001);
  assert.equal(foldSum(0xffff), 0xffff);
  assert.equal(foldSum(0x3_0000_0002), 0x0005);
  // a long run of 0xffff words never folds to 0
  assert.equal(onesSum(Buffer.alloc(70000, 0xff)), 0xffff);
});

test('captured IPv4 header checksum (45 00 00 73 … b8 61)', () => {
  // Classic capture used in many references (e.g. Wikipedia "IPv4 header checksum"):
  // 192.168.0.1 -> 192.168.0.199, UDP, total length 115, checksum b861.
  const h = hex('45 00 00 73 00 00 40 00 40 11 b8 61 c0 a8 00 01 c0 a8 00 c7');
  assert.equal(ipv4HeaderChecksum(h), 0xb861);
  assert.equal(inetChecksum(h), 0, 'header including its checksum verifies to 0');
  const z = Buffer.from(h);
  z.writeUInt16BE(0, 10);
  assert.equal(inetChecksum(z), 0xb861);
  // inside a larger buffer, at an offset, with the field holding garbage
  const big = Buffer.concat([hex('ffff'), h, hex('ee')]);
  big.writeUInt16BE(0x1234, 2 + 10);
  assert.equal(ipv4HeaderChecksum(big, 2), 0xb861);
  // with options (IHL 6): header from scapy fixture v4Options in packet.test.ts
  const opt = hex('4600002c000000004006abc00a000001c000020a01010100');
  assert.equal(ipv4HeaderChecksum(opt), 0xabc0);
});

// Provenance: /usr/bin/python3 + scapy 2.5.0 (Debian python3-scapy), generated offline:
//   p = IPv6(raw(IPv6(src='fd00::a', dst='fd00:1::b')/TCP(sport=51000, dport=8080, flags='PA',
//            seq=0x01020304, ack=0x0a0b0c0d, window=502)/b'GET / HTTP/1.1\r\n\r\n'))
//   raw(p[TCP]).hex(); hex(p[TCP].chksum)  -> 0xd425
const TCP6_SEG = 'c7381f90010203040a0b0c0d501801f6d4250000474554202f20485454502f312e310d0a0d0a';
// Provenance: same tool:
//   p = IP(raw(IP(src='198.51.100.23', dst='203.0.113.9')/UDP(sport=33434, dport=53)/b'\x12\x34\x01\x00\x00\x01odd'))
//   raw(p[UDP]).hex(); hex(p[UDP].chksum)  -> 0x300e   (odd segment length 17)
const UDP4_SEG = '829a00350011300e1234010000016f6464';
// Provenance: same tool; payload chosen so the computed checksum is 0:
//   p = IP(raw(IP(src='10.1.2.3', dst='10.4.5.6')/UDP(sport=1, dport=2)/bytes.fromhex('e4c9')))
//   raw(p[UDP]).hex(); hex(p[UDP].chksum)  -> 0xffff
const UDP4_ZERO_SEG = '00010002000affffe4c9';

const v6 = (s: string): Buffer => {
  // tiny local parser for the two fixed addresses (avoid depending on test/support here)
  const table: Record<string, string> = {
    'fd00::a': 'fd00000000000000000000000000000a',
    'fd00:1::b': 'fd00000100000000000000000000000b',
  };
  return hex(table[s] ?? '');
};

test('TCP over IPv6 matches scapy', () => {
  const seg = hex(TCP6_SEG);
  const src = v6('fd00::a');
  const dst = v6('fd00:1::b');
  assert.ok(l4ChecksumValid(6, src, dst, 6, seg));
  const z = Buffer.from(seg);
  z.writeUInt16BE(0, 16);
  assert.equal(l4Checksum(6, src, dst, 6, z), 0xd425);
  const broken = Buffer.from(seg);
  broken[30] = broken[30]! ^ 0x01;
  assert.equal(l4ChecksumValid(6, src, dst, 6, broken), false);
  assert.equal(l4ChecksumValid(6, dst, src, 6, seg), true, 'pseudo-header sum is symmetric in src/dst');
  assert.equal(l4ChecksumValid(6, src, dst, 17, seg), false, 'proto is in the pseudo-header');
});

test('UDP over IPv4 matches scapy (odd length)', () => {
  const seg = hex(UDP4_SEG);
  const src = hex('c6336417');
  const dst = hex('cb007109');
  assert.ok(l4ChecksumValid(4, src, dst, 17, seg));
  const z = Buffer.from(seg);
  z.writeUInt16BE(0, 6);
  assert.equal(l4Checksum(4, src, dst, 17, z), 0x300e);
  // pseudo-header sum by hand: addresses + proto + length
  assert.equal(pseudoHeaderSum(4, src, dst, 17, 17), foldSum(0xc633 + 0x6417 + 0xcb00 + 0x7109 + 17 + 17));
});

test('UDP computed 0 is sent as 0xffff (RFC 768), matches scapy', () => {
  const seg = hex(UDP4_ZERO_SEG);
  const src = hex('0a010203');
  const dst = hex('0a040506');
  const z = Buffer.from(seg);
  z.writeUInt16BE(0, 6);
  assert.equal(l4Checksum(4, src, dst, 17, z), 0xffff);
  assert.equal(l4Checksum(6, Buffer.alloc(16), Buffer.alloc(16), 17, Buffer.alloc(0)), inetChecksum(Buffer.alloc(0), 0, 0, pseudoHeaderSum(6, Buffer.alloc(16), Buffer.alloc(16), 17, 0)));
  assert.ok(l4ChecksumValid(4, src, dst, 17, seg));
  // TCP keeps a computed 0 as 0
  assert.equal(l4Checksum(4, src, dst, 6, Buffer.alloc(0)) === 0xffff, false);
});

test('ICMPv4 has no pseudo-header; ICMPv6 does', () => {
  // ICMP echo request from packet.test.ts fixture icmp4Echo (scapy): checksum d6eb
  const icmp = hex('0800d6eb4242000170696e67');
  assert.equal(inetChecksum(icmp), 0);
  const z = Buffer.from(icmp);
  z.writeUInt16BE(0, 2);
  assert.equal(l4Checksum(4, hex('0a000001'), hex('c000020a'), 1, z), 0xd6eb);
  // ICMPv6 echo from fixture icmp6Echo (scapy): checksum 0321, 2001:db8::1 -> 2001:db8:0:1::10
  const src = hex('20010db8000000000000000000000001');
  const dst = hex('20010db8000000010000000000000010');
  const i6 = hex('800003214242000170696e67');
  assert.ok(l4ChecksumValid(6, src, dst, 58, i6));
  const z6 = Buffer.from(i6);
  z6.writeUInt16BE(0, 2);
  assert.equal(l4Checksum(6, src, dst, 58, z6), 0x0321);
});

test('rejects mis-sized addresses', () => {
  assert.throws(() => pseudoHeaderSum(4, Buffer.alloc(16), Buffer.alloc(4), 6, 0), RangeError);
  assert.throws(() => l4Checksum(6, Buffer.alloc(4), Buffer.alloc(4), 6, Buffer.alloc(0)), RangeError);
});
