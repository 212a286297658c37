/**
 * The own-echo frame (src/bfd/echo-frame.ts): every byte of the IPv4 frame
 * by hand, the IPv6 layout, valid checksums, and the sequence patch the
 * native thread applies (RFC 1624 from the sequence-0 template) giving the
 * same checksum as a full computation.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeEchoFrame, echoFrameLength, BFD_ECHO_MAGIC } from '../../../src/bfd/echo-frame.js';
import { IPPROTO_UDP, ipv4HeaderChecksum, l4Checksum, l4ChecksumValid, foldSum } from '../../../src/net/checksum.js';

const MAC_PEER = '02:00:00:00:00:02';
const MAC_US = '02:00:00:00:00:01';

/** What the native thread does (native/src/bfd_echo.cc SendOne), in TS. */
function patchSeq(frame: Buffer, seqOffset: number, csumOffset: number, seq: number): Buffer {
  const f = Buffer.from(frame);
  const c0 = frame.readUInt16BE(csumOffset);
  f.writeUInt32BE(seq, seqOffset);
  let c = ~foldSum((~c0 & 0xffff) + (seq >>> 16) + (seq & 0xffff)) & 0xffff;
  if (c === 0) c = 0xffff;
  f.writeUInt16BE(c, csumOffset);
  return f;
}

describe('own echo frame', () => {
  it('IPv4: Ethernet to the peer, IP from and to our own address, TTL 255, UDP 3785 -> 3785, xlb_bfd_echo_pkt', () => {
    const { frame, seqOffset, csumOffset } = encodeEchoFrame({ family: 4, address: '192.0.2.1', srcMac: MAC_US, dstMac: MAC_PEER, discr: 0x01020304, slot: 7 });
    assert.equal(frame.length, echoFrameLength(4));
    assert.equal(frame.length, 14 + 20 + 8 + 24);
    const hex = frame.toString('hex');
    assert.equal(hex.slice(0, 28), '020000000002' + '020000000001' + '0800');
    const ip = frame.subarray(14, 34);
    assert.equal(ip[0], 0x45);
    assert.equal(ip[1], 0xc0, 'internetwork control');
    assert.equal(ip.readUInt16BE(2), 52);
    assert.equal(ip[8], 255, 'TTL 255 (RFC 5881 §5)');
    assert.equal(ip[9], IPPROTO_UDP);
    assert.equal(ip.subarray(12, 16).toString('hex'), 'c0000201');
    assert.equal(ip.subarray(16, 20).toString('hex'), 'c0000201', 'to our own address: the peer forwards it back');
    assert.equal(ip.readUInt16BE(10), ipv4HeaderChecksum(frame, 14, 20), 'header checksum');
    const udp = frame.subarray(34);
    assert.equal(udp.readUInt16BE(0), 3785);
    assert.equal(udp.readUInt16BE(2), 3785);
    assert.equal(udp.readUInt16BE(4), 32);
    assert.equal(udp.readUInt32BE(8), BFD_ECHO_MAGIC);
    assert.equal(udp.readUInt32BE(12), 0x01020304);
    assert.equal(udp.readUInt32BE(16), 7);
    assert.equal(seqOffset, 34 + 8 + 12);
    assert.equal(frame.readUInt32BE(seqOffset), 0, 'template carries sequence 0');
    assert.equal(csumOffset, 34 + 6);
    assert.ok(l4ChecksumValid(4, ip.subarray(12, 16), ip.subarray(16, 20), IPPROTO_UDP, frame, 34));
  });

  it('IPv6: hop limit 255, next header UDP, both addresses ours, UDP checksum valid', () => {
    const { frame } = encodeEchoFrame({ family: 6, address: '2001:db8::1', srcMac: MAC_US, dstMac: MAC_PEER, discr: 9, slot: 0 });
    assert.equal(frame.length, 14 + 40 + 8 + 24);
    assert.equal(frame.readUInt16BE(12), 0x86dd);
    assert.equal(frame[14]! >> 4, 6);
    assert.equal(frame.readUInt16BE(18), 32, 'payload length');
    assert.equal(frame[20], IPPROTO_UDP);
    assert.equal(frame[21], 255);
    assert.deepEqual(frame.subarray(22, 38), frame.subarray(38, 54));
    assert.ok(l4ChecksumValid(6, frame.subarray(22, 38), frame.subarray(38, 54), IPPROTO_UDP, frame, 54));
  });

  it('the per-packet sequence patch gives the checksum a full computation gives (both families, edge sequences)', () => {
    for (const family of [4, 6] as const) {
      const address = family === 4 ? '10.1.2.3' : 'fd00::abcd';
      const f = encodeEchoFrame({ family, address, srcMac: MAC_US, dstMac: MAC_PEER, discr: 0xffffffff, slot: 255 });
      const l4 = f.csumOffset - 6;
      const [a, b] = family === 4 ? [26, 30] : [22, 38];
      const len = family === 4 ? 4 : 16;
      for (const seq of [1, 2, 0xffff, 0x10000, 0xfffffffe, 0xffffffff, 0x12345678]) {
        const p = patchSeq(f.frame, f.seqOffset, f.csumOffset, seq);
        const full = Buffer.from(p);
        full.writeUInt16BE(0, f.csumOffset);
        const want = l4Checksum(family, p.subarray(a, a + len), p.subarray(b, b + len), IPPROTO_UDP, full.subarray(l4));
        // 0x0000 and 0xffff are the same one's-complement value; UDP sends 0xffff
        assert.equal(p.readUInt16BE(f.csumOffset), want, `IPv${family} seq ${seq}`);
        assert.ok(l4ChecksumValid(family, p.subarray(a, a + len), p.subarray(b, b + len), IPPROTO_UDP, p, l4));
      }
    }
  });

  it('refuses an address of the other family', () => {
    assert.throws(() => encodeEchoFrame({ family: 4, address: '2001:db8::1', srcMac: MAC_US, dstMac: MAC_PEER, discr: 1, slot: 0 }), /not IPv4/);
  });
});
