/**
 * The DNS codec (H-35): round trips of every record type, hand-written byte
 * vectors with compression pointers, and error vectors asserting the
 * CodecError code (truncation, forward and looping pointers, bad label
 * types, RDATA lengths).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CodecError } from '../../../../src/errors.js';
import {
  DNS_TYPE_CODES,
  decodeDnsMessage,
  decodeDnsName,
  dnsMessageLength,
  dnsQuery,
  dnsRcodeName,
  dnsRecordText,
  dnsTypeName,
  encodeDnsMessage,
  type DnsMessage,
  type DnsRecord,
} from '../../../../src/health/probes/dns-codec.js';

/** decode(encode(v)) equals v; lengths agree; re-encoding is byte-equal; encoding at an offset works. */
function roundTrip(m: DnsMessage): void {
  const buf = encodeDnsMessage(m);
  assert.equal(buf.length, dnsMessageLength(m));
  const d = decodeDnsMessage(buf);
  assert.equal(d.bytes, buf.length);
  assert.deepEqual(d.value, m);
  assert.deepEqual(encodeDnsMessage(d.value), buf);
  const big = Buffer.alloc(buf.length + 20, 0xee);
  encodeDnsMessage(m, big, 10);
  assert.deepEqual(big.subarray(10, 10 + buf.length), buf);
  assert.deepEqual(decodeDnsMessage(big, 10).value, m);
}

/** Assert that decoding throws a CodecError with `code`. */
function decodeFails(bytes: number[] | Buffer, code: string, re?: RegExp): void {
  assert.throws(
    () => decodeDnsMessage(Buffer.from(bytes)),
    (e: unknown) => e instanceof CodecError && e.code === code && (re === undefined || re.test(e.message)),
  );
}

const rr = (name: string, type: keyof typeof DNS_TYPE_CODES, data: DnsRecord['data']): DnsRecord => ({
  name,
  type: DNS_TYPE_CODES[type],
  class: 1,
  ttl: 300,
  data,
});

describe('dns codec', () => {
  it('encodes a query: RD set, one question of class IN', () => {
    const buf = encodeDnsMessage(dnsQuery(0xbeef, 'www.example', DNS_TYPE_CODES.A));
    assert.deepEqual(
      [...buf],
      [
        0xbe, 0xef, // id
        0x01, 0x00, // flags: RD
        0, 1, 0, 0, 0, 0, 0, 0, // QDCOUNT 1, AN/NS/AR 0
        3, 0x77, 0x77, 0x77, // "www"
        7, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, // "example"
        0, // root
        0, 1, // QTYPE A
        0, 1, // QCLASS IN
      ],
    );
    // keepalived's default: SOA of the root.
    assert.deepEqual([...encodeDnsMessage(dnsQuery(1, '.', DNS_TYPE_CODES.SOA)).subarray(12)], [0, 0, 6, 0, 1]);
    // A trailing dot is the same name.
    assert.deepEqual(encodeDnsMessage(dnsQuery(1, 'a.b.', 1)), encodeDnsMessage(dnsQuery(1, 'a.b', 1)));
  });

  it('round-trips every record type in every section', () => {
    roundTrip({
      ...dnsQuery(4242, 'example.org', DNS_TYPE_CODES.A),
      qr: true,
      aa: true,
      ra: true,
      rcode: 0,
      answers: [
        rr('example.org', 'A', { kind: 'address', address: '192.0.2.7' }),
        rr('example.org', 'AAAA', { kind: 'address', address: '2001:db8::7' }),
        rr('www.example.org', 'CNAME', { kind: 'name', name: 'example.org' }),
        rr('example.org', 'MX', { kind: 'mx', preference: 10, exchange: 'mail.example.org' }),
        rr('example.org', 'TXT', { kind: 'txt', strings: ['v=spf1 ', '-all', ''] }),
        rr('_x._tcp.example.org', 'SRV', { kind: 'srv', priority: 1, weight: 2, port: 8080, target: 'x.example.org' }),
        rr('7.2.0.192.in-addr.arpa', 'PTR', { kind: 'name', name: 'example.org' }),
      ],
      authorities: [
        rr('example.org', 'NS', { kind: 'name', name: 'ns1.example.org' }),
        rr('example.org', 'SOA', { kind: 'soa', mname: 'ns1.example.org', rname: 'hostmaster.example.org', serial: 2024010101, refresh: 7200, retry: 900, expire: 1209600, minimum: 300 }),
      ],
      additionals: [{ name: '.', type: 41, class: 1232, ttl: 0, data: { kind: 'raw', bytes: Uint8Array.from([0, 10, 0, 0]) } }],
    });
    roundTrip({ ...dnsQuery(0, '.', DNS_TYPE_CODES.SOA), qr: true, opcode: 2, tc: true, rcode: 3, questions: [] });
  });

  it('names with dots, backslashes and odd bytes round-trip through escapes', () => {
    const m: DnsMessage = { ...dnsQuery(7, 'a\\.b.c\\\\d.\\000\\255x', 16) };
    roundTrip(m);
    const buf = encodeDnsMessage(m);
    assert.deepEqual([...buf.subarray(12, 12 + 4)], [3, 0x61, 0x2e, 0x62]);
  });

  it('decodes a response with compression pointers (RFC 1035 §4.1.4)', () => {
    const bytes = [
      0x12, 0x34, // id
      0x81, 0x80, // QR RD RA, NOERROR
      0, 1, 0, 3, 0, 0, 0, 0, // QD 1, AN 3
      // offset 12: question "www.example.org" A IN
      3, 0x77, 0x77, 0x77, 7, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 3, 0x6f, 0x72, 0x67, 0,
      0, 1, 0, 1,
      // answer 1: name -> 12, CNAME, rdata "lb" + pointer to 16 ("example.org")
      0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 5, 2, 0x6c, 0x62, 0xc0, 16,
      // answer 2 (offset 50): name = "lb" + pointer (offset 45), A 192.0.2.1
      0xc0, 45, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1,
      // answer 3: same name, AAAA ::1
      0xc0, 45, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16, ...Array<number>(15).fill(0), 1,
    ];
    const { value: m, bytes: n } = decodeDnsMessage(Buffer.from(bytes));
    assert.equal(n, bytes.length);
    assert.deepEqual([m.id, m.qr, m.rd, m.ra, m.rcode], [0x1234, true, true, true, 0]);
    assert.deepEqual(m.questions, [{ name: 'www.example.org', type: 1, class: 1 }]);
    assert.deepEqual(
      m.answers.map((r) => [r.name, dnsTypeName(r.type), dnsRecordText(r)]),
      [
        ['www.example.org', 'CNAME', 'lb.example.org'],
        ['lb.example.org', 'A', '192.0.2.1'],
        ['lb.example.org', 'AAAA', '::1'],
      ],
    );
    assert.deepEqual(decodeDnsName(Buffer.from(bytes), 50), { value: 'lb.example.org', bytes: 2 });
  });

  it('record text: MX exchange, SOA mname, SRV target, TXT joined, raw as hex', () => {
    assert.equal(dnsRecordText(rr('a', 'MX', { kind: 'mx', preference: 5, exchange: 'mx.a' })), 'mx.a');
    assert.equal(dnsRecordText(rr('a', 'TXT', { kind: 'txt', strings: ['ab', 'cd'] })), 'abcd');
    assert.equal(dnsRecordText(rr('a', 'SRV', { kind: 'srv', priority: 0, weight: 0, port: 1, target: 't.a' })), 't.a');
    assert.equal(dnsRecordText({ name: 'a', type: 99, class: 1, ttl: 0, data: { kind: 'raw', bytes: Uint8Array.from([1, 0xab]) } }), '01ab');
  });

  it('unknown codes keep their number (H-34)', () => {
    assert.equal(dnsRcodeName(3), 'NXDOMAIN');
    assert.equal(dnsRcodeName(14), 'UNKNOWN_14');
    assert.equal(dnsTypeName(28), 'AAAA');
    assert.equal(dnsTypeName(65), 'UNKNOWN_65');
  });

  const header = (qd: number, an: number): number[] => [0, 1, 0x81, 0x80, 0, qd, 0, an, 0, 0, 0, 0];

  it('error vectors: truncation anywhere', () => {
    decodeFails([0, 1, 0x81], 'XLB_ERR_CODEC_TRUNCATED', /dns: truncated at header \(offset 0\)/);
    decodeFails([...header(1, 0), 3, 0x61, 0x62], 'XLB_ERR_CODEC_TRUNCATED', /question\[0\] name/);
    decodeFails([...header(1, 0), 0, 0, 1], 'XLB_ERR_CODEC_TRUNCATED', /question\[0\] type/);
    decodeFails([...header(0, 1), 0, 0, 1, 0, 1], 'XLB_ERR_CODEC_TRUNCATED', /answer\[0\] fixed fields/);
    decodeFails([...header(0, 1), 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 10, 0], 'XLB_ERR_CODEC_TRUNCATED', /rdata/);
    // Counts larger than the records present.
    decodeFails([...header(0, 65535)], 'XLB_ERR_CODEC_TRUNCATED');
  });

  it('error vectors: pointers must go backwards, so loops cannot happen', () => {
    // A pointer to itself.
    decodeFails([...header(1, 0), 0xc0, 12, 0, 1, 0, 1], 'XLB_ERR_CODEC_BAD_VALUE', /question\[0\] name pointer: 12/);
    // A forward pointer.
    decodeFails([...header(1, 0), 0xc0, 14, 0, 0, 1, 0, 1], 'XLB_ERR_CODEC_BAD_VALUE', /pointer/);
    // The classic loop: label "a", then a pointer back to that label (12 -> "a" -> 12 -> ...).
    decodeFails([...header(1, 0), 1, 0x61, 0xc0, 12, 0, 1, 0, 1], 'XLB_ERR_CODEC_BAD_VALUE', /pointer: 12/);
    // Two names pointing at each other: the second name (at 18) points at 12, whose pointer goes to 18.
    decodeFails([...header(2, 0), 1, 0x61, 0xc0, 18, 0, 1, 0, 1, 1, 0x62, 0xc0, 12, 0, 1, 0, 1], 'XLB_ERR_CODEC_BAD_VALUE', /question\[0\] name pointer: 18/);
  });

  it('error vectors: bad label types, long names, RDATA length mismatches', () => {
    decodeFails([...header(1, 0), 0x41, 0, 0, 1, 0, 1], 'XLB_ERR_CODEC_BAD_VALUE', /label type: 0x41/);
    decodeFails([...header(1, 0), 0x80, 0, 0, 1, 0, 1], 'XLB_ERR_CODEC_BAD_VALUE', /label type: 0x80/);
    const long: number[] = [];
    for (let i = 0; i < 5; i++) long.push(63, ...Array<number>(63).fill(0x61));
    decodeFails([...header(1, 0), ...long, 0, 0, 1, 0, 1], 'XLB_ERR_CODEC_BAD_LENGTH', /question\[0\] name/);
    // A with 3 bytes of RDATA.
    decodeFails([...header(0, 1), 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 3, 1, 2, 3], 'XLB_ERR_CODEC_BAD_LENGTH', /A rdata: 3/);
    // CNAME whose name ends before RDLENGTH.
    decodeFails([...header(0, 1), 0, 0, 5, 0, 1, 0, 0, 0, 0, 0, 3, 0, 0, 0], 'XLB_ERR_CODEC_BAD_LENGTH', /CNAME rdata/);
    // TXT string running past RDLENGTH.
    decodeFails([...header(0, 1), 0, 0, 16, 0, 1, 0, 0, 0, 0, 0, 2, 5, 0x61], 'XLB_ERR_CODEC_BAD_LENGTH', /TXT string/);
  });

  it('encoding refuses names and data it cannot write', () => {
    const bad = (name: string): void =>
      assert.throws(() => encodeDnsMessage(dnsQuery(1, name, 1)), (e: unknown) => e instanceof CodecError && e.code === 'XLB_ERR_CODEC_BAD_VALUE', name);
    bad('a..b');
    bad('.a');
    bad('x'.repeat(64));
    bad(Array<string>(50).fill('abcde').join('.'));
    bad('caf\u00e9.example');
    bad('a\\');
    bad('\\256');
    const m = { ...dnsQuery(1, 'a', 1), answers: [rr('a', 'A', { kind: 'address', address: '::1' })] };
    assert.throws(() => encodeDnsMessage(m), CodecError);
    const k = { ...dnsQuery(1, 'a', 1), answers: [rr('a', 'A', { kind: 'name', name: 'b' })] };
    assert.throws(() => encodeDnsMessage(k), /name data for type A/);
    assert.throws(() => encodeDnsMessage(dnsQuery(1, 'a', 1), Buffer.alloc(5)), (e: unknown) => e instanceof CodecError && e.code === 'XLB_ERR_CODEC_BAD_LENGTH');
  });

  it('never throws anything but CodecError on random input', () => {
    let seed = 12345;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    const valid = encodeDnsMessage({
      ...dnsQuery(9, 'example.org', 1),
      qr: true,
      answers: [rr('example.org', 'MX', { kind: 'mx', preference: 1, exchange: 'mx.example.org' })],
    });
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.from(valid);
      for (let j = 0; j < 3; j++) b[rand() % b.length] = rand();
      try {
        decodeDnsMessage(b.subarray(0, 12 + (rand() % (b.length - 11))));
      } catch (e) {
        assert.ok(e instanceof CodecError, String(e));
      }
    }
  });
});
