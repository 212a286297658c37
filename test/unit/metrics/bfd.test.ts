/**
 * The BFD series of /metrics (state, state changes, packets by direction,
 * drops by reason) from the daemon's BFD status, none without BFD; and the
 * `bfd` lines of `xlb status`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMetrics } from '../../../src/metrics/metrics.js';
import { bfdStatusLines } from '../../../src/cli/actions.js';
import type { BfdRuntimeStatus, BfdSessionStatus } from '../../../src/bfd/runtime.js';

function session(over: Partial<BfdSessionStatus>): BfdSessionStatus {
  return {
    name: 'to-lb2',
    peer: '192.0.2.3',
    local: '192.0.2.2',
    family: 4,
    multihop: false,
    sourcePort: 49200,
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
    inStateMs: 1000,
    draining: false,
    packetsIn: 120,
    packetsOut: 118,
    sendErrors: 0,
    stateChanges: 3,
    drops: {},
    ...over,
  };
}

const ST: BfdRuntimeStatus = {
  sessions: [session({}), session({ name: 'uplink', peer: '2001:db8::1', local: undefined, family: 6, multihop: true, state: 'Down', diag: 'control detection time expired', detectTimeUs: undefined, txIntervalUs: 1_000_000, packetsIn: 0, packetsOut: 7, stateChanges: 0, drops: { auth_key_id: 2 } })],
  drops: { auth_key_id: 2, no_session: 5 },
  received: 127,
  timer: { lateMaxMs: 0.4, lateOver1ms: 0, fired: 1000 },
};

describe('BFD metrics', () => {
  it('shows every session and the drops by reason', async () => {
    const m = createMetrics({ dp: () => null, services: () => [], bfd: () => Promise.resolve(ST) });
    const text = await m.registry.metrics();
    assert.match(text, /^xlb_bfd_session_state\{session="to-lb2"\} 3$/m);
    assert.match(text, /^xlb_bfd_session_state\{session="uplink"\} 1$/m);
    assert.match(text, /^xlb_bfd_state_changes_total\{session="to-lb2"\} 3$/m);
    assert.match(text, /^xlb_bfd_packets_total\{session="to-lb2",direction="in"\} 120$/m);
    assert.match(text, /^xlb_bfd_packets_total\{session="uplink",direction="out"\} 7$/m);
    assert.match(text, /^xlb_bfd_drops_total\{reason="no_session"\} 5$/m);
    assert.match(text, /^xlb_bfd_drops_total\{reason="auth_key_id"\} 2$/m);
  });

  it('echo counters per session, only for sessions with own echo', async () => {
    const st = { ...ST, sessions: [session({ echoState: 'running', echoIntervalUs: 1000, echoSent: 5000, echoReturned: 4998, echoFailures: 2 }), session({ name: 'no-echo' })] };
    const text = await createMetrics({ dp: () => null, services: () => [], bfd: () => Promise.resolve(st) }).registry.metrics();
    assert.match(text, /^xlb_bfd_echo_packets_total\{session="to-lb2",direction="out"\} 5000$/m);
    assert.match(text, /^xlb_bfd_echo_packets_total\{session="to-lb2",direction="back"\} 4998$/m);
    assert.match(text, /^xlb_bfd_echo_failures_total\{session="to-lb2"\} 2$/m);
    assert.doesNotMatch(text, /^xlb_bfd_echo_\w+\{session="no-echo"/m);
  });

  it('has no BFD series without BFD', async () => {
    const m = createMetrics({ dp: () => null, services: () => [], bfd: () => Promise.resolve(undefined) });
    const text = await m.registry.metrics();
    assert.doesNotMatch(text, /^xlb_bfd_\w+\{/m);
  });

  it('leaves a removed, draining session out of the state gauge', async () => {
    const m = createMetrics({ dp: () => null, services: () => [], bfd: () => Promise.resolve({ ...ST, sessions: [session({ draining: true, state: 'AdminDown' })] }) });
    assert.doesNotMatch(await m.registry.metrics(), /^xlb_bfd_session_state\{/m);
  });
});

describe('xlb status: bfd lines', () => {
  it('one line per session: peer, state, diag, negotiated tx, detection time, packets, drops', () => {
    assert.deepEqual(bfdStatusLines(ST), [
      'bfd  received 127  dropped: auth_key_id 2, no_session 5',
      '  to-lb2  192.0.2.3 from 192.0.2.2 single hop  Up (diag none)  tx 10ms  detect 30ms  packets in 120 out 118',
      '  uplink  2001:db8::1 multihop  Down (diag control detection time expired)  tx 1s  detect -  packets in 0 out 7  dropped: auth_key_id 2',
    ]);
  });

  it('a session with own echo shows its state, interval and counters', () => {
    const st = { ...ST, sessions: [session({ echoState: 'running', echoIntervalUs: 1000, echoSent: 5000, echoReturned: 4998, echoFailures: 1, echoLate: 2 }), session({ name: 'b', echoState: 'idle' })] };
    const lines = bfdStatusLines(st);
    assert.equal(lines[1], '  to-lb2  192.0.2.3 from 192.0.2.2 single hop  Up (diag none)  tx 10ms  detect 30ms  packets in 120 out 118  echo running 1ms out 5000 back 4998 failures 1 late 2');
    assert.equal(lines[2], '  b  192.0.2.3 from 192.0.2.2 single hop  Up (diag none)  tx 10ms  detect 30ms  packets in 120 out 118  echo idle out 0 back 0');
  });

  it('prints nothing without sessions', () => {
    assert.deepEqual(bfdStatusLines({ sessions: [], drops: {}, received: 0, timer: { lateMaxMs: 0, lateOver1ms: 0, fired: 0 } }), []);
  });
});
