// Tests for src/net/netns-id.ts: RTM_GETNSID / RTM_NEWNSID payloads and
// IFLA_LINK_NETNSID, with hand-written vectors (H-35 c) in the host byte
// order of x86 (little endian), a round trip (a) and error vectors (d).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeNsIdMsg, encodeNsIdMsg, IFLA_LINK_NETNSID, linkNetnsid, nsIdMsgLength, type NsIdMsg } from '../../../src/net/netns-id.js';
import { HOST_LE } from '../../../src/net/rtnetlink.js';
import { hex, roundTrip, throwsCodec, type Codec } from '../../support/codec.js';

const codec: Codec<NsIdMsg> = { encode: encodeNsIdMsg, decode: decodeNsIdMsg, length: nsIdMsgLength };

describe('netns id messages', { skip: HOST_LE ? false : 'vectors are little endian' }, () => {
  test('RTM_GETNSID by fd: rtgenmsg AF_UNSPEC padded to 4, NETNSA_FD', () => {
    const buf = roundTrip(codec, { family: 0, fd: 9 });
    assert.deepEqual(
      buf,
      hex(`
        00 000000    # rtgen_family AF_UNSPEC, padding to 4
        0800 0300    # nla_len 8, NETNSA_FD
        09000000     # fd 9
      `.replace(/#[^\n]*/g, '')),
    );
  });

  test('RTM_NEWNSID: NETNSA_NSID is signed (-1: none assigned); unknown attributes kept', () => {
    const answer = hex('00000000 0800 0100 ffffffff 0800 0500 02000000'); // nsid -1; NETNSA_CURRENT_NSID 2
    assert.deepEqual(decodeNsIdMsg(answer).value, { family: 0, nsid: -1, unknown: [{ type: 5, data: hex('02000000') }] });
    roundTrip(codec, { family: 0, nsid: 7, pid: 1234 });
    roundTrip(codec, { family: 0, nsid: -1, unknown: [{ type: 5, data: hex('02000000') }] });
  });

  test('errors: truncated header, short attribute, out-of-range values', () => {
    throwsCodec(() => decodeNsIdMsg(Buffer.alloc(0)), 'XLB_ERR_CODEC_TRUNCATED', 'netns id: truncated at rtgen_family (offset 0)', 0);
    throwsCodec(() => decodeNsIdMsg(hex('00000000 0600 0100 ffff')), 'XLB_ERR_CODEC_BAD_LENGTH', 'netns id: bad length in NETNSA_NSID: 2 (offset 0)');
    throwsCodec(() => decodeNsIdMsg(hex('00000000 0c00 0100 ffffffff')), 'XLB_ERR_CODEC_TRUNCATED', 'netns id: truncated at attribute 1 (offset 4)');
    assert.throws(() => encodeNsIdMsg({ family: 0, fd: -1 }), RangeError);
    assert.throws(() => encodeNsIdMsg({ family: 0, nsid: 2 ** 31 }), RangeError);
    assert.throws(() => encodeNsIdMsg({ family: 256 }), RangeError);
    assert.throws(() => encodeNsIdMsg({ family: 0, fd: 1 }, Buffer.alloc(8)), RangeError);
  });

  test('linkNetnsid(): IFLA_LINK_NETNSID among a link message\'s raw attributes', () => {
    assert.equal(linkNetnsid([{ type: 40, data: hex('01') }, { type: IFLA_LINK_NETNSID, data: hex('03000000') }]), 3);
    assert.equal(linkNetnsid([{ type: IFLA_LINK_NETNSID, data: hex('ffffffff') }]), -1);
    assert.equal(linkNetnsid([{ type: IFLA_LINK_NETNSID, data: hex('03') }]), undefined);
    assert.equal(linkNetnsid(undefined), undefined);
  });
});
