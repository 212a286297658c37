/**
 * @module health/probes/smtp
 * SMTP_CHECK (keepalived §3.2): the banner must be 2xx, `HELO <heloName>` must
 * be answered 2xx, then xlb sends `QUIT` and closes without waiting for the
 * 221. Multi-line replies (`250-...` continued, `250 ...` final; RFC 5321
 * §4.2.1) are read whole.
 *
 * Layer: control plane, I/O (one TCP socket, one timer per attempt). The
 * reply reader {@link SmtpReplyReader} is pure.
 */
import type net from 'node:net';
import { XlbError } from '../../errors.js';
import type { SmtpCheckSpec } from '../spec.js';
import { connectFailText, connectVia, targetText, withSocketFactory } from './tcp.js';
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
  type ProbeTarget,
  type SocketFactory,
} from './types.js';

/** Longest reply line accepted, bytes (RFC 5321 §4.5.3.1.5 says 512; lax servers get 8x). */
export const SMTP_MAX_LINE = 4096;
/** Most lines in one multi-line reply. */
export const SMTP_MAX_REPLY_LINES = 100;

/** A complete SMTP reply. */
export interface SmtpReply {
  /** The three-digit code. */
  code: number;
  /** The text of every line, without code and separator. */
  lines: string[];
}

/**
 * Splits the server's bytes into complete replies. Pure: feed it data, get
 * replies or an error text.
 */
export class SmtpReplyReader {
  /** Bytes of an incomplete line. */
  #partial = '';
  /** Lines of the reply being read. */
  #lines: string[] = [];

  /**
   * Consume bytes.
   * @param data bytes from the server
   * @returns the replies completed by these bytes, or an error text
   */
  push(data: Buffer): SmtpReply[] | string {
    const replies: SmtpReply[] = [];
    let text = this.#partial + data.toString('latin1');
    for (;;) {
      const nl = text.indexOf('\n');
      if (nl < 0) break;
      const line = text.slice(0, nl).replace(/\r$/, '');
      text = text.slice(nl + 1);
      const m = /^([2-5][0-9]{2})([ -]|$)(.*)$/.exec(line);
      if (!m) return `bad reply line ${JSON.stringify(line.slice(0, 80))}`;
      this.#lines.push(m[3]!);
      if (this.#lines.length > SMTP_MAX_REPLY_LINES) return `reply longer than ${SMTP_MAX_REPLY_LINES} lines`;
      if (m[2] === '-') continue;
      replies.push({ code: Number(m[1]), lines: this.#lines });
      this.#lines = [];
    }
    if (text.length > SMTP_MAX_LINE) return `reply line longer than ${SMTP_MAX_LINE} bytes`;
    this.#partial = text;
    return replies;
  }
}

/** SMTP probe. */
class SmtpProbe implements Probe {
  readonly #attempts = new AttemptSet();
  readonly #helo: Buffer;

  constructor(
    private readonly spec: SmtpCheckSpec,
    private readonly target: ProbeTarget,
    private readonly factory: SocketFactory,
  ) {
    if (!/^[\x21-\x7e]+$/.test(spec.heloName)) {
      throw new XlbError('XLB_ERR_CONFIG_INVALID', `bad SMTP check HELO name ${JSON.stringify(spec.heloName)}`);
    }
    this.#helo = Buffer.from(`HELO ${spec.heloName}\r\n`, 'latin1');
  }

  run(): Promise<ProbeResult> {
    const t0 = performance.now();
    if (this.#attempts.closed) return Promise.resolve(failResult(t0, 'io', CLOSED_DETAIL));
    return new Promise<ProbeResult>((resolve) => {
      let sock: net.Socket | undefined;
      let phase: 'connect' | 'banner' | 'HELO reply' = 'connect';
      let done = false;
      const reader = new SmtpReplyReader();
      const finish = (r: ProbeResult): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.#attempts.delete(abort);
        cancel(); // connectVia never calls back synchronously: cancel is set by then
        sock?.destroy();
        resolve(r);
      };
      const abort = (): void => finish(failResult(t0, 'io', CLOSED_DETAIL));
      const timer = setTimeout(
        afterPendingIo(() => finish(failResult(t0, 'timeout', `${phase} from ${targetText(this.target)} timed out after ${this.spec.timeoutMs} ms`))),
        this.spec.timeoutMs,
      );
      this.#attempts.add(abort);
      const onData = (data: Buffer): void => {
        if (done) return;
        const replies = reader.push(data);
        if (typeof replies === 'string') {
          finish(failResult(t0, 'protocol', `${phase}: ${replies}`));
          return;
        }
        for (const r of replies) {
          if (r.code < 200 || r.code > 299) {
            finish(failResult(t0, 'status', `${phase} ${r.code} ${r.lines[r.lines.length - 1] ?? ''}`.trimEnd()));
            return;
          }
          if (phase === 'banner') {
            phase = 'HELO reply';
            sock!.write(this.#helo);
          } else {
            // Polite end; the 221 is not awaited. destroy() in finish() runs after the write is queued.
            sock!.end('QUIT\r\n');
            finish(okResult(t0, undefined, `${r.code} ${r.lines[0] ?? ''}`.trimEnd()));
            return;
          }
        }
      };
      const cancel = connectVia(this.factory, this.target, this.spec, (err, s) => {
        if (err) {
          finish(failResult(t0, errnoReason(errorCode(err)), connectFailText(err, this.target)));
          return;
        }
        sock = s!;
        phase = 'banner';
        sock.on('error', (e) => finish(failResult(t0, errnoReason(errorCode(e)), `${phase}: ${errorText(e)}`)));
        sock.once('end', () => finish(failResult(t0, 'reset', `connection closed by the server during the ${phase}`)));
        sock.on('data', onData);
      });
    });
  }

  close(): void {
    this.#attempts.close();
  }
}

/**
 * An SMTP_CHECK probe.
 * @param spec the check
 * @param target resolved address and port
 * @param options socket factory
 * @throws XlbError `XLB_ERR_CONFIG_INVALID` for a HELO name with spaces or control characters
 */
export function createSmtpProbe(spec: SmtpCheckSpec, target: ProbeTarget, options: ProbeOptions = {}): Probe {
  return withSocketFactory(spec, target, options, (f) => new SmtpProbe(spec, target, f));
}
