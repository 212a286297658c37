/**
 * Neighbour messages (src/net/neigh.ts): the dump request, and an
 * RTM_NEWNEIGH payload written by hand, field by field.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeNeighMsg, encodeNeighDumpRequest, neighUsable, NUD } from '../../../src/net/neigh.js';
import { HOST_LE } from '../../../src/net/rtnetlink.js';

const u32 = (v: number): number[] => (HOST_LE ? [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >>> 24] : [v >>> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff]);
const u16 = (v: number): number[] => (HOST_LE ? [v & 0xff, v >> 8] : [v >> 8, v & 0xff]);

describe('neigh codec', () => {
  it('the dump request is a zeroed ndmsg of the family', () => {
    assert.deepEqual([...encodeNeighDumpRequest(4)], [2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(encodeNeighDumpRequest(6)[0], 10);
  });

  it('decodes an IPv4 entry: ifindex, state, NDA_DST, NDA_LLADDR', () => {
    const b = Buffer.from([
      2, 0, 0, 0, // ndm_family AF_INET, pad
      ...u32(5), // ndm_ifindex
      ...u16(NUD.STALE), // ndm_state
      0, // ndm_flags
      1, // ndm_type RTN_UNICAST
      ...u16(8), ...u16(1), 10, 98, 0, 2, // NDA_DST 10.98.0.2
      ...u16(10), ...u16(2), 0x02, 0x98, 0, 0, 0, 0x0b, 0, 0, // NDA_LLADDR 02:98:00:00:00:0b, padded
    ]);
    const n = decodeNeighMsg(b).value;
    assert.deepEqual(n, { family: 2, ifindex: 5, state: NUD.STALE, flags: 0, type: 1, dst: '10.98.0.2', lladdr: '02:98:00:00:00:0b' });
    assert.equal(neighUsable(n), true);
    assert.equal(neighUsable({ ...n, state: NUD.FAILED }), false);
    assert.equal(neighUsable({ ...n, lladdr: undefined }), false);
  });

  it('decodes an IPv6 destination in its short form', () => {
    const dst = [0xfd, 0x98, ...Array(13).fill(0), 2];
    const b = Buffer.from([10, 0, 0, 0, ...u32(3), ...u16(NUD.REACHABLE), 0, 1, ...u16(20), ...u16(1), ...dst]);
    assert.equal(decodeNeighMsg(b).value.dst, 'fd98::2');
  });

  it('refuses a payload shorter than ndmsg', () => {
    assert.throws(() => decodeNeighMsg(Buffer.alloc(8)), /truncated ndmsg/);
  });
});
