/**
 * @module health/probes/udp
 * UDP_CHECK (keepalived §3.2): send one datagram from a connected UDP socket.
 * What fails the attempt (verified on Linux):
 * - ICMP port unreachable: a "hard" error, so Linux reports it on a connected
 *   UDP socket as ECONNREFUSED on the next receive → `refused`.
 * - No route, or an `unreachable`/`prohibit` route: connect() fails
 *   (ENETUNREACH, EHOSTUNREACH) → `unreachable`.
 * - ICMP host/net unreachable from a router, and a neighbour (ARP/ND) that
 *   never answers: "soft" errors that Linux reports on a UDP socket only with
 *   IP_RECVERR / IPV6_RECVERR set (keepalived sets it and reads
 *   MSG_ERRQUEUE) → `unreachable`. Node's dgram cannot set it, so udp and
 *   dns probes take the native factory's socket by default (native-factory.ts);
 *   on Node's (a factory injected in tests) such a dead host passes a check
 *   without `requireReply`.
 *
 * Without `requireReply`, silence until the timeout is success (keepalived):
 * the attempt always takes timeoutMs unless an ICMP error or a reply comes
 * first. With it, a reply must come in time and match `expect` under
 * `expectMask` and the length bounds.
 *
 * Layer: control plane, I/O (one UDP socket, one timer per attempt). The
 * reply matcher {@link checkUdpReply} is pure.
 */
import { randomBytes } from 'node:crypto';
import type { NetCheckBase, UdpCheckSpec } from '../spec.js';
import { targetText, withSocketFactory } from './tcp.js';
import {
  afterPendingIo,
  AttemptSet,
  CLOSED_DETAIL,
  errnoReason,
  errorCode,
  errorText,
  failResult,
  okResult,
  type Probe,
  type ProbeOptions,
  type ProbeResult,
  type ProbeDgram,
  type ProbeTarget,
  type SocketFactory,
} from './types.js';

/** Bytes of the random payload sent when the check has none (keepalived). */
export const UDP_RANDOM_PAYLOAD_BYTES = 16;

/**
 * Check a reply against the spec's length bounds and `expect`/`expectMask`.
 * A mask byte's zero bits are wildcards (keepalived's `X` nibbles); no mask =
 * every bit compared.
 * @param reply the datagram received
 * @param spec the check
 * @returns undefined when it matches, else why not
 */
export function checkUdpReply(
  reply: Uint8Array,
  spec: Pick<UdpCheckSpec, 'expect' | 'expectMask' | 'minReplyLength' | 'maxReplyLength'>,
): string | undefined {
  if (reply.length < spec.minReplyLength) return `reply of ${reply.length} bytes, shorter than ${spec.minReplyLength}`;
  if (reply.length > spec.maxReplyLength) return `reply of ${reply.length} bytes, longer than ${spec.maxReplyLength}`;
  const expect = spec.expect;
  if (expect === undefined) return undefined;
  if (reply.length < expect.length) return `reply of ${reply.length} bytes, shorter than the ${expect.length} expected`;
  const mask = spec.expectMask;
  for (let i = 0; i < expect.length; i++) {
    const m = mask?.[i] ?? 0xff;
    if ((reply[i]! & m) !== (expect[i]! & m)) {
      return `reply byte ${i} is 0x${reply[i]!.toString(16).padStart(2, '0')}, expected 0x${expect[i]!.toString(16).padStart(2, '0')} under mask 0x${m.toString(16).padStart(2, '0')}`;
    }
  }
  return undefined;
}

/**
 * Whether a reply is required: `requireReply`, or an `expect` (spec.ts: "with
 * `expect`, a matching reply is required").
 */
export function udpReplyRequired(spec: Pick<UdpCheckSpec, 'requireReply' | 'expect'>): boolean {
  return spec.requireReply || spec.expect !== undefined;
}

/**
 * Send one datagram on a connected socket and wait for a reply, an ICMP error
 * or the timeout. Shared with the dns probe.
 * @param factory socket source
 * @param target where to send
 * @param spec the check (bind options, timeout)
 * @param payload bytes to send
 * @param attempts the probe's in-flight attempts
 * @param onReply decides on a reply: a result ends the attempt, undefined keeps waiting
 * @param onSilence result when the timeout passes without reply or error
 */
export function udpExchange(
  factory: SocketFactory,
  target: ProbeTarget,
  spec: NetCheckBase,
  payload: Uint8Array,
  attempts: AttemptSet,
  onReply: (msg: Buffer, t0: number) => ProbeResult | undefined,
  onSilence: (t0: number) => ProbeResult,
): Promise<ProbeResult> {
  const t0 = performance.now();
  if (attempts.closed) return Promise.resolve(failResult(t0, 'io', CLOSED_DETAIL));
  return new Promise<ProbeResult>((resolve) => {
    let sock: ProbeDgram;
    try {
      sock = factory.udp(target, spec);
    } catch (err) {
      // EADDRNOTAVAIL (a bindAddress the host lacks) is unreachable; ENODEV, EPERM io
      resolve(failResult(t0, errnoReason(errorCode(err)), `socket: ${errorText(err)}`));
      return;
    }
    let done = false;
    const finish = (r: ProbeResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      attempts.delete(abort);
      try {
        sock.close();
      } catch {
        // already closed
      }
      resolve(r);
    };
    const abort = (): void => finish(failResult(t0, 'io', CLOSED_DETAIL));
    const timer = setTimeout(
      afterPendingIo(() => finish(onSilence(t0))),
      spec.timeoutMs,
    );
    attempts.add(abort);
    sock.on('error', (err) => {
      const code = errorCode(err);
      const what = code === 'ECONNREFUSED' ? ' (ICMP port unreachable)' : '';
      finish(failResult(t0, errnoReason(code), `${targetText(target)}: ${errorText(err)}${what}`));
    });
    sock.on('message', (msg) => {
      if (done) return;
      let r: ProbeResult | undefined;
      try {
        r = onReply(msg, t0);
      } catch (err) {
        r = failResult(t0, 'internal', `reply from ${targetText(target)}: ${errorText(err)}`);
      }
      if (r !== undefined) finish(r);
    });
    const sendFailed = (err: unknown, what: string): void =>
      finish(failResult(t0, errnoReason(errorCode(err)), `${what} ${targetText(target)}: ${errorText(err)}`));
    // A failed connect (no route: ENETUNREACH, EHOSTUNREACH for an
    // `unreachable` route) is passed to this callback, although @types/node
    // declares it without arguments.
    const onConnect = (...args: unknown[]): void => {
      if (done) return;
      if (args[0] instanceof Error) {
        sendFailed(args[0], 'connect to');
        return;
      }
      try {
        sock.send(payload, (err) => {
          if (err) sendFailed(err, 'send to');
        });
      } catch (err) {
        sendFailed(err, 'send to');
      }
    };
    try {
      sock.connect(target.port, target.address, onConnect);
    } catch (err) {
      sendFailed(err, 'connect to'); // bad port or address
    }
  });
}

/** UDP probe. */
class UdpProbe implements Probe {
  readonly #attempts = new AttemptSet();
  readonly #required: boolean;

  constructor(
    private readonly spec: UdpCheckSpec,
    private readonly target: ProbeTarget,
    private readonly factory: SocketFactory,
  ) {
    this.#required = udpReplyRequired(spec);
  }

  run(): Promise<ProbeResult> {
    const { spec } = this;
    const payload = spec.payload ?? randomBytes(UDP_RANDOM_PAYLOAD_BYTES);
    return udpExchange(
      this.factory,
      this.target,
      spec,
      payload,
      this.#attempts,
      (msg, t0) => {
        if (!this.#required) return okResult(t0, undefined, `reply of ${msg.length} bytes`);
        const bad = checkUdpReply(msg, spec);
        return bad === undefined ? okResult(t0, undefined, `reply of ${msg.length} bytes`) : failResult(t0, 'reply', bad);
      },
      (t0) =>
        this.#required
          ? failResult(t0, 'timeout', `no reply from ${targetText(this.target)} within ${spec.timeoutMs} ms`)
          : okResult(t0, undefined, 'no reply and no ICMP error'),
    );
  }

  close(): void {
    this.#attempts.close();
  }
}

/**
 * A UDP_CHECK probe.
 * @param spec the check
 * @param target resolved address and port
 * @param options socket factory
 */
export function createUdpProbe(spec: UdpCheckSpec, target: ProbeTarget, options: ProbeOptions = {}): Probe {
  return withSocketFactory(spec, target, options, (f) => new UdpProbe(spec, target, f));
}
