/**
 * BfdSession: every transition of RFC 5880's state diagram (§6.2, §6.8.6),
 * every diagnostic the session sets, Poll/Final with timer changes in both
 * directions (§6.8.3), slow start, passive mode, detection time with
 * asymmetric timers, demand mode as keepalived honours it, the echo hooks,
 * AdminDown, reload, and the transmit jitter (§6.8.7) with an injected rng.
 * Driven by a fake clock: each test passes `now` and checks the exact packets
 * and deadlines the machine returns. A simulated link at the end runs two
 * sessions against each other.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BfdSession, restartReasons, type SessionPacket, type BfdEvent, type BfdSessionConfig, type BfdStep } from '../../../src/bfd/fsm.js';
import { detectionTimeUs, jitterFactor, jitteredIntervalMs, slowTxUs, txIntervalUs } from '../../../src/bfd/timers.js';
import { BFD_DIAG, BFD_STATE, type BfdDiag, type BfdState } from '../../../src/bfd/spec.js';
import { XlbError } from '../../../src/errors.js';

const internal = (e: unknown) => e instanceof XlbError && e.code === 'XLB_ERR_INTERNAL';

const { ADMIN_DOWN, DOWN, INIT, UP } = BFD_STATE;
const LOCAL = 0x1111;
const REMOTE = 0x2222;

/** bfd1: min_tx 10 ms, min_rx 10 ms, multiplier 3, active. */
const cfg = (o: Partial<BfdSessionConfig> = {}): BfdSessionConfig => ({
  name: 'bfd1',
  localDiscr: LOCAL,
  desiredMinTxUs: 10_000,
  requiredMinRxUs: 10_000,
  detectMult: 3,
  ...o,
});

/** rng 0: every jittered interval is exactly 75 % of the negotiated one. */
const rng0 = () => 0;

/** A small deterministic PRNG (mulberry32) so the draws are the same on every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const session = (o: Partial<BfdSessionConfig> = {}, rng: () => number = rng0) => new BfdSession(cfg(o), { rng });

/** A packet from the peer: Down, 10 ms / 10 ms x 3 unless told otherwise. */
const peer = (o: Partial<SessionPacket> = {}): SessionPacket => ({
  state: DOWN,
  diag: BFD_DIAG.NONE,
  poll: false,
  final: false,
  demand: false,
  detectMult: 3,
  myDiscriminator: REMOTE,
  yourDiscriminator: 0,
  desiredMinTxUs: 10_000,
  requiredMinRxUs: 10_000,
  requiredMinEchoRxUs: 0,
  ...o,
});
/** A packet from the peer that knows our discriminator. */
const known = (state: BfdState, o: Partial<SessionPacket> = {}): SessionPacket => peer({ state, yourDiscriminator: LOCAL, ...o });

/** What we expect a packet of ours to hold. */
const ours = (o: Partial<SessionPacket> = {}): SessionPacket => ({
  state: DOWN,
  diag: BFD_DIAG.NONE,
  poll: false,
  final: false,
  demand: false,
  detectMult: 3,
  myDiscriminator: LOCAL,
  yourDiscriminator: 0,
  desiredMinTxUs: 1_000_000,
  requiredMinRxUs: 10_000,
  requiredMinEchoRxUs: 0,
  ...o,
});

const states = (s: BfdStep) =>
  s.events.flatMap((e) => (e.kind === 'state' ? [{ from: e.from, to: e.to, diag: e.diag }] : []));
const traces = (s: BfdStep) => s.events.flatMap((e) => (e.kind === 'trace' ? [e.line] : []));
const ofKind = <K extends BfdEvent['kind']>(s: BfdStep, kind: K) => s.events.filter((e): e is Extract<BfdEvent, { kind: K }> => e.kind === kind);

/** Started at 0, Init at 10 (peer Down). */
function initSession(o: Partial<BfdSessionConfig> = {}): BfdSession {
  const s = session(o);
  s.start(0);
  assert.equal(s.onPacket(10, peer()).state, INIT);
  return s;
}

/** Runs the session's timers up to `until`, the peer silent; returns [when, packet] sent. */
function runTimers(s: BfdSession, until: number): Array<[number, SessionPacket]> {
  const out: Array<[number, SessionPacket]> = [];
  for (let t = s.nextAt; t !== undefined && t <= until; t = s.nextAt) {
    for (const p of s.onTimer(t).send) out.push([t, p]);
  }
  return out;
}

/**
 * Runs the session from `from` to `until` with the peer sending Up every
 * 10 ms (at from + 10, from + 20...); with `answer`, the peer's next packet
 * after one of our Polls carries the Final. Returns [when, packet] of our
 * periodic packets.
 */
function drive(s: BfdSession, from: number, until: number, answer = false): Array<[number, SessionPacket]> {
  const out: Array<[number, SessionPacket]> = [];
  let peerAt = from + 10;
  let owe = false;
  for (;;) {
    const t = Math.min(s.nextAt ?? Infinity, peerAt);
    if (t > until) return out;
    if (t === peerAt) {
      s.onPacket(t, known(UP, { final: owe }));
      owe = false;
      peerAt += 10;
    } else {
      for (const p of s.onTimer(t).send) {
        out.push([t, p]);
        if (answer && p.poll) owe = true;
      }
    }
  }
}

/** Started at 0, Init at 10, Up at 20 (peer Init), its periodic packets until 29, the Up poll answered at 30. */
function upSession(o: Partial<BfdSessionConfig> = {}, rng: () => number = rng0): BfdSession {
  const s = session(o, rng);
  s.start(0);
  s.onPacket(10, peer());
  assert.equal(s.onPacket(20, known(INIT)).state, UP);
  runTimers(s, 29);
  s.onPacket(30, known(UP, { final: true }));
  assert.equal(s.snapshot().polling, false);
  return s;
}

describe('timers.ts formulas (RFC 5880 §6.8.3, §6.8.4, §6.8.7)', () => {
  it('the transmit interval is the larger of Desired Min TX and the remote Required Min RX', () => {
    assert.equal(txIntervalUs(10_000, 50_000), 50_000);
    assert.equal(txIntervalUs(50_000, 10_000), 50_000);
    assert.equal(txIntervalUs(10_000, 1), 10_000);
  });

  it('the Detection Time is remote Detect Mult x max(own Required Min RX, remote Desired Min TX)', () => {
    assert.equal(detectionTimeUs(5, 30_000, 100_000), 500_000);
    assert.equal(detectionTimeUs(2, 200_000, 10_000), 400_000);
  });

  it('slow start: at least 1 s, at least idle_tx, a slower min_tx is kept', () => {
    assert.equal(slowTxUs(10_000, 1_000_000), 1_000_000);
    assert.equal(slowTxUs(10_000, 2_000_000), 2_000_000);
    assert.equal(slowTxUs(3_000_000, 2_000_000), 3_000_000);
  });

  it('jitter factor ends: 0.75 at r = 0, just under 1 (0.9 with Detect Mult 1) as r nears 1', () => {
    assert.equal(jitterFactor(3, 0), 0.75);
    assert.equal(jitterFactor(1, 0), 0.75);
    // The largest draw below 1 may round to the bound itself, which the RFC allows (up to 100 %, no more than 90 %).
    const top = 1 - Number.EPSILON;
    assert.ok(jitterFactor(3, top) <= 1 && jitterFactor(3, top) > 0.9999);
    assert.ok(jitterFactor(1, top) <= 0.9 && jitterFactor(1, top) > 0.8999);
    assert.equal(jitterFactor(2, 0.5), 0.875);
    assert.equal(jitterFactor(1, 0.5), 0.825);
  });

  it('an rng outside [0, 1) is refused', () => {
    assert.throws(() => jitterFactor(3, 1), internal);
    assert.throws(() => jitterFactor(3, -0.1), internal);
    assert.throws(() => jitterFactor(3, Number.NaN), internal);
  });

  it('jitteredIntervalMs converts µs to ms', () => {
    assert.equal(jitteredIntervalMs(10_000, 3, rng0), 7.5);
  });
});

describe('start, slow start and passive mode (§6.1, §6.8.3)', () => {
  it('an active session starts in Down and sends at once: Your Discriminator 0, Desired Min TX 1 s', () => {
    const s = session();
    const st = s.start(0);
    assert.equal(st.state, DOWN);
    assert.deepEqual(st.send, [ours()]);
    assert.equal(st.txAt, 750, '75 % of the 1 s slow-start interval with rng 0');
    assert.equal(st.detectAt, undefined, 'nothing to time out before the peer speaks');
    assert.deepEqual(ofKind(st, 'timers'), [{ kind: 'timers', txIntervalUs: 1_000_000, detectTimeUs: undefined }]);
    assert.deepEqual(traces(st), ['bfd1: start in Down (active)']);
  });

  it('keeps sending Down packets every (jittered) slow-start interval while the peer is silent', () => {
    const s = session();
    s.start(0);
    const sent = runTimers(s, 3000);
    assert.deepEqual(
      sent.map(([t]) => t),
      [750, 1500, 2250, 3000],
    );
    for (const [, p] of sent) assert.deepEqual(p, ours());
  });

  it('idle_tx above 1 s is the slow-start interval; a min_tx slower still wins', () => {
    assert.equal(session({ idleTxUs: 2_000_000 }).start(0).send[0]!.desiredMinTxUs, 2_000_000);
    assert.equal(session({ idleTxUs: 2_000_000 }).start(0).txAt, 1500);
    assert.equal(session({ desiredMinTxUs: 3_000_000 }).start(0).send[0]!.desiredMinTxUs, 3_000_000);
  });

  it('slow start holds in Init even when the peer would take packets faster', () => {
    const s = initSession();
    const snap = s.snapshot();
    assert.equal(snap.desiredMinTxUs, 1_000_000);
    assert.equal(snap.txIntervalUs, 1_000_000);
  });

  it('Up: min_tx is advertised and used; back to slow start when the session goes Down', () => {
    const s = upSession();
    assert.equal(s.snapshot().desiredMinTxUs, 10_000);
    assert.equal(s.snapshot().txIntervalUs, 10_000);
    const down = s.onPacket(40, known(DOWN));
    assert.equal(down.state, DOWN);
    assert.equal(down.send[0]!.desiredMinTxUs, 1_000_000);
    assert.equal(s.snapshot().txIntervalUs, 1_000_000, 'not Up: the larger interval applies at once');
    assert.equal(down.txAt, 40 + 750);
  });

  it('a passive session sends nothing until the peer speaks, then answers at once', () => {
    const s = session({ passive: true });
    const st = s.start(0);
    assert.deepEqual(st.send, []);
    assert.equal(st.txAt, undefined);
    assert.deepEqual(s.onTimer(5000).send, []);
    const rx = s.onPacket(5000, peer());
    assert.equal(rx.state, INIT);
    assert.deepEqual(rx.send, [ours({ state: INIT, yourDiscriminator: REMOTE, poll: false })]);
    assert.equal(rx.txAt, 5750);
  });

  it('a passive session goes silent again once the peer is forgotten (a Detection Time in Down)', () => {
    const s = session({ passive: true });
    s.start(0);
    s.onPacket(0, peer({ state: ADMIN_DOWN }));
    assert.equal(s.state, DOWN);
    assert.equal(s.snapshot().remoteDiscr, REMOTE);
    const t = s.snapshot().detectAt!;
    assert.equal(t, 30, '3 x 10 ms');
    const st = s.onTimer(t);
    assert.equal(s.snapshot().remoteDiscr, 0);
    assert.equal(st.txAt, undefined);
    assert.deepEqual(runTimers(s, 10_000), []);
  });

  it('becoming passive by reload before the peer spoke silences the session', () => {
    const s = session();
    s.start(0);
    const st = s.reconfigure(100, cfg({ passive: true }));
    assert.equal(st.txAt, undefined);
    assert.deepEqual(runTimers(s, 5000), []);
  });

  it('start twice throws; a packet before start is discarded', () => {
    const s = session();
    assert.equal(s.onPacket(0, peer()).discarded, 'not-started');
    assert.equal(s.state, DOWN);
    s.start(0);
    assert.throws(() => s.start(1), internal);
  });
});

describe('the state diagram (§6.2, §6.8.6): every local state x every received state', () => {
  const make: Record<string, () => BfdSession> = {
    AdminDown: () => {
      const s = session();
      s.start(0);
      s.adminDown(5);
      return s;
    },
    Down: () => {
      const s = session();
      s.start(0);
      return s;
    },
    Init: () => initSession(),
    Up: () => upSession(),
  };
  const name: Record<BfdState, string> = { 0: 'AdminDown', 1: 'Down', 2: 'Init', 3: 'Up' };
  // [local, received, next state, diag after, discarded]
  const rows: Array<[string, BfdState, BfdState, BfdDiag, boolean]> = [
    ['AdminDown', ADMIN_DOWN, ADMIN_DOWN, BFD_DIAG.ADMINISTRATIVELY_DOWN, true],
    ['AdminDown', DOWN, ADMIN_DOWN, BFD_DIAG.ADMINISTRATIVELY_DOWN, true],
    ['AdminDown', INIT, ADMIN_DOWN, BFD_DIAG.ADMINISTRATIVELY_DOWN, true],
    ['AdminDown', UP, ADMIN_DOWN, BFD_DIAG.ADMINISTRATIVELY_DOWN, true],
    ['Down', ADMIN_DOWN, DOWN, BFD_DIAG.NONE, false],
    ['Down', DOWN, INIT, BFD_DIAG.NONE, false],
    ['Down', INIT, UP, BFD_DIAG.NONE, false],
    ['Down', UP, DOWN, BFD_DIAG.NONE, false],
    ['Init', ADMIN_DOWN, DOWN, BFD_DIAG.NEIGHBOR_SIGNALED_DOWN, false],
    ['Init', DOWN, INIT, BFD_DIAG.NONE, false],
    ['Init', INIT, UP, BFD_DIAG.NONE, false],
    ['Init', UP, UP, BFD_DIAG.NONE, false],
    ['Up', ADMIN_DOWN, DOWN, BFD_DIAG.NEIGHBOR_SIGNALED_DOWN, false],
    ['Up', DOWN, DOWN, BFD_DIAG.NEIGHBOR_SIGNALED_DOWN, false],
    ['Up', INIT, UP, BFD_DIAG.NONE, false],
    ['Up', UP, UP, BFD_DIAG.NONE, false],
  ];
  for (const [local, rx, next, diag, discarded] of rows) {
    it(`${local} + received ${name[rx]} -> ${name[next]}${diag ? ` (diag ${diag})` : ''}${discarded ? ', discarded' : ''}`, () => {
      const s = make[local]!();
      const before = s.state;
      const st = s.onPacket(100, known(rx));
      assert.equal(st.state, next);
      assert.equal(s.snapshot().localDiag, diag);
      assert.equal(st.discarded, discarded ? 'admin-down' : undefined);
      if (next === before) {
        assert.deepEqual(states(st), []);
      } else {
        assert.deepEqual(states(st), [{ from: before, to: next, diag }]);
        // The change is announced at once, and the periodic timer restarts from it.
        assert.equal(st.send.length, 1);
        assert.equal(st.send[0]!.state, next);
        assert.equal(st.send[0]!.diag, diag);
        assert.equal(st.send[0]!.yourDiscriminator, REMOTE);
      }
      if (discarded) assert.deepEqual(st.send, [], 'AdminDown: no answer');
    });
  }

  it('the three-way handshake from Down: Init on Down, Up on Init, with traces', () => {
    const s = session();
    s.start(0);
    const a = s.onPacket(10, peer());
    assert.deepEqual(traces(a), ['bfd1: Down -> Init (neighbor Down; diag 0: none)']);
    const b = s.onPacket(20, known(UP));
    assert.equal(b.state, UP);
    assert.deepEqual(traces(b), ['bfd1: Init -> Up (neighbor Up; diag 0: none)', 'bfd1: poll sequence started']);
  });

  it('entering Up from Down (peer Init) clears the diag', () => {
    const s = upSession();
    s.onTimer(s.snapshot().detectAt!);
    assert.equal(s.state, DOWN);
    const st = s.onPacket(1000, known(INIT));
    assert.equal(st.state, UP);
    assert.deepEqual(states(st), [{ from: DOWN, to: UP, diag: BFD_DIAG.NONE }]);
    assert.equal(st.send[0]!.diag, BFD_DIAG.NONE);
  });

  it('entering Up clears the diag; Init keeps it', () => {
    const s = upSession();
    s.onTimer(s.snapshot().detectAt!);
    assert.equal(s.snapshot().localDiag, BFD_DIAG.CONTROL_DETECTION_TIME_EXPIRED);
    s.onPacket(1000, peer());
    assert.equal(s.state, INIT);
    assert.equal(s.snapshot().localDiag, BFD_DIAG.CONTROL_DETECTION_TIME_EXPIRED);
    s.onPacket(1010, known(UP));
    assert.equal(s.state, UP);
    assert.equal(s.snapshot().localDiag, BFD_DIAG.NONE);
  });

  it('the remote variables are recorded from every packet, even when discarded in AdminDown', () => {
    const s = make.AdminDown!();
    s.onPacket(100, known(UP, { demand: true, requiredMinRxUs: 70_000, desiredMinTxUs: 20_000, detectMult: 4, diag: BFD_DIAG.PATH_DOWN }));
    const snap = s.snapshot();
    assert.equal(snap.remoteDiscr, REMOTE);
    assert.equal(snap.remoteState, UP);
    assert.equal(snap.remoteDemandMode, true);
    assert.equal(snap.remoteMinRxUs, 70_000);
    assert.equal(snap.remoteDesiredMinTxUs, 20_000);
    assert.equal(snap.remoteDetectMult, 4);
    assert.equal(snap.remoteDiag, BFD_DIAG.PATH_DOWN);
    assert.equal(snap.detectAt, undefined, 'a discarded packet does not count for detection');
  });
});

describe('diagnostics', () => {
  it('detection time expiry in Up: Down with diag 1, announced at once in slow start', () => {
    const s = upSession();
    const t = s.snapshot().detectAt!;
    assert.equal(t, 30 + 30, 'last packet at 30 + 3 x max(10, 10) ms');
    assert.deepEqual(s.onTimer(t - 0.001).send.filter((p) => p.state !== UP), []);
    const st = s.onTimer(t);
    assert.equal(st.state, DOWN);
    assert.deepEqual(states(st), [{ from: UP, to: DOWN, diag: BFD_DIAG.CONTROL_DETECTION_TIME_EXPIRED }]);
    const last = st.send.at(-1)!;
    assert.equal(last.state, DOWN);
    assert.equal(last.diag, BFD_DIAG.CONTROL_DETECTION_TIME_EXPIRED);
    assert.equal(last.yourDiscriminator, 0, 'the peer is forgotten after a Detection Time (§6.8.1)');
    assert.equal(last.desiredMinTxUs, 1_000_000);
    assert.equal(st.detectAt, undefined);
    assert.equal(s.snapshot().remoteMinRxUs, 1, 'bfd.RemoteMinRxInterval back to its initial 1 µs (§6.8.18)');
    assert.equal(s.snapshot().detectTimeUs, undefined);
    assert.deepEqual(ofKind(st, 'timers'), [{ kind: 'timers', txIntervalUs: 1_000_000, detectTimeUs: undefined }]);
  });

  it('detection time expiry in Init: Down with diag 1', () => {
    const s = initSession();
    const t = s.snapshot().detectAt!;
    assert.equal(t, 10 + 30);
    const st = s.onTimer(t);
    assert.deepEqual(states(st), [{ from: INIT, to: DOWN, diag: BFD_DIAG.CONTROL_DETECTION_TIME_EXPIRED }]);
  });

  it('detection time expiry in Down changes no state, forgets the peer', () => {
    const s = session();
    s.start(0);
    s.onPacket(10, peer({ state: ADMIN_DOWN }));
    const st = s.onTimer(40);
    assert.equal(st.state, DOWN);
    assert.deepEqual(states(st), []);
    assert.equal(s.snapshot().remoteDiscr, 0);
    assert.equal(s.snapshot().localDiag, BFD_DIAG.NONE);
    assert.deepEqual(traces(st), ['bfd1: no packet for the detection time (30000 µs): peer forgotten']);
  });

  it('every packet restarts the Detection Time', () => {
    const s = upSession();
    for (let t = 50; t <= 500; t += 20) assert.equal(s.onPacket(t, known(UP)).detectAt, t + 30);
    assert.equal(s.state, UP);
  });

  it('neighbor signalled down (diag 3): Up + Down and Up + AdminDown', () => {
    for (const rx of [DOWN, ADMIN_DOWN] as const) {
      const s = upSession();
      const st = s.onPacket(40, known(rx));
      assert.deepEqual(states(st), [{ from: UP, to: DOWN, diag: BFD_DIAG.NEIGHBOR_SIGNALED_DOWN }]);
      assert.equal(st.send[0]!.diag, BFD_DIAG.NEIGHBOR_SIGNALED_DOWN);
    }
  });

  it('echo function failed (diag 2): Up -> Down; not in Init', () => {
    const s = upSession();
    const st = s.echoFailed(40);
    assert.deepEqual(states(st), [{ from: UP, to: DOWN, diag: BFD_DIAG.ECHO_FUNCTION_FAILED }]);
    assert.equal(st.send[0]!.diag, BFD_DIAG.ECHO_FUNCTION_FAILED);
    const i = initSession();
    assert.deepEqual(i.echoFailed(40).events, []);
    assert.equal(i.state, INIT);
  });

  it('admin down (diag 7 by default, 5 for path down); admin up -> Down', () => {
    const s = upSession();
    const st = s.adminDown(40);
    assert.deepEqual(states(st), [{ from: UP, to: ADMIN_DOWN, diag: BFD_DIAG.ADMINISTRATIVELY_DOWN }]);
    assert.deepEqual(st.send, [ours({ state: ADMIN_DOWN, diag: BFD_DIAG.ADMINISTRATIVELY_DOWN, yourDiscriminator: REMOTE })]);
    assert.equal(st.detectAt, undefined);
    const up = s.adminUp(2000);
    assert.deepEqual(states(up), [{ from: ADMIN_DOWN, to: DOWN, diag: BFD_DIAG.ADMINISTRATIVELY_DOWN }]);
    assert.equal(up.send[0]!.state, DOWN);

    const p = upSession();
    assert.equal(p.adminDown(40, BFD_DIAG.PATH_DOWN).send[0]!.diag, BFD_DIAG.PATH_DOWN);
    assert.throws(() => p.adminDown(50, 1 as typeof BFD_DIAG.PATH_DOWN), internal);
  });

  it('admin down twice and admin up when not AdminDown are no-ops', () => {
    const s = upSession();
    s.adminDown(40);
    assert.deepEqual(s.adminDown(50).send, []);
    const u = upSession();
    assert.deepEqual(u.adminUp(40).events, []);
    assert.equal(u.state, UP);
  });

  it('AdminDown packets go out for one Detection Time as the peer computes it, then stop', () => {
    const s = upSession();
    s.adminDown(40);
    // Slow start again (not Up): 1 s interval, 3 x 1 s of AdminDown packets from 40.
    const sent = runTimers(s, 60_000);
    assert.deepEqual(
      sent.map(([t]) => t),
      [790, 1540, 2290],
    );
    for (const [, p] of sent) assert.equal(p.state, ADMIN_DOWN);
    assert.equal(s.nextAt, undefined, 'silent: the runtime may delete the session');
  });

  it('concatenated path down (6, 8) while Up keeps the session Up; cleared with 0; ignored when not Up', () => {
    const s = upSession();
    const st = s.setConcatenatedPathDiag(40, BFD_DIAG.CONCATENATED_PATH_DOWN);
    assert.equal(st.state, UP);
    assert.deepEqual(states(st), []);
    assert.equal(runTimers(s, 50)[0]![1].diag, BFD_DIAG.CONCATENATED_PATH_DOWN);
    s.setConcatenatedPathDiag(60, BFD_DIAG.REVERSE_CONCATENATED_PATH_DOWN);
    assert.equal(s.snapshot().localDiag, BFD_DIAG.REVERSE_CONCATENATED_PATH_DOWN);
    s.setConcatenatedPathDiag(60, BFD_DIAG.NONE);
    assert.equal(s.snapshot().localDiag, BFD_DIAG.NONE);
    const i = initSession();
    i.setConcatenatedPathDiag(40, BFD_DIAG.CONCATENATED_PATH_DOWN);
    assert.equal(i.snapshot().localDiag, BFD_DIAG.NONE);
    assert.throws(() => s.setConcatenatedPathDiag(70, BFD_DIAG.PATH_DOWN as typeof BFD_DIAG.NONE), internal);
  });

  it('a session failure overwrites the concatenated path diag (§6.8.17)', () => {
    const s = upSession();
    s.setConcatenatedPathDiag(40, BFD_DIAG.CONCATENATED_PATH_DOWN);
    s.onPacket(41, known(DOWN));
    assert.equal(s.snapshot().localDiag, BFD_DIAG.NEIGHBOR_SIGNALED_DOWN);
  });
});

describe('Poll and Final (§6.5, §6.8.3, §6.8.6)', () => {
  it('a received Poll is answered at once with Final (P clear), outside the periodic schedule', () => {
    const s = upSession();
    const before = s.snapshot().txAt;
    const st = s.onPacket(35, known(UP, { poll: true }));
    assert.deepEqual(st.send, [ours({ state: UP, yourDiscriminator: REMOTE, desiredMinTxUs: 10_000, final: true })]);
    assert.equal(st.txAt, before, 'the periodic timer is not moved by a Final');
  });

  it('a Poll in Down or Init is answered too, with the new state when it changed', () => {
    const s = session();
    s.start(0);
    const st = s.onPacket(10, peer({ poll: true }));
    assert.deepEqual(st.send, [ours({ state: INIT, yourDiscriminator: REMOTE, final: true })]);
    assert.equal(st.txAt, 10 + 750, 'it announced the change: the periodic timer restarts from it');
  });

  it('becoming Up starts a Poll Sequence (Desired Min TX leaves slow start); the Final ends it', () => {
    const s = initSession();
    const up = s.onPacket(20, known(UP));
    assert.equal(up.send.length, 1);
    assert.equal(up.send[0]!.poll, true);
    assert.equal(up.send[0]!.desiredMinTxUs, 10_000);
    assert.equal(up.txAt, 20 + 7.5, 'a smaller interval applies at once');
    const p2 = s.onTimer(27.5).send;
    assert.equal(p2[0]!.poll, true, 'every periodic packet polls until the Final');
    const fin = s.onPacket(30, known(UP, { final: true }));
    assert.deepEqual(fin.send, []);
    assert.deepEqual(traces(fin), ['bfd1: poll sequence done (final received)']);
    assert.equal(s.onTimer(35).send[0]!.poll, false);
  });

  it('a Final before any Poll with the current values went out does not end the sequence', () => {
    const s = upSession();
    s.reconfigure(40, cfg({ desiredMinTxUs: 50_000 }));
    s.onPacket(41, known(UP, { final: true }));
    assert.equal(s.snapshot().polling, true);
    assert.equal(s.snapshot().effectiveMinTxUs, 10_000);
  });

  it('no packet carries both Poll and Final', () => {
    const s = upSession();
    s.reconfigure(40, cfg({ desiredMinTxUs: 50_000 }));
    const st = s.onPacket(41, known(UP, { poll: true }));
    assert.deepEqual(
      st.send.map((p) => [p.poll, p.final]),
      [[false, true]],
    );
    assert.equal(s.onTimer(s.snapshot().txAt!).send[0]!.poll, true, 'the own poll goes on in the periodic packets');
  });
});

describe('timer changes and reload (§6.8.2, §6.8.3)', () => {
  it('larger min_tx while Up: advertised at once with Poll, used only after the Final', () => {
    const s = upSession();
    drive(s, 30, 40);
    const r = s.reconfigure(40, cfg({ desiredMinTxUs: 100_000 }));
    assert.equal(r.state, UP);
    assert.equal(s.snapshot().desiredMinTxUs, 100_000);
    assert.equal(s.snapshot().effectiveMinTxUs, 10_000);
    // The periodic packets keep the old 10 ms (x 0.75) spacing and poll with the new value.
    const sent = drive(s, 40, 80);
    assert.equal(sent.length, 6);
    for (let i = 1; i < sent.length; i++) assert.equal(sent[i]![0] - sent[i - 1]![0], 7.5);
    for (const [, p] of sent) assert.deepEqual([p.poll, p.desiredMinTxUs], [true, 100_000]);
    // The Final: from the packet after the one already armed, 100 ms x 0.75.
    const last = sent.at(-1)![0];
    s.onPacket(81, known(UP, { final: true }));
    assert.equal(s.snapshot().effectiveMinTxUs, 100_000);
    const next = s.snapshot().txAt!;
    assert.equal(next, last + 7.5, 'the packet already armed goes at its time');
    const after = drive(s, 81, 200);
    assert.deepEqual(
      after.map(([t, p]) => [t, p.poll]),
      [
        [next, false],
        [next + 75, false],
      ],
    );
  });

  it('smaller min_tx while Up applies at once: the next packet within one new interval of the last', () => {
    const s = upSession({ desiredMinTxUs: 100_000 });
    const a = s.snapshot().txAt!;
    assert.equal(a, 20 + 75);
    drive(s, 30, a);
    assert.equal(s.snapshot().txAt, a + 75);
    s.reconfigure(a + 1, cfg({ desiredMinTxUs: 20_000 }));
    assert.equal(s.snapshot().effectiveMinTxUs, 20_000);
    assert.equal(s.snapshot().txAt, a + 15);
  });

  it('smaller min_rx while Up: advertised at once, the Detection Time keeps the old value until the Final', () => {
    // Peer sends every 10 ms; our min_rx 50 ms decides: 3 x 50 ms.
    const s = upSession({ requiredMinRxUs: 50_000 });
    assert.equal(s.onPacket(40, known(UP)).detectAt, 40 + 150);
    s.reconfigure(45, cfg({ requiredMinRxUs: 20_000 }));
    assert.equal(s.snapshot().requiredMinRxUs, 20_000);
    assert.equal(s.snapshot().effectiveMinRxUs, 50_000);
    assert.equal(s.onPacket(50, known(UP)).detectAt, 50 + 150, 'still 3 x 50 ms before the Final');
    s.onTimer(s.snapshot().txAt!); // a Poll with the new value goes out
    const fin = s.onPacket(60, known(UP, { final: true }));
    assert.equal(fin.detectAt, 60 + 60, '3 x 20 ms after the Final');
  });

  it('larger min_rx while Up: the Detection Time grows at once', () => {
    const s = upSession();
    s.onPacket(40, known(UP));
    const r = s.reconfigure(45, cfg({ requiredMinRxUs: 100_000 }));
    assert.equal(r.detectAt, 40 + 300);
    assert.equal(s.snapshot().polling, true);
  });

  it('a changed multiplier is advertised with a Poll Sequence; its jitter rule applies', () => {
    const s = upSession();
    s.reconfigure(40, cfg({ detectMult: 1 }));
    assert.equal(s.snapshot().polling, true);
    const p = s.onTimer(s.snapshot().txAt!).send[0]!;
    assert.deepEqual([p.poll, p.detectMult], [true, 1]);
  });

  it('a reload that changes nothing starts no Poll Sequence', () => {
    const s = upSession();
    s.reconfigure(40, cfg());
    assert.equal(s.snapshot().polling, false);
  });

  it('timer changes while not Up apply at once (the held-back rules are for Up only)', () => {
    const s = initSession();
    s.reconfigure(20, cfg({ idleTxUs: 3_000_000, requiredMinRxUs: 1000 }));
    assert.equal(s.snapshot().effectiveMinTxUs, 3_000_000);
    assert.equal(s.snapshot().effectiveMinRxUs, 1000);
  });

  it('a reload of min_tx while Up keeps the session Up through the Poll Sequence (peer answering)', () => {
    const s = upSession();
    let now = 40;
    s.reconfigure(now, cfg({ desiredMinTxUs: 30_000 }));
    const log: string[] = [];
    // The peer sends every 10 ms, answers every Poll with a Final 1 ms later.
    while (now < 1000) {
      now += 10;
      for (let t = s.nextAt; t !== undefined && t <= now; t = s.nextAt) {
        const st = s.onTimer(t);
        for (const e of states(st)) log.push(`${t} ${e.to}`);
        if (st.send.some((p) => p.poll)) s.onPacket(t + 1, known(UP, { final: true }));
      }
      for (const e of states(s.onPacket(now, known(UP)))) log.push(`${now} ${e.to}`);
    }
    assert.deepEqual(log, []);
    assert.equal(s.state, UP);
    assert.equal(s.snapshot().polling, false);
    assert.equal(s.snapshot().effectiveMinTxUs, 30_000);
  });

  it('a new local discriminator needs a restart', () => {
    assert.deepEqual(restartReasons(cfg(), cfg({ desiredMinTxUs: 1 })), []);
    assert.deepEqual(restartReasons(cfg(), cfg({ localDiscr: 7 })), [`local discriminator ${LOCAL} -> 7`]);
    assert.throws(() => upSession().reconfigure(40, cfg({ localDiscr: 7 })), internal);
  });

  it('reconfigure before start only records the values', () => {
    const s = session();
    const r = s.reconfigure(0, cfg({ idleTxUs: 2_000_000 }));
    assert.deepEqual(r.send, []);
    assert.equal(s.start(0).send[0]!.desiredMinTxUs, 2_000_000);
    assert.equal(s.snapshot().polling, false);
  });

  it('out-of-range configs are refused', () => {
    for (const bad of [
      { localDiscr: 0 },
      { localDiscr: 2 ** 32 },
      { desiredMinTxUs: 0 },
      { requiredMinRxUs: -1 },
      { idleTxUs: 999_999 },
      { detectMult: 0 },
      { detectMult: 256 },
      { detectMult: 1.5 },
    ]) {
      assert.throws(() => session(bad), internal, JSON.stringify(bad));
    }
  });
});

describe('the negotiated intervals (§6.8.4, §6.8.7)', () => {
  it('the transmit interval follows the peer Required Min RX when it is larger', () => {
    const s = upSession();
    s.onPacket(40, known(UP, { requiredMinRxUs: 50_000 }));
    assert.equal(s.snapshot().txIntervalUs, 50_000);
    const a = s.snapshot().txAt!;
    s.onTimer(a);
    assert.equal(s.snapshot().txAt, a + 37.5);
  });

  it('a smaller peer Required Min RX is honoured at once, and a passed interval sends as soon as possible', () => {
    const s = upSession();
    s.onPacket(40, known(UP, { requiredMinRxUs: 1_000_000 }));
    const a = s.snapshot().txAt!;
    s.onTimer(a);
    assert.equal(s.snapshot().txAt, a + 750);
    // 20 ms later the peer drops to 10 ms: 7.5 ms after the last packet has passed: now.
    const st = s.onPacket(a + 20, known(UP, { requiredMinRxUs: 10_000 }));
    assert.equal(st.txAt, a + 20);
    // 1 ms after the packet: within 7.5 ms of it.
    const s2 = upSession();
    s2.onPacket(40, known(UP, { requiredMinRxUs: 1_000_000 }));
    const b = s2.snapshot().txAt!;
    s2.onTimer(b);
    assert.equal(s2.onPacket(b + 1, known(UP, { requiredMinRxUs: 10_000 })).txAt, b + 7.5);
  });

  it('a peer Required Min RX of 0 stops periodic packets; Polls are still answered', () => {
    const s = upSession();
    const st = s.onPacket(40, known(UP, { requiredMinRxUs: 0 }));
    assert.equal(st.txAt, undefined);
    assert.equal(s.onPacket(50, known(UP, { requiredMinRxUs: 0, poll: true })).send[0]!.final, true);
  });

  it('Detection Time with asymmetric timers: remote mult x max(own min_rx, remote min_tx)', () => {
    const a = upSession({ requiredMinRxUs: 30_000 });
    assert.equal(a.onPacket(100, known(UP, { detectMult: 5, desiredMinTxUs: 100_000 })).detectAt, 100 + 500);
    assert.equal(a.snapshot().detectTimeUs, 500_000);
    const b = upSession({ requiredMinRxUs: 200_000, detectMult: 7 });
    assert.equal(b.onPacket(100, known(UP, { detectMult: 2, desiredMinTxUs: 10_000 })).detectAt, 100 + 400, 'the own multiplier does not count');
  });

  it('timers events report the negotiated values when they change', () => {
    const s = upSession();
    const st = s.onPacket(40, known(UP, { requiredMinRxUs: 20_000, detectMult: 5 }));
    assert.deepEqual(ofKind(st, 'timers'), [{ kind: 'timers', txIntervalUs: 20_000, detectTimeUs: 50_000 }]);
    assert.deepEqual(ofKind(s.onPacket(50, known(UP, { requiredMinRxUs: 20_000, detectMult: 5 })), 'timers'), []);
  });
});

describe('transmit jitter (§6.8.7)', () => {
  function spacings(mult: number, n: number): number[] {
    const s = upSession({ detectMult: mult }, mulberry32(42));
    const out: number[] = [];
    let last = s.snapshot().txAt!;
    s.onTimer(last);
    for (let i = 0; i < n; i++) {
      const t = s.snapshot().txAt!;
      // Keep the session Up: the peer speaks before each packet.
      s.onPacket(t, known(UP));
      s.onTimer(t);
      out.push((t - last) / 10); // fraction of the 10 ms interval
      last = t;
    }
    return out;
  }

  it('75-100 % of the interval over 5,000 packets, using the whole range', () => {
    const f = spacings(3, 5000);
    const min = Math.min(...f);
    const max = Math.max(...f);
    assert.ok(min >= 0.75 - 1e-9, `min ${min}`);
    assert.ok(max < 1, `max ${max}`);
    assert.ok(min < 0.76 && max > 0.99, `range ${min}..${max} should span the allowed band`);
    const mean = f.reduce((a, b) => a + b, 0) / f.length;
    assert.ok(Math.abs(mean - 0.875) < 0.01, `mean ${mean}: about 12.5 % below the interval`);
  });

  it('75-90 % with Detect Mult 1 over 5,000 packets, using the whole range', () => {
    const f = spacings(1, 5000);
    const min = Math.min(...f);
    const max = Math.max(...f);
    assert.ok(min >= 0.75 - 1e-9, `min ${min}`);
    assert.ok(max < 0.9, `max ${max}`);
    assert.ok(min < 0.76 && max > 0.89, `range ${min}..${max} should span the allowed band`);
  });

  it('an rng that leaves [0, 1) is refused', () => {
    const s = session({}, () => 1);
    assert.throws(() => s.start(0), internal);
  });
});

describe('demand mode (keepalived: not initiated, a remote request honoured)', () => {
  it('our packets never set D', () => {
    const s = upSession();
    for (const [, p] of runTimers(s, 100)) assert.equal(p.demand, false);
  });

  it('periodic packets stop while both are Up and the peer sets D; Polls answered; detection goes on', () => {
    const s = upSession();
    const st = s.onPacket(40, known(UP, { demand: true }));
    assert.equal(st.txAt, undefined);
    assert.equal(st.detectAt, 70);
    assert.equal(s.onPacket(50, known(UP, { demand: true, poll: true })).send[0]!.final, true);
    // D cleared: periodic packets resume at once (more than an interval has passed).
    assert.equal(s.onPacket(100, known(UP)).txAt, 100);
  });

  it('a peer D bit while not both Up changes nothing', () => {
    const s = initSession();
    const st = s.onPacket(20, peer({ demand: true }));
    assert.notEqual(st.txAt, undefined);
  });

  it('a Poll Sequence under remote demand sends its Polls periodically until the Final, then stops', () => {
    const s = upSession();
    s.onPacket(40, known(UP, { demand: true }));
    const r = s.reconfigure(50, cfg({ desiredMinTxUs: 20_000 }));
    assert.equal(r.txAt, 50);
    assert.equal(s.onTimer(50).send[0]!.poll, true);
    assert.equal(s.onPacket(52, known(UP, { demand: true, final: true })).txAt, undefined);
  });

  it('a concatenated path diag under remote demand is carried by a Poll Sequence (§6.8.17)', () => {
    const s = upSession();
    s.onPacket(40, known(UP, { demand: true }));
    const st = s.setConcatenatedPathDiag(45, BFD_DIAG.CONCATENATED_PATH_DOWN);
    assert.equal(st.txAt, 45);
    const p = s.onTimer(45).send[0]!;
    assert.deepEqual([p.poll, p.diag], [true, BFD_DIAG.CONCATENATED_PATH_DOWN]);
  });
});

describe('echo hooks', () => {
  it('the own Required Min Echo RX is what the runtime sets, sent in a Poll (FRR applies it only on a Final)', () => {
    const s = upSession();
    s.setRequiredMinEchoRx(40, 50_000);
    assert.equal(s.snapshot().polling, true);
    const at = s.snapshot().txAt!;
    const p = s.onTimer(at).send[0]!;
    assert.deepEqual([p.poll, p.requiredMinEchoRxUs], [true, 50_000]);
    s.onPacket(at + 1, known(UP, { final: true }));
    assert.equal(s.snapshot().polling, false, 'the Final ends it');
    assert.equal(s.setRequiredMinEchoRx(at + 2, 50_000).send.length, 0, 'the same value: nothing');
    assert.equal(s.snapshot().polling, false);
    s.setRequiredMinEchoRx(at + 3, 0);
    assert.equal(s.snapshot().polling, true, 'turned off: a Poll again');
    assert.throws(() => s.setRequiredMinEchoRx(at + 4, -1), internal);
  });

  it('set before start, it is in the first packet', () => {
    const s = session();
    s.setRequiredMinEchoRx(0, 1000);
    assert.equal(s.start(0).send[0]!.requiredMinEchoRxUs, 1000);
  });

  it('echo events: the peer interval once Up, 0 when the peer withdraws it or the session leaves Up', () => {
    const s = initSession();
    assert.deepEqual(ofKind(s.onPacket(15, peer({ requiredMinEchoRxUs: 1000 })), 'echo'), [], 'not Up: no echo');
    assert.equal(s.remoteMinEchoRxUs, 1000);
    assert.deepEqual(ofKind(s.onPacket(20, known(UP, { requiredMinEchoRxUs: 1000 })), 'echo'), [{ kind: 'echo', minTxUs: 1000 }]);
    assert.deepEqual(ofKind(s.onPacket(30, known(UP, { requiredMinEchoRxUs: 2000 })), 'echo'), [{ kind: 'echo', minTxUs: 2000 }]);
    assert.deepEqual(ofKind(s.onPacket(40, known(UP, { requiredMinEchoRxUs: 0 })), 'echo'), [{ kind: 'echo', minTxUs: 0 }]);
    s.onPacket(50, known(UP, { requiredMinEchoRxUs: 1000 }));
    assert.deepEqual(ofKind(s.onPacket(60, known(DOWN, { requiredMinEchoRxUs: 1000 })), 'echo'), [{ kind: 'echo', minTxUs: 0 }]);
  });
});

describe('discards', () => {
  it('Your Discriminator not ours, zero while the peer says Init/Up, and malformed fields', () => {
    const s = upSession();
    assert.equal(s.onPacket(40, known(UP, { yourDiscriminator: 99 })).discarded, 'your-discr-mismatch');
    assert.equal(s.onPacket(40, peer({ state: UP })).discarded, 'your-discr-zero');
    assert.equal(s.onPacket(40, peer({ state: INIT })).discarded, 'your-discr-zero');
    for (const bad of [{ detectMult: 0 }, { myDiscriminator: 0 }, { poll: true, final: true }, { desiredMinTxUs: 2 ** 32 }, { state: 7 as BfdState }]) {
      assert.equal(s.onPacket(40, known(UP, bad)).discarded, 'invalid', JSON.stringify(bad));
    }
    assert.equal(s.state, UP);
    assert.equal(s.snapshot().detectAt, 60, 'no discarded packet restarted the Detection Time');
  });
});

describe('two sessions on a simulated link', () => {
  /** Two sessions joined by a link with a one-way delay; either side can be cut. */
  class Link {
    now = 0;
    readonly log: string[] = [];
    readonly cut = { a: false, b: false };
    readonly #q: Array<{ at: number; to: 'a' | 'b'; pkt: SessionPacket }> = [];
    constructor(
      readonly a: BfdSession,
      readonly b: BfdSession,
      readonly delay = 0.2,
    ) {}
    apply(side: 'a' | 'b', st: BfdStep): void {
      for (const e of states(st)) this.log.push(`${this.now} ${side} ${['AdminDown', 'Down', 'Init', 'Up'][e.to]}`);
      if (this.cut[side]) return;
      for (const pkt of st.send) this.#q.push({ at: this.now + this.delay, to: side === 'a' ? 'b' : 'a', pkt });
    }
    run(until: number): void {
      for (;;) {
        const ta = this.a.nextAt ?? Infinity;
        const tb = this.b.nextAt ?? Infinity;
        const tq = this.#q.reduce((m, e) => Math.min(m, e.at), Infinity);
        const t = Math.min(ta, tb, tq);
        if (t > until) break;
        this.now = t;
        const i = this.#q.findIndex((e) => e.at === t);
        if (t === tq && i >= 0) {
          const [e] = this.#q.splice(i, 1);
          const s = e!.to === 'a' ? this.a : this.b;
          this.apply(e!.to, s.onPacket(t, e!.pkt));
        } else if (t === ta) this.apply('a', this.a.onTimer(t));
        else this.apply('b', this.b.onTimer(t));
      }
      this.now = until;
    }
  }

  const pair = (ao: Partial<BfdSessionConfig> = {}, bo: Partial<BfdSessionConfig> = {}) => {
    const a = new BfdSession(cfg({ name: 'a', localDiscr: 1, ...ao }), { rng: mulberry32(1) });
    const b = new BfdSession(cfg({ name: 'b', localDiscr: 2, ...bo }), { rng: mulberry32(2) });
    return new Link(a, b);
  };

  it('two active sessions come Up, and stay Up for 10 s', () => {
    const l = pair();
    l.apply('a', l.a.start(0));
    l.apply('b', l.b.start(0));
    l.run(10_000);
    assert.equal(l.a.state, UP);
    assert.equal(l.b.state, UP);
    assert.equal(l.log.filter((x) => x.endsWith('Down')).length, 0, l.log.join('\n'));
  });

  it('active + passive come Up; passive + passive never speak', () => {
    const l = pair({}, { passive: true });
    l.apply('a', l.a.start(0));
    l.apply('b', l.b.start(0));
    l.run(5000);
    assert.deepEqual([l.a.state, l.b.state], [UP, UP]);
    const q = pair({ passive: true }, { passive: true });
    q.apply('a', q.a.start(0));
    q.apply('b', q.b.start(0));
    q.run(5000);
    assert.deepEqual([q.a.state, q.b.state, q.a.nextAt, q.b.nextAt], [DOWN, DOWN, undefined, undefined]);
  });

  it('a peer that stops sending is detected within the Detection Time (10 ms x 3)', () => {
    const l = pair();
    l.apply('a', l.a.start(0));
    l.apply('b', l.b.start(0));
    l.run(5000);
    const before = l.log.length;
    l.cut.b = true;
    l.run(6000);
    const after = l.log.slice(before);
    assert.equal(after[0]?.split(' ').slice(1).join(' '), 'a Down', after.join('\n'));
    const t = Number(after[0]!.split(' ')[0]);
    // b's last packet left before 5000 and arrived 0.2 ms later; a gives up 30 ms after it.
    assert.ok(t > 5000 && t <= 5000 + 30 + 0.2, `detected at ${t}`);
    assert.equal(l.a.snapshot().localDiag, BFD_DIAG.CONTROL_DETECTION_TIME_EXPIRED);
  });

  it('reloads of min_tx, min_rx and multiplier in both directions keep both sides Up', () => {
    const l = pair();
    l.apply('a', l.a.start(0));
    l.apply('b', l.b.start(0));
    l.run(5000);
    const before = l.log.length;
    const steps: Array<Partial<BfdSessionConfig>> = [
      { desiredMinTxUs: 300_000 },
      { desiredMinTxUs: 5_000, requiredMinRxUs: 300_000 },
      { requiredMinRxUs: 5_000, detectMult: 1 },
      { detectMult: 5, desiredMinTxUs: 50_000 },
    ];
    let t = 5000;
    for (const o of steps) {
      l.apply('a', l.a.reconfigure(t, cfg({ name: 'a', localDiscr: 1, ...o })));
      t += 2000;
      l.run(t);
    }
    assert.deepEqual(l.log.slice(before), []);
    assert.deepEqual([l.a.state, l.b.state], [UP, UP]);
    assert.equal(l.a.snapshot().polling, false);
    assert.equal(l.b.snapshot().detectTimeUs, 5 * 50_000);
  });

  it('admin down on one side takes the other Down with diag 3; admin up brings both back Up', () => {
    const l = pair();
    l.apply('a', l.a.start(0));
    l.apply('b', l.b.start(0));
    l.run(5000);
    l.apply('a', l.a.adminDown(5000));
    l.run(10_000);
    assert.equal(l.b.state, DOWN);
    assert.equal(l.b.snapshot().localDiag, BFD_DIAG.NEIGHBOR_SIGNALED_DOWN);
    assert.equal(l.a.nextAt, undefined, 'a is silent after its AdminDown packets');
    l.apply('a', l.a.adminUp(10_000));
    l.run(15_000);
    assert.deepEqual([l.a.state, l.b.state], [UP, UP]);
  });
});
