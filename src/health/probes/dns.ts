/**
 * @module health/probes/dns
 * DNS_CHECK (keepalived §3.2): one query over UDP (random id, RD set) of
 * `queryType`/`queryName`. Success = a response with the same id, QR set,
 * RCODE NOERROR, and every `expect` entry among the answers of the query
 * type. ICMP unreachable and the timeout fail, as for udp.
 *
 * A malformed response fails as `protocol` (the codec throws, the probe never
 * does). A response with another id fails too: the socket is connected and on
 * a fresh port, so only the server can have sent it.
 *
 * Layer: control plane, I/O. Wire format in ./dns-codec.ts.
 */
import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import { XlbError } from '../../errors.js';
import { formatAddr, parseAddr } from '../../net/addr.js';
import type { DnsCheckSpec } from '../spec.js';
import { DNS_TYPE_CODES, decodeDnsMessage, dnsQuery, dnsRcodeName, dnsRecordText, encodeDnsMessage, type DnsMessage } from './dns-codec.js';
import { targetText, withSocketFactory } from './tcp.js';
import { udpExchange } from './udp.js';
import {
  AttemptSet,
  errorText,
  failResult,
  okResult,
  type Probe,
  type ProbeOptions,
  type ProbeResult,
  type ProbeTarget,
  type SocketFactory,
} from './types.js';

/**
 * Normalise an `expect` entry or an answer's text for comparison: addresses
 * canonical, names lower-case without a trailing dot; TXT left as is.
 * @param type the query type
 * @param text the text
 */
export function dnsCompareText(type: DnsCheckSpec['queryType'], text: string): string {
  if (type === 'TXT') return text;
  if (type === 'A' || type === 'AAAA') {
    if (isIP(text) === 0) return text;
    const a = parseAddr(text);
    return formatAddr(a.family, a.bytes);
  }
  const t = text.length > 1 && text.endsWith('.') && !text.endsWith('\\.') ? text.slice(0, -1) : text;
  return t.toLowerCase();
}

/**
 * Judge a decoded response to query `id` (pure).
 * @param m the response
 * @param id the query id
 * @param spec the check (type and expect)
 * @param expect the normalised expect entries
 * @returns undefined for success, else the reason and detail
 */
export function judgeDnsResponse(
  m: DnsMessage,
  id: number,
  spec: Pick<DnsCheckSpec, 'queryType' | 'queryName'>,
  expect: readonly string[],
): { reason: 'protocol' | 'dns_rcode' | 'dns_answer'; detail: string } | undefined {
  if (m.id !== id) return { reason: 'protocol', detail: `response id ${m.id}, query id ${id}` };
  if (!m.qr) return { reason: 'protocol', detail: 'QR bit not set in the response' };
  if (m.rcode !== 0) return { reason: 'dns_rcode', detail: `${spec.queryType} ${spec.queryName}: ${dnsRcodeName(m.rcode)}` };
  if (expect.length === 0) return undefined;
  const code = DNS_TYPE_CODES[spec.queryType];
  const got = new Set<string>();
  for (const r of m.answers) if (r.type === code) got.add(dnsCompareText(spec.queryType, dnsRecordText(r)));
  const missing = expect.filter((e) => !got.has(e));
  if (missing.length === 0) return undefined;
  return {
    reason: 'dns_answer',
    detail: `${spec.queryType} ${spec.queryName}: missing ${missing.map((e) => JSON.stringify(e)).join(', ')} (got ${[...got].map((e) => JSON.stringify(e)).join(', ') || 'no answers'})`,
  };
}

/** DNS probe. */
class DnsProbe implements Probe {
  readonly #attempts = new AttemptSet();
  /** The query with id 0; each attempt copies it and sets a random id. */
  readonly #template: Buffer;
  /** Normalised `expect`. */
  readonly #expect: string[];

  constructor(
    private readonly spec: DnsCheckSpec,
    private readonly target: ProbeTarget,
    private readonly factory: SocketFactory,
  ) {
    try {
      this.#template = encodeDnsMessage(dnsQuery(0, spec.queryName, DNS_TYPE_CODES[spec.queryType]));
    } catch (err) {
      throw new XlbError('XLB_ERR_CONFIG_INVALID', `bad DNS check query name ${JSON.stringify(spec.queryName)}: ${errorText(err)}`, { cause: err });
    }
    this.#expect = spec.expect.map((e) => dnsCompareText(spec.queryType, e));
  }

  run(): Promise<ProbeResult> {
    const id = randomInt(0x10000);
    const query = Buffer.from(this.#template);
    query.writeUInt16BE(id, 0);
    return udpExchange(
      this.factory,
      this.target,
      this.spec,
      query,
      this.#attempts,
      (msg, t0) => {
        let m: DnsMessage;
        try {
          m = decodeDnsMessage(msg).value;
        } catch (err) {
          return failResult(t0, 'protocol', `malformed response from ${targetText(this.target)}: ${errorText(err)}`);
        }
        const bad = judgeDnsResponse(m, id, this.spec, this.#expect);
        if (bad) return failResult(t0, bad.reason, bad.detail);
        return okResult(t0, undefined, `${m.answers.length} answers`);
      },
      (t0) => failResult(t0, 'timeout', `no DNS response from ${targetText(this.target)} within ${this.spec.timeoutMs} ms`),
    );
  }

  close(): void {
    this.#attempts.close();
  }
}

/**
 * A DNS_CHECK probe. The query bytes are built once here.
 * @param spec the check
 * @param target resolved address and port
 * @param options socket factory
 * @throws XlbError `XLB_ERR_CONFIG_INVALID` for a query name that cannot be encoded
 */
export function createDnsProbe(spec: DnsCheckSpec, target: ProbeTarget, options: ProbeOptions = {}): Probe {
  return withSocketFactory(spec, target, options, (f) => new DnsProbe(spec, target, f));
}
