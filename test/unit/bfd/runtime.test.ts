/**
 * BfdRuntime with injected fakes: a fake clock and one fake timer, fake
 * listeners that the test feeds datagrams (with the TTL and destination a
 * real socket reports), fake senders that record what goes out. The peer
 * is played by hand with encoded control packets, so every step is exact.
 * Checks the demultiplexing by Your Discriminator and by addresses, the
 * GTSM TTL rule with max_hops, the drop counters (codec reasons, the state
 * machine's, per session and in total), the three-way handshake, the
 * Detection Time through the one timer, a reload that changes timers (Poll,
 * Final, the session stays Up), a reload that replaces a session, removal
 * (AdminDown, then the socket closes), discriminators, authentication, stop.
 */
import { describe, it, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { BfdRuntime, BFD_DRAIN_MAX_MS, type BfdRuntimeIo, type BfdRuntimeSessionSpec, type BfdRx, type BfdStateEvent } from '../../../src/bfd/runtime.js';
import { decodeBfdControl, encodeBfdControl, type BfdControl } from '../../../src/bfd/codec.js';
import { nextAuthSection, type BfdAuthConfig } from '../../../src/bfd/auth.js';
import { BFD_AUTH_TYPE, BFD_DIAG, BFD_STATE } from '../../../src/bfd/spec.js';
import { XlbError } from '../../../src/errors.js';

const { ADMIN_DOWN, DOWN, INIT, UP } = BFD_STATE;
const PEER_DISCR = 0xabcd;

interface Sent {
  port: number;
  to: string;
  dport: number;
  pkt: BfdControl;
}

/** The fake world: clock, timer, sockets. */
class Fake implements BfdRuntimeIo {
  t = 1000;
  echo?: BfdRuntimeIo['echo'];
  timer: { at: number; cb: () => void } | undefined;
  readonly listeners = new Map<string, (rx: BfdRx) => void>();
  readonly sent: Sent[] = [];
  readonly closed: number[] = [];
  readonly logs: string[] = [];
  #port = 49152;
  randoms: number[] = [];
  #r = 0x1000;
  failSender = false;
  now = (): number => this.t;
  setTimer(delayMs: number, cb: () => void): void {
    this.timer = { at: this.t + delayMs, cb };
  }
  clearTimer(): void {
    this.timer = undefined;
  }
  random32 = (): number => this.randoms.shift() ?? this.#r++;
  rng = (): number => 0;
  openListener(family: 4 | 6, multihop: boolean, onRx: (rx: BfdRx) => void) {
    const k = `${family}${multihop ? 'm' : 's'}`;
    this.listeners.set(k, onRx);
    return { close: () => this.listeners.delete(k) };
  }
  openSender(_family: 4 | 6, _local: string | undefined, _ttl: number) {
    if (this.failSender) throw new Error('EADDRINUSE');
    const port = this.#port++;
    return {
      port,
      send: (data: Buffer, to: string, dport: number) => {
        const d = decodeBfdControl(data);
        assert.ok(d.ok, 'the runtime sends decodable packets');
        this.sent.push({ port, to, dport, pkt: d.value });
      },
      close: () => this.closed.push(port),
    };
  }
  log = (_level: string, _obj: Record<string, unknown>, msg: string): void => {
    this.logs.push(msg);
  };
  /** Runs the timer until `ms` from now (bounded). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (let i = 0; i < 100_000 && this.timer !== undefined && this.timer.at <= end; i++) {
      const { at, cb } = this.timer;
      this.timer = undefined;
      this.t = Math.max(this.t, at);
      cb();
    }
    this.t = end;
  }
  /** Delivers a packet to a listener, as a socket would. */
  rx(p: Partial<BfdControl>, o: { family?: 4 | 6; multihop?: boolean; source?: string; destination?: string; ttl?: number | undefined; bytes?: Buffer; auth?: BfdAuthConfig } = {}): void {
    const onRx = this.listeners.get(`${o.family ?? 4}${o.multihop ? 'm' : 's'}`);
    assert.ok(onRx, 'listener open');
    const v = pkt(p);
    const data = o.bytes ?? encodeBfdControl(v, undefined, 0, o.auth);
    onRx({ data, source: o.source ?? '192.0.2.2', destination: o.destination ?? '192.0.2.1', ttl: 'ttl' in o ? o.ttl : 255 });
  }
  /** Packets sent from the socket of `port` since index `from`. */
  from(port: number, from = 0): BfdControl[] {
    return this.sent.slice(from).filter((s) => s.port === port).map((s) => s.pkt);
  }
}

/** A control packet from the peer: Down, discr PEER_DISCR, 10 ms x 3. */
function pkt(p: Partial<BfdControl>): BfdControl {
  return {
    version: 1,
    diag: 0,
    state: DOWN,
    poll: false,
    final: false,
    controlPlaneIndependent: false,
    demand: false,
    multipoint: false,
    detectMult: 3,
    myDiscriminator: PEER_DISCR,
    yourDiscriminator: 0,
    desiredMinTxUs: 10_000,
    requiredMinRxUs: 10_000,
    requiredMinEchoRxUs: 0,
    ...p,
  };
}

const spec = (o: Partial<BfdRuntimeSessionSpec> = {}): BfdRuntimeSessionSpec => ({
  name: 'b1',
  peer: '192.0.2.2',
  local: '192.0.2.1',
  desiredMinTxUs: 10_000,
  requiredMinRxUs: 10_000,
  detectMult: 3,
  ...o,
});

let io: Fake;
let rt: BfdRuntime;
let events: BfdStateEvent[];

beforeEach(() => {
  io = new Fake();
  rt = new BfdRuntime(io);
  events = [];
  rt.on('state', (e) => events.push(e));
});

/** The session's discriminator, from status. */
const discrOf = (name: string): number => rt.status().sessions.find((s) => s.name === name)!.localDiscr;
const stateOf = (name: string): string | undefined => rt.status().sessions.find((s) => s.name === name)?.state;

/** Brings session `name` Up with the hand-played peer: Down -> Init -> Up. */
function bringUp(name = 'b1', o: Parameters<Fake['rx']>[1] = {}): void {
  io.rx({ state: DOWN }, o);
  assert.equal(stateOf(name), 'Init');
  io.rx({ state: UP, yourDiscriminator: discrOf(name) }, o);
  assert.equal(stateOf(name), 'Up');
}

describe('BfdRuntime: sockets and start', () => {
  it('opens the listener of the kind it needs and one sender per session; the first packet goes to 3784 / 4784', () => {
    rt.apply({ sessions: [spec(), spec({ name: 'm1', peer: '198.51.100.2', local: '192.0.2.1', multihop: true }), spec({ name: 'v6', peer: '2001:db8::2', local: '2001:DB8::1' })] });
    assert.deepEqual([...io.listeners.keys()].sort(), ['4m', '4s', '6s']);
    const ports = rt.status().sessions.map((s) => s.sourcePort);
    assert.equal(new Set(ports).size, 3);
    const first = new Map(io.sent.map((s) => [s.to, s]));
    assert.equal(first.get('192.0.2.2')!.dport, 3784);
    assert.equal(first.get('198.51.100.2')!.dport, 4784);
    assert.equal(first.get('2001:db8::2')!.dport, 3784);
    assert.equal(first.get('192.0.2.2')!.pkt.state, DOWN);
    assert.equal(rt.status().sessions.find((s) => s.name === 'v6')!.local, '2001:db8::1', 'addresses canonical');
  });

  it('local discriminators are non-zero, unique and random (a zero or a duplicate draw is skipped)', () => {
    io.randoms = [0, 7, 7, 9];
    rt.apply({ sessions: [spec(), spec({ name: 'b2', peer: '192.0.2.3' })] });
    assert.deepEqual(rt.status().sessions.map((s) => s.localDiscr).sort(), [7, 9]);
  });

  it('a spec the config should have refused throws before anything changes', () => {
    assert.throws(() => rt.apply({ sessions: [spec(), spec()] }), (e) => e instanceof XlbError && /twice/.test(e.message));
    assert.throws(() => rt.apply({ sessions: [spec(), spec({ name: 'b2' })] }), /same peer/);
    assert.throws(() => rt.apply({ sessions: [spec({ peer: '2001:db8::2' })] }), /different families/);
    assert.throws(() => rt.apply({ sessions: [spec({ maxHops: 256 })] }), /maxHops/);
    assert.equal(rt.status().sessions.length, 0);
    assert.equal(io.listeners.size, 0);
  });

  it('a sender that cannot be opened leaves its session out, logged', () => {
    io.failSender = true;
    rt.apply({ sessions: [spec()] });
    assert.equal(rt.status().sessions.length, 0);
    assert.ok(io.logs.some((l) => /not opened/.test(l)));
  });
});

describe('BfdRuntime: handshake, demultiplexing, drops', () => {
  it('comes Up in three steps and reports each change with its diag', () => {
    rt.apply({ sessions: [spec()] });
    bringUp();
    assert.deepEqual(
      events.map((e) => `${e.from}->${e.to}`),
      ['Down->Init', 'Init->Up'],
    );
    const st = rt.status().sessions[0]!;
    assert.equal(st.remoteDiscr, PEER_DISCR);
    assert.equal(st.packetsIn, 2);
    assert.equal(st.txIntervalUs, 10_000);
    assert.equal(st.detectTimeUs, 30_000);
    assert.ok(st.packetsOut >= 3, 'Down, Init and Up announced');
    assert.equal(st.stateChanges, 2);
  });

  it('demultiplexes by Your Discriminator whatever the source address', () => {
    rt.apply({ sessions: [spec(), spec({ name: 'b2', peer: '192.0.2.3' })] });
    bringUp('b1');
    // A packet for b1's discriminator from b2's address still goes to b1 (RFC 5880 §6.3).
    io.rx({ state: UP, yourDiscriminator: discrOf('b1') }, { source: '192.0.2.3' });
    assert.equal(rt.status().sessions.find((s) => s.name === 'b1')!.packetsIn, 3);
    assert.equal(rt.status().sessions.find((s) => s.name === 'b2')!.packetsIn, 0);
    // An unknown discriminator: no_session, counted in total.
    io.rx({ state: UP, yourDiscriminator: 0x7777_7777 });
    assert.equal(rt.status().drops.no_session, 1);
  });

  it('demultiplexes by (peer, local, kind) while Your Discriminator is 0', () => {
    rt.apply({ sessions: [spec(), spec({ name: 'b2', peer: '192.0.2.3' }), spec({ name: 'any', peer: '192.0.2.4', local: undefined })] });
    io.rx({ state: DOWN }, { source: '192.0.2.3' });
    assert.equal(stateOf('b2'), 'Init');
    assert.equal(stateOf('b1'), 'Down');
    // Right peer, wrong local address: no session.
    io.rx({ state: DOWN }, { source: '192.0.2.2', destination: '192.0.2.99' });
    assert.equal(stateOf('b1'), 'Down');
    assert.equal(rt.status().drops.no_session, 1);
    // A session without a local address matches any destination.
    io.rx({ state: DOWN }, { source: '192.0.2.4', destination: '10.9.9.9' });
    assert.equal(stateOf('any'), 'Init');
    // The single-hop session's discriminator on the multihop port: not that session.
    rt.apply({ sessions: [spec(), spec({ name: 'b2', peer: '192.0.2.3' }), spec({ name: 'any', peer: '192.0.2.4', local: undefined }), spec({ name: 'm', peer: '198.51.100.9', multihop: true })] });
    io.rx({ state: INIT, yourDiscriminator: discrOf('b2') }, { source: '192.0.2.3', multihop: true });
    assert.equal(stateOf('b2'), 'Init');
    assert.equal(rt.status().drops.no_session, 2);
  });

  it('single hop requires TTL 255 (bad_ttl, per session and in total); max_hops 1 accepts 254; 255 turns the check off', () => {
    rt.apply({ sessions: [spec(), spec({ name: 'h1', peer: '192.0.2.3', maxHops: 1 }), spec({ name: 'off', peer: '192.0.2.4', maxHops: 255 })] });
    io.rx({ state: DOWN }, { ttl: 254 });
    // A socket that did not report the TTL fails the check too.
    io.rx({ state: DOWN }, { ttl: undefined });
    assert.equal(stateOf('b1'), 'Down');
    const b1 = rt.status().sessions.find((s) => s.name === 'b1')!;
    assert.equal(b1.drops.bad_ttl, 2);
    assert.equal(b1.packetsIn, 0);
    io.rx({ state: DOWN }, { source: '192.0.2.3', ttl: 254 });
    assert.equal(stateOf('h1'), 'Init');
    io.rx({ state: DOWN }, { source: '192.0.2.3', ttl: 253 });
    assert.equal(rt.status().sessions.find((s) => s.name === 'h1')!.drops.bad_ttl, 1);
    io.rx({ state: DOWN }, { source: '192.0.2.4', ttl: 1 });
    assert.equal(stateOf('off'), 'Init');
    assert.equal(rt.status().drops.bad_ttl, 3);
  });

  it('multihop defaults to no TTL check', () => {
    rt.apply({ sessions: [spec({ multihop: true })] });
    io.rx({ state: DOWN }, { multihop: true, ttl: 250 });
    assert.equal(stateOf('b1'), 'Init');
  });

  it('counts every codec drop by reason, and the machine\'s discards under the session', () => {
    rt.apply({ sessions: [spec()] });
    const bad = encodeBfdControl(pkt({}));
    bad[0] = (2 << 5) | 0;
    io.rx({}, { bytes: bad });
    io.rx({}, { bytes: Buffer.alloc(3, 0x20) });
    io.rx({ detectMult: 0 });
    io.rx({ multipoint: true });
    io.rx({ myDiscriminator: 0 });
    io.rx({ state: UP, yourDiscriminator: 0 });
    // The A bit on a session without authentication: found, then dropped.
    io.rx({ auth: { kind: 'password', type: BFD_AUTH_TYPE.SIMPLE_PASSWORD, keyId: 1, password: Buffer.from('x') } });
    const st = rt.status();
    assert.deepEqual(st.drops, { bad_version: 1, bad_length: 1, zero_detect_mult: 1, multipoint: 1, zero_my_discr: 1, zero_your_discr: 1, auth_unexpected: 1 });
    assert.deepEqual(st.sessions[0]!.drops, { auth_unexpected: 1 });
    assert.equal(st.received, 7);
    assert.equal(stateOf('b1'), 'Down');
    // The machine's own discard: AdminDown (session removed, still draining).
    bringUp();
    rt.apply({ sessions: [] });
    io.rx({ state: UP, yourDiscriminator: st.sessions[0]!.localDiscr });
    assert.equal(rt.status().drops.admin_down, 1);
  });

  it('never throws on garbage', () => {
    rt.apply({ sessions: [spec()] });
    for (let i = 0; i < 200; i++) io.rx({}, { bytes: Buffer.from(Array.from({ length: i % 40 }, (_, j) => (i * 31 + j * 7) & 0xff)) });
    assert.equal(rt.status().received, 200);
  });
});

describe('BfdRuntime: timers', () => {
  it('one timer drives the periodic packets and the Detection Time (Up -> Down, diag 1)', () => {
    rt.apply({ sessions: [spec()] });
    bringUp();
    const port = rt.status().sessions[0]!.sourcePort;
    const n = io.sent.length;
    io.advance(25);
    // rng 0: 75 % of 10 ms, so 3 packets in 25 ms.
    assert.equal(io.from(port, n).length, 3);
    assert.ok(io.from(port, n).every((p) => p.state === UP));
    io.advance(10); // 35 ms since the last packet from the peer: past 30 ms
    assert.equal(stateOf('b1'), 'Down');
    const last = events.at(-1)!;
    assert.equal(last.to, 'Down');
    assert.equal(last.diag, BFD_DIAG.CONTROL_DETECTION_TIME_EXPIRED);
    assert.ok(last.at - 1000 >= 30 && last.at - 1000 <= 31, `detected at ${last.at - 1000} ms`);
    const timer = rt.status().timer;
    assert.ok(timer.fired >= 4);
    assert.equal(timer.lateOver1ms, 0, 'the fake timer fires on time');
  });

  it('packets from the peer keep the session Up', () => {
    rt.apply({ sessions: [spec()] });
    bringUp();
    for (let i = 0; i < 100; i++) {
      io.advance(10);
      io.rx({ state: UP, yourDiscriminator: discrOf('b1') });
    }
    assert.equal(stateOf('b1'), 'Up');
    assert.equal(events.length, 2);
  });
});

describe('BfdRuntime: reload', () => {
  it('keeps an unchanged session untouched', () => {
    rt.apply({ sessions: [spec()] });
    bringUp();
    const before = rt.status().sessions[0]!;
    const n = io.sent.length;
    rt.apply({ sessions: [spec()] });
    const after = rt.status().sessions[0]!;
    assert.equal(after.localDiscr, before.localDiscr);
    assert.equal(after.state, 'Up');
    assert.equal(io.sent.length, n, 'nothing sent by the reload');
  });

  it('a timer change goes through Poll/Final and the session stays Up', () => {
    rt.apply({ sessions: [spec()] });
    bringUp();
    const d = discrOf('b1');
    const port = rt.status().sessions[0]!.sourcePort;
    const n = io.sent.length;
    rt.apply({ sessions: [spec({ desiredMinTxUs: 20_000 })] });
    assert.equal(rt.status().sessions[0]!.polling, true);
    io.advance(8);
    const polls = io.from(port, n).filter((p) => p.poll);
    assert.ok(polls.length >= 1, 'a Poll went out');
    assert.equal(polls[0]!.desiredMinTxUs, 20_000);
    io.rx({ state: UP, yourDiscriminator: d, final: true });
    const st = rt.status().sessions[0]!;
    assert.equal(st.polling, false);
    assert.equal(st.txIntervalUs, 20_000);
    assert.equal(st.state, 'Up');
    assert.equal(st.localDiscr, d);
    assert.equal(events.length, 2, 'no state change');
  });

  it('Required Min Echo RX: in the first packet; a reload that turns it on or off goes out in a Poll, the session stays Up', () => {
    rt.apply({ sessions: [spec({ requiredMinEchoRxUs: 50_000 })] });
    const port = rt.status().sessions[0]!.sourcePort;
    assert.equal(io.from(port, 0)[0]!.requiredMinEchoRxUs, 50_000);
    bringUp();
    const d = discrOf('b1');
    for (const us of [0, 20_000]) {
      const n = io.sent.length;
      rt.apply({ sessions: [spec({ requiredMinEchoRxUs: us })] });
      assert.equal(rt.status().sessions[0]!.polling, true);
      io.advance(8);
      const polls = io.from(port, n).filter((p) => p.poll);
      assert.ok(polls.length >= 1, 'a Poll went out');
      assert.equal(polls[0]!.requiredMinEchoRxUs, us);
      io.rx({ state: UP, yourDiscriminator: d, final: true });
      const st = rt.status().sessions[0]!;
      assert.deepEqual([st.polling, st.requiredMinEchoRxUs, st.state, st.localDiscr], [false, us, 'Up', d]);
    }
    const n = io.sent.length;
    rt.apply({ sessions: [spec({ requiredMinEchoRxUs: 20_000 })] });
    assert.equal(rt.status().sessions[0]!.polling, false, 'unchanged: no Poll');
    assert.equal(io.sent.length, n);
    assert.equal(events.length, 2, 'no state change');
    assert.throws(() => rt.apply({ sessions: [spec({ requiredMinEchoRxUs: -1 })] }), { code: 'XLB_ERR_INTERNAL' });
  });

  it('a new peer address replaces the session: the old one goes AdminDown, the new one gets a new discriminator', () => {
    rt.apply({ sessions: [spec()] });
    bringUp();
    const d = discrOf('b1');
    const oldPort = rt.status().sessions[0]!.sourcePort;
    rt.apply({ sessions: [spec({ peer: '192.0.2.9' })] });
    const all = rt.status().sessions;
    assert.equal(all.length, 2, 'the old one drains');
    const fresh = all.find((s) => !s.draining)!;
    assert.notEqual(fresh.localDiscr, d);
    assert.equal(fresh.peer, '192.0.2.9');
    assert.equal(io.from(oldPort).at(-1)!.state, ADMIN_DOWN);
  });

  it('removing a session sends AdminDown (diag 7) for one Detection Time (3 x the slow 1 s interval), then closes its socket', () => {
    rt.apply({ sessions: [spec()] });
    bringUp();
    const port = rt.status().sessions[0]!.sourcePort;
    const n = io.sent.length;
    rt.apply({ sessions: [] });
    const ad = io.from(port, n);
    assert.equal(ad[0]!.state, ADMIN_DOWN);
    assert.equal(ad[0]!.diag, BFD_DIAG.ADMINISTRATIVELY_DOWN);
    assert.equal(events.at(-1)!.to, 'AdminDown');
    io.advance(2000);
    assert.ok(io.from(port, n).length >= 2, 'AdminDown repeated');
    assert.ok(!io.closed.includes(port));
    io.advance(1100);
    assert.ok(io.from(port, n).every((p) => p.state === ADMIN_DOWN));
    assert.ok(io.closed.includes(port), 'closed after the peer\'s Detection Time');
    assert.equal(rt.status().sessions.length, 0);
    assert.equal(io.listeners.size, 0, 'the listener closes with its last session');
  });

  it('a passive session the peer never heard of closes at once on removal', () => {
    rt.apply({ sessions: [spec({ passive: true })] });
    assert.equal(io.sent.length, 0);
    rt.apply({ sessions: [] });
    assert.equal(rt.status().sessions.length, 0);
    assert.equal(io.closed.length, 1);
  });

  it('draining is bounded by BFD_DRAIN_MAX_MS', () => {
    rt.apply({ sessions: [spec()] });
    // A peer with a 100 s Detection Time.
    io.rx({ state: DOWN, detectMult: 255, desiredMinTxUs: 4_000_000_000 });
    rt.apply({ sessions: [] });
    io.advance(BFD_DRAIN_MAX_MS + 1);
    assert.equal(rt.status().sessions.length, 0);
  });
});

describe('BfdRuntime: authentication and stop', () => {
  const auth: BfdAuthConfig = { type: BFD_AUTH_TYPE.METICULOUS_KEYED_SHA1, keys: [{ id: 3, secret: Buffer.from('sekrit') }], txKeyId: 3 };

  it('signs what it sends and accepts only signed packets with a good sequence', () => {
    rt.apply({ sessions: [spec({ auth })] });
    const first = io.sent[0]!.pkt;
    assert.equal(first.auth?.kind, 'keyed');
    io.rx({ state: DOWN });
    assert.deepEqual(rt.status().sessions[0]!.drops, { auth_missing: 1 });
    let tx = { seq: 100 };
    const signed = (p: Partial<BfdControl>): Parameters<Fake['rx']>[1] => {
      const n = nextAuthSection(auth, tx);
      tx = n.tx;
      return { bytes: encodeBfdControl(pkt({ ...p, auth: n.auth }), undefined, 0, auth) };
    };
    io.rx({}, signed({ state: DOWN }));
    assert.equal(stateOf('b1'), 'Init');
    const wrong = { ...auth, keys: [{ id: 3, secret: Buffer.from('other') }] };
    io.rx({}, { bytes: encodeBfdControl(pkt({ state: INIT, yourDiscriminator: discrOf('b1'), auth: nextAuthSection(wrong, tx).auth }), undefined, 0, wrong) });
    assert.equal(rt.status().sessions[0]!.drops.auth_digest, 1);
    io.rx({}, signed({ state: UP, yourDiscriminator: discrOf('b1') }));
    assert.equal(stateOf('b1'), 'Up');
  });

  it('forgets the peer\'s sequence number after two Detection Times of silence (a restarted peer is heard again)', () => {
    rt.apply({ sessions: [spec({ auth })] });
    let tx = { seq: 5000 };
    const signed = (p: Partial<BfdControl>): Parameters<Fake['rx']>[1] => {
      const n = nextAuthSection(auth, tx);
      tx = n.tx;
      return { bytes: encodeBfdControl(pkt({ ...p, auth: n.auth }), undefined, 0, auth) };
    };
    io.rx({}, signed({ state: DOWN }));
    io.rx({}, signed({ state: UP, yourDiscriminator: discrOf('b1') }));
    assert.equal(stateOf('b1'), 'Up');
    // The peer restarts with a sequence far behind: a replay while the old one is remembered.
    tx = { seq: 10 };
    io.rx({}, signed({ state: DOWN }));
    assert.equal(rt.status().sessions[0]!.drops.auth_sequence, 1);
    io.advance(61); // two Detection Times (30 ms) and more
    io.rx({}, signed({ state: DOWN }));
    assert.equal(rt.status().sessions[0]!.drops.auth_sequence, 1);
    assert.equal(stateOf('b1'), 'Init');
  });

  it('stop() takes every session AdminDown and closes every socket', async () => {
    rt.apply({ sessions: [spec(), spec({ name: 'b2', peer: '192.0.2.3' })] });
    bringUp();
    const stopped = rt.stop();
    // The fake timer does not run by itself: drive it.
    io.advance(3100);
    await stopped;
    assert.equal(io.closed.length, 2);
    assert.equal(io.listeners.size, 0);
    assert.equal(io.timer, undefined);
    assert.ok(io.sent.some((s) => s.pkt.state === ADMIN_DOWN));
    rt.apply({ sessions: [spec()] });
    assert.equal(rt.status().sessions.length, 0, 'a stopped runtime runs nothing');
  });
});

/** A fake own echo: records starts and stops, fails on demand. */
class FakeEcho {
  readonly starts: { discr: number; intervalUs: number; detectUs: number; onFail: (agoMs: number) => void }[] = [];
  readonly stops: number[] = [];
  readonly running = new Map<number, (agoMs: number) => void>();
  start(s: { discr: number; intervalUs: number; detectUs: number }, onFail: (agoMs: number) => void): void {
    this.starts.push({ ...s, onFail });
    this.running.set(s.discr, onFail);
  }
  stop(discr: number): void {
    if (this.running.delete(discr)) this.stops.push(discr);
  }
  counters(discr: number) {
    return this.running.has(discr) ? { running: true, sent: 10, returned: 9, sendErrors: 0, late: 1, slot: 0 } : undefined;
  }
}

describe('BfdRuntime: own echo (RFC 5880 §6.4, §6.8.9)', () => {
  let echo: FakeEcho;
  beforeEach(() => {
    echo = new FakeEcho();
    io.echo = echo;
  });

  it('runs only while Up and the peer reflects, at max(own interval, the peer\'s Required Min Echo RX), detection multiplier x interval', () => {
    rt.apply({ sessions: [spec({ echoIntervalUs: 1000 })] });
    assert.equal(rt.status().sessions[0]!.echoState, 'idle');
    bringUp('b1', {});
    assert.equal(echo.starts.length, 0, 'the peer advertises Required Min Echo RX 0: no echo');
    io.rx({ state: UP, yourDiscriminator: discrOf('b1'), requiredMinEchoRxUs: 2000 });
    assert.equal(echo.starts.length, 1);
    assert.deepEqual({ i: echo.starts[0]!.intervalUs, d: echo.starts[0]!.detectUs }, { i: 2000, d: 6000 }, 'the peer asks for no faster than 2 ms');
    const s = rt.status().sessions[0]!;
    assert.deepEqual([s.echoState, s.echoIntervalUs, s.echoSent, s.echoReturned], ['running', 2000, 10, 9]);
    io.rx({ state: UP, yourDiscriminator: discrOf('b1'), requiredMinEchoRxUs: 500 });
    assert.equal(echo.starts.length, 2, 'restarted at the new interval');
    assert.equal(echo.starts[1]!.intervalUs, 1000, 'our own 1 ms now');
    io.rx({ state: UP, yourDiscriminator: discrOf('b1'), requiredMinEchoRxUs: 0 });
    assert.equal(echo.running.size, 0, 'the peer stopped reflecting: echo MUST cease');
    assert.equal(rt.status().sessions[0]!.echoSent, 20, 'counters of ended runs are kept');
    assert.equal(rt.status().sessions[0]!.echoLate, 2);
  });

  it('an echo failure takes the session Down with diag 2 (echo function failed), stops the echo, and is counted', () => {
    rt.apply({ sessions: [spec({ echoIntervalUs: 1000 })] });
    bringUp('b1', {});
    io.rx({ state: UP, yourDiscriminator: discrOf('b1'), requiredMinEchoRxUs: 1000 });
    assert.equal(echo.running.size, 1);
    echo.starts[0]!.onFail(3.2);
    const s = rt.status().sessions[0]!;
    assert.equal(s.state, 'Down');
    assert.equal(s.diag, 'echo function failed');
    assert.equal(events.at(-1)!.diag, BFD_DIAG.ECHO_FUNCTION_FAILED);
    assert.equal(echo.running.size, 0, 'not Up: echo stopped');
    assert.deepEqual([s.echoState, s.echoFailures], ['failed', 1]);
    echo.starts[0]!.onFail(5);
    assert.equal(rt.status().sessions[0]!.echoFailures, 1, 'a report of a stopped run is ignored');
    assert.ok(io.sent.at(-1)!.pkt.diag === BFD_DIAG.ECHO_FUNCTION_FAILED, 'the peer is told the diag');
  });

  it('no echoIntervalUs: never started; a reload turning it on starts it on an Up session, off stops it; removal stops it', () => {
    rt.apply({ sessions: [spec()] });
    bringUp('b1', {});
    io.rx({ state: UP, yourDiscriminator: discrOf('b1'), requiredMinEchoRxUs: 1000 });
    assert.equal(echo.starts.length, 0);
    assert.equal(rt.status().sessions[0]!.echoState, 'off');
    rt.apply({ sessions: [spec({ echoIntervalUs: 10_000 })] });
    assert.equal(echo.starts.length, 1);
    assert.equal(echo.starts[0]!.intervalUs, 10_000);
    assert.equal(stateOf('b1'), 'Up', 'the session is not bounced');
    rt.apply({ sessions: [spec()] });
    assert.equal(echo.running.size, 0);
    rt.apply({ sessions: [spec({ echoIntervalUs: 10_000 })] });
    assert.equal(echo.running.size, 1);
    rt.apply({ sessions: [] });
    assert.equal(echo.running.size, 0, 'removed: AdminDown, echo stopped');
  });

  it('a multihop session with echo is refused (RFC 5883: no echo)', () => {
    assert.throws(() => rt.apply({ sessions: [spec({ multihop: true, echoIntervalUs: 1000 })] }), /single hop only/);
  });

  it('without an echo I/O (no XDP program) an enabled echo is logged, not run', () => {
    delete io.echo;
    rt.apply({ sessions: [spec({ echoIntervalUs: 1000 })] });
    bringUp('b1', {});
    io.rx({ state: UP, yourDiscriminator: discrOf('b1'), requiredMinEchoRxUs: 1000 });
    assert.ok(io.logs.some((l) => /echo enabled, but this runtime has no echo/.test(l)));
    assert.equal(rt.status().sessions[0]!.echoState, 'unavailable');
  });
});
