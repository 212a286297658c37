/**
 * @module health/probes/http
 * HTTP_GET and SSL_GET (keepalived §3.2): `GET <path>` over one TCP (or TLS)
 * connection; success = status in the accepted ranges, and the body's MD5
 * and regex (when configured) match.
 *
 * Hand-written client on purpose, not node:http: at 10,000 checks per second
 * an attempt must cost one socket, one timer and a few small buffers. The
 * request bytes, the regex and the TLS context are built once per probe.
 *
 * The whole attempt (connect, TLS, request, head, body) is bounded by one
 * timer, so a server trickling its body fails on time (keepalived #1822).
 * Certificates are verified by default (keepalived never verifies).
 *
 * Layer: control plane, I/O. The pure parts (
 * {@link md5Hex}, {@link ChunkedDecoder}, {@link parseResponseHead}) are
 * exported for the config loader and the tests.
 */
import { createHash, type Hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { XlbError } from '../../errors.js';
import type { HttpCheckSpec, StatusRange } from '../spec.js';
import { connectFailText, connectVia, dropConnection, FailingProbe, targetText, withSocketFactory } from './tcp.js';
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
  type ProbeFailReason,
  type ProbeOptions,
  type ProbeResult,
  type ProbeSocket,
  type ProbeTarget,
  type SocketFactory,
} from './types.js';

/** Value of the User-Agent header xlb sends. */
export const HTTP_USER_AGENT = 'xlb-healthcheck';
/** Largest response head (status line + headers) accepted, bytes. Real heads are < 1 KiB. */
export const MAX_HEAD_BYTES = 64 * 1024;
/** Longest chunk-size line (with extensions) accepted in a chunked body, bytes. */
const MAX_CHUNK_LINE = 1024;

// --- Pure helpers ------------------------------------------------------------

/**
 * Whether `status` is in one of `ranges`.
 * @param status HTTP status code
 * @param ranges inclusive ranges
 */
export function statusInRanges(status: number, ranges: readonly StatusRange[]): boolean {
  for (const r of ranges) if (status >= r.min && status <= r.max) return true;
  return false;
}

/**
 * MD5 of a body as 32 lowercase hex digits: what keepalived's genhash prints
 * and what a check's `digest` holds.
 * @param data the body (strings are hashed as UTF-8)
 */
export function md5Hex(data: Uint8Array | string): string {
  return createHash('md5').update(data).digest('hex');
}

/** Status line and the headers a probe cares about. */
export interface ResponseHead {
  /** HTTP status code. */
  status: number;
  /** Content-Length, or -1 when absent. */
  contentLength: number;
  /** Transfer-Encoding ends in `chunked`. */
  chunked: boolean;
}

/**
 * Find the end of an HTTP head: the offset just past the empty line
 * (`\r\n\r\n`, or `\n\n` from lax servers).
 * @param buf bytes received so far
 * @param from where to resume scanning (bytes before it were scanned already)
 * @returns offset of the first body byte, or -1 when the head is incomplete
 */
export function findHeadEnd(buf: Uint8Array, from = 0): number {
  for (let i = Math.max(from, 0); i < buf.length; i++) {
    if (buf[i] !== 10) continue;
    if (buf[i + 1] === 10) return i + 2;
    if (buf[i + 1] === 13 && buf[i + 2] === 10) return i + 3;
  }
  return -1;
}

/**
 * Parse a response head (status line and headers, without the empty line).
 * @param head the head as latin1 text
 * @returns the parsed head, or an error text
 */
export function parseResponseHead(head: string): ResponseHead | string {
  const lines = head.split(/\r?\n/);
  const statusLine = lines[0] ?? '';
  const m = /^HTTP\/1\.[0-9] ([0-9]{3})(?: |$)/.exec(statusLine);
  if (!m) return `bad status line ${JSON.stringify(statusLine.slice(0, 80))}`;
  const r: ResponseHead = { status: Number(m[1]), contentLength: -1, chunked: false };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) return `bad header line ${JSON.stringify(line.slice(0, 80))}`;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') {
      if (!/^[0-9]{1,15}$/.test(value)) return `bad Content-Length ${JSON.stringify(value.slice(0, 40))}`;
      const n = Number(value);
      if (r.contentLength >= 0 && r.contentLength !== n) return 'conflicting Content-Length headers';
      r.contentLength = n;
    } else if (name === 'transfer-encoding') {
      // RFC 9112 §6.3: chunked must be the final coding; it wins over Content-Length.
      const codings = value.toLowerCase().split(',');
      r.chunked = codings[codings.length - 1]!.trim() === 'chunked';
    }
  }
  return r;
}

/**
 * Incremental decoder of a chunked body (RFC 9112 §7.1). Feed it the bytes
 * after the head; it hands out the data and says when the last chunk came.
 * Trailers are not read: the body is complete at the zero-size chunk.
 */
export class ChunkedDecoder {
  /** `size`: reading a chunk-size line; `data`: inside a chunk; `crlf`: after chunk data; `done`. */
  #state: 'size' | 'data' | 'crlf' | 'done' = 'size';
  /** Partial chunk-size line. */
  #line = '';
  /** Data bytes left in the current chunk. */
  #left = 0;
  /** CR/LF bytes seen after the current chunk's data. */
  #crlf = '';

  /** Whether the terminating zero-size chunk was read. */
  get done(): boolean {
    return this.#state === 'done';
  }

  /**
   * Decode some bytes.
   * @param buf the next bytes of the body
   * @param onData called with each piece of chunk data (a view into `buf`)
   * @returns an error text when the encoding is malformed, else undefined
   */
  push(buf: Buffer, onData: (data: Buffer) => void): string | undefined {
    let i = 0;
    while (i < buf.length && this.#state !== 'done') {
      if (this.#state === 'data') {
        const n = Math.min(this.#left, buf.length - i);
        onData(buf.subarray(i, i + n));
        i += n;
        this.#left -= n;
        if (this.#left === 0) this.#state = 'crlf';
      } else if (this.#state === 'crlf') {
        this.#crlf += String.fromCharCode(buf[i++]!);
        if (this.#crlf === '\r\n' || this.#crlf === '\n') {
          this.#crlf = '';
          this.#state = 'size';
        } else if (this.#crlf !== '\r') {
          return 'chunk data not followed by CRLF';
        }
      } else {
        const nl = buf.indexOf(10, i);
        const end = nl < 0 ? buf.length : nl;
        this.#line += buf.toString('latin1', i, end);
        if (this.#line.length > MAX_CHUNK_LINE) return 'chunk-size line too long';
        if (nl < 0) return undefined;
        i = nl + 1;
        const m = /^([0-9a-fA-F]{1,8})[ \t]*(?:;.*)?\r?$/.exec(this.#line);
        this.#line = '';
        if (!m) return 'bad chunk-size line';
        this.#left = parseInt(m[1]!, 16);
        this.#state = this.#left === 0 ? 'done' : 'data';
      }
    }
    return undefined;
  }
}

/**
 * The Host header a check sends: `spec.host`, else the target address
 * (`[v6]` bracketed) with `:port` unless it is the scheme's default port.
 * @param spec the check
 * @param target the resolved target
 */
export function hostHeaderFor(spec: Pick<HttpCheckSpec, 'type' | 'host'>, target: ProbeTarget): string {
  if (spec.host !== undefined) return spec.host;
  const addr = target.family === 6 ? `[${target.address}]` : target.address;
  const defaultPort = spec.type === 'https' ? 443 : 80;
  return target.port === defaultPort ? addr : `${addr}:${target.port}`;
}

/**
 * The SNI name of an https check: `tls.serverName`, else the Host when it is
 * a DNS name (without a `:port`); none for IP literals (RFC 6066 §3).
 * @param serverName `tls.serverName`
 * @param host the Host header value
 */
export function sniFor(serverName: string | undefined, host: string): string | undefined {
  if (serverName !== undefined && serverName !== '') return serverName;
  let name = host;
  if (name.startsWith('[')) return undefined; // bracketed IPv6 literal
  const colon = name.lastIndexOf(':');
  if (colon >= 0 && name.indexOf(':') === colon) name = name.slice(0, colon);
  if (name === '' || net.isIP(name) !== 0) return undefined;
  return name;
}

/**
 * Build the request bytes.
 * @throws XlbError `XLB_ERR_CONFIG_INVALID` when path or host would break the request
 */
function buildRequest(spec: HttpCheckSpec, host: string): Buffer {
  if (!spec.path.startsWith('/') || /[\s\u0000-\u001f\u007f]/.test(spec.path)) {
    throw new XlbError('XLB_ERR_CONFIG_INVALID', `bad HTTP check path ${JSON.stringify(spec.path)}`);
  }
  if (/[\s\u0000-\u001f\u007f]/.test(host)) throw new XlbError('XLB_ERR_CONFIG_INVALID', `bad HTTP check host ${JSON.stringify(host)}`);
  const close = spec.httpVersion === '1.1' ? 'Connection: close\r\n' : '';
  return Buffer.from(`GET ${spec.path} HTTP/${spec.httpVersion}\r\nHost: ${host}\r\nUser-Agent: ${HTTP_USER_AGENT}\r\n${close}\r\n`, 'latin1');
}

/**
 * Log text of a socket error: OpenSSL errors carry a multi-line message with
 * source paths; their `reason` and `code` say the same in a few words.
 */
function socketErrorText(err: Error): string {
  const e = err as Error & { reason?: unknown; code?: unknown };
  if (typeof e.reason === 'string' && typeof e.code === 'string') return `${e.reason} (${e.code})`;
  return errorText(err).trim();
}

/**
 * Failure reason of a socket error: errno codes map through
 * {@link errnoReason}; OpenSSL and certificate codes are `tls`.
 */
function socketErrorReason(err: unknown, isTls: boolean): ProbeFailReason {
  const code = errorCode(err);
  if (code !== undefined && /^E[A-Z]+$/.test(code)) return errnoReason(code);
  return isTls ? 'tls' : 'io';
}

// --- The probe ---------------------------------------------------------------

/** What is fixed for every attempt of one check. */
interface HttpPlan {
  spec: HttpCheckSpec;
  target: ProbeTarget;
  factory: SocketFactory;
  request: Buffer;
  regex: RegExp | undefined;
  digest: string | undefined;
  /** Body bytes are needed (digest or regex). */
  needBody: boolean;
  /** TLS options, https only. */
  tls: tls.ConnectionOptions | undefined;
}

/** Phases, for timeout details. */
type Phase = 'connect' | 'tls handshake' | 'response head' | 'body';

/** One attempt: one socket, one timer, a small parser state. */
class HttpAttempt {
  #done = false;
  #phase: Phase = 'connect';
  readonly #timer: NodeJS.Timeout;
  /** The TCP socket, once connected: a net.Socket under TLS, else the factory's lighter socket. */
  #raw: ProbeSocket | undefined;
  /** The socket the HTTP bytes go through: the TLS socket over #raw, or #raw itself. */
  #sock: ProbeSocket | undefined;
  /** Cancels the connect while it is pending. */
  readonly #cancelConnect: () => void;
  /** Head bytes so far (usually one chunk). */
  #head: Buffer | undefined;
  #status = 0;
  /** Content-Length mode: body bytes still to read (capped at maxBodyBytes); -1 = read until close. */
  #bodyLeft = -1;
  #chunked: ChunkedDecoder | undefined;
  /** Body bytes kept (at most maxBodyBytes). */
  #bodyBytes = 0;
  readonly #hash: Hash | undefined;
  readonly #chunks: Buffer[] | undefined;

  constructor(
    private readonly plan: HttpPlan,
    private readonly t0: number,
    private readonly resolve: (r: ProbeResult) => void,
    private readonly attempts: AttemptSet,
  ) {
    this.#hash = plan.digest !== undefined ? createHash('md5') : undefined;
    this.#chunks = plan.regex !== undefined ? [] : undefined;
    this.#timer = setTimeout(this.#onTimeout, plan.spec.timeoutMs);
    attempts.add(this.abort);
    const onConnect = (err: Error | null, raw?: ProbeSocket): void => {
      if (err) this.#fail(errnoReason(errorCode(err)), connectFailText(err, plan.target));
      else if (plan.tls) this.#onTcp(raw as net.Socket, plan.tls);
      else this.#onSocket(raw!);
    };
    // TLS needs a net.Socket under it; plain HTTP takes the factory's lighter socket
    this.#cancelConnect = plan.tls ? connectVia(plan.factory, plan.target, plan.spec, onConnect) : connectVia(plan.factory, plan.target, plan.spec, onConnect, true, true);
  }

  /** https: the TCP connection is up; the TLS handshake over it, then the request. */
  #onTcp(raw: net.Socket, options: tls.ConnectionOptions): void {
    this.#raw = raw;
    raw.on('error', this.#onError);
    let sock: tls.TLSSocket;
    try {
      sock = tls.connect({ ...options, socket: raw });
    } catch (err) {
      this.#fail('tls', `tls: ${errorText(err)}`);
      return;
    }
    this.#sock = sock;
    sock.on('data', this.#onData);
    sock.once('end', this.#onEnd);
    this.#phase = 'tls handshake';
    sock.on('error', this.#onError);
    sock.once('secureConnect', this.#onConnected);
  }

  /** http: the connection is up; the request. */
  #onSocket(raw: ProbeSocket): void {
    this.#raw = raw;
    this.#sock = raw;
    raw.on('error', this.#onError);
    raw.on('data', this.#onData);
    raw.once('end', this.#onEnd);
    this.#onConnected();
  }

  /** Cut the attempt short (probe closed). */
  readonly abort = (): void => this.#finish(failResult(this.t0, 'io', CLOSED_DETAIL));

  #finish(r: ProbeResult): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#timer);
    this.attempts.delete(this.abort);
    this.#cancelConnect(); // connectVia never calls back synchronously: set by then
    // Reset the TCP socket first: destroying the TLS socket would close it with a FIN.
    if (this.#raw) dropConnection(this.#raw);
    if (this.#sock && this.#sock !== this.#raw) this.#sock.destroy();
    this.resolve(r);
  }

  #fail(reason: ProbeFailReason, detail: string): void {
    this.#finish(failResult(this.t0, reason, detail));
  }

  /** Fires after the I/O already waiting is read (afterPendingIo). */
  readonly #onTimeout = afterPendingIo((): void => {
    this.#fail('timeout', `${this.#phase} from ${targetText(this.plan.target)} timed out after ${this.plan.spec.timeoutMs} ms`);
  });

  readonly #onError = (err: Error): void => {
    const isTls = this.plan.tls !== undefined && this.#phase !== 'connect';
    this.#fail(socketErrorReason(err, isTls), `${this.#phase}: ${socketErrorText(err)}`);
  };

  readonly #onConnected = (): void => {
    this.#phase = 'response head';
    this.#sock!.write(this.plan.request);
  };

  readonly #onEnd = (): void => {
    if (this.#done) return;
    if (this.#phase === 'body' && this.#bodyLeft < 0 && this.#chunked === undefined) {
      this.#complete(); // read-until-close body
      return;
    }
    const what = this.#phase === 'body' ? `body (${this.#bodyBytes} bytes read)` : this.#phase;
    this.#fail('reset', `connection closed by the server during the ${what}`);
  };

  readonly #onData = (chunk: Buffer): void => {
    try {
      this.#parse(chunk);
    } catch (err) {
      // A bug must fail the attempt, not escape into the event loop as an uncaught exception.
      this.#fail('internal', `${this.#phase}: ${errorText(err)}`);
    }
  };

  #parse(chunk: Buffer): void {
    if (this.#done) return;
    if (this.#phase === 'body') {
      this.#onBody(chunk);
      return;
    }
    // Response head: accumulate until the empty line.
    const from = this.#head ? Math.max(this.#head.length - 2, 0) : 0;
    const buf = this.#head ? Buffer.concat([this.#head, chunk]) : chunk;
    const end = findHeadEnd(buf, from);
    if (end < 0) {
      if (buf.length > MAX_HEAD_BYTES) this.#fail('protocol', `response head longer than ${MAX_HEAD_BYTES} bytes`);
      // kept past this call: a copy (the native socket's chunk is a view into its batch buffer)
      else this.#head = buf === chunk ? Buffer.from(chunk) : buf;
      return;
    }
    this.#head = undefined;
    const head = parseResponseHead(buf.toString('latin1', 0, end));
    if (typeof head === 'string') {
      this.#fail('protocol', head);
      return;
    }
    const rest = buf.subarray(end);
    // 1xx interim responses (100 Continue, 103 Early Hints) precede the real one.
    if (head.status >= 100 && head.status < 200 && head.status !== 101) {
      if (rest.length > 0) this.#parse(rest);
      return;
    }
    this.#onHead(head, rest);
  }

  #onHead(head: ResponseHead, rest: Buffer): void {
    const { spec } = this.plan;
    this.#status = head.status;
    if (!statusInRanges(head.status, spec.status)) {
      this.#fail('status', `HTTP ${head.status}`);
      return;
    }
    const noBody = head.status === 204 || head.status === 304 || head.status < 200;
    if (!this.plan.needBody || noBody) {
      this.#complete();
      return;
    }
    this.#phase = 'body';
    if (head.chunked) this.#chunked = new ChunkedDecoder();
    else if (head.contentLength >= 0) this.#bodyLeft = Math.min(head.contentLength, spec.maxBodyBytes);
    if (this.#bodyLeft === 0) {
      this.#complete();
      return;
    }
    if (rest.length > 0) this.#onBody(rest);
  }

  #onBody(chunk: Buffer): void {
    if (this.#chunked) {
      const err = this.#chunked.push(chunk, this.#keep);
      if (this.#done) return;
      if (err !== undefined) this.#fail('protocol', err);
      else if (this.#chunked.done) this.#complete();
      return;
    }
    if (this.#bodyLeft >= 0) {
      const piece = chunk.length > this.#bodyLeft ? chunk.subarray(0, this.#bodyLeft) : chunk;
      this.#bodyLeft -= piece.length;
      this.#keep(piece);
      if (!this.#done && this.#bodyLeft === 0) this.#complete();
      return;
    }
    this.#keep(chunk);
  }

  /** Keep body bytes up to maxBodyBytes; completes the attempt when the cap is reached. */
  readonly #keep = (data: Buffer): void => {
    if (this.#done) return;
    const room = this.plan.spec.maxBodyBytes - this.#bodyBytes;
    const piece = data.length > room ? data.subarray(0, room) : data;
    this.#bodyBytes += piece.length;
    this.#hash?.update(piece);
    this.#chunks?.push(Buffer.from(piece)); // kept past this call: a copy, as above
    if (this.#bodyBytes >= this.plan.spec.maxBodyBytes) this.#complete();
  };

  /** The response is in: check digest and regex. */
  #complete(): void {
    if (this.#done) return;
    const { plan } = this;
    if (this.#hash && plan.digest !== undefined) {
      const got = this.#hash.digest('hex');
      if (got !== plan.digest) {
        this.#fail('digest', `body MD5 ${got} (${this.#bodyBytes} bytes), expected ${plan.digest}`);
        return;
      }
    }
    if (this.#chunks && plan.regex) {
      const text = (this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks)).toString('utf8');
      const matched = plan.regex.test(text);
      if (matched === plan.spec.regexNoMatch) {
        this.#fail('regex', `body ${matched ? 'matches' : 'does not match'} /${plan.regex.source}/`);
        return;
      }
    }
    this.#finish(okResult(this.t0, undefined, `HTTP ${this.#status}`));
  }
}

/** HTTP/HTTPS GET probe. */
class HttpProbe implements Probe {
  readonly #attempts = new AttemptSet();

  constructor(private readonly plan: HttpPlan) {}

  run(): Promise<ProbeResult> {
    const t0 = performance.now();
    if (this.#attempts.closed) return Promise.resolve(failResult(t0, 'io', CLOSED_DETAIL));
    return new Promise<ProbeResult>((resolve) => {
      try {
        new HttpAttempt(this.plan, t0, resolve, this.#attempts);
      } catch (err) {
        resolve(failResult(t0, 'io', `socket: ${errorText(err)}`));
      }
    });
  }

  close(): void {
    this.#attempts.close();
  }
}

/**
 * An HTTP_GET / SSL_GET probe.
 *
 * Built once per check: the request bytes, the regex, and for https the TLS
 * context (CA bundle, client certificate and key read from disk here, not per
 * attempt). A file that cannot be read makes every attempt fail (`io`) rather
 * than throw, so one bad path does not stop the other checks.
 * @param spec the check (`type` http or https)
 * @param target resolved address and port
 * @param options socket factory
 * @throws XlbError `XLB_ERR_CONFIG_INVALID` for a regex that does not compile
 *   or a path/host that would break the request line (the loader rejects
 *   these first)
 */
export function createHttpProbe(spec: HttpCheckSpec, target: ProbeTarget, options: ProbeOptions = {}): Probe {
  const host = hostHeaderFor(spec, target);
  const request = buildRequest(spec, host);
  let regex: RegExp | undefined;
  if (spec.regex !== undefined) {
    try {
      regex = new RegExp(spec.regex);
    } catch (err) {
      throw new XlbError('XLB_ERR_CONFIG_INVALID', `bad HTTP check regex /${spec.regex}/: ${errorText(err)}`, { cause: err });
    }
  }
  return withSocketFactory(spec, target, options, (factory) => httpProbeOn(factory, spec, target, host, request, regex));
}

/** The rest of createHttpProbe, once the socket factory is known: TLS context (read once), then the probe. */
function httpProbeOn(factory: SocketFactory, spec: HttpCheckSpec, target: ProbeTarget, host: string, request: Buffer, regex: RegExp | undefined): Probe {
  let tlsOptions: tls.ConnectionOptions | undefined;
  if (spec.type === 'https') {
    const t = spec.tls ?? { verify: true };
    let secureContext: tls.SecureContext;
    try {
      const ctx: tls.SecureContextOptions = {};
      if (t.caFile !== undefined) ctx.ca = readFileSync(t.caFile);
      if (t.certFile !== undefined) ctx.cert = readFileSync(t.certFile);
      if (t.keyFile !== undefined) ctx.key = readFileSync(t.keyFile);
      secureContext = tls.createSecureContext(ctx);
    } catch (err) {
      return new FailingProbe('io', `https check TLS files: ${errorText(err)}`);
    }
    const servername = sniFor(t.serverName, host);
    tlsOptions = {
      secureContext,
      rejectUnauthorized: t.verify,
      // The name the certificate is checked against: the SNI name, else the address.
      host: servername ?? target.address,
    };
    if (servername !== undefined) tlsOptions.servername = servername;
  }
  const needBody = spec.digest !== undefined || regex !== undefined;
  return new HttpProbe({
    spec,
    target,
    factory,
    request,
    regex,
    digest: spec.digest?.toLowerCase(),
    needBody,
    tls: tlsOptions,
  });
}
