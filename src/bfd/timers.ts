/**
 * @module bfd/timers
 * BFD timer arithmetic: the negotiated transmit interval, the Detection Time
 * of asynchronous mode, the slow-start interval and the transmit jitter.
 *
 * Layer: control plane, pure (STYLE H-3, H-28). No I/O, no clock, no timers:
 * every function maps numbers to numbers; the random draw is passed in.
 *
 * Units: intervals in microseconds, as the wire carries them (integers up to
 * 2^32 - 1, exact in a double); {@link jitteredIntervalMs} returns ms, the
 * unit of the state machine's clock.
 *
 * Sources: RFC 5880 §6.8.2 (negotiation), §6.8.3 (slow start), §6.8.4
 * (Detection Time), §6.8.7 (transmit interval and jitter); keepalived's
 * `idle_tx` (shared/reference/keepalived.md §4.1).
 */
import { XlbError } from '../errors.js';
import { BFD_JITTER_MAX, BFD_JITTER_MAX_MULT1, BFD_JITTER_MIN, BFD_SLOW_TX_US } from './spec.js';

/** Throws the internal-invariant error: callers validate their input first. */
function invariant(cond: boolean, what: string): asserts cond {
  if (!cond) throw new XlbError('XLB_ERR_INTERNAL', [`bfd: ${what}`]);
}

/**
 * The interval at which this system sends periodic control packets before
 * jitter (RFC 5880 §6.8.7): the larger of its own bfd.DesiredMinTxInterval
 * and the peer's bfd.RemoteMinRxInterval, so it never sends faster than the
 * peer can take.
 * @param desiredMinTxUs the Desired Min TX in force, µs
 * @param remoteMinRxUs the peer's Required Min RX, µs
 * @returns the negotiated transmit interval, µs
 */
export function txIntervalUs(desiredMinTxUs: number, remoteMinRxUs: number): number {
  return Math.max(desiredMinTxUs, remoteMinRxUs);
}

/**
 * The Detection Time of asynchronous mode (RFC 5880 §6.8.4): the peer's
 * Detect Mult times the interval the peer actually sends at, which is the
 * greater of our Required Min RX and its last Desired Min TX.
 * @param remoteDetectMult Detect Mult from the peer's last packet, 1..255
 * @param requiredMinRxUs our Required Min RX in force, µs
 * @param remoteDesiredMinTxUs Desired Min TX from the peer's last packet, µs
 * @returns the Detection Time, µs
 */
export function detectionTimeUs(remoteDetectMult: number, requiredMinRxUs: number, remoteDesiredMinTxUs: number): number {
  return remoteDetectMult * Math.max(requiredMinRxUs, remoteDesiredMinTxUs);
}

/**
 * bfd.DesiredMinTxInterval while the session is not Up (RFC 5880 §6.8.3 slow
 * start): at least one second, and at least keepalived's `idle_tx`; a
 * configured min_tx that is slower still is kept.
 * @param desiredMinTxUs the configured min_tx, µs
 * @param idleTxUs keepalived `idle_tx`, µs
 * @returns the Desired Min TX to advertise and use while not Up, µs
 */
export function slowTxUs(desiredMinTxUs: number, idleTxUs: number): number {
  return Math.max(desiredMinTxUs, idleTxUs, BFD_SLOW_TX_US);
}

/**
 * The jitter factor for one periodic packet (RFC 5880 §6.8.7): in
 * [0.75, 1), or in [0.75, 0.9) when bfd.DetectMult is 1 (the largest draws
 * may round to the upper bound itself, which the RFC allows: "up to 25 %"
 * less, "no more than 90 %").
 * @param detectMult the own Detect Mult
 * @param r a uniform draw in [0, 1)
 * @returns the fraction of the negotiated interval to wait
 * @throws XlbError XLB_ERR_INTERNAL when `r` is not in [0, 1)
 */
export function jitterFactor(detectMult: number, r: number): number {
  invariant(r >= 0 && r < 1, `rng must return a number in [0, 1) (got ${r})`);
  const max = detectMult === 1 ? BFD_JITTER_MAX_MULT1 : BFD_JITTER_MAX;
  return BFD_JITTER_MIN + (max - BFD_JITTER_MIN) * r;
}

/**
 * One jittered transmit interval, in the state machine's unit.
 * @param intervalUs the negotiated transmit interval, µs
 * @param detectMult the own Detect Mult
 * @param rng uniform draws in [0, 1)
 * @returns the wait before the next periodic packet, ms
 * @throws XlbError XLB_ERR_INTERNAL when `rng` returns a number outside [0, 1)
 */
export function jitteredIntervalMs(intervalUs: number, detectMult: number, rng: () => number): number {
  return (intervalUs * jitterFactor(detectMult, rng())) / 1000;
}
