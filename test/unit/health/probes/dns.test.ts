/**
 * DNS_CHECK against a tiny responder on 127.0.0.1 and ::1 built with the
 * codec: success needs the same id, QR, NOERROR and every `expect` among the
 * answers of the query type; id mismatches, RCODEs, missing answers,
 * malformed responses, silence and ICMP unreachable all fail.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type { DnsCheckSpec } from '../../../../src/health/spec.js';
import { createDnsProbe, dnsCompareText, judgeDnsResponse } from '../../../../src/health/probes/dns.js';
import { DNS_TYPE_CODES, decodeDnsMessage, dnsQuery, encodeDnsMessage, type DnsMessage, type DnsRecord } from '../../../../src/health/probes/dns-codec.js';
import type { ProbeResult, ProbeTarget } from '../../../../src/health/probes/types.js';
import { TEST_NET } from '../../../support/check-spec.js';

const spec = (over: Partial<DnsCheckSpec> = {}): DnsCheckSpec => ({
  type: 'dns',
  ...TEST_NET,
  timeoutMs: 500,
  queryType: 'SOA',
  queryName: '.',
  expect: [],
  ...over,
});
const reason = (r: ProbeResult): string => (r.ok ? 'ok' : r.reason);
const rec = (name: string, type: number, data: DnsRecord['data']): DnsRecord => ({ name, type, class: 1, ttl: 60, data });

/** The zone the responder serves, by "name/TYPE". */
const ZONE: Record<string, DnsRecord[]> = {
  '/SOA': [rec('.', 6, { kind: 'soa', mname: 'a.root-servers.test', rname: 'nstld.test', serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5 })],
  'lb.test/A': [
    rec('lb.test', 5, { kind: 'name', name: 'real.lb.test' }), // a CNAME in the answer must not count for A
    rec('lb.test', 1, { kind: 'address', address: '192.0.2.10' }),
    rec('lb.test', 1, { kind: 'address', address: '192.0.2.11' }),
  ],
  'lb.test/AAAA': [rec('lb.test', 28, { kind: 'address', address: '2001:db8::10' })],
  'lb.test/MX': [rec('lb.test', 15, { kind: 'mx', preference: 10, exchange: 'Mail.LB.test' })],
  'lb.test/TXT': [rec('lb.test', 16, { kind: 'txt', strings: ['healthy=', 'yes'] })],
};

/**
 * How the responder misbehaves for a query name: `wrong-id.test` answers with
 * another id, `nx.test` with NXDOMAIN, `garbage.test` with junk,
 * `query.test` with QR clear, `silent.test` not at all.
 */
function answer(q: DnsMessage): Buffer | undefined {
  const question = q.questions[0]!;
  const name = question.name;
  if (name === 'silent.test') return undefined;
  if (name === 'garbage.test') return Buffer.from([q.id >> 8, q.id & 0xff, 0x81, 0x80, 0, 1, 0, 1, 0, 0]);
  const type = Object.entries(DNS_TYPE_CODES).find(([, c]) => c === question.type)?.[0] ?? '?';
  const r: DnsMessage = {
    ...q,
    qr: name !== 'query.test',
    ra: true,
    id: name === 'wrong-id.test' ? (q.id + 1) & 0xffff : q.id,
    rcode: name === 'nx.test' ? 3 : 0,
    answers: ZONE[`${name === '.' ? '' : name}/${type}`] ?? [],
  };
  return encodeDnsMessage(r);
}

async function responder(type: 'udp4' | 'udp6'): Promise<{ sock: dgram.Socket; port: number; queries: DnsMessage[] }> {
  const sock = dgram.createSocket(type);
  const queries: DnsMessage[] = [];
  sock.on('message', (msg, rinfo) => {
    const q = decodeDnsMessage(msg).value;
    queries.push(q);
    const r = answer(q);
    if (r) sock.send(r, rinfo.port, rinfo.address);
  });
  await new Promise<void>((res) => sock.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', res));
  return { sock, port: sock.address().port, queries };
}

describe('dns compare and judge (pure)', () => {
  it('normalises names, addresses; TXT as is', () => {
    assert.equal(dnsCompareText('NS', 'NS1.Example.ORG.'), 'ns1.example.org');
    assert.equal(dnsCompareText('AAAA', '2001:DB8:0:0::1'), '2001:db8::1');
    assert.equal(dnsCompareText('A', '192.0.2.1'), '192.0.2.1');
    assert.equal(dnsCompareText('TXT', 'Mixed Case.'), 'Mixed Case.');
  });

  it('checks id, QR, RCODE, then the expected answers', () => {
    const s = { queryType: 'A' as const, queryName: 'x' };
    const resp: DnsMessage = { ...dnsQuery(5, 'x', 1), qr: true, answers: [rec('x', 1, { kind: 'address', address: '192.0.2.1' })] };
    assert.equal(judgeDnsResponse(resp, 5, s, ['192.0.2.1']), undefined);
    assert.equal(judgeDnsResponse(resp, 6, s, [])?.reason, 'protocol');
    assert.equal(judgeDnsResponse({ ...resp, qr: false }, 5, s, [])?.reason, 'protocol');
    assert.deepEqual(judgeDnsResponse({ ...resp, rcode: 2 }, 5, s, []), { reason: 'dns_rcode', detail: 'A x: SERVFAIL' });
    assert.equal(judgeDnsResponse(resp, 5, s, ['192.0.2.1', '192.0.2.2'])?.reason, 'dns_answer');
  });
});

describe('dns probe', () => {
  let v4: Awaited<ReturnType<typeof responder>>;
  let v6: Awaited<ReturnType<typeof responder>>;
  let t4: ProbeTarget;
  let t6: ProbeTarget;
  before(async () => {
    v4 = await responder('udp4');
    v6 = await responder('udp6');
    t4 = { address: '127.0.0.1', port: v4.port, family: 4 };
    t6 = { address: '::1', port: v6.port, family: 6 };
  });
  after(() => {
    v4.sock.close();
    v6.sock.close();
  });

  it('default: SOA of the root, RD set', async () => {
    const probe = createDnsProbe(spec(), t4);
    for (let i = 0; i < 3; i++) assert.equal(reason(await probe.run()), 'ok');
    const qs = v4.queries.slice(-3);
    assert.deepEqual(
      qs.map((q) => [q.rd, q.qr, q.questions]),
      Array(3).fill([true, false, [{ name: '.', type: 6, class: 1 }]]),
    );
  });

  it('A and AAAA with expect, on both families', async () => {
    assert.equal(reason(await createDnsProbe(spec({ queryType: 'A', queryName: 'lb.test', expect: ['192.0.2.11', '192.0.2.10'] }), t4).run()), 'ok');
    assert.equal(reason(await createDnsProbe(spec({ queryType: 'AAAA', queryName: 'lb.test.', expect: ['2001:db8:0::10'] }), t6).run()), 'ok');
    assert.equal(reason(await createDnsProbe(spec({ queryType: 'MX', queryName: 'lb.test', expect: ['mail.lb.test.'] }), t6).run()), 'ok');
    assert.equal(reason(await createDnsProbe(spec({ queryType: 'TXT', queryName: 'lb.test', expect: ['healthy=yes'] }), t4).run()), 'ok');
  });

  it('a missing expected answer fails as dns_answer; answers of another type do not count', async () => {
    const r = await createDnsProbe(spec({ queryType: 'A', queryName: 'lb.test', expect: ['192.0.2.10', 'real.lb.test'] }), t4).run();
    assert.equal(reason(r), 'dns_answer');
    assert.match(!r.ok ? r.detail : '', /missing "real\.lb\.test"/);
    assert.equal(reason(await createDnsProbe(spec({ queryType: 'A', queryName: 'empty.test', expect: ['192.0.2.1'] }), t6).run()), 'dns_answer');
    // Without expect, an empty NOERROR answer is success (keepalived: the answer count is not required).
    assert.equal(reason(await createDnsProbe(spec({ queryType: 'A', queryName: 'empty.test' }), t6).run()), 'ok');
  });

  it('RCODE, id mismatch, QR clear and malformed responses fail', async () => {
    const nx = await createDnsProbe(spec({ queryType: 'A', queryName: 'nx.test' }), t4).run();
    assert.deepEqual([reason(nx), !nx.ok && nx.detail], ['dns_rcode', 'A nx.test: NXDOMAIN']);
    const id = await createDnsProbe(spec({ queryType: 'A', queryName: 'wrong-id.test' }), t6).run();
    assert.equal(reason(id), 'protocol');
    assert.match(!id.ok ? id.detail : '', /response id \d+, query id \d+/);
    assert.equal(reason(await createDnsProbe(spec({ queryType: 'A', queryName: 'query.test' }), t4).run()), 'protocol');
    const junk = await createDnsProbe(spec({ queryType: 'A', queryName: 'garbage.test' }), t4).run();
    assert.equal(reason(junk), 'protocol');
    assert.match(!junk.ok ? junk.detail : '', /malformed response.*truncated/);
  });

  it('silence fails as timeout; a closed port as refused', async () => {
    const r = await createDnsProbe(spec({ queryType: 'A', queryName: 'silent.test', timeoutMs: 100 }), t4).run();
    assert.equal(reason(r), 'timeout');
    const s = dgram.createSocket('udp6');
    await new Promise<void>((res) => s.bind(0, '::1', res));
    const port = s.address().port;
    await new Promise<void>((res) => s.close(res));
    assert.equal(reason(await createDnsProbe(spec(), { address: '::1', port, family: 6 }).run()), 'refused');
  });

  it('an unencodable query name is a config error at creation', () => {
    assert.throws(() => createDnsProbe(spec({ queryName: 'a..b' }), t4), /bad DNS check query name "a\.\.b"/);
  });
});
