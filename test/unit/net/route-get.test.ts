// Tests for src/net/route-get.ts: RTM_GETROUTE requests and RTM_NEWROUTE
// answers, with hand-written vectors (H-35 c, little-endian host order), round
// trips (a) and error vectors (d).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRouteMsg, encodeRouteMsg, routeMsgLength, routeQuery, type RouteMsg } from '../../../src/net/route-get.js';
import { HOST_LE } from '../../../src/net/rtnetlink.js';
import { hex, roundTrip, throwsCodec, type Codec } from '../../support/codec.js';

const codec: Codec<RouteMsg> = { encode: encodeRouteMsg, decode: decodeRouteMsg, length: routeMsgLength };
const strip = (s: string): string => s.replace(/#[^\n]*/g, '');

describe('route messages', { skip: HOST_LE ? false : 'vectors are little endian' }, () => {
  test('the lookup request for 10.1.2.3: rtmsg AF_INET /32, RTA_DST', () => {
    const buf = roundTrip(codec, routeQuery('10.1.2.3'));
    assert.deepEqual(
      buf,
      hex(
        strip(`
        02 20 00 00   # family AF_INET, dst_len 32, src_len 0, tos 0
        00 00 00 00   # table, protocol, scope, type: unspecified
        00000000      # flags
        0800 0100     # nla_len 8, RTA_DST
        0a010203      # 10.1.2.3
      `),
      ),
    );
    assert.equal(routeQuery('2001:db8::1').dstLen, 128);
  });

  test('an answer as the kernel sends it: RTA_TABLE, RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PREFSRC (kept raw)', () => {
    const answer = hex(
      strip(`
      02 20 00 00  fe 00 00 01  00020000      # AF_INET /32, table main, unicast, flags RTM_F_CLONED
      0800 0f00 fe000000                      # RTA_TABLE 254
      0800 0100 0a010203                      # RTA_DST 10.1.2.3
      0800 0400 05000000                      # RTA_OIF 5
      0800 0500 0a010001                      # RTA_GATEWAY 10.1.0.1
      0800 0700 0a010009                      # RTA_PREFSRC 10.1.0.9
    `),
    );
    assert.deepEqual(decodeRouteMsg(answer).value, {
      family: 2,
      dstLen: 32,
      table: 254,
      protocol: 0,
      scope: 0,
      type: 1,
      flags: 0x200,
      dst: '10.1.2.3',
      oif: 5,
      gateway: '10.1.0.1',
      unknown: [
        { type: 15, data: hex('fe000000') },
        { type: 7, data: hex('0a010009') },
      ],
    });
    roundTrip(codec, { family: 10, dstLen: 128, table: 254, protocol: 2, scope: 0, type: 1, flags: 0, dst: '2001:db8::1', oif: 3, gateway: 'fe80::1' });
  });

  test('errors: short rtmsg, address of the wrong length, bad values', () => {
    throwsCodec(() => decodeRouteMsg(hex('0220000000')), 'XLB_ERR_CODEC_TRUNCATED', 'route: truncated at rtmsg (offset 0)', 0);
    throwsCodec(() => decodeRouteMsg(hex('02200000 00000000 00000000 0600 0100 0a01')), 'XLB_ERR_CODEC_BAD_LENGTH', 'route: bad length in RTA_DST: 2 (offset 12)', 12);
    throwsCodec(() => decodeRouteMsg(hex('02200000 00000000 00000000 0500 0400 05')), 'XLB_ERR_CODEC_BAD_LENGTH', 'route: bad length in RTA_OIF: 1 (offset 12)', 12);
    assert.throws(() => routeQuery('10.1.2'), TypeError);
    assert.throws(() => encodeRouteMsg({ ...routeQuery('10.1.2.3'), dst: '2001:db8::1' }), TypeError);
    assert.throws(() => encodeRouteMsg({ ...routeQuery('10.1.2.3'), dstLen: 33 }), RangeError);
    assert.throws(() => encodeRouteMsg({ ...routeQuery('10.1.2.3'), family: 7 }), RangeError);
  });
});
