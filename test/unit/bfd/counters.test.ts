/**
 * BfdCounterCarry: the counts of a crashed BFD worker are added to every
 * status of the worker that replaces it, per session name, so the
 * Prometheus counters of /metrics never go back; sessions a reload removes
 * are forgotten; draining sessions are neither carried nor added to.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BfdCounterCarry } from '../../../src/bfd/counters.js';
import type { BfdRuntimeStatus, BfdSessionStatus } from '../../../src/bfd/runtime.js';

/** A session status with these counters (the rest is not looked at). */
function session(name: string, n: Partial<Pick<BfdSessionStatus, 'packetsIn' | 'packetsOut' | 'sendErrors' | 'stateChanges' | 'drops' | 'draining'>> = {}): BfdSessionStatus {
  return {
    name,
    peer: '192.0.2.2',
    local: '192.0.2.1',
    family: 4,
    multihop: false,
    sourcePort: 49152,
    state: 'Up',
    diag: 'none',
    remoteState: 'Up',
    remoteDiag: 'none',
    localDiscr: 1,
    remoteDiscr: 2,
    txIntervalUs: 10_000,
    detectTimeUs: 30_000,
    desiredMinTxUs: 10_000,
    requiredMinRxUs: 10_000,
    detectMult: 3,
    remoteDesiredMinTxUs: 10_000,
    remoteMinRxUs: 10_000,
    remoteDetectMult: 3,
    requiredMinEchoRxUs: 0,
    remoteMinEchoRxUs: 0,
    echoState: 'off',
    echoIntervalUs: 0,
    echoSent: 0,
    echoReturned: 0,
    echoFailures: 0,
    echoLate: 0,
    polling: false,
    inStateMs: 1,
    draining: n.draining ?? false,
    packetsIn: n.packetsIn ?? 0,
    packetsOut: n.packetsOut ?? 0,
    sendErrors: n.sendErrors ?? 0,
    stateChanges: n.stateChanges ?? 0,
    drops: n.drops ?? {},
  };
}

function status(sessions: BfdSessionStatus[], drops: BfdRuntimeStatus['drops'] = {}, received = 0): BfdRuntimeStatus {
  return { sessions, drops, received, timer: { lateMaxMs: 0, lateOver1ms: 0, fired: 0 } };
}

/** The counters of a status, per session. */
const counts = (st: BfdRuntimeStatus | undefined): unknown =>
  st && {
    sessions: st.sessions.map((s) => [s.name, s.packetsIn, s.packetsOut, s.sendErrors, s.stateChanges, s.drops]),
    drops: st.drops,
    received: st.received,
  };

describe('BfdCounterCarry', () => {
  it('before any crash: the status as it is', () => {
    const c = new BfdCounterCarry();
    const st = status([session('a', { packetsIn: 5, drops: { auth_digest: 1 } })], { auth_digest: 1 }, 6);
    assert.deepEqual(c.apply(st), st);
    assert.equal(c.apply(undefined), undefined);
  });

  it("a crashed worker's counts are added to the next worker's, which starts from zero: nothing goes back", () => {
    const c = new BfdCounterCarry();
    const before = status([session('a', { packetsIn: 100, packetsOut: 120, sendErrors: 1, stateChanges: 3, drops: { auth_digest: 2 } }), session('b', { packetsOut: 7 })], { auth_digest: 2, no_session: 4 }, 106);
    assert.deepEqual(counts(c.apply(before)), counts(before));
    c.absorb(before);
    // the new worker: sessions Down, counting from zero
    const fresh = status([session('a', { packetsOut: 1, stateChanges: 1 }), session('b')], {}, 0);
    assert.deepEqual(counts(c.apply(fresh)), {
      sessions: [
        ['a', 100, 121, 1, 4, { auth_digest: 2 }],
        ['b', 0, 7, 0, 0, {}],
      ],
      drops: { auth_digest: 2, no_session: 4 },
      received: 106,
    });
    // a second crash adds again
    const later = status([session('a', { packetsIn: 10, packetsOut: 11, stateChanges: 2, drops: { auth_digest: 1, bad_ttl: 1 } }), session('b', { packetsOut: 3 })], { auth_digest: 1, bad_ttl: 1 }, 12);
    c.absorb(later);
    assert.deepEqual(counts(c.apply(status([session('a'), session('b')]))), {
      sessions: [
        ['a', 110, 131, 1, 5, { auth_digest: 3, bad_ttl: 1 }],
        ['b', 0, 10, 0, 0, {}],
      ],
      drops: { auth_digest: 3, no_session: 4, bad_ttl: 1 },
      received: 118,
    });
    assert.equal(fresh.sessions[0]!.packetsOut, 1, 'the status given is left alone');
  });

  it('a session a reload removed is forgotten: added again, it starts from zero', () => {
    const c = new BfdCounterCarry();
    c.absorb(status([session('a', { packetsIn: 9 }), session('b', { packetsIn: 4 })]));
    c.retain(new Set(['b']));
    const st = c.apply(status([session('a'), session('b')]));
    assert.deepEqual(
      st?.sessions.map((s) => [s.name, s.packetsIn]),
      [
        ['a', 0],
        ['b', 4],
      ],
    );
  });

  it('draining sessions (removed, saying AdminDown) are neither carried nor added to', () => {
    const c = new BfdCounterCarry();
    c.absorb(status([session('a', { packetsIn: 9, draining: true })]));
    assert.deepEqual(c.apply(status([session('a')]))?.sessions.map((s) => s.packetsIn), [0]);
    c.absorb(status([session('a', { packetsIn: 2 })]));
    assert.deepEqual(
      c.apply(status([session('a', { packetsIn: 1, draining: true }), session('a', { packetsIn: 1 })]))?.sessions.map((s) => s.packetsIn),
      [1, 3],
    );
  });
});
