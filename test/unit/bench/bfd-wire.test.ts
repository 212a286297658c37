import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bfdFromFrame, detection, flapped, outsideJitter, PcapBfdReader, steadyFor, txGaps, type Seen, type WireTimers } from '../../../bench/bfd-wire.js';
import { encodeBfdControl, type BfdControl } from '../../../src/bfd/codec.js';
import { BFD_STATE, type BfdState } from '../../../src/bfd/spec.js';

const W: WireTimers = { intervalMs: 10, mult: 3 };
const PEER = '10.98.0.11';
const NODE = '10.98.0.1';

function ctl(o: Partial<BfdControl> = {}): BfdControl {
  return {
    version: 1,
    diag: 0,
    state: BFD_STATE.UP,
    poll: false,
    final: false,
    controlPlaneIndependent: false,
    demand: false,
    multipoint: false,
    detectMult: 3,
    myDiscriminator: 7,
    yourDiscriminator: 9,
    desiredMinTxUs: 10_000,
    requiredMinRxUs: 10_000,
    requiredMinEchoRxUs: 0,
    ...o,
  };
}

/** Ethernet + IPv4 + UDP (to `dport`) around a BFD control packet. */
function frame(src: string, dst: string, c: BfdControl, dport = 3784): Buffer {
  const bfd = encodeBfdControl(c);
  const f = Buffer.alloc(14 + 20 + 8 + bfd.length);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(20 + 8 + bfd.length, 16);
  f[22] = 255;
  f[23] = 17;
  Buffer.from(src.split('.').map(Number)).copy(f, 26);
  Buffer.from(dst.split('.').map(Number)).copy(f, 30);
  f.writeUInt16BE(49152, 34);
  f.writeUInt16BE(dport, 36);
  f.writeUInt16BE(8 + bfd.length, 38);
  bfd.copy(f, 42);
  return f;
}

/** A classic pcap file (Ethernet) of `frames` stamped `t` ms, in the given byte order. */
function pcap(frames: { t: number; f: Buffer }[], le = true): Buffer {
  const u32 = (v: number): Buffer => {
    const b = Buffer.alloc(4);
    if (le) b.writeUInt32LE(v);
    else b.writeUInt32BE(v);
    return b;
  };
  const u16 = (v: number): Buffer => {
    const b = Buffer.alloc(2);
    if (le) b.writeUInt16LE(v);
    else b.writeUInt16BE(v);
    return b;
  };
  const parts = [u32(0xa1b2c3d4), u16(2), u16(4), u32(0), u32(0), u32(262_144), u32(1)];
  for (const { t, f } of frames) parts.push(u32(Math.floor(t / 1000)), u32(Math.round((t % 1000) * 1000)), u32(f.length), u32(f.length), f);
  return Buffer.concat(parts);
}

const seen = (t: number, src: string, dst: string, o: Partial<BfdControl> = {}): Seen => ({ t, src, dst, ctl: ctl(o) });
const down = (diag = 1): Partial<BfdControl> => ({ state: BFD_STATE.DOWN as BfdState, diag });

describe('bench bfd wire', () => {
  it('PcapBfdReader: the BFD packets of a pcap stream, however it is cut, either byte order; other frames skipped', () => {
    const frames = [
      { t: 1_700_000_000_123.456, f: frame(PEER, NODE, ctl()) },
      { t: 1_700_000_000_124, f: Buffer.concat([Buffer.alloc(12), Buffer.from([0x08, 0x06]), Buffer.alloc(28)]) }, // ARP
      { t: 1_700_000_000_125, f: frame(NODE, PEER, ctl(down())) },
      { t: 1_700_000_000_126, f: frame(NODE, PEER, ctl(), 3785) }, // echo port
    ];
    for (const le of [true, false]) {
      const file = pcap(frames, le);
      const whole = new PcapBfdReader().push(file);
      assert.deepEqual(
        whole.map((s) => [s.t, s.src, s.dst, s.ctl.state]),
        [
          [1_700_000_000_123.456, PEER, NODE, BFD_STATE.UP],
          [1_700_000_000_125, NODE, PEER, BFD_STATE.DOWN],
        ],
      );
      const r = new PcapBfdReader();
      const bytewise: Seen[] = [];
      for (let i = 0; i < file.length; i++) bytewise.push(...r.push(file.subarray(i, i + 1)));
      assert.deepEqual(bytewise, whole);
    }
  });

  it('bfdFromFrame: a truncated or undecodable datagram is skipped', () => {
    const f = frame(PEER, NODE, ctl());
    assert.equal(bfdFromFrame(0, f.subarray(0, 40)), undefined);
    const bad = Buffer.from(f);
    bad[42] = 0x00; // version 0
    assert.equal(bfdFromFrame(0, bad), undefined);
    assert.equal(bfdFromFrame(5, f)?.ctl.myDiscriminator, 7);
  });

  it('detection: the first packet not Up at or after the kill, from the peer\'s last packet before it', () => {
    const s = [seen(0, PEER, NODE), seen(5, NODE, PEER), seen(10, PEER, NODE), seen(15, NODE, PEER), seen(20, PEER, NODE), seen(25, NODE, PEER), seen(35, NODE, PEER), seen(50, NODE, PEER, down()), seen(60, NODE, PEER, down())];
    assert.deepEqual(detection(s, PEER, NODE, 0, 22), { lastRx: 20, down: 50, diag: 1 });
    // not yet Down: nothing
    assert.equal(detection(s.slice(0, 7), PEER, NODE, 0, 22), undefined);
    // another detector's packets do not count
    assert.equal(detection(s, PEER, '10.98.0.12', 0, 22), undefined);
    // a Down before the kill is not the kill's detection
    const early = [seen(0, PEER, NODE), seen(3, NODE, PEER, down(3)), seen(10, PEER, NODE), seen(45, NODE, PEER, down())];
    assert.deepEqual(detection(early, PEER, NODE, 0, 12), { lastRx: 10, down: 45, diag: 1 });
  });

  it('flapped: the node said Down before the kill, or the peer told it Down', () => {
    const steadyUp = [seen(0, PEER, NODE), seen(5, NODE, PEER), seen(10, PEER, NODE)];
    assert.equal(flapped([...steadyUp, seen(50, NODE, PEER, down())], PEER, NODE, 0, 12), false);
    assert.equal(flapped([...steadyUp, seen(8, NODE, PEER, down())], PEER, NODE, 0, 12), true);
    assert.equal(flapped([...steadyUp, seen(9, PEER, NODE, down())], PEER, NODE, 0, 12), true);
    // before `from`: an earlier round's
    assert.equal(flapped([seen(-5, PEER, NODE, down()), ...steadyUp], PEER, NODE, 0, 12), false);
  });

  it('steadyFor: packets both ways for the whole stretch, every one Up at the timers, no Poll or Final', () => {
    const both = (o: (i: number) => Partial<BfdControl> = () => ({})): Seen[] => {
      const out: Seen[] = [];
      for (let i = 0; i < 25; i++) out.push(seen(i * 9, PEER, NODE, o(i)), seen(i * 9 + 4, NODE, PEER, o(i)));
      return out;
    };
    assert.equal(steadyFor(both(), W, PEER, NODE, 200, 225), true);
    assert.equal(steadyFor(both((i) => (i === 20 ? { poll: true } : {})), W, PEER, NODE, 200, 225), false);
    assert.equal(steadyFor(both((i) => (i === 20 ? { desiredMinTxUs: 1_000_000 } : {})), W, PEER, NODE, 200, 225), false);
    // a Poll before the stretch does not count
    assert.equal(steadyFor(both((i) => (i === 0 ? { poll: true } : {})), W, PEER, NODE, 200, 225), true);
    // one way only
    assert.equal(steadyFor(both().filter((s) => s.src === PEER), W, PEER, NODE, 200, 225), false);
    // too few packets in the stretch (the session just came back)
    assert.equal(steadyFor(both().slice(-20), W, PEER, NODE, 200, 225), false);
  });

  it('txGaps: gaps between successive steady packets of the node; a packet not steady breaks the run', () => {
    const s = [seen(0, NODE, PEER), seen(9, NODE, PEER), seen(10, PEER, NODE), seen(18, NODE, PEER), seen(20, NODE, PEER, { poll: true }), seen(27, NODE, PEER), seen(37, NODE, PEER), seen(99, NODE, PEER)];
    assert.deepEqual(txGaps(s, W, PEER, NODE, 0, 50), [9, 9, 10]);
  });

  it('outsideJitter: 0 within 75-100 % of the interval (75-90 % at Detect Mult 1), else the distance to it', () => {
    assert.equal(outsideJitter(7.5, 10, 3), 0);
    assert.equal(outsideJitter(10, 10, 3), 0);
    assert.equal(outsideJitter(12, 10, 3), 2);
    assert.equal(outsideJitter(7, 10, 3), 0.5);
    assert.equal(outsideJitter(9, 10, 1), 0);
    assert.ok(Math.abs(outsideJitter(9.5, 10, 1) - 0.5) < 1e-9);
  });
});
