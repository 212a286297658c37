// Tests for src/net/arp-nd.ts (H-35): round trips, announcements captured
// from keepalived and from the Linux kernel, hand-annotated vectors (one
// cross-checked with scapy), and error vectors with exact codes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hex, roundTrip, throwsCodec, type Codec } from '../../support/codec.js';
import { l4Checksum } from '../../../src/net/checksum.js';
import { parseAddr } from '../../../src/net/addr.js';
import {
  ALL_NODES,
  ARP_OP,
  arpLength,
  decodeArp,
  decodeEthernetHeader,
  decodeIpv6Header,
  decodeNaPacket,
  decodeNeighborAdvert,
  encodeArp,
  encodeEthernetHeader,
  encodeIpv6Header,
  encodeNeighborAdvert,
  ethernetHeaderLength,
  ETHERTYPE,
  formatMac,
  gratuitousArp,
  gratuitousArpFrame,
  ipv6HeaderLength,
  ipv6MulticastMac,
  isGratuitousArp,
  MAC_BROADCAST,
  ND_HOP_LIMIT,
  ND_OPT,
  neighborAdvertLength,
  parseMac,
  unsolicitedNa,
  unsolicitedNaFrame,
  unsolicitedNeighborAdvert,
  type ArpPacket,
  type EthernetHeader,
  type Icmpv6Context,
  type Ipv6Header,
  type NeighborAdvert,
} from '../../../src/net/arp-nd.js';

const MAC = '02:00:00:fb:00:01';

const ETH: Codec<EthernetHeader> = { encode: encodeEthernetHeader, decode: (b, o) => decodeEthernetHeader(b, o), length: ethernetHeaderLength };
const ARP: Codec<ArpPacket> = { encode: encodeArp, decode: (b, o) => decodeArp(b, o), length: arpLength };
const IP6: Codec<Ipv6Header> = { encode: encodeIpv6Header, decode: (b, o) => decodeIpv6Header(b, o), length: ipv6HeaderLength };
function naCodec(ctx: Icmpv6Context): Codec<NeighborAdvert> {
  return {
    encode: (v, buf, off) => encodeNeighborAdvert(v, ctx, buf, off),
    decode: (b, o, l) => decodeNeighborAdvert(b, o, l, { verify: ctx }),
    length: neighborAdvertLength,
  };
}

// --------------------------------------------------------------------------
// (b) Captured. Provenance: keepalived v2.2.7 (Debian 12 package) and Linux
// 6.18.44 x86_64, tcpdump 4.99.3. Two netns, xlbnl-cap-a and xlbnl-cap-b,
// joined by a veth pair xlbnl-a0 (02:00:00:fb:00:01, 10.251.0.1/24,
// fd00:251::1/64) <-> xlbnl-b0 (02:00:00:fb:00:02, 10.251.0.2/24), DAD off.
// In A: `keepalived -n -l -D -P -f k.conf ...` with
//   global_defs { router_id xlbnl; vrrp_garp_master_repeat 1; vrrp_garp_master_delay 0 }
//   vrrp_instance g4 { interface xlbnl-a0; virtual_router_id 61; priority 200; advert_int 1;
//                      virtual_ipaddress { 10.251.1.1/32 } }
//   vrrp_instance g6 { version 3; interface xlbnl-a0; virtual_router_id 62; priority 200;
//                      advert_int 1; virtual_ipaddress { fe80::62/64; fd00:251:0:62::1/64 } }
// stopped after 7 s; then, for the kernel's own announcements, in A:
// sysctl net.ipv4.conf.xlbnl-a0.arp_notify=1 net.ipv6.conf.xlbnl-a0.ndisc_notify=1,
// both ends down, `ip addr add 10.251.1.7/32` and `fd00:251:0:62::7/64 nodad`,
// both ends up. In B: tcpdump -i xlbnl-b0 -n -U -w c.pcap
// 'arp or (icmp6 and ip6[40] = 136)', read back with tcpdump -r c.pcap -n -e -v -xx -t.
// Whole Ethernet frames (veth does not pad to 60 bytes).
// --------------------------------------------------------------------------

const CAPTURED = {
  /** keepalived's GARP for 10.251.1.1 (tcpdump: "Request who-has 10.251.1.1 (ff:ff:ff:ff:ff:ff) tell 10.251.1.1"). */
  keepalivedGarp: hex(`
    ffff ffff ffff 0200 00fb 0001 0806 0001
    0800 0604 0001 0200 00fb 0001 0afb 0101
    ffff ffff ffff 0afb 0101`),
  /** keepalived's unsolicited NA for fe80::62 ("[icmp6 sum ok] ... neighbor advertisement ... Flags [override]"). */
  keepalivedNaLinkLocal: hex(`
    3333 0000 0001 0200 00fb 0001 86dd 6000
    0000 0020 3aff fe80 0000 0000 0000 0000
    0000 0000 0062 ff02 0000 0000 0000 0000
    0000 0000 0001 8800 55de 2000 0000 fe80
    0000 0000 0000 0000 0000 0000 0062 0201
    0200 00fb 0001`),
  /** keepalived's unsolicited NA for fd00:251:0:62::1. */
  keepalivedNaGlobal: hex(`
    3333 0000 0001 0200 00fb 0001 86dd 6000
    0000 0020 3aff fd00 0251 0000 0062 0000
    0000 0000 0001 ff02 0000 0000 0000 0000
    0000 0000 0001 8800 543a 2000 0000 fd00
    0251 0000 0062 0000 0000 0000 0001 0201
    0200 00fb 0001`),
  /** The kernel's GARP (arp_notify) for 10.251.1.7: THA zero, as RFC 5227 §3 announcements have it. */
  kernelGarp: hex(`
    ffff ffff ffff 0200 00fb 0001 0806 0001
    0800 0604 0001 0200 00fb 0001 0afb 0107
    0000 0000 0000 0afb 0107`),
  /** The kernel's unsolicited NA (ndisc_notify, ndisc_send_unsol_na) for fd00:251:0:62::7. */
  kernelNa: hex(`
    3333 0000 0001 0200 00fb 0001 86dd 6000
    0000 0020 3aff fd00 0251 0000 0062 0000
    0000 0000 0007 ff02 0000 0000 0000 0000
    0000 0000 0001 8800 542e 2000 0000 fd00
    0251 0000 0062 0000 0000 0000 0007 0201
    0200 00fb 0001`),
};

/** The frame a dgram packet socket puts on the wire for `f` from `src`. */
function wire(f: { payload: Buffer; destination: Buffer; ethertype: number }, src: string): Buffer {
  return Buffer.concat([encodeEthernetHeader({ destination: formatMac(f.destination), source: src, ethertype: f.ethertype }), f.payload]);
}

describe('captured announcements (b)', () => {
  test("keepalived's GARP: decoded field by field; ours is byte-identical", () => {
    const frame = CAPTURED.keepalivedGarp;
    assert.deepEqual(decodeEthernetHeader(frame).value, { destination: MAC_BROADCAST, source: MAC, ethertype: ETHERTYPE.ARP });
    const arp = decodeArp(frame, 14).value;
    assert.deepEqual(arp, { op: ARP_OP.REQUEST, senderMac: MAC, senderIp: '10.251.1.1', targetMac: MAC_BROADCAST, targetIp: '10.251.1.1' });
    assert.ok(isGratuitousArp(arp, '10.251.1.1'));
    assert.deepEqual(arp, gratuitousArp('10.251.1.1', MAC));
    assert.deepEqual(wire(gratuitousArpFrame('10.251.1.1', MAC), MAC), frame);
    assert.deepEqual(roundTrip(ARP, arp), frame.subarray(14));
  });

  test("the kernel's arp_notify GARP differs from keepalived's only in THA (zero)", () => {
    const arp = decodeArp(CAPTURED.kernelGarp, 14).value;
    assert.deepEqual(arp, { op: 1, senderMac: MAC, senderIp: '10.251.1.7', targetMac: '00:00:00:00:00:00', targetIp: '10.251.1.7' });
    assert.ok(isGratuitousArp(arp));
    assert.ok(!isGratuitousArp(arp, '10.251.1.1'));
    const ours = wire(gratuitousArpFrame('10.251.1.7', MAC), MAC);
    const diff = [...ours.keys()].filter((i) => ours[i] !== CAPTURED.kernelGarp[i]);
    assert.deepEqual(diff, [32, 33, 34, 35, 36, 37], 'bytes 32..37: the THA');
  });

  for (const [name, address] of [
    ['keepalivedNaLinkLocal', 'fe80::62'],
    ['keepalivedNaGlobal', 'fd00:251:0:62::1'],
    ['kernelNa', 'fd00:251:0:62::7'],
  ] as const) {
    test(`${name}: unsolicited NA for ${address} decoded field by field; ours is byte-identical`, () => {
      const frame = CAPTURED[name];
      assert.deepEqual(decodeEthernetHeader(frame).value, { destination: '33:33:00:00:00:01', source: MAC, ethertype: ETHERTYPE.IPV6 });
      const d = decodeNaPacket(frame, 14);
      assert.equal(d.bytes, frame.length - 14);
      assert.deepEqual(d.value.ip, { trafficClass: 0, flowLabel: 0, payloadLength: 32, nextHeader: 58, hopLimit: 255, source: address, destination: ALL_NODES });
      assert.deepEqual(d.value.na, { router: false, solicited: false, override: true, target: address, targetLinkLayerAddress: MAC });
      assert.deepEqual(d.value.na, unsolicitedNeighborAdvert({ address, mac: MAC }));
      assert.deepEqual(unsolicitedNa({ address, mac: MAC }), frame.subarray(14));
      assert.deepEqual(wire(unsolicitedNaFrame({ address, mac: MAC }), MAC), frame);
      roundTrip(naCodec({ source: address, destination: ALL_NODES }), d.value.na);
    });
  }
});

describe('hand-annotated vectors (c)', () => {
  test('GARP for 192.0.2.10 from 02:00:00:fb:00:01 (= scapy ARP(op=1, hwdst=ff:..., psrc=pdst=192.0.2.10))', () => {
    const bytes = Buffer.from([
      0x00, 0x01, // ar$hrd 1 Ethernet
      0x08, 0x00, // ar$pro 0x0800 IPv4
      0x06, // ar$hln 6
      0x04, // ar$pln 4
      0x00, 0x01, // ar$op 1 REQUEST
      0x02, 0x00, 0x00, 0xfb, 0x00, 0x01, // ar$sha: the interface MAC
      0xc0, 0x00, 0x02, 0x0a, // ar$spa 192.0.2.10: the VIP
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // ar$tha: broadcast (keepalived)
      0xc0, 0x00, 0x02, 0x0a, // ar$tpa 192.0.2.10: the VIP again
    ]);
    // scapy 2.5.0: raw(ARP(op=1, hwsrc='02:00:00:fb:00:01', psrc='192.0.2.10', hwdst='ff:ff:ff:ff:ff:ff', pdst='192.0.2.10')).hex()
    assert.deepEqual(bytes, hex('0001080006040001020000fb0001c000020affffffffffffc000020a'));
    assert.deepEqual(roundTrip(ARP, gratuitousArp('192.0.2.10', MAC)), bytes);
    const f = gratuitousArpFrame('192.0.2.10', MAC);
    assert.deepEqual(f.destination, Buffer.alloc(6, 0xff));
    assert.equal(f.ethertype, 0x0806);
  });

  test('unsolicited NA for 2001:db8::10 with Router set (= scapy IPv6()/ICMPv6ND_NA(R=1, O=1)/ICMPv6NDOptDstLLAddr())', () => {
    const bytes = Buffer.from([
      0x60, 0x00, 0x00, 0x00, // version 6, traffic class 0, flow label 0
      0x00, 0x20, // payload length 32
      0x3a, // next header 58 ICMPv6
      0xff, // hop limit 255 (RFC 4861 §7.1.2)
      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x10, // source 2001:db8::10 (the VIP)
      0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01, // destination ff02::1
      0x88, // type 136 Neighbor Advertisement
      0x00, // code 0
      0x78, 0x11, // checksum over the pseudo-header
      0xa0, 0x00, 0x00, 0x00, // R=1 S=0 O=1, reserved
      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x10, // target 2001:db8::10
      0x02, // option 2: Target Link-Layer Address
      0x01, // length 1 (8 bytes)
      0x02, 0x00, 0x00, 0xfb, 0x00, 0x01, // the MAC
    ]);
    // scapy 2.5.0: raw(IPv6(src='2001:db8::10', dst='ff02::1', hlim=255)/ICMPv6ND_NA(R=1, S=0, O=1,
    // tgt='2001:db8::10')/ICMPv6NDOptDstLLAddr(lladdr='02:00:00:fb:00:01')).hex()
    assert.deepEqual(
      bytes,
      hex('6000000000203aff20010db8000000000000000000000010ff02000000000000000000000000000188007811a000000020010db80000000000000000000000100201020000fb0001'),
    );
    assert.deepEqual(unsolicitedNa({ address: '2001:db8::10', mac: MAC, router: true }), bytes);
    const na = unsolicitedNeighborAdvert({ address: '2001:db8::10', mac: MAC, router: true });
    assert.deepEqual(roundTrip(naCodec({ source: '2001:db8::10', destination: ALL_NODES }), na), bytes.subarray(40));
    assert.deepEqual(decodeNaPacket(bytes).value, { ip: decodeIpv6Header(bytes).value, na });
  });

  test('NA with other options: TLLA first, the rest kept raw in order (H-34)', () => {
    const ctx = { source: 'fe80::1', destination: 'fe80::2' };
    const na: NeighborAdvert = {
      router: false,
      solicited: true,
      override: false,
      target: 'fe80::1',
      targetLinkLayerAddress: MAC,
      options: [
        { type: ND_OPT.MTU, data: Buffer.from([0, 0, 0, 0, 0x05, 0xdc]) },
        { type: 200, data: Buffer.alloc(14, 7) },
      ],
    };
    const b = roundTrip(naCodec(ctx), na);
    assert.equal(b.length, 24 + 8 + 8 + 16);
    assert.deepEqual([b[4], b[24], b[25], b[32], b[33], b[40], b[41]], [0x40, 2, 1, 5, 1, 200, 2]);
    // Without TLLA, every option is "other"; a TLLA not first stays in options.
    const { targetLinkLayerAddress: _omit, ...noTlla } = na;
    roundTrip(naCodec(ctx), noTlla);
    const late: NeighborAdvert = { router: true, solicited: false, override: true, target: 'fe80::1', options: [{ type: 5, data: Buffer.alloc(6) }, { type: 2, data: parseMac(MAC) }] };
    roundTrip(naCodec(ctx), late);
    assert.throws(() => encodeNeighborAdvert({ ...na, options: [{ type: 9, data: Buffer.alloc(5) }] }, ctx), RangeError);
  });

  test('IPv6 header fields, Ethernet header', () => {
    const h: Ipv6Header = { trafficClass: 0xb8, flowLabel: 0xabcde, payloadLength: 1000, nextHeader: 17, hopLimit: 1, source: 'fe80::1', destination: '2001:db8::ffff:1' };
    assert.deepEqual(roundTrip(IP6, h).subarray(0, 8), Buffer.from([0x6b, 0x8a, 0xbc, 0xde, 0x03, 0xe8, 0x11, 0x01]));
    assert.throws(() => encodeIpv6Header({ ...h, flowLabel: 0x100000 }), RangeError);
    const e: EthernetHeader = { destination: '33:33:ff:00:00:10', source: MAC, ethertype: 0x86dd };
    assert.deepEqual(roundTrip(ETH, e), hex('3333ff000010 020000fb0001 86dd'));
  });

  test('MAC helpers and the IPv6 multicast MAC (RFC 2464 §7)', () => {
    assert.equal(ipv6MulticastMac('ff02::1'), '33:33:00:00:00:01');
    assert.equal(ipv6MulticastMac('ff02::1:ff00:10'), '33:33:ff:00:00:10');
    assert.equal(ipv6MulticastMac('ff05::1:3'), '33:33:00:01:00:03');
    assert.throws(() => ipv6MulticastMac('fe80::1'), TypeError);
    assert.throws(() => ipv6MulticastMac('10.0.0.1'), TypeError);
    assert.deepEqual(parseMac('02-00-00-FB-00-01'), Buffer.from([2, 0, 0, 0xfb, 0, 1]));
    for (const bad of ['02:00:00:fb:00', '02:00:00:fb:00:01:02', 'zz:00:00:fb:00:01', '']) assert.throws(() => parseMac(bad), TypeError);
    assert.equal(formatMac(Buffer.from([0, 1, 2, 3, 4, 5, 6, 7]), 2), '02:03:04:05:06:07');
    assert.throws(() => encodeArp({ ...gratuitousArp('10.0.0.1', MAC), senderIp: '2001:db8::1' }), /not an IPv4 address/);
    assert.throws(() => unsolicitedNa({ address: '10.0.0.1', mac: MAC }), /not an IPv6 address/);
    assert.equal(ND_HOP_LIMIT, 255);
  });
});

describe('error vectors (d)', () => {
  const TRUNC = 'XLB_ERR_CODEC_TRUNCATED';
  const VALUE = 'XLB_ERR_CODEC_BAD_VALUE';
  const LEN = 'XLB_ERR_CODEC_BAD_LENGTH';
  const garp = encodeArp(gratuitousArp('10.251.1.1', MAC));
  const naPkt = unsolicitedNa({ address: 'fd00::10', mac: MAC });
  const na = naPkt.subarray(40);
  const ctx = { source: 'fd00::10', destination: ALL_NODES };
  /** The checksum `m` (an ICMPv6 message) should carry for source `src`, as the message says. */
  const expected = (m: Buffer, src: string, dst = ALL_NODES): string => {
    const c = Buffer.from(m);
    c.writeUInt16BE(0, 2);
    return l4Checksum(6, parseAddr(src).bytes, parseAddr(dst).bytes, 58, c).toString(16).padStart(4, '0');
  };
  const got = (m: Buffer): string => m.readUInt16BE(2).toString(16).padStart(4, '0');
  const patch = (b: Buffer, at: number, ...bytes: number[]): Buffer => {
    const c = Buffer.from(b);
    bytes.forEach((x, i) => (c[at + i] = x));
    return c;
  };

  test('ARP', () => {
    throwsCodec(() => decodeArp(garp.subarray(0, 7)), TRUNC, 'arp: truncated at header (offset 0)', 0);
    throwsCodec(() => decodeArp(garp.subarray(0, 27)), TRUNC, 'arp: truncated at addresses (offset 8)', 8);
    throwsCodec(() => decodeArp(patch(garp, 0, 0x00, 0x06)), VALUE, 'arp: bad value in ar$hrd: 6 (offset 0)', 0);
    throwsCodec(() => decodeArp(patch(garp, 2, 0x86, 0xdd)), VALUE, 'arp: bad value in ar$pro: 0x86dd (offset 2)', 2);
    throwsCodec(() => decodeArp(patch(garp, 4, 8)), VALUE, 'arp: bad value in ar$hln: 8 (offset 4)', 4);
    throwsCodec(() => decodeArp(patch(garp, 5, 16)), VALUE, 'arp: bad value in ar$pln: 16 (offset 5)', 5);
    throwsCodec(() => decodeEthernetHeader(Buffer.alloc(13)), TRUNC, 'ethernet: truncated at header (offset 0)', 0);
  });

  test('Neighbor Advertisement', () => {
    throwsCodec(() => decodeNeighborAdvert(na.subarray(0, 3)), TRUNC, 'icmpv6: truncated at type (offset 0)', 0);
    throwsCodec(() => decodeNeighborAdvert(na.subarray(0, 23)), TRUNC, 'icmpv6: truncated at target (offset 4)', 4);
    throwsCodec(() => decodeNeighborAdvert(na, 0, 40), TRUNC, 'icmpv6: truncated at message (offset 0)', 0);
    throwsCodec(() => decodeNeighborAdvert(patch(na, 0, 135)), VALUE, 'icmpv6: bad value in type: 135 (offset 0)', 0);
    throwsCodec(() => decodeNeighborAdvert(patch(na, 1, 1)), VALUE, 'icmpv6: bad value in code: 1 (offset 1)', 1);
    throwsCodec(() => decodeNeighborAdvert(patch(na, 8, 0xff, 0x02)), VALUE, 'icmpv6: bad value in target (multicast): ff02::10 (offset 8)', 8);
    throwsCodec(() => decodeNeighborAdvert(patch(na, 25, 0)), LEN, 'icmpv6: bad length in option 2 length: 0 (offset 25)', 25);
    throwsCodec(() => decodeNeighborAdvert(patch(na, 25, 2)), TRUNC, 'icmpv6: truncated at option 2 (offset 24)', 24);
    throwsCodec(() => decodeNeighborAdvert(na.subarray(0, 25)), TRUNC, 'icmpv6: truncated at option header (offset 24)', 24);
    const flipped = patch(na, 4, 0x60);
    throwsCodec(() => decodeNeighborAdvert(flipped, 0, undefined, { verify: ctx }), 'XLB_ERR_CODEC_BAD_CHECKSUM', `icmpv6: bad checksum 0x${got(na)}, expected 0x${expected(flipped, 'fd00::10')} (offset 2)`, 2);
    throwsCodec(() => decodeNeighborAdvert(na, 0, undefined, { verify: { ...ctx, source: 'fd00::11' } }), 'XLB_ERR_CODEC_BAD_CHECKSUM', `icmpv6: bad checksum 0x${got(na)}, expected 0x${expected(na, 'fd00::11')} (offset 2)`, 2);
    assert.notEqual(expected(na, 'fd00::11'), got(na));
  });

  test('the IPv6 packet around it (RFC 4861 §7.1.2)', () => {
    throwsCodec(() => decodeNaPacket(naPkt.subarray(0, 39)), TRUNC, 'ipv6: truncated at header (offset 0)', 0);
    throwsCodec(() => decodeNaPacket(patch(naPkt, 0, 0x45)), 'XLB_ERR_CODEC_BAD_VERSION', 'ipv6: unsupported version 4 (offset 0)', 0);
    throwsCodec(() => decodeNaPacket(patch(naPkt, 7, 64)), VALUE, 'ipv6: bad value in hop limit: 64 (offset 7)', 7);
    throwsCodec(() => decodeNaPacket(patch(naPkt, 6, 17)), VALUE, 'ipv6: bad value in next header: 17 (offset 6)', 6);
    throwsCodec(() => decodeNaPacket(patch(naPkt, 4, 0, 40)), LEN, 'ipv6: bad length in payload length: 40 (offset 4)', 4);
    // The source in the header is not the one the checksum was made for.
    throwsCodec(() => decodeNaPacket(patch(naPkt, 23, 0x11)), 'XLB_ERR_CODEC_BAD_CHECKSUM', `icmpv6: bad checksum 0x${got(na)}, expected 0x${expected(na, 'fd00::11')} (offset 42)`, 42);
    // S set, towards ff02::1: a valid checksum, refused by rule.
    const solicited = encodeNeighborAdvert({ ...unsolicitedNeighborAdvert({ address: 'fd00::10', mac: MAC }), solicited: true }, ctx);
    throwsCodec(() => decodeNaPacket(Buffer.concat([naPkt.subarray(0, 40), solicited])), VALUE, 'icmpv6: bad value in solicited flag to a multicast destination: 1 (offset 44)', 44);
  });
});
